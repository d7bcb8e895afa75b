# bg-file: filing N results (one image each) into a store whose history
# already holds H lines; then filing them again (the no-op path), then N
# more with GNU parallel -j 4.  Prints images/s and peak RSS for each.
N=${N:-5000}
H=${H:-200000}
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$PWD/store"
mkresults "$BG_ROOT" "$N" variants=500 >in.ndjson
mkresults "$BG_ROOT" "$N" variants=500 batch=b2 seed=$((N * 10)) >in2.ndjson
awk -v h="$H" 'BEGIN { for (i = 0; i < h; i++)
	printf "{\"variant_id\":\"old%d\",\"product_id\":\"p\",\"batch_id\":\"old\",\"job_id\":\"old-%d\",\"path\":\"variants/old%d/old/x.png\",\"object\":\"objects/00/00.png\",\"sha256\":\"00\",\"mime\":\"image/png\",\"width\":1,\"height\":1,\"created_at\":\"2026-01-01T00:00:00Z\"}\n", i, i, i }' \
    >"$BG_ROOT/history.ndjson"
t() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.001) }'; }
set -- $(t bg-file in.ndjson)
echo "bg-file: $N images, history of $H lines: ${1}s, $(rate "$N" "$1") images/s (peak RSS ${2} KB)"
set -- $(t bg-file in.ndjson)
echo "bg-file again (nothing to do): ${1}s, $(rate "$N" "$1") records/s (peak RSS ${2} KB)"
s=$(date +%s.%N)
parallel --pipe -N 500 -j 4 bg-file <in2.ndjson >/dev/null
e=$(date +%s.%N)
d=$(echo "$e - $s" | bc)
echo "parallel -j 4: $N images in ${d}s, $(rate "$N" "$d") images/s"
l=$(wc -l <"$BG_ROOT/history.ndjson")
[ "$l" -eq $((H + 2 * N)) ] && echo "history: $l lines, as expected" ||
    { echo "history: $l lines, want $((H + 2 * N))"; exit 1; }
# the recovery path: sidecars gone, so every image scans both logs
find "$BG_ROOT/variants" "$BG_ROOT/batches" -path '*-b1/*.json' -delete
head -n 500 in.ndjson >some.ndjson
set -- $(t bg-file some.ndjson)
echo "bg-file after losing the sidecars (scans the logs): 500 images in ${1}s, $(rate 500 "$1") images/s"
l=$(wc -l <"$BG_ROOT/history.ndjson")
[ "$l" -eq $((H + 2 * N)) ] || { echo "history: $l lines after recovery"; exit 1; }
