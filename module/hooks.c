// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks, registered in every network namespace.
 *
 * Each segment is seen once per namespace: at PRE_ROUTING when it arrives
 * (for local delivery or forwarding) and at LOCAL_OUT when a local socket
 * sends it. Segments arriving on loopback were already seen at LOCAL_OUT
 * and are skipped. The priority sits after defragmentation and before
 * conntrack and the raw table, so dropped segments never reach them.
 *
 * A locally sent segment that a fault drops is stolen (freed, NF_STOLEN)
 * rather than dropped: NF_DROP at LOCAL_OUT makes ip_local_out() fail and
 * TCP would learn of the loss, which a cut cable never tells it.
 *
 * The cost when nothing is armed is one patched-out branch; when faults
 * exist elsewhere, one more per-namespace check.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/ip.h>
#include <net/l3mdev.h>
#include <net/tcp_states.h>

#include "tcpfault.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

struct hook_stats {
	u64_stats_t seen;
	u64_stats_t dropped;
	struct u64_stats_sync syncp;
};

static DEFINE_PER_CPU(struct hook_stats, hook_stats);

static void count(bool dropped)
{
	struct hook_stats *s;

	local_bh_disable();
	s = this_cpu_ptr(&hook_stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->seen);
	if (dropped)
		u64_stats_inc(&s->dropped);
	u64_stats_update_end(&s->syncp);
	local_bh_enable();
}

/**
 * tcpfault_hooks_stats() - segments the hooks examined and dropped
 * @seen: set to the number examined while armed
 * @dropped: set to the number dropped
 */
void tcpfault_hooks_stats(u64 *seen, u64 *dropped)
{
	int cpu;

	*seen = 0;
	*dropped = 0;
	for_each_possible_cpu(cpu) {
		struct hook_stats *s = per_cpu_ptr(&hook_stats, cpu);
		unsigned int start;
		u64 a, b;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			a = u64_stats_read(&s->seen);
			b = u64_stats_read(&s->dropped);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		*seen += a;
		*dropped += b;
	}
}

/*
 * The segments a GSO super-packet becomes. Packets from untrusted sources
 * (virtio-net with guest TSO, tun/tap with a vnet header, AF_PACKET) carry
 * SKB_GSO_DODGY and gso_segs 0 until the stack validates them further on:
 * count them from the payload and gso_size, as the segmentation will.
 */
static u16 parse_segs(const struct sk_buff *skb, u32 payload)
{
	const struct skb_shared_info *shi = skb_shinfo(skb);

	if (!skb_is_gso(skb))
		return 1;
	if (shi->gso_segs)
		return shi->gso_segs;
	return clamp_t(u32, DIV_ROUND_UP(payload, shi->gso_size), 1, U16_MAX);
}

static int parse_tcp(struct sk_buff *skb, unsigned int thoff, struct tcpfault_pkt *pkt)
{
	struct tcphdr _th;
	const struct tcphdr *th;
	unsigned int hlen;

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || th->doff < sizeof(_th) / 4)
		return -EINVAL;
	hlen = th->doff * 4;
	if (skb->len < thoff + hlen)
		return -EINVAL;
	pkt->t.sport = ntohs(th->source);
	pkt->t.dport = ntohs(th->dest);
	pkt->seq = ntohl(th->seq);
	pkt->ack_seq = ntohl(th->ack_seq);
	pkt->win = ntohs(th->window);
	pkt->flags = tcp_flag_byte(th) & 0x3f;
	pkt->len = skb->len - thoff - hlen;
	pkt->segs = parse_segs(skb, pkt->len);
	return 0;
}

static int parse_v4(struct sk_buff *skb, struct tcpfault_pkt *pkt)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (iph->protocol != IPPROTO_TCP || (iph->frag_off & htons(IP_OFFSET)))
		return -EINVAL;
	memset(&pkt->t, 0, sizeof(pkt->t));
	pkt->t.family = TCPFAULT_FAM_INET;
	memcpy(pkt->t.saddr, &iph->saddr, 4);
	memcpy(pkt->t.daddr, &iph->daddr, 4);
	return parse_tcp(skb, skb_network_offset(skb) + ip_hdrlen(skb), pkt);
}

static int parse_v6(struct sk_buff *skb, struct tcpfault_pkt *pkt)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	u8 nexthdr = ip6h->nexthdr;
	__be16 frag_off;
	int thoff;

	thoff = ipv6_skip_exthdr(skb, skb_network_offset(skb) + sizeof(*ip6h),
				 &nexthdr, &frag_off);
	if (thoff < 0 || nexthdr != IPPROTO_TCP || (frag_off & htons(~0x7)))
		return -EINVAL;
	pkt->t.family = TCPFAULT_FAM_INET6;
	memcpy(pkt->t.saddr, &ip6h->saddr, 16);
	memcpy(pkt->t.daddr, &ip6h->daddr, 16);
	return parse_tcp(skb, thoff, pkt);
}

/*
 * A segment as the rest of the module sees it, every field defined: what
 * connection tracking fills in (dir, event, prev_nxt) reads as "nothing
 * known" when the connection is not tracked.
 */
static int pkt_parse(const struct nf_hook_state *state, struct sk_buff *skb,
		     struct tcpfault_pkt *pkt)
{
	struct sock *sk = skb->sk;
	int ret;

	memset(pkt, 0, sizeof(*pkt));
	pkt->event = -1;
	ret = state->pf == NFPROTO_IPV4 ? parse_v4(skb, pkt) : parse_v6(skb, pkt);
	if (ret)
		return ret;
	pkt->hook = state->hook;
	pkt->fwd_mark = skb->mark;
	pkt->back_mark = state->pf == NFPROTO_IPV4 ? IP4_REPLY_MARK(state->net, skb->mark) :
			 IP6_REPLY_MARK(state->net, skb->mark);
	/*
	 * Where an injected RST must leave for a scoped (link-local) peer:
	 * back out the interface the segment came in on, or on out the one
	 * its route chose.
	 */
	if (state->hook == NF_INET_PRE_ROUTING && state->in)
		pkt->back_oif = state->in->ifindex;
	else if (state->hook == NF_INET_LOCAL_OUT && skb_dst(skb) && skb_dst(skb)->dev &&
		 !(skb_dst(skb)->dev->flags & IFF_LOOPBACK))
		pkt->fwd_oif = skb_dst(skb)->dev->ifindex;
	/* An RST for a connection in a VRF is routed in the VRF's table. */
	if (state->hook == NF_INET_PRE_ROUTING && state->in)
		pkt->l3mdev = l3mdev_master_ifindex_rcu(state->in);
	else if (state->hook == NF_INET_LOCAL_OUT && state->out)
		pkt->l3mdev = l3mdev_master_ifindex_rcu(state->out);
	if (state->hook == NF_INET_LOCAL_OUT && sk && sk_fullsock(sk) &&
	    sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP &&
	    ((1 << sk->sk_state) & ~(TCPF_LISTEN | TCPF_CLOSE | TCPF_SYN_SENT)))
		pkt->sk = sk;
	return 0;
}

/**
 * tcpfault_hooks_judge() - a parsed segment's way through tcpfault
 * @net: its namespace
 * @pkt: the segment, parsed
 * @track_all: every connection is tracked, selected or not
 *
 * Called under RCU, from the hooks (and the micro-benchmark).
 *
 * Return: NF_ACCEPT or NF_DROP.
 */
unsigned int tcpfault_hooks_judge(struct net *net, struct tcpfault_pkt *pkt, bool track_all)
{
	struct tcpfault_matches m;
	struct tcpfault_conn *c;
	unsigned int n, verdict;

	/* Which faults select it: one lookup per fault shape. */
	n = tcpfault_index_lookup(net, &pkt->t, &m);
	if (!n && !track_all)
		return NF_ACCEPT;
	/* Its connection's entry (made on its first segment), and what it is. */
	c = tcpfault_conn_track(net, pkt);
	/* What the faults do to it. */
	verdict = n ? tcpfault_verdict_segment(net, &m, pkt, c) : NF_ACCEPT;
	/* Its counters and timeline, dropped or not. */
	tcpfault_conn_account(c, pkt, verdict != NF_ACCEPT);
	count(verdict != NF_ACCEPT);
	return verdict;
}

static unsigned int tcpfault_hook(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	const struct net_device *dev;
	struct tcpfault_pkt pkt;
	bool track_all;

	if (!static_branch_unlikely(&tcpfault_conn_armed))
		return NF_ACCEPT;
	if (tcpfault_inject_is_ours(skb))
		return NF_ACCEPT;
	if (state->hook == NF_INET_PRE_ROUTING && state->in &&
	    (state->in->flags & IFF_LOOPBACK))
		return NF_ACCEPT;
	/*
	 * A VRF runs the hooks a second time for each segment of its slaves,
	 * with its own device: PRE_ROUTING once the slave has received it,
	 * LOCAL_OUT before the slave's pass. Count and judge a segment once,
	 * on the slave's pass.
	 */
	dev = state->hook == NF_INET_PRE_ROUTING ? state->in : state->out;
	if (dev && netif_is_l3_master(dev))
		return NF_ACCEPT;
	track_all = tcpfault_conn_get_track_all();
	if (!track_all && !tcpfault_index_count(state->net))
		return NF_ACCEPT;
	if (pkt_parse(state, skb, &pkt))
		return NF_ACCEPT;
	if (tcpfault_hooks_judge(state->net, &pkt, track_all) == NF_ACCEPT)
		return NF_ACCEPT;
	if (state->hook == NF_INET_LOCAL_OUT) {
		kfree_skb(skb);
		return NF_STOLEN;
	}
	return NF_DROP;
}

/* After defrag (-400), before raw (-300) and conntrack (-200). */
#define TCPFAULT_PRI (NF_IP_PRI_RAW - 50)

static const struct nf_hook_ops tcpfault_nf_ops[] = {
	{
		.hook = tcpfault_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = TCPFAULT_PRI,
	},
	{
		.hook = tcpfault_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCPFAULT_PRI,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook = tcpfault_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = TCPFAULT_PRI,
	},
	{
		.hook = tcpfault_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCPFAULT_PRI,
	},
#endif
};

static int __net_init hooks_net_init(struct net *net)
{
	return nf_register_net_hooks(net, tcpfault_nf_ops, ARRAY_SIZE(tcpfault_nf_ops));
}

/*
 * Hooks go in pre_exit: nf_unregister_net_hooks() does not wait for CPUs
 * still inside a hook, and the core runs synchronize_rcu() between
 * pre_exit and exit, after which the rules and connections of the
 * namespace are freed.
 */
static void __net_exit hooks_net_pre_exit(struct net *net)
{
	nf_unregister_net_hooks(net, tcpfault_nf_ops, ARRAY_SIZE(tcpfault_nf_ops));
}

static struct pernet_operations hooks_net_ops = {
	.init = hooks_net_init,
	.pre_exit = hooks_net_pre_exit,
};

/**
 * tcpfault_hooks_init() - register the hooks in every namespace, now and later
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_hooks_init(void)
{
	return register_pernet_subsys(&hooks_net_ops);
}

/**
 * tcpfault_hooks_uninit() - unregister the hooks everywhere
 *
 * On return no CPU runs a tcpfault hook any more.
 */
void tcpfault_hooks_uninit(void)
{
	unregister_pernet_subsys(&hooks_net_ops);
}
