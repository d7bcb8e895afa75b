# bg-plan: jobs, ids, validation, estimate, pass-through, limits.
. "$TOP/tests/lib.sh"
S=$TOP/tests/data/settings.json
C3=$TOP/tests/data/candidates3.ndjson

bg-plan -q --settings "$S" --batch-id b1 "$C3" >jobs.ndjson; rc=$?
is "3 candidates plan with exit 0" "$rc" 0
is "3 candidates x 2 variations = 6 jobs" "$(wc -l <jobs.ndjson | tr -d ' ')" 6
is "job ids are unique" "$(jq -r .job_id jobs.ndjson | sort -u | wc -l | tr -d ' ')" 6
is "job id is batch-variant-variation" "$(jq -r .job_id jobs.ndjson | head -2 | tr '\n' ' ')" "b1-v1-1 b1-v1-2 "
bg-plan -q --settings "$S" --batch-id b1 "$C3" >again.ndjson
check "same batch id gives the same jobs" cmp -s jobs.ndjson again.ndjson
is "every job is planned" "$(jq -r .status jobs.ndjson | sort -u)" planned
is "prompt rendered" "$(jq -r .prompt jobs.ndjson | head -1)" "Studio photo of Linen shirt (Blue / M) on a clean background. soft shadow"
is "product_images from selected" "$(jq -c .input.product_images jobs.ndjson | sed -n 3p)" '["https://cdn.example/p1/v2.jpg","examples/images/x.png"]'
is "settings input kept" "$(jq -r .input.purpose jobs.ndjson | head -1)" listing
is "unknown fields kept" "$(jq -r .note jobs.ndjson | sed -n 3p)" kept
is "candidate menus dropped" "$(jq -c '[.generated,.uploads]' jobs.ndjson | sed -n 5p)" '[null,null]'
is "targets" "$(jq -c .targets jobs.ndjson | head -1)" '{"variant_folder":"variants/v1/spring-studio-b1","batch_folder":"batches/spring-studio-b1"}'
is "provider, model, price, attempt" "$(jq -c '[.provider,.model,.price_per_image,.attempt,.variation]' jobs.ndjson | head -1)" '["gemini","gemini-3.1-flash-image",0.039,0,1]'

bg-plan -q --settings "$S" "$C3" >r1.ndjson; bg-plan -q --settings "$S" "$C3" >r2.ndjson
b1=$(jq -r .batch_id r1.ndjson | sort -u); b2=$(jq -r .batch_id r2.ndjson | sort -u)
check "a random batch id per run" [ "$b1" != "$b2" ]
check "batch id is a uuid" sh -c "echo '$b1' | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$'"

# garbage between valid lines
{ sed -n 1p "$C3"; echo '{"variant_id": oops'; sed -n 2p "$C3"; } >mixed.ndjson
bg-plan -q --settings "$S" --batch-id b1 mixed.ndjson >out 2>err; rc=$?
is "garbage line: exit 1" "$rc" 1
is "garbage line: valid ones planned" "$(jq -r 'select(.status=="planned") | .job_id' out | wc -l | tr -d ' ')" 4
is "garbage line: bad_json record" "$(jq -c 'select(.status=="failed") | [.error.code,.error.line,.error.raw]' out)" '["bad_json",2,"{\"variant_id\": oops"]'
is "garbage line: stderr names file and line" "$(cat err)" "bg-plan: mixed.ndjson:2: invalid JSON near column 16"

# images: 0 and 5
printf '%s\n' '{"variant_id":"z0","title":"t","variant_title":"v","selected":[]}' \
  '{"variant_id":"z5","title":"t","variant_title":"v","selected":["1","2","3","4","5"]}' \
  '{"variant_id":"zn","title":"t","variant_title":"v"}' >imgs.ndjson
bg-plan -q --settings "$S" imgs.ndjson >out; rc=$?
is "invalid images: exit 0 (it is data)" "$rc" 0
is "invalid images: 3 failed records" "$(jq -r 'select(.status=="failed") | .error.code' out | sort | uniq -c | tr -s ' ')" " 3 invalid_images"
is "invalid images: stage plan" "$(jq -r .error.stage out | sort -u)" plan
bg-plan -q --settings "$S" --max-images-per-variant 1 "$C3" >out
is "--max-images-per-variant 1" "$(jq -r 'select(.status=="failed") | .variant_id' out | tr '\n' ' ')" "v2 v3 "

# duplicates
{ sed -n 1p "$C3"; sed -n 1p "$C3"; } >dup.ndjson
bg-plan -q --settings "$S" dup.ndjson >out
is "duplicate variant: one planned, one failed" "$(jq -r .status out | tr '\n' ' ')" "planned planned failed "

# 101 variants: exit 2, no output
awk 'BEGIN { for (i = 1; i <= 101; i++) printf "{\"variant_id\":\"v%d\",\"title\":\"t\",\"variant_title\":\"x\",\"selected\":[\"a.png\"]}\n", i }' >c101.ndjson
bg-plan --settings "$S" c101.ndjson >out 2>err; rc=$?
is "101 variants: exit 2" "$rc" 2
is "101 variants: no output" "$(wc -c <out | tr -d ' ')" 0
check "101 variants: says how to raise it" grep -q -- '--max-variants 101' err
bg-plan -q --settings "$S" --max-variants 101 c101.ndjson >out; rc=$?
is "--max-variants 101 raises it" "$rc/$(wc -l <out | tr -d ' ')" "0/202"
head -100 c101.ndjson | bg-plan -q --settings "$S" >out; rc=$?
is "100 variants is fine" "$rc/$(wc -l <out | tr -d ' ')" "0/200"

# hostile variant id
echo '{"variant_id":"../../etc","title":"t","variant_title":"x","selected":["a.png"]}' >h.ndjson
bg-plan -q --settings "$S" --batch-id b1 h.ndjson >out
vf=$(jq -r .targets.variant_folder out | head -1)
check "hostile id: folder has no .." sh -c "! echo '$vf' | grep -q '\.\.'"
check "hostile id: folder is two levels under variants/" sh -c "echo '$vf' | grep -Eq '^variants/[^/]+/[^/]+$'"
is "hostile id: id kept as data" "$(jq -r .variant_id out | head -1)" "../../etc"

# failed records pass through untouched
f='{"variant_id":"x9","status":"failed","error":{"stage":"candidates","code":"not_found","message":"no such variant","retryable":false}}'
echo "$f" | bg-plan -q --settings "$S" >out
is "earlier failure passes through untouched" "$(cat out)" "$f"

# numeric ids become strings, attrs and sku placeholders
cat >s2.json <<'X'
{"prompt":"{sku} in {attrs.colour} for {product_id}/{variant_id}, size {attrs.size}","variations":1}
X
echo '{"variant_id":12,"product_id":3,"sku":"S1","attrs":{"colour":"teal","size":42},"selected":["a.png"]}' | bg-plan -q --settings s2.json >out
is "attrs and numbers in the prompt" "$(jq -r .prompt out)" "S1 in teal for 3/12, size 42"
is "numeric ids travel as strings" "$(jq -c '[.variant_id,.product_id]' out)" '["12","3"]'
is "default provider is local" "$(jq -r .provider out)" local
is "default aspect ratio 1:1" "$(jq -r .input.aspect_ratio out)" "1:1"
echo '{"variant_id":"q","sku":"S1","selected":["a.png"]}' | bg-plan -q --settings s2.json >out
is "missing placeholder field: per-record invalid_record" "$(jq -r .error.code out)" invalid_record
check "missing placeholder field: message names it" grep -q 'has no attrs.colour' out

# settings errors: exit 2, file and reason
echo '{"prompt":"Photo of {colour}"}' >bad1.json
bg-plan --settings bad1.json </dev/null >out 2>err; rc=$?
is "unknown placeholder: exit 2" "$rc" 2
is "unknown placeholder: named" "$(cat err)" "bg-plan: bad1.json: unknown placeholder {colour}"
echo '{"prompt":"x","input":{"aspect_ratio":"7:3"}}' >bad2.json
bg-plan --settings bad2.json </dev/null 2>err; is "bad aspect ratio: exit 2" "$?" 2
check "bad aspect ratio: named" grep -q 'bad aspect ratio "7:3"' err
echo '{"input":{}}' >bad3.json
bg-plan --settings bad3.json </dev/null 2>err; is "missing prompt: exit 2" "$?" 2
is "missing prompt: message" "$(cat err)" "bg-plan: bad3.json: missing prompt"
echo '{"prompt":"x","variations":11}' >bad4.json
bg-plan --settings bad4.json </dev/null 2>err; is "variations 11: exit 2" "$?" 2
printf '{"prompt":\n"x",}' >bad5.json
bg-plan --settings bad5.json </dev/null 2>err; is "settings not JSON: exit 2" "$?" 2
check "settings not JSON: position" grep -q 'line 2, column 6' err
# a misspelt key is an error, not a setting silently lost
echo '{"prompt":"p {title}","variatons":4}' >bad6.json
bg-plan --settings bad6.json </dev/null 2>err; is "unknown key: exit 2" "$?" 2
check "unknown key: named" grep -q 'bad6.json: unknown key "variatons"' err
# batch_price_per_image goes to every job; a bad one is an error
jq -c '. + {batch_price_per_image: 0.02}' "$S" >bp.json
bg-plan -q --settings bp.json "$C3" >bp.out
is "batch_price_per_image in every job" \
    "$(jq -r .batch_price_per_image bp.out | sort -u)" 0.02
jq -c '. + {batch_price_per_image: "cheap"}' "$S" >bp2.json
bg-plan --settings bp2.json </dev/null 2>err; is "bad batch_price_per_image: exit 2" "$?" 2
bg-plan --settings nonexistent.json </dev/null 2>err; is "settings missing: exit 2" "$?" 2
bg-plan </dev/null 2>err; is "no --settings: exit 2" "$?" 2
bg-plan --settings "$S" --variations 0 </dev/null 2>err; is "--variations 0: exit 2" "$?" 2
bg-plan --settings "$S" --batch-id ../x </dev/null 2>err; is "hostile --batch-id: exit 2" "$?" 2

# estimate
bg-plan --settings "$S" --estimate --batch-id b1 "$C3" >out 2>err
is "--estimate JSON" "$(jq -c '[.variants,.variations,.images,.cost]' out)" "[3,2,6,0.234]"
is "--estimate prints no jobs" "$(wc -l <out | tr -d ' ')" 1
bg-plan -q --settings "$S" --batch-id b1 "$C3" >jobs-b1.ndjson
is "--estimate --batch-id: the id the plan then uses" \
    "$(jq -r .batch_id out) $(jq -r .batch_id jobs-b1.ndjson | sort -u)" "b1 b1"
bg-plan --settings "$S" --estimate "$C3" >out 2>/dev/null
is "--estimate without --batch-id: no made-up id" "$(jq -c .batch_id out)" null
bg-plan --settings "$S" "$C3" 2>err >/dev/null
is "estimate on stderr" "$(cat err)" "bg-plan: 3 variants × 2 variations = 6 images, est. 0.23"
bg-plan --settings "$S" --variations 3 --name "Other" --batch-id b2 "$C3" >out 2>/dev/null
is "--variations and --name override" "$(jq -r '[.batch_name,.variation]|@tsv' out | tail -1)" "Other	3"

# closed stdout: exit 3 quietly, no crash
bg-plan -q --settings "$S" --max-variants 101 c101.ndjson 2>err | head -c 10 >/dev/null
is "closed stdout: no message" "$(cat err)" ""
python3 -c 'import os,subprocess,sys
r,w=os.pipe(); os.close(r)
p=subprocess.run(["bg-plan","-q","--max-variants","101","--settings",sys.argv[1],sys.argv[2]],stdout=w,stderr=subprocess.DEVNULL)
sys.exit(0 if p.returncode==3 else 1)' "$S" c101.ndjson
is "closed stdout: exit 3" "$?" 0

# huge line and NUL byte
{ sed -n 1p "$C3"; head -c 300000000 /dev/zero | tr '\0' 'x'; echo; sed -n 2p "$C3"; } >huge.ndjson 2>/dev/null
if [ "$BG_TEST_SAN" = 1 ]; then pass "huge line (skipped under sanitizers: 300 MB)"; else
bg-plan -q --settings "$S" huge.ndjson >out 2>err; rc=$?
is "huge line: exit 1, others planned" "$rc/$(jq -r .status out | tr '\n' ' ')" "1/planned planned failed planned planned "
check "huge line: reported as too long" grep -q 'line longer than' err
fi
rm -f huge.ndjson
printf '{"variant_id":"a\0b"}\n' >nul.ndjson
bg-plan -q --settings "$S" nul.ndjson >out 2>err; rc=$?
is "NUL byte: exit 1 and a bad_json record" "$rc/$(jq -r .error.code out)" "1/bad_json"

# 100k candidates: constant memory (RSS of 100k within 2x of 10k)
if [ "$BG_TEST_SAN" = 1 ]; then pass "constant memory (skipped under sanitizers)"; else
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "{\"variant_id\":\"v%d\",\"title\":\"t\",\"variant_title\":\"x\",\"selected\":[\"a.png\"]}\n", i }' >c100k.ndjson
head -10000 c100k.ndjson >c10k.ndjson
rss() { /usr/bin/time -f %M bg-plan -q --settings "$S" --max-variants 100000 "$1" 2>&1 >/dev/null | tail -1; }
r10=$(rss c10k.ndjson); r100=$(rss c100k.ndjson)
check "100k candidates in near-constant memory (${r10} KB for 10k, ${r100} KB for 100k)" [ "$r100" -lt $((r10 * 2 + 4096)) ]
fi
done_testing
