// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the control grammar (module/spec.c, built here in
 * userspace from the same source), with cmocka. Run under ASan and UBSan
 * by the Makefile next to this file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spec.h"
#include "../../../kunit/spec_cases.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_table(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct tcpfault_spec s;
		struct tcpfault_perr e;
		char out[600];
		int ret;

		memset(&e, 0, sizeof(e));
		ret = tcpfault_spec_parse(c->in, strlen(c->in), &s, &e);
		if (c->ok) {
			if (ret) {
				print_error("'%s' rejected: %s\n", c->in, e.msg);
				bad++;
				continue;
			}
			tcpfault_spec_format(&s, out, sizeof(out));
			if (strcmp(out, c->out)) {
				print_error("'%s' printed as '%s', want '%s'\n", c->in, out, c->out);
				bad++;
			}
		} else if (ret != -EINVAL) {
			print_error("'%s': got %d, want -EINVAL\n", c->in, ret);
			bad++;
		} else if (!strstr(e.msg, c->out)) {
			print_error("'%s': reason '%s' lacks '%s'\n", c->in, e.msg, c->out);
			bad++;
		} else if (c->pos >= 0 && e.pos != c->pos) {
			print_error("'%s': blamed offset %d, want %d (%s)\n", c->in, e.pos,
				    c->pos, e.msg);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Canonical output parses back to the same spec. */
static void test_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		struct tcpfault_spec a, b;
		char out[600];

		if (!spec_cases[i].ok)
			continue;
		assert_int_equal(tcpfault_spec_parse(spec_cases[i].in, strlen(spec_cases[i].in),
						     &a, NULL), 0);
		tcpfault_spec_format(&a, out, sizeof(out));
		assert_int_equal(tcpfault_spec_parse(out, strlen(out), &b, NULL), 0);
		a.keys = b.keys = 0;	/* which keys were spelled out may differ */
		a.enabled = b.enabled = 1;
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void test_lengths(void **state)
{
	char buf[600];
	struct tcpfault_spec s;
	struct tcpfault_perr e;
	size_t n;

	(void)state;
	/* 511 bytes is the limit; pad with spaces, which are separators. */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "a mode=watch", 12);
	assert_int_equal(tcpfault_spec_parse(buf, 511, &s, &e), 0);
	buf[511] = '\n';
	assert_int_equal(tcpfault_spec_parse(buf, 512, &s, &e), 0);
	assert_int_equal(tcpfault_spec_parse(buf, 513, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than 511"));
	/* Embedded NUL: the length is what counts, not strlen(). */
	n = strlen("a mode=watch");
	memcpy(buf, "a mode=watch\0x", n + 2);
	assert_int_equal(tcpfault_spec_parse(buf, n + 2, &s, &e), -EINVAL);
	assert_int_equal(e.pos, (int)n);
	/* Not NUL-terminated at all: only len bytes are read (ASan checks). */
	{
		char *exact = strndup("b mode=link-down", 16);

		assert_int_equal(tcpfault_spec_parse(exact, 16, &s, &e), 0);
		free(exact);
	}
}

/* A batch's lines: every one, empty ones too; no newline, no line after it. */
static void test_next_line(void **state)
{
	static const char in[] = "a mode=watch\n\nb mode=loss prob=1%\nc";
	size_t pos = 0, start, llen;

	(void)state;
	assert_true(tcpfault_spec_next_line(in, sizeof(in) - 1, &pos, &start, &llen));
	assert_int_equal(start, 0);
	assert_int_equal(llen, 12);
	assert_true(tcpfault_spec_next_line(in, sizeof(in) - 1, &pos, &start, &llen));
	assert_int_equal(start, 13);
	assert_int_equal(llen, 0);
	assert_true(tcpfault_spec_next_line(in, sizeof(in) - 1, &pos, &start, &llen));
	assert_int_equal(llen, strlen("b mode=loss prob=1%"));
	assert_true(tcpfault_spec_next_line(in, sizeof(in) - 1, &pos, &start, &llen));
	assert_int_equal(llen, 1);
	assert_int_equal(in[start], 'c');
	assert_false(tcpfault_spec_next_line(in, sizeof(in) - 1, &pos, &start, &llen));
	/* A final newline ends the last line; it starts none. */
	pos = 0;
	assert_true(tcpfault_spec_next_line("x\n", 2, &pos, &start, &llen));
	assert_false(tcpfault_spec_next_line("x\n", 2, &pos, &start, &llen));
	pos = 0;
	assert_false(tcpfault_spec_next_line("", 0, &pos, &start, &llen));
}

static void test_name_and_switch(void **state)
{
	char name[TCPFAULT_NAME_MAX + 1];
	struct tcpfault_perr e;
	bool on;

	(void)state;
	assert_int_equal(tcpfault_spec_parse_name("web\n", 4, name, &e), 0);
	assert_string_equal(name, "web");
	assert_int_equal(tcpfault_spec_parse_name("web extra", 9, name, &e), -EINVAL);
	assert_int_equal(e.pos, 4);
	assert_int_equal(tcpfault_spec_parse_name("", 0, name, &e), -EINVAL);
	assert_int_equal(tcpfault_spec_parse_name("_x", 2, name, &e), -EINVAL);
	assert_int_equal(tcpfault_spec_parse_switch("1\n", 2, &on, &e), 0);
	assert_true(on);
	assert_int_equal(tcpfault_spec_parse_switch("0", 1, &on, &e), 0);
	assert_false(on);
	assert_int_equal(tcpfault_spec_parse_switch("01", 2, &on, &e), -EINVAL);
	assert_int_equal(tcpfault_spec_parse_switch("yes", 3, &on, &e), -EINVAL);
	assert_int_equal(tcpfault_spec_parse_switch("", 0, &on, &e), -EINVAL);
}

static void tuple(struct tcpfault_tuple *t, const char *s, unsigned int sp,
		  const char *d, unsigned int dp)
{
	struct tcpfault_prefix a, b;

	assert_int_equal(tcpfault_spec_parse_addr(s, strlen(s), &a), 0);
	assert_int_equal(tcpfault_spec_parse_addr(d, strlen(d), &b), 0);
	memset(t, 0, sizeof(*t));
	t->family = a.family;
	memcpy(t->saddr, a.addr, 16);
	memcpy(t->daddr, b.addr, 16);
	t->sport = (u16)sp;
	t->dport = (u16)dp;
}

static void test_match(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct tcpfault_spec s;
		struct tcpfault_tuple t;

		assert_int_equal(tcpfault_spec_parse(c->spec, strlen(c->spec), &s, NULL), 0);
		tuple(&t, c->s, c->sp, c->d, c->dp);
		if (tcpfault_spec_match(&s, &t, false) != c->fwd ||
		    tcpfault_spec_match(&s, &t, true) != c->rev)
			fail_msg("case %zu: '%s' vs %s:%u > %s:%u", i, c->spec, c->s, c->sp,
				 c->d, c->dp);
	}
}

static void test_format_small_buffers(void **state)
{
	struct tcpfault_spec s;
	const char *in = "n mode=power-off host=2001:db8:1:2:3:4:5:6 delay=1500ms duration=90s";
	char full[600];
	int n, len;

	(void)state;
	assert_int_equal(tcpfault_spec_parse(in, strlen(in), &s, NULL), 0);
	n = tcpfault_spec_format(&s, full, sizeof(full));
	assert_int_equal(n, (int)strlen(full));
	/* Every truncation length: no overflow, a prefix of the full text. */
	for (len = 1; len <= n + 1; len++) {
		char *buf = malloc((size_t)len);

		assert_int_equal(tcpfault_spec_format(&s, buf, (size_t)len), n);
		assert_int_equal(strlen(buf), (size_t)(len - 1 < n ? len - 1 : n));
		assert_memory_equal(buf, full, strlen(buf));
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_next_line),
		cmocka_unit_test(test_name_and_switch),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_format_small_buffers),
	};

	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
