# A request is known by what is sent (doc/contract.md "Request identity"),
# against the loopback stub with the gemini provider: the same candidates
# planned twice send nothing the second time; the same bytes under another
# path or URL are the same request; a reference replaced in place and
# --fresh are new ones; cost adds up to what the server answered; an
# override is recorded.
. "$TOP/tests/lib.sh"
mkdir -p img other static
mkpng img/a.png 40 30 255 0 0; mkpng img/b.png 30 40 0 0 255; mkpng img/c.png 20 20 0 200 0
start_stub --static static
export BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key
unset GOOGLE_API_KEY
cat >settings.json <<'J'
{"name":"Identity","provider":"gemini","model":"gemini-3.1-flash-image","variations":2,
 "prompt":"Photo of {title}","input":{"aspect_ratio":"1:1"},"price_per_image":0.039}
J
cand() {	# cand VARIANT TITLE IMAGE...
	v=$1 t=$2; shift 2
	printf '{"variant_id":"%s","product_id":"p","title":"%s","selected":%s,"status":"candidate"}\n' \
		"$v" "$t" "$(printf '%s\n' "$@" | jq -R . | jq -sc .)"
}
{ cand v1 "Red shirt" img/a.png; cand v2 "Blue shirt" img/b.png img/c.png; cand v3 "Green hat" img/c.png; } >cands.ndjson
ok200() { jq -c 'select(.provider=="gemini" and .status==200)' "$T/stub.log" 2>/dev/null | wc -l | tr -d ' '; }
sent() { jq -c 'select(.provider=="gemini")' "$T/stub.log" 2>/dev/null | wc -l | tr -d ' '; }
G="bg-generate --backoff 0.05"

# 1. the same selection planned twice, two batch ids
bg-plan -s settings.json cands.ndjson >jobs1.ndjson 2>plan1.err
check "a first plan notes nothing cached" sh -c "! grep -q 'already generated' plan1.err"
$G jobs1.ndjson >r1.ndjson
is "first run: 6 requests, 6 fresh results" "$(sent) $(jq -c 'select(.status=="succeeded" and .cached==false)' r1.ndjson | wc -l | tr -d ' ')" "6 6"
is "first run: each result costs the price" "$(jq -r .cost r1.ndjson | sort -u)" 0.039
bg-plan -s settings.json cands.ndjson >jobs2.ndjson 2>plan2.err
check "the two plans have different batch ids" [ "$(jq -r .batch_id jobs1.ndjson | sort -u)" != "$(jq -r .batch_id jobs2.ndjson | sort -u)" ]
b1=$(jq -r .batch_id jobs1.ndjson | head -1 | cut -c1-8)
check "bg-plan notes the cached jobs and the batch that paid" grep -q "bg-plan: 6 of 6 jobs are already generated in $T/store (batch $b1…); they will not be paid again; --fresh generates new images" plan2.err
is "--estimate counts them" "$(bg-plan -s settings.json --estimate cands.ndjson 2>/dev/null | jq .cached)" 6
$G jobs2.ndjson >r2.ndjson
is "re-planned: no request sent" "$(sent)" 6
is "re-planned: every result cached, cost 0" "$(jq -c '[.status,.cached,.cost]' r2.ndjson | sort -u)" '["succeeded",true,0]'
is "re-planned: the same images" "$(jq -r '.outputs[0].sha256' r2.ndjson | sort | tr '\n' ' ')" "$(jq -r '.outputs[0].sha256' r1.ndjson | sort | tr '\n' ' ')"

# 2. the same bytes under another path, and as a URL
cp img/a.png other/copy-of-a.png; cp img/c.png static/c.png
{ cand v1 "Red shirt" other/copy-of-a.png; cand v3 "Green hat" "$STUB/static/c.png"; } >moved.ndjson
bg-plan -q -s settings.json moved.ndjson | $G >r3.ndjson
is "same bytes, another path or URL: no request" "$(sent)" 6
is "same bytes, another path or URL: cached" "$(jq -c '[.cached,.cost]' r3.ndjson | sort -u)" '[true,0]'

# 3. a reference replaced in place under its old name
mkpng img/c.png 20 20 250 250 0
bg-plan -s settings.json cands.ndjson >jobs4.ndjson 2>plan4.err
check "bg-plan counts only what is still cached" grep -q '2 of 6 jobs are already generated' plan4.err
$G jobs4.ndjson >r4.ndjson
is "replaced in place: its 4 jobs regenerated" "$(sent) $(jq -c 'select(.cached==false)|.variant_id' r4.ndjson | sort | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')" '10 "v2":2 "v3":2 '

# 4. --fresh: an identical request, asked anew
bg-plan --fresh -s settings.json cands.ndjson >jobs5.ndjson 2>plan5.err
is "--fresh: one reroll number in every job" "$(jq -r '.reroll|type' jobs5.ndjson | sort -u) $(jq -r .reroll jobs5.ndjson | sort -u | wc -l | tr -d ' ')" "number 1"
check "--fresh: no cache note" sh -c "! grep -q 'already generated' plan5.err"
$G jobs5.ndjson >r5.ndjson
is "--fresh: every job regenerated" "$(sent) $(jq -c 'select(.cached==false and .status=="succeeded")' r5.ndjson | wc -l | tr -d ' ')" "16 6"
$G jobs5.ndjson >r5b.ndjson
is "the re-roll itself is then cached" "$(sent) $(jq -r .cached r5b.ndjson | sort -u)" "16 true"
$G --force jobs2.ndjson >r6.ndjson
is "--force sends them again" "$(sent) $(jq -r .cached r6.ndjson | sort -u)" "22 false"

# 5. failures cost nothing; the sum of cost is what the server answered
{ cand f1 "Broken [[fault:400]]" img/a.png; cand f2 "Flaky [[fault:503*1]]" img/b.png; } >faults.ndjson
bg-plan -q -s settings.json --variations 1 faults.ndjson | $G >r7.ndjson
is "a failure costs 0, a retried success the price once" "$(jq -c '[.variant_id,.status,.cost]' r7.ndjson | sort | tr '\n' ' ')" '["f1","failed",0] ["f2","succeeded",0.039] '
total=$(cat r1.ndjson r2.ndjson r3.ndjson r4.ndjson r5.ndjson r5b.ndjson r6.ndjson r7.ndjson | jq -s 'map(.cost) | add * 1000 | round')
is "sum of cost = successful requests x price" "$total" "$(( $(ok200) * 39 ))"

# 6. an override is recorded as what was used
bg-generate --provider local jobs1.ndjson >r8.ndjson
is "--provider local: its own model, the planned ones kept, free" "$(jq -c '[.provider,.model,.planned_provider,.planned_model,.cost]' r8.ndjson | sort -u)" '["local","layout","gemini","gemini-3.1-flash-image",0]'
bg-generate --model gemini-3-pro-image jobs1.ndjson >r9.ndjson
is "--model: model used, planned model kept, provider unchanged" "$(jq -c '[.provider,.model,.planned_provider,.planned_model]' r9.ndjson | sort -u)" '["gemini","gemini-3-pro-image",null,"gemini-3.1-flash-image"]'
is "the override reached the server" "$(jq -r 'select(.provider=="gemini" and .model=="gemini-3-pro-image")|.model' "$T/stub.log" | wc -l | tr -d ' ')" 6
jq -c '.status="failed" | .error={"stage":"generate","code":"timeout","retryable":true}' r9.ndjson | head -1 | bg-generate >r10.ndjson
is "a retry of an overridden result goes on with what was used" "$(jq -c '[.model,.planned_model,.cached]' r10.ndjson)" '["gemini-3-pro-image","gemini-3.1-flash-image",true]'
done_testing
