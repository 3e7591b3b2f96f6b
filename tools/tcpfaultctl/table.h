/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tables of /proc/net/tcpfault/: a header line naming whitespace-
 * separated columns, then one line per row. Columns are found by name,
 * never by position, so that columns the module adds later are carried
 * along untouched. The last column takes the rest of the line ("spec" in
 * the faults table holds spaces).
 */
#ifndef TF_TABLE_H
#define TF_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/**
 * struct table - a parsed table
 * @buf: private copy of the text; names and values point into it
 * @ncols: columns in the header
 * @cols: their names
 * @nrows: rows
 * @rows: nrows * ncols values, row-major; NULL where a line was short
 */
struct table {
	char *buf;
	size_t ncols;
	char **cols;
	size_t nrows;
	char **rows;
};

int table_parse(const char *text, struct table *t);
void table_free(struct table *t);
int table_col(const struct table *t, const char *name);
const char *table_cell(const struct table *t, size_t row, int col);
const char *table_get(const struct table *t, size_t row, const char *name);
bool table_get_u64(const struct table *t, size_t row, const char *name, uint64_t *v);
bool parse_u64_text(const char *s, uint64_t *v);
bool parse_s64_text(const char *s, int64_t *v);

#endif /* TF_TABLE_H */
