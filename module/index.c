// SPDX-License-Identifier: GPL-2.0
/*
 * The fault index: which faults a segment matches, in a time that does not
 * grow with the number of faults (tuple space search).
 *
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
 * Two filters let most segments leave before any hashing that counts: the
 * port filter (a bit per port some fault names, tested on the two ports
 * straight from the headers, tcpfault_index_may_match()), and the key
 * filter (a bit per slot of a cheap hash of every key in the table,
 * tested per shape before the table's lookup). Both may say yes too often,
 * never too rarely.
 *
 * The index knows a fault by its spec and namespace only; what a match does
 * is the verdict's business (verdict.c), and when a fault comes and goes the
 * fault table's (rules.c).
 *
 * Every insertion and removal changes the namespace's generation
 * (tcpfault_index_gen()), so that what a lookup found can be kept, by a
 * connection's entry, for as long as it holds.
 *
 * Locking: index_mutex serialises insert and remove; lookups run under RCU.
 * A removed fault's hash entries are freed with it, after a grace period
 * (tcpfault_index_release()).
 */
#include <linux/bitmap.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tcpfault.h"

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
	struct list_head ns_node;	/* on index_net's @keyed, under index_mutex */
	u32 kh;		/* key_hash() of @key */
	bool ranged;	/* a port is a range: the key holds only exact ports */
	bool rev;
};

/*
 * The key filter: one bit per slot, set for every key of the namespace's
 * hash entries (a fault's two), at key_hash() modulo the size. A lookup
 * whose key's bit is clear cannot find anything, and skips the hash table.
 * Immutable bits but for additions; a removed key's bit stays set (it only
 * lets a lookup through) until the filter is rebuilt.
 */
struct key_filter {
	struct rcu_head rcu;
	u32 mask;		/* slots - 1 */
	unsigned long bits[];
};

/*
 * A shape as the packet path uses it: its address masks as words, and the
 * mask and shape word of key_words_hash()'s last word (see kf_may_find()).
 */
struct tcpfault_lshape {
	struct tcpfault_shape sh;
	u32 shw;
	u64 smask[2];
	u64 dmask[2];
	u64 pmask;
};

struct tcpfault_shapes {
	struct rcu_head rcu;
	unsigned int n;
	struct tcpfault_lshape s[];
};

/**
 * struct index_net - one namespace's part of the index
 * @slow: faults whose shape did not fit in SHAPES_MAX, RCU
 * @shapes: the shapes present, an immutable RCU snapshot
 * @shape: the shapes present with their fault counts, under index_mutex
 * @shape_refs: fault count per entry of @shape
 * @nshapes: entries in @shape
 * @nfaults: faults indexed here
 * @port_bits: the port filter: bit p is set while a fault names port p
 *	(see port_span()); allocated with the first such fault, tested
 *	locklessly
 * @port_refs: faults naming each port, under index_mutex
 * @port_open: faults the port filter cannot judge (no port, or a wide range)
 * @kf: the key filter, RCU; NULL while nothing is hashed (or it could not
 *	be allocated: then every lookup goes to the table)
 * @keyed: the namespace's hash entries, under index_mutex
 * @nkeyed: entries on @keyed
 * @kf_stale: entries removed since @kf was built, their bits still set
 * @gen: the generation, changed (by 2, from 2: never 0 or 1) after every
 *	insertion and removal; see tcpfault_index_gen()
 */
struct index_net {
	struct list_head slow;
	struct tcpfault_shapes __rcu *shapes;
	struct tcpfault_shape shape[SHAPES_MAX];
	unsigned int shape_refs[SHAPES_MAX];
	unsigned int nshapes;
	unsigned int nfaults;
	unsigned long *port_bits;
	u32 *port_refs;
	unsigned int port_open;
	struct key_filter __rcu *kf;
	struct list_head keyed;
	unsigned int nkeyed;
	unsigned int kf_stale;
	unsigned long gen;
};

/* A port range wider than this leaves its fault out of the port filter. */
#define PORT_SPAN_MAX	1024

static DEFINE_MUTEX(index_mutex);
static unsigned int index_net_id __read_mostly;
/* Told when a namespace gets its first fault and loses its last one. */
static int (*index_notify)(struct net *net, bool busy);
static struct rhltable ftab;

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

static struct index_net *index_net(const struct net *net)
{
	return net_generic(net, index_net_id);
}

/*
 * The packet path's index_net(), already under RCU: net_generic() without
 * its own rcu_read_lock() and unlock, two calls per segment on a
 * preemptible-RCU kernel. The namespace's generic array is stable while
 * the caller holds RCU, as net_generic() itself relies on.
 */
static const struct index_net *index_net_rcu(const struct net *net)
{
	return rcu_dereference(net->gen)->ptr[index_net_id];
}

/**
 * tcpfault_index_count() - faults indexed in a namespace
 * @net: the namespace
 *
 * Return: the count.
 */
unsigned int tcpfault_index_count(const struct net *net)
{
	return READ_ONCE(index_net(net)->nfaults);
}

/**
 * tcpfault_index_gen() - the namespace's index generation
 * @net: the namespace
 *
 * Under RCU. Changes after every fault goes in or out of the namespace's
 * index, before a removed fault is freed: what a lookup found while the
 * generation read here was current holds, faults and all, for as long as
 * the generation is still current in the same RCU read-side section. Read
 * it before the lookup whose result is to be kept (acquire: a fault whose
 * generation is seen is found).
 *
 * Return: the generation, even and never 0.
 */
unsigned long tcpfault_index_gen(const struct net *net)
{
	/* Pairs with index_changed(): a generation seen, its faults are found. */
	return smp_load_acquire(&index_net_rcu(net)->gen);
}

/* A fault went in or out: what lookups found before no longer holds. */
static void index_changed(struct index_net *in)
{
	lockdep_assert_held(&index_mutex);
	/* Pairs with tcpfault_index_gen(): the table's change is seen first. */
	smp_store_release(&in->gen, in->gen + 2);
}

/**
 * tcpfault_index_set_notify() - who is told when a namespace's index empties
 * @notify: called under the index's mutex, in process context, with
 *	@busy true before a namespace's first fault goes in (an error fails
 *	the insertion) and false once its last one is out; or NULL
 *
 * The hooks register themselves in a namespace only while it has faults.
 */
void tcpfault_index_set_notify(int (*notify)(struct net *net, bool busy))
{
	mutex_lock(&index_mutex);
	index_notify = notify;
	mutex_unlock(&index_mutex);
}

/* Tell the notify callback of a namespace's first fault or its last. */
static int index_busy(struct net *net, bool busy)
{
	return index_notify ? index_notify(net, busy) : 0;
}

/*
 * The port filter. A fault selects a segment only if the segment's source
 * or destination port is one of the fault's: with dport=80, a segment
 * matches as written if its dport is 80, and reversed if its sport is. So
 * a segment neither of whose ports any fault names selects nothing, and
 * two bit tests tell, before any hashing. The ports a fault names are its
 * narrower port range (either would do; of two equal, the source one);
 * a fault whose ranges are both wider than PORT_SPAN_MAX ("any" included)
 * is counted in port_open, and while there is one the filter lets every
 * segment through.
 */
static bool port_span(const struct tcpfault_spec *s, u16 *lo, u16 *hi)
{
	u32 sw = s->sport.hi - s->sport.lo, dw = s->dport.hi - s->dport.lo;
	/*
	 * Of two exact ports, the source: in a fault naming a whole 4-tuple it
	 * is the client's ephemeral port, which few connections share, where
	 * the service port is every connection's.
	 */
	const struct tcpfault_portrange *r = sw <= dw ? &s->sport : &s->dport;

	if (min(sw, dw) >= PORT_SPAN_MAX)
		return false;
	*lo = r->lo;
	*hi = r->hi;
	return true;
}

/* Count a fault in the port filter (@add) or take it out. */
static int port_filter(struct index_net *in, const struct tcpfault_spec *s, bool add)
{
	u16 lo, hi;
	u32 p;

	if (!port_span(s, &lo, &hi)) {
		WRITE_ONCE(in->port_open, in->port_open + (add ? 1 : -1));
		return 0;
	}
	if (!in->port_refs) {
		in->port_refs = kvcalloc(65536, sizeof(*in->port_refs), GFP_KERNEL);
		in->port_bits = bitmap_zalloc(65536, GFP_KERNEL);
		if (!in->port_refs || !in->port_bits) {
			kvfree(in->port_refs);
			bitmap_free(in->port_bits);
			in->port_refs = NULL;
			in->port_bits = NULL;
			return -ENOMEM;
		}
	}
	for (p = lo; p <= hi; p++) {
		if (add && !in->port_refs[p]++)
			set_bit(p, in->port_bits);
		else if (!add && !--in->port_refs[p])
			clear_bit(p, in->port_bits);
	}
	return 0;
}

/**
 * tcpfault_index_may_match() - can any fault of the namespace select a segment
 * @net: the segment's namespace
 * @sport: its source port
 * @dport: its destination port
 *
 * Under RCU, lockless, two bit tests. False only if no fault can select a segment
 * with these ports; true may still find none.
 *
 * Return: whether tcpfault_index_lookup() is worth calling.
 */
bool tcpfault_index_may_match(const struct net *net, u16 sport, u16 dport)
{
	const struct index_net *in = index_net_rcu(net);
	const unsigned long *bits;

	if (READ_ONCE(in->port_open))
		return true;
	/* Allocated once, before its first bit is set; freed with the namespace. */
	bits = READ_ONCE(in->port_bits);
	return bits && (test_bit(sport, bits) || test_bit(dport, bits));
}

/*
 * The key filter's hash: cheap, unseeded, over everything in a key but the
 * namespace cookie (the filter is the namespace's), as five words: the
 * addresses' four and one of ports and shape, each folded in by an xor and
 * a multiply by one odd constant (one register: the packet path's test
 * saves none), then mixed down. A collision only sends a lookup to the
 * table.
 */
static __always_inline u32 key_words_hash(u64 s0, u64 s1, u64 d0, u64 d1, u64 pw)
{
	const u64 k = 0x9e3779b97f4a7c15ULL;
	u64 h = ((((s0 * k ^ s1) * k ^ d0) * k ^ d1) * k ^ pw) * k;

	h ^= h >> 29;
	return (h * k) >> 32;
}

/* The ports-and-shape word of a key. */
static u64 key_pw(u16 sport, u16 dport, const struct tcpfault_shape *shape)
{
	u32 sh;

	memcpy(&sh, shape, sizeof(sh));
	return (u64)sport << 48 | (u64)dport << 32 | sh;
}

/* An address's two words (scalars, not an array: no stack protector). */
static __always_inline u64 addr_word(const u8 *addr, unsigned int i)
{
	u64 w;

	memcpy(&w, addr + 8 * i, sizeof(w));
	return w;
}

static u32 key_hash(const struct tcpfault_fkey *k)
{
	return key_words_hash(addr_word(k->saddr, 0), addr_word(k->saddr, 1),
			      addr_word(k->daddr, 0), addr_word(k->daddr, 1),
			      key_pw(k->sport, k->dport, &k->shape));
}

/* A filter's slots: 16 per entry (a lookup of an absent key passes 1 in 16). */
#define KF_SLOTS_MIN	4096U
#define KF_SLOTS_MAX	(1U << 28)

/*
 * Build the key filter afresh from @in's entries and publish it, dropping
 * the bits of removed ones. Return: 0, or -ENOMEM (the old one stays).
 */
static int kf_rebuild(struct index_net *in)
{
	u64 want = max_t(u64, (u64)in->nkeyed * 16, KF_SLOTS_MIN);
	u32 slots = min_t(u64, roundup_pow_of_two(want), KF_SLOTS_MAX);
	struct key_filter *kf = NULL, *old;
	struct tcpfault_fnode *fn;
	unsigned int n = 0;

	lockdep_assert_held(&index_mutex);
	if (in->nkeyed) {
		kf = kvzalloc(struct_size(kf, bits, BITS_TO_LONGS(slots)), GFP_KERNEL);
		if (!kf)
			return -ENOMEM;
		kf->mask = slots - 1;
		list_for_each_entry(fn, &in->keyed, ns_node) {
			__set_bit(fn->kh & kf->mask, kf->bits);
			if (!(++n % 65536))
				cond_resched();
		}
	}
	old = rcu_replace_pointer(in->kf, kf, lockdep_is_held(&index_mutex));
	in->kf_stale = 0;
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

/* Put a fault's two entries in the key filter, before they go in the table. */
static void kf_add(struct index_net *in, struct tcpfault_fnode *fn)
{
	struct key_filter *kf;
	int i;

	for (i = 0; i < 2; i++) {
		fn[i].kh = key_hash(&fn[i].key);
		list_add_tail(&fn[i].ns_node, &in->keyed);
	}
	in->nkeyed += 2;
	kf = rcu_dereference_protected(in->kf, lockdep_is_held(&index_mutex));
	/* Grow at 8 entries' slots each; if that fails, the old just passes more. */
	if ((!kf || (u64)in->nkeyed * 8 > (u64)kf->mask + 1) && !kf_rebuild(in))
		return;
	for (i = 0; kf && i < 2; i++)
		set_bit(fn[i].kh & kf->mask, kf->bits);
}

/* Take a fault's two entries out, once they are out of the table. */
static void kf_del(struct index_net *in, struct tcpfault_fnode *fn)
{
	list_del(&fn[0].ns_node);
	list_del(&fn[1].ns_node);
	in->nkeyed -= 2;
	in->kf_stale += 2;
	/* Rebuilt when most bits are stale: each entry pays for it once. */
	if (!in->nkeyed || in->kf_stale > in->nkeyed)
		kf_rebuild(in);
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
static void mask_words(u8 *out, const u8 *addr, const u64 *mask)
{
	u64 w[2];

	memcpy(w, addr, sizeof(w));
	w[0] &= mask[0];
	w[1] &= mask[1];
	memcpy(out, w, sizeof(w));
}

/*
 * Could the table hold a key for the tuple under this shape? The shape's
 * family, then the key filter's test (none: yes) from the tuple's words:
 * key_hash() of what pkt_key() would build, without building it.
 */
static __always_inline bool kf_may_find(const struct key_filter *kf, const struct tcpfault_tuple *t,
					const struct tcpfault_lshape *ls)
{
	u64 pw = ((u64)t->sport << 48 | (u64)t->dport << 32) & ls->pmask;

	if (ls->sh.family && ls->sh.family != t->family)
		return false;
	return !kf || test_bit(key_words_hash(addr_word(t->saddr, 0) & ls->smask[0],
				       addr_word(t->saddr, 1) & ls->smask[1],
				       addr_word(t->daddr, 0) & ls->dmask[0],
				       addr_word(t->daddr, 1) & ls->dmask[1],
				       pw | ls->shw) & kf->mask, kf->bits);
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

/**
 * tcpfault_index_visit() - call @visit once for each fault a tuple matches
 * @net: the tuple's namespace
 * @t: the tuple, as on the wire
 * @visit: called with each fault, and whether it matched with source and
 *	destination swapped
 * @arg: for @visit
 *
 * Under RCU. A fault that matches both ways (its mirror's key equals its
 * own, or its ranges allow both) is visited once, in the tuple's own
 * orientation (rev == false).
 */
void tcpfault_index_visit(const struct net *net, const struct tcpfault_tuple *t,
			  void (*visit)(struct tcpfault_fault *f, bool rev, void *arg),
			  void *arg)
{
	const struct index_net *in = index_net_rcu(net);
	const struct tcpfault_shapes *shapes;
	const struct key_filter *kf;
	struct tcpfault_fault *f;
	unsigned int i;

	shapes = rcu_dereference(in->shapes);
	kf = rcu_dereference(in->kf);
	for (i = 0; shapes && i < shapes->n; i++) {
		const struct tcpfault_lshape *ls = &shapes->s[i];
		struct rhlist_head *list, *pos;
		struct tcpfault_fnode *fn;
		struct tcpfault_fkey key;

		/* Most keys nobody hashed leave here, without the table. */
		if (!kf_may_find(kf, t, ls))
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
	list_for_each_entry_rcu(f, &in->slow, slow_node) {
		if (tcpfault_spec_match(&f->spec, t, false))
			visit(f, false, arg);
		else if (tcpfault_spec_match(&f->spec, t, true))
			visit(f, true, arg);
	}
}

/* tcpfault_index_may_select()'s test, on the namespace's part of the index. */
static __always_inline bool may_select(const struct index_net *in, const struct tcpfault_tuple *t)
{
	const struct tcpfault_lshape *ls, *end;
	const struct tcpfault_shapes *shapes;
	const struct key_filter *kf;

	if (!list_empty(&in->slow))
		return true;
	shapes = rcu_dereference(in->shapes);
	kf = rcu_dereference(in->kf);
	if (!kf || !shapes)
		return shapes;
	end = shapes->s + shapes->n;
	for (ls = shapes->s; ls < end; ls++)
		if (kf_may_find(kf, t, ls))
			return true;
	return false;
}

/**
 * tcpfault_index_may_select() - can any fault of the namespace select a tuple
 * @net: the tuple's namespace
 * @t: the tuple, as on the wire
 *
 * Under RCU. The key filter's test for each shape present, a few dozen
 * instructions: false only if tcpfault_index_lookup() would find nothing.
 *
 * Return: whether tcpfault_index_lookup() is worth calling.
 */
bool tcpfault_index_may_select(const struct net *net, const struct tcpfault_tuple *t)
{
	return may_select(index_net_rcu(net), t);
}

/**
 * tcpfault_index_select_gen() - tcpfault_index_gen(), if a fault of the
 *                               namespace may select a tuple
 * @net: the tuple's namespace
 * @t: the tuple, as on the wire
 *
 * Under RCU: tcpfault_index_gen(), then tcpfault_index_may_select(), in
 * one call. The generation is read first, as for any lookup that follows.
 *
 * Return: the generation (never 0) if tcpfault_index_lookup() is worth
 * calling, else 0.
 */
unsigned long tcpfault_index_select_gen(const struct net *net, const struct tcpfault_tuple *t)
{
	const struct index_net *in = index_net_rcu(net);
	/* Pairs with index_changed(), as in tcpfault_index_gen(). */
	unsigned long gen = smp_load_acquire(&in->gen);

	return may_select(in, t) ? gen : 0;
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
 * tcpfault_index_lookup() - the faults a segment matches
 * @net: the segment's namespace
 * @t: the segment's tuple
 * @m: filled with the first TCPFAULT_MATCH_MAX faults; @m->more is set if
 *     there are more, and then the verdict visits them all
 *
 * Called under RCU from the hooks. A fault matching in the segment's own
 * orientation is reported with rev == false, else with rev == true.
 *
 * Return: the number of faults in @m.
 */
unsigned int tcpfault_index_lookup(const struct net *net, const struct tcpfault_tuple *t,
				   struct tcpfault_matches *m)
{
	m->n = 0;
	m->more = false;
	tcpfault_index_visit(net, t, add_match, m);
	return m->n;
}

/* Publish the packet path's copy of the shapes; NULL when there are none. */
static int shapes_publish(struct index_net *in)
{
	struct tcpfault_shapes *snap = NULL, *old;
	u8 ones[16], m[16];
	unsigned int i;

	memset(ones, 0xff, sizeof(ones));
	if (in->nshapes) {
		snap = kmalloc(struct_size(snap, s, in->nshapes), GFP_KERNEL);
		if (!snap)
			return -ENOMEM;
		snap->n = in->nshapes;
		for (i = 0; i < in->nshapes; i++) {
			struct tcpfault_lshape *ls = &snap->s[i];

			ls->sh = in->shape[i];
			mask_addr(m, ones, ls->sh.splen);
			memcpy(ls->smask, m, sizeof(m));
			mask_addr(m, ones, ls->sh.dplen);
			memcpy(ls->dmask, m, sizeof(m));
			ls->pmask = key_pw((ls->sh.ports & 1) ? 0xffff : 0,
					   (ls->sh.ports & 2) ? 0xffff : 0, &ls->sh) & ~0xffffffffULL;
			ls->shw = key_pw(0, 0, &ls->sh);
		}
	}
	old = rcu_replace_pointer(in->shapes, snap, lockdep_is_held(&index_mutex));
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static int shape_get(struct index_net *in, const struct tcpfault_shape *sh)
{
	unsigned int i;

	for (i = 0; i < in->nshapes; i++) {
		if (!memcmp(&in->shape[i], sh, sizeof(*sh))) {
			in->shape_refs[i]++;
			return 0;
		}
	}
	if (in->nshapes == SHAPES_MAX)
		return -ENOSPC;
	in->shape[in->nshapes] = *sh;
	in->shape_refs[in->nshapes++] = 1;
	if (shapes_publish(in)) {
		in->nshapes--;
		return -ENOMEM;
	}
	return 0;
}

static void shape_put(struct index_net *in, const struct tcpfault_shape *sh)
{
	unsigned int i;

	for (i = 0; i < in->nshapes; i++)
		if (!memcmp(&in->shape[i], sh, sizeof(*sh)))
			break;
	if (WARN_ON(i == in->nshapes) || --in->shape_refs[i])
		return;
	in->shape[i] = in->shape[in->nshapes - 1];
	in->shape_refs[i] = in->shape_refs[in->nshapes - 1];
	in->nshapes--;
	/* Shrinking: if the allocation fails, the stale snapshot stays,
	 * which only costs a lookup that finds nothing.
	 */
	shapes_publish(in);
}

/* Both a fault's shape and its mirror, or neither. */
static int shapes_get(struct index_net *in, const struct tcpfault_shape *sh)
{
	struct tcpfault_shape mi;
	int ret;

	mirror_shape(sh, &mi);
	ret = shape_get(in, sh);
	if (ret)
		return ret;
	ret = shape_get(in, &mi);
	if (ret)
		shape_put(in, sh);
	return ret;
}

static void shapes_put(struct index_net *in, const struct tcpfault_shape *sh)
{
	struct tcpfault_shape mi;

	mirror_shape(sh, &mi);
	shape_put(in, &mi);
	shape_put(in, sh);
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


/**
 * tcpfault_index_insert() - make a fault findable
 * @f: the fault, with its spec and namespace set, not yet in the index
 *
 * Return: 0, or -ENOMEM.
 */
int tcpfault_index_insert(struct tcpfault_fault *f)
{
	struct index_net *in = index_net(f->net);
	struct tcpfault_fnode *fn;
	struct tcpfault_shape sh;
	bool ranged;
	int ret;

	fn = kcalloc(2, sizeof(*fn), GFP_KERNEL);
	if (!fn)
		return -ENOMEM;
	ranged = spec_shape(&f->spec, &sh);
	fn_key(&fn[0], f, &sh, ranged, false);
	fn_key(&fn[1], f, &sh, ranged, true);
	INIT_LIST_HEAD(&f->slow_node);
	f->fnode = NULL;
	mutex_lock(&index_mutex);
	if (!in->nfaults) {
		ret = index_busy(f->net, true);
		if (ret) {
			kfree(fn);
			goto out;
		}
	}
	/* In the filter before it can be found: the filter may only say yes too often. */
	ret = port_filter(in, &f->spec, true);
	if (ret) {
		kfree(fn);
		goto idle;
	}
	ret = shapes_get(in, &sh);
	if (ret) {
		kfree(fn);
		if (ret != -ENOSPC)
			goto unfilter;
		/* Too many distinct shapes: fall back to the list. */
		list_add_tail_rcu(&f->slow_node, &in->slow);
	} else {
		/* In the key filter before it can be found, as in the port filter. */
		kf_add(in, fn);
		ret = rhltable_insert(&ftab, &fn[0].node, ftab_params);
		if (!ret) {
			ret = rhltable_insert(&ftab, &fn[1].node, ftab_params);
			if (ret)
				rhltable_remove(&ftab, &fn[0].node, ftab_params);
		}
		if (ret) {
			kf_del(in, fn);
			shapes_put(in, &sh);
			/* fn[0] may have been seen, and remembered */
			index_changed(in);
			synchronize_rcu();
			kfree(fn);
			goto unfilter;
		}
		f->fnode = fn;
	}
	WRITE_ONCE(in->nfaults, in->nfaults + 1);
	index_changed(in);
	mutex_unlock(&index_mutex);
	return 0;

unfilter:
	port_filter(in, &f->spec, false);
idle:
	if (!in->nfaults)
		index_busy(f->net, false);
out:
	mutex_unlock(&index_mutex);
	return ret;
}

/**
 * tcpfault_index_remove() - stop finding a fault
 * @f: a fault tcpfault_index_insert() took
 *
 * Lookups already running may still return it: its hash entries stay
 * valid until tcpfault_index_release(), after a grace period.
 */
void tcpfault_index_remove(struct tcpfault_fault *f)
{
	struct index_net *in = index_net(f->net);

	mutex_lock(&index_mutex);
	if (f->fnode) {
		rhltable_remove(&ftab, &f->fnode[1].node, ftab_params);
		rhltable_remove(&ftab, &f->fnode[0].node, ftab_params);
		kf_del(in, f->fnode);
		shapes_put(in, &f->fnode[0].key.shape);
	} else {
		list_del_rcu(&f->slow_node);
	}
	port_filter(in, &f->spec, false);
	WRITE_ONCE(in->nfaults, in->nfaults - 1);
	index_changed(in);
	if (!in->nfaults)
		index_busy(f->net, false);
	mutex_unlock(&index_mutex);
}

/**
 * tcpfault_index_release() - free a removed fault's hash entries
 * @f: the fault, a grace period after tcpfault_index_remove() (or never
 *	inserted)
 */
void tcpfault_index_release(struct tcpfault_fault *f)
{
	kfree(f->fnode);
	f->fnode = NULL;
}

static int __net_init index_net_init(struct net *net)
{
	struct index_net *in = index_net(net);

	INIT_LIST_HEAD(&in->slow);
	INIT_LIST_HEAD(&in->keyed);
	RCU_INIT_POINTER(in->shapes, NULL);
	RCU_INIT_POINTER(in->kf, NULL);
	in->gen = 2;
	return 0;
}

/* The fault table's exit (registered later, so run earlier) emptied it. */
static void __net_exit index_net_exit(struct net *net)
{
	struct index_net *in = index_net(net);

	WARN_ON(!list_empty(&in->slow) || in->nshapes || in->nfaults || in->port_open ||
		in->nkeyed);
	kfree(rcu_dereference_protected(in->shapes, true));
	kvfree(rcu_dereference_protected(in->kf, true));
	/* The hooks are gone from the namespace, and a grace period has passed. */
	bitmap_free(in->port_bits);
	kvfree(in->port_refs);
}

static struct pernet_operations index_net_ops = {
	.init = index_net_init,
	.exit = index_net_exit,
	.id = &index_net_id,
	.size = sizeof(struct index_net),
};

/**
 * tcpfault_index_init() - the hash table and the per-namespace state
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_index_init(void)
{
	int ret;

	ret = rhltable_init(&ftab, &ftab_params);
	if (ret)
		return ret;
	ret = register_pernet_subsys(&index_net_ops);
	if (ret)
		rhltable_destroy(&ftab);
	return ret;
}

/**
 * tcpfault_index_uninit() - free the table; every fault is gone by now
 */
void tcpfault_index_uninit(void)
{
	unregister_pernet_subsys(&index_net_ops);
	rhltable_destroy(&ftab);
}
