#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command the way a new user would: on a fresh Debian 12 root.
#
#   tools/testing/fresh.sh [--cold] [--keep] [COMMAND...]   (default: make demo)
#
# mmdebstrap builds a minimal bookworm (minbase plus git, make and
# ca-certificates), the commit at HEAD is cloned into it, and COMMAND runs
# there as root in a chroot, in a private mount and PID namespace with
# proc, sys and dev mounted. Everything is the root's own: apt state,
# sources, /boot, /lib/modules, the packages provision.sh installs, and
# /var/cache/tcpfault. The exceptions are two caches, bind-mounted from
# this machine so a warm run does not rebuild them: the debug kernel's
# (tools/testing/kernel/build.sh; its key covers the config fragment, the
# source package, the compiler and the build script), and the roots of the
# other releases' kernels (tools/testing/kroot.sh; keyed by their release
# and packages). --cold leaves both out, so the fresh root builds its own.
# When COMMAND ends, every process started in
# the root is killed and the root is deleted (--keep leaves it, and prints
# its path). Exit status: COMMAND's; 2 for a usage error, 3 when the fresh
# root could not be built.
#
# Use it before landing any change to provisioning or the harness;
# .ci/run runs `make check` this way.
set -euo pipefail

main() {
	local top cold=0 keep=0 root rc sha kcache name
	top=$(cd "$(dirname "$0")/../.." && pwd)
	while [ $# -gt 0 ]; do
		case "$1" in
		--cold) cold=1; shift ;;
		--keep) keep=1; shift ;;
		--) shift; break ;;
		-h|--help) sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) echo "fresh: unknown option $1 (see --help)" >&2; exit 2 ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || set -- make demo
	[ "$(id -u)" = 0 ] || { echo "fresh: must run as root (mmdebstrap and chroot)" >&2; exit 2; }
	sha=$(git -C "$top" rev-parse HEAD)
	if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
		echo "fresh: note: uncommitted changes are not in the fresh root; it gets $sha" >&2
	fi

	# mmdebstrap is this machine's tool, not the fresh root's.
	command -v mmdebstrap >/dev/null || "$top/tools/testing/provision.sh" fresh >&2 || exit 3

	root=$(mktemp -d /var/tmp/tcpfault-fresh.XXXXXX)
	# shellcheck disable=SC2064
	trap "cleanup '$root' $keep" EXIT
	# A stopped run (CI's time limit, ^C) deletes its root too.
	trap 'exit 130' INT
	trap 'exit 143' TERM
	echo "fresh: building a minimal bookworm in $root" >&2
	local t0=$SECONDS
	# The archive's Release files may read as expired here.
	if ! mmdebstrap --quiet --variant=minbase --include=git,make,ca-certificates \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		bookworm "$root" \
		"deb http://deb.debian.org/debian bookworm main" \
		"deb http://deb.debian.org/debian bookworm-updates main" \
		"deb http://deb.debian.org/debian-security bookworm-security main" >&2; then
		echo "fresh: mmdebstrap failed: no fresh root" >&2
		exit 3
	fi
	echo "fresh: root built in $((SECONDS - t0)) s" >&2
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# The archive's Release files may read as expired here; and a root
	# that lives for one run need not fsync every file dpkg unpacks.
	cat > "$root/etc/apt/apt.conf.d/99tcpfault-fresh" <<-'EOF'
	Acquire::Check-Valid-Until "false";
	Dpkg::Options { "--force-unsafe-io"; };
	EOF

	name=$(basename "$top")
	git clone -q "$top" "$root/src/$name"
	git -C "$root/src/$name" checkout -q --detach "$sha"

	kcache=
	if [ "$cold" = 0 ]; then
		kcache=${TCPFAULT_CACHE:-/var/cache/tcpfault}
		mkdir -p "$kcache/debug-kernel" "$kcache/kroot"
	fi
	printf '%q ' "$@" > "$root/src/.cmd"
	echo "fresh: running '$*' in a fresh bookworm clone of ${sha:0:12}" \
		"(debug-kernel and kernel-root caches: ${kcache:-none, cold})" >&2

	# A private mount and PID namespace: the mounts vanish with it, so
	# deleting the root can never reach through a bind mount into this
	# machine, and every process the command leaves behind (a guest that
	# outlived a timeout) dies with it.
	set +e
	unshare --mount --propagation private --pid --fork \
		bash -c "$(declare -f inside); inside \"\$@\"" inside \
		"$root" "$name" "$kcache" "${TERM:-dumb}" "${CI:-}"
	rc=$?
	set -e
	echo "fresh: '$*' exited $rc" >&2
	return "$rc"
}

# inside ROOT NAME KCACHE TERM CI: in the new namespaces, mount and chroot
inside() {
	local root=$1 name=$2 kcache=$3 term=$4 ci=$5 d
	set -e
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	if [ -n "$kcache" ]; then
		for d in debug-kernel kroot; do
			mkdir -p "$root/var/cache/tcpfault/$d"
			mount --bind "$kcache/$d" "$root/var/cache/tcpfault/$d"
		done
	fi
	set +e
	chroot "$root" /usr/bin/env -i HOME=/root TERM="$term" CI="$ci" LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /src/$name && bash /src/.cmd"
}

# cleanup ROOT KEEP: the namespace and its mounts are gone by now; refuse
# to delete anything that is still a mount point, whatever happened.
cleanup() {
	local root=$1 keep=$2
	if [ "$keep" = 1 ]; then
		echo "fresh: root kept at $root (chroot $root bash)" >&2
		return
	fi
	if grep -q " $root[/ ]" /proc/self/mountinfo; then
		echo "fresh: something is still mounted under $root; not deleting it" >&2
		return
	fi
	rm -rf --one-file-system "$root"
}

main "$@"
