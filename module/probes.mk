# SPDX-License-Identifier: GPL-2.0
# Included by every Kbuild that compiles module/ (the module, KUnit, the
# benchmark): the -DTCPFAULT_HAVE_* flags module/compat.h acts on.
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
ccflags-y += $(call tcpfault-probe,include/linux/kobject.h,'ns_common[[:space:]]+[*].[*]namespace[^[:alnum:]_]',TCPFAULT_HAVE_KOBJ_NS_COMMON)
