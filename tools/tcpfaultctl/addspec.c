// SPDX-License-Identifier: GPL-2.0
/*
 *   add NAME MODE [src ADDR[/LEN]] [sport PORT|LO-HI] [dst ...] [dport ...]
 *       [host ADDR[/LEN]] [prob PCT%] [delay DUR] [duration DUR]
 *       [after BYTES] [nflog GROUP] [timeout DUR] [action drop|rst]
 *       [latency DUR] [jitter DUR] [reorder 0|1] [disabled]
 *
 * becomes "NAME mode=MODE src=... ...". "KEY=VALUE" words pass through as
 * they are. The result is checked with the module's own parser, spec.c,
 * before it is written, so a mistake is reported against the user's word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addspec.h"
#include "lists.h"

static bool is_key(const char *w)
{
	size_t i;

	for (i = 0; i < TCPFAULT_KEY_MAX; i++)
		if (!strcmp(w, ctl_key_names[i]))
			return true;
	return false;
}

static int grow(struct addspec *as, size_t need)
{
	size_t cap = as->cap ? as->cap : 128;
	char *line;
	int *from, *off;

	if (as->len + need + 1 <= as->cap)
		return 0;
	while (cap < as->len + need + 1)
		cap *= 2;
	line = realloc(as->line, cap);
	if (!line)
		return -ENOMEM;
	as->line = line;
	from = realloc(as->from, cap * sizeof(*from));
	if (!from)
		return -ENOMEM;
	as->from = from;
	off = realloc(as->off, cap * sizeof(*off));
	if (!off)
		return -ENOMEM;
	as->off = off;
	as->cap = cap;
	return 0;
}

/* Append @n bytes of @s; they came from word @argi at @off (-1: the whole word). */
static int put(struct addspec *as, const char *s, size_t n, int argi, int off)
{
	size_t i;

	if (grow(as, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		as->line[as->len] = s[i];
		as->from[as->len] = argi;
		as->off[as->len] = off < 0 ? -1 : off + (int)i;
		as->len++;
	}
	as->line[as->len] = '\0';
	return 0;
}

static int put_word(struct addspec *as, const char *w, int argi)
{
	return put(as, w, strlen(w), argi, 0);
}

/*
 * Append " KEY=VALUE". @key comes from word @kargi; a negative @kargi
 * means the key is tcpfaultctl's own and stands for word -@kargi - 1.
 * With no @key, @val is a whole "KEY=VALUE" word.
 */
static int put_pair(struct addspec *as, const char *key, int kargi, const char *val,
		    int vargi)
{
	int owner = kargi >= 0 ? kargi : -kargi - 1;

	if (!key)
		owner = vargi;
	if (put(as, " ", 1, owner, -1))
		return -ENOMEM;
	if (key) {
		if (put(as, key, strlen(key), owner, kargi >= 0 ? 0 : -1) ||
		    put(as, "=", 1, owner, -1))
			return -ENOMEM;
	}
	return put_word(as, val, vargi);
}

/* The NAME on its own, so that a bad one is shown under its word. */
static int check_name(const char *w, int argi, struct adderr *ae)
{
	char name[TCPFAULT_NAME_MAX + 1];
	struct tcpfault_perr perr;

	memset(&perr, 0, sizeof(perr));
	if (!tcpfault_spec_parse_name(w, strlen(w), name, &perr))
		return 0;
	args_span_word(&ae->span, argi);
	if (perr.len > 0) {
		ae->span.off = perr.pos;
		ae->span.end_off = perr.pos + perr.len;
	}
	snprintf(ae->msg, sizeof(ae->msg), "%s", perr.msg);
	return -EINVAL;
}

static void err_word(struct adderr *ae, int argi, const char *fmt, const char *w)
{
	args_span_word(&ae->span, argi);
	snprintf(ae->msg, sizeof(ae->msg), fmt, w);
}

static void err_end(struct adderr *ae, const char *fmt, const char *w)
{
	memset(&ae->span, 0, sizeof(ae->span));
	ae->span.at_end = true;
	snprintf(ae->msg, sizeof(ae->msg), fmt, w);
}

/**
 * addspec_build() - turn "add" words into a specification line
 * @argc: words of the command (argv[0] is "add")
 * @argv: the words
 * @first: index of NAME
 * @as: the result (zeroed by the caller); free with addspec_free()
 * @ae: what is wrong, when the words do not make a line
 *
 * Return: 0, -EINVAL with @ae filled in, or -ENOMEM.
 */
int addspec_build(int argc, char **argv, int first, struct addspec *as,
		  struct adderr *ae)
{
	bool mode = false;
	int i;

	if (first >= argc) {
		err_end(ae, "add: missing NAME%s", "");
		return -EINVAL;
	}
	if (check_name(argv[first], first, ae))
		return -EINVAL;
	if (put_word(as, argv[first], first))
		return -ENOMEM;
	for (i = first + 1; i < argc; i++) {
		const char *w = argv[i];
		int ret;

		if (strchr(w, '=')) {
			mode |= !strncmp(w, "mode=", 5);
			ret = put_pair(as, NULL, -1, w, i);
		} else if (is_key(w)) {
			if (i + 1 >= argc) {
				err_end(ae, "%s: missing value", w);
				return -EINVAL;
			}
			mode |= !strcmp(w, "mode");
			ret = put_pair(as, w, i, argv[i + 1], i + 1);
			i++;
		} else if (!strcmp(w, "disabled")) {
			ret = put(as, " enabled=0", 10, i, -1);
		} else if (i == first + 1) {
			mode = true;
			ret = put_pair(as, "mode", -i - 1, w, i);
		} else {
			err_word(ae, i,
				 "add: unexpected '%s' (expected KEY VALUE or KEY=VALUE with KEY one of "
				 TCPFAULT_NAMES_LIST(TCPFAULT_SPEC_OPTION_KEYS) "; or 'disabled')",
				 w);
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (!mode) {
		if (first + 1 < argc)
			err_word(ae, first + 1, "add: '%s' is not a MODE; the MODE follows the NAME: add NAME MODE ... ("
				 TCPFAULT_NAMES_LIST(TCPFAULT_MODES) ")",
				 argv[first + 1]);
		else
			err_end(ae, "add: missing MODE after the NAME (" TCPFAULT_NAMES_LIST(TCPFAULT_MODES) ")%s",
				"");
		return -EINVAL;
	}
	return 0;
}

/* Map bytes [pos, pos + len) of the line back to the words they came from. */
static void map_span(const struct addspec *as, int pos, int len, struct argspan *sp)
{
	size_t a, b;

	memset(sp, 0, sizeof(*sp));
	if (pos < 0 || (size_t)pos >= as->len) {
		sp->at_end = true;
		return;
	}
	a = (size_t)pos;
	b = len > 0 ? (size_t)pos + (size_t)len - 1 : a;
	if (b >= as->len)
		b = as->len - 1;
	/* The blank before a word belongs to nobody in particular. */
	while (a < b && as->line[a] == ' ' && as->off[a] < 0)
		a++;
	sp->argi = as->from[a];
	sp->off = as->off[a] < 0 ? 0 : as->off[a];
	sp->end_argi = as->from[b];
	sp->end_off = as->off[b] < 0 ? -1 : as->off[b] + 1;
}

/**
 * addspec_check() - parse the line with the module's parser
 * @as: the line
 * @spec: the parsed result
 * @ae: the parser's reason and where it points, on failure
 *
 * Return: 0 or -EINVAL.
 */
int addspec_check(const struct addspec *as, struct tcpfault_spec *spec,
		  struct adderr *ae)
{
	struct tcpfault_perr perr;

	memset(&perr, 0, sizeof(perr));
	if (!tcpfault_spec_parse(as->line, as->len, spec, &perr))
		return 0;
	snprintf(ae->msg, sizeof(ae->msg), "%s", perr.msg);
	if (perr.len == 0 && perr.pos == 0 && as->len > 0) {
		/* Not about one word (the line as a whole is too long). */
		memset(&ae->span, 0, sizeof(ae->span));
		ae->span.argi = -1;
		return -EINVAL;
	}
	map_span(as, perr.pos, perr.len, &ae->span);
	return -EINVAL;
}

void addspec_free(struct addspec *as)
{
	free(as->line);
	free(as->from);
	free(as->off);
	memset(as, 0, sizeof(*as));
}
