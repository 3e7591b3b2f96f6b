// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the fault table. The hashed tuple-space lookup must agree with
 * the reference matcher (tcpfault_spec_match) on random selectors and
 * segments; shapes are shared; port ranges are hashed on their addresses;
 * shapes past SHAPES_MAX take the overflow list and still match; the timed
 * state machine (delay, duration, power-off and reboot) moves as
 * specified; each mode's verdict is the documented one. And inject.c:
 * the hooks let exactly the RST being injected pass, no other segment.
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

static int rules_suite_init(struct kunit_suite *suite)
{
	int ret = tcpfault_conn_init();

	if (ret)
		return ret;
	ret = tcpfault_rules_init();
	if (ret)
		goto err_conn;
	return 0;

err_conn:
	tcpfault_conn_uninit();
	return ret;
}

static void rules_suite_exit(struct kunit_suite *suite)
{
	tcpfault_rules_uninit();
	tcpfault_conn_uninit();
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

/* A random address in a tiny universe, so that random faults do match. */
static void rand_addr(u8 family, u8 *a)
{
	memset(a, 0, 16);
	if (family == TCPFAULT_FAM_INET) {
		a[0] = 10;
		a[3] = get_random_u32() % 8;
	} else {
		a[0] = 0xfd;
		a[15] = get_random_u32() % 8;
	}
}

static int rand_prefix(char *buf, size_t len, u8 family)
{
	static const u8 plens4[] = { 29, 30, 31, 32 }, plens6[] = { 125, 126, 127, 128 };
	u8 a[16];
	unsigned int plen, i;

	if (get_random_u32() % 3 == 0)
		return snprintf(buf, len, "any");
	rand_addr(family, a);
	plen = family == TCPFAULT_FAM_INET ? plens4[get_random_u32() % 4] :
	       plens6[get_random_u32() % 4];
	for (i = plen; i < (family == TCPFAULT_FAM_INET ? 32U : 128U); i++)
		a[i / 8] &= ~(0x80 >> (i % 8));
	i = tcpfault_spec_format_addr(family, a, buf, len);
	return i + snprintf(buf + i, len - i, "/%u", plen);
}

static int rand_ports(char *buf, size_t len)
{
	switch (get_random_u32() % 4) {
	case 0:
		return snprintf(buf, len, "any");
	case 1:
		return snprintf(buf, len, "1-2");
	default:
		return snprintf(buf, len, "%u", 1 + get_random_u32() % 3);
	}
}

/* The hashed lookup finds exactly what the reference matcher finds. */
static void lookup_matches_reference(struct kunit *test)
{
	/* On the heap: six specs and a segment overflow a KASAN stack frame. */
	struct tcpfault_spec *specs = kunit_kcalloc(test, 6, sizeof(*specs), GFP_KERNEL);
	int round;

	KUNIT_ASSERT_NOT_NULL(test, specs);
	for (round = 0; round < 40; round++) {
		u8 family = round % 2 ? TCPFAULT_FAM_INET6 : TCPFAULT_FAM_INET;
		int i, n;

		for (i = 0; i < 6; i++) {
			char text[256], s[64], d[64], sp[16], dp[16];
			struct tcpfault_perr err;

			rand_prefix(s, sizeof(s), family);
			rand_prefix(d, sizeof(d), family);
			rand_ports(sp, sizeof(sp));
			rand_ports(dp, sizeof(dp));
			snprintf(text, sizeof(text), "r%d mode=watch src=%s sport=%s dst=%s dport=%s",
				 i, s, sp, d, dp);
			KUNIT_ASSERT_EQ_MSG(test, tcpfault_spec_parse(text, strlen(text), &specs[i],
								      &err), 0, "%s: %s", text, err.msg);
			KUNIT_ASSERT_EQ(test, tcpfault_rules_add(&init_net, &specs[i]), 0);
		}
		for (n = 0; n < 200; n++) {
			struct tcpfault_pkt pkt = {};
			struct tcpfault_matches m;
			unsigned int found = 0, want = 0, j;

			pkt.t.family = family;
			rand_addr(family, pkt.t.saddr);
			rand_addr(family, pkt.t.daddr);
			pkt.t.sport = get_random_u32() % 4;
			pkt.t.dport = get_random_u32() % 4;
			rcu_read_lock();
			tcpfault_rules_lookup(&init_net, &pkt, &m);
			rcu_read_unlock();
			for (j = 0; j < m.n; j++) {
				int k = m.f[j]->spec.name[1] - '0';
				bool fwd = tcpfault_spec_match(&specs[k], &pkt.t, false);

				found |= 1U << k;
				/* Reported orientation: forward whenever forward matches. */
				KUNIT_EXPECT_EQ_MSG(test, m.rev[j], !fwd, "%s", specs[k].name);
			}
			for (i = 0; i < 6; i++)
				if (tcpfault_spec_match(&specs[i], &pkt.t, false) ||
				    tcpfault_spec_match(&specs[i], &pkt.t, true))
					want |= 1U << i;
			KUNIT_EXPECT_EQ_MSG(test, found, want, "round %d segment %d", round, n);
			/* Each fault once, whichever ways it matches. */
			KUNIT_EXPECT_EQ(test, m.n, (unsigned int)hweight32(found));
		}
		tcpfault_rules_flush(NULL);
	}
}

/* Lookup of one IPv4 segment; returns the single fault matched, or NULL. */
static struct tcpfault_fault *lookup1(struct kunit *test, const char *src, u16 sport,
				      const char *dst, u16 dport, bool *rev)
{
	struct tcpfault_pkt pkt = {};
	struct tcpfault_matches m;

	pkt.t.family = TCPFAULT_FAM_INET;
	KUNIT_ASSERT_EQ(test, in4_pton(src, -1, pkt.t.saddr, -1, NULL), 1);
	KUNIT_ASSERT_EQ(test, in4_pton(dst, -1, pkt.t.daddr, -1, NULL), 1);
	pkt.t.sport = sport;
	pkt.t.dport = dport;
	rcu_read_lock();
	tcpfault_rules_lookup(&init_net, &pkt, &m);
	rcu_read_unlock();
	KUNIT_EXPECT_LE(test, m.n, 1U);
	if (!m.n)
		return NULL;
	*rev = m.rev[0];
	return m.f[0];
}

/* The segment SRC:SPORT -> DST:DPORT selects @f alone, forward; its reply, reversed. */
static void expect_both_ways(struct kunit *test, struct tcpfault_fault *f, const char *src,
			     u16 sport, const char *dst, u16 dport)
{
	bool rev;

	KUNIT_EXPECT_PTR_EQ(test, lookup1(test, src, sport, dst, dport, &rev), f);
	KUNIT_EXPECT_FALSE(test, rev);
	KUNIT_EXPECT_PTR_EQ(test, lookup1(test, dst, dport, src, sport, &rev), f);
	KUNIT_EXPECT_TRUE(test, rev);
}

static void shapes_are_shared(struct kunit *test)
{
	struct rules_net *rn = rules_net(&init_net);
	char text[128];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text),
			 "t%d mode=link-down src=10.1.%d.%d sport=%d dst=10.2.0.1 dport=80",
			 i, i / 256, i % 256, 1000 + i);
		KUNIT_ASSERT_EQ(test, add(test, text), 0);
	}
	KUNIT_EXPECT_EQ(test, rn->nshapes, 1U);
	KUNIT_EXPECT_EQ(test, rn->nfaults, 100U);
	KUNIT_ASSERT_EQ(test, add(test, "range mode=watch dport=10-20"), 0);
	KUNIT_EXPECT_EQ(test, rn->nshapes, 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rn->slow));
	KUNIT_ASSERT_NOT_NULL(test, find("range")->fnode);
	KUNIT_EXPECT_TRUE(test, find("range")->fnode->ranged);
	KUNIT_EXPECT_FALSE(test, find("t7")->fnode->ranged);
	/* Not its own mirror: the shape and its mirror, two lookups. */
	KUNIT_ASSERT_EQ(test, add(test, "half mode=watch dst=10.3.0.1 dport=80"), 0);
	KUNIT_EXPECT_EQ(test, rn->nshapes, 4U);
	expect_both_ways(test, find("half"), "10.5.0.1", 4321, "10.3.0.1", 80);
	KUNIT_EXPECT_EQ(test, add(test, "t7 mode=watch"), -EEXIST);
	/* Names are per namespace: another cookie does not find it. */
	KUNIT_EXPECT_NOT_NULL(test, name_find(init_net.net_cookie, "t7"));
	KUNIT_EXPECT_NULL(test, name_find(init_net.net_cookie + 1, "t7"));
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "nope"), -ENOENT);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_del(&init_net, "half"), 0);
	KUNIT_EXPECT_EQ(test, rn->nshapes, 2U);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_flush(NULL), 101);
	KUNIT_EXPECT_EQ(test, rn->nshapes, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rn->slow));
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(rn->shapes));
	KUNIT_EXPECT_EQ(test, tcpfault_rules_count(&init_net), 0ULL);
}

/* Faults on distinct hosts with the same port range: one shape, each hit checked. */
static void ranges_are_hashed(struct kunit *test)
{
	struct rules_net *rn = rules_net(&init_net);
	char text[128];
	bool rev;
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "g%d mode=link-down src=10.4.0.%d dport=%d-%d",
			 i, i, 3000 + i, 3001 + i);
		KUNIT_ASSERT_EQ(test, add(test, text), 0);
	}
	/* One shape (source /32, no exact port) and its mirror. */
	KUNIT_EXPECT_EQ(test, rn->nshapes, 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rn->slow));
	/* Both ends of g7's range, 3007-3008. */
	expect_both_ways(test, find("g7"), "10.4.0.7", 5555, "10.9.0.1", 3007);
	expect_both_ways(test, find("g7"), "10.4.0.7", 5555, "10.9.0.1", 3008);
	/* Right host, port outside its range; right port, another host. */
	KUNIT_EXPECT_NULL(test, lookup1(test, "10.4.0.7", 5555, "10.9.0.1", 3009, &rev));
	KUNIT_EXPECT_NULL(test, lookup1(test, "10.4.0.8", 5555, "10.9.0.1", 3007, &rev));
}

/* More shapes than SHAPES_MAX: the rest go to the overflow list and still match. */
static void shape_overflow(struct kunit *test)
{
	static const char * const ports[] = { "any", "7" };
	struct rules_net *rn = rules_net(&init_net);
	char text[128];
	int plen, i, j, n = 0;
	bool rev;

	for (plen = 8; plen <= 32; plen++)
		for (i = 0; i < 2; i++)
			for (j = 0; j < 2; j++) {
				snprintf(text, sizeof(text),
					 "o%d mode=watch dst=10.0.0.0/%d sport=%s dport=%s",
					 n++, plen, ports[i], ports[j]);
				KUNIT_ASSERT_EQ(test, add(test, text), 0);
			}
	KUNIT_EXPECT_EQ(test, rn->nshapes, (unsigned int)SHAPES_MAX);
	KUNIT_EXPECT_FALSE(test, list_empty(&rn->slow));
	KUNIT_ASSERT_EQ(test, add(test, "last mode=watch src=192.168.0.1 dport=5-6"), 0);
	KUNIT_EXPECT_NULL(test, find("last")->fnode);
	expect_both_ways(test, find("last"), "192.168.0.1", 1234, "172.16.0.1", 5);
	expect_both_ways(test, find("last"), "192.168.0.1", 1234, "172.16.0.1", 6);
	KUNIT_EXPECT_NULL(test, lookup1(test, "192.168.0.1", 1234, "172.16.0.1", 7, &rev));
	KUNIT_EXPECT_EQ(test, tcpfault_rules_flush(NULL), n + 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&rn->slow));
	KUNIT_EXPECT_EQ(test, rn->nshapes, 0U);
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

/* A segment from 198.51.100.@from to .@to; the client's port is @cport. */
static unsigned int verdict_port(struct kunit *test, u8 from, u8 to, u16 cport, u8 flags,
				 u32 seq, struct tcpfault_conn **cp)
{
	struct tcpfault_pkt pkt = { .flags = flags, .segs = 1, .seq = seq, .len = 10 };
	struct tcpfault_matches m;
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
	tcpfault_rules_lookup(&init_net, &pkt, &m);
	c = tcpfault_conn_track(&init_net, &pkt);
	v = tcpfault_rules_verdict(&init_net, &m, &pkt, c);
	tcpfault_conn_account(c, &pkt, v != NF_ACCEPT);
	rcu_read_unlock();
	if (cp)
		*cp = c;
	return v;
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
	KUNIT_EXPECT_EQ(test, tcpfault_rules_stat(f, TCPFAULT_F_DROPPED), 1ULL);
	KUNIT_EXPECT_EQ(test, tcpfault_rules_stat(f, TCPFAULT_F_MATCHED), 2ULL);
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
	KUNIT_EXPECT_EQ(test, tcpfault_rules_stat(find("cut"), TCPFAULT_F_DROPPED), 2ULL);
	for (i = 0; i < TCPFAULT_MATCH_MAX + 2; i++) {
		snprintf(text, sizeof(text), "w%d", i);
		KUNIT_EXPECT_EQ_MSG(test, tcpfault_rules_stat(find(text), TCPFAULT_F_MATCHED),
				    2ULL, "%s", text);
	}
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
	KUNIT_EXPECT_GT(test, tcpfault_rules_lookup(&init_net, &pkt, &m), 0U);
	v = tcpfault_rules_verdict(&init_net, &m, &pkt, NULL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, v, NF_ACCEPT);
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
		c = tcpfault_conn_track(&init_net, &pkt);
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
	KUNIT_CASE(lookup_matches_reference),
	KUNIT_CASE(shapes_are_shared),
	KUNIT_CASE(ranges_are_hashed),
	KUNIT_CASE(shape_overflow),
	KUNIT_CASE(timers_delay_and_duration),
	KUNIT_CASE(power_off_and_reboot),
	KUNIT_CASE(verdicts),
	KUNIT_CASE(many_matches_lose_nothing),
	KUNIT_CASE(reset_spares_the_unknown),
	KUNIT_CASE(reset_pins_survive_pressure),
	KUNIT_CASE(syn_retried_across_reboot),
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
