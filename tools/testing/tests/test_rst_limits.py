# SPDX-License-Identifier: GPL-2.0
"""The documented limits of the RSTs tcpfault injects (README, "Where
injected RSTs go, and their limits"), one test each, against real TCP: so
that the README cannot drift from what the code does. A test here asserts
the limit itself; one that starts failing means the code got better (or
worse) than the README says, and both must change together.
"""
import errno
import subprocess
import socket
import struct

import tfk
from tfk import check, check_eq

PORT = 5401
TCP_MD5SIG = 14            # linux/tcp.h
SO_BINDTODEVICE = 25


def _expect_reset(name, sk, timeout=5):
    sk.settimeout(timeout)
    try:
        data = sk.recv(100)
        raise tfk.Fail(f"{name}: recv returned {data!r} instead of ECONNRESET")
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise tfk.Fail(f"{name}: no RST arrived within {timeout}s")


def _expect_silence(name, sk, timeout=2):
    """Nothing arrives on sk, neither data nor an RST, for timeout seconds."""
    sk.settimeout(timeout)
    try:
        data = sk.recv(100)
        raise tfk.Fail(f"{name}: recv returned {data!r}, want silence")
    except ConnectionResetError:
        raise tfk.Fail(f"{name}: the connection was reset")
    except socket.timeout:
        pass


def _tracked_both_ways(m, ns, topo_cli, topo_srv, cli, srv):
    """Exchange data both ways and wait until the watch fault's entry knows
    both directions: a reset fault then sends its RSTs at once."""
    cli.sendall(b"ping")
    srv.settimeout(5)
    check_eq(srv.recv(4), b"ping", "client -> server")
    srv.sendall(b"pong")
    cli.settimeout(5)
    check_eq(cli.recv(4), b"pong", "server -> client")
    tfk.wait_until(lambda: (m.conn(ns, dport=PORT) or {}).get("state") == "ESTABLISHED", 5,
                   "tracked as established")


# ---- TCP-MD5 -----------------------------------------------------------------


def _md5(sock, family, addr, key=b"tcpfault-md5-key"):
    """setsockopt(TCP_MD5SIG): struct tcp_md5sig for the peer addr."""
    if family == socket.AF_INET:
        ss = struct.pack("=H", family) + struct.pack("!H", 0) + socket.inet_aton(addr)
    else:
        ss = struct.pack("=H", family) + struct.pack("!HI", 0, 0) + \
            socket.inet_pton(socket.AF_INET6, addr) + struct.pack("=I", 0)
    ss = ss.ljust(128, b"\0")
    val = ss + struct.pack("=BBHi", 0, 0, len(key), 0) + key.ljust(80, b"\0")
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, val)


def _need_md5():
    """Skip unless the kernel has TCP-MD5 (CONFIG_TCP_MD5SIG)."""
    with socket.socket() as s:
        try:
            _md5(s, socket.AF_INET, "127.0.0.1")
        except OSError as e:
            if e.errno in (errno.ENOPROTOOPT, errno.EINVAL):
                raise tfk.Skip(f"no TCP-MD5 in this kernel (CONFIG_TCP_MD5SIG): {e}")
            raise


@tfk.needs(_need_md5)
def test_md5_connection_drops_the_rsts(m):
    """README: an endpoint whose connection uses TCP-MD5 drops tcpfault's
    unsigned RSTs (TcpExtTCPMD5NotFound counts them), so a reset fault does
    not reset it; tcpfault swallows its later segments as after any reset
    it sent, and the connection ends as under a cut: ETIMEDOUT."""
    topo = tfk.Topology()
    try:
        lst = topo.server.socket()
        _md5(lst, socket.AF_INET, topo.caddr)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((topo.saddr, PORT))
        lst.listen(4)
        cli = topo.client.socket()
        _md5(cli, socket.AF_INET, topo.saddr)
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli.settimeout(10)
        cli.connect((topo.saddr, PORT))
        lst.settimeout(10)
        srv, _ = lst.accept()
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)
        c0, s0 = topo.client.snmp(), topo.server.snmp()
        check_eq(c0["TcpExtTCPMD5NotFound"] + s0["TcpExtTCPMD5NotFound"], 0,
                 "MD5 drops before the fault")
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        # Each endpoint received its unsigned RST and dropped it.
        for who, ns in (("client", topo.client), ("server", topo.server)):
            tfk.wait_until(lambda: ns.snmp()["TcpExtTCPMD5NotFound"] >= 1, 5,
                           f"the {who} to drop the unsigned RST (TcpExtTCPMD5NotFound)")
        check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "the client socket after the RST")
        check_eq(tfk.tcp_state(srv), tfk.TCP_ESTABLISHED, "the server socket after the RST")
        # Not reset, not healthy either: the fault swallows what follows.
        tfk.shrink_tcp(topo.client, retries2=3)
        cli.send(b"after the reset")
        _expect_silence("server", srv)
        err, _ = tfk.send_until_error(cli, timeout=30)
        check_eq(errno.errorcode.get(err, err), "ETIMEDOUT", "the client's end")
        check(int(m.fault("kill")["dropped"]) >= 1, "the fault dropped the later segments")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected in all")
        for sk in (cli, srv, lst):
            sk.close()
    finally:
        topo.close()


@tfk.needs(_need_md5)
def test_md5_connection_outlives_a_rebooted_host(m):
    """README: a rebooted remote host's RSTs are dropped by an endpoint
    using TCP-MD5; its segments to the host are dropped too, and it ends
    with ETIMEDOUT."""
    topo = tfk.Topology()
    try:
        lst = topo.server.socket()
        _md5(lst, socket.AF_INET, topo.caddr)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((topo.saddr, PORT))
        lst.listen(4)
        cli = topo.client.socket()
        _md5(cli, socket.AF_INET, topo.saddr)
        cli.settimeout(10)
        cli.connect((topo.saddr, PORT))
        lst.settimeout(10)
        srv, _ = lst.accept()
        m.add(topo.client, f"pw mode=power-off host={topo.saddr}")
        m.set_enabled("pw", False)
        check_eq(m.fault("pw")["state"], "rebooted", "state after power-on")
        tfk.shrink_tcp(topo.client, retries2=3)
        err, _ = tfk.send_until_error(cli, timeout=30)
        check_eq(errno.errorcode.get(err, err), "ETIMEDOUT", "the client's end")
        check(int(m.fault("pw")["rst_sent"]) >= 2, "the rebooted host answered each segment")
        check_eq(topo.client.snmp()["TcpExtTCPMD5NotFound"], int(m.fault("pw")["rst_sent"]),
                 "unsigned RSTs the client dropped")
        for sk in (cli, srv, lst):
            sk.close()
    finally:
        topo.close()


# ---- IPv6 link-local ---------------------------------------------------------


def _link_local_conn(topo, extra_link_on=()):
    """An IPv6 link-local connection fe80::1 -> fe80::2 over the topology's
    link. Namespaces in extra_link_on get a second link whose fe80::/64
    route is preferred: a link-local destination routed without its
    interface leaves through it and is lost."""
    n = topo.link_ids[0]
    ifc = {"client": f"v{n}a", "server": f"v{n}b"}
    for role, me, peer, pmac in (("client", "1", "2", "0b"), ("server", "2", "1", "0a")):
        ns = getattr(topo, role)
        cmds = [f"addr add fe80::{me}/64 dev {ifc[role]} nodad",
                f"neigh replace fe80::{peer} lladdr 02:00:00:00:{n % 256:02x}:{pmac}"
                f" dev {ifc[role]} nud permanent"]
        if role in extra_link_on:
            cmds += ["link add tfd0 type veth peer name tfd1",
                     "addr add fe80::9/64 dev tfd0 nodad", "link set tfd1 up",
                     "link set tfd0 up", "route add fe80::/64 dev tfd0 metric 1"]
        ns.ip_batch(cmds)
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
    return cli, srv, lst


def test_link_local_reset_now_one_link(m):
    """README: an RST sent at once to a link-local connection tracked both
    ways has no segment to learn its interface from; on a host with one
    link it still arrives, both ways."""
    topo = tfk.Topology()
    try:
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = _link_local_conn(topo)
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        _expect_reset("client", cli)
        _expect_reset("server", srv)
    finally:
        topo.close()


def test_link_local_reset_now_two_links_loses_one(m):
    """README: on a host with more than one link, that RST may leave through
    the wrong one and be lost. The fault's host (the client) prefers its
    other link for fe80::/64: the RST to the peer goes there and never
    arrives; the one to the local endpoint is delivered."""
    topo = tfk.Topology()
    try:
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = _link_local_conn(topo, extra_link_on=("client",))
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        _expect_reset("client", cli)
        _expect_silence("server", srv)
        check_eq(tfk.tcp_state(srv), tfk.TCP_ESTABLISHED, "the server socket")
    finally:
        topo.close()


# ---- VRF ---------------------------------------------------------------------


def _vrf(topo):
    """Put the client's link in a VRF (table 10); return the VRF's name."""
    subprocess.run(["modprobe", "-q", "vrf"])     # built in, or absent: link add says
    n = topo.link_ids[0]
    dev = f"v{n}a"
    try:
        topo.client.ip("link add vrf-x type vrf table 10")
    except tfk.Fail:
        raise tfk.Skip("no VRF support in this kernel (CONFIG_NET_VRF)")
    topo.client.ip_batch(["link set vrf-x up", f"link set {dev} master vrf-x",
                          f"neigh replace {topo.saddr} lladdr 02:00:00:00:{n % 256:02x}:0b"
                          f" dev {dev} nud permanent"])
    return "vrf-x"


def _vrf_conn(topo, vrf):
    lst = tfk.listen(topo, PORT)
    cli = topo.client.socket()
    cli.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, vrf.encode())
    cli.settimeout(10)
    cli.connect((topo.saddr, PORT))
    lst.settimeout(10)
    srv, _ = lst.accept()
    return cli, srv, lst


@tfk.needs(tfk.modules("vrf"))
def test_vrf_counts_each_segment_once(m):
    """A VRF runs the hooks a second time for its slaves' segments, with its
    own device; each segment still counts once, and none as a retransmission."""
    topo = tfk.Topology()
    try:
        vrf = _vrf(topo)
        m.add(topo.client, f"w mode=watch dport={PORT}")
        c0 = topo.client.snmp()
        cli, srv, lst = _vrf_conn(topo, vrf)
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)

        def counts():
            c1 = topo.client.snmp()
            row = m.conn(topo.client, dport=PORT)
            return (row["o_segs"], row["r_segs"]), \
                (c1["TcpOutSegs"] - c0["TcpOutSegs"], c1["TcpInSegs"] - c0["TcpInSegs"]), row
        try:
            tfk.wait_until(lambda: counts()[0] == counts()[1], 3, "the counts to agree")
        except tfk.Fail:
            got, want, row = counts()
            raise tfk.Fail(f"(o_segs, r_segs) {got}, kernel (TcpOutSegs, TcpInSegs) {want}: {row}")
        row = counts()[2]
        check_eq((row["o_retrans"], row["o_syn_retry"], row["r_retrans"], row["r_syn_retry"]),
                 (0, 0, 0, 0), "retransmissions counted")
        check_eq(int(m.fault("w")["matched"]), row["o_segs"] + row["r_segs"], "matched")
    finally:
        topo.close()


@tfk.needs(tfk.modules("vrf"))
def test_vrf_reset_answers_next_segment(m):
    """README: an RST that answers a segment of a connection in a VRF is
    routed in the VRF's table: both ends are reset."""
    topo = tfk.Topology()
    try:
        vrf = _vrf(topo)
        cli, srv, lst = _vrf_conn(topo, vrf)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 0, "nothing known to reset yet")
        cli.send(b"next segment")
        _expect_reset("client", cli)
        _expect_reset("server", srv)
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected")
    finally:
        topo.close()


@tfk.needs(tfk.modules("vrf"))
def test_vrf_reset_now_waits_for_a_segment(m):
    """README: the RSTs reset sends at once to a connection tracked both
    ways have no segment to name the VRF; routed in the main table they
    find no route and are not sent. The connection is then reset on its
    next segment, not left cut off."""
    topo = tfk.Topology()
    try:
        vrf = _vrf(topo)
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = _vrf_conn(topo, vrf)
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 0, "RSTs sent at once (no route)")
        _expect_silence("client", cli, timeout=0.5)
        srv.send(b"next segment")
        _expect_reset("server", srv)
        _expect_reset("client", cli)
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected")
    finally:
        topo.close()


# ---- IPsec -------------------------------------------------------------------

_KEY = "0x" + "2a" * 20      # rfc4106(gcm(aes)): a 16-byte key and a 4-byte salt


def _ipsec(topo, v6):
    """ESP in transport mode between client and server, required both ways
    for TCP: a plain segment between them is dropped by the receiver's
    inbound policy."""
    c, s = (topo.caddr6, topo.saddr6) if v6 else (topo.caddr, topo.saddr)
    for ns in (topo.client, topo.server):
        me, peer = (c, s) if ns is topo.client else (s, c)
        try:
            ns.ip_batch([
                f"xfrm state add src {c} dst {s} proto esp spi 0x1001 mode transport "
                f"aead rfc4106(gcm(aes)) {_KEY} 128",
                f"xfrm state add src {s} dst {c} proto esp spi 0x1002 mode transport "
                f"aead rfc4106(gcm(aes)) {_KEY} 128",
                f"xfrm policy add src {me} dst {peer} proto tcp dir out "
                "tmpl proto esp mode transport",
                f"xfrm policy add src {peer} dst {me} proto tcp dir in "
                "tmpl proto esp mode transport"])
        except tfk.Fail:
            raise tfk.Skip("no IPsec (xfrm_user, ESP, rfc4106(gcm(aes))) in this kernel")


def _xfrm_in_errors(ns):
    out = {}
    for line in ns.read("/proc/net/xfrm_stat").splitlines():
        k, v = line.split()
        out[k] = int(v)
    return out


def _ipsec_reset(m, v6):
    topo = tfk.Topology()
    try:
        _ipsec(topo, v6)
        m.add(topo.client, f"w mode=watch dport={PORT}")
        cli, srv, lst = tfk.connect(topo, PORT, v6=v6)
        _tracked_both_ways(m, topo.client, topo.client, topo.server, cli, srv)
        s0 = _xfrm_in_errors(topo.server)
        c0 = _xfrm_in_errors(topo.client)
        m.add(topo.client, f"kill mode=reset dport={PORT}")
        check_eq(int(m.fault("kill")["rst_sent"]), 2, "RSTs injected at once")
        return topo, cli, srv, (s0, c0)
    except BaseException:
        topo.close()
        raise


@tfk.needs(tfk.modules("xfrm_user", "esp4"))
def test_ipsec_ipv4_rst_is_protected(m):
    """README: an injected IPv4 RST gets the xfrm policy lookup: the server,
    which requires ESP from the client, accepts it and is reset."""
    topo, cli, srv, _ = _ipsec_reset(m, v6=False)
    try:
        _expect_reset("server", srv)
        _expect_reset("client", cli)
    finally:
        topo.close()


@tfk.needs(tfk.modules("xfrm_user", "esp6"))
def test_ipsec_ipv6_rst_is_protected(m):
    """The same for IPv6: the RST to the peer goes through the xfrm policy
    lookup too, and the server's inbound policy lets it in (it dropped it,
    counted in XfrmInTmplMismatch, when ip6_route_output() alone routed it).
    README: the RST to the local endpoint, which no outbound policy covers,
    is dropped by that endpoint's own inbound policy over IPv6."""
    topo, cli, srv, (s0, c0) = _ipsec_reset(m, v6=True)
    try:
        _expect_reset("server", srv)
        s1 = _xfrm_in_errors(topo.server)
        check_eq(s1["XfrmInTmplMismatch"] - s0["XfrmInTmplMismatch"], 0,
                 "plain segments the server's policy dropped")
        _expect_silence("client", cli, timeout=1)
        c1 = _xfrm_in_errors(topo.client)
        check_eq(c1["XfrmInTmplMismatch"] - c0["XfrmInTmplMismatch"], 1,
                 "plain RSTs the client's policy dropped")
        check_eq(tfk.tcp_state(cli), tfk.TCP_ESTABLISHED, "the client socket")
    finally:
        topo.close()
