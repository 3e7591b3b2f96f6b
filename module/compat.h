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
 * A per-segment local written whole before it is read: kept out of the
 * compiler's automatic zeroing of the stack (CONFIG_INIT_STACK_ALL_ZERO:
 * Debian's 6.1 and later; not 5.10), which would clear it again for every
 * segment. A compiler without the option has no attribute either.
 */
#if __has_attribute(__uninitialized__)
#define tcpfault_noinit __attribute__((__uninitialized__))
#else
#define tcpfault_noinit
#endif

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
 * 5.10 makes a namespace's cookie on first use, in __net_gen_cookie(), which
 * modules cannot call; 5.12 made it at creation, a plain u64. The inode
 * number is unique among live namespaces, and tcpfault drops everything it
 * holds for a namespace in its pernet exit, before the number can be reused.
 */
#ifdef TCPFAULT_HAVE_ATOMIC_NET_COOKIE
#define tcpfault_net_cookie(net) ((u64)(net)->ns.inum)
#else
#define tcpfault_net_cookie(net) ((net)->net_cookie)
#endif

/*
 * 7.3 dropped the hashinfo argument of the established-hash lookups: a
 * namespace's table is found from the namespace itself.
 */
#ifdef TCPFAULT_HAVE_LOOKUP_HASHINFO
#define tcpfault_inet_lookup_established(net, h, saddr, sport, daddr, hnum) \
	__inet_lookup_established(net, h, saddr, sport, daddr, hnum, 0, 0)
#define tcpfault_inet6_lookup_established(net, h, saddr, sport, daddr, hnum) \
	__inet6_lookup_established(net, h, saddr, sport, daddr, hnum, 0, 0)
#else
#define tcpfault_inet_lookup_established(net, h, saddr, sport, daddr, hnum) \
	({ (void)(h); __inet_lookup_established(net, saddr, sport, daddr, hnum, 0, 0); })
#define tcpfault_inet6_lookup_established(net, h, saddr, sport, daddr, hnum) \
	({ (void)(h); __inet6_lookup_established(net, saddr, sport, daddr, hnum, 0, 0); })
#endif

/*
 * 6.13 to 6.16 made binary sysfs attributes const: first the callbacks'
 * attribute argument, then a group's list of them.
 */
#ifdef TCPFAULT_HAVE_CONST_BIN_ATTR
#define tcpfault_bin_attr const struct bin_attribute
#else
#define tcpfault_bin_attr struct bin_attribute
#endif
#ifdef TCPFAULT_HAVE_CONST_BIN_ATTRS
#define TCPFAULT_BIN_ATTRS const struct bin_attribute *const
#else
#define TCPFAULT_BIN_ATTRS struct bin_attribute *
#endif

/*
 * 7.x no longer exports tcp_done(). Its tcp_abort() has "tcp: fix forever
 * orphan socket caused by tcp_abort", so there is no orphan left to finish;
 * should one survive anyway, the power-off walk counts it as not aborted.
 */
#ifdef TCPFAULT_HAVE_EXPORTED_TCP_DONE
#define tcpfault_tcp_done(sk) tcp_done(sk)
#else
#define tcpfault_tcp_done(sk) do { } while (0)
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

/*
 * 6.13 added hrtimer_setup(), which sets the callback along with the
 * rest; later kernels removed hrtimer_init().
 */
#ifdef TCPFAULT_HAVE_HRTIMER_SETUP
#define tcpfault_hrtimer_setup(t, fn, clock, mode) hrtimer_setup(t, fn, clock, mode)
#else
#define tcpfault_hrtimer_setup(t, fn, clock, mode)	\
	do {						\
		hrtimer_init(t, clock, mode);		\
		(t)->function = (fn);			\
	} while (0)
#endif

#endif /* _TCPFAULT_COMPAT_H */
