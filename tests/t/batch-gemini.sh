# bg-generate --mode batch with gemini against the loopback stub's Batch
# API: one provider batch for 120 jobs, each distinct reference uploaded
# once, per-item failures, half price; a re-run answers from the store;
# kill -9 while waiting, --no-wait, --cancel and expiry keep what finished.
. "$TOP/tests/lib.sh"
mkdir refs
for i in 1 2 3 4 5 6; do mkpng refs/r$i.png $((10 + i)) 12 $((i * 40)) 0 0; done
start_stub
export BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key-SECRET-31
unset GOOGLE_API_KEY
ctl() { curl -s -X POST "$STUB/_stub/batch" -d "$1" >/dev/null; }
ops() { jq -r "select(.batch_op==\"$1\") | .seq" "$T/stub.log" | wc -l | tr -d ' '; }
job() {	# job ID PROMPT REF1 REF2
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"provider":"gemini","model":"gemini-3.1-flash-image","prompt":"%s","input":{"product_images":["refs/%s.png","refs/%s.png"]},"price_per_image":0.039,"status":"planned","attempt":0}\n' "$1" "$2" "$3" "$4"
}
G="bg-generate --mode batch --poll 0.05"

i=0
while [ $i -lt 120 ]; do
	p="studio shot $i"
	case $i in 7) p="$p [[fault:blocked]]";; 8) p="$p [[fault:400]]";; 9) p="$p [[fault:503]]";; esac
	job j$i "$p" r$((i % 6 + 1)) r$(((i + 1) % 6 + 1))
	i=$((i + 1))
done >jobs
$G jobs >out 2>err; rc=$?
is "exit 0" "$rc" 0
is "one record per job" "$(wc -l <out | tr -d ' ')" 120
is "one provider batch created" "$(ops create)" 1
is "one JSONL request file and six references uploaded" "$(ops upload)" 7
is "each distinct reference uploaded once" "$(jq -r 'select(.batch_op=="upload" and .upload_bytes < 1000) | .sha256' "$T/stub.log" | sort -u | wc -l | tr -d ' ')" 6
is "the uploads are the reference bytes" "$(jq -r 'select(.batch_op=="upload" and .upload_bytes < 1000) | .sha256' "$T/stub.log" | sort | tr '\n' ' ')" \
	"$(sha256sum refs/*.png | cut -d' ' -f1 | sort | tr '\n' ' ')"
is "117 succeeded" "$(jq -r 'select(.status=="succeeded") | .job_id' out | wc -l | tr -d ' ')" 117
is "per-item failures with codes" "$(jq -r 'select(.status=="failed") | [.job_id,.error.code,.error.retryable] | join(" ")' out | sort | tr '\n' ,)" \
	"j7 blocked false,j8 bad_request false,j9 server_error true,"
is "the batch price of the model table (half its sync price)" "$(jq -r 'select(.job_id=="j0") | .cost' out)" 0.034
name=$(jq -r 'select(.job_id=="j0") | .usage.provider_batch' out)
check "usage names the provider batch and mode" sh -c "jq -e 'select(.usage.mode != \"batch\" or .usage.provider_batch != \"$name\")' out | grep -q . && exit 1 || exit 0"
check "images stored" test -s "$BG_ROOT/$(jq -r 'select(.job_id=="j0") | .outputs[0].path' out)"
check "the batch record is in the store" sh -c "jq -e 'select(.name==\"$name\" and .collected and .jobs==120)' $BG_ROOT/provider-batches/gemini/*.json >/dev/null"
check "the key never reaches records or stderr" sh -c "! grep -q SECRET out err $BG_ROOT/provider-batches/gemini/*.json"

# the same command again: nothing sent, all from the store
n=$(wc -l <"$T/stub.log")
$G jobs >out2 2>err; rc=$?
is "re-run: exit 0" "$rc" 0
is "re-run: no request at all" "$(wc -l <"$T/stub.log")" "$n"
is "re-run: same statuses, cached, cost 0" "$(jq -r '[.status,.cached,(.cost // "-")] | join(" ")' out2 | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 3 failed true -, 117 succeeded true 0,"

# kill -9 while waiting, then the same command collects the same batch
i=0; while [ $i -lt 5 ]; do job k$i "kill test $i" r1 r2; i=$((i + 1)); done >kjobs
ctl '{"polls":100000}'
p0=$(ops poll) creates=$(($(ops create) + 1))
$G kjobs >kout1 2>kerr1 &
pid=$!
i=0; while [ "$(ops poll)" -lt $((p0 + 2)) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid; wait $pid 2>/dev/null
is "killed while waiting, after the create" "$(ops create)" "$creates"
ctl '{"polls":0}'
$G kjobs >kout 2>kerr; rc=$?
is "after kill -9: exit 0" "$rc" 0
is "after kill -9: no second provider batch" "$(ops create)" "$creates"
is "after kill -9: all collected" "$(jq -r .status kout | sort | uniq -c | tr -s ' ')" " 5 succeeded"
is "after kill -9: the batch created before the kill" "$(jq -r .usage.provider_batch kout | sort -u)" \
	"$(jq -r 'select(.jobs==5) | .name' "$BG_ROOT"/provider-batches/gemini/*.json)"

# SIGINT while waiting: the batch keeps running, pending records, exit 3
i=0; while [ $i -lt 3 ]; do job s$i "sigint $i" r2 r3; i=$((i + 1)); done >sjobs
ctl '{"polls":100000}'
p0=$(ops poll)
$G sjobs >sout 2>serr &
pid=$!
i=0; while [ "$(ops poll)" -lt $((p0 + 2)) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid; wait $pid; rc=$?
is "SIGINT while waiting: exit 3, every job pending" "$rc $(jq -r .status sout | sort | uniq -c | tr -s ' ')" "3  3 pending"
check "SIGINT: says how to resume" grep -q 'run the same command again to collect' serr
ctl '{"polls":0}'
$G sjobs >sout2 2>/dev/null
is "SIGINT: the same command collects" "$(jq -r .status sout2 | sort | uniq -c | tr -s ' ')" " 3 succeeded"

# --no-wait: pending records, exit 0; the same command later collects
i=0; while [ $i -lt 4 ]; do job n$i "no wait $i" r3 r4; i=$((i + 1)); done >njobs
ctl '{"polls":3}'
$G --no-wait njobs >nout 2>nerr; rc=$?
is "--no-wait: exit 0" "$rc" 0
is "--no-wait: pending with the provider batch" "$(jq -r '[.status,.usage.mode,(.usage.provider_batch|startswith("batches/"))] | join(" ")' nout | sort -u)" "pending batch true"
bg-report --json --exit-zero nout >rj
is "bg-report counts them pending" "$(jq -c '[.pending,.succeeded]' rj)" "[4,0]"
bg-report --html page.html --exit-zero nout >/dev/null 2>&1
check "the HTML page names the provider batch" grep -q "$(jq -r .usage.provider_batch nout | head -n 1)" page.html
c1=$(ops create)
$G njobs >nout2 2>nerr2; rc=$?
is "later run: exit 0, no new batch" "$rc $(ops create)" "0 $c1"
is "later run: collected" "$(jq -r .status nout2 | sort | uniq -c | tr -s ' ')" " 4 succeeded"

# --cancel: what finished is kept, the rest canceled and retryable
i=0; while [ $i -lt 10 ]; do job c$i "cancel me $i" r5 r6; i=$((i + 1)); done >cjobs
ctl '{"polls":100000,"fraction":0.5}'
$G --no-wait cjobs >/dev/null 2>&1
$G --cancel cjobs >cout 2>cerr; rc=$?
is "--cancel: exit 0" "$rc" 0
is "--cancel: a cancel request" "$(ops cancel)" 1
is "--cancel: partial results kept" "$(jq -r '[.status,.error.code // "-",(.error.retryable // "-")] | join(" ")' cout | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 5 canceled canceled true, 5 succeeded - -,"
n=$(ops create)
ctl '{"polls":0}'
$G cjobs >cout2 2>/dev/null
is "after --cancel: the canceled ones go to a new batch" "$(ops create) $(jq -r .status cout2 | sort | uniq -c | tr -s ' ' | tr '\n' ,)" "$((n + 1))  10 succeeded,"

# expiry: partial results, the rest failed with code expired, retryable
i=0; while [ $i -lt 6 ]; do job e$i "expire me $i" r1 r6; i=$((i + 1)); done >ejobs
ctl '{"polls":0,"end":"expire","fraction":0.5}'
$G ejobs >eout 2>eerr; rc=$?
is "expired: exit 0" "$rc" 0
is "expired: partial results kept" "$(jq -r '[.status,.error.code // "-",(.error.retryable // "-")] | join(" ")' eout | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 3 failed expired true, 3 succeeded - -,"
ctl '{"end":"succeed"}'

# bg-batch --mode batch: catalog to filed images through one provider batch
(cd "$TOP" && printf 'v01\nv02\n' | bg-batch -c examples/catalog.ndjson \
	-s examples/settings-gemini.json -d "$T/bb" --mode batch --poll 0.05 - \
	>"$T/bb.out" 2>"$T/bb.err"); rc=$?
is "bg-batch --mode batch: exit 0" "$rc" 0
is "bg-batch --mode batch: filed, batch mode, half price" \
	"$(jq -r 'select(.job_id) | [.status,.usage.mode,(.filed.variant != null),.cost] | join(" ")' "$T/bb/results.ndjson" | sort | uniq -c | tr -s ' ')" \
	" 4 succeeded batch true 0.034"
is "bg-batch --mode batch: one provider batch" "$(jq -r 'select(.job_id) | .usage.provider_batch' "$T/bb/results.ndjson" | sort -u | wc -l | tr -d ' ')" 1

# kill -9 between the provider's create and saving its name: the stub
# makes the batch, then holds the answer 30 s; the run is killed meanwhile.
# The same command finds it in the provider's list by its display name
# (two per page here: paged) and collects it: no second batch is made
made() { curl -s "$STUB/_stub/batch" | jq .counts.gemini_batches; }
i=0; while [ $i -lt 3 ]; do job x$i "lost answer $i" r2 r5; i=$((i + 1)); done >xjobs
ctl '{"create_delay_ms":30000,"page_max":2,"polls":0}'
m0=$(made)
$G xjobs >xout1 2>xerr1 &
pid=$!
i=0; while [ "$(made)" -le "$m0" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid; wait $pid 2>/dev/null
ctl '{"create_delay_ms":0}'
is "lost answer: the batch was made, its name not saved" \
    "$(made) $(jq -r 'select(.name == null) | .state' "$BG_ROOT"/provider-batches/gemini/*.json)" "$((m0 + 1)) creating"
# newer batches from another store put it on the list's second page
i=0; while [ $i -lt 3 ]; do job y$i "elsewhere $i" r1 r3; i=$((i + 1)); done >yjobs
BG_ROOT=$T/store2 $G --batch-size 1 yjobs >/dev/null 2>&1
m0=$(made) l0=$(ops list)
$G xjobs >xout 2>xerr; rc=$?
is "lost answer, run again: exit 0, no second batch made" "$rc $(made)" "0 $m0"
is "lost answer: collected" "$(jq -r .status xout | sort | uniq -c | tr -s ' ')" " 3 succeeded"
check "lost answer: says it adopted the batch" grep -q "^bg-generate: provider batch gemini/.*: adopted batches/.*, made by a create whose answer was lost$" xerr
check "lost answer: the list was read page by page" [ "$(($(ops list) - l0))" -ge 2 ]
check "lost answer: the pages after the first were asked by pageToken" \
    sh -c "jq -r 'select(.batch_op==\"list\") | .query // \"\"' '$T/stub.log' | grep -q pageToken"
xname=$(jq -r .usage.provider_batch xout | sort -u)
is "lost answer: the record now names the batch" \
    "$(jq -r "select(.name == \"$xname\") | [.state, .collected] | join(\" \")" "$BG_ROOT"/provider-batches/gemini/*.json)" "succeeded true"
# a record whose create never reached the provider: closed, not adopted
xrec=$(grep -l "\"$xname\"" "$BG_ROOT"/provider-batches/gemini/*.json)
jq -c '.id = "20260101T000000Z-00000000" | .name = null | .state = "creating" | .collected = false' \
    "$xrec" >"$BG_ROOT/provider-batches/gemini/20260101T000000Z-00000000.json"
cp "${xrec%.json}.keys" "$BG_ROOT/provider-batches/gemini/20260101T000000Z-00000000.keys"
$G xjobs >xout2 2>xerr2; rc=$?
is "never made: exit 0, nothing made, from the store" "$rc $(made) $(jq -r .cached xout2 | sort -u)" "0 $m0 true"
is "never made: the record is closed" \
    "$(jq -r '[.state, .collected, .error] | join(" ")' "$BG_ROOT/provider-batches/gemini/20260101T000000Z-00000000.json")" \
    "failed true never created (not in the provider's list)"
# the list cannot be read (a key the provider refuses): stop, exit 3,
# nothing sent again, the record kept for the next run
jq -c '.id = "20260101T000000Z-11111111"' "$BG_ROOT/provider-batches/gemini/20260101T000000Z-00000000.json" |
    jq -c '.state = "creating" | .collected = false | .error = null' \
    >"$BG_ROOT/provider-batches/gemini/20260101T000000Z-11111111.json"
cp "${xrec%.json}.keys" "$BG_ROOT/provider-batches/gemini/20260101T000000Z-11111111.keys"
GEMINI_API_KEY=bad-key $G xjobs >xout3 2>xerr3; rc=$?
is "list unreadable: exit 3, nothing made" "$rc $(made)" "3 $m0"
check "list unreadable: says why and what removing the record risks" grep -q \
    "^bg-generate: provider batch gemini/20260101T000000Z-11111111: its create was not answered, and whether it was made cannot be told (.*); run again to look again (removing .*/20260101T000000Z-11111111.json sends its jobs anew: maybe paid twice)$" xerr3
is "list unreadable: the record is kept" \
    "$(jq -r '[.state, .name] | join(" ")' "$BG_ROOT/provider-batches/gemini/20260101T000000Z-11111111.json")" "creating "
rm "$BG_ROOT"/provider-batches/gemini/20260101T000000Z-11111111.*
ctl '{"page_max":100}'

# a reference the provider refuses to take (HTTP 400) fails its jobs for
# good; one it could not take now (503) may be retried
mkpng refs/u1.png 31 12 10 0 0
mkpng refs/u2.png 32 12 20 0 0
job u1 "refused upload" u1 u1 >ujobs
ctl '{"refuse_image_uploads":400}'
$G ujobs >uout 2>uerr; rc=$?
is "upload refused (400): bad_request, not retryable" "$rc $(jq -r '[.status,.error.code,.error.retryable] | join(" ")' uout)" \
    "0 failed bad_request false"
job u2 "upload unavailable" u2 u2 >ujobs
ctl '{"refuse_image_uploads":503}'
$G ujobs >uout 2>uerr
is "upload failed (503): server_error, retryable" "$(jq -r '[.status,.error.code,.error.retryable] | join(" ")' uout)" \
    "failed server_error true"
ctl '{"refuse_image_uploads":0}'

# usage errors
bg-generate --no-wait </dev/null >/dev/null 2>err; rc=$?
is "batch options need --mode batch" "$rc $(cat err)" "2 bg-generate: --poll, --no-wait, --cancel and --batch-size need --mode batch"
printf '{"job_id":"x","provider":"replicate","prompt":"p","input":{"product_images":["refs/r1.png"]}}\n' | $G >rout 2>/dev/null
is "a provider without a batch API fails the job" "$(jq -r .error.code rout)" invalid_record
done_testing
