// SPDX-License-Identifier: GPL-2.0
/* conn.c, linked into the micro-benchmark module. */
#include "../../../../module/conn.c"
