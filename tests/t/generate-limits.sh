# bg-generate: -j, --rpm (first attempts and retries), the budget caps with
# requests in flight, and AIMD concurrency after repeated 429s.
. "$TOP/tests/lib.sh"
python3 -c 'import struct,zlib
ch=lambda t,d:struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
open("a.png","wb").write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",8,8,8,2,0,0,0))+ch(b"IDAT",zlib.compress(b"\0"+b"\x80"*24)*1)+ch(b"IEND",b""))'
export BG_ROOT=$T/store GEMINI_API_KEY=k
jobs() {	# jobs N PREFIX [PRICE]: N gemini jobs, prompts "PREFIX i"
	i=1; while [ $i -le "$1" ]; do
		printf '{"job_id":"%s%d","batch_id":"b","variation":1,"provider":"gemini","prompt":"%s %d","input":{"product_images":["a.png"]},"price_per_image":%s}\n' "$2" $i "$2" $i "${3:-0.039}"
		i=$((i + 1)); done
}
# overlap PREFIX [STATUS]: most requests with that prompt prefix in flight at once
overlap() { python3 -c 'import json,sys
ev=[]
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("provider")!="gemini" or not (r.get("prompt") or "").startswith(sys.argv[2]): continue
    if len(sys.argv)>3 and str(r["status"])!=sys.argv[3]: continue
    ev+=[(r["time"],1),(r["time"]+r["elapsed_ms"]/1000-1e-4,-1)]
m=c=0
for t,d in sorted(ev): c+=d; m=max(m,c)
print(m)' "$T/stub.log" "$@"; }
# span PREFIX: seconds from the first to the last request with that prefix
span() { jq -s -r "map(select(.provider==\"gemini\" and (.prompt|startswith(\"$1\"))) | .time) | (max - min) * 100 | floor" "$T/stub.log"; }
start_stub --latency-ms 150
export BG_GEMINI_BASE_URL=$STUB

jobs 12 jj >j.ndjson
bg-generate -j 3 j.ndjson >out
is "-j 3: all succeed" "$(jq -r .status out | sort | uniq -c | tr -s ' ')" " 12 succeeded"
is "-j 3: at most 3 in flight, and 3 reached" "$(overlap jj)" 3

jobs 10 rr >r.ndjson
t0=$(date +%s%N)
bg-generate -j 8 --rpm 600 r.ndjson >out
is "--rpm: all succeed" "$(jq -r .status out | sort -u)" succeeded
s=$(span rr); check "--rpm 600: 10 requests span >= 0.85 s (got ${s}0 ms)" [ "$s" -ge 85 ]

# retries take tokens too: 5 jobs x 2 attempts at 600/min
jobs 5 'rt [[fault:503*1]]' >rt.ndjson
bg-generate -j 8 --rpm 600 --backoff 0 rt.ndjson >out
is "--rpm with retries: all succeed on attempt 2" "$(jq -r .attempt out | sort -u)" 2
s=$(span 'rt [['); check "--rpm 600: 10 attempts span >= 0.85 s (got ${s}0 ms)" [ "$s" -ge 85 ]

# budget: the cap counts what is in flight
jobs 10 bi >b.ndjson
bg-generate -j 8 --max-images 3 b.ndjson >out
is "--max-images 3: 3 succeed, 7 skipped" "$(jq -r .status out | sort | uniq -c | tr -s ' ' | tr '\n' ,)" " 7 skipped, 3 succeeded,"
is "skipped records say budget" "$(jq -r 'select(.status=="skipped") | [.error.stage,.error.code]|join(" ")' out | sort -u)" "generate budget"
is "--max-images 3: 3 requests sent" "$(jq -r 'select(.prompt|startswith("bi "))|.prompt' "$T/stub.log" | wc -l | tr -d ' ')" 3
# a failure gives its share back
{ jobs 1 'bf [[fault:400]]'; jobs 5 bg; } >bf.ndjson
bg-generate -j 1 --max-images 2 bf.ndjson >out
is "a failed job does not use the budget" "$(jq -r .status out | sort | uniq -c | tr -s ' ' | tr '\n' ,)" " 1 failed, 3 skipped, 2 succeeded,"
jobs 6 bc 0.039 >bc.ndjson
bg-generate -j 8 --max-cost 0.1 bc.ndjson >out
is "--max-cost 0.1 at 0.039: 2 images" "$(jq -r .status out | sort | uniq -c | tr -s ' ' | tr '\n' ,)" " 4 skipped, 2 succeeded,"
is "cached results cost nothing" "$(bg-generate --max-images 0 bc.ndjson | jq -r .status | sort | uniq -c | tr -s ' ' | tr '\n' ,)" " 4 skipped, 2 succeeded,"

# AIMD: a wave of 429s halves the concurrency
jobs 8 'am [[fault:429*1]]' >am.ndjson
bg-generate -j 8 --backoff 0.01 am.ndjson >out
is "429 wave: all succeed on the second attempt" "$(jq -r '[.status,.attempt]|join(" ")' out | sort -u)" "succeeded 2"
is "429 wave: 8 in flight at first" "$(overlap 'am [[' 429)" 8
is "429 wave: the retries run at most 4 at once" "$(overlap 'am [[' 200)" 4
done_testing
