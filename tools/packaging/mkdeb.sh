#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: build tcpfault-dkms_<version>_amd64.deb with dpkg-deb: the
# module's source under /usr/src for DKMS (built for every installed kernel
# with headers at install time), and tcpfaultctl with its man page and bash
# completion. Usage: mkdeb.sh OUTDIR
set -euo pipefail
main() {
	local top out ver stage arch deps
	top=$(cd "$(dirname "$0")/../.." && pwd)
	out=$(mkdir -p "$1" && cd "$1" && pwd)
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
	arch=$(dpkg --print-architecture)
	stage=$(mktemp -d)
	chmod 0755 "$stage"
	trap 'rm -rf "$stage"' RETURN
	make -s -C "$top" dkms-src DESTDIR="$stage"
	make -s -C "$top/tools" install DESTDIR="$stage" PREFIX=/usr
	gzip -9n "$stage/usr/share/man/man8/tcpfaultctl.8"
	install -d "$stage/usr/share/doc/tcpfault-dkms" "$stage/DEBIAN"
	install -m 0644 "$top/README.md" "$stage/usr/share/doc/tcpfault-dkms/README.md"
	cat > "$stage/usr/share/doc/tcpfault-dkms/copyright" <<-EOT
	Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
	Upstream-Name: tcpfault
	Files: *
	License: GPL-2.0
	 On Debian systems, the full text is in /usr/share/common-licenses/GPL-2.
	EOT
	deps="dkms, libjson-c5"
	cat > "$stage/DEBIAN/control" <<-EOT
	Package: tcpfault-dkms
	Version: $ver
	Architecture: $arch
	Maintainer: The tcpfault developers <dev@tcpfault.invalid>
	Depends: $deps
	Recommends: linux-headers-amd64
	Section: kernel
	Priority: optional
	Description: simulate link loss and host power-off for TCP connections
	 tcpfault is a Linux kernel module (built here by DKMS) that drops, cuts
	 and resets selected TCP connections the way real networks fail, and
	 shows per connection what the stack did: retransmissions, keepalive
	 probes, RSTs and FINs, with timelines. Includes tcpfaultctl.
	EOT
	cat > "$stage/DEBIAN/postinst" <<-EOT
	#!/bin/sh
	set -e
	if [ "\$1" = configure ]; then
	    dkms add -m tcpfault -v $ver >/dev/null 2>&1 || true
	    for k in /lib/modules/*/build; do
	        [ -d "\$k" ] || continue
	        kver=\$(basename "\$(dirname "\$k")")
	        dkms build -m tcpfault -v $ver -k "\$kver" && \\
	            dkms install -m tcpfault -v $ver -k "\$kver" --force ||
	            echo "tcpfault-dkms: not built for \$kver (see dkms.conf BUILD_EXCLUSIVE_KERNEL)"
	    done
	fi
	EOT
	cat > "$stage/DEBIAN/prerm" <<-EOT
	#!/bin/sh
	set -e
	case "\$1" in
	remove|upgrade|deconfigure)
	    dkms remove -m tcpfault -v $ver --all >/dev/null 2>&1 || true
	    ;;
	esac
	EOT
	chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm"
	dpkg-deb --root-owner-group --build "$stage" "$out/tcpfault-dkms_${ver}_$arch.deb" >/dev/null
	echo "$out/tcpfault-dkms_${ver}_$arch.deb"
}
main "$@"
