#!/bin/sh
# scripts/demo.sh: run the example batch end to end (what `make demo` does).
# Offline with the local provider by default; PROVIDER=gemini (with
# GEMINI_API_KEY set) runs the same batch against the real API.  Each
# provider has its own folder, demo/<provider>/ (DEMO_DIR moves demo/), and
# the store demo/bg-data is shared.  Running it again resumes that folder
# (nothing is paid twice) unless no job of it ever succeeded.  PG=1 also
# loads the batch into a private PostgreSQL cluster (scripts/bg-pg-up
# demo/pg) and prints the bg_batch_summary view.
# Exit: 0 when every job succeeded, 1 otherwise (a run where no job
# succeeded says so on stderr, with the most common error), 2 when a check
# or the settings stopped it before anything was generated, 3 when a step
# could not run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 3
# BUILD: the build folder (tests/run.sh sets it; make demo uses build/)
export PATH="${BUILD:-$top/build}/bin:$top/scripts:$PATH"
provider=${PROVIDER:-local}
settings=examples/settings.json
if [ "$provider" != local ]; then
	[ -f "examples/settings-$provider.json" ] && settings=examples/settings-$provider.json
fi
case $provider in
gemini) key=${GEMINI_API_KEY:-${GOOGLE_API_KEY:-}} var=GEMINI_API_KEY;;
openai) key=${OPENAI_API_KEY:-} var=OPENAI_API_KEY;;
replicate) key=${REPLICATE_API_TOKEN:-} var=REPLICATE_API_TOKEN;;
*) key=none var=;;
esac
if [ -z "$key" ]; then
	echo "demo: PROVIDER=$provider needs $var: set it (README, Environment) and run again; nothing was sent" >&2
	exit 1
fi
demo=${DEMO_DIR:-demo}
dir=$demo/$provider
# a folder where nothing succeeded holds nothing paid for: start afresh
# (a key set since the last run gets its chance)
if [ -s "$dir/jobs.ndjson" ] && ! grep -q '"status":"succeeded"' "$dir/results.ndjson" 2>/dev/null; then
	rm -rf "$dir"
fi
[ -s "$dir/jobs.ndjson" ] && echo "demo: resuming $dir (rm -rf $dir for a new batch)"
mkdir -p "$dir" || exit 3
echo "demo: running the example batch with the $provider provider in $dir (store: $demo/bg-data)"
bg-batch -c examples/catalog.ndjson -s "$settings" -d "$dir" \
	--root "$demo/bg-data" --provider "$provider" -j 8
rc=$?
# a check that failed, or a stage: nothing to show
if [ $rc -eq 2 ]; then
	echo "demo: stopped (exit 2): nothing was generated; the reason is above" >&2
	exit 2
elif [ $rc -ge 3 ]; then
	echo "demo: stopped (exit $rc): a step failed; the reason is above" >&2
	exit $rc
fi
[ -s "$dir/jobs.ndjson" ] || { echo "demo: no job was planned; the reason is above" >&2; exit 3; }
echo
bg-report --json --plan "$dir/jobs.ndjson" "$dir/results.ndjson" >"$dir/report.json"
none=$(jq '.total > 0 and .succeeded == 0' "$dir/report.json") || none=
if [ "$none" != true ] && [ "$none" != false ]; then
	echo "demo: no report in $dir/report.json; the reason is above" >&2
	exit 3
fi
if [ "$none" = true ]; then
	{
	echo "demo: no job succeeded with the $provider provider: nothing was generated"
	jq -r '.errors[0] // empty | "demo: most common error: \(.count) x \(.code): \(.example)"' "$dir/report.json"
	[ -s "$dir/report.html" ] && echo "demo: the failures are listed in $dir/report.html"
	} >&2
	exit 1
fi
echo "demo: HTML report: $(cd "$dir" && pwd)/report.html"
echo "demo: images per variant: $demo/bg-data/variants/, per batch: $demo/bg-data/batches/"
if [ "${PG:-}" = 1 ]; then
	echo
	up=$(bg-pg-up "$demo/pg") || exit 3
	eval "$up"
	bg-pg-load "$dir/results.ndjson" || exit 3
	psql -X -c 'SELECT * FROM bg_batch_summary ORDER BY batch_id' || exit 3
	echo "demo: PostgreSQL: eval \"\$(scripts/bg-pg-up $demo/pg)\"; psql    (stop: scripts/bg-pg-up --stop $demo/pg)"
fi
exit $rc
