# bg-file: outputs carried inline (bg-generate --inline) are written into
# objects/, checked against their sha256, and lose their bytes on the way.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT

mkresults "$R" 3 inline=1 >in.ndjson
is "objects not there before" "$(find "$R" -type f 2>/dev/null | wc -l)" 0
bg-file in.ndjson >out.ndjson 2>err; rc=$?
is "exit 0" "$rc" 0
is "all filed" "$(jq -r .status out.ndjson | sort | uniq -c | tr -s ' ')" " 3 succeeded"
is "inline bytes dropped" "$(jq '[.outputs[] | has("data")] | any' out.ndjson | sort -u)" false
ok=0
while read -r p s; do
	[ "$(sha256sum "$R/$p" | cut -c1-64)" = "$s" ] && ok=$((ok + 1))
done <<EOF
$(jq -r '.outputs[] | "\(.path) \(.sha256)"' out.ndjson)
EOF
is "objects written with the right bytes" "$ok" 3
p=$(jq -r '.outputs[0].path' out.ndjson | head -n 1)
f=$(jq -r .filed.variant out.ndjson | head -n 1)
is "filed as a hard link to the new object" "$(stat -c %i "$R/$f")" "$(stat -c %i "$R/$p")"
is "history: one line each" "$(wc -l <"$R/history.ndjson")" 3

snapshot "$R" >before
bg-file in.ndjson >out2.ndjson
snapshot "$R" >after
check "inline again: the store is unchanged" cmp -s before after
is "inline again: same records" "$(cat out2.ndjson)" "$(cat out.ndjson)"

# an inline output without sha256, mime or size: filled in from the bytes
mkresults "$R" 1 inline=1 batch=b3 seed=50 |
    jq -c '.outputs[0] |= del(.sha256, .mime, .bytes, .width, .height, .path)' >bare.ndjson
bg-file bare.ndjson >bare.out
want=$(jq -r '.outputs[0].data' bare.ndjson | base64 -d | sha256sum | cut -c1-64)
is "facts filled in from the bytes" "$(jq -c '.outputs[0] | [.sha256, .mime, .bytes > 0, .width, .height, .path]' bare.out)" \
    "[\"$want\",\"image/png\",true,4,3,\"objects/$(echo "$want" | cut -c1-2)/$want.png\"]"

# corrupted payloads: another image's bytes, or not base64 at all
mkresults "$R" 2 inline=1 batch=b4 seed=70 >c.ndjson
other=$(mkresults "$T/x" 1 inline=1 seed=99 | jq -r '.outputs[0].data')
{ head -n 1 c.ndjson | jq -c --arg d "$other" '.outputs[0].data = $d'
  tail -n 1 c.ndjson | jq -c '.outputs[0].data = "@@not base64@@"'
  mkresults "$R" 1 batch=b4 seed=80 ; } >bad.ndjson
bg-file bad.ndjson >bad.out 2>bad.err; rc=$?
is "corrupted payloads: exit 0 (failures are data)" "$rc" 0
is "corrupted payloads: file_failed records" \
    "$(jq -c 'select(.status=="failed") | [.error.stage, .error.code, .error.retryable]' bad.out | sort -u)" \
    '["file","file_failed",false]'
is "corrupted payloads: one record each" "$(jq -r .status bad.out | tr '\n' ' ')" "failed failed succeeded "
check "sha mismatch is named" grep -q 'does not match its sha256' bad.err
check "bad base64 is named" sh -c 'jq -r .error.message bad.out | grep -q "not base64"'
w=$(head -n 1 c.ndjson | jq -r '.outputs[0].sha256')
is "the corrupted image is not stored" "$(find "$R" -name "$w*" | wc -l)" 0
g=$(jq -r 'select(.status=="succeeded") | .filed.batch' bad.out); g=${g##*/}
is "nothing filed for the corrupted jobs" "$(cd "$R" && find variants batches -path '*-b4*' | sort | tr '\n' ' ')" \
    "batches/spring-studio-b4 batches/spring-studio-b4/manifest.ndjson batches/spring-studio-b4/$g batches/spring-studio-b4/$g.json variants/v1/spring-studio-b4 variants/v1/spring-studio-b4/manifest.ndjson variants/v1/spring-studio-b4/$g variants/v1/spring-studio-b4/$g.json "
is "a failed record keeps its inline bytes" "$(jq -r 'select(.status=="failed") | .outputs[0] | has("data")' bad.out | sort -u)" true
done_testing
