# bg-pg-load: filed results into a real PostgreSQL (a throwaway server on a
# unix socket in a temp folder); loading twice gives the same rows.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
. "$TOP/tests/t/pg-lib.inc"
is "bg-pg-up prints one export line" \
    "$(echo "$PG_UP" | sed 's/=[^ ]*/=X/g')" "export PGHOST=X PGPORT=X PGUSER=X PGDATABASE=X"
is "bg-pg-up: a server answers on the socket" "$(psql -X -At -c 'SELECT current_database()')" batchgen
is "bg-pg-up again: the same line, the same server" "$(bg-pg-up "$T/pg" 2>/dev/null)" "$PG_UP"
is "bg-pg-up: no TCP port" "$(psql -X -At -c 'SHOW listen_addresses')" ""
if [ "$(id -u)" = 0 ]; then
	is "as root: the server runs as postgres" \
	    "$(ps -o user= -p "$(head -n 1 "$PGHOST/data/postmaster.pid")")" postgres
fi

# results: 4 jobs filed (one with 2 outputs), a retried job whose later
# attempt succeeded, a failed job, a skipped one and a bad line
export BG_ROOT="$T/store"
mkresults "$BG_ROOT" 4 outputs=2 >gen.ndjson
mkresults "$BG_ROOT" 1 batch=b2 seed=500 >retry.ndjson
{
	jq -c '.status = "failed" | .attempt = 1 | del(.outputs) |
	    .error = {stage:"generate",code:"rate_limited",retryable:true,http_status:429,message:"slow down"}' retry.ndjson
	jq -c '.attempt = 2' retry.ndjson
	head -n 4 gen.ndjson
} | bg-file >results.ndjson
printf '%s\n' '{"job_id":"b2-v9-1","batch_id":"b2","variant_id":"v9","status":"failed","attempt":1,"error":{"stage":"generate","code":"blocked","retryable":false,"message":"safety"}}' \
    '{"job_id":"b2-v8-1","batch_id":"b2","variant_id":"v8","status":"skipped","error":{"stage":"generate","code":"budget","retryable":false,"message":"over budget"}}' \
    'not json' >>results.ndjson

dump() {
	psql -X -At -c "
	    SELECT 'B', xmin, batch_id, batch_name, batch_folder FROM batches ORDER BY batch_id;
	    SELECT 'J', xmin, job_id, batch_id, variant_id, variation, attempt, status, error_code,
		error_retryable, http_status, cached, price_per_image, filed_variant, filed_batch,
		record->'mine'->>'kept' FROM generation_jobs ORDER BY job_id;
	    SELECT 'I', xmin, job_id, sha256, batch_id, variant_id, object_path, variant_path,
		batch_path, mime, bytes, width, height FROM images ORDER BY job_id, sha256;"
}
bg-pg-load results.ndjson 2>load1.err; rc=$?
is "first load: exit 1 (one bad line skipped)" "$rc" 1
is "first load: says what it did" "$(cat load1.err)" "bg-pg-load: 8 record(s) loaded, 1 line(s) skipped"
dump >d1
bg-pg-load results.ndjson 2>/dev/null
dump >d2
check "second load: the same rows, not even rewritten (same xmin)" cmp -s d1 d2
[ -s d1 ] || flunk "no rows dumped"

q() { psql -X -At -c "$1"; }
is "batches" "$(q 'SELECT batch_id, batch_folder FROM batches ORDER BY 1' | tr '\n' ' ')" \
    "b1|batches/spring-studio-b1 b2|batches/spring-studio-b2 "
is "one job row per job_id" "$(q 'SELECT count(*) FROM generation_jobs')" 7
is "the retried job: its latest attempt" \
    "$(q "SELECT status, attempt, error_code IS NULL FROM generation_jobs WHERE job_id = 'b2-v1-1'")" "succeeded|2|t"
is "failed job: its error" \
    "$(q "SELECT status, error_code, error_retryable FROM generation_jobs WHERE job_id = 'b2-v9-1'")" "failed|blocked|f"
is "images: one row per output" "$(q 'SELECT count(*) FROM images')" \
    "$(grep -v '^not json' results.ndjson | jq -s '[.[] | select(.status == "succeeded") | .outputs[]] | length')"
is "images: paths and hashes are bg-file's" \
    "$(q "SELECT variant_path, batch_path, sha256, object_path FROM images ORDER BY 1" | tr '|' ' ')" \
    "$(grep -v '^not json' results.ndjson | jq -r 'select(.filed) | range(0; .outputs | length) as $i |
        "\(.filed.all[$i].variant) \(.filed.all[$i].batch) \(.outputs[$i].sha256) \(.outputs[$i].path)"' | sort)"
is "inline bytes are not loaded" "$(q "SELECT count(*) FROM generation_jobs WHERE record::text LIKE '%\"data\"%'")" 0
is "summary view" "$(q "SELECT batch_id, jobs, succeeded, failed, other FROM bg_batch_summary ORDER BY 1" | tr '\n' ' ')" \
    "b1|4|4|0|0 b2|3|1|1|1 "

# an older results file loaded later does not undo a newer attempt
head -n 1 results.ndjson >old.ndjson
bg-pg-load old.ndjson 2>/dev/null
is "older attempt loaded later: the newer one stays" \
    "$(q "SELECT status, attempt FROM generation_jobs WHERE job_id = 'b2-v1-1'")" "succeeded|2"

# batch mode: a pending record, then its result; the pending one loaded
# again does not hide the result
printf '%s\n' '{"job_id":"b3-p-1","batch_id":"b3","status":"pending","attempt":0,"usage":{"mode":"batch","provider_batch":"batches/abc"}}' >pend.ndjson
bg-pg-load pend.ndjson 2>/dev/null
is "pending: status and provider batch" \
    "$(q "SELECT status, provider_batch FROM generation_jobs WHERE job_id = 'b3-p-1'")" "pending|batches/abc"
is "pending: counted in the summary" "$(q "SELECT jobs, pending FROM bg_batch_summary WHERE batch_id = 'b3'")" "1|1"
printf '%s\n' '{"job_id":"b3-p-1","batch_id":"b3","status":"succeeded","attempt":1,"outputs":[],"usage":{"mode":"batch","provider_batch":"batches/abc"}}' >done.ndjson
bg-pg-load done.ndjson pend.ndjson 2>/dev/null
is "collected: succeeded, the pending record loaded again does not hide it" \
    "$(q "SELECT status, attempt, provider_batch FROM generation_jobs WHERE job_id = 'b3-p-1'")" "succeeded|1|batches/abc"
bg-pg-load --nope >/dev/null 2>&1; is "bad option: exit 2" "$?" 2
bg-pg-load results.ndjson 2>load3.err
is "loading again: no NOTICE lines" "$(cat load3.err)" "bg-pg-load: 8 record(s) loaded, 1 line(s) skipped"
# --help lists every column the tables and the view have
cols=$(q "SELECT table_name || '.' || column_name FROM information_schema.columns
    WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
missing=
bg-pg-load --help | tr -s ' \n' '  ' | tr -d '()' >help.txt
for tc in $cols; do
	grep -qw -- "${tc#*.}" help.txt || missing="$missing $tc"
done
is "--help names every column of every table" "$missing" ""
check "columns were listed" [ "$(echo "$cols" | wc -l)" -gt 30 ]


# review decisions: a table joined to images; strays kept and reported
grep -v '^not json' results.ndjson | jq -c 'select(.status == "succeeded") | .outputs[0] as $o
	| {job_id, variant_id, product_id, batch_id, sha256: $o.sha256,
	   decision: (if .variant_id == "v1" then "rejected" else "approved" end),
	   best: false, note: (if .variant_id == "v1" then "it'"'"'s \\ too \"dark\"\tx" else "" end),
	   decided_at: "2026-11-29T10:00:00.000Z"}' >decisions.ndjson
printf '%s\n' '{"job_id":"nope","sha256":"ab","decision":"approved","best":true,"note":"","decided_at":"2026-11-29T10:00:00Z"}' \
	'{"job_id":"x","decision":"maybe"}' >>decisions.ndjson
nd=$(grep -c sha256 decisions.ndjson)
bg-pg-load --decisions decisions.ndjson 2>dload.err; rc=$?
is "decisions: exit 1 (a stray decision, a bad line)" "$rc" 1
check "decisions: the stray one reported with file:line" grep -qx \
	"bg-pg-load: decisions.ndjson:$nd: approved decision for job nope image ab: no such image in images" dload.err
check "decisions: the bad line reported" grep -qx "bg-pg-load: decisions.ndjson:$((nd + 1)): not a decision" dload.err
is "decisions: one row per decided image, strays kept" "$(q 'SELECT count(*) FROM decisions')" "$nd"
is "decisions: joined to images" \
	"$(q "SELECT decision, count(*) FROM bg_image_decisions WHERE decision IS NOT NULL GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
	"$(head -n $((nd - 1)) decisions.ndjson | jq -r .decision | sort | uniq -c | awk '{ printf "%s|%s ", $2, $1 }')"
is "decisions: the note as written" "$(q "SELECT note FROM decisions WHERE variant_id = 'v1' LIMIT 1")" \
	"$(jq -r 'select(.variant_id == "v1") | .note' decisions.ndjson | head -1)"
q "SELECT xmin, * FROM decisions ORDER BY 2, 3" >dd1
bg-pg-load --decisions decisions.ndjson 2>/dev/null
q "SELECT xmin, * FROM decisions ORDER BY 2, 3" >dd2
check "decisions: loading again rewrites nothing" cmp -s dd1 dd2
head -n 1 decisions.ndjson | jq -c '.decision = "rejected" | .decided_at = "2000-01-01T00:00:00Z"' >older.ndjson
bg-pg-load --decisions older.ndjson 2>/dev/null
is "decisions: an older decision loaded later does not win" \
	"$(q "SELECT decision FROM decisions WHERE job_id = '$(head -n 1 decisions.ndjson | jq -r .job_id)'")" \
	"$(head -n 1 decisions.ndjson | jq -r .decision)"

# cost: a run, a failed run and a cached re-run of one batch, generated
# against the stub; the summary says what was paid across all of them
mkpng a.png 40 30 255 0 0; mkpng b.png 30 40 0 0 255
start_stub
export BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key BG_ROOT="$T/cost-store"
unset GOOGLE_API_KEY
printf '{"name":"Cost","provider":"gemini","model":"gemini-3.1-flash-image","variations":2,"prompt":"Photo of {title}","input":{},"price_per_image":0.039}\n' >cs.json
printf '%s\n' '{"variant_id":"c1","title":"one","selected":["a.png"]}' \
    '{"variant_id":"c2","title":"two [[fault:503*4]]","selected":["b.png"]}' >cc.ndjson
bg-plan -q -s cs.json --batch-id cost1 cc.ndjson >cjobs.ndjson
G="bg-generate --max-attempts 1 --backoff 0.01"
$G cjobs.ndjson | bg-file >c1.ndjson			# c1 paid, c2 failed
$G cjobs.ndjson | bg-file >c2.ndjson			# c1 cached, c2 fails again
$G cjobs.ndjson | bg-file >c3.ndjson			# c1 cached, c2 paid
is "three runs: paid, failed, cached + paid" "$(cat c1.ndjson c2.ndjson c3.ndjson | jq -c '[.variant_id,.status,.cached,.cost]' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
    ' 2 ["c1","succeeded",false,0.039]; 4 ["c1","succeeded",true,0]; 4 ["c2","failed",false,0]; 2 ["c2","succeeded",false,0.039];'
for f in c1 c2 c3; do bg-pg-load $f.ndjson 2>/dev/null; done
bg-pg-load c1.ndjson c3.ndjson 2>/dev/null	# again: nothing paid twice
want=$(cat c1.ndjson c2.ndjson c3.ndjson | jq -s 'map(.cost) | add')
is "bg_batch_summary cost = the sum of cost over all records" \
    "$(q "SELECT cost, saved, cached, succeeded FROM bg_batch_summary WHERE batch_id = 'cost1'")" "$want|0.078|2|4"
is "generation_jobs.cost: the latest record's" \
    "$(q "SELECT string_agg(cost::text, ' ' ORDER BY job_id) FROM generation_jobs WHERE batch_id = 'cost1'")" "0 0 0.039 0.039"
is "one generation_costs row per paid attempt" "$(q "SELECT count(*) FROM generation_costs WHERE batch_id = 'cost1'")" 4

# which record wins (doc/contract.md): a re-run of the plan after a
# failure (attempt 3) succeeds from attempt 1 in a file of its own; the
# later load wins, loading the older file again undoes nothing, and one
# load of both files (in the order named) agrees with bg-report
printf '%s\n' '{"variant_id":"r1","title":"flaky [[fault:503*3]]","selected":["a.png"]}' >rc.ndjson
bg-plan -q -s cs.json --batch-id rerun rc.ndjson | jq -c 'select(.variation == 1)' >rjobs.ndjson
bg-generate --max-attempts 3 --backoff 0.01 rjobs.ndjson 2>/dev/null | bg-file >r1.ndjson
bg-generate --max-attempts 3 --backoff 0.01 rjobs.ndjson 2>/dev/null | bg-file >r2.ndjson
is "re-run: failed at attempt 3, then succeeded at attempt 1" \
    "$(cat r1.ndjson r2.ndjson | jq -r '"\(.status) \(.attempt)"' | paste -sd,)" "failed 3,succeeded 1"
rq() { q "SELECT status, attempt FROM generation_jobs WHERE batch_id = 'rerun'"; }
bg-pg-load r1.ndjson 2>/dev/null
is "re-run: the first load holds the failure" "$(rq)" "failed|3"
bg-pg-load r2.ndjson 2>/dev/null
is "re-run: the later load's success wins over a higher attempt" "$(rq)" "succeeded|1"
bg-pg-load r1.ndjson 2>/dev/null
is "re-run: the older file loaded again undoes nothing" "$(rq)" "succeeded|1"
is "re-run: the summary counts it succeeded" \
    "$(q "SELECT succeeded, failed FROM bg_batch_summary WHERE batch_id = 'rerun'")" "1|0"
q "DELETE FROM generation_jobs WHERE batch_id = 'rerun'; DELETE FROM loaded_records WHERE job_id LIKE 'rerun-%'" >/dev/null
bg-pg-load r1.ndjson r2.ndjson 2>/dev/null
is "re-run: one load of both files, as bg-report reads them" \
    "$(rq)|$(bg-report --json r1.ndjson r2.ndjson | jq -r '[.succeeded,.failed] | join("|")')" "succeeded|1|1|0"

# --stop keeps the data, starting again brings it back
njobs=$(q 'SELECT count(*) FROM generation_jobs')
bg-pg-up --stop "$T/pg" 2>/dev/null
check "--stop: the server is gone" sh -c '! psql -X -At -c "SELECT 1" >/dev/null 2>&1'
eval "$(bg-pg-up "$T/pg" 2>/dev/null)"
is "started again: the data is still there" "$(q 'SELECT count(*) FROM generation_jobs')" "$njobs"
c=$(cd "$T/pg/cluster" && pwd -P)
bg-pg-up --remove "$T/pg" 2>/dev/null
check "--remove: the folder and the cluster are gone" sh -c "[ ! -e '$T/pg' ] && [ ! -e '$c' ]"
bg-pg-up --stop "$T/nothing" 2>/dev/null; is "--stop where there is no cluster: exit 3" "$?" 3
bg-pg-up -p x 2>/dev/null; is "bad port: exit 2" "$?" 2
done_testing
