#!/bin/sh
# scripts/demo.sh: run the example batch end to end (what `make demo` does).
# Offline with the local provider by default; PROVIDER=gemini (with
# GEMINI_API_KEY set) runs the same batch against the real API.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 3
export PATH="$top/build/bin:$top/scripts:$PATH"
provider=${PROVIDER:-local}
settings=examples/settings.json
if [ "$provider" != local ]; then
	[ -f "examples/settings-$provider.json" ] && settings=examples/settings-$provider.json
fi
dir=demo
rm -rf "$dir/batch"
mkdir -p "$dir"
echo "demo: running the example batch with the $provider provider (store: $dir/bg-data)"
bg-batch -c examples/catalog.ndjson -s "$settings" -d "$dir/batch" \
	--root "$dir/bg-data" --provider "$provider" -j 8
rc=$?
# a check that failed, or a stage: nothing to show
[ $rc -ge 2 ] && { echo "demo: stopped (exit $rc)"; exit $rc; }
echo
echo "demo: HTML report: $top/$dir/batch/report.html"
echo "demo: images per variant: $dir/bg-data/variants/, per batch: $dir/bg-data/batches/"
exit $rc
