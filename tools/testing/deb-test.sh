#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package round trip on this machine (run by make check).
#   deb-test.sh install   build the .deb (make deb), apt-get install it, and
#                         check that DKMS built and installed the module for
#                         every provisioned Debian kernel, and the CLI is there
#   deb-test.sh remove    apt-get remove it and check nothing is left
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
kernels=$(ls /lib/modules | grep -E '^6\.(1|12)\.[0-9]+.*-amd64$' || true)
case "$1" in
install)
	"$top/tools/testing/provision.sh" dkms
	# A source tree registered by hand (make dkms-install) would clash.
	dkms remove -m tcpfault -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/tcpfault-$ver"
	deb=$(make -s -C "$top" deb | tail -n 1)
	echo "package: $deb"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"
	dkms status -m tcpfault
	for k in $kernels; do
		f=$(modinfo -k "$k" -n tcpfault)
		case "$f" in */updates/dkms/tcpfault.ko*) echo "$k: $f" ;;
		*) echo "$k: DKMS did not install tcpfault ($f)"; exit 1 ;;
		esac
	done
	tcpfaultctl --version | head -n 1
	man -w tcpfaultctl
	test -f /usr/share/bash-completion/completions/tcpfaultctl
	;;
remove)
	DEBIAN_FRONTEND=noninteractive apt-get remove -y -q tcpfault-dkms
	if dkms status -m tcpfault | grep -q .; then
		echo "dkms still lists tcpfault"; exit 1
	fi
	for k in $kernels; do
		if modinfo -k "$k" -n tcpfault >/dev/null 2>&1; then
			echo "$k: tcpfault still installed"; exit 1
		fi
	done
	if [ -e /usr/sbin/tcpfaultctl ] || [ -e "/usr/src/tcpfault-$ver" ]; then
		echo "files left behind"; exit 1
	fi
	echo "removed cleanly"
	;;
*)
	echo "usage: deb-test.sh install|remove" >&2
	exit 2
	;;
esac
