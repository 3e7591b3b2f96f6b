# SPDX-License-Identifier: GPL-2.0
"""The classic TCP failure experiments, reproduced with tcpfault.

Each scenario builds its own namespaces, runs a real client and server,
applies a fault, and returns a Result: what was done, what each side saw,
tcpfault's counters and timeline, and expected-versus-observed checks whose
expectations are computed from the namespace's sysctls the way the kernel
computes them (net/ipv4/tcp_timer.c). The demo prints Results; the
integration tests assert them.
"""
import contextlib
import errno
import os
import signal
import socket
import subprocess
import threading
import time

import tfk

PORT = 7001
TCP_TIMEOUT_INIT_MS = 1000      # include/net/tcp.h: a SYN's first RTO
TCP_RTO_MIN_MS = 200            # the floor of the RTO, and the probe timer's base
TCP_RTO_MAX_MS = 120000         # the ceiling, unless net.ipv4.tcp_rto_max_ms says otherwise

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


class StallWatch:
    """Watches for the guest not running.

    On a loaded host a TCG guest's vCPUs can be descheduled for a good part
    of a second; a kernel timer that falls due meanwhile fires late by as
    much. A thread sleeps TICK at a time and records how much later than
    that it woke: a stall. A check of a timer's gap allows for the stalls
    seen within it, and says so. A stall can shorten a gap as well (the
    event that opens it comes late, the timer that closes it does not), so
    a gap's allowance counts the stalls from LEAD before it to its end. The
    watch sees only the stalls of the vCPU its thread runs on, and counts
    the time another thread holds the GIL as one: what it misses fails a
    check rather than passing one; what it adds is a stated allowance.
    """

    TICK = 0.01
    MIN = 0.03
    LEAD = 0.5

    def __init__(self):
        self.stalls = []        # (start, end), monotonic s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic()
            time.sleep(self.TICK)
            now = time.monotonic()
            if now - t - self.TICK > self.MIN:
                self.stalls.append((t + self.TICK, now))

    def stop(self, r=None):
        """Stop watching; tell r's report of the stalls, if any."""
        self._stop.set()
        self._thread.join()
        if r is not None and self.stalls:
            r.saw["guest_stalled_s"] = self.total()

    def within(self, a, b):
        """Seconds of stall within [a, b]."""
        return sum(max(0.0, min(e, b) - max(s, a)) for s, e in self.stalls)

    def around(self, a, b):
        """The allowance of a gap from a to b: the stalls from LEAD before it on."""
        return self.within(a - self.LEAD, b)

    def total(self):
        return round(sum(e - s for s, e in self.stalls), 3)


def _errname(e):
    return errno.errorcode.get(e, str(e)) if e else "none"


def _shrink(ns, real, **kw):
    """Shrink the namespace's TCP timers unless the user wants the real ones."""
    if not real:
        tfk.shrink_tcp(ns, **kw)
    keys = ("tcp_retries2", "tcp_keepalive_time", "tcp_keepalive_intvl",
            "tcp_keepalive_probes", "tcp_syn_retries")
    return {k: int(ns.sysctl("net.ipv4." + k)) for k in keys}


def _sysctl_opt(ns, key):
    """An integer sysctl of ns, or None where this kernel does not have it."""
    try:
        return int(ns.sysctl(key))
    except FileNotFoundError:
        return None


def _collect(r, m, ns, dport, sport=None):
    """Read the connection's counters and timeline while its namespace exists."""
    row = m.conn(ns, sport=sport, dport=dport)
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
            _rto_death_checks(r, "", rtx, t0, elapsed, err, r.sysctls["tcp_retries2"], rto_ms)
    finally:
        topo.close()
    return r


def _stalled(stall):
    """What a check's text says of the stalls it allowed for."""
    return f" (allowing for {stall:.2f} s the guest stalled)" if stall >= 0.005 else ""


def _rto_count_late(retries2, rto_ms, late_ms, rto_max_ms=TCP_RTO_MAX_MS):
    """RTO retransmissions before ETIMEDOUT when the expiries come late_ms
    late: tcp_write_timeout() compares the time since tp->retrans_stamp
    with tcp_model_timeout(), so a late expiry may find it passed."""
    timeout = tfk.model_timeout_ms(retries2, TCP_RTO_MIN_MS, rto_max_ms)
    k, t, rto = 0, 0.0, rto_ms
    while True:
        t += rto
        if t + late_ms >= timeout:
            return k
        k += 1
        rto = min(rto * 2, rto_max_ms)


def _rto_death_checks(r, who, rtx, t0, elapsed, err, retries2, rto_ms, watch=None):
    """The checks of a write that dies at tcp_retries2: who ("" or "client: ")
    sent the retransmissions rtx (timeline events) from t0 (monotonic s) on
    and got err after elapsed s. With a StallWatch, the timings allow for
    the guest's stalls."""
    times = [e["ts_ns"] / 1e9 for e in rtx]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    counts, timeout_ms, err_after_ms = tfk.expected_rto_retransmits(retries2, rto_ms)
    tlp = 1 if len(gaps) > 1 and gaps[0] < 1.6 * rto_ms / 1000 and gaps[1] / gaps[0] > 2.5 else 0
    rto_rtx = len(rtx) - tlp
    stall = watch.within(t0, t0 + elapsed) if watch else 0
    if stall:
        # A late expiry may find the time limit passed one retransmission early.
        late = _rto_count_late(retries2, rto_ms, stall * 1000)
        counts = sorted(set(counts) | {late})
    r.check(who + "errno", "ETIMEDOUT", _errname(err))
    r.check(f"{who}RTO retransmissions (tcp_retries2={retries2}, RTO {rto_ms} ms)",
            " or ".join(map(str, counts)), rto_rtx, rto_rtx in counts)
    first = (rtx[tlp]["ts_ns"] / 1e9 - t0) if len(rtx) > tlp else 0
    want_s = first + err_after_ms / 1000
    r.check(who + "time to ETIMEDOUT (s)" + _stalled(stall), round(want_s, 1), round(elapsed, 1),
            0.85 * want_s <= elapsed <= 1.15 * want_s + 0.5 + stall)
    rto_gaps = gaps[tlp:]
    st = [watch.around(a, b) if watch else 0 for a, b in zip(times[tlp:], times[tlp + 1:])]
    # Some true gaps a' in [a - stall, a], b' in [b - stall, b] double.
    doubling = all(b / max(a - sa, 1e-3) >= 1.6 and (b - sb) / a <= 2.5
                   for a, b, sa, sb in zip(rto_gaps, rto_gaps[1:], st, st[1:]))
    r.check(who + "RTO doubles between retransmissions" + _stalled(max(st, default=0)),
            "x2 each", rto_gaps, doubling)
    if tlp:
        r.notes.append(f"{who}The first retransmission is a tail loss probe (RFC 8985), sent "
                       "after ~2 RTTs, before the first RTO.")
    r.notes.append(
        f"{who}tcp_write_timeout() fails the connection at the first RTO expiry at least "
        f"tcp_model_timeout(retries2={retries2}, RTO_min=200 ms) = (2^(retries2+1) - 1) x "
        f"200 ms = {timeout_ms / 1000:.1f} s after the unacknowledged segment was first sent "
        f"(tp->retrans_stamp). With the RTO doubling from {rto_ms} ms that is "
        f"{' or '.join(map(str, counts))} retransmissions and an error "
        f"{err_after_ms / 1000:.1f} s after the first one.")


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


# ---- the scenario library --------------------------------------------------


def syn_schedule(syn_retries, linear, rto_max_ms=TCP_RTO_MAX_MS, scale=1.0):
    """When an unanswered connect() sends its SYNs, and when it gives up.

    tcp_retransmit_timer() in SYN_SENT, at each expiry, asks
    tcp_write_timeout(), which fails the connection once icsk_retransmits
    reaches tcp_syn_retries (plus tcp_syn_linear_timeouts on kernels that
    have it, 6.5 and later), or once the time since the first SYN
    (tp->retrans_stamp, set by tcp_connect()) reaches
    tcp_model_timeout(tcp_syn_retries, TCP_TIMEOUT_INIT) (retransmits_timed_out(),
    which never fires before the first retransmission). Otherwise it sends
    the SYN again and doubles the RTO; with tcp_syn_linear_timeouts only
    once tp->total_rto has passed it (the first ones are linear). scale
    stretches the clock, to find outcomes a little timer slack would change.

    Returns (send times, the error's time, "count" or "time"), in ms from
    the first SYN.
    """
    linear = linear or 0
    limit = syn_retries + linear
    model = tfk.model_timeout_ms(syn_retries, TCP_TIMEOUT_INIT_MS, rto_max_ms)
    sends, t, rto = [0], 0, TCP_TIMEOUT_INIT_MS
    while True:
        t += rto
        k = len(sends) - 1                      # icsk_retransmits
        if k >= limit:
            return sends, t, "count"
        if k and t * scale >= model:
            return sends, t, "time"
        sends.append(t)
        if k + 1 > linear:
            rto = min(rto * 2, rto_max_ms)


def _syn_outcomes(syn_retries, linear, rto_max_ms):
    """The outcomes of syn_schedule() within 2% of timer slack either way."""
    return {(len(s) - 1, t) for s, t, _ in (syn_schedule(syn_retries, linear, rto_max_ms, f)
                                             for f in (0.98, 1.0, 1.02))}


def connect_timeout(m, real=False):
    """connect() to a host that is down: SYN retries, then ETIMEDOUT."""
    r = Result("connect-timeout", "connect() to a host that is down: SYN retries, then ETIMEDOUT")
    topo = tfk.Topology()
    watch = StallWatch()
    try:
        linear = _sysctl_opt(topo.client, "net.ipv4.tcp_syn_linear_timeouts")
        rto_max = _sysctl_opt(topo.client, "net.ipv4.tcp_rto_max_ms") or TCP_RTO_MAX_MS
        syn_retries = 2
        # The fewest SYN retries (from 2) whose outcome no timer slack can
        # change: with linear timeouts some put the time limit right on an expiry.
        while not real and len(_syn_outcomes(syn_retries, linear, rto_max)) > 1:
            syn_retries += 1
        r.sysctls = _shrink(topo.client, real, syn_retries=syn_retries)
        r.sysctls["tcp_syn_linear_timeouts"] = linear
        syn_retries = r.sysctls["tcp_syn_retries"]
        sends, fail_ms, why = syn_schedule(syn_retries, linear, rto_max)
        outcomes = _syn_outcomes(syn_retries, linear, rto_max)
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        lst = tfk.listen(topo, PORT)
        m.add(topo.server, f"demo-down mode=power-off host={topo.saddr}")
        r.step(f"server {topo.saddr} powered off (mode=power-off, in its namespace): its "
               f"service still listens on port {PORT}, but nothing reaches it")
        before = topo.client.snmp()
        cli = topo.client.socket()
        cli.settimeout(2 * fail_ms / 1000 + 30)
        r.step(f"client connect()s to {topo.saddr}:{PORT}")
        t0 = time.monotonic()
        try:
            cli.connect((topo.saddr, PORT))
            err = 0
        except OSError as e:
            err = e.errno
        elapsed = time.monotonic() - t0
        r.step("connect() returned")
        after = topo.client.snmp()
        r.saw["client"] = f"connect() failed with {_errname(err)} after {elapsed:.3f} s"
        r.saw["client_after_s"] = round(elapsed, 3)
        down = m.fault("demo-down")
        r.saw["server"] = f"powered off; {down['dropped']} SYNs dropped on the way in"
        row = _collect(r, m, topo.client, PORT)
        syns = [e["ts_ns"] / 1e9 for e in r.timeline
                if e["dir"] == "o" and e["event"] in ("syn", "syn-retry")]
        gaps = [round(b - a, 3) for a, b in zip(syns, syns[1:])]
        want_gaps = [(b - a) / 1000 for a, b in zip(sends, sends[1:])]
        r.saw["syn_gaps_s"] = gaps
        lin = "absent (before 6.5)" if linear is None else linear
        r.check("errno", "ETIMEDOUT", _errname(err))
        r.check(f"SYN retransmissions (tcp_syn_retries={syn_retries}, "
                f"tcp_syn_linear_timeouts={lin})",
                " or ".join(str(n) for n, _ in sorted(outcomes)), row["o_syn_retry"],
                row["o_syn_retry"] in {n for n, _ in outcomes})
        r.check("SYN retransmissions: tcpfault vs TcpRetransSegs",
                after["TcpRetransSegs"] - before["TcpRetransSegs"], row["o_syn_retry"])
        r.check("SYNs dropped by the powered-off host", len(syns), int(down["dropped"]))
        st = [watch.around(a, b) for a, b in zip(syns, syns[1:])]
        r.check("gaps between SYNs (s)" + _stalled(max(st, default=0)), want_gaps, gaps,
                len(gaps) == len(want_gaps) and
                all(abs(g - w) <= 0.1 * w + 0.1 + x for g, w, x in zip(gaps, want_gaps, st)))
        want_s = fail_ms / 1000
        stall = watch.within(t0, t0 + elapsed)
        r.check("time to ETIMEDOUT (s)" + _stalled(stall),
                " or ".join(str(t / 1000) for _, t in sorted(outcomes)), round(elapsed, 2),
                any(t / 1000 - 0.1 <= elapsed <= 1.05 * t / 1000 + 0.5 + stall
                    for _, t in outcomes))
        r.notes.append(
            "A SYN's first RTO is TCP_TIMEOUT_INIT (1 s). tcp_retransmit_timer() resends it and "
            "doubles the RTO" + (f" once more than tcp_syn_linear_timeouts={linear} SYNs were "
                                   f"resent (the first {linear} retries wait 1 s each)"
                                   if linear else "") +
            "; tcp_write_timeout() gives up when icsk_retransmits reaches tcp_syn_retries"
            + (" + tcp_syn_linear_timeouts" if linear is not None else "") +
            f" = {syn_retries + (linear or 0)}, or when retransmits_timed_out() finds "
            f"tcp_model_timeout({syn_retries}, TCP_TIMEOUT_INIT) = "
            f"{tfk.model_timeout_ms(syn_retries, TCP_TIMEOUT_INIT_MS, rto_max) / 1000:g} s "
            f"spent since the first SYN. Here the {'count' if why == 'count' else 'time'} "
            f"limit comes first: SYNs at {', '.join(f'{t / 1000:g}' for t in sends)} s and "
            f"ETIMEDOUT at {want_s:g} s.")
        if linear is None:
            r.notes.append("This kernel has no tcp_syn_linear_timeouts (added in 6.5): every "
                           "retry doubles the RTO, and tcp_syn_retries alone counts them.")
        lst.close()
    finally:
        watch.stop(r)
        topo.close()
    return r


def connect_refused(m, real=False):
    """connect() to a port where nothing listens: one SYN, one RST, ECONNREFUSED."""
    r = Result("connect-refused", "connect() to a port where nothing listens: RST, "
               "ECONNREFUSED at once")
    topo = tfk.Topology()
    try:
        r.sysctls = _shrink(topo.client, real)
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        r.step(f"tcpfault watches the client's connections to port {PORT} (mode=watch); "
               f"nothing listens there on the server {topo.saddr}")
        cli = topo.client.socket()
        cli.settimeout(30)
        t0 = time.monotonic()
        try:
            cli.connect((topo.saddr, PORT))
            err = 0
        except OSError as e:
            err = e.errno
        elapsed = time.monotonic() - t0
        r.step("client connect()s; connect() returned")
        r.saw["client"] = f"connect() failed with {_errname(err)} after {elapsed * 1000:.1f} ms"
        r.saw["client_after_s"] = round(elapsed, 3)
        r.saw["server"] = "its kernel found no socket for the SYN and answered with RST"
        row = tfk.wait_until(lambda: _collect(r, m, topo.client, PORT), 5, "tracked")
        seen = [f"{e['dir']}:{e['event']}" for e in r.timeline
                if e["event"] in ("syn", "syn-retry", "rst")]
        r.check("errno", "ECONNREFUSED", _errname(err))
        r.check("on the timeline", "o:syn, r:rst", ", ".join(seen), seen == ["o:syn", "r:rst"])
        r.check("SYN retransmissions (the answer came before the first RTO)", 0, row["o_syn_retry"])
        limit = TCP_TIMEOUT_INIT_MS / 4000
        r.check("time to ECONNREFUSED (s), well under one SYN RTO (1 s)", f"< {limit:g}",
                round(elapsed, 3), elapsed < limit)
        r.notes.append("tcp_v4_rcv() finds no socket for the SYN and answers with "
                       "tcp_v4_send_reset(); in SYN_SENT, tcp_rcv_synsent_state_process() "
                       "takes the RST to tcp_reset(), which sets ECONNREFUSED. One round trip, "
                       "no timer involved.")
    finally:
        topo.close()
    return r


def zero_window(m, real=False, answered=None):
    """A peer that stops reading: persist probes keep the connection; a cut ends it."""
    r = Result("zero-window", "A peer that stops reading: zero-window probes, answered, then "
               "the path is cut")
    topo = tfk.Topology()
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real, retries2=3)
        retries2 = r.sysctls["tcp_retries2"]
        ratelimit = int(topo.server.sysctl("net.ipv4.tcp_invalid_ratelimit"))
        r.sysctls["tcp_invalid_ratelimit (server)"] = ratelimit
        answered = answered or retries2 + 2
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        la, lp = cli.getsockname()
        r.step(f"client {la}:{lp} connected to {topo.saddr}:{PORT}; the server process "
               "stops reading")
        cli.setblocking(False)
        buf = b"z" * 65536
        sent = 0

        def stalled():
            nonlocal sent
            try:
                while True:
                    sent += cli.send(buf)
            except BlockingIOError:
                pass
            return tfk.tcp_info(cli)["unacked"] == 0
        tfk.wait_until(stalled, 30, "the receive window to close")
        base_ms = max(tfk.tcp_info(cli)["rto_us"] // 1000, TCP_RTO_MIN_MS)
        closed = m.conn(topo.client, dport=PORT)
        r.step(f"client wrote {sent} bytes; all sent data acknowledged, the rest waits: the "
               "server's window is zero")

        # SO_KEEPALIVE is off: a segment of a keepalive's shape is a window
        # probe, whatever window tcpfault last saw from the server.
        def nprobes(row):
            return row["o_zwp"] + row["o_keepalive"]

        def probe_answered():
            row = m.conn(topo.client, dport=PORT)
            return nprobes(row) >= answered and tfk.tcp_info(cli)["probes"] == 0 and row
        cut_row = tfk.wait_until(probe_answered, 60, f"{answered} zero-window probes, the last "
                                 "one answered", interval=0.05)
        n_before = nprobes(cut_row)
        state_before = tfk.tcp_state(cli)
        m.add(topo.client, f"demo-cut mode=link-down src={la} sport={lp} dst={topo.saddr} "
                           f"dport={PORT}")
        t_cut = time.monotonic()
        if nprobes(m.conn(topo.client, dport=PORT)) != n_before:
            raise tfk.Fail("a probe crossed the cut")
        r.step(f"after {n_before} probes, all but the rate-limited ones answered: cable cut "
               "(mode=link-down)")
        expect_close = sum(base_ms << min(j, retries2)
                           for j in range(n_before, n_before + retries2 + 1)) / 1000
        tfk.wait_until(lambda: tfk.tcp_state(cli) == tfk.TCP_CLOSE, 3 * expect_close + 30,
                       "the probes to give up", interval=0.05)
        elapsed = time.monotonic() - t_cut
        err = tfk.sock_error(cli)
        r.step("client's connection closed")
        skipped = topo.server.snmp()["TcpExtTCPACKSkippedSeq"]
        row = _collect(r, m, topo.client, PORT)
        probes = [e for e in r.timeline
                  if e["event"] in ("zero-window-probe", "keepalive") and e["dir"] == "o"]
        times = [e["ts_ns"] / 1e9 for e in probes]
        gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
        want = [(base_ms << min(k, retries2)) / 1000 for k in range(1, len(times))]
        pre = [t for t, e in zip(times, probes) if e["flags"] != "dropped"]
        # __tcp_oow_rate_limited(): an out-of-window segment gets its ACK
        # only if tcp_invalid_ratelimit ms have passed since the last one.
        lo = hi = 0
        last_lo = last_hi = None
        for t in pre:
            if last_lo is not None and (t - last_lo) * 1000 < ratelimit - 20:
                lo += 1
            else:
                last_lo = t
            if last_hi is not None and (t - last_hi) * 1000 < ratelimit + 20:
                hi += 1
            else:
                last_hi = t
        r.saw["client"] = (f"{'ESTABLISHED' if state_before == tfk.TCP_ESTABLISHED else 'CLOSED'} "
                           f"through {n_before} probes; after the cut the connection failed "
                           f"with {_errname(err)} after {elapsed:.3f} s")
        r.saw["client_after_s"] = round(elapsed, 3)
        r.saw["server"] = (f"never read; answered the probes it was not rate-limited on "
                           f"({skipped} not answered: TcpExtTCPACKSkippedSeq)")
        r.saw["probe_gaps_s"] = gaps
        # Segments from the server besides the probes' answers (a delayed
        # ACK, a window update): tcp_ack_probe() rearms the probe timer when
        # any ACK comes, so each may stretch one gap, by less than the gap.
        extra = cut_row["r_segs"] - closed["r_segs"] - (len(pre) - skipped)
        if extra:
            r.saw["server_other_acks"] = extra
        if row["o_keepalive"]:
            r.saw["probes_tracked_as_keepalive"] = row["o_keepalive"]
        r.check(f"state after {n_before} probes (more than tcp_retries2={retries2})",
                "ESTABLISHED", "ESTABLISHED" if state_before == tfk.TCP_ESTABLISHED else "CLOSED")
        r.check("retransmissions once the window was zero (the persist timer probes, not "
                "the RTO timer)", 0, row["o_retrans"] - closed["o_retrans"])
        r.check(f"probes left unanswered (tcp_invalid_ratelimit={ratelimit} ms)",
                " or ".join(map(str, sorted({lo, hi}))), skipped, lo <= skipped <= hi)
        st = [watch.around(a, b) for a, b in zip(times, times[1:])]
        slack = [0.15 * w + 0.05 + x for w, x in zip(want, st)]
        stretched = sum(g > w + d for g, w, d in zip(gaps, want, slack))
        r.check(f"probe gaps (s): {base_ms} ms << min(n, tcp_retries2)" +
                (f", {extra} stretched at most by other ACKs" if extra > 0 else "") +
                _stalled(max(st, default=0)), want, gaps, len(gaps) == len(want) and
                all(w - d <= g <= 2 * w + d for g, w, d in zip(gaps, want, slack)) and
                stretched <= max(extra, 0))
        r.check(f"unanswered probes after the cut (tcp_retries2={retries2})", retries2,
                len(times) - len(pre))
        r.check("probes dropped by the cut", len(times) - len(pre), row["o_dropped"])
        r.check("client errno", "ETIMEDOUT", _errname(err))
        stall = watch.within(t_cut, t_cut + elapsed)
        r.check("time from the cut to ETIMEDOUT (s)" + _stalled(stall), round(expect_close, 1),
                round(elapsed, 1),
                expect_close - 0.3 <= elapsed <= 1.1 * expect_close + 0.5 + stall)
        r.notes.append(
            "With nothing in flight and a zero window, the probe timer runs, not the RTO timer "
            "(tcp_check_probe_timer()). tcp_send_probe0() sends a probe with an old sequence "
            "number and rearms the timer to tcp_probe0_when(): max(RTO, 200 ms) << icsk_backoff, "
            f"the backoff growing by one per probe up to tcp_retries2 ({retries2}); "
            "tcp_ack_probe() rearms it the same way from the moment an answer, or any other "
            "ACK, comes.")
        r.notes.append(
            "The receiver answers a probe (outside its window: tcp_sequence()) with a duplicate "
            "ACK, at most one per tcp_invalid_ratelimit (tcp_oow_rate_limited()). Every answer "
            "resets icsk_probes_out (tcp_ack()), so answered probes keep the connection "
            "forever (RFC 1122 4.2.2.17).")
        r.notes.append(
            "Once nothing answers, tcp_probe_timer() fails the connection with ETIMEDOUT at the "
            f"first expiry that finds icsk_probes_out >= tcp_retries2: {retries2} unanswered "
            f"probes, {expect_close:.1f} s after the last answered one.")
    finally:
        watch.stop(r)
        topo.close()
    return r


def user_timeout(m, real=False, timeout_ms=2500):
    """The cut during a transfer, with TCP_USER_TIMEOUT on the sender."""
    r = Result("user-timeout", f"Network cut during a transfer, TCP_USER_TIMEOUT={timeout_ms} ms "
               "on the sender")
    topo = tfk.Topology()
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real, retries2=15)
        retries2 = r.sysctls["tcp_retries2"]
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, timeout_ms)
        cli.sendall(b"w" * 10000)
        got = 0
        while got < 10000:
            got += len(srv.recv(65536))
        rto_ms = tfk.tcp_info(cli)["rto_us"] // 1000
        la, lp = cli.getsockname()
        r.step(f"client {la}:{lp} connected with TCP_USER_TIMEOUT={timeout_ms} ms, "
               f"tcp_retries2={retries2}")
        m.add(topo.client, f"demo-cut mode=link-down src={la} sport={lp} dst={topo.saddr} "
                           f"dport={PORT}")
        r.step("cable cut (mode=link-down) during a bulk send")
        t0 = time.monotonic()
        err, sent = tfk.send_until_error(cli, timeout=3600)
        elapsed = time.monotonic() - t0
        r.step("writer returned")
        r.saw["client"] = f"send() failed with {_errname(err)} after {sent} bytes"
        r.saw["client_after_s"] = round(elapsed, 3)
        r.saw["server"] = "nothing more arrived after the cut"
        _collect(r, m, topo.client, PORT)
        rtx = [e["ts_ns"] / 1e9 for e in r.timeline
               if e["event"] == "retrans" and e["dir"] == "o"]
        gaps = [round(b - a, 3) for a, b in zip(rtx, rtx[1:])]
        r.saw["retransmit_gaps_s"] = gaps
        # A tail loss probe comes first if the gap after the first
        # retransmission is an RTO while the doubling starts only after it.
        tlp = 1 if len(gaps) > 1 and gaps[0] < 1.6 * rto_ms / 1000 and gaps[1] / gaps[0] > 2.5 else 0
        rto_rtx = len(rtx) - tlp
        # The first RTO retransmission sets tp->retrans_stamp; the RTO has
        # doubled by then, so the k-th after it comes RTO x (2^(k+1) - 2)
        # later, while that is short of the user timeout; 2% either way for
        # timer slack.
        stall = watch.within(t0, t0 + elapsed)
        counts = sorted({sum(1 for k in range(32)
                             if rto_ms * f * ((2 << k) - 2) + late < timeout_ms)
                         for f in (0.98, 1.0, 1.02) for late in (0, stall * 1000)})
        model = tfk.model_timeout_ms(retries2)
        first = rtx[tlp] - t0 if len(rtx) > tlp else 0
        want_s = first + timeout_ms / 1000
        r.check("errno", "ETIMEDOUT", _errname(err))
        r.check("time to ETIMEDOUT (s): first retransmission + TCP_USER_TIMEOUT" +
                _stalled(stall), round(want_s, 2), round(elapsed, 2),
                want_s - 0.1 <= elapsed <= want_s + 0.1 * timeout_ms / 1000 + 0.2 + stall)
        r.check(f"RTO retransmissions within the user timeout (RTO {rto_ms} ms)",
                " or ".join(map(str, counts)), rto_rtx, rto_rtx in counts)
        if tlp:
            r.notes.append("The first retransmission is a tail loss probe (RFC 8985); it does "
                           "not start the user timeout's clock (__tcp_retransmit_skb()).")
        r.notes.append(
            "With TCP_USER_TIMEOUT set, tcp_write_timeout() passes it to "
            "retransmits_timed_out() instead of tcp_model_timeout(tcp_retries2): the connection "
            "fails once the user timeout has passed since tp->retrans_stamp, the first RTO "
            "retransmission (tcp_retransmit_skb()). tcp_clamp_rto_to_user_timeout() shortens "
            "the last RTO so that the timer fires right then, not at the next doubling.")
        r.notes.append(f"Without it, tcp_retries2={retries2} would keep retransmitting for "
                       f"{model / 1000:.1f} s (tcp_model_timeout()), {model / timeout_ms:.0f} "
                       "times as long.")
    finally:
        watch.stop(r)
        topo.close()
    return r


def power_off_keepalive(m, real=False):
    """The seed's power-off-reboot, side by side with a keepalive connection."""
    r = Result("power-off-keepalive", "Server power-off and reboot, keepalive on: the "
               "client's next probe finds out")
    topo = tfk.Topology(routed=True)
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real, ka_time=2, ka_intvl=1, ka_probes=3)
        ka_t = r.sysctls["tcp_keepalive_time"]
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        plain, psrv, lst = tfk.connect(topo, PORT)
        cli = topo.client.socket()
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        cli.settimeout(10)
        cli.connect((topo.saddr, PORT))
        srv, _ = lst.accept()
        plain.sendall(b"hello")
        psrv.recv(5)
        psrv.sendall(b"hi")
        plain.recv(2)
        cli.sendall(b"hello")
        srv.recv(5)
        srv.sendall(b"hi")
        cli.recv(2)
        # The keepalive timer runs from the last segment received.
        t0 = time.monotonic()
        ka_port, plain_port = cli.getsockname()[1], plain.getsockname()[1]
        r.step(f"two clients connected through a router to {topo.saddr}:{PORT}: port "
               f"{ka_port} with SO_KEEPALIVE, port {plain_port} without; both exchanged a few "
               "bytes, then went idle")
        m.add(topo.server, f"demo-power mode=power-off host={topo.saddr}")
        f = m.fault("demo-power")
        r.step(f"server powered off (mode=power-off host={topo.saddr}): both its sockets gone, "
               "nothing sent")
        m.set_enabled("demo-power", False)
        t_reboot = time.monotonic()
        r.step("server rebooted (enabled=0): back on the network, with no TCP state")
        tfk.wait_until(lambda: tfk.tcp_state(cli) == tfk.TCP_CLOSE, 3 * ka_t + 30,
                       "the keepalive connection to close")
        elapsed = time.monotonic() - t0
        err = tfk.sock_error(cli)
        plain_state = tfk.tcp_state(plain)
        r.step(f"keepalive client's connection closed; the other one is "
               f"{'ESTABLISHED' if plain_state == tfk.TCP_ESTABLISHED else 'CLOSED'}")
        prow = m.conn(topo.client, sport=plain_port, dport=PORT)
        plain.send(b"are you there?")
        plain.settimeout(10)
        try:
            plain.recv(100)
            perr = 0
        except OSError as e:
            perr = e.errno
        r.step(f"client {plain_port} sends")
        r.saw["client"] = (f"keepalive on: closed with {_errname(err)} after {elapsed:.3f} s idle, "
                           "without sending anything")
        r.saw["client_after_s"] = round(elapsed, 3)
        r.saw["client without keepalive"] = (
            f"{'ESTABLISHED' if plain_state == tfk.TCP_ESTABLISHED else 'CLOSED'} all along; "
            f"its next send got {_errname(perr)}")
        r.saw["server"] = f"powered off ({f['aborted']} sockets aborted), rebooted"
        row = _collect(r, m, topo.client, PORT, sport=ka_port)
        probes = [e["ts_ns"] / 1e9 for e in r.timeline
                  if e["event"] == "keepalive" and e["dir"] == "o"]
        r.check("server sockets aborted", 2, int(f["aborted"]))
        r.check("keepalive probes sent", 1, row["o_keepalive"])
        r.check("probe sent after the reboot", "yes", "yes" if probes and probes[0] > t_reboot
                else "no", bool(probes) and probes[0] > t_reboot)
        r.check("RST from the rebooted server", 1, row["r_rst"])
        r.check("client errno", "ECONNRESET", _errname(err))
        stall = watch.within(t0, t0 + elapsed)
        r.check("closed after going idle (s): tcp_keepalive_time" + _stalled(stall), ka_t,
                round(elapsed, 1), ka_t - 0.3 <= elapsed <= ka_t + 1.5 + stall)
        r.check("bytes the keepalive client sent after going idle", 0,
                row["o_new_bytes"] - len(b"hello"))
        r.check("without keepalive: state when the other closed", "ESTABLISHED",
                "ESTABLISHED" if plain_state == tfk.TCP_ESTABLISHED else "CLOSED")
        r.check("without keepalive: probes sent", 0, prow["o_keepalive"])
        r.check("without keepalive: errno at its next send", "ECONNRESET", _errname(perr))
        r.notes.append(
            "tcp_keepalive_timer() sends the first probe tcp_keepalive_time after the last "
            "segment received (keepalive_time_elapsed()). The rebooted kernel has no socket for "
            "it and answers with RST (tcp_v4_send_reset()); tcp_reset() gives the client "
            "ECONNRESET although it never sent a byte.")
        r.notes.append("Without keepalive nothing tests the path: the client learns of the "
                       "reboot only when it sends (as in power-off-reboot).")
    finally:
        watch.stop(r)
        topo.close()
    return r


def oneway_partition(m, real=False):
    """A one-way partition: the client's segments are lost, the server's pass."""
    r = Result("oneway-partition", "One-way partition: the client's segments are lost, the "
               "server's get through")
    topo = tfk.Topology()
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real, retries2=4)
        _shrink(topo.server, real, retries2=4)
        retries2 = r.sysctls["tcp_retries2"]
        sretries2 = int(topo.server.sysctl("net.ipv4.tcp_retries2"))
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.sendall(b"w" * 10000)
        got = 0
        while got < 10000:
            got += len(srv.recv(65536))
        srv.sendall(b"s" * 10000)
        got = 0
        while got < 10000:
            got += len(cli.recv(65536))
        rto_ms = tfk.tcp_info(cli)["rto_us"] // 1000
        srto_ms = tfk.tcp_info(srv)["rto_us"] // 1000
        la, lp = cli.getsockname()
        r.step(f"client {la}:{lp} and server {topo.saddr}:{PORT} exchanged 10000 bytes "
               "each way")
        m.add(topo.client, f"demo-oneway mode=oneway src={la} sport={lp} dst={topo.saddr} "
                           f"dport={PORT}")
        r.step(f"one-way partition (mode=oneway src={la} dst={topo.saddr}): the client's "
               "segments are lost, the server's still arrive")
        before = m.conn(topo.client, dport=PORT)
        t0 = time.monotonic()
        err, sent = tfk.send_until_error(cli, timeout=3600)
        elapsed = time.monotonic() - t0
        r.step("client's send() failed")
        srv.setblocking(False)
        try:
            heard = len(srv.recv(1 << 20))
        except BlockingIOError:
            heard = 0
        sstate = tfk.tcp_state(srv)
        mid = m.conn(topo.client, dport=PORT)
        r.step("server sends")
        t1 = time.monotonic()
        serr, ssent = tfk.send_until_error(srv, timeout=3600)
        selapsed = time.monotonic() - t1
        r.step("server's send() failed")
        row = _collect(r, m, topo.client, PORT)
        crtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "o"]
        srtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "r"
                and e["ts_ns"] / 1e9 > t1]
        r.saw["client"] = (f"send() failed with {_errname(err)} after {elapsed:.3f} s; "
                           f"{sent} bytes written, none delivered")
        r.saw["client_after_s"] = round(elapsed, 3)
        r.saw["server"] = (f"{'ESTABLISHED' if sstate == tfk.TCP_ESTABLISHED else 'CLOSED'} "
                           f"when the client gave up, {heard} bytes heard since the partition; "
                           f"when it sent, send() failed with {_errname(serr)} after "
                           f"{selapsed:.3f} s")
        r.saw["who gave up first"] = (f"the client, {elapsed:.1f} s into the partition; the "
                                      f"server only once it sent, {elapsed + selapsed:.1f} s "
                                      "into it")
        _rto_death_checks(r, "client: ", crtx, t0, elapsed, err, retries2, rto_ms, watch)
        r.check("server: state when the client gave up", "ESTABLISHED",
                "ESTABLISHED" if sstate == tfk.TCP_ESTABLISHED else "CLOSED")
        r.check("server: segments from the client since the partition", 0, heard +
                mid["o_segs"] - mid["o_dropped"] - (before["o_segs"] - before["o_dropped"]))
        r.check("server: keepalive probes (SO_KEEPALIVE off)", 0, mid["r_keepalive"])
        r.check("client host's RSTs to the server's data, lost in the partition",
                "> 0, all dropped", f"{row['o_rst']} sent, "
                f"{row['o_dropped'] - mid['o_dropped']} dropped",
                row["o_rst"] > 0 and row["o_dropped"] - mid["o_dropped"] >= row["o_rst"])
        _rto_death_checks(r, "server: ", srtx, t1, selapsed, serr, sretries2, srto_ms, watch)
        r.notes.append(
            "The partition is invisible to the side whose segments get through: the server "
            "has nothing to send and no keepalive, so no timer of its own ever tests the "
            "path, and it stays ESTABLISHED after the client gave up. When it finally sends, "
            "the client's kernel, with no socket left, answers with RST "
            "(tcp_v4_send_reset()), and that RST is lost the same way: the server learns "
            "nothing and dies at its own tcp_retries2.")
    finally:
        watch.stop(r)
        topo.close()
    return r

def middlebox_idle(m, real=False, action="drop", keepalive=False):
    """A NAT or load balancer on the path forgets a flow idle past its timeout."""
    key = "nat-idle-keepalive" if keepalive else ("nat-idle-drop" if action == "drop"
                                                  else "lb-idle-rst")
    r = Result(key, {"nat-idle-drop": "A NAT forgets an idle flow: the next send hangs",
                     "lb-idle-rst": "A load balancer forgets an idle flow: RST at once",
                     "nat-idle-keepalive": "Keepalive below the NAT's idle timeout keeps "
                                           "the flow"}[key])
    topo = tfk.Topology(routed=True)
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real, retries2=4, ka_time=1, ka_intvl=1, ka_probes=3)
        retries2, ka_t = r.sysctls["tcp_retries2"], r.sysctls["tcp_keepalive_time"]
        # The box's timeout: 3 s, or three keepalive times for the probes to beat.
        timeout = 3.0 * ka_t if keepalive else 3.0
        box = f"demo-box mode=idle-timeout dport={PORT} timeout={int(timeout)}s action={action}"
        m.add(topo.router, box)
        r.step(f"a middlebox on the router forgets flows idle for {timeout:.0f} s ({box})")
        cli, srv, lst = tfk.connect(topo, PORT, keepalive=keepalive)
        la, lp = cli.getsockname()
        cli.sendall(b"hello")
        srv.recv(5)
        srv.sendall(b"hi")
        cli.recv(2)
        r.step(f"client {la}:{lp} connected through it to {topo.saddr}:{PORT}"
               + (f", with SO_KEEPALIVE (tcp_keepalive_time={ka_t} s)" if keepalive else "")
               + ", exchanged a few bytes, then went idle")

        def idle_s():
            return time.monotonic() - m.conn(topo.router, sport=lp)["last_ns"] / 1e9
        if keepalive:
            idle_for = 3 * timeout
            time.sleep(idle_for)  # an observation window: nothing may go wrong in it
            r.step(f"{idle_for:.0f} s with no data")
        else:
            tfk.wait_until(lambda: idle_s() > timeout + 0.2, timeout + 30, "the box's timeout",
                           interval=0.1)
            r.step(f"idle for {idle_s():.1f} s: the box has forgotten the flow")
        before = m.conn(topo.router, sport=lp)
        rto_ms = tfk.tcp_info(cli)["rto_us"] // 1000
        t0 = time.monotonic()
        if action == "drop" and not keepalive:
            err, sent = tfk.send_until_error(cli, timeout=3600)
            elapsed = time.monotonic() - t0
            r.step("client sends; its send() fails")
            r.saw["client"] = f"send() failed with {_errname(err)} after {elapsed:.3f} s"
            r.saw["client_after_s"] = round(elapsed, 3)
        else:
            cli.sendall(b"anyone there?")
            r.step("client sends")
            srv.settimeout(10)
            cli.settimeout(10)
            err = serr = 0
            heard = b""
            try:
                if action == "rst":
                    cli.recv(100)
                else:
                    heard = srv.recv(100)
                    srv.sendall(b"yes")
                    cli.recv(100)
            except OSError as e:
                err = e.errno
            elapsed = time.monotonic() - t0
            r.saw["client"] = (f"the exchange went through in {elapsed:.3f} s" if not err else
                               f"recv() failed with {_errname(err)} after {elapsed:.3f} s")
            r.saw["client_after_s"] = round(elapsed, 3)
            if action == "rst":
                try:
                    heard = srv.recv(100)
                except OSError as e:
                    serr = e.errno
        if action == "drop" and not keepalive:
            srv.setblocking(False)
            try:
                heard = srv.recv(1 << 20)
            except BlockingIOError:
                heard = b""
        row = _collect(r, m, topo.router, PORT, sport=lp)
        f = m.fault("demo-box")
        if action == "rst":
            r.saw["server"] = (f"recv() failed with {_errname(serr)}" if serr else
                               f"recv() got {heard!r}")
        elif not keepalive:
            r.saw["server"] = (f"{'ESTABLISHED' if tfk.tcp_state(srv) == tfk.TCP_ESTABLISHED else 'CLOSED'}"
                               f", heard {len(heard)} bytes after the idle")
        dropped = row["o_dropped"] + row["r_dropped"]
        if keepalive:
            probes = [e for e in r.timeline if e["event"] == "keepalive" and e["dir"] == "o"]
            gaps = [round((b["ts_ns"] - a["ts_ns"]) / 1e9, 3) for a, b in zip(probes, probes[1:])]
            r.saw["probe_gaps_s"] = gaps
            stall = watch.within(t0 - 3 * timeout, t0)
            r.check(f"keepalive probes in {3 * timeout:.0f} s idle: one per "
                    f"tcp_keepalive_time={ka_t} s, at least one per box timeout", ">= 3",
                    row["o_keepalive"], row["o_keepalive"] >= 3)
            r.check(f"longest gap between probes, below the box's {timeout:.0f} s"
                    + _stalled(stall), f"~{ka_t} s", max(gaps, default=None),
                    bool(gaps) and max(gaps) < timeout + stall)
            r.check("probes answered through the box", row["o_keepalive"],
                    row["r_keepalive_ack"])
            r.check("the exchange after the idle", "0 (no error)",
                    _errname(err) if err else "0 (no error)")
            r.check("segments the box dropped", 0, int(f["dropped"]))
            r.notes.append(
                "Each keepalive probe (tcp_keepalive_timer(), tcp_keepalive_time after the "
                "last segment received) and its ACK pass the box and restart its idle clock: "
                "a keepalive time below the box's timeout keeps the flow known, which is why "
                "long-lived connections through NATs and load balancers set it so.")
        elif action == "drop":
            rtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "o"]
            _rto_death_checks(r, "", rtx, t0, elapsed, err, retries2, rto_ms, watch)
            r.check("segments the box dropped: every one the client sent after the idle",
                    row["o_segs"] - before["o_segs"], int(f["dropped"]))
            r.check("bytes the server heard after the idle", 0, len(heard))
            r.check("RSTs from the box", 0, int(f["rst_sent"]))
            r.notes.append(
                "The box forgot the flow: its segments now match no state and are dropped, "
                "as many NATs do. To the client this is a cut like any other: it "
                "retransmits with the RTO doubling until tcp_write_timeout() gives up at "
                "tcp_retries2. The server hears nothing and stays ESTABLISHED.")
        else:
            r.check("client errno", "ECONNRESET", _errname(err))
            r.check(f"client learns at once: within one RTO ({rto_ms} ms)"
                    + _stalled(watch.within(t0, t0 + elapsed)), f"< {rto_ms / 1000:.3f} s",
                    round(elapsed, 3), elapsed < rto_ms / 1000 + watch.within(t0, t0 + elapsed))
            r.check("server errno", "ECONNRESET", _errname(serr))
            r.check("RSTs the box sent, one to each end", 2, int(f["rst_sent"]))
            inj = sorted({e["dir"] for e in r.timeline if e["event"] == "rst-injected"})
            r.check("on the timeline: rst-injected toward", "o, r", ", ".join(inj))
            r.check("segments the box dropped: the one that found the flow forgotten", 1,
                    int(f["dropped"]))
            r.notes.append(
                "The box answers the first segment of a flow it has forgotten with an RST "
                "to each end, as some cloud load balancers do after their idle timeout (350 s "
                "on AWS's): the client's RST carries the sequence its segment acknowledged, "
                "the server's the one the client sent up to; each kernel accepts its RST "
                "(tcp_validate_incoming(), an RST at rcv_nxt) and fails the socket with "
                "ECONNRESET (tcp_reset()).")
    finally:
        watch.stop(r)
        topo.close()
    return r


def _moved(before, after, keys):
    """The counters among keys that moved: {key: after - before}."""
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys
            if after.get(k, 0) != before.get(k, 0)}


SPIKE_MIBS = ("TcpRetransSegs", "TcpExtTCPLossProbes", "TcpExtTCPTimeouts",
              "TcpExtTCPLossUndo", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKUndo",
              "TcpExtTCPFullUndo", "TcpExtTCPPartialUndo", "TcpExtTCPLossProbeRecovery",
              "TcpExtTCPDSACKRecv", "TcpExtTCPDSACKOldSent", "TcpExtTCPDSACKIgnoredOld",
              "TcpExtTCPDSACKIgnoredNoUndo")
TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK = 1, 2     # linux/tcp.h, tcpi_options


def _arrived(sock):
    """When (monotonic s) the socket's kernel last took in new data: as the
    kernel saw it, however late the process came to read it (tcp_info's
    last_data_recv, in jiffies: a few ms)."""
    ms = tfk.tcp_info(sock)["last_data_recv_ms"]
    return time.monotonic() - ms / 1000


def latency_spike(m, real=False):
    """A latency spike delays an exchange past the RTO: the retransmissions
    are spurious, the receiver says so with D-SACKs, the sender undoes."""
    r = Result("latency-spike", "A latency spike on an idle-then-busy connection: "
               "a spurious RTO, undone")
    topo = tfk.Topology(routed=True)
    watch = StallWatch()
    try:
        r.sysctls = _shrink(topo.client, real)
        for k in ("tcp_early_retrans", "tcp_frto", "tcp_timestamps", "tcp_sack", "tcp_dsack",
                  "tcp_rto_min_us"):
            v = _sysctl_opt(topo.client, "net.ipv4." + k)
            if v is not None:
                r.sysctls[k] = v
        # Watch from the client's namespace: its timeline and the k columns
        # (the client socket's own tcp_info) are the sender's view.
        m.add(topo.client, f"demo-watch mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT)
        la, lp = cli.getsockname()
        cli.settimeout(10)
        srv.settimeout(10)
        for i in range(8):
            cli.sendall(b"ping %d" % i)
            srv.recv(100)
            srv.sendall(b"pong %d" % i)
            cli.recv(100)
        r.step(f"client {la}:{lp} and server {topo.saddr}:{PORT}, through the router, "
               "exchanged 8 requests and answers: the client's kernel has an RTT, and an RTO")
        time.sleep(1.0)
        info = tfk.tcp_info(cli)
        opts = info["options"]
        rto_ms, srtt_ms = info["rto_us"] / 1000, info["rtt_us"] / 1000
        rto_min_ms = r.sysctls.get("tcp_rto_min_us", TCP_RTO_MIN_MS * 1000) / 1000
        r.saw["client kernel, idle, before the spike"] = (
            f"srtt {srtt_ms:.3f} ms, rttvar {info['rttvar_us'] / 1000:.3f} ms, "
            f"RTO {rto_ms:.0f} ms (tcp_info)")
        # What the kernel will do with one segment out and no ACK: a tail
        # loss probe (tcp_schedule_loss_probe(): early_retrans 3 or 4, SACK)
        # at 2 srtt + tcp_rto_min, or at the RTO if that is sooner; the
        # probe re-arms the RTO from itself (tcp_send_loss_probe(),
        # tcp_rearm_rto()); then the RTO doubles (tcp_retransmit_timer()).
        tlp = r.sysctls["tcp_early_retrans"] in (3, 4) and bool(opts & TCPI_OPT_SACK)
        first = min(2 * srtt_ms + rto_min_ms, rto_ms) if tlp else rto_ms
        if tlp:
            sched = [first] + [first + rto_ms * ((2 << k) - 1) for k in range(5)]
        else:
            sched = [rto_ms * ((2 << k) - 1) for k in range(6)]
        # The spike: latency each way such that the answer (2 x latency
        # later) comes halfway between the first RTO and the next one.
        i_rto = 1 if tlp else 0
        lat_ms = int((sched[i_rto] + sched[i_rto + 1]) / 4)
        spike = f"demo-spike mode=delay dport={PORT} latency={lat_ms}ms duration=3s"
        cbefore, sbefore = topo.client.snmp(), topo.server.snmp()
        dsack0 = info["dsack_dups"]
        m.add(topo.router, spike)
        r.step(f"idle 1 s; then a latency spike on the router: {spike} (both directions)")
        msg = b"are you still there?"
        t0 = time.monotonic()
        cli.sendall(msg)
        heard = b""
        while len(heard) < len(msg):
            heard += srv.recv(100)
        t_heard = _arrived(srv) - t0
        srv.sendall(b"yes")
        answer = cli.recv(100)
        t_answer = _arrived(cli) - t0
        r.step(f"the client sent a request ({len(msg)} bytes); the server answered; "
               f"the answer came {t_answer:.3f} s after the request")
        # The spurious retransmissions reach the server after the original:
        # each is answered with a D-SACK, itself delayed on its way back.
        # Wait for as many as it retransmitted, or until the last copy's
        # D-SACK is overdue (the check below then says what came).
        def dsacks_in():
            i = tfk.tcp_info(cli)
            return (i["dsack_dups"] or 0) - dsack0 >= i["total_retrans"] - info["total_retrans"]
        with contextlib.suppress(tfk.Fail):
            tfk.wait_until(dsacks_in, 10, "the D-SACKs", interval=0.05)
        srv.setblocking(False)
        try:
            again = srv.recv(1 << 16)
        except BlockingIOError:
            again = b""
        cafter, safter = topo.client.snmp(), topo.server.snmp()
        info2 = tfk.tcp_info(cli)
        row = _collect(r, m, topo.client, PORT)
        rrow = m.conn(topo.router, sport=lp)
        rtl = m.timeline(topo.router, rrow["id"]) if rrow else []
        f = m.fault("demo-spike")
        m.delete("demo-spike")
        rtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "o"]
        srtx = [e for e in r.timeline if e["event"] == "retrans" and e["dir"] == "r"]
        at = [e["ts_ns"] / 1e9 - t0 for e in rtx]
        cmib, smib = _moved(cbefore, cafter, SPIKE_MIBS), _moved(sbefore, safter, SPIKE_MIBS)
        r.saw["client"] = (f"the answer {answer!r} {t_answer:.3f} s after its request; "
                           f"retransmitted it at {', '.join(f'{t:.3f}' for t in at)} s")
        r.saw["client_after_s"] = round(t_answer, 3)
        r.saw["server"] = (f"got the request {t_heard:.3f} s after it was sent, once "
                           f"({len(heard)} bytes, {len(again)} more after)")
        r.saw["client namespace nstat"] = cmib
        r.saw["server namespace nstat"] = smib
        r.saw["router"] = (f"held {rrow['o_delayed']} segments from the client and "
                           f"{rrow['r_delayed']} from the server, {lat_ms} ms each"
                           if rrow else "connection not tracked")
        if srtx:
            r.saw["server's answer"] = (
                f"delayed the same way, past the server's own RTO: retransmitted "
                f"{len(srtx)} times, undone the same way (its namespace's counters)")

        r.check("options negotiated: timestamps, SACK", "TS, SACK",
                ", ".join(n for b, n in ((TCPI_OPT_TIMESTAMPS, "TS"), (TCPI_OPT_SACK, "SACK"))
                          if opts & b) or "none")
        r.check(f"RTO before the spike >= srtt + tcp_rto_min ({srtt_ms:.1f} + {rto_min_ms:.0f} "
                "ms; __tcp_set_rto(): srtt + rttvar, rttvar >= tcp_rto_min in "
                "tcp_rtt_estimator())", f">= {srtt_ms + rto_min_ms:.1f} ms", f"{rto_ms:.0f} ms",
                rto_ms >= srtt_ms + rto_min_ms - 0.5)
        # Timer slack: a jiffy, the timer wheel's granularity (an eighth of
        # the timeout beyond 63 jiffies, kernel/time/timer.c), 30 ms of
        # scheduling, and the stalls the watch saw. Never more than 5 ms
        # early, but for the stalls: jiffies may lag a stalled guest's clock
        # when the timer is armed, and then it expires early (StallWatch).
        def late_ok(obs, exp, a, b):
            st = watch.around(a, b)
            return exp - 0.005 - st <= obs <= exp * 1.125 + 0.004 + 0.03 + st
        what0 = ("the tail loss probe: min(2 srtt + tcp_rto_min, RTO) after the send "
                 "(tcp_schedule_loss_probe())" if tlp else
                 "the first RTO: the RTO after the send (tcp_retransmit_timer())")
        obs0 = at[0] if at else None
        st = watch.around(t0, t0 + (obs0 or 0))
        r.check("first retransmission, " + what0 + " (s, within -5 ms, +12.5% + 34 ms)"
                + _stalled(st),
                round(first / 1000, 3), round(obs0, 3) if at else "none",
                bool(at) and late_ok(obs0, first / 1000, t0, t0 + obs0))
        if tlp:
            gap = at[1] - at[0] if len(at) > 1 else None
            st = watch.around(t0 + at[0], t0 + at[1]) if gap else 0
            r.check(f"the RTO fires one RTO ({rto_ms:.0f} ms, tcp_info before the send) after "
                    "the probe re-armed it (tcp_rearm_rto(), tcp_retransmit_timer()) "
                    "(s, within -5 ms, +12.5% + 34 ms)"
                    + _stalled(st), round(rto_ms / 1000, 3),
                    round(gap, 3) if gap else "no RTO",
                    gap is not None and late_ok(gap, rto_ms / 1000, t0 + at[0], t0 + at[1]))
        want_answer = 2 * lat_ms / 1000 + srtt_ms / 1000
        st = watch.around(t0, t0 + t_answer)
        r.check(f"the answer reached the client's kernel: 2 x {lat_ms} ms of spike + srtt "
                "after the request (s), + 50 ms" + _stalled(st), round(want_answer, 3),
                round(t_answer, 3),
                2 * lat_ms / 1000 - 0.01 - st <= t_answer <= want_answer + 0.05 + st)
        # The timers due before the answer is due; a stall moves the
        # answer (the router's hrtimer, the client's reading of it) against
        # the timers by up to its length: then one more or fewer may be due.
        lo = sum(t / 1000 < want_answer - st for t in sched)
        hi = sum(t / 1000 < want_answer + st for t in sched)
        r.check("retransmissions before the answer came: every timer due before 2 x latency "
                f"+ srtt (schedule {', '.join(f'{t / 1000:.3f}' for t in sched[:4])} s)"
                + _stalled(st), " to ".join(map(str, sorted({lo, hi}))), len(rtx),
                lo <= len(rtx) <= hi)
        st = watch.around(t0, t0 + t_heard)
        r.check("the original reached the server's kernel the spike's latency after the send, "
                "+ srtt, + 50 ms (s)" + _stalled(st), round((lat_ms + srtt_ms) / 1000, 3),
                round(t_heard, 3), lat_ms / 1000 - 0.01 - st <= t_heard
                <= (lat_ms + srtt_ms) / 1000 + 0.05 + st)
        held = [e for e in rtl if e["event"] == "retrans" and e["dir"] == "o"
                and "delayed" in str(e.get("flags", ""))]
        r.check("the retransmissions held by the spike on the router (its timeline)",
                len(rtx), len(held))
        r.check("retransmissions: the client's timeline vs TcpRetransSegs (client namespace)",
                len(rtx), cmib.get("TcpRetransSegs", 0))
        r.check("D-SACKs the server sent (TcpExtTCPDSACKOldSent, server namespace; "
                "tcp_send_dupack(), tcp_dsack_set()): one per spurious copy",
                len(rtx), smib.get("TcpExtTCPDSACKOldSent", 0))
        dd = (info2["dsack_dups"] - dsack0) if info2["dsack_dups"] is not None else None
        r.check("D-SACKs the client counted: tcpi_dsack_dups, its ko_dsack_dups column "
                "(tcp_check_dsack(), tcp_dsack_seen())", len(rtx),
                f"{dd}, {row.get('ko_dsack_dups')}" if dd is not None else "n/a",
                dd == len(rtx) and row.get("ko_dsack_dups") == info2["dsack_dups"])
        if tlp:
            r.check("client namespace: TcpExtTCPLossProbes, TcpExtTCPTimeouts", "1, 1",
                    f"{cmib.get('TcpExtTCPLossProbes', 0)}, {cmib.get('TcpExtTCPTimeouts', 0)}")
        # The undo. The answer ACKs everything and echoes the original's
        # timestamp, older than the first retransmission (tp->retrans_stamp):
        # tcp_process_loss() -> tcp_try_undo_loss(sk, false) -> tcp_may_undo()
        # -> tcp_packet_delayed(): TCPLossUndo, as 6.1 and 7.3 count it.
        # TCPSpuriousRTOs is counted only by F-RTO's undo (never-retransmitted
        # data acked: nothing else was in flight), TCPDSACKUndo only by
        # tcp_try_undo_dsack() in Recovery or Disorder, and the D-SACKs come
        # after the undo has cleared undo_marker.
        undo = tuple(cmib.get(k, 0) for k in ("TcpExtTCPLossUndo", "TcpExtTCPSpuriousRTOs",
                                               "TcpExtTCPDSACKUndo"))
        r.check("the kernel's undo, client namespace: TCPLossUndo, TCPSpuriousRTOs, "
                "TCPDSACKUndo (by the timestamp echo: tcp_try_undo_loss(), "
                "tcp_packet_delayed())", "1, 0, 0", ", ".join(map(str, undo)))
        r.check("ssthresh and cwnd after the undo: as before the spike (tcp_enter_loss() "
                "had cut them; tcp_undo_cwnd_reduction() restores them)",
                f"{info['snd_ssthresh']}, >= {info['snd_cwnd']}",
                f"{info2['snd_ssthresh']}, {info2['snd_cwnd']}",
                info2["snd_ssthresh"] == info["snd_ssthresh"]
                and info2["snd_cwnd"] >= info["snd_cwnd"])
        r.saw["client kernel after"] = (
            f"srtt {info2['rtt_us'] / 1000:.3f} ms, RTO {info2['rto_us'] / 1000:.0f} ms: the "
            "spike's RTT, measured from the echoed timestamp, is in them now")
        r.check("data delivered once, no error", f"{msg!r} once, then nothing; {b'yes'!r}",
                f"{heard!r}{', then ' + repr(again) if again else ' once, then nothing'}; "
                f"{answer!r}", heard == msg and not again and answer == b"yes")
        r.check("segments the spike dropped", 0, int(f["dropped"]))
        r.notes.append(
            f"For {lat_ms} ms each way the path is slow, not broken. The client's kernel, "
            f"which had measured a {srtt_ms:.1f} ms RTT, gives up waiting after its RTO: a "
            "tail loss probe, then the RTO itself, each a copy of a segment still on its "
            "way. The server's answer ACKs the original and echoes its timestamp, older "
            "than the first retransmission: the kernel concludes the RTO was spurious and "
            "restores cwnd and ssthresh (tcp_try_undo_loss(), counted as TCPLossUndo). The "
            "copies reach the server after the original; each is answered with a D-SACK "
            "(RFC 2883), which the client counts in tcpi_dsack_dups.")
    finally:
        watch.stop(r)
        topo.close()
    return r

SCENARIOS = [
    ("peer-killed", "Peer process killed (kill -9): FIN, EOF",
     lambda m, real: peer_killed(m, real)),
    ("peer-killed-unread", "Peer process killed with unread data: RST, ECONNRESET",
     lambda m, real: peer_killed(m, real, unread=True)),
    ("cut-transfer", "Network cut during a transfer: RTO doubling, ETIMEDOUT at tcp_retries2",
     lambda m, real: cut_during_transfer(m, real)),
    ("cut-transfer-healed", "The same cut, healed after 2 s: the transfer completes",
     lambda m, real: cut_during_transfer(m, real, heal_after=2000)),
    ("cut-idle-keepalive", "Network cut on an idle connection, keepalive on: ETIMEDOUT",
     lambda m, real: cut_idle(m, real, keepalive=True)),
    ("cut-idle-no-keepalive", "Network cut on an idle connection, keepalive off: nothing",
     lambda m, real: cut_idle(m, real, keepalive=False)),
    ("power-off-reboot", "Server power-off and reboot: the client's next send gets RST",
     lambda m, real: power_off_reboot(m, real)),
    ("connect-timeout", "connect() to a host that is down: SYN retries, ETIMEDOUT",
     lambda m, real: connect_timeout(m, real)),
    ("connect-refused", "connect() to a port where nothing listens: ECONNREFUSED at once",
     lambda m, real: connect_refused(m, real)),
    ("zero-window", "A peer that stops reading: persist probes, then a cut: ETIMEDOUT",
     lambda m, real: zero_window(m, real)),
    ("user-timeout", "Network cut during a transfer with TCP_USER_TIMEOUT: fails at it",
     lambda m, real: user_timeout(m, real)),
    ("power-off-keepalive", "Server power-off and reboot, keepalive on: RST to the probe",
     lambda m, real: power_off_keepalive(m, real)),
    ("oneway-partition", "One-way partition: one side retransmits, the other hears nothing",
     lambda m, real: oneway_partition(m, real)),
    ("nat-idle-drop", "A NAT forgets an idle flow: the next send hangs until tcp_retries2",
     lambda m, real: middlebox_idle(m, real, "drop")),
    ("lb-idle-rst", "A load balancer forgets an idle flow: the next send draws RSTs",
     lambda m, real: middlebox_idle(m, real, "rst")),
    ("nat-idle-keepalive", "Keepalive below a NAT's idle timeout keeps the flow alive",
     lambda m, real: middlebox_idle(m, real, "drop", keepalive=True)),
    ("latency-spike", "A latency spike on an idle-then-busy connection: a spurious RTO, undone",
     lambda m, real: latency_spike(m, real)),
]


def find(names):
    """The SCENARIOS entries named, in the list's order; raise KeyError
    naming the first unknown one."""
    keys = [k for k, _, _ in SCENARIOS]
    for n in names:
        if n not in keys:
            raise KeyError(n)
    return [s for s in SCENARIOS if not names or s[0] in names]
