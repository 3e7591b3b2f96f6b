#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every tcpfault test suite, from a clean clone on a fresh
# Debian machine. Provisions what it needs (apt, the debug kernel build),
# then runs, in order:
#
#   unit               host unit tests (grammar, CLI), ASan + UBSan
#   build              the module against each kernel, W=1, no warnings;
#                      the CLI with -Werror; sparse; checkpatch
#   kunit              the KUnit suite in the debug-kernel guest
#   integration-stock  the integration tests on Debian's kernel
#   integration-debug  the same on the KASAN/lockdep/kmemleak kernel
#   dkms               dkms add/build/install, then modprobe in a guest
#
# Each suite prints "suite: N passed, N failed"; the last line is the total.
# Options: --stress (full-size stress and fuzz runs), -k SUBSTRING (only
# integration tests whose name contains it), --suite NAME (repeatable).
set -uo pipefail

# The whole body is a function: bash parses it before running, so editing
# this file while a check runs cannot corrupt the run.
main() {

top=$(cd "$(dirname "$0")/../.." && pwd)
testing=$top/tools/testing
cd "$top"
out=$top/build/check
mkdir -p "$out"
quick=--quick
kfilter=()
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--stress) quick=; shift ;;
	-k) kfilter+=(-k "$2"); shift 2 ;;
	--suite) only+=("$2"); shift 2 ;;
	*) echo "check: unknown option $1" >&2; exit 2 ;;
	esac
done

total_pass=0
total_fail=0
summary=()
t_start=$(date +%s)
t_suite=$t_start

# record SUITE PASSED FAILED: also the suite's wall time since the last record
record() {
	local now dt
	now=$(date +%s)
	dt=$((now - t_suite))
	t_suite=$now
	summary+=("$(printf '%-18s %4d passed, %d failed  (%d:%02d)' "$1:" "$2" "$3" $((dt / 60)) $((dt % 60)))")
	echo "== $1: $2 passed, $3 failed ($dt s)"
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
}

want() {
	[ ${#only[@]} -eq 0 ] && return 0
	local s
	for s in "${only[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

# step NAME CMD... : one pass/fail unit inside a suite, output kept in a log
step_pass=0
step_fail=0
step() {
	local name=$1 log
	shift
	log=$out/$(echo "$name" | tr ' /' '__').log
	if "$@" >"$log" 2>&1; then
		echo "ok   $name"
		step_pass=$((step_pass + 1))
	else
		echo "FAIL $name (log: $log)"
		tail -n 25 "$log" | sed 's/^/     /'
		step_fail=$((step_fail + 1))
	fi
}

echo "== provisioning"
t_suite=$(date +%s)
if ! "$testing/provision.sh" build guest unit lint dkms debug-kernel fuzz; then
	echo "check: provisioning failed"
	echo "0 passed, 1 failed"
	exit 1
fi
stock_kdir=$(ls -d /lib/modules/*-amd64/build 2>/dev/null | sort -V | tail -n 1)
stock_kver=$(basename "$(dirname "$stock_kdir")")
echo "stock kernel: $stock_kver"
echo "debug kernel: building or reusing the cached tree (a cold build takes ~12 min)"
t0=$(date +%s)
if debug_kdir=$("$testing/kernel/build.sh" 2>"$out/debug-kernel.log"); then
	echo "debug kernel: $debug_kdir ($(( $(date +%s) - t0 )) s)"
else
	tail -n 30 "$out/debug-kernel.log"
	debug_kdir=
fi

# ---------------------------------------------------------------- unit
if want unit; then
	echo "== unit"
	step_pass=0 step_fail=0
	step "grammar (spec_test)" make -C "$testing/unit" run
	if [ -f "$top/tools/Makefile" ]; then
		step "cli units" make -C "$top/tools" test
	fi
	if [ -n "$quick" ]; then
		step "fuzz the grammar (libFuzzer, 30 s)" make -C "$testing/fuzz" run SECONDS=30
	else
		step "fuzz the grammar (libFuzzer, 30 min)" make -C "$testing/fuzz" long
	fi
	record unit $step_pass $step_fail
fi

# ---------------------------------------------------------------- build
if want build || want kunit || want integration-stock || want integration-debug || want dkms; then
	echo "== build"
	step_pass=0 step_fail=0
	step "module vs $stock_kver (W=1)" "$testing/build-module.sh" "$stock_kdir" build/stock
	if [ -n "$debug_kdir" ]; then
		step "module+kunit vs debug kernel (W=1)" "$testing/build-module.sh" "$debug_kdir" build/debug
	else
		step "debug kernel build" false
	fi
	if [ -f "$top/tools/Makefile" ]; then
		step "tcpfaultctl (-Werror)" make -C "$top/tools"
	fi
	step "sparse (C=1)" "$testing/lint.sh" sparse "$stock_kdir"
	step "checkpatch --no-tree" "$testing/lint.sh" checkpatch
	record build $step_pass $step_fail
fi

# guest SUITE KERNEL KO... : run the integration tests in a guest
guest_suite() {
	local suite=$1 kernel=$2 ko=$3 res=$out/$1 rc
	shift 3
	rm -rf "$res"
	mkdir -p "$res"
	echo "== $suite (guest, $kernel kernel)"
	"$testing/qemu/run.sh" --kernel "$kernel" --timeout 2400 --results "$res" --quiet -- \
		python3 tools/testing/tests/run.py --ko "$ko" $quick "${kfilter[@]}" \
		--label "$suite" --json /results/result.json "$@"
	rc=$?
	sed -n '/^TAP version/,/^# '"$suite"':/p' "$res/console.log" | grep -v '^\[ *[0-9]'
	local p f
	if [ -f "$res/result.json" ]; then
		p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["passed"])' "$res/result.json")
		f=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$res/result.json")
	else
		p=0 f=1
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "guest run failed (rc $rc) although every test passed: kernel complaint or hang"
		f=1
	fi
	record "$suite" "$p" "$f"
}

# ---------------------------------------------------------------- kunit
if want kunit; then
	echo "== kunit (guest, debug kernel)"
	if [ -n "$debug_kdir" ] && [ -f build/debug/kunit/tcpfault_kunit.ko ]; then
		res=$out/kunit
		rm -rf "$res"
		mkdir -p "$res"
		"$testing/qemu/run.sh" --kernel debug --timeout 900 --results "$res" --quiet -- \
			bash tools/testing/kunit-guest.sh build/debug/kunit/tcpfault_kunit.ko /results
		rc=$?
		read -r p f < <("$testing/kunit-parse.sh" "$debug_kdir" "$res" "$rc")
		record kunit "$p" "$f"
	else
		record kunit 0 1
	fi
fi

# ---------------------------------------------------------------- integration
if want integration-stock; then
	guest_suite integration-stock stock build/stock/module/tcpfault.ko
fi
if want integration-debug; then
	if [ -n "$debug_kdir" ]; then
		guest_suite integration-debug debug build/debug/module/tcpfault.ko
	else
		record integration-debug 0 1
	fi
fi

# ---------------------------------------------------------------- dkms
if want dkms; then
	echo "== dkms"
	step_pass=0 step_fail=0
	step "dkms add/build/install for $stock_kver" "$testing/dkms-test.sh" install "$stock_kver"
	res=$out/dkms
	rm -rf "$res"
	mkdir -p "$res"
	step "modprobe the DKMS module in a guest" "$testing/qemu/run.sh" --kernel stock \
		--timeout 600 --results "$res" --quiet -- \
		python3 tools/testing/tests/run.py -k dkms --label dkms --json /results/result.json
	step "dkms remove" "$testing/dkms-test.sh" remove "$stock_kver"
	record dkms $step_pass $step_fail
fi

echo
echo "== summary ($(( ($(date +%s) - t_start) / 60 )) min)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
}

main "$@"
