// SPDX-License-Identifier: GPL-2.0
/*
 * Read commands against fixture tables: text layout and JSON (checked by
 * parsing it back with json-c), filters, sorting, columns the module may
 * add later, and watch frames.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "helpers.h"

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	tree_make(t);
	tree_fixture(t, "proc/faults", "faults");
	tree_fixture(t, "proc/conns", "conns");
	tree_fixture(t, "proc/timeline", "timeline");
	tree_file(t, "sys/faults_count", "5\n", 0444);
	tree_file(t, "sys/hooks", "1\n", 0444);
	tree_file(t, "sys/version", "0.1.0\n", 0444);
	tree_file(t, "sys/conn_memory_bytes", "123456\n", 0444);
	tree_file(t, "sys/last_error", "412 add: sport: bad port '70000'\n", 0444);
	tree_file(t, "sys/add", "", 0200);
	tree_file(t, "sys/flush", "", 0200);
	tree_file(t, "sys/faults/cut/id", "1\n", 0444);
	tree_file(t, "sys/faults/cut/spec", "cut mode=link-down src=any sport=any dst=10.0.1.2/32 dport=5001\n", 0444);
	tree_file(t, "sys/faults/cut/state", "active\n", 0444);
	tree_file(t, "sys/faults/cut/time_left_ms", "-1\n", 0444);
	tree_file(t, "sys/faults/cut/enabled", "1\n", 0644);
	tree_file(t, "sys/faults/cut/zzz_future", "7\n", 0444);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	tree_remove(*state);
	free(*state);
	return 0;
}

static struct json_object *parse_json(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	if (!o)
		fail_msg("not JSON: %s", text);
	return o;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

static void test_list_text(void **state)
{
	struct run r;

	run_ctl(*state, &r, false, "list", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out,
		"id  name   mode       state    time_left  matched  dropped  rst_sent  aborted  selector and options\n"
		" 1  cut    link-down  active   25.0s          120      118         0        0  dst=10.0.1.2/32 dport=5001 duration=30s\n"
		" 4  flaky  loss       pending  3.000s           0        0         0        0  src=10.0.1.0/24 dport=80-90 prob=12.5% delay=5s\n"
		" 7  box    power-off  dark     -               42       40         2        1  host=fd00:2::1/128\n");
	/* other namespaces' faults are neither listed nor counted */
	assert_null(strstr(r.out, "other network namespaces"));
	run_free(&r);
}

static void test_list_json(void **state)
{
	struct json_object *doc, *row;
	struct run r;

	run_ctl(*state, &r, false, "--json", "list", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	assert_true(json_object_is_type(doc, json_type_array));
	assert_int_equal(json_object_array_length(doc), 3);
	row = json_object_array_get_idx(doc, 2);
	assert_string_equal(json_object_get_string(get(row, "name")), "box");
	assert_true(json_object_is_type(get(row, "id"), json_type_int));
	assert_int_equal(json_object_get_int64(get(row, "time_left_ms")), -1);
	assert_int_equal(json_object_get_int64(get(row, "aborted")), 1);
	assert_string_equal(json_object_get_string(get(row, "spec")),
			    "box mode=power-off host=fd00:2::1/128");
	json_object_put(doc);
	/* JSON output has no notes mixed in */
	assert_not_contains(r.out, "other network namespaces");
	run_free(&r);
}

static void test_list_new_columns(void **state)
{
	struct json_object *doc, *row;
	struct run r;

	tree_fixture(*state, "proc/faults", "faults.future");
	run_ctl(*state, &r, false, "-j", "list", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	row = json_object_array_get_idx(doc, 0);
	assert_int_equal(json_object_get_int64(get(row, "netns")), 4026531840LL);
	assert_int_equal(json_object_get_int64(get(row, "id")), 1);
	assert_string_equal(json_object_get_string(get(row, "name")), "cut");
	json_object_put(doc);
	run_free(&r);
	run_ctl(*state, &r, false, "list", NULL);
	assert_contains(r.out, " 1  cut   link-down  active  -");
	run_free(&r);
	tree_fixture(*state, "proc/faults", "faults");
}

/* Tables captured from a guest. */
static void test_real_capture(void **state)
{
	struct json_object *doc;
	struct run r;

	tree_fixture(*state, "proc/faults", "faults.guest");
	tree_fixture(*state, "proc/conns", "conns.guest");
	run_ctl(*state, &r, false, "list", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, " 4  cut   link-down  active  -               10       15         0        0  src=10.0.1.1/32 sport=38500 dport=5001\n");
	run_free(&r);
	run_ctl(*state, &r, false, "conns", "state", "closed", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "2  CLOSED  10.0.1.1:49660 -> 10.0.1.2:5002  up 4.089s");
	assert_contains(r.out, "   o: segs 6 bytes 0 keepalive 3 rst 1 dropped 4\n");
	run_free(&r);
	run_ctl(*state, &r, false, "-j", "conns", "sort", "o_dropped", "-r", NULL);
	doc = parse_json(r.out);
	assert_int_equal(json_object_array_length(doc), 3);
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(doc, 0), "o_dropped")), 15);
	json_object_put(doc);
	run_free(&r);
	tree_fixture(*state, "proc/faults", "faults");
	tree_fixture(*state, "proc/conns", "conns");
}

static void test_list_empty(void **state)
{
	struct run r;

	tree_file(*state, "proc/faults", "id name mode state time_left_ms matched dropped rst_sent aborted spec\n", 0444);
	tree_file(*state, "sys/faults_count", "0\n", 0444);
	run_ctl(*state, &r, false, "list", NULL);
	assert_string_equal(r.out, "no faults in this network namespace\n");
	run_free(&r);
	run_ctl(*state, &r, false, "-j", "list", NULL);
	assert_string_equal(r.out, "[]\n");
	run_free(&r);
	tree_fixture(*state, "proc/faults", "faults");
	tree_file(*state, "sys/faults_count", "5\n", 0444);
}

static void test_show(void **state)
{
	struct json_object *doc;
	struct run r;

	run_ctl(*state, &r, false, "show", "cut", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_string_equal(r.out,
		"name          cut\n"
		"id            1\n"
		"spec          cut mode=link-down src=any sport=any dst=10.0.1.2/32 dport=5001\n"
		"state         active\n"
		"enabled       1\n"
		"time_left_ms  -1\n"
		"zzz_future    7\n");
	run_free(&r);

	run_ctl(*state, &r, false, "show", "-j", "cut", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	assert_int_equal(json_object_get_int64(get(doc, "time_left_ms")), -1);
	assert_int_equal(json_object_get_int64(get(doc, "zzz_future")), 7);
	assert_string_equal(json_object_get_string(get(doc, "state")), "active");
	json_object_put(doc);
	run_free(&r);

	run_ctl(*state, &r, false, "show", "nope", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "no fault named 'nope'");
	run_free(&r);
}

static void test_stats(void **state)
{
	struct json_object *doc, *v;
	struct run r;

	run_ctl(*state, &r, false, "stats", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_string_equal(r.out,
		"version            0.1.0\n"
		"faults_count       5\n"
		"hooks              1\n"
		"conn_memory_bytes  123456 (120.6 KiB)\n"
		"last_error         412 add: sport: bad port '70000'\n");
	run_free(&r);

	run_ctl(*state, &r, false, "stats", "--json", NULL);
	doc = parse_json(r.out);
	assert_int_equal(json_object_get_int64(get(doc, "conn_memory_bytes")), 123456);
	assert_string_equal(json_object_get_string(get(doc, "version")), "0.1.0");
	/* write-only files are commands, not figures */
	assert_false(json_object_object_get_ex(doc, "add", &v));
	assert_false(json_object_object_get_ex(doc, "faults", &v));
	json_object_put(doc);
	run_free(&r);
}

static void test_conns_text(void **state)
{
	struct run r;

	run_ctl(*state, &r, false, "conns", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	/* sorted by id although the table is in hash order; ages from now = 20 s */
	assert_string_equal(r.out,
		"(o: sent by the originator, on the left; r: sent by the responder)\n"
		"1  ESTABLISHED  10.0.1.1:43210 -> 10.0.1.2:5001  up 6.700s  idle 12.3s\n"
		"   o: segs 12 bytes 77000 new_bytes 70000 retrans 5 dropped 5\n"
		"      kernel: total_retrans 5 retransmits 5 backoff 5 rto_ms 6400\n"
		"   r: segs 6 bytes 0\n"
		"      kernel: rto_ms 200\n"
		"2  CLOSED  [fd00:1::1]:50000 -> [fd00:1::2]:5001  up 1.000s  idle 17.0s\n"
		"   o: segs 4 bytes 100 new_bytes 100 rst 1\n"
		"   r: segs 3 bytes 0\n"
		"3  ESTABLISHED  10.0.1.1:43212 -> 10.0.1.2:5001  up 17.5s  idle 1.000s\n"
		"   o: segs 9 bytes 10 new_bytes 10 keepalive 3 keepalive_ack 2 dropped 1\n"
		"      kernel: rto_ms 204 probes_out 1\n"
		"   r: segs 5 bytes 0\n");
	run_free(&r);
}

/* The ids of a conns -j run, in order, as "1,3". */
static void conns_ids(const struct tree *t, char *buf, size_t len, ...)
{
	struct json_object *doc;
	char *argv[12];
	size_t i, n = 0;
	struct run r;
	va_list ap;
	int argc = 0;

	va_start(ap, len);
	while (argc < 10 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	run_ctl(t, &r, false, "-j", "conns", argc > 0 ? argv[0] : NULL,
		argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL,
		argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL,
		argc > 5 ? argv[5] : NULL, NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(doc); i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%" PRId64, i ? "," : "",
				      json_object_get_int64(get(json_object_array_get_idx(doc, i), "id")));
	json_object_put(doc);
	run_free(&r);
}

static void test_conns_filters_and_sort(void **state)
{
	char ids[64];

	conns_ids(*state, ids, sizeof(ids), NULL);
	assert_string_equal(ids, "1,2,3");
	conns_ids(*state, ids, sizeof(ids), "src", "10.0.1.0/24", NULL);
	assert_string_equal(ids, "1,3");
	conns_ids(*state, ids, sizeof(ids), "dst=fd00:1::/64", NULL);
	assert_string_equal(ids, "2");
	conns_ids(*state, ids, sizeof(ids), "src", "10.0.1.1", "port", "43212", NULL);
	assert_string_equal(ids, "3");
	conns_ids(*state, ids, sizeof(ids), "port", "5001", "state", "established", NULL);
	assert_string_equal(ids, "1,3");
	conns_ids(*state, ids, sizeof(ids), "state", "CLOSED", NULL);
	assert_string_equal(ids, "2");
	conns_ids(*state, ids, sizeof(ids), "sort", "o_retrans", "-r", NULL);
	assert_string_equal(ids, "1,2,3");
	conns_ids(*state, ids, sizeof(ids), "sort", "o_keepalive", "-r", NULL);
	assert_string_equal(ids, "3,1,2");
	conns_ids(*state, ids, sizeof(ids), "sort", "last_ns", NULL);
	assert_string_equal(ids, "2,1,3");
	conns_ids(*state, ids, sizeof(ids), "sort", "saddr", "-r", NULL);
	assert_string_equal(ids, "2,1,3");
	/* "-" (no local socket) sorts before every number */
	conns_ids(*state, ids, sizeof(ids), "sort", "ko_rto_ms", NULL);
	assert_string_equal(ids, "2,3,1");
	conns_ids(*state, ids, sizeof(ids), "port", "1", NULL);
	assert_string_equal(ids, "");
}

static void test_conns_json_types(void **state)
{
	struct json_object *doc, *row;
	struct run r;

	run_ctl(*state, &r, false, "-j", "conns", "port", "50000", NULL);
	doc = parse_json(r.out);
	assert_int_equal(json_object_array_length(doc), 1);
	row = json_object_array_get_idx(doc, 0);
	assert_string_equal(json_object_get_string(get(row, "af")), "ipv6");
	assert_int_equal(json_object_get_int64(get(row, "sport")), 50000);
	assert_int_equal(json_object_get_int64(get(row, "o_rst")), 1);
	assert_true(json_object_is_type(get(row, "ko_rto_ms"), json_type_null));
	assert_int_equal(json_object_object_length(row), 41);
	json_object_put(doc);
	run_free(&r);
}

static void test_conns_new_columns(void **state)
{
	struct json_object *doc;
	struct run r;

	tree_fixture(*state, "proc/conns", "conns.future");
	run_ctl(*state, &r, false, "-j", "conns", "sort", "mss", "-r", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(doc, 0), "mss")), 1448);
	assert_true(json_object_is_type(get(json_object_array_get_idx(doc, 1), "mss"), json_type_null));
	json_object_put(doc);
	run_free(&r);
	run_ctl(*state, &r, false, "conns", "port", "43212", NULL);
	assert_contains(r.out, "idle 1.000s  mss 1448\n");
	run_free(&r);
	tree_fixture(*state, "proc/conns", "conns");
}

static void test_watch_frames(void **state)
{
	struct json_object *doc;
	struct run r;
	char *nl;

	run_ctl(*state, &r, false, "watch", "-c", "2", "-i", "0.01", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "frame 1/2");
	assert_contains(r.out, "frame 2/2");
	assert_contains(r.out, "faults: 3\n");
	assert_contains(r.out, "connections: 3\n");
	assert_not_contains(r.out, "\033[");	/* not a terminal: no escapes */
	assert_not_contains(r.out, "frame 3");
	run_free(&r);

	run_ctl(*state, &r, true, "watch", "-c1", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_true(!strncmp(r.out, "\033[H\033[2J", 7));
	run_free(&r);

	/* -j: one JSON document per line and frame */
	run_ctl(*state, &r, false, "-j", "watch", "--count=2", "--interval=0.01", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	nl = strchr(r.out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	doc = parse_json(r.out);
	assert_int_equal(json_object_get_int64(get(doc, "frame")), 1);
	assert_int_equal(json_object_array_length(get(doc, "faults")), 3);
	assert_int_equal(json_object_array_length(get(doc, "conns")), 3);
	json_object_put(doc);
	doc = parse_json(nl + 1);
	assert_int_equal(json_object_get_int64(get(doc, "frame")), 2);
	json_object_put(doc);
	run_free(&r);
}

/* watch takes the conns filters and sort, among its own options */
static void test_watch_filters(void **state)
{
	struct json_object *doc, *c;
	struct run r;

	run_ctl(*state, &r, false, "watch", "state", "established", "-c", "1", "sort",
		"o_retrans", "-r", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "faults: 3\n");	/* faults are not filtered */
	assert_contains(r.out, "connections: 2 of 3\n");
	assert_true(strstr(r.out, "1  ESTABLISHED") < strstr(r.out, "3  ESTABLISHED"));
	assert_not_contains(r.out, "CLOSED");
	run_free(&r);

	run_ctl(*state, &r, false, "-j", "watch", "-c1", "src", "fd00:1::/64", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse_json(r.out);
	c = get(doc, "conns");
	assert_int_equal(json_object_array_length(c), 1);
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(c, 0), "id")), 2);
	assert_int_equal(json_object_array_length(get(doc, "faults")), 3);
	json_object_put(doc);
	run_free(&r);

	/* bad filter words are refused before the first frame */
	run_ctl(*state, &r, false, "watch", "-c", "1", "state", "bogus", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "watch: state: unknown state 'bogus'");
	assert_string_equal(r.out, "");
	run_free(&r);
	run_ctl(*state, &r, false, "watch", "-c", "1", "sort", "nope", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "watch: no column 'nope'");
	run_free(&r);
	run_ctl(*state, &r, false, "watch", "bogus", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "expected src, dst, port, state, sort, -r, -i or -c");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_text),
		cmocka_unit_test(test_list_json),
		cmocka_unit_test(test_list_new_columns),
		cmocka_unit_test(test_real_capture),
		cmocka_unit_test(test_list_empty),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_conns_text),
		cmocka_unit_test(test_conns_filters_and_sort),
		cmocka_unit_test(test_conns_json_types),
		cmocka_unit_test(test_conns_new_columns),
		cmocka_unit_test(test_watch_frames),
		cmocka_unit_test(test_watch_filters),
	};

	return cmocka_run_group_tests_name("output", tests, setup, teardown);
}
