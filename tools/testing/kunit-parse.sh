#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Count a KUnit run with the kernel's own parser. Prints "PASSED FAILED".
# Usage: kunit-parse.sh KERNEL_SRC_OR_BUILD RESULTS GUEST_RC
# Each suite's debugfs KTAP is parsed on its own (a module's suites print
# only an indented header to dmesg on 6.1, which kunit.py misreads), and
# any "not ok" anywhere, a parser failure, a failed KUnit step, or a guest
# that hung or reported a kernel problem counts as a failure. A test of
# another suite that failed in the same boot does not.
set -u
kdir=$1
res=$2
grc=$3
src=$(cd "$kdir" && make -s -C "$kdir" kernelversion >/dev/null 2>&1; \
	readlink -f "$kdir/source" 2>/dev/null || echo "$kdir")
kunit=$src/tools/testing/kunit/kunit.py
pass=0
fail=0
shopt -s nullglob
files=("$res"/kunit/*.ktap)
if [ ${#files[@]} -eq 0 ]; then
	echo "kunit: no suite results (guest rc $grc)" >&2
	echo "0 1"
	exit 0
fi
for f in "${files[@]}"; do
	out=$(python3 "$kunit" parse < "$f" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /' >&2
	p=$(echo "$out" | sed -n 's/.*Ran [0-9]* tests\{0,1\}: passed: \([0-9]*\).*/\1/p' | tail -n 1)
	fl=$(echo "$out" | sed -n 's/.*failed: \([0-9]*\).*/\1/p' | tail -n 1)
	p=${p:-0}
	fl=${fl:-0}
	if [ "$rc" != 0 ] || grep -q 'not ok' "$f"; then
		[ "$fl" = 0 ] && fl=1
	fi
	pass=$((pass + p))
	fail=$((fail + fl))
done
if grep -q 'not ok' "$res/.guest/dmesg.txt" 2>/dev/null; then
	grep 'not ok' "$res/.guest/dmesg.txt" >&2
	[ "$fail" = 0 ] && fail=1
fi
# The guest's own exit status also covers the suites that ran after
# KUnit in the same boot; KUnit's step left its status in kunit/rc. A hang
# or a kernel complaint (124, 125) fails every suite of the boot.
krc=$(cat "$res/kunit/rc" 2>/dev/null || echo missing)
if [ "$krc" != 0 ] || [ "$grc" = 124 ] || [ "$grc" = 125 ]; then
	echo "kunit: the KUnit step failed (its status $krc, the guest's $grc)" >&2
	[ "$fail" = 0 ] && fail=1
fi
echo "$pass $fail"
