/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfault: simulate link loss and host power-off for selected TCP
 * connections, and count what the stack does about it.
 *
 * Internal interfaces between the files of module/. Each file owns one
 * concern and exports an _init/_uninit pair that main.c sequences:
 *
 *   spec.c     the control grammar (also built in userspace)
 *   conn.c     the connection table, the on-wire classifier, counters,
 *              timelines
 *   index.c    which faults a segment matches (tuple space search,
 *              after a per-namespace port filter and key filter)
 *   nflog.c    NFLOG copies of what a fault drops and sends (nflog=)
 *   inject.c   RST injection and the abort of local sockets
 *   delay.c    the segments delay faults hold, and their way on
 *   verdict.c  what each mode does to a segment, and to the connections
 *              it selects when it starts; the faults' counters
 *   rules.c    the fault table: names, add and delete, the state machine
 *   hooks.c    the netfilter hooks, registered in a namespace while it
 *              has a fault (or track_all is on): a segment's way through
 *              the files above, top to bottom
 *   procfs.c   /proc/net/tcpfault/{faults,conns,timeline}
 *   sysfs.c    /sys/kernel/tcpfault/, the control surface; it registers
 *              with rules.c (struct tcpfault_rules_surface), which never
 *              calls it
 *
 * Each file calls only files above it in this list (tools/testing/
 * callgraph.sh checks it), but through callbacks registered from below:
 * rules.c calls sysfs.c through the surface sysfs.c registered, index.c
 * tells hooks.c of a namespace's first and last fault through
 * tcpfault_index_set_notify(), and conn.c asks rules.c which entries to
 * keep through tcpfault_conn_set_keep(). TCPFAULT_STAGES() is the init ladder.
 */
#ifndef _TCPFAULT_H
#define _TCPFAULT_H

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/jump_label.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rhashtable-types.h>
#include <linux/seq_file.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "spec.h"

#ifndef TCPFAULT_VERSION
#define TCPFAULT_VERSION "0.1.0"
#endif


/* ------------------------------------------------------------------ */
/* A parsed segment                                                     */

/**
 * struct tcpfault_pkt - what the hooks extract from one TCP segment
 * @t: addresses and ports as on the wire
 * @seq: sequence number
 * @ack_seq: acknowledgment number (valid if TCP_FLAG_ACK-like bit set)
 * @len: payload bytes (the whole GSO super-packet)
 * @segs: segments on the wire (gso_segs, at least 1)
 * @win: advertised window, raw (unscaled)
 * @flags: TCP flag byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10)
 * @hook: NF_INET_PRE_ROUTING or NF_INET_LOCAL_OUT
 * @dir: filled by conn tracking: 0 if sent by the conn's endpoint 0
 * @event: filled by the classifier: enum tcpfault_event_type or -1
 * @prev_nxt: filled by the classifier: the sender's highest sequence
 *            number before this segment
 * @prev_valid: @prev_nxt is known
 * @time_wait: filled by conn tracking: delivered, its ACK completes the close
 * @sk: the sending local TCP socket (LOCAL_OUT, established states), or NULL
 */
struct tcpfault_pkt {
	struct tcpfault_tuple t;
	const struct sock *sk;
	u32 seq;
	u32 ack_seq;
	u32 len;
	u16 segs;
	u16 win;
	u8 flags;
	u8 hook;
	u8 dir;
	s8 event;
	u32 prev_nxt;
	bool prev_valid;
	bool time_wait;
	int back_oif;		/* the interface toward the sender, 0 if unknown */
	int fwd_oif;		/* the interface toward the receiver, 0 if unknown */
	u32 back_mark;		/* the mark a reply carries (fwmark_reflect) */
	u32 fwd_mark;		/* the segment's mark */
	int l3mdev;		/* the VRF the segment is in, 0 if none */
	/* The first fault that dropped it and logs its drops (nflog=), or NULL. */
	const struct tcpfault_fault *log;
	/* The delay fault that holds it (its place reserved), or NULL. */
	struct tcpfault_fault *delay;
};

/**
 * struct tcpfault_seg - what header prediction reads of a segment
 *                       (tcpfault_conn_predict())
 * @saddr: source address, as on the wire (4 or 16 bytes, in its header)
 * @daddr: destination address, likewise
 * @family: TCPFAULT_FAM_INET or _INET6
 * @sport: source port, host order
 * @dport: destination port, host order
 * @seq: sequence number
 * @ack_seq: acknowledgment number
 * @len: payload bytes (the whole GSO super-packet)
 * @win: advertised window, raw
 * @segs: segments on the wire
 * @flags: TCP flag byte
 */
struct tcpfault_seg {
	const u8 *saddr;
	const u8 *daddr;
	u8 family;
	u16 sport;
	u16 dport;
	u32 seq;
	u32 ack_seq;
	u32 len;
	u16 win;
	u16 segs;
	u8 flags;
};

#define TCPFAULT_TH_FIN	0x01
#define TCPFAULT_TH_SYN	0x02
#define TCPFAULT_TH_RST	0x04
#define TCPFAULT_TH_ACK	0x10

/* ------------------------------------------------------------------ */
/* Connections (conn.c)                                                  */

/* Per-direction counters, in /proc/net/tcpfault/conns column order. */
enum tcpfault_counter {
	TCPFAULT_C_SEGS,
	TCPFAULT_C_BYTES,
	TCPFAULT_C_NEW_BYTES,
	TCPFAULT_C_RETRANS,
	TCPFAULT_C_KEEPALIVE,
	TCPFAULT_C_KEEPALIVE_ACK,
	TCPFAULT_C_ZWP,
	TCPFAULT_C_SYN_RETRY,
	TCPFAULT_C_FIN,
	TCPFAULT_C_RST,
	TCPFAULT_C_DROPPED,
	TCPFAULT_C_DELAYED,
	TCPFAULT_C_MAX,
};

#define TCPFAULT_EVF_DROPPED	0x01
#define TCPFAULT_EVF_DELAYED	0x02

/**
 * struct tcpfault_event - one timeline entry (24 bytes)
 * @ts: ktime_get_ns() when the segment passed the hook
 * @seq: sequence number, or the event's argument (see enum)
 * @gen: ring generation, for lockless readers: index + 1 when complete
 * @len: payload bytes, saturated at 65535
 * @type: enum tcpfault_event_type
 * @dir: 0 or 1: which endpoint sent it (for RST_SENT: toward which)
 * @flags: TCPFAULT_EVF_*
 */
struct tcpfault_event {
	u64 ts;
	u32 seq;
	u32 gen;
	u16 len;
	u8 type;
	u8 dir;
	u8 flags;
};

/**
 * struct tcpfault_dir - one direction of a connection (endpoint @dir sends)
 * @c: counters, enum tcpfault_counter
 * @first_ns: first segment seen
 * @last_ns: last segment seen
 * @nxt: highest sequence number sent plus one (SYN and FIN count)
 * @ack: last acknowledgment number sent
 * @win: last advertised window, raw
 * @seen: @nxt is valid
 * @syn: a SYN was seen; @isn holds its sequence number
 * @fin: a FIN was seen
 * @ka_pending: a keepalive probe is waiting for its ACK
 * @isn: initial sequence number
 */
struct tcpfault_dir {
	atomic64_t c[TCPFAULT_C_MAX];
	u64 first_ns;
	u64 last_ns;
	u32 nxt;
	u32 ack;
	u16 win;
	u8 seen;
	u8 syn;
	u8 fin;
	u8 ka_pending;
	u32 isn;
};

/**
 * struct tcpfault_conn_key - a connection, independent of direction
 * @cookie: the network namespace's net_cookie
 * @addr: the two endpoints' addresses, lower (addr, port) first
 * @port: their ports, host order
 * @family: TCPFAULT_FAM_INET or _INET6
 * @pad: zero
 */
struct tcpfault_conn_key {
	u64 cookie;
	u8 addr[2][16];
	u16 port[2];
	u8 family;
	u8 pad[3];
};

/* Faults a direction of a connection remembers having matched. */
#define TCPFAULT_CONN_FCACHE	2
/* tcpfault_fcache.gen while a writer fills the cache in. */
#define TCPFAULT_FCACHE_BUSY	1UL

/**
 * struct tcpfault_fcache - the faults one direction of a connection matched
 * @gen: the fault index's generation they were looked up in
 *	(tcpfault_index_gen(): even, never 0), 0 if none yet, or
 *	TCPFAULT_FCACHE_BUSY while a writer fills it in
 * @n: faults in @f
 * @rev: bit i set: @f[i] matched with source and destination swapped
 * @f: the faults: valid only while @gen is the index's generation (a
 *	fault removed from the index changes it before it is freed)
 */
struct tcpfault_fcache {
	unsigned long gen;
	u8 n;
	u8 rev;
	struct tcpfault_fault *f[TCPFAULT_CONN_FCACHE];
};

/**
 * struct tcpfault_conn - one tracked connection
 * @node: hash chain, RCU
 * @key: identity
 * @net: namespace (not refcounted: entries die in the pernet exit)
 * @id: unique, increasing; names the connection in procfs
 * @orig: which endpoint (0/1) opened it (sent the SYN, or the first segment)
 * @state: enum tcpfault_wstate
 * @reset_done: a reset fault already killed this incarnation
 * @syn_ns: when the current incarnation's SYN was seen, 0 if never
 * @pass_ns: when a segment of it last got through, either way, 0 if never:
 *           the idle clock of a middlebox that would see what passes
 * @blind_ns: when the table last lost track of a connection that may be
 *            open, as of this entry's creation (see note_lost())
 * @d: per direction, indexed by sending endpoint
 * @fc: per direction, the faults its segments matched (see
 *      tcpfault_conn_matches())
 * @tl_head: events written so far
 * @rcu: for freeing
 * @tl: the timeline ring, tcpfault_conn_tl_len entries
 */
struct tcpfault_conn {
	struct hlist_node node;
	struct tcpfault_conn_key key;
	struct net *net;
	u64 id;
	u8 orig;
	u8 state;
	u8 reset_done;
	u64 syn_ns;
	u64 pass_ns;
	u64 blind_ns;
	struct tcpfault_dir d[2];
	struct tcpfault_fcache fc[2];
	atomic_t tl_head;
	struct rcu_head rcu;
	struct tcpfault_event tl[];
};

/**
 * struct tcpfault_conn_stats - global connection-table figures
 * @conns: entries now
 * @conns_max: the cap
 * @entry_bytes: bytes per entry, slab object size
 * @buckets: hash buckets
 * @inserted: entries ever created
 * @evictions: entries removed to make room or because idle or closed
 * @insert_failed: new connections not tracked because the table was full
 */
struct tcpfault_conn_stats {
	u64 conns;
	u64 conns_max;
	u64 entry_bytes;
	u64 buckets;
	u64 inserted;
	u64 evictions;
	u64 insert_failed;
};

extern unsigned int tcpfault_conn_tl_len;

int tcpfault_conn_init(void);
void tcpfault_conn_uninit(void);
struct tcpfault_conn *tcpfault_conn_find(struct net *net, struct tcpfault_pkt *pkt);
struct tcpfault_conn *tcpfault_conn_track(struct net *net, struct tcpfault_pkt *pkt,
					  struct tcpfault_conn *c);
bool tcpfault_conn_predict(struct net *net, const struct tcpfault_seg *s);
void tcpfault_conn_account(struct tcpfault_conn *c, const struct tcpfault_pkt *pkt,
			   bool dropped);
void tcpfault_conn_event(struct tcpfault_conn *c, u8 type, u8 dir, u32 seq, u32 len,
			 u8 flags);
u32 tcpfault_conn_events(const struct tcpfault_conn *c, u32 *end);
bool tcpfault_conn_event_read(const struct tcpfault_conn *c, u32 i, struct tcpfault_event *ev);
int tcpfault_conn_classify(struct tcpfault_dir *d, struct tcpfault_dir *peer,
			   struct tcpfault_pkt *pkt);
void tcpfault_conn_deliver(struct tcpfault_dir *d, struct tcpfault_dir *peer,
			   const struct tcpfault_pkt *pkt);
u8 tcpfault_conn_next_state(u8 state, const struct tcpfault_pkt *pkt,
			    const struct tcpfault_dir *d, const struct tcpfault_dir *peer);
u64 tcpfault_conn_new_bytes(const struct tcpfault_conn *c);
bool tcpfault_conn_opened_before(const struct tcpfault_conn *c, u64 t);
u64 tcpfault_conn_passed_ns(const struct tcpfault_conn *c);
void tcpfault_conn_endpoint(const struct tcpfault_conn *c, int ep, u8 *addr, u16 *port);
void tcpfault_conn_for_each(struct net *net, void (*fn)(struct tcpfault_conn *c, void *arg),
			    void *arg);
u32 tcpfault_conn_walk(struct net *net, u32 from,
		       bool (*fn)(struct tcpfault_conn *c, void *arg), void *arg);
void tcpfault_conn_stats(struct tcpfault_conn_stats *st);
unsigned int tcpfault_conn_count(void);
struct tcpfault_conn *tcpfault_conn_lookup(struct net *net, const struct tcpfault_tuple *t,
					   u8 *dir);
void tcpfault_conn_tuple(const struct tcpfault_conn *c, struct tcpfault_tuple *t);
u32 tcpfault_conn_nxt(const struct tcpfault_conn *c, int ep);
bool tcpfault_conn_resettable(const struct tcpfault_conn *c);
bool tcpfault_conn_reset_claim(struct tcpfault_conn *c);
void tcpfault_conn_reset_unclaim(struct tcpfault_conn *c);
bool tcpfault_conn_reset_done(const struct tcpfault_conn *c);
void tcpfault_conn_rst_sent(struct tcpfault_conn *c, u8 toward, u32 seq);
void tcpfault_conn_set_keep(bool (*keep)(const struct tcpfault_conn *c));

/* Set while any fault exists or track_all is on; the hooks bail out early
 * on a single patched branch otherwise.
 */
DECLARE_STATIC_KEY_FALSE(tcpfault_conn_armed);
/* Set while track_all is on (tcpfault_conn_get_track_all()). */
DECLARE_STATIC_KEY_FALSE(tcpfault_conn_tracking_all);
void tcpfault_conn_arm(void);
void tcpfault_conn_disarm(void);
bool tcpfault_conn_get_track_all(void);
int tcpfault_conn_set_track_all(bool on);
int tcpfault_conn_gc(bool force_all, struct net *net);
const char *tcpfault_conn_state_name(unsigned int state);
const char *tcpfault_conn_event_name(unsigned int type);
const char *tcpfault_conn_counter_name(unsigned int counter);

/* procfs iteration over one namespace's connections */
struct tcpfault_conn_iter {
	struct seq_net_private p;	/* must be first: proc_create_net */
	u32 bucket;
	u32 offset;
	loff_t last_pos;
};

struct tcpfault_conn *tcpfault_conn_iter_seek(struct net *net, struct tcpfault_conn_iter *it,
					      loff_t pos);

/* ------------------------------------------------------------------ */
/* Faults (index.c, verdict.c, rules.c)                                  */

struct tcpfault_fstats {
	u64_stats_t c[TCPFAULT_F_MAX];
	struct u64_stats_sync syncp;
};

struct tcpfault_fnode;
struct tcpfault_fault;

/**
 * struct tcpfault_rules_surface - how a control surface shows the faults
 * @ktype: the faults' kobject type; its release must call
 *	tcpfault_rules_fault_free()
 * @fault_add: show a new fault, under tcpfault_rules_mutex (sysfs: its
 *	directory, tagged with its namespace). Return: 0 or a negative errno.
 * @fault_del: stop showing a fault, without tcpfault_rules_mutex (the
 *	surface's handlers take it); returns once nobody is in its files
 *
 * The core calls out through this, so it never depends on its control
 * surface: without one (KUnit, the micro-benchmark) faults work unseen.
 */
struct tcpfault_rules_surface {
	struct kobj_type *ktype;
	int (*fault_add)(struct tcpfault_fault *f);
	void (*fault_del)(struct tcpfault_fault *f);
};

/**
 * struct tcpfault_fault - one fault
 * @kobj: its refcount owns the fault; the control surface, if one is
 *	registered, makes it /sys/kernel/tcpfault/faults/<name>, tagged with @net
 * @surface: the control surface showing it, or NULL
 * @spec: what the user asked for
 * @net: the namespace it lives in (the writer's), and its sysfs
 *	directory's tag; holds no reference: the namespace's exit deletes
 *	its faults and waits for those already being deleted, so @net is
 *	valid until fault_destroy() is done with the directory and the name
 *	(but not in a sysfs reader, which may outlive that)
 * @net_cookie: @net's cookie, for whoever may outlive @net (sysfs readers)
 * @netns_inum: @net's inode number, likewise
 * @id: unique, increasing
 * @node: all faults, under tcpfault_rules_mutex
 * @net_node: the namespace's faults, under tcpfault_rules_mutex
 * @slow_node: index.c's: on the namespace's overflow list (too many shapes), RCU
 * @fnode: index.c's: its two hash entries (as written, mirrored); NULL on
 *	the overflow list
 * @state: enum tcpfault_fstate; READ_ONCE in the packet path
 * @since_ns: when it last became active (or rebooted, for power-off)
 * @deadline_ns: the next timed transition, 0 if none
 * @work: runs timed transitions
 * @stats: per-CPU counters, enum tcpfault_fcounter, counted by verdict.c
 * @delayq: delay.c's: a delay fault's held segments, or NULL
 * @rcu: for freeing
 */
struct tcpfault_fault {
	struct kobject kobj;
	const struct tcpfault_rules_surface *surface;
	struct tcpfault_spec spec;
	struct net *net;
	u64 net_cookie;
	unsigned int netns_inum;
	u64 id;
	struct list_head node;
	struct list_head net_node;
	struct list_head slow_node;
	struct tcpfault_fnode *fnode;
	int state;
	u64 since_ns;
	u64 deadline_ns;
	struct delayed_work work;
	struct tcpfault_fstats __percpu *stats;
	struct tcpfault_delayq *delayq;
	struct rcu_head rcu;
};

#define TCPFAULT_MATCH_MAX 8

/**
 * struct tcpfault_matches - the faults one segment matched
 * @n: how many are here
 * @more: it matched more than TCPFAULT_MATCH_MAX: verdicts look them all up
 * @f: the faults
 * @rev: matched with source and destination swapped
 */
struct tcpfault_matches {
	unsigned int n;
	bool more;
	struct tcpfault_fault *f[TCPFAULT_MATCH_MAX];
	bool rev[TCPFAULT_MATCH_MAX];
};

/* A connection's memory of the faults it matched (conn.c) */
bool tcpfault_conn_matches(const struct tcpfault_conn *c, u8 dir, unsigned long gen,
			   struct tcpfault_matches *m);
void tcpfault_conn_set_matches(struct tcpfault_conn *c, u8 dir, unsigned long gen,
			       const struct tcpfault_matches *m);

/* What tcpfault_conn_find_known() found its entry to know of a segment. */
enum tcpfault_known {
	TCPFAULT_KNOWN_NONE,	/* not the faults it matches */
	TCPFAULT_KNOWN_FAULTS,	/* the faults it matches */
	TCPFAULT_KNOWN_SEG,	/* those, and what it is: classified */
};

struct tcpfault_conn *tcpfault_conn_find_known(struct net *net, struct tcpfault_pkt *pkt,
					       unsigned long gen, struct tcpfault_matches *m,
					       enum tcpfault_known *known);
void tcpfault_conn_account_in_order(struct tcpfault_conn *c, const struct tcpfault_pkt *pkt);

/*
 * A per-CPU u64_stats_t update, from process or softirq context. On
 * 64-bit each counter is one local64 operation on this CPU's copy, which
 * no interrupt can split: staying on the CPU is enough. On 32-bit the
 * syncp seqcount must not be entered by a softirq writer meanwhile.
 */
static inline void tcpfault_stats_begin(void)
{
	if (IS_ENABLED(CONFIG_64BIT))
		preempt_disable();
	else
		local_bh_disable();
}

static inline void tcpfault_stats_end(void)
{
	if (IS_ENABLED(CONFIG_64BIT))
		preempt_enable();
	else
		local_bh_enable();
}

/* NFLOG copies (nflog.c) */
void tcpfault_nflog_default(struct tcpfault_spec *spec);
int tcpfault_nflog_get(const struct tcpfault_spec *spec);
void tcpfault_nflog_put(const struct tcpfault_spec *spec);
void tcpfault_nflog_packet(struct net *net, u8 pf, unsigned int hook,
			   const struct sk_buff *skb, const struct net_device *in,
			   const struct net_device *out, const struct tcpfault_fault *f);

/* The index (index.c) */
int tcpfault_index_init(void);
void tcpfault_index_uninit(void);
int tcpfault_index_insert(struct tcpfault_fault *f);
void tcpfault_index_remove(struct tcpfault_fault *f);
void tcpfault_index_release(struct tcpfault_fault *f);
unsigned int tcpfault_index_count(const struct net *net);
unsigned long tcpfault_index_gen(const struct net *net);
bool tcpfault_index_may_match(const struct net *net, u16 sport, u16 dport);
bool tcpfault_index_may_select(const struct net *net, const struct tcpfault_tuple *t);
unsigned long tcpfault_index_select_gen(const struct net *net, const struct tcpfault_tuple *t);
void tcpfault_index_set_notify(int (*notify)(struct net *net, bool busy));
unsigned int tcpfault_index_lookup(const struct net *net, const struct tcpfault_tuple *t,
				   struct tcpfault_matches *m);
void tcpfault_index_visit(const struct net *net, const struct tcpfault_tuple *t,
			  void (*visit)(struct tcpfault_fault *f, bool rev, void *arg),
			  void *arg);

/* Held segments (delay.c) */
struct nf_hook_ops;
struct nf_hook_state;
struct sk_buff;
struct tcpfault_delayq;
int tcpfault_delay_init(void);
void tcpfault_delay_uninit(void);
bool tcpfault_delay_reserve(void);
void tcpfault_delay_unreserve(void);
unsigned int tcpfault_delay_held(void);
unsigned int tcpfault_delay_hold(struct tcpfault_fault *f, struct sk_buff *skb,
				 const struct nf_hook_state *state, const struct nf_hook_ops *ops);
int tcpfault_delay_create(struct tcpfault_fault *f);
void tcpfault_delay_stop(struct tcpfault_fault *f);
void tcpfault_delay_free(struct tcpfault_fault *f);

/* The modes (verdict.c) */
unsigned int tcpfault_verdict_segment(struct net *net, const struct tcpfault_matches *m,
				      struct tcpfault_pkt *pkt, struct tcpfault_conn *c);
void tcpfault_verdict_fault_start(struct tcpfault_fault *f);
void tcpfault_verdict_fault_stop(struct tcpfault_fault *f);
bool tcpfault_verdict_pins(const struct tcpfault_fault *f, int st);
bool tcpfault_verdict_keeps(const struct tcpfault_fault *f, const struct tcpfault_conn *c);
u64 tcpfault_verdict_stat(struct tcpfault_fault *f, int counter);
unsigned int tcpfault_verdict_hold(const struct tcpfault_pkt *pkt, struct sk_buff *skb,
				   const struct nf_hook_state *state,
				   const struct nf_hook_ops *ops, unsigned int verdict);

/* The fault table (rules.c) */
extern struct mutex tcpfault_rules_mutex;

int tcpfault_rules_init(void);
void tcpfault_rules_uninit(void);
int tcpfault_rules_add(struct net *net, const struct tcpfault_spec *spec);
int tcpfault_rules_del(struct net *net, const char *name);
int tcpfault_rules_flush(struct net *net);
int tcpfault_rules_set_enabled(struct tcpfault_fault *f, bool on);
void tcpfault_rules_fault_free(struct tcpfault_fault *f);
void tcpfault_rules_set_surface(const struct tcpfault_rules_surface *s);
u64 tcpfault_rules_count(const struct net *net);
s64 tcpfault_rules_time_left_ms(const struct tcpfault_fault *f);
const char *tcpfault_rules_state_name(const struct tcpfault_fault *f);
struct list_head *tcpfault_rules_net_list(struct net *net);

/* ------------------------------------------------------------------ */
/* Injection (inject.c)                                                  */

/**
 * struct tcpfault_rst - an RST to put on the wire
 * @family: TCPFAULT_FAM_INET or _INET6
 * @saddr: source address (the endpoint the RST pretends to come from)
 * @daddr: destination address
 * @sport: source port, host order
 * @dport: destination port, host order
 * @seq: sequence number
 * @ack_seq: acknowledgment number, used if @ack
 * @ack: set the ACK flag
 */
struct tcpfault_rst {
	u8 family;
	u8 saddr[16];
	u8 daddr[16];
	u16 sport;
	u16 dport;
	u32 seq;
	u32 ack_seq;
	bool ack;
	int oif;		/* output interface for a link-local peer, or 0 */
	int l3mdev;		/* the VRF whose table routes it, or 0 */
	u32 mark;
	const struct tcpfault_fault *log;	/* copy it to this fault's NFLOG group */
};

bool tcpfault_inject_is_ours(const struct sk_buff *skb);
int tcpfault_inject_rst(struct net *net, const struct tcpfault_rst *rst);
void tcpfault_inject_reply_rst(const struct tcpfault_pkt *pkt, struct tcpfault_rst *rst);
void tcpfault_inject_forward_rst(const struct tcpfault_pkt *pkt, struct tcpfault_rst *rst);
int tcpfault_inject_abort_host(struct net *net, const struct tcpfault_prefix *host,
			       void (*cb)(struct sock *sk, void *arg), void *arg);
void tcpfault_inject_sock_view(struct net *net, const struct tcpfault_conn *c, int ep,
			       struct seq_file *seq);

/* ------------------------------------------------------------------ */
/* Hooks, procfs, sysfs                                                  */

int tcpfault_hooks_init(void);
void tcpfault_hooks_uninit(void);
unsigned int tcpfault_hooks_judge(struct net *net, struct tcpfault_pkt *pkt, bool track_all);
struct tcpfault_conn *tcpfault_hooks_faults(struct net *net, struct tcpfault_pkt *pkt, bool sel,
					    unsigned long *gen, struct tcpfault_matches *m,
					    enum tcpfault_known *known);
struct tcpfault_conn *tcpfault_hooks_track(struct net *net, struct tcpfault_pkt *pkt,
					   struct tcpfault_conn *c, unsigned long gen,
					   const struct tcpfault_matches *m,
					   enum tcpfault_known known);
int tcpfault_hooks_parse(const struct nf_hook_state *state, struct sk_buff *skb,
			 struct tcpfault_pkt *pkt);
unsigned int tcpfault_hooks_run(const struct nf_hook_state *state, struct sk_buff *skb);
int tcpfault_hooks_track_all(bool on);
bool tcpfault_hooks_registered(struct net *net);
void tcpfault_hooks_stats(u64 *seen, u64 *dropped);

int tcpfault_procfs_init(void);
void tcpfault_procfs_uninit(void);

int tcpfault_sysfs_init(void);
void tcpfault_sysfs_uninit(void);
__printf(1, 2) void tcpfault_sysfs_reject(const char *fmt, ...);

/* ------------------------------------------------------------------ */
/* The init ladder                                                        */

/*
 * The files that have state, in the order they come up; they go down in
 * the exact reverse. The core runs alone (KUnit, the micro-benchmark):
 * faults work there without hooks or a control surface.
 */
#define TCPFAULT_CORE_STAGES(S)		TCPFAULT_LIST(S(conn) S(index) S(delay) S(rules))
#define TCPFAULT_STAGES(S)		TCPFAULT_LIST(TCPFAULT_CORE_STAGES(S) S(hooks) S(procfs) S(sysfs))

struct tcpfault_stage {
	int (*init)(void);
	void (*uninit)(void);
};

#define TCPFAULT_STAGE(name)	{ tcpfault_##name##_init, tcpfault_##name##_uninit },

/* Bring up @n stages in order; on a failure, take down those that came up. */
static inline int tcpfault_stages_init(const struct tcpfault_stage *s, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = s[i].init();
		if (ret) {
			while (i--)
				s[i].uninit();
			return ret;
		}
	}
	return 0;
}

static inline void tcpfault_stages_uninit(const struct tcpfault_stage *s, unsigned int n)
{
	while (n--)
		s[n].uninit();
}

#endif /* _TCPFAULT_H */
