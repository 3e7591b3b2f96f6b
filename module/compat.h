/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels tcpfault builds against lives here.
 * Kbuild force-includes this header and defines the TCPFAULT_HAVE_* macros
 * by probing the target tree's headers (see Kbuild), never by comparing
 * LINUX_VERSION_CODE: distributions backport. The kernels it is tested on
 * are listed in README.md; dkms.conf refuses the others.
 */
#ifndef _TCPFAULT_COMPAT_H
#define _TCPFAULT_COMPAT_H

struct net;
struct inet_hashinfo;
struct kobject;
struct ns_common;

/*
 * 6.1 gave each namespace its own TCP established hash (tcp_child_ehash_entries);
 * before that there was only the global tcp_hashinfo.
 */
#ifdef TCPFAULT_HAVE_NETNS_EHASH
#define tcpfault_tcp_hashinfo(net) ((net)->ipv4.tcp_death_row.hashinfo)
#else
#define tcpfault_tcp_hashinfo(net) (&tcp_hashinfo)
#endif

/*
 * The kobj_type callbacks that tag sysfs directories with a namespace
 * (child_ns_type, namespace) take a non-const kobject in 5.10 and 6.1 and a
 * const one in 6.12; in 7.3 the tag is also the namespace's struct
 * ns_common rather than a bare pointer.
 */
#ifdef TCPFAULT_HAVE_KOBJ_CONST
#define tcpfault_kobj_arg_t const struct kobject
#else
#define tcpfault_kobj_arg_t struct kobject
#endif
#ifdef TCPFAULT_HAVE_KOBJ_NS_COMMON
#define tcpfault_ns_tag_t const struct ns_common *
#define tcpfault_net_tag(net) (&(net)->ns)
#else
#define tcpfault_ns_tag_t const void *
#define tcpfault_net_tag(net) ((const void *)(net))
#endif

#endif /* _TCPFAULT_COMPAT_H */
