#!/bin/sh
# Retry a batch's retryable failures, up to three passes, then print the report.
# usage: examples/retry.sh [results.ndjson] [jobs.ndjson]
set -u
results=${1:-results.ndjson}
jobs=${2:-jobs.ndjson}
for pass in 1 2 3; do
	# the latest record of each job that failed for a retryable reason
	# (a plain jq select would also resend jobs a later pass fixed)
	n=$(bg-retry -n "$results") || exit
	[ "$n" -gt 0 ] || break
	echo "retry pass $pass: $n job(s)" >&2
	bg-retry "$results" | bg-generate | bg-file >>"$results"
done
if [ -f "$jobs" ]; then bg-report --plan "$jobs" "$results"; else bg-report "$results"; fi
