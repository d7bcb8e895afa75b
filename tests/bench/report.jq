# report.jq: the jq equivalent of `bg-report --json` (tests/bench/report.sh),
# the latest record of each job_id wins, failures before planning count.
def final: . == "succeeded" or . == "failed" or . == "skipped" or . == "canceled";
def pct($p): if length == 0 then null
	else .[([((($p * length) | ceil) - 1), 0] | max)] end;
def stats: {
	total: length,
	succeeded: map(select(.status == "succeeded")) | length,
	failed: map(select(.status == "failed")) | length,
	skipped: map(select(.status == "skipped")) | length,
	canceled: map(select(.status == "canceled")) | length,
	pending: map(select(.status | final | not)) | length,
	cached: map(select(.cached)) | length,
	cost: (map(select(.status == "succeeded") | (.price // 0) * .n) | add // 0
		| . * 1e6 | round / 1e6),
	latency_ms: (map(select((.status == "succeeded" or .status == "failed")
		and .elapsed != null and (.cached | not)) | .elapsed) | sort
		| {p50: pct(0.5), p90: pct(0.9), max: pct(1)}),
	errors: (map(select(.code != null)) | group_by(.code)
		| map({code: .[0].code, count: length,
			example: (map(.message) | map(select(. != null)) | .[0])})
		| sort_by(-.count, .code))
};
def job: {status, cached: (.cached == true), price: .price_per_image,
	n: (.outputs | length), elapsed: .usage.elapsed_ms,
	code: (if .status == "succeeded" then null else .error.code end),
	message: .error.message, batch: .batch_id};
# run with jq -s: group_by is a stable sort, so the last of a group is the
# latest line (a reduce that updates an object per record is quadratic in
# jq 1.6: every step copies the object)
(map(select(.job_id | type == "string")) | group_by(.job_id)
	| map((map(select(.status | final)) | last) // last | job))
+ map(select((.job_id | type != "string") and (.status == "failed" or
	.status == "skipped" or .status == "canceled")) | job)
| (stats) + {batches: (group_by(.batch) | map({batch_id: .[0].batch} + stats))}
