// SPDX-License-Identifier: GPL-2.0
/*
 *   timeline CONN [--svg FILE]
 *
 * CONN is a connection id or an ADDR:PORT of either end. The text shows
 *
 *       time  dir  event      seq  len  dropped      gap  info
 *     0.000s  o    syn       1000    0
 *     0.215s  o    retrans   1001 1448  dropped
 *     0.627s  o    retrans   1001 1448  dropped  +0.412s
 *     1.451s  o    retrans   1001 1448  dropped  +0.824s x2.0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "conns.h"
#include "files.h"
#include "json.h"
#include "lists.h"
#include "text.h"
#include "timeline.h"

/* The events TCP repeats on a timer; the first of each lane has no gap. */
bool tl_gap_kind(const char *event)
{
	return ctl_is_event(event, TCPFAULT_EV_RETRANS) ||
	       ctl_is_event(event, TCPFAULT_EV_KEEPALIVE) ||
	       ctl_is_event(event, TCPFAULT_EV_ZWP) ||
	       ctl_is_event(event, TCPFAULT_EV_SYN_RETRY);
}

/* A SYN retry's gap counts from the SYN it repeats. */
static bool same_kind(const char *a, const char *b)
{
	if (ctl_is_event(a, TCPFAULT_EV_SYN_RETRY))
		return ctl_is_event(b, TCPFAULT_EV_SYN) ||
		       ctl_is_event(b, TCPFAULT_EV_SYN_RETRY);
	return !strcmp(a, b);
}

static bool flag_set(const char *flags, const char *flag)
{
	size_t fl = strlen(flag);
	const char *p = flags;

	/* flags is "-" or a comma-separated list */
	while (p && *p) {
		size_t wl = strcspn(p, ",");

		if (wl == fl && !strncmp(p, flag, fl))
			return true;
		p += wl;
		if (*p == ',')
			p++;
	}
	return false;
}

static int ev_cmp(const void *pa, const void *pb)
{
	const struct tl_event *a = pa, *b = pb;

	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

static void compute_gaps(struct tl *tl)
{
	size_t i, j;

	for (i = 0; i < tl->n; i++) {
		struct tl_event *e = &tl->ev[i];

		e->rel_ns = e->ts_ns - tl->ev[0].ts_ns;
		if (!tl_gap_kind(e->event))
			continue;
		for (j = i; j-- > 0;) {
			const struct tl_event *p = &tl->ev[j];

			if (p->dir != e->dir || !same_kind(e->event, p->event))
				continue;
			e->has_gap = true;
			e->gap_ns = e->ts_ns - p->ts_ns;
			if (p->has_gap && p->gap_ns && !strcmp(p->event, e->event))
				e->ratio = (double)e->gap_ns / (double)p->gap_ns;
			break;
		}
	}
}

/**
 * tl_build() - collect one connection's events
 * @t: the timeline table
 * @conn: the connection id
 * @tl: the result; free with tl_free()
 *
 * Return: 0, -EINVAL if the table lacks a column it needs, or -ENOMEM.
 */
int tl_build(const struct table *t, uint64_t conn, struct tl *tl)
{
	int c_conn = table_col(t, "conn"), c_ts = table_col(t, "ts_ns");
	int c_dir = table_col(t, "dir"), c_ev = table_col(t, "event");
	size_t r;

	memset(tl, 0, sizeof(*tl));
	tl->t = t;
	if (c_conn < 0 || c_ts < 0 || c_dir < 0 || c_ev < 0)
		return -EINVAL;
	tl->ev = calloc(t->nrows ? t->nrows : 1, sizeof(*tl->ev));
	if (!tl->ev)
		return -ENOMEM;
	for (r = 0; r < t->nrows; r++) {
		struct tl_event *e = &tl->ev[tl->n];
		const char *dir = table_cell(t, r, c_dir), *info;
		uint64_t id;

		if (!parse_u64_text(table_cell(t, r, c_conn), &id) || id != conn ||
		    !parse_u64_text(table_cell(t, r, c_ts), &e->ts_ns) || !table_cell(t, r, c_ev))
			continue;
		e->row = r;
		e->dir = dir && (!strcmp(dir, "o") || !strcmp(dir, "r")) ? dir[0] : '?';
		e->event = table_cell(t, r, c_ev);
		info = table_get(t, r, "info");
		e->info = info && strcmp(info, "-") ? info : NULL;
		e->dropped = flag_set(table_get(t, r, "flags"), "dropped");
		tl->n++;
	}
	qsort(tl->ev, tl->n, sizeof(*tl->ev), ev_cmp);
	compute_gaps(tl);
	return 0;
}

void tl_free(struct tl *tl)
{
	free(tl->ev);
	memset(tl, 0, sizeof(*tl));
}

/** tl_fault_name() - the name of the fault an info of "fault=ID" names, or NULL */
const char *tl_fault_name(const struct tl_labels *lb, const char *info)
{
	uint64_t id, fid;
	size_t r;

	if (!info || strncmp(info, "fault=", 6) || !parse_u64_text(info + 6, &id) ||
	    !lb->faults)
		return NULL;
	for (r = 0; r < lb->faults->nrows; r++)
		if (table_get_u64(lb->faults, r, "id", &fid) && fid == id)
			return table_get(lb->faults, r, "name");
	return NULL;
}

/** tl_fault_label() - "fault=3" becomes "fault=3 (cut)" when the fault is known */
void tl_fault_label(const struct tl_labels *lb, const char *info, char *buf, size_t len)
{
	const char *name = tl_fault_name(lb, info);

	if (name)
		snprintf(buf, len, "%s (%s)", info, name);
	else
		snprintf(buf, len, "%s", info ? info : "");
}

/** tl_fmt_gap() - "+0.412s", "+0.824s x2.0", or "" */
void tl_fmt_gap(const struct tl_event *e, char *buf, size_t len)
{
	if (!e->has_gap) {
		if (len)
			buf[0] = '\0';
	} else if (e->ratio > 0)
		snprintf(buf, len, "+%.3fs x%.1f", (double)e->gap_ns / 1e9, e->ratio);
	else
		snprintf(buf, len, "+%.3fs", (double)e->gap_ns / 1e9);
}

/**
 * tl_print_text() - the timeline as a table
 * @f: where to
 * @tl: the events
 * @lb: labels
 */
void tl_print_text(FILE *f, const struct tl *tl, const struct tl_labels *lb)
{
	static const char * const head[] = {
		"time", "dir", "event", "seq", "len", "dropped", "gap", "info",
	};
	struct tt tt;
	size_t i;
	int ret;

	fprintf(f, "%s, %zu event%s\n", lb->title, tl->n, tl->n == 1 ? "" : "s");
	fprintf(f, "o: sent by %s; r: sent by %s; time from the first event\n\n", lb->o, lb->r);
	if (!tl->n) {
		fprintf(f, "no events recorded\n");
		return;
	}
	tt_init(&tt, 8, 1UL << 0 | 1UL << 3 | 1UL << 4);
	ret = tt_row(&tt, head);
	for (i = 0; !ret && i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[i];
		char t[32], gap[48], info[128], dir[2] = { e->dir, 0 };
		const char *cells[8];

		snprintf(t, sizeof(t), "%.3fs", (double)e->rel_ns / 1e9);
		tl_fmt_gap(e, gap, sizeof(gap));
		tl_fault_label(lb, e->info, info, sizeof(info));
		cells[0] = t;
		cells[1] = dir;
		cells[2] = e->event;
		cells[3] = e->info ? "" : table_get(tl->t, e->row, "seq");
		cells[4] = e->info ? "" : table_get(tl->t, e->row, "len");
		cells[5] = e->dropped ? "dropped" : "";
		cells[6] = gap;
		cells[7] = info;
		ret = tt_row(&tt, cells);
	}
	if (ret)
		fprintf(f, "(out of memory)\n");
	else
		tt_print(&tt, f);
	tt_free(&tt);
}

/* ---- the command --------------------------------------------------------- */

static int tl_json_event(struct json_object *arr, const struct tl *tl,
			 const struct tl_event *e, const struct tl_labels *lb)
{
	const char *fault = tl_fault_name(lb, e->info);
	struct json_object *o;

	if (tf_json_row(tl->t, e->row, &o))
		return -ENOMEM;
	if (json_object_array_add(arr, o)) {
		json_object_put(o);
		return -ENOMEM;
	}
	if (tf_json_add_u64(o, "rel_ns", e->rel_ns) ||
	    tf_json_add_bool(o, "dropped", e->dropped) ||
	    (e->has_gap && tf_json_add_u64(o, "gap_ns", e->gap_ns)) ||
	    (fault && tf_json_add_str(o, "fault_name", fault)))
		return -ENOMEM;
	return 0;
}

/*
 * {"conn": {the conns row}, "events": [{the timeline row, "rel_ns",
 * "dropped", and "gap_ns" where there is a gap, "fault_name" where known}]}
 */
static int tl_json(const struct ctl *ctl, const struct table *conns, size_t crow,
		   const struct tl *tl, const struct tl_labels *lb)
{
	struct json_object *doc = json_object_new_object(), *arr, *c;
	size_t i;

	if (!doc || tf_json_row(conns, crow, &c) || tf_json_add(doc, "conn", c))
		goto oom;
	arr = json_object_new_array();
	if (!arr || tf_json_add(doc, "events", arr))
		goto oom;
	for (i = 0; i < tl->n; i++)
		if (tl_json_event(arr, tl, &tl->ev[i], lb))
			goto oom;
	return tf_json_print(ctl, doc);
oom:
	json_object_put(doc);
	ctl_error(ctl, "out of memory");
	return EXIT_RUNTIME;
}

static int write_svg(const struct ctl *ctl, const char *path, const struct tl *tl,
		     const struct tl_labels *lb)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : ctl->out;
	int ret;

	if (!f) {
		ctl_error(ctl, "cannot write %s: %s", path, strerror(errno));
		return errno == EACCES ? EXIT_PERM : EXIT_RUNTIME;
	}
	ret = tl_svg(f, tl, lb);
	if (f != ctl->out) {
		if (fclose(f) && !ret)
			ret = -errno;
	} else if (fflush(f) && !ret) {
		ret = -errno;
	}
	if (ret) {
		ctl_error(ctl, "cannot write %s: %s", path, strerror(-ret));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

struct tl_args {
	const char *conn;
	const char *svg;
};

static int parse_args(struct ctl *ctl, int argc, char **argv, struct tl_args *a)
{
	int i, r;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (args_read_opt(ctl, argv[i]))
			continue;
		r = args_opt_value(argc, argv, &i, "-s", "--svg", &a->svg);
		if (r < 0 || (r > 0 && !*a->svg))
			return args_end_error(ctl, argc, argv, "timeline: --svg needs a FILE");
		if (r > 0)
			continue;
		if (a->conn || argv[i][0] == '-')
			return args_word_error(ctl, argc, argv, i, "timeline: unexpected '%s'",
					       argv[i]);
		a->conn = argv[i];
	}
	if (!a->conn)
		return ctl_usage_error(ctl, "timeline", "timeline: missing CONN (a connection id or ADDR:PORT)");
	return EXIT_OK;
}

int cmd_timeline(struct ctl *ctl, int argc, char **argv)
{
	struct table conns, events, faults;
	char title[256], o[96], r[96];
	struct tl_labels lb = { .title = title, .o = o, .r = r };
	struct tl_args a;
	struct tl tl = { 0 };
	uint64_t id = 0;
	size_t row;
	int ret;

	ret = parse_args(ctl, argc, argv, &a);
	if (ret)
		return ret;
	ret = tf_read_table(ctl, "conns", &conns);
	if (ret)
		return ret;
	ret = conns_find(ctl, &conns, a.conn, &row);
	if (ret) {
		table_free(&conns);
		return ret;
	}
	table_get_u64(&conns, row, "id", &id);
	ret = tf_read_table(ctl, "timeline", &events);
	if (ret) {
		table_free(&conns);
		return ret;
	}
	if (!tf_read_table(ctl, "faults", &faults))
		lb.faults = &faults;
	fmt_endpoint(o, sizeof(o), table_get(&conns, row, "saddr"), table_get(&conns, row, "sport"));
	fmt_endpoint(r, sizeof(r), table_get(&conns, row, "daddr"), table_get(&conns, row, "dport"));
	snprintf(title, sizeof(title), "connection %" PRIu64 ": %s -> %s (%s)", id, o, r,
		 str_or(table_get(&conns, row, "state"), "?"));
	ret = tl_build(&events, id, &tl);
	if (ret == -ENOMEM) {
		ctl_error(ctl, "out of memory");
		ret = EXIT_RUNTIME;
	} else if (ret) {
		ctl_error(ctl, "%s/timeline lacks the conn, ts_ns, dir or event column",
			  ctl->procfs);
		ret = EXIT_RUNTIME;
	} else if (a.svg) {
		ret = write_svg(ctl, a.svg, &tl, &lb);
	}
	if (!ret && !(a.svg && !strcmp(a.svg, "-"))) {
		if (ctl->json)
			ret = tl_json(ctl, &conns, row, &tl, &lb);
		else
			tl_print_text(ctl->out, &tl, &lb);
	}
	tl_free(&tl);
	if (lb.faults)
		table_free(&faults);
	table_free(&events);
	table_free(&conns);
	return ret;
}
