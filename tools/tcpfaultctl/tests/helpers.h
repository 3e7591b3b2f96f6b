/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unit-test helpers: a throwaway directory tree standing in for
 * /sys/kernel/tcpfault and /proc/net/tcpfault, and a way to run a
 * tcpfaultctl command line against it with its output captured.
 */
#ifndef TF_TEST_HELPERS_H
#define TF_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <sys/types.h>

#include "tcpfaultctl.h"

struct tree {
	char root[256];
	char sysfs[300];
	char procfs[300];
};

struct run {
	int rc;
	char *out;
	char *err;
};

void tree_make(struct tree *t);
void tree_file(const struct tree *t, const char *rel, const char *text, mode_t mode);
void tree_fixture(const struct tree *t, const char *rel, const char *fixture);
char *tree_read(const struct tree *t, const char *rel);
void tree_remove(struct tree *t);
char *fixture_read(const char *name);

/* Run "tcpfaultctl WORDS..." (NULL-terminated) against @t (NULL: no module). */
void run_ctl(const struct tree *t, struct run *r, bool tty, ...);
void run_free(struct run *r);

/* Nonzero if @hay contains @needle; prints both otherwise. */
#define assert_contains(hay, needle) \
	_assert_contains((hay), (needle), __FILE__, __LINE__)
void _assert_contains(const char *hay, const char *needle, const char *file, int line);
#define assert_not_contains(hay, needle) \
	_assert_not_contains((hay), (needle), __FILE__, __LINE__)
void _assert_not_contains(const char *hay, const char *needle, const char *file, int line);

#endif /* TF_TEST_HELPERS_H */
