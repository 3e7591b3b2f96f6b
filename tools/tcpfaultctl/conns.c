// SPDX-License-Identifier: GPL-2.0
/*
 *   conns [src ADDR[/LEN]] [dst ADDR[/LEN]] [port PORT] [state STATE]
 *         [sort COLUMN] [-r]
 *
 * Text output, in the spirit of "ss -i": one line per connection, then
 * one line per direction with the counters that are not zero (and the
 * kernel's own view of a local socket):
 *
 *   3  ESTABLISHED  10.0.1.1:43210 -> 10.0.1.2:5001  up 5.102s  idle 0.013s
 *      o: segs 12 bytes 7000 new_bytes 7000 retrans 5 dropped 5
 *         kernel: total_retrans 5 retransmits 5 backoff 5 rto_ms 6400 probes_out 0
 *      r: segs 10 bytes 0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "conns.h"
#include "files.h"
#include "json.h"
#include "lists.h"
#include "text.h"

/* The columns the first line of a connection shows by itself. */
static const char * const head_cols[] = {
	"id", "af", "saddr", "sport", "daddr", "dport", "state", "first_ns", "last_ns",
};

static bool in_list(const char *w, const char * const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

static int parse_prefix_arg(const struct ctl *ctl, int argc, char **argv, int argi,
			    const char *key, const char *val, struct tcpfault_prefix *p)
{
	int ret = tcpfault_spec_parse_addr(val, strlen(val), p);

	if (!ret)	/* "any" too: no filter */
		return 0;
	if (ret == -ERANGE)
		return args_word_error(ctl, argc, argv, argi,
				       "%s: %s: '%s' has bits set past the prefix length",
				       argv[0], key, val);
	return args_word_error(ctl, argc, argv, argi,
			       "%s: %s: bad address '%s' (expected IPv4 or IPv6, optionally /prefix)",
			       argv[0], key, val);
}

/**
 * conns_parse_query() - parse filter and sort words
 * @ctl: options (-j, -p are taken here too)
 * @argc: words of the command
 * @argv: the words
 * @first: the first word to look at
 * @q: the result
 * @opt: the command's own options (watch's -i and -c), or NULL
 * @arg: passed to @opt
 *
 * Return: an exit code.
 */
int conns_parse_query(struct ctl *ctl, int argc, char **argv, int first,
		      struct conn_query *q, conns_opt_fn opt, void *arg)
{
	static const char * const keys[] = { "src", "dst", "port", "state", "sort" };
	const size_t nkeys = ARRAY_SIZE(keys);
	int i, r, missing = 0;

	memset(q, 0, sizeof(*q));
	q->port = -1;
	for (i = first; i < argc; i++) {
		const char *w = argv[i], *val = NULL;
		uint64_t port;
		size_t k;

		if (args_read_opt(ctl, w))
			continue;
		r = opt ? opt(ctl, argc, argv, &i, arg) : -1;
		if (r > 0)
			return r;
		if (!r)
			continue;
		if (!strcmp(w, "-r") || !strcmp(w, "--reverse")) {
			q->reverse = true;
			continue;
		}
		for (k = 0; k < nkeys; k++)
			if (args_keyword(argc, argv, &i, keys[k], &val, &missing))
				break;
		if (k == nkeys)
			return args_word_error(ctl, argc, argv, i, "%s: unexpected '%s' (expected %s)",
					       argv[0], w, opt ? "src, dst, port, state, sort, -r, -i or -c" :
							  "src, dst, port, state, sort or -r");
		if (missing)
			return args_end_error(ctl, argc, argv, "%s: %s: missing value", argv[0], w);
		switch (k) {
		case 0:
		case 1:
			if (parse_prefix_arg(ctl, argc, argv, i, keys[k], val, k ? &q->dst : &q->src))
				return EXIT_USAGE;
			break;
		case 2:
			if (!parse_u64_text(val, &port) || port > 65535)
				return args_word_error(ctl, argc, argv, i,
						       "%s: port: bad port '%s' (expected 0-65535)",
						       argv[0], val);
			q->port = (long)port;
			break;
		case 3:
			for (k = 0; k < TCPFAULT_WS_MAX; k++)
				if (!strcasecmp(val, ctl_wire_state_names[k]))
					break;
			if (k == TCPFAULT_WS_MAX)
				return args_word_error(ctl, argc, argv, i,
						       "%s: state: unknown state '%s' ("
						       TCPFAULT_NAMES_LIST(TCPFAULT_WIRE_STATES) ")",
						       argv[0], val);
			q->state = ctl_wire_state_names[k];
			break;
		default:
			q->sort = val;
			q->sort_argi = i;
			break;
		}
	}
	return EXIT_OK;
}

static bool addr_in(const struct tcpfault_prefix *p, const char *text)
{
	struct tcpfault_prefix a;

	if (p->family == TCPFAULT_FAM_ANY)
		return true;
	if (!text || tcpfault_spec_parse_addr(text, strlen(text), &a) ||
	    a.family == TCPFAULT_FAM_ANY)
		return false;
	return tcpfault_spec_prefix_match(p, a.family, a.addr);
}

/** conns_addr_eq() - same address, whatever the spelling ("fd00:0::1" is "fd00::1") */
bool conns_addr_eq(const char *a, const char *b)
{
	struct tcpfault_prefix pa, pb;

	if (!a || !b || tcpfault_spec_parse_addr(a, strlen(a), &pa) ||
	    tcpfault_spec_parse_addr(b, strlen(b), &pb))
		return false;
	return pa.family == pb.family && pa.family != TCPFAULT_FAM_ANY &&
	       !memcmp(pa.addr, pb.addr, sizeof(pa.addr));
}

static bool row_matches(const struct table *t, size_t r, const struct conn_query *q)
{
	uint64_t sp = 0, dp = 0;
	const char *st;

	if (!addr_in(&q->src, table_get(t, r, "saddr")) ||
	    !addr_in(&q->dst, table_get(t, r, "daddr")))
		return false;
	if (q->port >= 0) {
		bool s = table_get_u64(t, r, "sport", &sp), d = table_get_u64(t, r, "dport", &dp);

		if (!(s && (long)sp == q->port) && !(d && (long)dp == q->port))
			return false;
	}
	st = table_get(t, r, "state");
	return !q->state || (st && !strcasecmp(st, q->state));
}

struct sort_ctx {
	const struct table *t;
	int col;
	int id_col;
	bool reverse;
};

/* Integers numerically, other text alphabetically; "-" (none) first. */
static int cell_cmp(const char *a, const char *b)
{
	int64_t x, y;
	bool na = !a || !strcmp(a, "-"), nb = !b || !strcmp(b, "-");

	if (na || nb)
		return na == nb ? 0 : (na ? -1 : 1);
	if (parse_s64_text(a, &x) && parse_s64_text(b, &y))
		return x < y ? -1 : x > y;
	return strcmp(a, b);
}

static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *sc = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = cell_cmp(table_cell(sc->t, a, sc->col), table_cell(sc->t, b, sc->col));

	if (sc->reverse)
		c = -c;
	if (!c)		/* ties: oldest connection first */
		c = cell_cmp(table_cell(sc->t, a, sc->id_col), table_cell(sc->t, b, sc->id_col));
	return c;
}

/**
 * conns_select() - the rows a query asks for, in its order
 * @ctl: options
 * @t: the conns table
 * @q: the query
 * @argc: words of the command, for a caret under a bad sort column
 * @argv: the words
 * @rows: the row indices, to free()
 * @n: how many
 *
 * Return: an exit code.
 */
int conns_select(const struct ctl *ctl, const struct table *t, const struct conn_query *q,
		 int argc, char **argv, size_t **rows, size_t *n)
{
	struct sort_ctx sc = { .t = t, .reverse = q->reverse };
	size_t r;

	sc.id_col = table_col(t, "id");
	sc.col = table_col(t, q->sort ? q->sort : "id");
	if (sc.col < 0) {
		fprintf(ctl->err, "%s: %s: no column '%s'; columns are:", ctl->prog, argv[0],
			q->sort);
		for (r = 0; r < t->ncols; r++)
			fprintf(ctl->err, " %s", t->cols[r]);
		fputc('\n', ctl->err);
		if (q->sort_argi) {
			struct argspan sp;

			args_span_word(&sp, q->sort_argi);
			args_caret(ctl, argc, argv, &sp);
		}
		return EXIT_USAGE;
	}
	*rows = calloc(t->nrows ? t->nrows : 1, sizeof(**rows));
	if (!*rows) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	*n = 0;
	for (r = 0; r < t->nrows; r++)
		if (row_matches(t, r, q))
			(*rows)[(*n)++] = r;
	qsort_r(*rows, *n, sizeof(**rows), row_cmp, &sc);
	return EXIT_OK;
}

/* "o: segs 12 bytes 7000 ...": counters with this prefix that are not zero. */
static void print_side(const struct ctl *ctl, const struct table *t, size_t r,
		       const char *prefix, const char *always)
{
	size_t plen = strlen(prefix), c;
	bool any = false;

	for (c = 0; c < t->ncols; c++) {
		const char *name = t->cols[c], *v = table_cell(t, r, (int)c);
		bool show;

		if (strncmp(name, prefix, plen))
			continue;
		show = !strcmp(name + plen, "segs") || !strcmp(name + plen, "bytes") ||
		       (always && !strcmp(name, always)) || (v && strcmp(v, "0"));
		if (!show || !v || !strcmp(v, "-"))
			continue;
		fprintf(ctl->out, "%s%s %s", any ? " " : "", name + plen, v);
		any = true;
	}
	if (!any)
		fputs("-", ctl->out);
}

static bool has_kernel_view(const struct table *t, size_t r, const char *prefix)
{
	size_t plen = strlen(prefix), c;

	for (c = 0; c < t->ncols; c++) {
		const char *v = table_cell(t, r, (int)c);

		if (!strncmp(t->cols[c], prefix, plen) && v && strcmp(v, "-"))
			return true;
	}
	return false;
}

static void print_conn(const struct ctl *ctl, const struct table *t, size_t r,
		       const char *always, uint64_t now)
{
	char a[96], b[96], up[32], idle[32];
	uint64_t first = 0, last = 0;
	size_t c;
	int s;

	fmt_endpoint(a, sizeof(a), table_get(t, r, "saddr"), table_get(t, r, "sport"));
	fmt_endpoint(b, sizeof(b), table_get(t, r, "daddr"), table_get(t, r, "dport"));
	fprintf(ctl->out, "%s  %s  %s -> %s", str_or(table_get(t, r, "id"), "?"),
		str_or(table_get(t, r, "state"), "?"), a, b);
	if (table_get_u64(t, r, "first_ns", &first) && table_get_u64(t, r, "last_ns", &last) &&
	    first && last >= first) {
		fmt_age(up, sizeof(up), last - first);
		fmt_age(idle, sizeof(idle), now > last ? now - last : 0);
		fprintf(ctl->out, "  up %s  idle %s", up, idle);
	}
	/* Columns this version does not know about: shown as they are. */
	for (c = 0; c < t->ncols; c++) {
		const char *n = t->cols[c];

		if (in_list(n, head_cols, ARRAY_SIZE(head_cols)) ||
		    !strncmp(n, "o_", 2) || !strncmp(n, "r_", 2) ||
		    !strncmp(n, "ko_", 3) || !strncmp(n, "kr_", 3))
			continue;
		fprintf(ctl->out, "  %s %s", n, str_or(table_cell(t, r, (int)c), "-"));
	}
	fputc('\n', ctl->out);
	for (s = 0; s < 2; s++) {
		const char *side = s ? "r_" : "o_", *kside = s ? "kr_" : "ko_";

		fprintf(ctl->out, "   %c: ", side[0]);
		print_side(ctl, t, r, side, always);
		fputc('\n', ctl->out);
		if (has_kernel_view(t, r, kside)) {
			fputs("      kernel: ", ctl->out);
			print_side(ctl, t, r, kside, NULL);
			fputc('\n', ctl->out);
		}
	}
}

/**
 * conns_print_text() - connections in text
 * @ctl: options
 * @t: the conns table
 * @rows: which rows, in order
 * @n: how many
 * @always: a counter column to show even when zero (the sort column), or NULL
 *
 * Return: an exit code.
 */
int conns_print_text(const struct ctl *ctl, const struct table *t, const size_t *rows,
		     size_t n, const char *always)
{
	uint64_t now = ctl_now_ns(ctl);
	size_t i;

	if (!n) {
		fprintf(ctl->out, "no tracked connections\n");
		return EXIT_OK;
	}
	fprintf(ctl->out, "(o: sent by the originator, on the left; r: sent by the responder)\n");
	for (i = 0; i < n; i++)
		print_conn(ctl, t, rows[i], always, now);
	return EXIT_OK;
}

int cmd_conns(struct ctl *ctl, int argc, char **argv)
{
	struct json_object *arr;
	struct conn_query q;
	size_t *rows = NULL, n = 0;
	struct table t;
	int ret;

	ret = conns_parse_query(ctl, argc, argv, 1, &q, NULL, NULL);
	if (ret)
		return ret;
	ret = tf_read_table(ctl, "conns", &t);
	if (ret)
		return ret;
	ret = conns_select(ctl, &t, &q, argc, argv, &rows, &n);
	if (!ret && !ctl->json) {
		ret = conns_print_text(ctl, &t, rows, n, q.sort);
	} else if (!ret) {
		if (tf_json_rows(&t, rows, n, &arr)) {
			ctl_error(ctl, "out of memory");
			ret = EXIT_RUNTIME;
		} else {
			ret = tf_json_print(ctl, arr);
		}
	}
	free(rows);
	table_free(&t);
	return ret;
}

/* "ADDR:PORT" or "[ADDR6]:PORT"; @addr gets the address text. */
static bool split_endpoint(const char *s, char *addr, size_t len, uint64_t *port)
{
	const char *colon;
	size_t alen;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return false;
		alen = (size_t)(end - s - 1);
		if (alen >= len)
			return false;
		memcpy(addr, s + 1, alen);
		addr[alen] = '\0';
		return parse_u64_text(end + 2, port) && *port <= 65535;
	}
	colon = strrchr(s, ':');
	if (!colon || strchr(s, ':') != colon)	/* IPv6 needs the brackets */
		return false;
	alen = (size_t)(colon - s);
	if (alen >= len)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return parse_u64_text(colon + 1, port) && *port <= 65535;
}

static bool end_is(const struct table *t, size_t r, const char *acol, const char *pcol,
		   const char *addr, uint64_t port)
{
	uint64_t p;

	return table_get_u64(t, r, pcol, &p) && p == port &&
	       conns_addr_eq(table_get(t, r, acol), addr);
}

/**
 * conns_find() - the connection a user named
 * @ctl: options
 * @t: the conns table
 * @what: a connection id, or ADDR:PORT of either end ([ADDR]:PORT for IPv6)
 * @row: the row found
 *
 * Return: an exit code; on failure the reason has been printed.
 */
int conns_find(const struct ctl *ctl, const struct table *t, const char *what, size_t *row)
{
	char addr[64], a[96], b[96];
	uint64_t id, port, rid;
	size_t r, hits = 0, hit = 0;

	if (parse_u64_text(what, &id)) {
		for (r = 0; r < t->nrows; r++) {
			if (table_get_u64(t, r, "id", &rid) && rid == id) {
				*row = r;
				return EXIT_OK;
			}
		}
		ctl_error(ctl, "no connection with id %s in this network namespace (see '%s conns')",
			  what, ctl->prog);
		return EXIT_RUNTIME;
	}
	if (!split_endpoint(what, addr, sizeof(addr), &port) ||
	    !conns_addr_eq(addr, addr)) {
		ctl_error(ctl, "'%s' is neither a connection id nor ADDR:PORT ([ADDR]:PORT for IPv6)",
			  what);
		return EXIT_USAGE;
	}
	for (r = 0; r < t->nrows; r++) {
		if (end_is(t, r, "saddr", "sport", addr, port) ||
		    end_is(t, r, "daddr", "dport", addr, port)) {
			if (!hits++)
				hit = r;
		}
	}
	if (hits == 1) {
		*row = hit;
		return EXIT_OK;
	}
	if (!hits) {
		ctl_error(ctl, "no tracked connection has an end at %s in this network namespace",
			  what);
		return EXIT_RUNTIME;
	}
	ctl_error(ctl, "%s is an end of %zu connections; name one by id:", what, hits);
	for (r = 0; r < t->nrows; r++) {
		if (end_is(t, r, "saddr", "sport", addr, port) ||
		    end_is(t, r, "daddr", "dport", addr, port)) {
			fmt_endpoint(a, sizeof(a), table_get(t, r, "saddr"), table_get(t, r, "sport"));
			fmt_endpoint(b, sizeof(b), table_get(t, r, "daddr"), table_get(t, r, "dport"));
			fprintf(ctl->err, "  %s  %s -> %s  %s\n", str_or(table_get(t, r, "id"), "?"), a, b,
				str_or(table_get(t, r, "state"), "?"));
		}
	}
	return EXIT_USAGE;
}
