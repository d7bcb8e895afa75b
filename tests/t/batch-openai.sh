# bg-generate --mode batch with openai against the loopback stub's Batch
# API: generations and edits in one run make one provider batch per
# endpoint; references go up once as files and edits name them by
# file_id; output and error files joined by custom_id; moderation_blocked
# is "blocked"; an expired batch keeps what finished.
. "$TOP/tests/lib.sh"
mkdir refs
mkpng refs/a.png 16 16 255 0 0; mkpng refs/b.png 16 16 0 255 0
start_stub
export BG_ROOT=$T/store BG_OPENAI_BASE_URL=$STUB OPENAI_API_KEY=sk-test-SECRET-9
ctl() { curl -s -X POST "$STUB/_stub/batch" -d "$1" >/dev/null; }
ops() { jq -r "select(.batch_op==\"$1\") | .seq" "$T/stub.log" | wc -l | tr -d ' '; }
job() {	# job ID PROMPT IMAGES-JSON
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"provider":"openai","model":"gpt-image-1.5","prompt":"%s","input":{"product_images":%s,"aspect_ratio":"1:1","quality":"low"},"price_per_image":0.04,"batch_price_per_image":0.015,"status":"planned","attempt":0}\n' "$1" "$2" "$3"
}
G="bg-generate --mode batch --poll 0.05"
{
	for i in 1 2 3 4; do job g$i "a poster $i" '[]'; done
	for i in 1 2 3 4 5 6; do job e$i "a model wearing it $i" '["refs/a.png","refs/b.png"]'; done
	job eblk 'blocked one [[fault:blocked]]' '["refs/a.png"]'
} >jobs
$G jobs >out 2>err; rc=$?
is "exit 0" "$rc" 0
is "one record per job" "$(wc -l <out | tr -d ' ')" 11
is "one provider batch per endpoint" "$(jq -r 'select(.batch_op=="create") | .fields.endpoint' "$T/stub.log" | sort | tr '\n' ' ')" \
	"/v1/images/edits /v1/images/generations "
is "two references and two request files uploaded" "$(jq -r 'select(.batch_op=="upload") | .fields.purpose' "$T/stub.log" | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 2 batch, 2 vision,"
is "the references' bytes" "$(jq -r 'select(.batch_op=="upload" and .fields.purpose=="vision") | .sha256' "$T/stub.log" | sort | tr '\n' ' ')" \
	"$(sha256sum refs/*.png | cut -d' ' -f1 | sort | tr '\n' ' ')"
is "statuses" "$(jq -r '[.status,.error.code // "-"] | join(" ")' out | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 1 failed blocked, 10 succeeded -,"
is "batch price from the job" "$(jq -r 'select(.job_id=="g1") | .cost' out)" 0.015
is "edits and generations in different provider batches" "$(jq -r 'select(.status=="succeeded") | .usage.provider_batch' out | sort -u | wc -l | tr -d ' ')" 2
is "usage carries the provider's token counts" "$(jq -r 'select(.job_id=="e1") | [.usage.mode, .usage.total_tokens > 0] | join(" ")' out)" "batch true"
check "the key never reaches records or stderr" sh -c "! grep -q SECRET out err"

# the same jobs again: answered from the store
n=$(wc -l <"$T/stub.log")
$G jobs >out2 2>/dev/null
is "re-run: no request" "$(wc -l <"$T/stub.log")" "$n"
is "re-run: all cached" "$(jq -r .cached out2 | sort -u)" true

# --batch-size splits
for i in 1 2 3 4 5; do job s$i "split $i" '[]'; done >sjobs
c=$(ops create)
$G --batch-size 2 sjobs >sout 2>/dev/null
is "--batch-size 2: three provider batches for 5 jobs" "$(($(ops create) - c)) $(jq -r .status sout | sort -u)" "3 succeeded"

# expiry: output and error files; unfinished lines are batch_expired
for i in 1 2 3 4; do job x$i "expiring $i" '[]'; done >xjobs
ctl '{"polls":0,"end":"expire","fraction":0.5}'
$G xjobs >xout 2>/dev/null; rc=$?
is "expired: exit 0" "$rc" 0
is "expired: partial results" "$(jq -r '[.status,.error.code // "-",(.error.retryable // "-")] | join(" ")' xout | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 2 failed expired true, 2 succeeded - -,"
ctl '{"end":"succeed"}'

# kill -9 between the provider's create and saving its id: the stub makes
# the batch and holds the answer 30 s.  The same command finds it in
# GET /v1/batches by its metadata (two per page, newer batches first:
# paged with after=) and collects it: no second batch is made
made() { curl -s "$STUB/_stub/batch" | jq .counts.openai_batches; }
for i in 1 2; do job k$i "lost answer $i" '[]'; done >kjobs
ctl '{"create_delay_ms":30000,"page_max":2}'
m0=$(made)
$G kjobs >/dev/null 2>&1 &
pid=$!
i=0; while [ "$(made)" -le "$m0" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid; wait $pid 2>/dev/null
ctl '{"create_delay_ms":0}'
for i in 1 2 3; do job y$i "elsewhere $i" '[]'; done >yjobs
BG_ROOT=$T/store2 $G --batch-size 1 yjobs >/dev/null 2>&1
m1=$(made)
is "lost answer: made, then newer batches elsewhere" "$((m1 - m0))" 4
$G kjobs >kout 2>kerr; rc=$?
is "lost answer, run again: exit 0, no second batch made" "$rc $(made)" "0 $m1"
is "lost answer: collected" "$(jq -r .status kout | sort | uniq -c | tr -s ' ')" " 2 succeeded"
check "lost answer: says it adopted the batch" grep -q "^bg-generate: provider batch openai/.*: adopted batch_.*, made by a create whose answer was lost$" kerr
check "lost answer: paged with after=" sh -c "jq -r 'select(.batch_op==\"list\") | .query // \"\"' '$T/stub.log' | grep -q 'after=batch_'"
ctl '{"page_max":100}'

# a reference refused as a file (HTTP 400): its job fails for good
mkpng refs/u.png 17 16 0 0 255
job u1 "refused reference" '["refs/u.png"]' >ujobs
ctl '{"refuse_image_uploads":400}'
$G ujobs >uout 2>uerr
is "upload refused (400): bad_request, not retryable" "$(jq -r '[.status,.error.code,.error.retryable] | join(" ")' uout)" \
    "failed bad_request false"
ctl '{"refuse_image_uploads":0}'
done_testing
