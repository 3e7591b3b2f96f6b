// SPDX-License-Identifier: GPL-2.0
/* rules.c, linked into the micro-benchmark module. */
#include "../../../../module/rules.c"
