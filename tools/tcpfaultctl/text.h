/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text output: aligned tables and human-readable figures.
 */
#ifndef TF_TEXT_H
#define TF_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * struct tt - a text table, printed with aligned columns
 * @ncols: columns
 * @right: bit i set: column i is right-aligned (numbers)
 * @nrows: rows so far, the header included
 * @cap: rows allocated
 * @cells: nrows * ncols copies of the cell strings
 */
struct tt {
	size_t ncols;
	unsigned long right;
	size_t nrows;
	size_t cap;
	char **cells;
};

void tt_init(struct tt *t, size_t ncols, unsigned long right);
int tt_row(struct tt *t, const char *const *cells);
void tt_print(const struct tt *t, FILE *f);
void tt_free(struct tt *t);

const char *str_or(const char *s, const char *dflt);
void fmt_age(char *buf, size_t len, uint64_t ns);
void fmt_ms_left(char *buf, size_t len, const char *ms);
void fmt_endpoint(char *buf, size_t len, const char *addr, const char *port);
void fmt_iec(char *buf, size_t len, uint64_t bytes);

#endif /* TF_TEXT_H */
