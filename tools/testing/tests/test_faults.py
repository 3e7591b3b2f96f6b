# SPDX-License-Identifier: GPL-2.0
"""Fault modes against real TCP between namespaces (issue: fault injection).

Topologies: client <-> server (both endpoints local), and client <-> router
<-> server with tcpfault on the router. Every test asserts what the real
stack did: the errno the application got, the bytes that arrived, and the
kernel's own counters.
"""
import errno
import hashlib
import math
import os
import select
import socket
import struct
import subprocess
import threading
import time

import tfk
from tfk import check, check_eq

PORT = 5001


def _tuple_spec(name, mode, topo, cli, extra=""):
    la, lp = cli.getsockname()[:2]
    ra, rp = cli.getpeername()[:2]
    return f"{name} mode={mode} src={la} sport={lp} dst={ra} dport={rp} {extra}".strip()


def _recv_all(sock, n, timeout=60, h=None):
    """Up to n bytes (fewer if the peer closes first): their count, and the
    digest of h (a new sha256 if None) once they are fed to it."""
    sock.settimeout(timeout)
    h = h or hashlib.sha256()
    got = 0
    while got < n:
        b = sock.recv(min(1 << 16, n - got))
        if not b:
            break
        h.update(b)
        got += len(b)
    return got, h.hexdigest()


def _payload(n):
    return (hashlib.sha256(b"tcpfault").digest() * (n // 32 + 1))[:n]


class Sender(threading.Thread):
    """Send a payload in the background; record the errno it ends with."""

    def __init__(self, sock, data, timeout=120):
        super().__init__(daemon=True)
        self.sock, self.data, self.timeout = sock, data, timeout
        self.err, self.sent, self.t_end = None, 0, None

    def run(self):
        self.sock.settimeout(self.timeout)
        try:
            view = memoryview(self.data)
            while self.sent < len(view):
                self.sent += self.sock.send(view[self.sent:self.sent + 65536])
            self.err = 0
        except OSError as e:
            self.err = e.errno
        self.t_end = time.monotonic()


def _etimedout(m, routed, v6=False):
    topo = tfk.Topology(routed=routed)
    try:
        tfk.shrink_tcp(topo.client, retries2=4)
        cli, srv, lst = tfk.connect(topo, PORT, v6=v6)
        cli.sendall(b"warm-up" * 1000)
        _recv_all(srv, 7000)
        rto_ms = tfk.tcp_info(cli)["rto_us"] // 1000
        where = topo.router if routed else topo.client
        before = topo.client.snmp()
        m.add(where, _tuple_spec("cut", "link-down", topo, cli))
        s = Sender(cli, b"y" * (4 << 20))
        t0 = time.monotonic()
        s.start()
        s.join(60)
        check(not s.is_alive(), "the writer never returned")
        check_eq(errno.errorcode.get(s.err, s.err), "ETIMEDOUT", "writer's errno")
        after = topo.client.snmp()
        info = tfk.tcp_info(cli)
        row = m.conn(where, dport=PORT)
        check(row is not None, "connection not tracked")
        f = m.fault("cut")
        # Witnesses: the wire count equals the kernel's, segment for segment.
        wire = row["o_retrans"] + row["o_syn_retry"]
        check_eq(wire, after["TcpRetransSegs"] - before["TcpRetransSegs"],
                 "retransmits on the wire vs TcpRetransSegs delta")
        check_eq(wire, info["total_retrans"], "retransmits vs tcpi_total_retrans")
        check(int(f["dropped"]) >= wire, "fault dropped every retransmission")
        # The RTO-driven ones are what tcp_retries2 predicts; a tail loss
        # probe may come first, well before the first RTO. Timeline stamps
        # are CLOCK_MONOTONIC, as time.monotonic().
        tl = [e for e in m.timeline(where, row["id"]) if e["event"] == "retrans" and e["dir"] == "o"]
        times = [e["ts_ns"] / 1e9 for e in tl]
        gaps = [b - a for a, b in zip(times, times[1:])]
        tlp = 1 if gaps and gaps[0] < 0.8 * 2 * rto_ms / 1000 and len(gaps) > 1 and \
            gaps[1] / gaps[0] > 2.5 else 0
        rto_gaps = gaps[tlp:]
        counts, timeout_ms, err_after_ms = tfk.expected_rto_retransmits(4, rto_ms)
        check(len(tl) - tlp in counts,
              f"RTO retransmissions: {len(tl) - tlp}, model says {counts} (rto {rto_ms} ms, gaps {gaps})")
        for a, b in zip(rto_gaps, rto_gaps[1:]):
            check(1.6 <= b / a <= 2.5, f"RTO did not double: gaps {rto_gaps}")
        # The error comes one doubled RTO after the last retransmission.
        first = times[tlp] - t0
        elapsed = s.t_end - t0
        want = first + err_after_ms / 1000
        check(0.85 * want <= elapsed <= 1.15 * want + 0.5,
              f"ETIMEDOUT after {elapsed:.2f}s, model says {want:.2f}s "
              f"(tcp_model_timeout {timeout_ms} ms from the first retransmission)")
        for sk in (cli, srv, lst):
            sk.close()
    finally:
        topo.close()


def test_link_down_etimedout_routed(m):
    _etimedout(m, routed=True)


def test_link_down_etimedout_ipv6(m):
    _etimedout(m, routed=False, v6=True)


def test_link_down_heals_before_timeout(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=8)
        # Tracked from its SYN, so that tcpfault knows every byte it sent.
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        data = _payload(8 << 20)
        s = Sender(cli, data)
        s.start()
        # Mid-transfer, the cable is cut for 1.5 s. (The cut starts now, not
        # after= some bytes: on a loaded guest those bytes could take longer
        # than the cut lasts, and the cut would then drop nothing.)
        h = hashlib.sha256()
        first, _ = _recv_all(srv, 512 << 10, h=h)
        m.add(topo.client, _tuple_spec("blip", "link-down", topo, cli, "duration=1500ms"))
        rest, digest = _recv_all(srv, len(data) - first, h=h)
        s.join(30)
        check_eq(s.err, 0, "writer's errno")
        check_eq(first + rest, len(data), "bytes received")
        check_eq(digest, hashlib.sha256(data).hexdigest(), "payload digest")
        f = m.fault("blip")
        check_eq(f["state"], "healed", "fault state after its duration")
        row = m.conn(topo.client, dport=PORT)
        check(row["o_retrans"] > 0, "the cut caused retransmissions")
        check(int(f["dropped"]) > 0, "the cut dropped segments")
    finally:
        topo.close()


def _power_cycle(m, where_role, routed=False):
    """Server power-off, reboot, network restored: the client's next send gets RST."""
    topo = tfk.Topology(routed=routed)
    try:
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.sendall(b"hello")
        _recv_all(srv, 5)
        where = getattr(topo, where_role)
        m.add(where, f"pw mode=power-off host={topo.saddr}")
        f = m.fault("pw")
        check_eq(f["state"], "dark", "power-off state")
        if where_role == "server":
            # The server's socket died with the power, and said nothing.
            check_eq(int(f["aborted"]), 1, "server sockets aborted")
            check_eq(tfk.sock_error(srv), errno.ECONNABORTED, "server socket error")
        check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "client still believes")
        # Power on, network back: the connection still looks alive ...
        m.set_enabled("pw", False)
        check_eq(m.fault("pw")["state"], "rebooted", "state after power-on")
        check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "client after reboot")
        # ... until the client sends.
        cli.send(b"are you there?")
        cli.settimeout(10)
        try:
            cli.recv(100)
            raise tfk.Fail("client recv returned instead of ECONNRESET")
        except ConnectionResetError:
            pass
        if where_role != "server":
            check(int(m.fault("pw")["rst_sent"]) >= 1, "tcpfault answered for the rebooted host")
        for sk in (cli, srv, lst):
            sk.close()
    finally:
        topo.close()


def test_power_off_local_server_sockets(m):
    _power_cycle(m, "server")


def test_power_off_remote_host_from_client(m):
    _power_cycle(m, "client")


def test_power_off_remote_host_on_router(m):
    _power_cycle(m, "router", routed=True)


def _host_socks(ns, addr):
    """The states of the namespace's TCP sockets with local address addr,
    listeners left out, as `ss -tan` lists them."""
    out = ns.sh("ss -tanH")
    states = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[3].rsplit(":", 1)[0] == addr and f[0] != "LISTEN":
            states.append(f[0])
    return states


def test_power_off_aborts_orphans(m):
    """An orphan (closed by its application, stuck in FIN-WAIT-1 behind a
    zero window) dies with the power like any socket, and `aborted` counts
    exactly the sockets that disappeared."""
    topo = tfk.Topology()
    try:
        cli, srv, lst = tfk.connect(topo, PORT)
        pairs = [(cli, srv)]
        for _ in range(2):
            c = topo.client.socket()
            c.settimeout(10)
            c.connect((topo.saddr, PORT))
            s, _ = lst.accept()
            pairs.append((c, s))
        # The orphan: the client never reads, so the server's send queue
        # fills behind a zero window; close() then leaves the socket, with
        # its FIN queued behind the data, in FIN-WAIT-1.
        oc = topo.client.socket()
        oc.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        oc.settimeout(10)
        oc.connect((topo.saddr, PORT))
        osrv, _ = lst.accept()
        osrv.setblocking(False)
        for _ in range(3):
            try:
                while True:
                    osrv.send(b"z" * 65536)
            except BlockingIOError:
                pass
            time.sleep(0.2)
        osrv.close()
        before = _host_socks(topo.server, topo.saddr)
        check_eq(before.count("FIN-WAIT-1"), 1, f"orphans in FIN-WAIT-1 before power-off {before}")
        check_eq(len(before), 4, f"server sockets before power-off {before}")
        m.add(topo.server, f"pw mode=power-off host={topo.saddr}")
        after = _host_socks(topo.server, topo.saddr)
        check_eq(after, [], "server sockets left after power-off")
        check_eq(int(m.fault("pw")["aborted"]), len(before) - len(after),
                 "aborted against the sockets that disappeared")
        m.delete("pw")
        for c, s in pairs:
            c.close()
            s.close()
        oc.close()
        lst.close()
    finally:
        topo.close()


def test_power_off_lifecycle(m):
    """dark, then rebooted, then off: enabled reads 1 while the fault still
    acts on traffic, and enabled=0 on a rebooted host ends the fault."""
    topo = tfk.Topology(routed=True)
    try:
        a_cli, a_srv, lst = tfk.connect(topo, PORT)
        b_cli = topo.client.socket()
        b_cli.settimeout(10)
        b_cli.connect((topo.saddr, PORT))
        b_srv, _ = lst.accept()
        m.add(topo.router, f"pw mode=power-off host={topo.saddr}")
        f = m.fault("pw")
        check_eq((f["state"], f["enabled"]), ("dark", "1"), "powered off")
        m.set_enabled("pw", False)
        f = m.fault("pw")
        check_eq((f["state"], f["enabled"]), ("rebooted", "1"),
                 "rebooted: the fault still answers old connections")
        a_cli.send(b"are you there?")
        a_cli.settimeout(10)
        try:
            a_cli.recv(100)
            raise tfk.Fail("old connection: recv returned instead of ECONNRESET")
        except ConnectionResetError:
            pass
        check_eq(int(m.fault("pw")["rst_sent"]), 1, "RSTs for the rebooted host")
        m.set_enabled("pw", False)
        f = m.fault("pw")
        check_eq((f["state"], f["enabled"]), ("disabled", "0"), "switched off after the reboot")
        # Nothing answers for the host any more: the remote server still
        # has the old connection's socket, and it flows again.
        check(_echo_round(b_cli, b_srv, b"still here"), "old connection after the fault is off")
        check_eq(int(m.fault("pw")["rst_sent"]), 1, "RSTs after the fault is off")
        m.set_enabled("pw", True)
        check_eq(m.fault("pw")["state"], "dark", "enabled=1 powers the host off again")
        for sk in (a_cli, a_srv, b_cli, b_srv, lst):
            sk.close()
    finally:
        topo.close()


def test_power_off_new_connection_after_reboot(m):
    topo = tfk.Topology(routed=True)
    try:
        lst = tfk.listen(topo, PORT)
        m.add(topo.router, f"pw mode=power-off host={topo.saddr}")
        m.set_enabled("pw", False)
        cli, srv, lst2 = tfk.connect(topo, PORT + 1)
        cli.sendall(b"x" * 100000)
        got, _ = _recv_all(srv, 100000)
        check_eq(got, 100000, "a connection opened after the reboot works")
        check_eq(int(m.fault("pw")["rst_sent"]), 0, "no RST for the new connection")
    finally:
        topo.close()


def test_oneway(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=8)
        cli, srv, lst = tfk.connect(topo, PORT)
        la, lp = cli.getsockname()
        # Server -> client still flows while client -> server is cut. The
        # client's ACKs are cut too, so stay within the server's first window.
        m.add(topo.client, f"ow mode=oneway src={la} sport={lp} dst={topo.saddr} dport={PORT}")
        srv.sendall(b"s" * 8000)
        got, _ = _recv_all(cli, 8000)
        check_eq(got, 8000, "bytes server -> client during the cut")
        data = _payload(200000)
        s = Sender(cli, data)
        s.start()
        tfk.wait_until(lambda: (m.conn(topo.client, dport=PORT) or {}).get("o_retrans", 0) >= 2,
                       20, "client retransmissions")
        m.delete("ow")
        got, digest = _recv_all(srv, len(data))
        s.join(20)
        check_eq((got, digest), (len(data), hashlib.sha256(data).hexdigest()), "payload after heal")
    finally:
        topo.close()


def test_loss(m):
    topo = tfk.Topology()
    try:
        # The draw is per packet as the stack hands it over, and a GSO
        # super-packet is one draw worth many segments: the share of segments
        # dropped then swings widely. TCP builds super-packets whatever the
        # device offers (sk_setup_caps() adds NETIF_F_GSO_SOFTWARE), and
        # LOCAL_OUT sees them before any segmentation, so turning offloads
        # off does nothing here. gso_max_segs 1 caps every skb the socket
        # builds at one MSS (tcp_tso_autosize()); it is read at connect time.
        # Then every matched packet is one segment and one independent draw,
        # and the count is binomial.
        topo.client.sh("ip link set dev v%sa gso_max_segs 1" % topo.link_ids[0])
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.client, f"lossy mode=loss prob=10% dst={topo.saddr} dport={PORT}")
        data = _payload(1 << 20)
        s = Sender(cli, data)
        s.start()
        got, digest = _recv_all(srv, len(data), timeout=120)
        s.join(30)
        check_eq((got, digest), (len(data), hashlib.sha256(data).hexdigest()), "payload")
        f = m.fault("lossy")
        dropped, matched = int(f["dropped"]), int(f["matched"])
        # 1 MiB is ~725 segments out, plus the ACKs back: hundreds of draws.
        check(matched >= 500, f"only {matched} segments matched")
        # Binomial(matched, 0.1), five standard deviations either side: a
        # wrong probability (or a per-segment count going astray) shows,
        # chance does not (about 1 run in 1.7 million).
        mean, sd = matched * 0.1, math.sqrt(matched * 0.1 * 0.9)
        check(abs(dropped - mean) <= 5 * sd,
              f"dropped {dropped} of {matched}, expected {mean:.0f} +- {5 * sd:.0f}")
        row = m.conn(topo.client, dport=PORT)
        check(row["o_retrans"] > 0, "loss caused retransmissions")
    finally:
        topo.close()


class NflogCapture:
    """tcpdump -i nflog:GROUP in a namespace, writing a pcap; records() parses it."""

    def __init__(self, ns, group, path):
        self.path = path
        self.p = subprocess.Popen(["ip", "netns", "exec", ns.name, "tcpdump", "-i",
                                   f"nflog:{group}", "-U", "-n", "-w", path],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        if "listening on" not in line:
            self.p.kill()
            raise tfk.Fail(f"tcpdump -i nflog:{group}: {line.strip()} {self.p.stderr.read()}")

    def stop(self):
        """Stop the capture; return its records: (group, prefix, IP packet) each."""
        self.p.send_signal(2)
        self.p.communicate(timeout=30)
        with open(self.path, "rb") as f:
            data = f.read()
        magic, = struct.unpack_from("<I", data, 0)
        check(magic == 0xa1b2c3d4, f"a little-endian pcap (magic {magic:#x})")
        check_eq(struct.unpack_from("<I", data, 20)[0], 239, "link type DLT_NFLOG")
        out, off = [], 24
        while off + 16 <= len(data):
            incl, = struct.unpack_from("<I", data, off + 8)
            rec = data[off + 16:off + 16 + incl]
            off += 16 + incl
            group, = struct.unpack_from(">H", rec, 2)
            prefix, payload, t = None, None, 4
            while t + 4 <= len(rec):
                # TLVs: length and type in host byte order, padded to 4 bytes.
                tlen, ttype = struct.unpack_from("<HH", rec, t)
                if tlen < 4:
                    break
                val = rec[t + 4:t + tlen]
                if ttype == 10:         # NFULA_PREFIX
                    prefix = val.rstrip(b"\0").decode()
                elif ttype == 9:        # NFULA_PAYLOAD
                    payload = val
                t += (tlen + 3) & ~3
            out.append((group, prefix, payload))
        return out


def _tcp_of(ip):
    """(sport, dport, flags) of an IPv4 or IPv6 packet carrying TCP."""
    off = (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40
    sport, dport = struct.unpack_from(">HH", ip, off)
    return sport, dport, ip[off + 13]


def _nflog_drops(m, v6, routed=False):
    topo = tfk.Topology(routed=routed)
    cap = None
    try:
        tfk.shrink_tcp(topo.client, retries2=8)
        cli, srv, lst = tfk.connect(topo, PORT, v6=v6)
        la, lp = cli.getsockname()[:2]
        dst = topo.saddr6 if v6 else topo.saddr
        # On the client its segments are stolen at LOCAL_OUT, where no
        # capture on an interface could see them; on the router they are
        # dropped as they arrive (PRE_ROUTING).
        where = topo.router if routed else topo.client
        cap = NflogCapture(where, 7, f"/tmp/tcpfault-nflog-{os.getpid()}.pcap")
        m.add(where, f"cut mode=link-down src={la} sport={lp} dst={dst} dport={PORT} nflog=7")
        # Small sends, one segment each, so segments and copies are one to one.
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cli.send(b"x" * 100)
        tfk.wait_until(lambda: int(m.fault("cut")["dropped"]) >= 4, 30, "four segments dropped")
        m.set_enabled("cut", False)
        dropped = int(m.fault("cut")["dropped"])
        recs = cap.stop()
        cap = None
        check_eq(len(recs), dropped, "NFLOG copies: as many as the fault's dropped counter")
        for group, prefix, ip in recs:
            check_eq((group, prefix), (7, "cut"), "group and prefix (the fault's name)")
            check_eq(_tcp_of(ip)[:2], (lp, PORT), "a segment of the cut connection")
        _recv_all(srv, 100)
    finally:
        if cap:
            cap.p.kill()
        topo.close()


def test_nflog_copies_drops(m):
    _nflog_drops(m, v6=False)


@tfk.variant
def test_nflog_copies_drops_ipv6(m):
    _nflog_drops(m, v6=True)


@tfk.variant
def test_nflog_copies_drops_routed(m):
    _nflog_drops(m, v6=False, routed=True)


def test_nflog_copies_drops_routed_ipv6(m):
    _nflog_drops(m, v6=True, routed=True)


def test_nflog_loads_the_logger(m):
    """nflog= loads nfnetlink_log when nothing has (no capture running yet):
    the logger lookup alone loads nothing, and the add used to fail."""
    def loaded():
        with open("/proc/modules") as f:
            return any(line.split()[0] == "nfnetlink_log" for line in f)
    def registered():
        # "2 NONE (nf_log_ipv4,nfnetlink_log)": the loggers of each family.
        with open("/proc/net/netfilter/nf_log") as f:
            return "nfnetlink_log" in f.read()
    if loaded():
        subprocess.run(["rmmod", "nfnetlink_log"], capture_output=True)
    if loaded():
        raise tfk.Skip("nfnetlink_log is in use")
    if registered():
        raise tfk.Skip("nfnetlink_log is built in")
    m.add(None, "first mode=link-down dport=9 nflog=3")
    check(loaded() and registered(), "nfnetlink_log loaded by the add")
    check("nflog=3" in m.table(None, "faults")[-1]["spec"], "the fault logs to group 3")


def test_nflog_module_default(m):
    """nflog_group: the group of faults added without nflog= (not watches)."""
    param = "/sys/module/tcpfault/parameters/nflog_group"
    try:
        for bad in ("65536", "-2", "x"):
            err = tfk.write_once(param, bad)
            check(err is not None and err.errno == errno.EINVAL, f"nflog_group={bad}: {err}")
        check_eq(open(param).read().strip(), "-1", "the default is none")
        check(tfk.write_once(param, "11") is None, "set nflog_group=11")
        m.add(None, "d1 mode=link-down dport=9")
        m.add(None, "d2 mode=link-down dport=10 nflog=3")
        m.add(None, "d3 mode=watch dport=11")
        spec = {r["name"]: r["spec"] for r in m.table(None, "faults")}
        check(spec["d1"].endswith(" nflog=11"), f"d1 takes the default: {spec['d1']}")
        check(spec["d2"].endswith(" nflog=3"), f"d2 keeps its own: {spec['d2']}")
        check("nflog" not in spec["d3"], f"a watch logs nothing: {spec['d3']}")
    finally:
        tfk.write_once(param, "-1")
    m.add(None, "d4 mode=link-down dport=12")
    check("nflog" not in m.table(None, "faults")[-1]["spec"], "no default, no nflog")


def _tracked_established(m, topo, where):
    """A connection with data both ways, tracked ESTABLISHED in namespace where
    (a watch fault there); returns tfk.connect()'s client, server, listener."""
    m.add(where, f"w mode=watch dport={PORT}")
    cli, srv, lst = tfk.connect(topo, PORT)
    cli.sendall(b"ping")
    _recv_all(srv, 4)
    srv.sendall(b"pong")
    _recv_all(cli, 4)
    tfk.wait_until(lambda: m.conn(where, dport=PORT)["state"] == "ESTABLISHED", 5,
                   f"tracked as established in {where.name}")
    return cli, srv, lst


def test_nflog_copies_injected_rsts(m):
    topo = tfk.Topology(routed=True)
    cap = None
    try:
        cli, srv, lst = _tracked_established(m, topo, topo.router)
        cap = NflogCapture(topo.router, 9, f"/tmp/tcpfault-nflog-rst-{os.getpid()}.pcap")
        m.add(topo.router, f"kill mode=reset dport={PORT} nflog=9")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        recs = cap.stop()
        cap = None
        check_eq(len(recs), 2, "NFLOG copies of the RSTs")
        for group, prefix, ip in recs:
            check_eq((group, prefix), (9, "kill"), "group and prefix")
            check(_tcp_of(ip)[2] & 0x04, f"an RST (flags {_tcp_of(ip)[2]:#x})")
        check(PORT in [_tcp_of(ip)[1] for _, _, ip in recs], "one RST toward the server")
    finally:
        if cap:
            cap.p.kill()
        topo.close()


def _idle_past(m, where, sport, timeout_s):
    """Wait (the point of the test: doing nothing) until connection sport,
    tracked in where, has been idle for longer than timeout_s."""
    def idle():
        row = m.conn(where, sport=sport)
        return time.monotonic() - row["last_ns"] / 1e9 > timeout_s + 0.1
    tfk.wait_until(idle, timeout_s + 10, f"{timeout_s} s of idleness", interval=0.1)


def _idle_timeout(m, action, v6=False, routed=False):
    """A middlebox that forgets flows idle for timeout=: a connection that
    keeps talking within the timeout lives; once idle past it, its next
    send is dropped until tcp_retries2 gives up (action=drop) or answered
    with RSTs both ways (action=rst); a new connection passes."""
    timeout = 2.0
    topo = tfk.Topology(routed=routed)
    try:
        tfk.shrink_tcp(topo.client, retries2=3)
        where = topo.router if routed else topo.client
        m.add(where, f"box mode=idle-timeout dport={PORT} timeout={int(timeout * 1000)}ms "
                     f"action={action}")
        cli, srv, lst = tfk.connect(topo, PORT, v6=v6)
        sport = cli.getsockname()[1]
        # Talking at half the timeout, for longer than it: the box keeps the flow.
        t0 = time.monotonic()
        # (An eighth of it apart: a loaded guest that stalls longer than the
        # rest has really let the flow idle past the timeout.)
        while time.monotonic() - t0 < timeout * 1.5:
            check(_echo_round(cli, srv, b"still here"), "echo within the timeout")
            time.sleep(timeout / 8)
        check_eq(int(m.fault("box")["dropped"]), 0, "nothing dropped while the flow talks")
        _idle_past(m, where, sport, timeout)
        before = topo.client.snmp()
        cli.sendall(b"after the idle")
        t1 = time.monotonic()
        cli.settimeout(60)
        try:
            cli.recv(100)
            raise tfk.Fail("the client's recv returned: the box let the flow through")
        except OSError as e:
            err = errno.errorcode.get(e.errno, e.errno)
        elapsed = time.monotonic() - t1
        row = m.conn(where, sport=sport)
        f = m.fault("box")
        if action == "drop":
            check_eq(err, "ETIMEDOUT", "client's errno: its retransmissions all dropped")
            after = topo.client.snmp()
            check_eq(row["o_dropped"] + row["r_dropped"], int(f["dropped"]),
                     "the fault's drops are the connection's")
            check(row["o_retrans"] >= 3, f"retransmitted to tcp_retries2: {row['o_retrans']}")
            check_eq(row["o_retrans"], after["TcpRetransSegs"] - before["TcpRetransSegs"],
                     "retransmissions on the wire vs TcpRetransSegs delta")
            check_eq(int(f["rst_sent"]), 0, "no RST from a dropping box")
            srv.setblocking(False)
            try:
                got = srv.recv(100)
            except BlockingIOError:
                got = None
            check(got is None, f"the server heard nothing after the idle: {got!r}")
            check_eq(tfk.tcp_state(srv), tfk.TCP_ESTABLISHED, "the server's state")
        else:
            check_eq(err, "ECONNRESET", "client's errno: the box's RST")
            check(elapsed < 2, f"the RST came at once, not after {elapsed:.2f} s")
            check_eq(int(f["rst_sent"]), 2, "RSTs injected, one each way")
            check_eq(int(f["dropped"]), 1, "the segment that found the flow forgotten")
            srv.settimeout(10)
            try:
                srv.recv(100)
                raise tfk.Fail("the server's recv returned instead of ECONNRESET")
            except ConnectionResetError:
                pass
            check_eq(row["state"], "CLOSED", "wire state after the box's RSTs")
        # A new connection through the box passes.
        dropped = int(m.fault("box")["dropped"])
        c2 = topo.client.socket(socket.AF_INET6 if v6 else socket.AF_INET)
        c2.settimeout(10)
        c2.connect((topo.saddr6 if v6 else topo.saddr, PORT))
        s2, _ = lst.accept()
        check(_echo_round(c2, s2, b"new flow"), "a new connection's echo")
        check_eq(int(m.fault("box")["dropped"]), dropped, "nothing of the new flow dropped")
    finally:
        topo.close()


def test_idle_timeout_drop(m):
    _idle_timeout(m, "drop")


@tfk.variant
def test_idle_timeout_drop_ipv6(m):
    _idle_timeout(m, "drop", v6=True)


@tfk.variant
def test_idle_timeout_drop_routed(m):
    _idle_timeout(m, "drop", routed=True)


def test_idle_timeout_drop_routed_ipv6(m):
    _idle_timeout(m, "drop", v6=True, routed=True)


def test_idle_timeout_rst(m):
    _idle_timeout(m, "rst")


@tfk.variant
def test_idle_timeout_rst_ipv6(m):
    _idle_timeout(m, "rst", v6=True)


@tfk.variant
def test_idle_timeout_rst_routed(m):
    _idle_timeout(m, "rst", routed=True)


def test_idle_timeout_rst_routed_ipv6(m):
    _idle_timeout(m, "rst", v6=True, routed=True)


def test_idle_timeout_keepalive_keeps_the_flow(m):
    """Keepalive probes more often than the box's timeout keep the flow:
    the connection idles for three timeouts and still gets through."""
    timeout = 2.0
    topo = tfk.Topology(routed=True)
    try:
        tfk.shrink_tcp(topo.client, ka_time=1, ka_intvl=1, ka_probes=3)
        m.add(topo.router, f"box mode=idle-timeout dport={PORT} timeout=2s")
        cli, srv, lst = tfk.connect(topo, PORT, keepalive=True)
        sport = cli.getsockname()[1]
        check(_echo_round(cli, srv, b"hi"), "first echo")
        # Four probes answered through the box: at least three timeouts idle.
        tfk.wait_until(lambda: m.conn(topo.router, sport=sport)["r_keepalive_ack"] >= 4,
                       3 * timeout + 10, "keepalive probes answered through the box")
        check(_echo_round(cli, srv, b"after"), "echo after idling past the timeout")
        check_eq(int(m.fault("box")["dropped"]), 0, "nothing dropped")
    finally:
        topo.close()


def test_reset_tracked_now(m):
    topo = tfk.Topology()
    try:
        cli, srv, lst = _tracked_established(m, topo, topo.client)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        check_eq(m.conn(topo.client, dport=PORT)["state"], "CLOSED", "wire state after the reset")
        for name, sk in (("client", cli), ("server", srv)):
            sk.settimeout(5)
            try:
                sk.recv(10)
                raise tfk.Fail(f"{name} recv returned instead of ECONNRESET")
            except ConnectionResetError:
                pass
    finally:
        topo.close()


def _link_local_reset(m, fault_role):
    """A reset fault on an IPv6 link-local connection (fe80::, scoped to an
    interface). Each namespace has a second link-local interface whose
    fe80::/64 route is preferred, so an RST routed without the interface
    it belongs to leaves through the wrong link and never arrives. The
    connection is not tracked, so the fault answers its next segment: the
    RST back to the sender leaves through the interface the segment came
    in on, the RST on to the receiver through the one its route chose."""
    topo = tfk.Topology()
    try:
        n = topo.link_ids[0]
        ifc = {"client": f"v{n}a", "server": f"v{n}b"}
        for ns, dev, me, peer, pmac in ((topo.client, ifc["client"], "1", "2", "0b"),
                                        (topo.server, ifc["server"], "2", "1", "0a")):
            ns.ip_batch([f"addr add fe80::{me}/64 dev {dev} nodad",
                         f"neigh replace fe80::{peer} lladdr 02:00:00:00:{n % 256:02x}:{pmac}"
                         f" dev {dev} nud permanent",
                         "link add tfd0 type veth peer name tfd1",
                         "addr add fe80::9/64 dev tfd0 nodad", "link set tfd1 up",
                         "link set tfd0 up", "route add fe80::/64 dev tfd0 metric 1"])
        with topo.server.enter():
            sidx = socket.if_nametoindex(ifc["server"])
        with topo.client.enter():
            cidx = socket.if_nametoindex(ifc["client"])
        lst = tfk.listen(topo, PORT, v6=True, addr=("fe80::2", PORT, 0, sidx))
        cli = topo.client.socket(socket.AF_INET6)
        cli.settimeout(10)
        cli.connect(("fe80::2", PORT, 0, cidx))
        lst.settimeout(10)
        srv, _ = lst.accept()
        cli.sendall(b"ping")
        _recv_all(srv, 4)
        srv.sendall(b"pong")
        _recv_all(cli, 4)
        m.add(getattr(topo, fault_role), f"kill mode=reset dport={PORT}")
        cli.send(b"next segment")
        for name, sk in (("client", cli), ("server", srv)):
            sk.settimeout(5)
            try:
                data = sk.recv(100)
                raise tfk.Fail(f"{name} recv returned {data!r} instead of ECONNRESET")
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise tfk.Fail(f"{name}: no RST arrived (routed out the wrong link?)")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected")
    finally:
        topo.close()


def test_reset_ipv6_link_local_on_sender(m):
    _link_local_reset(m, "client")


def test_reset_ipv6_link_local_on_receiver(m):
    _link_local_reset(m, "server")


def test_reset_untracked_on_next_segment(m):
    topo = tfk.Topology(routed=True)
    try:
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.router, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 0, "nothing known to reset yet")
        cli.send(b"next segment")
        for name, sk in (("client", cli), ("server", srv)):
            sk.settimeout(5)
            try:
                data = sk.recv(100)
                raise tfk.Fail(f"{name} recv returned {data!r} instead of ECONNRESET")
            except ConnectionResetError:
                pass
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected")
        # A connection opened afterwards is left alone.
        c2, s2, l2 = tfk.connect(topo, PORT + 1)
        m.delete("kill")
        m.add(topo.router, f"kill2 mode=reset dport={PORT + 1} delay=1h")
        c2.sendall(b"fine")
        check_eq(_recv_all(s2, 4)[0], 4, "pending reset fault does nothing")
    finally:
        topo.close()


def _echo_round(cli, srv, data):
    """data client -> server and back: True if both arrived, False on a
    reset, a timeout or a short read."""
    try:
        cli.sendall(data)
        if _recv_all(srv, len(data), timeout=5)[0] != len(data):
            return False
        srv.sendall(data)
        return _recv_all(cli, len(data), timeout=5)[0] == len(data)
    except (ConnectionResetError, TimeoutError, socket.timeout):
        return False


def _spared_after_idle(m, topo, where, name, setup):
    """A connection opened after the fault is armed (setup), idle until the
    table forgets it, is still left alone: nothing known, nothing done."""
    try:
        setup()
        cli, srv, lst = tfk.connect(topo, PORT)
        check(_echo_round(cli, srv, b"hello"), "echo on the new connection")
        tfk.wait_until(lambda: m.conn(where, dport=PORT) is None, 15,
                       "the idle entry to leave the table", interval=0.2)
        check(_echo_round(cli, srv, b"again"), "echo after the idle spell")
        check_eq(int(m.fault(name)["rst_sent"]), 0, "RSTs injected")
    finally:
        topo.close()


def test_reset_spares_connection_idle_past_timeout(m):
    """A connection opened after a reset fault is armed is never reset, even
    once the table has forgotten it (idle_timeout)."""
    topo = tfk.Topology()
    _spared_after_idle(m, topo, topo.client, "r",
                       lambda: m.add(topo.client, f"r mode=reset dport={PORT}"))


test_reset_spares_connection_idle_past_timeout.params = ("idle_timeout=2",)


def test_power_off_new_connection_idle_after_reboot(m):
    """A connection to a rebooted remote host, opened after the reboot,
    survives its entry's idle eviction."""
    topo = tfk.Topology(routed=True)

    def reboot():
        m.add(topo.router, f"pw mode=power-off host={topo.saddr}")
        m.set_enabled("pw", False)

    _spared_after_idle(m, topo, topo.router, "pw", reboot)


test_power_off_new_connection_idle_after_reboot.params = ("idle_timeout=2",)


def test_power_off_syn_retried_across_reboot(m):
    """connect() while the remote host is dark: its SYN is lost, the retry
    after the reboot opens a new connection, which is not reset."""
    topo = tfk.Topology()
    try:
        lst = tfk.listen(topo, PORT)
        m.add(topo.client, f"pw mode=power-off host={topo.saddr}")
        cli = topo.client.socket()
        cli.setblocking(False)
        check_eq(cli.connect_ex((topo.saddr, PORT)), errno.EINPROGRESS, "connect")
        tfk.wait_until(lambda: int(m.fault("pw")["dropped"]) >= 1, 5, "the first SYN dropped")
        m.set_enabled("pw", False)
        check(select.select([], [cli], [], 10)[1], "connect never completed")
        check_eq(tfk.sock_error(cli), 0, "connect after the SYN retry")
        cli.setblocking(True)
        lst.settimeout(10)
        srv, _ = lst.accept()
        check(_echo_round(cli, srv, b"hello"), "echo on the connection")
        check_eq(int(m.fault("pw")["rst_sent"]), 0, "RSTs injected")
    finally:
        topo.close()


def test_match_limit_never_loses_a_cut(m):
    """Eight watch faults on a connection do not hide a ninth, link-down."""
    topo = tfk.Topology()
    try:
        m.add(topo.client, f"cut mode=link-down dport={PORT} enabled=0")
        for i in range(8):
            m.add(topo.client, f"w{i} mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        check(_echo_round(cli, srv, b"hello"), "echo before the cut")
        m.set_enabled("cut", True)
        cli.sendall(b"cut?")
        srv.settimeout(2)
        try:
            got = srv.recv(10)
            raise tfk.Fail(f"server received {got!r} through the cut")
        except (TimeoutError, socket.timeout):
            pass
        check(int(m.fault("cut")["dropped"]) >= 1, "the cut dropped segments")
        check(all(int(m.fault(f"w{i}")["matched"]) > 0 for i in range(8)), "every watch matched")
    finally:
        topo.close()


def test_after_counts_restart_on_reused_tuple(m):
    """A new connection on a reused 4-tuple starts from zero bytes: an
    after= fault does not bite at once on the bytes of its predecessor."""
    topo = tfk.Topology()
    try:
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cport = 40123
        lst = tfk.listen(topo, PORT)
        lst.settimeout(10)
        cli = topo.client.socket()
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        cli.bind((topo.caddr, cport))
        cli.settimeout(10)
        cli.connect((topo.saddr, PORT))
        srv, _ = lst.accept()
        cli.sendall(b"a" * 200000)
        check_eq(_recv_all(srv, 200000)[0], 200000, "first connection's bytes")
        # The server closes first and keeps the TIME_WAIT: the client's port
        # is free again at once.
        srv.close()
        check_eq(cli.recv(10), b"", "FIN from the server")
        cli.close()
        tfk.wait_until(lambda: (m.conn(topo.client, dport=PORT) or {}).get("state") in
                       ("TIME_WAIT", "CLOSED"), 5, "the first connection closed")
        m.add(topo.client, f"hang mode=link-down dport={PORT} after=64K")
        c2 = topo.client.socket()
        c2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c2.bind((topo.caddr, cport))
        c2.settimeout(10)
        c2.connect((topo.saddr, PORT))
        s2, _ = lst.accept()
        check(_echo_round(c2, s2, b"x" * 1000), "the second connection below after=")
        check_eq(int(m.fault("hang")["dropped"]), 0, "segments dropped")
        row = m.conn(topo.client, dport=PORT)
        check(row["o_new_bytes"] + row["r_new_bytes"] < 64 << 10,
              f"new_bytes of the second connection: {row['o_new_bytes']} + {row['r_new_bytes']}")
    finally:
        topo.close()


def test_syn_block(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, syn_retries=2)
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.client, f"nosyn mode=syn-block dst={topo.saddr} dport={PORT}")
        c2 = topo.client.socket()
        c2.settimeout(30)
        t0 = time.monotonic()
        try:
            c2.connect((topo.saddr, PORT))
            raise tfk.Fail("connect succeeded through syn-block")
        except (TimeoutError, OSError) as e:
            check_eq(getattr(e, "errno", None), errno.ETIMEDOUT, f"connect error {e!r}")
        check(time.monotonic() - t0 >= 2.5, "connect gave up too early for 2 SYN retries")
        cli.sendall(b"z" * 100000)
        check_eq(_recv_all(srv, 100000)[0], 100000, "established connection carries on")
        check(int(m.fault("nosyn")["dropped"]) >= 3, "SYNs dropped")
    finally:
        topo.close()


def test_tuple_fault_leaves_sibling_alone(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=8)
        a, sa, lst = tfk.connect(topo, PORT)
        b = topo.client.socket()
        b.settimeout(10)
        b.connect((topo.saddr, PORT))
        sb, _ = lst.accept()
        m.add(topo.client, _tuple_spec("one", "link-down", topo, a))
        s = Sender(a, b"a" * 100000)
        s.start()
        b.sendall(b"b" * 300000)
        check_eq(_recv_all(sb, 300000)[0], 300000, "sibling connection bytes")
        time.sleep(0)  # the stalled one has not moved:
        sa.setblocking(False)
        try:
            check_eq(sa.recv(10), b"", "cut connection delivered data")
        except BlockingIOError:
            pass
        rows = m.table(topo.client, "conns")
        cut = [r for r in rows if r["o_dropped"] + r["r_dropped"] > 0]
        check_eq(len(cut), 1, "exactly one connection saw drops")
        check_eq(cut[0]["sport"], a.getsockname()[1], "the cut one is the named tuple")
    finally:
        topo.close()


def test_delay_and_toggle(m):
    topo = tfk.Topology()
    try:
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.client, f"later mode=link-down dport={PORT} delay=800ms")
        f = m.fault("later")
        check_eq(f["state"], "pending", "state during delay")
        check(0 < int(f["time_left_ms"]) <= 800, f"time_left_ms {f['time_left_ms']}")
        tfk.wait_until(lambda: m.fault("later")["state"] == "active", 5, "activation")
        check_eq(m.fault("later")["time_left_ms"], "-1", "no deadline once active")
        m.set_enabled("later", False)
        check_eq(m.fault("later")["state"], "disabled", "switched off")
        cli.sendall(b"q" * 1000)
        check_eq(_recv_all(srv, 1000)[0], 1000, "traffic flows when disabled")
        m.set_enabled("later", True)
        check_eq(m.fault("later")["state"], "pending", "switched on again restarts the delay")
    finally:
        topo.close()


def test_hang_after_bytes(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=8)
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.client, f"hang mode=link-down dport={PORT} after=1M")
        s = Sender(cli, _payload(4 << 20))
        s.start()
        got = 0
        srv.settimeout(3)
        try:
            while True:
                b = srv.recv(1 << 16)
                if not b:
                    break
                got += len(b)
        except (TimeoutError, socket.timeout):
            pass
        check(1 << 20 <= got < (1 << 20) + (256 << 10), f"server got {got} bytes, want just over 1 MiB")
        row = m.conn(topo.client, dport=PORT)
        check(row["o_new_bytes"] >= 1 << 20, "bytes counted before the hang")
        check(row["o_dropped"] > 0, "segments past 1 MiB dropped")
    finally:
        topo.close()


def test_bad_writes_change_nothing(m):
    m.add(None, "keep mode=watch dport=80")
    before = m.table(None, "faults")
    bad = [
        ("add", " "), ("add", "\n"), ("add", "x"), ("add", "x mode="), ("add", "x mode=nope"),
        ("add", "x mode=watch src=1.2.3"), ("add", "x mode=watch src=1.2.3.4/33"),
        ("add", "x mode=watch src=10.0.0.1/8"), ("add", "x mode=watch sport=65536"),
        ("add", "x mode=watch dport=9-8"), ("add", "x mode=watch src=::1 dst=1.2.3.4"),
        ("add", "x mode=loss"), ("add", "x mode=loss prob=0%"), ("add", "x mode=loss prob=101%"),
        ("add", "x mode=power-off"), ("add", "x mode=power-off host=1.1.1.1 dport=2"),
        ("add", "x mode=link-down host=1.1.1.1"), ("add", "x mode=watch delay=3"),
        ("add", "x mode=watch duration=0s"), ("add", "x mode=watch delay=9999h"),
        ("add", "x mode=link-down after=0"), ("add", "x mode=watch after=1K"),
        ("add", "x mode=watch enabled=2"), ("add", "x mode=watch mode=watch"),
        ("add", "x mode=idle-timeout"), ("add", "x mode=idle-timeout timeout=0ms"),
        ("add", "x mode=idle-timeout timeout=1s action=reject"),
        ("add", "x mode=watch timeout=1s"), ("add", "x mode=link-down action=rst"),
        ("add", "x mode=watch bogus=1"), ("add", "-x mode=watch"), ("add", "a" * 33 + " mode=watch"),
        ("add", "x mode=watch " + "src=any " * 80), ("add", "x mode=watch\x00junk"),
        ("add", "x mode=w\xe4tch"), ("add", "keep mode=watch"), ("del", "nosuch"), ("del", " "),
        ("del", "keep extra"), ("flush", "0"), ("flush", "yes"), ("track_all", "2"),
        ("track_all", " "), ("faults/keep/enabled", "on"), ("faults/keep/enabled", "10"),
        # Batches: all or nothing, y1 is never left behind.
        ("add", "y1 mode=watch\nx mode=nope"), ("add", "y1 mode=watch\ny1 mode=loss prob=1%"),
        ("add", "y1 mode=watch\n\nkeep mode=watch\n"), ("add", "\n\n\n"),
        ("add", "y1 mode=watch\nx mode=watch\x01"),
    ]
    check(len(bad) >= 30, "the table has at least 30 rows")
    for attr, text in bad:
        err = m.write(None, attr, text)
        check(err is not None, f"write {text!r} to {attr} was accepted")
        want = errno.EEXIST if attr == "add" and "keep " in text else (
            errno.ENOENT if attr == "del" and text == "nosuch" else errno.EINVAL)
        check_eq(err.errno, want, f"errno for {text!r} -> {attr}")
        check(m.last_error().split(" ", 1)[1:] != [""], "last_error has a reason")
    check_eq(_strip_counters(m.table(None, "faults")), _strip_counters(before), "faults unchanged")
    check_eq(m.attr("track_all"), "0", "track_all unchanged")
    check_eq(m.fault("keep")["enabled"], "1", "keep still enabled")


def test_batch_add(m):
    """One write, many faults: a page at a time, whole lines only."""
    specs = [f"b{i} mode=link-down src=10.9.{i >> 8}.{i & 255} sport={2000 + i} "
             f"dst=10.8.0.1 dport=80" for i in range(300)]
    data = ("\n".join(specs) + "\n").encode()
    check(len(data) > 3 * 4096, f"the batch spans pages ({len(data)} bytes)")
    fd = os.open(f"{tfk.SYSFS}/add", os.O_WRONLY)
    try:
        off, writes = 0, []
        while off < len(data):
            n = os.write(fd, data[off:])
            check(0 < n <= 4096, f"a write took {n} bytes")
            # Short writes stop after a newline: no spec is cut in two.
            check(data[off + n - 1:off + n] == b"\n", f"write {len(writes)} ended inside a line")
            writes.append(n)
            off += n
    finally:
        os.close(fd)
    check(len(writes) >= 4, f"{len(writes)} writes for {len(data)} bytes")
    rows = {r["name"]: r for r in m.table(None, "faults")}
    check_eq(sorted(n for n in rows if n.startswith("b")), sorted(f"b{i}" for i in range(300)),
             "every spec of the batch is a fault")
    check_eq(m.attr("faults_count"), "300", "faults_count")
    check("src=10.9.1.43/32 sport=2299 dst=10.8.0.1/32 dport=80" in rows["b299"]["spec"],
          f"the last spec, whole: {rows['b299']['spec']!r}")
    # A bad line names itself; nothing of its batch stays.
    err = m.write(None, "add", "c1 mode=watch\nc2 mode=watch\n\nc3 mode=nope\n")
    check(err is not None and err.errno == errno.EINVAL, f"bad batch: {err}")
    check("line 4:" in m.last_error(), f"last_error names the line: {m.last_error()!r}")
    err = m.write(None, "add", "c1 mode=watch\nb7 mode=watch\n")
    check(err is not None and err.errno == errno.EEXIST, f"batch with a taken name: {err}")
    check("line 2:" in m.last_error() and "b7" in m.last_error(), m.last_error())
    check_eq(m.attr("faults_count"), "300", "faults_count after the refused batches")
    check(not any(r["name"].startswith("c") for r in m.table(None, "faults")), "no c* fault left")


def _strip_counters(rows):
    return [{k: v for k, v in r.items() if k in ("id", "name", "mode", "state", "spec")} for r in rows]


WRITE_ERRNO = """
import errno, os, sys
for arg in sys.argv[1:]:
    path, text = arg.split("=", 1)
    try:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, text.encode())
        print("OK")
    except OSError as e:
        print(errno.errorcode[e.errno])
"""


def test_permissions(m):
    m.add(None, "mine mode=watch")
    # An unprivileged user, root inside an unprivileged user namespace, and
    # root without CAP_NET_ADMIN: one process each, every control file.
    probes = {
        "nobody": ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"],
        "userns-root": ["unshare", "-Ur", "--"],
        "no-cap": ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--"],
    }
    writes = [("add", "evil mode=link-down"), ("del", "mine"), ("flush", "1"),
              ("faults/mine/enabled", "0"), ("track_all", "1")]
    for who, prefix in probes.items():
        p = subprocess.run(prefix + ["python3", "-c", WRITE_ERRNO] +
                           [f"{tfk.SYSFS}/{a}={t}" for a, t in writes],
                           capture_output=True, text=True)
        got = p.stdout.split()
        check_eq(len(got), len(writes), f"{who}: one answer per write ({p.stderr.strip()})")
        for (attr, text), res in zip(writes, got):
            check(res in ("EACCES", "EPERM"), f"{who} -> {attr}: {res}")
        check_eq(m.attr("faults_count"), "1", f"fault count after {who}")
        check_eq(m.fault("mine")["enabled"], "1", f"fault enabled after {who}")
        check_eq(m.attr("track_all"), "0", f"track_all after {who}")
    check(not os.path.exists(f"{tfk.SYSFS}/faults/evil"), "no fault was added")


# Write each TEXT to an inherited descriptor FD; print OK or the errno name.
WRITE_FD = """
import errno, os, sys
for arg in sys.argv[1:]:
    fd, text = arg.split("=", 1)
    try:
        os.write(int(fd), text.encode())
        print("OK")
    except OSError as e:
        print(errno.errorcode[e.errno])
"""

# Open each PATH and pass the descriptors back over the unix socket SOCK.
OPEN_AND_PASS = """
import os, socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
fds = [os.open(p, os.O_WRONLY) for p in sys.argv[2:]]
socket.send_fds(s, [b"fds"], fds)
"""


def test_permissions_follow_the_opener(m):
    """The privilege check is made against the process that opened a
    control file, as the kernel's own interfaces do: a descriptor opened
    by root and handed to an unprivileged process works; one opened by
    root without CAP_NET_ADMIN does not, even when root writes to it."""
    m.add(None, "mine mode=watch")
    # Opened by root, written by nobody.
    fds = [os.open(f"{tfk.SYSFS}/{a}", os.O_WRONLY) for a in ("add", "faults/mine/enabled", "del")]
    try:
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                            "python3", "-c", WRITE_FD, f"{fds[0]}=handed mode=watch",
                            f"{fds[1]}=0", f"{fds[2]}=handed"],
                           capture_output=True, text=True, pass_fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    check_eq(p.stdout.split(), ["OK", "OK", "OK"],
             f"nobody writing through root's descriptors ({p.stderr.strip()})")
    check_eq(m.fault("mine")["enabled"], "0", "mine switched off through the descriptor")
    check(not os.path.exists(f"{tfk.SYSFS}/faults/handed"), "handed added, then deleted")
    # Opened by root without CAP_NET_ADMIN, written by root with it.
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        p = subprocess.run(["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--",
                            "python3", "-c", OPEN_AND_PASS, str(child.fileno())] +
                           [f"{tfk.SYSFS}/{a}" for a in ("add", "faults/mine/enabled", "track_all")],
                           capture_output=True, text=True, pass_fds=[child.fileno()])
        check_eq(p.returncode, 0, f"the unprivileged opener ({p.stderr.strip()})")
        _, fds, _, _ = socket.recv_fds(parent, 16, 3)
    finally:
        parent.close()
        child.close()
    try:
        got = []
        for fd, text in zip(fds, ("evil mode=link-down", "1", "1")):
            try:
                os.write(fd, text.encode())
                got.append("OK")
            except OSError as e:
                got.append(errno.errorcode[e.errno])
    finally:
        for fd in fds:
            os.close(fd)
    check_eq(got, ["EPERM"] * 3, "root writing through descriptors opened without CAP_NET_ADMIN")
    check(not os.path.exists(f"{tfk.SYSFS}/faults/evil"), "no fault was added")
    check_eq(m.fault("mine")["enabled"], "0", "mine still off")
    check_eq(m.attr("track_all"), "0", "track_all unchanged")
    check("CAP_NET_ADMIN" in m.last_error(), f"last_error: {m.last_error()}")
