# bg-generate with the gemini provider against the loopback stub: the
# request sent, response parsing, which faults are retried, Retry-After,
# RetryInfo, reference images fetched once, the cache.
. "$TOP/tests/lib.sh"
mkdir static; mkpng static/a.png 40 30 255 0 0; mkpng static/b.png 20 50 0 0 255
echo nope >static/c.png
python3 -c 'import os; open("static/big.png","wb").write(b"\x89PNG\r\n\x1a\n"+os.urandom(5000))'
start_stub --static static
export BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key-SECRET-77
unset GOOGLE_API_KEY
job() {	# job ID PROMPT [IMAGES-JSON] [INPUT-EXTRA]
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"provider":"gemini","model":"gemini-3.1-flash-image","prompt":"%s","input":{"product_images":%s%s},"status":"planned","attempt":0}\n' \
		"$1" "$2" "${3:-[\"static/a.png\"]}" "${4:-}"
}
reqs() { jq -c "select(.provider==\"gemini\" and (.prompt|contains(\"$1\")))" "$T/stub.log" | wc -l | tr -d ' '; }
G="bg-generate --backoff 0.05 --no-stop-early"	# one fault per job

# the request
job g1 'red shirt' "[\"static/a.png\",\"$STUB/static/b.png\"]" ',"aspect_ratio":"16:9","image_size":"2K"' >j1
$G j1 >out 2>err; rc=$?
is "exit 0" "$rc" 0
is "succeeded" "$(jq -c '[.status,.attempt,.cached,.outputs[0].mime,.outputs[0].width,.outputs[0].height]' out)" '["succeeded",1,false,"image/png",84,48]'
is "request id from responseId" "$(jq -r '.usage.provider_request_id|length > 10' out)" true
L=$(jq -c 'select(.provider=="gemini")' "$T/stub.log")
is "one generateContent POST" "$(echo "$L" | jq -c '[.method,.path,.model,.auth,.status]')" '["POST","/v1beta/models/gemini-3.1-flash-image:generateContent","gemini-3.1-flash-image","ok",200]'
is "prompt and two inline images, in order" "$(echo "$L" | jq -c '[.prompt,(.images|map(.mime)),(.images|map(.key)|unique)]')" '["red shirt",["image/png","image/png"],["inline_data"]]'
is "generationConfig" "$(echo "$L" | jq -c .fields)" '{"responseModalities":["TEXT","IMAGE"],"aspectRatio":"16:9","imageSize":"2K"}'
is "the reference images arrived whole" "$(echo "$L" | jq -r '.images[0].sha256')" "$(sha256sum <static/a.png | cut -d' ' -f1)"
check "the key never reaches records or stderr" sh -c "! grep -q SECRET out err"
check "json content type" sh -c "echo '$L' | jq -e '.content_type|startswith(\"application/json\")' >/dev/null"

# faults: retried or not
{
	job r503 'a [[fault:503*2]]'
	job r500 'b [[fault:500*1]]'
	job r502 'c [[fault:502*1]]'
	job r504 'd [[fault:504*1]]'
	job rtrunc 'e [[fault:truncate*1]]'
	job rbadj 'f [[fault:badjson*1]]'
	job rdrop 'g [[fault:drop*1]]'
	job r429 'h [[fault:429*1]]'
	job n400 'i [[fault:400]]'
	job n401 'j [[fault:401]]'
	job n403 'k [[fault:403]]'
	job n404 'l [[fault:404]]'
	job nblk 'm [[fault:blocked]]'
	job nbf 'n [[fault:blocked-finish]]'
	job ntxt 'o [[fault:textonly]]'
	job nquota 'p [[fault:quota]]'
	job thought 'q [[fault:thought]]'
	job snake 'r [[fault:snake]]'
	job arr 's [[fault:array-error*1]]'
	job always 't [[fault:503]]'
} >faults.ndjson
$G -j 4 --max-attempts 3 faults.ndjson >out 2>err
is "one record per fault job" "$(wc -l <out | tr -d ' ')" 20
f() { jq -r "select(.job_id==\"$1\") | [.status,.error.code // \"-\",(.error.retryable|if .==null then \"-\" else tostring end),.error.http_status // \"-\",.attempt] | join(\" \")" out; }
is "503 twice then ok" "$(f r503) $(reqs 'a [[')" "succeeded - - - 3 3"
is "500 retried" "$(f r500) $(reqs 'b [[')" "succeeded - - - 2 2"
is "502 (html body) retried" "$(f r502) $(reqs 'c [[')" "succeeded - - - 2 2"
is "504 retried" "$(f r504) $(reqs 'd [[')" "succeeded - - - 2 2"
is "truncated body retried" "$(f rtrunc) $(reqs 'e [[')" "succeeded - - - 2 2"
is "unparsable body retried" "$(f rbadj) $(reqs 'f [[')" "succeeded - - - 2 2"
check "dropped connection retried" sh -c "[ '$(f rdrop)' = 'succeeded - - - 2' ] || [ '$(f rdrop)' = 'succeeded - - - 1' ]"
is "429 retried" "$(f r429) $(reqs 'h [[')" "succeeded - - - 2 2"
is "400 not retried" "$(f n400) $(reqs 'i [[')" "failed bad_request false 400 1 1"
is "401 is auth" "$(f n401) $(reqs 'j [[')" "failed auth false 401 1 1"
is "403 is auth" "$(f n403) $(reqs 'k [[')" "failed auth false 403 1 1"
is "404 (unknown model) not retried" "$(f n404) $(reqs 'l [[')" "failed model_not_found false 404 1 1"
is "blockReason is blocked" "$(f nblk) $(reqs 'm [[')" "failed blocked false 200 1 1"
is "IMAGE_SAFETY finish is blocked" "$(f nbf) $(reqs 'n [[')" "failed blocked false 200 1 1"
is "text only is blocked" "$(f ntxt) $(reqs 'o [[')" "failed blocked false 200 1 1"
is "a daily quota is not retried" "$(f nquota) $(reqs 'p [[')" "failed rate_limited false 429 1 1"
is "snake_case answer parsed" "$(f snake)" "succeeded - - - 1"
is "array-shaped error parsed" "$(f arr)" "succeeded - - - 2"
is "always 503: --max-attempts 3" "$(f always) $(reqs 't [[')" "failed server_error true 503 3 3"
is "error.attempts" "$(jq -c 'select(.job_id=="always") | [.error.stage,.error.attempts]' out)" '["generate",3]'
is "message from the error body" "$(jq -r 'select(.job_id=="n400") | .error.message' out)" "HTTP 400: Request contains an invalid argument."
is "blocked message" "$(jq -r 'select(.job_id=="nblk") | .error.message' out)" "gemini: prompt blocked: PROHIBITED_CONTENT"
# the thought image (inverted colour) is skipped: the output has the prompt's colour
want=$(printf %s 'q [[fault:thought]]' | sha256sum | cut -c1-6)
p=$(jq -r 'select(.job_id=="thought") | .outputs[0].path' out)
got=$(python3 -c 'import sys,zlib,struct
b=open(sys.argv[1],"rb").read(); i=b.index(b"IDAT"); n=struct.unpack(">I",b[i-4:i])[0]
print(zlib.decompress(b[i+4:i+4+n])[1:4].hex())' "$BG_ROOT/$p")
is "thought parts are skipped" "$got" "$want"
check "the key never reaches records or stderr (faults)" sh -c "! grep -q SECRET out err"

# Retry-After (seconds, HTTP date) and RetryInfo are honoured
{
	job ra 'u [[fault:429-ra=1*1]]'
	job rd 'v [[fault:429-radate=2*1]]'
	job ri 'w [[fault:429-retryinfo=1.2*1]]'
	job rm 'ms [[fault:429-ms=1100*1]]'
} >ra.ndjson
$G --backoff 0 ra.ndjson >out
gap() { jq -s -r "map(select(.provider==\"gemini\" and (.prompt|contains(\"$1\")))) | if length==2 then .[1].time - .[0].time - .[0].elapsed_ms/1000 else -1 end" "$T/stub.log"; }
is "all four succeed on the second try" "$(jq -r '[.status,.attempt]|join(" ")' out | sort -u)" "succeeded 2"
check "Retry-After: 1 waited (>= 0.95 s: $(gap 'u [['))" sh -c "[ \$(echo '$(gap 'u [[') >= 0.95' | bc) = 1 ]"
check "Retry-After: date waited (>= 0.9 s: $(gap 'v [['))" sh -c "[ \$(echo '$(gap 'v [[') >= 0.9' | bc) = 1 ]"
check "RetryInfo 1.2s waited (>= 1.15 s: $(gap 'w [['))" sh -c "[ \$(echo '$(gap 'w [[') >= 1.15' | bc) = 1 ]"
check "retry-after-ms 1100 waited (>= 1.05 s: $(gap 'ms [['))" sh -c "[ \$(echo '$(gap 'ms [[') >= 1.05' | bc) = 1 ]"

# timeouts
job slow 'x [[fault:slow=3000]]' >slow.ndjson
$G --timeout 0.3 --max-attempts 2 slow.ndjson >out
is "timeout is retryable, --max-attempts holds" "$(f slow)" "failed timeout true - 2"
# the stub logs a slow request when its answer is due: wait for both, so
# they do not count as the next checks' requests
i=0; while [ "$(reqs 'x [[')" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# reference images over HTTP: once per run and once per store
for v in 1 2 3 4; do
	job "v$v" "variant $v" "[\"$STUB/static/a.png\",\"$STUB/static/b.png?sig=SECRET\"]" | sed "s/\"variation\":1/\"variation\":$v/"
done >refs.ndjson
n0=$(wc -l <"$T/stub.log")
$G -j 4 refs.ndjson >out
is "four variations succeed" "$(jq -r .status out | sort -u)" succeeded
statics() { tail -n +$((n0 + 1)) "$T/stub.log" | jq -r 'select(.provider=="static") | .path + "?" + (.query // "")' | sort | uniq -c | awk '{print $1 " " $2}' | tr '\n' ' '; }
is "each reference fetched once for four variations" "$(statics)" "1 /static/a.png? 1 /static/b.png?sig=SECRET "
n0=$(wc -l <"$T/stub.log")
$G --force refs.ndjson >out
is "a new run reuses the stored references" "$(statics)" ""
is "and sends the four requests again (--force)" "$(tail -n +$((n0 + 1)) "$T/stub.log" | jq -r .provider | sort | uniq -c | awk '{print $1 $2}')" 4gemini
check "fetched references are in objects/" test -f "$BG_ROOT/objects/$(sha256sum <static/a.png | cut -c1-2)/$(sha256sum <static/a.png | cut -d' ' -f1).png"
{
	job e404 'y' "[\"$STUB/static/none.png?token=SECRET\"]"
	job e503 'z' "[\"$STUB/static/a.png?fault=503\"]"
	job ebad 'zz' "[\"$STUB/static/c.png\"]"
	job ebig 'zzz' "[\"$STUB/static/big.png\"]"
} >bad.ndjson
$G --max-image-bytes 100 bad.ndjson >out 2>err
is "404 reference" "$(f e404)" "failed image_fetch_failed false - 0"
is "503 reference is retryable" "$(f e503)" "failed image_fetch_failed true - 0"
is "a reference that is not an image" "$(f ebad)" "failed unsupported_image false - 0"
is "a reference over --max-image-bytes" "$(f ebig)" "failed image_too_large false - 0"
check "signed URL queries are not in messages" sh -c "! jq -r .error.message out | grep -q SECRET"

# big bodies take turns (engine_http.c): six of about 1 MB at once, the
# later ones paused until the one before is with libcurl, all arrive whole
python3 -c 'import os
for i in range(6):
	open("big%d.png" % i, "wb").write(b"\x89PNG\r\n\x1a\n" + os.urandom(400000))'
for i in 0 1 2 3 4 5; do job "t$i" "turn $i" "[\"big$i.png\",\"big$(( (i + 1) % 6 )).png\"]"; done >turns.ndjson
n0=$(wc -l <"$T/stub.log")
$G -j 6 --max-attempts 1 --timeout 20 turns.ndjson >out 2>err
is "big bodies: all sent and answered" "$(jq -r .status out | sort | uniq -c | tr -s ' ')" " 6 succeeded"
is "big bodies: every reference arrived whole" "$(tail -n +$((n0 + 1)) "$T/stub.log" | jq -r 'select(.provider=="gemini") | .prompt + " " + (.images | map(.sha256[:12]) | join(" "))' | sort)" "$(for i in 0 1 2 3 4 5; do echo "turn $i $(sha256sum <big$i.png | cut -c1-12) $(sha256sum <big$(( (i + 1) % 6 )).png | cut -c1-12)"; done)"

# the cache: the same jobs again send nothing
n0=$(wc -l <"$T/stub.log") t0=$(date +%s.%N)
$G faults.ndjson >again
is "re-run: succeeded jobs come from the cache" "$(jq -r 'select(.status=="succeeded") | .cached' again | sort -u)" true
# (a slow request of an earlier run is logged when it ends: by time)
is "re-run: only the failed jobs are sent again" "$(tail -n +$((n0 + 1)) "$T/stub.log" | jq -r --argjson t0 "$t0" 'select(.time >= $t0) | .prompt' | sort -u)" "$(jq -r 'select(.status=="failed") | .prompt' again | sort -u)"
n0=$(wc -l <"$T/stub.log")
jq -c 'select(.status=="succeeded")' again | $G >pass
is "succeeded results pass through untouched" "$(cat pass)" "$(jq -c 'select(.status=="succeeded")' again)"
is "and send nothing" "$(tail -n +$((n0 + 1)) "$T/stub.log" | wc -l | tr -d ' ')" 0
done_testing
