#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stage 2 of the tcpfault guest, PID 1 in the Debian userspace. Runs the
# command the harness left in /results/.guest/cmd, then writes the verdict
# channel last: dmesg, the kmemleak report (after a scan), and finally rc.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
G=/results/.guest

mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up
hostname tcpfault-guest 2>/dev/null

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo clear > /sys/kernel/debug/kmemleak
fi

cd "$(cat $G/cwd)" || cd /
echo "tcpfault-guest: $(uname -r), $(nproc) CPUs, running: $(cat $G/cmd)"
bash $G/cmd
rc=$?
echo "tcpfault-guest: command exited with $rc"

sync
if [ -w /sys/kernel/debug/kmemleak ]; then
	# Objects freed by RCU callbacks need a grace period or two; kmemleak
	# also ignores objects younger than 5 s. Scan twice, as its docs advise.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > $G/kmemleak.txt
fi
dmesg > $G/dmesg.txt
echo "$rc" > $G/rc
sync
/bin/busybox reboot -f
