// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/tcpfault/: the tables, per network namespace. Each file starts
 * with a header line naming its whitespace-separated columns; the formats
 * are documented in README.md and only ever grow at the end of a line.
 *
 *   faults    one line per fault of this namespace
 *   conns     one line per tracked connection of this namespace
 *   timeline  one line per event, oldest first, connection by connection
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "tcpfault.h"

/* ---- faults --------------------------------------------------------- */

/* The mutex is held from start to stop, as seq_file allows. */
static void *faults_start(struct seq_file *seq, loff_t *pos)
{
	mutex_lock(&tcpfault_rules_mutex);
	return seq_list_start_head(tcpfault_rules_net_list(seq_file_net(seq)), *pos);
}

static void *faults_next(struct seq_file *seq, void *v, loff_t *pos)
{
	return seq_list_next(v, tcpfault_rules_net_list(seq_file_net(seq)), pos);
}

static void faults_stop(struct seq_file *seq, void *v)
{
	mutex_unlock(&tcpfault_rules_mutex);
}

static const char * const fcounter_names[TCPFAULT_F_MAX] = {
	TCPFAULT_FAULT_COUNTERS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

static int faults_show(struct seq_file *seq, void *v)
{
	struct tcpfault_fault *f;
	char spec[TCPFAULT_SPEC_MAX + 64];

	int i;

	if (v == tcpfault_rules_net_list(seq_file_net(seq))) {
		seq_puts(seq, "id name mode state time_left_ms");
		for (i = 0; i < TCPFAULT_F_MAX; i++)
			seq_printf(seq, " %s", fcounter_names[i]);
		seq_puts(seq, " spec\n");
		return 0;
	}
	f = list_entry(v, struct tcpfault_fault, net_node);
	tcpfault_spec_format(&f->spec, spec, sizeof(spec));
	seq_printf(seq, "%llu %s %s %s %lld", f->id, f->spec.name,
		   tcpfault_spec_mode_name(f->spec.mode), tcpfault_rules_state_name(f),
		   tcpfault_rules_time_left_ms(f));
	for (i = 0; i < TCPFAULT_F_MAX; i++)
		seq_printf(seq, " %llu", tcpfault_verdict_stat(f, i));
	seq_printf(seq, " %s\n", spec);
	return 0;
}

static const struct seq_operations faults_seq_ops = {
	.start = faults_start,
	.next = faults_next,
	.stop = faults_stop,
	.show = faults_show,
};

/* ---- conns and timeline: the same iterator ----------------------------- */

static void *conns_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	rcu_read_lock();
	if (!*pos)
		return SEQ_START_TOKEN;
	return tcpfault_conn_iter_seek(seq_file_net(seq), seq->private, *pos - 1);
}

static void *conns_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return tcpfault_conn_iter_seek(seq_file_net(seq), seq->private, *pos - 1);
}

static void conns_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static void put_endpoint(struct seq_file *seq, const struct tcpfault_conn *c, int ep)
{
	char addr[64];
	u8 a[16];
	u16 port;

	tcpfault_conn_endpoint(c, ep, a, &port);
	tcpfault_spec_format_addr(c->key.family, a, addr, sizeof(addr));
	seq_printf(seq, " %s %u", addr, port);
}

static void put_conn_header(struct seq_file *seq)
{
	static const char * const kview[] = {
		"total_retrans", "retransmits", "backoff", "rto_ms", "probes_out",
		"rtt_us", "rttvar_us", "dsack_dups",
	};
	static const char * const side[] = { "o", "r" };
	int s, i;

	seq_puts(seq, "id af saddr sport daddr dport state first_ns last_ns");
	for (s = 0; s < 2; s++)
		for (i = 0; i < TCPFAULT_C_MAX; i++)
			seq_printf(seq, " %s_%s", side[s], tcpfault_conn_counter_name(i));
	for (s = 0; s < 2; s++)
		for (i = 0; i < ARRAY_SIZE(kview); i++)
			seq_printf(seq, " k%s_%s", side[s], kview[i]);
	seq_putc(seq, '\n');
}

static int conns_show(struct seq_file *seq, void *v)
{
	struct tcpfault_conn *c = v;
	u64 first = 0, last = 0;
	int s, i;

	if (v == SEQ_START_TOKEN) {
		put_conn_header(seq);
		return 0;
	}
	for (s = 0; s < 2; s++) {
		u64 f = READ_ONCE(c->d[s].first_ns), l = READ_ONCE(c->d[s].last_ns);

		if (f && (!first || f < first))
			first = f;
		last = max(last, l);
	}
	seq_printf(seq, "%llu %s", c->id, c->key.family == TCPFAULT_FAM_INET ? "ipv4" : "ipv6");
	put_endpoint(seq, c, c->orig);
	put_endpoint(seq, c, !c->orig);
	seq_printf(seq, " %s %llu %llu", tcpfault_conn_state_name(READ_ONCE(c->state)),
		   first, last);
	for (s = 0; s < 2; s++) {
		const struct tcpfault_dir *d = &c->d[s ? !c->orig : c->orig];

		for (i = 0; i < TCPFAULT_C_MAX; i++)
			seq_printf(seq, " %lld", (long long)atomic64_read(&d->c[i]));
	}
	tcpfault_inject_sock_view(seq_file_net(seq), c, c->orig, seq);
	tcpfault_inject_sock_view(seq_file_net(seq), c, !c->orig, seq);
	seq_putc(seq, '\n');
	return 0;
}

static const struct seq_operations conns_seq_ops = {
	.start = conns_start,
	.next = conns_next,
	.stop = conns_stop,
	.show = conns_show,
};

static int timeline_show(struct seq_file *seq, void *v)
{
	struct tcpfault_conn *c = v;
	struct tcpfault_event ev;
	u32 i, head;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "conn ts_ns dir event seq len flags info\n");
		return 0;
	}
	for (i = tcpfault_conn_events(c, &head); i != head; i++) {
		if (!tcpfault_conn_event_read(c, i, &ev))
			continue;	/* being rewritten */
		seq_printf(seq, "%llu %llu %s %s %u %u %s ", c->id, ev.ts,
			   ev.dir == c->orig ? "o" : "r", tcpfault_conn_event_name(ev.type),
			   ev.seq, ev.len, (ev.flags & TCPFAULT_EVF_DROPPED) ? "dropped" :
			   (ev.flags & TCPFAULT_EVF_DELAYED) ? "delayed" : "-");
		if (ev.type == TCPFAULT_EV_STATE)
			seq_printf(seq, "%s\n", tcpfault_conn_state_name(ev.seq));
		else if (ev.type == TCPFAULT_EV_FAULT_START || ev.type == TCPFAULT_EV_FAULT_STOP)
			seq_printf(seq, "fault=%u\n", ev.seq);
		else
			seq_puts(seq, "-\n");
	}
	return 0;
}

static const struct seq_operations timeline_seq_ops = {
	.start = conns_start,
	.next = conns_next,
	.stop = conns_stop,
	.show = timeline_show,
};

static int __net_init procfs_net_init(struct net *net)
{
	struct proc_dir_entry *dir;

	dir = proc_net_mkdir(net, "tcpfault", net->proc_net);
	if (!dir)
		return -ENOMEM;
	if (!proc_create_net("faults", 0444, dir, &faults_seq_ops,
			     sizeof(struct seq_net_private)) ||
	    !proc_create_net("conns", 0444, dir, &conns_seq_ops,
			     sizeof(struct tcpfault_conn_iter)) ||
	    !proc_create_net("timeline", 0444, dir, &timeline_seq_ops,
			     sizeof(struct tcpfault_conn_iter))) {
		remove_proc_subtree("tcpfault", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit procfs_net_exit(struct net *net)
{
	remove_proc_subtree("tcpfault", net->proc_net);
}

static struct pernet_operations procfs_net_ops = {
	.init = procfs_net_init,
	.exit = procfs_net_exit,
};

/**
 * tcpfault_procfs_init() - create /proc/net/tcpfault in every namespace
 *
 * Return: 0 or a negative errno.
 */
int tcpfault_procfs_init(void)
{
	return register_pernet_subsys(&procfs_net_ops);
}

/**
 * tcpfault_procfs_uninit() - remove /proc/net/tcpfault everywhere
 */
void tcpfault_procfs_uninit(void)
{
	unregister_pernet_subsys(&procfs_net_ops);
}
