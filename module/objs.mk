# SPDX-License-Identifier: GPL-2.0
# tcpfault's objects and how to compile them, in one place. module/Kbuild
# links tcpfault.ko from main.o and $(tcpfault-objs). kunit/Kbuild and
# tools/testing/bench/kmod/Kbuild include this file too and link their own
# module from the same objects, compiled with the same flags, without
# main.o: nothing is registered unless they ask for it.
#
# Include it before setting any ccflags-y. An includer outside module/ first
# sets tcpfault-dir to module/'s path from its own directory: module/X.c
# then compiles into the includer's $(obj)/X.o, by kbuild's own rule.
tcpfault-dir ?= .
tcpfault-objs := spec.o conn.o index.o nflog.o inject.o delay.o verdict.o rules.o hooks.o procfs.o sysfs.o

ccflags-y := -D'pr_fmt(fmt)=KBUILD_MODNAME ": " fmt'
ccflags-y += -Wframe-larger-than=1536
ccflags-y += -I$(src)/$(tcpfault-dir)
ccflags-y += -include $(src)/$(tcpfault-dir)/compat.h
ifneq ($(TCPFAULT_VERSION),)
ccflags-y += -DTCPFAULT_VERSION='"$(TCPFAULT_VERSION)"'
endif

# Compat probes: look at the target tree's headers, not at version numbers.
tcpfault-probe = $(shell grep -Eqs $(2) $(srctree)/$(1) && echo -D$(3))
ccflags-y += $(call tcpfault-probe,include/net/netns/ipv4.h,'inet_hashinfo[[:space:]]+\*hashinfo',TCPFAULT_HAVE_NETNS_EHASH)
ccflags-y += $(call tcpfault-probe,include/net/net_namespace.h,'atomic64_t[[:space:]]+net_cookie',TCPFAULT_HAVE_ATOMIC_NET_COOKIE)
# The same on the header with its blanks removed, for a declaration that
# spans lines. Patterns with commas or parentheses go through a variable.
tcpfault-probe-flat = $(shell tr -d ' \t\n' < $(srctree)/$(1) 2>/dev/null | grep -Eqs $(2) && echo -D$(3))
tcpfault-re-lookup := '__inet_lookup_established[(](const)?structnet\*net,structinet_hashinfo\*'
ccflags-y += $(call tcpfault-probe-flat,include/net/inet_hashtables.h,$(tcpfault-re-lookup),TCPFAULT_HAVE_LOOKUP_HASHINFO)
tcpfault-re-binread := '[(][*]read[)][(]structfile[*],structkobject[*],conststructbin_attribute[*]'
ccflags-y += $(call tcpfault-probe-flat,include/linux/sysfs.h,$(tcpfault-re-binread),TCPFAULT_HAVE_CONST_BIN_ATTR)
tcpfault-re-binattrs := 'conststructbin_attribute[*]const[*]bin_attrs;'
ccflags-y += $(call tcpfault-probe-flat,include/linux/sysfs.h,$(tcpfault-re-binattrs),TCPFAULT_HAVE_CONST_BIN_ATTRS)
# Symbols a module may use: the tree's Module.symvers.
tcpfault-probe-sym = $(shell grep -qs '[[:space:]]$(1)[[:space:]]' $(objtree)/Module.symvers && echo -D$(2))
ccflags-y += $(call tcpfault-probe-sym,tcp_done,TCPFAULT_HAVE_EXPORTED_TCP_DONE)
ccflags-y += $(call tcpfault-probe,include/linux/kobject.h,'child_ns_type..const[[:space:]]+struct[[:space:]]+kobject',TCPFAULT_HAVE_KOBJ_CONST)
# 6.13 added hrtimer_setup(); later kernels dropped hrtimer_init().
tcpfault-re-hrtimer := 'void[[:space:]]+hrtimer_setup[(]'
ccflags-y += $(call tcpfault-probe,include/linux/hrtimer.h,$(tcpfault-re-hrtimer),TCPFAULT_HAVE_HRTIMER_SETUP)
ccflags-y += $(call tcpfault-probe,include/linux/kobject.h,'ns_common[[:space:]]+[*].[*]namespace[^[:alnum:]_]',TCPFAULT_HAVE_KOBJ_NS_COMMON)

ifneq ($(tcpfault-dir),.)
$(obj)/%.o: $(src)/$(tcpfault-dir)/%.c FORCE
	$(call if_changed_rule,cc_o_c)
endif
