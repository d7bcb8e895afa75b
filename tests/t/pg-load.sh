# bg-pg-load: filed results into a real PostgreSQL (a throwaway server on a
# unix socket in a temp folder); loading twice gives the same rows.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || ! command -v psql >/dev/null; then
	flunk "PostgreSQL server binaries missing (make deps installs postgresql)"
	done_testing
fi

# the server runs as postgres when we are root (initdb refuses root)
D=$(mktemp -d /tmp/bg-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
	chown postgres "$D"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi
trap 'as_pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1; rm -rf "$D"' EXIT
as_pg "$PGBIN/initdb" -D "$D/data" -A trust -U postgres -E UTF8 --no-sync >"$T/initdb.log" 2>&1 ||
    { flunk "initdb"; cat "$T/initdb.log"; done_testing; }
as_pg "$PGBIN/pg_ctl" -D "$D/data" -l "$D/log" -w \
    -o "-k $D -c listen_addresses= -c fsync=off" start >/dev/null 2>&1 ||
    { flunk "pg_ctl start"; cat "$D/log"; done_testing; }
export PGHOST="$D" PGUSER=postgres PGDATABASE=postgres

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
done_testing
