#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS [NAME...]: run each libFuzzer harness
# (BUILD/harness/NAME, made by `make fuzz-build`) for SECONDS, starting
# from its seed corpus tests/fuzz/NAME/.  New inputs go to
# BUILD/corpus/NAME, crashes to BUILD/crashes/NAME-*, the log to
# BUILD/logs/NAME.log; the seeds in the tree are not changed (copy a
# crash there, with a fix, as its regression case).  Exit 1 on a crash.
top=$(cd "$(dirname "$0")/../.." && pwd)
b=$1 secs=$2; shift 2
[ $# -gt 0 ] || set -- $(cd "$top/tests/fuzz" && ls *.c | sed 's/\.c$//')
mkdir -p "$b/corpus" "$b/crashes" "$b/logs"
bad=0
for n; do
	h=$b/harness/$n log=$b/logs/$n.log
	mkdir -p "$b/corpus/$n"
	# -close_fd_mask=2: the parsers' warnings are noise; libFuzzer and the
	# sanitizers still report on their own copy of stderr
	"$h" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-close_fd_mask=2 -artifact_prefix="$b/crashes/$n-" \
		"$b/corpus/$n" "$top/tests/fuzz/$n" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $n: ${runs:-?} runs in ${secs}s, $cov, corpus $(ls "$b/corpus/$n" | wc -l)"
	else
		bad=1
		echo "fuzz $n: FAILED (exit $rc), see $log:"
		grep -E 'ERROR|runtime error|invariant|SUMMARY|Test unit written' "$log" | head -8
	fi
done
exit $bad
