#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, idempotently, the Debian packages a tcpfault build or test step
# needs. Usage: provision.sh GROUP...   (see the table below)
# Only missing packages are installed; nothing already present is upgraded.
set -euo pipefail
# apt's own output goes here; what provisioning does is said on stderr.
aptlog=/var/log/tcpfault-provision.log

declare -A groups=(
	[build]="gcc make libc6-dev pkg-config libjson-c-dev linux-headers-amd64 kmod"
	[guest]="busybox-static linux-image-amd64 linux-headers-amd64 kmod cpio iproute2 procps python3 tcpdump iperf3 util-linux nftables"
	[debug-kernel]="linux-source-6.1 gcc make bc bison flex libelf-dev libssl-dev cpio kmod xz-utils dwarves rsync python3"
	[dkms]="dkms linux-headers-amd64 man-db"
	# dh-sequence-dkms is virtual: dh-dkms provides it from bookworm on,
	# bullseye's dkms before that (make deb asks for this group only when
	# dpkg-checkbuilddeps or lintian says something is missing).
	[deb]="build-essential dpkg-dev debhelper dh-sequence-dkms lintian pkg-config libjson-c-dev libcmocka-dev libxml2-dev groff-base"
	[lint]="sparse perl"
	[unit]="gcc make libcmocka-dev pkg-config libjson-c-dev libxml2-dev groff-base"
	[fuzz]="clang libclang-rt-14-dev"
	[bench]="iperf3 iptables nftables gcc"
	[trace]="gdb binutils python3"
	[fresh]="mmdebstrap"
)

# Add the bookworm-backports suite. Its default pin, 100, never upgrades
# anything by itself: only what is asked for by name comes from it.
backports() {
	local src=/etc/apt/sources.list.d/tcpfault-bookworm-backports.sources
	if [ ! -f "$src" ]; then
		[ "$(id -u)" = 0 ] || { echo "provision: need root to add bookworm-backports" >&2; exit 1; }
		cat > "$src" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
		apt-get update -q >>"$aptlog" 2>&1 ||
			{ tail -n 20 "$aptlog" >&2; exit 1; }
	fi
}

# bp_version PKG: PKG's version in bookworm-backports, empty if none
bp_version() {
	apt-cache madison "$1" | awk -F'|' '/bookworm-backports/ {gsub(/ /, "", $2); print $2; exit}'
}

# The 6.12 LTS kernel for bookworm comes from bookworm-backports: install
# the exact versioned image and headers its linux-image-amd64 points at;
# the host's own linux-image-amd64 and everything else stay.
kernel612() {
	local ver img hdr
	backports
	ver=$(bp_version linux-image-amd64)
	[ -n "$ver" ] || { apt-get update -q >>"$aptlog" 2>&1; ver=$(bp_version linux-image-amd64); }
	[ -n "$ver" ] || { echo "provision: no linux-image-amd64 in bookworm-backports" >&2; exit 1; }
	img=$(apt-cache show "linux-image-amd64=$ver" | sed -n 's/^Depends: \(linux-image-[^ ]*\).*/\1/p')
	hdr=$(apt-cache show "linux-headers-amd64=$ver" | sed -n 's/^Depends: \(linux-headers-[^ ]*\).*/\1/p')
	for p in "$img" "$hdr"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] && continue
		echo "provision: installing $p from bookworm-backports" >&2
		# No -t: that would raise backports' priority for the whole
		# transaction and upgrade installed packages (linux-libc-dev,
		# linux-perf, the metapackages) along the way. These names
		# exist only in backports, so their candidates come from there.
		apt_install "$p"
	done
}

# QEMU from bookworm-backports (10.x). bookworm's 7.2 loses x86 guests
# under multi-threaded TCG when the kernel patches live code: a vCPU keeps
# executing an int3 that text_poke_bp() has already replaced (the guest
# shows the new bytes), and the guest dies with "Oops: int3" or stalls.
# tools/testing/qemu/textpoke-repro.py (a static key flipped under
# traffic) hangs a 7.2 guest within seconds; 10.0 ran 37,478 flips clean
# on 6.1, and clean on 6.12 and the debug kernel too.
qemu() {
	local v
	# No QEMU at all is the common case on a fresh machine: the probe
	# must not end the script under set -e.
	v=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p') || true
	[ -n "$v" ] && [ "$v" -ge 8 ] && return 0
	[ "$(id -u)" = 0 ] || { echo "provision: need root to install QEMU from bookworm-backports" >&2; exit 1; }
	backports
	local pkgs
	pkgs=$(backports_set qemu-system-x86) || exit 1
	echo "provision: installing QEMU from bookworm-backports: $pkgs" >&2
	# shellcheck disable=SC2086
	apt_install $pkgs
	v=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p') || true
	[ -n "$v" ] && [ "$v" -ge 8 ] || { echo "provision: QEMU ${v:-?} installed, but 8 or later is needed" >&2; exit 1; }
}

# backports_set PKG: PKG from bookworm-backports, together with exactly
# those of its dependencies that bookworm cannot satisfy (QEMU needs its own
# qemu-system-common and -data, and a newer seabios), each as pkg/suite.
# Everything else stays bookworm's: no -t, which would also take every new
# library backports has (libelf1, libbpf1) and break later installs of their
# bookworm -dev packages. Prints the list.
backports_set() {
	local pkgs=("$1/bookworm-backports") out deps d n
	for n in 1 2 3 4 5 6 7 8; do
		if out=$(apt-get install -s -q --no-install-recommends "${pkgs[@]}" 2>&1); then
			echo "${pkgs[*]}"
			return 0
		fi
		deps=$(sed -n 's/.*Depends: \([^ ]*\) .*but .* to be installed.*/\1/p' <<<"$out" | sort -u)
		if [ -z "$deps" ]; then
			[ "$n" = 1 ] && { apt-get update -q >>"$aptlog" 2>&1; continue; }
			echo "$out" >&2
			echo "provision: cannot resolve $1 from bookworm-backports" >&2
			return 1
		fi
		for d in $deps; do
			pkgs+=("$d/bookworm-backports")
		done
	done
	echo "provision: $1 from bookworm-backports: no solution after $n rounds" >&2
	return 1
}

# apt_install PKG...: install, refreshing the package lists once if needed
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	local log=$aptlog t0=$SECONDS
	# apt's own output goes to a log; a failure shows its end.
	echo "== $(date -u) apt-get install $*" >>"$log"
	if ! apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
		apt-get update -q >>"$log" 2>&1
		if ! apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
			tail -n 30 "$log" >&2
			echo "provision: apt-get install failed (whole log: $log)" >&2
			return 1
		fi
	fi
	echo "provision: installed in $((SECONDS - t0)) s (apt's log: $log)" >&2
}

want=()
want_qemu=
for g in "$@"; do
	# QEMU is not in the guest list: qemu() installs it from backports.
	[ "$g" = guest ] && want_qemu=1
	if [ "$g" = kernel612 ]; then
		kernel612
		continue
	fi
	[ -n "${groups[$g]+x}" ] || { echo "provision: unknown group '$g'" >&2; exit 2; }
	for p in ${groups[$g]}; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || [[ " ${want[*]-} " == *" $p "* ]] || want+=("$p")
	done
done
[ -z "$want_qemu" ] || qemu
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "provision: need root to install: ${want[*]}" >&2
	exit 1
fi
echo "provision: installing ${want[*]}" >&2
apt_install "${want[@]}"
