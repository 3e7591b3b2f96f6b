// SPDX-License-Identifier: GPL-2.0
/*
 * The fault table: lookup of the faults a segment matches, the fault state
 * machine, and the per-segment verdict of each mode.
 *
 * How lookup stays flat as faults grow (tuple space search):
 *   Every fault whose ports are exact or "any" has a shape: (family, source
 *   prefix length, destination prefix length, which ports are exact). Faults
 *   live in one RCU hash table (rhltable) keyed by (netns cookie, shape,
 *   masked addresses and ports). Each fault is hashed twice, as written and
 *   mirrored (source and destination swapped, under the mirrored shape), so
 *   that a segment, masked once per shape present in its namespace, is
 *   looked up in its own orientation only: the cost is one lookup per
 *   distinct shape, whatever the number of faults. 100,000 exact 4-tuples
 *   are one shape, which is its own mirror. A port range (LO-HI) is not part
 *   of the key: such a fault is hashed on its addresses alone, and a hit is
 *   checked against its ranges. Only faults that share their addresses
 *   share a hash chain, so 1,000 range faults on distinct hosts cost one
 *   lookup per shape.
 *   Past SHAPES_MAX distinct shapes, further shapes go to a per-namespace
 *   RCU list that is matched linearly.
 *
 * Locking: tcpfault_rules_mutex serialises every change (add, delete,
 * enable, timed transitions). The packet path reads under RCU only; a
 * fault's state is a single READ_ONCE'd int. A deleted fault is unhashed,
 * marked dead, and freed through call_rcu() once its kobject goes.
 */
#include <linux/module.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/netfilter.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/addrconf.h>
#include <net/tcp.h>

#include "tcpfault.h"
#include "trace.h"

#define SHAPES_MAX 64

struct tcpfault_shape {
	u8 family;
	u8 splen;
	u8 dplen;
	u8 ports;	/* bit 0: sport exact, bit 1: dport exact */
};

struct tcpfault_fkey {
	u64 cookie;
	u8 saddr[16];
	u8 daddr[16];
	u16 sport;
	u16 dport;
	struct tcpfault_shape shape;
};

/* A fault has two: [0] as written, [1] mirrored (rev). */
struct tcpfault_fnode {
	struct rhlist_head node;
	struct tcpfault_fkey key;
	struct tcpfault_fault *f;
	bool ranged;	/* a port is a range: the key holds only exact ports */
	bool rev;
};

/* A shape as the packet path uses it, with its address masks as words. */
struct tcpfault_lshape {
	struct tcpfault_shape sh;
	u32 smask[4];
	u32 dmask[4];
};

struct tcpfault_shapes {
	struct rcu_head rcu;
	unsigned int n;
	struct tcpfault_lshape s[];
};

/**
 * struct rules_net - one namespace's faults
 * @faults: every fault, under tcpfault_rules_mutex
 * @slow: faults whose shape did not fit in SHAPES_MAX, RCU
 * @shapes: the shapes present, an immutable RCU snapshot
 * @shape: the shapes present with their fault counts, under the mutex
 * @shape_refs: fault count per entry of @shape
 * @nshapes: entries in @shape
 * @nfaults: faults here; the hooks skip the namespace when zero
 * @ndying: faults of this namespace unpublished and not yet destroyed
 *	(their sysfs directory, tagged with the namespace, may still be
 *	there), under the mutex; the namespace's exit waits for zero
 */
struct rules_net {
	struct list_head faults;
	struct list_head slow;
	struct tcpfault_shapes __rcu *shapes;
	struct tcpfault_shape shape[SHAPES_MAX];
	unsigned int shape_refs[SHAPES_MAX];
	unsigned int nshapes;
	unsigned int nfaults;
	unsigned int ndying;
};

DEFINE_MUTEX(tcpfault_rules_mutex);
static DECLARE_WAIT_QUEUE_HEAD(dying_wq);
static LIST_HEAD(all_faults);
static u64 nfaults_total;
static u64 next_fault_id;
static unsigned int rules_net_id __read_mostly;
static struct rhltable ftab;
static struct rhashtable names;
/* Faults that keep old connections' entries: active resets, rebooted hosts. */
static unsigned int npins;
/* The control surface new faults are shown on, or NULL; under the mutex. */
static const struct tcpfault_rules_surface *surface;

/*
 * The key's words: cookie, the two addresses, the ports, the shape. The
 * cookie and the shape vary little, so they seed the hash rather than
 * costing a round of it.
 */
static u32 fkey_hash(const void *data, u32 len, u32 seed)
{
	const struct tcpfault_fkey *k = data;
	u32 w[9], sh;

	memcpy(w, k->saddr, 16);
	memcpy(w + 4, k->daddr, 16);
	w[8] = (u32)k->sport << 16 | k->dport;
	memcpy(&sh, &k->shape, sizeof(sh));
	return jhash2(w, 9, seed ^ (u32)k->cookie ^ (u32)(k->cookie >> 32) ^ sh);
}

static int fkey_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const u64 *a = arg->key, *b = obj + offsetof(struct tcpfault_fnode, key);
	unsigned int i;
	u64 d = 0;

	BUILD_BUG_ON(sizeof(struct tcpfault_fkey) % sizeof(u64));
	for (i = 0; i < sizeof(struct tcpfault_fkey) / sizeof(u64); i++)
		d |= a[i] ^ b[i];
	return d != 0;
}

static const struct rhashtable_params ftab_params = {
	.key_len = sizeof(struct tcpfault_fkey),
	.hashfn = fkey_hash,
	.obj_cmpfn = fkey_cmp,
	.key_offset = offsetof(struct tcpfault_fnode, key),
	.head_offset = offsetof(struct tcpfault_fnode, node),
	.automatic_shrinking = true,
};

/* A name is unique within its namespace: the key is (netns cookie, name). */
struct name_key {
	u64 cookie;
	char name[TCPFAULT_NAME_MAX + 1];
};

struct name_entry {
	struct rhash_head node;
	struct rcu_head rcu;
	struct name_key key;	/* zeroed past the name: compared whole */
	struct tcpfault_fault *f;
};

static const struct rhashtable_params names_params = {
	.key_len = sizeof(struct name_key),
	.key_offset = offsetof(struct name_entry, key),
	.head_offset = offsetof(struct name_entry, node),
	.automatic_shrinking = true,
};

static struct rules_net *rules_net(const struct net *net)
{
	return net_generic(net, rules_net_id);
}

/**
 * tcpfault_rules_net_busy() - does a namespace hold any fault
 * @net: the namespace
 *
 * Return: true if the hooks must look at its segments.
 */
bool tcpfault_rules_net_busy(const struct net *net)
{
	return READ_ONCE(rules_net(net)->nfaults) != 0;
}

static void mask_addr(u8 *out, const u8 *in, unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	memset(out, 0, 16);
	memcpy(out, in, full);
	if (rest)
		out[full] = in[full] & (u8)(0xff << (8 - rest));
}

/*
 * A spec's shape: exact ports are keyed, "any" and ranges are not.
 * Returns true if a port is a range, to be checked on every hash hit.
 */
static bool spec_shape(const struct tcpfault_spec *s, struct tcpfault_shape *sh)
{
	bool sany = s->sport.lo == 0 && s->sport.hi == 65535;
	bool dany = s->dport.lo == 0 && s->dport.hi == 65535;
	bool sexact = s->sport.lo == s->sport.hi, dexact = s->dport.lo == s->dport.hi;

	memset(sh, 0, sizeof(*sh));
	sh->family = s->family;
	sh->splen = s->src.family ? s->src.plen : 0;
	sh->dplen = s->dst.family ? s->dst.plen : 0;
	sh->ports = (sexact ? 1 : 0) | (dexact ? 2 : 0);
	return !(sany || sexact) || !(dany || dexact);
}

static void mirror_shape(const struct tcpfault_shape *sh, struct tcpfault_shape *mi)
{
	mi->family = sh->family;
	mi->splen = sh->dplen;
	mi->dplen = sh->splen;
	mi->ports = ((sh->ports & 1) << 1) | ((sh->ports & 2) >> 1);
}

/* @out = @addr & @mask, 16 bytes, a word at a time. */
static void mask_words(u8 *out, const u8 *addr, const u32 *mask)
{
	unsigned int i;
	u32 w;

	for (i = 0; i < 4; i++) {
		memcpy(&w, addr + 4 * i, sizeof(w));
		w &= mask[i];
		memcpy(out + 4 * i, &w, sizeof(w));
	}
}

/* The hot part of a lookup: whole words, no byte loops. */
static void pkt_key(const struct net *net, const struct tcpfault_tuple *t,
		    const struct tcpfault_lshape *ls, struct tcpfault_fkey *key)
{
	key->cookie = tcpfault_net_cookie(net);
	mask_words(key->saddr, t->saddr, ls->smask);
	mask_words(key->daddr, t->daddr, ls->dmask);
	key->sport = (ls->sh.ports & 1) ? t->sport : 0;
	key->dport = (ls->sh.ports & 2) ? t->dport : 0;
	key->shape = ls->sh;
}

/*
 * Call @visit once for each fault a tuple matches, under RCU. A fault that
 * matches both ways (its mirror's key equals its own, or its ranges allow
 * both) is visited once, in the tuple's own orientation (rev == false).
 */
static void visit_matches(const struct net *net, const struct tcpfault_tuple *t,
			  void (*visit)(struct tcpfault_fault *f, bool rev, void *arg),
			  void *arg)
{
	struct rules_net *rn = rules_net(net);
	const struct tcpfault_shapes *shapes;
	struct tcpfault_fault *f;
	unsigned int i;

	shapes = rcu_dereference(rn->shapes);
	for (i = 0; shapes && i < shapes->n; i++) {
		const struct tcpfault_lshape *ls = &shapes->s[i];
		struct rhlist_head *list, *pos;
		struct tcpfault_fnode *fn;
		struct tcpfault_fkey key;

		if (ls->sh.family && ls->sh.family != t->family)
			continue;
		pkt_key(net, t, ls, &key);
		list = rhltable_lookup(&ftab, &key, ftab_params);
		rhl_for_each_entry_rcu(fn, pos, list, node) {
			if (fn->ranged && !tcpfault_spec_match(&fn->f->spec, t, fn->rev))
				continue;
			/* Matched as written too: that entry reports it. */
			if (fn->rev && tcpfault_spec_match(&fn->f->spec, t, false))
				continue;
			visit(fn->f, fn->rev, arg);
		}
	}
	list_for_each_entry_rcu(f, &rn->slow, slow_node) {
		if (tcpfault_spec_match(&f->spec, t, false))
			visit(f, false, arg);
		else if (tcpfault_spec_match(&f->spec, t, true))
			visit(f, true, arg);
	}
}

static void add_match(struct tcpfault_fault *f, bool rev, void *arg)
{
	struct tcpfault_matches *m = arg;

	if (m->n == TCPFAULT_MATCH_MAX) {
		m->more = true;
		return;
	}
	m->f[m->n] = f;
	m->rev[m->n++] = rev;
}

/**
 * tcpfault_rules_lookup() - the faults a segment matches
 * @net: the segment's namespace
 * @pkt: the segment
 * @m: filled with the first TCPFAULT_MATCH_MAX faults; @m->more is set if
 *     there are more, and then tcpfault_rules_verdict() visits them all
 *
 * Called under RCU from the hooks. A fault matching in the segment's own
 * orientation is reported with rev == false, else with rev == true.
 *
 * Return: the number of faults in @m.
 */
unsigned int tcpfault_rules_lookup(const struct net *net, const struct tcpfault_pkt *pkt,
				   struct tcpfault_matches *m)
{
	m->n = 0;
	m->more = false;
	visit_matches(net, &pkt->t, add_match, m);
	return m->n;
}

/**
 * tcpfault_rules_stat_add() - bump a fault's per-CPU counter
 * @f: the fault
 * @counter: enum tcpfault_fcounter
 * @v: amount
 */
void tcpfault_rules_stat_add(struct tcpfault_fault *f, int counter, u64 v)
{
	struct tcpfault_fstats *s;

	local_bh_disable();
	s = this_cpu_ptr(f->stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->c[counter], v);
	u64_stats_update_end(&s->syncp);
	local_bh_enable();
}

/**
 * tcpfault_rules_stat() - read a fault's counter, summed over CPUs
 * @f: the fault
 * @counter: enum tcpfault_fcounter
 *
 * Return: the sum.
 */
u64 tcpfault_rules_stat(struct tcpfault_fault *f, int counter)
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

/* Does a fault in state @st keep the entries of connections older than it? */
static bool fault_pins(const struct tcpfault_fault *f, int st)
{
	return st == TCPFAULT_FS_REBOOTED ||
	       (st == TCPFAULT_FS_ACTIVE && f->spec.mode == TCPFAULT_MODE_RESET);
}

struct pin_walk {
	const struct tcpfault_conn *c;
	bool need;
};

static void pin_visit(struct tcpfault_fault *f, bool rev, void *arg)
{
	struct pin_walk *w = arg;

	/* Pairs with set_state(): since_ns is valid once state is seen. */
	if (fault_pins(f, smp_load_acquire(&f->state)) &&
	    tcpfault_conn_opened_before(w->c, READ_ONCE(f->since_ns)))
		w->need = true;
}

/**
 * tcpfault_rules_conn_needed() - must the GC keep a connection's entry
 * @c: an open connection the GC would evict as idle or under pressure
 *
 * An active reset fault, or a rebooted host, still has to kill the
 * connections that predate it. Once such a connection's entry is gone,
 * tcpfault can no longer tell it from a new one, and leaves it alone.
 *
 * Return: true if a fault selecting @c still has to reset it.
 */
bool tcpfault_rules_conn_needed(const struct tcpfault_conn *c)
{
	struct pin_walk w = { .c = c };
	struct tcpfault_pkt pkt;

	if (!READ_ONCE(npins) || READ_ONCE(c->reset_done))
		return false;
	memset(&pkt, 0, sizeof(pkt));
	pkt.t.family = c->key.family;
	tcpfault_conn_endpoint(c, 0, pkt.t.saddr, &pkt.t.sport);
	tcpfault_conn_endpoint(c, 1, pkt.t.daddr, &pkt.t.dport);
	rcu_read_lock();
	visit_matches(c->net, &pkt.t, pin_visit, &w);
	rcu_read_unlock();
	return w.need;
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

/*
 * Inject an RST. The hooks do not see tcpfault's own segments, so the
 * connection's wire state is closed here: the RST ends it.
 */
static bool send_rst(struct net *net, struct tcpfault_fault *f, struct tcpfault_conn *c,
		     const struct tcpfault_rst *rst, u8 toward)
{
	if (tcpfault_inject_rst(net, rst))
		return false;
	tcpfault_rules_stat_add(f, TCPFAULT_F_RST_SENT, 1);
	if (!c)
		return true;
	tcpfault_conn_event(c, TCPFAULT_EV_RST_SENT, toward, rst->seq, 0, 0);
	if (xchg(&c->state, TCPFAULT_WS_CLOSED) != TCPFAULT_WS_CLOSED)
		tcpfault_conn_event(c, TCPFAULT_EV_STATE, toward, TCPFAULT_WS_CLOSED, 0, 0);
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

static bool reset_verdict(struct net *net, struct tcpfault_fault *f,
			  struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	struct tcpfault_rst rst;

	if (pkt->flags & TCPFAULT_TH_RST)
		return false;
	if ((pkt->flags & TCPFAULT_TH_SYN) && !(pkt->flags & TCPFAULT_TH_ACK))
		return false;
	if (!conn_stale(c, READ_ONCE(f->since_ns)) || !after_ok(f, c))
		return false;
	if (READ_ONCE(c->reset_done))
		return true;		/* already killed: swallow stragglers */
	WRITE_ONCE(c->reset_done, 1);
	tcpfault_inject_reply_rst(pkt, &rst);
	send_rst(net, f, c, &rst, pkt->dir);
	tcpfault_inject_forward_rst(pkt, &rst);
	send_rst(net, f, c, &rst, !pkt->dir);
	return true;
}

struct verdict_walk {
	struct net *net;
	struct tcpfault_pkt *pkt;
	struct tcpfault_conn *c;
	unsigned int verdict;
};

/* What one matched fault does to the segment. */
static void verdict_visit(struct tcpfault_fault *f, bool rev, void *arg)
{
	struct verdict_walk *w = arg;
	struct tcpfault_pkt *pkt = w->pkt;
	struct tcpfault_conn *c = w->c;
	struct net *net = w->net;
	/* Pairs with set_state(): since_ns is valid once state is seen. */
	int st = smp_load_acquire(&f->state);
	bool drop = false;

	if (st == TCPFAULT_FS_REBOOTED) {
		if (rev)
			tcpfault_rules_stat_add(f, TCPFAULT_F_MATCHED, pkt->segs);
		drop = rebooted_verdict(net, f, rev, pkt, c);
	} else if (st == TCPFAULT_FS_ACTIVE) {
		tcpfault_rules_stat_add(f, TCPFAULT_F_MATCHED, pkt->segs);
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
		default:
			break;
		}
	}
	if (drop) {
		tcpfault_rules_stat_add(f, TCPFAULT_F_DROPPED, pkt->segs);
		trace_tcpfault_drop(f, pkt);
		w->verdict = NF_DROP;
	}
}

/**
 * tcpfault_rules_verdict() - what the matched faults do to a segment
 * @net: the segment's namespace
 * @m: the faults it matched; if @m->more, every fault it matches is visited
 * @pkt: the segment, classified
 * @c: its connection, or NULL if untracked
 *
 * Return: NF_ACCEPT or NF_DROP.
 */
unsigned int tcpfault_rules_verdict(struct net *net, const struct tcpfault_matches *m,
				    struct tcpfault_pkt *pkt, struct tcpfault_conn *c)
{
	struct verdict_walk w = { .net = net, .pkt = pkt, .c = c, .verdict = NF_ACCEPT };
	unsigned int i;

	if (m->more) {
		visit_matches(net, &pkt->t, verdict_visit, &w);
		return w.verdict;
	}
	for (i = 0; i < m->n; i++)
		verdict_visit(m->f[i], m->rev[i], &w);
	return w.verdict;
}

/* ------------------------------------------------------------------ */
/* Control path, under tcpfault_rules_mutex                              */

static const char * const fstate_names[TCPFAULT_FS_MAX] = {
	TCPFAULT_FAULT_STATES(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

/**
 * tcpfault_rules_state_name() - a fault's state as users read it
 * @f: the fault
 *
 * An active power-off fault reads "dark".
 *
 * Return: a static string.
 */
const char *tcpfault_rules_state_name(const struct tcpfault_fault *f)
{
	int st = READ_ONCE(f->state);

	if (st == TCPFAULT_FS_ACTIVE && f->spec.mode == TCPFAULT_MODE_POWER_OFF)
		return "dark";
	return st >= 0 && st < (int)ARRAY_SIZE(fstate_names) ? fstate_names[st] : "?";
}

/**
 * tcpfault_rules_time_left_ms() - time to the next timed transition
 * @f: the fault
 *
 * Return: milliseconds, or -1 if nothing is scheduled.
 */
s64 tcpfault_rules_time_left_ms(const struct tcpfault_fault *f)
{
	u64 dl = READ_ONCE(f->deadline_ns), now = ktime_get_ns();
	int st = READ_ONCE(f->state);

	if (!dl || (st != TCPFAULT_FS_PENDING && st != TCPFAULT_FS_ACTIVE))
		return -1;
	return dl > now ? (s64)div_u64(dl - now, NSEC_PER_MSEC) : 0;
}

static void set_state(struct tcpfault_fault *f, int st)
{
	trace_tcpfault_fault_state(f, f->state, st);
	WRITE_ONCE(npins, npins - fault_pins(f, f->state) + fault_pins(f, st));
	smp_store_release(&f->state, st);	/* publishes since_ns */
}

static void schedule_at(struct tcpfault_fault *f, u64 deadline)
{
	u64 now = ktime_get_ns();

	WRITE_ONCE(f->deadline_ns, deadline);
	mod_delayed_work(system_power_efficient_wq, &f->work,
			 deadline > now ? nsecs_to_jiffies(deadline - now) : 0);
}

struct conn_walk {
	struct tcpfault_fault *f;
	u8 type;
};

static void conn_mark(struct tcpfault_conn *c, void *arg)
{
	struct conn_walk *w = arg;
	struct tcpfault_tuple t;

	t.family = c->key.family;
	tcpfault_conn_endpoint(c, 0, t.saddr, &t.sport);
	tcpfault_conn_endpoint(c, 1, t.daddr, &t.dport);
	if (tcpfault_spec_match(&w->f->spec, &t, false) ||
	    tcpfault_spec_match(&w->f->spec, &t, true))
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

static void conn_collect_reset(struct tcpfault_conn *c, void *arg)
{
	struct reset_walk *w = arg;
	struct tcpfault_tuple t;
	u8 st = READ_ONCE(c->state);

	if (w->n == ARRAY_SIZE(w->batch) || READ_ONCE(c->reset_done) ||
	    !READ_ONCE(c->d[0].seen) || !READ_ONCE(c->d[1].seen) ||
	    (st != TCPFAULT_WS_ESTABLISHED && st != TCPFAULT_WS_FIN_WAIT &&
	     st != TCPFAULT_WS_CLOSING) || !after_ok(w->f, c))
		return;
	t.family = c->key.family;
	tcpfault_conn_endpoint(c, 0, t.saddr, &t.sport);
	tcpfault_conn_endpoint(c, 1, t.daddr, &t.dport);
	if (!tcpfault_spec_match(&w->f->spec, &t, false) &&
	    !tcpfault_spec_match(&w->f->spec, &t, true))
		return;
	WRITE_ONCE(c->reset_done, 1);
	w->batch[w->n++] = c;
}

/*
 * Reset now every tracked connection the fault selects whose sequence
 * state both ways is known. The others are reset on their next segment,
 * and so is one whose RSTs could not both be sent (no route: a connection
 * in a VRF, whose table only its segments name): its next segment is
 * answered, routed as that segment says, rather than swallowed.
 */
static void reset_tracked(struct tcpfault_fault *f)
{
	struct reset_walk w = { .f = f };
	unsigned int i;

	do {
		w.n = 0;
		rcu_read_lock();
		tcpfault_conn_for_each(f->net, conn_collect_reset, &w);
		for (i = 0; i < w.n; i++) {
			struct tcpfault_conn *c = w.batch[i];
			struct tcpfault_rst rst = { .family = c->key.family, .ack = true };
			bool sent = true;
			int ep;

			for (ep = 0; ep < 2; ep++) {
				/* toward endpoint ep, from the other one */
				tcpfault_conn_endpoint(c, !ep, rst.saddr, &rst.sport);
				tcpfault_conn_endpoint(c, ep, rst.daddr, &rst.dport);
				rst.seq = READ_ONCE(c->d[!ep].nxt);
				rst.ack_seq = READ_ONCE(c->d[ep].nxt);
				sent &= send_rst(f->net, f, c, &rst, (u8)ep);
			}
			if (!sent)
				WRITE_ONCE(c->reset_done, 0);
		}
		rcu_read_unlock();
	} while (w.n == ARRAY_SIZE(w.batch));
}

/* Called once per socket the power-off really removed (after its abort). */
static void abort_cb(struct sock *sk, void *arg)
{
	tcpfault_rules_stat_add(arg, TCPFAULT_F_ABORTED, 1);
}

static void activate(struct tcpfault_fault *f)
{
	u64 now = ktime_get_ns();

	WRITE_ONCE(f->since_ns, now);
	set_state(f, TCPFAULT_FS_ACTIVE);
	if (f->spec.duration_ms)
		schedule_at(f, now + f->spec.duration_ms * NSEC_PER_MSEC);
	else
		WRITE_ONCE(f->deadline_ns, 0);
	mark_conns(f, TCPFAULT_EV_FAULT_START);
	/* The state is published: the aborts' own RSTs are dropped. */
	if (f->spec.mode == TCPFAULT_MODE_POWER_OFF)
		tcpfault_inject_abort_host(f->net, &f->spec.src, abort_cb, f);
	else if (f->spec.mode == TCPFAULT_MODE_RESET)
		reset_tracked(f);
}

/* End an active fault: healed by its duration, or switched off. */
static void deactivate(struct tcpfault_fault *f, int st)
{
	WRITE_ONCE(f->deadline_ns, 0);
	if (f->spec.mode == TCPFAULT_MODE_POWER_OFF) {
		WRITE_ONCE(f->since_ns, ktime_get_ns());
		st = TCPFAULT_FS_REBOOTED;
	}
	set_state(f, st);
	mark_conns(f, TCPFAULT_EV_FAULT_STOP);
}

static void start(struct tcpfault_fault *f)
{
	if (f->spec.delay_ms) {
		set_state(f, TCPFAULT_FS_PENDING);
		schedule_at(f, ktime_get_ns() + f->spec.delay_ms * NSEC_PER_MSEC);
	} else {
		activate(f);
	}
}

static void fault_work(struct work_struct *work)
{
	struct tcpfault_fault *f = container_of(to_delayed_work(work),
						struct tcpfault_fault, work);
	u64 now = ktime_get_ns();

	mutex_lock(&tcpfault_rules_mutex);
	if (!f->deadline_ns)
		goto out;
	if (now < f->deadline_ns) {
		/* Rescheduled while this run waited for the mutex. */
		schedule_at(f, f->deadline_ns);
		goto out;
	}
	if (f->state == TCPFAULT_FS_PENDING)
		activate(f);
	else if (f->state == TCPFAULT_FS_ACTIVE)
		deactivate(f, TCPFAULT_FS_HEALED);
out:
	mutex_unlock(&tcpfault_rules_mutex);
}

/**
 * tcpfault_rules_set_enabled() - switch a fault on or off
 * @f: the fault
 * @on: switch on (restarting delay= and duration=) or off
 *
 * A power-off fault has two phases: switching it off while the host is
 * dark reboots the host (REBOOTED: it answers old connections with RST),
 * and switching it off once rebooted ends the fault. Switching on an
 * already pending or active fault changes nothing; switching on a
 * rebooted one powers the host off again.
 *
 * Return: 0, or -ENOENT if the fault is being deleted.
 */
int tcpfault_rules_set_enabled(struct tcpfault_fault *f, bool on)
{
	int ret = 0;

	mutex_lock(&tcpfault_rules_mutex);
	switch (f->state) {
	case TCPFAULT_FS_DEAD:
		ret = -ENOENT;
		break;
	case TCPFAULT_FS_PENDING:
		if (!on) {
			WRITE_ONCE(f->deadline_ns, 0);
			cancel_delayed_work(&f->work);
			set_state(f, TCPFAULT_FS_DISABLED);
		}
		break;
	case TCPFAULT_FS_ACTIVE:
		if (!on) {
			cancel_delayed_work(&f->work);
			deactivate(f, TCPFAULT_FS_DISABLED);
		}
		break;
	case TCPFAULT_FS_REBOOTED:
		if (on)
			start(f);
		else
			set_state(f, TCPFAULT_FS_DISABLED);
		break;
	default:
		if (on)
			start(f);
		break;
	}
	mutex_unlock(&tcpfault_rules_mutex);
	return ret;
}

/* Publish the packet path's copy of the shapes; NULL when there are none. */
static int shapes_publish(struct rules_net *rn)
{
	struct tcpfault_shapes *snap = NULL, *old;
	u8 ones[16], m[16];
	unsigned int i;

	memset(ones, 0xff, sizeof(ones));
	if (rn->nshapes) {
		snap = kmalloc(struct_size(snap, s, rn->nshapes), GFP_KERNEL);
		if (!snap)
			return -ENOMEM;
		snap->n = rn->nshapes;
		for (i = 0; i < rn->nshapes; i++) {
			snap->s[i].sh = rn->shape[i];
			mask_addr(m, ones, rn->shape[i].splen);
			memcpy(snap->s[i].smask, m, sizeof(m));
			mask_addr(m, ones, rn->shape[i].dplen);
			memcpy(snap->s[i].dmask, m, sizeof(m));
		}
	}
	old = rcu_replace_pointer(rn->shapes, snap, lockdep_is_held(&tcpfault_rules_mutex));
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static int shape_get(struct rules_net *rn, const struct tcpfault_shape *sh)
{
	unsigned int i;

	for (i = 0; i < rn->nshapes; i++) {
		if (!memcmp(&rn->shape[i], sh, sizeof(*sh))) {
			rn->shape_refs[i]++;
			return 0;
		}
	}
	if (rn->nshapes == SHAPES_MAX)
		return -ENOSPC;
	rn->shape[rn->nshapes] = *sh;
	rn->shape_refs[rn->nshapes++] = 1;
	if (shapes_publish(rn)) {
		rn->nshapes--;
		return -ENOMEM;
	}
	return 0;
}

static void shape_put(struct rules_net *rn, const struct tcpfault_shape *sh)
{
	unsigned int i;

	for (i = 0; i < rn->nshapes; i++)
		if (!memcmp(&rn->shape[i], sh, sizeof(*sh)))
			break;
	if (WARN_ON(i == rn->nshapes) || --rn->shape_refs[i])
		return;
	rn->shape[i] = rn->shape[rn->nshapes - 1];
	rn->shape_refs[i] = rn->shape_refs[rn->nshapes - 1];
	rn->nshapes--;
	/* Shrinking: if the allocation fails, the stale snapshot stays,
	 * which only costs a lookup that finds nothing.
	 */
	shapes_publish(rn);
}

/* Both a fault's shape and its mirror, or neither. */
static int shapes_get(struct rules_net *rn, const struct tcpfault_shape *sh)
{
	struct tcpfault_shape mi;
	int ret;

	mirror_shape(sh, &mi);
	ret = shape_get(rn, sh);
	if (ret)
		return ret;
	ret = shape_get(rn, &mi);
	if (ret)
		shape_put(rn, sh);
	return ret;
}

static void shapes_put(struct rules_net *rn, const struct tcpfault_shape *sh)
{
	struct tcpfault_shape mi;

	mirror_shape(sh, &mi);
	shape_put(rn, &mi);
	shape_put(rn, sh);
}

/* The fault named @name in the namespace whose cookie is @cookie. */
static struct name_entry *name_find(u64 cookie, const char *name)
{
	struct name_key key;

	memset(&key, 0, sizeof(key));
	key.cookie = cookie;
	strscpy(key.name, name, sizeof(key.name));
	return rhashtable_lookup_fast(&names, &key, names_params);
}

static void fault_free_rcu(struct rcu_head *head)
{
	struct tcpfault_fault *f = container_of(head, struct tcpfault_fault, rcu);

	kfree(f->fnode);
	free_percpu(f->stats);
	kfree(f);
}

/**
 * tcpfault_rules_fault_free() - last reference gone: free after a grace period
 * @f: the fault
 *
 * Called from the kobject release.
 */
void tcpfault_rules_fault_free(struct tcpfault_fault *f)
{
	call_rcu(&f->rcu, fault_free_rcu);
}

/* The kobject of a fault no control surface shows: a bare refcount. */
static void fault_bare_release(struct kobject *kobj)
{
	tcpfault_rules_fault_free(container_of(kobj, struct tcpfault_fault, kobj));
}

static struct kobj_type fault_bare_ktype = {
	.release = fault_bare_release,
};

/**
 * tcpfault_rules_set_surface() - show the faults added from now on
 * @s: the control surface, or NULL to stop
 *
 * A fault keeps the surface it was shown on until it is destroyed: a
 * surface flushes the faults before it goes (tcpfault_sysfs_uninit()).
 */
void tcpfault_rules_set_surface(const struct tcpfault_rules_surface *s)
{
	mutex_lock(&tcpfault_rules_mutex);
	surface = s;
	mutex_unlock(&tcpfault_rules_mutex);
}

/*
 * A hash entry of @f, as written or mirrored (@rev): the ends swapped and
 * keyed under the mirrored shape, whose port bits say which ports are
 * exact, as in pkt_key().
 */
static void fn_key(struct tcpfault_fnode *fn, struct tcpfault_fault *f,
		   const struct tcpfault_shape *sh, bool ranged, bool rev)
{
	const struct tcpfault_spec *s = &f->spec;
	const struct tcpfault_prefix *src = rev ? &s->dst : &s->src;
	const struct tcpfault_prefix *dst = rev ? &s->src : &s->dst;
	const struct tcpfault_portrange *sport = rev ? &s->dport : &s->sport;
	const struct tcpfault_portrange *dport = rev ? &s->sport : &s->dport;

	fn->f = f;
	fn->ranged = ranged;
	fn->rev = rev;
	fn->key.cookie = tcpfault_net_cookie(f->net);
	if (rev)
		mirror_shape(sh, &fn->key.shape);
	else
		fn->key.shape = *sh;
	memcpy(fn->key.saddr, src->addr, 16);
	memcpy(fn->key.daddr, dst->addr, 16);
	fn->key.sport = (fn->key.shape.ports & 1) ? sport->lo : 0;
	fn->key.dport = (fn->key.shape.ports & 2) ? dport->lo : 0;
}

/* Publish a fault in the lookup structures. */
static int fault_link(struct tcpfault_fault *f, struct name_entry *ne)
{
	struct rules_net *rn = rules_net(f->net);
	struct tcpfault_fnode *fn;
	struct tcpfault_shape sh;
	bool ranged;
	int ret;

	ret = rhashtable_insert_fast(&names, &ne->node, names_params);
	if (ret)
		return ret;
	fn = kcalloc(2, sizeof(*fn), GFP_KERNEL);
	ret = -ENOMEM;
	if (!fn)
		goto err_name;
	ranged = spec_shape(&f->spec, &sh);
	fn_key(&fn[0], f, &sh, ranged, false);
	fn_key(&fn[1], f, &sh, ranged, true);
	ret = shapes_get(rn, &sh);
	if (ret) {
		kfree(fn);
		if (ret != -ENOSPC)
			goto err_name;
		/* Too many distinct shapes: fall back to the list. */
	} else {
		ret = rhltable_insert(&ftab, &fn[0].node, ftab_params);
		if (!ret) {
			ret = rhltable_insert(&ftab, &fn[1].node, ftab_params);
			if (ret)
				rhltable_remove(&ftab, &fn[0].node, ftab_params);
		}
		if (ret) {
			shapes_put(rn, &sh);
			synchronize_rcu();	/* fn[0] may have been seen */
			kfree(fn);
			goto err_name;
		}
		f->fnode = fn;
	}
	if (!f->fnode)
		list_add_tail_rcu(&f->slow_node, &rn->slow);
	list_add_tail(&f->node, &all_faults);
	list_add_tail(&f->net_node, &rn->faults);
	WRITE_ONCE(rn->nfaults, rn->nfaults + 1);
	nfaults_total++;
	static_branch_inc(&tcpfault_armed);
	return 0;

err_name:
	rhashtable_remove_fast(&names, &ne->node, names_params);
	return ret;
}

/*
 * Release @f's name. Only once its sysfs directory is gone: a new fault of
 * the same name would otherwise race kobject_del() for the directory.
 */
static void name_release(struct tcpfault_fault *f)
{
	struct name_entry *ne = name_find(f->net_cookie, f->spec.name);

	lockdep_assert_held(&tcpfault_rules_mutex);
	if (ne && ne->f == f) {
		rhashtable_remove_fast(&names, &ne->node, names_params);
		kfree_rcu(ne, rcu);
	}
}

/*
 * Unpublish a fault; the caller destroys it after dropping the mutex. The
 * name stays taken (by a DEAD fault) until fault_destroy() releases it.
 */
static void fault_unlink(struct tcpfault_fault *f)
{
	struct rules_net *rn = rules_net(f->net);

	if (f->state == TCPFAULT_FS_ACTIVE)
		mark_conns(f, TCPFAULT_EV_FAULT_STOP);
	set_state(f, TCPFAULT_FS_DEAD);
	WRITE_ONCE(f->deadline_ns, 0);
	if (f->fnode) {
		rhltable_remove(&ftab, &f->fnode[1].node, ftab_params);
		rhltable_remove(&ftab, &f->fnode[0].node, ftab_params);
		shapes_put(rn, &f->fnode[0].key.shape);
	} else {
		list_del_rcu(&f->slow_node);
	}
	list_del(&f->node);
	list_del(&f->net_node);
	WRITE_ONCE(rn->nfaults, rn->nfaults - 1);
	WRITE_ONCE(rn->ndying, rn->ndying + 1);
	nfaults_total--;
	static_branch_dec(&tcpfault_armed);
}

/*
 * Remove an unlinked fault's directory, then its name. Its namespace is
 * still alive here: its exit waits for ndying to drop to zero, so the
 * directory's namespace tag (f->net) never outlives the namespace.
 */
static void fault_destroy(struct tcpfault_fault *f)
{
	struct rules_net *rn = rules_net(f->net);
	bool last;

	cancel_delayed_work_sync(&f->work);
	if (f->surface)
		f->surface->fault_del(f);
	mutex_lock(&tcpfault_rules_mutex);
	name_release(f);
	WRITE_ONCE(rn->ndying, rn->ndying - 1);
	last = !rn->ndying;
	mutex_unlock(&tcpfault_rules_mutex);
	kobject_put(&f->kobj);		/* the last reference */
	if (last)
		wake_up_all(&dying_wq);
}

/**
 * tcpfault_rules_add() - create a fault in a namespace
 * @net: the namespace (the writer's)
 * @spec: a parsed, valid spec
 *
 * Names are unique within a namespace: another namespace may hold a fault
 * of the same name, and learns nothing of this one.
 *
 * Return: 0, -EEXIST if the name is taken in @net (also while a del of
 * it is still running), or -ENOMEM.
 */
int tcpfault_rules_add(struct net *net, const struct tcpfault_spec *spec)
{
	struct tcpfault_fault *f;
	struct name_entry *ne;
	int ret;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	ne = kzalloc(sizeof(*ne), GFP_KERNEL);
	if (!f || !ne) {
		kfree(f);
		kfree(ne);
		return -ENOMEM;
	}
	f->stats = alloc_percpu(struct tcpfault_fstats);
	if (!f->stats) {
		kfree(f);
		kfree(ne);
		return -ENOMEM;
	}
	f->spec = *spec;
	f->net = net;
	f->net_cookie = tcpfault_net_cookie(net);
	f->netns_inum = net->ns.inum;
	INIT_LIST_HEAD(&f->slow_node);
	INIT_DELAYED_WORK(&f->work, fault_work);
	ne->key.cookie = f->net_cookie;
	strscpy(ne->key.name, spec->name, sizeof(ne->key.name));
	ne->f = f;

	mutex_lock(&tcpfault_rules_mutex);
	f->surface = surface;
	/* From here on, kobject_put() frees @f. */
	kobject_init(&f->kobj, surface ? surface->ktype : &fault_bare_ktype);
	if (name_find(f->net_cookie, spec->name)) {
		ret = -EEXIST;
		goto err;
	}
	f->id = ++next_fault_id;
	ret = fault_link(f, ne);
	if (ret)
		goto err;
	ret = surface ? surface->fault_add(f) : 0;
	if (ret) {
		fault_unlink(f);
		name_release(f);
		/* Not destroyed: the writer holds @net, nobody waits. */
		WRITE_ONCE(rules_net(net)->ndying, rules_net(net)->ndying - 1);
		mutex_unlock(&tcpfault_rules_mutex);
		kobject_put(&f->kobj);
		return ret;
	}
	if (spec->enabled)
		start(f);
	mutex_unlock(&tcpfault_rules_mutex);
	return 0;

err:
	mutex_unlock(&tcpfault_rules_mutex);
	kfree(ne);
	kobject_put(&f->kobj);
	return ret;
}

/**
 * tcpfault_rules_del() - delete a fault by name
 * @net: the namespace it lives in (the writer's)
 * @name: the name
 *
 * The name is free again when this returns: the fault's directory is gone.
 *
 * Return: 0 or -ENOENT (also while another writer is deleting it).
 */
int tcpfault_rules_del(struct net *net, const char *name)
{
	struct name_entry *ne;
	struct tcpfault_fault *f;

	mutex_lock(&tcpfault_rules_mutex);
	ne = name_find(tcpfault_net_cookie(net), name);
	if (!ne || ne->f->state == TCPFAULT_FS_DEAD) {
		mutex_unlock(&tcpfault_rules_mutex);
		return -ENOENT;
	}
	f = ne->f;
	fault_unlink(f);
	mutex_unlock(&tcpfault_rules_mutex);
	fault_destroy(f);
	return 0;
}

/**
 * tcpfault_rules_flush() - delete every fault of a namespace, or every fault
 * @net: the namespace, or NULL for all of them
 *
 * Return: the number of faults deleted.
 */
int tcpfault_rules_flush(struct net *net)
{
	struct tcpfault_fault *f, *tmp;
	LIST_HEAD(dead);
	int n = 0;

	mutex_lock(&tcpfault_rules_mutex);
	list_for_each_entry_safe(f, tmp, &all_faults, node) {
		if (net && f->net != net)
			continue;
		fault_unlink(f);
		list_add_tail(&f->node, &dead);
	}
	mutex_unlock(&tcpfault_rules_mutex);
	list_for_each_entry_safe(f, tmp, &dead, node) {
		list_del(&f->node);
		fault_destroy(f);
		n++;
		cond_resched();
	}
	return n;
}

/**
 * tcpfault_rules_count() - faults in a namespace
 * @net: the namespace
 *
 * Return: the count.
 */
u64 tcpfault_rules_count(const struct net *net)
{
	return READ_ONCE(rules_net(net)->nfaults);
}

/**
 * tcpfault_rules_net_list() - a namespace's faults, for procfs
 * @net: the namespace
 *
 * Caller holds tcpfault_rules_mutex.
 *
 * Return: the list head of tcpfault_fault.net_node entries.
 */
struct list_head *tcpfault_rules_net_list(struct net *net)
{
	lockdep_assert_held(&tcpfault_rules_mutex);
	return &rules_net(net)->faults;
}

static int __net_init rules_net_init(struct net *net)
{
	struct rules_net *rn = rules_net(net);

	INIT_LIST_HEAD(&rn->faults);
	INIT_LIST_HEAD(&rn->slow);
	RCU_INIT_POINTER(rn->shapes, NULL);
	return 0;
}

/*
 * Delete the namespace's faults, and wait for those another path (module
 * unload's flush) has unlinked but not yet destroyed: each fault's sysfs
 * directory is tagged with @net, so it must be gone before @net is freed.
 */
static void __net_exit rules_net_exit(struct net *net)
{
	struct rules_net *rn = rules_net(net);

	tcpfault_rules_flush(net);
	wait_event(dying_wq, !READ_ONCE(rn->ndying));
	WARN_ON(!list_empty(&rn->faults) || !list_empty(&rn->slow) || rn->nshapes);
	kfree(rcu_dereference_protected(rn->shapes, true));
}

static struct pernet_operations rules_net_ops = {
	.init = rules_net_init,
	.exit = rules_net_exit,
	.id = &rules_net_id,
	.size = sizeof(struct rules_net),
};

/**
 * tcpfault_rules_init() - the fault tables and the per-namespace state
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_rules_init(void)
{
	int ret;

	ret = rhltable_init(&ftab, &ftab_params);
	if (ret)
		return ret;
	ret = rhashtable_init(&names, &names_params);
	if (ret)
		goto err_ftab;
	ret = register_pernet_subsys(&rules_net_ops);
	if (ret)
		goto err_names;
	return 0;

err_names:
	rhashtable_destroy(&names);
err_ftab:
	rhltable_destroy(&ftab);
	return ret;
}

/**
 * tcpfault_rules_uninit() - delete every fault, free the tables
 */
void tcpfault_rules_uninit(void)
{
	unregister_pernet_subsys(&rules_net_ops);
	WARN_ON(nfaults_total);
	rcu_barrier();
	rhashtable_destroy(&names);
	rhltable_destroy(&ftab);
}
