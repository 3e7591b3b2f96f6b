// SPDX-License-Identifier: GPL-2.0
/* sysfs.c, linked into the KUnit suite: faults own a kobject. */
#include "../module/sysfs.c"
