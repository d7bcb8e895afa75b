#!/bin/sh
# tests/stub/selftest.sh: start bg-stub.py on a free port, talk to it with
# curl(1) and check what it answers and logs.  Prints "ok - ..." and
# "not ok - ..." lines, then "N passed, N failed"; exits 0 when all passed.
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
KEY=sk-selftest-SECRET-4242
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bg-stub-test.XXXXXX") || exit 1
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

npass=0 nfail=0
pass() { echo "ok - $*"; npass=$((npass + 1)); }
flunk() { echo "not ok - $*"; nfail=$((nfail + 1)); }
check() { d=$1; shift; if "$@"; then pass "$d"; else flunk "$d"; fi; }
is() { if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1: got '$2', want '$3'"; fi; }
# jget FILE EXPR: print a Python expression over the JSON document d
jget() { "$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
v=eval(sys.argv[2])
print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1" "$2" 2>/dev/null; }
# pnginfo FILE: "WxH" of a PNG file, or "bad"
pnginfo() { "$PY" -c 'import struct,sys
b=open(sys.argv[1],"rb").read()
assert b[:8]==b"\x89PNG\r\n\x1a\n" and b[12:16]==b"IHDR"
print("%dx%d" % struct.unpack(">II", b[16:24]))' "$1" 2>/dev/null || echo bad; }
# b64png JSONFILE EXPR OUT: decode a base64 string from a JSON file into OUT
b64png() { "$PY" -c 'import base64,json,sys
d=json.load(open(sys.argv[1]))
open(sys.argv[3],"wb").write(base64.b64decode(eval(sys.argv[2])))' "$1" "$2" "$3" 2>/dev/null; }

# ---- test images, made with python3 (no downloads) ----
mkdir -p "$tmp/static/sub"
"$PY" - "$tmp" <<'EOF'
import os, struct, sys, zlib
d = sys.argv[1]
def png(w, h, rgb):
    raw = (b"\x00" + bytes(rgb) * w) * h
    ch = lambda t, x: struct.pack(">I", len(x)) + t + x + struct.pack(">I", zlib.crc32(t + x))
    return (b"\x89PNG\r\n\x1a\n" + ch(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + ch(b"IDAT", zlib.compress(raw)) + ch(b"IEND", b""))
open(d + "/a.png", "wb").write(png(8, 8, (255, 0, 0)))
open(d + "/b.png", "wb").write(png(16, 8, (0, 0, 255)))
open(d + "/static/sub/c.png", "wb").write(png(4, 4, (0, 255, 0)))
open(d + "/static/note.txt", "w").write("hello\n")
open(d + "/bad.png", "wb").write(b"GIF89a not really an image")
# a 1.5 MB "image": PNG magic, then noise (the stub checks magic bytes only)
big = png(8, 8, (1, 2, 3)) + os.urandom(1500000)
import base64, json
body = {"contents": [{"parts": [{"text": "big upload"},
        {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(big).decode()}}]}]}
open(d + "/big.json", "w").write(json.dumps(body))
a = base64.b64encode(open(d + "/a.png", "rb").read()).decode()
open(d + "/a.b64", "w").write(a)
EOF
A64=$(cat "$tmp/a.b64")
printf 'outside\n' >"$tmp/secret.txt"

# ---- start the stub ----
"$PY" "$here/bg-stub.py" --port-file "$tmp/port" --log "$tmp/log" \
	--static "$tmp/static" --seed 7 2>"$tmp/stub.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -s "$tmp/port" ]; then
	flunk "stub did not start: $(cat "$tmp/stub.err")"
	echo "$npass passed, $nfail failed"; exit 1
fi
port=$(cat "$tmp/port")
B=http://127.0.0.1:$port
pass "stub listening on port $port"

# gemini BODYFILE_OUT PROMPT [RATIO]: POST a generateContent with image a.png
gemini() {
	out=$1 prompt=$2 ratio=${3:-1:1}
	printf '{"contents":[{"role":"user","parts":[{"text":"%s"},{"inline_data":{"mime_type":"image/png","data":"%s"}},{"inlineData":{"mimeType":"image/png","data":"%s"}}]}],"generationConfig":{"responseModalities":["TEXT","IMAGE"],"imageConfig":{"aspectRatio":"%s"}}}' \
		"$prompt" "$A64" "$A64" "$ratio" >"$tmp/req.json"
	curl -s -o "$out" -D "$out.h" -w '%{http_code}' \
		-H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' \
		--data-binary @"$tmp/req.json" \
		"$B/v1beta/models/gemini-3.1-flash-image:generateContent"
}
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n 1; }

# ---- Gemini ----
code=$(gemini "$tmp/g1" "studio photo of a red shirt")
is "gemini success status" "$code" 200
is "gemini response part 0 is text" "$(jget "$tmp/g1" '"text" in d["candidates"][0]["content"]["parts"][0]')" true
is "gemini finishReason" "$(jget "$tmp/g1" 'd["candidates"][0]["finishReason"]')" STOP
is "gemini mimeType" "$(jget "$tmp/g1" 'd["candidates"][0]["content"]["parts"][1]["inlineData"]["mimeType"]')" image/png
check "gemini usageMetadata/modelVersion/responseId" \
	test "$(jget "$tmp/g1" 'all(k in d for k in ("usageMetadata","modelVersion","responseId"))')" = true
b64png "$tmp/g1" 'd["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]' "$tmp/g1.png"
is "gemini PNG magic and IHDR 1:1" "$(pnginfo "$tmp/g1.png")" 64x64
gemini "$tmp/g2" "studio photo of a red shirt" >/dev/null
b64png "$tmp/g2" 'd["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]' "$tmp/g2.png"
check "gemini same prompt gives the same bytes" cmp -s "$tmp/g1.png" "$tmp/g2.png"
gemini "$tmp/g3" "wide shot" 16:9 >/dev/null
b64png "$tmp/g3" 'd["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]' "$tmp/g3.png"
is "gemini 16:9 size" "$(pnginfo "$tmp/g3.png")" 84x48
is "gemini unknown aspect ratio" "$(gemini "$tmp/g4" "x" 7:5)" 400
is "gemini 400 status name" "$(jget "$tmp/g4" 'd["error"]["status"]')" INVALID_ARGUMENT

is "gemini missing key" "$(curl -s -o "$tmp/g5" -w '%{http_code}' -d '{"contents":[{"parts":[{"text":"x"}]}]}' "$B/v1beta/models/m:generateContent")" 401
is "gemini missing key status" "$(jget "$tmp/g5" 'd["error"]["status"]')" UNAUTHENTICATED
is "gemini bad key" "$(curl -s -o "$tmp/g6" -w '%{http_code}' -H 'x-goog-api-key: bad-key' -d '{"contents":[{"parts":[{"text":"x"}]}]}' "$B/v1beta/models/m:generateContent")" 403
is "gemini bad key status" "$(jget "$tmp/g6" 'd["error"]["status"]')" PERMISSION_DENIED
is "gemini non-image inline data" "$(curl -s -o /dev/null -w '%{http_code}' -H "x-goog-api-key: $KEY" -d '{"contents":[{"parts":[{"text":"x"},{"inline_data":{"mime_type":"image/png","data":"R0lGODlhAQABAAAAACw="}}]}]}' "$B/v1beta/models/m:generateContent")" 400

# fault tokens
p='fault once [[fault:503*1]]'
is "gemini [[fault:503*1]] first request" "$(gemini "$tmp/f1" "$p")" 503
is "gemini 503 status name" "$(jget "$tmp/f1" 'd["error"]["status"]')" UNAVAILABLE
is "gemini [[fault:503*1]] second request" "$(gemini "$tmp/f1" "$p")" 200
p='chain [[fault:503*1]][[fault:429*1]]'
r1=$(gemini "$tmp/f2" "$p"); r2=$(gemini "$tmp/f2" "$p"); r3=$(gemini "$tmp/f2" "$p")
is "gemini chained tokens" "$r1 $r2 $r3" "503 429 200"
is "gemini 429-ra=2 status" "$(gemini "$tmp/f3" 'ra [[fault:429-ra=2]]')" 429
is "gemini 429-ra=2 Retry-After header" "$(hdr "$tmp/f3.h" retry-after)" 2
gemini "$tmp/f4" 'rd [[fault:429-radate=30]]' >/dev/null
check "429-radate gives an HTTP-date" sh -c "tr -d '\r' <'$tmp/f4.h' | grep -Eiq '^retry-after: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$'"
gemini "$tmp/f5" 'ri [[fault:429-retryinfo=7]]' >/dev/null
is "gemini RetryInfo retryDelay" "$(jget "$tmp/f5" '[x["retryDelay"] for x in d["error"]["details"] if x["@type"].endswith("RetryInfo")][0]')" 7s
is "gemini RetryInfo without header" "$(hdr "$tmp/f5.h" retry-after)" ""
gemini "$tmp/f6" 'q [[fault:quota]]' >/dev/null
check "gemini quota has a PerDay quotaId" grep -q PerDay "$tmp/f6"
gemini "$tmp/f7" 'ae [[fault:array-error]][[fault:500]]' >/dev/null
is "gemini array-error" "$(jget "$tmp/f7" 'd[0]["error"]["status"]')" INTERNAL
gemini "$tmp/f8" 'th [[fault:thought]]' >/dev/null
is "gemini thought part first" "$(jget "$tmp/f8" '[p.get("thought",False) for p in d["candidates"][0]["content"]["parts"]]')" "[true, false, false]"
gemini "$tmp/f9" 'sn [[fault:snake]]' >/dev/null
is "gemini snake_case" "$(jget "$tmp/f9" 'd["candidates"][0]["content"]["parts"][1]["inline_data"]["mime_type"]')" image/png
gemini "$tmp/f10" 'bl [[fault:blocked]]' >/dev/null
is "gemini blocked" "$(jget "$tmp/f10" 'd["promptFeedback"]["blockReason"] + str("candidates" in d)')" PROHIBITED_CONTENTFalse
gemini "$tmp/f11" 'bf [[fault:blocked-finish]]' >/dev/null
is "gemini blocked-finish" "$(jget "$tmp/f11" 'd["candidates"][0]["finishReason"]')" IMAGE_SAFETY
gemini "$tmp/f12" 'to [[fault:textonly]]' >/dev/null
is "gemini textonly" "$(jget "$tmp/f12" 'len(d["candidates"][0]["content"]["parts"])')" 1
is "unknown fault token rejected" "$(gemini "$tmp/f13" 'x [[fault:nonsense]]')" 400

# delivery faults
curl -s -o /dev/null -H "x-goog-api-key: $KEY" -d '{"contents":[{"parts":[{"text":"dr [[fault:drop]]"}]}]}' "$B/v1beta/models/m:generateContent"; rc=$?
is "drop: curl sees an empty reply (exit 52)" "$rc" 52
curl -s -o "$tmp/d2" -H "x-goog-api-key: $KEY" -d '{"contents":[{"parts":[{"text":"tr [[fault:truncate]]"}]}]}' "$B/v1beta/models/m:generateContent"; rc=$?
is "truncate: curl sees a partial body (exit 18)" "$rc" 18
check "truncate sent part of the body" test -s "$tmp/d2"
code=$(curl -s -o "$tmp/d3" -w '%{http_code}' -H "x-goog-api-key: $KEY" -d '{"contents":[{"parts":[{"text":"bj [[fault:badjson]]"}]}]}' "$B/v1beta/models/m:generateContent"); rc=$?
is "badjson: complete 200" "$rc:$code" 0:200
check "badjson: body does not parse" sh -c "! '$PY' -c 'import json,sys; json.load(open(sys.argv[1]))' '$tmp/d3' 2>/dev/null"
curl -s -o /dev/null -m 1 -H "x-goog-api-key: $KEY" -d '{"contents":[{"parts":[{"text":"hg [[fault:hang]]"}]}]}' "$B/v1beta/models/m:generateContent"; rc=$?
is "hang: client times out (exit 28)" "$rc" 28
s0=$(date +%s%N)
gemini "$tmp/d4" 'sl [[fault:slow=600]]' >/dev/null
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
check "slow=600 takes >= 600 ms (took $ms)" test "$ms" -ge 600 -a "$ms" -lt 3000

# Expect: 100-continue (curl sends it for bodies > 1 MB and waits 1 s) and chunked bodies
# (the stub's "100 Continue" is what spares curl the wait: look for it
# rather than time the request, which a loaded machine can slow past 1 s)
code=$(curl -sv -o /dev/null -w '%{http_code}' -H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' --data-binary @"$tmp/big.json" "$B/v1beta/models/m:generateContent" 2>"$tmp/expect.err")
is "1.5 MB request status" "$code" 200
check "1.5 MB request: curl sent Expect: 100-continue" grep -qi '^> Expect: 100-continue' "$tmp/expect.err"
check "1.5 MB request: answered 100 Continue, so curl does not wait its 1 s" grep -q '^< HTTP/1.1 100 Continue' "$tmp/expect.err"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-goog-api-key: $KEY" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @"$tmp/big.json" "$B/v1beta/models/m:generateContent")
is "chunked request body" "$code" 200

# ---- OpenAI ----
code=$(curl -s -o "$tmp/o1" -D "$tmp/o1.h" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
	-F model=gpt-image-1.5 -F 'prompt=gift basket' -F size=1536x1024 -F quality=low \
	-F "image[]=@$tmp/a.png;type=image/png" -F "image[]=@$tmp/b.png;type=image/png" \
	"$B/v1/images/edits")
is "openai edits status" "$code" 200
b64png "$tmp/o1" 'd["data"][0]["b64_json"]' "$tmp/o1.png"
is "openai edits image" "$(pnginfo "$tmp/o1.png")" 96x64
check "openai x-request-id" sh -c "tr -d '\r' <'$tmp/o1.h' | grep -Eiq '^x-request-id: req_[0-9a-f]+$'"
is "openai usage present" "$(jget "$tmp/o1" '"input_tokens" in d["usage"]')" true
is "openai edits without image" "$(curl -s -o "$tmp/o2" -w '%{http_code}' -H "Authorization: Bearer $KEY" -F 'prompt=x' "$B/v1/images/edits")" 400
is "openai edits wrong part type" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -F 'prompt=x' -F "image=@$tmp/bad.png;type=image/gif" "$B/v1/images/edits")" 400
is "openai missing key" "$(curl -s -o "$tmp/o3" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"prompt":"x"}' "$B/v1/images/generations")" 401
is "openai missing key code" "$(jget "$tmp/o3" 'd["error"]["type"]+"/"+d["error"]["code"]')" invalid_request_error/invalid_api_key
is "openai bad size" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"x","size":"1000x1000"}' "$B/v1/images/generations")" 400
is "openai generations" "$(curl -s -o "$tmp/o4" -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"model":"gpt-image-2","prompt":"otter","size":"1024x1024"}' "$B/v1/images/generations")" 200
b64png "$tmp/o4" 'd["data"][0]["b64_json"]' "$tmp/o4.png"
is "openai generations image" "$(pnginfo "$tmp/o4.png")" 64x64
curl -s -o "$tmp/o5" -D "$tmp/o5.h" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"ms [[fault:429-ms=1500]]"}' "$B/v1/images/generations"
is "openai 429-ms header" "$(hdr "$tmp/o5.h" retry-after-ms)" 1500
is "openai 429 code" "$(jget "$tmp/o5" 'd["error"]["code"]')" rate_limit_exceeded
curl -s -o "$tmp/o6" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"mb [[fault:blocked]]"}' "$B/v1/images/generations"
is "openai blocked" "$(jget "$tmp/o6" 'd["error"]["code"]')" moderation_blocked
curl -s -o "$tmp/o7" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"iq [[fault:quota]]"}' "$B/v1/images/generations"
is "openai quota" "$(jget "$tmp/o7" 'd["error"]["code"]')" insufficient_quota

# ---- Replicate ----
rep() { curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
s0=$(date +%s%N)
code=$(rep -o "$tmp/r1" -w '%{http_code}' -H 'Prefer: wait=1' \
	-d "{\"input\":{\"prompt\":\"slow one [[fault:slow=2500]]\",\"image_input\":[\"data:image/png;base64,$A64\"],\"aspect_ratio\":\"3:4\",\"output_format\":\"png\"}}" \
	"$B/v1/models/google/gemini-2.5-flash-image/predictions")
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
is "replicate create status" "$code" 201
check "replicate Prefer: wait=1 returned after ~1 s (took $ms ms)" test "$ms" -ge 900 -a "$ms" -lt 2000
st=$(jget "$tmp/r1" 'd["status"]')
check "replicate not finished after the wait ($st)" test "$st" = starting -o "$st" = processing
get=$(jget "$tmp/r1" 'd["urls"]["get"]')
case $get in "$B"/v1/predictions/*) pass "replicate urls.get points at the stub";; *) flunk "replicate urls.get: $get";; esac
i=0
while [ $i -lt 40 ]; do
	rep -o "$tmp/r2" "$get"
	st=$(jget "$tmp/r2" 'd["status"]')
	[ "$st" = succeeded ] && break
	sleep 0.1; i=$((i + 1))
done
is "replicate poll reaches succeeded" "$st" succeeded
out=$(jget "$tmp/r2" 'd["output"]')
is "replicate output download" "$(curl -s -o "$tmp/r2.png" -w '%{http_code}' "$out")" 200
is "replicate output is a PNG of 3:4" "$(pnginfo "$tmp/r2.png")" 54x74
code=$(rep -o "$tmp/r3" -w '%{http_code}' -H 'Prefer: wait' -d '{"input":{"prompt":"quick"}}' "$B/v1/models/google/gemini-2.5-flash-image/predictions")
is "replicate Prefer: wait, fast run" "$code:$(jget "$tmp/r3" 'd["status"]')" 201:succeeded
is "replicate unknown key" "$(rep -o /dev/null -w '%{http_code}' -d '{"input":{"prompt":"x"},"bogus":1}' "$B/v1/models/a/b/predictions")" 422
is "replicate no token" "$(curl -s -o "$tmp/r4" -w '%{http_code}' -d '{"input":{"prompt":"x"}}' "$B/v1/models/a/b/predictions")" 401
check "replicate 401 detail" test -n "$(jget "$tmp/r4" 'd["detail"]')"
rep -o "$tmp/r5" -H 'Prefer: wait=5' -d '{"input":{"prompt":"nsfw [[fault:blocked]]"}}' "$B/v1/models/a/b/predictions"
is "replicate blocked" "$(jget "$tmp/r5" 'd["status"]+"|"+d["error"]')" "failed|NSFW content detected. Try running it again, or try a different prompt."
rep -o "$tmp/r6" -d '{"version":"a/b:0123","input":{"prompt":"listed [[fault:slow=5000]]"}}' "$B/v1/predictions"
id=$(jget "$tmp/r6" 'd["id"]')
rep -o "$tmp/r7" "$B/v1/predictions"
is "replicate list newest first" "$(jget "$tmp/r7" 'd["results"][0]["id"]')" "$id"
rep -o "$tmp/r8" -X POST "$B/v1/predictions/$id/cancel"
is "replicate cancel" "$(jget "$tmp/r8" 'd["status"]')" canceled
code=$(curl -s -o "$tmp/r9" -w '%{http_code}' -H "Authorization: Bearer $KEY" -F "content=@$tmp/a.png;type=image/png" "$B/v1/files")
is "replicate file upload" "$code" 201
is "replicate file sha256" "$(jget "$tmp/r9" 'd["checksums"]["sha256"]')" "$(sha256sum <"$tmp/a.png" | cut -d' ' -f1)"
fget=$(jget "$tmp/r9" 'd["urls"]["get"]')
curl -s -o "$tmp/r10" -H "Authorization: Bearer $KEY" "$fget"
check "replicate file download" cmp -s "$tmp/a.png" "$tmp/r10"
rep -o "$tmp/r11" -H 'Prefer: wait=5' -d "{\"input\":{\"prompt\":\"from file\",\"image_input\":[\"$fget\"]}}" "$B/v1/models/a/b/predictions"
is "replicate with uploaded file URL" "$(jget "$tmp/r11" 'd["status"]')" succeeded

# ---- static ----
code=$(curl -s -o "$tmp/s1" -D "$tmp/s1.h" -w '%{http_code}' "$B/static/sub/c.png")
is "static file" "$code" 200
check "static bytes" cmp -s "$tmp/s1" "$tmp/static/sub/c.png"
is "static content type" "$(hdr "$tmp/s1.h" content-type)" image/png
is "static missing" "$(curl -s -o /dev/null -w '%{http_code}' "$B/static/nope.png")" 404
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$B/static/../secret.txt")
check "static refuses ../ ($code)" test "$code" = 403 -o "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/static/%2e%2e/secret.txt")
check "static refuses %2e%2e/ ($code)" test "$code" = 403 -o "$code" = 404
is "static ?fault=404" "$(curl -s -o /dev/null -w '%{http_code}' "$B/static/sub/c.png?fault=404")" 404

# ---- request log ----
sleep 0.2
check "every log line is JSON" "$PY" -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$tmp/log"
check "the API key never appears in the log" sh -c "! grep -q '$KEY' '$tmp/log'"
check "no base64 image bodies in the log" sh -c "! grep -q '$A64' '$tmp/log'"
curl -s -o "$tmp/stats0" "$B/_stub/stats"
n_log=$(grep -vc '"provider":"control"' "$tmp/log")
is "log has one line per request" "$n_log" "$(jget "$tmp/stats0" 'd["requests"]')"
is "log: gemini images recorded" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["prompt"]=="studio photo of a red shirt":
        print(len(r["images"]), r["images"][0]["mime"], r["auth"], r["fields"]["aspectRatio"]); break' "$tmp/log")" "2 image/png ok 1:1"
is "log: openai edits multipart" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["prompt"]=="gift basket":
        print(len(r["images"]), r["images"][1]["field"], r["fields"]["size"], r["model"]); break' "$tmp/log")" "2 image[] 1536x1024 gpt-image-1.5"
is "log: fault and status" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["prompt"]=="ra [[fault:429-ra=2]]":
        print(r["fault"], r["status"]); break' "$tmp/log")" "429-ra=2 429"
is "log: curl sent Expect: 100-continue for the 1.5 MB body" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["prompt"]=="big upload":
        print(r["headers"].get("expect"), r["images"][0]["bytes"] > 1000000); break' "$tmp/log")" "100-continue True"
is "log: dropped request" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["fault"]=="drop":
        print(r["status"]); break' "$tmp/log")" None
is "log: replicate input keys" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["prompt"] and r["prompt"].startswith("slow one"):
        print(",".join(r["input_keys"]), r["images"][0]["mime"]); break' "$tmp/log")" "aspect_ratio,image_input,output_format,prompt image/png"
is "log: output download without auth" "$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["path"].startswith("/replicate/files/"):
        print(r["auth"]); break' "$tmp/log")" missing

# ---- concurrency: 2000 requests, 500 in flight, 200 ms each ----
curl -s -o /dev/null -X POST "$B/_stub/reset"
printf '{"contents":[{"parts":[{"text":"load [[fault:slow=200]]"}]}]}' >"$tmp/load.json"
s0=$(date +%s%N)
load() {	# curl 7.x caps --parallel-max at 300, so use two processes
	curl -s -Z --parallel-max 250 --parallel-immediate \
		-H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' \
		--data-binary @"$tmp/load.json" -w '%{stderr}code=%{http_code}\n' \
		"$B/v1beta/models/m:generateContent?n=[1-1000]" >/dev/null 2>"$tmp/codes$1"
}
load 1 & c1=$!
load 2 & c2=$!
wait "$c1"; wait "$c2"
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
curl -s -o "$tmp/stats" "$B/_stub/stats"
# (curl 7.88 draws its parallel progress meter on stderr even with -s)
n200=$(cat "$tmp/codes1" "$tmp/codes2" | grep -o 'code=200' | wc -l)
is "2000 concurrent requests all 200 (took $ms ms)" "$n200" 2000
is "stub counted 2000 requests" "$(jget "$tmp/stats" 'd["requests"]')" 2000
is "stub by_status 200" "$(jget "$tmp/stats" 'd["by_status"].get("200")')" 2000
mif=$(jget "$tmp/stats" 'd["max_in_flight"]')
check "max_in_flight >= 400 ($mif)" test "${mif:-0}" -ge 400
is "in_flight back to 0" "$(jget "$tmp/stats" 'd["in_flight"]')" 0

# ---- shutdown ----
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
is "stub exits 0 on SIGTERM" "$rc" 0
check "stub printed nothing on stderr" test ! -s "$tmp/stub.err"

# ---- --workers: several processes on one port ----
"$PY" "$here/bg-stub.py" --port-file "$tmp/wport" --workers 3 \
	2>"$tmp/w.err" &
pid=$!
i=0
while [ ! -s "$tmp/wport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
W=http://127.0.0.1:$(cat "$tmp/wport")
is "--workers 3: three processes" "$(( $(pgrep -c -P "$pid") + 1 ))" 3
# new connections each: the kernel spreads them over the processes
printf '{"contents":[{"parts":[{"text":"workers"}]}]}' >"$tmp/w.json"
for i in $(seq 30); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "x-goog-api-key: $KEY" \
		-H 'Content-Type: application/json' \
		--data-binary @"$tmp/w.json" "$W/v1beta/models/m:generateContent"
done >"$tmp/wcodes"
is "--workers 3: 30 requests all 200" "$(grep -c '^200$' "$tmp/wcodes")" 30
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
is "--workers 3: exits 0 on SIGTERM" "$rc" 0
sleep 0.2
is "--workers 3: no process left" "$(pgrep -f -c "port-file $tmp/wport")" 0
"$PY" "$here/bg-stub.py" --workers 2 --log "$tmp/wlog" 2>"$tmp/w.err"
is "--workers with --log: usage error" "$?" 2

# ---- --image-noise: images as large as photos, one per prompt ----
"$PY" "$here/bg-stub.py" --port-file "$tmp/nport" --image-size 32x16 \
	--image-noise 2>"$tmp/n.err" &
pid=$!
i=0
while [ ! -s "$tmp/nport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
B=http://127.0.0.1:$(cat "$tmp/nport")
gemini "$tmp/n1" "noise one" >/dev/null
gemini "$tmp/n2" "noise two" >/dev/null
gemini "$tmp/n3" "noise one" >/dev/null
for n in 1 2 3; do
	b64png "$tmp/n$n" 'd["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]' "$tmp/n$n.png"
done
# every chunk's CRC right, the pixels 16 rows of 32 RGB pixels, stored
# (no smaller than the pixels), and not all alike
is "--image-noise: a valid 32x16 PNG of random stored pixels" "$("$PY" -c 'import struct,sys,zlib
b=open(sys.argv[1],"rb").read(); i=8; idat=b""
assert b[:8]==b"\x89PNG\r\n\x1a\n"
while i < len(b):
	n,=struct.unpack(">I",b[i:i+4]); t=b[i+4:i+8]; d=b[i+8:i+8+n]
	assert struct.unpack(">I",b[i+8+n:i+12+n])[0]==zlib.crc32(t+d)
	if t==b"IDAT": idat+=d
	i+=12+n
raw=zlib.decompress(idat)
assert len(raw)==16*(1+32*3) and len(idat)>len(raw) and len(set(raw))>100
print("%dx%d" % struct.unpack(">II", b[16:24]))' "$tmp/n1.png" 2>&1)" 32x16
cmp -s "$tmp/n1.png" "$tmp/n2.png"
is "--image-noise: each prompt its own file" "$?" 1
check "--image-noise: the same prompt the same file" cmp -s "$tmp/n1.png" "$tmp/n3.png"
kill "$pid"; wait "$pid" 2>/dev/null; pid=

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
