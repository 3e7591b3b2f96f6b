#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stage 2 of the tcpfault guest, PID 1 in the Debian userspace. Runs the
# command the harness left in /results/.guest/cmd, then writes the verdict
# channel last: dmesg, the kmemleak report (after a scan), and finally rc.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
G=/results/.guest
echo "tcpfault-guest: stage 2 at $(cut -d" " -f1 /proc/uptime) s"

# The guest gets an empty /tmp and /run of its own. A checkout under the
# host's /tmp or /run (many first try a project in /tmp) stays reachable:
# its top directory is moved onto the new tmpfs at the same path.
cwd=$(cat $G/cwd)
keep=
case "$cwd" in /tmp/?*|/run/?*)
	keep=${cwd#/*/}
	keep=${cwd%%/"$keep"}/${keep%%/*}
	mkdir -p /mnt/tcpfault-keep
	mount --bind "$keep" /mnt/tcpfault-keep
	;;
esac
# A kernel from another release's root (run.sh --kernel LINE) brings its
# modules from there.
if [ -f $G/modules ]; then
	mods=$(cat $G/modules)
	mkdir -p "/lib/modules/${mods##*/}"
	mount --bind "$mods" "/lib/modules/${mods##*/}"
fi
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	mount --move /mnt/tcpfault-keep "$keep"
fi
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
echo "tcpfault-guest: mounts done at $(cut -d" " -f1 /proc/uptime) s"
ip link set lo up

# kmemleak, unless the command line turned it off (run.sh --append).
leak=
if [ -w /sys/kernel/debug/kmemleak ] && ! grep -qw kmemleak=off /proc/cmdline; then
	leak=1
fi
if [ -n "$leak" ]; then
	echo "tcpfault-guest: kmemleak clear at $(cut -d" " -f1 /proc/uptime) s"
	echo scan=off > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

echo "tcpfault-guest: ready at $(cut -d" " -f1 /proc/uptime) s"
cd "$cwd" || { echo "tcpfault-guest: cannot enter $cwd"; echo 2 > $G/rc; /bin/busybox reboot -f; }
echo "tcpfault-guest: $(uname -r), $(nproc) CPUs, running: $(cat $G/cmd)"
bash $G/cmd
rc=$?
echo "tcpfault-guest: command exited with $rc"

sync
if [ -n "$leak" ]; then
	# kmemleak ignores objects younger than 5 s, and objects freed by RCU
	# callbacks need a grace period: wait, scan, and only if something
	# shows up scan again and keep what persists, as its docs advise.
	sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	if [ -s /sys/kernel/debug/kmemleak ]; then
		sleep 2
		echo scan > /sys/kernel/debug/kmemleak
	fi
	cat /sys/kernel/debug/kmemleak > $G/kmemleak.txt
	echo "tcpfault-guest: kmemleak scanned at $(cut -d" " -f1 /proc/uptime) s"
fi
dmesg > $G/dmesg.txt
echo "$rc" > $G/rc
sync
/bin/busybox reboot -f
