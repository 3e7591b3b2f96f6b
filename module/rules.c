// SPDX-License-Identifier: GPL-2.0
/*
 * The fault table: each fault's life, from add to delete. Names (unique
 * per namespace), the state machine (disabled, pending, active, healed;
 * dark and rebooted for a power-off), its timed transitions, and the
 * per-namespace lists. Publishing a fault puts it in the index (index.c);
 * what it does to segments and connections is verdict.c's. A control
 * surface (sysfs.c) shows the faults through struct
 * tcpfault_rules_surface; the table never calls it otherwise.
 *
 * Locking: tcpfault_rules_mutex serialises every change (add, delete,
 * enable, timed transitions). The packet path reads under RCU only; a
 * fault's state is a single READ_ONCE'd int. A deleted fault is unhashed,
 * marked dead, and freed through call_rcu() once its kobject goes.
 */
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tcpfault.h"
#include "trace.h"

/**
 * struct rules_net - one namespace's faults
 * @faults: every fault, under tcpfault_rules_mutex
 * @ndying: faults of this namespace unpublished and not yet destroyed
 *	(their sysfs directory, tagged with the namespace, may still be
 *	there), under the mutex; the namespace's exit waits for zero
 */
struct rules_net {
	struct list_head faults;
	unsigned int ndying;
};

DEFINE_MUTEX(tcpfault_rules_mutex);
static DECLARE_WAIT_QUEUE_HEAD(dying_wq);
static LIST_HEAD(all_faults);
static u64 nfaults_total;
static u64 next_fault_id;
static unsigned int rules_net_id __read_mostly;
static struct rhashtable names;
/* Faults that may keep connections' entries (tcpfault_verdict_pins()). */
static unsigned int npins;
/* The control surface new faults are shown on, or NULL; under the mutex. */
static const struct tcpfault_rules_surface *surface;

/* A name is unique within its namespace: the key is (netns cookie, name). */
struct name_key {
	u64 cookie;
	char name[TCPFAULT_NAME_MAX + 1];
};

struct name_entry {
	struct rhash_head node;
	struct rcu_head rcu;
	struct name_key key;	/* zeroed past the name: compared whole */
	struct tcpfault_fault *f;
};

static const struct rhashtable_params names_params = {
	.key_len = sizeof(struct name_key),
	.key_offset = offsetof(struct name_entry, key),
	.head_offset = offsetof(struct name_entry, node),
	.automatic_shrinking = true,
};

static struct rules_net *rules_net(const struct net *net)
{
	return net_generic(net, rules_net_id);
}

struct pin_walk {
	const struct tcpfault_conn *c;
	bool need;
};

static void pin_visit(struct tcpfault_fault *f, bool rev, void *arg)
{
	struct pin_walk *w = arg;

	if (tcpfault_verdict_keeps(f, w->c))
		w->need = true;
}

/*
 * Must the GC keep an open connection's entry that it would evict as idle
 * or under pressure (tcpfault_conn_set_keep())? When a fault that selects
 * it says so (tcpfault_verdict_keeps()).
 */
static bool conn_needed(const struct tcpfault_conn *c)
{
	struct pin_walk w = { .c = c };
	struct tcpfault_tuple t;

	if (!READ_ONCE(npins) || tcpfault_conn_reset_done(c))
		return false;
	tcpfault_conn_tuple(c, &t);
	rcu_read_lock();
	tcpfault_index_visit(c->net, &t, pin_visit, &w);
	rcu_read_unlock();
	return w.need;
}

/* ------------------------------------------------------------------ */
/* Control path, under tcpfault_rules_mutex                              */

static const char * const fstate_names[TCPFAULT_FS_MAX] = {
	TCPFAULT_FAULT_STATES(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

/**
 * tcpfault_rules_state_name() - a fault's state as users read it
 * @f: the fault
 *
 * An active power-off fault reads "dark".
 *
 * Return: a static string.
 */
const char *tcpfault_rules_state_name(const struct tcpfault_fault *f)
{
	int st = READ_ONCE(f->state);

	if (st == TCPFAULT_FS_ACTIVE && f->spec.mode == TCPFAULT_MODE_POWER_OFF)
		return "dark";
	return st >= 0 && st < (int)ARRAY_SIZE(fstate_names) ? fstate_names[st] : "?";
}

/**
 * tcpfault_rules_time_left_ms() - time to the next timed transition
 * @f: the fault
 *
 * Return: milliseconds, or -1 if nothing is scheduled.
 */
s64 tcpfault_rules_time_left_ms(const struct tcpfault_fault *f)
{
	u64 dl = READ_ONCE(f->deadline_ns), now = ktime_get_ns();
	int st = READ_ONCE(f->state);

	if (!dl || (st != TCPFAULT_FS_PENDING && st != TCPFAULT_FS_ACTIVE))
		return -1;
	return dl > now ? (s64)div_u64(dl - now, NSEC_PER_MSEC) : 0;
}

static void set_state(struct tcpfault_fault *f, int st)
{
	trace_tcpfault_fault_state(f, f->state, st);
	WRITE_ONCE(npins, npins - tcpfault_verdict_pins(f, f->state) +
			  tcpfault_verdict_pins(f, st));
	smp_store_release(&f->state, st);	/* publishes since_ns */
}

static void schedule_at(struct tcpfault_fault *f, u64 deadline)
{
	u64 now = ktime_get_ns();

	WRITE_ONCE(f->deadline_ns, deadline);
	mod_delayed_work(system_power_efficient_wq, &f->work,
			 deadline > now ? nsecs_to_jiffies(deadline - now) : 0);
}


static void activate(struct tcpfault_fault *f)
{
	u64 now = ktime_get_ns();

	WRITE_ONCE(f->since_ns, now);
	set_state(f, TCPFAULT_FS_ACTIVE);
	if (f->spec.duration_ms)
		schedule_at(f, now + f->spec.duration_ms * NSEC_PER_MSEC);
	else
		WRITE_ONCE(f->deadline_ns, 0);
	tcpfault_verdict_fault_start(f);
}

/* End an active fault: healed by its duration, or switched off. */
static void deactivate(struct tcpfault_fault *f, int st)
{
	WRITE_ONCE(f->deadline_ns, 0);
	if (f->spec.mode == TCPFAULT_MODE_POWER_OFF) {
		WRITE_ONCE(f->since_ns, ktime_get_ns());
		st = TCPFAULT_FS_REBOOTED;
	}
	set_state(f, st);
	tcpfault_verdict_fault_stop(f);
}

static void start(struct tcpfault_fault *f)
{
	if (f->spec.delay_ms) {
		set_state(f, TCPFAULT_FS_PENDING);
		schedule_at(f, ktime_get_ns() + f->spec.delay_ms * NSEC_PER_MSEC);
	} else {
		activate(f);
	}
}

static void fault_work(struct work_struct *work)
{
	struct tcpfault_fault *f = container_of(to_delayed_work(work),
						struct tcpfault_fault, work);
	u64 now = ktime_get_ns();

	mutex_lock(&tcpfault_rules_mutex);
	if (!f->deadline_ns)
		goto out;
	if (now < f->deadline_ns) {
		/* Rescheduled while this run waited for the mutex. */
		schedule_at(f, f->deadline_ns);
		goto out;
	}
	if (f->state == TCPFAULT_FS_PENDING)
		activate(f);
	else if (f->state == TCPFAULT_FS_ACTIVE)
		deactivate(f, TCPFAULT_FS_HEALED);
out:
	mutex_unlock(&tcpfault_rules_mutex);
}

/**
 * tcpfault_rules_set_enabled() - switch a fault on or off
 * @f: the fault
 * @on: switch on (restarting delay= and duration=) or off
 *
 * A power-off fault has two phases: switching it off while the host is
 * dark reboots the host (REBOOTED: it answers old connections with RST),
 * and switching it off once rebooted ends the fault. Switching on an
 * already pending or active fault changes nothing; switching on a
 * rebooted one powers the host off again.
 *
 * Return: 0, or -ENOENT if the fault is being deleted.
 */
int tcpfault_rules_set_enabled(struct tcpfault_fault *f, bool on)
{
	int ret = 0;

	mutex_lock(&tcpfault_rules_mutex);
	switch (f->state) {
	case TCPFAULT_FS_DEAD:
		ret = -ENOENT;
		break;
	case TCPFAULT_FS_PENDING:
		if (!on) {
			WRITE_ONCE(f->deadline_ns, 0);
			cancel_delayed_work(&f->work);
			set_state(f, TCPFAULT_FS_DISABLED);
		}
		break;
	case TCPFAULT_FS_ACTIVE:
		if (!on) {
			cancel_delayed_work(&f->work);
			deactivate(f, TCPFAULT_FS_DISABLED);
		}
		break;
	case TCPFAULT_FS_REBOOTED:
		if (on)
			start(f);
		else
			set_state(f, TCPFAULT_FS_DISABLED);
		break;
	default:
		if (on)
			start(f);
		break;
	}
	mutex_unlock(&tcpfault_rules_mutex);
	return ret;
}

/* The fault named @name in the namespace whose cookie is @cookie. */
static struct name_entry *name_find(u64 cookie, const char *name)
{
	struct name_key key;

	memset(&key, 0, sizeof(key));
	key.cookie = cookie;
	strscpy(key.name, name, sizeof(key.name));
	return rhashtable_lookup_fast(&names, &key, names_params);
}

static void fault_free_rcu(struct rcu_head *head)
{
	struct tcpfault_fault *f = container_of(head, struct tcpfault_fault, rcu);

	tcpfault_index_release(f);
	tcpfault_delay_free(f);
	/* No hook can log through it any more. */
	tcpfault_nflog_put(&f->spec);
	free_percpu(f->stats);
	kfree(f);
}

/**
 * tcpfault_rules_fault_free() - last reference gone: free after a grace period
 * @f: the fault
 *
 * Called from the kobject release.
 */
void tcpfault_rules_fault_free(struct tcpfault_fault *f)
{
	call_rcu(&f->rcu, fault_free_rcu);
}

/* The kobject of a fault no control surface shows: a bare refcount. */
static void fault_bare_release(struct kobject *kobj)
{
	tcpfault_rules_fault_free(container_of(kobj, struct tcpfault_fault, kobj));
}

static struct kobj_type fault_bare_ktype = {
	.release = fault_bare_release,
};

/**
 * tcpfault_rules_set_surface() - show the faults added from now on
 * @s: the control surface, or NULL to stop
 *
 * A fault keeps the surface it was shown on until it is destroyed: a
 * surface flushes the faults before it goes (tcpfault_sysfs_uninit()).
 */
void tcpfault_rules_set_surface(const struct tcpfault_rules_surface *s)
{
	mutex_lock(&tcpfault_rules_mutex);
	surface = s;
	mutex_unlock(&tcpfault_rules_mutex);
}
/* Publish a fault: its name, the index, the lists. */
static int fault_link(struct tcpfault_fault *f, struct name_entry *ne)
{
	struct rules_net *rn = rules_net(f->net);
	int ret;

	ret = rhashtable_insert_fast(&names, &ne->node, names_params);
	if (ret)
		return ret;
	ret = tcpfault_index_insert(f);
	if (ret) {
		rhashtable_remove_fast(&names, &ne->node, names_params);
		return ret;
	}
	list_add_tail(&f->node, &all_faults);
	list_add_tail(&f->net_node, &rn->faults);
	nfaults_total++;
	tcpfault_conn_arm();
	return 0;
}

/*
 * Release @f's name. Only once its sysfs directory is gone: a new fault of
 * the same name would otherwise race kobject_del() for the directory.
 */
static void name_release(struct tcpfault_fault *f)
{
	struct name_entry *ne = name_find(f->net_cookie, f->spec.name);

	lockdep_assert_held(&tcpfault_rules_mutex);
	if (ne && ne->f == f) {
		rhashtable_remove_fast(&names, &ne->node, names_params);
		kfree_rcu(ne, rcu);
	}
}

/*
 * Unpublish a fault; the caller destroys it after dropping the mutex. The
 * name stays taken (by a DEAD fault) until fault_destroy() releases it.
 */
static void fault_unlink(struct tcpfault_fault *f)
{
	struct rules_net *rn = rules_net(f->net);

	if (f->state == TCPFAULT_FS_ACTIVE)
		tcpfault_verdict_fault_stop(f);
	set_state(f, TCPFAULT_FS_DEAD);
	WRITE_ONCE(f->deadline_ns, 0);
	tcpfault_index_remove(f);
	list_del(&f->node);
	list_del(&f->net_node);
	WRITE_ONCE(rn->ndying, rn->ndying + 1);
	nfaults_total--;
	tcpfault_conn_disarm();
}

/*
 * Remove an unlinked fault's directory, then its name. Its namespace is
 * still alive here: its exit waits for ndying to drop to zero, so the
 * directory's namespace tag (f->net) never outlives the namespace.
 */
static void fault_destroy(struct tcpfault_fault *f)
{
	struct rules_net *rn = rules_net(f->net);
	bool last;

	cancel_delayed_work_sync(&f->work);
	/* What a delay fault holds goes on (or, the namespace going, is dropped). */
	tcpfault_delay_stop(f);
	if (f->surface)
		f->surface->fault_del(f);
	mutex_lock(&tcpfault_rules_mutex);
	name_release(f);
	WRITE_ONCE(rn->ndying, rn->ndying - 1);
	last = !rn->ndying;
	mutex_unlock(&tcpfault_rules_mutex);
	kobject_put(&f->kobj);		/* the last reference */
	if (last)
		wake_up_all(&dying_wq);
}

/**
 * tcpfault_rules_add() - create a fault in a namespace
 * @net: the namespace (the writer's)
 * @user: a parsed, valid spec (the module's default nflog group added)
 *
 * Names are unique within a namespace: another namespace may hold a fault
 * of the same name, and learns nothing of this one.
 *
 * Return: 0, -EEXIST if the name is taken in @net (also while a del of
 * it is still running), -ENOMEM, or the error of loading the NFLOG
 * logger that nflog= needs.
 */
int tcpfault_rules_add(struct net *net, const struct tcpfault_spec *user)
{
	struct tcpfault_spec spec_buf = *user, *spec = &spec_buf;
	struct tcpfault_fault *f;
	struct name_entry *ne;
	int ret;

	/* The module's default NFLOG group, for a fault that names none. */
	tcpfault_nflog_default(spec);
	/* nflog=: the loggers, held until the fault is freed (fault_free_rcu()). */
	ret = tcpfault_nflog_get(spec);
	if (ret)
		return ret;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	ne = kzalloc(sizeof(*ne), GFP_KERNEL);
	if (!f || !ne) {
		kfree(f);
		kfree(ne);
		tcpfault_nflog_put(spec);
		return -ENOMEM;
	}
	f->stats = alloc_percpu(struct tcpfault_fstats);
	if (!f->stats) {
		kfree(f);
		kfree(ne);
		tcpfault_nflog_put(spec);
		return -ENOMEM;
	}
	f->spec = *spec;
	/* delay: the queue of what it holds (delay.c). */
	if (spec->mode == TCPFAULT_MODE_DELAY && tcpfault_delay_create(f)) {
		free_percpu(f->stats);
		kfree(f);
		kfree(ne);
		tcpfault_nflog_put(spec);
		return -ENOMEM;
	}
	f->net = net;
	f->net_cookie = tcpfault_net_cookie(net);
	f->netns_inum = net->ns.inum;
	INIT_DELAYED_WORK(&f->work, fault_work);
	ne->key.cookie = f->net_cookie;
	strscpy(ne->key.name, spec->name, sizeof(ne->key.name));
	ne->f = f;

	mutex_lock(&tcpfault_rules_mutex);
	f->surface = surface;
	/* From here on, kobject_put() frees @f. */
	kobject_init(&f->kobj, surface ? surface->ktype : &fault_bare_ktype);
	if (name_find(f->net_cookie, spec->name)) {
		ret = -EEXIST;
		goto err;
	}
	f->id = ++next_fault_id;
	ret = fault_link(f, ne);
	if (ret)
		goto err;
	ret = surface ? surface->fault_add(f) : 0;
	if (ret) {
		fault_unlink(f);
		name_release(f);
		/* Not destroyed: the writer holds @net, nobody waits. */
		WRITE_ONCE(rules_net(net)->ndying, rules_net(net)->ndying - 1);
		mutex_unlock(&tcpfault_rules_mutex);
		tcpfault_delay_stop(f);
		kobject_put(&f->kobj);
		return ret;
	}
	if (spec->enabled)
		start(f);
	mutex_unlock(&tcpfault_rules_mutex);
	return 0;

err:
	mutex_unlock(&tcpfault_rules_mutex);
	kfree(ne);
	tcpfault_delay_stop(f);
	kobject_put(&f->kobj);
	return ret;
}

/**
 * tcpfault_rules_del() - delete a fault by name
 * @net: the namespace it lives in (the writer's)
 * @name: the name
 *
 * The name is free again when this returns: the fault's directory is gone.
 *
 * Return: 0 or -ENOENT (also while another writer is deleting it).
 */
int tcpfault_rules_del(struct net *net, const char *name)
{
	struct name_entry *ne;
	struct tcpfault_fault *f;

	mutex_lock(&tcpfault_rules_mutex);
	ne = name_find(tcpfault_net_cookie(net), name);
	if (!ne || ne->f->state == TCPFAULT_FS_DEAD) {
		mutex_unlock(&tcpfault_rules_mutex);
		return -ENOENT;
	}
	f = ne->f;
	fault_unlink(f);
	mutex_unlock(&tcpfault_rules_mutex);
	fault_destroy(f);
	return 0;
}

/**
 * tcpfault_rules_flush() - delete every fault of a namespace, or every fault
 * @net: the namespace, or NULL for all of them
 *
 * Return: the number of faults deleted.
 */
int tcpfault_rules_flush(struct net *net)
{
	struct tcpfault_fault *f, *tmp;
	LIST_HEAD(dead);
	int n = 0;

	mutex_lock(&tcpfault_rules_mutex);
	list_for_each_entry_safe(f, tmp, &all_faults, node) {
		if (net && f->net != net)
			continue;
		fault_unlink(f);
		list_add_tail(&f->node, &dead);
		/* A million faults: let others run (the mutex sleeps). */
		cond_resched();
	}
	mutex_unlock(&tcpfault_rules_mutex);
	list_for_each_entry_safe(f, tmp, &dead, node) {
		list_del(&f->node);
		fault_destroy(f);
		n++;
		cond_resched();
	}
	return n;
}

/**
 * tcpfault_rules_count() - faults in a namespace
 * @net: the namespace
 *
 * Return: the count.
 */
u64 tcpfault_rules_count(const struct net *net)
{
	return tcpfault_index_count(net);
}

/**
 * tcpfault_rules_net_list() - a namespace's faults, for procfs
 * @net: the namespace
 *
 * Caller holds tcpfault_rules_mutex.
 *
 * Return: the list head of tcpfault_fault.net_node entries.
 */
struct list_head *tcpfault_rules_net_list(struct net *net)
{
	lockdep_assert_held(&tcpfault_rules_mutex);
	return &rules_net(net)->faults;
}

static int __net_init rules_net_init(struct net *net)
{
	struct rules_net *rn = rules_net(net);

	INIT_LIST_HEAD(&rn->faults);
	return 0;
}

/*
 * Delete the namespace's faults, and wait for those another path (module
 * unload's flush) has unlinked but not yet destroyed: each fault's sysfs
 * directory is tagged with @net, so it must be gone before @net is freed.
 */
static void __net_exit rules_net_exit(struct net *net)
{
	struct rules_net *rn = rules_net(net);

	tcpfault_rules_flush(net);
	wait_event(dying_wq, !READ_ONCE(rn->ndying));
	WARN_ON(!list_empty(&rn->faults));
}

static struct pernet_operations rules_net_ops = {
	.init = rules_net_init,
	.exit = rules_net_exit,
	.id = &rules_net_id,
	.size = sizeof(struct rules_net),
};

/**
 * tcpfault_rules_init() - the name table and the per-namespace state
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_rules_init(void)
{
	int ret;

	ret = rhashtable_init(&names, &names_params);
	if (ret)
		return ret;
	ret = register_pernet_subsys(&rules_net_ops);
	if (ret) {
		rhashtable_destroy(&names);
		return ret;
	}
	tcpfault_conn_set_keep(conn_needed);
	return 0;
}

/**
 * tcpfault_rules_uninit() - delete every fault, free the tables
 */
void tcpfault_rules_uninit(void)
{
	tcpfault_conn_set_keep(NULL);
	unregister_pernet_subsys(&rules_net_ops);
	WARN_ON(nfaults_total);
	rcu_barrier();
	rhashtable_destroy(&names);
}
