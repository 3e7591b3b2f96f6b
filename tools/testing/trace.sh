#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where one pass of the per-segment path spends its instructions:
#
#   trace.sh [selected|tracked] [FUNCTION...]
#
# Builds the micro-benchmark (tools/testing/bench/kmod, the module's own
# objects linked in) against Debian's 6.1, boots a guest on it with the
# CPU make bench uses and QEMU's gdbstub, lets the benchmark warm the path
# (the connection's entry made, its faults remembered), then single-steps
# one pass in gdb. Prints the instructions it executed, per function (the
# kernel's included: the clock, a retpoline), and for each FUNCTION named
# the instructions themselves, disassembled. `selected` (the default): the
# micro-benchmark's selected segment with one exact fault present, after
# parsing, its call included; `tracked`: one pass of the hook under
# track_all (header prediction). A pass is the same instructions each time:
# the figures are exact, not sampled. Files in build/trace/.
set -euo pipefail
main() {
	local top kind=${1:-selected} kdir out port mark
	top=$(cd "$(dirname "$0")/../.." && pwd)
	cd "$top"
	[ $# -eq 0 ] || shift
	case $kind in
	selected) kind=exact ;;
	tracked) kind=track ;;
	*) echo "usage: trace.sh [selected|tracked] [FUNCTION...]" >&2; exit 2 ;;
	esac
	tools/testing/provision.sh build guest trace >&2
	kdir=$(ls -d /lib/modules/6.1.*-amd64/build | sort -V | tail -n 1)
	make -s -C "$kdir" M="$top/tools/testing/bench/kmod" W=1 modules >build/trace-kmod.log 2>&1 ||
		{ cat build/trace-kmod.log; exit 1; }
	out=$top/build/trace
	rm -rf "$out"
	mkdir -p "$out"
	# The symbols, once the mark is announced (the module is loaded then).
	cat > "$out/guest.sh" <<-EOS
	(until dmesg | grep -q 'tcpfault_bench: trace kind='; do sleep 0.2; done
	 cat /proc/kallsyms > /results/kallsyms.tmp && mv /results/kallsyms.tmp /results/kallsyms) &
	insmod tools/testing/bench/kmod/tcpfault_bench.ko kinds=$kind counts=1 iters=1000 trace_wait=60
	rmmod tcpfault_bench
	EOS
	port=$((20000 + $$ % 10000))
	TCPFAULT_QEMU_ACCEL="-accel tcg -cpu max -gdb tcp:127.0.0.1:$port" \
		tools/testing/qemu/run.sh --kernel stock --smp 1 --timeout 900 --results "$out" \
		--quiet -- bash "$out/guest.sh" &
	local guest=$!
	for _ in $(seq 600); do
		mark=$(grep -ao 'trace kind=[a-z]* mark=[0-9a-f]*' "$out/console.log" 2>/dev/null |
		       head -n 1 | sed 's/.*mark=//') || true
		[ -z "$mark" ] || [ ! -f "$out/kallsyms" ] || break
		kill -0 "$guest" 2>/dev/null || { echo "trace: the guest ended first" >&2; exit 1; }
		sleep 0.5
	done
	[ -n "$mark" ] || { echo "trace: no mark announced" >&2; exit 1; }
	TRACE_MARK=$mark TRACE_PORT=$port TRACE_OUT=$out/pcs \
		gdb -q -batch -x tools/testing/bench/trace-gdb.py >"$out/gdb.log" 2>&1 ||
		{ cat "$out/gdb.log" >&2; exit 1; }
	wait "$guest"
	python3 tools/testing/bench/trace-report.py "$out/kallsyms" "$out/pcs" \
		tools/testing/bench/kmod/tcpfault_bench.ko "$@" | tee "$out/report.txt"
}
main "$@"
