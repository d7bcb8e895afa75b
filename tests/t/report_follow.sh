# bg-report --follow: a growing file, a pipe, a signal.
. "$TOP/tests/lib.sh"

rec() {	# rec ID STATUS
	if [ "$2" = succeeded ]; then x='"outputs":[]'; else
		x='"error":{"code":"server_error","retryable":true,"message":"503"}'; fi
	printf '{"batch_id":"b1","job_id":"%s","variant_id":"v%s","status":"%s",%s}\n' "$1" "$1" "$2" "$x"
}
for i in 1 2 3; do
	printf '{"batch_id":"b1","job_id":"%s","variant_id":"v%s","status":"planned"}\n' $i $i
done >jobs.ndjson
# wait_for PID SECONDS: wait for a background process, kill it on timeout
wait_for() {
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1; n=$((n + 1)); done
	if kill -0 "$1" 2>/dev/null; then kill "$1"; wait "$1"; return 124; fi
	wait "$1"
}

# wait_until SECONDS COMMAND...: poll until the command succeeds
wait_until() {
	n=$(($1 * 10)); shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done
}

# --- a growing file: stops when every planned job has a final record -------
: >results.ndjson
bg-report --follow --plan jobs.ndjson --html page.html results.ndjson >out.txt 2>err.txt &
pid=$!
check "follow: the page exists before any result" wait_until 10 test -s page.html
check "follow: the page refreshes while pending" grep -q 'http-equiv="refresh"' page.html
rec 1 failed >>results.ndjson
rec 1 succeeded >>results.ndjson
# a line written in two pieces is read as one record
rec 2 succeeded >line
head -c 20 line | tr -d '\n' >>results.ndjson
sleep 0.5
check "follow: still running while jobs are pending" kill -0 $pid
tail -c +21 line >>results.ndjson
check "follow: the page was rewritten with new results" \
	wait_until 10 grep -q '<b>2</b> succeeded' page.html
rec 3 succeeded >>results.ndjson
wait_for $pid 20; rc=$?
is "follow: stops and exits 0 when all succeeded" "$rc" 0
check "follow: final summary on stdout" grep -q '^jobs  *3  succeeded 3  failed 0$' out.txt
check "follow: progress on stderr" grep -q '100% 3/3  ok 3  failed 0' err.txt
check "follow: no bad line from the split write" sh -c '! grep -q "invalid JSON" err.txt'
check "follow: the final page does not refresh" sh -c '! grep -q "http-equiv" page.html'

# --- a pipe: stops at its end, pending jobs give exit 1 ---------------------
{ rec 1 succeeded; sleep 0.3; rec 2 failed; } |
	bg-report --follow --json --plan jobs.ndjson >pipe.json 2>pipe.err &
pid=$!
wait_for $pid 20; rc=$?
is "pipe: stops at EOF with exit 1 (pending, failed)" "$rc" 1
is "pipe: counts" "$(jq -c '[.succeeded,.failed,.pending]' pipe.json)" "[1,1,1]"

# --- no plan: follows until a signal, then reports -------------------------
rec 1 succeeded >r2.ndjson
bg-report --follow --json r2.ndjson >sig.json 2>sig.err &
pid=$!
sleep 0.5
rec 2 succeeded >>r2.ndjson
sleep 0.5
check "no plan: keeps following" kill -0 $pid
kill -TERM $pid
wait_for $pid 10; rc=$?
is "signal: stops, every job seen succeeded: exit 0" "$rc" 0
is "signal: the report is printed" "$(jq -c '[.total,.succeeded]' sig.json)" "[2,2]"
done_testing
