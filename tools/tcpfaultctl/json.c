// SPDX-License-Identifier: GPL-2.0
/*
 * JSON helpers. Table cells become numbers when they are integers, null
 * when the module prints "-" (no value), and strings otherwise. Every
 * json-c allocation is checked; the helpers return -ENOMEM and leave
 * nothing behind.
 */
#include <errno.h>
#include <string.h>

#include "json.h"

/**
 * tf_json_value() - a table cell as a JSON value
 * @text: the cell; NULL or "-" become null
 * @out: the value (NULL is JSON null)
 *
 * Return: 0 or -ENOMEM.
 */
int tf_json_value(const char *text, struct json_object **out)
{
	uint64_t u;
	int64_t s;

	*out = NULL;
	if (!text || !strcmp(text, "-"))
		return 0;
	if (parse_s64_text(text, &s))
		*out = json_object_new_int64(s);
	else if (parse_u64_text(text, &u))
		*out = json_object_new_uint64(u);
	else
		*out = json_object_new_string(text);
	return *out ? 0 : -ENOMEM;
}

/**
 * tf_json_add() - add @val (NULL: null) to @obj under @key
 *
 * @val is consumed whatever happens.
 *
 * Return: 0 or -ENOMEM.
 */
int tf_json_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Add a freshly made value; NULL from its constructor means out of memory. */
static int add_new(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	return tf_json_add(obj, key, val);
}

int tf_json_add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	return add_new(obj, key, json_object_new_uint64(v));
}

int tf_json_add_bool(struct json_object *obj, const char *key, bool v)
{
	return add_new(obj, key, json_object_new_boolean(v));
}

int tf_json_add_str(struct json_object *obj, const char *key, const char *v)
{
	return add_new(obj, key, json_object_new_string(v));
}

/** tf_json_add_text() - add a table cell, typed as tf_json_value() does */
int tf_json_add_text(struct json_object *obj, const char *key, const char *text)
{
	struct json_object *v;

	if (tf_json_value(text, &v))
		return -ENOMEM;
	return tf_json_add(obj, key, v);
}

/**
 * tf_json_row() - one table row as an object, every column included
 * @t: the table
 * @row: the row
 * @out: the object
 *
 * Return: 0 or -ENOMEM.
 */
int tf_json_row(const struct table *t, size_t row, struct json_object **out)
{
	struct json_object *obj = json_object_new_object();
	size_t c;

	if (!obj)
		return -ENOMEM;
	for (c = 0; c < t->ncols; c++) {
		if (tf_json_add_text(obj, t->cols[c], table_cell(t, row, (int)c))) {
			json_object_put(obj);
			return -ENOMEM;
		}
	}
	*out = obj;
	return 0;
}

/**
 * tf_json_rows() - rows of a table as an array of objects
 * @t: the table
 * @rows: which rows, in order
 * @n: how many
 * @out: the array
 *
 * Return: 0 or -ENOMEM.
 */
int tf_json_rows(const struct table *t, const size_t *rows, size_t n,
		 struct json_object **out)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (tf_json_row(t, rows[i], &o))
			goto oom;
		if (json_object_array_add(arr, o)) {
			json_object_put(o);
			goto oom;
		}
	}
	*out = arr;
	return 0;
oom:
	json_object_put(arr);
	return -ENOMEM;
}

/**
 * tf_json_print() - print a document on one line (or indented with -p)
 * @ctl: options
 * @obj: the document; consumed
 *
 * Return: an exit code.
 */
int tf_json_print(const struct ctl *ctl, struct json_object *obj)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;

	flags |= ctl->pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			       JSON_C_TO_STRING_PLAIN;
	s = json_object_to_json_string_ext(obj, flags);
	if (!s) {
		json_object_put(obj);
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	fprintf(ctl->out, "%s\n", s);
	json_object_put(obj);
	return EXIT_OK;
}
