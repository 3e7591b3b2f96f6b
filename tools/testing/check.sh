#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every tcpfault test suite, from a clean clone on a fresh
# Debian machine. Provisions what it needs (apt, the debug kernel build,
# the other releases' kernel roots), then runs:
#
#   build              the module against 5.10, 6.1, 7.3 and the debug
#                      kernel, W=1, no warnings (5.10 and 7.3 in roots of
#                      their releases, with a DKMS build there); tcpfaultctl
#                      (-Werror); the bench tools; make deb (dh, dh-dkms,
#                      lintian) and apt-get install of the packages (the
#                      postinst runs dkms add/build/install per kernel)
#   unit               host unit tests (grammar, CLI) under ASan/UBSan, a
#                      short libFuzzer run on the grammar, and a guest booted
#                      from a checkout under /tmp
#   lint               sparse (C=1) and checkpatch --no-tree
#   kunit              the KUnit suite in the debug-kernel guest
#   integration-debug  the integration tests on the KASAN/lockdep/kmemleak kernel,
#                      but for those of the CLI's and the demo's reports
#                      and a family's address-family and topology repeats
#   integration-6.1    the integration tests on Debian's 6.1 kernel
#   dkms-6.1           modprobe of the DKMS-installed module in a 6.1 guest
#   bench              the short benchmark as a smoke test (all configurations,
#                      small sizes, wall clock; make bench measures)
#   integration-LINE   the integration tests on the oldest and the newest
#   dkms-LINE          kernel lines (tools/testing/kroot.sh lines: 5.10 and
#                      7.3), each Debian's own kernel, the module and its
#                      DKMS build made in a root of that release
#   package            apt-get remove of the package leaves nothing behind
#
# `make matrix` (--matrix) runs only the per-kernel part, on every line:
# the module build, DKMS, and integration-LINE and dkms-LINE for 5.10,
# 6.1, 6.1-rt (PREEMPT_RT), 6.12, 7.2 and 7.3.
#
# Guests are expensive under TCG, so suites share boots, and each guest
# starts in the background as soon as what it tests is built, the debug
# guest (the longest) first; a stock guest mostly waits on TCP timers. In
# make check the oldest and newest lines' guests have one CPU: two-CPU
# guests beyond the cores spin on their own locks while the other vCPU is
# descheduled (a 7.3 guest took 316 s of CPU beside the others, 103 s
# alone with one CPU). The races the suite hunts run on two CPUs on 6.1
# and the debug kernel; make matrix gives every line two.
# The last line is the total, "N passed, N failed".
#
# Options: --stress (full-size stress, fuzz and benchmark runs), -k
# SUBSTRING (only integration tests whose name contains it), --matrix.
set -uo pipefail

# The body is a function: bash parses it whole before running, so editing
# this file while a check runs cannot corrupt the run.
main() {
	local top testing out quick gopts
	top=$(cd "$(dirname "$0")/../.." && pwd)
	testing=$top/tools/testing
	cd "$top"
	quick=--quick
	gopts=()
	matrix=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--stress) quick=; gopts+=(--full); shift ;;
		--matrix) matrix=1; shift ;;
		-k) gopts+=(-k "$2"); shift 2 ;;
		*) echo "check: unknown option $1" >&2; exit 2 ;;
		esac
	done
	out=$top/build/check
	[ "$matrix" = 0 ] || out=$top/build/matrix
	rm -rf "$out"
	mkdir -p "$out"

	total_pass=0
	total_fail=0
	summary=()
	t_start=$(date +%s)
	local lines all_lines
	all_lines=$("$testing/kroot.sh" lines | awk '{print $1}' | tr '\n' ' ')
	if [ "$matrix" = 1 ]; then
		run_matrix "$all_lines"
		return
	fi
	# The oldest and the newest line, besides 6.1 (the host's own).
	lines="$(echo "$all_lines" | awk '{print $1, $NF}')"
	line_smp=1

	# What the debug guest needs comes first: it is the longest run and
	# starts as soon as its module is built; the rest is installed while
	# it runs.
	echo "== provisioning (the debug guest's needs first)"
	if ! "$testing/provision.sh" build guest debug-kernel; then
		echo "check: provisioning failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "debug kernel: building or reusing the cached tree (a cold build takes about 12 min)"
	local t0
	t0=$(date +%s)
	if debug_kdir=$("$testing/kernel/build.sh" 2>"$out/debug-kernel.log"); then
		echo "debug kernel: $debug_kdir ($(($(date +%s) - t0)) s)"
	else
		tail -n 30 "$out/debug-kernel.log"
		debug_kdir=
	fi

	# ------------------------------------------------------------- build
	# The debug guest (KUnit, then the integration suite) is the longest
	# run: build its module first and start it in the background; it runs
	# while the host builds, tests and lints, and while the stock guests run.
	echo "== build $(at)"
	step_reset
	local dbg=$out/debug
	if [ -n "$debug_kdir" ]; then
		step "module + kunit vs the debug kernel (W=1)" "$testing/build-module.sh" "$debug_kdir" build/debug
	else
		step "debug kernel build" false
	fi
	# The integration suite's CLI tests run tcpfaultctl.
	step "tcpfaultctl (-Werror)" make -C tools
	if [ -f build/debug/module/tcpfault.ko ] && [ -f build/debug/kunit/tcpfault_kunit.ko ]; then
		# From here on the debug guest is the critical path, and the
		# two cores are oversubscribed: the host's own steps (builds,
		# unit tests, lint; nothing in them is timed) yield to it, and
		# to the stock guests, whose tests are.
		step_nice=10
		# The sanitizers watch the module's paths: the tests of the CLI's
		# and the demo's reports (tfk.report), and the address-family and
		# topology repeats of a family (tfk.variant), run on the stock
		# kernels.
		echo "     (starting the debug guest in the background: KUnit + integration-debug)"
		bg_guest debug debug "$dbg" --no-reports --no-variants --kunit build/debug/kunit/tcpfault_kunit.ko \
			--integration build/debug/module/tcpfault.ko integration-debug
	fi
	echo "== provisioning (the rest) $(at)"
	if ! "$testing/provision.sh" unit lint dkms fuzz bench deb; then
		echo "check: provisioning failed"
		kill_guests
		echo "0 passed, 1 failed"
		exit 1
	fi
	k61=$(ls -d /lib/modules/6.1.*-amd64/build 2>/dev/null | sort -V | tail -n 1)
	kver61=$(basename "$(dirname "$k61")")
	echo "kernels: ${kver61:-none}, the lines $lines, and the debug kernel"
	step "module vs $kver61 (W=1)" "$testing/build-module.sh" "$k61" build/stock
	# Each line's guest starts as soon as its module and DKMS build exist.
	for l in $lines; do
		line_build "$l"
		line_start "$l"
	done
	step "bench tools" build_bench "$k61"
	step "make deb (dh, dh-dkms, lintian); apt-get install of tcpfault-dkms and tcpfault-tools (DKMS builds for each kernel)" \
		"$testing/deb-test.sh" install
	# The 6.1 guest's DKMS test loads the module the package built.
	local s61=$out/stock61
	if [ -f build/stock/module/tcpfault.ko ]; then
		echo "     (starting the 6.1 guest in the background: integration-6.1, dkms-6.1, bench) $(at)"
		bg_guest 6.1 stock "$s61" --integration build/stock/module/tcpfault.ko \
			integration-6.1 --dkms --bench build/stock/module/tcpfault.ko \
			tools/testing/bench/kmod/tcpfault_bench.ko build/bench/rr
	fi
	record build

	echo "== unit $(at)"
	step_reset
	step "grammar (spec_test)" make -C "$testing/unit" run
	step "cli units" make -C tools test
	step "a checkout under /tmp reaches the guest, from an empty cache, quietly" tmp_checkout
	if [ -n "$quick" ]; then
		step "fuzz the grammar (libFuzzer, 2M inputs or 30 s)" make -C "$testing/fuzz" run SECONDS=30
	else
		step "fuzz the grammar (libFuzzer, 30 min)" make -C "$testing/fuzz" long
	fi
	record unit

	echo "== lint $(at)"
	step_reset
	step "sparse (C=1)" "$testing/lint.sh" sparse "$k61"
	step "checkpatch --no-tree" "$testing/lint.sh" checkpatch
	# sparse's build (C=2 compiles too) leaves the objects the call graph reads
	step "no cycle between module/ files (callgraph)" "$testing/callgraph.sh" build/sparse/module
	record lint

	echo "== 6.1 guest (integration-6.1, dkms-6.1, bench) $(at)"
	local rc61=1
	if [ -n "${bg_pid[6.1]:-}" ]; then
		bg_wait 6.1
		rc61=$bg_status
	fi
	json_suite "$s61" integration-6.1 "$rc61"
	json_suite "$s61" dkms "$rc61" dkms-6.1
	bench_suite "$s61" "$rc61"

	for l in $lines; do
		line_collect "$l"
	done
	remove_package

	if [ -n "${bg_pid[debug]:-}" ]; then
		echo "== waiting for the debug guest $(at)"
		local rcd p=0 f=1
		bg_wait debug
		rcd=$bg_status
		read -r p f < <("$testing/kunit-parse.sh" "$debug_kdir" "$dbg" "$rcd" 2>"$out/kunit.log")
		sed -n '/===/p' "$out/kunit.log" | grep -E 'PASSED|FAILED|CRASHED|SKIPPED' | head -n 20
		record_counts kunit "$p" "$f"
		json_suite "$dbg" integration-debug "$rcd"
	else
		record_counts kunit 0 1
		record_counts integration-debug 0 1
	fi

	finish
}

# remove_package: apt-get remove of the packages deb-test.sh installed
remove_package() {
	echo "== package removal $(at)"
	step_reset
	step "apt-get remove tcpfault-dkms tcpfault-tools leaves nothing" "$testing/deb-test.sh" remove
	record package
}

# finish: the summary and the closing "N passed, N failed"; fails if any did
finish() {
	local cpu
	# times: the shell's, then its children's user and system time
	# (times is a builtin: in a command substitution it would see a subshell)
	times >"$out/times"
	cpu=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } }
		END { printf "%d min", t / 60 }' "$out/times")
	echo
	echo "== summary ($(( ($(date +%s) - t_start) / 60 )) min $(( ($(date +%s) - t_start) % 60 )) s; CPU $cpu)"
	printf '%s\n' "${summary[@]}"
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" = 0 ]
}

# run_matrix LINES: every kernel line: the module, DKMS, and a guest each
run_matrix() {
	local l
	echo "== provisioning"
	if ! "$testing/provision.sh" build guest dkms deb kernel612; then
		echo "check: provisioning failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "== build ($1)"
	step_reset
	step "tcpfaultctl (-Werror)" make -C tools
	for l in $1; do
		line_build "$l"
	done
	step "make deb (dh, dh-dkms, lintian); apt-get install of tcpfault-dkms and tcpfault-tools (DKMS builds for each kernel)" \
		"$testing/deb-test.sh" install
	record build
	# Two two-CPU guests at a time on two cores.
	line_smp=2
	for l in $1; do
		throttle 2
		line_start "$l"
	done
	for l in $1; do
		line_collect "$l"
	done
	remove_package
	finish
}

# line_kdir LINE: the build tree of a line's kernel on this machine (host
# lines; a root line's tree is inside its root)
line_kdir() {
	ls -d "/lib/modules/$1".*-amd64/build 2>/dev/null | sort -V | tail -n 1
}

# line_build LINE: the module against LINE's kernel (W=1); for a line from
# another release, in its root, with a DKMS build there too (on a throwaway
# overlay; the module it built is kept for the guest's modprobe). A host
# line's DKMS build is the .deb's (deb-test.sh).
line_build() {
	local l=$1 k kind
	kind=$("$testing/kroot.sh" lines | awk -v l="$l" '$1 == l {print $2}')
	if [ "$kind" = host ]; then
		[ "$l" != 6.12 ] || "$testing/provision.sh" kernel612 >/dev/null ||
			echo "check: could not provision the 6.12 kernel"
		k=$(line_kdir "$l")
		if [ -n "$k" ]; then
			step "module vs $(basename "$(dirname "$k")") (W=1)" "$testing/build-module.sh" "$k" "build/k$l"
		else
			step "$l kernel headers" false
		fi
		return
	fi
	if ! k=$("$testing/kroot.sh" kver "$l" 2>"$out/kroot-$l.log"); then
		step "the $l root (see $out/kroot-$l.log)" false
		return
	fi
	step "module vs $k (W=1, in a $l root)" \
		"$testing/kroot.sh" run "$l" tools/testing/build-module.sh "/lib/modules/$k/build" "build/k$l"
	step "dkms build vs $k (in a throwaway $l root)" line_dkms "$l" "$k"
	# A newcomer on that release: make deb there, apt-get install, DKMS.
	[ "$matrix" = 0 ] ||
		step "make deb; apt-get install; remove (in a throwaway $l root)" \
			"$testing/kroot.sh" run --scratch "$l" bash -c \
			'tools/testing/deb-test.sh install && tools/testing/deb-test.sh remove'
}

line_dkms() {
	rm -rf "build/dkms-$1"
	"$testing/kroot.sh" run --scratch "$1" bash -c '
		tools/testing/dkms-test.sh install "$2" && mkdir -p "build/dkms-$1" &&
		cp /lib/modules/"$2"/updates/dkms/tcpfault.ko* "build/dkms-$1/"' - "$1" "$2"
}

# line_start LINE: boot LINE's kernel in the background for integration-LINE
# and dkms-LINE (line_collect reports them)
line_start() {
	local l=$1 kernel=$1 dk=(--dkms-from "build/dkms-$1")
	[ "$l" = 6.1 ] && kernel=stock
	[ "$("$testing/kroot.sh" lines | awk -v l="$l" '$1 == l {print $2}')" = host ] && dk=(--dkms)
	[ -f "build/k$l/module/tcpfault.ko" ] || return 0
	echo "     (starting the $l guest in the background: integration-$l, dkms-$l) $(at)"
	GUEST_SMP=$line_smp bg_guest "$l" "$kernel" "$out/k$l" --integration "build/k$l/module/tcpfault.ko" "integration-$l" "${dk[@]}"
}

# line_collect LINE: wait for LINE's guest and count its suites
line_collect() {
	local l=$1 rc
	if [ -z "${bg_pid[$l]:-}" ]; then
		record_counts "integration-$l" 0 1
		return
	fi
	echo "== $l guest (integration-$l, dkms-$l) $(at)"
	bg_wait "$l"
	rc=$bg_status
	json_suite "$out/k$l" "integration-$l" "$rc"
	json_suite "$out/k$l" dkms "$rc" "dkms-$l"
}

# bg_guest NAME GUEST-ARGS...: guest GUEST-ARGS in the background; its exit
# status goes to a file, so throttle's wait -n cannot lose it
declare -A bg_pid bg_rc
bg_guest() {
	local name=$1
	shift
	bg_rc[$name]=$out/guest-$name.rc
	rm -f "${bg_rc[$name]}"
	{ guest "$@"; echo $? > "${bg_rc[$name]}"; } &
	bg_pid[$name]=$!
}

# bg_wait NAME: wait for NAME's guest; its exit status in bg_status (not
# a command substitution: a subshell cannot wait for its parent's jobs)
bg_wait() {
	wait "${bg_pid[$1]}" 2>/dev/null
	bg_status=$(cat "${bg_rc[$1]}" 2>/dev/null || echo 1)
}

# throttle N: wait until fewer than N background guests run
throttle() {
	while [ "$(jobs -rp | wc -l)" -ge "$1" ]; do
		wait -n
	done
}

kill_guests() {
	local p
	for p in "${bg_pid[@]}"; do
		kill "$p" 2>/dev/null
	done
}

# at: the time since the check started, for the section headers
at() {
	local s=$(( $(date +%s) - t_start ))
	printf '(at %d:%02d)' $((s / 60)) $((s % 60))
}

record_counts() {
	summary+=("$(printf '%-18s %4d passed, %d failed' "$1:" "$2" "$3")")
	echo "== $1: $2 passed, $3 failed"
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
}

step_reset() {
	step_pass=0
	step_fail=0
	step_t0=$(date +%s)
}

record() {
	record_counts "$1" "$step_pass" "$step_fail"
	summary[-1]+="  ($(( $(date +%s) - step_t0 )) s)"
}

# step NAME CMD...: one pass/fail unit inside a suite, output kept in a log
step() {
	local name=$1 log t0
	shift
	log=$out/$(echo "$name" | tr ' /()' '____').log
	t0=$(date +%s)
	if (if [ -n "${step_nice:-}" ]; then renice -n "$step_nice" -p "$BASHPID" >/dev/null; fi
	    "$@") >"$log" 2>&1; then
		echo "ok   $name ($(( $(date +%s) - t0 )) s)"
		step_pass=$((step_pass + 1))
	else
		echo "FAIL $name (log: $log)"
		tail -n 25 "$log" | sed 's/^/     /'
		step_fail=$((step_fail + 1))
	fi
}

build_bench() {
	make -s -C "$1" M="$top/tools/testing/bench/kmod" W=1 modules 2>&1 | tee /dev/stderr | { ! grep -q "warning:"; } &&
		mkdir -p build/bench &&
		gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o build/bench/rr tools/testing/bench/rr.c
}

# tmp_checkout: a clone under /tmp (the guest mounts its own tmpfs there)
# is still the guest's working directory, with its files
tmp_checkout() {
	local d rc
	d=$(mktemp -d /tmp/tcpfault-checkout.XXXXXX)
	mkdir "$d/cache"
	# With an empty cache, as on a new machine (the initramfs built, KVM
	# probed): run.sh then says nothing but its own qemu-run: lines.
	git clone -q "$top" "$d/tcpfault" &&
		(cd "$d/tcpfault" && TCPFAULT_CACHE=$d/cache "$testing/qemu/run.sh" --kernel stock \
			--timeout 300 --results "$out/tmp-checkout" --quiet -- \
			bash -c '[ "$(pwd)" = "$1" ] && test -f tools/testing/qemu/run.sh' - "$d/tcpfault") \
			2>"$d/err"
	rc=$?
	if [ "$rc" != 0 ]; then
		cat "$d/err" >&2
	elif grep -v '^qemu-run: ' "$d/err" >&2; then
		echo "run.sh printed the lines above besides its own" >&2
		rc=1
	fi
	rm -rf "$d"
	return "$rc"
}

# guest KERNEL RESULTS SUITE-ARGS...: one boot running tools/testing/guest-suite.sh
guest() {
	local kernel=$1 res=$2 t0 rc TIMEFORMAT='%0U+%0S'
	shift 2
	mkdir -p "$res"
	t0=$(date +%s)
	# bash's time keyword: the CPU the guest used, for the budget
	{ time "$testing/qemu/run.sh" --kernel "$kernel" --smp "${GUEST_SMP:-2}" --timeout 3000 \
		--results "$res" --quiet -- \
		bash tools/testing/guest-suite.sh "${gopts[@]}" "$@" >"$res/run.log" 2>&1; } 2>"$res/cpu"
	rc=$?
	echo "$kernel guest: exit $rc after $(( $(date +%s) - t0 )) s (CPU, user+sys: $(tail -n 1 "$res/cpu") s)" |
		tee -a "$res/run.log"
	if [ "$rc" = 124 ] || [ "$rc" = 125 ]; then
		sed 's/^/  /' "$res/run.log" | tail -n 25
	fi
	return "$rc"
}

# json_suite RESULTS LABEL GUEST_RC [NAME]: count one suite's results from
# run.py's JSON (reported as NAME, default LABEL)
json_suite() {
	local res=$1 label=$2 grc=$3 name=${4:-$2} p=0 f=1
	if [ -f "$res/$label.json" ]; then
		read -r p f < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], d["failed"])' "$res/$label.json")
		python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    if t["status"] == "fail":
        print("  FAIL", t["name"])
        print("\n".join("     " + l for l in t["detail"].splitlines()[-12:]))' "$res/$label.json"
	fi
	# A kernel complaint or a hang fails the suite even if every test passed.
	if { [ "$grc" = 124 ] || [ "$grc" = 125 ]; } && [ "$f" = 0 ]; then
		echo "  $name: the guest reported a kernel problem or hung (see $res/console.log)"
		f=1
	fi
	record_counts "$name" "$p" "$f"
}

# bench_suite RESULTS GUEST_RC: the short benchmark counts as one test that
# passes if every configuration and the micro-benchmark produced numbers
bench_suite() {
	local res=$1 grc=$2
	if python3 - "$res/bench-quick.json" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		ok = all(v["tput_gbps"] and v["rr_tps"] and min(v["tput_gbps"]) > 0 and min(v["rr_tps"]) > 0
		         for v in d["configs"].values()) and len(d["micro"]) >= 8
		sys.exit(0 if ok else 1)
	EOF
	then
		# A smoke test: wall clock, one short round, next to the debug
		# guest, so its ratios are noise. make bench measures.
		python3 tools/testing/bench/report.py "$res/bench-quick.json" > "$res/bench-quick.md"
		echo "  bench: every configuration and the micro-benchmark produced figures" \
			"($res/bench-quick.md; ratios not meaningful here, see make bench)"
		record_counts bench 1 0
	else
		echo "  bench: no complete result (see $res/run.log)"
		record_counts bench 0 1
	fi
	[ "$grc" != 125 ] || true
}

main "$@"
