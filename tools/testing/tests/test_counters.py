# SPDX-License-Identifier: GPL-2.0
"""Per-connection counters and timelines against independent witnesses:
the namespace's MIB counters (what nstat reads), tcp_info, a packet
capture, the application's errno, and the kernel's own tracing.
"""
import errno
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import tfk
from tfk import check, check_eq

PORT = 6001


def _events(m, ns, conn_id, name, direction="o"):
    return [e for e in m.timeline(ns, conn_id) if e["event"] == name and e["dir"] == direction]


def _keepalive(m, enabled):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, ka_time=1, ka_intvl=1, ka_probes=3)
        m.add(topo.client, f"cut mode=link-down dst={topo.saddr} dport={PORT} enabled=0")
        cli, srv, lst = tfk.connect(topo, PORT, keepalive=enabled)
        cli.sendall(b"hi")
        srv.recv(2)
        srv.sendall(b"ho")
        cli.recv(2)
        # Idle, all acknowledged: now cut the cable.
        tfk.wait_until(lambda: tfk.tcp_info(cli)["state"] == tfk.TCP_ESTABLISHED, 5, "established")
        before = topo.client.snmp()
        m.set_enabled("cut", True)
        # Probes every second after one second idle, three of them, then the
        # connection dies at the fourth interval.
        window = 1 + (3 + 1) * 1
        if enabled:
            tfk.wait_until(lambda: tfk.tcp_state(cli) == tfk.TCP_CLOSE, window + 10,
                           "keepalive to give up")
            check_eq(tfk.sock_error(cli), errno.ETIMEDOUT, "client socket error")
        else:
            time.sleep(window + 2)  # an observation window: nothing may happen in it
            check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "keepalive off: still established")
        after = topo.client.snmp()
        row = m.conn(topo.client, dport=PORT)
        probes = after["TcpExtTCPKeepAlive"] - before["TcpExtTCPKeepAlive"]
        want = 3 if enabled else 0
        check_eq(probes, want, "TcpExtTCPKeepAlive delta")
        check_eq(row["o_keepalive"], want, "probes on the wire")
        check_eq(row["o_keepalive_ack"], 0, "no probe was answered")
        ka = _events(m, topo.client, row["id"], "keepalive")
        check_eq(len(ka), want, "keepalive events on the timeline")
        gaps = [(b["ts_ns"] - a["ts_ns"]) / 1e9 for a, b in zip(ka, ka[1:])]
        for g in gaps:
            check(0.8 <= g <= 1.6, f"keepalive interval {g:.2f}s, want ~1s (tcp_keepalive_intvl)")
        if enabled:
            # The final RST went out too, and the cut swallowed it.
            check_eq(row["o_rst"], 1, "RST sent when keepalive gave up")
            check(row["o_dropped"] >= 4, "probes and RST dropped")
    finally:
        topo.close()


def test_keepalive_on_idle_cut(m):
    _keepalive(m, True)


def test_keepalive_off_idle_cut(m):
    _keepalive(m, False)


def test_keepalive_answered(m):
    """Without a fault, each probe is acknowledged, and both are counted."""
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, ka_time=1, ka_intvl=1, ka_probes=3)
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT, keepalive=True)
        before = topo.client.snmp()
        tfk.wait_until(lambda: (m.conn(topo.client, dport=PORT) or {}).get("o_keepalive", 0) >= 3,
                       15, "three keepalive probes")
        row = m.conn(topo.client, dport=PORT)
        after = topo.client.snmp()
        check(row["o_keepalive"] <= after["TcpExtTCPKeepAlive"] - before["TcpExtTCPKeepAlive"] + 1,
              "probes vs MIB")
        check(row["r_keepalive_ack"] >= row["o_keepalive"] - 1, "probes answered by the peer")
        check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "connection alive")
    finally:
        topo.close()


SERVER = """
import socket, sys, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
print("accepted", flush=True)
time.sleep(3600)
"""


def _peer_killed(m, unread):
    topo = tfk.Topology()
    try:
        m.add(topo.client, f"w mode=watch dport={PORT}")
        p = subprocess.Popen(["ip", "netns", "exec", topo.server.name, "python3", "-c", SERVER,
                              topo.saddr, str(PORT)], stdout=subprocess.PIPE, text=True)
        try:
            check_eq(p.stdout.readline().strip(), "ready", "server up")
            cli = topo.client.socket()
            cli.settimeout(10)
            cli.connect((topo.saddr, PORT))
            check_eq(p.stdout.readline().strip(), "accepted", "server accepted")
            if unread:
                cli.sendall(b"never read" * 10)
                # SYN-ACK, then the ACK of the data.
                tfk.wait_until(lambda: m.conn(topo.client, dport=PORT)["r_segs"] >= 2, 5,
                               "the data acknowledged")
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        finally:
            if p.poll() is None:
                p.kill()
        # The dead process's kernel closes for it: FIN, or RST if data was unread.
        if unread:
            try:
                cli.recv(10)
                raise tfk.Fail("recv returned instead of ECONNRESET")
            except ConnectionResetError:
                pass
        else:
            check_eq(cli.recv(10), b"", "EOF after the peer's FIN")
        row = tfk.wait_until(lambda: m.conn(topo.client, dport=PORT), 5, "tracked")
        check_eq((row["r_fin"], row["r_rst"]), (0, 1) if unread else (1, 0),
                 "FIN/RST from the killed peer")
        ev = [e["event"] for e in m.timeline(topo.client, row["id"]) if e["dir"] == "r"]
        check(("rst" if unread else "fin") in ev, f"timeline: {ev}")
    finally:
        topo.close()


def test_peer_killed_fin(m):
    _peer_killed(m, unread=False)


def test_peer_killed_with_unread_data_rst(m):
    _peer_killed(m, unread=True)


def _pcap(path):
    """(src, seq, payload_len) of each IPv4 TCP packet in an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    check(magic in (0xa1b2c3d4, 0xa1b23c4d), "pcap magic")
    link = struct.unpack("<I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        l2 = 14 if link == 1 else 16
        ip = pkt[l2:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:]
        doff = (tcp[12] >> 4) * 4
        seq = struct.unpack("!I", tcp[4:8])[0]
        out.append((socket.inet_ntoa(ip[12:16]), seq, tot - ihl - doff, tcp[13]))
    return out


def test_routed_counts_match_capture(m):
    topo = tfk.Topology(routed=True)
    cap = None
    try:
        tfk.shrink_tcp(topo.client, retries2=4)
        pcap = "/tmp/tcpfault-client.pcap"
        dev = topo.client.sh("ip -o link show type veth | cut -d: -f2 | cut -d@ -f1").strip()
        cap = subprocess.Popen(["ip", "netns", "exec", topo.client.name, "tcpdump", "-i", dev,
                                "-U", "-s", "128", "-w", pcap, "tcp", "port", str(PORT)],
                               stderr=subprocess.PIPE, text=True)
        check("listening on" in cap.stderr.readline(), "tcpdump started")
        cli, srv, lst = tfk.connect(topo, PORT)
        la, lp = cli.getsockname()
        m.add(topo.router, f"cut mode=link-down src={la} sport={lp} dport={PORT}")
        before = topo.client.snmp()
        try:
            cli.settimeout(60)
            while True:
                cli.send(b"r" * 65536)
        except OSError as e:
            check_eq(e.errno, errno.ETIMEDOUT, "writer's errno")
        after = topo.client.snmp()
        cap.send_signal(signal.SIGINT)
        cap.wait(10)
        row = m.conn(topo.router, dport=PORT)
        pkts = [p for p in _pcap(pcap) if p[0] == topo.caddr]
        hi, rtx = None, 0
        for src, seq, ln, flags in pkts:
            end = (seq + ln) & 0xffffffff
            if ln and hi is not None and ((seq - hi) & 0xffffffff) >= 0x80000000:
                rtx += 1
            if hi is None or ((end - hi) & 0xffffffff) < 0x80000000:
                hi = end
        events = _events(m, topo.router, row["id"], "retrans")
        check_eq(len(events), rtx, "retransmissions: router timeline vs client-side capture")
        check_eq(row["o_retrans"], after["TcpRetransSegs"] - before["TcpRetransSegs"],
                 "router's count vs the client's TcpRetransSegs")
        check(rtx >= 4, f"retransmissions in the capture: {rtx}")
    finally:
        if cap and cap.poll() is None:
            cap.kill()
        topo.close()


def test_kernel_view_of_local_socket(m):
    topo = tfk.Topology()
    try:
        tfk.shrink_tcp(topo.client, retries2=10)
        cli, srv, lst = tfk.connect(topo, PORT)
        la, lp = cli.getsockname()
        m.add(topo.client, f"ow mode=oneway src={la} sport={lp} dport={PORT}")
        s = threading.Thread(target=lambda: tfk.send_until_error(cli, total=300000, timeout=30),
                             daemon=True)
        s.start()
        tfk.wait_until(lambda: tfk.tcp_info(cli)["total_retrans"] >= 3, 20, "retransmissions")
        lo = tfk.tcp_info(cli)
        row = m.conn(topo.client, dport=PORT)
        hi = tfk.tcp_info(cli)
        check(lo["total_retrans"] <= row["ko_total_retrans"] <= hi["total_retrans"],
              f"ko_total_retrans {row['ko_total_retrans']} vs tcp_info {lo['total_retrans']}..{hi['total_retrans']}")
        check(lo["total_retrans"] <= row["o_retrans"] <= hi["total_retrans"],
              f"o_retrans {row['o_retrans']} vs tcp_info {lo['total_retrans']}..{hi['total_retrans']}")
        check(row["ko_rto_ms"] >= 200, f"RTO {row['ko_rto_ms']} ms")
        check(row["ko_backoff"] >= 1, "backoff")
        # The server's socket lives in another namespace: no kernel view here.
        check_eq(row["kr_total_retrans"], "-", "server socket is not local to the client's namespace")
        m.delete("ow")
        s.join(30)
    finally:
        topo.close()


def test_tracepoints(m):
    tr = "/sys/kernel/tracing"
    if not os.path.isdir(f"{tr}/events/tcpfault"):
        raise tfk.Fail("no tcpfault events in tracefs")
    topo = tfk.Topology()
    try:
        with open(f"{tr}/trace", "w") as f:
            f.write("")
        for ev in ("tcpfault_drop", "tcpfault_event", "tcpfault_fault_state", "tcpfault_inject"):
            with open(f"{tr}/events/tcpfault/{ev}/enable", "w") as f:
                f.write("1")
        cli, srv, lst = tfk.connect(topo, PORT)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        cli.send(b"x")
        try:
            cli.recv(1)
        except ConnectionResetError:
            pass
        with open(f"{tr}/events/tcpfault/enable", "w") as f:
            f.write("0")
        with open(f"{tr}/trace") as f:
            text = f.read()
        tup = f"[::ffff:{topo.caddr}]:{cli.getsockname()[1]} -> [::ffff:{topo.saddr}]:{PORT}"
        check("tcpfault_fault_state:" in text and "disabled -> active" in text, "fault_state")
        check("tcpfault_drop:" in text and "reset" in text and tup in text, "drop with the tuple")
        check("tcpfault_inject:" in text and "rst" in text, "inject")
        check("tcpfault_event:" in text and "rst-injected" in text, "event")
    finally:
        topo.close()


def test_global_stats_and_track_all(m):
    topo = tfk.Topology()
    try:
        cli, srv, lst = tfk.connect(topo, PORT)
        cli.sendall(b"a")
        srv.recv(1)
        check_eq(m.table(topo.client, "conns"), [], "nothing tracked without a fault")
        m.write(None, "track_all", "1")
        check_eq(m.attr("track_all"), "1", "track_all switch")
        cli.sendall(b"b")
        srv.recv(1)
        rows = tfk.wait_until(lambda: m.table(topo.client, "conns"), 5, "tracked with track_all")
        check_eq(len(rows), 1, "one connection in the client namespace")
        n = int(m.attr("conns"))
        check(n >= 2, "client and server namespaces both track it")
        check_eq(int(m.attr("conn_memory_bytes")),
                 n * int(m.attr("conn_entry_bytes")) + int(m.attr("conn_buckets")) * 8,
                 "memory figure")
        check(int(m.attr("packets_seen")) >= 4, "packets_seen")
        m.write(None, "track_all", "0")
    finally:
        topo.close()
