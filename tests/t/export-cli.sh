# bg-export's command line: profiles files (own profiles, errors naming
# the field, exit 2), --list-profiles round trip, bad lines (exit 1).
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/export-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT

bg-export --help >help 2>&1; rc=$?
is "--help: exit 0" "$rc" 0
for o in --profile --profiles --list-profiles --root --help --version; do
	check "--help lists $o" grep -q -- "$o" help
done
bg-export </dev/null >/dev/null 2>err; rc=$?
is "no --profile: exit 2" "$rc" 2
bg-export -p ebay </dev/null >/dev/null 2>err; rc=$?
is "unknown profile: exit 2" "$rc" 2
is "unknown profile: named" "$(cat err)" "bg-export: --profile ebay: no such profile (--list-profiles lists them)"

bg-export --list-profiles >list.json; rc=$?
is "--list-profiles: exit 0" "$rc" 0
is "--list-profiles: the five built-ins" "$(jq -c '[.[].name]' list.json)" \
    '["amazon-main","amazon-other","gmc","shopify","etsy"]'
is "amazon-main's figures" "$(jq -c '.[0] | [.min_long_side, .max_side, .background, .fill_min, .fill_target, .format]' list.json)" \
    '[1000,10000,"white",0.85,0.9,"jpeg"]'
is "gmc: no white-background rule, 64 MP, 16 MB" \
    "$(jq -c '.[2] | [.background, .max_megapixels, .max_bytes]' list.json)" '["any",64,16777216]'
# the listing is a valid profiles file: renamed copies load and behave alike
jq '[.[] | .name |= "my-" + .]' list.json >mine.json
bg-export --profiles mine.json --list-profiles >list2.json; rc=$?
is "--list-profiles output is a profiles file" "$rc" 0
is "own profiles listed after the built-ins" "$(jq -c '[.[5:][].name]' list2.json)" \
    '["my-amazon-main","my-amazon-other","my-gmc","my-shopify","my-etsy"]'
is "own profiles keep every figure" "$(jq -c '[.[5:][] | del(.name)]' list2.json)" "$(jq -c '[.[] | del(.name)]' list.json)"

mkproduct p90.png 1100 90 90 "255 255 255"
store_result "$R" p90.png p90 >res.ndjson
echo '{"name":"square-webp","format":"webp","square":true,"target_size":800,"provenance":true}' >sq.json
bg-export --profiles sq.json -p square-webp -p amazon-main res.ndjson >out.ndjson 2>err; rc=$?
is "own profile: exit 0" "$rc" 0
is "own profile: a WebP copy at its target size" \
    "$(jq -c '.exports[0] | [.profile, .verdict, .mime, .width, .height]' out.ndjson)" \
    '["square-webp","pass","image/webp",800,800]'
f=$(jq -r '.exports[0].path' out.ndjson)
is "own profile: exiftool reads the WebP copy's DigitalSourceType" \
    "$(exiftool -s3 -XMP-iptcExt:DigitalSourceType "$R/$f")" \
    http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia
check "own profile: written as .webp" sh -c "echo '$f' | grep -q '^exports/square-webp/spring-b1/p90-1-[0-9a-f]*\.webp$'"

bad() {	# bad FILE-CONTENT EXPECTED-MESSAGE
	printf '%s\n' "$1" >bad.json
	bg-export --profiles bad.json -p x res.ndjson >bad.out 2>bad.err; rc=$?
	is "bad profiles file ($2): exit 2" "$rc" 2
	is "bad profiles file ($2): named" "$(cat bad.err)" "bg-export: bad.json: $2"
	is "bad profiles file ($2): nothing written" "$(wc -c <bad.out)" 0
}
bad '[{"name":"x","fill_min":2}]' "profile 1: fill_min: want a number from 0 to 1"
bad '[{"name":"x"},{"name":"y","format":"heic"}]' "profile 2: format: want jpeg, png or webp"
bad '{"name":"x","colour":"srgb"}' "profile 1: colour: unknown field"
bad '{"name":"../x"}' "profile 1: name: want up to 63 of [A-Za-z0-9._-]"
bad '{"name":"x","background":"grey"}' "profile 1: background: want \"white\" or \"any\""
bad '{"name":"x","accept":["jpeg","heic"]}' "profile 1: accept: want jpeg, png, webp, gif, tiff or bmp"
bad '{"name":"x",' "not a JSON array or object"

{ cat res.ndjson; echo '{"broken'; } >mixed.ndjson
bg-export -p gmc mixed.ndjson >mixed.out 2>mixed.err; rc=$?
is "a bad line: exit 1" "$rc" 1
is "a bad line: one record per line" "$(wc -l <mixed.out)" 2
is "a bad line: a failed bad_json record" "$(sed -n 2p mixed.out | jq -c '[.status, .error.stage, .error.code]')" \
    '["failed","export","bad_json"]'
check "a bad line: named on stderr" grep -q '^bg-export: mixed.ndjson:2: ' mixed.err
done_testing
