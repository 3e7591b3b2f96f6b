// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks, registered in a network namespace while it has a
 * fault, and in every namespace while track_all is on.
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
 * A namespace without a fault has no hooks at all (unless track_all is
 * on), so its segments never reach tcpfault: an idle module costs nothing.
 * The index tells the hooks when a namespace gets its first fault and
 * loses its last one (tcpfault_index_set_notify()).
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
#include <net/net_namespace.h>
#include <net/netns/generic.h>
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

	tcpfault_stats_begin();
	s = this_cpu_ptr(&hook_stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->seen);
	if (dropped)
		u64_stats_inc(&s->dropped);
	u64_stats_update_end(&s->syncp);
	tcpfault_stats_end();
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

/* The fields of a TCP header at @thoff, read from @th. */
static __always_inline int parse_tcp_hdr(const struct sk_buff *skb, unsigned int thoff,
					 const struct tcphdr *th, struct tcpfault_pkt *pkt)
{
	unsigned int hlen;

	if (th->doff < sizeof(*th) / 4)
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

/* A TCP header not in the skb's linear part, copied out of its pages. */
static noinline int parse_tcp_copy(struct sk_buff *skb, unsigned int thoff,
				   struct tcpfault_pkt *pkt)
{
	struct tcphdr _th tcpfault_noinit;	/* skb_header_pointer() fills it */
	const struct tcphdr *th;

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th)
		return -EINVAL;
	return parse_tcp_hdr(skb, thoff, th, pkt);
}

/*
 * The TCP header at @thoff (from skb->data). It is nearly always in the
 * linear part, read in place: no copy, and no buffer on the stack to zero
 * and guard.
 */
static int parse_tcp(struct sk_buff *skb, unsigned int thoff, struct tcpfault_pkt *pkt)
{
	if (unlikely(skb_headlen(skb) < thoff + sizeof(struct tcphdr)))
		return parse_tcp_copy(skb, thoff, pkt);
	return parse_tcp_hdr(skb, thoff, (const struct tcphdr *)(skb->data + thoff), pkt);
}

static int parse_v4(struct sk_buff *skb, struct tcpfault_pkt *pkt)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (iph->protocol != IPPROTO_TCP || (iph->frag_off & htons(IP_OFFSET)))
		return -EINVAL;
	/* The rest of the addresses stays zero (pkt_parse()). */
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
 * known" when the connection is not tracked, and so does where a reply
 * would go until pkt_route() says.
 */
static __always_inline int pkt_parse(const struct nf_hook_state *state, struct sk_buff *skb,
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
	if (state->hook == NF_INET_LOCAL_OUT && sk && sk_fullsock(sk) &&
	    sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP &&
	    ((1 << sk->sk_state) & ~(TCPF_LISTEN | TCPF_CLOSE | TCPF_SYN_SENT)))
		pkt->sk = sk;
	return 0;
}

/*
 * Where an RST injected for the segment would go, which only a segment a
 * fault may select needs (a tracked one that none can select is counted,
 * nothing is sent for it): its marks, the interfaces, the VRF.
 */
static void pkt_route(const struct nf_hook_state *state, const struct sk_buff *skb,
		      struct tcpfault_pkt *pkt)
{
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
}

/*
 * Header prediction, for a segment that is tracked only (track_all): one
 * whose headers are in the linear part (IPv6: no extension header), that
 * no fault can select (the port filter), with no SYN, FIN or RST. Its
 * connection's entry takes it in one pass if it is in order
 * (tcpfault_conn_predict()); anything else, nothing changed, takes the
 * whole way.
 */
static __always_inline bool predict(const struct nf_hook_state *state,
				    const struct sk_buff *skb)
{
	const struct tcphdr *th;
	struct tcpfault_seg s tcpfault_noinit;	/* filled whole below */
	unsigned int thoff, hlen;

	if (state->pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_TCP || (iph->frag_off & htons(IP_OFFSET)))
			return false;
		s.family = TCPFAULT_FAM_INET;
		s.saddr = (const u8 *)&iph->saddr;
		s.daddr = (const u8 *)&iph->daddr;
		thoff = skb_network_offset(skb) + iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		if (ip6h->nexthdr != IPPROTO_TCP)
			return false;
		s.family = TCPFAULT_FAM_INET6;
		s.saddr = ip6h->saddr.s6_addr;
		s.daddr = ip6h->daddr.s6_addr;
		thoff = skb_network_offset(skb) + sizeof(*ip6h);
	}
	if (skb_headlen(skb) < thoff + sizeof(*th))
		return false;
	th = (const struct tcphdr *)(skb->data + thoff);
	s.flags = tcp_flag_byte(th) & 0x3f;
	hlen = th->doff * 4;
	if ((s.flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_FIN | TCPFAULT_TH_RST)) ||
	    hlen < sizeof(*th) || skb->len < thoff + hlen)
		return false;
	s.sport = ntohs(th->source);
	s.dport = ntohs(th->dest);
	if (tcpfault_index_may_match(state->net, s.sport, s.dport))
		return false;
	s.seq = ntohl(th->seq);
	s.ack_seq = ntohl(th->ack_seq);
	s.win = ntohs(th->window);
	s.len = skb->len - thoff - hlen;
	s.segs = parse_segs(skb, s.len);
	return tcpfault_conn_predict(state->net, &s);
}

/* Ports not in the linear part, copied out of the skb's pages. */
static noinline bool ports_may_match_copy(const struct net *net, const struct sk_buff *skb,
					  unsigned int thoff)
{
	__be16 _ports[2];
	const __be16 *ports;

	ports = skb_header_pointer(skb, thoff, sizeof(_ports), _ports);
	return !ports || tcpfault_index_may_match(net, ntohs(ports[0]), ntohs(ports[1]));
}

/*
 * May a fault of the namespace select this segment? Its two ports against
 * the index's port filter, read straight from the headers before anything
 * else is parsed: most segments leave here, and every segment of a
 * namespace without faults. A segment whose ports cannot
 * be read this cheaply (IPv6 extension headers, a fragment, a short
 * header) is left to the whole parse, which decides.
 */
static bool ports_may_match(const struct nf_hook_state *state, const struct sk_buff *skb)
{
	const __be16 *ports;
	unsigned int thoff;

	if (state->pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_TCP || (iph->frag_off & htons(IP_OFFSET)))
			return false;
		thoff = skb_network_offset(skb) + iph->ihl * 4;
	} else {
		if (ipv6_hdr(skb)->nexthdr != IPPROTO_TCP)
			return true;
		thoff = skb_network_offset(skb) + sizeof(struct ipv6hdr);
	}
	if (unlikely(skb_headlen(skb) < thoff + 2 * sizeof(*ports)))
		return ports_may_match_copy(state->net, skb, thoff);
	ports = (const __be16 *)(skb->data + thoff);
	return tcpfault_index_may_match(state->net, ntohs(ports[0]), ntohs(ports[1]));
}

/*
 * Which faults select a segment that passed the key filter (@gen: the
 * index generation read with it, 0 if it did not pass): what its
 * connection's entry remembers for its direction, if the index is as it
 * was then; else one lookup per fault shape, which the entry remembers.
 * An entry that remembers them may also take a segment in order at once
 * (@known: TCPFAULT_KNOWN_SEG, then it is classified). One that did not
 * pass (tracked only, with track_all) meets none: nothing is looked up,
 * nothing remembered (a fault added meanwhile selects the connection's
 * next segment, as without track_all). Returns the entry, NULL if none
 * yet.
 */
static __always_inline struct tcpfault_conn *
faults(struct net *net, struct tcpfault_pkt *pkt, unsigned long gen,
	struct tcpfault_matches *m, enum tcpfault_known *known)
{
	struct tcpfault_conn *c;

	if (!gen) {
		m->n = 0;
		m->more = false;
		*known = TCPFAULT_KNOWN_NONE;
		return tcpfault_conn_find(net, pkt);
	}
	c = tcpfault_conn_find_known(net, pkt, gen, m, known);
	if (*known == TCPFAULT_KNOWN_NONE) {
		tcpfault_index_lookup(net, &pkt->t, m);
		if (c)
			tcpfault_conn_set_matches(c, pkt->dir, gen, m);
	}
	return c;
}

/*
 * The segment's entry, made on its first segment; a new entry remembers
 * @m if it was looked up (@gen is never 0). A segment already classified
 * (@known) is not classified again.
 */
static __always_inline struct tcpfault_conn *
track(struct net *net, struct tcpfault_pkt *pkt, struct tcpfault_conn *c,
	unsigned long gen, const struct tcpfault_matches *m, enum tcpfault_known known)
{
	if (known == TCPFAULT_KNOWN_SEG)
		return c;
	if (c)
		return tcpfault_conn_track(net, pkt, c);
	c = tcpfault_conn_track(net, pkt, NULL);
	if (c && gen)
		tcpfault_conn_set_matches(c, pkt->dir, gen, m);
	return c;
}

/*
 * Its counters and timeline, once its fate is known; a segment classified
 * with its faults (@known) and let through unheld the short way.
 */
static __always_inline void account(struct tcpfault_conn *c, const struct tcpfault_pkt *pkt,
				    unsigned int verdict, enum tcpfault_known known)
{
	if (known == TCPFAULT_KNOWN_SEG && verdict == NF_ACCEPT && !pkt->delay)
		tcpfault_conn_account_in_order(c, pkt);
	else
		tcpfault_conn_account(c, pkt, verdict != NF_ACCEPT);
}

/**
 * tcpfault_hooks_faults() - the faults that select a segment, and its entry
 * @net: its namespace
 * @pkt: the segment, parsed; @pkt->dir is filled in
 * @sel: it passed the key filter (tcpfault_index_may_select()); if not,
 *	no fault is looked up
 * @gen: set to the index generation @m holds for, 0 if none was read
 * @m: filled with the faults
 * @known: set to what the entry knew (tcpfault_conn_find_known())
 *
 * The hooks' first step after the filters, for the micro-benchmark's
 * stages. Under RCU.
 *
 * Return: the connection's entry, or NULL if it has none yet.
 */
struct tcpfault_conn *tcpfault_hooks_faults(struct net *net, struct tcpfault_pkt *pkt, bool sel,
					    unsigned long *gen, struct tcpfault_matches *m,
					    enum tcpfault_known *known)
{
	/* Read first: a lookup that follows finds what it says. */
	*gen = sel ? tcpfault_index_gen(net) : 0;
	return faults(net, pkt, *gen, m, known);
}

/**
 * tcpfault_hooks_track() - a segment's entry, made on its connection's first
 *                          segment, and what the segment is to it
 * @net: its namespace
 * @pkt: the segment, after tcpfault_hooks_faults()
 * @c: what tcpfault_hooks_faults() returned
 * @gen: the generation it was given
 * @m: the faults it found, remembered by a new entry
 * @known: what it was told the entry knew
 *
 * The hooks' second step, for the micro-benchmark's stages. Under RCU.
 *
 * Return: the entry, or NULL if the table is full.
 */
struct tcpfault_conn *tcpfault_hooks_track(struct net *net, struct tcpfault_pkt *pkt,
					   struct tcpfault_conn *c, unsigned long gen,
					   const struct tcpfault_matches *m,
					   enum tcpfault_known known)
{
	return track(net, pkt, c, gen, m, known);
}

/*
 * A segment a fault may select (@gen: the index generation, read before
 * the key filter let it through; 0 if it did not), or any while track_all
 * is on.
 */
static noinline unsigned int judge(struct net *net, struct tcpfault_pkt *pkt, bool track_all,
				   unsigned long gen)
{
	struct tcpfault_matches m tcpfault_noinit;	/* faults() fills it */
	enum tcpfault_known known;
	struct tcpfault_conn *c;
	unsigned int verdict;

	/* Which faults select it. */
	c = faults(net, pkt, gen, &m, &known);
	if (!m.n && !track_all)
		return NF_ACCEPT;
	/* Its connection's entry (made on its first segment), and what it is. */
	c = track(net, pkt, c, gen, &m, known);
	/* What the faults do to it. */
	verdict = m.n ? tcpfault_verdict_segment(net, &m, pkt, c) : NF_ACCEPT;
	/* Its counters and timeline, dropped or not. */
	account(c, pkt, verdict, known);
	count(verdict != NF_ACCEPT);
	return verdict;
}

/*
 * The key filter, then judge(): a segment that no fault can select leaves
 * here, before anything is looked up, unless it is to be tracked. With
 * @state and @skb (the hook), one that may be selected also learns where
 * an RST for it would go.
 */
static __always_inline unsigned int filter_judge(struct net *net, struct tcpfault_pkt *pkt,
						 bool track_all,
						 const struct nf_hook_state *state,
						 const struct sk_buff *skb)
{
	/* Read first: a lookup that follows finds what it says. */
	unsigned long gen = tcpfault_index_select_gen(net, &pkt->t);

	if (!gen && !track_all)
		return NF_ACCEPT;
	if (gen && skb)
		pkt_route(state, skb, pkt);
	return judge(net, pkt, track_all, gen);
}

/**
 * tcpfault_hooks_judge() - a parsed segment's way through tcpfault
 * @net: its namespace
 * @pkt: the segment, parsed
 * @track_all: every connection is tracked, selected or not
 *
 * Called under RCU, from the micro-benchmark and KUnit: the hook's way,
 * without an skb (where an RST would go stays unknown).
 *
 * Return: NF_ACCEPT or NF_DROP.
 */
unsigned int tcpfault_hooks_judge(struct net *net, struct tcpfault_pkt *pkt, bool track_all)
{
	return filter_judge(net, pkt, track_all, NULL, NULL);
}

/*
 * The whole way, for a segment a fault may select or that is to be
 * tracked: out of line, so that its frame (the parsed segment, the
 * stack protector's guard) is not set up for the segments that leave
 * tcpfault_hook() before it.
 */
static noinline unsigned int hook_judge(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state, bool track_all)
{
	struct tcpfault_pkt pkt tcpfault_noinit;	/* pkt_parse() clears it */
	unsigned int verdict;

	if (pkt_parse(state, skb, &pkt))
		return NF_ACCEPT;
	verdict = filter_judge(state->net, &pkt, track_all, state, skb);
	if (pkt.delay)
		verdict = tcpfault_verdict_hold(&pkt, skb, state, priv, verdict);
	if (verdict != NF_DROP)
		return verdict;
	if (pkt.log)
		tcpfault_nflog_packet(state->net, state->pf, state->hook, skb, state->in,
				      state->out, pkt.log);
	if (state->hook == NF_INET_LOCAL_OUT) {
		kfree_skb(skb);
		return NF_STOLEN;
	}
	return NF_DROP;
}

/*
 * A segment the port filter let through, or any while track_all is on:
 * out of line, so that the segments the port filter turns away (most of
 * them, in a namespace with faults) never set up its frame.
 */
static noinline unsigned int hook_on(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	bool track_all = static_branch_unlikely(&tcpfault_conn_tracking_all);
	const struct net_device *dev;

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
	/* An RST, which tcpfault may be injecting, is never predicted. */
	if (track_all && predict(state, skb)) {
		count(false);
		return NF_ACCEPT;
	}
	if (tcpfault_inject_is_ours(skb))
		return NF_ACCEPT;
	return hook_judge(priv, skb, state, track_all);
}

/* Most segments leave here: no fault names either of their ports. */
static noinline unsigned int hook_ports(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state)
{
	if (!ports_may_match(state, skb))
		return NF_ACCEPT;
	return hook_on(priv, skb, state);
}

/*
 * Each step out of line, entered by a tail call: a segment pays for the
 * frames of the steps it reaches only (with track_all, the port filter's
 * is not among them).
 */
static unsigned int tcpfault_hook(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	if (!static_branch_unlikely(&tcpfault_conn_armed))
		return NF_ACCEPT;
	if (static_branch_unlikely(&tcpfault_conn_tracking_all))
		return hook_on(priv, skb, state);
	return hook_ports(priv, skb, state);
}

/* After defrag (-400), before raw (-300) and conntrack (-200). */
#define TCPFAULT_PRI (NF_IP_PRI_RAW - 50)

static const struct nf_hook_ops tcpfault_nf_ops[] = {
	{
		.hook = tcpfault_hook,
		.priv = (void *)&tcpfault_nf_ops[0],
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = TCPFAULT_PRI,
	},
	{
		.hook = tcpfault_hook,
		.priv = (void *)&tcpfault_nf_ops[1],
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCPFAULT_PRI,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook = tcpfault_hook,
		.priv = (void *)&tcpfault_nf_ops[2],
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = TCPFAULT_PRI,
	},
	{
		.hook = tcpfault_hook,
		.priv = (void *)&tcpfault_nf_ops[3],
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCPFAULT_PRI,
	},
#endif
};

/**
 * tcpfault_hooks_parse() - a segment as the hooks parse it
 * @state: the hook state it would have
 * @skb: the segment
 * @pkt: filled in
 *
 * For the micro-benchmark, which times the parse on its own.
 *
 * Return: 0, or -EINVAL if it is not a TCP segment the hooks read.
 */
int tcpfault_hooks_parse(const struct nf_hook_state *state, struct sk_buff *skb,
			 struct tcpfault_pkt *pkt)
{
	return pkt_parse(state, skb, pkt);
}

/**
 * tcpfault_hooks_run() - one pass of a segment through the hook, as
 *                        netfilter makes it at IPv4 or IPv6 LOCAL_OUT
 * @state: its hook state
 * @skb: the segment; consumed if the verdict is NF_STOLEN
 *
 * For the micro-benchmark: the whole per-pass cost. Under RCU, bottom
 * halves off.
 *
 * Return: the hook's verdict.
 */
unsigned int tcpfault_hooks_run(const struct nf_hook_state *state, struct sk_buff *skb)
{
	bool v6 = IS_ENABLED(CONFIG_IPV6) && state->pf == NFPROTO_IPV6;
	const struct nf_hook_ops *ops = &tcpfault_nf_ops[v6 ? 3 : 1];

	return tcpfault_hook((void *)ops, skb, state);
}

/* Why a namespace needs its hooks. */
enum hooks_why {
	HOOKS_FAULTS,		/* it has faults (the index says so) */
	HOOKS_ALL,		/* track_all is on */
	HOOKS_WHY_MAX
};

/**
 * struct hooks_net - one namespace's hooks, under hooks_mutex
 * @why: the reasons it has, by enum hooks_why
 * @on: the hooks are registered
 * @dying: the namespace is going: the hooks are gone for good
 */
struct hooks_net {
	bool why[HOOKS_WHY_MAX];
	bool on, dying;
};

static unsigned int hooks_net_id __read_mostly;
/* Nests inside the index's mutex and pernet_ops_rwsem. */
static DEFINE_MUTEX(hooks_mutex);
/* Serializes switches of track_all; all_ops is registered while it is on. */
static DEFINE_MUTEX(all_mutex);
static bool all_on;

static struct hooks_net *hooks_net(struct net *net)
{
	return net_generic(net, hooks_net_id);
}

/* Register or unregister @net's hooks as its faults and track_all want. */
static int hooks_sync(struct net *net)
{
	struct hooks_net *hn = hooks_net(net);
	bool want = !hn->dying && (hn->why[HOOKS_FAULTS] || hn->why[HOOKS_ALL]);
	int ret = 0;

	lockdep_assert_held(&hooks_mutex);
	if (want && !hn->on)
		ret = nf_register_net_hooks(net, tcpfault_nf_ops, ARRAY_SIZE(tcpfault_nf_ops));
	else if (!want && hn->on)
		nf_unregister_net_hooks(net, tcpfault_nf_ops, ARRAY_SIZE(tcpfault_nf_ops));
	if (!ret)
		hn->on = want;
	return ret;
}

/* Give @net a reason for hooks, or take it away, and resync. */
static int hooks_want(struct net *net, enum hooks_why why, bool on)
{
	struct hooks_net *hn = hooks_net(net);
	bool old;
	int ret;

	mutex_lock(&hooks_mutex);
	old = hn->why[why];
	hn->why[why] = on;
	ret = hooks_sync(net);
	if (ret)
		hn->why[why] = old;
	mutex_unlock(&hooks_mutex);
	return ret;
}

/* The index's notify callback: a namespace's first fault, or its last. */
static int hooks_faults(struct net *net, bool busy)
{
	return hooks_want(net, HOOKS_FAULTS, busy);
}

/**
 * tcpfault_hooks_registered() - are a namespace's hooks registered
 * @net: the namespace
 *
 * Return: true while it has a fault or track_all is on.
 */
bool tcpfault_hooks_registered(struct net *net)
{
	bool on;

	mutex_lock(&hooks_mutex);
	on = hooks_net(net)->on;
	mutex_unlock(&hooks_mutex);
	return on;
}

/*
 * The hooks are registered in a namespace only while something needs its
 * segments, so an idle tcpfault costs nothing. The namespace's own
 * pernet_operations keep the state; hooks go in pre_exit:
 * nf_unregister_net_hooks() does not wait for CPUs still inside a hook,
 * and the core runs synchronize_rcu() between pre_exit and exit, after
 * which the rules and connections of the namespace are freed. A fault
 * deleted later, as the namespace goes, finds it dying and changes nothing.
 */
static void __net_exit hooks_net_pre_exit(struct net *net)
{
	mutex_lock(&hooks_mutex);
	hooks_net(net)->dying = true;
	hooks_sync(net);
	mutex_unlock(&hooks_mutex);
}

static struct pernet_operations hooks_net_ops = {
	.pre_exit = hooks_net_pre_exit,
	.id = &hooks_net_id,
	.size = sizeof(struct hooks_net),
};

/*
 * While track_all is on, all_ops is registered: the pernet core calls its
 * init for every namespace there is and every new one, and its exit for
 * each when it is unregistered, with no namespace created in between
 * missed.
 */
static int __net_init all_net_init(struct net *net)
{
	return hooks_want(net, HOOKS_ALL, true);
}

static void __net_exit all_net_exit(struct net *net)
{
	hooks_want(net, HOOKS_ALL, false);
}

static struct pernet_operations all_ops = {
	.init = all_net_init,
	.exit = all_net_exit,
};

/**
 * tcpfault_hooks_track_all() - track every connection, or stop
 * @on: the new setting
 *
 * Switches the connection table's track_all and the hooks of every
 * namespace with it.
 *
 * Return: 0, or a negative errno (nothing changed).
 */
int tcpfault_hooks_track_all(bool on)
{
	int ret = 0;

	mutex_lock(&all_mutex);
	if (on && !all_on) {
		tcpfault_conn_set_track_all(true);
		ret = register_pernet_subsys(&all_ops);
		if (ret)
			tcpfault_conn_set_track_all(false);
		else
			all_on = true;
	} else if (!on && all_on) {
		unregister_pernet_subsys(&all_ops);
		tcpfault_conn_set_track_all(false);
		all_on = false;
	}
	mutex_unlock(&all_mutex);
	return ret;
}

/**
 * tcpfault_hooks_init() - be ready to register the hooks where needed
 *
 * From here on, a namespace's first fault registers its hooks, and its
 * last one unregisters them; track_all (here the module parameter)
 * registers them everywhere.
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_hooks_init(void)
{
	int ret;

	ret = register_pernet_subsys(&hooks_net_ops);
	if (ret)
		return ret;
	tcpfault_index_set_notify(hooks_faults);
	if (tcpfault_conn_get_track_all()) {
		ret = register_pernet_subsys(&all_ops);
		if (ret) {
			tcpfault_index_set_notify(NULL);
			unregister_pernet_subsys(&hooks_net_ops);
			return ret;
		}
		all_on = true;
	}
	return 0;
}

/**
 * tcpfault_hooks_uninit() - unregister the hooks everywhere
 *
 * On return no CPU runs a tcpfault hook any more.
 */
void tcpfault_hooks_uninit(void)
{
	if (all_on)
		unregister_pernet_subsys(&all_ops);
	all_on = false;
	tcpfault_index_set_notify(NULL);
	unregister_pernet_subsys(&hooks_net_ops);
}
