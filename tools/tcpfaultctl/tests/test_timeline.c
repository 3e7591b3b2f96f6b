// SPDX-License-Identifier: GPL-2.0
/*
 * Timelines: relative times, gaps per kind and direction (RTO doubling,
 * keepalive intervals, SYN retries), naming a connection, text and JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "helpers.h"
#include "timeline.h"

struct fx {
	struct table t;
	char *text;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->text = fixture_read("timeline");
	if (table_parse(fx->text, &fx->t))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	table_free(&fx->t);
	free(fx->text);
	free(fx);
	return 0;
}

static const struct tl_event *nth(const struct tl *tl, const char *event, char dir, int n)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		if (!strcmp(tl->ev[i].event, event) && tl->ev[i].dir == dir && !n--)
			return &tl->ev[i];
	fail_msg("no %s %c #%d", event, dir, n);
	return NULL;
}

static void test_rto_doubling(void **state)
{
	struct fx *fx = *state;
	const struct tl_event *e;
	struct tl tl;
	int i;

	assert_int_equal(tl_build(&fx->t, 1, &tl), 0);
	assert_int_equal(tl.n, 10);		/* conn 1 only */
	assert_int_equal(tl.ev[0].rel_ns, 0);
	assert_string_equal(tl.ev[0].event, "syn");
	/* the first retransmission has nothing to measure from */
	e = nth(&tl, "retrans", 'o', 0);
	assert_false(e->has_gap);
	assert_int_equal(e->rel_ns, 700000000);
	assert_true(e->dropped);
	for (i = 1; i <= 4; i++) {
		e = nth(&tl, "retrans", 'o', i);
		assert_true(e->has_gap);
		assert_int_equal(e->gap_ns, 200000000ULL << i);
		if (i == 1)
			assert_true(e->ratio == 0);
		else
			assert_true(e->ratio > 1.99 && e->ratio < 2.01);
	}
	/* the other direction's retransmission is a lane of its own */
	e = nth(&tl, "retrans", 'r', 0);
	assert_false(e->has_gap);
	assert_false(e->dropped);
	tl_free(&tl);
}

static void test_keepalive_interval(void **state)
{
	struct fx *fx = *state;
	const struct tl_event *e;
	struct tl tl;
	int i;

	assert_int_equal(tl_build(&fx->t, 3, &tl), 0);
	assert_int_equal(tl.n, 6);
	assert_false(nth(&tl, "keepalive", 'o', 0)->has_gap);
	for (i = 1; i <= 3; i++) {
		e = nth(&tl, "keepalive", 'o', i);
		assert_int_equal(e->gap_ns, 1000000000);
	}
	/* an ACK is not a probe: no gap */
	assert_false(nth(&tl, "keepalive-ack", 'r', 0)->has_gap);
	tl_free(&tl);
}

static void test_syn_retry_gap(void **state)
{
	struct fx *fx = *state;
	struct tl tl;

	assert_int_equal(tl_build(&fx->t, 2, &tl), 0);
	assert_int_equal(tl.n, 3);
	assert_true(nth(&tl, "syn-retry", 'o', 0)->has_gap);
	assert_int_equal(nth(&tl, "syn-retry", 'o', 0)->gap_ns, 500000000);
	assert_false(nth(&tl, "rst-injected", 'r', 0)->has_gap);
	tl_free(&tl);
}

static void test_out_of_order_and_unknown(void **state)
{
	struct table t;
	struct tl tl;

	(void)state;
	assert_int_equal(table_parse("conn ts_ns dir event seq len flags info extra\n"
				     "5 3000 o retrans 1 1 dropped,future - x\n"
				     "5 1000 o retrans 1 1 - - x\n"
				     "5 2000 o brand-new-event 1 1 - - x\n"
				     "6 1500 o retrans 1 1 - - x\n", &t), 0);
	assert_int_equal(tl_build(&t, 5, &tl), 0);
	assert_int_equal(tl.n, 3);
	assert_int_equal(tl.ev[0].ts_ns, 1000);
	assert_string_equal(tl.ev[1].event, "brand-new-event");
	assert_int_equal(tl.ev[2].gap_ns, 2000);
	assert_true(tl.ev[2].dropped);
	assert_false(tl.ev[0].dropped);
	tl_free(&tl);
	assert_int_equal(tl_build(&t, 99, &tl), 0);
	assert_int_equal(tl.n, 0);
	tl_free(&tl);
	table_free(&t);

	assert_int_equal(table_parse("conn when dir event\n", &t), 0);
	assert_int_equal(tl_build(&t, 1, &tl), -EINVAL);
	tl_free(&tl);
	table_free(&t);
}

/* A capture from a guest: real RTO backoff, keepalive probes, a reset fault. */
static void test_real_capture(void **state)
{
	char *text = fixture_read("timeline.guest");
	const struct tl_event *e;
	struct table t;
	struct tl tl;
	int i;

	(void)state;
	assert_int_equal(table_parse(text, &t), 0);
	assert_int_equal(tl_build(&t, 1, &tl), 0);
	assert_false(nth(&tl, "retrans", 'o', 0)->has_gap);
	for (i = 2; i <= 3; i++) {
		e = nth(&tl, "retrans", 'o', i);
		assert_true(e->ratio > 1.8 && e->ratio < 2.2);
	}
	assert_int_equal(nth(&tl, "retrans", 'o', 3)->gap_ns, 28736721000ULL - 26849131310ULL);
	tl_free(&tl);

	assert_int_equal(tl_build(&t, 2, &tl), 0);
	for (i = 1; i <= 2; i++) {
		e = nth(&tl, "keepalive", 'o', i);
		assert_true(e->gap_ns > 1000000000 && e->gap_ns < 1050000000);
	}
	assert_true(nth(&tl, "rst", 'o', 0)->dropped);
	tl_free(&tl);

	assert_int_equal(tl_build(&t, 3, &tl), 0);
	assert_int_equal(tl.n, 8);
	assert_false(nth(&tl, "rst-injected", 'r', 0)->has_gap);
	tl_free(&tl);
	table_free(&t);
	free(text);
}

static struct tree *make_tree(void)
{
	static struct tree t;

	tree_make(&t);
	tree_fixture(&t, "proc/faults", "faults");
	tree_fixture(&t, "proc/conns", "conns");
	tree_fixture(&t, "proc/timeline", "timeline");
	return &t;
}

static void test_text(void **state)
{
	struct tree *t = make_tree();
	struct run r;

	(void)state;
	run_ctl(t, &r, false, "timeline", "1", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_string_equal(r.out,
		"connection 1: 10.0.1.1:43210 -> 10.0.1.2:5001 (ESTABLISHED), 10 events\n"
		"o: sent by 10.0.1.1:43210; r: sent by 10.0.1.2:5001; time from the first event\n"
		"\n"
		"  time  dir  event        seq   len  dropped  gap           info\n"
		"0.000s  o    syn          100     0\n"
		"0.000s  r    syn          500     0\n"
		"0.000s  o    state                                          ESTABLISHED\n"
		"0.500s  o    fault-start                                    fault=1 (cut)\n"
		"0.700s  o    retrans      101  1448  dropped\n"
		"1.100s  o    retrans      101  1448  dropped  +0.400s\n"
		"1.150s  r    retrans      501   100\n"
		"1.900s  o    retrans      101  1448  dropped  +0.800s x2.0\n"
		"3.500s  o    retrans      101  1448  dropped  +1.600s x2.0\n"
		"6.700s  o    retrans      101  1448  dropped  +3.200s x2.0\n");
	run_free(&r);
	tree_remove(t);
}

static void test_conn_by_endpoint(void **state)
{
	struct tree *t = make_tree();
	struct run r;

	(void)state;
	run_ctl(t, &r, false, "timeline", "10.0.1.1:43212", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "connection 3: ");
	run_free(&r);

	/* IPv6 in brackets, in any spelling */
	run_ctl(t, &r, false, "timeline", "[fd00:1:0:0::2]:5001", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "connection 2: [fd00:1::1]:50000 -> [fd00:1::2]:5001 (CLOSED)");
	run_free(&r);

	/* the server's end of two connections: ask which */
	run_ctl(t, &r, false, "timeline", "10.0.1.2:5001", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "10.0.1.2:5001 is an end of 2 connections");
	assert_contains(r.err, "  1  10.0.1.1:43210 -> 10.0.1.2:5001  ESTABLISHED\n");
	assert_contains(r.err, "  3  10.0.1.1:43212 -> 10.0.1.2:5001  ESTABLISHED\n");
	assert_string_equal(r.out, "");
	run_free(&r);

	run_ctl(t, &r, false, "timeline", "10.0.1.2:6000", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "no tracked connection has an end at 10.0.1.2:6000");
	run_free(&r);

	run_ctl(t, &r, false, "timeline", "42", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "no connection with id 42");
	run_free(&r);

	run_ctl(t, &r, false, "timeline", "fd00:1::2:5001", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "[ADDR]:PORT");
	run_free(&r);

	run_ctl(t, &r, false, "timeline", "10.0.1.2:99999", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	tree_remove(t);
}

static void test_json(void **state)
{
	struct tree *t = make_tree();
	struct json_object *doc, *evs, *e, *v;
	struct run r;
	size_t i, gaps = 0;

	(void)state;
	run_ctl(t, &r, false, "-j", "timeline", "1", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = json_tokener_parse(r.out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "conn", &v));
	assert_true(json_object_object_get_ex(v, "o_retrans", &v));
	assert_int_equal(json_object_get_int64(v), 5);
	assert_true(json_object_object_get_ex(doc, "events", &evs));
	assert_int_equal(json_object_array_length(evs), 10);
	for (i = 0; i < json_object_array_length(evs); i++) {
		e = json_object_array_get_idx(evs, i);
		assert_true(json_object_object_get_ex(e, "rel_ns", &v));
		assert_true(json_object_object_get_ex(e, "dropped", &v));
		assert_true(json_object_is_type(v, json_type_boolean));
		if (json_object_object_get_ex(e, "gap_ns", &v))
			gaps++;
	}
	assert_int_equal(gaps, 4);
	e = json_object_array_get_idx(evs, 3);
	assert_true(json_object_object_get_ex(e, "fault_name", &v));
	assert_string_equal(json_object_get_string(v), "cut");
	assert_true(json_object_object_get_ex(e, "info", &v));
	assert_string_equal(json_object_get_string(v), "fault=1");
	e = json_object_array_get_idx(evs, 9);
	assert_true(json_object_object_get_ex(e, "gap_ns", &v));
	assert_int_equal(json_object_get_int64(v), 3200000000LL);
	json_object_put(doc);
	run_free(&r);
	tree_remove(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rto_doubling),
		cmocka_unit_test(test_keepalive_interval),
		cmocka_unit_test(test_syn_retry_gap),
		cmocka_unit_test(test_out_of_order_and_unknown),
		cmocka_unit_test(test_real_capture),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_conn_by_endpoint),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("timeline", tests, setup, teardown);
}
