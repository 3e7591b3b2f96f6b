/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's files: reading, writing, and turning failures into
 * messages a person can act on (module not loaded, missing capability,
 * the module's own reason for rejecting a write).
 */
#ifndef TF_FILES_H
#define TF_FILES_H

#include <stddef.h>

#include "table.h"
#include "tcpfaultctl.h"

int tf_read_file(const char *path, char **buf, size_t *len);
int tf_write_file(const char *path, const char *text, size_t len);
char *tf_path(const char *dir, const char *rel);

int tf_require_module(const struct ctl *ctl);
int tf_enter_netns(const struct ctl *ctl);
int tf_read_attr(const struct ctl *ctl, const char *rel, char **val);
int tf_write_attr(const struct ctl *ctl, const char *rel, const char *text);
int tf_explain_write(const struct ctl *ctl, const char *path, int err);
int tf_explain_read(const struct ctl *ctl, const char *path, int err);
int tf_read_table(const struct ctl *ctl, const char *name, struct table *t);
int tf_last_error(const struct ctl *ctl, long pid, char *reason, size_t len);
void tf_chomp(char *s);

struct dirent;

/* Names a listing shows first, in this order. */
struct tf_order {
	const char *const *names;
	size_t n;
};

int tf_read_figure(const char *dir, const char *name, char **val);
int tf_list_dir(const char *dir, const struct tf_order *order, struct dirent ***ents);

#endif /* TF_FILES_H */
