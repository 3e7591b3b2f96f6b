#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: measure tcpfault's cost side by side with no module,
# iptables and nftables, in a guest on Debian's kernel, and write
# BENCHMARKS.md from the results. `bench.sh --quick` is the short run
# (smaller sizes, one round; BENCHMARKS.md untouched). The full run then
# measures the headline configurations again on the wall clock, for the
# "wall clock" table. `--base REV`
# also measures the module as it was at commit REV, in the same rounds,
# and adds a table of this build against it (make bench BENCH_ARGS=...).
#
# The guest runs with an instruction-counting clock (QEMU -icount): each
# instruction executed advances the guest clock by 2^2 = 4 ns, on one vCPU. Rates and
# times measured inside it are then a function of the instructions the
# guest executes, not of what else this shared host is doing, so ratios
# repeat to within about 1% from run to run where wall-clock TCG varied by
# 30%. `--clock real` measures wall-clock time instead (2 vCPUs).
set -euo pipefail
main() {
	local top kdir ko out quick=0 clock=icount args=() qemu=() base= rev real common
	top=$(cd "$(dirname "$0")/../.." && pwd)
	cd "$top"
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=1; shift ;;
		--clock) clock=$2; shift 2 ;;
		--base) base=$2; shift 2 ;;
		*) echo "usage: bench.sh [--quick] [--clock icount|real] [--base REV]" >&2; exit 2 ;;
		esac
	done
	case $clock in
	icount) export TCPFAULT_QEMU_ACCEL="-accel tcg -icount shift=2,sleep=on -cpu max"
		qemu=(--smp 1) ;;
	real) qemu=(--smp 2) ;;
	*) echo "bench.sh: --clock is icount or real" >&2; exit 2 ;;
	esac
	tools/testing/provision.sh build guest bench >&2
	kdir=$(ls -d /lib/modules/6.1.*-amd64/build | sort -V | tail -n 1)
	# Its own build directory: make check may rebuild build/stock meanwhile.
	ko=$(tools/testing/build-module.sh "$kdir" build/bench-ko)
	make -s -C "$kdir" M="$top/tools/testing/bench/kmod" W=1 modules >build/bench-kmod.log 2>&1 ||
		{ cat build/bench-kmod.log; exit 1; }
	mkdir -p build/bench
	if [ -n "$base" ]; then
		# REV's own tree and build script, in a directory of its own.
		rev=$(git rev-parse --short --verify "$base^{commit}") ||
			{ echo "bench.sh: --base: '$base' is not a commit here" >&2; exit 2; }
		rm -rf build/bench-base
		mkdir -p build/bench-base/src
		git archive "$rev" | tar -x -C build/bench-base/src
		args+=(--base-ko "$(build/bench-base/src/tools/testing/build-module.sh "$kdir" \
			build/bench-base/ko TCPFAULT_VERSION="$rev")" --base-label "$rev")
	fi
	gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o build/bench/rr tools/testing/bench/rr.c
	if [ "$quick" = 1 ]; then
		args+=(--quick --rounds 1 --seconds 1)
		out=/results/quick.json
	else
		args+=(--rounds 3 --seconds 3)
		out=/results/bench.json
	fi
	# What every pass of bench.py is given.
	common=(--ko "$ko" --bench-ko tools/testing/bench/kmod/tcpfault_bench.ko --rr build/bench/rr
		--commit "$(git describe --always --dirty 2>/dev/null || echo unknown)"
		--qemu "$(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version //p')")
	tools/testing/qemu/run.sh --kernel stock --mem 7168 "${qemu[@]}" --timeout 7200 \
		--results build/bench -- python3 tools/testing/bench/bench.py "${common[@]}" \
		--clock "$clock" --json "$out" "${args[@]}" |
		grep --line-buffered -E '^round|Traceback|Error|error'
	real=()
	if [ "$quick" = 0 ] && [ "$clock" = icount ]; then
		# The headline configurations again on the wall clock (2 vCPUs, no
		# -icount): where memory latency shows. More rounds, since this
		# clock moves with the host's load.
		unset TCPFAULT_QEMU_ACCEL
		tools/testing/qemu/run.sh --kernel stock --mem 7168 --smp 2 --timeout 7200 \
			--results build/bench-real -- python3 tools/testing/bench/bench.py "${common[@]}" \
			--clock real --rounds 9 --seconds 3 --json /results/real.json \
			--only "no module;module, 0 faults;100,000 exact faults;nftables set, 100,000 elements;iptables, 10,000 rules" |
			grep --line-buffered -E '^round|Traceback|Error|error'
		real=(build/bench-real/real.json)
	fi
	if [ "$quick" = 0 ]; then
		python3 tools/testing/bench/report.py build/bench/bench.json "${real[@]}" > BENCHMARKS.md
		echo "bench: wrote BENCHMARKS.md"
	else
		python3 tools/testing/bench/report.py build/bench/quick.json > build/bench/quick.md
		cat build/bench/quick.md
	fi
}
main "$@"
