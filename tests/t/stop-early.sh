# bg-generate stops sending what cannot succeed: a retired model, a wrong
# key and depleted credits each end 200 jobs with the right code after at
# most 2 x -j requests; an unreachable host does the same with network;
# a NO_IMAGE answer is retried to success.  Requests are counted at the
# loopback stub.
. "$TOP/tests/lib.sh"
mkdir static; mkpng static/a.png 8 8 255 0 0
start_stub --static static --latency-ms 50 --retired gemini-2.5-flash-image,gpt-image-1,acme/gone
export BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB BG_OPENAI_BASE_URL=$STUB \
	BG_REPLICATE_BASE_URL=$STUB GEMINI_API_KEY=k OPENAI_API_KEY=k REPLICATE_API_TOKEN=k
unset GOOGLE_API_KEY
jobs() {	# jobs PROVIDER MODEL [PROMPT-SUFFIX]: 200 jobs
	for i in $(seq 200); do
		printf '{"job_id":"j%d","batch_id":"b","variation":1,"provider":"%s","model":"%s","prompt":"p%d %s","input":{"product_images":["static/a.png"]},"status":"planned","attempt":0}\n' \
			"$i" "$1" "$2" "$i" "${3:-}"
	done
}
sent() { curl -s "$STUB/_stub/stats" | jq '.by_provider | [.gemini, .openai, .replicate] | map(. // 0) | add'; }
reset() { curl -s -X POST "$STUB/_stub/reset" >/dev/null; }
summary() { jq -r '[.status, .error.code, .error.retryable] | map(tostring) | join(" ")' "$1" | sort | uniq -c | awk '{$1=$1; print}'; }
run() {	# run NAME PROVIDER MODEL [SUFFIX]: 200 jobs with -j 8
	name=$1; shift
	reset
	jobs "$@" >"$name.jobs"
	s0=$(date +%s.%N)
	bg-generate -j 8 --backoff 0.05 "$name.jobs" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
	secs=$(echo "$(date +%s.%N) - $s0" | bc)
	n=$(sent)
	check "$name: $n requests for 200 jobs (at most 16)" [ "$n" -le 16 ]
	check "$name: done in $secs s (under 10)" [ "$(echo "$secs < 10" | bc)" = 1 ]
	is "$name: one record per job" "$(wc -l <"$name.out" | tr -d ' ')" 200
	is "$name: one stderr line" "$(grep -c 'not sending the jobs left' "$name.err")" 1
}

run retired gemini gemini-2.5-flash-image
is "retired (gemini): model_not_found, not retryable" "$(summary retired.out)" "200 failed model_not_found false"
check "retired: the stderr line names the shutdown and the replacement" grep -q 'gemini: model_not_found: model gemini-2.5-flash-image: .*shut down on 2026-10-02; try gemini-3.1-flash-image' retired.err
check "retired: most jobs say they were not sent, attempts 0" [ "$(jq -r 'select(.error.attempts == 0 and (.error.message | startswith("not sent: gemini model_not_found")))' retired.out | jq -s length)" -ge 184 ]

run retired-openai openai gpt-image-1
is "retired (openai): model_not_found" "$(summary retired-openai.out)" "200 failed model_not_found false"

run retired-replicate replicate acme/gone
is "retired (replicate): model_not_found" "$(summary retired-replicate.out)" "200 failed model_not_found false"

GEMINI_API_KEY=wrong-key run wrongkey gemini gemini-3.1-flash-image
is "wrong key: auth, not retryable" "$(summary wrongkey.out)" "200 failed auth false"
check "wrong key: the line says which variable to check" grep -q 'check GEMINI_API_KEY' wrongkey.err
OPENAI_API_KEY=wrong-key run wrongkey-openai openai gpt-image-2.6-flare
is "wrong key (openai): auth" "$(summary wrongkey-openai.out)" "200 failed auth false"

run credits gemini gemini-3.1-flash-image '[[fault:credits]]'
is "credits depleted: quota, not retryable" "$(summary credits.out)" "200 failed quota false"
run quota-openai openai gpt-image-2.6-flare '[[fault:quota]]'
is "insufficient_quota (openai): quota" "$(summary quota-openai.out)" "200 failed quota false"

# a model that is fine on another provider is not stopped by one that is not
reset
{ jobs gemini gemini-2.5-flash-image | head -20; jobs openai gpt-image-2.6-flare | head -20; } >mixed.jobs
bg-generate -j 4 mixed.jobs >mixed.out 2>mixed.err
is "the stop is per provider and model" "$(summary mixed.out)" "$(printf '20 failed model_not_found false\n20 succeeded null null')"

# NO_IMAGE: no safety decision, a new try draws it
reset
jobs gemini gemini-3.1-flash-image '[[fault:noimage*1]]' | head -3 >noimage.jobs
bg-generate --backoff 0.05 noimage.jobs >noimage.out 2>noimage.err
is "NO_IMAGE retried to success" "$(jq -r '[.status, .attempt] | map(tostring) | join(" ")' noimage.out | sort -u)" "succeeded 2"
jobs gemini gemini-3.1-flash-image '[[fault:noimage]]' | head -1 >noimage2.jobs
bg-generate --backoff 0.05 --max-attempts 2 noimage2.jobs >noimage2.out
is "NO_IMAGE every time: no_image, retryable" "$(jq -r '[.error.code, .error.retryable, .error.attempts] | map(tostring) | join(" ")' noimage2.out)" "no_image true 2"
is "usageMetadata kept in usage" "$(jq -r '.usage.totalTokenCount > 0' noimage.out | sort -u)" true

# nothing listens: network, quickly, one line
port=$(free_port)
jobs gemini gemini-3.1-flash-image >net.jobs
s0=$(date +%s.%N)
BG_GEMINI_BASE_URL=http://127.0.0.1:$port bg-generate -j 8 net.jobs >net.out 2>net.err
secs=$(echo "$(date +%s.%N) - $s0" | bc)
is "unreachable: network, retryable" "$(summary net.out)" "200 failed network true"
check "unreachable: over in $secs s (under 5)" [ "$(echo "$secs < 5" | bc)" = 1 ]
is "unreachable: one stderr line" "$(grep -c 'gemini: network: .*check the network and the base URL' net.err)" 1

# --no-stop-early sends them all
reset
jobs gemini gemini-2.5-flash-image | head -20 >all.jobs
bg-generate -j 4 --no-stop-early all.jobs >all.out 2>all.err
is "--no-stop-early: every job is sent" "$(sent)" 20
done_testing
