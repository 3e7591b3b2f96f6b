/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The faults table in text, shared by list and watch.
 */
#ifndef TF_FAULTS_H
#define TF_FAULTS_H

#include "table.h"
#include "tcpfaultctl.h"

int faults_print_text(const struct ctl *ctl, const struct table *t);

#endif /* TF_FAULTS_H */
