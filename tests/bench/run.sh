#!/bin/sh
# tests/bench/run.sh BUILD: run every benchmark in tests/bench/ (make bench).
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
# the system's python3 (with python3-aiohttp from make deps), not a
# version manager's shim earlier on PATH
export TOP="$top" PATH="$top/$build/bin:$top/scripts:/usr/bin:/bin:$PATH"
rc=0
for b in "$top"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	[ -n "${BENCH:-}" ] && ! echo "$b" | grep -Eq "$BENCH" && continue
	echo "== bench $(basename "$b" .sh)"
	w=$(mktemp -d "${TMPDIR:-/tmp}/bg-bench.XXXXXX")
	(cd "$w" && sh "$b") || rc=1
	rm -rf "$w"
done
exit $rc
