// SPDX-License-Identifier: GPL-2.0
/*
 * tcpfaultctl: inject TCP faults with the tcpfault module and watch what
 * TCP does about them. See tcpfaultctl(8).
 */
#include <stdio.h>
#include <unistd.h>

#include "tcpfaultctl.h"

int main(int argc, char **argv)
{
	struct ctl ctl;
	int ret;

	ctl_init(&ctl, stdout, stderr);
	ctl.tty = isatty(STDOUT_FILENO);
	ret = ctl_run(&ctl, argc, argv);
	if (fflush(stdout) && !ret) {
		perror("tcpfaultctl: stdout");
		ret = EXIT_RUNTIME;
	}
	return ret;
}
