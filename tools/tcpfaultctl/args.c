// SPDX-License-Identifier: GPL-2.0
/*
 * Command-line words. An error about a word shows the command line with a
 * caret line under the offending word, as compilers do:
 *
 *   tcpfaultctl: src: bad address '10.0.0.300' (expected any, IPv4 or ...)
 *       tcpfaultctl add web link-down src 10.0.0.300
 *                                         ^^^^^^^^^^
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define CARET_INDENT "    "

/* Words are shown quoted when the shell would split them. */
static bool needs_quotes(const char *w)
{
	return !*w || strpbrk(w, " \t'\"") != NULL;
}

static size_t shown_len(const char *w)
{
	return strlen(w) + (needs_quotes(w) ? 2 : 0);
}

static void show_word(FILE *f, const char *w)
{
	const char *p;
	bool q = needs_quotes(w);

	if (q)
		fputc('\'', f);
	for (p = w; *p; p++)
		fputc(isprint((unsigned char)*p) ? *p : '?', f);
	if (q)
		fputc('\'', f);
}

/* The column where word @argi's text starts, after "prog cmd ". */
static size_t word_col(const struct ctl *ctl, int argc, char **argv, int argi)
{
	size_t col = strlen(ctl->prog) + 1;
	int i;

	for (i = 0; i < argi && i < argc; i++)
		col += shown_len(argv[i]) + 1;
	if (argi < argc && needs_quotes(argv[argi]))
		col++;
	return col;
}

void args_span_word(struct argspan *sp, int argi)
{
	sp->argi = argi;
	sp->off = 0;
	sp->end_argi = argi;
	sp->end_off = -1;
	sp->at_end = false;
}

static size_t clamp_off(const char *w, int off)
{
	size_t n = strlen(w);

	if (off < 0 || (size_t)off > n)
		return n;
	return (size_t)off;
}

/**
 * args_caret() - print the command line and a caret line under @sp
 * @ctl: options (prog, err stream)
 * @argc: words of the command, argv[0] being the command name
 * @argv: the words
 * @sp: what to underline
 */
void args_caret(const struct ctl *ctl, int argc, char **argv, const struct argspan *sp)
{
	size_t from, to, col;
	int i;

	if (!sp->at_end && sp->argi < 0)
		return;		/* not about any one word */
	fprintf(ctl->err, CARET_INDENT "%s", ctl->prog);
	for (i = 0; i < argc; i++) {
		fputc(' ', ctl->err);
		show_word(ctl->err, argv[i]);
	}
	fputc('\n', ctl->err);
	if (sp->at_end || sp->argi >= argc) {
		from = word_col(ctl, argc, argv, argc);
		to = from + 1;
	} else {
		int last = sp->end_argi < argc ? sp->end_argi : argc - 1;

		from = word_col(ctl, argc, argv, sp->argi) +
		       clamp_off(argv[sp->argi], sp->off);
		to = word_col(ctl, argc, argv, last) +
		     clamp_off(argv[last], sp->end_off);
		if (to <= from)
			to = from + 1;
	}
	fputs(CARET_INDENT, ctl->err);
	for (col = 0; col < to; col++)
		fputc(col < from ? ' ' : '^', ctl->err);
	fputc('\n', ctl->err);
}

static int vword_error(const struct ctl *ctl, int argc, char **argv,
		       const struct argspan *sp, const char *fmt, va_list ap)
{
	fprintf(ctl->err, "%s: ", ctl->prog);
	vfprintf(ctl->err, fmt, ap);
	fputc('\n', ctl->err);
	args_caret(ctl, argc, argv, sp);
	return EXIT_USAGE;
}

/** args_word_error() - complain about word @argi; return EXIT_USAGE */
int args_word_error(const struct ctl *ctl, int argc, char **argv, int argi,
		    const char *fmt, ...)
{
	struct argspan sp;
	va_list ap;
	int ret;

	args_span_word(&sp, argi);
	va_start(ap, fmt);
	ret = vword_error(ctl, argc, argv, &sp, fmt, ap);
	va_end(ap);
	return ret;
}

/** args_end_error() - complain that a word is missing; return EXIT_USAGE */
int args_end_error(const struct ctl *ctl, int argc, char **argv, const char *fmt, ...)
{
	struct argspan sp = { .at_end = true };
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vword_error(ctl, argc, argv, &sp, fmt, ap);
	va_end(ap);
	return ret;
}

bool args_is_help(const char *w)
{
	return !strcmp(w, "-h") || !strcmp(w, "--help");
}

/** args_read_opt() - the output options any read command takes */
bool args_read_opt(struct ctl *ctl, const char *w)
{
	if (!strcmp(w, "-j") || !strcmp(w, "--json")) {
		ctl->json = true;
		return true;
	}
	if (!strcmp(w, "-p") || !strcmp(w, "--pretty")) {
		ctl->json = true;
		ctl->pretty = true;
		return true;
	}
	return false;
}

/**
 * args_opt_value() - match an option that takes a value
 * @argc: words
 * @argv: the words
 * @i: the current word; advanced past the value on a match
 * @sname: short form ("-i"), also accepted glued ("-i0.5")
 * @lname: long form ("--interval"), also accepted as "--interval=0.5"
 * @val: the value
 *
 * Return: 1 on a match, 0 if argv[*i] is another word, -1 if the value is
 * missing.
 */
int args_opt_value(int argc, char **argv, int *i, const char *sname,
		   const char *lname, const char **val)
{
	const char *w = argv[*i];
	size_t ll = strlen(lname), sl = strlen(sname);

	if (!strcmp(w, sname) || !strcmp(w, lname)) {
		if (*i + 1 >= argc)
			return -1;
		*val = argv[++*i];
		return 1;
	}
	if (!strncmp(w, lname, ll) && w[ll] == '=') {
		*val = w + ll + 1;
		return 1;
	}
	if (!strncmp(w, sname, sl) && w[sl]) {
		*val = w + sl;
		return 1;
	}
	return 0;
}

/**
 * args_keyword() - match "KEY VALUE" or "KEY=VALUE"
 * @argc: words
 * @argv: the words
 * @i: the current word; advanced past the value on a match
 * @key: the keyword
 * @val: the value
 * @missing: set when KEY is the last word
 *
 * Return: true on a match (with @val set unless @missing).
 */
bool args_keyword(int argc, char **argv, int *i, const char *key, const char **val,
		  int *missing)
{
	const char *w = argv[*i];
	size_t kl = strlen(key);

	*missing = 0;
	if (!strcmp(w, key)) {
		if (*i + 1 >= argc) {
			*missing = 1;
			return true;
		}
		*val = argv[++*i];
		return true;
	}
	if (!strncmp(w, key, kl) && w[kl] == '=') {
		*val = w + kl + 1;
		return true;
	}
	return false;
}

/** args_parse_seconds() - a positive number of seconds, at most a day */
bool args_parse_seconds(const char *s, double *sec)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.01 && v <= 86400))
		return false;
	*sec = v;
	return true;
}

/** args_parse_count() - a positive integer */
bool args_parse_count(const char *s, unsigned long *n)
{
	char *end;
	unsigned long v;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v)
		return false;
	*n = v;
	return true;
}
