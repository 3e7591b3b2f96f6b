// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the on-wire classifier, the wire state machine, and the
 * connection table (insert, lookup from both sides, the size cap, idle
 * and pressure GC, namespace teardown).
 */
#include <kunit/test.h>

#include "../module/conn.c"
#include "tunables.h"

#define SYN TCPFAULT_TH_SYN
#define ACK TCPFAULT_TH_ACK
#define FIN TCPFAULT_TH_FIN
#define RST TCPFAULT_TH_RST

/* One segment from @d's side, classified against @d and @peer. */
static int seg(struct tcpfault_dir *d, struct tcpfault_dir *peer, u32 seq, u32 len,
	       u8 flags, u32 ack, u16 win)
{
	struct tcpfault_pkt pkt = {
		.seq = seq, .len = len, .flags = flags, .ack_seq = ack, .win = win, .segs = 1,
	};

	pkt.event = tcpfault_conn_classify(d, peer, &pkt);
	tcpfault_conn_deliver(d, peer, &pkt);
	return pkt.event;
}

static void classify_handshake_and_data(struct kunit *test)
{
	struct tcpfault_dir *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tcpfault_dir *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1000, 0, SYN, 0, 64240), TCPFAULT_EV_SYN);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1000, 0, SYN, 0, 64240), TCPFAULT_EV_SYN_RETRY);
	KUNIT_EXPECT_EQ(test, seg(s, c, 5000, 0, SYN | ACK, 1001, 65160), TCPFAULT_EV_SYN);
	KUNIT_EXPECT_EQ(test, seg(s, c, 5000, 0, SYN | ACK, 1001, 65160),
			TCPFAULT_EV_SYN_RETRY);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1001, 0, ACK, 5001, 502), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, c->nxt, 1001U);
	KUNIT_EXPECT_EQ(test, s->nxt, 5001U);
	/* New data, then a full retransmission, then a partial overlap. */
	KUNIT_EXPECT_EQ(test, seg(c, s, 1001, 100, ACK, 5001, 502), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1101, 100, ACK, 5001, 502), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1001, 100, ACK, 5001, 502), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, c->nxt, 1201U);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1150, 100, ACK, 5001, 502), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, c->nxt, 1250U);
	/* A pure ACK is not a retransmission, even at an old sequence. */
	KUNIT_EXPECT_EQ(test, seg(s, c, 5001, 0, ACK, 1250, 500), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1250, 0, ACK, 5001, 502), TCPFAULT_EV_DATA);
}

static void classify_keepalive_and_zero_window(struct kunit *test)
{
	struct tcpfault_dir *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tcpfault_dir *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, s);
	seg(c, s, 1000, 0, SYN, 0, 64240);
	seg(s, c, 5000, 0, SYN | ACK, 1001, 65160);
	seg(c, s, 1001, 200, ACK, 5001, 502);
	seg(s, c, 5001, 0, ACK, 1201, 500);		/* all acknowledged */
	/* Linux form: seq = snd_una - 1, no data. */
	KUNIT_EXPECT_EQ(test, seg(c, s, 1200, 0, ACK, 5001, 502), TCPFAULT_EV_KEEPALIVE);
	KUNIT_EXPECT_TRUE(test, c->ka_pending);
	KUNIT_EXPECT_EQ(test, seg(s, c, 5001, 0, ACK, 1201, 500), TCPFAULT_EV_KEEPALIVE_ACK);
	KUNIT_EXPECT_FALSE(test, c->ka_pending);
	/* BSD/Windows form: one garbage byte at snd_una - 1. */
	KUNIT_EXPECT_EQ(test, seg(c, s, 1200, 1, ACK, 5001, 502), TCPFAULT_EV_KEEPALIVE);
	/* Unanswered probes stay pending; the next is a keepalive again. */
	KUNIT_EXPECT_EQ(test, seg(c, s, 1200, 0, ACK, 5001, 502), TCPFAULT_EV_KEEPALIVE);
	/* Not a keepalive if the peer has not acknowledged everything. */
	seg(c, s, 1201, 100, ACK, 5001, 502);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1300, 1, ACK, 5001, 502), TCPFAULT_EV_RETRANS);
	/* Zero window advertised: the same probe shape is a window probe. */
	seg(s, c, 5001, 0, ACK, 1301, 0);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1300, 0, ACK, 5001, 502), TCPFAULT_EV_ZWP);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1300, 0, ACK, 5001, 502), TCPFAULT_EV_ZWP);
}

static void classify_fin_rst(struct kunit *test)
{
	struct tcpfault_dir *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tcpfault_dir *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, s);
	seg(c, s, 1000, 0, SYN, 0, 64240);
	seg(s, c, 5000, 0, SYN | ACK, 1001, 65160);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1001, 10, ACK | FIN, 5001, 502), TCPFAULT_EV_FIN);
	KUNIT_EXPECT_EQ(test, c->nxt, 1012U);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1001, 10, ACK | FIN, 5001, 502), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, seg(c, s, 1011, 0, ACK | FIN, 5001, 502), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, seg(s, c, 5001, 0, RST, 0, 0), TCPFAULT_EV_RST);
	KUNIT_EXPECT_EQ(test, seg(s, c, 5001, 0, RST | ACK, 1012, 0), TCPFAULT_EV_RST);
	/* A connection first seen mid-stream: its first FIN is a FIN. */
	memset(c, 0, sizeof(*c));
	KUNIT_EXPECT_EQ(test, seg(c, s, 777, 0, ACK | FIN, 5001, 9), TCPFAULT_EV_FIN);
}

static void classify_wraparound(struct kunit *test)
{
	struct tcpfault_dir *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tcpfault_dir *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, seg(c, s, 0xfffffff0, 0, SYN, 0, 1), TCPFAULT_EV_SYN);
	KUNIT_EXPECT_EQ(test, seg(c, s, 0xfffffff1, 100, ACK, 1, 1), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, c->nxt, 0x55U);
	KUNIT_EXPECT_EQ(test, seg(c, s, 0xfffffff1, 100, ACK, 1, 1), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, seg(c, s, 0x00000010, 0x45, ACK, 1, 1), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, seg(c, s, 0x55, 100, ACK, 1, 1), TCPFAULT_EV_DATA);
	KUNIT_EXPECT_EQ(test, c->nxt, 0xb9U);
	/* An old segment from before the wrap must not move nxt back. */
	KUNIT_EXPECT_EQ(test, seg(c, s, 0xfffffff1, 10, ACK, 1, 1), TCPFAULT_EV_RETRANS);
	KUNIT_EXPECT_EQ(test, c->nxt, 0xb9U);
}

static u8 step(struct tcpfault_dir *d, struct tcpfault_dir *peer, u8 state, u32 seq, u32 len,
	       u8 flags, u32 ack)
{
	struct tcpfault_pkt pkt = {
		.seq = seq, .len = len, .flags = flags, .ack_seq = ack, .win = 100, .segs = 1,
	};

	pkt.event = tcpfault_conn_classify(d, peer, &pkt);
	tcpfault_conn_deliver(d, peer, &pkt);
	return tcpfault_conn_next_state(state, &pkt, d, peer);
}

static void wire_state_machine(struct kunit *test)
{
	struct tcpfault_dir *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct tcpfault_dir *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u8 st = TCPFAULT_WS_NONE;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, s);
	st = step(c, s, st, 1, 0, SYN, 0);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_SYN_SENT);
	st = step(s, c, st, 9, 0, SYN | ACK, 2);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_SYN_RECV);
	st = step(c, s, st, 2, 0, ACK, 10);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_ESTABLISHED);
	st = step(c, s, st, 2, 5, ACK | FIN, 10);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_FIN_WAIT);
	st = step(c, s, st, 2, 5, ACK | FIN, 10);	/* retransmitted FIN */
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_FIN_WAIT);
	st = step(s, c, st, 10, 0, ACK | FIN, 8);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_CLOSING);
	st = step(c, s, st, 8, 0, ACK, 11);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_TIME_WAIT);
	st = step(s, c, st, 11, 0, RST, 0);
	KUNIT_EXPECT_EQ(test, st, TCPFAULT_WS_CLOSED);
	/* A connection picked up mid-stream is established at once. */
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	KUNIT_EXPECT_EQ(test, step(c, s, TCPFAULT_WS_NONE, 77, 10, ACK, 5),
			TCPFAULT_WS_ESTABLISHED);
}

/* ---- the table ----------------------------------------------------------- */

static struct tcpfault_pkt mkpkt(u8 a, u16 sport, u8 b, u16 dport, u8 flags)
{
	struct tcpfault_pkt p = { .flags = flags, .segs = 1, .seq = 100 };

	p.t.family = TCPFAULT_FAM_INET;
	p.t.saddr[0] = 192;
	p.t.saddr[1] = 0;
	p.t.saddr[2] = 2;
	p.t.saddr[3] = a;
	memcpy(p.t.daddr, p.t.saddr, 4);
	p.t.daddr[3] = b;
	p.t.sport = sport;
	p.t.dport = dport;
	return p;
}

/* A segment through the table as the hook passes it: delivered, or dropped. */
static struct tcpfault_conn *track_as(struct net *net, struct tcpfault_pkt p, bool dropped)
{
	struct tcpfault_conn *c;

	rcu_read_lock();
	c = tcpfault_conn_track(net, &p, tcpfault_conn_find(net, &p));
	tcpfault_conn_account(c, &p, dropped);
	rcu_read_unlock();
	return c;
}

static struct tcpfault_conn *track(struct net *net, struct tcpfault_pkt p)
{
	return track_as(net, p, false);
}

/* For the rules suite, whose pressure case needs a small table. */
unsigned int tcpfault_kunit_conns_max(unsigned int n)
{
	unsigned int old = conns_max;

	conns_max = n;
	return old;
}

/* For the rules suite: the work a reset fault's arming did. */
unsigned long tcpfault_kunit_walk_steps(void)
{
	return walk_steps;
}

/* For the rules suite, whose GC cases need a short idle_timeout. */
unsigned int tcpfault_kunit_idle_timeout(unsigned int s)
{
	unsigned int old = idle_timeout;

	idle_timeout = s;
	return old;
}

static int conn_suite_init(struct kunit_suite *suite)
{
	int ret;

	conns_max = 64;
	ret = tcpfault_conn_init();
	/* The tests run the GC themselves, deterministically. */
	if (!ret)
		cancel_delayed_work_sync(&gc_work);
	return ret;
}

static void conn_suite_exit(struct kunit_suite *suite)
{
	tcpfault_conn_uninit();
}

static void conn_case_exit(struct kunit *test)
{
	cancel_delayed_work_sync(&gc_work);
	gc_pass(NULL, true, ktime_get_ns(), 0, 0, 0, bucket_mask + 1);
	synchronize_rcu();
}

static void table_both_directions(struct kunit *test)
{
	struct tcpfault_conn *c1, *c2;
	struct tcpfault_conn_stats st;
	u8 dir;

	c1 = track(&init_net, mkpkt(1, 40000, 2, 80, SYN));
	KUNIT_ASSERT_NOT_NULL(test, c1);
	c2 = track(&init_net, mkpkt(2, 80, 1, 40000, SYN | ACK));
	KUNIT_EXPECT_PTR_EQ(test, c1, c2);
	KUNIT_EXPECT_EQ(test, c1->state, TCPFAULT_WS_SYN_RECV);
	/* The originator is the SYN's sender, whatever the key order. */
	KUNIT_EXPECT_EQ(test, c1->key.addr[c1->orig][3], 1);
	rcu_read_lock();
	{
		struct tcpfault_pkt p = mkpkt(2, 80, 1, 40000, ACK);

		KUNIT_EXPECT_PTR_EQ(test, tcpfault_conn_lookup(&init_net, &p.t, &dir), c1);
		p = mkpkt(2, 80, 1, 40001, ACK);
		KUNIT_EXPECT_NULL(test, tcpfault_conn_lookup(&init_net, &p.t, &dir));
	}
	rcu_read_unlock();
	tcpfault_conn_stats(&st);
	KUNIT_EXPECT_EQ(test, st.conns, 1ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c1->d[c1->orig].c[TCPFAULT_C_SEGS]), 1LL);
}

static void table_cap_and_pressure(struct kunit *test)
{
	struct tcpfault_conn_stats st, st0;
	unsigned int i;

	tcpfault_conn_stats(&st0);
	for (i = 0; i < conns_max; i++)
		KUNIT_ASSERT_NOT_NULL(test, track(&init_net, mkpkt(1, 1000 + i, 2, 80, SYN)));
	/* Full: the next connection is not tracked, and that is counted. */
	KUNIT_EXPECT_NULL(test, track(&init_net, mkpkt(1, 999, 2, 80, SYN)));
	tcpfault_conn_stats(&st);
	KUNIT_EXPECT_EQ(test, st.insert_failed, st0.insert_failed + 1);
	KUNIT_EXPECT_LE(test, st.conns, (u64)conns_max);
	/*
	 * The failed insert kicked the GC; wait for it, run it once more:
	 * under pressure it brings the table down to 3/4, counting evictions.
	 */
	cancel_delayed_work_sync(&gc_work);
	tcpfault_conn_gc(false, NULL);
	tcpfault_conn_stats(&st);
	KUNIT_EXPECT_LE(test, st.conns, (u64)(conns_max - conns_max / 4));
	KUNIT_EXPECT_EQ(test, st.evictions - st0.evictions, conns_max - st.conns);
	KUNIT_EXPECT_NOT_NULL(test, track(&init_net, mkpkt(1, 999, 2, 80, SYN)));
}

/*
 * A SYN flood against a full table: every refused connection used to run
 * the GC again at once. It is kicked at most every GC_KICK_GAP.
 */
static void table_flood_kicks_gc_rarely(struct kunit *test)
{
	unsigned long kicks, t0;
	unsigned int i, refused = 0;

	for (i = 0; i < conns_max; i++)
		KUNIT_ASSERT_NOT_NULL(test, track(&init_net, mkpkt(1, 1000 + i, 2, 80, SYN)));
	kicks = gc_kicks;
	t0 = jiffies;
	/* The GC a kick runs makes room, which the flood fills again. */
	for (i = 0; i < 20 * conns_max; i++)
		refused += !track(&init_net, mkpkt(3, 1000 + i, 2, 80, SYN));
	kicks = gc_kicks - kicks;
	KUNIT_EXPECT_GT(test, refused, conns_max);
	KUNIT_EXPECT_LE_MSG(test, kicks, 1 + (jiffies - t0) / GC_KICK_GAP + 1,
			    "%lu kicks for %u refused SYNs in %u ms", kicks, refused,
			    jiffies_to_msecs(jiffies - t0));
}

/*
 * Pressure evicts closed entries first, then the least recently active,
 * and stops at 3/4 of conns_max: a flood must not wipe the table.
 */
static void table_pressure_evicts_oldest_first(struct kunit *test)
{
	unsigned int i, target = conns_max - conns_max / 4, closed = conns_max / 2 + 8;
	struct tcpfault_conn_stats st, st0;
	u64 now = ktime_get_ns();
	u8 dir;

	tcpfault_conn_stats(&st0);
	for (i = 0; i < conns_max; i++) {
		struct tcpfault_conn *c = track(&init_net, mkpkt(1, 1000 + i, 2, 80, SYN));

		KUNIT_ASSERT_NOT_NULL(test, c);
		/* Entry i was last active (conns_max - i) * 10 ms ago. */
		c->d[c->orig].last_ns = now - (u64)(conns_max - i) * 10 * NSEC_PER_MSEC;
		if (i == closed)
			c->state = TCPFAULT_WS_CLOSED;
	}
	KUNIT_EXPECT_EQ(test, tcpfault_conn_gc(false, NULL), (int)(conns_max - target));
	tcpfault_conn_stats(&st);
	KUNIT_EXPECT_EQ(test, st.conns, (u64)target);
	KUNIT_EXPECT_EQ(test, st.evictions - st0.evictions, (u64)(conns_max - target));
	/* Gone: the closed entry and the oldest; kept: the newest. */
	for (i = 0; i < conns_max; i++) {
		struct tcpfault_pkt p = mkpkt(1, 1000 + i, 2, 80, SYN);
		bool want = i != closed && i >= conns_max - target - 1;
		bool kept;

		rcu_read_lock();
		kept = tcpfault_conn_lookup(&init_net, &p.t, &dir);
		rcu_read_unlock();
		KUNIT_EXPECT_EQ_MSG(test, kept, want, "entry %u", i);
	}
}

static void table_idle_and_closed(struct kunit *test)
{
	struct tcpfault_conn *idle, *fresh, *closed;
	u64 now = ktime_get_ns();
	unsigned int saved_idle = idle_timeout, saved_closed = closed_timeout;

	idle = track(&init_net, mkpkt(1, 1, 2, 2, ACK));
	fresh = track(&init_net, mkpkt(1, 3, 2, 4, ACK));
	closed = track(&init_net, mkpkt(1, 5, 2, 6, RST));
	KUNIT_ASSERT_NOT_NULL(test, idle);
	KUNIT_ASSERT_NOT_NULL(test, fresh);
	KUNIT_ASSERT_NOT_NULL(test, closed);
	KUNIT_EXPECT_EQ(test, closed->state, TCPFAULT_WS_CLOSED);
	idle_timeout = 10;
	closed_timeout = 2;
	idle->d[idle->orig].last_ns = now - 11 * NSEC_PER_SEC;
	closed->d[closed->orig].last_ns = now - 3 * NSEC_PER_SEC;
	KUNIT_EXPECT_EQ(test, tcpfault_conn_gc(false, NULL), 2);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 1U);
	idle_timeout = saved_idle;
	closed_timeout = saved_closed;
}

/* Make @n closed entries, 3 s past their end; count those in buckets below @slice. */
static unsigned int make_closed(struct kunit *test, unsigned int n, u32 slice)
{
	u64 now = ktime_get_ns(), then = now > 3 * NSEC_PER_SEC ? now - 3 * NSEC_PER_SEC : 1;
	unsigned int i, below = 0;

	for (i = 0; i < n; i++) {
		struct tcpfault_conn *c = track(&init_net, mkpkt(1, 1000 + i, 2, 80, RST));

		KUNIT_EXPECT_NOT_NULL(test, c);
		if (!c)
			break;
		c->d[c->orig].last_ns = then;
		below += (conn_hash(&c->key) & bucket_mask) < slice;
	}
	return below;
}

/*
 * The periodic GC reads the table a slice a second, the whole of it every
 * gc_period() seconds (an eighth of the shorter timeout, 1 to 8): of
 * closed entries past their timeout, a run of 7 slices forgets exactly
 * those in the first slice's buckets, and 7 runs all of them.
 */
static void table_periodic_gc_reads_a_slice(struct kunit *test)
{
	unsigned int saved_idle = idle_timeout, saved_closed = closed_timeout;
	u32 slice = DIV_ROUND_UP(bucket_mask + 1, 7);
	unsigned int runs, first, n = 48;

	idle_timeout = 600;
	closed_timeout = 60;
	KUNIT_EXPECT_EQ(test, gc_period(), 7U);
	closed_timeout = 3600;
	KUNIT_EXPECT_EQ(test, gc_period(), 8U);
	idle_timeout = 10;
	KUNIT_EXPECT_EQ(test, gc_period(), 1U);

	closed_timeout = 2;
	first = make_closed(test, n, slice);
	KUNIT_EXPECT_LT(test, first, n);
	gc_cursor = 0;
	gc_slice(7);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), n - first);
	KUNIT_EXPECT_EQ(test, gc_cursor, slice);
	for (runs = 1; runs < 7; runs++)
		gc_slice(7);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 0U);
	KUNIT_EXPECT_EQ(test, gc_cursor, 0U);
	/* One slice is the whole table. */
	make_closed(test, n, slice);
	gc_slice(1);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 0U);
	KUNIT_EXPECT_EQ(test, gc_cursor, 0U);
	idle_timeout = saved_idle;
	closed_timeout = saved_closed;
}

static void table_namespace_exit(struct kunit *test)
{
	struct net *other = kunit_kzalloc(test, sizeof(*other), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, other);
	other->net_cookie = init_net.net_cookie + 1000;
	KUNIT_ASSERT_NOT_NULL(test, track(&init_net, mkpkt(1, 1, 2, 2, ACK)));
	KUNIT_ASSERT_NOT_NULL(test, track(other, mkpkt(1, 1, 2, 2, ACK)));
	KUNIT_ASSERT_NOT_NULL(test, track(other, mkpkt(1, 3, 2, 2, ACK)));
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 3U);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_gc(false, other), 2);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 1U);
	synchronize_rcu();
}

static void table_new_bytes(struct kunit *test)
{
	struct tcpfault_pkt p = mkpkt(1, 9, 2, 10, ACK);
	struct tcpfault_conn *c;

	p.len = 10;
	p.seq = 1;
	c = track(&init_net, p);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 10ULL);
	track(&init_net, p);			/* a retransmission: nothing new */
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 10ULL);
	p.seq = 31;				/* 20 bytes passed unseen, then 10 */
	track(&init_net, p);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 40ULL);
	p.seq = 36;				/* partial overlap: 5 new */
	track(&init_net, p);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 45ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[c->orig].c[TCPFAULT_C_BYTES]), 40LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[c->orig].c[TCPFAULT_C_RETRANS]), 2LL);
}

/* A new connection on a reused 4-tuple counts from zero (after= reads it). */
static void table_reused_tuple(struct kunit *test)
{
	struct tcpfault_pkt p = mkpkt(1, 40000, 2, 80, ACK);
	struct tcpfault_conn *c, *c2;

	c = track(&init_net, mkpkt(1, 40000, 2, 80, SYN));
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* The peer's own SYN (simultaneous open) is the same connection. */
	KUNIT_EXPECT_PTR_EQ(test, track(&init_net, mkpkt(2, 80, 1, 40000, SYN)), c);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[c->orig].c[TCPFAULT_C_SEGS]), 1LL);
	p.seq = 101;
	p.len = 5000;
	track(&init_net, p);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 5000ULL);
	track(&init_net, mkpkt(2, 80, 1, 40000, RST));
	KUNIT_EXPECT_EQ(test, c->state, TCPFAULT_WS_CLOSED);
	/* The same 4-tuple again, a new ISN: a new incarnation. */
	p = mkpkt(1, 40000, 2, 80, SYN);
	p.seq = 900000;
	c2 = track(&init_net, p);
	KUNIT_EXPECT_PTR_EQ(test, c2, c);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 0ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[c->orig].c[TCPFAULT_C_SEGS]), 1LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[!c->orig].c[TCPFAULT_C_SEGS]), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[!c->orig].c[TCPFAULT_C_RST]), 0LL);
	KUNIT_EXPECT_EQ(test, c->state, TCPFAULT_WS_SYN_SENT);
	KUNIT_EXPECT_EQ(test, c->key.addr[c->orig][3], 1);
	/* Its retry is not one more incarnation. */
	track(&init_net, p);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[c->orig].c[TCPFAULT_C_SYN_RETRY]), 1LL);
}

static struct tcpfault_conn *track_dropped(struct net *net, struct tcpfault_pkt p)
{
	return track_as(net, p, true);
}

static struct tcpfault_pkt seg_at(u8 a, u16 sport, u8 b, u16 dport, u8 flags, u32 seq,
				  u32 len, u32 ack)
{
	struct tcpfault_pkt p = mkpkt(a, sport, b, dport, flags);

	p.seq = seq;
	p.len = len;
	p.ack_seq = ack;
	p.win = 100;
	return p;
}

static void dropped_ack_keeps_closing(struct kunit *test, struct tcpfault_conn *c);

/* A dropped segment's ACK reached no one: the classifier must not learn it. */
static void table_dropped_ack_teaches_nothing(struct kunit *test)
{
	struct tcpfault_conn *c;
	u8 srv;

	c = track(&init_net, seg_at(1, 40000, 2, 80, SYN, 100, 0, 0));
	KUNIT_ASSERT_NOT_NULL(test, c);
	srv = !c->orig;
	track(&init_net, seg_at(2, 80, 1, 40000, SYN | ACK, 5000, 0, 101));
	track(&init_net, seg_at(1, 40000, 2, 80, ACK, 101, 0, 5001));
	track(&init_net, seg_at(2, 80, 1, 40000, ACK, 5001, 1, 101));
	/* The client's ACK of that byte is cut (oneway) ... */
	track_dropped(&init_net, seg_at(1, 40000, 2, 80, ACK, 101, 0, 5002));
	/* ... so the server resends the byte: a retransmission, not a keepalive. */
	track(&init_net, seg_at(2, 80, 1, 40000, ACK, 5001, 1, 101));
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[srv].c[TCPFAULT_C_RETRANS]), 1LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[srv].c[TCPFAULT_C_KEEPALIVE]), 0LL);
	dropped_ack_keeps_closing(test, c);
}

/*
 * Both FINs; the last ACK is dropped: the close is not complete. (A
 * function of its own: each segment above is a temporary on the stack,
 * and KASAN gives each its own slot.)
 */
static noinline void dropped_ack_keeps_closing(struct kunit *test, struct tcpfault_conn *c)
{
	track(&init_net, seg_at(1, 40000, 2, 80, ACK | FIN, 101, 0, 5002));
	track(&init_net, seg_at(2, 80, 1, 40000, ACK | FIN, 5002, 0, 102));
	KUNIT_EXPECT_EQ(test, c->state, TCPFAULT_WS_CLOSING);
	track_dropped(&init_net, seg_at(1, 40000, 2, 80, ACK, 102, 0, 5003));
	KUNIT_EXPECT_EQ(test, c->state, TCPFAULT_WS_CLOSING);
	track(&init_net, seg_at(1, 40000, 2, 80, ACK, 102, 0, 5003));
	KUNIT_EXPECT_EQ(test, c->state, TCPFAULT_WS_TIME_WAIT);
}

static void table_timeline_ring(struct kunit *test)
{
	struct tcpfault_conn *c = track(&init_net, mkpkt(1, 7, 2, 8, SYN));
	struct tcpfault_event ev;
	u32 i, head, end;

	KUNIT_ASSERT_NOT_NULL(test, c);
	/* The SYN left two events: syn and the state change. */
	KUNIT_ASSERT_EQ(test, atomic_read(&c->tl_head), 2);
	for (i = 0; i < 3 * tcpfault_conn_tl_len; i++)
		tcpfault_conn_event(c, TCPFAULT_EV_RETRANS, 0, i, 1, 0);
	head = atomic_read(&c->tl_head);
	KUNIT_EXPECT_EQ(test, head, 2 + 3 * tcpfault_conn_tl_len);
	/* The ring keeps the last timeline_len events, each complete. */
	KUNIT_EXPECT_EQ(test, tcpfault_conn_events(c, &end), head - tcpfault_conn_tl_len);
	KUNIT_EXPECT_EQ(test, end, head);
	for (i = head - tcpfault_conn_tl_len; i != head; i++) {
		KUNIT_EXPECT_TRUE(test, tcpfault_conn_event_read(c, i, &ev));
		KUNIT_EXPECT_EQ(test, ev.type, TCPFAULT_EV_RETRANS);
		KUNIT_EXPECT_EQ(test, ev.seq, i - 2);
	}
	/* An index the ring no longer holds reads as rewritten. */
	KUNIT_EXPECT_FALSE(test, tcpfault_conn_event_read(c, head - tcpfault_conn_tl_len - 1, &ev));
}

/*
 * Reading /proc/net/tcpfault/conns a few entries per read(): seq_file
 * asks again for the position where the last read() stopped. The walk
 * must resume there, not rescan the table: linear in its size.
 */
static void table_procfs_walk_is_linear(struct kunit *test)
{
	struct tcpfault_conn_iter *it = kunit_kzalloc(test, sizeof(*it), GFP_KERNEL);
	unsigned int i, n = conns_max, seen = 0;
	struct tcpfault_conn *c;
	unsigned long steps;
	loff_t pos = 0;

	KUNIT_ASSERT_NOT_NULL(test, it);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, track(&init_net, mkpkt(1, 2000 + i, 2, 80, SYN)));
	steps = iter_steps;
	rcu_read_lock();
	/*
	 * One entry per read(): start(pos) finds it and it is shown, next()
	 * moves to pos + 1, whose entry does not fit; the next read()'s
	 * start() asks for pos + 1 again.
	 */
	for (c = tcpfault_conn_iter_seek(&init_net, it, pos); c;
	     c = tcpfault_conn_iter_seek(&init_net, it, pos)) {
		seen++;
		if (!tcpfault_conn_iter_seek(&init_net, it, ++pos))
			break;
	}
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, seen, n);
	/* Each bucket and entry a small number of times; a rescan per read()
	 * would cost n / 2 buckets' worth per entry.
	 */
	KUNIT_EXPECT_LE(test, iter_steps - steps, 4UL * (bucket_mask + 1 + n));
}

static u32 xorshift(u32 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * A random segment for entry @c, from @r, @r2, @r3: most of them in order,
 * the rest retransmitted, probing, skipping ahead, opening, closing or
 * resetting, either way.
 */
static void random_seg(const struct tcpfault_conn *c, u32 r, u32 r2, u32 r3,
		       struct tcpfault_pkt *pkt)
{
	struct tcpfault_pkt p = { .segs = pkt->segs, .dir = r & 1 };
	u32 nxt = c->d[p.dir].nxt, pnxt = c->d[!p.dir].nxt;
	unsigned int pick = (r >> 1) % 1000;

	if (pick < 3)
		p.flags = TCPFAULT_TH_SYN;
	else if (pick < 13)
		p.flags = TCPFAULT_TH_SYN | TCPFAULT_TH_ACK;
	else if (pick < 15)
		p.flags = TCPFAULT_TH_FIN | TCPFAULT_TH_ACK;
	else if (pick < 16)
		p.flags = TCPFAULT_TH_RST;
	else if (pick >= 40)
		p.flags = TCPFAULT_TH_ACK;	/* else none at all */
	p.len = (r >> 12) % 4 == 0 ? 0 : (r >> 12) % 4 == 1 ? 1 : 1 + r2 % 1000;
	switch ((r >> 16) % 40) {
	case 0:	/* a keepalive or window probe */
		p.seq = nxt - 1;
		break;
	case 1:	/* a retransmission */
		p.seq = nxt - r2 % 3000;
		break;
	case 2:	/* ahead, past a segment lost before the hook */
		p.seq = nxt + r2 % 3000;
		break;
	case 3:	/* anywhere: a new incarnation's ISN */
		p.seq = r2;
		break;
	default:
		p.seq = nxt;
		break;
	}
	p.ack_seq = (r3 >> 4) % 4 ? pnxt : pnxt - (r3 >> 8) % 100;
	p.win = (r3 >> 16) % 8 ? 500 : 0;
	*pkt = p;
}

/* Two entries' sequence and wire state, and their counters, are the same. */
static void expect_same_conn(struct kunit *test, const struct tcpfault_conn *a,
			     const struct tcpfault_conn *b, unsigned int i)
{
	unsigned int s, k;

	KUNIT_ASSERT_EQ_MSG(test, a->state, b->state, "segment %u", i);
	for (s = 0; s < 2; s++) {
		const struct tcpfault_dir *x = &a->d[s], *y = &b->d[s];

		KUNIT_ASSERT_EQ_MSG(test, x->nxt, y->nxt, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->ack, y->ack, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->win, y->win, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->seen, y->seen, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->syn, y->syn, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->fin, y->fin, "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->ka_pending, y->ka_pending, "segment %u side %u",
				    i, s);
		KUNIT_ASSERT_EQ_MSG(test, x->isn, y->isn, "segment %u side %u", i, s);
		for (k = 0; k < TCPFAULT_C_MAX; k++)
			KUNIT_ASSERT_EQ_MSG(test, atomic64_read(&x->c[k]), atomic64_read(&y->c[k]),
					    "segment %u side %u counter %s", i, s,
					    counter_names[k]);
	}
}

/*
 * expect_same_conn(), and the same timeline length; seen and passed alike
 * (the stamps themselves differ: each way read the clock).
 */
static void expect_same_seen(struct kunit *test, const struct tcpfault_conn *a,
			     const struct tcpfault_conn *b, unsigned int i)
{
	unsigned int s;

	expect_same_conn(test, a, b, i);
	KUNIT_ASSERT_EQ_MSG(test, atomic_read(&a->tl_head), atomic_read(&b->tl_head),
			    "segment %u", i);
	KUNIT_ASSERT_EQ_MSG(test, !a->pass_ns, !b->pass_ns, "segment %u", i);
	for (s = 0; s < 2; s++) {
		KUNIT_ASSERT_EQ_MSG(test, !a->d[s].first_ns, !b->d[s].first_ns,
				    "segment %u side %u", i, s);
		KUNIT_ASSERT_EQ_MSG(test, !a->d[s].last_ns, !b->d[s].last_ns,
				    "segment %u side %u", i, s);
	}
}

/*
 * The in-order shortcut (track_seg(.., true)) against the whole way
 * (track_seg(.., false)): 20,000 random segments both ways, most of them
 * in order, the rest retransmitted, probing, skipping ahead, opening,
 * closing or resetting, some dropped. After each, both entries hold the
 * same event, sequence state, wire state and counters.
 */
static void track_in_order_shortcut(struct kunit *test)
{
	struct tcpfault_conn *a = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	struct tcpfault_conn *b = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	unsigned int i, fast = 0, n = 20000;
	u32 x = 2463534242U;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (i = 0; i < n; i++) {
		u32 r = xorshift(&x), r2 = xorshift(&x), r3 = xorshift(&x);
		struct tcpfault_pkt p = { .segs = 1 }, q;
		bool dropped = r3 % 16 == 0;

		random_seg(a, r, r2, r3, &p);
		q = p;
		fast += in_order(a, &a->d[p.dir], &p);
		track_seg(a, &p, true);
		track_seg(b, &q, false);
		KUNIT_ASSERT_EQ_MSG(test, p.event, q.event, "segment %u", i);
		KUNIT_ASSERT_EQ_MSG(test, p.prev_nxt, q.prev_nxt, "segment %u", i);
		KUNIT_ASSERT_EQ_MSG(test, p.prev_valid, q.prev_valid, "segment %u", i);
		KUNIT_ASSERT_EQ_MSG(test, p.time_wait, q.time_wait, "segment %u", i);
		tcpfault_conn_account(a, &p, dropped);
		tcpfault_conn_account(b, &q, dropped);
		expect_same_conn(test, a, b, i);
	}
	/* Both ways taken, often. */
	KUNIT_EXPECT_GT(test, fast, n / 5);
	KUNIT_EXPECT_LT(test, fast, n - n / 10);
}

/*
 * A selected connection's short way (tcpfault_conn_find_known(): its entry
 * knows its faults, so a segment in order is classified at once by
 * track_in_order(); then, unless a fault drops or holds it,
 * tcpfault_conn_account_in_order()) against the whole way (track_seg(),
 * then tcpfault_conn_account()): 20,000 random segments both ways, most of
 * them in order, the rest retransmitted, probing, skipping ahead, opening,
 * closing or resetting; some dropped, some held. A segment the short way
 * declines changes nothing and takes the whole way. After each, both
 * entries hold the same event, sequence state, wire state, counters and
 * timeline, and have been seen and passed alike.
 */
static void known_as_the_whole_way(struct kunit *test)
{
	struct tcpfault_conn *a = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	struct tcpfault_conn *b = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	unsigned int i, known = 0, n = 20000;
	struct tcpfault_fault held = {};
	u32 x = 3141592653U;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (i = 0; i < n; i++) {
		u32 r = xorshift(&x), r2 = xorshift(&x), r3 = xorshift(&x);
		struct tcpfault_pkt p = { .segs = 1 + (r3 >> 24) % 3 }, q;
		bool dropped = r3 % 16 == 0, in_order;
		u32 tl = atomic_read(&a->tl_head);

		random_seg(a, r, r2, r3, &p);
		if ((r3 >> 8) % 16 == 0)
			p.delay = &held;
		q = p;
		in_order = track_in_order(a, &p);
		if (!in_order) {
			/* Declined: nothing changed. */
			expect_same_conn(test, a, b, i);
			KUNIT_ASSERT_EQ_MSG(test, atomic_read(&a->tl_head), tl, "segment %u", i);
			track_seg(a, &p, true);
		}
		known += in_order;
		track_seg(b, &q, false);
		KUNIT_ASSERT_EQ_MSG(test, p.event, q.event, "segment %u", i);
		KUNIT_ASSERT_EQ_MSG(test, p.prev_nxt, q.prev_nxt, "segment %u", i);
		KUNIT_ASSERT_EQ_MSG(test, p.prev_valid, q.prev_valid, "segment %u", i);
		if (in_order && !dropped && !p.delay)
			tcpfault_conn_account_in_order(a, &p);
		else
			tcpfault_conn_account(a, &p, dropped);
		tcpfault_conn_account(b, &q, dropped);
		expect_same_seen(test, a, b, i);
	}
	/* Both ways taken, often. */
	KUNIT_EXPECT_GT(test, known, n / 5);
	KUNIT_EXPECT_LT(test, known, n - n / 10);
}

/*
 * Header prediction (predict(), the hooks' short way for a segment that is
 * tracked only) against the whole way (track_seg(), then
 * tcpfault_conn_account() with no drop): 20,000 random segments both ways,
 * most of them in order, the rest retransmitted, probing, skipping ahead,
 * opening, closing or resetting. A segment that prediction declines must
 * leave its entry as it was, and takes the whole way; after each, both
 * entries hold the same sequence state, wire state, counters and timeline,
 * and have been seen and passed alike.
 */
static void predict_as_the_whole_way(struct kunit *test)
{
	struct tcpfault_conn *a = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	struct tcpfault_conn *b = kunit_kzalloc(test, conn_size(), GFP_KERNEL);
	unsigned int i, predicted = 0, n = 20000;
	u32 x = 88675123U;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (i = 0; i < n; i++) {
		u32 r = xorshift(&x), r2 = xorshift(&x), r3 = xorshift(&x);
		struct tcpfault_pkt p = { .segs = 1 + (r3 >> 24) % 3 }, q;
		u32 tl = atomic_read(&a->tl_head);
		struct tcpfault_seg sg;

		random_seg(a, r, r2, r3, &p);
		q = p;
		sg = (struct tcpfault_seg){ .seq = p.seq, .ack_seq = p.ack_seq, .len = p.len,
					    .win = p.win, .segs = p.segs, .flags = p.flags };
		if (predict(a, p.dir, &sg)) {
			predicted++;
		} else {
			/* Declined: nothing changed. */
			expect_same_conn(test, a, b, i);
			KUNIT_ASSERT_EQ_MSG(test, atomic_read(&a->tl_head), tl, "segment %u", i);
			track_seg(a, &p, true);
			tcpfault_conn_account(a, &p, false);
		}
		track_seg(b, &q, false);
		tcpfault_conn_account(b, &q, false);
		expect_same_seen(test, a, b, i);
	}
	/* Both ways taken, often. */
	KUNIT_EXPECT_GT(test, predicted, n / 5);
	KUNIT_EXPECT_LT(test, predicted, n - n / 10);
}

static struct kunit_case conn_test_cases[] = {
	KUNIT_CASE(classify_handshake_and_data),
	KUNIT_CASE(classify_keepalive_and_zero_window),
	KUNIT_CASE(classify_fin_rst),
	KUNIT_CASE(classify_wraparound),
	KUNIT_CASE(wire_state_machine),
	KUNIT_CASE(track_in_order_shortcut),
	KUNIT_CASE(predict_as_the_whole_way),
	KUNIT_CASE(known_as_the_whole_way),
	KUNIT_CASE(table_both_directions),
	KUNIT_CASE(table_cap_and_pressure),
	KUNIT_CASE(table_flood_kicks_gc_rarely),
	KUNIT_CASE(table_pressure_evicts_oldest_first),
	KUNIT_CASE(table_idle_and_closed),
	KUNIT_CASE(table_periodic_gc_reads_a_slice),
	KUNIT_CASE(table_namespace_exit),
	KUNIT_CASE(table_new_bytes),
	KUNIT_CASE(table_reused_tuple),
	KUNIT_CASE(table_dropped_ack_teaches_nothing),
	KUNIT_CASE(table_timeline_ring),
	KUNIT_CASE(table_procfs_walk_is_linear),
	{}
};

static struct kunit_suite conn_suite = {
	.name = "tcpfault_conn",
	.suite_init = conn_suite_init,
	.suite_exit = conn_suite_exit,
	.exit = conn_case_exit,
	.test_cases = conn_test_cases,
};

kunit_test_suites(&conn_suite);
