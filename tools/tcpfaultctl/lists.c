// SPDX-License-Identifier: GPL-2.0
/*
 * The module's lists of names as tables; see lists.h.
 */
#include "lists.h"

const char * const ctl_key_names[TCPFAULT_KEY_MAX] = {
	TCPFAULT_SPEC_KEYS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

const char * const ctl_event_names[TCPFAULT_EV_MAX] = {
	TCPFAULT_EVENTS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

const char * const ctl_wire_state_names[TCPFAULT_WS_MAX] = {
	TCPFAULT_WIRE_STATES(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};
