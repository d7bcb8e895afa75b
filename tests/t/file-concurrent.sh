# bg-file: several processes filing into one store (the same records at
# once, and GNU parallel over disjoint parts) lose no line and corrupt
# nothing.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT
N=200

mkresults "$R" $N variants=10 >in.ndjson
tac in.ndjson >rev.ndjson
# the same records, in opposite orders, at the same time
bg-file in.ndjson >a.out 2>a.err & pa=$!
bg-file rev.ndjson >b.out 2>b.err & pb=$!
bg-file in.ndjson >c.out 2>c.err & pc=$!
wait $pa; ra=$?; wait $pb; rb=$?; wait $pc; rc=$?
is "three concurrent runs: exit 0" "$ra $rb $rc" "0 0 0"
is "no diagnostics" "$(cat a.err b.err c.err)" ""
is "every record filed by each run" \
    "$(cat a.out b.out c.out | jq -r .status | sort | uniq -c | tr -s ' ')" " $((3 * N)) succeeded"
is "the runs agree on where each image went" \
    "$(jq -c .filed a.out | sort | md5sum)" "$(jq -c .filed b.out | sort | md5sum)"
H=$R/history.ndjson
is "history: one line per image" "$(wc -l <"$H")" $N
is "history: every line whole JSON" "$(jq -c . "$H" | wc -l)" $N
is "history: no path twice" "$(jq -r .path "$H" | sort -u | wc -l)" $N
M=$R/batches/spring-studio-b1/manifest.ndjson
is "batch manifest: one line per image" "$(jq -r .file "$M" | sort -u | wc -l) $(wc -l <"$M")" "$N $N"
vm=0
for f in "$R"/variants/*/spring-studio-b1/manifest.ndjson; do
	vm=$((vm + $(jq -r .file "$f" | sort -u | wc -l)))
done
is "variant manifests: one line per image" "$vm" $N
is "sidecars: one per filed file" "$(find "$R/variants" "$R/batches" -name '*.png.json' | wc -l)" $((2 * N))
is "no temporary files" "$(find "$R" -name '.*' | wc -l)" 0

# GNU parallel over disjoint parts of another batch
mkresults "$R" $N variants=10 batch=b2 seed=1000 >in2.ndjson
parallel --pipe -N 25 -j 4 bg-file <in2.ndjson >p.out 2>p.err; rc=$?
is "parallel: exit 0" "$rc" 0
is "parallel: every record once" "$(jq -r .job_id p.out | sort -u | wc -l) $(wc -l <p.out)" "$N $N"
is "parallel: history has both batches" "$(wc -l <"$H") $(jq -r .path "$H" | sort -u | wc -l)" "$((2 * N)) $((2 * N))"
is "parallel: batch manifest complete" "$(wc -l <"$R/batches/spring-studio-b2/manifest.ndjson")" $N
done_testing
