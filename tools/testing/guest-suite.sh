#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside a guest: run several suites in one boot (boots are the expensive
# part under TCG), each writing its own results under /results.
#   --kunit KO              KUnit suite module -> /results/kunit/*.ktap
#   --integration KO LABEL  the integration tests -> /results/LABEL.json
#   --dkms                  the DKMS test (modprobe) -> /results/dkms.json
#   --dkms-from DIR         the same, for a module DKMS built in a kernel
#                           line's root (kroot.sh): DIR's tcpfault.ko* goes
#                           where dkms install puts it, then depmod
#   --bench KO BENCHKO RR   the short benchmark -> /results/bench-quick.json
#   --full, -k SUBSTRING    (before the suites) full sizes; filter the tests
#   --no-reports, --no-variants  (before the suites) leave out the tests
#                           of userspace reports, and those repeating their
#                           family's paths (run.py's options of those names)
# Exits non-zero if any part failed.
set -u
rc=0
quick=--quick
kargs=()
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--full)
		quick=
		shift
		;;
	--no-reports | --no-variants)
		only+=("$1")
		shift
		;;
	-k)
		kargs+=(-k "$2")
		shift 2
		;;
	--kunit)
		echo "=== kunit"
		bash tools/testing/kunit-guest.sh "$2" /results
		k=$?
		echo "$k" > /results/kunit/rc
		[ "$k" = 0 ] || rc=1
		shift 2
		;;
	--integration)
		echo "=== integration ($3)"
		python3 tools/testing/tests/run.py --ko "$2" $quick "${only[@]}" --label "$3" \
			--json "/results/$3.json" "${kargs[@]}" || rc=1
		shift 3
		;;
	--dkms)
		echo "=== dkms"
		python3 tools/testing/tests/run.py -k dkms --label dkms --json /results/dkms.json || rc=1
		shift
		;;
	--dkms-from)
		echo "=== dkms (built in the kernel's own root)"
		d=/lib/modules/$(uname -r)/updates/dkms
		mkdir -p "$d" && cp "$2"/tcpfault.ko* "$d/" && depmod -a "$(uname -r)" &&
			python3 tools/testing/tests/run.py -k dkms --label dkms --json /results/dkms.json || rc=1
		shift 2
		;;
	--bench)
		echo "=== bench (short)"
		python3 tools/testing/bench/bench.py --ko "$2" --bench-ko "$3" --rr "$4" --quick \
			--rounds 1 --seconds 1 --json /results/bench-quick.json || rc=1
		shift 4
		;;
	*)
		echo "guest-suite: unknown argument $1"
		exit 2
		;;
	esac
done
exit $rc
