#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: build the module, boot a guest on Debian's kernel and show
# tcpfault at work. (The full scenario runner replaces the body below.)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
tools/testing/provision.sh build guest >&2
kdir=$(ls -d /lib/modules/*-amd64/build | sort -V | tail -n 1)
ko=$(tools/testing/build-module.sh "$kdir" build/stock)
exec tools/testing/qemu/run.sh --kernel stock --results build/demo --quiet -- \
	bash -c "insmod $ko && ls /sys/kernel/tcpfault && cat /proc/net/tcpfault/faults && rmmod tcpfault" \
	; cat build/demo/console.log | grep -v '^\[ *[0-9]'
