# bg-batch notices a changed settings file or selection: it says so, keeps
# the old plan under DIR/previous/, plans again, and only changed requests
# are paid (the cache answers the rest); budget and rate options pass
# through to bg-generate.  Against the loopback stub.
. "$TOP/tests/lib.sh"
start_stub
export GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB BG_ROOT=$T/store
img=$(ls "$TOP"/examples/images/*.png | head -1)
for i in 1 2 3; do
	printf '{"product_id":"p","variant_id":"v%d","title":"Mug %d","image_url":"%s"}\n' $i $i "$img"
done >cat.ndjson
cat >s.json <<'X'
{"name":"Replan","provider":"gemini","model":"m","variations":1,
 "prompt":"Photo of {title}","input":{"aspect_ratio":"1:1"},"price_per_image":0.05}
X
nreq() { grep -c generateContent "$T/stub.log" 2>/dev/null || echo 0; }
printf 'v1\nv2\n' >sel.txt
bg-batch -c cat.ndjson -s s.json -d b sel.txt >out 2>err
is "first run: exit 0, 2 requests" "$? $(nreq)" "0 2"
b1=$(jq -r .batch_id b/jobs.ndjson | head -1)
bg-batch -c cat.ndjson -s s.json -d b sel.txt >out 2>err
is "the same command again: nothing sent, no re-plan" "$(nreq) $(grep -c 'changed' err)" "2 0"

printf 'v1\nv2\nv3\n' >sel.txt
bg-batch -c cat.ndjson -s s.json -d b sel.txt >out 2>err
is "a changed selection: exit 0, only v3 sent" "$? $(nreq)" "0 3"
check "it says the plan changed" grep -q "bg-batch: the catalog, settings or selection changed since the plan of batch $b1: planning again" err
check "the old plan and results are kept" test -s "b/previous/$b1/jobs.ndjson" -a -s "b/previous/$b1/results.ndjson"
is "the new plan: a new batch of 3 jobs, 2 from the cache" "$(jq -r .batch_id b/jobs.ndjson | sort -u | grep -vc "$b1") $(jq -c 'select(.status=="succeeded") | .cached' b/results.ndjson | sort | uniq -c | tr -s ' ' | paste -sd,)" "1  1 false, 2 true"

jq -c '.variations = 2' s.json >s2 && mv s2 s.json
bg-batch -c cat.ndjson -s s.json -d b sel.txt >out 2>err
is "changed settings (2 variations): only the 3 new ones sent" "$? $(nreq)" "0 6"
check "it says so" grep -q 'changed since the plan' err
is "the report: 6 succeeded, 3 cached, paid 0.15" "$(bg-report --json --plan b/jobs.ndjson b/results.ndjson | jq -c '[.succeeded,.cached,.cost,.saved]')" "[6,3,0.15,0.15]"

# pass-through to bg-generate
jq -c '.prompt = "Other photo of {title}"' s.json >s2 && mv s2 s.json
bg-batch -c cat.ndjson -s s.json -d b --retry 0 --max-images 2 --max-cost 1 --rpm 600 --timeout 30 --max-image-bytes 10000000 sel.txt >out 2>err
is "--max-images 2 reaches bg-generate: 2 sent, the rest skipped" "$(nreq) $(jq -r .status b/results.ndjson | sort | uniq -c | tr -s ' ' | paste -sd,)" "8  4 skipped, 2 succeeded"
bg-batch -c cat.ndjson -s s.json -d b --max-cost x sel.txt >/dev/null 2>err
is "a bad number: exit 2" "$?" 2
echo v1 | bg-batch -c cat.ndjson -s s.json -d c - >out 2>err
is "a selection on stdin" "$? $(jq -r .variant_id c/jobs.ndjson | sort -u | paste -sd,)" "0 v1"
echo v1 | bg-batch -c cat.ndjson -s s.json -d c - >out 2>err
check "the same selection on stdin: no re-plan" sh -c "! grep -q changed err"
done_testing
