// SPDX-License-Identifier: GPL-2.0
/*
 * procfs tables are parsed by their header line, never by position.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "table.h"

static void test_header_and_rest_of_line(void **state)
{
	struct table t;

	(void)state;
	assert_int_equal(table_parse("id name spec\n1 a a mode=watch src=any\n2 b b mode=loss\n", &t), 0);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nrows, 2);
	assert_int_equal(table_col(&t, "spec"), 2);
	assert_int_equal(table_col(&t, "nope"), -1);
	assert_string_equal(table_get(&t, 0, "spec"), "a mode=watch src=any");
	assert_string_equal(table_get(&t, 1, "name"), "b");
	assert_null(table_get(&t, 2, "name"));
	table_free(&t);
}

static void test_columns_found_by_name(void **state)
{
	char *text = fixture_read("faults.future");
	struct table t;
	uint64_t v;

	(void)state;
	assert_int_equal(table_parse(text, &t), 0);
	assert_string_equal(table_get(&t, 0, "name"), "cut");
	assert_true(table_get_u64(&t, 0, "id", &v));
	assert_int_equal(v, 1);
	assert_string_equal(table_get(&t, 0, "netns"), "4026531840");
	assert_string_equal(table_get(&t, 0, "spec"),
			    "cut mode=link-down src=any sport=any dst=10.0.1.2/32 dport=any");
	table_free(&t);
	free(text);
}

static void test_short_lines_and_blanks(void **state)
{
	struct table t;

	(void)state;
	assert_int_equal(table_parse("a b c\n\n1 2\n  \n4 5 6   \n", &t), 0);
	assert_int_equal(t.nrows, 2);
	assert_string_equal(table_get(&t, 0, "b"), "2");
	assert_null(table_get(&t, 0, "c"));
	assert_string_equal(table_get(&t, 1, "c"), "6");
	table_free(&t);
}

static void test_no_header(void **state)
{
	struct table t;

	(void)state;
	assert_int_equal(table_parse("", &t), -EINVAL);
	assert_int_equal(table_parse("\n1 2\n", &t), -EINVAL);
	assert_int_equal(table_parse("only header", &t), 0);
	assert_int_equal(t.nrows, 0);
	table_free(&t);
}

static void test_numbers(void **state)
{
	uint64_t u;
	int64_t s;

	(void)state;
	assert_true(parse_u64_text("18446744073709551615", &u));
	assert_true(u == UINT64_MAX);
	assert_false(parse_u64_text("18446744073709551616", &u));
	assert_false(parse_u64_text("-1", &u));
	assert_false(parse_u64_text("", &u));
	assert_false(parse_u64_text("12a", &u));
	assert_true(parse_s64_text("-1", &s));
	assert_int_equal(s, -1);
	assert_false(parse_s64_text("9223372036854775808", &s));
	assert_false(parse_s64_text("-", &s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_rest_of_line),
		cmocka_unit_test(test_columns_found_by_name),
		cmocka_unit_test(test_short_lines_and_blanks),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
