/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only knobs of the connection table, defined in conn_test.c (which
 * includes conn.c and so reaches its parameters) for the other suites.
 * Each sets a value and returns the one it replaced.
 */
#ifndef _TCPFAULT_KUNIT_TUNABLES_H
#define _TCPFAULT_KUNIT_TUNABLES_H

unsigned int tcpfault_kunit_idle_timeout(unsigned int s);
unsigned int tcpfault_kunit_conns_max(unsigned int n);
/* Buckets and entries the connection table's walks have looked at so far. */
unsigned long tcpfault_kunit_walk_steps(void);

#endif /* _TCPFAULT_KUNIT_TUNABLES_H */
