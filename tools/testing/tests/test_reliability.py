# SPDX-License-Identifier: GPL-2.0
"""Reliability: faults under load, unload under traffic, table pressure,
namespace teardown. `make check` runs the short sizes (TCPFAULT_QUICK=1);
`make stress` the full ones. On the debug kernel any KASAN, lockdep or
kmemleak report fails the run (the harness checks).
"""
import os
import random
import resource
import selectors
import socket
import struct
import threading
import time

import tfk
from tfk import check, check_eq

QUICK = bool(os.environ.get("TCPFAULT_QUICK"))
PORT = 8001


def size(quick, full):
    return quick if QUICK else full


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
        self.lst = topo.server.socket()
        self.lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lst.bind((topo.saddr, PORT))
        self.lst.listen(4096)
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
            m.write(None, "del", name)
            err = m.write(topo.client, "add", f"{name} mode={mode} dport={port}")
            if err and err.errno != 17:
                errors.append(f"add {name}: {err}")
            if rng.random() < 0.5:
                m.write(None, f"faults/{name}/enabled", rng.choice("01"))
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
        for name in os.listdir(f"{tfk.SYSFS}/faults"):
            if name.startswith("ch"):
                m.write(None, "del", name)
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
        check(int(m.attr("faults_count")) == 3, "faults alive before the deletion")
        topo.close()
        tfk.wait_until(lambda: m.attr("faults_count") == "0", 30, "faults gone with their namespaces")
        tfk.wait_until(lambda: m.attr("conns") == "0", 30, "connections gone with their namespaces")
