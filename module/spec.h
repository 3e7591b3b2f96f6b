/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfault control grammar: fault specifications and selectors.
 *
 * This header and spec.c build both in the kernel and in userspace (the CLI,
 * the host unit tests and the fuzzer), so they use no kernel API beyond the
 * fixed-width types and snprintf().
 *
 * Grammar of one fault specification (one line, at most TCPFAULT_SPEC_MAX
 * bytes, one trailing newline allowed):
 *
 *   spec   := NAME (WS key=value)*
 *   NAME   := [A-Za-z0-9][A-Za-z0-9_.-]{0,31}
 *   key    := a name of TCPFAULT_SPEC_KEYS (names.h): mode, src, ...
 *   mode   := a name of TCPFAULT_MODES (names.h): link-down, ...
 *   src, dst, host := any | IPV4[/0-32] | IPV6[/0-128]
 *   sport, dport   := any | PORT | PORT-PORT          (PORT is 0-65535)
 *   prob   := PCT% with PCT in (0, 100], up to 4 decimals ("12.5%")
 *   delay, duration := N(ms|s|m|h), at most 30 days; duration > 0
 *   after  := N[K|M|G] bytes (powers of 1024), N > 0
 *   nflog  := GROUP, 0-65535: an NFLOG group that gets a copy of every
 *             segment the fault drops and every RST it sends
 *   timeout := DUR, > 0: how long a flow may idle before idle-timeout's
 *             middlebox forgets it
 *   action := a name of TCPFAULT_IDLE_ACTIONS (names.h): drop, rst; what
 *             the middlebox does to a forgotten flow's segments (drop)
 *   latency := DUR, > 0: how long delay holds each segment
 *   jitter := DUR, at most latency: a uniform spread around latency (0)
 *   reorder := 0 | 1: may jitter reorder segments (0: one FIFO)
 *   enabled := 0 | 1
 *
 * Every key may appear at most once. "mode" is required. "power-off" takes
 * "host" and no src/dst/sport/dport; the other modes take no "host". "prob"
 * belongs to "loss" and is required there. "after" applies to link-down,
 * oneway, loss and reset. "nflog" applies to every mode but watch.
 * "idle-timeout" needs "timeout"; "timeout" and "action" belong to it.
 * "delay" needs "latency"; "latency", "jitter" and "reorder" belong to it,
 * and "after" applies to it too.
 */
#ifndef _TCPFAULT_SPEC_H
#define _TCPFAULT_SPEC_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#include "names.h"

#define TCPFAULT_NAME_MAX	32
#define TCPFAULT_SPEC_MAX	511
#define TCPFAULT_ERR_MAX	160
#define TCPFAULT_MAX_MS		(30ULL * 24 * 3600 * 1000)
#define TCPFAULT_PROB_ONE	1000000U	/* prob is in parts per million */

/* Address families as the grammar knows them (not AF_*: no kernel headers). */
enum tcpfault_family {
	TCPFAULT_FAM_ANY = 0,
	TCPFAULT_FAM_INET = 4,
	TCPFAULT_FAM_INET6 = 6,
};

/**
 * struct tcpfault_prefix - an address prefix, or "any"
 * @family: TCPFAULT_FAM_ANY (matches everything), _INET or _INET6
 * @plen: prefix length in bits
 * @addr: network-order address; bits past @plen are zero
 */
struct tcpfault_prefix {
	u8 family;
	u8 plen;
	u8 addr[16];
};

/**
 * struct tcpfault_portrange - an inclusive port range; "any" is 0-65535
 * @lo: first port
 * @hi: last port
 */
struct tcpfault_portrange {
	u16 lo;
	u16 hi;
};

/**
 * struct tcpfault_spec - one parsed fault specification
 * @name: NUL-terminated fault name
 * @mode: enum tcpfault_mode
 * @family: TCPFAULT_FAM_ANY if neither address names a family
 * @src: source prefix; for power-off this holds the host
 * @dst: destination prefix
 * @sport: source ports
 * @dport: destination ports
 * @prob: drop probability for loss, parts per million
 * @delay_ms: time from enable to activation
 * @duration_ms: time from activation to healing; 0 means never
 * @after_bytes: per connection, payload bytes that pass before the fault
 *               bites; 0 means from the first segment
 * @nflog: the fault's drops and injected RSTs are copied to an NFLOG group
 * @nflog_group: that group
 * @timeout_ms: idle-timeout: how long a flow may idle before it is forgotten
 * @action: idle-timeout: enum tcpfault_idle_action
 * @latency_ms: delay: how long each segment is held
 * @jitter_ms: delay: held for latency plus or minus up to this, uniformly
 * @reorder: delay: jitter may reorder segments (else one FIFO per fault)
 * @enabled: initial state
 * @keys: bitmask of enum tcpfault_key, the keys the user gave
 */
struct tcpfault_spec {
	char name[TCPFAULT_NAME_MAX + 1];
	u8 mode;
	u8 family;
	struct tcpfault_prefix src, dst;
	struct tcpfault_portrange sport, dport;
	u32 prob;
	u64 delay_ms;
	u64 duration_ms;
	u64 after_bytes;
	bool nflog;
	u16 nflog_group;
	u64 timeout_ms;
	u8 action;
	u64 latency_ms;
	u64 jitter_ms;
	bool reorder;
	bool enabled;
	u32 keys;
};

/**
 * struct tcpfault_tuple - a TCP segment's addresses and ports, as on the wire
 * @family: TCPFAULT_FAM_INET or _INET6
 * @saddr: source address (IPv4 in the first 4 bytes, rest zero)
 * @daddr: destination address
 * @sport: source port, host order
 * @dport: destination port, host order
 */
struct tcpfault_tuple {
	u8 family;
	u8 saddr[16];
	u8 daddr[16];
	u16 sport;
	u16 dport;
};

/**
 * struct tcpfault_perr - where and why a parse failed
 * @msg: human-readable reason, NUL-terminated
 * @pos: byte offset of the offending word in the input
 * @len: length of the offending word (0 if the problem is a missing word)
 */
struct tcpfault_perr {
	char msg[TCPFAULT_ERR_MAX];
	int pos;
	int len;
};

int tcpfault_spec_parse(const char *buf, size_t len, struct tcpfault_spec *spec,
			struct tcpfault_perr *err);
bool tcpfault_spec_next_line(const char *buf, size_t len, size_t *pos, size_t *start,
			     size_t *llen);
int tcpfault_spec_parse_name(const char *buf, size_t len, char *name,
			     struct tcpfault_perr *err);
int tcpfault_spec_parse_switch(const char *buf, size_t len, bool *on,
			       struct tcpfault_perr *err);
int tcpfault_spec_format(const struct tcpfault_spec *spec, char *buf, size_t len);
int tcpfault_spec_format_selector(const struct tcpfault_spec *spec, char *buf,
				  size_t len);
int tcpfault_spec_format_prefix(const struct tcpfault_prefix *p, char *buf,
				size_t len);
int tcpfault_spec_format_addr(u8 family, const u8 *addr, char *buf, size_t len);
int tcpfault_spec_parse_addr(const char *s, size_t len, struct tcpfault_prefix *p);
bool tcpfault_spec_match(const struct tcpfault_spec *spec,
			 const struct tcpfault_tuple *t, bool reverse);
bool tcpfault_spec_prefix_match(const struct tcpfault_prefix *p, u8 family,
				const u8 *addr);
const char *tcpfault_spec_mode_name(unsigned int mode);
int tcpfault_spec_mode_from_name(const char *s, size_t len);
const char *tcpfault_spec_action_name(unsigned int action);

#endif /* _TCPFAULT_SPEC_H */
