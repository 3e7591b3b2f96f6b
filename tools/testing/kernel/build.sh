#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the tcpfault debug guest kernel: Debian's linux-source-6.1,
# `make allnoconfig`, then tools/testing/kernel/debug.config merged on top.
#
# The result is cached outside the clone under $TCPFAULT_CACHE/debug-kernel
# (default /var/cache/tcpfault/debug-kernel; tools/testing/fresh.sh lends
# this one directory to a fresh root). It is keyed by everything that goes
# into the tree: the fragment, the source package's version, the compiler
# and linker versions and this script's code, so a change to any builds afresh.
#
# Prints the build directory (usable as KDIR) on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${TCPFAULT_CACHE:-/var/cache/tcpfault}/debug-kernel
frag=$here/debug.config
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

"$here/../provision.sh" debug-kernel >&2

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$frag"; grep -v '^[[:space:]]*#' "$0"; echo "$srcver"; gcc --version | head -n 1; ld --version | head -n 1) |
	sha256sum | cut -c1-16)
src=$cache/src/linux-source-6.1-$srcver
out=$cache/kernel-debug-$key

mkdir -p "$cache"
exec 9>"$cache/.kernel-build.lock"
flock 9

if [ -f "$out/.tcpfault-built" ]; then
	echo "$out"
	exit 0
fi

if [ ! -f "$src/.tcpfault-unpacked" ]; then
	log "unpacking linux-source-6.1 $srcver"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.tcpfault-unpacked"
	mv "$src.tmp" "$src"
fi

log "configuring $out (allnoconfig + debug.config)"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" ARCH=x86_64 allnoconfig >&2
KCONFIG_CONFIG="$out/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
	"$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >&2

# merge_config.sh only warns when Kconfig drops a requested option (a missing
# dependency, a renamed symbol). Treat that as an error, as kunit_tool does.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qxF -- "$line" "$out/.config"; then
			log "requested but not in final .config: $line"
			missing=1
		fi
		;;
	esac
done <"$frag"
[ "$missing" = 0 ] || { log "fragment does not survive olddefconfig"; exit 1; }

log "building with -j$jobs (cold builds take about 10-15 minutes here)"
start=$(date +%s)
make -s -C "$src" O="$out" ARCH=x86_64 -j"$jobs" all >&2
log "built in $(( $(date +%s) - start )) s"
touch "$out/.tcpfault-built"
echo "$out"
