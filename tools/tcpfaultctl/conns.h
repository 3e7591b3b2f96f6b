/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection table, /proc/net/tcpfault/conns: filters, sorting, text
 * and JSON. "o" columns count what the originator (the side that sent
 * the SYN, saddr:sport) sent, "r" columns what the responder sent; "ko"
 * and "kr" are the kernel's own figures for a local socket at either end.
 */
#ifndef TF_CONNS_H
#define TF_CONNS_H

#include <stdbool.h>
#include <stddef.h>

#include "../../module/spec.h"
#include "table.h"
#include "tcpfaultctl.h"

/**
 * struct conn_query - which connections, in which order
 * @src: originator address prefix (family ANY: no filter)
 * @dst: responder address prefix
 * @port: a port of either end, or -1
 * @state: wire state, or NULL
 * @sort: column to sort by, or NULL for "id"
 * @sort_argi: the word that named @sort, for a caret (0 if none)
 * @reverse: descending
 */
struct conn_query {
	struct tcpfault_prefix src;
	struct tcpfault_prefix dst;
	long port;
	const char *state;
	const char *sort;
	int sort_argi;
	bool reverse;
};

/**
 * typedef conns_opt_fn - a command's own options among the query words
 * @ctl: options
 * @argc: words of the command
 * @argv: the words
 * @i: the word to look at; moved past what the option consumed
 * @arg: the command's state
 *
 * Return: -1 if the word is not the command's, else an exit code.
 */
typedef int (*conns_opt_fn)(struct ctl *ctl, int argc, char **argv, int *i, void *arg);

int conns_parse_query(struct ctl *ctl, int argc, char **argv, int first,
		      struct conn_query *q, conns_opt_fn opt, void *arg);
int conns_select(const struct ctl *ctl, const struct table *t, const struct conn_query *q,
		 int argc, char **argv, size_t **rows, size_t *n);
int conns_print_text(const struct ctl *ctl, const struct table *t, const size_t *rows,
		     size_t n, const char *always);
int conns_find(const struct ctl *ctl, const struct table *t, const char *what, size_t *row);
bool conns_addr_eq(const char *a, const char *b);

#endif /* TF_CONNS_H */
