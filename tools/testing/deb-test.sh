#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package round trip on this machine, or in any Debian root
# (run as root, by make check and in each kernel's own release root).
#   deb-test.sh install   build the packages (make deb: dpkg-buildpackage
#                         and lintian), apt-get install them, and check that
#                         DKMS built and installed the module for every
#                         kernel with headers in /lib/modules whose version
#                         is in dkms.conf's BUILD_EXCLUSIVE_KERNEL range, for
#                         none outside it, and that the CLI, its manual page
#                         and bash completion are installed
#   deb-test.sh remove    apt-get remove them and check nothing is left
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
range=$(sed -n 's/^BUILD_EXCLUSIVE_KERNEL="\(.*\)"/\1/p' "$top/dkms.conf")
pkgs=(tcpfault-dkms tcpfault-tools)
files=(/usr/sbin/tcpfaultctl /usr/share/man/man8/tcpfaultctl.8.gz
	/usr/share/bash-completion/completions/tcpfaultctl)

# The kernels whose headers are installed, one per line.
kernels() {
	local b
	for b in /lib/modules/*/build; do
		[ -d "$b" ] || continue
		b=${b%/build}
		echo "${b#/lib/modules/}"
	done
}

# in_range KVER: whether DKMS builds for KVER (dkms matches the same way)
in_range() {
	[[ $1 =~ $range ]]
}

# installed PKG: whether dpkg has PKG installed (any state but not-installed)
installed() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != not-installed ]
}

export DEBIAN_FRONTEND=noninteractive
case "${1-}" in
install)
	[ -n "$range" ] || { echo "no BUILD_EXCLUSIVE_KERNEL in dkms.conf"; exit 1; }
	"$top/tools/testing/provision.sh" dkms
	# Start from nothing: an earlier package, or a source tree registered
	# by hand (make dkms-install), would clash.
	for p in "${pkgs[@]}"; do
		if installed "$p"; then apt-get purge -y -q "$p"; fi
	done
	dkms remove -m tcpfault -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/tcpfault-$ver"
	make -s -C "$top" deb
	mapfile -t debs < <(ls "$top"/build/deb/*.deb)
	echo "packages: ${debs[*]}"
	apt-get install -y -q "${debs[@]}"
	dkms status -m tcpfault
	n=0
	for k in $(kernels); do
		f=$(modinfo -k "$k" -n tcpfault 2>/dev/null || true)
		if in_range "$k"; then
			case "$f" in
			*/updates/dkms/tcpfault.ko*) echo "$k: $f"; n=$((n + 1)) ;;
			*) echo "$k: DKMS did not install tcpfault (${f:-no module})"; exit 1 ;;
			esac
		elif [[ $f == */updates/dkms/* ]]; then
			echo "$k: outside $range, yet DKMS installed tcpfault: $f"
			exit 1
		else
			echo "$k: outside the range, not built (as it should)"
		fi
	done
	if [ "$n" = 0 ]; then
		echo "no kernel headers in /lib/modules match $range: nothing was tested"
		exit 1
	fi
	tcpfaultctl --version | head -n 1
	man -w tcpfaultctl
	for f in "${files[@]}"; do
		test -f "$f" || { echo "$f is missing"; exit 1; }
	done
	echo "installed: tcpfault $ver for $n kernel(s), tcpfaultctl, its manual page and completion"
	;;
remove)
	apt-get remove -y -q "${pkgs[@]}"
	for p in "${pkgs[@]}"; do
		if installed "$p"; then
			echo "$p: dpkg still lists it: $(dpkg-query -W -f='${db:Status-Status}' "$p")"
			exit 1
		fi
	done
	if dkms status -m tcpfault | grep -q .; then
		echo "dkms still lists tcpfault"; exit 1
	fi
	for k in $(kernels); do
		if modinfo -k "$k" -n tcpfault >/dev/null 2>&1; then
			echo "$k: tcpfault still installed"; exit 1
		fi
	done
	for f in "${files[@]}" "/usr/src/tcpfault-$ver" /var/lib/dkms/tcpfault; do
		if [ -e "$f" ]; then
			echo "left behind: $f"; exit 1
		fi
	done
	echo "removed cleanly"
	;;
*)
	echo "usage: deb-test.sh install|remove" >&2
	exit 2
	;;
esac
