#!/bin/sh
# tests/fuzz/cjson.sh DIR CC [CFLAGS...]: build cJSON for the fuzzers from
# Debian's source of the installed libcjson-dev (same version, Debian's
# patches applied), with the fuzzers' compiler and sanitizers, so that the
# parsers' behaviour inside cJSON is instrumented too.  Nothing is
# vendored: the source comes from the Debian archive through apt-get
# source, with deb-src lines made from this system's own apt sources in a
# private apt state under DIR (the system's apt configuration is not
# touched).  Writes DIR/link: the object to link, or "-lcjson" (the
# installed library, not instrumented) with a warning when the source
# cannot be had (offline).
set -u
dir=$1; shift
cc=$*
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
ver=$(dpkg-query -W -f='${Version}' libcjson-dev 2>/dev/null)
stamp="$dir/cJSON.o.$ver"
if [ -n "$ver" ] && [ -f "$stamp" ]; then
	echo "$dir/cJSON.o" >"$dir/link"; exit 0
fi
fallback() {
	echo "cjson.sh: $*; linking the installed libcjson (not instrumented)" >&2
	echo "-lcjson" >"$dir/link"; exit 0
}
[ -n "$ver" ] || fallback "libcjson-dev is not installed"
command -v dpkg-source >/dev/null || fallback "dpkg-source (dpkg-dev) is missing"
apt="$dir/apt"
rm -rf "$apt" "$dir/src"
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/src"
# deb-src twins of the system's deb sources (one-line and deb822 forms)
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && sed -n 's/^deb \(.*\)/deb-src \1/p' "$f"
done >"$apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sed 's/^Types: *deb *$/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
done
set -- -q -o Dir::Etc::SourceList="$apt/sources.list" \
	-o Dir::Etc::SourceParts="$apt/parts" -o Dir::State::Lists="$apt/lists" \
	-o Dir::Cache="$apt/cache" -o APT::Sandbox::User="$(id -un)"
apt-get "$@" update >"$apt/log" 2>&1 || fallback "apt-get update failed (see $apt/log)"
(cd "$dir/src" && apt-get "$@" source "cjson=$ver") >>"$apt/log" 2>&1 ||
	fallback "apt-get source cjson=$ver failed (see $apt/log)"
src=$(ls -d "$dir"/src/cjson-*/cJSON.c 2>/dev/null | head -1)
[ -n "$src" ] || fallback "no cJSON.c in the cjson source package"
$cc -c -o "$dir/cJSON.o" "$src" || fallback "cannot compile $src"
rm -f "$dir"/cJSON.o.*
touch "$stamp"
echo "$dir/cJSON.o" >"$dir/link"
echo "cjson.sh: cJSON $ver from Debian's source, built with the sanitizers" >&2
