// SPDX-License-Identifier: GPL-2.0
/*
 * Parse the tables of /proc/net/tcpfault/ by their header line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Split @line in place into at most @max words; the last takes the rest. */
static size_t split(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		words[n++] = p;
		if (n == max) {
			/* The rest of the line, without trailing blanks. */
			char *end = p + strlen(p);

			while (end > p && is_space(end[-1]))
				*--end = '\0';
			break;
		}
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static size_t count_words(const char *s)
{
	size_t n = 0;

	while (*s) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		n++;
		while (*s && !is_space(*s))
			s++;
	}
	return n;
}

/**
 * table_parse() - parse a table's text
 * @text: NUL-terminated file contents
 * @t: the result; free with table_free()
 *
 * Return: 0, -EINVAL if there is no header line, or -ENOMEM.
 */
int table_parse(const char *text, struct table *t)
{
	size_t lines = 0, cap, i;
	char *line, *next;
	const char *p;

	memset(t, 0, sizeof(*t));
	t->buf = strdup(text);
	if (!t->buf)
		return -ENOMEM;
	for (p = text; *p; p++)
		lines += *p == '\n';
	lines++;

	line = t->buf;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	t->ncols = count_words(line);
	if (!t->ncols) {
		table_free(t);
		return -EINVAL;
	}
	t->cols = calloc(t->ncols, sizeof(*t->cols));
	cap = lines * t->ncols;
	t->rows = calloc(cap ? cap : 1, sizeof(*t->rows));
	if (!t->cols || !t->rows) {
		table_free(t);
		return -ENOMEM;
	}
	split(line, t->cols, t->ncols);
	/* A header name is one word: the rest-of-line rule is for values. */
	for (i = 0; i < t->ncols; i++)
		t->cols[i][strcspn(t->cols[i], " \t")] = '\0';

	for (line = next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!count_words(line))
			continue;
		split(line, &t->rows[t->nrows * t->ncols], t->ncols);
		t->nrows++;
	}
	return 0;
}

void table_free(struct table *t)
{
	free(t->buf);
	free(t->cols);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/**
 * table_col() - a column's index by name
 * Return: the index, or -1 if the table has no such column.
 */
int table_col(const struct table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name))
			return (int)i;
	return -1;
}

const char *table_cell(const struct table *t, size_t row, int col)
{
	if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows)
		return NULL;
	return t->rows[row * t->ncols + (size_t)col];
}

const char *table_get(const struct table *t, size_t row, const char *name)
{
	return table_cell(t, row, table_col(t, name));
}

bool parse_u64_text(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9' || n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*v = n;
	return true;
}

bool parse_s64_text(const char *s, int64_t *v)
{
	uint64_t n;

	if (s && *s == '-') {
		if (!parse_u64_text(s + 1, &n) || n > (uint64_t)INT64_MAX)
			return false;
		*v = -(int64_t)n;
		return true;
	}
	if (!parse_u64_text(s, &n) || n > (uint64_t)INT64_MAX)
		return false;
	*v = (int64_t)n;
	return true;
}

bool table_get_u64(const struct table *t, size_t row, const char *name, uint64_t *v)
{
	return parse_u64_text(table_get(t, row, name), v);
}
