#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The call graph between module/'s files, read from the built objects:
# for each X.o, the global symbols it defines and those it uses (nm). A
# file that uses a symbol another file defines depends on it. Prints one
# edge "X -> Y" a line, then fails if the edges make a cycle, naming the
# files on it.
#
#   callgraph.sh [--known X:Y]... OBJDIR
#
# OBJDIR holds the objects, e.g. build/stock/module from build-module.sh;
# main.o and tcpfault.o (the linked module) are left out. --known X:Y
# takes the edge X -> Y out of the check (it is still printed, marked
# "known"): a cycle already on record, so that only a new one fails. A
# --known edge that no longer exists fails too, so the record stays true.
#
# The trace events are instantiated in hooks.c (CREATE_TRACE_POINTS), but
# they are trace.h's: their symbols count as a node "trace.h", which
# depends on nothing.
set -euo pipefail
known=()
while [ $# -gt 1 ]; do
	case $1 in
	--known)
		known+=("$2")
		shift 2
		;;
	*)
		break
		;;
	esac
done
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: callgraph.sh [--known X:Y]... OBJDIR" >&2
	exit 2
fi
dir=$1
objs=()
for o in "$dir"/*.o; do
	case ${o##*/} in
	main.o | *.mod.o | tcpfault.o) ;;
	*) objs+=("$o") ;;
	esac
done
if [ ${#objs[@]} -eq 0 ]; then
	echo "callgraph: no objects in $dir" >&2
	exit 2
fi

# "FILE D SYMBOL" for a definition, "FILE U SYMBOL" for a use.
syms() {
	local o f
	for o in "${objs[@]}"; do
		f=$(basename "$o" .o)
		nm "$o" | awk -v f="$f" '
			$1 == "U" { print f, "U", $2; next }
			NF == 3 && $2 ~ /^[A-TV-Z]$/ { print f, "D", $3 }'
	done
}

edges=$(syms | awk '
	function owner(f, s) {
		return s ~ /^__(tracepoint|traceiter|SCK__tp_func|SCT__tp_func)_/ ? "trace.h" : f
	}
	$2 == "D" { def[$3] = owner($1 ".c", $3); next }
	{ use[NR] = $1 ".c " $3 }
	END {
		for (i in use) {
			split(use[i], u, " ")
			if ((u[2] in def) && def[u[2]] != u[1])
				print u[1], def[u[2]]
		}
	}' | sort -u)

check=""
while read -r from to; do
	[ -n "$from" ] || continue
	mark=""
	for k in "${known[@]}"; do
		[ "$k" = "${from%.c}:${to%.c}" ] && mark="  (known)"
	done
	echo "$from -> $to$mark"
	[ -n "$mark" ] || check+="$from $to"$'\n'
done <<<"$edges"
stale=0
for k in "${known[@]}"; do
	if ! grep -qx "${k%%:*}.c ${k#*:}.c" <<<"$edges"; then
		echo "callgraph: --known $k: no such edge any more: drop it" >&2
		stale=1
	fi
done

# Files that reach each other are on a cycle: print each such group (a
# strongly connected component) with its edges.
nodes=$(printf '%s' "$check" | tr ' ' '\n' | sort -u | tr '\n' ' ')
cycles=$(printf '%s' "$check" | awk -v nodes="$nodes" '
	{ e[$1, $2] = 1; r[$1, $2] = 1 }
	END {
		c = split(nodes, n, " ")
		for (k = 1; k <= c; k++) for (i = 1; i <= c; i++) for (j = 1; j <= c; j++)
			if (r[n[i], n[k]] && r[n[k], n[j]]) r[n[i], n[j]] = 1
		for (i = 1; i <= c; i++) {
			if (done[i] || !r[n[i], n[i]])
				continue
			line = ""
			for (j = 1; j <= c; j++)
				if (r[n[i], n[j]] && r[n[j], n[i]]) { in_c[j] = i; done[j] = 1; line = line " " n[j] }
			print "cycle:" line
			for (a = 1; a <= c; a++) for (b = 1; b <= c; b++)
				if (e[n[a], n[b]] && in_c[a] == i && in_c[b] == i)
					print "  " n[a] " -> " n[b]
		}
	}')
if [ -n "$cycles" ]; then
	echo "callgraph: module/ files that depend on each other:" >&2
	echo "$cycles" >&2
	exit 1
fi
echo "callgraph: no cycle"
exit "$stale"
