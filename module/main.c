// SPDX-License-Identifier: GPL-2.0
/*
 * tcpfault: simulate link loss and host power-off for selected TCP
 * connections, and show connection by connection what the stack did.
 *
 * This file only sequences the subsystems; see tcpfault.h for the map.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "tcpfault.h"

static int __init tcpfault_mod_init(void)
{
	int ret;

	ret = tcpfault_conn_init();
	if (ret)
		return ret;
	ret = tcpfault_rules_init();
	if (ret)
		goto err_rules;
	ret = tcpfault_hooks_init();
	if (ret)
		goto err_hooks;
	ret = tcpfault_procfs_init();
	if (ret)
		goto err_procfs;
	ret = tcpfault_sysfs_init();
	if (ret)
		goto err_sysfs;
	pr_info("version %s loaded\n", TCPFAULT_VERSION);
	return 0;

err_sysfs:
	tcpfault_procfs_uninit();
err_procfs:
	tcpfault_hooks_uninit();
err_hooks:
	tcpfault_rules_uninit();
err_rules:
	tcpfault_conn_uninit();
	return ret;
}

static void __exit tcpfault_mod_exit(void)
{
	tcpfault_sysfs_uninit();
	tcpfault_procfs_uninit();
	tcpfault_hooks_uninit();
	tcpfault_rules_uninit();
	tcpfault_conn_uninit();
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(tcpfault_mod_init);
module_exit(tcpfault_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulate link loss and host power-off for selected TCP connections, with per-connection retransmit and keepalive counters");
MODULE_AUTHOR("The tcpfault developers");
MODULE_VERSION(TCPFAULT_VERSION);
