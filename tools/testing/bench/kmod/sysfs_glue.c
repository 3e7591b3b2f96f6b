// SPDX-License-Identifier: GPL-2.0
/* sysfs.c, linked into the micro-benchmark module. */
#include "../../../../module/sysfs.c"
