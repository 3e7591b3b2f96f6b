// SPDX-License-Identifier: GPL-2.0
/* spec.c, linked into the micro-benchmark module. */
#include "../../../../module/spec.c"
