// SPDX-License-Identifier: GPL-2.0
/*
 * NFLOG copies of what a fault does (nflog=GROUP): every segment it drops
 * and every RST it sends go to the NFLOG group of the namespace they are
 * in, prefixed with the fault's name, through the kernel's own logging
 * path (nf_log_packet() with the ULOG type, as the NFLOG target does).
 * `tcpdump -i nflog:GROUP` then shows them, also a segment stolen at
 * LOCAL_OUT, which no capture anywhere else can see.
 *
 * A fault with nflog= holds a reference on the ULOG logger of each family
 * from its add to its free, loading nfnetlink_log if need be: a logger
 * that is not there logs nothing. The nflog_group parameter is the
 * default for faults added without nflog= (every mode but watch).
 */
#include <linux/kmod.h>
#include <linux/moduleparam.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_log.h>

#include "tcpfault.h"

/* The group of faults added without nflog=, or -1 for none. */
static int nflog_default = -1;

static int nflog_group_set(const char *val, const struct kernel_param *kp)
{
	int n;

	if (kstrtoint(val, 10, &n) || n < -1 || n > 65535) {
		pr_err_ratelimited("nflog_group=%s: must be -1 (none) or a group from 0 to 65535\n",
				   val);
		return -EINVAL;
	}
	WRITE_ONCE(nflog_default, n);
	return 0;
}

static const struct kernel_param_ops nflog_group_ops = {
	.set = nflog_group_set,
	.get = param_get_int,
};

module_param_cb(nflog_group, &nflog_group_ops, &nflog_default, 0644);
MODULE_PARM_DESC(nflog_group,
		 "NFLOG group of faults added without nflog=, -1 for none (default -1)");

/**
 * tcpfault_nflog_default() - give a new fault the default group
 * @spec: its spec, before it is added; unchanged if it has nflog= or
 *	is a watch, or if there is no default
 */
void tcpfault_nflog_default(struct tcpfault_spec *spec)
{
	int g = READ_ONCE(nflog_default);

	if (spec->nflog || spec->mode == TCPFAULT_MODE_WATCH || g < 0)
		return;
	spec->nflog = true;
	spec->nflog_group = (u16)g;
}

static const u8 nflog_pf[] = {
	NFPROTO_IPV4,
#if IS_ENABLED(CONFIG_IPV6)
	NFPROTO_IPV6,
#endif
};

/*
 * The ULOG logger of @pf, loading nfnetlink_log first if it is not
 * registered, as the NFLOG target does (nflog_tg_check()): the logger
 * lookup itself loads nothing.
 */
static int logger_get(u8 pf)
{
	int ret = nf_logger_find_get(pf, NF_LOG_TYPE_ULOG);

	if (ret == -ENOENT) {
		request_module("%s", "nfnetlink_log");
		ret = nf_logger_find_get(pf, NF_LOG_TYPE_ULOG);
	}
	return ret;
}

/**
 * tcpfault_nflog_get() - take the loggers a fault's spec needs
 * @spec: the spec; nothing happens without nflog=
 *
 * Context: process; may load nfnetlink_log.
 *
 * Return: 0, or a negative errno (nothing taken).
 */
int tcpfault_nflog_get(const struct tcpfault_spec *spec)
{
	unsigned int i;
	int ret;

	if (!spec->nflog)
		return 0;
	for (i = 0; i < ARRAY_SIZE(nflog_pf); i++) {
		ret = logger_get(nflog_pf[i]);
		if (ret) {
			while (i--)
				nf_logger_put(nflog_pf[i], NF_LOG_TYPE_ULOG);
			return ret;
		}
	}
	return 0;
}

/**
 * tcpfault_nflog_put() - release what tcpfault_nflog_get() took
 * @spec: the same spec
 */
void tcpfault_nflog_put(const struct tcpfault_spec *spec)
{
	unsigned int i;

	if (!spec->nflog)
		return;
	for (i = 0; i < ARRAY_SIZE(nflog_pf); i++)
		nf_logger_put(nflog_pf[i], NF_LOG_TYPE_ULOG);
}

/**
 * tcpfault_nflog_packet() - copy a segment to a fault's NFLOG group
 * @net: the namespace it is in
 * @pf: NFPROTO_IPV4 or NFPROTO_IPV6
 * @hook: where it was seen (or, for an injected RST, LOCAL_OUT)
 * @skb: the segment, network header set
 * @in: its input device, or NULL
 * @out: its output device, or NULL
 * @f: the fault, whose spec has nflog=
 *
 * Context: any; under RCU or with the fault held.
 */
void tcpfault_nflog_packet(struct net *net, u8 pf, unsigned int hook,
			   const struct sk_buff *skb, const struct net_device *in,
			   const struct net_device *out, const struct tcpfault_fault *f)
{
	struct nf_loginfo li = {
		.type = NF_LOG_TYPE_ULOG,
		.u.ulog.group = f->spec.nflog_group,
		/* Sent on at once: a capture sees each segment as it happens. */
		.u.ulog.qthreshold = 1,
	};

	nf_log_packet(net, pf, hook, skb, in, out, &li, "%s", f->spec.name);
}
