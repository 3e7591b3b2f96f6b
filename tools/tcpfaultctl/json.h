/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON output, built with json-c.
 */
#ifndef TF_JSON_H
#define TF_JSON_H

#include <json-c/json.h>

#include "table.h"
#include "tcpfaultctl.h"

int tf_json_value(const char *text, struct json_object **out);
int tf_json_add(struct json_object *obj, const char *key, struct json_object *val);
int tf_json_add_u64(struct json_object *obj, const char *key, uint64_t v);
int tf_json_add_bool(struct json_object *obj, const char *key, bool v);
int tf_json_add_str(struct json_object *obj, const char *key, const char *v);
int tf_json_add_text(struct json_object *obj, const char *key, const char *text);
int tf_json_row(const struct table *t, size_t row, struct json_object **out);
int tf_json_rows(const struct table *t, const size_t *rows, size_t n,
		 struct json_object **out);
int tf_json_print(const struct ctl *ctl, struct json_object *obj);

#endif /* TF_JSON_H */
