// SPDX-License-Identifier: GPL-2.0
/*
 * The lists of names in module/names.h against their users: every mode and
 * key parses, and tcpfaultctl's help and errors name every mode. The man
 * page and the bash completion are checked by lists_test.sh and
 * completion_test.sh.
 */
#include <stdio.h>
#include <string.h>

#include "addspec.h"
#include "helpers.h"
#include "lists.h"

#define NAME(e, s)	s,

static const char * const modes[] = { TCPFAULT_MODES(NAME, NAME) };
static const char * const keys[] = { TCPFAULT_SPEC_KEYS(NAME, NAME) };
static const char * const option_keys[] = { TCPFAULT_SPEC_OPTION_KEYS(NAME, NAME) };

/* Each mode round-trips by name and makes a fault, with what it needs. */
static void test_every_mode_parses(void **state)
{
	static const char * const needs[] = { "", " host=10.0.0.1", " prob=1%", " timeout=1s", " latency=1s" };
	struct tcpfault_spec spec;
	struct tcpfault_perr err;
	char line[128];
	size_t i, j;

	(void)state;
	assert_int_equal(ARRAY_SIZE(modes), TCPFAULT_MODE_MAX);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		assert_int_equal(tcpfault_spec_mode_from_name(modes[i], strlen(modes[i])), i);
		assert_string_equal(tcpfault_spec_mode_name(i), modes[i]);
		for (j = 0; j < ARRAY_SIZE(needs); j++) {
			snprintf(line, sizeof(line), "f mode=%s%s", modes[i], needs[j]);
			if (!tcpfault_spec_parse(line, strlen(line), &spec, &err))
				break;
		}
		if (j == ARRAY_SIZE(needs))
			fail_msg("mode %s does not parse: %s", modes[i], err.msg);
		assert_int_equal(spec.mode, i);
	}
}

/* Each key is one the grammar and "add KEY VALUE" know. */
static void test_every_key_is_known(void **state)
{
	struct tcpfault_spec spec;
	struct tcpfault_perr err;
	char line[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(line, sizeof(line), "f mode=watch %s=?", keys[i]);
		tcpfault_spec_parse(line, strlen(line), &spec, &err);
		if (strstr(err.msg, "unknown key"))
			fail_msg("key %s: %s", keys[i], err.msg);
		assert_string_equal(ctl_key_names[i], keys[i]);
	}
}

/* "help add" and the errors for a missing MODE name every mode. */
static void test_help_names_every_mode(void **state)
{
	struct run help, err, bad;
	char word[64], *p;
	size_t i;

	(void)state;
	run_ctl(NULL, &help, false, "help", "add", NULL);
	run_ctl(NULL, &err, false, "add", "x", NULL);
	run_ctl(NULL, &bad, false, "add", "x", "mode=nope", NULL);
	for (p = help.out; *p; p++)	/* the help is wrapped: one line */
		if (*p == '\n')
			*p = ' ';
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		/* whole words: "loss" must not pass for "loss-x" */
		snprintf(word, sizeof(word), " %s%s", modes[i],
			 i + 1 < ARRAY_SIZE(modes) ? ", " : ". ");
		assert_contains(help.out, word);
		snprintf(word, sizeof(word), "%s%s", modes[i],
			 i + 1 < ARRAY_SIZE(modes) ? ", " : ")");
		assert_contains(err.err, word);
		assert_contains(bad.err, word);
	}
	/* the synopsis names each option key */
	for (i = 0; i < ARRAY_SIZE(option_keys); i++) {
		snprintf(word, sizeof(word), "[%s ", option_keys[i]);
		assert_contains(help.out, word);
	}
	run_free(&help);
	run_free(&err);
	run_free(&bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_mode_parses),
		cmocka_unit_test(test_every_key_is_known),
		cmocka_unit_test(test_help_names_every_mode),
	};

	return cmocka_run_group_tests_name("lists", tests, NULL, NULL);
}
