// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/tcpfault/: the control surface and the global figures.
 * One value per file. Tables live in /proc/net/tcpfault/.
 *
 *   add, del, flush        write-only commands (CAP_NET_ADMIN)
 *   track_all              0/1, track every TCP connection
 *   hooks                  1 while the reader's namespace has its netfilter
 *                          hooks (a fault there, or track_all), else 0
 *   last_error             "<pid> <reason>" of the reader's namespace's
 *                          last rejected write
 *   faults/<name>/...      one directory per fault, in its namespace's
 *                          sysfs view only
 *   version, faults_count, conns, conns_max, ...  read-only figures
 *
 * Every write is parsed by spec.c. A malformed one fails with -EINVAL,
 * changes nothing, and logs one rate-limited line giving the reason, which
 * also lands in last_error for tools that cannot read dmesg. A rejected
 * write can quote a spec, addresses included, so last_error is kept per
 * network namespace (the writer's) and each namespace reads only its own;
 * the initial namespace is no exception.
 *
 * Fault names are per network namespace too. faults/ is tagged the way
 * /sys/class/net is: each fault's directory carries its namespace, and a
 * sysfs mount shows only the directories of the namespace that mounted it
 * (`ip netns exec` mounts one). add, del, flush and faults_count act on
 * the writer's (reader's) namespace, and a fault's files read as ENOENT
 * from any other namespace, whatever sysfs mount they are reached through.
 *
 * The writable files (add, del, flush, track_all, faults/<name>/enabled)
 * are bin attributes: their handlers get the open file, so the privilege
 * check is made against the credentials of the process that opened it,
 * as the kernel's own interfaces do. A descriptor opened with
 * CAP_NET_ADMIN and handed to another process keeps working; one opened
 * without it never does, whoever writes through it. Each write() is one
 * command, whatever the file offset; a write to add may hold a batch of
 * specifications, one per line, added all or none (add_write()).
 */
#include <linux/capability.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tcpfault.h"

static struct kobject *tcpfault_kobj;
static struct kobject *faults_kobj;

/* A namespace's last rejected write; lock guards text and pid. */
struct sysfs_net {
	spinlock_t lock;	/* guards text and pid */
	char text[TCPFAULT_ERR_MAX + 32];
	struct pid *pid;
};

static unsigned int sysfs_net_id __read_mostly;

static struct sysfs_net *sysfs_net(struct net *net)
{
	return net_generic(net, sysfs_net_id);
}

/**
 * tcpfault_sysfs_reject() - report a rejected write
 * @fmt: printf-style reason
 *
 * Logs one rate-limited line and records it, with the writing process, in
 * the writer's network namespace, whose readers of
 * /sys/kernel/tcpfault/last_error see it; they see that process's pid as
 * their own pid namespace numbers it (0 if it is not visible there).
 */
void tcpfault_sysfs_reject(const char *fmt, ...)
{
	struct sysfs_net *sn = sysfs_net(current->nsproxy->net_ns);
	struct pid *pid = get_pid(task_tgid(current)), *old;
	va_list args;

	spin_lock(&sn->lock);
	va_start(args, fmt);
	vscnprintf(sn->text, sizeof(sn->text), fmt, args);
	va_end(args);
	old = sn->pid;
	sn->pid = pid;
	pr_info_ratelimited("rejected write from pid %d: %s\n", task_tgid_nr(current), sn->text);
	spin_unlock(&sn->lock);
	put_pid(old);
}

static bool may_write(const struct file *file, const char *what)
{
	if (file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN))
		return true;
	tcpfault_sysfs_reject("%s: CAP_NET_ADMIN required", what);
	return false;
}

/* ---- top level ------------------------------------------------------- */

/* A switch's value, as a bin attribute read returns it. */
static ssize_t read_switch(bool on, char *buf, loff_t off, size_t count)
{
	char text[3] = { on ? '1' : '0', '\n' };

	return memory_read_from_buffer(buf, count, &off, text, 2);
}

/* Why tcpfault_rules_add() refused @spec; @where prefixes the reason. */
static void add_refused(const char *where, const struct tcpfault_spec *spec, int ret)
{
	if (ret == -EEXIST)
		tcpfault_sysfs_reject("add: %sa fault named '%s' exists in this network namespace",
				      where, spec->name);
	else if (ret == -ENOENT)	/* only nflog= (or nflog_group) fails so */
		tcpfault_sysfs_reject("add: %s%s: nflog needs the kernel's NFLOG logger (nfnetlink_log), which this kernel does not have",
				      where, spec->name);
	else
		tcpfault_sysfs_reject("add: %s%s: error %d", where, spec->name, ret);
}

/*
 * A batch: one specification per line, blank lines skipped, added all or
 * none. A bad line, a name given twice, or a refused add (the name is
 * taken) changes nothing: the batch's earlier faults are deleted again.
 */
static ssize_t add_batch(struct net *net, const char *buf, size_t len)
{
	size_t pos = 0, start, llen;
	struct tcpfault_spec *specs;
	struct tcpfault_perr err;
	unsigned int n = 0, max = 0, line = 0, i, j;
	unsigned int *lines;
	char where[24];
	int ret = 0;

	while (tcpfault_spec_next_line(buf, len, &pos, &start, &llen))
		max += llen != 0;
	specs = kvmalloc_array(max, sizeof(*specs), GFP_KERNEL);
	lines = kvmalloc_array(max, sizeof(*lines), GFP_KERNEL);
	if (!specs || !lines) {
		ret = -ENOMEM;
		goto out;
	}
	pos = 0;
	while (tcpfault_spec_next_line(buf, len, &pos, &start, &llen)) {
		line++;
		if (!llen)
			continue;
		ret = tcpfault_spec_parse(buf + start, llen, &specs[n], &err);
		if (ret) {
			tcpfault_sysfs_reject("add: line %u: %s", line, err.msg);
			goto out;
		}
		for (j = 0; j < n; j++) {
			if (!strcmp(specs[j].name, specs[n].name)) {
				tcpfault_sysfs_reject("add: line %u: '%s' is named on line %u too",
						      line, specs[n].name, lines[j]);
				ret = -EINVAL;
				goto out;
			}
		}
		lines[n++] = line;
	}
	if (!n) {
		tcpfault_sysfs_reject("add: no specification, only empty lines");
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ret = tcpfault_rules_add(net, &specs[i]);
		if (ret)
			break;
	}
	if (ret) {
		snprintf(where, sizeof(where), "line %u: ", lines[i]);
		add_refused(where, &specs[i], ret);
		while (i--)
			tcpfault_rules_del(net, specs[i].name);
	}
out:
	kvfree(lines);
	kvfree(specs);
	return ret ? ret : (ssize_t)len;
}

/*
 * One specification per write, or a batch of them, one per line. kernfs
 * hands a write over a page at a time: a page that ends inside a line is
 * taken up to its last newline, and write() returns that much, so the
 * rest comes in the next call, whole.
 */
static ssize_t add_write(struct file *file, struct kobject *kobj, tcpfault_bin_attr *attr,
			 char *buf, loff_t off, size_t count)
{
	struct net *net = current->nsproxy->net_ns;
	struct tcpfault_spec spec;
	struct tcpfault_perr err;
	const char *nl;
	size_t used;
	int ret;

	if (!may_write(file, "add"))
		return -EPERM;
	nl = memchr(buf, '\n', count);
	if (nl && nl != buf + count - 1) {
		used = count;
		if (count == PAGE_SIZE)
			while (used && buf[used - 1] != '\n')
				used--;
		return add_batch(net, buf, used);
	}
	ret = tcpfault_spec_parse(buf, count, &spec, &err);
	if (ret) {
		tcpfault_sysfs_reject("add: %s", err.msg);
		return ret;
	}
	ret = tcpfault_rules_add(net, &spec);
	if (ret)
		add_refused("", &spec, ret);
	return ret ? ret : (ssize_t)count;
}

static ssize_t del_write(struct file *file, struct kobject *kobj, tcpfault_bin_attr *attr,
			 char *buf, loff_t off, size_t count)
{
	char name[TCPFAULT_NAME_MAX + 1];
	struct tcpfault_perr err;
	int ret;

	if (!may_write(file, "del"))
		return -EPERM;
	ret = tcpfault_spec_parse_name(buf, count, name, &err);
	if (ret) {
		tcpfault_sysfs_reject("del: %s", err.msg);
		return ret;
	}
	ret = tcpfault_rules_del(current->nsproxy->net_ns, name);
	if (ret) {
		tcpfault_sysfs_reject("del: no fault named '%s' in this network namespace", name);
		return ret;
	}
	return count;
}

static ssize_t flush_write(struct file *file, struct kobject *kobj, tcpfault_bin_attr *attr,
			   char *buf, loff_t off, size_t count)
{
	struct tcpfault_perr err;
	bool on;

	if (!may_write(file, "flush"))
		return -EPERM;
	if (tcpfault_spec_parse_switch(buf, count, &on, &err) || !on) {
		tcpfault_sysfs_reject("flush: write 1 to delete every fault of this network namespace");
		return -EINVAL;
	}
	tcpfault_rules_flush(current->nsproxy->net_ns);
	return count;
}

static ssize_t track_all_read(struct file *file, struct kobject *kobj,
			      tcpfault_bin_attr *attr, char *buf, loff_t off, size_t count)
{
	return read_switch(tcpfault_conn_get_track_all(), buf, off, count);
}

static ssize_t track_all_write(struct file *file, struct kobject *kobj,
			       tcpfault_bin_attr *attr, char *buf, loff_t off, size_t count)
{
	struct tcpfault_perr err;
	bool on;
	int ret;

	if (!may_write(file, "track_all"))
		return -EPERM;
	if (tcpfault_spec_parse_switch(buf, count, &on, &err)) {
		tcpfault_sysfs_reject("track_all: %s", err.msg);
		return -EINVAL;
	}
	ret = tcpfault_hooks_track_all(on);
	if (ret) {
		tcpfault_sysfs_reject("track_all: cannot register the hooks (%d)", ret);
		return ret;
	}
	return count;
}

static ssize_t last_error_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct sysfs_net *sn = sysfs_net(current->nsproxy->net_ns);
	ssize_t n;

	spin_lock(&sn->lock);
	n = sn->pid ? sysfs_emit(buf, "%d %s\n", pid_vnr(sn->pid), sn->text) :
		      sysfs_emit(buf, "\n");
	spin_unlock(&sn->lock);
	return n;
}

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", TCPFAULT_VERSION);
}

static ssize_t faults_count_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", tcpfault_rules_count(current->nsproxy->net_ns));
}

static ssize_t hooks_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", tcpfault_hooks_registered(current->nsproxy->net_ns));
}

/* The connection-table figures, one file each. */
#define CONN_STAT_ATTR(_name, _expr)						\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			    char *buf)						\
{										\
	struct tcpfault_conn_stats st;						\
										\
	tcpfault_conn_stats(&st);						\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));		\
}										\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

CONN_STAT_ATTR(conns, st.conns);
CONN_STAT_ATTR(conns_max, st.conns_max);
CONN_STAT_ATTR(conn_entry_bytes, st.entry_bytes);
CONN_STAT_ATTR(conn_buckets, st.buckets);
CONN_STAT_ATTR(conn_memory_bytes, st.conns * st.entry_bytes + st.buckets * sizeof(void *));
CONN_STAT_ATTR(conns_inserted, st.inserted);
CONN_STAT_ATTR(conn_evictions, st.evictions);
CONN_STAT_ATTR(conn_insert_failed, st.insert_failed);

static ssize_t packets_seen_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	u64 seen, dropped;

	tcpfault_hooks_stats(&seen, &dropped);
	return sysfs_emit(buf, "%llu\n", seen);
}

static ssize_t packets_dropped_show(struct kobject *kobj, struct kobj_attribute *attr,
				    char *buf)
{
	u64 seen, dropped;

	tcpfault_hooks_stats(&seen, &dropped);
	return sysfs_emit(buf, "%llu\n", dropped);
}

/* Segments delay faults hold now, all namespaces (delay_queue_max bounds it). */
static ssize_t delay_held_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", tcpfault_delay_held());
}

static struct bin_attribute add_attr = __BIN_ATTR_WO(add, 0);
static struct bin_attribute del_attr = __BIN_ATTR_WO(del, 0);
static struct bin_attribute flush_attr = __BIN_ATTR_WO(flush, 0);
static struct bin_attribute track_all_attr = __BIN_ATTR_RW(track_all, 0);
static struct kobj_attribute last_error_attr = __ATTR_RO(last_error);
static struct kobj_attribute version_attr = __ATTR_RO(version);
static struct kobj_attribute faults_count_attr = __ATTR_RO(faults_count);
static struct kobj_attribute hooks_attr = __ATTR_RO(hooks);
static struct kobj_attribute packets_seen_attr = __ATTR_RO(packets_seen);
static struct kobj_attribute packets_dropped_attr = __ATTR_RO(packets_dropped);
static struct kobj_attribute delay_held_attr = __ATTR_RO(delay_held);

static TCPFAULT_BIN_ATTRS top_bin_attrs[] = {
	&add_attr,
	&del_attr,
	&flush_attr,
	&track_all_attr,
	NULL,
};

static struct attribute *top_attrs[] = {
	&last_error_attr.attr,
	&version_attr.attr,
	&faults_count_attr.attr,
	&hooks_attr.attr,
	&conns_attr.attr,
	&conns_max_attr.attr,
	&conn_entry_bytes_attr.attr,
	&conn_buckets_attr.attr,
	&conn_memory_bytes_attr.attr,
	&conns_inserted_attr.attr,
	&conn_evictions_attr.attr,
	&conn_insert_failed_attr.attr,
	&packets_seen_attr.attr,
	&packets_dropped_attr.attr,
	&delay_held_attr.attr,
	NULL,
};

static const struct attribute_group top_group = {
	.attrs = top_attrs,
	.bin_attrs = top_bin_attrs,
};

/* ---- faults/<name>/ -------------------------------------------------- */

static struct tcpfault_fault *to_fault(struct kobject *kobj)
{
	return container_of(kobj, struct tcpfault_fault, kobj);
}

/*
 * A fault belongs to a namespace: only that namespace may read or switch
 * it. The sysfs mount a process reads through need not be its own
 * namespace's (setns(2) without a new mount), so its directory being
 * listed proves nothing: the reader's namespace is checked on every
 * access. The readers use the cookie captured at add time, never f->net,
 * which is not theirs to dereference.
 */
static bool fault_visible(const struct tcpfault_fault *f)
{
	return tcpfault_net_cookie(current->nsproxy->net_ns) == f->net_cookie;
}

#define FAULT_SHOW(_name, _fmt, _expr)						\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			    char *buf)						\
{										\
	struct tcpfault_fault *f = to_fault(kobj);				\
										\
	if (!fault_visible(f))							\
		return -ENOENT;							\
	return sysfs_emit(buf, _fmt "\n", _expr);				\
}

FAULT_SHOW(id, "%llu", f->id)
FAULT_SHOW(mode, "%s", tcpfault_spec_mode_name(f->spec.mode))
FAULT_SHOW(state, "%s", tcpfault_rules_state_name(f))
FAULT_SHOW(time_left_ms, "%lld", tcpfault_rules_time_left_ms(f))
FAULT_SHOW(netns, "%u", f->netns_inum)

/* One file per counter of TCPFAULT_FAULT_COUNTERS (names.h). */
struct fcounter_attr {
	struct kobj_attribute attr;
	int counter;
};

static ssize_t fcounter_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct tcpfault_fault *f = to_fault(kobj);
	int counter = container_of(attr, struct fcounter_attr, attr)->counter;

	if (!fault_visible(f))
		return -ENOENT;
	return sysfs_emit(buf, "%llu\n", tcpfault_verdict_stat(f, counter));
}

#define FCOUNTER_ATTR(e, s) \
	{ .attr = { .attr = { .name = s, .mode = 0444 }, .show = fcounter_show }, .counter = e },

static struct fcounter_attr fcounter_attrs[] = {
	TCPFAULT_FAULT_COUNTERS(FCOUNTER_ATTR, FCOUNTER_ATTR)
};

static ssize_t spec_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct tcpfault_fault *f = to_fault(kobj);
	char text[TCPFAULT_SPEC_MAX + 64];

	if (!fault_visible(f))
		return -ENOENT;
	tcpfault_spec_format(&f->spec, text, sizeof(text));
	return sysfs_emit(buf, "%s\n", text);
}

static ssize_t selector_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct tcpfault_fault *f = to_fault(kobj);
	char text[TCPFAULT_SPEC_MAX + 64];

	if (!fault_visible(f))
		return -ENOENT;
	tcpfault_spec_format_selector(&f->spec, text, sizeof(text));
	return sysfs_emit(buf, "%s\n", text);
}

static ssize_t enabled_read(struct file *file, struct kobject *kobj,
			    tcpfault_bin_attr *attr, char *buf, loff_t off, size_t count)
{
	struct tcpfault_fault *f = to_fault(kobj);
	int st = READ_ONCE(f->state);

	if (!fault_visible(f))
		return -ENOENT;
	/* 1 while the fault acts on traffic: a rebooted host still answers. */
	return read_switch(st == TCPFAULT_FS_PENDING || st == TCPFAULT_FS_ACTIVE ||
			   st == TCPFAULT_FS_REBOOTED, buf, off, count);
}

static ssize_t enabled_write(struct file *file, struct kobject *kobj,
			     tcpfault_bin_attr *attr, char *buf, loff_t off, size_t count)
{
	struct tcpfault_fault *f = to_fault(kobj);
	struct tcpfault_perr err;
	bool on;
	int ret;

	if (!may_write(file, "enabled"))
		return -EPERM;
	if (!fault_visible(f)) {
		tcpfault_sysfs_reject("%s/enabled: the fault belongs to another network namespace",
				      f->spec.name);
		return -ENOENT;
	}
	if (tcpfault_spec_parse_switch(buf, count, &on, &err)) {
		tcpfault_sysfs_reject("%s/enabled: %s", f->spec.name, err.msg);
		return -EINVAL;
	}
	ret = tcpfault_rules_set_enabled(f, on);
	return ret ? ret : (ssize_t)count;
}

static struct kobj_attribute fault_attrs[] = {
	__ATTR_RO(id),
	__ATTR_RO(spec),
	__ATTR_RO(mode),
	__ATTR_RO(selector),
	__ATTR_RO(state),
	__ATTR_RO(time_left_ms),
	__ATTR_RO(netns),
};

static struct attribute *fault_attr_list[ARRAY_SIZE(fault_attrs) + ARRAY_SIZE(fcounter_attrs) + 1];

static struct bin_attribute enabled_attr = __BIN_ATTR_RW(enabled, 0);

static TCPFAULT_BIN_ATTRS fault_bin_attrs[] = {
	&enabled_attr,
	NULL,
};

static const struct attribute_group fault_group = {
	.attrs = fault_attr_list,
	.bin_attrs = fault_bin_attrs,
};

static const struct attribute_group *fault_groups[] = {
	&fault_group,
	NULL,
};

static void fault_release(struct kobject *kobj)
{
	tcpfault_rules_fault_free(to_fault(kobj));
}

/*
 * The directory's namespace tag: the fault's namespace, compared by
 * pointer. The namespace's exit removes the directory before it is freed
 * (see rules_net_exit()).
 */
static tcpfault_ns_tag_t fault_namespace(tcpfault_kobj_arg_t *kobj)
{
	return tcpfault_net_tag(container_of(kobj, struct tcpfault_fault, kobj)->net);
}

static struct kobj_type fault_ktype = {
	.release = fault_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = fault_groups,
	.namespace = fault_namespace,
};

/* faults/: its children are tagged by network namespace. */
static const struct kobj_ns_type_operations *faults_child_ns_type(tcpfault_kobj_arg_t *kobj)
{
	return &net_ns_type_operations;
}

static void faults_release(struct kobject *kobj)
{
	kfree(kobj);
}

static struct kobj_type faults_ktype = {
	.release = faults_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.child_ns_type = faults_child_ns_type,
};

/* Create faults/<name>, tagged with f->net. */
static int fault_add(struct tcpfault_fault *f)
{
	return kobject_add(&f->kobj, faults_kobj, "%s", f->spec.name);
}

/*
 * Remove a fault's directory; the caller drops the reference. Waits for
 * readers and writers of its files: enabled_store() takes
 * tcpfault_rules_mutex, so the caller must not hold it.
 */
static void fault_del(struct tcpfault_fault *f)
{
	kobject_del(&f->kobj);
}

/* How the fault table shows its faults here: rules.c calls out to us. */
static const struct tcpfault_rules_surface fault_surface = {
	.ktype = &fault_ktype,
	.fault_add = fault_add,
	.fault_del = fault_del,
};

static int __net_init sysfs_net_init(struct net *net)
{
	struct sysfs_net *sn = sysfs_net(net);

	spin_lock_init(&sn->lock);
	sn->text[0] = '\0';
	sn->pid = NULL;
	return 0;
}

static void __net_exit sysfs_net_exit(struct net *net)
{
	struct sysfs_net *sn = sysfs_net(net);

	put_pid(sn->pid);
	sn->pid = NULL;
}

static struct pernet_operations sysfs_net_ops = {
	.init = sysfs_net_init,
	.exit = sysfs_net_exit,
	.id = &sysfs_net_id,
	.size = sizeof(struct sysfs_net),
};

/**
 * tcpfault_sysfs_init() - create /sys/kernel/tcpfault
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_sysfs_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(fault_attrs); i++)
		fault_attr_list[i] = &fault_attrs[i].attr;
	for (i = 0; i < ARRAY_SIZE(fcounter_attrs); i++)
		fault_attr_list[ARRAY_SIZE(fault_attrs) + i] = &fcounter_attrs[i].attr.attr;

	ret = register_pernet_subsys(&sysfs_net_ops);
	if (ret)
		return ret;
	tcpfault_kobj = kobject_create_and_add("tcpfault", kernel_kobj);
	if (!tcpfault_kobj) {
		ret = -ENOMEM;
		goto err_pernet;
	}
	faults_kobj = kzalloc(sizeof(*faults_kobj), GFP_KERNEL);
	if (!faults_kobj) {
		ret = -ENOMEM;
		goto err_top;
	}
	ret = kobject_init_and_add(faults_kobj, &faults_ktype, tcpfault_kobj, "faults");
	if (ret)
		goto err_faults;
	tcpfault_rules_set_surface(&fault_surface);
	ret = sysfs_create_group(tcpfault_kobj, &top_group);
	if (ret)
		goto err_surface;
	return 0;

err_surface:
	tcpfault_rules_set_surface(NULL);
err_faults:
	kobject_put(faults_kobj);
err_top:
	kobject_put(tcpfault_kobj);
err_pernet:
	unregister_pernet_subsys(&sysfs_net_ops);
	return ret;
}

/**
 * tcpfault_sysfs_uninit() - stop taking commands, delete every fault,
 *                           remove /sys/kernel/tcpfault
 */
void tcpfault_sysfs_uninit(void)
{
	sysfs_remove_group(tcpfault_kobj, &top_group);
	tcpfault_rules_flush(NULL);
	tcpfault_rules_set_surface(NULL);
	kobject_put(faults_kobj);
	kobject_put(tcpfault_kobj);
	unregister_pernet_subsys(&sysfs_net_ops);
}
