// SPDX-License-Identifier: GPL-2.0
/*
 * A build-time helper: print one list of ../../module/names.h (or the
 * commands of commands.h), its names joined by a separator (default a
 * space). The Makefile fills the bash completion's template with it, and
 * the tests compare the man page with it.
 *
 *   gen-lists commands|modes|keys|option-keys|idle-actions|events|wire-states|fault-states [SEP]
 */
#include <stdio.h>
#include <string.h>

#include "../../module/names.h"
#include "commands.h"

#define NAME(e, s)	s,
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define COMMAND(n)	#n,

static const char * const commands[] = { TCPFAULTCTL_COMMANDS(COMMAND) NULL };
static const char * const modes[] = { TCPFAULT_MODES(NAME, NAME) NULL };
static const char * const keys[] = { TCPFAULT_SPEC_KEYS(NAME, NAME) NULL };
static const char * const option_keys[] = { TCPFAULT_SPEC_OPTION_KEYS(NAME, NAME) NULL };
static const char * const idle_actions[] = { TCPFAULT_IDLE_ACTIONS(NAME, NAME) NULL };
static const char * const events[] = { TCPFAULT_EVENTS(NAME, NAME) NULL };
static const char * const wire_states[] = { TCPFAULT_WIRE_STATES(NAME, NAME) NULL };
static const char * const fault_states[] = { TCPFAULT_FAULT_STATES(NAME, NAME) NULL };

static const struct {
	const char *name;
	const char * const *names;
} lists[] = {
	{ "commands", commands },
	{ "modes", modes },
	{ "keys", keys },
	{ "option-keys", option_keys },
	{ "idle-actions", idle_actions },
	{ "events", events },
	{ "wire-states", wire_states },
	{ "fault-states", fault_states },
};

int main(int argc, char **argv)
{
	const char *sep = argc > 2 ? argv[2] : " ";
	size_t i, j;

	for (i = 0; argc > 1 && i < ARRAY_SIZE(lists); i++) {
		if (strcmp(argv[1], lists[i].name))
			continue;
		for (j = 0; lists[i].names[j]; j++)
			printf("%s%s", j ? sep : "", lists[i].names[j]);
		putchar('\n');
		return 0;
	}
	fprintf(stderr, "usage: gen-lists commands|modes|keys|option-keys|idle-actions|events|wire-states|fault-states [SEP]\n");
	return 2;
}
