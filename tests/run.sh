#!/bin/sh
# tests/run.sh BUILD [BUILD...]: run the whole suite once per build folder
# (build = normal, build/asan = AddressSanitizer + UBSan) and end with the
# line "N passed, N failed".  Exit 1 if anything failed.
#
# Three kinds of test, all found by their place:
#   tests/unit/NAME.c     C unit tests of lib/, built as BUILD/tests/NAME;
#                         they print "ok - ..." / "not ok - ..." lines.
#   tests/cases/NAME/     cmd (a sh script) with expected out, err, rc
#                         (missing out/err are not compared; rc defaults 0).
#   tests/t/NAME.sh       shell tests that print "ok - ..."/"not ok - ...".
# TESTS=pattern limits the run to tests whose name matches (grep -E).
# JOBS=N runs N tests at a time, of every BUILD together (default: the
# number of CPUs; JOBS=1 runs them one after another).  Each test has its
# own folder ($T) and its own stub port; the report is in the order above
# whatever the order they finish in.
# TIMES=1 ends with the 20 slowest tests: wall seconds, CPU seconds (user +
# system, the test's processes together).
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0
failed_list=
jobs=${JOBS:-$(nproc 2>/dev/null || echo 1)}
tmpbase=$(mktemp -d "${TMPDIR:-/tmp}/bg-test.XXXXXX")
workers=
trap 'kill $workers 2>/dev/null; rm -rf "$tmpbase"' EXIT
trap 'exit 130' INT TERM
mkdir "$tmpbase/r" "$tmpbase/w" "$tmpbase/claim"
# The system's own programs first: the suite tests against the Debian
# packages make deps installs.  A version manager's python3 earlier on PATH
# (a pyenv shim: ~140 processes and 0.4 s a call, against 37 ms) made the
# suite minutes slower and could not see the python3-* packages.
syspath=/usr/bin:/bin:$PATH

count() {	# count ok/not ok lines of a test log; $1 log, $2 name, $3 rc
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $2 ran no check" >>"$1"; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -gt 0 ]; then
		failed_list="$failed_list $label:$2"
		echo "--- $label: $2 (exit $3)"; grep -v '^ok ' "$1" | tail -n 30
	fi
}

selected() { [ -z "${TESTS:-}" ] || echo "$1" | grep -Eq "$TESTS"; }

# the list of tests, one line each: BUILD KIND PATH NAME
for build in "$@"; do
	[ -d "$top/$build/bin" ] || { echo "tests/run.sh: no $build/bin" >&2; exit 2; }
	for u in "$top/$build"/tests/*; do
		[ -f "$u" ] && [ -x "$u" ] || continue	# not the unit/ object folder
		n=unit/$(basename "$u"); selected "$n" && echo "$build unit $u $n"
	done
	for c in "$top"/tests/cases/*/; do
		[ -f "$c/cmd" ] || continue
		n=cases/$(basename "$c"); selected "$n" && echo "$build case $c $n"
	done
	for t in "$top"/tests/t/*.sh; do
		[ -f "$t" ] || continue
		n=t/$(basename "$t" .sh); selected "$n" && echo "$build t $t $n"
	done
done | awk '{ print NR, $0 }' >"$tmpbase/list"
# the order they start in: the longest first, so that the short ones fill
# the end (tests/t/ before unit/ and cases/; first of all the slowest in
# TIMES=1 runs: PostgreSQL clusters, 60-image batches)
heavy='t/(readme-recipes|pg-load|demo|examples|candidates|batch-gemini)$'
awk -v heavy="$heavy" '{ print ($5 ~ heavy ? 0 : $3 == "t" ? 1 : 2), $0 }' "$tmpbase/list" |
	sort -s -n -k1,1 | cut -d' ' -f2- >"$tmpbase/queue"

case_test() {	# case_test DIR NAME: run tests/cases/NAME in $w, log its verdict
	(cd "$w" && CASE="$1" sh "$1/cmd" >out 2>err </dev/null; echo $? >rc)
	want=0; [ -f "$1/rc" ] && want=$(cat "$1/rc")
	ok=1
	if [ "$(cat "$w/rc")" != "$want" ]; then ok=0; echo "exit $(cat "$w/rc"), want $want"; fi
	for s in out err; do
		[ -f "$1/$s" ] || continue
		diff -u "$1/$s" "$w/$s" 2>&1 || ok=0
	done
	if [ $ok = 1 ]; then echo "ok - $2"; else echo "not ok - $2"; sed -n '1,20p' "$w/err"; fi
}

run_test() {	# run_test I BUILD KIND PATH NAME, in a subshell: r/I.log, .rc, .cpu
	export PATH="$top/$2/bin:$top/scripts:$syspath:/usr/sbin:/sbin" TOP="$top" BUILD="$top/$2"
	export BG_TEST_SAN=0
	case $2 in *asan*)
		BG_TEST_SAN=1
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
		export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98";;
	*) unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS;;
	esac
	r=$tmpbase/r/$1 w=$tmpbase/w/$1
	mkdir "$w"
	date +%s.%N >"$r.start"
	[ -z "${TIMES:-}" ] || export BG_TEST_TIMES=$r.checks bg_last=$(cat "$r.start")
	case $3 in
	unit) (cd "$w" && "$4" >"$r.log" 2>&1 </dev/null); rc=$?;;
	case) case_test "$4" "$5" >"$r.log"; rc=0;;
	*) (cd "$w" && T="$w" sh "$4" >"$r.log" 2>&1 </dev/null); rc=$?;;
	esac
	rm -rf "$w"
	times >"$r.cpu"	# its second line: the children's user and system time
	echo "$(date +%s.%N) $(cat "$r.start") $(sed -n 2p "$r.cpu")" >"$r.time"
	echo "$rc" >"$r.tmp" && mv "$r.tmp" "$r.rc"
}

worker() {	# take the tests nobody has taken yet (mkdir is the lock)
	while read -r i build kind path name; do
		mkdir "$tmpbase/claim/$i" 2>/dev/null || continue
		(run_test "$i" "$build" "$kind" "$path" "$name")
	done <"$tmpbase/queue"
}

k=0
while [ $k -lt "$jobs" ]; do
	worker & workers="$workers $!"
	k=$((k + 1))
done

# the report, in list order, as the tests finish
label=
while read -r i build kind path name; do
	r=$tmpbase/r/$i
	while [ ! -f "$r.rc" ]; do
		alive=0; for p in $workers; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || [ -f "$r.rc" ] ||
			{ echo "not ok - $name: its runner stopped" >>"$r.log"; echo 1 >"$r.rc"; }
		[ -f "$r.rc" ] || sleep 0.1
	done
	if [ "$label" != "$(basename "$build")" ]; then
		label=$(basename "$build"); echo "== $label"
	fi
	count "$r.log" "$name" "$(cat "$r.rc")"
	if [ -n "${TIMES:-}" ]; then
		echo "$(cat "$r.time") $label:$name" |
			awk '{ gsub(/[ms]/, " ", $3); gsub(/[ms]/, " ", $4)
				split($3, u, " "); split($4, s, " ")
				printf "%8.2f %8.2f %s\n", $1 - $2, u[1] * 60 + u[2] + s[1] * 60 + s[2], $5 }' \
			>>"$tmpbase/times"
	fi
done <"$tmpbase/list"
wait
if [ -n "${TIMES:-}" ] && [ -s "$tmpbase/times" ]; then
	echo "slowest (wall s, cpu s):"; sort -rn "$tmpbase/times" | head -n 20
	awk '{ w += $1; c += $2 } END { printf "all tests: %.0f s wall (summed), %.0f s cpu\n", w, c }' "$tmpbase/times"
	echo "slowest checks (s since the previous check):"
	for f in "$tmpbase"/r/*.checks; do
		[ -f "$f" ] || continue
		n=$(sed -n "$(basename "$f" .checks)p" "$tmpbase/list" | awk '{ print $2 ":" $5 }')
		awk -v n="${n#*/}" '{ d = $2 - $1; $1 = $2 = ""; printf "%8.2f %s:%s\n", d, n, substr($0, 3, 70) }' "$f"
	done | sort -rn | head -n 20
fi
[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
