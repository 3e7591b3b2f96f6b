// SPDX-License-Identifier: GPL-2.0
/* hooks.c, linked into the micro-benchmark module. */
#include "../../../../module/hooks.c"
