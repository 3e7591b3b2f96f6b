// SPDX-License-Identifier: GPL-2.0
/* inject.c, linked into the KUnit suite; rules_test.c exercises it. */
#include "../module/inject.c"
