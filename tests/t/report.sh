# bg-report: aggregation, text and JSON output, exit status.
. "$TOP/tests/lib.sh"

job() {	# job ID VARIANT [extra json fields]
	printf '{"batch_id":"b1","batch_name":"Spring studio","job_id":"%s","variation":1,"attempt":0,"variant_id":"%s","product_id":"p1","title":"Shirt","price_per_image":0.25,"status":"planned"%s}\n' "$1" "$2" "${3:-}"
}
ok_rec() {	# ok_rec ID VARIANT ELAPSED [cached]
	printf '{"batch_id":"b1","batch_name":"Spring studio","job_id":"%s","variant_id":"%s","price_per_image":0.25,"status":"succeeded","attempt":1,"outputs":[{"path":"objects/aa/%s.png"}],"usage":{"elapsed_ms":%s},"cached":%s}\n' "$1" "$2" "$1" "$3" "${4:-false}"
}
fail_rec() {	# fail_rec ID VARIANT CODE RETRYABLE MESSAGE [status]
	printf '{"batch_id":"b1","job_id":"%s","variant_id":"%s","price_per_image":0.25,"status":"%s","attempt":5,"error":{"stage":"generate","code":"%s","retryable":%s,"message":"%s"},"usage":{"elapsed_ms":100}}\n' "$1" "$2" "${6:-failed}" "$3" "$4" "$5"
}

# --- latest attempt wins across retries -----------------------------------
{ fail_rec j1 v1 rate_limited true "HTTP 429"; ok_rec j1 v1 1000; } >retry.ndjson
bg-report --json retry.ndjson >out.json; rc=$?
is "a retry that succeeded replaces the failure" \
	"$(jq -c '[.total,.succeeded,.failed,(.errors|length)]' out.json)" "[1,1,0,0]"
is "exit 0 when every job succeeded" "$rc" 0
{ ok_rec j1 v1 1000; fail_rec j1 v1 server_error true "HTTP 503"; } >later.ndjson
bg-report --json later.ndjson >out.json; rc=$?
is "the later line wins" "$(jq -c '[.succeeded,.failed,.errors[0].code]' out.json)" '[0,1,"server_error"]'
is "exit 1 when a job failed" "$rc" 1
# files are read in the order named, as cat(1) joins them: the later
# final record wins whatever its attempt; a record read again keeps the
# place it was first read at (doc/contract.md "Which record of a job wins")
printf '{"job_id":"j1","status":"succeeded","attempt":6,"outputs":[]}\n' >a6.ndjson
printf '{"job_id":"j1","status":"failed","attempt":5,"error":{"code":"timeout"}}\n' >f5.ndjson
is "files: the later file wins, even with a lower attempt" \
	"$(bg-report --json a6.ndjson f5.ndjson | jq -c '[.succeeded,.failed]')" "[0,1]"
is "files: named the other way round, the other one wins" \
	"$(bg-report --json f5.ndjson a6.ndjson | jq -c '[.succeeded,.failed]')" "[1,0]"
is "files: a file read again does not undo a later one" \
	"$(bg-report --json f5.ndjson a6.ndjson f5.ndjson | jq -c '[.succeeded,.failed]')" "[1,0]"
cat a6.ndjson f5.ndjson >one.ndjson
is "one file: the later line wins" \
	"$(bg-report --json one.ndjson | jq -c '[.succeeded,.failed]')" "[0,1]"
# a planned record read after the result does not hide it
{ ok_rec j1 v1 1000; job j1 v1; } >replan.ndjson
is "a planned record does not hide a result" \
	"$(bg-report --json replan.ndjson | jq -c '[.succeeded,.pending]')" "[1,0]"

# --- pending from --plan; every status; cost; latency ---------------------
{ job j1 v1; job j2 v1; job j3 v2; job j4 v3; job j5 v4; job j6 v5; } >jobs.ndjson
{
	ok_rec j1 v1 1000
	ok_rec j2 v1 3000 true
	fail_rec j3 v2 blocked false "blocked by the safety filter"
	fail_rec j4 v3 budget false "over budget" skipped
	fail_rec j5 v4 canceled false "interrupted" canceled
} >results.ndjson
bg-report --json --plan jobs.ndjson results.ndjson >out.json; rc=$?
is "counts per status with the plan" \
	"$(jq -c '[.total,.succeeded,.failed,.skipped,.canceled,.pending,.cached]' out.json)" \
	"[6,2,1,1,1,1,1]"
is "exit 1 while a job is pending" "$rc" 1
is "cost is what was paid, saved what the cached results would have cost" "$(jq -c '[.cost,.saved]' out.json)" '[0.25,0.25]'
is "latency over finished uncached jobs" "$(jq -c '.latency_ms' out.json)" \
	'{"p50":100,"p90":1000,"max":1000}'
is "complete is false while jobs are pending" "$(jq .complete out.json)" false
is "one batch with its name" "$(jq -c '[.batches[]|[.batch_id,.batch_name,.total]]' out.json)" \
	'[["b1","Spring studio",6]]'
is "errors grouped by code" "$(jq -c '[.errors[]|[.code,.count]]' out.json)" \
	'[["blocked",1],["budget",1],["canceled",1]]'
is "error example is the message" "$(jq -r '.errors[0].example' out.json)" \
	"blocked by the safety filter"
bg-report --plan jobs.ndjson --exit-zero results.ndjson >/dev/null
is "--exit-zero exits 0 anyway" "$?" 0

# errors: counts and one example per code, sorted by count
{ fail_rec a1 v1 rate_limited true "first 429"; fail_rec a2 v2 rate_limited true "second 429"
  fail_rec a3 v3 timeout true "timed out"; } >errs.ndjson
is "error grouping: count and the first example" \
	"$(bg-report --json errs.ndjson | jq -c '[.errors[]|[.code,.count,.example,.retryable]]')" \
	'[["rate_limited",2,"first 429",true],["timeout",1,"timed out",true]]'

# --- malformed lines and failures before planning -------------------------
{ ok_rec j1 v1 10; echo '{"job_id": broken'; printf 'x\0y\n'
  echo '{"variant_id":"v404","status":"failed","error":{"stage":"candidates","code":"not_found","message":"unknown variant"}}'
  echo '{"variant_id":"v404","status":"failed","error":{"stage":"candidates","code":"not_found","message":"unknown variant"}}'
  echo '{"variant_id":"v5","status":"candidate"}'
  ok_rec j2 v1 20; } >bad.ndjson
bg-report --json bad.ndjson >out.json 2>err; rc=$?
is "bad lines count as failed, reading goes on" \
	"$(jq -c '[.total,.succeeded,.failed,([.errors[]|select(.code=="bad_json")][0].count)]' out.json)" \
	"[5,2,3,2]"
is "a variant failed before planning counts once" \
	"$(jq -c '[.errors[]|select(.code=="not_found")|.count]' out.json)" "[1]"
check "bad line reported with file and line" grep -q '^bg-report: bad.ndjson:2: invalid JSON' err
check "NUL line reported" grep -q '^bg-report: bad.ndjson:3: NUL byte in line' err
is "exit 1 with bad lines" "$rc" 1
# a million lines that are no records: say so, and do not flood stderr
# (100,000 under the sanitizers: the same code, where a million bad lines
# took 15 s of CPU, against 4 s without)
if [ "${BG_TEST_SAN:-0}" = 1 ]; then n=100000; else n=1000000; fi
yes x | head -n $n >xs.ndjson
bg-report xs.ndjson >out 2>err
is "$n bad lines: 10 shown, then one summary line" \
	"$(wc -l <err | tr -d ' ') $(tail -n 1 err)" "11 bg-report: ... and $((n - 10)) more bad lines"
yes '{}' | head -n 1000000 | bg-report >out 2>err
is "1,000,000 {} lines: no line was a batchgen record" "$(tail -n 1 out)" \
	"no jobs: none of the 1000000 lines read is a batchgen record (job_id, status)"
is "{} lines: nothing on stderr" "$(cat err)" ""
: | bg-report >out 2>/dev/null
is "no input: nothing was read" "$(tail -n 1 out)" "no jobs: nothing was read"
printf 'x\n' | bg-plan -q --settings "$TOP/examples/settings.json" 2>err >/dev/null
is "other programs: a few bad lines are each warned, no summary" "$(cat err)" \
	"bg-plan: <stdin>:1: invalid JSON near column 1"
yes x | head -n 25 | bg-generate 2>err >/dev/null
is "other programs: the summary comes with nd_finish" "$(tail -n 1 err)" \
	"bg-generate: ... and 15 more bad lines"
is "failures before planning have their own batch" \
	"$(jq -c '[.batches[]|.batch_id]' out.json)" '["b1",null]'

: >empty.ndjson
# failures bg-plan wrote into the plan, passed on into the results: once
inv='{"variant_id":"v7","status":"failed","error":{"stage":"plan","code":"invalid_images","message":"no image"}}'
badj='{"status":"failed","error":{"stage":"plan","code":"bad_json","message":"c.ndjson:4: invalid JSON","line":4,"file":"c.ndjson","raw":"{"}}'
{ job j1 v1; echo "$inv"; echo "$badj"; } >plan2.ndjson
{ ok_rec j1 v1 10; echo "$inv"; echo "$badj"; } >res2.ndjson
is "failures in the plan and the results count once" \
	"$(bg-report --json --plan plan2.ndjson res2.ndjson | jq -c '[.total,.succeeded,.failed,.pending]')" "[3,1,2,0]"
is "failures in the plan count before any result" \
	"$(bg-report --json --plan plan2.ndjson empty.ndjson | jq -c '[.total,.failed,.pending]')" "[3,2,1]"

# --- text ------------------------------------------------------------------
bg-report --plan jobs.ndjson results.ndjson >out.txt
check "text: counts line" grep -q '^jobs  *6  succeeded 2  failed 1  skipped 1  canceled 1  pending 1  (cached 1)$' out.txt
check "text: cost paid and saved" grep -q '^cost  *paid 0.25  (2 images)  saved 0.25 (1 cached)$' out.txt
check "text: error with example" grep -q '^errors  *blocked  *1  .*blocked by the safety filter$' out.txt
check "text: the retry command names the results file" \
	grep -q "^next  *bg-retry results.ndjson | bg-generate | bg-file >> results.ndjson\$" out.txt
check "text: non-retryable failures: bg-retry --all-failed" \
	grep -q "^  *bg-retry --all-failed results.ndjson | bg-generate | bg-file >> results.ndjson    # after fixing the inputs\$" out.txt
BG_ROOT="$T/my store" bg-report --plan jobs.ndjson results.ndjson >root.txt
check "text: the commands carry BG_ROOT, quoted" \
	grep -q "^next  *bg-retry results.ndjson | bg-generate --root '$T/my store' | bg-file --root '$T/my store' >> results.ndjson\$" root.txt
jq -c '.store="/srv/bg data"' results.ndjson >stored.ndjson
bg-report --plan jobs.ndjson stored.ndjson >stored.txt
check "text: or the store the records name" \
	grep -q "bg-report --pending --plan jobs.ndjson stored.ndjson | bg-generate --root '/srv/bg data' | bg-file --root '/srv/bg data' >> stored.ndjson    # if it stopped" stored.txt
check "text: the follow command for pending jobs" \
	grep -q 'bg-report --follow --plan jobs.ndjson results.ndjson' out.txt
bg-report retry.ndjson >ok.txt
check "text: no next step when all succeeded" sh -c '! grep -q "^next" ok.txt'
check "text: progress bar at 100%" grep -q '^progress  *\[#*\] 100%$' ok.txt
printf '{"job_id":"j9","title":"\033[31mred\033]0;x\007","status":"failed","error":{"code":"x\033[2J","message":"m\033[1m"}}\n' >esc.ndjson
bg-report --by variant esc.ndjson >esc.txt
check "text: control characters from records are neutralised" sh -c '! grep -q "$(printf "\033")" esc.txt'

# --pending: the plan's jobs without a final record, for resuming
is "--pending prints the unfinished jobs of the plan" \
	"$(bg-report --pending --plan jobs.ndjson results.ndjson | jq -r .job_id)" "j6"
is "--pending keeps the plan's records whole" \
	"$(bg-report --pending --plan jobs.ndjson results.ndjson | jq -c '[.status,.price_per_image,.title]')" '["planned",0.25,"Shirt"]'
bg-report --pending results.ndjson >/dev/null 2>&1
is "--pending without --plan: exit 2" "$?" 2
check "text: the resume command for a stopped batch" \
	grep -q 'bg-report --pending --plan jobs.ndjson results.ndjson | bg-generate | bg-file >> results.ndjson' out.txt

# --by tables
bg-report --by variant --plan jobs.ndjson results.ndjson >by.txt
check "--by variant: a row per variant" sh -c 'test $(grep -cE "^v[1-5] " by.txt) -eq 5'
check "--by variant: status of a variant" grep -qE '^v2 +p1 +failed +1 +0 +1 +0 +Shirt' by.txt
is "--by variant --json rows" \
	"$(bg-report --json --by variant --plan jobs.ndjson results.ndjson | jq -c '[.variants[]|[.variant_id,.status,.total]]')" \
	'[["v1","succeeded",2],["v2","failed",1],["v3","skipped",1],["v4","canceled",1],["v5","pending",1]]'
is "--by product --json rows" \
	"$(bg-report --json --by product --plan jobs.ndjson results.ndjson | jq -c '[.products[]|[.product_id,.variants,.total,.succeeded]]')" \
	'[["p1",5,6,2]]'
bg-report --by error errs.ndjson >byerr.txt
check "--by error: a row per code" grep -qE '^rate_limited +2 +yes +first 429$' byerr.txt

# --- stdin, empty input, usage --------------------------------------------
is "reads stdin" "$(bg-report --json <retry.ndjson | jq .succeeded)" 1
: >empty.ndjson
bg-report empty.ndjson >out.txt; rc=$?
is "no jobs: exit 1 (nothing to vouch for)" "$rc" 1
check "no jobs: said so" grep -q 'no jobs' out.txt
bg-report --by colour retry.ndjson 2>err >/dev/null
is "bad --by: exit 2" "$?" 2
bg-report --bogus 2>/dev/null; is "unknown option: exit 2" "$?" 2
bg-report nosuch.ndjson 2>err >/dev/null; rc=$?
is "missing input: exit 2" "$rc" 2
check "missing input: named" grep -q '^bg-report: nosuch.ndjson: No such file' err
bg-report --plan nosuch.ndjson retry.ndjson 2>/dev/null >/dev/null
is "missing plan: exit 2" "$?" 2
bg-report --help >out.txt; rc=$?
is "--help exits 0" "$rc" 0
check "--help prints usage on stdout" grep -q '^usage: bg-report' out.txt
check "--version" sh -c 'bg-report --version | grep -q "^bg-report [0-9]"'
# a closed stdout is a quiet stop, not a crash
bg-report --json results.ndjson | true
is "closed stdout: no crash" "$?" 0

# numeric ids are accepted as strings
echo '{"job_id":17,"variant_id":5,"status":"succeeded","outputs":[]}' >num.ndjson
is "numeric job and variant ids" "$(bg-report --json --by variant num.ndjson | jq -c '[.succeeded,.variants[0].variant_id]')" '[1,"5"]'
# --- a re-run of the plan after a failure: generated against the stub ----
# v2 fails 3 attempts (attempt 3), then the whole plan again succeeds from
# attempt 1 in its own file: the newer success wins in bg-report (files
# and stdin), its HTML page and bg-retry alike
start_stub
export GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB BG_ROOT="$T/wstore"
unset GOOGLE_API_KEY
mkpng w.png 32 32 200 10 10
printf '%s\n' '{"variant_id":"w1","title":"steady","selected":["w.png"]}' \
    '{"variant_id":"w2","title":"flaky [[fault:503*3]]","selected":["w.png"]}' >wc.ndjson
printf '{"name":"W","provider":"gemini","model":"gemini-3.1-flash-image","variations":1,"prompt":"Photo of {title}","input":{}}\n' >ws.json
bg-plan -q -s ws.json --batch-id w wc.ndjson >wjobs.ndjson
G="bg-generate --max-attempts 3 --backoff 0.01"
$G wjobs.ndjson 2>/dev/null | bg-file >wres.ndjson
$G wjobs.ndjson 2>/dev/null | bg-file >wretry.ndjson
is "first run: w2 failed at attempt 3; the re-run: succeeded at attempt 1" \
    "$(cat wres.ndjson wretry.ndjson | jq -r 'select(.variant_id == "w2") | "\(.status) \(.attempt)"' | paste -sd,)" \
    "failed 3,succeeded 1"
bg-report --json wres.ndjson wretry.ndjson >w.json; rc=$?
is "two files: the re-run's success wins over the older failure" \
    "$(jq -c '[.succeeded,.failed]' w.json)" "[2,0]"
is "two files: exit 0" "$rc" 0
is "stdin (cat of both): the same" \
    "$(cat wres.ndjson wretry.ndjson | bg-report --json | jq -c '[.succeeded,.failed]')" "[2,0]"
is "the first file read again does not undo the re-run" \
    "$(bg-report --json wres.ndjson wretry.ndjson wres.ndjson | jq -c '[.succeeded,.failed]')" "[2,0]"
bg-report --html w.html wres.ndjson wretry.ndjson >/dev/null
is "HTML page: both cards succeeded" \
    "$(grep -o 'data-status="[a-z]*"' w.html | sort | uniq -c | tr -s ' ' | paste -sd,)" \
    ' 2 data-status="succeeded"'
is "bg-retry agrees: nothing to retry" "$(bg-retry -n wres.ndjson wretry.ndjson 2>/dev/null)" 0
is "bg-retry: the first file read again does not undo the re-run" \
    "$(bg-retry -n wres.ndjson wretry.ndjson wres.ndjson 2>/dev/null)" 0
is "bg-retry: the failure read last (not again) is retried" \
    "$(bg-retry -n wretry.ndjson wres.ndjson 2>/dev/null)" 1
jq -c 'select(.variant_id == "w2") | .status = "pending"' wretry.ndjson >wpend.ndjson
is "bg-retry: a pending record does not hide the failure" \
    "$(bg-retry -n wres.ndjson wpend.ndjson 2>/dev/null)" 1
done_testing
