// SPDX-License-Identifier: GPL-2.0
/*
 * Access to /sys/kernel/tcpfault and /proc/net/tcpfault, and the messages
 * for what goes wrong there. No message carries a bare errno number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/**
 * tf_read_file() - read a whole file
 * @path: the file
 * @buf: the NUL-terminated contents, to free()
 * @len: their length, or NULL
 *
 * Return: 0 or a negative errno.
 */
int tf_read_file(const char *path, char **buf, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *b = malloc(cap), *nb;
	int fd, ret = 0;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(b);
		return ret;
	}
	for (;;) {
		if (cap - n < 2) {
			nb = realloc(b, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

/**
 * tf_write_file() - write a control file in one write(2), as sysfs wants
 * @path: the file
 * @text: what to write
 * @len: its length
 *
 * Return: 0 or a negative errno.
 */
int tf_write_file(const char *path, const char *text, size_t len)
{
	int fd, ret = 0;
	ssize_t w;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		w = write(fd, text, len);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		ret = -errno;
	else if ((size_t)w != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/** tf_path() - "dir/rel", to free(); NULL if out of memory. */
char *tf_path(const char *dir, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

/** tf_chomp() - strip trailing newlines and blanks */
void tf_chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/**
 * tf_require_module() - is the module loaded?
 *
 * Return: EXIT_OK, or EXIT_NOMODULE after saying how to load it.
 */
int tf_require_module(const struct ctl *ctl)
{
	struct stat st;

	if (!stat(ctl->sysfs, &st) && S_ISDIR(st.st_mode))
		return EXIT_OK;
	ctl_error(ctl, "the tcpfault module is not loaded (%s is missing)", ctl->sysfs);
	fprintf(ctl->err, "  load it with: modprobe tcpfault   (or insmod tcpfault.ko)\n");
	return EXIT_NOMODULE;
}

/*
 * sysfs shows the network namespace of the process that mounted it, and
 * the module's faults/ directory, like /sys/class/net, lists only that
 * namespace's faults. After setns(), or when started by a plain
 * `nsenter --net`, /sys may still be another namespace's: mount a sysfs of
 * this namespace on /sys, in a mount namespace of our own, as
 * `ip netns exec` does. @required: -n was given, so failing is an error;
 * otherwise (no CAP_SYS_ADMIN, say) the /sys we were given is kept.
 */
static int own_sysfs(const struct ctl *ctl, bool required)
{
	const char *step;
	int err;

	/* Tests point ctl->sysfs at a fixture: nothing to mount there. */
	if (strcmp(ctl->sysfs, TF_SYSFS))
		return EXIT_OK;
	step = "create a mount namespace";
	if (unshare(CLONE_NEWNS))
		goto fail;
	/* Nothing mounted here may propagate back to the caller's namespace. */
	step = "make / a slave mount";
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL))
		goto fail;
	umount2("/sys", MNT_DETACH);	/* if it fails, the new one covers it */
	step = "mount sysfs on /sys";
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		goto fail;
	return EXIT_OK;

fail:
	err = errno;
	if (!required)
		return EXIT_OK;
	ctl_error(ctl, "cannot %s for network namespace %s: %s%s", step, ctl->netns,
		  strerror(err), err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	fprintf(ctl->err, "  without it, /sys shows another namespace's faults\n");
	return err == EPERM ? EXIT_PERM : EXIT_RUNTIME;
}

/**
 * tf_enter_netns() - move into the -n network namespace, if one was given,
 *                    and see it in /sys
 *
 * /proc/net follows the calling thread's namespace, and a fault lives in
 * the namespace of the process that wrote it, so this comes first. sysfs
 * does not follow: see own_sysfs(), which runs whether or not -n was given,
 * so that what the tool reads always matches its namespace.
 *
 * Return: an exit code.
 */
int tf_enter_netns(const struct ctl *ctl)
{
	char *path;
	int fd, err;

	if (!ctl->netns)
		return own_sysfs(ctl, false);
	if (strchr(ctl->netns, '/'))
		path = strdup(ctl->netns);
	else
		path = tf_path(ctl->netns_dir, ctl->netns);
	if (!path) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			ctl_error(ctl, "no network namespace '%s' (%s does not exist; see 'ip netns list')",
				  ctl->netns, path);
		else if (err == EACCES || err == EPERM)
			ctl_error(ctl, "cannot open network namespace %s: permission denied (entering a namespace needs CAP_SYS_ADMIN)",
				  path);
		else
			ctl_error(ctl, "cannot open network namespace %s: %s", path, strerror(err));
		free(path);
		return err == EACCES || err == EPERM ? EXIT_PERM : EXIT_RUNTIME;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = errno;
		close(fd);
		if (err == EPERM)
			ctl_error(ctl, "cannot enter network namespace %s: entering a namespace needs CAP_SYS_ADMIN",
				  path);
		else
			ctl_error(ctl, "cannot enter network namespace %s: %s", path,
				  strerror(err));
		free(path);
		return err == EPERM ? EXIT_PERM : EXIT_RUNTIME;
	}
	close(fd);
	free(path);
	return own_sysfs(ctl, true);
}

/**
 * tf_read_attr() - read a sysfs attribute, without its newline
 * @ctl: options
 * @rel: path below the sysfs directory
 * @val: the value, to free()
 *
 * Return: 0 or a negative errno (nothing is printed).
 */
int tf_read_attr(const struct ctl *ctl, const char *rel, char **val)
{
	char *path = tf_path(ctl->sysfs, rel);
	int ret;

	if (!path)
		return -ENOMEM;
	ret = tf_read_file(path, val, NULL);
	free(path);
	if (!ret)
		tf_chomp(*val);
	return ret;
}

/**
 * tf_last_error() - the module's reason for the last write it rejected
 * @ctl: options
 * @pid: only a reason recorded for this process counts
 * @reason: where to copy it
 * @len: its size
 *
 * last_error reads "<pid> <reason>"; another process may have overwritten
 * it since our write, so the pid must match.
 *
 * Return: 1 if @reason holds our reason, else 0.
 */
int tf_last_error(const struct ctl *ctl, long pid, char *reason, size_t len)
{
	char *text, *end;
	long who;
	int ours = 0;

	if (tf_read_attr(ctl, "last_error", &text))
		return 0;
	errno = 0;
	who = strtol(text, &end, 10);
	if (!errno && end != text && *end == ' ' && who == pid && end[1]) {
		snprintf(reason, len, "%s", end + 1);
		ours = 1;
	}
	free(text);
	return ours;
}

static bool sysfs_present(const struct ctl *ctl)
{
	struct stat st;

	return !stat(ctl->sysfs, &st) && S_ISDIR(st.st_mode);
}

/* What an errno from one of the control files means. */
static const char *write_meaning(const char *path, int err)
{
	const char *file = strrchr(path, '/');

	file = file ? file + 1 : path;
	if (!strcmp(file, "add") && err == EEXIST)
		return "a fault of that name exists (names are unique across all network namespaces)";
	if (!strcmp(file, "del") && err == ENOENT)
		return "no fault of that name";
	if (!strcmp(file, "enabled") && err == ENOENT)
		return "the fault is being deleted";
	if (err == EINVAL)
		return "invalid value (see dmesg for the module's reason)";
	return strerror(err);
}

/**
 * tf_explain_write() - say why a write to a control file failed
 * @ctl: options
 * @path: the file
 * @err: the positive errno
 *
 * Return: the exit code for it.
 */
int tf_explain_write(const struct ctl *ctl, const char *path, int err)
{
	char reason[256];

	if (!sysfs_present(ctl))
		return tf_require_module(ctl);
	if (err == EACCES || err == EPERM) {
		ctl_error(ctl, "cannot write %s: permission denied", path);
		fprintf(ctl->err, "  changing faults needs CAP_NET_ADMIN in the initial user namespace (run as root)\n");
		return EXIT_PERM;
	}
	if (tf_last_error(ctl, (long)getpid(), reason, sizeof(reason))) {
		ctl_error(ctl, "tcpfault rejected the write to %s: %s", path, reason);
		return EXIT_RUNTIME;
	}
	/*
	 * No reason recorded for our pid: another writer overwrote it, or we
	 * run in a PID namespace (last_error holds the initial namespace's
	 * pid). Say what the errno means for this file.
	 */
	ctl_error(ctl, "tcpfault rejected the write to %s: %s", path, write_meaning(path, err));
	return EXIT_RUNTIME;
}

/**
 * tf_explain_read() - say why reading one of the module's files failed
 * @ctl: options
 * @path: the file
 * @err: the positive errno
 *
 * Return: the exit code for it.
 */
int tf_explain_read(const struct ctl *ctl, const char *path, int err)
{
	if (!sysfs_present(ctl))
		return tf_require_module(ctl);
	if (err == EACCES || err == EPERM) {
		ctl_error(ctl, "cannot read %s: permission denied", path);
		return EXIT_PERM;
	}
	if (err == ENOENT && !strncmp(path, ctl->procfs, strlen(ctl->procfs))) {
		ctl_error(ctl, "%s is missing although the module is loaded; is /proc mounted here?",
			  path);
		return EXIT_RUNTIME;
	}
	ctl_error(ctl, "cannot read %s: %s", path, strerror(err));
	return EXIT_RUNTIME;
}

/**
 * tf_write_attr() - write a control file, explaining any failure
 * @ctl: options
 * @rel: path below the sysfs directory
 * @text: what to write
 *
 * Return: an exit code.
 */
int tf_write_attr(const struct ctl *ctl, const char *rel, const char *text)
{
	char *path = tf_path(ctl->sysfs, rel);
	int ret;

	if (!path) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	ret = tf_write_file(path, text, strlen(text));
	ret = ret ? tf_explain_write(ctl, path, -ret) : EXIT_OK;
	free(path);
	return ret;
}

/**
 * tf_read_table() - read and parse /proc/net/tcpfault/<name>
 * @ctl: options
 * @name: faults, conns or timeline
 * @t: the result; free with table_free()
 *
 * Return: an exit code; @t is valid only on EXIT_OK.
 */
int tf_read_table(const struct ctl *ctl, const char *name, struct table *t)
{
	char *path = tf_path(ctl->procfs, name), *text = NULL;
	int ret;

	if (!path) {
		ctl_error(ctl, "out of memory");
		return EXIT_RUNTIME;
	}
	ret = tf_read_file(path, &text, NULL);
	if (ret) {
		ret = tf_explain_read(ctl, path, -ret);
		free(path);
		return ret;
	}
	ret = table_parse(text, t);
	free(text);
	if (ret == -EINVAL)
		ctl_error(ctl, "%s has no header line", path);
	else if (ret)
		ctl_error(ctl, "out of memory");
	free(path);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Where @name stands in @order; past its end if it is not there. */
static size_t order_rank(const char *const *order, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, order[i]))
			return i;
	return n;
}

static int order_cmp(const void *a, const void *b, void *arg)
{
	const struct dirent *da = *(const struct dirent * const *)a;
	const struct dirent *db = *(const struct dirent * const *)b;
	const struct tf_order *o = arg;
	size_t ra = order_rank(o->names, o->n, da->d_name);
	size_t rb = order_rank(o->names, o->n, db->d_name);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return strcmp(da->d_name, db->d_name);
}

/**
 * tf_list_dir() - a directory's entries, the named ones first
 * @dir: the directory
 * @order: names to list first, in this order; the rest follow alphabetically
 * @ents: set to the entries (dot files left out); free each, then the array
 *
 * Return: the number of entries, or -1 with errno set.
 */
int tf_list_dir(const char *dir, const struct tf_order *order, struct dirent ***ents)
{
	int n = scandir(dir, ents, not_dot, NULL);

	if (n > 1)
		qsort_r(*ents, n, sizeof(**ents), order_cmp, (void *)order);
	return n;
}

/**
 * tf_read_figure() - the value of one readable file in a directory
 * @dir: the directory
 * @name: the file
 * @val: set to its value without the trailing newline (free it), or to
 *       NULL if @name is not a readable regular file (write-only, a
 *       directory, gone while read)
 *
 * Return: 0; -ENOENT if the file is listed but reads as absent (the
 * module hides it from this namespace); -ENOMEM.
 */
int tf_read_figure(const char *dir, const char *name, char **val)
{
	char *path = tf_path(dir, name);
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
	if (ret) {
		*val = NULL;
		return ret == -ENOENT || ret == -ENOMEM ? ret : 0;
	}
	tf_chomp(*val);
	return 0;
}
