# SPDX-License-Identifier: GPL-2.0
"""What a selector sees around NAT (issue: correctness, item 17).

tcpfault's hooks run before conntrack and NAT (priority raw - 50, at
PRE_ROUTING and LOCAL_OUT). A DNAT'd connection, a client talking to a
virtual IP that a NAT rule sends to a real server (a load balancer VIP, a
Kubernetes Service), is therefore seen as two halves: the client's segments
still addressed to the VIP, and the replies already coming from the real
server, which conntrack rewrites back to the VIP only later. These tests pin
that down with a real nftables DNAT on the client's OUTPUT path.
"""
import socket

import tfk
from tfk import check, check_eq

VIP, VPORT = "10.0.9.9", 80
PORT = 5301


def _dnat(topo):
    rule = f"ip daddr {VIP} tcp dport {VPORT} dnat to {topo.saddr}:{PORT}"
    topo.client.ip(f"route add {VIP}/32 via {topo.saddr}")
    topo.client.sh("nft add table ip tfnat && "
                   "nft 'add chain ip tfnat out { type nat hook output priority -100; }' && "
                   f"nft add rule ip tfnat out {rule}")


def _echo_through_vip(topo):
    lst = tfk.listen(topo, PORT)
    cli = topo.client.socket()
    cli.settimeout(10)
    cli.connect((VIP, VPORT))
    lst.settimeout(10)
    srv, _ = lst.accept()
    cli.sendall(b"hello")
    check_eq(srv.recv(5), b"hello", "the server got the client's data through the DNAT")
    srv.sendall(b"world")
    check_eq(cli.recv(5), b"world", "the client got the reply")
    return cli, srv, lst


def _row(m, ns, addr):
    rows = [r for r in m.table(ns, "conns") if addr in (r["saddr"], r["daddr"])]
    check_eq(len(rows), 1, f"tracked connections involving {addr}")
    return rows[0]


@tfk.needs(tfk.modules("nf_tables", "nft_nat"))
def test_dnat_vip_selector_sees_one_half(m):
    """dst=VIP selects the client's segments only; dst=REAL the replies only."""
    topo = tfk.Topology()
    try:
        _dnat(topo)
        m.add(topo.client, f"vip mode=watch dst={VIP} dport={VPORT}")
        m.add(topo.client, f"real mode=watch dst={topo.saddr} dport={PORT}")
        cli, srv, lst = _echo_through_vip(topo)
        vip = _row(m, topo.client, VIP)
        real = _row(m, topo.client, topo.saddr)
        # The client->VIP half: the SYN, the ACK, the data; nothing back.
        check(vip["o_segs"] >= 3, f"client->VIP segments counted: {vip}")
        check_eq(vip["r_segs"], 0, "segments seen coming back from the VIP")
        # The REAL->client half: SYN-ACK, ACK, data; nothing the client
        # sent. From the SYN-ACK, the client is known as the opener.
        check_eq((real["saddr"], real["daddr"]), (topo.caddr, topo.saddr), "the reply half")
        check(real["r_segs"] >= 2, f"real server->client segments counted: {real}")
        check_eq(real["o_segs"], 0, "client segments seen addressed to the real server")
        check_eq(int(m.fault("vip")["matched"]), vip["o_segs"], "vip matched")
        check_eq(int(m.fault("real")["matched"]), real["r_segs"], "real matched")
        for s in (cli, srv, lst):
            s.close()
    finally:
        topo.close()


@tfk.needs(tfk.modules("nf_tables", "nft_nat"))
def test_dnat_cut_needs_the_unrewritten_side(m):
    """A link-down on dst=VIP stops the client's segments only; selecting
    the client's own address, which NAT does not rewrite here, cuts both
    halves, as the README advises."""
    topo = tfk.Topology()
    try:
        _dnat(topo)
        cli, srv, lst = _echo_through_vip(topo)
        m.add(topo.client, f"cutvip mode=link-down dst={VIP} dport={VPORT}")
        srv.sendall(b"still")
        cli.settimeout(10)
        check_eq(cli.recv(5), b"still", "replies still arrive under a dst=VIP cut")
        m.delete("cutvip")
        port = cli.getsockname()[1]
        m.add(topo.client, f"cut mode=link-down src={topo.caddr} sport={port}")
        srv.sendall(b"gone!")
        cli.settimeout(1.5)
        try:
            got = cli.recv(5)
        except socket.timeout:
            got = None
        check_eq(got, None, "data from the server under a cut of the client's side")
        check(int(m.fault("cut")["dropped"]) >= 1, "the cut dropped the server's segment")
        for s in (cli, srv, lst):
            s.close()
    finally:
        topo.close()
