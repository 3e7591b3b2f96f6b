/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commands, in the order help lists them: the one list from which
 * cmd.c's table and the handlers' declarations are made, and, through
 * gen-lists, the bash completion. Command NAME is cmd_NAME(); its synopsis
 * and help are its entry in cmd.c's table.
 */
#ifndef TCPFAULTCTL_COMMANDS_H
#define TCPFAULTCTL_COMMANDS_H

#define TCPFAULTCTL_COMMANDS(X)						\
	X(add) X(list) X(show) X(enable) X(disable) X(delete) X(flush)	\
	X(conns) X(watch) X(timeline) X(stats)

#endif
