/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One connection's timeline, from /proc/net/tcpfault/timeline: each event
 * with its time since the first one and, for the events TCP repeats on a
 * timer (retransmissions, keepalive and zero-window probes, SYN retries),
 * the gap since the previous one of the same kind in the same direction,
 * which is what shows RTO doubling and keepalive intervals.
 */
#ifndef TF_TIMELINE_H
#define TF_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "table.h"

/**
 * struct tl_event - one event
 * @row: its row in the timeline table
 * @ts_ns: CLOCK_MONOTONIC time of the event
 * @rel_ns: time since the connection's first event
 * @dir: 'o' (sent by the originator), 'r' (by the responder), '?'
 * @event: event name
 * @info: the info column, NULL when "-"
 * @dropped: a fault dropped the segment
 * @has_gap: @gap_ns is meaningful
 * @gap_ns: time since the previous event of the same kind and direction
 * @ratio: @gap_ns over the previous such gap, 0 if there is none
 */
struct tl_event {
	size_t row;
	uint64_t ts_ns;
	uint64_t rel_ns;
	char dir;
	const char *event;
	const char *info;
	bool dropped;
	bool has_gap;
	uint64_t gap_ns;
	double ratio;
};

/**
 * struct tl - the events of one connection, oldest first
 * @t: the timeline table they come from
 * @ev: the events
 * @n: how many
 */
struct tl {
	const struct table *t;
	struct tl_event *ev;
	size_t n;
};

/**
 * struct tl_labels - what the text and SVG renderings call things
 * @title: e.g. "connection 3: 10.0.1.1:43210 -> 10.0.1.2:5001 (CLOSED)"
 * @o: the originator, "10.0.1.1:43210"
 * @r: the responder
 * @faults: the faults table (to name fault=ID), or NULL
 */
struct tl_labels {
	const char *title;
	const char *o;
	const char *r;
	const struct table *faults;
};

int tl_build(const struct table *t, uint64_t conn, struct tl *tl);
void tl_free(struct tl *tl);
bool tl_gap_kind(const char *event);
const char *tl_fault_name(const struct tl_labels *lb, const char *info);
void tl_fault_label(const struct tl_labels *lb, const char *info, char *buf, size_t len);
void tl_fmt_gap(const struct tl_event *e, char *buf, size_t len);
void tl_print_text(FILE *f, const struct tl *tl, const struct tl_labels *lb);
int tl_svg(FILE *f, const struct tl *tl, const struct tl_labels *lb);

#endif /* TF_TIMELINE_H */
