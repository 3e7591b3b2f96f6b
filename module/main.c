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

static const struct tcpfault_stage stages[] = {
	TCPFAULT_STAGES(TCPFAULT_STAGE)
};

static int __init tcpfault_mod_init(void)
{
	int ret = tcpfault_stages_init(stages, ARRAY_SIZE(stages));

	if (!ret)
		pr_info("version %s loaded\n", TCPFAULT_VERSION);
	return ret;
}

static void __exit tcpfault_mod_exit(void)
{
	tcpfault_stages_uninit(stages, ARRAY_SIZE(stages));
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(tcpfault_mod_init);
module_exit(tcpfault_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulate link loss and host power-off for selected TCP connections, with per-connection retransmit and keepalive counters");
MODULE_AUTHOR("The tcpfault developers");
MODULE_VERSION(TCPFAULT_VERSION);
