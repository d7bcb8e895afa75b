# bg-pg-load: filed results into a real PostgreSQL (a throwaway server on a
# unix socket in a temp folder); loading twice gives the same rows.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
. "$TOP/tests/t/pg-lib.inc"

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
bg-pg-load --nope >/dev/null 2>&1; is "bad option: exit 2" "$?" 2

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
done_testing
