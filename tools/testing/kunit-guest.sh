#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the debug-kernel guest: load the KUnit suite module, which runs its
# suites at load time, and save each suite's KTAP from debugfs (it vanishes
# with the module), then unload it. Usage: kunit-guest.sh KO OUTDIR
set -u
ko=$1
dir=$2/kunit
mkdir -p "$dir"
before=$(ls /sys/kernel/debug/kunit 2>/dev/null)
insmod "$ko" || { echo "insmod $ko failed"; exit 1; }
for s in /sys/kernel/debug/kunit/*; do
	name=$(basename "$s")
	case " $before " in *" $name "*) continue ;; esac
	cp "$s/results" "$dir/$name.ktap"
done
rmmod "$(basename "$ko" .ko)" || { echo "rmmod failed"; exit 1; }
ls "$dir"
