// SPDX-License-Identifier: GPL-2.0
/*
 * The segments a delay fault holds, and their way on.
 *
 * Each delay fault has a queue of the segments it holds, in the order
 * they are due, and a softirq hrtimer for the first of them. A segment
 * due goes on from where tcpfault's hook stopped it: the hook traversal
 * resumes at the next entry (nf_hook_slow()), so the later hooks at the
 * same point (conntrack, iptables and nftables chains, other modules)
 * see it, as after nf_reinject() for a queued one; then the hook's okfn.
 * While held it keeps references on its devices and socket, as
 * nf_queue_entry_get_refs() does, and its dst is made to hold a reference
 * of its own (skb_dst_force()).
 *
 * With reorder=0 a fault's queue is one FIFO: no segment is due before
 * one queued ahead of it, as on a serial link. With reorder=1 each is due
 * at its own latency plus jitter.
 *
 * At most delay_queue_max segments are held at once, over all faults;
 * the verdict (verdict.c) reserves a place before it asks for a hold, and
 * a segment that finds none is dropped and counted (queue_drops).
 *
 * Teardown: a fault deleted (del, flush, rmmod) sends its held segments
 * on at once; a namespace's exit drops them; a device going down drops
 * the segments held for it, releasing their references so that it can be
 * unregistered.
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/random.h>
#include <linux/skbuff.h>
#include <net/dst.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "tcpfault.h"

static unsigned int delay_queue_max = 10000;
module_param(delay_queue_max, uint, 0644);
MODULE_PARM_DESC(delay_queue_max,
		 "Most segments delay faults hold at once, all faults together (default 10000)");

/* Held (or reserved) segments, all queues. */
static atomic_t nheld = ATOMIC_INIT(0);

/* Every queue, for a device going down; under queues_mutex. */
static DEFINE_MUTEX(queues_mutex);
static LIST_HEAD(queues);

/**
 * struct tcpfault_delayq - the segments one delay fault holds
 * @lock: guards the rest but @node
 * @held: struct held, by due time
 * @timer: fires when the first is due
 * @last_due: reorder=0: no segment is due before this
 * @dead: the fault is going: hold nothing more, arm nothing more
 * @node: on the list of all queues, under queues_mutex
 * @f: the fault
 */
struct tcpfault_delayq {
	spinlock_t lock;
	struct list_head held;
	struct hrtimer timer;
	u64 last_due;
	bool dead;
	struct list_head node;
	struct tcpfault_fault *f;
};

/* One held segment and the hook state it resumes with. */
struct held {
	struct list_head node;
	struct sk_buff *skb;
	struct nf_hook_state state;
	const struct nf_hook_ops *ops;
	u64 due;
};

/**
 * tcpfault_delay_reserve() - reserve a place for a segment to be held
 *
 * Return: false if delay_queue_max segments are held already.
 */
bool tcpfault_delay_reserve(void)
{
	if (atomic_inc_return(&nheld) <= (int)READ_ONCE(delay_queue_max))
		return true;
	atomic_dec(&nheld);
	return false;
}

/**
 * tcpfault_delay_unreserve() - give back a place not used after all
 */
void tcpfault_delay_unreserve(void)
{
	atomic_dec(&nheld);
}

/**
 * tcpfault_delay_held() - segments held (or reserved) now, all faults
 *
 * Return: the count.
 */
unsigned int tcpfault_delay_held(void)
{
	return (unsigned int)atomic_read(&nheld);
}

static void held_put(struct held *h)
{
	struct nf_hook_state *st = &h->state;

	if (st->in)
		dev_put(st->in);
	if (st->out)
		dev_put(st->out);
	if (st->sk)
		sock_put(st->sk);
	kfree(h);
	atomic_dec(&nheld);
}

static void held_drop(struct held *h)
{
	kfree_skb(h->skb);
	held_put(h);
}

static const struct nf_hook_entries *hook_entries(struct net *net, u8 pf, unsigned int hook)
{
	if (pf == NFPROTO_IPV4)
		return rcu_dereference(net->nf.hooks_ipv4[hook]);
#if IS_ENABLED(CONFIG_IPV6)
	if (pf == NFPROTO_IPV6)
		return rcu_dereference(net->nf.hooks_ipv6[hook]);
#endif
	return NULL;
}

/*
 * Where the traversal resumes: after tcpfault's own entry, or, if it was
 * unregistered meanwhile, at the first entry of a later priority.
 */
static unsigned int resume_index(const struct nf_hook_entries *e, const struct nf_hook_ops *ops)
{
	struct nf_hook_ops **orig = nf_hook_entries_get_hook_ops(e);
	unsigned int i;

	for (i = 0; i < e->num_hook_entries; i++)
		if (orig[i] == ops)
			return i + 1;
	for (i = 0; i < e->num_hook_entries; i++)
		if (orig[i]->priority > ops->priority)
			break;
	return i;
}

/* The segment goes on, through the hooks after tcpfault's, to the okfn. */
static void held_send(struct held *h)
{
	struct nf_hook_state *st = &h->state;
	const struct nf_hook_entries *e;
	int ret = 1;

	/* As on the way in: BHs off, under RCU (the okfn's lookups need it). */
	local_bh_disable();
	rcu_read_lock();
	e = hook_entries(st->net, st->pf, st->hook);
	if (e)
		ret = nf_hook_slow(h->skb, st, e, resume_index(e, h->ops));
	if (ret == 1)
		st->okfn(st->net, st->sk, h->skb);
	rcu_read_unlock();
	local_bh_enable();
	held_put(h);
}

static enum hrtimer_restart delayq_fire(struct hrtimer *timer)
{
	struct tcpfault_delayq *q = container_of(timer, struct tcpfault_delayq, timer);
	struct held *h, *tmp;
	u64 now = ktime_get_ns();
	LIST_HEAD(due);

	spin_lock_bh(&q->lock);
	list_for_each_entry_safe(h, tmp, &q->held, node) {
		if (h->due > now)
			break;
		list_move_tail(&h->node, &due);
	}
	if (!q->dead && !list_empty(&q->held))
		hrtimer_start(&q->timer,
			      ns_to_ktime(list_first_entry(&q->held, struct held, node)->due),
			      HRTIMER_MODE_ABS_SOFT);
	spin_unlock_bh(&q->lock);
	list_for_each_entry_safe(h, tmp, &due, node)
		held_send(h);
	return HRTIMER_NORESTART;
}

/* Latency plus or minus up to jitter, uniformly. */
static u64 hold_ns(const struct tcpfault_spec *spec)
{
	u64 lat = spec->latency_ms * NSEC_PER_MSEC, jit = spec->jitter_ms * NSEC_PER_MSEC;

	if (!jit)
		return lat;
	return lat - jit + mul_u64_u32_shr(2 * jit, get_random_u32(), 32);
}

/**
 * tcpfault_delay_hold() - hold a segment for a delay fault
 * @f: the fault; the caller reserved a place (tcpfault_delay_reserve())
 * @skb: the segment
 * @state: its hook state
 * @ops: the tcpfault hook it is in
 *
 * Called from the hooks, under RCU. The reservation is used up either way.
 *
 * Return: NF_STOLEN if it is held; NF_ACCEPT if it cannot be (the fault
 * is being deleted, its socket is being freed, no memory), and it passes.
 */
unsigned int tcpfault_delay_hold(struct tcpfault_fault *f, struct sk_buff *skb,
				 const struct nf_hook_state *state, const struct nf_hook_ops *ops)
{
	struct tcpfault_delayq *q = f->delayq;
	struct held *h, *pos;
	bool first;

	h = kmalloc(sizeof(*h), GFP_ATOMIC | __GFP_NOWARN);
	if (!h)
		goto pass;
	if (!skb_dst_force(skb) && state->hook != NF_INET_PRE_ROUTING)
		goto pass_free;
	if (state->sk && !refcount_inc_not_zero(&state->sk->sk_refcnt))
		goto pass_free;
	h->skb = skb;
	h->state = *state;
	h->ops = ops;
	if (state->in)
		dev_hold(state->in);
	if (state->out)
		dev_hold(state->out);
	h->due = ktime_get_ns() + hold_ns(&f->spec);

	spin_lock_bh(&q->lock);
	if (q->dead) {
		spin_unlock_bh(&q->lock);
		held_put(h);
		return NF_ACCEPT;
	}
	if (!f->spec.reorder) {
		h->due = max(h->due, q->last_due);
		q->last_due = h->due;
		list_add_tail(&h->node, &q->held);
	} else {
		/* Most are due after the last one: look from the tail. */
		list_for_each_entry_reverse(pos, &q->held, node)
			if (pos->due <= h->due)
				break;
		list_add(&h->node, &pos->node);
	}
	first = q->held.next == &h->node;
	if (first)
		hrtimer_start(&q->timer, ns_to_ktime(h->due), HRTIMER_MODE_ABS_SOFT);
	spin_unlock_bh(&q->lock);
	return NF_STOLEN;

pass_free:
	kfree(h);
pass:
	atomic_dec(&nheld);
	return NF_ACCEPT;
}

/**
 * tcpfault_delay_create() - give a new delay fault its queue
 * @f: the fault, not yet published
 *
 * Return: 0 or -ENOMEM.
 */
int tcpfault_delay_create(struct tcpfault_fault *f)
{
	struct tcpfault_delayq *q = kzalloc(sizeof(*q), GFP_KERNEL);

	if (!q)
		return -ENOMEM;
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->held);
	tcpfault_hrtimer_setup(&q->timer, delayq_fire, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	q->f = f;
	mutex_lock(&queues_mutex);
	list_add_tail(&q->node, &queues);
	mutex_unlock(&queues_mutex);
	f->delayq = q;
	return 0;
}

/**
 * tcpfault_delay_stop() - a delay fault is deleted: let go of what it holds
 * @f: the fault, unpublished (no new segment finds it but under RCU)
 *
 * Its held segments go on at once, or, when its namespace is going away,
 * are dropped. Process context.
 */
void tcpfault_delay_stop(struct tcpfault_fault *f)
{
	struct tcpfault_delayq *q = f->delayq;
	struct held *h, *tmp;
	LIST_HEAD(out);
	bool send;

	if (!q)
		return;
	spin_lock_bh(&q->lock);
	q->dead = true;
	list_splice_init(&q->held, &out);
	spin_unlock_bh(&q->lock);
	hrtimer_cancel(&q->timer);
	send = check_net(f->net);
	list_for_each_entry_safe(h, tmp, &out, node) {
		if (send)
			held_send(h);
		else
			held_drop(h);
		cond_resched();
	}
	mutex_lock(&queues_mutex);
	list_del_init(&q->node);
	mutex_unlock(&queues_mutex);
}

/**
 * tcpfault_delay_free() - free a delay fault's queue
 * @f: the fault, stopped (tcpfault_delay_stop()) and past a grace period
 */
void tcpfault_delay_free(struct tcpfault_fault *f)
{
	struct tcpfault_delayq *q = f->delayq;

	if (!q)
		return;
	WARN_ON_ONCE(!list_empty(&q->held) || !list_empty(&q->node));
	kfree(q);
}

static int delay_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct tcpfault_delayq *q;
	struct held *h, *tmp;
	LIST_HEAD(gone);

	if (event != NETDEV_DOWN && event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	mutex_lock(&queues_mutex);
	list_for_each_entry(q, &queues, node) {
		if (q->f->net != dev_net(dev))
			continue;
		spin_lock_bh(&q->lock);
		list_for_each_entry_safe(h, tmp, &q->held, node)
			if (h->state.in == dev || h->state.out == dev)
				list_move_tail(&h->node, &gone);
		spin_unlock_bh(&q->lock);
	}
	mutex_unlock(&queues_mutex);
	list_for_each_entry_safe(h, tmp, &gone, node)
		held_drop(h);
	return NOTIFY_DONE;
}

static struct notifier_block delay_netdev_nb = {
	.notifier_call = delay_netdev_event,
};

int tcpfault_delay_init(void)
{
	return register_netdevice_notifier(&delay_netdev_nb);
}

void tcpfault_delay_uninit(void)
{
	unregister_netdevice_notifier(&delay_netdev_nb);
	WARN_ON(!list_empty(&queues));
}
