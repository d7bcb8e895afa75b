# bg-file: both folders hold hard links to the object, manifests, sidecars
# and history are right, pass-through is byte for byte, re-filing is a no-op.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT

mkresults "$R" 3 outputs=2 >in.ndjson	# 3 jobs, 6 images
printf '%s\n' '{"status":"failed", "error":{"stage":"generate","code":"timeout"},  "job_id":"x"}' \
    '{"status":"skipped","job_id":"y","outputs":[]}' \
    '{"status":"canceled" ,"job_id":"z"}' '{"status":"planned","job_id":"w"}' >other.ndjson
cat in.ndjson other.ndjson >all.ndjson

bg-file all.ndjson >out.ndjson 2>err; rc=$?
is "exit 0" "$rc" 0
is "one record per line" "$(wc -l <out.ndjson)" 7
is "no diagnostics" "$(cat err)" ""
is "succeeded records filed" \
    "$(jq -r 'select(.filed) | .status' out.ndjson | sort | uniq -c | tr -s ' ')" " 3 succeeded"
is "other records pass through byte for byte" "$(tail -n 4 out.ndjson)" "$(cat other.ndjson)"
is "unknown fields kept" "$(jq -c 'select(.filed) | .mine' out.ndjson | sort -u)" '{"kept":true}'
is "filed.all lists every output" "$(jq -r 'select(.filed) | .filed.all | length' out.ndjson | sort -u)" 2
is "filed describes the first output" \
    "$(jq -r 'select(.filed) | .filed.variant == .filed.all[0].variant and .filed.batch == .filed.all[0].batch' out.ndjson | sort -u)" true

# both folders hold the very object: same inode
bad=0 n=0
jq -r 'select(.filed) | range(0; .outputs | length) as $i |
    [.outputs[$i].path, .filed.all[$i].variant, .filed.all[$i].batch] | @tsv' out.ndjson >links.tsv
while IFS='	' read -r obj v b; do
	n=$((n + 1))
	i0=$(stat -c %i "$R/$obj"); iv=$(stat -c %i "$R/$v"); ib=$(stat -c %i "$R/$b")
	[ "$i0" = "$iv" ] && [ "$i0" = "$ib" ] || { bad=1; echo "# $obj $v $b: $i0 $iv $ib"; }
done <links.tsv
is "6 images" "$n" 6
is "variant and batch files are hard links to the object" "$bad" 0
v1=$(jq -r 'select(.variant_id=="v1") | .filed.variant' out.ndjson)
check "readable name <variant>-<variation>-<short hash>.png" \
    sh -c "echo '$v1' | grep -Eq '^variants/v1/spring-studio-b1/v1-1-[0-9a-f]{6}\.png$'"
sha1=$(jq -r 'select(.variant_id=="v1") | .outputs[0].sha256' out.ndjson)
is "short hash is the object's" "${v1##*-}" "$(echo "$sha1" | cut -c1-6).png"

# manifests: one line per image in each folder
B=$R/batches/spring-studio-b1
is "batch manifest: every image" "$(wc -l <"$B/manifest.ndjson")" 6
is "variant manifest: its images" "$(wc -l <"$R/variants/v1/spring-studio-b1/manifest.ndjson")" 2
is "manifest line says how the image was made" \
    "$(jq -c 'select(.file == "'"${v1##*/}"'") | [.job_id, .prompt, .model, .provider, .reference_images, .batch_id, .batch_name, .variant_id, .sha256, (.created_at | test("^20[0-9-]{8}T[0-9:]{8}Z$"))]' "$B/manifest.ndjson")" \
    '["b1-v1-1","Studio photo of Linen shirt, \"quoted\" \\ slash","local-1","local",["https://cdn.example/p1/v1.jpg"],"b1","Spring studio","v1","'"$sha1"'",true]'
is "manifest files exist in the folder" \
    "$(jq -r .file "$B/manifest.ndjson" | while read -r f; do [ -f "$B/$f" ] && echo y; done | wc -l)" 6

# sidecars: one per image, the same as its manifest line
nside=0 same=0
for f in "$B"/*.png "$R"/variants/*/*/*.png; do
	nside=$((nside + 1))
	[ -f "$f.json" ] && [ "$(cat "$f.json")" = "$(grep -F "\"file\":\"${f##*/}\"" "${f%/*}/manifest.ndjson")" ] &&
	    same=$((same + 1))
done
is "12 filed images" "$nside" 12
is "each has a sidecar equal to its manifest line" "$same" 12

# history: one line per image, in the agreed shape
H=$R/history.ndjson
is "history: one line per image" "$(wc -l <"$H")" 6
is "history keys" "$(jq -c keys_unsorted "$H" | sort -u)" \
    '["variant_id","product_id","batch_id","job_id","path","object","sha256","mime","width","height","created_at"]'
is "history path is the variant file" \
    "$(jq -r 'select(.variant_id=="v1") | .path' "$H" | head -n 1)" "$v1"
is "history paths are the filed variant paths" \
    "$(jq -r .path "$H" | sort)" "$(jq -r 'select(.filed) | .filed.all[].variant' out.ndjson | sort)"

# re-filing: nothing changes, nothing is appended
snapshot "$R" >before
bg-file all.ndjson >out2.ndjson; rc=$?
snapshot "$R" >after
is "re-filing: exit 0" "$rc" 0
check "re-filing changes nothing in the store" cmp -s before after
is "re-filing gives the same records" "$(cat out2.ndjson)" "$(cat out.ndjson)"
bg-file out.ndjson >out3.ndjson
snapshot "$R" >after3
check "filing filed records again changes nothing" cmp -s before after3
is "... and keeps filed" "$(jq -c .filed out3.ndjson)" "$(jq -c .filed out.ndjson)"

# a killed run: lines appended but no sidecar yet, or the reverse
side=$R/$v1.json
rm "$side"
bg-file in.ndjson >/dev/null
is "sidecar missing: re-filing writes it" "$(test -f "$side" && echo y)" y
is "... and appends no line twice" "$(wc -l <"$H") $(wc -l <"$B/manifest.ndjson")" "6 6"
grep -v "\"path\":\"$v1\"" "$H" >h.tmp && cat h.tmp >"$H"
rm "$side"
bg-file in.ndjson >/dev/null
is "history line lost with its sidecar: appended again, once" \
    "$(grep -c "\"path\":\"$v1\"" "$H") $(wc -l <"$H")" "1 6"
rm "$R/$v1"
bg-file in.ndjson >/dev/null
is "image deleted by hand: linked again, no line twice" \
    "$(stat -c %h "$R/$v1") $(wc -l <"$H") $(wc -l <"$R/variants/v1/spring-studio-b1/manifest.ndjson")" "3 6 2"

# a different file already holds the short name: a longer hash is used
mkresults "$R" 1 batch=b2 seed=100 >c.ndjson
c_sha=$(jq -r '.outputs[0].sha256' c.ndjson)
mkdir -p "$R/batches/spring-studio-b2"
echo other >"$R/batches/spring-studio-b2/v1-1-$(echo "$c_sha" | cut -c1-6).png"
bg-file c.ndjson >c.out
is "name taken by another file: 12 hex digits" "$(jq -r .filed.batch c.out)" \
    "batches/spring-studio-b2/v1-1-$(echo "$c_sha" | cut -c1-12).png"
is "... the variant folder keeps the short name" "$(jq -r .filed.variant c.out)" \
    "variants/v1/spring-studio-b2/v1-1-$(echo "$c_sha" | cut -c1-6).png"

# a record that failed at this stage is filed on a later run
jq -c '.status = "failed" | .error = {stage:"file",code:"file_failed",retryable:false,message:"disk full"}' c.ndjson >cf.ndjson
bg-file cf.ndjson >cf.out
is "an earlier file_failed record is filed again" "$(jq -c '[.status, has("error"), .filed.batch]' cf.out)" \
    "[\"succeeded\",false,\"$(jq -r .filed.batch c.out)\"]"

# --copy: a second store, plain copies with the same bytes
mkresults "$T/copy" 2 >cp.ndjson
BG_ROOT=$T/copy bg-file --copy cp.ndjson >cp.out; rc=$?
is "--copy: exit 0" "$rc" 0
o=$(jq -r '.outputs[0].path' cp.out | head -n 1); f=$(jq -r .filed.batch cp.out | head -n 1)
check "--copy: a separate file" test "$(stat -c %i "$T/copy/$o")" != "$(stat -c %i "$T/copy/$f")"
check "--copy: the same bytes" cmp -s "$T/copy/$o" "$T/copy/$f"
snapshot "$T/copy" >cb
BG_ROOT=$T/copy bg-file --copy cp.ndjson >/dev/null
snapshot "$T/copy" >ca
check "--copy: re-filing changes nothing" cmp -s cb ca
is "no temporary files left" "$(find "$R" "$T/copy" -name '.*' | wc -l)" 0

# another filesystem inside the store: copies by itself; a full one fails
X=$T/xfs
mkresults "$X" 2 >x.ndjson
mkdir -p "$X/batches"
if mount -t tmpfs -o size=64k bg-test "$X/batches" 2>/dev/null; then
	trap 'umount "$X/batches" 2>/dev/null' EXIT
	BG_ROOT=$X bg-file x.ndjson >x.out 2>x.err; rc=$?
	is "across filesystems: exit 0, filed" "$rc $(jq -r .status x.out | sort -u)" "0 succeeded"
	o=$(jq -r '.outputs[0].path' x.out | head -n 1); f=$(jq -r .filed.batch x.out | head -n 1)
	check "across filesystems: a copy with the same bytes" cmp -s "$X/$o" "$X/$f"
	check "across filesystems: on the other filesystem" \
	    test "$(stat -c %d "$X/$o")" != "$(stat -c %d "$X/$f")"
	snapshot "$X" >xb; BG_ROOT=$X bg-file x.ndjson >/dev/null; snapshot "$X" >xa
	check "across filesystems: re-filing changes nothing" cmp -s xb xa
	dd if=/dev/zero of="$X/batches/fill" bs=4k count=64 2>/dev/null
	mkresults "$X" 1 batch=full seed=300 >full.ndjson
	BG_ROOT=$X bg-file full.ndjson >full.out 2>full.err; rc=$?
	is "disk full: exit 0, file_failed" "$rc $(jq -r .error.code full.out)" "0 file_failed"
	check "disk full: the reason" grep -q 'No space left on device' full.err
	umount "$X/batches"
else
	echo "# cannot mount a tmpfs: cross-filesystem and disk-full cases not run"
fi

# bad lines and usage
printf '%s\n' 'not json' >bad.ndjson
bg-file bad.ndjson >bad.out 2>bad.err; rc=$?
is "bad line: exit 1" "$rc" 1
is "bad line: a bad_json record" "$(jq -r .error.code bad.out)" bad_json
is "bad line: diagnostic names the line" "$(cat bad.err)" "bg-file: bad.ndjson:1: invalid JSON near column 1"
bg-file --help >h.out 2>&1; rc=$?
is "--help: exit 0" "$rc" 0
check "--help: usage on stdout" grep -q '^usage: bg-file' h.out
bg-file --nope </dev/null >/dev/null 2>&1; is "bad option: exit 2" "$?" 2
bg-file --kind x </dev/null >/dev/null 2>&1; is "--kind without --upload: exit 2" "$?" 2
check "--version" sh -c 'bg-file --version | grep -q "^bg-file "'
done_testing
