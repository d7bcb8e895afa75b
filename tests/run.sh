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
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0
failed_list=
tmpbase=$(mktemp -d "${TMPDIR:-/tmp}/bg-test.XXXXXX")
trap 'rm -rf "$tmpbase"' EXIT INT TERM

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

for build in "$@"; do
	label=$(basename "$build")
	bindir=$(cd "$top/$build/bin" && pwd) || exit 2
	export PATH="$bindir:$top/scripts:$PATH:/usr/sbin:/sbin" TOP="$top" BUILD="$top/$build"
	export BG_TEST_SAN=0
	case $build in *asan*)
		BG_TEST_SAN=1
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
		export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98";;
	*) unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS;;
	esac
	echo "== $label"
	for u in "$top/$build"/tests/*; do
		[ -f "$u" ] && [ -x "$u" ] || continue	# not the unit/ object folder
		n=unit/$(basename "$u"); selected "$n" || continue
		log=$tmpbase/log; "$u" >"$log" 2>&1; rc=$?
		count "$log" "$n" "$rc"
	done
	for c in "$top"/tests/cases/*/; do
		[ -f "$c/cmd" ] || continue
		n=cases/$(basename "$c"); selected "$n" || continue
		w=$tmpbase/case; rm -rf "$w"; mkdir -p "$w"
		(cd "$w" && CASE="$c" sh "$c/cmd" >out 2>err </dev/null; echo $? >rc)
		log=$tmpbase/log; : >"$log"; ok=1
		want=0; [ -f "$c/rc" ] && want=$(cat "$c/rc")
		if [ "$(cat "$w/rc")" != "$want" ]; then ok=0; echo "exit $(cat "$w/rc"), want $want" >>"$log"; fi
		for s in out err; do
			[ -f "$c/$s" ] || continue
			if ! diff -u "$c/$s" "$w/$s" >>"$log" 2>&1; then ok=0; fi
		done
		if [ $ok = 1 ]; then echo "ok - $n" >>"$log"; else
			echo "not ok - $n" >>"$log"; sed -n '1,20p' "$w/err" >>"$log"; fi
		count "$log" "$n" 0
	done
	for t in "$top"/tests/t/*.sh; do
		[ -f "$t" ] || continue
		n=t/$(basename "$t" .sh); selected "$n" || continue
		w=$tmpbase/t; rm -rf "$w"; mkdir -p "$w"
		log=$tmpbase/log
		(cd "$w" && T="$w" sh "$t" >"$log" 2>&1 </dev/null); rc=$?
		count "$log" "$n" "$rc"
	done
done
[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
