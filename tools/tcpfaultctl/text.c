// SPDX-License-Identifier: GPL-2.0
/*
 * Aligned text tables and human-readable figures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "text.h"

void tt_init(struct tt *t, size_t ncols, unsigned long right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right;
}

/**
 * tt_row() - add a row (the first one is the header)
 * @t: the table
 * @cells: @t->ncols strings; NULL prints as "-"
 *
 * Return: 0 or -ENOMEM.
 */
int tt_row(struct tt *t, const char *const *cells)
{
	size_t i;
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	row = &t->cells[t->nrows * t->ncols];
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

/* The last cell of row @r that is not empty: nothing is printed past it. */
static size_t last_cell(const struct tt *t, size_t r)
{
	size_t c = t->ncols;

	while (c > 1 && !*t->cells[r * t->ncols + c - 1])
		c--;
	return c;
}

/** tt_print() - print with two blanks between columns; no trailing blanks */
void tt_print(const struct tt *t, FILE *f)
{
	size_t r, c, end, *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

	for (r = 0; w && r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	/* Out of memory: the same cells, unaligned. */
	for (r = 0; r < t->nrows; r++) {
		end = last_cell(t, r);
		for (c = 0; c < end; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int width = w ? (int)w[c] : 0;

			if (c)
				fputs("  ", f);
			if (c < 8 * sizeof(t->right) && (t->right & (1UL << c)))
				fprintf(f, "%*s", width, s);
			else if (c + 1 == end)
				fputs(s, f);
			else
				fprintf(f, "%-*s", width, s);
		}
		fputc('\n', f);
	}
	free(w);
}

void tt_free(struct tt *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/** str_or() - @s, or @dflt if @s is NULL */
const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/** fmt_age() - a duration: "0.204s", "42.5s", "5m02s", "3h07m" */
void fmt_age(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000ULL;

	if (s < 10)
		snprintf(buf, len, "%.3fs", (double)ns / 1e9);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

/** fmt_ms_left() - time_left_ms as a duration, "-" for -1 (no timer) */
void fmt_ms_left(char *buf, size_t len, const char *ms)
{
	uint64_t v;

	if (parse_u64_text(ms, &v))
		fmt_age(buf, len, v * 1000000ULL);
	else
		snprintf(buf, len, "-");
}

/** fmt_endpoint() - "10.0.0.1:80" or "[fd00::1]:80" */
void fmt_endpoint(char *buf, size_t len, const char *addr, const char *port)
{
	if (!addr)
		addr = "?";
	if (!port)
		port = "?";
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%s", addr, port);
	else
		snprintf(buf, len, "%s:%s", addr, port);
}

/** fmt_iec() - a byte count in powers of 1024: "512 B", "120.6 KiB" */
void fmt_iec(char *buf, size_t len, uint64_t bytes)
{
	static const char * const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[i]);
}
