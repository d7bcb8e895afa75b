# bg-export: real images made with libvips pass or fail amazon-main for the
# right reasons, reframing and flattening make copies that pass, exiftool
# reads the DigitalSourceType from every copy, masters stay byte for byte,
# and a second run changes nothing.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/export-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT
AI=http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia

mkproduct p90.png 1200 90 90 "255 255 255"	# passes as it is
mkproduct grey.png 1200 90 90 "235 235 235"	# light grey background
mkproduct small.png 600 90 90 "255 255 255"	# too few pixels
mkproduct p40.png 1200 40 30 "255 255 255"	# too much margin: reframed
mkproduct trans.png 1100 90 90 none		# transparent PNG
printf 'not an image at all' >corrupt.png
for v in p90 grey small p40 trans corrupt; do store_result "$R" "$v.png" "$v"; done >res.ndjson
printf '%s\n' '{"status":"failed","error":{"stage":"generate","code":"timeout"},"job_id":"x"}' \
    '{"job_id":"y",  "status":"planned"}' >other.ndjson
cat res.ndjson other.ndjson >in.ndjson
find "$R/objects" -type f -exec sha256sum {} + | sort >masters.before

bg-export -p amazon-main -p gmc in.ndjson >out.ndjson 2>err; rc=$?
is "exit 0 (an unreadable image is data)" "$rc" 0
is "one record per line" "$(wc -l <out.ndjson)" 8
is "other records pass through byte for byte" "$(tail -n 2 out.ndjson)" "$(cat other.ndjson)"
is "unknown fields kept" "$(jq -c 'select(.exports) | .mine' out.ndjson | sort -u)" '{"kept":true}'
is "one export per output and profile" "$(jq -c 'select(.exports) | [.exports[].profile]' out.ndjson | sort -u)" \
    '["amazon-main","gmc"]'
v() { jq -c --arg v "$1" --arg p "$2" 'select(.variant_id == $v) | .exports[] | select(.profile == $p) | '"$3" out.ndjson; }
is "90 % on pure white passes" "$(v p90 amazon-main '[.verdict, .problems, .reframed]')" '["pass",[],false]'
is "light grey background fails" "$(v grey amazon-main '[.verdict, .problems]')" '["fail",["background_not_white"]]'
is "gmc has no white-background rule" "$(v grey gmc .verdict)" '"pass"'
is "600 px fails" "$(v small amazon-main '[.verdict, .problems, .width]')" '["fail",["image_too_small"],600]'
is "40 % on white is reframed to pass" "$(v p40 amazon-main '[.verdict, .problems, .reframed]')" '["pass",[],true]'
is "gmc does not reframe" "$(v p40 gmc .reframed)" false
is "the transparent PNG is flattened and passes" "$(v trans amazon-main '[.verdict, .mime]')" '["pass","image/jpeg"]'
is "a corrupt image: fail, unreadable, no copy" "$(v corrupt amazon-main '[.verdict, .problems, .path]')" \
    '["fail",["unreadable"],null]'
check "the corrupt image's line is named on stderr" grep -q '^bg-export: in.ndjson:6: amazon-main: unreadable' err
check "entries name their master" sh -c "[ \"\$(jq -r 'select(.variant_id == \"p90\") | .exports[0].object == .outputs[0].path' out.ndjson)\" = true ]"
check "copies live under exports/<profile>/<batch>/<variant>-<variation>-<hash>.jpg" sh -c \
    "jq -r 'select(.exports) | .exports[].path // empty' out.ndjson | grep -Evq '^exports/(amazon-main|gmc)/spring-b1/[a-z0-9]+-1-[0-9a-f]{12}\.jpg$' && exit 1 || exit 0"

# every copy: JPEG, sRGB, >= 1000 px (but the 600 px one), XMP read by exiftool
bad=0 n=0
for f in $(jq -r 'select(.exports) | .exports[] | select(.path) | .path' out.ndjson); do
	n=$((n + 1))
	ex=$(exiftool -s3 -XMP-iptcExt:DigitalSourceType -FileType -ImageWidth -ImageHeight "$R/$f")
	set -- $ex
	[ "$1" = "$AI" ] && [ "$2" = JPEG ] || { bad=1; echo "# $f: $ex"; }
	case $f in *small-*) ;; *) [ "$3" -ge 1000 ] && [ "$4" -ge 1000 ] || { bad=1; echo "# $f: $3x$4"; };; esac
	vipsheader -f interpretation "$R/$f" | grep -q 'INTERPRETATION_sRGB' || { bad=1; echo "# $f: not srgb"; }
done
is "10 copies" "$n" 10
is "every copy is a JPEG in sRGB with DigitalSourceType trainedAlgorithmicMedia (exiftool)" "$bad" 0
f=$(v p90 amazon-main .path | tr -d '"')
is "the provider and model are named in Iptc4xmpExt:AISystemUsed/VersionUsed" \
    "$(exiftool -s3 -XMP-iptcExt:AISystemUsed -XMP-iptcExt:AISystemVersionUsed "$R/$f" | tr '\n' ' ')" \
    "gemini gemini-3.1-flash-image "

# reframing trims the margin only: the whole product, about 90 % of the frame
f=$(v p40 amazon-main .path | tr -d '"')
set -- $(vips find_trim "$R/$f" --background "255 255 255")
W=$(vipsheader -f width "$R/$f")
check "reframed: the product fills 85-92 % of the frame ($3 of $W)" \
    sh -c "[ $(($3 * 100 / W)) -ge 85 ] && [ $(($3 * 100 / W)) -le 92 ]"
check "reframed: the product keeps its 4:3 shape (not cut) ($3 x $4)" \
    sh -c "[ $(($3 * 300 / $4)) -ge 390 ] && [ $(($3 * 300 / $4)) -le 410 ]"
check "the reframed copy's corner is pure white" sh -c \
    "[ \"\$(vips getpoint '$R/$f' 0 0 | xargs)\" = '255 255 255' ]"

find "$R/objects" -type f -exec sha256sum {} + | sort >masters.after
check "masters' sha256 unchanged" cmp -s masters.before masters.after
is "nothing written into objects/" "$(wc -l <masters.after)" "$(wc -l <masters.before)"

# a second run: the same records, no file written or touched
find "$R/exports" -type f -printf '%p %s %T@\n' | sort >files.before
bg-export -p amazon-main -p gmc in.ndjson >out2.ndjson 2>/dev/null; rc=$?
is "second run: exit 0" "$rc" 0
check "second run: the same records" cmp -s out.ndjson out2.ndjson
find "$R/exports" -type f -printf '%p %s %T@\n' | sort >files.after
check "second run: no file written or touched" cmp -s files.before files.after
check "the pipeline after bg-file: records are re-exported the same" sh -c \
    "bg-export -p amazon-main -p gmc out.ndjson 2>/dev/null | cmp -s - out.ndjson"

# the local provider's layouts are compositeSynthetic, not AI
store_result "$R" p90.png local1 local >local.ndjson
bg-export -p amazon-other local.ndjson >lout.ndjson 2>/dev/null
f=$(jq -r '.exports[0].path' lout.ndjson)
is "local: compositeSynthetic, no AI system named" \
    "$(exiftool -s3 -XMP-iptcExt:DigitalSourceType -XMP-iptcExt:AISystemUsed "$R/$f")" \
    http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic
is "local: passes amazon-other" "$(jq -r '.exports[0].verdict' lout.ndjson)" pass
done_testing
