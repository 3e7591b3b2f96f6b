#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a QEMU guest on this machine's own root (read-only over virtio-9p,
# with a tmpfs overlay) and run one command in it.
#
#   run.sh [--kernel stock|6.1|6.12|debug|LINE] [--timeout SEC] [--mem MB] [--smp N]
#          [--append ARGS] [--results DIR] [--quiet] -- COMMAND...
#
# The command runs as root in the guest, in the current directory, through
# bash. Its exit status becomes run.sh's. The run also fails (exit 125)
# when the guest console or dmesg shows a kernel complaint (BUG, WARNING,
# Oops, KASAN, lockdep, atomic-sleep, RCU, kmemleak) or when it hangs past
# the timeout (exit 124). The results share is mounted at /results in the
# guest; the guest's dmesg and kmemleak report land there too.
#
# Kernels: "stock" (or "6.1") is Debian's linux-image-amd64 for bookworm,
# "6.12" the 6.12 LTS kernel from bookworm-backports (both provisioned with
# apt); "debug" is tools/testing/kernel/build.sh's KASAN/lockdep/kmemleak/
# KUnit kernel; any other LINE of tools/testing/kroot.sh (5.10, 6.1-rt,
# 7.2, 7.3)
# is that Debian release's own kernel, from a root of that release, booted
# on this machine's root all the same. KVM is used when a probe boot proves that it works, else TCG.
# --append adds ARGS to the guest kernel's command line (for example
# "kmemleak=off" for a debug guest that must hold a million faults).
# TCPFAULT_QEMU_ACCEL, if set, replaces the accelerator arguments (the
# benchmark sets "-accel tcg -icount ..." for an instruction-counting clock).
set -euo pipefail

# The body is a function: bash parses it whole before running, so editing
# this file while a guest runs cannot corrupt the run.
main() {

here=$(cd "$(dirname "$0")" && pwd)
testing=$(cd "$here/.." && pwd)
cache=${TCPFAULT_CACHE:-/var/cache/tcpfault}
kernel=stock
modroot=
timeout=600
mem=
smp=2
results=
quiet=0
extra=

usage() { sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--append) extra=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage

log() { echo "qemu-run: $*" >&2; }

# The guest sees this machine's root, except what it mounts afresh: its
# own /tmp and /run (a checkout there is carried over by stage2.sh), and
# /dev, /proc and /sys, whose files a checkout cannot live in.
case "$(pwd)/" in
/dev/*|/proc/*|/sys/*)
	log "the guest cannot see $(pwd): it mounts its own /dev, /proc and /sys;" \
		"clone tcpfault anywhere else (/tmp works)"
	exit 2
	;;
esac

"$testing/provision.sh" guest

# --- the kernel -----------------------------------------------------------
# stock_kver SERIES: the newest installed Debian amd64 kernel of a series.
stock_kver() {
	ls /lib/modules | grep -E "^${1:-6.1}\.[0-9]+.*-amd64\$" | sort -V | tail -n 1
}

case "$kernel" in
stock|6.1|6.12)
	[ "$kernel" = 6.12 ] && "$testing/provision.sh" kernel612
	kver=$(stock_kver "${kernel/stock/6.1}")
	[ -n "$kver" ] || { log "no Debian $kernel kernel installed"; exit 1; }
	bzimage=/boot/vmlinuz-$kver
	mods="virtio_pci 9pnet_virtio 9p overlay"
	;;
debug)
	kdir=$("$testing/kernel/build.sh")
	bzimage=$kdir/arch/x86/boot/bzImage
	kver=$(cat "$kdir/include/config/kernel.release")
	mods=
	;;
*)
	# A Debian kernel of another release (kroot.sh lines): its image and
	# modules come from that line's root; the guest mounts the modules
	# over /lib/modules/KVER of this machine's root.
	if [ "$("$testing/kroot.sh" lines | awk -v l="$kernel" '$1 == l {print $2}')" != root ]; then
		log "unknown kernel '$kernel' (stock, 6.1, 6.12, debug, or a line of kroot.sh lines)"
		exit 2
	fi
	modroot=$("$testing/kroot.sh" path "$kernel")
	kver=$("$testing/kroot.sh" kver "$kernel")
	bzimage=$modroot/boot/vmlinuz-$kver
	mods="virtio_pci 9pnet_virtio 9p overlay"
	;;
esac

# --- the initramfs, cached per kernel and init script ----------------------
# make_initrd KVER "MODULES..." prints the path of a cached uncompressed cpio
# holding busybox, stage 1 and the modules (with dependencies, in order).
make_initrd() {
	local kv=$1 m word path name key out stage
	local list=()
	for m in $2; do
		while read -r word path _; do
			[ "$word" = insmod ] || continue
			case " ${list[*]-} " in *" $path "*) ;; *) list+=("$path") ;; esac
		done < <(modprobe ${modroot:+-d "$modroot"} -S "$kv" --show-depends "$m")
	done
	key=$( (cat "$here/init"; echo "$kv"; printf '%s\n' "${list[@]-}") | sha256sum | cut -c1-16)
	out=$cache/initramfs-$kv-$key.cpio
	if [ ! -f "$out" ]; then
		log "building initramfs for $kv"
		mkdir -p "$cache"
		stage=$(mktemp -d)
		mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules}
		cp /bin/busybox "$stage/bin/busybox"
		cp "$here/init" "$stage/init"
		chmod 755 "$stage/init"
		: > "$stage/modules.order"
		for path in "${list[@]-}"; do
			[ -n "$path" ] || continue
			name=$(basename "$path")
			case "$name" in
			*.ko.xz) name=${name%.xz}; xz -dc "$path" > "$stage/lib/modules/$name" ;;
			*.ko.zst) name=${name%.zst}; zstd -qdc "$path" > "$stage/lib/modules/$name" ;;
			*) cp "$path" "$stage/lib/modules/$name" ;;
			esac
			echo "$name" >> "$stage/modules.order"
		done
		(cd "$stage" && find . | cpio -o -H newc --quiet) > "$out.tmp"
		mv "$out.tmp" "$out"
		rm -rf "$stage"
	fi
	echo "$out"
}
initrd=$(make_initrd "$kver" "$mods")

# --- results share and the command ------------------------------------------
if [ -z "$results" ]; then
	results=$(mktemp -d /tmp/tcpfault-guest.XXXXXX)
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
g=$results/.guest
rm -rf "$g"
mkdir -p "$g"
cp "$here/stage2.sh" "$g/stage2.sh"
pwd > "$g/cwd"
[ -z "$modroot" ] || echo "$modroot/lib/modules/$kver" > "$g/modules"
printf '%q ' "$@" > "$g/cmd"
echo >> "$g/cmd"

# --- accelerator: KVM only if a probe boot proved it works ------------------
accel_args() {
	local probe=$cache/accel
	if [ -n "${TCPFAULT_QEMU_ACCEL:-}" ]; then
		echo "$TCPFAULT_QEMU_ACCEL"
	elif [ -f "$probe" ] && [ "$(cat "$probe")" = kvm ]; then
		echo "-accel kvm -cpu host"
	else
		# Multi-threaded TCG needs QEMU 8 or later (provision.sh installs
		# 10.x): 7.2 lets a vCPU execute an int3 that text_poke_bp() has
		# already replaced (see qemu/textpoke-repro.py).
		echo "-accel tcg,thread=multi -cpu max"
	fi
}
if [ ! -f "$cache/accel" ]; then
	acc=tcg
	if [ -w /dev/kvm ] && [ -z "${TCPFAULT_NO_KVM_PROBE:-}" ]; then
		log "probing KVM (once per machine)"
		pd=$(mktemp -d)
		mkdir -p "$pd/.guest"
		cp "$here/stage2.sh" "$pd/.guest/stage2.sh"
		echo / > "$pd/.guest/cwd"
		echo true > "$pd/.guest/cmd"
		probe_initrd=$(make_initrd "$(stock_kver)" "virtio_pci 9pnet_virtio 9p overlay")
		# In a subshell whose stderr goes nowhere: QEMU dies of SIGABRT
		# where KVM is there but unusable, and bash would report the job
		# ("Aborted", and its whole command line) on the user's terminal.
		# The exit keeps bash from exec'ing timeout in place of the subshell.
		if (timeout 25 qemu-system-x86_64 -nodefaults -display none -no-reboot \
			-accel kvm -cpu host -machine q35 -smp 1 -m 512 -serial null \
			-kernel "/boot/vmlinuz-$(stock_kver)" -initrd "$probe_initrd" \
			-append "console=ttyS0 reboot=t panic=-1" \
			-fsdev local,id=root,path=/,readonly=on,security_model=none,multidevs=remap \
			-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
			-fsdev local,id=res,path="$pd",security_model=none \
			-device virtio-9p-pci,fsdev=res,mount_tag=results >/dev/null 2>&1
		    exit $?) 2>/dev/null &&
		   [ "$(cat "$pd/.guest/rc" 2>/dev/null)" = 0 ]; then
			acc=kvm
		fi
		rm -rf "$pd"
	fi
	echo "$acc" > "$cache/accel"
	log "accelerator: $acc"
fi

# kmemleak's scan time grows with guest memory: keep the debug guest small.
[ -n "$mem" ] || { [ "$kernel" = debug ] && mem=1024 || mem=2048; }
append="console=ttyS0 reboot=t panic=-1 oops=panic panic_on_warn=0 loglevel=6"
append+=" kunit.enable=1 hung_task_panic=0 no_hash_pointers"
[ -z "$extra" ] || append+=" $extra"
console=$results/console.log

# shellcheck disable=SC2046
set +e
timeout --foreground "$timeout" qemu-system-x86_64 -nodefaults -display none \
	-no-reboot -monitor none $(accel_args) -machine q35 -smp "$smp" -m "$mem" \
	-serial stdio -kernel "$bzimage" -initrd "$initrd" -append "$append" \
	-fsdev local,id=root,path=/,readonly=on,security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
	-fsdev local,id=res,path="$results",security_model=none \
	-device virtio-9p-pci,fsdev=res,mount_tag=results \
	</dev/null 2>&1 | stdbuf -o0 tr -d '\r' | if [ "$quiet" = 1 ]; then cat > "$console"; else tee "$console"; fi
qrc=${PIPESTATUS[0]}
set -e

if [ "$qrc" = 124 ]; then
	log "guest hung: no result after ${timeout}s (console: $console)"
	exit 124
fi

# Kernel complaints fail the run, whatever the command said.
pattern='BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning|sleeping function called from invalid context|general protection fault|Kernel panic|Call Trace:|kmemleak: .*new suspected memory leak|INFO: task .* blocked for more than|rcu_sched detected stalls|rcu: INFO'
bad=$(cat "$console" "$g/dmesg.txt" 2>/dev/null | grep -E "$pattern" | sort -u | head -n 20 || true)
if [ -s "$g/kmemleak.txt" ]; then
	bad+=$'\n'"kmemleak: $(grep -c '^unreferenced object' "$g/kmemleak.txt") unreferenced objects (see $g/kmemleak.txt)"
fi
if [ -n "$bad" ]; then
	log "kernel reported problems (console: $console):"
	echo "$bad" | sed 's/^/    /' >&2
	exit 125
fi
if [ ! -f "$g/rc" ]; then
	log "guest exited without a result (console: $console)"
	exit 125
fi
exit "$(cat "$g/rc")"
}

main "$@"
