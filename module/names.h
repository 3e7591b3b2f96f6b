/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every list of names tcpfault shows its users, defined once.
 *
 * Each list is an X-macro in the trace headers' EM()/EMe() style: an entry
 * is EM(enum constant, "name"), the last one EMe(), so that a caller can
 * leave out the separator after it. The enums below, the module's string
 * tables, the tracepoints' __print_symbolic() tables, the grammar's error
 * texts, and tcpfaultctl's checks, help and bash completion are all
 * generated from these lists: a new mode, key, event or state is added
 * here and nowhere else.
 *
 * The header builds in the kernel and in userspace (it needs nothing).
 */
#ifndef _TCPFAULT_NAMES_H
#define _TCPFAULT_NAMES_H

/*
 * Passes a list through unchanged. A list is a run of EM()/EMe() entries,
 * not an expression; as one macro argument it reads as one to checkpatch.
 */
#define TCPFAULT_LIST(...)	__VA_ARGS__

/* Fault modes, the value of mode=. */
#define TCPFAULT_MODES(EM, EMe) TCPFAULT_LIST(			\
	EM(TCPFAULT_MODE_LINK_DOWN, "link-down")		\
	EM(TCPFAULT_MODE_ONEWAY, "oneway")			\
	EM(TCPFAULT_MODE_LOSS, "loss")				\
	EM(TCPFAULT_MODE_POWER_OFF, "power-off")		\
	EM(TCPFAULT_MODE_RESET, "reset")			\
	EM(TCPFAULT_MODE_SYN_BLOCK, "syn-block")		\
	EM(TCPFAULT_MODE_IDLE_TIMEOUT, "idle-timeout")		\
	EM(TCPFAULT_MODE_DELAY, "delay")			\
	EMe(TCPFAULT_MODE_WATCH, "watch"))

/*
 * The grammar's keys, in this order: mode=, the selector and option keys
 * (which tcpfaultctl add takes as "KEY VALUE" after the MODE), enabled=.
 */
#define TCPFAULT_SPEC_KEYS(EM, EMe) TCPFAULT_LIST(		\
	EM(TCPFAULT_KEY_MODE, "mode")				\
	TCPFAULT_SPEC_OPTION_KEYS(EM, EM)			\
	EMe(TCPFAULT_KEY_ENABLED, "enabled"))

#define TCPFAULT_SPEC_OPTION_KEYS(EM, EMe) TCPFAULT_LIST(	\
	EM(TCPFAULT_KEY_SRC, "src")				\
	EM(TCPFAULT_KEY_DST, "dst")				\
	EM(TCPFAULT_KEY_SPORT, "sport")				\
	EM(TCPFAULT_KEY_DPORT, "dport")				\
	EM(TCPFAULT_KEY_HOST, "host")				\
	EM(TCPFAULT_KEY_PROB, "prob")				\
	EM(TCPFAULT_KEY_DELAY, "delay")				\
	EM(TCPFAULT_KEY_DURATION, "duration")			\
	EM(TCPFAULT_KEY_AFTER, "after")				\
	EM(TCPFAULT_KEY_NFLOG, "nflog")				\
	EM(TCPFAULT_KEY_TIMEOUT, "timeout")			\
	EM(TCPFAULT_KEY_ACTION, "action")			\
	EM(TCPFAULT_KEY_LATENCY, "latency")			\
	EM(TCPFAULT_KEY_JITTER, "jitter")			\
	EMe(TCPFAULT_KEY_REORDER, "reorder"))

/*
 * What an idle-timeout fault's middlebox does, once it has forgotten a
 * flow, to the flow's next segments: the value of action=.
 */
#define TCPFAULT_IDLE_ACTIONS(EM, EMe) TCPFAULT_LIST(		\
	EM(TCPFAULT_IDLE_DROP, "drop")				\
	EMe(TCPFAULT_IDLE_RST, "rst"))

/* Timeline events; also the classifier's verdict for a segment. */
#define TCPFAULT_EVENTS(EM, EMe) TCPFAULT_LIST(			\
	EM(TCPFAULT_EV_SYN, "syn")				\
	EM(TCPFAULT_EV_SYN_RETRY, "syn-retry")			\
	EM(TCPFAULT_EV_DATA, "data")	/* classified, never recorded */ \
	EM(TCPFAULT_EV_RETRANS, "retrans")			\
	EM(TCPFAULT_EV_KEEPALIVE, "keepalive")			\
	EM(TCPFAULT_EV_KEEPALIVE_ACK, "keepalive-ack")		\
	EM(TCPFAULT_EV_ZWP, "zero-window-probe")		\
	EM(TCPFAULT_EV_FIN, "fin")				\
	EM(TCPFAULT_EV_RST, "rst")				\
	/* seq holds the new enum tcpfault_wstate */		\
	EM(TCPFAULT_EV_STATE, "state")				\
	/* seq holds the fault id */				\
	EM(TCPFAULT_EV_FAULT_START, "fault-start")		\
	EM(TCPFAULT_EV_FAULT_STOP, "fault-stop")		\
	/* an RST tcpfault injected toward dir */		\
	EM(TCPFAULT_EV_RST_SENT, "rst-injected")		\
	/* tcpfault aborted the local socket */			\
	EMe(TCPFAULT_EV_ABORT, "abort"))

/* The connection's state as seen on the wire. */
#define TCPFAULT_WIRE_STATES(EM, EMe) TCPFAULT_LIST(		\
	EM(TCPFAULT_WS_NONE, "NONE")				\
	EM(TCPFAULT_WS_SYN_SENT, "SYN_SENT")			\
	EM(TCPFAULT_WS_SYN_RECV, "SYN_RECV")			\
	EM(TCPFAULT_WS_ESTABLISHED, "ESTABLISHED")		\
	EM(TCPFAULT_WS_FIN_WAIT, "FIN_WAIT")	/* one side sent FIN */ \
	EM(TCPFAULT_WS_CLOSING, "CLOSING")	/* both sides sent FIN */ \
	EM(TCPFAULT_WS_TIME_WAIT, "TIME_WAIT")	/* both FINs acked */ \
	EMe(TCPFAULT_WS_CLOSED, "CLOSED")	/* RST seen */)

/*
 * A fault's states. An active power-off fault reads "dark", which is not a
 * state of its own (tcpfault_rules_state_name()).
 */
#define TCPFAULT_FAULT_STATES(EM, EMe) TCPFAULT_LIST(		\
	EM(TCPFAULT_FS_DISABLED, "disabled")			\
	/* enabled, waiting out delay= */			\
	EM(TCPFAULT_FS_PENDING, "pending")			\
	/* biting; "dark" for power-off */			\
	EM(TCPFAULT_FS_ACTIVE, "active")			\
	/* duration= ran out */					\
	EM(TCPFAULT_FS_HEALED, "healed")			\
	/* power-off over: stale segments get RST */		\
	EM(TCPFAULT_FS_REBOOTED, "rebooted")			\
	/* deleted, waiting for RCU */				\
	EMe(TCPFAULT_FS_DEAD, "deleted"))

/*
 * What each fault counts (per CPU, summed when read): its sysfs files and
 * its columns in /proc/net/tcpfault/faults, in this order.
 */
#define TCPFAULT_FAULT_COUNTERS(EM, EMe) TCPFAULT_LIST(		\
	/* segments it selected (for a rebooted host: toward it) */ \
	EM(TCPFAULT_F_MATCHED, "matched")			\
	EM(TCPFAULT_F_DROPPED, "dropped")			\
	/* RSTs it injected */					\
	EM(TCPFAULT_F_RST_SENT, "rst_sent")			\
	/* local sockets a power-off aborted */			\
	EM(TCPFAULT_F_ABORTED, "aborted")			\
	/* segments a delay fault held */			\
	EM(TCPFAULT_F_DELAYED, "delayed")			\
	/* segments it dropped: delay_queue_max were held */	\
	EMe(TCPFAULT_F_QUEUE_DROPS, "queue_drops"))

/*
 * What the lists generate. A table of names is in the enum's order, which
 * is the list's: TCPFAULT_NAMES_STRING fills it.
 */
#define TCPFAULT_NAMES_ENUM(e, s)	e,
#define TCPFAULT_NAMES_STRING(e, s)	s,
/* A list's names as one string literal: "a, b, c". */
#define TCPFAULT_NAMES_JOIN(e, s)	s ", "
#define TCPFAULT_NAMES_LAST(e, s)	s
#define TCPFAULT_NAMES_LIST(list)	list(TCPFAULT_NAMES_JOIN, TCPFAULT_NAMES_LAST)

enum tcpfault_mode {
	TCPFAULT_MODES(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_MODE_MAX,
};

/* Bits of tcpfault_spec.keys: which keys the user gave. */
enum tcpfault_key {
	TCPFAULT_SPEC_KEYS(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_KEY_MAX,
};

enum tcpfault_idle_action {
	TCPFAULT_IDLE_ACTIONS(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_IDLE_MAX,
};

enum tcpfault_event_type {
	TCPFAULT_EVENTS(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_EV_MAX,
};

enum tcpfault_wstate {
	TCPFAULT_WIRE_STATES(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_WS_MAX,
};

enum tcpfault_fcounter {
	TCPFAULT_FAULT_COUNTERS(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_F_MAX,
};

enum tcpfault_fstate {
	TCPFAULT_FAULT_STATES(TCPFAULT_NAMES_ENUM, TCPFAULT_NAMES_ENUM)
	TCPFAULT_FS_MAX,
};

#endif /* _TCPFAULT_NAMES_H */
