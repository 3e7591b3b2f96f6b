// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the fault index, on its own (no fault table). The hashed
 * tuple-space lookup must agree with the reference matcher
 * (tcpfault_spec_match) on random selectors and segments; shapes are
 * shared; port ranges are hashed on their addresses; shapes past
 * SHAPES_MAX take the overflow list and still match; the port and key
 * filters never turn away what a fault selects; removal leaves nothing
 * behind.
 */
#include <kunit/test.h>
#include <linux/inet.h>
#include <linux/random.h>

#include "../module/index.c"

/* The faults a case inserted, on their node, for drop_all(). */
static LIST_HEAD(inserted);

static int index_suite_init(struct kunit_suite *suite)
{
	return tcpfault_index_init();
}

static void index_suite_exit(struct kunit_suite *suite)
{
	tcpfault_index_uninit();
}

static struct tcpfault_fault *ins_spec(struct kunit *test, const struct tcpfault_spec *spec)
{
	struct tcpfault_fault *f = kzalloc(sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->spec = *spec;
	f->net = &init_net;
	INIT_LIST_HEAD(&f->slow_node);
	list_add_tail(&f->node, &inserted);
	KUNIT_ASSERT_EQ(test, tcpfault_index_insert(f), 0);
	return f;
}

static struct tcpfault_fault *ins(struct kunit *test, const char *text)
{
	struct tcpfault_spec spec;
	struct tcpfault_perr err;

	KUNIT_ASSERT_EQ_MSG(test, tcpfault_spec_parse(text, strlen(text), &spec, &err), 0,
			    "'%s': %s", text, err.msg);
	return ins_spec(test, &spec);
}

static struct tcpfault_fault *find(const char *name)
{
	struct tcpfault_fault *f;

	list_for_each_entry(f, &inserted, node)
		if (!strcmp(f->spec.name, name))
			return f;
	return NULL;
}

/* Remove and free one fault, as the fault table does: a grace period between. */
static void drop(struct tcpfault_fault *f)
{
	tcpfault_index_remove(f);
	list_del(&f->node);
	synchronize_rcu();
	tcpfault_index_release(f);
	kfree(f);
}

static int drop_all(void)
{
	struct tcpfault_fault *f, *tmp;
	LIST_HEAD(gone);
	int n = 0;

	list_for_each_entry_safe(f, tmp, &inserted, node) {
		/* A case that failed halfway may leave one never inserted. */
		if (f->fnode || !list_empty(&f->slow_node))
			tcpfault_index_remove(f);
		list_move(&f->node, &gone);
		n++;
	}
	synchronize_rcu();
	list_for_each_entry_safe(f, tmp, &gone, node) {
		tcpfault_index_release(f);
		kfree(f);
	}
	return n;
}

static void index_case_exit(struct kunit *test)
{
	drop_all();
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

	unsigned int rejected = 0;
	bool may;

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
			ins_spec(test, &specs[i]);
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
			tcpfault_index_lookup(&init_net, &pkt.t, &m);
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
			/* The filters may let through too much, never too little. */
			rcu_read_lock();
			if (!tcpfault_index_may_select(&init_net, &pkt.t))
				KUNIT_EXPECT_EQ_MSG(test, want, 0U, "key filter: round %d segment %d",
						    round, n);
			may = tcpfault_index_may_match(&init_net, pkt.t.sport, pkt.t.dport);
			rcu_read_unlock();
			if (!may) {
				KUNIT_EXPECT_EQ_MSG(test, want, 0U, "filtered out: round %d segment %d",
						    round, n);
				rejected++;
			}
			/* Each fault once, whichever ways it matches. */
			KUNIT_EXPECT_EQ(test, m.n, (unsigned int)hweight32(found));
		}
		drop_all();
	}
	/* Segments from or to port 0, which no fault names, were turned away. */
	KUNIT_EXPECT_GT(test, rejected, 0U);
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
	tcpfault_index_lookup(&init_net, &pkt.t, &m);
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
	struct index_net *in = index_net(&init_net);
	char text[128];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text),
			 "t%d mode=link-down src=10.1.%d.%d sport=%d dst=10.2.0.1 dport=80",
			 i, i / 256, i % 256, 1000 + i);
		ins(test, text);
	}
	KUNIT_EXPECT_EQ(test, in->nshapes, 1U);
	KUNIT_EXPECT_EQ(test, in->nfaults, 100U);
	ins(test, "range mode=watch dport=10-20");
	KUNIT_EXPECT_EQ(test, in->nshapes, 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&in->slow));
	KUNIT_ASSERT_NOT_NULL(test, find("range")->fnode);
	KUNIT_EXPECT_TRUE(test, find("range")->fnode->ranged);
	KUNIT_EXPECT_FALSE(test, find("t7")->fnode->ranged);
	/* Not its own mirror: the shape and its mirror, two lookups. */
	ins(test, "half mode=watch dst=10.3.0.1 dport=80");
	KUNIT_EXPECT_EQ(test, in->nshapes, 4U);
	expect_both_ways(test, find("half"), "10.5.0.1", 4321, "10.3.0.1", 80);
	drop(find("half"));
	KUNIT_EXPECT_EQ(test, in->nshapes, 2U);
	KUNIT_EXPECT_EQ(test, drop_all(), 101);
	KUNIT_EXPECT_EQ(test, in->nshapes, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&in->slow));
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(in->shapes));
	KUNIT_EXPECT_EQ(test, tcpfault_index_count(&init_net), 0U);
}

/* Faults on distinct hosts with the same port range: one shape, each hit checked. */
static void ranges_are_hashed(struct kunit *test)
{
	struct index_net *in = index_net(&init_net);
	char text[128];
	bool rev;
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "g%d mode=link-down src=10.4.0.%d dport=%d-%d",
			 i, i, 3000 + i, 3001 + i);
		ins(test, text);
	}
	/* One shape (source /32, no exact port) and its mirror. */
	KUNIT_EXPECT_EQ(test, in->nshapes, 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&in->slow));
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
	struct index_net *in = index_net(&init_net);
	char text[128];
	int plen, i, j, n = 0;
	bool rev;

	for (plen = 8; plen <= 32; plen++)
		for (i = 0; i < 2; i++)
			for (j = 0; j < 2; j++) {
				snprintf(text, sizeof(text),
					 "o%d mode=watch dst=10.0.0.0/%d sport=%s dport=%s",
					 n++, plen, ports[i], ports[j]);
				ins(test, text);
			}
	KUNIT_EXPECT_EQ(test, in->nshapes, (unsigned int)SHAPES_MAX);
	KUNIT_EXPECT_FALSE(test, list_empty(&in->slow));
	ins(test, "last mode=watch src=192.168.0.1 dport=5-6");
	KUNIT_EXPECT_NULL(test, find("last")->fnode);
	expect_both_ways(test, find("last"), "192.168.0.1", 1234, "172.16.0.1", 5);
	expect_both_ways(test, find("last"), "192.168.0.1", 1234, "172.16.0.1", 6);
	KUNIT_EXPECT_NULL(test, lookup1(test, "192.168.0.1", 1234, "172.16.0.1", 7, &rev));
	KUNIT_EXPECT_EQ(test, drop_all(), n + 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&in->slow));
	KUNIT_EXPECT_EQ(test, in->nshapes, 0U);
}

static bool may4(u16 sport, u16 dport)
{
	bool may;

	rcu_read_lock();
	may = tcpfault_index_may_match(&init_net, sport, dport);
	rcu_read_unlock();
	return may;
}

/*
 * The port filter names each fault's narrower port range, counts faults on
 * a port, and stands aside while a fault names no port (or only wide ranges).
 */
static void port_filter_counts(struct kunit *test)
{
	struct index_net *in = index_net(&init_net);

	KUNIT_EXPECT_FALSE(test, may4(50000, 80));
	ins(test, "a mode=watch dst=10.1.0.1 dport=80");
	ins(test, "b mode=watch dst=10.1.0.2 dport=80");
	ins(test, "c mode=watch sport=1000-1999 dport=2000-9999");
	KUNIT_EXPECT_TRUE(test, may4(50000, 80));
	KUNIT_EXPECT_TRUE(test, may4(80, 50000));	/* a reply */
	KUNIT_EXPECT_TRUE(test, may4(1999, 50000));
	KUNIT_EXPECT_FALSE(test, may4(2000, 50000));	/* c's wider range is not named */
	KUNIT_EXPECT_FALSE(test, may4(50000, 81));
	drop(find("a"));
	KUNIT_EXPECT_TRUE(test, may4(50000, 80));	/* b still names it */
	drop(find("b"));
	KUNIT_EXPECT_FALSE(test, may4(50000, 80));

	ins(test, "d mode=watch dst=10.1.0.4");	/* no port: the filter stands aside */
	KUNIT_EXPECT_EQ(test, in->port_open, 1U);
	KUNIT_EXPECT_TRUE(test, may4(50000, 81));
	ins(test, "e mode=watch dport=1-65000");
	KUNIT_EXPECT_EQ(test, in->port_open, 2U);
	drop(find("d"));
	drop(find("e"));
	KUNIT_EXPECT_EQ(test, in->port_open, 0U);
	KUNIT_EXPECT_FALSE(test, may4(50000, 81));
	drop(find("c"));
	KUNIT_EXPECT_TRUE(test, bitmap_empty(in->port_bits, 65536));
	KUNIT_EXPECT_FALSE(test, may4(1500, 80));
}

/* Does the key filter let a segment's key through, under the one shape there is? */
static bool key_passes(struct kunit *test, const char *src, u16 sport, const char *dst, u16 dport)
{
	struct index_net *in = index_net(&init_net);
	const struct tcpfault_shapes *shapes;
	const struct key_filter *kf;
	struct tcpfault_tuple t = {};
	struct tcpfault_fkey key;
	bool pass;

	t.family = TCPFAULT_FAM_INET;
	KUNIT_ASSERT_EQ(test, in4_pton(src, -1, t.saddr, -1, NULL), 1);
	KUNIT_ASSERT_EQ(test, in4_pton(dst, -1, t.daddr, -1, NULL), 1);
	t.sport = sport;
	t.dport = dport;
	rcu_read_lock();
	shapes = rcu_dereference(in->shapes);
	kf = rcu_dereference(in->kf);
	KUNIT_ASSERT_EQ(test, shapes->n, 1U);
	pkt_key(&init_net, &t, &shapes->s[0], &key);
	pass = !kf || test_bit(key_hash(&key) & kf->mask, kf->bits);
	rcu_read_unlock();
	return pass;
}

static u32 kf_slots(void)
{
	const struct key_filter *kf = rcu_access_pointer(index_net(&init_net)->kf);

	return kf ? kf->mask + 1 : 0;
}

/*
 * The key filter grows with the faults (16 slots an entry, rebuilt once
 * they fill past 8), turns away most keys nobody hashed, never one that
 * is hashed, and is rebuilt smaller once most of its bits are stale.
 */
static void key_filter_keeps_up(struct kunit *test)
{
	struct index_net *in = index_net(&init_net);
	struct tcpfault_fault *f, *tmp;
	unsigned int passed = 0;
	char a[32], text[128];
	LIST_HEAD(gone);
	int i, n = 3000;
	bool rev;

	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text),
			 "k%d mode=watch src=10.1.%d.%d sport=%d dst=10.2.0.1 dport=80",
			 i, i / 256, i % 256, 1000 + i);
		ins(test, text);
	}
	KUNIT_EXPECT_EQ(test, in->nkeyed, 2U * n);
	KUNIT_EXPECT_GE(test, kf_slots(), 8U * in->nkeyed);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		snprintf(text, sizeof(text), "k%d", i);
		expect_both_ways(test, find(text), a, 1000 + i, "10.2.0.1", 80);
	}
	/* Other clients on the same ports: 1 in 8 at most passes, on average. */
	for (i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "10.9.%d.%d", i / 256, i % 256);
		passed += key_passes(test, a, 1000 + i, "10.2.0.1", 80);
	}
	KUNIT_EXPECT_LT(test, passed, 250U);

	/* Remove all but the last 50, with one grace period as a flush does. */
	list_for_each_entry_safe(f, tmp, &inserted, node) {
		if (in->nfaults == 50)
			break;
		tcpfault_index_remove(f);
		list_move(&f->node, &gone);
	}
	synchronize_rcu();
	list_for_each_entry_safe(f, tmp, &gone, node) {
		tcpfault_index_release(f);
		kfree(f);
	}
	KUNIT_EXPECT_EQ(test, in->nkeyed, 100U);
	KUNIT_EXPECT_LE(test, in->kf_stale, in->nkeyed);
	KUNIT_EXPECT_EQ(test, kf_slots(), KF_SLOTS_MIN);
	for (i = n - 50; i < n; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		snprintf(text, sizeof(text), "k%d", i);
		expect_both_ways(test, find(text), a, 1000 + i, "10.2.0.1", 80);
	}
	KUNIT_EXPECT_EQ(test, drop_all(), 50);
	KUNIT_EXPECT_EQ(test, in->nkeyed, 0U);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(in->kf));
	KUNIT_EXPECT_NULL(test, lookup1(test, "10.1.11.184", 3999, "10.2.0.1", 80, &rev));
}

/* What the notify callback was told, and what it answers. */
static struct {
	int busy, idle, fail;
	struct net *net;
} told;

static int notify(struct net *net, bool busy)
{
	told.net = net;
	if (busy && told.fail)
		return told.fail;
	if (busy)
		told.busy++;
	else
		told.idle++;
	return 0;
}

/*
 * The hooks' callback hears of a namespace's first fault, before it goes
 * in, and of its last one, once it is out; nothing in between. A refusal
 * fails the insertion and leaves the index as it was.
 */
static void notify_first_and_last(struct kunit *test)
{
	static const char ctext[] = "c mode=watch dst=10.1.0.3 dport=80";
	struct tcpfault_fault *a, *b;
	struct tcpfault_spec spec;
	struct tcpfault_perr err;
	bool rev;

	memset(&told, 0, sizeof(told));
	tcpfault_index_set_notify(notify);
	a = ins(test, "a mode=watch dst=10.1.0.1 dport=80");
	KUNIT_EXPECT_EQ(test, told.busy, 1);
	KUNIT_EXPECT_PTR_EQ(test, told.net, &init_net);
	b = ins(test, "b mode=watch dst=10.1.0.2 dport=80");
	KUNIT_EXPECT_EQ(test, told.busy, 1);
	drop(a);
	KUNIT_EXPECT_EQ(test, told.idle, 0);
	drop(b);
	KUNIT_EXPECT_EQ(test, told.idle, 1);
	KUNIT_EXPECT_EQ(test, tcpfault_index_count(&init_net), 0U);

	told.fail = -ENOMEM;
	KUNIT_ASSERT_EQ(test, tcpfault_spec_parse(ctext, strlen(ctext),
						  &spec, &err), 0);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	a->spec = spec;
	a->net = &init_net;
	KUNIT_EXPECT_EQ(test, tcpfault_index_insert(a), -ENOMEM);
	KUNIT_EXPECT_EQ(test, tcpfault_index_count(&init_net), 0U);
	KUNIT_EXPECT_NULL(test, lookup1(test, "10.0.0.1", 1234, "10.1.0.3", 80, &rev));
	KUNIT_EXPECT_EQ(test, index_net(&init_net)->nshapes, 0U);
	kfree(a);
	tcpfault_index_set_notify(NULL);
	told.fail = 0;
}

static struct kunit_case index_test_cases[] = {
	KUNIT_CASE(lookup_matches_reference),
	KUNIT_CASE(shapes_are_shared),
	KUNIT_CASE(ranges_are_hashed),
	KUNIT_CASE(shape_overflow),
	KUNIT_CASE(port_filter_counts),
	KUNIT_CASE(key_filter_keeps_up),
	KUNIT_CASE(notify_first_and_last),
	{}
};

static struct kunit_suite index_suite = {
	.name = "tcpfault_index",
	.suite_init = index_suite_init,
	.suite_exit = index_suite_exit,
	.exit = index_case_exit,
	.test_cases = index_test_cases,
};

kunit_test_suites(&index_suite);
