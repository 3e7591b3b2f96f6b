#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bash completion, driven as bash would drive it. Prints TAP.
# usage: completion_test.sh COMPLETION GEN-LISTS (both made by tools/Makefile)
set -u
. "$1"
gen=$2

n=0
fail=0
# expect "WORDS..." "REPLIES..." : complete the last word of WORDS
expect()
{
	local line=$1 want=$2 got
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_tcpfaultctl
	got="${COMPREPLY[*]}"
	n=$((n + 1))
	if [[ $got == "$want" ]]; then
		echo "ok $n - '$line' -> '$want'"
	else
		echo "not ok $n - '$line': got '$got', want '$want'"
		fail=1
	fi
}

expect "tcpfaultctl " "add list show enable disable delete flush conns watch timeline stats help"
expect "tcpfaultctl d" "disable delete"
expect "tcpfaultctl --j" "--json"
expect "tcpfaultctl -j co" "conns"
# Every mode of module/names.h, and nothing else.
expect "tcpfaultctl add web " "$("$gen" modes)"
expect "tcpfaultctl add web mode " "$("$gen" modes)"
expect "tcpfaultctl add web loss src 1.2.3.4 " "$("$gen" option-keys) disabled"
expect "tcpfaultctl conns state " "$("$gen" wire-states)"
for k in $("$gen" option-keys); do
	[[ $k == action || $k == reorder ]] && continue
	expect "tcpfaultctl add web loss $k " ""
done
expect "tcpfaultctl add web idle-timeout timeout 5m action " "$("$gen" idle-actions)"
expect "tcpfaultctl add web idle-timeout action r" "rst"
expect "tcpfaultctl add web idle-t" "idle-timeout"
expect "tcpfaultctl add web delay latency 1s reorder " "0 1"
expect "tcpfaultctl add web delay l" "latency"

expect "tcpfaultctl add web lo" "loss"
expect "tcpfaultctl add web loss p" "prob"
expect "tcpfaultctl add web loss src " ""
expect "tcpfaultctl add web oneway src 10.0.0.1 d" "dst dport delay duration disabled"
expect "tcpfaultctl conns state E" "ESTABLISHED"
expect "tcpfaultctl conns sort sa" "saddr"
expect "tcpfaultctl c s" "src state sort"
expect "tcpfaultctl -n foo watch -" "-i --interval -c --count -r -j --json --help"
expect "tcpfaultctl watch -c 1 state CL" "CLOSING CLOSED"
expect "tcpfaultctl timeline 3 --s" "--svg"
expect "tcpfaultctl help ti" "timeline"

# With -n, names, ids and columns come from that namespace: "ip netns exec"
# stands in for the real one here, serving the test fixtures.
fixtures=$(cd "$(dirname "$0")/fixtures" && pwd)
ip()
{
	[[ "$1 $2 $3 $4" == "netns exec client cat" ]] || return 1
	case $5 in
	/proc/net/tcpfault/faults) cat "$fixtures/faults" ;;
	/proc/net/tcpfault/conns) cat "$fixtures/conns" ;;
	*) return 1 ;;
	esac
}
expect "tcpfaultctl -n client show " "cut flaky box"
expect "tcpfaultctl --netns=client delete f" "flaky"
expect "tcpfaultctl -n client timeline " "3 1 2"
expect "tcpfaultctl -n client conns sort o_ret" "o_retrans"
expect "tcpfaultctl -n nowhere show " ""
echo "1..$n"
exit $fail
