// SPDX-License-Identifier: GPL-2.0
/*
 * The SVG timeline is well-formed XML (checked with libxml2), standalone,
 * and has one marker per event and a label per gap.
 */
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "helpers.h"
#include "timeline.h"

static char *render(const char *table_text, uint64_t conn, const struct tl_labels *lb)
{
	struct table t;
	struct tl tl;
	size_t len;
	char *svg;
	FILE *f;

	assert_int_equal(table_parse(table_text, &t), 0);
	assert_int_equal(tl_build(&t, conn, &tl), 0);
	f = open_memstream(&svg, &len);
	assert_non_null(f);
	assert_int_equal(tl_svg(f, &tl, lb), 0);
	fclose(f);
	tl_free(&tl);
	table_free(&t);
	return svg;
}

/* Parse strictly: no recovery, no network; fails the test if not well-formed. */
static xmlDocPtr parse(const char *svg)
{
	xmlDocPtr doc = xmlReadMemory(svg, (int)strlen(svg), "timeline.svg", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (!doc)
		fail_msg("SVG is not well-formed XML:\n%s", svg);
	return doc;
}

static int count(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res;
	int n;

	assert_non_null(ctx);
	assert_int_equal(xmlXPathRegisterNs(ctx, BAD_CAST "s",
					    BAD_CAST "http://www.w3.org/2000/svg"), 0);
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	assert_non_null(res);
	n = res->nodesetval ? res->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	return n;
}

static void test_rto_svg(void **state)
{
	char *text = fixture_read("timeline"), *faults = fixture_read("faults"), *svg;
	struct tl_labels lb = { "connection 1: 10.0.1.1:43210 -> 10.0.1.2:5001 (ESTABLISHED)",
				"10.0.1.1:43210", "10.0.1.2:5001", NULL };
	struct table ft;
	xmlDocPtr doc;
	xmlNodePtr root;

	(void)state;
	assert_int_equal(table_parse(faults, &ft), 0);
	lb.faults = &ft;
	svg = render(text, 1, &lb);
	assert_true(!strncmp(svg, "<?xml version=\"1.0\"", 19));
	doc = parse(svg);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "svg");
	assert_non_null(root->ns);
	assert_string_equal((const char *)root->ns->href, "http://www.w3.org/2000/svg");
	/* 10 events: 8 segment markers, 1 state, 1 fault line */
	assert_int_equal(count(doc, "//s:g[@class='event']"), 8);
	assert_int_equal(count(doc, "//s:g[@class='event']/s:title"), 8);
	assert_int_equal(count(doc, "//s:g[@class='state']"), 1);
	assert_int_equal(count(doc, "//s:g[@class='fault']"), 1);
	assert_int_equal(count(doc, "//s:g[@class='fault']/s:text[contains(., 'cut')]"), 1);
	/* dropped segments are hollow */
	assert_int_equal(count(doc, "//s:g[@class='event']/s:circle[@fill='#ffffff']"), 5);
	/* a label per gap, the doubling readable on the picture */
	assert_int_equal(count(doc, "//s:text[@class='gap']"), 4);
	assert_int_equal(count(doc, "//s:text[@class='gap'][. = '+0.800s x2.0']"), 1);
	assert_int_equal(count(doc, "//s:text[@class='gap'][. = '+3.200s x2.0']"), 1);
	/* an axis with ticks, and both lanes labelled */
	assert_true(count(doc, "//s:g[@class='axis']/s:text") >= 5);
	assert_int_equal(count(doc, "//s:g[@class='lanes']/s:text[. = '10.0.1.2:5001']"), 1);
	xmlFreeDoc(doc);
	free(svg);
	table_free(&ft);
	free(faults);
	free(text);
}

static void test_real_capture(void **state)
{
	char *text = fixture_read("timeline.guest"), *svg;
	struct tl_labels lb = { "connection 1", "10.0.1.1:38500", "10.0.1.2:5001", NULL };
	xmlDocPtr doc;

	(void)state;
	svg = render(text, 1, &lb);
	doc = parse(svg);
	assert_int_equal(count(doc, "//s:g[@class='event']"), 6);
	assert_int_equal(count(doc, "//s:g[@class='state']"), 3);
	assert_int_equal(count(doc, "//s:text[@class='gap']"), 3);
	assert_int_equal(count(doc, "//s:text[@class='gap'][. = '+1.888s x2.0']"), 1);
	/* close state changes: both labelled, on two rows */
	assert_int_equal(count(doc, "//s:g[@class='state']/s:text"), 3);
	xmlFreeDoc(doc);
	free(svg);
	free(text);
}

static void test_escaping_and_empty(void **state)
{
	struct tl_labels lb = { "a <b> & \"c\" 'd' \x01\xff", "<o>", "&r", NULL };
	xmlDocPtr doc;
	char *svg;

	(void)state;
	svg = render("conn ts_ns dir event seq len flags info\n", 1, &lb);
	doc = parse(svg);
	assert_int_equal(count(doc, "//s:g[@class='event']"), 0);
	assert_int_equal(count(doc, "/s:svg/s:title[contains(., 'a <b> & \"c\"')]"), 1);
	xmlFreeDoc(doc);
	free(svg);

	/* an info column with markup in it, on an event kind nobody knows yet */
	svg = render("conn ts_ns dir event seq len flags info\n"
		     "1 5 o state 1 0 - <CLOSED&>\n"
		     "1 9 ? new<kind> 1 0 - -\n", 1, &lb);
	doc = parse(svg);
	assert_int_equal(count(doc, "//s:g[@class='event']"), 1);
	assert_int_equal(count(doc, "//s:g[@class='state']/s:text[. = '<CLOSED&>']"), 1);
	xmlFreeDoc(doc);
	free(svg);
}

/* Many close events: labels that do not fit are left to the tooltips. */
static void test_crowded(void **state)
{
	struct tl_labels lb = { "crowded", "o", "r", NULL };
	char text[8192];
	size_t n = 0;
	xmlDocPtr doc;
	char *svg;
	int i, labels;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "conn ts_ns dir event seq len flags info\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1 %d o retrans 1 1 - -\n",
				      1000000 + i * 1000);
	svg = render(text, 1, &lb);
	doc = parse(svg);
	assert_int_equal(count(doc, "//s:g[@class='event']"), 100);
	labels = count(doc, "//s:text[@class='gap']");
	assert_true(labels > 0 && labels < 99);
	xmlFreeDoc(doc);
	free(svg);
}

static void test_svg_option(void **state)
{
	struct tree t;
	struct run r;
	char path[400], *svg;
	xmlDocPtr doc;

	(void)state;
	tree_make(&t);
	tree_fixture(&t, "proc/faults", "faults");
	tree_fixture(&t, "proc/conns", "conns");
	tree_fixture(&t, "proc/timeline", "timeline");
	snprintf(path, sizeof(path), "%s/out.svg", t.root);
	run_ctl(&t, &r, false, "timeline", "3", "--svg", path, NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "connection 3:");	/* the text too */
	run_free(&r);
	svg = tree_read(&t, "out.svg");
	doc = parse(svg);
	assert_int_equal(count(doc, "//s:g[@class='event']"), 6);
	assert_int_equal(count(doc, "//s:text[@class='gap'][. = '+1.000s x1.0']"), 2);
	xmlFreeDoc(doc);
	free(svg);

	/* "-": the SVG alone on stdout */
	run_ctl(&t, &r, false, "timeline", "2", "--svg=-", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	doc = parse(r.out);
	xmlFreeDoc(doc);
	run_free(&r);

	run_ctl(&t, &r, false, "timeline", "2", "--svg", "/nonexistent/dir/x.svg", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "cannot write /nonexistent/dir/x.svg");
	run_free(&r);
	tree_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rto_svg),
		cmocka_unit_test(test_real_capture),
		cmocka_unit_test(test_escaping_and_empty),
		cmocka_unit_test(test_crowded),
		cmocka_unit_test(test_svg_option),
	};
	int ret;

	xmlInitParser();
	ret = cmocka_run_group_tests_name("svg", tests, NULL, NULL);
	xmlCleanupParser();
	return ret;
}
