#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DKMS round trip on this machine.
#   dkms-test.sh install KVER   copy the sources to /usr/src, dkms add,
#                               build and install for KVER, check the result
#   dkms-test.sh remove KVER    dkms remove, delete the sources, depmod
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# In a kernel line's root (kroot.sh) dkms is there already.
command -v dkms >/dev/null || "$top/tools/testing/provision.sh" dkms
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
kver=$2
case "$1" in
install)
	dkms remove -m tcpfault -v "$ver" --all >/dev/null 2>&1 || true
	make -C "$top" dkms-src DESTDIR= >/dev/null
	dkms add -m tcpfault -v "$ver"
	dkms build -m tcpfault -v "$ver" -k "$kver"
	dkms install -m tcpfault -v "$ver" -k "$kver" --force
	dkms status -m tcpfault
	f=$(modinfo -k "$kver" -n tcpfault)
	echo "modinfo: $f"
	case "$f" in */updates/dkms/tcpfault.ko*) ;; *) echo "not the DKMS module"; exit 1 ;; esac
	;;
remove)
	dkms remove -m tcpfault -v "$ver" --all
	rm -rf "/usr/src/tcpfault-$ver"
	depmod -a "$kver"
	! modinfo -k "$kver" -n tcpfault 2>/dev/null
	;;
*)
	echo "usage: dkms-test.sh install|remove KVER" >&2
	exit 2
	;;
esac
