#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel style checks on module/ and kunit/:
#   lint.sh sparse KDIR     make C=2 (sparse) must print no warning
#   lint.sh checkpatch      scripts/checkpatch.pl --no-tree must be clean
#   lint.sh callgraph KDIR  no cycle between module/ files (callgraph.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TCPFAULT_CACHE:-/var/cache/tcpfault}
case "${1:-}" in
sparse)
	out=$top/build/sparse
	rm -rf "$out"
	log=$out/sparse.log
	mkdir -p "$out"
	"$top/tools/testing/build-module.sh" "$2" "$out" C=2 CF=-D__CHECK_ENDIAN__ >/dev/null
	# build-module.sh already fails on any warning in its log.
	echo "sparse: clean"
	;;
checkpatch)
	cp=$cache/checkpatch/scripts/checkpatch.pl
	if [ ! -f "$cp" ]; then
		"$top/tools/testing/provision.sh" debug-kernel
		mkdir -p "$cache/checkpatch"
		tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$cache/checkpatch" --strip-components=1 \
			linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch
	fi
	cd "$top"
	perl "$cp" --no-tree --terse --show-types -f $(ls module/*.[ch] kunit/*.[ch] | grep -v "\.mod\.c$") \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,CONCATENATED_STRING,MACRO_ARG_REUSE
	;;
callgraph)
	out=$top/build/callgraph
	"$top/tools/testing/build-module.sh" "$2" "$out" >/dev/null
	"$top/tools/testing/callgraph.sh" "$out/module"
	;;
*)
	echo "usage: lint.sh sparse KDIR | checkpatch | callgraph KDIR" >&2
	exit 2
	;;
esac
