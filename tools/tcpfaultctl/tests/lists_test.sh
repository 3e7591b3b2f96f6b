#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man page's lists of names against module/names.h: a mode, a key or a
# wire state added to names.h and not documented fails here. Prints TAP.
# usage: lists_test.sh GEN-LISTS MANPAGE
set -u
gen=$1
man=$2
n=0
fail=0

check()
{
	local what=$1 got=$2 want=$3
	n=$((n + 1))
	if [[ $got == "$want" ]]; then
		echo "ok $n - tcpfaultctl.8 lists the $what of names.h"
	else
		echo "not ok $n - tcpfaultctl.8 $what: got '$got', want '$want'"
		fail=1
	fi
}

# "MODE is one of:", then one ".TP" / ".B name" pair per mode up to ".PP".
modes=$(awk '
	/^is one of:$/ { on = 1; next }
	on && /^\.PP/ { exit }
	on && prev == ".TP" && /^\.B / { sub(/^\.B /, ""); gsub(/\\-/, "-"); print }
	{ prev = $0 }' "$man" | tr '\n' ' ')
check modes "${modes% }" "$("$gen" modes)"

# "Keys:", then one ".TP" head per key or pair of keys, up to the next ".SS".
keys=$(awk '
	/^Keys:$/ { on = 1; next }
	on && /^\.SS/ { exit }
	on && prev == ".TP" { print }
	{ prev = $0 }' "$man" | sed -e 's/"[^"]*"//g' -e 's/\\f.*//' -e 's/^\.BR* //')
check "option keys" "$(echo $keys)" "$("$gen" option-keys)"

# conns' "state STATE (NONE, SYN_SENT, ...; any case)": the bold words.
states=$(awk '
	/^\.RB \( NONE / { on = 1 }
	on { print; if (/;$/) exit }' "$man" |
	sed -e 's/^\.[BR]* //' -e 's/[(,;]//g' -e 's/"//g' | tr -s ' \n' '  ')
check "wire states" "$(echo $states)" "$("$gen" wire-states)"

echo "1..$n"
exit $fail
