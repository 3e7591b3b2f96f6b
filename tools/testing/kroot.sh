#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian kernel lines tcpfault is tested on, and a root of its own
# release for each line this machine (bookworm) does not ship.
#
#   kroot.sh lines             every line, oldest first: LINE KIND
#                              (KIND host: a bookworm kernel, installed by
#                              provision.sh; root: from a root of its own)
#   kroot.sh path LINE         make LINE's root if it is not cached; print it
#   kroot.sh kver LINE         LINE's kernel release, as uname -r prints it
#   kroot.sh run [--scratch] LINE CMD...
#                              run CMD as root inside LINE's root, in the
#                              checkout, bind-mounted at its own path;
#                              --scratch: on a throwaway overlay, so what
#                              CMD installs (dkms, a .deb) leaves no trace
#
# Newer kbuild tools need a newer C library than bookworm's, so a module
# for a kernel of another release is built in a root of that release, made
# with mmdebstrap: build-essential, dkms, and the release's own
# linux-image-amd64 and linux-headers-amd64. The QEMU guest still boots on
# this machine's root; it takes the kernel image and /lib/modules from the
# line's root (tools/testing/qemu/run.sh --kernel LINE).
#
# Roots are cached in $TCPFAULT_CACHE/kroot (default /var/cache/tcpfault),
# keyed by the line's row below and the package list: a new row makes a new
# root; delete the directory to take a newer kernel of the same row.
set -euo pipefail

# LINE  KIND  SUITES (the first is the release; its -updates and -security
#             are added when the archive has them)  DEFAULT-RELEASE (or -)
#             FLAVOUR (Debian's kernel flavour: amd64, or rt-amd64 for
#             PREEMPT_RT)
table() {
	cat <<-'EOF'
	5.10 root bullseye - amd64
	6.1 host bookworm - amd64
	6.1-rt root bookworm - rt-amd64
	6.12 host bookworm-backports - amd64
	7.2 root sid - amd64
	7.3 root trixie,trixie-backports trixie-backports amd64
	EOF
}
# packages FLAVOUR: what a root holds
packages() {
	echo "build-essential,kmod,dkms,linux-image-$1,linux-headers-$1"
}
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TCPFAULT_CACHE:-/var/cache/tcpfault}/kroot

log() { echo "kroot: $*" >&2; }

row() {
	local r
	r=$(table | awk -v l="$1" '$1 == l')
	[ -n "$r" ] || { log "unknown kernel line '$1' (lines: $(table | awk '{printf "%s ", $1}'))"; exit 2; }
	echo "$r"
}

# dir LINE: where LINE's root lives (made or not)
dir() {
	local r key
	r=$(row "$1")
	key=$(printf '%s\n%s\n' "$(cut -d' ' -f1-4 <<<"$r")" "$(packages "${r##* }")" |
		sha256sum | cut -c1-12)
	echo "$cache/$1-$key"
}

# sources SUITES: the apt lines for a comma-separated suite list
sources() {
	local s
	for s in ${1//,/ }; do
		echo "deb http://deb.debian.org/debian $s main"
		case "$s" in
		sid|*-backports) ;;
		*)
			echo "deb http://deb.debian.org/debian $s-updates main"
			echo "deb http://deb.debian.org/debian-security $s-security main"
			;;
		esac
	done
}

# make_root LINE: build LINE's root into its cache directory, atomically
make_root() {
	local line=$1 r kind suites deflt flavour packages d tmp t0=$SECONDS
	read -r _ kind suites deflt flavour <<<"$(row "$line")"
	packages=$(packages "$flavour")
	[ "$kind" = root ] || { log "line $line runs on this machine's own kernel: no root"; exit 2; }
	d=$(dir "$line")
	[ -d "$d" ] && return 0
	[ "$(id -u)" = 0 ] || { log "need root to build the $line root"; exit 1; }
	command -v mmdebstrap >/dev/null || "$top/tools/testing/provision.sh" fresh
	mkdir -p "$cache"
	tmp=$d.tmp.$$
	rm -rf "$tmp"
	log "building the $line root (${suites%%,*}: $packages) in $d"
	local opts=(--quiet --variant=minbase --include="$packages"
		--aptopt='Acquire::Check-Valid-Until "false"'
		--aptopt='APT::Install-Recommends "false"'
		--dpkgopt=force-unsafe-io)
	[ "$deflt" = - ] || opts+=(--aptopt="APT::Default-Release \"$deflt\"")
	# shellcheck disable=SC2046
	if ! mmdebstrap "${opts[@]}" "${suites%%,*}" "$tmp" \
		"$(sources "$suites")" >&2; then
		rm -rf "$tmp"
		log "mmdebstrap failed for the $line root"
		exit 1
	fi
	# The root's apt settings stay, for a later apt-get in it.
	printf 'Acquire::Check-Valid-Until "false";\n' > "$tmp/etc/apt/apt.conf.d/99tcpfault"
	[ "$deflt" = - ] || printf 'APT::Default-Release "%s";\n' "$deflt" >> "$tmp/etc/apt/apt.conf.d/99tcpfault"
	local k
	k=$(kver_of "$tmp")
	case "$k" in
	"${line%-rt}".*-"$flavour") ;;
	*)
		rm -rf "$tmp"
		log "${suites%%,*} now ships kernel $k, not a $line: update the table in $0"
		exit 1
		;;
	esac
	mv "$tmp" "$d"
	log "$line root: kernel $(kver_of "$d"), built in $((SECONDS - t0)) s"
}

kver_of() {
	local k
	k=$(ls "$1/lib/modules" 2>/dev/null | sort -V | tail -n 1)
	[ -n "$k" ] || { log "no kernel in $1"; exit 1; }
	echo "$k"
}

# path LINE: LINE's root, made under a lock if it is not cached yet
path() {
	local d
	d=$(dir "$1")
	if [ ! -d "$d" ]; then
		mkdir -p "$cache"
		exec 9>"$cache/$1.lock"
		flock 9
		make_root "$1"
		exec 9>&-
	fi
	echo "$d"
}

# run LINE CMD...: in a private mount namespace, chroot into LINE's root
# with proc, sys, dev, an empty /tmp and the checkout mounted
run() {
	local d=$1 scratch=$2
	shift 2
	case "$top" in
	*[[:space:]]*) log "the checkout's path '$top' has a space"; exit 2 ;;
	esac
	printf '%q ' "$@" > "$d/.kroot-cmd.$$"
	# Inside a chroot (fresh.sh) / is no mount point and its propagation
	# cannot change; fresh.sh's own namespace is private already.
	unshare --mount --propagation unchanged bash -c '
		set -e
		d=$1 top=$2 cmd=$3 scratch=$4
		if ! mount --make-rprivate / 2>/dev/null &&
			grep -q "^[0-9]* [0-9]* [^ ]* [^ ]* / [^ ]* [^-]*shared:" /proc/self/mountinfo; then
			echo "kroot: cannot make the mounts private" >&2
			exit 1
		fi
		if [ "$scratch" = 1 ]; then
			w=$(mktemp -d /tmp/kroot-scratch.XXXXXX)
			mount -t tmpfs tmpfs "$w"
			mkdir "$w/u" "$w/w" "$w/m"
			mount -t overlay overlay -o "lowerdir=$d,upperdir=$w/u,workdir=$w/w" "$w/m"
			d=$w/m
		fi
		mount -t proc proc "$d/proc"
		mount --rbind /sys "$d/sys"
		mount --rbind /dev "$d/dev"
		mount -t tmpfs -o mode=1777 tmpfs "$d/tmp"
		mkdir -p "$d$top"
		mount --bind "$top" "$d$top"
		exec chroot "$d" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			bash -c "cd $top && bash /${cmd##*/}"
	' kroot "$d" "$top" "$d/.kroot-cmd.$$" "$scratch"
}

main() {
	local cmd=${1:-}
	case "$cmd" in
	lines) table | awk '{print $1, $2}' ;;
	path) [ $# = 2 ] || usage; path "$2" ;;
	kver)
		[ $# = 2 ] || usage
		if [ "$(row "$2" | awk '{print $2}')" = host ]; then
			local m
			for m in /lib/modules/"$2".*-amd64; do
				[[ "${m##*/}" =~ ^${2//./\\.}\.[0-9] ]] && echo "${m##*/}"
			done | sort -V | tail -n 1
		else
			kver_of "$(path "$2")"
		fi
		;;
	run)
		local d rc scratch=0
		shift
		[ "${1:-}" = --scratch ] && { scratch=1; shift; }
		[ $# -ge 2 ] || usage
		d=$(path "$1")
		shift
		set +e
		run "$d" "$scratch" "$@"
		rc=$?
		rm -f "$d/.kroot-cmd.$$"
		return $rc
		;;
	-h|--help) sed -n '4,28p' "$0" | sed 's/^# \{0,1\}//' ;;
	*) usage ;;
	esac
}

usage() {
	log "usage: kroot.sh lines | path LINE | kver LINE | run [--scratch] LINE CMD..."
	exit 2
}

main "$@"
