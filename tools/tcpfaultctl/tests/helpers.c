// SPDX-License-Identifier: GPL-2.0
/*
 * Unit-test helpers; see helpers.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "helpers.h"

void tree_make(struct tree *t)
{
	char *root, path[400];

	snprintf(t->root, sizeof(t->root), "%s/tcpfaultctl-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	root = mkdtemp(t->root);
	assert_non_null(root);
	snprintf(t->sysfs, sizeof(t->sysfs), "%s/sys", t->root);
	snprintf(t->procfs, sizeof(t->procfs), "%s/proc", t->root);
	assert_int_equal(mkdir(t->sysfs, 0755), 0);
	assert_int_equal(mkdir(t->procfs, 0755), 0);
	snprintf(path, sizeof(path), "%s/faults", t->sysfs);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void mkdirs(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

void tree_file(const struct tree *t, const char *rel, const char *text, mode_t mode)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	mkdirs(path);
	/* A read-only file from an earlier step is replaced, not rewritten. */
	if (unlink(path) && errno != ENOENT)
		fail_msg("unlink %s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

char *fixture_read(const char *name)
{
	char path[512], *buf;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	if (tf_read_file(path, &buf, NULL))
		fail_msg("cannot read fixture %s", path);
	return buf;
}

void tree_fixture(const struct tree *t, const char *rel, const char *fixture)
{
	char *text = fixture_read(fixture);

	tree_file(t, rel, text, 0444);
	free(text);
}

char *tree_read(const struct tree *t, const char *rel)
{
	char path[600], *buf;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	/*
	 * A control file is write-only (0200), as in sysfs; only root may
	 * read it back unless the test opens it up first.
	 */
	if (chmod(path, 0600))
		fail_msg("cannot chmod %s", path);
	if (tf_read_file(path, &buf, NULL))
		fail_msg("cannot read %s", path);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tree_remove(struct tree *t)
{
	if (t->root[0])
		nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	t->root[0] = '\0';
}

void run_ctl(const struct tree *t, struct run *r, bool tty, ...)
{
	char *argv[64];
	size_t olen, elen;
	FILE *out, *err;
	struct ctl ctl;
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)"tcpfaultctl";
	va_start(ap, tty);
	for (;;) {
		char *w = va_arg(ap, char *);

		if (!w)
			break;
		assert_true(argc < 63);
		argv[argc++] = w;
	}
	va_end(ap);
	argv[argc] = NULL;

	memset(r, 0, sizeof(*r));
	out = open_memstream(&r->out, &olen);
	err = open_memstream(&r->err, &elen);
	assert_non_null(out);
	assert_non_null(err);
	ctl_init(&ctl, out, err);
	ctl.tty = tty;
	ctl.now_ns = 20000000000ULL;	/* 20 s after boot, the fixtures' "now" */
	ctl.sysfs = t ? t->sysfs : "/nonexistent/sys/kernel/tcpfault";
	ctl.procfs = t ? t->procfs : "/nonexistent/proc/net/tcpfault";
	ctl.netns_dir = t ? t->root : "/nonexistent";
	r->rc = ctl_run(&ctl, argc, argv);
	fclose(out);
	fclose(err);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

void _assert_contains(const char *hay, const char *needle, const char *file, int line)
{
	if (!hay || !strstr(hay, needle)) {
		print_error("'%s' not found in:\n%s\n", needle, hay ? hay : "(null)");
		_fail(file, line);
	}
}

void _assert_not_contains(const char *hay, const char *needle, const char *file, int line)
{
	if (hay && strstr(hay, needle)) {
		print_error("'%s' unexpectedly found in:\n%s\n", needle, hay);
		_fail(file, line);
	}
}
