# bg-report --json vs the same report in jq (tests/bench/report.jq), on
# 100,000 result records (about 100 MB: 90,000 jobs, 10% of them retried).
# Checks both agree, prints both times and the ratio (goal: >= 5x faster).
N=${N:-100000}
awk -v n="$N" 'BEGIN {
	pad = ""; for (i = 0; i < 170; i++) pad = pad "x"
	srand(7)
	for (k = 0; k < n; k++) {
		j = int(k * 0.9); v = int(j / 2); r = rand()
		st = r < 0.08 ? "failed" : r < 0.09 ? "skipped" : r < 0.095 ? "canceled" : "succeeded"
		if (st == "succeeded")
			x = sprintf("\"outputs\":[{\"path\":\"objects/ab/%064d.png\",\"sha256\":\"%064d\",\"mime\":\"image/png\",\"bytes\":1203311,\"width\":1024,\"height\":1024}],\"usage\":{\"provider_request_id\":\"req-%d\",\"elapsed_ms\":%d},\"cached\":%s", k, k, k, 2000 + int(rand() * 20000), rand() < 0.1 ? "true" : "false")
		else if (st == "failed")
			x = sprintf("\"error\":{\"stage\":\"generate\",\"code\":\"%s\",\"retryable\":true,\"http_status\":429,\"attempts\":5,\"message\":\"HTTP 429: quota exceeded\"},\"usage\":{\"elapsed_ms\":%d}", rand() < 0.7 ? "rate_limited" : "server_error", int(rand() * 30000))
		else
			x = sprintf("\"error\":{\"stage\":\"generate\",\"code\":\"%s\",\"retryable\":false,\"message\":\"stopped\"}", st == "skipped" ? "budget" : "canceled")
		printf "{\"batch_id\":\"0b9f7e1c\",\"batch_name\":\"Spring studio\",\"job_id\":\"0b9f-v%d-%d\",\"variation\":%d,\"attempt\":%d,\"variant_id\":\"v%d\",\"product_id\":\"p%d\",\"title\":\"Linen shirt %d\",\"variant_title\":\"Blue / M\",\"provider\":\"gemini\",\"model\":\"gemini-3.1-flash-image\",\"prompt\":\"Studio photo of Linen shirt %s\",\"input\":{\"product_images\":[\"https://cdn.example/p%d/v%d.jpg\"],\"aspect_ratio\":\"1:1\"},\"targets\":{\"variant_folder\":\"variants/v%d/spring\",\"batch_folder\":\"batches/spring\"},\"price_per_image\":0.039,\"status\":\"%s\",%s}\n", v, j % 2 + 1, j % 2 + 1, k - j, v, int(v / 3), v, pad, int(v / 3), v, v, st, x
	}
	# one record that failed before planning
	print "{\"variant_id\":\"v-missing\",\"status\":\"failed\",\"error\":{\"stage\":\"candidates\",\"code\":\"not_found\",\"message\":\"unknown variant\"}}"
}' >results.ndjson
mb=$(du -m results.ndjson | cut -f1)
t() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
set -- $(t bg-report --json --exit-zero results.ndjson)
bt=$1 brss=$2
set -- $(t jq -s -c -f "$TOP/tests/bench/report.jq" results.ndjson)
jt=$1 jrss=$2
# the numbers must agree (examples may differ: both are "one example")
pick='del(.errors[].example, .errors[].retryable)
	| {total, succeeded, failed, skipped, canceled, pending, cached, cost, latency_ms, errors}'
bg-report --json --exit-zero results.ndjson | jq -S -c "$pick" >a.json
jq -s -c -f "$TOP/tests/bench/report.jq" results.ndjson | jq -S -c "$pick" >b.json
if cmp -s a.json b.json; then same="the same numbers"; else
	same="DIFFERENT numbers"; diff a.json b.json | head -5; fi
echo "bg-report --json: $N results ($mb MB) in ${bt}s (peak RSS ${brss} KB)"
echo "jq -s report.jq:  ${jt}s (peak RSS ${jrss} KB), $same"
awk -v a="$bt" -v b="$jt" 'BEGIN { printf "bg-report is %.1fx faster than jq (goal >= 5x)\n", b / (a > 0 ? a : 0.01) }'
[ "$same" = "the same numbers" ]
