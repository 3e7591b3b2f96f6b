// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the control grammar. The case tables are shared with the host
 * unit tests (tools/testing/unit/), so both builds of spec.c are held to
 * the same answers.
 */
#include <kunit/test.h>

#include "../module/spec.c"
#include "spec_cases.h"

static void spec_table(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct tcpfault_spec s;
		struct tcpfault_perr e = {};
		char out[600];
		int ret;

		ret = tcpfault_spec_parse(c->in, strlen(c->in), &s, &e);
		if (c->ok) {
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "'%s': %s", c->in, e.msg);
			if (ret)
				continue;
			tcpfault_spec_format(&s, out, sizeof(out));
			KUNIT_EXPECT_STREQ_MSG(test, out, c->out, "input '%s'", c->in);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL, "'%s' accepted", c->in);
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(e.msg, c->out),
						  "'%s': reason '%s'", c->in, e.msg);
			if (c->pos >= 0)
				KUNIT_EXPECT_EQ_MSG(test, e.pos, c->pos, "'%s': %s", c->in, e.msg);
		}
	}
}

static void spec_round_trip(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		struct tcpfault_spec a, b;
		char out[600];

		if (!spec_cases[i].ok)
			continue;
		KUNIT_ASSERT_EQ(test, tcpfault_spec_parse(spec_cases[i].in,
							  strlen(spec_cases[i].in), &a, NULL), 0);
		tcpfault_spec_format(&a, out, sizeof(out));
		KUNIT_ASSERT_EQ(test, tcpfault_spec_parse(out, strlen(out), &b, NULL), 0);
		a.keys = 0;
		b.keys = 0;
		a.enabled = true;
		b.enabled = true;
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&a, &b, sizeof(a)), 0, "'%s'", out);
	}
}

static void spec_limits(struct kunit *test)
{
	struct tcpfault_spec s;
	struct tcpfault_perr e;
	char *buf = kunit_kzalloc(test, 600, GFP_KERNEL);
	bool on;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, ' ', 600);
	memcpy(buf, "a mode=watch", 12);
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse(buf, 511, &s, &e), 0);
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse(buf, 512, &s, &e), -EINVAL);
	buf[12] = '\0';
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse(buf, 14, &s, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, e.pos, 12);
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse_switch("1\n", 2, &on, &e), 0);
	KUNIT_EXPECT_TRUE(test, on);
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse_switch("2", 1, &on, &e), -EINVAL);
	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse_switch("", 0, &on, &e), -EINVAL);
}

static void parse_tuple(struct kunit *test, struct tcpfault_tuple *t, const char *s,
			unsigned int sp, const char *d, unsigned int dp)
{
	struct tcpfault_prefix a, b;

	KUNIT_ASSERT_EQ(test, tcpfault_spec_parse_addr(s, strlen(s), &a), 0);
	KUNIT_ASSERT_EQ(test, tcpfault_spec_parse_addr(d, strlen(d), &b), 0);
	memset(t, 0, sizeof(*t));
	t->family = a.family;
	memcpy(t->saddr, a.addr, 16);
	memcpy(t->daddr, b.addr, 16);
	t->sport = sp;
	t->dport = dp;
}

static void spec_match(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct tcpfault_spec s;
		struct tcpfault_tuple t;

		KUNIT_ASSERT_EQ(test, tcpfault_spec_parse(c->spec, strlen(c->spec), &s, NULL), 0);
		parse_tuple(test, &t, c->s, c->sp, c->d, c->dp);
		KUNIT_EXPECT_EQ_MSG(test, tcpfault_spec_match(&s, &t, false), (bool)c->fwd,
				    "case %u fwd: %s", i, c->spec);
		KUNIT_EXPECT_EQ_MSG(test, tcpfault_spec_match(&s, &t, true), (bool)c->rev,
				    "case %u rev: %s", i, c->spec);
	}
}

static struct kunit_case spec_test_cases[] = {
	KUNIT_CASE(spec_table),
	KUNIT_CASE(spec_round_trip),
	KUNIT_CASE(spec_limits),
	KUNIT_CASE(spec_match),
	{}
};

static struct kunit_suite spec_suite = {
	.name = "tcpfault_spec",
	.test_cases = spec_test_cases,
};

kunit_test_suites(&spec_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for tcpfault");
