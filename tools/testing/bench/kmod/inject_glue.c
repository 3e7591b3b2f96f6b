// SPDX-License-Identifier: GPL-2.0
/* inject.c, linked into the micro-benchmark module. */
#include "../../../../module/inject.c"
