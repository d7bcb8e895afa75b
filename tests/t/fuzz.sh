# The libFuzzer harnesses (tests/fuzz/, make fuzz): replay every seed
# corpus (each seed is also a regression case of a bug fuzzing found),
# then fuzz each harness for FUZZ_TEST_SECONDS (default 2) from its seeds.
# Builds the harnesses first (make fuzz-build: clang, ASan, UBSan, cJSON
# from Debian's source), once per checkout.
# The harnesses are their own ASan+UBSan build (build/fuzz), the same
# binaries whatever BUILD the suite runs, so the sanitizer pass of make
# test would only repeat the normal pass: they run once, in the normal one.
. "$TOP/tests/lib.sh"
if [ "${BG_TEST_SAN:-0}" = 1 ]; then
	pass "fuzz harnesses run in the normal pass (they are ASan+UBSan builds themselves)"
	done_testing
fi
F=$TOP/build/fuzz
secs=${FUZZ_TEST_SECONDS:-2}
if ! make -s -C "$TOP" fuzz-build >build.log 2>&1; then
	flunk "make fuzz-build: $(grep -v warning build.log | tail -5)"
	done_testing
fi
# sanitizer settings of the run, but a crash must fail, not be tolerated
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
for src in "$TOP"/tests/fuzz/*.c; do
	n=$(basename "$src" .c)
	h=$F/harness/$n
	seeds=$TOP/tests/fuzz/$n
	nseeds=$(ls "$seeds" 2>/dev/null | wc -l)
	"$h" -close_fd_mask=2 "$seeds"/* >"$n.replay" 2>&1; rc=$?
	check "fuzz $n: replays its $nseeds seeds cleanly" [ "$rc" -eq 0 -a "$nseeds" -gt 0 ]
	[ "$rc" -eq 0 ] || grep -E 'ERROR|runtime error|invariant|SUMMARY' "$n.replay" | head -5
	mkdir -p "corpus-$n"
	"$h" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-close_fd_mask=2 -artifact_prefix="$T/crash-$n-" \
		"corpus-$n" "$seeds" >"$n.fuzz" 2>&1; rc=$?
	check "fuzz $n: ${secs}s of fuzzing ($(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$n.fuzz") runs) finds nothing" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || grep -E 'ERROR|runtime error|invariant|SUMMARY|Test unit' "$n.fuzz" | head -8
done
done_testing
