# bg-generate with the offline local provider: images, records, pass-through,
# reference errors, the request cache, --force, --inline.
. "$TOP/tests/lib.sh"
export BG_ROOT=$T/store
mkpng a.png 40 30 255 0 0; mkpng b.png 20 50 0 0 255
echo 'not an image' >text.png
python3 -c 'import struct,zlib,os
ch=lambda t,d:struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
raw=b"".join(b"\0"+os.urandom(300) for _ in range(100))
open("big.png","wb").write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",100,100,8,2,0,0,0))+ch(b"IDAT",zlib.compress(raw))+ch(b"IEND",b""))'
job() {	# job ID IMAGES-JSON [INPUT-EXTRA]
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"prompt":"p","input":{"product_images":%s%s},"status":"planned","attempt":0,"mine":{"x":1}}\n' "$1" "$2" "${3:-}"
}
{
	job l1 '["a.png","b.png"]' ',"aspect_ratio":"16:9","long_side":320'
	job l2 '["a.png"]' ',"aspect_ratio":"4:5","long_side":500,"background":"#000"'
	job l3 '["a.png","b.png","a.png","file://'"$T"'/b.png"]'
	echo 'this is { not json'
	job l4 '["missing.png"]'
	job l5 '["text.png"]'
	job l6 '[]'
	echo '{"job_id":"s1","status":"succeeded","outputs":[],"z":[1,2]}'
	echo '{"job_id":"f1","status":"failed","error":{"stage":"plan","code":"invalid_images","message":"m","retryable":false}}'
	job l7 '["big.png"]'
} >jobs.ndjson
bg-generate --max-image-bytes 2000 jobs.ndjson >out 2>err; rc=$?
is "a bad line gives exit 1" "$rc" 1
is "one record per input line" "$(wc -l <out | tr -d ' ')" 10
check "every output line is JSON" jq -e . out >/dev/null
is "stderr names the bad line" "$(cat err)" "bg-generate: jobs.ndjson:4: invalid JSON near column 1"
r() { jq -c "select(.job_id==\"$1\") | $2" out; }
is "16:9 at 320 px" "$(r l1 '[.status,.outputs[0].width,.outputs[0].height,.outputs[0].mime]')" '["succeeded",320,180,"image/png"]'
is "4:5 at 500 px" "$(r l2 '[.outputs[0].width,.outputs[0].height]')" '[400,500]'
is "default 1:1 at 1024 px, file:// URL" "$(r l3 '[.status,.outputs[0].width,.outputs[0].height]')" '["succeeded",1024,1024]'
p=$(r l1 '.outputs[0].path' | tr -d '"')
check "output stored under objects/" test -f "$BG_ROOT/$p"
is "stored file is what the record says" "$(sha256sum <"$BG_ROOT/$p" | cut -d' ' -f1)" "$(r l1 '.outputs[0].sha256' | tr -d '"')"
is "bytes field" "$(wc -c <"$BG_ROOT/$p" | tr -d ' ')" "$(r l1 '.outputs[0].bytes')"
is "vips agrees on the size" "$(vipsheader -f width "$BG_ROOT/$p")x$(vipsheader -f height "$BG_ROOT/$p")" 320x180
is "result fields" "$(r l1 '[.attempt,.cached,(.usage|has("elapsed_ms")),.mine.x,.status]')" '[1,false,true,1,"succeeded"]'
is "missing file" "$(r l4 '[.status,.error.stage,.error.code,.error.retryable]')" '["failed","generate","image_fetch_failed",false]'
is "not an image" "$(r l5 '.error.code')" '"unsupported_image"'
is "no images" "$(r l6 '.error.code')" '"invalid_images"'
is "too large" "$(r l7 '.error.code')" '"image_too_large"'
is "too large: the message names --max-image-bytes, in MB" "$(r l7 '.error.message')" \
	'"big.png: larger than 0.001907 MB (--max-image-bytes 2000): shrink the image or raise --max-image-bytes"'
is "succeeded record passes through untouched" "$(grep '"s1"' out)" '{"job_id":"s1","status":"succeeded","outputs":[],"z":[1,2]}'
is "other stage's failure passes through untouched" "$(grep '"f1"' out)" "$(grep '"f1"' jobs.ndjson)"
check "no temp files left in the store" sh -c "! find '$BG_ROOT' -name '*.tmp.*' | grep -q ."

bg-generate <out >again 2>/dev/null
is "a bad_json record of its own passes through" "$(grep bad_json again)" "$(grep bad_json out)"

# deterministic: the same inputs give the same bytes
job l8 '["a.png","b.png"]' ',"aspect_ratio":"16:9","long_side":320' >j8
bg-generate j8 >out8
is "same inputs, same picture" "$(jq -r '.outputs[0].sha256' out8)" "$(r l1 '.outputs[0].sha256' | tr -d '"')"

# the request cache: a re-run answers from the store
grep -v 'not json' jobs.ndjson | head -3 >ok.ndjson
bg-generate ok.ndjson >run1
bg-generate ok.ndjson >run2; rc=$?
is "re-run exit 0" "$rc" 0
is "re-run: all cached" "$(jq -r .cached run2 | sort -u)" true
is "re-run: same outputs" "$(jq -c '[.job_id,.outputs]' run2 | sort)" "$(jq -c '[.job_id,.outputs]' run1 | sort)"
bg-generate --force ok.ndjson >run3
is "--force: not cached" "$(jq -r .cached run3 | sort -u)" false
# a changed input is another request
sed 's/"variation":1/"variation":2/' ok.ndjson | bg-generate >run4
is "another variation is not cached" "$(jq -r .cached run4 | sort -u)" false
# failed at generate: tried again
jq -c '.status="failed" | .error={"stage":"generate","code":"timeout","retryable":true,"message":"m"}' ok.ndjson | head -1 | bg-generate >run5
is "a generate failure is retried (from the cache here)" "$(jq -c '[.status,.cached,has("error")]' run5)" '["succeeded",true,false]'

# --inline carries the bytes
bg-generate --inline ok.ndjson >run6
p=$(jq -r '.outputs[0].path' run6 | head -1)
is "--inline data is the stored object" "$(jq -r '.outputs[0].data' run6 | head -1 | base64 -d | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$BG_ROOT/$p" | cut -d' ' -f1)"
bg-generate --inline --force j8 >run7
is "--inline on a fresh result" "$(jq -r '.outputs[0].data' run7 | base64 -d | sha256sum | cut -d' ' -f1)" "$(jq -r '.outputs[0].sha256' run7)"

# more jobs than the read-ahead, from a regular file: offline jobs finish
# without any epoll event, so the loop must not sleep while input is ready
# (it once waited 60 s per read-ahead window; bounded, not timed)
for i in $(seq 1 40); do job "many$i" '["a.png"]' ',"long_side":64'; done >many.ndjson
timeout 30 bg-generate -j 2 many.ndjson >run8; rc=$?
is "40 local jobs from a file with -j 2 finish (no idle wait)" "$rc/$(jq -r .status run8 | sort | uniq -c | tr -s ' ')" "0/ 40 succeeded"

# usage
bg-generate --jobs 0 </dev/null 2>err; is "bad -j: exit 2" "$?" 2
bg-generate --bogus </dev/null 2>/dev/null; is "unknown option: exit 2" "$?" 2
bg-generate --provider nope </dev/null 2>err; is "unknown provider: exit 2" "$?" 2
env -u GEMINI_API_KEY -u GOOGLE_API_KEY bg-generate --provider gemini </dev/null 2>err
is "gemini without a key: exit 2" "$?" 2
bg-generate --help | grep -q '^usage: bg-generate'; is "--help on stdout" "$?" 0
is "--version" "$(bg-generate --version | cut -d' ' -f1)" bg-generate
done_testing
