/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfault:* tracepoints. Addresses are stored as 16 bytes, IPv4 as
 * IPv4-mapped IPv6, so one format serves both families; ports are host
 * order. Enable with e.g. `perf record -e 'tcpfault:*'` or
 * `echo 1 > /sys/kernel/tracing/events/tcpfault/enable`.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tcpfault

#if !defined(_TCPFAULT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TCPFAULT_TRACE_H

#include <linux/tracepoint.h>
#include "tcpfault.h"

/*
 * The symbolic names come from names.h. TRACE_DEFINE_ENUM() lets the
 * format files show values, not enum names, to perf and trace-cmd. The
 * ';' it needs goes inside TCPFAULT_LIST(), where checkpatch does not take
 * it for a macro's trailing semicolon.
 */
#undef EM
#undef EMe
#define EM(a, b)	TCPFAULT_LIST(TRACE_DEFINE_ENUM(a);)
#define EMe(a, b)	TCPFAULT_LIST(TRACE_DEFINE_ENUM(a);)

TCPFAULT_EVENTS(EM, EMe)
TCPFAULT_MODES(EM, EMe)
TCPFAULT_FAULT_STATES(EM, EMe)

#undef EM
#undef EMe
#define EM(a, b)	{ a, b },
#define EMe(a, b)	{ a, b }

#define tcpfault_show_event(t)	__print_symbolic(t, TCPFAULT_EVENTS(EM, EMe))
#define tcpfault_show_mode(m)	__print_symbolic(m, TCPFAULT_MODES(EM, EMe))
#define tcpfault_show_fstate(s)	__print_symbolic(s, TCPFAULT_FAULT_STATES(EM, EMe))

#ifndef _TCPFAULT_TRACE_HELPERS
#define _TCPFAULT_TRACE_HELPERS
/* Store an address as 16 bytes, IPv4 mapped into IPv6. */
static inline void tcpfault_trace_addr(u8 *dst, u8 family, const u8 *src)
{
	if (family == TCPFAULT_FAM_INET) {
		memset(dst, 0, 10);
		dst[10] = 0xff;
		dst[11] = 0xff;
		memcpy(dst + 12, src, 4);
	} else {
		memcpy(dst, src, 16);
	}
}
#endif

TRACE_EVENT(tcpfault_event,
	TP_PROTO(const struct tcpfault_conn *c, u8 type, u8 dir, u32 seq, u32 len,
		 u8 flags),
	TP_ARGS(c, type, dir, seq, len, flags),
	TP_STRUCT__entry(
		__field(u64, conn)
		__array(u8, saddr, 16)
		__array(u8, daddr, 16)
		__field(u16, sport)
		__field(u16, dport)
		__field(u8, type)
		__field(u8, dropped)
		__field(u32, seq)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->conn = c->id;
		tcpfault_trace_addr(__entry->saddr, c->key.family, c->key.addr[dir & 1]);
		tcpfault_trace_addr(__entry->daddr, c->key.family, c->key.addr[!(dir & 1)]);
		__entry->sport = c->key.port[dir & 1];
		__entry->dport = c->key.port[!(dir & 1)];
		__entry->type = type;
		__entry->dropped = !!(flags & TCPFAULT_EVF_DROPPED);
		__entry->seq = seq;
		__entry->len = len;
	),
	TP_printk("conn=%llu [%pI6c]:%u -> [%pI6c]:%u %s seq=%u len=%u%s",
		  __entry->conn, __entry->saddr, __entry->sport, __entry->daddr,
		  __entry->dport, tcpfault_show_event(__entry->type), __entry->seq,
		  __entry->len, __entry->dropped ? " dropped" : "")
);

TRACE_EVENT(tcpfault_drop,
	TP_PROTO(const struct tcpfault_fault *f, const struct tcpfault_pkt *pkt),
	TP_ARGS(f, pkt),
	TP_STRUCT__entry(
		__field(u64, fault)
		__field(u8, mode)
		__array(u8, saddr, 16)
		__array(u8, daddr, 16)
		__field(u16, sport)
		__field(u16, dport)
		__field(u32, seq)
		__field(u32, len)
		__field(u8, flags)
	),
	TP_fast_assign(
		__entry->fault = f->id;
		__entry->mode = f->spec.mode;
		tcpfault_trace_addr(__entry->saddr, pkt->t.family, pkt->t.saddr);
		tcpfault_trace_addr(__entry->daddr, pkt->t.family, pkt->t.daddr);
		__entry->sport = pkt->t.sport;
		__entry->dport = pkt->t.dport;
		__entry->seq = pkt->seq;
		__entry->len = pkt->len;
		__entry->flags = pkt->flags;
	),
	TP_printk("fault=%llu %s [%pI6c]:%u -> [%pI6c]:%u seq=%u len=%u flags=0x%02x",
		  __entry->fault, tcpfault_show_mode(__entry->mode), __entry->saddr,
		  __entry->sport, __entry->daddr, __entry->dport, __entry->seq,
		  __entry->len, __entry->flags)
);

TRACE_EVENT(tcpfault_inject,
	TP_PROTO(const struct tcpfault_rst *r),
	TP_ARGS(r),
	TP_STRUCT__entry(
		__array(u8, saddr, 16)
		__array(u8, daddr, 16)
		__field(u16, sport)
		__field(u16, dport)
		__field(u32, seq)
		__field(u32, ack_seq)
		__field(u8, ack)
	),
	TP_fast_assign(
		tcpfault_trace_addr(__entry->saddr, r->family, r->saddr);
		tcpfault_trace_addr(__entry->daddr, r->family, r->daddr);
		__entry->sport = r->sport;
		__entry->dport = r->dport;
		__entry->seq = r->seq;
		__entry->ack_seq = r->ack_seq;
		__entry->ack = r->ack;
	),
	TP_printk("rst [%pI6c]:%u -> [%pI6c]:%u seq=%u%s ack_seq=%u",
		  __entry->saddr, __entry->sport, __entry->daddr, __entry->dport,
		  __entry->seq, __entry->ack ? " ack" : "", __entry->ack_seq)
);

TRACE_EVENT(tcpfault_fault_state,
	TP_PROTO(const struct tcpfault_fault *f, int from, int to),
	TP_ARGS(f, from, to),
	TP_STRUCT__entry(
		__field(u64, fault)
		__field(u8, mode)
		__field(int, from)
		__field(int, to)
	),
	TP_fast_assign(
		__entry->fault = f->id;
		__entry->mode = f->spec.mode;
		__entry->from = from;
		__entry->to = to;
	),
	TP_printk("fault=%llu %s %s -> %s", __entry->fault,
		  tcpfault_show_mode(__entry->mode), tcpfault_show_fstate(__entry->from),
		  tcpfault_show_fstate(__entry->to))
);

#endif /* _TCPFAULT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
