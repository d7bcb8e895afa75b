# bg-generate interrupted: SIGTERM/SIGINT cancel what is unfinished (one
# record per line), SIGKILL then a re-run pays for nothing twice and leaves
# no partial lines or files.
. "$TOP/tests/lib.sh"
python3 -c 'import struct,zlib
ch=lambda t,d:struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
open("a.png","wb").write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",8,8,8,2,0,0,0))+ch(b"IDAT",zlib.compress(b"\0"+b"\x80"*24)*1)+ch(b"IEND",b""))'
export BG_ROOT=$T/store GEMINI_API_KEY=k
jobs() {	# jobs N PREFIX [SUFFIX]
	i=1; while [ $i -le "$1" ]; do
		printf '{"job_id":"%s%d","batch_id":"b","variation":1,"provider":"gemini","prompt":"%s %d%s","input":{"product_images":["a.png"]}}\n' "$2" $i "$2" $i "${3:-}"
		i=$((i + 1)); done
}
# wait_log N: until the stub has logged or started N requests (5 s at most)
sent() { curl -s "$STUB/_stub/stats" | jq -r '.requests'; }
wait_sent() { i=0; while [ "$(sent)" -lt "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }
start_stub --latency-ms 300
export BG_GEMINI_BASE_URL=$STUB

# SIGTERM: 2 in flight (slow), the rest waiting; grace 0.3 s
jobs 2 st ' [[fault:slow=4000]]' >t.ndjson; jobs 8 sq >>t.ndjson
curl -s -X POST "$STUB/_stub/reset" >/dev/null
bg-generate -j 2 --grace 0.3 t.ndjson >out 2>err &
pid=$!
wait_sent 2
t0=$(date +%s%N)
kill -TERM $pid; wait $pid; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "SIGTERM: exit 3" "$rc" 3
is "SIGTERM: one record per input line" "$(wc -l <out | tr -d ' ')" 10
check "SIGTERM: every line is whole JSON" jq -e . out >/dev/null
is "SIGTERM: unfinished jobs are canceled" "$(jq -r 'select(.job_id|startswith("st")) | [.status,.error.code,.error.retryable]|join(" ")' out | sort -u)" "canceled canceled true"
is "SIGTERM: the rest too" "$(jq -r 'select(.status!="succeeded") | .status' out | sort -u)" canceled
check "SIGTERM: done after the grace period, not the slow requests (${ms} ms)" [ "$ms" -lt 2500 ]

# SIGINT, input from a pipe that stays open: stop reading, cancel, exit
# (SIGINT once the 3 requests are on the wire: a background job starts
# with SIGINT ignored, so one sent before bg-generate set its handler, as
# a fixed 0.5 s sleep on a loaded machine did, was lost)
jobs 3 si ' [[fault:slow=4000]]' >i.ndjson
curl -s -X POST "$STUB/_stub/reset" >/dev/null
( cat i.ndjson; sleep 3 ) | bg-generate -j 4 --grace 0.2 >out 2>err &
pid=$!
wait_sent 3
kill -INT $pid
wait $pid
is "SIGINT on a pipe: the 3 jobs are canceled" "$(jq -r .status out | sort | uniq -c | tr -s ' ')" " 3 canceled"
is "SIGINT message" "$(jq -r .error.message out | sort -u)" "interrupted (SIGINT)"

# SIGKILL mid-run, then a re-run
jobs 12 kk >k.ndjson
curl -s -X POST "$STUB/_stub/reset" >/dev/null
n0=$(wc -l <"$T/stub.log")
bg-generate -j 4 k.ndjson >out1 &
pid=$!
# the first 4 answered, the next 4 on the wire
i=0; while [ "$(tail -n +$((n0 + 1)) "$T/stub.log" | grep -c kk)" -lt 4 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.1
kill -KILL $pid; wait $pid 2>/dev/null
# let the stub finish (and log) what was on the wire
sleep 0.5
check "SIGKILL: no partial line" sh -c "[ ! -s out1 ] || [ \"\$(tail -c 1 out1 | od -An -c | tr -d ' ')\" = '\\n' ]"
check "SIGKILL: every written line is whole JSON" jq -e . out1 >/dev/null
check "SIGKILL: no temp files in the store" sh -c "! find '$BG_ROOT' -name '*.tmp.*' | grep -q ."
done1=$(jq -r 'select(.status=="succeeded") | .prompt' out1 | sort)
n1=$(wc -l <"$T/stub.log")
bg-generate -j 4 k.ndjson >out2
is "re-run: every job succeeds" "$(jq -r .status out2 | sort | uniq -c | tr -s ' ')" " 12 succeeded"
again=$(tail -n +$((n1 + 1)) "$T/stub.log" | jq -r 'select(.provider=="gemini") | .prompt' | sort)
is "re-run: nothing finished before the kill is sent again" "$(printf '%s\n%s\n' "$done1" "$again" | grep . | sort | uniq -d)" ""
is "re-run: the jobs finished before come from the cache" "$(jq -r 'select(.cached) | .prompt' out2 | sort)" "$(jq -r 'select(.status=="succeeded") | .prompt' out1 | sort | grep . || true)"
check "re-run: the kill left work to do ($(echo "$done1" | grep -c .) of 12 done)" [ "$(echo "$done1" | grep -c .)" -lt 12 ]

# SIGKILL in the middle of many results under group commit (lines are
# released a group at a time, after the store's sync), at three moments:
# whole lines only, every file a line names is there whole, and the re-run
# asks for nothing whose line was written
for k in 1 2 3; do
	export BG_ROOT=$T/store-g$k
	jobs 400 g${k}x >g.ndjson
	curl -s -X POST "$STUB/_stub/reset" >/dev/null
	bg-generate -j 64 g.ndjson >out1 &
	pid=$!
	# at 1, 120 and 240 lines written (10 s at most)
	i=0; while [ "$(wc -l <out1)" -lt $(((k - 1) * 120 + 1)) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	kill -KILL $pid; wait $pid 2>/dev/null
	sleep 0.5	# what was on the wire is answered and logged
	n1=$(wc -l <"$T/stub.log")
	d1=$(jq -r 'select(.status=="succeeded") | .prompt' out1 | sort)
	nd=$(echo "$d1" | grep -c . || true)
	check "kill $k: no partial line" sh -c "[ ! -s out1 ] || [ \"\$(tail -c 1 out1 | od -An -c | tr -d ' ')\" = '\\n' ]"
	check "kill $k: every line is whole JSON" jq -e . out1 >/dev/null
	bad=$(jq -r 'select(.status=="succeeded") | .outputs[] | "\(.sha256)  \(.path)"' out1 |
	    (cd "$BG_ROOT" && sha256sum -c --quiet 2>&1) | head -3)
	is "kill $k: every object a line names is there, whole" "$bad" ""
	check "kill $k: every line's cache entry is there" sh -c "! jq -r 'select(.status==\"succeeded\") | .outputs[0].path' out1 | grep -q . || [ \$(find '$BG_ROOT/cache' -name '*.json' | wc -l) -ge $nd ]"
	check "kill $k: no temp files" sh -c "! find '$BG_ROOT' -name '*.tmp.*' -o -name '.bg-tmp.*' | grep -q ."
	bg-generate -j 64 g.ndjson >out2
	again=$(tail -n +$((n1 + 1)) "$T/stub.log" | jq -r 'select(.provider=="gemini") | .prompt' | sort)
	is "kill $k: the re-run sends nothing whose line was written ($nd lines)" "$(printf '%s\n%s\n' "$d1" "$again" | grep . | sort | uniq -d | head -3)" ""
	is "kill $k: the re-run finishes every job" "$(jq -r .status out2 | sort | uniq -c | tr -s ' ')" " 400 succeeded"
	check "kill $k: the kill came mid-run ($nd of 400 lines)" sh -c "[ $nd -gt 0 ] && [ $nd -lt 400 ]"
done
done_testing
