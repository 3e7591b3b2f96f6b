#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: build the Debian packages from debian/ with dpkg-buildpackage,
# check them with lintian, and print the .deb paths as the last lines.
#   build-deb.sh OUTDIR
# The tree is copied to OUTDIR/tcpfault-<version> (the checkout's files,
# tracked or not, minus what .gitignore ignores), so the build and its
# clean step never touch the checkout, and dpkg-buildpackage leaves the
# .debs, .buildinfo and .changes in OUTDIR. Any lintian error or warning
# fails the build; lintian's informational tags are shown.
set -euo pipefail

# copy_tree TOP DEST: the source files of the checkout TOP into DEST
copy_tree() {
	local top=$1 dest=$2
	mkdir -p "$dest"
	if git -C "$top" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$top"; then
		# Tracked files deleted in the worktree are skipped.
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			(cd "$top" && while IFS= read -r -d '' f; do
				[ -e "$f" ] && printf '%s\0' "$f"
			done) |
			tar -C "$top" --null -T - -cf - | tar -C "$dest" -xf -
	else
		# A tree without git (an unpacked tarball): all but build output.
		tar -C "$top" --exclude=./build --exclude=./.git -cf - . |
			tar -C "$dest" -xf -
	fi
}

main() {
	local top out ver src debs
	top=$(cd "$(dirname "$0")/../.." && pwd -P)
	out=$(mkdir -p "$1" && cd "$1" && pwd)
	# provision.sh's deb group holds the build dependencies and lintian;
	# ask apt only when something is missing (one of them is virtual).
	if ! command -v lintian >/dev/null ||
		! (cd "$top" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
		"$top/tools/testing/provision.sh" deb
	fi
	ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
	rm -rf "$out"/tcpfault[_-]*
	src=$out/tcpfault-$ver
	copy_tree "$top" "$src"
	# No -dbgsym package: `apt-get install ./build/deb/*.deb` would take
	# it along. DEB_BUILD_OPTIONS=nocheck skips the CLI's unit tests.
	(cd "$src" && DEB_BUILD_OPTIONS="noautodbgsym ${DEB_BUILD_OPTIONS-}" \
		dpkg-buildpackage --build=binary --no-sign)
	rm -rf "$src"
	echo "lintian:"
	lintian --info --display-info --fail-on error,warning \
		"$out/tcpfault_${ver}_$(dpkg --print-architecture).changes"
	echo "lintian: no errors or warnings"
	debs=$(ls "$out"/*.deb)
	echo "$debs"
}
main "$@"
