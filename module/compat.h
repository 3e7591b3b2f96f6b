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

/*
 * 6.1 gave each namespace its own TCP established hash (tcp_child_ehash_entries);
 * before that there was only the global tcp_hashinfo.
 */
#ifdef TCPFAULT_HAVE_NETNS_EHASH
#define tcpfault_tcp_hashinfo(net) ((net)->ipv4.tcp_death_row.hashinfo)
#else
#define tcpfault_tcp_hashinfo(net) (&tcp_hashinfo)
#endif

#endif /* _TCPFAULT_COMPAT_H */
