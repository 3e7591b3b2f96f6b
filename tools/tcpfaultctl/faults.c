// SPDX-License-Identifier: GPL-2.0
/*
 * Faults: add, list, show, enable, disable, delete, flush.
 *
 * A fault lives in the network namespace of the process that wrote it
 * (hence -n), its name is unique within that namespace, and both
 * /proc/net/tcpfault/faults and the sysfs faults/ directory (see
 * tf_enter_netns()) show only the current namespace's faults.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addspec.h"
#include "args.h"
#include "faults.h"
#include "files.h"
#include "json.h"
#include "text.h"

/* ---- add ------------------------------------------------------------ */

/* A batch write: what the module takes in one call (a page). */
#define TF_BATCH_MAX	4096

static int add_error(const struct ctl *ctl, int argc, char **argv, const struct adderr *ae)
{
	fprintf(ctl->err, "%s: %s\n", ctl->prog, ae->msg);
	args_caret(ctl, argc, argv, &ae->span);
	return EXIT_USAGE;
}

/* ---- add -f FILE: a batch ---------------------------------------------- */

/* One specification of a batch file, and the line it came from. */
struct bline {
	char *text;
	char name[TCPFAULT_NAME_MAX + 1];
	unsigned int lineno;
};

static int bline_by_name(const void *a, const void *b)
{
	const struct bline *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

/* Read @file's specifications (blank lines and # comments skipped), checked. */
static int batch_read(const struct ctl *ctl, const char *file, struct bline **out, size_t *n)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	struct bline *v = NULL, *sorted;
	size_t cap = 0, len = 0, i;
	unsigned int lineno = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t got;
	int ret = EXIT_OK;

	if (!f) {
		ctl_error(ctl, "cannot read %s: %s", file, strerror(errno));
		return EXIT_USAGE;
	}
	while ((got = getline(&line, &lcap, f)) >= 0) {
		struct tcpfault_spec spec;
		struct tcpfault_perr perr;
		char *p = line;

		lineno++;
		if (got && line[got - 1] == '\n')
			line[--got] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		memset(&perr, 0, sizeof(perr));
		if (tcpfault_spec_parse(line, (size_t)got, &spec, &perr)) {
			fprintf(ctl->err, "%s: %s:%u: %s\n", ctl->prog, file, lineno, perr.msg);
			ret = EXIT_USAGE;
			break;
		}
		if (len == cap) {
			struct bline *nv = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof(*v));

			if (!nv)
				goto oom;
			v = nv;
		}
		v[len].text = strdup(line);
		if (!v[len].text)
			goto oom;
		snprintf(v[len].name, sizeof(v[len].name), "%s", spec.name);
		v[len++].lineno = lineno;
	}
	if (!ret && ferror(f)) {
		ctl_error(ctl, "cannot read %s: %s", file, strerror(errno));
		ret = EXIT_USAGE;
	}
	if (!ret && !len) {
		ctl_error(ctl, "add: %s holds no fault specification", file);
		ret = EXIT_USAGE;
	}
	/* A name twice in the file: the kernel would refuse the second. */
	if (!ret) {
		sorted = malloc(len * sizeof(*sorted));
		if (!sorted)
			goto oom;
		memcpy(sorted, v, len * sizeof(*sorted));
		qsort(sorted, len, sizeof(*sorted), bline_by_name);
		for (i = 1; i < len && !ret; i++) {
			if (!strcmp(sorted[i].name, sorted[i - 1].name)) {
				fprintf(ctl->err, "%s: %s:%u: '%s' is named on line %u too\n", ctl->prog,
					file, sorted[i].lineno, sorted[i].name, sorted[i - 1].lineno);
				ret = EXIT_USAGE;
			}
		}
		free(sorted);
	}
	goto out;
oom:
	ctl_error(ctl, "out of memory");
	ret = EXIT_RUNTIME;
out:
	free(line);
	if (f != stdin)
		fclose(f);
	*out = v;
	*n = len;
	return ret;
}

/* Delete the first @n faults of a batch again, after a refused write. */
static void batch_undo(const struct ctl *ctl, const struct bline *v, size_t n)
{
	char *del = tf_path(ctl->sysfs, "del");
	size_t i;

	for (i = 0; del && i < n; i++)
		tf_write_file(del, v[i].name, strlen(v[i].name));
	free(del);
}

/*
 * The faults of @file, written to add a page at a time, whole lines only
 * (the module adds each write's lines all or none). If a write is refused,
 * the faults of the earlier ones are deleted again: the whole file or
 * nothing.
 */
static int add_file(const struct ctl *ctl, const char *file)
{
	char *path = tf_path(ctl->sysfs, "add"), *buf = malloc(TF_BATCH_MAX);
	struct bline *v = NULL;
	size_t n = 0, i = 0, first, blen;
	int ret;

	if (!path || !buf) {
		ctl_error(ctl, "out of memory");
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = batch_read(ctl, file, &v, &n);
	while (!ret && i < n) {
		first = i;
		blen = 0;
		while (i < n && blen + strlen(v[i].text) + 1 <= TF_BATCH_MAX) {
			blen += (size_t)sprintf(buf + blen, "%s\n", v[i].text);
			i++;
		}
		ret = tf_write_file(path, buf, blen);
		if (ret) {
			fprintf(ctl->err, "%s: the faults of %s lines %u to %u were refused:\n",
				ctl->prog, file, v[first].lineno, v[i - 1].lineno);
			ret = tf_explain_write(ctl, path, -ret);
			batch_undo(ctl, v, first);
		}
	}
out:
	for (i = 0; i < n; i++)
		free(v[i].text);
	free(v);
	free(buf);
	free(path);
	return ret;
}

int cmd_add(struct ctl *ctl, int argc, char **argv)
{
	struct tcpfault_spec spec;
	struct addspec as = { 0 };
	struct adderr ae;
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--file"))) {
		if (argc != 3)
			return ctl_usage_error(ctl, "add", "add: -f takes one FILE (- for stdin)");
		return add_file(ctl, argv[2]);
	}
	if (argc < 2)
		return ctl_usage_error(ctl, "add", "add: missing NAME and MODE");
	ret = addspec_build(argc, argv, 1, &as, &ae);
	if (!ret)
		ret = addspec_check(&as, &spec, &ae);
	if (ret == -ENOMEM) {
		ctl_error(ctl, "out of memory");
		ret = EXIT_RUNTIME;
	} else if (ret) {
		ret = add_error(ctl, argc, argv, &ae);
	} else {
		ret = tf_write_attr(ctl, "add", as.line);
	}
	addspec_free(&as);
	return ret;
}

/* ---- NAME arguments --------------------------------------------------- */

/* The one NAME argument of show, enable, disable, delete. */
static int name_arg(const struct ctl *ctl, int argc, char **argv, const char **name)
{
	char buf[TCPFAULT_NAME_MAX + 1];
	struct tcpfault_perr perr;
	struct argspan sp;

	if (argc < 2)
		return ctl_usage_error(ctl, argv[0], "%s: missing NAME", argv[0]);
	if (argc > 2)
		return args_word_error(ctl, argc, argv, 2, "%s: unexpected '%s' after the NAME",
				       argv[0], argv[2]);
	memset(&perr, 0, sizeof(perr));
	if (tcpfault_spec_parse_name(argv[1], strlen(argv[1]), buf, &perr)) {
		args_span_word(&sp, 1);
		if (perr.len > 0) {
			sp.off = perr.pos;
			sp.end_off = perr.pos + perr.len;
		}
		fprintf(ctl->err, "%s: %s\n", ctl->prog, perr.msg);
		args_caret(ctl, argc, argv, &sp);
		return EXIT_USAGE;
	}
	*name = argv[1];
	return EXIT_OK;
}

static char *fault_path(const char *name, const char *file)
{
	char *p;

	if (asprintf(&p, "faults/%s%s%s", name, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

/* Does faults/NAME exist (in this namespace: sysfs shows no other)? */
static int fault_exists(const struct ctl *ctl, const char *name)
{
	char *rel = fault_path(name, NULL), *path;
	struct stat st;
	int ret;

	if (!rel)
		return -ENOMEM;
	path = tf_path(ctl->sysfs, rel);
	free(rel);
	if (!path)
		return -ENOMEM;
	ret = stat(path, &st) ? -errno : 0;
	free(path);
	return ret;
}

static int no_such_fault(const struct ctl *ctl, const char *name, int err)
{
	if (err == -ENOMEM) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	if (tf_require_module(ctl))
		return EXIT_NOMODULE;
	ctl_error(ctl, "no fault named '%s' in this network namespace (see '%s list', or -n NETNS for another namespace)",
		  name, ctl->prog);
	return EXIT_RUNTIME;
}

/* ---- enable, disable, delete, flush ------------------------------------ */

static int set_enabled(struct ctl *ctl, int argc, char **argv, bool on)
{
	const char *name;
	char *rel;
	int ret;

	ret = name_arg(ctl, argc, argv, &name);
	if (ret)
		return ret;
	ret = fault_exists(ctl, name);
	if (ret)
		return no_such_fault(ctl, name, ret);
	rel = fault_path(name, "enabled");
	if (!rel) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	ret = tf_write_attr(ctl, rel, on ? "1" : "0");
	free(rel);
	return ret;
}

int cmd_enable(struct ctl *ctl, int argc, char **argv)
{
	return set_enabled(ctl, argc, argv, true);
}

int cmd_disable(struct ctl *ctl, int argc, char **argv)
{
	return set_enabled(ctl, argc, argv, false);
}

int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	int ret;

	ret = name_arg(ctl, argc, argv, &name);
	if (ret)
		return ret;
	return tf_write_attr(ctl, "del", name);
}

int cmd_flush(struct ctl *ctl, int argc, char **argv)
{
	char *before = NULL;
	int ret;

	if (argc > 1)
		return args_word_error(ctl, argc, argv, 1, "flush: takes no arguments");
	if (tf_read_attr(ctl, "faults_count", &before))
		before = NULL;
	ret = tf_write_attr(ctl, "flush", "1");
	if (!ret && !ctl->json)
		fprintf(ctl->out, "deleted every fault in this network namespace (%s before the flush)\n",
			before ? before : "?");
	free(before);
	return ret;
}

/* ---- list ------------------------------------------------------------ */

/* The spec without its name and mode (shown in their own columns), nor "=any". */
static void spec_rest(char *buf, size_t len, const char *spec)
{
	const char *p = spec;
	size_t n = 0;
	int word = 0;

	buf[0] = '\0';
	while (p && *p) {
		size_t wl;

		while (*p == ' ')
			p++;
		wl = strcspn(p, " ");
		if (!wl)
			break;
		if (word++ && strncmp(p, "mode=", 5) &&
		    !(wl > 4 && !strncmp(p + wl - 4, "=any", 4))) {
			int w = snprintf(buf + n, len - n, "%s%.*s", n ? " " : "", (int)wl, p);

			if (w < 0 || (size_t)w >= len - n)
				break;
			n += (size_t)w;
		}
		p += wl;
	}
}

static const char * const list_cols[] = {
	"id", "name", "mode", "state", "time_left_ms", "matched", "dropped",
	"rst_sent", "aborted", "spec",
};
#define NLIST (ARRAY_SIZE(list_cols))

/** faults_print_text() - the faults table, aligned; nothing if it is empty */
int faults_print_text(const struct ctl *ctl, const struct table *t)
{
	static const char * const head[NLIST] = {
		"id", "name", "mode", "state", "time_left", "matched", "dropped",
		"rst_sent", "aborted", "selector and options",
	};
	struct tt tt;
	size_t r, c;
	int ret;

	tt_init(&tt, NLIST, 1UL << 0 | 1UL << 5 | 1UL << 6 | 1UL << 7 | 1UL << 8);
	ret = tt_row(&tt, head);
	for (r = 0; !ret && r < t->nrows; r++) {
		char left[32], rest[TCPFAULT_SPEC_MAX + 1];
		const char *cells[NLIST];

		for (c = 0; c < NLIST; c++)
			cells[c] = table_get(t, r, list_cols[c]);
		fmt_ms_left(left, sizeof(left), cells[4]);
		cells[4] = left;
		spec_rest(rest, sizeof(rest), cells[9]);
		cells[9] = rest;
		ret = tt_row(&tt, cells);
	}
	if (ret) {
		tt_free(&tt);
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	if (t->nrows)
		tt_print(&tt, ctl->out);
	tt_free(&tt);
	return EXIT_OK;
}

/* An empty table says so, rather than print nothing. */
static void list_note(const struct ctl *ctl, size_t here)
{
	if (!here)
		fprintf(ctl->out, "no faults in this network namespace\n");
}

int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	struct json_object *arr;
	struct table t;
	size_t *rows, i;
	int ret, a;

	for (a = 1; a < argc; a++)
		if (!args_read_opt(ctl, argv[a]))
			return args_word_error(ctl, argc, argv, a, "list: unexpected '%s'", argv[a]);
	ret = tf_read_table(ctl, "faults", &t);
	if (ret)
		return ret;
	if (!ctl->json) {
		ret = faults_print_text(ctl, &t);
		if (!ret)
			list_note(ctl, t.nrows);
		table_free(&t);
		return ret;
	}
	rows = calloc(t.nrows ? t.nrows : 1, sizeof(*rows));
	for (i = 0; rows && i < t.nrows; i++)
		rows[i] = i;
	if (!rows || tf_json_rows(&t, rows, t.nrows, &arr)) {
		free(rows);
		table_free(&t);
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	free(rows);
	table_free(&t);
	return tf_json_print(ctl, arr);
}

/* ---- show ------------------------------------------------------------ */

/* The fault's files in a sensible order; others follow alphabetically. */
static const char * const show_order[] = {
	"id", "spec", "mode", "selector", "state", "enabled", "time_left_ms",
	"netns", "matched", "dropped", "rst_sent", "aborted",
};
static const struct tf_order show_ord = { show_order, ARRAY_SIZE(show_order) };

struct show_ctx {
	struct tt tt;
	struct json_object *obj;
	size_t shown;
	size_t hidden;		/* ENOENT: read through another namespace's /sys */
};

static int show_file(const struct ctl *ctl, struct show_ctx *sc, const char *dir,
		     const char *file)
{
	const char *cells[2];
	char *val;
	int ret;

	ret = tf_read_figure(dir, file, &val);
	if (ret == -ENOENT)
		sc->hidden++;
	if (ret == -ENOMEM)
		return ret;
	if (!val)
		return 0;	/* write-only or vanishing: not a figure */
	sc->shown++;
	if (ctl->json) {
		ret = tf_json_add_text(sc->obj, file, val);
	} else {
		cells[0] = file;
		cells[1] = val;
		ret = tt_row(&sc->tt, cells);
	}
	free(val);
	return ret;
}

int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	struct show_ctx sc = { 0 };
	struct dirent **ents = NULL;
	char *rel, *dir = NULL;
	const char *name;
	int n = 0, i, ret, a;

	for (a = 1; a < argc; a++) {
		if (args_read_opt(ctl, argv[a])) {
			memmove(&argv[a], &argv[a + 1], (size_t)(argc - a - 1) * sizeof(*argv));
			argc--;
			a--;
		}
	}
	ret = name_arg(ctl, argc, argv, &name);
	if (ret)
		return ret;
	rel = fault_path(name, NULL);
	if (rel)
		dir = tf_path(ctl->sysfs, rel);
	free(rel);
	if (!dir)
		return no_such_fault(ctl, name, -ENOMEM);
	n = tf_list_dir(dir, &show_ord, &ents);
	if (n < 0) {
		ret = errno;
		ret = ret == ENOENT ? no_such_fault(ctl, name, -ret) :
				      tf_explain_read(ctl, dir, ret);
		free(dir);
		return ret;
	}
	tt_init(&sc.tt, 2, 0);
	sc.obj = ctl->json ? json_object_new_object() : NULL;
	ret = ctl->json && !sc.obj ? -ENOMEM : 0;
	if (!ret && ctl->json)
		ret = tf_json_add_text(sc.obj, "name", name);
	else if (!ret)
		ret = tt_row(&sc.tt, (const char *[]){ "name", name });
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = show_file(ctl, &sc, dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	free(dir);
	if (ret) {
		ctl_error(ctl, "out of memory");
		ret = EXIT_RUNTIME;
	} else if (!sc.shown && sc.hidden) {
		ctl_error(ctl, "fault '%s' belongs to another network namespace (use -n NETNS)",
			  name);
		ret = EXIT_RUNTIME;
	} else if (ctl->json) {
		ret = tf_json_print(ctl, sc.obj);
		sc.obj = NULL;
	} else {
		tt_print(&sc.tt, ctl->out);
	}
	json_object_put(sc.obj);
	tt_free(&sc.tt);
	return ret;
}
