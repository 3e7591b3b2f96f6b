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

#include "args.h"
#include "files.h"
#include "json.h"
#include "text.h"

static const char * const order[] = {
	"version", "faults_count", "hooks", "track_all", "conns", "conns_max", "conn_entry_bytes",
	"conn_buckets", "conn_memory_bytes", "conns_inserted", "conn_evictions",
	"conn_insert_failed", "packets_seen", "packets_dropped", "last_error",
};
static const struct tf_order ord = { order, ARRAY_SIZE(order) };

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
	n = tf_list_dir(ctl->sysfs, &ord, &ents);
	if (n < 0)
		return tf_explain_read(ctl, ctl->sysfs, errno);
	tt_init(&tt, 2, 0);
	if (ctl->json) {
		obj = json_object_new_object();
		ret = obj ? 0 : -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		char *val = NULL;

		/* Only running out of memory stops the listing. */
		if (!ret && tf_read_figure(ctl->sysfs, ents[i]->d_name, &val) == -ENOMEM)
			ret = -ENOMEM;
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
