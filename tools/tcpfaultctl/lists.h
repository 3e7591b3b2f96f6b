/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's lists of names (module/names.h) as tcpfaultctl uses them:
 * tables indexed by the module's enums, so that the tool names a mode, key,
 * event or wire state only through the one list.
 */
#ifndef TCPFAULTCTL_LISTS_H
#define TCPFAULTCTL_LISTS_H

#include <stdbool.h>
#include <string.h>

#include "../../module/names.h"

extern const char * const ctl_key_names[TCPFAULT_KEY_MAX];
extern const char * const ctl_event_names[TCPFAULT_EV_MAX];
extern const char * const ctl_wire_state_names[TCPFAULT_WS_MAX];

/* Is @name the name of event @ev? */
static inline bool ctl_is_event(const char *name, unsigned int ev)
{
	return !strcmp(name, ctl_event_names[ev]);
}

#endif
