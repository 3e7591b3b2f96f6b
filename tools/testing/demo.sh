#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: build the module and tcpfaultctl, boot a guest on Debian's
# kernel, and run tools/tcpfault-demo in it. The report prints as it runs;
# the JSON report and the SVG timelines land in build/demo/. Arguments go
# to tcpfault-demo: `demo.sh zero-window user-timeout` runs only those
# scenarios (`tools/tcpfault-demo --list` lists them).
set -euo pipefail
main() {
	local top kdir ko
	top=$(cd "$(dirname "$0")/../.." && pwd)
	cd "$top"
	tools/testing/provision.sh build guest >&2
	kdir=$(ls -d /lib/modules/6.1.*-amd64/build | sort -V | tail -n 1)
	echo "demo: building the module for $(basename "$(dirname "$kdir")") and tcpfaultctl" >&2
	ko=$(tools/testing/build-module.sh "$kdir" build/stock)
	make -s -C tools >&2
	rm -rf build/demo
	mkdir -p build/demo
	echo "demo: booting a QEMU guest (about 15 s), then running the scenarios (a few minutes)" >&2
	tools/testing/qemu/run.sh --kernel stock --timeout 1800 --results build/demo -- \
		bash -c "insmod $ko && tools/tcpfault-demo --json /results/demo.json --svg-dir /results/svg $*" |
		grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\]|^tcpfault-guest:'
	local rc=${PIPESTATUS[0]}
	echo
	echo "demo: JSON report: build/demo/demo.json; SVG timelines: build/demo/svg/"
	return "$rc"
}
main "$@"
