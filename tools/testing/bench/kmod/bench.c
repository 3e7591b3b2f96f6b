// SPDX-License-Identifier: GPL-2.0
/*
 * Micro-benchmark of tcpfault's per-segment path, as the hook runs it:
 * the namespace check, the fault lookup, and for a selected segment the
 * connection lookup, the verdict and the counting. Prints one line per
 * measurement:
 *
 *   tcpfault_bench: kind=exact faults=1000 match=0 ns_per_packet=41.2
 *
 * kind=exact: N exact 4-tuple faults (one shape, hashed);
 * kind=range: N port-range faults on distinct hosts (hashed on their
 * addresses, the range checked on a hit);
 * kind=none: no fault at all, so the loop and the namespace check alone;
 * kind=track: no fault, track_all on: a tracked connection's segment, the
 * whole hook on a real skb (match=3), and (stages=1) the hook's steps;
 * match=0: a segment that no fault selects; match=1: one that a watch
 * fault selects, with N other faults present; match=3: kind=track's.
 */
#include <linux/delay.h>
#include <linux/ip.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>

#include "tcpfault.h"

static char *counts = "1,10,100,1000,10000,100000";
module_param(counts, charp, 0444);
MODULE_PARM_DESC(counts, "Fault counts to measure, comma-separated");

static unsigned int iters = 200000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "Segments per measurement");

static unsigned int stages;
module_param(stages, uint, 0444);
MODULE_PARM_DESC(stages, "Also time a selected segment's path cut short after each step (1)");

static unsigned int trace_wait;
module_param(trace_wait, uint, 0444);
MODULE_PARM_DESC(trace_wait,
		 "Instead of measuring, announce one marked pass of each kind's selected (or tracked) segment and run it after this many seconds, for a debugger (tools/testing/bench/trace.sh)");

static char *kinds = "none,exact,range,track";
module_param(kinds, charp, 0444);
MODULE_PARM_DESC(kinds, "none, exact, range and/or track");

static __printf(1, 2) int add(const char *fmt, ...)
{
	struct tcpfault_spec spec;
	struct tcpfault_perr err;
	char text[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (tcpfault_spec_parse(text, n, &spec, &err)) {
		pr_err("bad spec '%s': %s\n", text, err.msg);
		return -EINVAL;
	}
	return tcpfault_rules_add(&init_net, &spec);
}

static void pkt_init(struct tcpfault_pkt *p, u8 a, u16 sport)
{
	memset(p, 0, sizeof(*p));
	p->t.family = TCPFAULT_FAM_INET;
	p->t.saddr[0] = 10;
	p->t.saddr[1] = 3;
	p->t.saddr[3] = a;
	p->t.daddr[0] = 10;
	p->t.daddr[1] = 2;
	p->t.daddr[3] = 1;
	p->t.sport = sport;
	p->t.dport = 80;
	p->flags = TCPFAULT_TH_ACK;
	p->segs = 1;
	p->len = 100;
}

/*
 * Where a selected segment's path stops, for stages=1: after the filters,
 * the connection's entry and the faults it matched (remembered, or looked
 * up), the classification, the verdict; STOP_NONE runs it whole, as the
 * hook does.
 */
enum stop_at { STOP_NONE, STOP_FILTERS, STOP_LOOKUP, STOP_TRACK, STOP_VERDICT };

static const char * const stop_names[] = { "whole", "filters", "lookup", "track", "verdict" };

/* tcpfault_hooks_judge()'s steps one by one, stopping after @stop. */
static noinline unsigned int staged(struct tcpfault_pkt *p, enum stop_at stop)
{
	enum tcpfault_known known;
	struct tcpfault_matches m;
	struct tcpfault_conn *c;
	unsigned long gen;
	unsigned int v;

	if (!tcpfault_index_may_select(&init_net, &p->t) || stop == STOP_FILTERS)
		return NF_ACCEPT;
	c = tcpfault_hooks_faults(&init_net, p, true, &gen, &m, &known);
	if (!m.n || stop == STOP_LOOKUP)
		return NF_ACCEPT;
	c = tcpfault_hooks_track(&init_net, p, c, gen, &m, known);
	if (stop == STOP_TRACK)
		return NF_ACCEPT;
	v = tcpfault_verdict_segment(&init_net, &m, p, c);
	return stop == STOP_VERDICT ? v : NF_ACCEPT;
}

/* What tcpfault_hook() does once the headers are parsed: the same path. */
static unsigned int one_segment(struct tcpfault_pkt *p, enum stop_at stop)
{
	if (!tcpfault_index_may_match(&init_net, p->t.sport, p->t.dport))
		return NF_ACCEPT;
	if (stop != STOP_NONE)
		return staged(p, stop);
	return tcpfault_hooks_judge(&init_net, p, false);
}

/*
 * Time @iters segments, in chunks: bottom halves off and RCU held for one
 * chunk at a time (as in a softirq), with a chance to reschedule between
 * chunks, so that a long run never stalls the CPU.
 */
/* The segments measured: what the port filter and the lookup make of them. */
enum seg_kind {
	SEG_OTHER_PORTS,	/* no fault names its ports: the filter turns it away */
	SEG_SELECTED,		/* fault m selects it */
	SEG_NAMED_PORT,		/* m's ports, another host: looked up, not selected */
};

/* The segments of one chunk (at most 256): its time. */
static u64 chunk_begin(void)
{
	local_bh_disable();
	rcu_read_lock();
	return ktime_get_ns();
}

static u64 chunk_end(u64 t0)
{
	u64 dt = ktime_get_ns() - t0;

	rcu_read_unlock();
	local_bh_enable();
	cond_resched();
	return dt;
}

/* One measurement's line: the whole path (@upto NULL), or cut short. */
static void report(const char *kind, unsigned int n, int match, const char *upto, u64 dt,
		   unsigned int acc)
{
	if (upto)
		pr_info("kind=%s faults=%u match=%d upto=%s ns=%llu.%llu\n", kind, n, match,
			upto, div_u64(dt, iters), div_u64(dt * 10, iters) % 10);
	else
		pr_info("kind=%s faults=%u match=%d ns_per_packet=%llu.%llu (verdicts %u)\n",
			kind, n, match, div_u64(dt, iters), div_u64(dt * 10, iters) % 10, acc);
}

/*
 * The selected segment's sequence, running on from one measurement to the
 * next: restarted, every segment after the first measurement's would be
 * a retransmission to its connection's entry.
 */
static u32 sel_seq;

/*
 * trace_wait: what trace.sh's debugger steps through, announced with its
 * address (the console shows a warning; the guests boot with
 * no_hash_pointers, so %p prints it as it is), then run once when the
 * wait is over. Returns false when not tracing.
 */
static bool trace_announce(const char *kind, const void *mark)
{
	if (!trace_wait)
		return false;
	pr_warn("trace kind=%s mark=%p\n", kind, mark);
	msleep(trace_wait * 1000);
	return true;
}

static noinline unsigned int trace_selected(struct tcpfault_pkt *p)
{
	return one_segment(p, STOP_NONE);
}

static void measure(const char *kind, unsigned int n, enum seg_kind seg, enum stop_at stop)
{
	struct tcpfault_pkt p;
	unsigned int i = 0, acc = 0;
	u64 dt = 0;

	pkt_init(&p, seg == SEG_SELECTED ? 1 : 2, seg == SEG_OTHER_PORTS ? 2000 : 1000);
	while (i < iters) {
		unsigned int end = min(iters, i + 256);
		u64 t0 = chunk_begin();

		for (; i < end; i++) {
			/* new data each time, as a bulk flow */
			p.seq = sel_seq;
			sel_seq += 100;
			acc += one_segment(&p, stop);
		}
		dt += chunk_end(t0);
	}
	report(kind, n, seg, stop != STOP_NONE ? stop_names[stop] : NULL, dt, acc);
	/* Once warm (the entry made, its faults remembered): the traced pass. */
	if (seg == SEG_SELECTED && stop == STOP_NONE && trace_announce(kind, trace_selected)) {
		u64 t0 = chunk_begin();

		p.seq = sel_seq;
		sel_seq += 100;
		acc += trace_selected(&p);
		chunk_end(t0);
	}
}

/*
 * A tracked connection's segment, as track_all makes every segment go, on
 * an IPv4 skb at LOCAL_OUT: the whole hook, where an in-order segment takes
 * header prediction; and (stages=1) the whole way's steps, which a segment
 * prediction declines takes: the parse; the entry (and the faults it
 * remembers: none); the classification; the counting. No fault exists, so
 * the judging is all tracking.
 */
enum track_at { TRACK_LOOP, TRACK_PARSE, TRACK_LOOKUP, TRACK_CLASSIFY, TRACK_ACCOUNT,
		TRACK_HOOK };

static const char * const track_names[] = { "loop", "parse", "lookup", "track", "account",
					     "hook" };

static noinline unsigned int track_one(struct sk_buff *skb, const struct nf_hook_state *st,
				       enum track_at at)
{
	enum tcpfault_known known;
	struct tcpfault_matches m;
	struct tcpfault_conn *c;
	struct tcpfault_pkt p;
	unsigned long gen;

	if (at == TRACK_HOOK)
		return tcpfault_hooks_run(st, skb);
	if (at == TRACK_LOOP)
		return NF_ACCEPT;
	if (tcpfault_hooks_parse(st, skb, &p) || at == TRACK_PARSE)
		return NF_ACCEPT;
	c = tcpfault_hooks_faults(&init_net, &p, tcpfault_index_may_select(&init_net, &p.t),
				  &gen, &m, &known);
	if (at == TRACK_LOOKUP)
		return NF_ACCEPT;
	c = tcpfault_hooks_track(&init_net, &p, c, gen, &m, known);
	if (at == TRACK_CLASSIFY)
		return NF_ACCEPT;
	tcpfault_conn_account(c, &p, false);
	return NF_ACCEPT;
}

static noinline unsigned int trace_tracked(struct sk_buff *skb, const struct nf_hook_state *st)
{
	return track_one(skb, st, TRACK_HOOK);
}

static struct sk_buff *track_skb(void)
{
	unsigned int len = sizeof(struct iphdr) + sizeof(struct tcphdr) + 100;
	struct sk_buff *skb = alloc_skb(MAX_HEADER + len, GFP_KERNEL);
	struct tcphdr *th;
	struct iphdr *iph;

	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_HEADER);
	skb_put_zero(skb, len);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*iph));
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	iph->tot_len = htons(len);
	iph->saddr = htonl(0x0a030001);
	iph->daddr = htonl(0x0a020001);
	th = tcp_hdr(skb);
	th->source = htons(1000);
	th->dest = htons(80);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	th->window = htons(512);
	return skb;
}

static int run_track(void)
{
	struct nf_hook_state st = {
		.hook = NF_INET_LOCAL_OUT,
		.pf = NFPROTO_IPV4,
		.net = &init_net,
	};
	struct sk_buff *skb = track_skb();
	unsigned int at, i, acc = 0;
	u32 seq = 0;
	u64 t;

	if (!skb)
		return -ENOMEM;
	/* For scale: one read of the clock the counting reads. */
	t = ktime_get_ns();
	for (i = 0; i < iters; i++)
		acc += (unsigned int)ktime_get_ns();
	t = ktime_get_ns() - t;
	pr_info("kind=track clock_ns=%llu.%llu\n", div_u64(t, iters),
		div_u64(t * 10, iters) % 10);
	acc = 0;
	tcpfault_conn_set_track_all(true);
	/* Its entry made, as a flow's first segment makes it. */
	t = chunk_begin();
	acc += track_one(skb, &st, TRACK_HOOK);
	chunk_end(t);
	for (at = TRACK_LOOP; at <= TRACK_HOOK; at++) {
		u64 dt = 0;

		if (at != TRACK_HOOK && !stages)
			continue;
		for (i = 0; i < iters;) {
			unsigned int end = min(iters, i + 256);
			u64 t0 = chunk_begin();

			for (; i < end; i++) {
				/* new data each time, as a bulk flow */
				seq += 100;
				tcp_hdr(skb)->seq = htonl(seq);
				acc += track_one(skb, &st, at);
			}
			dt += chunk_end(t0);
		}
		report("track", 0, 3, at == TRACK_HOOK ? NULL : track_names[at], dt, acc);
	}
	if (trace_announce("track", trace_tracked)) {
		seq += 100;
		tcp_hdr(skb)->seq = htonl(seq);
		t = chunk_begin();
		acc += trace_tracked(skb, &st);
		chunk_end(t);
	}
	tcpfault_conn_set_track_all(false);
	tcpfault_conn_gc(true, NULL);
	kfree_skb(skb);
	return 0;
}

static int run_kind(const char *kind, unsigned int n)
{
	unsigned int i;
	u64 t0;
	int ret;

	tcpfault_rules_flush(NULL);
	tcpfault_conn_gc(true, NULL);
	if (!strcmp(kind, "none")) {
		/* The loop itself, and the port filter of a namespace with no fault. */
		measure(kind, 0, SEG_OTHER_PORTS, STOP_NONE);
		return 0;
	}
	ret = add("m mode=watch src=10.3.0.1 sport=1000 dst=10.2.0.1 dport=80");
	t0 = ktime_get_ns();
	for (i = 0; !ret && i < n; i++) {
		if (!strcmp(kind, "exact"))
			ret = add("b%u mode=link-down src=10.1.%u.%u sport=%u dst=10.2.0.1 dport=80",
				  i, (i >> 8) & 255, i & 255, 1024 + (i >> 16));
		else
			ret = add("b%u mode=link-down src=10.4.%u.%u dport=%u-%u", i, (i >> 8) & 255,
				  i & 255, 3000 + i % 1000, 3001 + i % 1000);
		if (!(i & 1023))
			cond_resched();
	}
	if (ret) {
		pr_err("adding %u %s faults failed: %d\n", n, kind, ret);
		return ret;
	}
	/* The core's own cost of an add, without sysfs: parse, table, index. */
	if (n)
		pr_info("kind=%s faults=%u add_ns_per_fault=%llu\n", kind, n,
			div_u64(ktime_get_ns() - t0, n));
	if (trace_wait) {
		measure(kind, n, SEG_SELECTED, STOP_NONE);
		return 0;
	}
	measure(kind, n, SEG_OTHER_PORTS, STOP_NONE);
	measure(kind, n, SEG_NAMED_PORT, STOP_NONE);
	measure(kind, n, SEG_SELECTED, STOP_NONE);
	for (i = STOP_FILTERS; stages && i <= STOP_VERDICT; i++)
		measure(kind, n, SEG_SELECTED, i);
	return 0;
}

static const struct tcpfault_stage core[] = {
	TCPFAULT_CORE_STAGES(TCPFAULT_STAGE)
};

static int __init tcpfault_bench_init(void)
{
	char *tok, *kl, *k;
	int ret;

	ret = tcpfault_stages_init(core, ARRAY_SIZE(core));
	if (ret)
		return ret;
	kl = kstrdup(kinds, GFP_KERNEL);
	for (k = kl; kl && (tok = strsep(&k, ","));) {
		char *cl, *c, *num;

		if (!strcmp(tok, "track")) {
			/* No fault: the fault counts do not apply. */
			tcpfault_rules_flush(NULL);
			tcpfault_conn_gc(true, NULL);
			if (run_track())
				break;
			continue;
		}
		cl = kstrdup(counts, GFP_KERNEL);
		c = cl;
		while (cl && (num = strsep(&c, ","))) {
			unsigned int n;

			if (kstrtouint(num, 10, &n))
				break;
			if (run_kind(tok, n))
				break;
		}
		kfree(cl);
	}
	kfree(kl);
	tcpfault_rules_flush(NULL);
	pr_info("done\n");
	return 0;
}

static void __exit tcpfault_bench_exit(void)
{
	tcpfault_stages_uninit(core, ARRAY_SIZE(core));
	rcu_barrier();
}

module_init(tcpfault_bench_init);
module_exit(tcpfault_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tcpfault per-segment path micro-benchmark");
