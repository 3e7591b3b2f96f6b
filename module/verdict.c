// SPDX-License-Identifier: GPL-2.0
/*
 * What each fault mode does: the verdict on a segment a fault selects, and
 * what happens to the connections it selects when it starts and stops
 * (their timelines marked; a reset fault's RSTs; a power-off's aborts).
 * Each fault counts here what it did (enum tcpfault_fcounter).
 *
 * A fault's mode, spec and since_ns come from the fault table (rules.c);
 * its state is read once per segment, with acquire semantics, so since_ns
 * is valid once the state is seen. Connections change only through
 * conn.c's functions.
 *
 * Adding a mode: its name in names.h, its grammar in spec.c if it takes
 * options, and its case in verdict_one() (and in
 * tcpfault_verdict_fault_start() if it acts when it starts).
 */
#include <linux/netfilter.h>
#include <linux/random.h>
#include <net/addrconf.h>
#include <net/net_namespace.h>
#include <net/route.h>

#include "tcpfault.h"
#include "trace.h"

/* Bump a fault's per-CPU counter (enum tcpfault_fcounter). */
static void stat_add(struct tcpfault_fault *f, int counter, u64 v)
{
	struct tcpfault_fstats *s;

	tcpfault_stats_begin();
	s = this_cpu_ptr(f->stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->c[counter], v);
	u64_stats_update_end(&s->syncp);
	tcpfault_stats_end();
}

/**
 * tcpfault_verdict_stat() - what a fault did: one counter, summed over CPUs
 * @f: the fault
 * @counter: enum tcpfault_fcounter
 *
 * Return: the sum.
 */
u64 tcpfault_verdict_stat(struct tcpfault_fault *f, int counter)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tcpfault_fstats *s = per_cpu_ptr(f->stats, cpu);
		unsigned int start;
		u64 v;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			v = u64_stats_read(&s->c[counter]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		sum += v;
	}
	return sum;
}

/* Has the connection carried enough bytes for an after= fault to bite? */
static bool after_ok(const struct tcpfault_fault *f, const struct tcpfault_conn *c)
{
	if (!f->spec.after_bytes)
		return true;
	return c && tcpfault_conn_new_bytes(c) >= f->spec.after_bytes;
}

/*
 * Is this incarnation of the connection known to have existed before
 * @since? Without an entry nothing is known, and a fault fails open.
 */
static bool conn_stale(const struct tcpfault_conn *c, u64 since)
{
	return c && tcpfault_conn_opened_before(c, since);
}

/**
 * tcpfault_verdict_pins() - may a fault in a state keep connections' entries
 * @f: the fault
 * @st: the state, enum tcpfault_fstate
 *
 * An active reset fault, or a rebooted host, still has to kill the
 * connections that predate it; an active idle-timeout fault times each
 * connection from its last segment. Their entries must stay (which ones:
 * tcpfault_verdict_keeps()).
 *
 * Return: true if so.
 */
bool tcpfault_verdict_pins(const struct tcpfault_fault *f, int st)
{
	return st == TCPFAULT_FS_REBOOTED ||
	       (st == TCPFAULT_FS_ACTIVE && (f->spec.mode == TCPFAULT_MODE_RESET ||
					     f->spec.mode == TCPFAULT_MODE_IDLE_TIMEOUT));
}

/*
 * Has an idle-timeout fault's middlebox forgotten the connection: did no
 * segment of it get through for timeout=? The box counts from its own
 * start, the fault's activation, if that came later.
 */
static bool idle_expired(const struct tcpfault_fault *f, const struct tcpfault_conn *c,
			 u64 now)
{
	u64 last = max(tcpfault_conn_passed_ns(c), READ_ONCE(f->since_ns));

	return now > last && now - last >= f->spec.timeout_ms * NSEC_PER_MSEC;
}

/**
 * tcpfault_verdict_keeps() - must a connection's entry stay for a fault
 * @f: a fault that selects @c
 * @c: the connection
 *
 * A connection that a reset fault or a rebooted host has still to kill
 * (once its entry is gone, tcpfault can no longer tell it from a new
 * one), or whose idle clock an idle-timeout fault is running: a new
 * entry would start it from the fault's activation. A connection the
 * middlebox has already forgotten needs no entry: a new one finds it
 * forgotten just the same.
 *
 * Return: true if so.
 */
bool tcpfault_verdict_keeps(const struct tcpfault_fault *f, const struct tcpfault_conn *c)
{
	/* Pairs with set_state(): since_ns is valid once state is seen. */
	int st = smp_load_acquire(&f->state);

	if (!tcpfault_verdict_pins(f, st))
		return false;
	if (st == TCPFAULT_FS_ACTIVE && f->spec.mode == TCPFAULT_MODE_IDLE_TIMEOUT)
		return !idle_expired(f, c, ktime_get_ns());
	return conn_stale(c, READ_ONCE(f->since_ns));
}

static bool dst_is_local(struct net *net, const struct tcpfault_pkt *pkt)
{
	if (pkt->t.family == TCPFAULT_FAM_INET) {
		__be32 a;

		memcpy(&a, pkt->t.daddr, 4);
		return inet_addr_type(net, a) == RTN_LOCAL;
	}
#if IS_ENABLED(CONFIG_IPV6)
	return ipv6_chk_addr(net, (const struct in6_addr *)pkt->t.daddr, NULL, 0);
#else
	return false;
#endif
}

/* Inject an RST; the connection's entry, if any, learns that it ended. */
static bool send_rst(struct net *net, struct tcpfault_fault *f, struct tcpfault_conn *c,
		     const struct tcpfault_rst *rst, u8 toward)
{
	struct tcpfault_rst r = *rst;

	r.log = f->spec.nflog ? f : NULL;
	if (tcpfault_inject_rst(net, &r))
		return false;
	stat_add(f, TCPFAULT_F_RST_SENT, 1);
	if (c)
		tcpfault_conn_rst_sent(c, toward, rst->seq);
	return true;
}

/* A rebooted host answers segments of connections it no longer knows. */
static bool rebooted_verdict(struct net *net, struct tcpfault_fault *f, bool rev,
			     struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	struct tcpfault_rst rst;

	if (!rev || (pkt->flags & TCPFAULT_TH_RST))
		return false;		/* from the host, or an RST: nothing to say */
	if ((pkt->flags & TCPFAULT_TH_SYN) && !(pkt->flags & TCPFAULT_TH_ACK))
		return false;		/* a new connection */
	if (!conn_stale(c, READ_ONCE(f->since_ns)))
		return false;		/* opened after the reboot */
	if (dst_is_local(net, pkt))
		return false;		/* its sockets were aborted: the stack answers */
	tcpfault_inject_reply_rst(pkt, &rst);
	send_rst(net, f, c, &rst, pkt->dir);
	return true;
}

/*
 * Kill a connection from the middle of the path: an RST back to the
 * segment's sender, one on to its receiver. Once per incarnation; its
 * stragglers are swallowed.
 */
static bool rst_both(struct net *net, struct tcpfault_fault *f,
		     struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	struct tcpfault_rst rst;

	if (!tcpfault_conn_reset_claim(c))
		return true;		/* already killed: swallow stragglers */
	tcpfault_inject_reply_rst(pkt, &rst);
	send_rst(net, f, c, &rst, pkt->dir);
	tcpfault_inject_forward_rst(pkt, &rst);
	send_rst(net, f, c, &rst, !pkt->dir);
	return true;
}

static bool reset_verdict(struct net *net, struct tcpfault_fault *f,
			  struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	if (pkt->flags & TCPFAULT_TH_RST)
		return false;
	if ((pkt->flags & TCPFAULT_TH_SYN) && !(pkt->flags & TCPFAULT_TH_ACK))
		return false;
	if (!conn_stale(c, READ_ONCE(f->since_ns)) || !after_ok(f, c))
		return false;
	return rst_both(net, f, pkt, c);
}

/*
 * A middlebox that forgets a flow idle for timeout=: past that, the flow's
 * segments are dropped, or answered with RSTs both ways. A new flow (a
 * SYN) passes and is known again.
 */
static bool idle_verdict(struct net *net, struct tcpfault_fault *f,
			 struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	if (!c)
		return false;		/* untracked (the table is full): fail open */
	if ((pkt->flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_ACK)) == TCPFAULT_TH_SYN)
		return false;
	if (!idle_expired(f, c, ktime_get_ns()))
		return false;
	if (f->spec.action == TCPFAULT_IDLE_DROP || (pkt->flags & TCPFAULT_TH_RST))
		return true;
	return rst_both(net, f, pkt, c);
}

/*
 * Hold the segment for latency= (the first delay fault that selects it
 * does), if a place is free; else it is dropped, as a full queue drops.
 */
static bool delay_verdict(struct tcpfault_fault *f, struct tcpfault_pkt *pkt,
			  struct tcpfault_conn *c)
{
	if (pkt->delay || !after_ok(f, c))
		return false;
	if (!tcpfault_delay_reserve()) {
		stat_add(f, TCPFAULT_F_QUEUE_DROPS, pkt->segs);
		return true;
	}
	pkt->delay = f;
	return false;
}

/**
 * tcpfault_verdict_hold() - a segment a delay fault selected, once its fate
 *                           is known
 * @pkt: the segment, with @pkt->delay set (its place reserved)
 * @skb: its skb
 * @state: its hook state
 * @ops: the tcpfault hook it is in
 * @verdict: what the faults said: NF_ACCEPT, or NF_DROP (another fault
 *	dropped it: nothing is held)
 *
 * Return: NF_STOLEN if it is now held, else @verdict.
 */
unsigned int tcpfault_verdict_hold(const struct tcpfault_pkt *pkt, struct sk_buff *skb,
				   const struct nf_hook_state *state,
				   const struct nf_hook_ops *ops, unsigned int verdict)
{
	if (verdict != NF_ACCEPT) {
		tcpfault_delay_unreserve();
		return verdict;
	}
	verdict = tcpfault_delay_hold(pkt->delay, skb, state, ops);
	if (verdict == NF_STOLEN)
		stat_add(pkt->delay, TCPFAULT_F_DELAYED, pkt->segs);
	return verdict;
}

struct verdict_walk {
	struct net *net;
	struct tcpfault_pkt *pkt;
	struct tcpfault_conn *c;
	unsigned int verdict;
};

/* What one matched fault does to the segment. */
static __always_inline void verdict_one(struct tcpfault_fault *f, bool rev,
					struct verdict_walk *w)
{
	struct tcpfault_pkt *pkt = w->pkt;
	struct tcpfault_conn *c = w->c;
	struct net *net = w->net;
	/* Pairs with set_state(): since_ns is valid once state is seen. */
	int st = smp_load_acquire(&f->state);
	bool drop = false;

	if (likely(st == TCPFAULT_FS_ACTIVE)) {
		stat_add(f, TCPFAULT_F_MATCHED, pkt->segs);
		switch (f->spec.mode) {
		case TCPFAULT_MODE_LINK_DOWN:
			drop = after_ok(f, c);
			break;
		case TCPFAULT_MODE_ONEWAY:
			drop = !rev && after_ok(f, c);
			break;
		case TCPFAULT_MODE_LOSS:
			drop = after_ok(f, c) &&
			       ((u64)get_random_u32() * TCPFAULT_PROB_ONE >> 32) <
			       f->spec.prob;
			break;
		case TCPFAULT_MODE_SYN_BLOCK:
			drop = (pkt->flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_ACK)) ==
			       TCPFAULT_TH_SYN;
			break;
		case TCPFAULT_MODE_POWER_OFF:
			drop = true;
			break;
		case TCPFAULT_MODE_RESET:
			drop = reset_verdict(net, f, pkt, c);
			break;
		case TCPFAULT_MODE_IDLE_TIMEOUT:
			drop = idle_verdict(net, f, pkt, c);
			break;
		case TCPFAULT_MODE_DELAY:
			drop = delay_verdict(f, pkt, c);
			break;
		default:
			break;
		}
	} else if (st == TCPFAULT_FS_REBOOTED) {
		if (rev)
			stat_add(f, TCPFAULT_F_MATCHED, pkt->segs);
		drop = rebooted_verdict(net, f, rev, pkt, c);
	}
	if (drop) {
		stat_add(f, TCPFAULT_F_DROPPED, pkt->segs);
		trace_tcpfault_drop(f, pkt);
		w->verdict = NF_DROP;
		/* The hook copies it to this fault's NFLOG group as it drops it. */
		if (f->spec.nflog && !pkt->log)
			pkt->log = f;
	}
}

static void verdict_visit(struct tcpfault_fault *f, bool rev, void *arg)
{
	verdict_one(f, rev, arg);
}

/*
 * More faults than a match holds: each one the index finds. Out of line:
 * its walk's address escapes, and with it the stack protector's cost.
 */
static noinline unsigned int verdict_all(struct net *net, struct tcpfault_pkt *pkt,
					 struct tcpfault_conn *c)
{
	struct verdict_walk w = { .net = net, .pkt = pkt, .c = c, .verdict = NF_ACCEPT };

	tcpfault_index_visit(net, &pkt->t, verdict_visit, &w);
	return w.verdict;
}

/**
 * tcpfault_verdict_segment() - what the matched faults do to a segment
 * @net: the segment's namespace
 * @m: the faults it matched; if @m->more, every fault it matches is visited
 * @pkt: the segment, classified
 * @c: its connection, or NULL if untracked
 *
 * Return: NF_ACCEPT or NF_DROP.
 */
unsigned int tcpfault_verdict_segment(struct net *net, const struct tcpfault_matches *m,
				      struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	struct verdict_walk w = { .net = net, .pkt = pkt, .c = c, .verdict = NF_ACCEPT };
	unsigned int i;

	if (m->more)
		return verdict_all(net, pkt, c);
	for (i = 0; i < m->n; i++)
		verdict_one(m->f[i], m->rev[i], &w);
	return w.verdict;
}

struct conn_walk {
	struct tcpfault_fault *f;
	u8 type;
};

/* Does @f select @c, either way round? */
static bool fault_selects(const struct tcpfault_fault *f, const struct tcpfault_conn *c)
{
	struct tcpfault_tuple t;

	tcpfault_conn_tuple(c, &t);
	return tcpfault_spec_match(&f->spec, &t, false) || tcpfault_spec_match(&f->spec, &t, true);
}

static void conn_mark(struct tcpfault_conn *c, void *arg)
{
	struct conn_walk *w = arg;

	if (fault_selects(w->f, c))
		tcpfault_conn_event(c, w->type, 0, (u32)w->f->id, 0, 0);
}

/* Put a fault start or stop on the timeline of each connection it selects. */
static void mark_conns(struct tcpfault_fault *f, u8 type)
{
	struct conn_walk w = { .f = f, .type = type };

	if (!tcpfault_conn_count())
		return;
	tcpfault_conn_for_each(f->net, conn_mark, &w);
}

struct reset_walk {
	struct tcpfault_fault *f;
	struct tcpfault_conn *batch[32];
	unsigned int n;
};

/* Claim @c for the batch if the fault selects it and it can be reset now. */
static bool conn_collect_reset(struct tcpfault_conn *c, void *arg)
{
	struct reset_walk *w = arg;

	if (w->n == ARRAY_SIZE(w->batch))
		return false;
	if (tcpfault_conn_reset_done(c) || !tcpfault_conn_resettable(c) || !after_ok(w->f, c) ||
	    !fault_selects(w->f, c))
		return true;
	if (tcpfault_conn_reset_claim(c))
		w->batch[w->n++] = c;
	return w->n < ARRAY_SIZE(w->batch);
}

/* Both RSTs for a claimed connection; unclaimed if one could not be sent. */
static void reset_one(struct tcpfault_fault *f, struct tcpfault_conn *c)
{
	struct tcpfault_rst rst = { .family = c->key.family, .ack = true };
	bool sent = true;
	int ep;

	for (ep = 0; ep < 2; ep++) {
		/* toward endpoint ep, from the other one */
		tcpfault_conn_endpoint(c, !ep, rst.saddr, &rst.sport);
		tcpfault_conn_endpoint(c, ep, rst.daddr, &rst.dport);
		rst.seq = tcpfault_conn_nxt(c, !ep);
		rst.ack_seq = tcpfault_conn_nxt(c, ep);
		sent &= send_rst(f->net, f, c, &rst, (u8)ep);
	}
	if (!sent)
		tcpfault_conn_reset_unclaim(c);
}

/*
 * Reset now every tracked connection the fault selects whose sequence
 * state both ways is known, in one pass over the table, a batch at a time
 * (RCU is dropped between batches). The others are reset on their next
 * segment, and so is one whose RSTs could not both be sent (no route: a
 * connection in a VRF, whose table only its segments name): its next
 * segment is answered, routed as that segment says, rather than
 * swallowed. So is one the pass skipped because a batch filled up in the
 * middle of its bucket.
 */
static void reset_tracked(struct tcpfault_fault *f)
{
	struct reset_walk w = { .f = f };
	unsigned int i;
	u32 from = 0;

	do {
		w.n = 0;
		rcu_read_lock();
		from = tcpfault_conn_walk(f->net, from, conn_collect_reset, &w);
		for (i = 0; i < w.n; i++)
			reset_one(f, w.batch[i]);
		rcu_read_unlock();
		cond_resched();
	} while (from);
}

/* Called once per socket the power-off really removed (after its abort). */
static void abort_cb(struct sock *sk, void *arg)
{
	stat_add(arg, TCPFAULT_F_ABORTED, 1);
}

/**
 * tcpfault_verdict_fault_start() - a fault became active
 * @f: the fault; its state (ACTIVE) and since_ns are published
 *
 * Its start goes on the timeline of each connection it selects; a
 * power-off aborts the host's sockets (their own RSTs are dropped: the
 * state is published), and a reset fault resets what it can right away.
 * Process context.
 */
void tcpfault_verdict_fault_start(struct tcpfault_fault *f)
{
	mark_conns(f, TCPFAULT_EV_FAULT_START);
	if (f->spec.mode == TCPFAULT_MODE_POWER_OFF)
		tcpfault_inject_abort_host(f->net, &f->spec.src, abort_cb, f);
	else if (f->spec.mode == TCPFAULT_MODE_RESET)
		reset_tracked(f);
}

/**
 * tcpfault_verdict_fault_stop() - an active fault stopped (healed, switched
 *                                 off, rebooted or deleted)
 * @f: the fault
 */
void tcpfault_verdict_fault_stop(struct tcpfault_fault *f)
{
	mark_conns(f, TCPFAULT_EV_FAULT_STOP);
}
