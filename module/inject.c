// SPDX-License-Identifier: GPL-2.0
/*
 * Where tcpfault acts on the stack rather than on packets: RSTs put on the
 * wire as if another host sent them, the silent abort of a "powered-off"
 * host's local sockets, and the kernel's own view of a local socket.
 *
 * Injected RSTs go through ip_local_out()/ip6_local_out() and are routed
 * like any locally generated segment, with a source address that need not
 * be local (FLOWI_FLAG_ANYSRC), so one helper serves a router, a client
 * and a server. While one is being sent, the hooks let that skb pass
 * untouched: this CPU records which skb, sent by which task, is tcpfault's
 * own. Bottom halves are off for that window, but on PREEMPT_RT such a
 * section can still be preempted, and the task that runs meanwhile sends
 * its own segments through the same hooks on this CPU: a flag alone would
 * let those pass too.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/tcp.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "tcpfault.h"
#include "trace.h"

struct inject_mark {
	const struct sk_buff *skb;
	const struct task_struct *task;
};

static DEFINE_PER_CPU(struct inject_mark, injecting);

/**
 * tcpfault_inject_is_ours() - is @skb an RST that tcpfault is injecting
 * @skb: a segment at a hook
 *
 * Return: true for the skb inside tcpfault_inject_rst()'s transmit window,
 * seen by the task sending it; false for any other segment.
 */
bool tcpfault_inject_is_ours(const struct sk_buff *skb)
{
	return this_cpu_read(injecting.skb) == skb &&
	       this_cpu_read(injecting.task) == current;
}

static struct tcphdr *push_rst_header(struct sk_buff *skb, const struct tcpfault_rst *r)
{
	struct tcphdr *th = skb_push(skb, sizeof(*th));

	skb_reset_transport_header(skb);
	memset(th, 0, sizeof(*th));
	th->source = htons(r->sport);
	th->dest = htons(r->dport);
	th->seq = htonl(r->seq);
	th->ack_seq = r->ack ? htonl(r->ack_seq) : 0;
	th->doff = sizeof(*th) / 4;
	th->rst = 1;
	th->ack = r->ack;
	return th;
}

static int xmit(struct net *net, struct sk_buff *skb, bool v6)
{
	int ret;

	local_bh_disable();
	this_cpu_write(injecting.task, current);
	this_cpu_write(injecting.skb, skb);
#if IS_ENABLED(CONFIG_IPV6)
	if (v6)
		ret = ip6_local_out(net, NULL, skb);
	else
#endif
		ret = ip_local_out(net, NULL, skb);
	this_cpu_write(injecting.skb, NULL);
	this_cpu_write(injecting.task, NULL);
	local_bh_enable();
	return net_xmit_eval(ret);
}

static int rst_v4(struct net *net, const struct tcpfault_rst *r, struct sk_buff *skb)
{
	struct flowi4 fl4;
	struct tcphdr *th;
	struct iphdr *iph;
	struct rtable *rt;

	memset(&fl4, 0, sizeof(fl4));
	memcpy(&fl4.daddr, r->daddr, 4);
	memcpy(&fl4.saddr, r->saddr, 4);
	fl4.flowi4_proto = IPPROTO_TCP;
	fl4.flowi4_flags = FLOWI_FLAG_ANYSRC;
	fl4.fl4_sport = htons(r->sport);
	fl4.fl4_dport = htons(r->dport);
	fl4.flowi4_mark = r->mark;
	fl4.flowi4_l3mdev = r->l3mdev;
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	skb_dst_set(skb, &rt->dst);
	skb->mark = r->mark;

	th = push_rst_header(skb, r);
	th->check = tcp_v4_check(sizeof(*th), fl4.saddr, fl4.daddr,
				 csum_partial(th, sizeof(*th), 0));
	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->frag_off = htons(IP_DF);
	iph->ttl = ip4_dst_hoplimit(&rt->dst);
	iph->protocol = IPPROTO_TCP;
	iph->saddr = fl4.saddr;
	iph->daddr = fl4.daddr;
	skb->protocol = htons(ETH_P_IP);
	if (r->log) {
		/* A whole copy: what __ip_local_out() sets in any case. */
		iph->tot_len = htons(skb->len);
		ip_send_check(iph);
		tcpfault_nflog_packet(net, NFPROTO_IPV4, NF_INET_LOCAL_OUT, skb, NULL,
				      rt->dst.dev, r->log);
	}
	return xmit(net, skb, false);
}

#if IS_ENABLED(CONFIG_IPV6)
static int rst_v6(struct net *net, const struct tcpfault_rst *r, struct sk_buff *skb)
{
	struct dst_entry *dst;
	struct ipv6hdr *ip6h;
	struct tcphdr *th;
	struct flowi6 fl6;

	memset(&fl6, 0, sizeof(fl6));
	memcpy(&fl6.daddr, r->daddr, 16);
	memcpy(&fl6.saddr, r->saddr, 16);
	fl6.flowi6_proto = IPPROTO_TCP;
	fl6.fl6_sport = htons(r->sport);
	fl6.fl6_dport = htons(r->dport);
	fl6.flowi6_mark = r->mark;
	fl6.flowi6_l3mdev = r->l3mdev;
	/* A link-local peer is reachable only through its own link. */
	if (ipv6_addr_type(&fl6.daddr) & IPV6_ADDR_LINKLOCAL)
		fl6.flowi6_oif = r->oif;
	dst = ip6_route_output(net, NULL, &fl6);
	if (dst->error) {
		int err = dst->error;

		dst_release(dst);
		kfree_skb(skb);
		return err;
	}
	/* IPsec: as ip_route_output_key() does for IPv4, and nf_reject for both. */
	dst = xfrm_lookup(net, dst, flowi6_to_flowi(&fl6), NULL, 0);
	if (IS_ERR(dst)) {
		kfree_skb(skb);
		return PTR_ERR(dst);
	}
	skb_dst_set(skb, dst);
	skb->mark = r->mark;

	th = push_rst_header(skb, r);
	th->check = tcp_v6_check(sizeof(*th), &fl6.saddr, &fl6.daddr,
				 csum_partial(th, sizeof(*th), 0));
	ip6h = skb_push(skb, sizeof(*ip6h));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6h, 0, 0);
	ip6h->nexthdr = IPPROTO_TCP;
	ip6h->hop_limit = ip6_dst_hoplimit(dst);
	ip6h->saddr = fl6.saddr;
	ip6h->daddr = fl6.daddr;
	skb->protocol = htons(ETH_P_IPV6);
	if (r->log) {
		/* A whole copy: what __ip6_local_out() sets in any case. */
		ip6h->payload_len = htons(skb->len - sizeof(*ip6h));
		tcpfault_nflog_packet(net, NFPROTO_IPV6, NF_INET_LOCAL_OUT, skb, NULL, dst->dev,
				      r->log);
	}
	return xmit(net, skb, true);
}
#endif

/**
 * tcpfault_inject_rst() - put an RST on the wire
 * @net: the namespace to send it in
 * @rst: what to send
 *
 * Context: any; allocates with GFP_ATOMIC. The skb is consumed in every case.
 *
 * Return: 0 or a negative errno (no route, no memory).
 */
int tcpfault_inject_rst(struct net *net, const struct tcpfault_rst *rst)
{
	size_t room = MAX_TCP_HEADER;
	struct sk_buff *skb;

	skb = alloc_skb(room, GFP_ATOMIC);
	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, room);
	skb->ip_summed = CHECKSUM_NONE;
	trace_tcpfault_inject(rst);
	if (rst->family == TCPFAULT_FAM_INET)
		return rst_v4(net, rst, skb);
#if IS_ENABLED(CONFIG_IPV6)
	if (rst->family == TCPFAULT_FAM_INET6)
		return rst_v6(net, rst, skb);
#endif
	kfree_skb(skb);
	return -EAFNOSUPPORT;
}

/* An RST on @pkt's connection: back toward its sender, or on toward its receiver. */
static void rst_on(const struct tcpfault_pkt *pkt, bool back, struct tcpfault_rst *rst)
{
	memset(rst, 0, sizeof(*rst));
	rst->family = pkt->t.family;
	memcpy(rst->saddr, back ? pkt->t.daddr : pkt->t.saddr, 16);
	memcpy(rst->daddr, back ? pkt->t.saddr : pkt->t.daddr, 16);
	rst->sport = back ? pkt->t.dport : pkt->t.sport;
	rst->dport = back ? pkt->t.sport : pkt->t.dport;
	rst->oif = back ? pkt->back_oif : pkt->fwd_oif;
	rst->mark = back ? pkt->back_mark : pkt->fwd_mark;
	rst->l3mdev = pkt->l3mdev;
}

/**
 * tcpfault_inject_reply_rst() - the RST a stateless host answers a segment with
 * @pkt: the segment
 * @rst: filled in, as tcp_v4_send_reset() would build it
 */
void tcpfault_inject_reply_rst(const struct tcpfault_pkt *pkt, struct tcpfault_rst *rst)
{
	rst_on(pkt, true, rst);
	if (pkt->flags & TCPFAULT_TH_ACK) {
		rst->seq = pkt->ack_seq;
	} else {
		rst->ack = true;
		rst->ack_seq = pkt->seq + pkt->len + !!(pkt->flags & TCPFAULT_TH_SYN) +
			       !!(pkt->flags & TCPFAULT_TH_FIN);
	}
}

/**
 * tcpfault_inject_forward_rst() - an RST for @pkt's receiver, as if from its sender
 * @pkt: the segment, classified (its sender's sequence state is known)
 * @rst: filled in
 *
 * The receiver accepts an RST at exactly its rcv_nxt: what the sender had
 * sent before this segment.
 */
void tcpfault_inject_forward_rst(const struct tcpfault_pkt *pkt, struct tcpfault_rst *rst)
{
	rst_on(pkt, false, rst);
	rst->seq = pkt->prev_valid ? pkt->prev_nxt : pkt->seq;
	rst->ack_seq = pkt->ack_seq;
	rst->ack = !!(pkt->flags & TCPFAULT_TH_ACK);
}

static bool sk_local_in(const struct sock *sk, const struct tcpfault_prefix *host)
{
	u8 addr[16] = {};

	if (sk->sk_family == AF_INET) {
		memcpy(addr, &sk->sk_rcv_saddr, 4);
		return tcpfault_spec_prefix_match(host, TCPFAULT_FAM_INET, addr);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		if (ipv6_addr_v4mapped(&sk->sk_v6_rcv_saddr)) {
			memcpy(addr, &sk->sk_v6_rcv_saddr.s6_addr32[3], 4);
			return tcpfault_spec_prefix_match(host, TCPFAULT_FAM_INET, addr);
		}
		return tcpfault_spec_prefix_match(host, TCPFAULT_FAM_INET6,
						  sk->sk_v6_rcv_saddr.s6_addr);
	}
#endif
	return false;
}

#define ABORT_BATCH 16

/*
 * Take a reference on @sk if it is one of @host's sockets in @net. TCP,
 * TIME-WAIT and request sockets are SLAB_TYPESAFE_BY_RCU: between the first
 * look and the reference, @sk can be freed and reused for another
 * connection, in another namespace. So, as __inet_lookup_established()
 * does, look again once the reference is held.
 */
static bool abort_grab(struct sock *sk, struct net *net, const struct tcpfault_prefix *host)
{
	if (!net_eq(sock_net(sk), net) || !sk_local_in(sk, host))
		return false;
	if (!refcount_inc_not_zero(&sk->sk_refcnt))
		return false;
	if (unlikely(hlist_nulls_unhashed_lockless(&sk->sk_nulls_node) ||
		     !net_eq(sock_net(sk), net) || !sk_local_in(sk, host))) {
		sock_gen_put(sk);
		return false;
	}
	return true;
}

/*
 * Abort @sk (held) and tell whether it is really gone. tcp_abort() returns 0
 * for a request or TIME-WAIT socket it unhashed, and for a full socket it
 * passed to tcp_done(). Kernels without "tcp: fix forever orphan socket
 * caused by tcp_abort" skip tcp_done() for an orphan (SOCK_DEAD: closed by
 * its application, in FIN-WAIT-1, CLOSING or LAST-ACK) yet return 0: the
 * orphan would outlive the power loss. Finish it as the fixed kernels do.
 */
static bool abort_one(struct sock *sk)
{
	bool gone;

	if (tcp_abort(sk, ECONNABORTED))
		return false;
	if (!sk_fullsock(sk))
		return true;
	if (inet_sk_state_load(sk) == TCP_CLOSE)
		return true;
	lock_sock(sk);
	local_bh_disable();
	bh_lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE && sock_flag(sk, SOCK_DEAD)) {
		WRITE_ONCE(sk->sk_err, ECONNABORTED);
		tcpfault_tcp_done(sk);
	}
	gone = sk->sk_state == TCP_CLOSE;
	bh_unlock_sock(sk);
	local_bh_enable();
	release_sock(sk);
	return gone;
}

/**
 * tcpfault_inject_abort_host() - abort a host's local TCP sockets, silently
 * @net: the namespace whose sockets to walk
 * @host: the host's prefix
 * @cb: called for each socket the abort really removed, after the abort
 * @arg: passed to @cb
 *
 * Every socket in the established hash (established, closing, TIME-WAIT,
 * SYN-RECV) with a local address in @host is torn down with tcp_abort(),
 * as the power loss would. The walk is lockless, like the kernel's own
 * established lookup: a socket is checked again once held, and a bucket
 * is walked again when its chain's nulls marker says the walk strayed. Listeners stay: the host "comes back" with its
 * services listening. The caller has published the power-off fault first,
 * so the RSTs tcp_abort() emits are dropped by the hooks.
 *
 * Context: process; sleeps.
 *
 * A socket counts (in the return value and through @cb) only once it is
 * gone: tcp_abort() succeeded and a full socket is in TCP_CLOSE. An orphan
 * that an older kernel's tcp_abort() leaves alive is finished here.
 *
 * Return: the number of sockets removed.
 */
int tcpfault_inject_abort_host(struct net *net, const struct tcpfault_prefix *host,
			       void (*cb)(struct sock *sk, void *arg), void *arg)
{
	struct inet_hashinfo *h = tcpfault_tcp_hashinfo(net);
	unsigned int b;
	int total = 0;

	for (b = 0; b <= h->ehash_mask; b++) {
		struct inet_ehash_bucket *head = &h->ehash[b];
		struct sock *batch[ABORT_BATCH];
		struct hlist_nulls_node *node;
		int n, i, rounds = 0;
		struct sock *sk;
		bool moved;

		if (hlist_nulls_empty(&head->chain))
			continue;
		do {
			n = 0;
			rcu_read_lock();
			sk_nulls_for_each_rcu(sk, node, &head->chain) {
				if (!abort_grab(sk, net, host))
					continue;
				/*
				 * A socket let go above may have been reused
				 * at the head of this chain, and the walk then
				 * meets sockets it already holds.
				 */
				for (i = 0; i < n && batch[i] != sk; i++)
					;
				if (i < n) {
					sock_gen_put(sk);
					continue;
				}
				batch[n++] = sk;
				if (n == ABORT_BATCH)
					break;
			}
			/*
			 * A walk that ran to the end of a chain other than
			 * this bucket's followed a socket that was freed and
			 * rehashed elsewhere: the rest of the bucket went
			 * unseen, walk it again (after this batch, so that
			 * no socket is taken twice).
			 */
			moved = n < ABORT_BATCH && get_nulls_value(node) != b;
			rcu_read_unlock();
			for (i = 0; i < n; i++) {
				if (abort_one(batch[i])) {
					total++;
					if (cb)
						cb(batch[i], arg);
				}
				sock_gen_put(batch[i]);
			}
			cond_resched();
		} while ((n == ABORT_BATCH || moved) && ++rounds < 64);
	}
	return total;
}

/**
 * tcpfault_inject_sock_view() - print the kernel's figures for a local socket
 * @net: the connection's namespace
 * @c: the connection
 * @ep: the endpoint whose socket to look up (its address is the local one)
 * @seq: where to print " total_retrans retransmits backoff rto_ms probes_out
 *       rtt_us rttvar_us dsack_dups" (the RTT and its variation as tcp_info
 *       reports them, and the D-SACKs it received: spurious retransmissions
 *       its peer reported), or a "-" for each if @ep has no full socket in @net
 *
 * Caller holds rcu_read_lock().
 */
void tcpfault_inject_sock_view(struct net *net, const struct tcpfault_conn *c, int ep,
			       struct seq_file *seq)
{
	struct inet_hashinfo *h = tcpfault_tcp_hashinfo(net);
	struct sock *sk = NULL;
	u8 la[16], ra[16];
	u16 lp, rp;

	tcpfault_conn_endpoint(c, ep, la, &lp);
	tcpfault_conn_endpoint(c, !ep, ra, &rp);
	if (c->key.family == TCPFAULT_FAM_INET) {
		__be32 l, r;

		memcpy(&l, la, 4);
		memcpy(&r, ra, 4);
		sk = tcpfault_inet_lookup_established(net, h, r, htons(rp), l, lp);
	}
#if IS_ENABLED(CONFIG_IPV6)
	else
		sk = tcpfault_inet6_lookup_established(net, h, (const struct in6_addr *)ra,
							htons(rp), (const struct in6_addr *)la,
							lp);
#endif
	if (sk && sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP) {
		const struct inet_connection_sock *icsk = inet_csk(sk);
		const struct tcp_sock *tp = tcp_sk(sk);

		seq_printf(seq, " %u %u %u %u %u %u %u %u", READ_ONCE(tp->total_retrans),
			   READ_ONCE(icsk->icsk_retransmits), READ_ONCE(icsk->icsk_backoff),
			   jiffies_to_msecs(READ_ONCE(icsk->icsk_rto)),
			   READ_ONCE(icsk->icsk_probes_out), READ_ONCE(tp->srtt_us) >> 3,
			   READ_ONCE(tp->mdev_us) >> 2, READ_ONCE(tp->dsack_dups));
	} else {
		seq_puts(seq, " - - - - - - - -");
	}
	if (sk)
		sock_gen_put(sk);
}
