#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Building tcpfaultctl needs json-c only: on a machine without the unit
# tests' libraries (cmocka, libxml2), as `make demo` on a fresh Debian is,
# the build must not ask pkg-config for them and print its complaints.
# usage: quiet_build_test.sh TOOLS_DIR
set -u
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A pkg-config that knows json-c and nothing else.
cat > "$tmp/pkg-config" <<'PC'
#!/bin/sh
for a in "$@"; do
	case $a in
	-*|json-c) ;;
	*) echo "Package $a was not found in the pkg-config search path." >&2; exit 1 ;;
	esac
done
exec pkg-config "$@"
PC
chmod +x "$tmp/pkg-config"
# A make of its own: run from make -jN (dh), the parent's jobserver flags
# would make it warn on stderr about the jobserver.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -n -C "$dir" PKG_CONFIG="$tmp/pkg-config" all >/dev/null 2>"$tmp/err"; then
	echo "FAIL - make -n all with json-c only:"; cat "$tmp/err"; exit 1
fi
if [ -s "$tmp/err" ]; then
	echo "FAIL - building tcpfaultctl without cmocka and libxml2 printed:"
	cat "$tmp/err"
	exit 1
fi
echo "ok - building tcpfaultctl asks pkg-config for json-c only"
