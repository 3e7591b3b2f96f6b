// SPDX-License-Identifier: GPL-2.0
/*
 * The connection table: one entry per TCP connection that a fault selects
 * (or every connection, with track_all), with per-direction counters, an
 * on-wire classifier and a bounded timeline of events.
 *
 * How it is organised:
 *   - a fixed array of hash buckets, sized from conns_max at load time, of
 *     RCU hlists; the key is (netns cookie, both endpoints, family), with the
 *     endpoints in canonical order so that both directions find one entry;
 *   - lookups are lockless under RCU. Writers (insert on a connection's first
 *     segment, GC, namespace exit) take one of 256 striped bucket spinlocks;
 *   - per-direction counters are atomic64_t. A direction's sequence state
 *     (nxt) is advanced with cmpxchg, so two CPUs handling the same
 *     direction at once cannot move it backwards;
 *   - timeline slots carry a generation number, written last, so readers can
 *     skip a slot that is being rewritten, without a lock;
 *   - each direction remembers the faults its segments matched, with the
 *     fault index's generation they were found in (tcpfault_conn_matches()):
 *     a known connection's segment skips the fault lookup until a fault
 *     comes or goes in its namespace;
 *   - the table never exceeds conns_max entries. A deferrable GC work evicts
 *     closed and idle entries, and evicts more eagerly under pressure. A
 *     connection that finds the table full is simply not tracked (counted in
 *     insert_failed); its segments are never delayed or dropped for that.
 *
 * Other files read entries but change them only through the functions
 * here (the reset bookkeeping, tcpfault_conn_rst_sent(), the timeline).
 * The table calls nobody above it: the fault table tells the GC which
 * entries to keep through tcpfault_conn_set_keep().
 */
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "tcpfault.h"
#include "trace.h"

static unsigned int conns_max = 32768;
module_param(conns_max, uint, 0444);
MODULE_PARM_DESC(conns_max, "Most connections tracked at once (default 32768)");

unsigned int tcpfault_conn_tl_len = 32;
module_param_named(timeline_len, tcpfault_conn_tl_len, uint, 0444);
MODULE_PARM_DESC(timeline_len, "Events kept per connection, a power of two, 4-1024 (default 32)");

static unsigned int idle_timeout = 600;
module_param(idle_timeout, uint, 0644);
MODULE_PARM_DESC(idle_timeout, "Seconds after which an idle connection is forgotten (default 600)");

static unsigned int closed_timeout = 60;
module_param(closed_timeout, uint, 0644);
MODULE_PARM_DESC(closed_timeout, "Seconds a closed connection stays visible (default 60)");

static bool track_all;
module_param(track_all, bool, 0444);
MODULE_PARM_DESC(track_all, "Track every TCP connection, not only those a fault selects (also in sysfs)");

#define CONN_LOCKS	256

static struct kmem_cache *conn_cache;
static struct hlist_head *buckets;
static unsigned int bucket_mask;
static spinlock_t conn_locks[CONN_LOCKS];
static u32 hash_seed __read_mostly;
static u64 hash_mul[3] __read_mostly;	/* conn_hash4()'s: random, odd */
static atomic_t nconns = ATOMIC_INIT(0);
static atomic64_t next_id = ATOMIC64_INIT(0);
static atomic64_t n_inserted = ATOMIC64_INIT(0);
static atomic64_t n_evicted = ATOMIC64_INIT(0);
static atomic64_t n_insert_failed = ATOMIC64_INIT(0);
/* The last time the table lost track of a connection that may be open. */
static u64 lost_ns;
/* On while anything needs the hooks' segments: a fault, or track_all. */
DEFINE_STATIC_KEY_FALSE(tcpfault_conn_armed);
/* track_all itself: the hooks test it on one patched branch. */
DEFINE_STATIC_KEY_FALSE(tcpfault_conn_tracking_all);
/* Whether an open connection's entry must outlive idleness (see gc_keep()). */
static bool (*keep_fn)(const struct tcpfault_conn *c);
static DEFINE_MUTEX(track_all_mutex);
/*
 * Buckets and entries that procfs iteration and the walks looked at: KUnit
 * checks that they are linear in the table's size.
 */
static unsigned long iter_steps, walk_steps;
/* The GC is not kicked again before this (jiffies); kicks so far. */
static unsigned long gc_next_kick, gc_kicks;
/* The periodic GC's next bucket. */
static u32 gc_cursor;
static struct delayed_work gc_work;

static const char * const state_names[TCPFAULT_WS_MAX] = {
	TCPFAULT_WIRE_STATES(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

static const char * const event_names[TCPFAULT_EV_MAX] = {
	TCPFAULT_EVENTS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

static const char * const counter_names[TCPFAULT_C_MAX] = {
	[TCPFAULT_C_SEGS] = "segs",
	[TCPFAULT_C_BYTES] = "bytes",
	[TCPFAULT_C_NEW_BYTES] = "new_bytes",
	[TCPFAULT_C_RETRANS] = "retrans",
	[TCPFAULT_C_KEEPALIVE] = "keepalive",
	[TCPFAULT_C_KEEPALIVE_ACK] = "keepalive_ack",
	[TCPFAULT_C_ZWP] = "zwp",
	[TCPFAULT_C_SYN_RETRY] = "syn_retry",
	[TCPFAULT_C_FIN] = "fin",
	[TCPFAULT_C_RST] = "rst",
	[TCPFAULT_C_DROPPED] = "dropped",
	[TCPFAULT_C_DELAYED] = "delayed",
};

/* Which counter an event bumps, if any. */
static const s8 event_counter[TCPFAULT_EV_MAX] = {
	[TCPFAULT_EV_SYN] = -1,
	[TCPFAULT_EV_SYN_RETRY] = TCPFAULT_C_SYN_RETRY,
	[TCPFAULT_EV_DATA] = -1,
	[TCPFAULT_EV_RETRANS] = TCPFAULT_C_RETRANS,
	[TCPFAULT_EV_KEEPALIVE] = TCPFAULT_C_KEEPALIVE,
	[TCPFAULT_EV_KEEPALIVE_ACK] = TCPFAULT_C_KEEPALIVE_ACK,
	[TCPFAULT_EV_ZWP] = TCPFAULT_C_ZWP,
	[TCPFAULT_EV_FIN] = TCPFAULT_C_FIN,
	[TCPFAULT_EV_RST] = TCPFAULT_C_RST,
	[TCPFAULT_EV_STATE] = -1,
	[TCPFAULT_EV_FAULT_START] = -1,
	[TCPFAULT_EV_FAULT_STOP] = -1,
	[TCPFAULT_EV_RST_SENT] = -1,
	[TCPFAULT_EV_ABORT] = -1,
};

/**
 * tcpfault_conn_state_name() - name of a wire state
 * @state: enum tcpfault_wstate
 *
 * Return: a static string.
 */
const char *tcpfault_conn_state_name(unsigned int state)
{
	return state < TCPFAULT_WS_MAX ? state_names[state] : "?";
}

/**
 * tcpfault_conn_event_name() - name of a timeline event
 * @type: enum tcpfault_event_type
 *
 * Return: a static string.
 */
const char *tcpfault_conn_event_name(unsigned int type)
{
	return type < TCPFAULT_EV_MAX ? event_names[type] : "?";
}

/**
 * tcpfault_conn_counter_name() - name of a per-direction counter
 * @counter: enum tcpfault_counter
 *
 * Return: a static string.
 */
const char *tcpfault_conn_counter_name(unsigned int counter)
{
	return counter < TCPFAULT_C_MAX ? counter_names[counter] : "?";
}

static size_t conn_size(void)
{
	return sizeof(struct tcpfault_conn) +
	       tcpfault_conn_tl_len * sizeof(struct tcpfault_event);
}

/* An address's first word (of an IPv4 one, the address), host order. */
static __always_inline u32 addr_w0(const u8 *addr)
{
	__be32 w;

	memcpy(&w, addr, sizeof(w));
	return be32_to_cpu(w);
}

/* Does endpoint (a, ap) sort after (b, bp): address, then port. */
static __always_inline bool endpoint_after(u8 family, const u8 *a, u16 ap,
					   const u8 *b, u16 bp)
{
	int r;

	if (family == TCPFAULT_FAM_INET) {
		u32 x = addr_w0(a), y = addr_w0(b);

		r = x == y ? 0 : x < y ? -1 : 1;
	} else {
		r = memcmp(a, b, 16);
	}
	return r ? r > 0 : ap > bp;
}

/* Build the canonical key; returns the sender's endpoint index (0 or 1). */
static u8 conn_key(const struct net *net, const struct tcpfault_tuple *t,
		   struct tcpfault_conn_key *key)
{
	u8 dir = endpoint_after(t->family, t->saddr, t->sport, t->daddr, t->dport);

	key->cookie = tcpfault_net_cookie(net);
	memcpy(key->addr[dir], t->saddr, 16);
	memcpy(key->addr[!dir], t->daddr, 16);
	key->port[dir] = t->sport;
	key->port[!dir] = t->dport;
	key->family = t->family;
	memset(key->pad, 0, sizeof(key->pad));
	return dir;
}

/* An IPv6 key's hash: its addresses' eight words. */
static noinline u32 conn_hash6(const u8 *a0, const u8 *a1, u32 seed)
{
	u32 w[8];

	memcpy(w, a0, 16);
	memcpy(w + 4, a1, 16);
	return jhash2(w, ARRAY_SIZE(w), seed);
}

/*
 * An IPv4 key's hash: its addresses in one word, its ports and namespace in
 * another, each times a secret odd multiplier, then mixed (the high half
 * of a product depends on all of its input). A third of jhash_3words()'s
 * instructions; the secret keeps its collisions out of a sender's reach.
 */
static __always_inline u32 conn_hash4(u32 a0, u32 a1, u32 ports, u64 cookie)
{
	u64 h = ((u64)a0 << 32 | a1) * hash_mul[0] + ((u64)ports << 32 ^ cookie) * hash_mul[1];

	h ^= h >> 29;
	return (h * hash_mul[2]) >> 32;
}

/*
 * A key's hash, seeded, from its parts (endpoint 0, then 1): the words that
 * vary (an IPv4 key's addresses are one word each, the rest zero), with
 * the namespace and the ports in the seed.
 */
static __always_inline u32 conn_hash_ends(u64 cookie, u8 family, const u8 *a0, u16 p0,
					  const u8 *a1, u16 p1)
{
	u32 ports = (u32)p0 << 16 | p1;
	u32 seed = hash_seed ^ (u32)cookie ^ (u32)(cookie >> 32);

	if (family == TCPFAULT_FAM_INET) {
		u32 w0, w1;	/* as on the wire: the hash needs no byte order */

		memcpy(&w0, a0, sizeof(w0));
		memcpy(&w1, a1, sizeof(w1));
		return conn_hash4(w0, w1, ports, cookie);
	}
	return conn_hash6(a0, a1, seed ^ ports);
}

static u32 conn_hash(const struct tcpfault_conn_key *key)
{
	return conn_hash_ends(key->cookie, key->family, key->addr[0], key->port[0],
			      key->addr[1], key->port[1]);
}

/*
 * Is @c the entry of these endpoints, without building their key: an IPv4
 * key's addresses are zero past their first word.
 */
static __always_inline bool conn_holds(const struct tcpfault_conn *c, u64 cookie, u8 family,
				       const u8 *a0, u16 p0, const u8 *a1, u16 p1)
{
	const struct tcpfault_conn_key *k = &c->key;

	if (k->cookie != cookie || k->family != family || k->port[0] != p0 || k->port[1] != p1)
		return false;
	if (family == TCPFAULT_FAM_INET)
		return addr_w0(k->addr[0]) == addr_w0(a0) && addr_w0(k->addr[1]) == addr_w0(a1);
	return !memcmp(k->addr[0], a0, 16) && !memcmp(k->addr[1], a1, 16);
}

static spinlock_t *bucket_lock(u32 bucket)
{
	return &conn_locks[bucket % CONN_LOCKS];
}

/**
 * tcpfault_conn_endpoint() - one endpoint of a connection
 * @c: the connection
 * @ep: 0 or 1
 * @addr: 16 bytes for the address
 * @port: for the port, host order
 */
void tcpfault_conn_endpoint(const struct tcpfault_conn *c, int ep, u8 *addr, u16 *port)
{
	memcpy(addr, c->key.addr[ep], 16);
	*port = c->key.port[ep];
}

/**
 * tcpfault_conn_tuple() - a connection as a tuple, endpoint 0 as the source
 * @c: the connection
 * @t: filled in
 */
void tcpfault_conn_tuple(const struct tcpfault_conn *c, struct tcpfault_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = c->key.family;
	tcpfault_conn_endpoint(c, 0, t->saddr, &t->sport);
	tcpfault_conn_endpoint(c, 1, t->daddr, &t->dport);
}

/**
 * tcpfault_conn_nxt() - the next sequence number an endpoint will send
 * @c: the connection
 * @ep: the endpoint, 0 or 1
 *
 * Return: the highest sequence number it sent, plus one.
 */
u32 tcpfault_conn_nxt(const struct tcpfault_conn *c, int ep)
{
	return READ_ONCE(c->d[ep].nxt);
}

/**
 * tcpfault_conn_resettable() - can an RST both ways be made for it now
 * @c: the connection
 *
 * Return: true if it is open (established, or closing with data still
 * possible) and both endpoints' sequence numbers are known.
 */
bool tcpfault_conn_resettable(const struct tcpfault_conn *c)
{
	u8 st = READ_ONCE(c->state);

	return READ_ONCE(c->d[0].seen) && READ_ONCE(c->d[1].seen) &&
	       (st == TCPFAULT_WS_ESTABLISHED || st == TCPFAULT_WS_FIN_WAIT ||
		st == TCPFAULT_WS_CLOSING);
}

/**
 * tcpfault_conn_reset_claim() - take the one reset of this incarnation
 * @c: the connection
 *
 * A reset fault kills each incarnation of a connection once; later
 * segments of it are only swallowed.
 *
 * Return: true if the caller is to reset it, false if that is done.
 */
bool tcpfault_conn_reset_claim(struct tcpfault_conn *c)
{
	return !xchg(&c->reset_done, 1);
}

/**
 * tcpfault_conn_reset_unclaim() - the reset could not be sent: the next
 *                                 segment is to be answered instead
 * @c: the connection
 */
void tcpfault_conn_reset_unclaim(struct tcpfault_conn *c)
{
	WRITE_ONCE(c->reset_done, 0);
}

/**
 * tcpfault_conn_reset_done() - was this incarnation already reset
 * @c: the connection
 *
 * Return: true if a reset fault killed it.
 */
bool tcpfault_conn_reset_done(const struct tcpfault_conn *c)
{
	return READ_ONCE(c->reset_done);
}

/**
 * tcpfault_conn_rst_sent() - tcpfault put an RST on the wire for it
 * @c: the connection
 * @toward: the endpoint the RST went to
 * @seq: its sequence number
 *
 * The hooks do not see tcpfault's own segments: the RST's event goes on
 * the timeline here, and the RST ends the connection's wire state.
 */
void tcpfault_conn_rst_sent(struct tcpfault_conn *c, u8 toward, u32 seq)
{
	tcpfault_conn_event(c, TCPFAULT_EV_RST_SENT, toward, seq, 0, 0);
	if (xchg(&c->state, TCPFAULT_WS_CLOSED) != TCPFAULT_WS_CLOSED)
		tcpfault_conn_event(c, TCPFAULT_EV_STATE, toward, TCPFAULT_WS_CLOSED, 0, 0);
}

/**
 * tcpfault_conn_event() - append an event to a connection's timeline
 * @c: the connection
 * @type: enum tcpfault_event_type
 * @dir: the endpoint that sent it (0 or 1)
 * @seq: sequence number or argument
 * @len: payload length
 * @flags: TCPFAULT_EVF_*
 *
 * Lockless: the slot's generation is cleared first and written last.
 */
void tcpfault_conn_event(struct tcpfault_conn *c, u8 type, u8 dir, u32 seq, u32 len,
			 u8 flags)
{
	u32 idx = (u32)atomic_inc_return(&c->tl_head) - 1;
	struct tcpfault_event *e = &c->tl[idx & (tcpfault_conn_tl_len - 1)];

	WRITE_ONCE(e->gen, 0);
	smp_wmb();	/* gen cleared before the payload; pairs with tcpfault_conn_event_read() */
	e->ts = ktime_get_ns();
	e->seq = seq;
	e->len = len > 0xffff ? 0xffff : len;
	e->type = type;
	e->dir = dir;
	e->flags = flags;
	smp_wmb();	/* payload before gen; pairs with tcpfault_conn_event_read() */
	WRITE_ONCE(e->gen, idx + 1);
	trace_tcpfault_event(c, type, dir, seq, len, flags);
}

/**
 * tcpfault_conn_events() - the events a connection's timeline still holds
 * @c: the connection
 * @end: set to one past the newest event's index
 *
 * Return: the oldest event's index; read each with
 * tcpfault_conn_event_read(), from it up to (not including) @end.
 */
u32 tcpfault_conn_events(const struct tcpfault_conn *c, u32 *end)
{
	u32 head = (u32)atomic_read(&c->tl_head);

	*end = head;
	return head - min(head, tcpfault_conn_tl_len);
}

/**
 * tcpfault_conn_event_read() - one timeline event, lockless
 * @c: the connection
 * @i: its index, from tcpfault_conn_events()
 * @ev: filled in
 *
 * Return: false if the slot is being rewritten (or already holds a newer
 * event): @ev is not the event asked for.
 */
bool tcpfault_conn_event_read(const struct tcpfault_conn *c, u32 i, struct tcpfault_event *ev)
{
	const struct tcpfault_event *e = &c->tl[i & (tcpfault_conn_tl_len - 1)];
	u32 gen;

	gen = READ_ONCE(e->gen);
	smp_rmb();	/* gen before payload; pairs with tcpfault_conn_event() */
	*ev = *e;
	smp_rmb();	/* payload before re-reading gen */
	return gen == i + 1 && READ_ONCE(e->gen) == gen;
}

/* Advance d->nxt to @end if @end is later in sequence space. */
static void advance_nxt(struct tcpfault_dir *d, u32 end)
{
	u32 old = READ_ONCE(d->nxt);

	while (after(end, old)) {
		u32 prev = cmpxchg(&d->nxt, old, end);

		if (prev == old)
			break;
		old = prev;
	}
}

/* A segment (with no payload) that acknowledges the peer's pending keepalive probe. */
static __always_inline bool acks_probe(const struct tcpfault_dir *peer, u8 flags, u32 ack_seq)
{
	return (flags & TCPFAULT_TH_ACK) && READ_ONCE(peer->ka_pending) &&
	       ack_seq == READ_ONCE(peer->nxt);
}

static __always_inline int classify(struct tcpfault_dir *d, struct tcpfault_dir *peer,
				    struct tcpfault_pkt *pkt)
{
	u8 fl = pkt->flags;
	u32 seq = pkt->seq;
	u32 end = seq + pkt->len + !!(fl & TCPFAULT_TH_SYN) + !!(fl & TCPFAULT_TH_FIN);
	u32 nxt = READ_ONCE(d->nxt);
	bool seen = READ_ONCE(d->seen);
	int ev = TCPFAULT_EV_DATA;

	pkt->prev_nxt = nxt;
	pkt->prev_valid = seen;

	if (fl & TCPFAULT_TH_RST)
		return TCPFAULT_EV_RST;

	if (fl & TCPFAULT_TH_SYN) {
		if (READ_ONCE(d->syn) && seq == READ_ONCE(d->isn)) {
			ev = TCPFAULT_EV_SYN_RETRY;
		} else {
			ev = TCPFAULT_EV_SYN;
			WRITE_ONCE(d->isn, seq);
			WRITE_ONCE(d->syn, 1);
			WRITE_ONCE(d->fin, 0);
			WRITE_ONCE(d->ka_pending, 0);
			WRITE_ONCE(d->nxt, end);
			WRITE_ONCE(d->seen, 1);
			pkt->prev_valid = false;
		}
	} else if (!seen) {
		WRITE_ONCE(d->nxt, end);
		WRITE_ONCE(d->seen, 1);
		if (fl & TCPFAULT_TH_FIN) {
			WRITE_ONCE(d->fin, 1);
			ev = TCPFAULT_EV_FIN;
		}
	} else if (pkt->len <= 1 && seq + 1 == nxt && !(fl & TCPFAULT_TH_FIN) &&
		   READ_ONCE(peer->seen) && READ_ONCE(peer->ack) == nxt) {
		if (!READ_ONCE(peer->win)) {
			ev = TCPFAULT_EV_ZWP;
		} else {
			ev = TCPFAULT_EV_KEEPALIVE;
			WRITE_ONCE(d->ka_pending, 1);
		}
	} else if ((pkt->len || (fl & TCPFAULT_TH_FIN)) && before(seq, nxt)) {
		ev = TCPFAULT_EV_RETRANS;
		advance_nxt(d, end);
		if ((fl & TCPFAULT_TH_FIN) && !READ_ONCE(d->fin) && after(end, nxt)) {
			/* Partial overlap that also carries the first FIN. */
			WRITE_ONCE(d->fin, 1);
		}
	} else {
		if (fl & TCPFAULT_TH_FIN) {
			ev = READ_ONCE(d->fin) ? TCPFAULT_EV_RETRANS : TCPFAULT_EV_FIN;
			WRITE_ONCE(d->fin, 1);
		} else if (!pkt->len && acks_probe(peer, fl, pkt->ack_seq)) {
			ev = TCPFAULT_EV_KEEPALIVE_ACK;
			WRITE_ONCE(peer->ka_pending, 0);
		}
		advance_nxt(d, end);
	}

	return ev;
}

/**
 * tcpfault_conn_classify() - classify a segment from its sender's history
 * @d: the sending direction's state
 * @peer: the other direction's state
 * @pkt: the segment; @pkt->prev_nxt and @pkt->prev_valid are filled in
 *
 * Updates @d's sequence state; what the segment tells its receiver (its
 * acknowledgment and window) is learnt by tcpfault_conn_deliver() once the
 * segment is known to go on. The rules, in order:
 *   RST                              -> rst
 *   SYN, same ISN as before          -> syn-retry
 *   SYN                              -> syn (a new incarnation)
 *   first segment seen this way      -> data or fin
 *   len <= 1, seq == nxt - 1, no FIN, and the peer has acknowledged nxt
 *                                    -> keepalive, or zero-window-probe if
 *                                       the peer's last window was zero
 *   payload or FIN starting before nxt -> retrans (full or partial overlap)
 *   FIN                              -> fin
 *   pure ACK of a pending keepalive  -> keepalive-ack
 *   otherwise                        -> data
 *
 * Return: the enum tcpfault_event_type.
 */
int tcpfault_conn_classify(struct tcpfault_dir *d, struct tcpfault_dir *peer,
			   struct tcpfault_pkt *pkt)
{
	return classify(d, peer, pkt);
}

/* deliver()'s work, from the segment's fields; @data: it is new data. */
static __always_inline void deliver_ack(struct tcpfault_dir *d, struct tcpfault_dir *peer,
					u8 flags, u32 ack_seq, u16 win, bool data)
{
	if (!(flags & TCPFAULT_TH_ACK))
		return;
	WRITE_ONCE(d->ack, ack_seq);
	WRITE_ONCE(d->win, win);
	/* Data acknowledged after a probe: the probe was answered. */
	if (data && READ_ONCE(peer->ka_pending))
		WRITE_ONCE(peer->ka_pending, 0);
}

static __always_inline void deliver(struct tcpfault_dir *d, struct tcpfault_dir *peer,
				    const struct tcpfault_pkt *pkt)
{
	deliver_ack(d, peer, pkt->flags, pkt->ack_seq, pkt->win,
		    pkt->event == TCPFAULT_EV_DATA && pkt->len);
}

/**
 * tcpfault_conn_deliver() - learn what a delivered segment told its receiver
 * @d: the sending direction's state
 * @peer: the other direction's state
 * @pkt: the segment, classified by tcpfault_conn_classify()
 *
 * The acknowledgment and window a segment carries reach the peer only if
 * no fault drops it: a dropped ACK acknowledges nothing. Called once the
 * verdict is known, for segments that go on.
 */
void tcpfault_conn_deliver(struct tcpfault_dir *d, struct tcpfault_dir *peer,
			   const struct tcpfault_pkt *pkt)
{
	deliver(d, peer, pkt);
}

static __always_inline u8 next_state(u8 state, const struct tcpfault_pkt *pkt,
				     const struct tcpfault_dir *d,
				     const struct tcpfault_dir *peer)
{
	u8 fl = pkt->flags;

	if (fl & TCPFAULT_TH_RST)
		return TCPFAULT_WS_CLOSED;
	if (fl & TCPFAULT_TH_SYN) {
		if (!(fl & TCPFAULT_TH_ACK))
			return TCPFAULT_WS_SYN_SENT;
		if (state == TCPFAULT_WS_SYN_SENT || state == TCPFAULT_WS_NONE)
			return TCPFAULT_WS_SYN_RECV;
		return state;
	}
	if (state == TCPFAULT_WS_NONE || state == TCPFAULT_WS_SYN_RECV)
		state = TCPFAULT_WS_ESTABLISHED;
	if ((fl & TCPFAULT_TH_FIN) && pkt->event == TCPFAULT_EV_FIN)
		return READ_ONCE(peer->fin) ? TCPFAULT_WS_CLOSING : TCPFAULT_WS_FIN_WAIT;
	if (state == TCPFAULT_WS_CLOSING && (fl & TCPFAULT_TH_ACK) &&
	    READ_ONCE(d->fin) && READ_ONCE(peer->fin) &&
	    pkt->ack_seq == READ_ONCE(peer->nxt))
		return TCPFAULT_WS_TIME_WAIT;
	return state;
}

/**
 * tcpfault_conn_next_state() - the wire state after a classified segment
 * @state: enum tcpfault_wstate before the segment
 * @pkt: the segment, already classified
 * @d: the sender's direction state, after classification
 * @peer: the other direction's state
 *
 * Return: the new enum tcpfault_wstate.
 */
u8 tcpfault_conn_next_state(u8 state, const struct tcpfault_pkt *pkt,
			    const struct tcpfault_dir *d, const struct tcpfault_dir *peer)
{
	return next_state(state, pkt, d, peer);
}

static struct tcpfault_conn *conn_find(const struct tcpfault_conn_key *key, u32 hash)
{
	struct tcpfault_conn *c;

	hlist_for_each_entry_rcu(c, &buckets[hash & bucket_mask], node)
		if (conn_holds(c, key->cookie, key->family, key->addr[0], key->port[0],
			       key->addr[1], key->port[1]))
			return c;
	return NULL;
}

static void conn_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(conn_cache, container_of(head, struct tcpfault_conn, rcu));
}

/*
 * A connection found the table full: run the GC now, but at most every
 * GC_KICK_GAP. A pressure GC brings the table down to 3/4 of conns_max; a
 * flood that fills it again at once must not keep the GC running back to
 * back (each run walks the whole table several times).
 */
#define GC_KICK_GAP	(HZ / 10)

static void gc_kick(void)
{
	unsigned long next = READ_ONCE(gc_next_kick);

	if (time_before(jiffies, next) || cmpxchg(&gc_next_kick, next, jiffies + GC_KICK_GAP) != next)
		return;
	gc_kicks++;
	mod_delayed_work(system_power_efficient_wq, &gc_work, 0);
}

/*
 * The table no longer knows a connection that may still be open (evicted,
 * or never inserted): from now on, a connection first seen mid-stream may
 * be one whose SYN was seen and forgotten. See tcpfault_conn_opened_before().
 */
static void note_lost(void)
{
	WRITE_ONCE(lost_ns, ktime_get_ns());
}

static struct tcpfault_conn *conn_create(struct net *net,
					 const struct tcpfault_conn_key *key,
					 u32 hash, const struct tcpfault_pkt *pkt, u8 dir)
{
	u32 b = hash & bucket_mask;
	struct tcpfault_conn *c, *old;

	if (atomic_inc_return(&nconns) > (int)conns_max) {
		atomic_dec(&nconns);
		atomic64_inc(&n_insert_failed);
		note_lost();
		gc_kick();
		return NULL;
	}
	c = kmem_cache_zalloc(conn_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!c) {
		atomic_dec(&nconns);
		atomic64_inc(&n_insert_failed);
		note_lost();
		return NULL;
	}
	c->key = *key;
	c->net = net;
	c->blind_ns = READ_ONCE(lost_ns);
	c->id = atomic64_inc_return(&next_id);
	/* A SYN-ACK seen first means the other side opened the connection. */
	c->orig = ((pkt->flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_ACK)) ==
		   (TCPFAULT_TH_SYN | TCPFAULT_TH_ACK)) ? !dir : dir;

	spin_lock_bh(bucket_lock(b));
	old = conn_find(key, hash);
	if (old) {
		spin_unlock_bh(bucket_lock(b));
		kmem_cache_free(conn_cache, c);
		atomic_dec(&nconns);
		return old;
	}
	hlist_add_head_rcu(&c->node, &buckets[b]);
	spin_unlock_bh(bucket_lock(b));
	atomic64_inc(&n_inserted);
	return c;
}

/*
 * A connection first seen mid-stream, leaving a local socket: take the
 * sequence state the wire has not shown yet from the socket itself (the
 * sender holds its lock here), so the very first keepalive probe or
 * retransmission is classified right. At LOCAL_OUT, snd_nxt has not yet
 * moved past the segment being sent.
 */
static void seed_from_sock(struct tcpfault_conn *c, u8 dir, const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct tcpfault_dir *d = &c->d[dir], *peer = &c->d[!dir];

	WRITE_ONCE(d->nxt, READ_ONCE(tp->snd_nxt));
	WRITE_ONCE(d->seen, 1);
	if (!READ_ONCE(peer->seen)) {
		WRITE_ONCE(peer->nxt, READ_ONCE(tp->rcv_nxt));
		WRITE_ONCE(peer->ack, READ_ONCE(tp->snd_una));
		WRITE_ONCE(peer->win, (u16)min_t(u32, READ_ONCE(tp->snd_wnd), 0xffff));
		WRITE_ONCE(peer->seen, 1);
	}
	if (READ_ONCE(c->state) == TCPFAULT_WS_NONE)
		WRITE_ONCE(c->state, TCPFAULT_WS_ESTABLISHED);
}

/*
 * A SYN that opens a new incarnation of a tracked 4-tuple: one with a new
 * ISN, or on an entry that saw its connection already past the handshake.
 * The SYN of a simultaneous open, or of the entry's first connection, is not.
 */
static bool conn_reopened(const struct tcpfault_conn *c, const struct tcpfault_dir *d,
			  const struct tcpfault_pkt *pkt)
{
	u8 st = READ_ONCE(c->state);

	if ((pkt->flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_ACK)) != TCPFAULT_TH_SYN ||
	    st == TCPFAULT_WS_NONE)
		return false;
	if (READ_ONCE(d->syn))
		return pkt->seq != READ_ONCE(d->isn);
	return st != TCPFAULT_WS_SYN_SENT;
}

/*
 * Start a new incarnation from zero: its counters (what after= counts) and
 * sequence state are its own. The timeline keeps the earlier one's events.
 */
static void conn_restart(struct tcpfault_conn *c, u8 dir)
{
	unsigned int i, k;

	for (i = 0; i < 2; i++) {
		struct tcpfault_dir *d = &c->d[i];

		for (k = 0; k < TCPFAULT_C_MAX; k++)
			atomic64_set(&d->c[k], 0);
		WRITE_ONCE(d->first_ns, 0);
		WRITE_ONCE(d->nxt, 0);
		WRITE_ONCE(d->ack, 0);
		WRITE_ONCE(d->win, 0);
		WRITE_ONCE(d->seen, 0);
		WRITE_ONCE(d->syn, 0);
		WRITE_ONCE(d->fin, 0);
		WRITE_ONCE(d->ka_pending, 0);
		WRITE_ONCE(d->isn, 0);
	}
	WRITE_ONCE(c->orig, dir);
	WRITE_ONCE(c->reset_done, 0);
	WRITE_ONCE(c->state, TCPFAULT_WS_NONE);
}

/*
 * The entry of a segment from (@sa, @sp) to (@da, @dp), compared with each
 * of its bucket in place; an IPv4 address is read for its first word only.
 */
static __always_inline struct tcpfault_conn *lookup_ends(struct net *net, u8 family,
							  const u8 *sa, u16 sp,
							  const u8 *da, u16 dp, u8 *dir)
{
	u8 d = endpoint_after(family, sa, sp, da, dp);
	const u8 *a0 = d ? da : sa, *a1 = d ? sa : da;
	u16 p0 = d ? dp : sp, p1 = d ? sp : dp;
	u64 cookie = tcpfault_net_cookie(net);
	struct tcpfault_conn *c;
	u32 hash;

	*dir = d;
	hash = conn_hash_ends(cookie, family, a0, p0, a1, p1);
	hlist_for_each_entry_rcu(c, &buckets[hash & bucket_mask], node)
		if (conn_holds(c, cookie, family, a0, p0, a1, p1))
			return c;
	return NULL;
}

/*
 * lookup_ends() with each family's lookup built for it alone: the family's
 * tests folded away, for the packet path's short ways.
 */
static __always_inline struct tcpfault_conn *lookup_split(struct net *net, u8 family,
							   const u8 *sa, u16 sp,
							   const u8 *da, u16 dp, u8 *dir)
{
	if (family == TCPFAULT_FAM_INET)
		return lookup_ends(net, TCPFAULT_FAM_INET, sa, sp, da, dp, dir);
	return lookup_ends(net, TCPFAULT_FAM_INET6, sa, sp, da, dp, dir);
}

/* The tuple's entry. */
static __always_inline struct tcpfault_conn *lookup(struct net *net,
						     const struct tcpfault_tuple *t, u8 *dir)
{
	return lookup_ends(net, t->family, t->saddr, t->sport, t->daddr, t->dport, dir);
}

/**
 * tcpfault_conn_lookup() - find a tracked connection without creating it
 * @net: its namespace
 * @t: a tuple of one of its segments
 * @dir: set to the endpoint index of @t's sender
 *
 * Caller holds rcu_read_lock().
 *
 * Return: the connection, or NULL.
 */
struct tcpfault_conn *tcpfault_conn_lookup(struct net *net, const struct tcpfault_tuple *t,
					   u8 *dir)
{
	return lookup(net, t, dir);
}

/**
 * tcpfault_conn_count() - entries in the table, all namespaces
 *
 * Return: the count.
 */
unsigned int tcpfault_conn_count(void)
{
	return (unsigned int)atomic_read(&nconns);
}

/**
 * tcpfault_conn_find() - a segment's connection, if it is tracked
 * @net: the namespace the segment is in
 * @pkt: the segment; @pkt->dir is filled in
 *
 * Called from the hooks under RCU.
 *
 * Return: the connection, or NULL.
 */
struct tcpfault_conn *tcpfault_conn_find(struct net *net, struct tcpfault_pkt *pkt)
{
	return lookup(net, &pkt->t, &pkt->dir);
}

/* tcpfault_conn_matches()'s work, inlined in tcpfault_conn_find_known(). */
static __always_inline bool matches(const struct tcpfault_conn *c, u8 dir, unsigned long gen,
				    struct tcpfault_matches *m)
{
	const struct tcpfault_fcache *fc = &c->fc[dir];
	unsigned int i, n;
	u8 rev;

	/* Pairs with the release in tcpfault_conn_set_matches(). */
	if (smp_load_acquire(&fc->gen) != gen)
		return false;
	n = min_t(unsigned int, READ_ONCE(fc->n), TCPFAULT_CONN_FCACHE);
	rev = READ_ONCE(fc->rev);
	for (i = 0; i < n; i++) {
		m->f[i] = READ_ONCE(fc->f[i]);
		m->rev[i] = rev & BIT(i);
	}
	m->n = n;
	m->more = false;
	smp_rmb();	/* the copy before gen's second read */
	return READ_ONCE(fc->gen) == gen;
}

/*
 * A segment that carries its connection on in order (header prediction):
 * no SYN, FIN or RST, the connection established, and the segment starting
 * where its sender's sequence stands. Such a segment cannot open a new
 * incarnation, need the socket's sequence state or move the wire state,
 * and classify() can only call it data, or the ACK of a keepalive probe:
 * in_order_event() says which without the rest. KUnit's
 * track_in_order_shortcut holds the two ways to the same result.
 */
static __always_inline bool in_order_at(const struct tcpfault_conn *c,
					const struct tcpfault_dir *d, u8 flags, u32 seq)
{
	return !(flags & (TCPFAULT_TH_SYN | TCPFAULT_TH_FIN | TCPFAULT_TH_RST)) &&
	       READ_ONCE(c->state) == TCPFAULT_WS_ESTABLISHED && READ_ONCE(d->seen) &&
	       seq == READ_ONCE(d->nxt);
}

/* in_order_at() for a parsed segment. */
static __always_inline bool in_order(const struct tcpfault_conn *c, const struct tcpfault_dir *d,
				     const struct tcpfault_pkt *pkt)
{
	return in_order_at(c, d, pkt->flags, pkt->seq);
}

static __always_inline int in_order_event(struct tcpfault_dir *d, struct tcpfault_dir *peer,
					  struct tcpfault_pkt *pkt)
{
	pkt->prev_nxt = pkt->seq;
	pkt->prev_valid = true;
	if (pkt->len) {
		advance_nxt(d, pkt->seq + pkt->len);
		return TCPFAULT_EV_DATA;
	}
	if (acks_probe(peer, pkt->flags, pkt->ack_seq)) {
		WRITE_ONCE(peer->ka_pending, 0);
		return TCPFAULT_EV_KEEPALIVE_ACK;
	}
	return TCPFAULT_EV_DATA;
}

/* The short way of tcpfault_conn_track(): a segment in order, classified. */
static __always_inline bool track_in_order(struct tcpfault_conn *c, struct tcpfault_pkt *pkt)
{
	struct tcpfault_dir *d = &c->d[pkt->dir];

	if (!in_order(c, d, pkt))
		return false;
	pkt->event = (s8)in_order_event(d, &c->d[!pkt->dir], pkt);
	return true;
}

/*
 * What a segment is to its connection: a new incarnation's first, one to
 * seed from the socket, its event, the wire state it leads to. @fast: a
 * segment in order takes the short way (track_in_order()).
 */
static __always_inline void track_seg(struct tcpfault_conn *c, struct tcpfault_pkt *pkt,
				      bool fast)
{
	u8 dir = pkt->dir, st, ost;
	struct tcpfault_dir *d = &c->d[dir];

	if (fast && track_in_order(c, pkt))
		return;
	if (conn_reopened(c, d, pkt))
		conn_restart(c, dir);
	if (pkt->sk && !READ_ONCE(d->seen) && !(pkt->flags & TCPFAULT_TH_SYN))
		seed_from_sock(c, dir, pkt->sk);
	pkt->event = (s8)classify(d, &c->d[!dir], pkt);
	/*
	 * A connection opens with the SYN that gets through: a retry counts,
	 * the first SYN may have been lost to a fault (a host powered off).
	 * A SYN-ACK seen first (the SYN took another path) opens it too.
	 */
	if (pkt->flags & TCPFAULT_TH_SYN) {
		if (!(pkt->flags & TCPFAULT_TH_ACK))
			WRITE_ONCE(c->syn_ns, ktime_get_ns());
		else if (!READ_ONCE(c->syn_ns))
			WRITE_ONCE(c->syn_ns, ktime_get_ns());
	}

	ost = READ_ONCE(c->state);
	st = next_state(ost, pkt, d, &c->d[!dir]);
	if (st == TCPFAULT_WS_TIME_WAIT && ost == TCPFAULT_WS_CLOSING) {
		/* Only if the closing ACK gets through: tcpfault_conn_account(). */
		pkt->time_wait = true;
		st = ost;
	}
	if (st != ost && cmpxchg(&c->state, ost, st) == ost) {
		if (st == TCPFAULT_WS_SYN_SENT)
			WRITE_ONCE(c->reset_done, 0);
		tcpfault_conn_event(c, TCPFAULT_EV_STATE, dir, st, 0, 0);
	}
}

/**
 * tcpfault_conn_find_known() - a segment's entry, and what it already knows
 * @net: the namespace the segment is in
 * @pkt: the segment; @pkt->dir is filled in, and @pkt->event if it is
 *	classified
 * @gen: tcpfault_index_gen() of @net, read in this RCU read-side section
 * @m: filled with the faults the entry remembers for @pkt's direction
 * @known: set to TCPFAULT_KNOWN_NONE if @m must be looked up (no entry, or
 *	it does not hold them for @gen); TCPFAULT_KNOWN_FAULTS if @m holds
 *	them; TCPFAULT_KNOWN_SEG if, besides, some fault selects the segment
 *	and it was in order: classified as tcpfault_conn_track() would, which
 *	must not be called for it
 *
 * tcpfault_conn_find(), tcpfault_conn_matches() and, for a segment in
 * order, tcpfault_conn_track() in one pass over the entry: a selected
 * connection's header prediction. Called from the hooks under RCU.
 *
 * Return: the entry, or NULL.
 */
struct tcpfault_conn *tcpfault_conn_find_known(struct net *net, struct tcpfault_pkt *pkt,
					       unsigned long gen, struct tcpfault_matches *m,
					       enum tcpfault_known *known)
{
	const struct tcpfault_tuple *t = &pkt->t;
	struct tcpfault_conn *c;

	c = lookup_split(net, t->family, t->saddr, t->sport, t->daddr, t->dport, &pkt->dir);
	*known = TCPFAULT_KNOWN_NONE;
	if (!c || !matches(c, pkt->dir, gen, m))
		return c;
	*known = m->n && track_in_order(c, pkt) ? TCPFAULT_KNOWN_SEG : TCPFAULT_KNOWN_FAULTS;
	return c;
}

/* A connection's first segment: its entry, NULL if the table is full. */
static noinline struct tcpfault_conn *track_new(struct net *net, struct tcpfault_pkt *pkt)
{
	struct tcpfault_conn_key key;

	conn_key(net, &pkt->t, &key);
	return conn_create(net, &key, conn_hash(&key), pkt, pkt->dir);
}

/**
 * tcpfault_conn_track() - a segment's connection, made if new, and what the
 *                         segment is to it
 * @net: the namespace the segment is in
 * @pkt: the segment, @pkt->dir set by tcpfault_conn_find(); @pkt->event
 *	is filled in
 * @c: what tcpfault_conn_find() returned for it
 *
 * Called from the hooks under RCU. Allocates only for a connection's first
 * segment. Counters are not bumped here: the verdict is not known yet, see
 * tcpfault_conn_account().
 *
 * Return: the connection, or NULL if the table is full.
 */
struct tcpfault_conn *tcpfault_conn_track(struct net *net, struct tcpfault_pkt *pkt,
					  struct tcpfault_conn *c)
{
	if (unlikely(!c)) {
		c = track_new(net, pkt);
		if (!c) {
			pkt->event = -1;
			return NULL;
		}
	}
	track_seg(c, pkt, true);
	return c;
}

/**
 * tcpfault_conn_matches() - the faults a direction of a connection matched,
 *                           if the index has not changed since
 * @c: the connection
 * @dir: the sending endpoint
 * @gen: tcpfault_index_gen() of the connection's namespace, read in this
 *	RCU read-side section
 * @m: filled in, if so
 *
 * Lockless: a reader that finds the cache being rewritten misses.
 *
 * Return: true if @m holds what a lookup would find.
 */
bool tcpfault_conn_matches(const struct tcpfault_conn *c, u8 dir, unsigned long gen,
			   struct tcpfault_matches *m)
{
	return matches(c, dir, gen, m);
}

/**
 * tcpfault_conn_set_matches() - remember the faults a direction matched
 * @c: the connection
 * @dir: the sending endpoint
 * @gen: tcpfault_index_gen(), read before the lookup that found @m
 * @m: what it found; not kept if it does not fit
 *
 * A generation is written once: a writer that finds the cache already
 * holding @gen, or being written, leaves it.
 */
void tcpfault_conn_set_matches(struct tcpfault_conn *c, u8 dir, unsigned long gen,
			       const struct tcpfault_matches *m)
{
	struct tcpfault_fcache *fc = &c->fc[dir];
	unsigned long old = READ_ONCE(fc->gen);
	unsigned int i;
	u8 rev = 0;

	if (m->more || m->n > TCPFAULT_CONN_FCACHE || old == gen || old == TCPFAULT_FCACHE_BUSY ||
	    cmpxchg(&fc->gen, old, TCPFAULT_FCACHE_BUSY) != old)
		return;
	for (i = 0; i < m->n; i++) {
		WRITE_ONCE(fc->f[i], m->f[i]);
		if (m->rev[i])
			rev |= BIT(i);
	}
	WRITE_ONCE(fc->n, m->n);
	WRITE_ONCE(fc->rev, rev);
	/* Pairs with the acquire in tcpfault_conn_matches(). */
	smp_store_release(&fc->gen, gen);
}

/* A segment seen, dropped or not: when, and how much. */
static __always_inline void count_seen(struct tcpfault_dir *d, u64 now, u16 segs, u32 len)
{
	if (!READ_ONCE(d->first_ns))
		WRITE_ONCE(d->first_ns, now);
	WRITE_ONCE(d->last_ns, now);
	atomic64_add(segs, &d->c[TCPFAULT_C_SEGS]);
	atomic64_add(len, &d->c[TCPFAULT_C_BYTES]);
}

/*
 * The counting of a data segment in order that goes on (its sequence
 * already moved): tcpfault_conn_account()'s work for it, no drop, no delay,
 * all of its payload new.
 */
static __always_inline void count_in_order(struct tcpfault_conn *c, struct tcpfault_dir *d,
					   struct tcpfault_dir *peer, u64 now, u8 flags,
					   u32 ack_seq, u16 win, u16 segs, u32 len)
{
	WRITE_ONCE(c->pass_ns, now);
	deliver_ack(d, peer, flags, ack_seq, win, len);
	count_seen(d, now, segs, len);
	if (len)
		atomic64_add(len, &d->c[TCPFAULT_C_NEW_BYTES]);
}

/**
 * tcpfault_conn_account() - count a classified segment, once its fate is known
 * @c: the connection, or NULL (then nothing happens)
 * @pkt: the segment, classified by tcpfault_conn_track()
 * @dropped: a fault dropped it
 *
 * A segment that goes on also teaches its receiver's side what it carries
 * (tcpfault_conn_deliver()), and its ACK may complete the close.
 */
void tcpfault_conn_account(struct tcpfault_conn *c, const struct tcpfault_pkt *pkt,
			   bool dropped)
{
	struct tcpfault_dir *d;
	u64 now = ktime_get_ns();
	u32 newb = 0;
	int ev = pkt->event;

	if (!c || ev < 0)
		return;
	d = &c->d[pkt->dir];
	if (!dropped) {
		WRITE_ONCE(c->pass_ns, now);
		deliver(d, &c->d[!pkt->dir], pkt);
		if (pkt->time_wait &&
		    cmpxchg(&c->state, TCPFAULT_WS_CLOSING, TCPFAULT_WS_TIME_WAIT) ==
		    TCPFAULT_WS_CLOSING)
			tcpfault_conn_event(c, TCPFAULT_EV_STATE, pkt->dir,
					    TCPFAULT_WS_TIME_WAIT, 0, 0);
	}
	count_seen(d, now, pkt->segs, pkt->len);
	if (pkt->len) {
		u32 end = pkt->seq + !!(pkt->flags & TCPFAULT_TH_SYN) + pkt->len;

		/*
		 * Sequence space covered for the first time. A segment that
		 * passed untracked (before a fault selected the connection)
		 * still moved the sender forward: the gap counts.
		 */
		if (!pkt->prev_valid)
			newb = pkt->len;
		else if (after(end, pkt->prev_nxt))
			newb = end - pkt->prev_nxt;
		if (newb)
			atomic64_add(newb, &d->c[TCPFAULT_C_NEW_BYTES]);
	}
	if (event_counter[ev] >= 0)
		atomic64_add(ev == TCPFAULT_EV_RETRANS ? pkt->segs : 1,
			     &d->c[event_counter[ev]]);
	if (dropped)
		atomic64_add(pkt->segs, &d->c[TCPFAULT_C_DROPPED]);
	else if (pkt->delay)
		atomic64_add(pkt->segs, &d->c[TCPFAULT_C_DELAYED]);
	if (ev != TCPFAULT_EV_DATA)
		tcpfault_conn_event(c, (u8)ev, pkt->dir, pkt->seq, pkt->len,
				    dropped ? TCPFAULT_EVF_DROPPED :
				    pkt->delay ? TCPFAULT_EVF_DELAYED : 0);
}

/**
 * tcpfault_conn_account_in_order() - tcpfault_conn_account() with no drop, for
 *                                    a segment tcpfault_conn_find_known()
 *                                    classified
 * @c: the connection
 * @pkt: the segment, TCPFAULT_KNOWN_SEG; no fault dropped or holds it
 *
 * A data segment in order is counted the short way; any other (the ACK of
 * a keepalive probe) the whole way.
 */
void tcpfault_conn_account_in_order(struct tcpfault_conn *c, const struct tcpfault_pkt *pkt)
{
	/* First: nothing of the segment's is kept across the call. */
	u64 now = ktime_get_ns();
	u8 dir = pkt->dir;

	if (pkt->event != TCPFAULT_EV_DATA) {
		tcpfault_conn_account(c, pkt, false);
		return;
	}
	count_in_order(c, &c->d[dir], &c->d[!dir], now, pkt->flags, pkt->ack_seq, pkt->win,
		       pkt->segs, pkt->len);
}

/*
 * tcpfault_conn_predict()'s work on the entry: a segment of an established
 * connection starting where its sender's sequence stands (in_order()),
 * that is not the ACK of a pending keepalive probe, is data that goes on.
 * Its sequence moves on, what it acknowledges is learnt, and it is
 * counted, as tcpfault_conn_track() and tcpfault_conn_account() would.
 * Anything else changes nothing and returns false. KUnit's
 * predict_as_the_whole_way holds the two to the same result.
 */
static __always_inline bool predict(struct tcpfault_conn *c, u8 dir,
				    const struct tcpfault_seg *s)
{
	struct tcpfault_dir *d = &c->d[dir], *peer = &c->d[!dir];

	if (!in_order_at(c, d, s->flags, s->seq) ||
	    (!s->len && acks_probe(peer, s->flags, s->ack_seq)))
		return false;
	if (s->len)
		advance_nxt(d, s->seq + s->len);
	count_in_order(c, d, peer, ktime_get_ns(), s->flags, s->ack_seq, s->win, s->segs, s->len);
	return true;
}

/**
 * tcpfault_conn_predict() - header prediction for a tracked segment that
 *                           no fault can select
 * @net: the namespace the segment is in
 * @s: the segment
 *
 * The common case of track_all in one pass over the entry: a segment of a
 * connection already tracked, established, in order, with no SYN, FIN or
 * RST, is data that no fault touches; its entry learns and counts it as the whole way
 * (tcpfault_conn_track(), then tcpfault_conn_account() with no drop)
 * would. Called from the hooks under RCU.
 *
 * Return: true if it was counted; false if it must take the whole way
 * (nothing was changed).
 */
bool tcpfault_conn_predict(struct net *net, const struct tcpfault_seg *s)
{
	struct tcpfault_conn *c;
	u8 dir;

	c = lookup_split(net, s->family, s->saddr, s->sport, s->daddr, s->dport, &dir);
	return c && predict(c, dir, s);
}

/**
 * tcpfault_conn_opened_before() - is a connection known to predate a time
 * @c: the connection
 * @t: ktime_get_ns() of the moment in question (a fault's arming)
 *
 * Only valid for a fault that selected @c's segments continuously since
 * @t: their SYN was then seen. True if the current incarnation's SYN came
 * before @t; for a connection first seen mid-stream, true if the table had
 * lost track of no connection between @t and @c's creation (so its SYN,
 * had it come after @t, would have left an entry). Unknown is false.
 *
 * Return: true if @c is known to have opened before @t.
 */
bool tcpfault_conn_opened_before(const struct tcpfault_conn *c, u64 t)
{
	u64 syn = READ_ONCE(c->syn_ns);

	if (syn)
		return syn < t;
	return c->blind_ns < t;
}

/**
 * tcpfault_conn_passed_ns() - when a segment of a connection last got through
 * @c: the connection
 *
 * Return: ktime_get_ns() of the last segment no fault dropped, either way,
 * or 0 if none has since the entry was made.
 */
u64 tcpfault_conn_passed_ns(const struct tcpfault_conn *c)
{
	return READ_ONCE(c->pass_ns);
}

/**
 * tcpfault_conn_new_bytes() - payload bytes a connection carried, retransmits
 *                             not counted twice, both directions
 * @c: the connection
 *
 * Return: the byte count.
 */
u64 tcpfault_conn_new_bytes(const struct tcpfault_conn *c)
{
	return atomic64_read(&c->d[0].c[TCPFAULT_C_NEW_BYTES]) +
	       atomic64_read(&c->d[1].c[TCPFAULT_C_NEW_BYTES]);
}

/**
 * tcpfault_conn_walk() - call @fn for @net's connections, a stretch at a time
 * @net: the namespace
 * @from: the bucket to start at: 0, then what the last call returned
 * @fn: returns false once it wants no more; the walk stops at the end of
 *	that bucket (@fn is still called for the bucket's other entries)
 * @arg: passed to @fn
 *
 * Caller holds rcu_read_lock(), and may drop it between calls: each entry
 * is visited once over the calls that cover the table, so the whole walk
 * is linear in the table's size.
 *
 * Return: the bucket to resume at, or 0 once the table is done.
 */
u32 tcpfault_conn_walk(struct net *net, u32 from,
		       bool (*fn)(struct tcpfault_conn *c, void *arg), void *arg)
{
	struct tcpfault_conn *c;
	bool more = true;
	u32 b;

	for (b = from; b <= bucket_mask; b++) {
		walk_steps++;
		hlist_for_each_entry_rcu(c, &buckets[b], node) {
			walk_steps++;
			if (c->net == net && !fn(c, arg))
				more = false;
		}
		if (!more)
			return b < bucket_mask ? b + 1 : 0;
	}
	return 0;
}

struct for_each_arg {
	void (*fn)(struct tcpfault_conn *c, void *arg);
	void *arg;
};

static bool walk_all_one(struct tcpfault_conn *c, void *arg)
{
	struct for_each_arg *a = arg;

	a->fn(c, a->arg);
	return true;
}

/**
 * tcpfault_conn_for_each() - call @fn for each tracked connection of @net
 * @net: the namespace
 * @fn: called under rcu_read_lock(), must not sleep
 * @arg: passed to @fn
 */
void tcpfault_conn_for_each(struct net *net, void (*fn)(struct tcpfault_conn *c, void *arg),
			    void *arg)
{
	struct for_each_arg a = { .fn = fn, .arg = arg };

	rcu_read_lock();
	tcpfault_conn_walk(net, 0, walk_all_one, &a);
	rcu_read_unlock();
}

static u64 conn_last_ns(const struct tcpfault_conn *c)
{
	u64 a = READ_ONCE(c->d[0].last_ns), b = READ_ONCE(c->d[1].last_ns);

	return max(a, b);
}

static void conn_unlink(struct tcpfault_conn *c)
{
	u8 st = READ_ONCE(c->state);

	if (st != TCPFAULT_WS_CLOSED && st != TCPFAULT_WS_TIME_WAIT && !READ_ONCE(c->reset_done))
		note_lost();
	hlist_del_rcu(&c->node);
	atomic_dec(&nconns);
	call_rcu(&c->rcu, conn_free_rcu);
}

/* Buckets a sweep reads between two cond_resched(). */
#define GC_BATCH	256

/*
 * Unlink, bucket by bucket (buckets @from to @to - 1) under each bucket's
 * lock, up to @quota entries for which @doomed(entry, @arg) holds.
 * Returns how many went. A bucket is read under RCU alone first, and
 * locked only if it holds an entry to unlink: the periodic pass over a
 * big table that has little to forget costs a read of each entry, no lock
 * and bottom-half toggle per bucket. Inlined into each caller, @doomed is
 * a direct call.
 */
static __always_inline unsigned int
gc_sweep(bool (*doomed)(const struct tcpfault_conn *c, const void *arg),
	 const void *arg, unsigned int quota, u32 from, u32 to)
{
	struct tcpfault_conn *c;
	struct hlist_node *tmp;
	unsigned int n = 0;
	bool any;
	u32 b;

	for (b = from; b < to && n < quota; b++) {
		if ((b & (GC_BATCH - 1)) == GC_BATCH - 1)
			cond_resched();
		if (hlist_empty(&buckets[b]))
			continue;
		any = false;
		rcu_read_lock();
		hlist_for_each_entry_rcu(c, &buckets[b], node) {
			if (doomed(c, arg)) {
				any = true;
				break;
			}
		}
		rcu_read_unlock();
		if (!any)
			continue;
		spin_lock_bh(bucket_lock(b));
		hlist_for_each_entry_safe(c, tmp, &buckets[b], node) {
			if (n == quota)
				break;
			if (!doomed(c, arg))
				continue;
			conn_unlink(c);
			n++;
		}
		spin_unlock_bh(bucket_lock(b));
	}
	return n;
}

/* Must an open connection's entry outlive idleness and pressure? */
static bool gc_keep(const struct tcpfault_conn *c)
{
	bool (*keep)(const struct tcpfault_conn *c) = READ_ONCE(keep_fn);

	return keep && keep(c);
}

/**
 * tcpfault_conn_set_keep() - who decides which open entries the GC keeps
 * @keep: returns true for a connection whose entry must stay (a fault
 *	still has to act on it: once its entry is gone, tcpfault can no
 *	longer tell it from a new connection), or NULL for none
 *
 * The fault table registers this, so the connection table never calls
 * up into it.
 */
void tcpfault_conn_set_keep(bool (*keep)(const struct tcpfault_conn *c))
{
	WRITE_ONCE(keep_fn, keep);
}

struct gc_pass_arg {
	struct net *net;
	bool all;
	u64 now, idle_ns, closed_ns;
};

static bool gc_pass_doomed(const struct tcpfault_conn *c, const void *arg)
{
	const struct gc_pass_arg *a = arg;
	u64 age = a->now - min(a->now, conn_last_ns(c));
	u8 st = READ_ONCE(c->state);
	bool closed = st == TCPFAULT_WS_CLOSED || st == TCPFAULT_WS_TIME_WAIT;

	if (a->net)
		return c->net == a->net;
	if (!(a->all || age > a->idle_ns || (closed && age > a->closed_ns)))
		return false;
	return a->all || closed || !gc_keep(c);
}

/*
 * One GC pass over buckets @from to @to - 1: drop @net's entries
 * (namespace exit, module unload), or else entries idle for longer than
 * @idle_ns, or closed for longer than @closed_ns. Returns how many went.
 */
static unsigned int gc_pass(struct net *net, bool all, u64 now, u64 idle_ns, u64 closed_ns,
			    u32 from, u32 to)
{
	struct gc_pass_arg a = {
		.net = net, .all = all, .now = now, .idle_ns = idle_ns, .closed_ns = closed_ns,
	};

	return gc_sweep(gc_pass_doomed, &a, UINT_MAX, from, to);
}

/*
 * The order in which pressure evicts: closed entries first, then by last
 * activity. An open connection that a reset fault or a rebooted host has
 * still to kill ranks past every other and is never evicted, as in
 * gc_pass().
 */
static u64 gc_rank(const struct tcpfault_conn *c)
{
	u8 st = READ_ONCE(c->state);

	if (st == TCPFAULT_WS_CLOSED || st == TCPFAULT_WS_TIME_WAIT)
		return 0;
	if (gc_keep(c))
		return U64_MAX;
	return conn_last_ns(c);
}

static bool gc_below(const struct tcpfault_conn *c, const void *rank)
{
	return gc_rank(c) < *(const u64 *)rank;
}

/* Evict up to @quota entries whose gc_rank() is below @rank. */
static unsigned int gc_evict_below(u64 rank, unsigned int quota)
{
	return gc_sweep(gc_below, &rank, quota, 0, bucket_mask + 1);
}

#define GC_BINS		64
#define GC_LEVELS	6

/*
 * Pressure: evict @need entries, lowest gc_rank() first, and no more. Each
 * read-only pass counts the entries of the rank range [lo, hi) in GC_BINS
 * bins and narrows the range to the bin where the @need-th entry falls;
 * then everything below it goes, and the rest of @need from within it
 * (entries whose ranks differ by less than the final bin width, about a
 * microsecond, go in table order). Entries that move meanwhile only get
 * younger, or closed, and are judged again by the evicting passes.
 */
static unsigned int gc_pressure(unsigned int need, u64 now)
{
	unsigned int level, k, below = 0, n;
	u64 lo = 0, hi = now + 1, width;
	struct tcpfault_conn *c;
	u32 hist[GC_BINS];
	u32 b;

	for (level = 0; level < GC_LEVELS && hi - lo > 1; level++) {
		width = div64_u64(hi - lo + GC_BINS - 1, GC_BINS);
		memset(hist, 0, sizeof(hist));
		for (b = 0; b <= bucket_mask; b++) {
			if (hlist_empty(&buckets[b]))
				continue;
			rcu_read_lock();
			hlist_for_each_entry_rcu(c, &buckets[b], node) {
				u64 r = gc_rank(c);

				if (r >= lo && r < hi)
					hist[div64_u64(r - lo, width)]++;
			}
			rcu_read_unlock();
			cond_resched();
		}
		for (k = 0; k < GC_BINS - 1 && below + hist[k] < need; k++)
			below += hist[k];
		lo += k * width;
		hi = min(hi, lo + width);
		if (below + hist[k] <= need)
			break;
	}
	n = gc_evict_below(lo, need);
	if (n < need)
		n += gc_evict_below(hi, need - n);
	return n;
}

/*
 * Forget what has timed out in buckets @from to @to - 1 and, under
 * pressure (above 7/8 of conns_max), evict from the whole table: closed
 * entries first, then the least recently active, until the table is at
 * 3/4 of conns_max. Returns the number of entries removed.
 */
static unsigned int gc_run(bool force_all, u32 from, u32 to)
{
	u64 now = ktime_get_ns(), idle = (u64)READ_ONCE(idle_timeout) * NSEC_PER_SEC;
	u64 closed = (u64)READ_ONCE(closed_timeout) * NSEC_PER_SEC;
	int count, target = (int)(conns_max - conns_max / 4);
	unsigned int n;

	n = gc_pass(NULL, force_all, now, idle, closed, from, to);
	count = atomic_read(&nconns);
	if (count > (int)(conns_max - conns_max / 8))
		n += gc_pressure(count - target, now);
	atomic64_add(n, &n_evicted);
	return n;
}

/**
 * tcpfault_conn_gc() - run the connection GC now, over the whole table
 * @force_all: forget every entry (counted as evictions)
 * @net: if set, forget exactly @net's entries, uncounted (namespace exit)
 *
 * Return: the number of entries removed.
 */
int tcpfault_conn_gc(bool force_all, struct net *net)
{
	if (net)
		return gc_pass(net, false, 0, 0, 0, 0, bucket_mask + 1);
	return gc_run(force_all, 0, bucket_mask + 1);
}

/*
 * Seconds the periodic GC takes to read the whole table, a slice a
 * second: an eighth of the shorter timeout, 1 to 8. An entry is forgotten
 * at most that long after its timeout, and a big table that has little
 * to forget costs a fraction of a pass over all of it every second.
 */
static unsigned int gc_period(void)
{
	unsigned int t = min(READ_ONCE(idle_timeout), READ_ONCE(closed_timeout));

	return clamp(t / 8, 1U, 8U);
}

/* One periodic run: the next of @period slices. */
static void gc_slice(unsigned int period)
{
	u32 nb = bucket_mask + 1, to;

	to = min(nb, gc_cursor + DIV_ROUND_UP(nb, period));
	gc_run(false, gc_cursor, to);
	gc_cursor = to == nb ? 0 : to;
}

static void gc_worker(struct work_struct *work)
{
	gc_slice(gc_period());
	queue_delayed_work(system_power_efficient_wq, &gc_work, HZ);
}

/**
 * tcpfault_conn_iter_seek() - the @pos-th connection of a namespace
 * @net: the namespace
 * @it: the procfs iterator; resumes cheaply when @pos follows the last call
 * @pos: 0-based index
 *
 * Caller holds rcu_read_lock().
 *
 * Return: the connection, or NULL past the end.
 */
struct tcpfault_conn *tcpfault_conn_iter_seek(struct net *net, struct tcpfault_conn_iter *it,
					      loff_t pos)
{
	struct tcpfault_conn *c;
	loff_t skip = 0;

	if (pos && pos == it->last_pos) {
		/*
		 * The same position again: a read() resumes at the entry the
		 * last one stopped before (seq_file's start() after next()).
		 */
		if (it->bucket > bucket_mask)
			return NULL;
		it->offset--;
	} else if (!pos || pos != it->last_pos + 1) {
		it->bucket = 0;
		it->offset = 0;
		skip = pos;
	}
	it->last_pos = pos;
	for (; it->bucket <= bucket_mask; it->bucket++, it->offset = 0) {
		u32 i = 0;

		iter_steps++;
		hlist_for_each_entry_rcu(c, &buckets[it->bucket], node) {
			iter_steps++;
			if (c->net != net || i++ < it->offset)
				continue;
			it->offset++;
			if (skip) {
				skip--;
				continue;
			}
			return c;
		}
	}
	return NULL;
}

/**
 * tcpfault_conn_stats() - global figures for sysfs
 * @st: filled in
 */
void tcpfault_conn_stats(struct tcpfault_conn_stats *st)
{
	st->conns = (u64)atomic_read(&nconns);
	st->conns_max = conns_max;
	st->entry_bytes = kmem_cache_size(conn_cache);
	st->buckets = (u64)bucket_mask + 1;
	st->inserted = (u64)atomic64_read(&n_inserted);
	st->evictions = (u64)atomic64_read(&n_evicted);
	st->insert_failed = (u64)atomic64_read(&n_insert_failed);
}

/**
 * tcpfault_conn_arm() - one more user of the hooks' segments
 *
 * tcpfault_conn_armed is on while any fault exists or track_all is on;
 * while it is off, the hooks cost one patched-out branch.
 */
void tcpfault_conn_arm(void)
{
	static_branch_inc(&tcpfault_conn_armed);
}

/**
 * tcpfault_conn_disarm() - one user of the hooks' segments less
 */
void tcpfault_conn_disarm(void)
{
	static_branch_dec(&tcpfault_conn_armed);
}

/**
 * tcpfault_conn_get_track_all() - is every TCP connection tracked
 *
 * Return: the switch.
 */
bool tcpfault_conn_get_track_all(void)
{
	return static_key_enabled(&tcpfault_conn_tracking_all);
}

/**
 * tcpfault_conn_set_track_all() - switch tracking of every connection
 * @on: the new value
 *
 * Return: 0.
 */
int tcpfault_conn_set_track_all(bool on)
{
	mutex_lock(&track_all_mutex);
	if (on && !tcpfault_conn_get_track_all()) {
		tcpfault_conn_arm();
		static_branch_enable(&tcpfault_conn_tracking_all);
	} else if (!on && tcpfault_conn_get_track_all()) {
		static_branch_disable(&tcpfault_conn_tracking_all);
		tcpfault_conn_disarm();
	}
	mutex_unlock(&track_all_mutex);
	return 0;
}

static void __net_exit conn_net_exit(struct net *net)
{
	tcpfault_conn_gc(false, net);
}

static struct pernet_operations conn_net_ops = {
	.exit = conn_net_exit,
};

/**
 * tcpfault_conn_init() - allocate the table, start the GC
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_conn_init(void)
{
	unsigned int nb, i;
	int ret;

	if (conns_max < 16 || conns_max > 16 * 1024 * 1024) {
		pr_err("conns_max=%u: must be between 16 and 16777216\n", conns_max);
		return -EINVAL;
	}
	if (tcpfault_conn_tl_len < 4 || tcpfault_conn_tl_len > 1024 ||
	    !is_power_of_2(tcpfault_conn_tl_len)) {
		pr_err("timeline_len=%u: must be a power of two from 4 to 1024\n",
		       tcpfault_conn_tl_len);
		return -EINVAL;
	}
	nb = roundup_pow_of_two(max(conns_max / 2, 1024U));
	buckets = kvcalloc(nb, sizeof(*buckets), GFP_KERNEL);
	if (!buckets)
		return -ENOMEM;
	bucket_mask = nb - 1;
	for (i = 0; i < CONN_LOCKS; i++)
		spin_lock_init(&conn_locks[i]);
	hash_seed = get_random_u32();
	for (i = 0; i < ARRAY_SIZE(hash_mul); i++)
		hash_mul[i] = get_random_u64() | 1;

	conn_cache = kmem_cache_create("tcpfault_conn", conn_size(), 0, 0, NULL);
	if (!conn_cache) {
		ret = -ENOMEM;
		goto err_buckets;
	}
	ret = register_pernet_subsys(&conn_net_ops);
	if (ret)
		goto err_cache;
	gc_next_kick = jiffies;
	INIT_DEFERRABLE_WORK(&gc_work, gc_worker);
	queue_delayed_work(system_power_efficient_wq, &gc_work, HZ);
	if (track_all)
		tcpfault_conn_set_track_all(true);
	return 0;

err_cache:
	kmem_cache_destroy(conn_cache);
err_buckets:
	kvfree(buckets);
	return ret;
}

/**
 * tcpfault_conn_uninit() - stop the GC, free every entry and the table
 *
 * The hooks are gone by now; rcu_barrier() waits for the frees.
 */
void tcpfault_conn_uninit(void)
{
	tcpfault_conn_set_track_all(false);
	unregister_pernet_subsys(&conn_net_ops);
	cancel_delayed_work_sync(&gc_work);
	gc_pass(NULL, true, ktime_get_ns(), 0, 0, 0, bucket_mask + 1);
	rcu_barrier();
	kmem_cache_destroy(conn_cache);
	kvfree(buckets);
}
