#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build tcpfault.ko (and the KUnit suite, if the kernel has KUnit) for one
# kernel tree, out of the source tree, so builds for several kernels do not
# clobber each other. Usage: build-module.sh KDIR OUTDIR [EXTRA MAKE ARGS...]
# Fails on any compiler warning.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
case "$top$2" in
*[[:space:]:]*)
	echo "build-module: kbuild cannot build in a path with spaces or colons" \
		"('$top', '$2'): clone tcpfault to a path without them" >&2
	exit 2
	;;
esac
kdir=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2

# Copy only what Kbuild needs; keep timestamps so rebuilds are incremental.
for f in Kbuild module kunit; do
	[ -e "$top/$f" ] || continue
	if [ -d "$top/$f" ]; then
		mkdir -p "$out/$f"
		find "$top/$f" -maxdepth 1 -type f \( -name '*.[ch]' -o -name '*.mk' -o -name Kbuild \) \
			-exec cp -p {} "$out/$f/" \;
	else
		cp -p "$top/$f" "$out/$f"
	fi
done
version=$(git -C "$top" describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
log=$out/build.log
if ! make -C "$kdir" M="$out" TCPFAULT_VERSION="$version" W=1 "$@" modules >"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
if grep -E 'warning:|error:' "$log" | grep -v 'Skipping BTF' >&2; then
	echo "build-module: warnings building against $kdir" >&2
	exit 1
fi
echo "$out/module/tcpfault.ko"
