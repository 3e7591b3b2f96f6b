// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the suite lands; replaced in the KUnit commit. */
#include <kunit/test.h>

#include "../module/spec.c"

static void spec_parse_minimal(struct kunit *test)
{
	struct tcpfault_spec s;

	KUNIT_EXPECT_EQ(test, tcpfault_spec_parse("a mode=watch", 12, &s, NULL), 0);
	KUNIT_EXPECT_EQ(test, s.mode, TCPFAULT_MODE_WATCH);
}

static struct kunit_case spec_cases[] = {
	KUNIT_CASE(spec_parse_minimal),
	{}
};

static struct kunit_suite spec_suite = {
	.name = "tcpfault_spec",
	.test_cases = spec_cases,
};
kunit_test_suites(&spec_suite);
MODULE_LICENSE("GPL");
