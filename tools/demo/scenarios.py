# SPDX-License-Identifier: GPL-2.0
"""The classic TCP failure experiments, reproduced with tcpfault.

Each scenario builds its own namespaces, runs a real client and server,
applies a fault, and returns a Result: what was done, what each side saw,
tcpfault's counters and timeline, and expected-versus-observed checks whose
expectations are computed from the namespace's sysctls the way the kernel
computes them (net/ipv4/tcp_timer.c). The demo prints Results; the
integration tests assert them.
"""
import errno
import os
import signal
import subprocess
import time

import tfk

PORT = 7001

# Set by the front end: the tcpfaultctl binary (for timelines and SVGs) and
# where SVG timelines go.
CONFIG = {"cli": None, "svg_dir": None}


class Result:
    def __init__(self, key, title):
        self.key = key
        self.title = title
        self.done = []          # what the scenario did, step by step
        self.saw = {}           # what client and server observed
        self.sysctls = {}
        self.counters = {}      # connection row from /proc/net/tcpfault/conns
        self.timeline = []      # events of the connection
        self.checks = []        # (what, expected, observed, ok)
        self.netns = None       # where the connection is tracked
        self.conn_id = None
        self.notes = []
        self.timeline_text = ""  # tcpfaultctl's rendering
        self.svg = None

    def step(self, text):
        self.done.append((time.monotonic(), text))

    def check(self, what, expected, observed, ok=None):
        if ok is None:
            ok = expected == observed
        self.checks.append((what, expected, observed, bool(ok)))

    @property
    def ok(self):
        return all(c[3] for c in self.checks)

    def as_dict(self):
        t0 = self.done[0][0] if self.done else 0
        return {
            "scenario": self.key, "title": self.title, "ok": self.ok,
            "done": [{"t": round(t - t0, 3), "step": s} for t, s in self.done],
            "saw": self.saw, "sysctls": self.sysctls, "counters": self.counters,
            "timeline": self.timeline, "notes": self.notes, "svg": self.svg,
            "checks": [{"what": w, "expected": e, "observed": o, "ok": k}
                       for w, e, o, k in self.checks],
        }


def _errname(e):
    return errno.errorcode.get(e, str(e)) if e else "none"


def _shrink(ns, real, **kw):
    """Shrink the namespace's TCP timers unless the user wants the real ones."""
    if not real:
        tfk.shrink_tcp(ns, **kw)
    keys = ("tcp_retries2", "tcp_keepalive_time", "tcp_keepalive_intvl",
            "tcp_keepalive_probes", "tcp_syn_retries")
    return {k: int(ns.sysctl("net.ipv4." + k)) for k in keys}


def _collect(r, m, ns, dport):
    """Read the connection's counters and timeline while its namespace exists."""
    row = m.conn(ns, dport=dport)
    if not row:
        return row
    r.counters = row
    r.conn_id = row["id"]
    r.timeline = m.timeline(ns, row["id"])
    r.netns = ns.name
    cli = CONFIG["cli"]
    if cli:
        cmd = [cli, "-n", ns.name, "timeline", str(row["id"])]
        if CONFIG["svg_dir"]:
            r.svg = os.path.join(CONFIG["svg_dir"], r.key + ".svg")
            cmd += ["--svg", r.svg]
        p = subprocess.run(cmd, capture_output=True, text=True)
        r.timeline_text = p.stdout if p.returncode == 0 else f"(tcpfaultctl: {p.stderr.strip()})"
    return row


SERVER = """
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
print("accepted", flush=True)
time.sleep(3600)
"""


def peer_killed(m, real=False, unread=False):
    """1. A peer process is killed with kill -9: its kernel closes for it."""
    key = "peer-killed-unread" if unread else "peer-killed"
    r = Result(key, "Peer process killed (kill -9)" +
               (", with unread data in its receive queue" if unread else ""))
    topo = tfk.Topology()
    p = None
    try:
        r.sysctls = _shrink(topo.client, real)
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        r.step("tcpfault watches the connection (mode=watch) from the client's namespace")
        p = subprocess.Popen(["ip", "netns", "exec", topo.server.name, "python3", "-c", SERVER,
                              topo.saddr, str(PORT)], stdout=subprocess.PIPE, text=True)
        if p.stdout.readline().strip() != "ready":
            raise tfk.Fail("server did not start")
        cli = topo.client.socket()
        cli.settimeout(10)
        cli.connect((topo.saddr, PORT))
        p.stdout.readline()
        r.step(f"client {topo.caddr} connected to server process {p.pid} at {topo.saddr}:{PORT}")
        if unread:
            cli.sendall(b"the server never reads this" * 4)
            # The server's SYN-ACK, then its ACK of the data.
            tfk.wait_until(lambda: m.conn(topo.client, dport=PORT)["r_segs"] >= 2, 5, "ACK")
            r.step("client sent 108 bytes the server process never read")
        t0 = time.monotonic()
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        r.step(f"kill -9 {p.pid}")
        try:
            data = cli.recv(100)
            r.saw["client"] = "recv() returned 0 bytes: end of file" if data == b"" else f"recv() got {data!r}"
            err = 0
        except OSError as e:
            err = e.errno
            r.saw["client"] = f"recv() failed: {_errname(err)}"
        r.saw["client_after_s"] = round(time.monotonic() - t0, 3)
        r.saw["server"] = "process killed; its kernel closed the socket"
        row = tfk.wait_until(lambda: _collect(r, m, topo.client, PORT), 5, "tracked")
        seen = [e["event"] for e in r.timeline if e["dir"] == "r"]
        r.check("on the timeline, from the server", "rst" if unread else "fin",
                ", ".join(seen[-3:]), ("rst" if unread else "fin") in seen)
        if unread:
            r.check("segments from the dead peer's kernel", "RST", "RST" if row["r_rst"] else
                    ("FIN" if row["r_fin"] else "nothing"))
            r.check("client errno", "ECONNRESET", _errname(err))
        else:
            r.check("segments from the dead peer's kernel", "FIN", "FIN" if row["r_fin"] and not
                    row["r_rst"] else ("RST" if row["r_rst"] else "nothing"))
            r.check("client read", "EOF", "EOF" if err == 0 else _errname(err))
        r.notes.append("The kernel closes the sockets of a dead process: FIN if its receive "
                       "queue is empty, RST if unread data would be lost (tcp_close()).")
    finally:
        if p and p.poll() is None:
            p.kill()
        topo.close()
    return r


def cut_during_transfer(m, real=False, heal_after=None):
    """2. The cable is cut during a transfer: RTO doubling, then ETIMEDOUT (or healing)."""
    healed = heal_after is not None
    r = Result("cut-transfer-healed" if healed else "cut-transfer",
               "Network cut during a transfer" + (", healed before the timeout" if healed else ""))
    topo = tfk.Topology()
    try:
        r.sysctls = _shrink(topo.client, real, retries2=8 if healed else 5)
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.sendall(b"w" * 10000)
        got = 0
        while got < 10000:
            got += len(srv.recv(65536))
        rto_ms = tfk.tcp_info(cli)["rto_us"] // 1000
        la, lp = cli.getsockname()
        extra = f" duration={heal_after}ms" if healed else ""
        before = topo.client.snmp()
        m.add(topo.client, f"demo-cut mode=link-down src={la} sport={lp} dst={topo.saddr} "
                           f"dport={PORT}{extra}")
        r.step(f"cable cut (mode=link-down on {la}:{lp} <-> {topo.saddr}:{PORT}{extra})")
        total = 4 << 20 if healed else None
        t0 = time.monotonic()
        if healed:
            import threading
            result = {}

            def reader():
                n = 0
                srv.settimeout(60)
                while n < total:
                    b = srv.recv(1 << 16)
                    if not b:
                        break
                    n += len(b)
                result["got"] = n
            th = threading.Thread(target=reader, daemon=True)
            th.start()
            err, sent = tfk.send_until_error(cli, total=total, timeout=120)
            th.join(60)
            r.saw["client"] = f"send() {'finished' if not err else 'failed: ' + _errname(err)}: {sent} bytes"
            r.saw["server"] = f"received {result.get('got', 0)} bytes"
        else:
            err, sent = tfk.send_until_error(cli, timeout=3600)
            r.saw["client"] = f"send() failed with {_errname(err)} after {sent} bytes"
            r.saw["server"] = "nothing more arrived after the cut"
        elapsed = time.monotonic() - t0
        r.saw["client_after_s"] = round(elapsed, 3)
        after = topo.client.snmp()
        r.step("writer returned")
        row = _collect(r, m, topo.client, PORT)
        rtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "o"]
        times = [e["ts_ns"] / 1e9 for e in rtx]
        gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
        r.saw["retransmit_gaps_s"] = gaps
        r.check("retransmissions: tcpfault vs TcpRetransSegs",
                after["TcpRetransSegs"] - before["TcpRetransSegs"],
                row["o_retrans"] + row["o_syn_retry"])
        if healed:
            r.check("transfer completes", "0 (no error)", _errname(err) if err else "0 (no error)")
            r.check("bytes delivered", total, sent)
            r.check("retransmissions during the cut", ">= 1", row["o_retrans"], row["o_retrans"] >= 1)
        else:
            retries2 = r.sysctls["tcp_retries2"]
            counts, timeout_ms, err_after_ms = tfk.expected_rto_retransmits(retries2, rto_ms)
            tlp = 1 if len(gaps) > 1 and gaps[0] < 1.6 * rto_ms / 1000 and gaps[1] / gaps[0] > 2.5 else 0
            rto_rtx = len(rtx) - tlp
            r.check("errno", "ETIMEDOUT", _errname(err))
            r.check(f"RTO retransmissions (tcp_retries2={retries2}, RTO {rto_ms} ms)",
                    " or ".join(map(str, counts)), rto_rtx, rto_rtx in counts)
            first = (rtx[tlp]["ts_ns"] / 1e9 - t0) if len(rtx) > tlp else 0
            want_s = first + err_after_ms / 1000
            r.check("time to ETIMEDOUT (s)", round(want_s, 1), round(elapsed, 1),
                    0.85 * want_s <= elapsed <= 1.15 * want_s + 0.5)
            rto_gaps = gaps[tlp:]
            doubling = all(1.6 <= b / a <= 2.5 for a, b in zip(rto_gaps, rto_gaps[1:]))
            r.check("RTO doubles between retransmissions", "x2 each", rto_gaps, doubling)
            if tlp:
                r.notes.append("The first retransmission is a tail loss probe (RFC 8985), sent "
                               "after ~2 RTTs, before the first RTO.")
            r.notes.append(
                f"tcp_write_timeout() fails the connection at the first RTO expiry at least "
                f"tcp_model_timeout(retries2={retries2}, RTO_min=200 ms) = (2^(retries2+1) - 1) x "
                f"200 ms = {timeout_ms / 1000:.1f} s after the unacknowledged segment was first sent "
                f"(tp->retrans_stamp). With the RTO doubling from {rto_ms} ms that is "
                f"{' or '.join(map(str, counts))} retransmissions and an error "
                f"{err_after_ms / 1000:.1f} s after the first one.")
    finally:
        topo.close()
    return r


def cut_idle(m, real=False, keepalive=True):
    """3. The cable is cut on an idle connection: keepalive probes, or nothing at all."""
    r = Result("cut-idle-keepalive" if keepalive else "cut-idle-no-keepalive",
               "Network cut on an idle connection, keepalive " + ("on" if keepalive else "off"))
    topo = tfk.Topology()
    try:
        r.sysctls = _shrink(topo.client, real, ka_time=2, ka_intvl=1, ka_probes=3)
        ka_t, ka_i, ka_p = (r.sysctls["tcp_keepalive_time"], r.sysctls["tcp_keepalive_intvl"],
                            r.sysctls["tcp_keepalive_probes"])
        m.add(topo.client, f"demo-cut mode=link-down dst={topo.saddr} dport={PORT} enabled=0")
        cli, srv, lst = tfk.connect(topo, PORT, keepalive=keepalive)
        cli.sendall(b"hello")
        srv.recv(5)
        srv.sendall(b"hi")
        cli.recv(2)
        # The keepalive timer runs from the last segment received, not from
        # the cut: on a slow guest the snapshot and the switch below take a
        # good part of a second, which a clock started at the cut would miss.
        t0 = time.monotonic()
        r.step(f"client connected with SO_KEEPALIVE {'on' if keepalive else 'off'}, exchanged "
               "a few bytes, then went idle")
        before = topo.client.snmp()
        m.set_enabled("demo-cut", True)
        r.step("cable cut (mode=link-down)")
        expect_close = ka_t + ka_p * ka_i
        if keepalive:
            tfk.wait_until(lambda: tfk.tcp_state(cli) == tfk.TCP_CLOSE, expect_close * 2 + 30,
                           "keepalive to give up")
            elapsed = time.monotonic() - t0
            err = tfk.sock_error(cli)
            r.saw["client"] = f"connection closed, socket error {_errname(err)}"
            r.saw["client_after_s"] = round(elapsed, 3)
        else:
            window = 2 * expect_close
            time.sleep(window)  # an observation window: the point is that nothing happens
            elapsed = time.monotonic() - t0
            err = tfk.sock_error(cli)
            r.saw["client"] = (f"still ESTABLISHED after {window} s, no error"
                               if tfk.tcp_state(cli) == tfk.TCP_ESTABLISHED else "closed")
        r.saw["server"] = "idle; never heard of the cut"
        after = topo.client.snmp()
        row = _collect(r, m, topo.client, PORT)
        probes = [e for e in r.timeline if e["event"] == "keepalive" and e["dir"] == "o"]
        gaps = [round((b["ts_ns"] - a["ts_ns"]) / 1e9, 3) for a, b in zip(probes, probes[1:])]
        r.saw["probe_gaps_s"] = gaps
        mib = after["TcpExtTCPKeepAlive"] - before["TcpExtTCPKeepAlive"]
        if keepalive:
            r.check("keepalive probes (tcp_keepalive_probes)", ka_p, row["o_keepalive"])
            r.check("probes: tcpfault vs TcpExtTCPKeepAlive", mib, row["o_keepalive"])
            r.check(f"probe interval (tcp_keepalive_intvl={ka_i} s)", ka_i, gaps,
                    all(abs(g - ka_i) <= 0.35 * ka_i for g in gaps))
            r.check("client errno", "ETIMEDOUT", _errname(err))
            r.check("RST sent on giving up, swallowed by the cut", "1 sent, dropped",
                    f"{row['o_rst']} sent, {'dropped' if row['o_dropped'] >= ka_p + 1 else 'not dropped'}",
                    row["o_rst"] == 1 and row["o_dropped"] >= ka_p + 1)
            r.check("closed after going idle (s): keepalive_time + probes x intvl", expect_close,
                    round(elapsed, 1), expect_close - 0.5 <= elapsed <= expect_close + ka_i + 2)
        else:
            r.check("keepalive probes", 0, row["o_keepalive"])
            r.check("TcpExtTCPKeepAlive delta", 0, mib)
            r.check("state after the window", "ESTABLISHED",
                    "ESTABLISHED" if tfk.tcp_state(cli) == tfk.TCP_ESTABLISHED else "CLOSED")
            r.notes.append("Without keepalive (or data to send) nothing ever tests the path: "
                           "the connection stays ESTABLISHED forever.")
    finally:
        topo.close()
    return r


def power_off_reboot(m, real=False):
    """4. The server loses power and reboots; then the network comes back."""
    r = Result("power-off-reboot", "Server power-off, reboot, network restored")
    topo = tfk.Topology(routed=True)
    try:
        r.sysctls = _shrink(topo.client, real)
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.sendall(b"hello")
        srv.recv(5)
        r.step(f"client {topo.caddr} connected through a router to server {topo.saddr}:{PORT}")
        m.add(topo.server, f"demo-power mode=power-off host={topo.saddr}")
        f = m.fault("demo-power")
        r.step(f"server powered off (mode=power-off host={topo.saddr}, in the server's "
               "namespace): its socket is gone and it sent nothing")
        r.saw["server"] = (f"socket aborted silently ({f['aborted']} socket, error "
                           f"{_errname(tfk.sock_error(srv))})")
        m.set_enabled("demo-power", False)
        r.step("server rebooted (enabled=0): back on the network, with no TCP state")
        state_before = "ESTABLISHED" if tfk.tcp_state(cli) == tfk.TCP_ESTABLISHED else "CLOSED"
        cli.send(b"are you there?")
        t0 = time.monotonic()
        r.step("client sends")
        cli.settimeout(10)
        try:
            cli.recv(100)
            err = 0
        except OSError as e:
            err = e.errno
        r.saw["client"] = f"looked {state_before} until it sent; then recv() failed: {_errname(err)}"
        r.saw["client_after_s"] = round(time.monotonic() - t0, 3)
        row = _collect(r, m, topo.client, PORT)
        r.check("client state before sending", "ESTABLISHED", state_before)
        r.check("server sockets aborted", 1, int(f["aborted"]))
        r.check("RST from the rebooted server", 1, row["r_rst"])
        r.check("client errno", "ECONNRESET", _errname(err))
        r.notes.append("The rebooted kernel finds no socket for the segment and answers with "
                       "RST (tcp_v4_send_reset()); the client learns of the reboot only then.")
    finally:
        topo.close()
    return r


SCENARIOS = [
    ("peer-killed", lambda m, real: peer_killed(m, real)),
    ("peer-killed-unread", lambda m, real: peer_killed(m, real, unread=True)),
    ("cut-transfer", lambda m, real: cut_during_transfer(m, real)),
    ("cut-transfer-healed", lambda m, real: cut_during_transfer(m, real, heal_after=2000)),
    ("cut-idle-keepalive", lambda m, real: cut_idle(m, real, keepalive=True)),
    ("cut-idle-no-keepalive", lambda m, real: cut_idle(m, real, keepalive=False)),
    ("power-off-reboot", lambda m, real: power_off_reboot(m, real)),
]
