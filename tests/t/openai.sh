# bg-generate with the openai provider against the loopback stub: the edits
# multipart request (1 and 4 reference images, their content types), the
# generations JSON request without references, the size mapping, usage,
# and every error class (auth, bad request, blocked, quota, rate limited
# with and without Retry-After / retry-after-ms, 5xx, dropped connection,
# malformed body, timeout).
. "$TOP/tests/lib.sh"
mkpng a.png 40 30 255 0 0; mkpng b.png 20 50 0 0 255; mkpng c.png 30 30 0 255 0
mkpng d0.png 24 24 9 9 9 && vips copy d0.png d.jpg 2>/dev/null
start_stub --retired gpt-image-1	# dall-e-3 answers, to check response_format
export BG_ROOT=$T/store BG_OPENAI_BASE_URL=$STUB OPENAI_API_KEY=test-key-SECRET-42
job() {	# job ID PROMPT [IMAGES-JSON] [INPUT-EXTRA]
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"provider":"openai","model":"gpt-image-1.5","prompt":"%s","input":{"product_images":%s%s},"status":"planned","attempt":0}\n' \
		"$1" "$2" "${3:-[\"a.png\"]}" "${4:-}"
}
# the stub's log lines for a prompt containing $1
log() { jq -c "select(.provider==\"openai\" and ((.prompt // \"\")|contains(\"$1\")))" "$T/stub.log"; }
reqs() { log "$1" | wc -l | tr -d ' '; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
G="bg-generate --backoff 0.05 --no-stop-early"	# one fault per job

# one reference image: /v1/images/edits, multipart
job e1 'blue shirt' '["a.png"]' ',"aspect_ratio":"4:5","quality":"low","output_format":"png","custom_instructions":["x"]' >j1
$G j1 >out 2>err; rc=$?
is "exit 0" "$rc" 0
is "succeeded, 1024x1536 at the stub's 1/16 scale" "$(jq -c '[.status,.attempt,.outputs[0].mime,.outputs[0].width,.outputs[0].height]' out)" '["succeeded",1,"image/png",64,96]'
L=$(log 'blue shirt')
is "one POST to /v1/images/edits with the key" "$(echo "$L" | jq -c '[.method,.path,.auth,.status]')" '["POST","/v1/images/edits","ok",200]'
check "multipart/form-data with a boundary" sh -c "echo '$L' | jq -e '.content_type|test(\"^multipart/form-data; *boundary=\")' >/dev/null"
is "fields: model, n=1, size from 4:5, quality, output_format" "$(echo "$L" | jq -c '.fields')" '{"model":"gpt-image-1.5","n":"1","size":"1024x1536","quality":"low","output_format":"png"}'
is "the prompt" "$(echo "$L" | jq -r .prompt)" "blue shirt"
is "one image[] part, the bytes whole" "$(echo "$L" | jq -c '[.images[]|[.field,.mime,.sha256,.filename]]')" "[[\"image[]\",\"image/png\",\"$(sha a.png)\",\"image-1.png\"]]"
is "usage kept, x-request-id as provider_request_id" "$(jq -c '[.usage.total_tokens>0,.usage.input_tokens_details.image_tokens>0,(.usage.provider_request_id|startswith("req_")),(.usage.elapsed_ms>=0)]' out)" '[true,true,true,true]'
check "the key never reaches records or stderr" sh -c "! grep -q SECRET out err"

# four reference images, one a JPEG: four image[] parts with their real types
job e4 'four items' '["a.png","b.png","c.png","d.jpg"]' ',"aspect_ratio":"16:9"' >j4
$G j4 >out
is "4 refs: succeeded, landscape" "$(jq -c '[.status,.outputs[0].width,.outputs[0].height]' out)" '["succeeded",96,64]'
L=$(log 'four items')
is "4 refs: image[] parts in order, content types as sent" "$(echo "$L" | jq -c '[.images[]|[.field,.mime,(.declared_mime // "same"),.filename]]')" '[["image[]","image/png","same","image-1.png"],["image[]","image/png","same","image-2.png"],["image[]","image/png","same","image-3.png"],["image[]","image/jpeg","same","image-4.jpg"]]'
is "4 refs: bytes whole" "$(echo "$L" | jq -r '.images|map(.sha256)|join(" ")')" "$(sha a.png) $(sha b.png) $(sha c.png) $(sha d.jpg)"

# no reference images: /v1/images/generations as JSON; input.size overrides
{
	job g1 'text only' '[]' ',"aspect_ratio":"16:9","background":"transparent","output_compression":80'
	job g2 'sized' '[]' ',"aspect_ratio":"16:9","size":"1024x1024","background":"#fff"'
	job g3 'dalle' '[]' ',"aspect_ratio":"9:16"'
	job g4 'two' '[]' ',"aspect_ratio":"4:5"'
} | sed '/dalle/s/"gpt-image-1.5"/"dall-e-3"/; /two/s/"gpt-image-1.5"/"gpt-image-2"/' >gen
$G gen >out
is "generations: all succeeded" "$(jq -r .status out | sort -u)" succeeded
L=$(log 'text only')
is "generations: POST JSON, no images" "$(echo "$L" | jq -c '[.path,(.content_type|startswith("application/json")),(.images|length)]')" '["/v1/images/generations",true,0]'
is "generations: fields (n and output_compression are numbers)" "$(echo "$L" | jq -c .fields)" '{"model":"gpt-image-1.5","n":1,"size":"1536x1024","background":"transparent","output_compression":80}'
is "input.size overrides the aspect ratio; a colour background is not sent" "$(log sized | jq -c .fields)" '{"model":"gpt-image-1.5","n":1,"size":"1024x1024"}'
is "dall-e-3: its own portrait size, b64_json asked for" "$(log dalle | jq -c '[.fields.size,.fields.response_format]')" '["1024x1792","b64_json"]'
is "gpt-image-2: the exact ratio" "$(log two | jq -r .fields.size)" 1024x1280

# error classes: retried or not
{
	job n401 'e1 [[fault:401]]'
	job n403 'e2 [[fault:403]]'
	job n400 'e3 [[fault:400]]'
	job n404 'e4 [[fault:404]]'
	job nblk 'e5 [[fault:blocked]]'
	job nquo 'e6 [[fault:quota]]'
	job r429 'e7 [[fault:429*1]]'
	job r500 'e8 [[fault:500*1]]'
	job r502 'e9 [[fault:502*1]]'
	job r503 'e10 [[fault:503*2]]'
	job r504 'e11 [[fault:504*1]]'
	job rdrop 'e12 [[fault:drop*1]]'
	job rtrunc 'e13 [[fault:truncate*1]]'
	job rbadj 'e14 [[fault:badjson*1]]'
	job nempty 'e15 [[fault:textonly]]'
	job a429 'e16 [[fault:429]]'
	job a503 'e17 [[fault:503]]'
} >faults
$G -j 4 --max-attempts 3 faults >out 2>err
is "one record per job" "$(wc -l <out | tr -d ' ')" 17
f() { jq -r "select(.job_id==\"$1\") | [.status,.error.code // \"-\",(.error.retryable|if . == null then \"-\" else tostring end),.error.http_status // \"-\",.attempt] | join(\" \")" out; }
is "401 is auth, not retried" "$(f n401) $(reqs 'e1 [[')" "failed auth false 401 1 1"
is "403 (region) is auth" "$(f n403) $(reqs 'e2 [[')" "failed auth false 403 1 1"
is "400 is bad_request, not retried" "$(f n400) $(reqs 'e3 [[')" "failed bad_request false 400 1 1"
is "404 (model) is model_not_found" "$(f n404) $(reqs 'e4 [[')" "failed model_not_found false 404 1 1"
is "moderation_blocked is blocked" "$(f nblk) $(reqs 'e5 [[')" "failed blocked false 400 1 1"
is "insufficient_quota 429 is quota, not retried" "$(f nquo) $(reqs 'e6 [[')" "failed quota false 429 1 1"
is "429 rate_limit_exceeded without Retry-After: retried" "$(f r429) $(reqs 'e7 [[')" "succeeded - - - 2 2"
is "500 retried" "$(f r500) $(reqs 'e8 [[')" "succeeded - - - 2 2"
is "502 (html body) retried" "$(f r502) $(reqs 'e9 [[')" "succeeded - - - 2 2"
is "503 twice then ok" "$(f r503) $(reqs 'e10 [[')" "succeeded - - - 3 3"
is "504 retried" "$(f r504) $(reqs 'e11 [[')" "succeeded - - - 2 2"
check "dropped connection retried ($(f rdrop))" sh -c "[ '$(f rdrop)' = 'succeeded - - - 2' ] || [ '$(f rdrop)' = 'succeeded - - - 1' ]"
is "truncated body retried" "$(f rtrunc) $(reqs 'e13 [[')" "succeeded - - - 2 2"
is "malformed JSON body retried" "$(f rbadj) $(reqs 'e14 [[')" "succeeded - - - 2 2"
is "an answer without images is bad_response" "$(f nempty)" "failed bad_response true 200 3"
is "always 429: rate_limited after --max-attempts" "$(f a429) $(reqs 'e16 [[')" "failed rate_limited true 429 3 3"
is "always 503: server_error after --max-attempts" "$(f a503) $(reqs 'e17 [[')" "failed server_error true 503 3 3"
is "message from the error body" "$(jq -r 'select(.job_id=="n400") | .error.message' out)" "HTTP 400: Invalid request (stub fault)."
check "blocked message says why" sh -c "jq -r 'select(.job_id==\"nblk\") | .error.message' out | grep -q 'safety system'"
check "the key never reaches records or stderr (faults)" sh -c "! grep -q SECRET out err"

# a wrong key: the stub answers 401 like the API
job k1 'wrong key' >jk
OPENAI_API_KEY=bad-key $G jk >out
is "a rejected key is auth" "$(f k1)" "failed auth false 401 1"
# no key at all: nothing is sent
unset OPENAI_API_KEY
n0=$(wc -l <"$T/stub.log")
job k2 'no key' | $G >out 2>err
is "no OPENAI_API_KEY: a failed record, nothing sent" "$(f k2) $(($(wc -l <"$T/stub.log") - n0))" "failed auth false - 0 0"
export OPENAI_API_KEY=test-key-SECRET-42

# Retry-After (seconds) and retry-after-ms are honoured
{
	job ra 'w1 [[fault:429-ra=1*1]]'
	job rm 'w2 [[fault:429-ms=700*1]]'
} >ra
$G --backoff 0 ra >out
gap() { log "$1" | jq -s -r 'if length==2 then .[1].time - .[0].time - .[0].elapsed_ms/1000 else -1 end'; }
is "both succeed on the second try" "$(jq -r '[.status,.attempt]|join(" ")' out | sort -u)" "succeeded 2"
check "Retry-After: 1 waited (>= 0.95 s: $(gap 'w1 [['))" sh -c "[ \$(echo '$(gap 'w1 [[') >= 0.95' | bc) = 1 ]"
check "retry-after-ms: 700 waited (>= 0.65 s: $(gap 'w2 [['))" sh -c "[ \$(echo '$(gap 'w2 [[') >= 0.65' | bc) = 1 ]"

# a timeout is retryable
job slow 'slow [[fault:slow=3000]]' >js
$G --timeout 0.3 --max-attempts 2 js >out
is "timeout: retryable, --max-attempts holds" "$(f slow)" "failed timeout true - 2"

# --base-url wins over BG_OPENAI_BASE_URL, and a base ending in /v1 works
job bu 'base url' >jb
BG_OPENAI_BASE_URL=http://127.0.0.1:1 $G --base-url "$STUB/v1/" jb >out
is "--base-url with /v1" "$(f bu) $(log 'base url' | jq -r .path)" "succeeded - - - 1 /v1/images/edits"
done_testing
