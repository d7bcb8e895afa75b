# Every example runs against the loopback stub: examples/Makefile (and its
# resume), retry.sh, fanout.sh, ci.yml's steps; bg-batch resumes after
# SIGINT without a duplicate request.
. "$TOP/tests/lib.sh"
start_stub --latency-ms 30
export GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB BG_ROOT=$T/bg-data
ln -s "$TOP/examples" examples
nreq() { cat "$T/stub.log" 2>/dev/null | grep -c 'generateContent'; }

for f in "$TOP"/examples/*; do
	case $f in *.png|*/images|*.ndjson) continue;; esac
	case $(head -c 300 "$f") in
	"# "*|"#!/bin/sh
# "*|'{"description":'*) pass "$(basename "$f") opens with a description";;
	*) flunk "$(basename "$f") does not open with a one-line description";;
	esac
done

# examples/Makefile: file targets, then resume after an interruption
make -s -f examples/Makefile SETTINGS=examples/settings-gemini.json OUT=mk >mk.out 2>mk.err
rc=$?
is "Makefile batch: make succeeds (the report gate passes)" "$rc" 0
is "Makefile batch: 60 results" "$(jq -r .status mk/results.ndjson | sort | uniq -c | tr -s ' ')" " 60 succeeded"
check "Makefile batch: report.html written" [ -s mk/report.html ]
n1=$(nreq)
is "Makefile batch: one request per job" "$n1" 60
# an interruption while generating: the results target is gone, make again
rm -f mk/results.ndjson mk/report.html
make -s -f examples/Makefile SETTINGS=examples/settings-gemini.json OUT=mk >mk.out 2>mk.err
is "Makefile resume: make succeeds again" "$?" 0
is "Makefile resume: no request sent again" "$(nreq)" "$n1"
is "Makefile resume: results came from the cache" "$(jq -r .cached mk/results.ndjson | sort -u)" true

# retry.sh: the first attempts fail for a retryable reason
sed 's/"prompt":"/"prompt":"[[fault:503*2]] /' examples/settings-gemini.json >s-flaky.json
head -3 examples/catalog.ndjson >cat3.ndjson
bg-candidates --catalog cat3.ndjson --all </dev/null | bg-plan -q --settings s-flaky.json >jobs.ndjson
bg-generate --max-attempts 1 <jobs.ndjson | bg-file >results.ndjson
is "retry.sh setup: 6 retryable failures" "$(jq -r 'select(.error.retryable) | .error.code' results.ndjson | sort | uniq -c | tr -s ' ')" " 6 server_error"
sh examples/retry.sh results.ndjson jobs.ndjson >retry.out 2>retry.err
is "retry.sh: the report passes" "$?" 0
is "retry.sh: every job succeeded in the end" "$(bg-report --json --plan jobs.ndjson results.ndjson | jq -c '[.succeeded,.failed]')" "[6,0]"

# fanout.sh: four processes, each job once (--fresh: the batch above made
# the same requests, which the cache would answer)
rm -f results.ndjson; before=$(nreq)
bg-candidates --catalog examples/catalog.ndjson --all </dev/null \
	| bg-plan -q --fresh --settings examples/settings-gemini.json --name fan >fjobs.ndjson
sh examples/fanout.sh fjobs.ndjson 4 8 >fan.out 2>fan.err
is "fanout.sh: the report passes" "$?" 0
is "fanout.sh: 60 jobs, once each" "$(jq -r .job_id results.ndjson | sort -u | wc -l | tr -d ' ')/$(wc -l <results.ndjson | tr -d ' ')" "60/60"
is "fanout.sh: one request per job" "$(($(nreq) - before))" 60

# ci.yml: run its batch and gate steps as written
yq -r '.jobs.batch.steps[] | select(.name == "batch" or .name == "gate") | .run' examples/ci.yml >ci-steps.sh
check "ci.yml: batch and gate steps found" [ "$(grep -c . ci-steps.sh)" -eq 2 ]
CATALOG=examples/catalog.ndjson SETTINGS=examples/settings-gemini.json bash -e ci-steps.sh >ci.out 2>ci.err
is "ci.yml: the gate passes when the batch succeeded" "$?" 0
sed 's/"prompt":"/"prompt":"[[fault:400]] /' examples/settings-gemini.json >s-bad.json
rm -rf batch
CATALOG=cat3.ndjson SETTINGS=s-bad.json bash -e ci-steps.sh >ci.out 2>ci.err
is "ci.yml: the gate fails the job when jobs failed" "$?" 1

# bg-batch: SIGINT in the middle, then the same command finishes the batch
# with no request sent twice
export BG_ROOT=$T/sigint-store
kill "$STUB_PID"; wait "$STUB_PID" 2>/dev/null
rm -f "$T/stub.log"
start_stub --latency-ms 400
export BG_GEMINI_BASE_URL=$STUB
setsid bg-batch -c examples/catalog.ndjson -s examples/settings-gemini.json -d sig -j 4 >sig1.out 2>sig1.err &
pid=$!
i=0; while [ "$(nreq)" -lt 8 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
/bin/kill -s INT -- "-$pid"
wait "$pid"; rc=$?
check "bg-batch interrupted: stopped early (exit $rc)" [ "$rc" -ne 0 ]
done1=$(jq -r 'select(.status=="succeeded") | .job_id' sig/results.ndjson 2>/dev/null | sort -u | wc -l)
check "bg-batch interrupted: part of the batch done ($done1 of 60)" [ "$done1" -lt 60 ]
bg-batch -c examples/catalog.ndjson -s examples/settings-gemini.json -d sig -j 4 >sig2.out 2>sig2.err
is "bg-batch re-run: finishes the batch" "$?" 0
is "bg-batch re-run: every job succeeded" "$(bg-report --json --plan sig/jobs.ndjson sig/results.ndjson | jq -c '[.succeeded,.failed,.pending]')" "[60,0,0]"
is "bg-batch re-run: 60 requests in all, none twice" "$(nreq)" 60
done_testing
