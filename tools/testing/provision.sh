#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, idempotently, the Debian packages a tcpfault build or test step
# needs. Usage: provision.sh GROUP...   (see the table below)
# Only missing packages are installed; nothing already present is upgraded.
set -euo pipefail

declare -A groups=(
	[build]="gcc make libc6-dev pkg-config libjson-c-dev linux-headers-amd64 kmod"
	[guest]="qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64 kmod cpio iproute2 procps python3 tcpdump iperf3 util-linux"
	[debug-kernel]="linux-source-6.1 gcc make bc bison flex libelf-dev libssl-dev cpio kmod xz-utils dwarves rsync python3"
	[dkms]="dkms linux-headers-amd64"
	[lint]="sparse perl"
	[unit]="gcc make libcmocka-dev pkg-config libjson-c-dev libxml2-dev groff-base"
	[fuzz]="clang libclang-rt-14-dev"
	[bench]="iperf3 iptables nftables"
)

want=()
for g in "$@"; do
	[ -n "${groups[$g]+x}" ] || { echo "provision: unknown group '$g'" >&2; exit 2; }
	for p in ${groups[$g]}; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || want+=("$p")
	done
done
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "provision: need root to install: ${want[*]}" >&2
	exit 1
fi
echo "provision: installing ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${want[@]}" >&2; then
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${want[@]}" >&2
fi
