// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the fault table and the modes. Names are per namespace; the timed
 * state machine (delay, duration, power-off and reboot) moves as
 * specified; each mode's verdict (verdict.c) is the documented one. And
 * inject.c: the hooks let exactly the RST being injected pass, no other
 * segment. The index has its own suite (index_test.c).
 */
#include <kunit/test.h>
#include <linux/inet.h>
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>

#include "../module/rules.c"
#include "tunables.h"

static const struct tcpfault_stage core[] = {
	TCPFAULT_CORE_STAGES(TCPFAULT_STAGE)
};

static int rules_suite_init(struct kunit_suite *suite)
{
	return tcpfault_stages_init(core, ARRAY_SIZE(core));
}

static void rules_suite_exit(struct kunit_suite *suite)
{
	tcpfault_stages_uninit(core, ARRAY_SIZE(core));
}

static void rules_case_exit(struct kunit *test)
{
	tcpfault_rules_flush(NULL);
	tcpfault_conn_gc(true, NULL);
}

static int add(struct kunit *test, const char *text)
{
	struct tcpfault_spec spec;
	struct tcpfault_perr err;

	KUNIT_ASSERT_EQ_MSG(test, tcpfault_spec_parse(text, strlen(text), &spec, &err), 0,
			    "'%s': %s", text, err.msg);
	return tcpfault_rules_add(&init_net, &spec);
}

static struct tcpfault_fault *find(const char *name)
{
	struct name_entry *ne;

	mutex_lock(&tcpfault_rules_mutex);
	ne = name_find(init_net.net_cookie, name);
	mutex_unlock(&tcpfault_rules_mutex);
	return ne ? ne->f : NULL;
}

/* A name is taken once per namespace; del frees it; flush counts. */
static void names_are_per_namespace(struct kunit *test)
{
	KUNIT_ASSERT_EQ(test, add(test, "t7 mode=watch dst=10.2.0.1"), 0);
	KUNIT_ASSERT_EQ(test, add(test, "half mode=watch dst=10.3.0.1 dport=80"), 0);
	KUNIT_EXPECT_EQ(test, add(test, "t7 mode=link-down"), -EEXIST);
	/* Another cookie does not find it. */
	KUNIT_EXPECT_NOT_NULL(test, name_find(init_net.net_cookie, "t7"));
	KUNIT_EXPECT_NULL(test, name_find(init_net.net_cookie + 1, "t7"));
	KUNIT_EXPECT_EQ(test, tcpfault_rules_count(&init_net), 2ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "nope"), -ENOENT);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "half"), 0);
	KUNIT_EXPECT_NULL(test, find("half"));
	KUNIT_EXPECT_EQ(test, add(test, "half mode=watch"), 0);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_flush(NULL), 2);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_count(&init_net), 0ULL);
}

/* Poll a fault's state; the timers run on the system workqueue. */
static bool wait_state(struct tcpfault_fault *f, int st, unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);

	while (READ_ONCE(f->state) != st) {
		if (time_after(jiffies, end))
			return false;
		msleep(20);
	}
	return true;
}

static void timers_delay_and_duration(struct kunit *test)
{
	u64 t_add = ktime_get_ns();
	struct tcpfault_fault *f;
	s64 left;

	KUNIT_ASSERT_EQ(test, add(test, "t mode=link-down delay=200ms duration=300ms"), 0);
	f = find("t");
	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_PENDING);
	left = tcpfault_rules_time_left_ms(f);
	KUNIT_EXPECT_GT(test, left, 0LL);
	KUNIT_EXPECT_LE(test, left, 200LL);
	KUNIT_EXPECT_TRUE(test, wait_state(f, TCPFAULT_FS_ACTIVE, 3000));
	/* Activated no earlier than the delay (jiffies may round it down a tick). */
	KUNIT_EXPECT_GE(test, f->since_ns - t_add, 190ULL * NSEC_PER_MSEC);
	KUNIT_EXPECT_TRUE(test, wait_state(f, TCPFAULT_FS_HEALED, 3000));
	KUNIT_EXPECT_EQ(test, tcpfault_rules_time_left_ms(f), -1LL);
	KUNIT_EXPECT_STREQ(test, tcpfault_rules_state_name(f), "healed");
	/* Re-enabling restarts the delay; disabling while pending cancels it. */
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, true), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_PENDING);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, false), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_DISABLED);
	msleep(300);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_DISABLED);
	/* Deleting a pending fault cancels its timer (no use after free). */
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, true), 0);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "t"), 0);
}

static void power_off_and_reboot(struct kunit *test)
{
	struct tcpfault_fault *f;
	u64 t0;

	KUNIT_ASSERT_EQ(test, add(test, "p mode=power-off host=192.0.2.1 duration=200ms"), 0);
	f = find("p");
	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_EXPECT_STREQ(test, tcpfault_rules_state_name(f), "dark");
	t0 = f->since_ns;
	/* Power comes back by itself: the host has rebooted. */
	KUNIT_EXPECT_TRUE(test, wait_state(f, TCPFAULT_FS_REBOOTED, 3000));
	KUNIT_EXPECT_GT(test, f->since_ns, t0);
	KUNIT_EXPECT_STREQ(test, tcpfault_rules_state_name(f), "rebooted");
	/* Switched on once rebooted: a new outage; off again: a reboot. */
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, true), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_ACTIVE);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, false), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_REBOOTED);
	/* Switched off once rebooted: the fault ends; on is a new outage. */
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, false), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_DISABLED);
	KUNIT_EXPECT_STREQ(test, tcpfault_rules_state_name(f), "disabled");
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, true), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(f->state), TCPFAULT_FS_ACTIVE);
}

/*
 * A segment from 198.51.100.@from to .@to (the client's port is @cport)
 * through the hooks' own way, once the headers are parsed; @cp is set to
 * its connection's entry if not NULL.
 */
static unsigned int judge_seg(u8 from, u8 to, u16 cport, u8 flags, u32 seq, bool track_all,
			      struct tcpfault_conn **cp)
{
	struct tcpfault_pkt pkt = { .flags = flags, .segs = 1, .seq = seq, .len = 10, .event = -1 };
	struct tcpfault_conn *c;
	unsigned int v;

	pkt.t.family = TCPFAULT_FAM_INET;
	pkt.t.saddr[0] = 198;
	pkt.t.saddr[1] = 51;
	pkt.t.saddr[2] = 100;
	pkt.t.saddr[3] = from;
	memcpy(pkt.t.daddr, pkt.t.saddr, 3);
	pkt.t.daddr[3] = to;
	pkt.t.sport = from == 1 ? cport : 80;
	pkt.t.dport = from == 1 ? 80 : cport;
	rcu_read_lock();
	v = tcpfault_hooks_judge(&init_net, &pkt, track_all);
	c = tcpfault_conn_find(&init_net, &pkt);
	rcu_read_unlock();
	if (cp)
		*cp = c;
	return v;
}

static unsigned int verdict_port(struct kunit *test, u8 from, u8 to, u16 cport, u8 flags,
				 u32 seq, struct tcpfault_conn **cp)
{
	return judge_seg(from, to, cport, flags, seq, false, cp);
}

static unsigned int verdict_seq(struct kunit *test, u8 from, u8 to, u8 flags, u32 seq,
				struct tcpfault_conn **cp)
{
	return verdict_port(test, from, to, 40000, flags, seq, cp);
}

static unsigned int verdict_for(struct kunit *test, u8 from, u8 to, u8 flags,
				struct tcpfault_conn **cp)
{
	return verdict_seq(test, from, to, flags, 1, cp);
}

static void verdicts(struct kunit *test)
{
	struct tcpfault_fault *f;
	struct tcpfault_conn *c;

	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_ASSERT_EQ(test, add(test, "ow mode=oneway src=198.51.100.1 dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	f = find("ow");
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(f, TCPFAULT_F_DROPPED), 1ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(f, TCPFAULT_F_MATCHED), 2ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, false), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "ow"), 0);

	KUNIT_ASSERT_EQ(test, add(test, "sb mode=syn-block dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_SYN, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_SYN | TCPFAULT_TH_ACK, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "sb"), 0);

	/* after=: nothing until a fresh connection has carried 20 bytes. */
	tcpfault_conn_gc(true, NULL);
	KUNIT_ASSERT_EQ(test, add(test, "ld mode=link-down dst=198.51.100.2 after=20"), 0);
	KUNIT_EXPECT_EQ(test, verdict_seq(test, 1, 2, TCPFAULT_TH_ACK, 1, &c), NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 10ULL);
	/* A retransmission carries no new bytes. */
	KUNIT_EXPECT_EQ(test, verdict_seq(test, 1, 2, TCPFAULT_TH_ACK, 1, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 10ULL);
	KUNIT_EXPECT_EQ(test, verdict_seq(test, 1, 2, TCPFAULT_TH_ACK, 11, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_new_bytes(c), 20ULL);
	/* 20 bytes crossed: from now on, both directions are cut. */
	KUNIT_EXPECT_EQ(test, verdict_seq(test, 1, 2, TCPFAULT_TH_ACK, 21, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_DROP);

	KUNIT_ASSERT_EQ(test, add(test, "po mode=power-off host=198.51.100.9"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 9, 1, TCPFAULT_TH_ACK, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 9, TCPFAULT_TH_SYN, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(find("po"), false), 0);
	/* Rebooted: new connections and the host's own segments pass. */
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 9, TCPFAULT_TH_SYN, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 9, 1, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
}

/* No match limit hides a fault: a cut behind many watches still bites. */
static void many_matches_lose_nothing(struct kunit *test)
{
	char text[64];
	int i;

	KUNIT_ASSERT_EQ(test, add(test, "cut mode=link-down dst=198.51.100.2"), 0);
	for (i = 0; i < TCPFAULT_MATCH_MAX + 2; i++) {
		snprintf(text, sizeof(text), "w%d mode=watch dst=198.51.100.2", i);
		KUNIT_ASSERT_EQ(test, add(test, text), 0);
	}
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("cut"), TCPFAULT_F_DROPPED), 2ULL);
	for (i = 0; i < TCPFAULT_MATCH_MAX + 2; i++) {
		snprintf(text, sizeof(text), "w%d", i);
		KUNIT_EXPECT_EQ_MSG(test, tcpfault_verdict_stat(find(text), TCPFAULT_F_MATCHED),
				    2ULL, "%s", text);
	}
}

/* What a connection's entry remembers of the faults a direction matched. */
static bool remembered(struct tcpfault_conn *c, u8 dir, struct tcpfault_matches *m)
{
	bool kept;

	rcu_read_lock();
	kept = tcpfault_conn_matches(c, dir, tcpfault_index_gen(&init_net), m);
	rcu_read_unlock();
	return kept;
}

/*
 * A connection remembers the faults it matched, per direction, for as long
 * as the index is as it was: a fault added or deleted since is seen on the
 * next segment, and a set too big to remember is looked up every time.
 */
static void remembered_matches_follow_the_index(struct kunit *test)
{
	struct tcpfault_matches m;
	struct tcpfault_conn *c;

	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, &c), NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_TRUE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, m.n, 1U);
	KUNIT_EXPECT_PTR_EQ(test, m.f[0], find("w"));
	KUNIT_EXPECT_FALSE(test, m.rev[0]);
	/* Its reply matched the mirrored way, remembered for its own direction. */
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_ASSERT_TRUE(test, remembered(c, 1, &m));
	KUNIT_EXPECT_TRUE(test, m.rev[0]);

	/* A new fault: the remembered set is stale, and the cut bites. */
	KUNIT_ASSERT_EQ(test, add(test, "cut mode=link-down dst=198.51.100.2"), 0);
	KUNIT_EXPECT_FALSE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_DROP);
	/* Deleted: forgotten at once. */
	KUNIT_ASSERT_EQ(test, tcpfault_rules_del(&init_net, "cut"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 2, 1, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w"), TCPFAULT_F_MATCHED), 6ULL);

	/* More faults than it remembers: each segment still meets them all. */
	KUNIT_ASSERT_EQ(test, add(test, "w2 mode=watch dst=198.51.100.2"), 0);
	KUNIT_ASSERT_EQ(test, add(test, "w3 mode=watch src=198.51.100.1"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_FALSE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w"), TCPFAULT_F_MATCHED), 8ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w2"), TCPFAULT_F_MATCHED), 2ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w3"), TCPFAULT_F_MATCHED), 2ULL);
	/* Back to one: remembered again. */
	KUNIT_ASSERT_EQ(test, tcpfault_rules_del(&init_net, "w2"), 0);
	KUNIT_ASSERT_EQ(test, tcpfault_rules_del(&init_net, "w3"), 0);
	KUNIT_EXPECT_EQ(test, verdict_for(test, 1, 2, TCPFAULT_TH_ACK, NULL), NF_ACCEPT);
	KUNIT_EXPECT_TRUE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, m.n, 1U);
}

/* A segment from 198.51.100.@from to .@to through the hooks with track_all on. */
static unsigned int tracked_for(u8 from, u8 to, struct tcpfault_conn **cp)
{
	return judge_seg(from, to, 40000, TCPFAULT_TH_ACK, 1, true, cp);
}

/*
 * With track_all, a segment that no fault may select (the key filter says
 * so) is tracked and counted, and no fault is looked up for it: its entry
 * remembers nothing, so the first segment after a fault that selects it
 * is added meets the fault. (Remembering "no fault" under a generation
 * read after the filter would hide a fault added in between.)
 */
static void track_all_looks_up_past_the_filter(struct kunit *test)
{
	struct tcpfault_matches m;
	struct tcpfault_conn *c;

	KUNIT_EXPECT_EQ(test, tracked_for(1, 2, &c), NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[0].c[TCPFAULT_C_SEGS]), 1LL);
	KUNIT_EXPECT_FALSE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, tracked_for(2, 1, &c), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[1].c[TCPFAULT_C_SEGS]), 1LL);
	KUNIT_EXPECT_FALSE(test, remembered(c, 1, &m));

	/* A fault for it: the next segment meets it, and it is remembered. */
	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, tracked_for(1, 2, &c), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w"), TCPFAULT_F_MATCHED), 1ULL);
	KUNIT_ASSERT_TRUE(test, remembered(c, 0, &m));
	KUNIT_EXPECT_EQ(test, m.n, 1U);
	/* A cut: it drops the next segment, which is still counted. */
	KUNIT_ASSERT_EQ(test, add(test, "cut mode=link-down dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, tracked_for(1, 2, &c), NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(find("w"), TCPFAULT_F_MATCHED), 2ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[0].c[TCPFAULT_C_SEGS]), 3LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->d[0].c[TCPFAULT_C_DROPPED]), 1LL);
}

/* Make an entry look idle for 10 s (or since boot, if that is shorter). */
static void make_idle(struct tcpfault_conn *c)
{
	u64 now = ktime_get_ns();

	c->d[0].last_ns = now > 10 * NSEC_PER_SEC ? now - 10 * NSEC_PER_SEC : 1;
	c->d[1].last_ns = c->d[0].last_ns;
}

static struct tcpfault_conn *lookup_port(u16 cport)
{
	struct tcpfault_pkt pkt = {};
	struct tcpfault_conn *c;
	u8 dir;

	pkt.t.family = TCPFAULT_FAM_INET;
	pkt.t.saddr[0] = 198;
	pkt.t.saddr[1] = 51;
	pkt.t.saddr[2] = 100;
	memcpy(pkt.t.daddr, pkt.t.saddr, 3);
	pkt.t.saddr[3] = 1;
	pkt.t.daddr[3] = 2;
	pkt.t.sport = cport;
	pkt.t.dport = 80;
	rcu_read_lock();
	c = tcpfault_conn_lookup(&init_net, &pkt.t, &dir);
	rcu_read_unlock();
	return c;
}

/*
 * An empty table, then a connection from client port @cport tracked (one
 * way only, so not reset at arming) before a reset fault selects it.
 */
static struct tcpfault_conn *old_under_reset(struct kunit *test, u16 cport)
{
	struct tcpfault_conn *old;

	tcpfault_conn_gc(true, NULL);
	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, cport, TCPFAULT_TH_ACK, 1, &old),
			NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_EQ(test, add(test, "r mode=reset dst=198.51.100.2"), 0);
	return old;
}

/*
 * A reset fault kills what it knows predates it, and fails open on what it
 * cannot tell: a connection opened after it whose entry was forgotten is
 * never reset; the entries of old connections it has still to kill stay.
 */
static void reset_spares_the_unknown(struct kunit *test)
{
	struct tcpfault_pkt pkt = { .flags = TCPFAULT_TH_ACK, .segs = 1 };
	struct tcpfault_conn *old, *c;
	struct tcpfault_matches m;
	unsigned int v, saved;

	old = old_under_reset(test, 40003);
	KUNIT_EXPECT_EQ(test, READ_ONCE(old->reset_done), 0);
	/* Opened after the fault: left alone. */
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40001, TCPFAULT_TH_SYN, 1, &c),
			NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40001, TCPFAULT_TH_SYN | TCPFAULT_TH_ACK,
					   500, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40001, TCPFAULT_TH_ACK, 2, NULL),
			NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* Both idle: the new one is forgotten, the old one is kept for the kill. */
	saved = tcpfault_kunit_idle_timeout(5);
	make_idle(c);
	make_idle(old);
	tcpfault_conn_gc(false, NULL);
	tcpfault_kunit_idle_timeout(saved);
	KUNIT_EXPECT_NULL(test, lookup_port(40001));
	KUNIT_EXPECT_PTR_EQ(test, lookup_port(40003), old);
	/* Seen again mid-stream, the new one cannot be told from an old one. */
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40001, TCPFAULT_TH_ACK, 12, NULL),
			NF_ACCEPT);
	/* The old one dies on its next segment, and then its entry may go. */
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40003, TCPFAULT_TH_ACK, 11, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, READ_ONCE(old->reset_done), 1);
	saved = tcpfault_kunit_idle_timeout(5);
	make_idle(old);
	tcpfault_conn_gc(false, NULL);
	tcpfault_kunit_idle_timeout(saved);
	KUNIT_EXPECT_NULL(test, lookup_port(40003));
	/* No entry at all (a full table): nothing known, nothing done. */
	pkt.t.family = TCPFAULT_FAM_INET;
	pkt.t.saddr[0] = 198;
	pkt.t.saddr[1] = 51;
	pkt.t.saddr[2] = 100;
	pkt.t.saddr[3] = 1;
	memcpy(pkt.t.daddr, pkt.t.saddr, 3);
	pkt.t.daddr[3] = 2;
	pkt.t.sport = 40004;
	pkt.t.dport = 80;
	rcu_read_lock();
	KUNIT_EXPECT_GT(test, tcpfault_index_lookup(&init_net, &pkt.t, &m), 0U);
	v = tcpfault_verdict_segment(&init_net, &m, &pkt, NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, v, NF_ACCEPT);
}

/* A walk that visits everything and does nothing: its cost is one pass. */
static bool walk_nothing(struct tcpfault_conn *c, void *arg)
{
	return true;
}

/*
 * Arming a reset fault resets the connections tracked both ways in one
 * pass over the table, even when their RSTs cannot be sent (here: no
 * route to TEST-NET-2), which leaves them for their next segment. It
 * used to walk the whole table again for every 32 of them (quadratic),
 * and to find the unsent ones again each time, for ever.
 */
static void reset_arming_walks_the_table_once(struct kunit *test)
{
	unsigned long arming, pass;
	/* More than a batch (32), within the KUnit table (conns_max 64). */
	unsigned int i, n = 40;
	struct tcpfault_conn *c;
	u64 sent;
	u8 from;

	tcpfault_conn_gc(true, NULL);
	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch dst=198.51.100.2"), 0);
	for (i = 0; i < n; i++)
		for (from = 1; from <= 2; from++)
			KUNIT_ASSERT_EQ(test, verdict_port(test, from, 3 - from, 20000 + i,
							   TCPFAULT_TH_ACK, 1000, NULL), NF_ACCEPT);
	KUNIT_ASSERT_EQ(test, tcpfault_conn_count(), n);
	pass = tcpfault_kunit_walk_steps();
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, tcpfault_conn_walk(&init_net, 0, walk_nothing, NULL), 0U);
	rcu_read_unlock();
	pass = tcpfault_kunit_walk_steps() - pass;
	arming = tcpfault_kunit_walk_steps();
	KUNIT_ASSERT_EQ(test, add(test, "r mode=reset dst=198.51.100.2"), 0);
	arming = tcpfault_kunit_walk_steps() - arming;
	/* Two passes: the timelines' fault-start marks, then the resets. */
	KUNIT_EXPECT_LE(test, arming, 2 * pass);
	/* Every RST went, or none could (then each waits for its next segment). */
	sent = tcpfault_verdict_stat(find("r"), TCPFAULT_F_RST_SENT);
	KUNIT_EXPECT_TRUE_MSG(test, sent == 0 || sent == 2 * n, "%llu RSTs sent", sent);
	c = lookup_port(20000 + n / 2);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_reset_done(c), sent != 0);
}

/*
 * The pressure GC, like the idle one, keeps the entry of an old connection
 * that a reset fault has still to kill, even when it is the least recently
 * active of a full table.
 */
static void reset_pins_survive_pressure(struct kunit *test)
{
	unsigned int i, saved = tcpfault_kunit_conns_max(64);
	struct tcpfault_conn *old, *c;

	old = old_under_reset(test, 40020);
	make_idle(old);
	/* Fill the table with newer connections that no fault selects. */
	for (i = 0; tcpfault_conn_count() < 64; i++) {
		struct tcpfault_pkt pkt = { .flags = TCPFAULT_TH_ACK, .segs = 1 };

		pkt.t.family = TCPFAULT_FAM_INET;
		pkt.t.saddr[0] = 203;
		pkt.t.saddr[2] = 113;
		memcpy(pkt.t.daddr, pkt.t.saddr, 3);
		pkt.t.saddr[3] = 1;
		pkt.t.daddr[3] = 2;
		pkt.t.sport = 1000 + i;
		pkt.t.dport = 80;
		rcu_read_lock();
		c = tcpfault_conn_track(&init_net, &pkt, tcpfault_conn_find(&init_net, &pkt));
		tcpfault_conn_account(c, &pkt, false);
		rcu_read_unlock();
		KUNIT_ASSERT_NOT_NULL(test, c);
	}
	KUNIT_EXPECT_EQ(test, tcpfault_conn_gc(false, NULL), 16);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_count(), 48U);
	KUNIT_ASSERT_PTR_EQ(test, lookup_port(40020), old);
	/* And it dies on its next segment. */
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40020, TCPFAULT_TH_ACK, 11, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, READ_ONCE(old->reset_done), 1);
	tcpfault_conn_gc(true, NULL);
	tcpfault_kunit_conns_max(saved);
}

/* The SYN that gets through opens the connection, not the first one sent. */
static void syn_retried_across_reboot(struct kunit *test)
{
	tcpfault_conn_gc(true, NULL);
	KUNIT_ASSERT_EQ(test, add(test, "po mode=power-off host=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40010, TCPFAULT_TH_SYN, 1, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(find("po"), false), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(find("po")->state), TCPFAULT_FS_REBOOTED);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40010, TCPFAULT_TH_SYN, 1, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40010, TCPFAULT_TH_SYN | TCPFAULT_TH_ACK,
					   500, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40010, TCPFAULT_TH_ACK, 2, NULL),
			NF_ACCEPT);
}

/* Move a fault's start and a connection's last passed segment @ms back. */
static void age(struct tcpfault_fault *f, struct tcpfault_conn *c, u64 ms)
{
	WRITE_ONCE(f->since_ns, f->since_ns - ms * NSEC_PER_MSEC);
	if (c)
		WRITE_ONCE(c->pass_ns, c->pass_ns - ms * NSEC_PER_MSEC);
}

/* A handshake from client port @cport, ISN @isn: all three pass. */
static struct tcpfault_conn *handshake(struct kunit *test, u16 cport, u32 isn)
{
	struct tcpfault_conn *c;

	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, cport, TCPFAULT_TH_SYN, isn, &c),
			NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, cport, TCPFAULT_TH_SYN | TCPFAULT_TH_ACK,
					   500, NULL), NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, cport, TCPFAULT_TH_ACK, isn + 1, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_NOT_NULL(test, c);
	return c;
}

/*
 * idle-timeout: a flow idle for timeout= is forgotten, both ways; what
 * gets dropped does not wind its clock; a new SYN passes and the flow is
 * known again. The clock starts no earlier than the fault, and runs per
 * connection.
 */
static void idle_timeout_forgets_idle_flows(struct kunit *test)
{
	struct tcpfault_conn *c, *quiet, *old;
	struct tcpfault_fault *f;
	u64 passed;

	tcpfault_conn_gc(true, NULL);
	/* Tracked (by a watch) and idle long before the box was installed. */
	KUNIT_ASSERT_EQ(test, add(test, "w mode=watch dst=198.51.100.2"), 0);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40042, TCPFAULT_TH_ACK, 1, &old),
			NF_ACCEPT);
	KUNIT_ASSERT_NOT_NULL(test, old);
	WRITE_ONCE(old->pass_ns, old->pass_ns - 10 * NSEC_PER_SEC);
	KUNIT_ASSERT_EQ(test, add(test, "it mode=idle-timeout dst=198.51.100.2 timeout=1s"), 0);
	f = find("it");
	KUNIT_EXPECT_EQ(test, f->spec.action, TCPFAULT_IDLE_DROP);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40042, TCPFAULT_TH_ACK, 11, NULL),
			NF_ACCEPT);

	c = handshake(test, 40040, 1000);
	quiet = handshake(test, 40041, 3000);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, quiet);
	KUNIT_EXPECT_TRUE(test, tcpfault_verdict_keeps(f, c));
	/* 600 ms idle: still known. */
	age(f, c, 600);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40040, TCPFAULT_TH_ACK, 501, NULL),
			NF_ACCEPT);
	/* 600 ms more: 600 since its last segment; quiet has none for 1.1 s. */
	age(f, c, 600);
	WRITE_ONCE(quiet->pass_ns, quiet->pass_ns - 1100 * NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40040, TCPFAULT_TH_ACK, 1001, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40041, TCPFAULT_TH_ACK, 3001, NULL),
			NF_DROP);
	/* A whole second idle: forgotten both ways, and what is dropped winds nothing. */
	age(f, c, 1000);
	passed = READ_ONCE(c->pass_ns);
	KUNIT_EXPECT_FALSE(test, tcpfault_verdict_keeps(f, c));
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40040, TCPFAULT_TH_ACK, 1011, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40040, TCPFAULT_TH_ACK, 501, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40040, TCPFAULT_TH_ACK | TCPFAULT_TH_RST,
					   1011, NULL), NF_DROP);
	KUNIT_EXPECT_EQ(test, READ_ONCE(c->pass_ns), passed);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(f, TCPFAULT_F_DROPPED), 4ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(f, TCPFAULT_F_RST_SENT), 0ULL);
	/* A new connection on the same ports passes, and is known again. */
	KUNIT_EXPECT_PTR_EQ(test, handshake(test, 40040, 7000), c);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40040, TCPFAULT_TH_ACK, 501, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_TRUE(test, tcpfault_verdict_keeps(f, c));
	/* Switched off, the box forgets nothing. */
	age(f, c, 5000);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_set_enabled(f, false), 0);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40040, TCPFAULT_TH_ACK, 7001, NULL),
			NF_ACCEPT);
	KUNIT_EXPECT_FALSE(test, tcpfault_verdict_keeps(f, c));
}

/*
 * idle-timeout action=rst: the first segment of a forgotten flow is
 * answered with RSTs both ways (here they cannot be sent: no route to
 * TEST-NET-2) and the flow is done; its stragglers are swallowed.
 */
static void idle_timeout_rst_kills_once(struct kunit *test)
{
	struct tcpfault_conn *c;
	struct tcpfault_fault *f;

	tcpfault_conn_gc(true, NULL);
	KUNIT_ASSERT_EQ(test, add(test, "ir mode=idle-timeout dst=198.51.100.2 timeout=2s action=rst"),
			0);
	f = find("ir");
	KUNIT_EXPECT_EQ(test, f->spec.action, TCPFAULT_IDLE_RST);
	c = handshake(test, 40050, 1000);
	KUNIT_ASSERT_NOT_NULL(test, c);
	age(f, c, 2000);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_reset_done(c), false);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 2, 1, 40050, TCPFAULT_TH_ACK, 501, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_conn_reset_done(c), true);
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40050, TCPFAULT_TH_ACK, 1001, NULL),
			NF_DROP);
	KUNIT_EXPECT_EQ(test, tcpfault_verdict_stat(f, TCPFAULT_F_DROPPED), 2ULL);
	/* Killed: nothing left to keep its entry for. */
	KUNIT_EXPECT_FALSE(test, conn_needed(c));
}

/*
 * The GC keeps the entry of a connection whose idle clock runs past its
 * own idle limit: a new entry would restart the clock from the fault's
 * start. Once the box has forgotten it, the entry may go, and a new one
 * finds the flow just as forgotten.
 */
static void idle_timeout_outlives_the_gc(struct kunit *test)
{
	struct tcpfault_conn *c;
	struct tcpfault_fault *f;
	unsigned int saved;

	tcpfault_conn_gc(true, NULL);
	/* Ages short of the uptime: since_ns and pass_ns go back from now. */
	KUNIT_ASSERT_EQ(test, add(test, "it mode=idle-timeout dst=198.51.100.2 timeout=8s"), 0);
	f = find("it");
	c = handshake(test, 40060, 1000);
	KUNIT_ASSERT_NOT_NULL(test, c);
	age(f, c, 2000);
	saved = tcpfault_kunit_idle_timeout(5);
	make_idle(c);
	tcpfault_conn_gc(false, NULL);
	KUNIT_EXPECT_PTR_EQ(test, lookup_port(40060), c);
	age(f, c, 6000);
	make_idle(c);
	tcpfault_conn_gc(false, NULL);
	tcpfault_kunit_idle_timeout(saved);
	KUNIT_EXPECT_NULL(test, lookup_port(40060));
	KUNIT_EXPECT_EQ(test, verdict_port(test, 1, 2, 40060, TCPFAULT_TH_ACK, 1001, NULL),
			NF_DROP);
}

/* What a LOCAL_OUT hook saw while tcpfault injected an RST to 127.0.0.1:9. */
static struct {
	struct sk_buff *other;
	int seen;
	bool ours, others;
} probe;

static unsigned int probe_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = (const struct tcphdr *)((const u8 *)iph + iph->ihl * 4);

	if (iph->protocol != IPPROTO_TCP || !th->rst || th->dest != htons(9))
		return NF_ACCEPT;
	probe.seen++;
	probe.ours = tcpfault_inject_is_ours(skb);
	/* Another segment at the same hook meanwhile, as when the injecting
	 * task is preempted on PREEMPT_RT: it must not pass as ours.
	 */
	probe.others = tcpfault_inject_is_ours(probe.other);
	return NF_DROP;
}

static void inject_marks_only_its_skb(struct kunit *test)
{
	static const struct nf_hook_ops ops = {
		.hook = probe_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_FIRST,
	};
	struct tcpfault_rst rst = {
		.family = TCPFAULT_FAM_INET, .sport = 7, .dport = 9, .seq = 1,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
	};
	struct net_device *lo = init_net.loopback_dev;
	int ret;

	memset(&probe, 0, sizeof(probe));
	probe.other = alloc_skb(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, probe.other);
	if (!(lo->flags & IFF_UP)) {
		rtnl_lock();
		ret = dev_open(lo, NULL);
		rtnl_unlock();
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
	ret = nf_register_net_hook(&init_net, &ops);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = tcpfault_inject_rst(&init_net, &rst);
	nf_unregister_net_hook(&init_net, &ops);
	KUNIT_EXPECT_EQ_MSG(test, probe.seen, 1, "inject returned %d", ret);
	KUNIT_EXPECT_TRUE(test, probe.ours);
	KUNIT_EXPECT_FALSE(test, probe.others);
	/* Outside the window nothing is ours. */
	KUNIT_EXPECT_FALSE(test, tcpfault_inject_is_ours(probe.other));
	kfree_skb(probe.other);
}

static struct kunit_case rules_test_cases[] = {
	KUNIT_CASE(names_are_per_namespace),
	KUNIT_CASE(timers_delay_and_duration),
	KUNIT_CASE(power_off_and_reboot),
	KUNIT_CASE(verdicts),
	KUNIT_CASE(many_matches_lose_nothing),
	KUNIT_CASE(remembered_matches_follow_the_index),
	KUNIT_CASE(track_all_looks_up_past_the_filter),
	KUNIT_CASE(reset_spares_the_unknown),
	KUNIT_CASE(reset_pins_survive_pressure),
	KUNIT_CASE(reset_arming_walks_the_table_once),
	KUNIT_CASE(syn_retried_across_reboot),
	KUNIT_CASE(idle_timeout_forgets_idle_flows),
	KUNIT_CASE(idle_timeout_rst_kills_once),
	KUNIT_CASE(idle_timeout_outlives_the_gc),
	KUNIT_CASE(inject_marks_only_its_skb),
	{}
};

static struct kunit_suite rules_suite = {
	.name = "tcpfault_rules",
	.suite_init = rules_suite_init,
	.suite_exit = rules_suite_exit,
	.exit = rules_case_exit,
	.test_cases = rules_test_cases,
};

kunit_test_suites(&rules_suite);
