// SPDX-License-Identifier: GPL-2.0
/*
 *   watch [-i SECONDS] [-c COUNT] [src ADDR[/LEN]] [dst ADDR[/LEN]]
 *         [port PORT] [state STATE] [sort COLUMN] [-r]
 *
 * Faults and connections, refreshed every SECONDS, like top(1); the
 * connections filtered and sorted as by "conns". The screen
 * is cleared (with ANSI escapes) only when stdout is a terminal; otherwise
 * frames follow one another, separated by a blank line, and with -j each
 * frame is one line of JSON. -c COUNT stops after COUNT frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "conns.h"
#include "faults.h"
#include "files.h"
#include "json.h"

struct watch_args {
	double interval;
	unsigned long count;	/* 0: forever */
	struct conn_query q;
	int argc;
	char **argv;
};

/* -i and -c, among the connection filters (conns_opt_fn). */
static int watch_opt(struct ctl *ctl, int argc, char **argv, int *i, void *arg)
{
	struct watch_args *wa = arg;
	const char *val;
	int r;

	r = args_opt_value(argc, argv, i, "-i", "--interval", &val);
	if (r < 0)
		return args_end_error(ctl, argc, argv, "watch: -i needs SECONDS");
	if (r > 0) {
		if (!args_parse_seconds(val, &wa->interval))
			return args_word_error(ctl, argc, argv, *i,
					       "watch: bad interval '%s' (seconds, 0.01 to 86400)",
					       val);
		return EXIT_OK;
	}
	r = args_opt_value(argc, argv, i, "-c", "--count", &val);
	if (r < 0)
		return args_end_error(ctl, argc, argv, "watch: -c needs COUNT");
	if (r > 0) {
		if (!args_parse_count(val, &wa->count))
			return args_word_error(ctl, argc, argv, *i,
					       "watch: bad count '%s' (a positive integer)", val);
		return EXIT_OK;
	}
	return -1;
}

static int parse_args(struct ctl *ctl, int argc, char **argv, struct watch_args *wa)
{
	wa->interval = 1;
	wa->count = 0;
	wa->argc = argc;
	wa->argv = argv;
	return conns_parse_query(ctl, argc, argv, 1, &wa->q, watch_opt, wa);
}

static int frame_json(const struct ctl *ctl, unsigned long frame, const struct table *f,
		      const struct table *c, const size_t *frows, const size_t *crows,
		      size_t nc)
{
	struct json_object *doc = json_object_new_object(), *a;

	if (!doc || tf_json_add_u64(doc, "frame", frame) ||
	    tf_json_add_u64(doc, "time_ns", ctl_now_ns(ctl)) ||
	    tf_json_rows(f, frows, f->nrows, &a) || tf_json_add(doc, "faults", a) ||
	    tf_json_rows(c, crows, nc, &a) || tf_json_add(doc, "conns", a)) {
		json_object_put(doc);
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	return tf_json_print(ctl, doc);
}

static int frame_text(const struct ctl *ctl, unsigned long frame, const struct watch_args *wa,
		      const struct table *f, const struct table *c, const size_t *crows,
		      size_t nc)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int ret;

	if (ctl->tty)
		fputs("\033[H\033[2J", ctl->out);
	else if (frame > 1)
		fputc('\n', ctl->out);
	if (!localtime_r(&now, &tm) || !strftime(when, sizeof(when), "%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	fprintf(ctl->out, "tcpfault  %s  every %gs  frame %lu", when, wa->interval, frame);
	if (wa->count)
		fprintf(ctl->out, "/%lu", wa->count);
	fprintf(ctl->out, "%s%s\n\n", ctl->netns ? "  netns " : "", ctl->netns ? ctl->netns : "");
	fprintf(ctl->out, "faults: %zu\n", f->nrows);
	ret = faults_print_text(ctl, f);
	if (ret)
		return ret;
	if (nc == c->nrows)
		fprintf(ctl->out, "\nconnections: %zu\n", nc);
	else
		fprintf(ctl->out, "\nconnections: %zu of %zu\n", nc, c->nrows);
	return conns_print_text(ctl, c, crows, nc, wa->q.sort);
}

static int frame(const struct ctl *ctl, unsigned long n, const struct watch_args *wa)
{
	struct table f, c;
	size_t *frows = NULL, *crows = NULL, nc = 0, i;
	int ret;

	ret = tf_read_table(ctl, "faults", &f);
	if (ret)
		return ret;
	ret = tf_read_table(ctl, "conns", &c);
	if (ret) {
		table_free(&f);
		return ret;
	}
	ret = conns_select(ctl, &c, &wa->q, wa->argc, wa->argv, &crows, &nc);
	if (!ret) {
		frows = calloc(f.nrows ? f.nrows : 1, sizeof(*frows));
		for (i = 0; frows && i < f.nrows; i++)
			frows[i] = i;
		if (!frows) {
			ctl_error(ctl, "out of memory");
			ret = EXIT_RUNTIME;
		}
	}
	if (!ret)
		ret = ctl->json ? frame_json(ctl, n, &f, &c, frows, crows, nc) :
				  frame_text(ctl, n, wa, &f, &c, crows, nc);
	fflush(ctl->out);
	free(frows);
	free(crows);
	table_free(&c);
	table_free(&f);
	return ret;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - floor(s)) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cmd_watch(struct ctl *ctl, int argc, char **argv)
{
	struct watch_args wa;
	unsigned long n;
	int ret;

	ret = parse_args(ctl, argc, argv, &wa);
	if (ret)
		return ret;
	for (n = 1; !wa.count || n <= wa.count; n++) {
		if (n > 1)
			sleep_seconds(wa.interval);
		ret = frame(ctl, n, &wa);
		if (ret)
			return ret;
	}
	return EXIT_OK;
}
