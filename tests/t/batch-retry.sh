# bg-batch's retry passes: a job whose attempts in one pass run out on a
# retryable error is sent again by the next pass, and only that job.
. "$TOP/tests/lib.sh"
start_stub
export GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB
img=$(ls "$TOP"/examples/images/*.png | head -1)
for i in 1 2 3; do
	printf '{"product_id":"p","variant_id":"v%d","title":"Mug %d","variant_title":"x","image_url":"%s"}\n' $i $i "$img"
done >cat.ndjson
cat >s.json <<'X'
{"name":"Retry","provider":"gemini","model":"m","variations":1,
 "prompt":"Photo of {title}", "input":{"aspect_ratio":"1:1"}}
X
# v2's prompt fails twice with 503 (retryable), then succeeds
sed 's/"Mug 2"/"Mug 2 [[fault:503*2]]"/' cat.ndjson >cat2.ndjson
bg-batch -c cat2.ndjson -s s.json -d b --max-attempts 1 --retry 3 >out 2>err
is "exit 0: every job succeeded in the end" "$?" 0
check "a first retry pass ran" grep -q 'retry pass 1: 1 job(s)' err
check "a second retry pass ran" grep -q 'retry pass 2: 1 job(s)' err
check "no third pass" [ "$(grep -c 'retry pass 3' err)" -eq 0 ]
is "one request per attempt: 3 + 2 retries" "$(grep -c generateContent "$T/stub.log")" 5
is "results: 2 failed attempts, then 3 successes" "$(jq -r .status b/results.ndjson | sort | uniq -c | tr -s ' ' | paste -sd,)" " 2 failed, 3 succeeded"
is "the report counts the batch done" "$(bg-report --json --plan b/jobs.ndjson b/results.ndjson | jq -c '[.succeeded,.failed,.pending]')" "[3,0,0]"

# with too few passes the job stays failed and bg-batch says so (exit 1)
# (a prompt of its own: the stub counts faults per prompt)
sed 's/"Mug 2"/"Cup 2 [[fault:503*2]]"/' cat.ndjson >cat3.ndjson
bg-batch -c cat3.ndjson -s s.json -d c --max-attempts 1 --retry 0 >out2 2>err2
is "--retry 0: exit 1 (a job failed)" "$?" 1
check "--retry 0: no retry pass" [ "$(grep -c 'retry pass' err2)" -eq 0 ]
bg-batch -c cat.ndjson -s s.json -d d --max-attempts 0 >/dev/null 2>err3
is "--max-attempts 0 is refused by bg-generate" "$?" 3
done_testing
