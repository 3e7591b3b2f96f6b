/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfaultctl: the command-line front end of tcpfault.
 *
 * It talks to the module only through its files: /sys/kernel/tcpfault/ for
 * control and global figures, /proc/net/tcpfault/ for the per-namespace
 * tables. Every command gets a struct ctl, which holds the options and the
 * streams to print to, so that the unit tests can run commands against a
 * fixture tree and capture their output.
 *
 *   cmd.c       global options and the command table
 *   files.c     reading and writing the module's files, errors, netns
 *   table.c     procfs tables, parsed by their header line
 *   args.c      command-line words: keywords, carets under bad words
 *   addspec.c   "add" words to the one-line grammar of module/spec.h
 *   faults.c    add, list, show, enable, disable, delete, flush
 *   conns.c     the connection table: filters, sorting, text and JSON
 *   timeline.c  one connection's events, with retransmission gaps
 *   svg.c       the same timeline as a standalone SVG
 *   stats.c     the global figures
 *   watch.c     a refreshing view of faults and connections
 *   text.c      aligned text tables and human-readable numbers
 *   json.c      json-c helpers
 */
#ifndef TCPFAULTCTL_H
#define TCPFAULTCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"

#ifndef TCPFAULTCTL_VERSION
#define TCPFAULTCTL_VERSION "0.1.0"
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define __printf(a, b)	__attribute__((format(printf, a, b)))

#define TF_SYSFS	"/sys/kernel/tcpfault"
#define TF_PROCFS	"/proc/net/tcpfault"
#define TF_NETNS_DIR	"/run/netns"

/* Exit codes; documented in tcpfaultctl.8. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command line or fault specification */
	EXIT_RUNTIME = 2,	/* the kernel rejected a write, or I/O failed */
	EXIT_NOMODULE = 3,	/* /sys/kernel/tcpfault is missing */
	EXIT_PERM = 4,		/* permission denied */
};

/**
 * struct ctl - options and environment of one invocation
 * @prog: program name, for messages
 * @sysfs: the module's sysfs directory (tests point it at a fixture)
 * @procfs: the module's procfs directory, in the current namespace
 * @netns_dir: where named network namespaces live
 * @netns: -n NAME, or NULL
 * @out: where results go
 * @err: where diagnostics go
 * @json: -j: print JSON
 * @pretty: -p: indent JSON
 * @tty: @out is a terminal (watch clears the screen only then)
 * @now_ns: CLOCK_MONOTONIC "now" for ages; 0 means read the clock
 */
struct ctl {
	const char *prog;
	const char *sysfs;
	const char *procfs;
	const char *netns_dir;
	const char *netns;
	FILE *out;
	FILE *err;
	bool json;
	bool pretty;
	bool tty;
	uint64_t now_ns;
};

void ctl_init(struct ctl *ctl, FILE *out, FILE *err);
int ctl_run(struct ctl *ctl, int argc, char **argv);

/* Commands: argv[0] is the command name. They return an exit code. */
#define TCPFAULTCTL_CMD_DECLARE(name) int cmd_##name(struct ctl *ctl, int argc, char **argv);
TCPFAULTCTL_COMMANDS(TCPFAULTCTL_CMD_DECLARE)
#undef TCPFAULTCTL_CMD_DECLARE

/* Diagnostics, prefixed with the program name. */
__printf(2, 3) void ctl_error(const struct ctl *ctl, const char *fmt, ...);
__printf(3, 4) int ctl_usage_error(const struct ctl *ctl, const char *cmd,
				   const char *fmt, ...);
uint64_t ctl_now_ns(const struct ctl *ctl);

#endif /* TCPFAULTCTL_H */
