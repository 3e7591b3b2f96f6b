// SPDX-License-Identifier: GPL-2.0
/*
 *   stats
 *
 * Every readable file at the top of /sys/kernel/tcpfault: the module's
 * version, track_all, last_error and the global figures. Files the module
 * adds later show up without a change here.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "files.h"
#include "json.h"
#include "text.h"

static const char * const order[] = {
	"version", "faults_count", "track_all", "conns", "conns_max", "conn_entry_bytes",
	"conn_buckets", "conn_memory_bytes", "conns_inserted", "conn_evictions",
	"conn_insert_failed", "packets_seen", "packets_dropped", "last_error",
};
#define NORDER (ARRAY_SIZE(order))

static size_t rank(const char *name)
{
	size_t i;

	for (i = 0; i < NORDER; i++)
		if (!strcmp(name, order[i]))
			return i;
	return NORDER;
}

static int cmp(const struct dirent **a, const struct dirent **b)
{
	size_t ra = rank((*a)->d_name), rb = rank((*b)->d_name);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* The value of a readable regular file, NULL for anything else. */
static int read_figure(const struct ctl *ctl, const char *name, char **val)
{
	char *path = tf_path(ctl->sysfs, name);
	struct stat st;
	int ret;

	*val = NULL;
	if (!path)
		return -ENOMEM;
	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0444)) {
		free(path);
		return 0;
	}
	ret = tf_read_file(path, val, NULL);
	free(path);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		*val = NULL;	/* write-only to us, or gone */
		return 0;
	}
	tf_chomp(*val);
	return 0;
}

static int add_text_row(struct tt *tt, const char *name, const char *val)
{
	char human[64], both[128];
	uint64_t v;
	size_t n = strlen(name);

	if (n > 6 && !strcmp(name + n - 6, "_bytes") && parse_u64_text(val, &v) && v >= 1024) {
		fmt_iec(human, sizeof(human), v);
		snprintf(both, sizeof(both), "%s (%s)", val, human);
		val = both;
	}
	return tt_row(tt, (const char *[]){ name, val });
}

int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	struct json_object *obj = NULL;
	struct dirent **ents;
	struct tt tt;
	int n, i, a, ret = 0;

	for (a = 1; a < argc; a++)
		if (!args_read_opt(ctl, argv[a]))
			return args_word_error(ctl, argc, argv, a, "stats: unexpected '%s'", argv[a]);
	n = scandir(ctl->sysfs, &ents, not_dot, cmp);
	if (n < 0)
		return tf_explain_read(ctl, ctl->sysfs, errno);
	tt_init(&tt, 2, 0);
	if (ctl->json) {
		obj = json_object_new_object();
		ret = obj ? 0 : -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		char *val = NULL;

		if (!ret)
			ret = read_figure(ctl, ents[i]->d_name, &val);
		if (!ret && val)
			ret = ctl->json ? tf_json_add_text(obj, ents[i]->d_name, val) :
					  add_text_row(&tt, ents[i]->d_name, val);
		free(val);
		free(ents[i]);
	}
	free(ents);
	if (ret) {
		json_object_put(obj);
		tt_free(&tt);
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	if (ctl->json) {
		ret = tf_json_print(ctl, obj);
	} else {
		tt_print(&tt, ctl->out);
		ret = EXIT_OK;
	}
	tt_free(&tt);
	return ret;
}
