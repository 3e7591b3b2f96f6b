// SPDX-License-Identifier: GPL-2.0
/*
 * Command lines: "add" words to the grammar, carets under bad words, the
 * global options, command lookup, and the exit codes of each mistake.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addspec.h"
#include "files.h"
#include "helpers.h"

static int build(struct addspec *as, struct adderr *ae, ...)
{
	char *argv[32];
	int argc = 0, ret;
	va_list ap;

	argv[argc++] = (char *)"add";
	va_start(ap, ae);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(as, 0, sizeof(*as));
	memset(ae, 0, sizeof(*ae));
	ret = addspec_build(argc, argv, 1, as, ae);
	if (!ret) {
		struct tcpfault_spec spec;

		ret = addspec_check(as, &spec, ae);
	}
	return ret;
}

static void test_add_words_to_grammar(void **state)
{
	struct addspec as;
	struct adderr ae;

	(void)state;
	assert_int_equal(build(&as, &ae, "web", "link-down", "src", "10.0.0.1", "dport", "80",
			       "duration", "30s", NULL), 0);
	assert_string_equal(as.line, "web mode=link-down src=10.0.0.1 dport=80 duration=30s");
	addspec_free(&as);

	/* KEY=VALUE words and "disabled" */
	assert_int_equal(build(&as, &ae, "w", "loss", "prob=12.5%", "dst", "fd00::/64",
			       "disabled", NULL), 0);
	assert_string_equal(as.line, "w mode=loss prob=12.5% dst=fd00::/64 enabled=0");
	addspec_free(&as);

	/* the mode may also be spelt as a key */
	assert_int_equal(build(&as, &ae, "p", "mode=power-off", "host", "10.0.0.2", NULL), 0);
	assert_string_equal(as.line, "p mode=power-off host=10.0.0.2");
	addspec_free(&as);
	assert_int_equal(build(&as, &ae, "p", "host", "10.0.0.2", "mode", "power-off", NULL), 0);
	addspec_free(&as);
}

/* The parser's offset lands on the word that caused it. */
static void test_add_error_spans(void **state)
{
	struct addspec as;
	struct adderr ae;

	(void)state;
	assert_int_equal(build(&as, &ae, "web", "link-down", "src", "10.0.0.300", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 4);
	assert_int_equal(ae.span.off, 0);
	assert_int_equal(ae.span.end_argi, 4);
	assert_int_equal(ae.span.end_off, 10);
	assert_non_null(strstr(ae.msg, "bad address '10.0.0.300'"));
	addspec_free(&as);

	/* inside a KEY=VALUE word: just the value */
	assert_int_equal(build(&as, &ae, "web", "watch", "sport=70000", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 3);
	assert_int_equal(ae.span.off, 6);
	assert_int_equal(ae.span.end_off, 11);
	addspec_free(&as);

	/* a bad MODE word: the whole word */
	assert_int_equal(build(&as, &ae, "web", "lnk-down", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 2);
	assert_int_equal(ae.span.end_argi, 2);
	assert_non_null(strstr(ae.msg, "unknown mode 'lnk-down'"));
	addspec_free(&as);

	/* a key given twice spans "dport 81" */
	assert_int_equal(build(&as, &ae, "w", "watch", "dport", "80", "dport", "81", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 5);
	assert_int_equal(ae.span.end_argi, 6);
	addspec_free(&as);

	/* something missing: after the last word */
	assert_int_equal(build(&as, &ae, "w", "loss", NULL), -EINVAL);
	assert_true(ae.span.at_end);
	assert_non_null(strstr(ae.msg, "loss needs prob"));
	addspec_free(&as);

	/* a cross-key rule points at the key that may not be there */
	assert_int_equal(build(&as, &ae, "w", "power-off", "host", "10.0.0.1", "dport", "1", NULL),
			 -EINVAL);
	assert_int_equal(ae.span.argi, 5);
	addspec_free(&as);

	/* the name is checked on its own */
	assert_int_equal(build(&as, &ae, "-x", "watch", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 1);
	addspec_free(&as);

	/* words tcpfaultctl does not know */
	assert_int_equal(build(&as, &ae, "w", "watch", "bogus", NULL), -EINVAL);
	assert_int_equal(ae.span.argi, 3);
	addspec_free(&as);
	assert_int_equal(build(&as, &ae, "w", "watch", "src", NULL), -EINVAL);
	assert_true(ae.span.at_end);
	addspec_free(&as);
	assert_int_equal(build(&as, &ae, "w", NULL), -EINVAL);
	assert_true(ae.span.at_end);
	assert_non_null(strstr(ae.msg, "missing MODE"));
	addspec_free(&as);
	assert_int_equal(build(&as, &ae, "w", "src", "1.2.3.4", NULL), -EINVAL);
	assert_non_null(strstr(ae.msg, "not a MODE"));
	addspec_free(&as);
}

/* What the user sees: the command line and carets under the word. */
static void test_add_caret_output(void **state)
{
	struct run r;

	(void)state;
	run_ctl(NULL, &r, false, "add", "web", "link-down", "src", "10.0.0.300", "dport", "80", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_string_equal(r.err,
		"tcpfaultctl: src: bad address '10.0.0.300' (expected any, IPv4 or IPv6, optionally /prefix)\n"
		"    tcpfaultctl add web link-down src 10.0.0.300 dport 80\n"
		"                                      ^^^^^^^^^^\n");
	assert_string_equal(r.out, "");
	run_free(&r);

	run_ctl(NULL, &r, false, "add", "web", "link-down", "dport=1-x", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_string_equal(r.err,
		"tcpfaultctl: dport: bad port '1-x' (expected any, 0-65535 or LO-HI)\n"
		"    tcpfaultctl add web link-down dport=1-x\n"
		"                                        ^^^\n");
	run_free(&r);

	/* a word with a blank is shown quoted, the caret still under it */
	run_ctl(NULL, &r, false, "add", "a b", "watch", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "    tcpfaultctl add 'a b' watch\n"
			       "                       ^\n");
	run_free(&r);

	run_ctl(NULL, &r, false, "add", "w", "loss", NULL);
	assert_contains(r.err, "    tcpfaultctl add w loss\n"
			       "                           ^\n");
	run_free(&r);
}

static void test_add_too_long(void **state)
{
	char big[700];
	struct run r;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "src=", 4);
	run_ctl(NULL, &r, false, "add", "w", "watch", big, NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "longer than 511 bytes");
	assert_not_contains(r.err, "^");
	run_free(&r);
}

/* A parse error needs no module; a good line without the module is exit 3. */
static void test_add_without_module(void **state)
{
	struct run r;

	(void)state;
	run_ctl(NULL, &r, false, "add", "w", "watch", "dport", "80", NULL);
	assert_int_equal(r.rc, EXIT_NOMODULE);
	assert_contains(r.err, "module is not loaded");
	assert_contains(r.err, "modprobe tcpfault");
	run_free(&r);
}

static void test_add_writes_the_line(void **state)
{
	struct tree t;
	struct run r;
	char *got;

	(void)state;
	tree_make(&t);
	tree_file(&t, "sys/add", "", 0200);
	run_ctl(&t, &r, false, "add", "cut", "link-down", "dst", "10.0.1.2", "dport", "5001",
		"duration", "30s", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_string_equal(r.err, "");
	got = tree_read(&t, "sys/add");
	assert_string_equal(got, "cut mode=link-down dst=10.0.1.2 dport=5001 duration=30s");
	free(got);
	run_free(&r);
	tree_remove(&t);
}

static void test_name_commands(void **state)
{
	struct tree t;
	struct run r;
	char *got;

	(void)state;
	tree_make(&t);
	tree_file(&t, "sys/del", "", 0200);
	tree_file(&t, "sys/flush", "", 0200);
	tree_file(&t, "sys/faults_count", "3\n", 0444);
	tree_file(&t, "sys/faults/cut/enabled", "", 0644);	/* sysfs has no O_TRUNC */

	run_ctl(&t, &r, false, "disable", "cut", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	got = tree_read(&t, "sys/faults/cut/enabled");
	assert_string_equal(got, "0");
	free(got);
	run_free(&r);

	run_ctl(&t, &r, false, "en", "cut", NULL);	/* a prefix of "enable" */
	assert_int_equal(r.rc, EXIT_OK);
	got = tree_read(&t, "sys/faults/cut/enabled");
	assert_string_equal(got, "1");
	free(got);
	run_free(&r);

	run_ctl(&t, &r, false, "enable", "nosuch", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "no fault named 'nosuch'");
	run_free(&r);

	run_ctl(&t, &r, false, "delete", "cut", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	got = tree_read(&t, "sys/del");
	assert_string_equal(got, "cut");
	free(got);
	run_free(&r);

	run_ctl(&t, &r, false, "delete", "cut", "extra", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "^^^^^");
	run_free(&r);

	run_ctl(&t, &r, false, "show", "bad/name", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "    tcpfaultctl show bad/name\n                     ^^^^^^^^\n");
	run_free(&r);

	run_ctl(&t, &r, false, "flush", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "every fault in this network namespace");
	assert_contains(r.out, "3 before");
	got = tree_read(&t, "sys/flush");
	assert_string_equal(got, "1");
	free(got);
	run_free(&r);
	tree_remove(&t);
}

/* The kernel's reason from last_error, only when it is this process's. */
static void test_kernel_rejection(void **state)
{
	char text[128], path[400];
	struct ctl ctl;
	struct tree t;
	FILE *err;
	char *msg;
	size_t len;

	(void)state;
	tree_make(&t);
	snprintf(text, sizeof(text), "%d add: a fault named 'web' exists\n", (int)getpid());
	tree_file(&t, "sys/last_error", text, 0444);
	snprintf(path, sizeof(path), "%s/add", t.sysfs);

	err = open_memstream(&msg, &len);
	ctl_init(&ctl, stdout, err);
	ctl.sysfs = t.sysfs;
	assert_int_equal(tf_explain_write(&ctl, path, EEXIST), EXIT_RUNTIME);
	fclose(err);
	assert_contains(msg, "tcpfault rejected the write to");
	assert_contains(msg, "add: a fault named 'web' exists");
	free(msg);

	/* someone else's reason is not ours to show */
	tree_file(&t, "sys/last_error", "1 add: something else\n", 0444);
	err = open_memstream(&msg, &len);
	ctl.err = err;
	assert_int_equal(tf_explain_write(&ctl, path, EEXIST), EXIT_RUNTIME);
	fclose(err);
	assert_not_contains(msg, "something else");
	assert_contains(msg, "a fault of that name exists");
	free(msg);

	/* permission: exit 4, the file and the capability named */
	err = open_memstream(&msg, &len);
	ctl.err = err;
	assert_int_equal(tf_explain_write(&ctl, path, EACCES), EXIT_PERM);
	fclose(err);
	assert_contains(msg, path);
	assert_contains(msg, "CAP_NET_ADMIN");
	free(msg);

	/* the module went away meanwhile */
	tree_remove(&t);
	err = open_memstream(&msg, &len);
	ctl.err = err;
	assert_int_equal(tf_explain_write(&ctl, path, ENOENT), EXIT_NOMODULE);
	fclose(err);
	assert_contains(msg, "modprobe tcpfault");
	free(msg);
}

static void test_global_options(void **state)
{
	struct run r;

	(void)state;
	run_ctl(NULL, &r, false, NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "Usage: tcpfaultctl");
	run_free(&r);

	run_ctl(NULL, &r, false, "--help", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "timeline CONN [--svg FILE]");
	run_free(&r);

	run_ctl(NULL, &r, false, "-V", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "tcpfaultctl ");
	assert_contains(r.out, "module not loaded");
	run_free(&r);

	run_ctl(NULL, &r, false, "-x", "list", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "unknown option '-x'");
	run_free(&r);

	run_ctl(NULL, &r, false, "-n", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);

	run_ctl(NULL, &r, false, "frobnicate", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "unknown command 'frobnicate'");
	run_free(&r);

	run_ctl(NULL, &r, false, "d", "x", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "ambiguous: disable delete");
	run_free(&r);

	/* every command has --help, and it needs no module */
	run_ctl(NULL, &r, false, "conns", "--help", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "Usage: tcpfaultctl [OPTIONS] conns");
	run_free(&r);
	run_ctl(NULL, &r, false, "help", "timeline", NULL);
	assert_int_equal(r.rc, EXIT_OK);
	assert_contains(r.out, "--svg FILE");
	run_free(&r);

	/* read commands report the missing module as exit 3 */
	run_ctl(NULL, &r, false, "-j", "list", NULL);
	assert_int_equal(r.rc, EXIT_NOMODULE);
	assert_contains(r.err, "modprobe tcpfault");
	assert_string_equal(r.out, "");
	run_free(&r);
	run_ctl(NULL, &r, false, "show", "x", NULL);
	assert_int_equal(r.rc, EXIT_NOMODULE);
	run_free(&r);
	run_ctl(NULL, &r, false, "stats", NULL);
	assert_int_equal(r.rc, EXIT_NOMODULE);
	run_free(&r);
}

static void test_netns_option(void **state)
{
	struct tree t;
	struct run r;

	(void)state;
	tree_make(&t);
	run_ctl(&t, &r, false, "-n", "nosuch", "list", NULL);
	assert_int_equal(r.rc, EXIT_RUNTIME);
	assert_contains(r.err, "no network namespace 'nosuch'");
	run_free(&r);

	/* not a namespace file: setns() refuses it */
	tree_file(&t, "notns", "", 0644);
	run_ctl(&t, &r, false, "--netns=notns", "list", NULL);
	assert_true(r.rc == EXIT_RUNTIME || r.rc == EXIT_PERM);
	assert_contains(r.err, "cannot enter network namespace");
	run_free(&r);
	tree_remove(&t);
}

static void test_command_options(void **state)
{
	struct tree t;
	struct run r;

	(void)state;
	tree_make(&t);
	tree_fixture(&t, "proc/conns", "conns");
	run_ctl(&t, &r, false, "conns", "port", "x", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "bad port 'x'");
	run_free(&r);
	run_ctl(&t, &r, false, "conns", "src", "10.0.0.1/8", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "bits set past the prefix length");
	run_free(&r);
	run_ctl(&t, &r, false, "conns", "sort", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "sort: missing value");
	run_free(&r);
	run_ctl(&t, &r, false, "conns", "sort", "o_nope", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_contains(r.err, "no column 'o_nope'; columns are: id af saddr");
	assert_contains(r.err, "    tcpfaultctl conns sort o_nope\n                           ^^^^^^\n");
	run_free(&r);
	run_ctl(&t, &r, false, "watch", "-c", "0", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	run_ctl(&t, &r, false, "watch", "-i", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	run_ctl(&t, &r, false, "timeline", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	run_ctl(&t, &r, false, "timeline", "1", "--svg", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	run_ctl(&t, &r, false, "list", "extra", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);
	tree_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_words_to_grammar),
		cmocka_unit_test(test_add_error_spans),
		cmocka_unit_test(test_add_caret_output),
		cmocka_unit_test(test_add_too_long),
		cmocka_unit_test(test_add_without_module),
		cmocka_unit_test(test_add_writes_the_line),
		cmocka_unit_test(test_name_commands),
		cmocka_unit_test(test_kernel_rejection),
		cmocka_unit_test(test_global_options),
		cmocka_unit_test(test_netns_option),
		cmocka_unit_test(test_command_options),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
