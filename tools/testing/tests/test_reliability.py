# SPDX-License-Identifier: GPL-2.0
"""Reliability: faults under load, unload under traffic, table pressure,
namespace teardown. `make check` runs the short sizes (TCPFAULT_QUICK=1);
`make stress` the full ones. On the debug kernel any KASAN, lockdep or
kmemleak report fails the run (the harness checks).
"""
import errno
import json
import os
import random
import resource
import selectors
import socket
import struct
import threading
import time

import tfk
from tfk import check, check_eq, size

PORT = 8001


class Traffic:
    """N connections, each sending `per_conn` bytes from client to server,
    driven by one selector loop per side."""

    def __init__(self, topo, n, per_conn):
        self.topo, self.per_conn = topo, per_conn
        # Both ends live in this process: 2n sockets, past the default
        # limit of 1024 descriptors at the full size (the tests run as root).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 2 * n + 256
        if soft != resource.RLIM_INFINITY and soft < want:
            if hard != resource.RLIM_INFINITY:
                hard = max(hard, want)
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        self.lst = tfk.listen(topo, PORT, backlog=4096)
        self.clients, self.servers = [], {}
        self.received = {}
        for _ in range(n):
            c = topo.client.socket()
            c.setblocking(False)
            try:
                c.connect((topo.saddr, PORT))
            except BlockingIOError:
                pass
            self.clients.append(c)
        self.lst.settimeout(30)
        while len(self.servers) < n:
            s, peer = self.lst.accept()
            s.setblocking(False)
            self.servers[peer[1]] = s
            self.received[peer[1]] = 0
        self.sent = {c.getsockname()[1]: 0 for c in self.clients}
        self.stop = False

    def run(self, deadline):
        sel = selectors.DefaultSelector()
        for c in self.clients:
            sel.register(c, selectors.EVENT_WRITE, ("c", c))
        for port, s in self.servers.items():
            sel.register(s, selectors.EVENT_READ, ("s", port))
        chunk = b"t" * 8192
        while time.monotonic() < deadline and not self.done():
            for key, ev in sel.select(0.2):
                kind, obj = key.data
                if kind == "c":
                    port = obj.getsockname()[1]
                    left = self.per_conn - self.sent[port]
                    if left <= 0:
                        sel.unregister(obj)
                        continue
                    try:
                        self.sent[port] += obj.send(chunk[:min(left, len(chunk))])
                    except BlockingIOError:
                        pass
                else:
                    try:
                        self.received[obj] += len(key.fileobj.recv(65536))
                    except BlockingIOError:
                        pass
        sel.close()

    def done(self):
        return all(v == self.per_conn for v in self.received.values())

    def close(self):
        for s in self.clients + list(self.servers.values()) + [self.lst]:
            s.close()


def test_churn_counters_add_up(m):
    """Connections carry traffic while threads add, toggle and delete faults;
    afterwards every byte arrived and every connection's counters equal what
    its application sent, exactly."""
    n, per_conn, churn_s = size(100, 1000), size(64 << 10, 256 << 10), size(5, 60)
    topo = tfk.Topology()
    stop = threading.Event()
    errors = []

    def churner(tid):
        rng = random.Random(tid)
        i = 0
        while not stop.is_set():
            i += 1
            name = f"ch{tid}-{i % 8}"
            port = PORT
            mode = rng.choice(["loss prob=5%", "link-down duration=100ms", "watch",
                               "oneway duration=50ms", "syn-block"])
            m.write(topo.client, "del", name)
            err = m.write(topo.client, "add", f"{name} mode={mode} dport={port}")
            if err and err.errno != 17:
                errors.append(f"add {name}: {err}")
            if rng.random() < 0.5:
                m.write(topo.client, f"faults/{name}/enabled", rng.choice("01"))
    try:
        m.add(topo.client, f"w mode=watch dport={PORT}")
        tr = Traffic(topo, n, per_conn)
        threads = [threading.Thread(target=churner, args=(t,), daemon=True) for t in range(3)]
        for t in threads:
            t.start()
        tr.run(time.monotonic() + churn_s)
        stop.set()
        for t in threads:
            t.join(30)
        # Remove the churners' faults, keep the watch: the tracking must
        # not have a gap, or bytes would cross unseen.
        for name in topo.client.listdir(f"{tfk.SYSFS}/faults"):
            if name.startswith("ch"):
                m.write(topo.client, "del", name)
        # Drain for as long as bytes keep moving: a KASAN guest under TCG
        # needs minutes for the full size. A connection that the churn
        # kept cutting may sit in RTO backoff, whose timer doubles up to
        # TCP_RTO_MAX (120 s), so only 150 s without a byte is a stall.
        moved, total = time.monotonic(), sum(tr.received.values())
        while not tr.done() and time.monotonic() - moved < 150:
            tr.run(time.monotonic() + 10)
            if sum(tr.received.values()) != total:
                moved, total = time.monotonic(), sum(tr.received.values())
        check(not errors, f"control errors: {errors[:3]}")
        short = {p: v for p, v in tr.received.items() if v != per_conn}
        check(not short, f"{len(short)} connections short of {per_conn} bytes: "
                         f"{list(short.items())[:5]}")
        rows = {r["sport"]: r for r in m.table(topo.client, "conns") if r["dport"] == PORT}
        check_eq(len(rows), n, "tracked connections")
        bad = [(p, r["o_new_bytes"]) for p, r in rows.items() if r["o_new_bytes"] != per_conn]
        check(not bad, f"new_bytes differs from what was sent: {bad[:5]}")
        # Only the client's namespace has faults, so only it tracks.
        check_eq(int(m.attr("conns")), len(m.table(topo.client, "conns")),
                 "sysfs conns vs the table")
        tr.close()
    finally:
        stop.set()
        topo.close()


def test_flush_many_faults(m):
    """Many faults in, a page per write; one flush takes them all out, and
    neither trips the soft-lockup or RCU-stall detectors (the harness fails
    the run on their reports): a million under make stress, on the debug
    kernel too."""
    n = size(2000, 1000000)
    tfk.add_batch(f"m{i} mode=link-down src=10.{i >> 16}.{i >> 8 & 255}.{i & 255} "
                  f"sport={1024 + i % 50000} dst=192.0.2.1 dport=80" for i in range(n))
    check_eq(m.attr("faults_count"), str(n), "faults installed")
    t0 = time.monotonic()
    check(m.write(None, "flush", "1") is None, "flush")
    took = time.monotonic() - t0
    check_eq(m.attr("faults_count"), "0", "faults after the flush")
    print(f"# {n:,} faults flushed in {took:.1f} s")


def test_unload_under_traffic(m):
    """rmmod with faults active and traffic flowing, then load again; the
    traffic recovers, nothing is stranded."""
    rounds = size(3, 50)
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=12)
        cli, srv, lst = tfk.connect(topo, PORT)
        total = [0]
        stop = threading.Event()

        def pump():
            cli.settimeout(60)
            while not stop.is_set():
                cli.sendall(b"u" * 16384)

        def drain():
            srv.settimeout(60)
            while not stop.is_set():
                b = srv.recv(65536)
                if not b:
                    return
                total[0] += len(b)
        th = [threading.Thread(target=pump, daemon=True), threading.Thread(target=drain, daemon=True)]
        for t in th:
            t.start()
        for i in range(rounds):
            m.load()
            m.add(topo.client, f"lossy mode=loss prob=20% dport={PORT}")
            m.add(topo.client, f"cut mode=link-down dport={PORT} delay=50ms")
            m.add(topo.router or topo.server, f"w mode=watch dport={PORT}")
            m.write(None, "track_all", "1")
            time.sleep(0.1)  # let the faults bite mid-stream; then pull the module out
            m.unload()
            # Without the module the stream must move again.
            before = total[0]
            tfk.wait_until(lambda: total[0] > before + 100000, 30,
                           f"traffic to recover after rmmod (round {i})")
        stop.set()
    finally:
        topo.close()


def _syn_flood(ns, saddr_base, daddr, dport, count):
    """count SYNs from distinct (address, port) pairs, through a raw socket."""
    with ns.enter():
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst = socket.inet_aton(daddr)
    base = struct.unpack("!I", socket.inet_aton(saddr_base))[0]
    sent = 0
    for i in range(count):
        src = struct.pack("!I", base + (i >> 14))
        sport = 1024 + (i & 0x3fff)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, i, 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        csum = _csum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
        s.sendto(ip + tcp, (daddr, 0))
        sent += 1
    s.close()
    return sent


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def test_table_pressure_syn_flood(m):
    """A SYN flood over many distinct tuples with track_all on: the table stays
    under its cap, evictions are counted, and real connections still work."""
    count = size(2000, 200000)
    topo = tfk.Topology()
    try:
        m.write(None, "track_all", "1")
        cap = int(m.attr("conns_max"))
        # The flood's sources live behind the client: route them back to it.
        topo.client.ip_batch([f"addr add 10.9.0.1/16 dev {_veth(topo.client)}"])
        topo.server.ip_batch([f"route add 10.9.0.0/16 via {topo.caddr}"])
        lst = topo.server.socket()
        lst.bind((topo.saddr, PORT))
        lst.listen(128)
        sent = _syn_flood(topo.client, "10.9.0.1", topo.saddr, PORT, count)
        check_eq(sent, count, "SYNs sent")
        n = int(m.attr("conns"))
        check(n <= cap, f"conns {n} above the cap {cap}")
        rows = len(m.table(topo.client, "conns")) + len(m.table(topo.server, "conns"))
        check(rows <= cap, f"{rows} rows in the tables, above the cap {cap}")
        pressure = int(m.attr("conn_evictions")) + int(m.attr("conn_insert_failed"))
        check(pressure > 0, "no eviction or refusal although the flood exceeded the table")
        # A real connection during the aftermath still works.
        c = topo.client.socket()
        c.settimeout(10)
        c.connect((topo.saddr, PORT))
        s, _ = lst.accept()
        c.sendall(b"still here")
        check_eq(s.recv(100), b"still here", "data on a fresh connection")
    finally:
        topo.close()


# Short run: a small table, so that a short flood already overflows it.
test_table_pressure_syn_flood.params = (f"conns_max={size(512, 65536)}",)


def _veth(ns):
    return ns.sh("ip -o link show type veth | cut -d: -f2 | cut -d@ -f1").strip().split()[0]


def test_namespace_teardown_with_live_state(m):
    """Delete namespaces that hold active faults, tracked connections and
    traffic; their state goes with them."""
    rounds = size(2, 20)
    for i in range(rounds):
        topo = tfk.Topology(routed=True)
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.router, f"rl{i} mode=loss prob=10% dport={PORT}")
        m.add(topo.client, f"cw{i} mode=watch dport={PORT}")
        m.add(topo.server, f"pw{i} mode=power-off host=10.99.0.1 delay=1h")
        stop = threading.Event()

        def pump():
            try:
                cli.settimeout(5)
                while not stop.is_set():
                    cli.send(b"n" * 8192)
            except OSError:
                pass
        t = threading.Thread(target=pump, daemon=True)
        t.start()
        tfk.wait_until(lambda: m.conn(topo.client, dport=PORT), 10, "tracked")
        # The processes go away (their sockets reset, so that nothing holds
        # the namespaces), then the namespaces are deleted under the faults.
        stop.set()
        t.join(10)
        for sk in (cli, srv, lst):
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sk.close()
        check_eq(sum(int(m.attr("faults_count", ns)) for ns in topo.ns), 3,
                 "faults alive before the deletion")
        # Each namespace's sysfs view outlives it: watch its faults go.
        views = [os.dup(ns.sysfs_fd()) for ns in topo.ns]
        try:
            topo.close()
            tfk.wait_until(lambda: not any(tfk.listdir_at(v, "kernel/tcpfault/faults")
                                           for v in views), 30,
                           "faults gone with their namespaces")
        finally:
            for v in views:
                os.close(v)
        tfk.wait_until(lambda: m.attr("conns") == "0", 30, "connections gone with their namespaces")


class EchoChurn:
    """Short connections to an echo server in a topology, one after the
    other, until stopped: connect, send a request, read the echo, close.
    `server_first`: the server closes first (its side goes to TIME_WAIT),
    else the client does. `cpus`: the CPUs its two threads run on (all, if
    None). Every failure is recorded with its errno."""

    def __init__(self, topo, port, server_first, timeout, cpus=None):
        self.topo, self.port, self.server_first, self.timeout = topo, port, server_first, timeout
        self.cpus = cpus
        self.lst = tfk.listen(topo, port, backlog=256)
        self.lst.settimeout(0.2)
        self.stop, self.stop_server = threading.Event(), threading.Event()
        self.ok, self.errors = 0, []
        self.threads = [threading.Thread(target=self._on_cpus, args=(self._client,), daemon=True),
                        threading.Thread(target=self._on_cpus, args=(self._serve,), daemon=True)]

    def _on_cpus(self, fn):
        if self.cpus is not None:
            os.sched_setaffinity(0, self.cpus)      # this thread only
        fn()

    def start(self):
        for t in self.threads:
            t.start()

    def _serve(self):
        while not self.stop_server.is_set():
            try:
                s, _ = self.lst.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError as e:
                self.errors.append(("accept", e.errno))
                continue
            try:
                s.settimeout(self.timeout)
                req = b""
                while len(req) < 64:
                    b = s.recv(64 - len(req))
                    if not b:
                        raise OSError(0, "EOF before the request")
                    req += b
                s.sendall(req)
                if not self.server_first:
                    check_eq(s.recv(1), b"", "EOF after the echo")
            except (OSError, tfk.Fail) as e:
                self.errors.append(("server", getattr(e, "errno", None) or str(e)))
            finally:
                s.close()

    def _client(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            msg = (b"%08d" % i) * 8
            c = self.topo.client.socket()
            c.settimeout(self.timeout)
            step = "connect"
            try:
                c.connect((self.topo.saddr, self.port))
                step = "request"
                c.sendall(msg)
                step = "echo"
                got = b""
                while len(got) < len(msg):
                    b = c.recv(len(msg) - len(got))
                    if not b:
                        break
                    got += b
                check_eq(got, msg, "echo")
                if self.server_first:
                    check_eq(c.recv(1), b"", "EOF after the echo")
                self.ok += 1
            except (OSError, tfk.Fail) as e:
                self.errors.append((f"client {step}", getattr(e, "errno", None) or str(e)))
            finally:
                c.close()

    def close(self):
        """Stop the client, then the server: a request in flight is answered."""
        self.stop.set()
        self.threads[0].join(30)
        self.stop_server.set()
        self.threads[1].join(30)
        self.lst.close()


def _abort_counters(ns):
    """The counters a socket aborted by tcp_abort() (an RST sent, the peer
    reset) or by the stack moves, and the retransmissions that can explain
    an RST without one."""
    snmp = ns.snmp()
    return {k: v for k, v in snmp.items()
            if k in ("TcpOutRsts", "TcpEstabResets", "TcpRetransSegs")
            or k.startswith("TcpExtTCPAbort")}


def _unexplained_aborts(moved, peer_moved):
    """What in one namespace's counter moves (`moved`) an abort would cause
    and nothing else explains. An aborted socket that was open (established
    or closing) counts TcpEstabResets; one aborted by the stack counts a
    TcpExtTCPAbort* reason. A bare RST is also how a stack answers a late
    retransmission (a FIN retransmitted after a spurious timeout, in a
    starved guest) that finds its socket already gone: each of the peer's
    retransmissions may earn one. So may one of its own: a LAST_ACK socket
    that retransmits its FIN and then gets the first ACK is freed, and the
    peer's TIME_WAIT answers the second FIN with an ACK that finds no
    socket (the RST it earns kills the TIME_WAIT, which counts nothing)."""
    bad = {k: v for k, v in moved.items()
           if k == "TcpEstabResets" or k.startswith("TcpExtTCPAbort")}
    rsts = moved.get("TcpOutRsts", 0)
    if rsts > peer_moved.get("TcpRetransSegs", 0) + moved.get("TcpRetransSegs", 0):
        bad["TcpOutRsts"] = rsts
    return bad


def _realtime():
    """Is this a PREEMPT_RT kernel?"""
    try:
        with open("/sys/kernel/realtime") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def _in_send_order(topo):
    """Have a connection's segments in a topology arrive in the order they
    were sent. A veth queues each segment on the backlog of the CPU that
    sent it: the ACK of a FIN, sent by softirq on one CPU, and the FIN the
    application's close() sends next on the other can be taken the other
    way round. The first side then goes to TIME_WAIT on the FIN, answers
    the late ACK with a duplicate ACK, and that finds the peer already
    closed: a bare RST that no retransmission explains. Seen with no module
    loaded at all (a kprobe on tcp_v4_send_reset: no socket, an ACK from
    the port that closed first).

    So every segment the topology's veths receive is processed on CPU 0
    (RPS). Not on PREEMPT_RT: RPS hands a segment to the other CPU with a
    function call that raises the receive softirq, which an idle CPU may
    run from its idle loop, and the RT kernel warns about that
    (do_softirq_post_smp_call_flush(); seen on 6.1-rt with no module
    loaded). There the topology's churn is to run on CPU 0 alone instead,
    so that what it sends and what its softirqs answer are queued on one
    backlog. Returns the CPUs to run the churn on (None: any)."""
    if _realtime():
        return {0}
    for ns in (topo.client, topo.server):
        path = f"/sys/class/net/{_veth(ns)}/queues/rx-0/rps_cpus"
        err = ns.write(path, "1")
        check(err is None, f"{ns.role}: RPS on {path}: {err}")
    return None


def test_power_off_churn_spares_other_namespace(m):
    """A host powers off and reboots over and over while connections churn
    in its namespace and in another one with the very same addresses and
    ports. The power-off walk aborts sockets of the first namespace only:
    in the second, every connection works, no socket reports an error and
    no RST or abort is counted. (TCP, TIME_WAIT and request sockets are
    freed and reused without an RCU grace period: a walk that does not
    look again at a socket after taking its reference can abort one reused
    meanwhile by the other namespace.)"""
    rounds = size(40, 400)
    a, b = tfk.Topology(), tfk.Topology()
    churn = []
    try:
        b_cpus = _in_send_order(b)
        # Long-lived connections in b, exercised every round; one in a,
        # which the first power-off aborts.
        pairs = [tfk.connect(b, PORT + 10 + k) for k in range(4)]
        a_cli, a_srv, a_lst = tfk.connect(a, PORT + 10)
        before = {ns.name: _abort_counters(ns) for ns in (b.client, b.server)}
        churn = [EchoChurn(a, PORT, server_first=True, timeout=1),
                 EchoChurn(a, PORT + 2, server_first=False, timeout=1),
                 EchoChurn(b, PORT, server_first=True, timeout=10, cpus=b_cpus),
                 EchoChurn(b, PORT + 2, server_first=False, timeout=10, cpus=b_cpus)]
        for c in churn:
            c.start()
        m.add(a.server, f"po mode=power-off host={a.saddr} enabled=0")
        aborted = 0
        for i in range(rounds):
            m.set_enabled("po", True)           # power off: the abort walk
            check_eq(m.fault("po")["state"], "dark", f"round {i}: state")
            time.sleep(0.05)
            m.set_enabled("po", False)          # reboot
            for cli, srv, _ in pairs:
                msg = b"round %d" % i
                cli.sendall(msg)
                check_eq(srv.recv(100), msg, f"round {i}: b's long-lived connection, there")
                srv.sendall(msg)
                check_eq(cli.recv(100), msg, f"round {i}: b's long-lived connection, back")
            time.sleep(0.05)
        aborted = int(m.fault("po")["aborted"])
        for c in churn:
            c.close()
        a_side, b_side = churn[:2], churn[2:]
        check(aborted > 0, "the power-off aborted nothing in its own namespace")
        check_eq(tfk.sock_error(a_srv), errno.ECONNABORTED, "a's long-lived server socket")
        check(sum(c.ok for c in a_side) > 0, "no connection in a ever worked")
        for c in b_side:
            check(not c.errors, f"b, port {c.port}: {len(c.errors)} failures: {c.errors[:5]}")
            check(c.ok > 0, f"b, port {c.port}: no connection completed")
        for cli, srv, _ in pairs:
            check_eq(tfk.sock_error(cli), 0, "b's long-lived client socket error")
            check_eq(tfk.sock_error(srv), 0, "b's long-lived server socket error")
        moved = {}
        for ns in (b.client, b.server):
            after = _abort_counters(ns)
            moved[ns.role] = {k: after[k] - before[ns.name].get(k, 0) for k in after
                              if after[k] != before[ns.name].get(k, 0)}
        for ns, peer in ((b.client, b.server), (b.server, b.client)):
            bad = _unexplained_aborts(moved[ns.role], moved[peer.role])
            check(not bad, f"{ns.role} of b counted aborts or RSTs: {bad} "
                  f"(its counters moved: {moved[ns.role]}; {peer.role}'s: {moved[peer.role]})")
        print(f"# power-off churn: {rounds} cycles, {aborted} sockets aborted in a; "
              f"b: {sum(c.ok for c in b_side)} connections, none hurt", flush=True)
    finally:
        for c in churn:
            c.close()
        a.close()
        b.close()


def test_del_add_same_name_race(m):
    """Two processes add and delete the same name as fast as they can, and
    two more do the same in another namespace, where the name is another
    fault's. An add fails only with EEXIST while its own namespace's other
    process holds the name; a process deletes what it added, always
    successfully; the kernel never warns about a duplicate sysfs
    directory."""
    loops = size(1000, 10000)
    dmesg0 = tfk.run(["dmesg"]).count("duplicate filename")
    faults0 = m.attr("faults_count")
    other = tfk.Netns("race")
    pids = []
    rfd, wfd = os.pipe()
    try:
        for who in range(4):
            ns = other if who >= 2 else None
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(rfd)
                    res = {"added": 0, "eexist": 0, "other": []}
                    for _ in range(loops):
                        err = m.write(ns, "add", "dup mode=watch dport=9")
                        if err is None:
                            res["added"] += 1
                            err = m.write(ns, "del", "dup")
                            if err is not None:
                                res["other"].append(f"del: {err}")
                        elif err.errno == errno.EEXIST:
                            res["eexist"] += 1
                        else:
                            res["other"].append(f"add: {err}")
                    os.write(wfd, (json.dumps(res) + "\n").encode())
                finally:
                    os._exit(0)
            pids.append(pid)
        os.close(wfd)
        with os.fdopen(rfd) as f:
            results = [json.loads(line) for line in f]
        for pid in pids:
            os.waitpid(pid, 0)
        check_eq(len(results), 4, "every process reported")
        summary = [{k: r[k] for k in ("added", "eexist")} for r in results]
        for r in results:
            check(not r["other"], f"unexpected failures: {r['other'][:5]} ({summary})")
        # One process may win every round (the mutex favours the one that
        # just released it); the other then knocks on the name all along,
        # including while it is being deleted, which is the window at stake.
        check(sum(r["added"] for r in results) > 0, f"no process ever added: {summary}")
        dup = tfk.run(["dmesg"]).count("duplicate filename") - dmesg0
        check_eq(dup, 0, f"kernel warnings about a duplicate sysfs directory ({summary})")
        check_eq(m.attr("faults_count"), faults0,
                 f"faults left ({summary}, {os.listdir(tfk.SYSFS + '/faults')})")
        check_eq(m.attr("faults_count", other), "0", f"faults left in the other namespace ({summary})")
        check(not os.path.exists(f"{tfk.SYSFS}/faults/dup"), "the directory is gone")
        check(not other.exists(f"{tfk.SYSFS}/faults/dup"), "the other namespace's directory is gone")
    finally:
        other.close()
    print(f"# del/add race: {[r['added'] for r in results]} adds, "
          f"{[r['eexist'] for r in results]} EEXIST", flush=True)
