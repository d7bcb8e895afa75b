# bg-candidates: selection (ids, JSON selectors, --all, --product), the
# default choice and --slot/--pick, history and uploads, failures, the
# summary, hostile input, a 100k-variant catalog, and bg-plan downstream.
. "$TOP/tests/lib.sh"
img=$TOP/examples/images
R=$T/store
mkdir -p "$R"
j() { jq -c "$@"; }

# A catalog of our own with absolute image paths (run from any folder).
# p1/a: own image, MAIN 160 (size given) and MAIN 320 (size probed);
# p1/b: no own image, PT01 sizes known; p2/c (numeric ids): no images.
cat >cat.ndjson <<EOF
{"product_id":"p1","variant_id":"a","title":"Shirt","variant_title":"Blue","sku":"S-B","image_url":"$img/p01-v01-main.png","images":[{"url":"$img/p01-v01-main.png","slot":"MAIN","width":160,"height":160},{"url":"$img/p01-v01-main-hires.png","slot":"MAIN"},{"url":"$img/p01-v01-swatch.png","slot":"SWATCH"}],"attrs":{"color":"blue"},"price":12.5}
{"product_id":"p1","variant_id":"b","title":"Shirt","variant_title":"White","images":[{"url":"$img/p01-pt01.jpg","slot":"PT01","width":240,"height":180},{"url":"$img/p01-v03-main.png","slot":"MAIN"},{"url":"https://cdn.example/big.jpg","slot":"pt01","width":2000,"height":2000},{"url":"https://cdn.example/nosize.jpg","slot":"PT02"}]}
{"product_id":7,"variant_id":42,"title":"Mug","variant_title":"Red"}
EOF

echo "# ids on stdin, the default choice"
printf 'a\n  b  \n42\n' | bg-candidates --catalog cat.ndjson --root "$R" >o.ndjson 2>e.txt
is "ids on stdin: exit 0" $? 0
is "ids: one record per line, in order" "$(jq -r .variant_id o.ndjson | tr '\n' ' ')" "a b 42 "
is "ids: status candidate" "$(jq -r .status o.ndjson | sort -u)" candidate
is "catalog fields joined" "$(j 'select(.variant_id=="a") | [.product_id,.title,.variant_title,.sku,.attrs.color,.price]' o.ndjson)" '["p1","Shirt","Blue","S-B","blue",12.5]'
is "variant_image with the size from images" "$(j 'select(.variant_id=="a") | .variant_image' o.ndjson)" "{\"url\":\"$img/p01-v01-main.png\",\"width\":160,\"height\":160}"
is "default: the variant image" "$(j 'select(.variant_id=="a") | .selected' o.ndjson)" "[\"$img/p01-v01-main.png\"]"
is "default without a variant image: the largest source image" "$(j 'select(.variant_id=="b") | .selected' o.ndjson)" '["https://cdn.example/big.jpg"]'
is "numeric ids become strings" "$(j 'select(.variant_id=="42") | [.variant_id,.product_id]' o.ndjson)" '["42","7"]'
is "variant without images: selected []" "$(j 'select(.variant_id=="42") | [.selected,.variant_image]' o.ndjson)" '[[],null]'
check "variant without images: warned" grep -q '^bg-candidates: <stdin>:3: 42: no image to select$' e.txt
is "no history or uploads: empty lists" "$(j '[.generated,.uploads]' o.ndjson | sort -u)" '[[],[]]'

echo "# JSON selectors"
printf '%s\n' '{"variant_id":"a","selected":["mine.png"],"batch_note":"keep me","title":"Own title"}' \
	'"42"' '{"product_id":"p1","tag":1}' '{"variant_id":"x","status":"failed","error":{"code":"bad_json"}}' \
	>sel.ndjson
bg-candidates --catalog cat.ndjson --root "$R" sel.ndjson >o.ndjson 2>e.txt
is "JSON selectors: exit 0" $? 0
is "explicit selected wins, unknown fields kept, selector title wins" \
	"$(head -1 o.ndjson | j '[.selected,.batch_note,.title,.status]')" '[["mine.png"],"keep me","Own title","candidate"]'
is "a JSON string is an id" "$(sed -n 2p o.ndjson | j .variant_id)" '"42"'
is "product_id selector: only the variant not selected yet, with the selector's fields" \
	"$(sed -n 3p o.ndjson | j '[.variant_id,.tag]')" '["b",1]'
check "the repeat is reported" grep -q 'sel.ndjson:3: a selected again, ignored' e.txt
is "a record that already failed passes through untouched" "$(sed -n 4p o.ndjson)" \
	'{"variant_id":"x","status":"failed","error":{"code":"bad_json"}}'
is "one record per new selection" "$(wc -l <o.ndjson | tr -d ' ')" 4
echo '{"variant_id":"a","selected":"one.png"}' | bg-candidates --catalog cat.ndjson --root "$R" >o.ndjson 2>/dev/null
is "selected that is not a list: invalid_record, exit 1" "$? $(j '[.status,.error.code]' o.ndjson)" '1 ["failed","invalid_record"]'

echo "# duplicates, not_found, bad lines"
printf 'a\na\nzz\na\nzz\n' | bg-candidates --catalog cat.ndjson --root "$R" >o.ndjson 2>e.txt
is "duplicates: exit 0" $? 0
is "a variant selected three times is emitted once" "$(jq -r .variant_id o.ndjson | tr '\n' ' ')" "a zz "
is "and reported once per id" "$(grep -c 'selected again' e.txt)" 2
is "unknown id: not_found" "$(sed -n 2p o.ndjson | j '[.variant_id,.status,.error.code,.error.stage,.error.retryable]')" \
	'["zz","failed","not_found","candidates",false]'
printf 'a\n{"variant_id":\n[1,2]\n{}\n"unterminated\nb\n' | bg-candidates --catalog cat.ndjson --root "$R" >o.ndjson 2>e.txt
is "malformed selector lines: exit 1" $? 1
is "every line yields a record" "$(wc -l <o.ndjson | tr -d ' ')" 6
is "bad lines: bad_json with line numbers" "$(j 'select(.error.code=="bad_json") | .error.line' o.ndjson | tr '\n' ' ')" "2 3 5 "
is "an object naming no variant: invalid_record" "$(sed -n 4p o.ndjson | j .error.code)" '"invalid_record"'
is "good lines around them still processed" "$(j 'select(.status=="candidate") | .variant_id' o.ndjson | tr '\n' ' ')" '"a" "b" '
check "bad lines named on stderr" grep -q '^bg-candidates: <stdin>:2: ' e.txt

echo "# --all, --product"
bg-candidates --catalog cat.ndjson --root "$R" --all </dev/null >o.ndjson
is "--all: every variant in catalog order" "$(jq -r .variant_id o.ndjson | tr '\n' ' ')" "a b 42 "
echo a | bg-candidates --catalog cat.ndjson --root "$R" --all >o.ndjson
is "--all does not read stdin unless named" "$(wc -l <o.ndjson | tr -d ' ')" 3
bg-candidates --catalog cat.ndjson --root "$R" --product 7 --product p1 --product nope >o.ndjson 2>e.txt
is "--product (repeatable): the product's variants in order" \
	"$(j '[.variant_id,.product_id,.status]' o.ndjson | tr '\n' ' ')" \
	'["42","7","candidate"] ["a","p1","candidate"] ["b","p1","candidate"] [null,"nope","failed"] '
is "unknown product: not_found" "$(tail -1 o.ndjson | j .error.code)" '"not_found"'
echo b | bg-candidates --catalog cat.ndjson --root "$R" --product p1 - >o.ndjson 2>e.txt
is "--product plus '-': stdin read too, repeat dropped" "$(jq -r .variant_id o.ndjson | tr '\n' ' ')" "a b "

echo "# --slot: the highest resolution in the slot, probed and cached"
printf 'a\nb\n' | bg-candidates --catalog cat.ndjson --root "$R" --pick largest >/dev/null 2>&1
n=$(find "$R/cache/probe" -name '*.json' | wc -l | tr -d ' ')
is "probes cached under the store, one file per probed image" "$n" 3
printf 'a\nb\n' | bg-candidates --catalog cat.ndjson --root "$R" --slot MAIN >o.ndjson 2>e.txt
is "--slot MAIN: the 320px image, not the 160px one nor the variant image" \
	"$(j 'select(.variant_id=="a") | .selected' o.ndjson)" "[\"$img/p01-v01-main-hires.png\"]"
is "probed sizes are noted in images" \
	"$(j 'select(.variant_id=="a") | .images[1] | [.width,.height]' o.ndjson)" '[320,320]'
is "--slot matches codes without case, sizes from the catalog" \
	"$(printf b | bg-candidates --catalog cat.ndjson --root "$R" --slot PT01 2>/dev/null | j .selected)" '["https://cdn.example/big.jpg"]'
is "--slot with no image there: the default choice" \
	"$(printf a | bg-candidates --catalog cat.ndjson --root "$R" --slot PT05 | j .selected)" "[\"$img/p01-v01-main.png\"]"
# the cache is used: make the cached size of the 160px swatch huge
f=$(grep -l 'p01-v01-swatch.png' "$R"/cache/probe/*/*.json | head -1)
check "a cache entry per probed file" [ -n "$f" ]
[ -n "$f" ] && echo "{\"path\":\"$img/p01-v01-swatch.png\",\"width\":5000,\"height\":5000}" >"$f"
is "a cached probe answers instead of libvips" \
	"$(printf a | bg-candidates --catalog cat.ndjson --root "$R" --pick largest | j .selected)" "[\"$img/p01-v01-swatch.png\"]"
printf b | bg-candidates --catalog cat.ndjson --root "$R" --slot PT02 >o.ndjson 2>e.txt
check "http images without a size: not probed, with a warning" grep -q 'not probed' e.txt
is "an unprobed image is still chosen when it is the only one" "$(j .selected o.ndjson)" '["https://cdn.example/nosize.jpg"]'
# a corrupt image file: the warning says which variant to fix
echo 'not an image' >broken.jpg
echo '{"product_id":"p9","variant_id":"v-broken","title":"T","images":[{"url":"broken.jpg","slot":"MAIN"}]}' >catb.ndjson
echo v-broken | bg-candidates --catalog catb.ndjson --root "$R" >o.ndjson 2>e.txt
is "unprobeable image: the variant is named" "$(cat e.txt)" \
	"bg-candidates: v-broken: broken.jpg: cannot probe image: not an image libvips reads"

echo "# history and uploads: newest first, bounded"
cat >"$R/history.ndjson" <<EOF
{"variant_id":"a","product_id":"p1","batch_id":"b1","job_id":"b1-a-1","url":"variants/a/b1/1.png","path":"variants/a/b1/1.png","sha256":"s1","created_at":"2026-11-20T10:00:00Z"}
{"variant_id":"a","product_id":"p1","batch_id":"b3","job_id":"b3-a-1","path":"objects/s3/s3.png","sha256":"s3","created_at":"2026-11-22T10:00:00Z"}
{"variant_id":"a","product_id":"p1","batch_id":"b0","job_id":"b0-a-1","url":"https://cdn.example/s0.png","sha256":"s0","created_at":"2026-11-19T10:00:00Z"}
{"variant_id":"a","product_id":"p1","batch_id":"b2","job_id":"b2-a-1","url":"variants/a/b2/2.png","sha256":"s2","created_at":"2026-11-21T10:00:00Z"}
{"variant_id":"a","product_id":"p1","batch_id":"b2","job_id":"b2-a-1","url":"variants/a/b2/2.png","sha256":"s2","created_at":"2026-11-21T10:00:00Z"}
{"variant_id":42,"batch_id":"b9","url":"/abs/42.png","sha256":"s9","created_at":"2026-11-21T10:00:00Z"}
this is not json
{"variant_id":"a","batch_id":"b4"}
EOF
cat >"$R/uploads.ndjson" <<EOF
{"id":"u1","url":"https://cdn.example/u1.png","name":"lifestyle-beach.png","kind":"lifestyle","width":800,"height":600,"created_at":"2026-11-01T00:00:00Z"}
{"id":"u2","path":"objects/u2/u2.png","name":"model-shot.png","kind":"model","created_at":"2026-11-03T00:00:00Z"}
{"id":"u3","path":"objects/u3/u3.png","name":"lifestyle-city.png","kind":"lifestyle","created_at":"2026-11-02T00:00:00Z"}
EOF
printf 'a\n42\nb\n' | bg-candidates --catalog cat.ndjson --root "$R" >o.ndjson 2>e.txt
is "history: exit 0 despite bad store lines" $? 0
is "generated newest first, one per sha256, store paths joined to the root" \
	"$(head -1 o.ndjson | j '[.generated[] | .url]')" \
	"[\"$R/objects/s3/s3.png\",\"$R/variants/a/b2/2.png\",\"$R/variants/a/b1/1.png\",\"https://cdn.example/s0.png\"]"
is "generated entries: url sha256 batch_id job_id created_at" "$(head -1 o.ndjson | j '.generated[0] | keys')" \
	'["batch_id","created_at","job_id","sha256","url"]'
is "history of a numeric id" "$(sed -n 2p o.ndjson | j '[.generated[] | .url]')" '["/abs/42.png"]'
is "no history: []" "$(sed -n 3p o.ndjson | j .generated)" '[]'
check "bad history lines reported with their line" grep -q 'history.ndjson:7: ' e.txt
check "history lines without an image reported" grep -q 'history.ndjson:8: no url or path' e.txt
is "uploads newest first, on every candidate" "$(j '[.uploads[] | .id]' o.ndjson | sort -u)" '["u2","u3","u1"]'
is "upload entries keep kind and size" "$(head -1 o.ndjson | j '.uploads[2] | [.kind,.width,.height,.url]')" '["lifestyle",800,600,"https://cdn.example/u1.png"]'
printf a | bg-candidates --catalog cat.ndjson --root "$R" --max-generated 2 --max-uploads 1 >o.ndjson
is "--max-generated 2 keeps the 2 newest" "$(j '[.generated[] | .sha256]' o.ndjson)" '["s3","s2"]'
is "--max-uploads 1 keeps the newest" "$(j '[.uploads[] | .id]' o.ndjson)" '["u2"]'
printf a | bg-candidates --catalog cat.ndjson --root "$R" --max-generated 0 --max-uploads 0 >o.ndjson
is "--max-* 0: empty lists" "$(j '[.generated,.uploads]' o.ndjson)" '[[],[]]'
printf a | BG_ROOT="$R" bg-candidates --catalog cat.ndjson >o.ndjson
is "BG_ROOT names the store" "$(j '.generated | length' o.ndjson)" 4
printf a | bg-candidates --catalog cat.ndjson --root "$T/empty" --history "$R/history.ndjson" --uploads "$R/uploads.ndjson" >o.ndjson
is "--history and --uploads name the files" "$(j '[(.generated | length), (.uploads | length)]' o.ndjson)" '[4,3]'
printf a | bg-candidates --catalog cat.ndjson --root "$R" --history "$T/missing.ndjson" >/dev/null 2>e.txt
is "a --history file that is missing: exit 2" $? 2

echo "# --pick"
pick() { printf '%s\n' "$1" | bg-candidates --catalog cat.ndjson --root "$R" --pick "$2" 2>/dev/null | j .selected; }
is "--pick variant,generated:2,upload:lifestyle-*: in order, at most 4" \
	"$(pick a 'variant,generated:2,upload:lifestyle-*')" \
	"[\"$img/p01-v01-main.png\",\"$R/objects/s3/s3.png\",\"$R/variants/a/b2/2.png\",\"$R/objects/u3/u3.png\"]"
is "--pick: no duplicates" "$(pick a 'variant,generated,generated:2,variant')" \
	"[\"$img/p01-v01-main.png\",\"$R/objects/s3/s3.png\",\"$R/variants/a/b2/2.png\"]"
is "--pick slot:CODE and largest" "$(pick a 'slot:MAIN,largest')" \
	"[\"$img/p01-v01-main-hires.png\",\"$img/p01-v01-swatch.png\"]"
is "--pick upload: the newest; upload:KIND matches kind" "$(pick a 'upload,upload:lifestyle')" \
	"[\"$R/objects/u2/u2.png\",\"$R/objects/u3/u3.png\",\"https://cdn.example/u1.png\"]"
is "--pick generated:4 caps at 4 images" "$(pick a 'generated:4,variant' | jq length)" 4
is "--pick with nothing to pick: []" "$(pick 42 variant)" '[]'
bg-candidates --catalog cat.ndjson --pick 'variant,bogus' </dev/null >/dev/null 2>e.txt
is "--pick unknown source: exit 2" $? 2
check "--pick error names the source" grep -q "unknown source 'bogus'" e.txt
bg-candidates --catalog cat.ndjson --pick 'slot' </dev/null >/dev/null 2>&1
is "--pick slot without a code or --slot: exit 2" $? 2
bg-candidates --catalog cat.ndjson --pick 'generated:9' </dev/null >/dev/null 2>&1
is "--pick generated:9 (over 4): exit 2" $? 2

echo "# malformed catalog lines"
cat >bad.ndjson <<EOF
{"product_id":"p","variant_id":"ok1","image_url":"x.png"}
{"product_id":"p","variant_id":
{"product_id":"p"}
{"variant_id":"noprod"}
{"product_id":"p","variant_id":"ok1","image_url":"dup.png"}
[1]
{"product_id":"p","variant_id":"img","images":"x.png"}
{"product_id":"p","variant_id":"img2","images":[{"slot":"MAIN"}]}
{"product_id":"p","variant_id":""}

{"product_id":"p","variant_id":"ok2","image_url":"y.png"}
EOF
bg-candidates --catalog bad.ndjson --root "$R" --all >o.ndjson 2>e.txt
is "malformed catalog lines: the run goes on, exit 1" "$? $(jq -r .variant_id o.ndjson | tr '\n' ' ')" "1 ok1 ok2 "
is "each reported once with its line number" "$(grep -o 'bad.ndjson:[0-9]*' e.txt | tr '\n' ' ')" \
	"bad.ndjson:2 bad.ndjson:3 bad.ndjson:4 bad.ndjson:5 bad.ndjson:6 bad.ndjson:7 bad.ndjson:8 bad.ndjson:9 "
check "a repeated variant_id names the first line" grep -q 'bad.ndjson:5: variant_id repeats line 1' e.txt
is "the first of a repeated id wins" "$(head -1 o.ndjson | j .selected)" '["x.png"]'
bg-candidates --catalog "$T/nope.ndjson" --all >/dev/null 2>e.txt
is "unreadable catalog: exit 2" $? 2
check "unreadable catalog named" grep -q "nope.ndjson: No such file" e.txt

echo "# --summary"
bg-candidates --catalog cat.ndjson --root "$R" --all --summary >o.ndjson
is "--summary: one record per slot, sorted" "$(j 'select(.slot)' o.ndjson | tr '\n' ' ')" \
	'{"slot":"MAIN","variants":2,"images":3} {"slot":"PT01","variants":1,"images":2} {"slot":"PT02","variants":1,"images":1} {"slot":"SWATCH","variants":1,"images":1} '
is "--summary totals" "$(tail -1 o.ndjson | j '.totals | [.variants,.with_variant_image,.with_images,.without_images,.slots,.not_found]')" '[3,1,2,1,4,0]'
printf 'a\nzz\n{bad\n' | bg-candidates --catalog cat.ndjson --root "$R" --summary >o.ndjson 2>/dev/null
is "--summary over a selection, counting failures; exit 1 for the bad line" \
	"$? $(tail -1 o.ndjson | j '.totals | [.variants,.not_found,.bad_lines]')" '1 [1,1,1]'
bg-candidates --catalog "$TOP/examples/catalog.ndjson" --root "$R" --all --summary >o.ndjson
is "example catalog: 30 variants" "$(tail -1 o.ndjson | j .totals.variants)" 30
is "example catalog: slots MAIN, PT01..PT08, SWATCH" "$(jq -r 'select(.slot) | .slot' o.ndjson | tr '\n' ' ')" \
	"MAIN PT01 PT02 PT03 PT04 PT05 PT06 PT07 PT08 SWATCH "

echo "# hostile ids"
long=$(awk 'BEGIN { while (i++ < 5000) printf "x" }')
printf '../../etc/passwd\nv"1\\\n%s\n\001\033[31mred\nb\377ad\n{"variant_id":"a\\nb\\u0000c"}\n{"variant_id":{"x":1}}\n' "$long" \
	| bg-candidates --catalog cat.ndjson --root "$T/h" >o.ndjson 2>e.txt
is "hostile ids: a record each" "$(wc -l <o.ndjson | tr -d ' ')" 7
check "hostile ids: every output line is valid JSON" jq -e . o.ndjson >/dev/null
is "hostile ids: not_found (or invalid_record), nothing else" "$(jq -r .error.code o.ndjson | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')" \
	"1 invalid_record 6 not_found "
is "ids are kept as given" "$(head -2 o.ndjson | jq -r .variant_id | tr '\n' '|')" '../../etc/passwd|v"1\|'
is "stderr: one line per diagnostic, control bytes escaped" "$(grep -c . e.txt) $(grep -c "$(printf '\033')" e.txt)" "1 0"
check "long ids are cut short in messages" [ "$(sed -n 3p o.ndjson | jq -r '.error.message | length')" -lt 200 ]
check "no file was created from an id" [ ! -e "$T/etc" ]
check "nothing written in the store" [ -z "$(ls -A "$T/h" 2>/dev/null)" ]

echo "# options"
bg-candidates --help >o.txt; is "--help: exit 0" $? 0
check "--help prints the usage to stdout" grep -q -- '--catalog FILE' o.txt
bg-candidates --version >o.txt; is "--version: exit 0" "$? $(cut -d' ' -f1 o.txt)" "0 bg-candidates"
bg-candidates --bogus </dev/null >/dev/null 2>&1; is "unknown option: exit 2" $? 2
bg-candidates --max-generated -1 </dev/null >/dev/null 2>&1; is "--max-generated -1: exit 2" $? 2
bg-candidates --catalog cat.ndjson --slot '' </dev/null >/dev/null 2>&1; is "--slot '': exit 2" $? 2
(cd "$T" && env -u BG_ROOT bg-candidates --all </dev/null >/dev/null 2>e.txt); is "default catalog ./bg-data/catalog.ndjson missing: exit 2" $? 2

echo "# the example catalog, from the repository (relative paths)"
(cd "$TOP" && bg-candidates --catalog examples/catalog.ndjson --root "$T/ex" --all) >ex.ndjson 2>e.txt
is "examples: exit 0, no warnings" "$? $(wc -c <e.txt | tr -d ' ')" "0 0"
is "examples: 30 candidates over 12 products" "$(wc -l <ex.ndjson | tr -d ' ') $(jq -r .product_id ex.ndjson | sort -u | wc -l | tr -d ' ')" "30 12"
is "examples: every variant has 1 selected image" "$(jq '.selected | length' ex.ndjson | sort -u)" 1
is "examples: some variants without their own image" "$(jq -r 'select(.variant_image == null) | .variant_id' ex.ndjson | tr '\n' ' ')" "v03 v10 v20 2003 "
missing=$(jq -r '.image_url // empty, (.images[]?.url)' "$TOP/examples/catalog.ndjson" | sort -u | while read -r p; do [ -f "$TOP/$p" ] || echo "$p"; done)
is "examples: every image the catalog names exists" "$missing" ""
(cd "$TOP" && bg-candidates --catalog examples/catalog.ndjson --root "$T/ex" --all --slot MAIN) >ex.ndjson
is "examples: --slot MAIN takes the larger MAIN images" \
	"$(j 'select(.variant_id=="v01" or .variant_id=="v06" or .variant_id=="v20") | .selected[0]' ex.ndjson | tr '\n' ' ')" \
	'"examples/images/p01-v01-main-hires.png" "examples/images/p03-v06-main-hires.png" "examples/images/p08-v20-main-large.jpg" '

echo "# downstream: bg-plan"
if bg-plan --help >/dev/null 2>&1; then
	(cd "$TOP" && bg-candidates --catalog examples/catalog.ndjson --root "$T/ex" --all \
		| bg-plan --settings examples/settings.json) >jobs.ndjson 2>e.txt
	is "bg-candidates --all | bg-plan: exit 0" $? 0
	is "60 jobs (30 variants x 2 variations)" "$(wc -l <jobs.ndjson | tr -d ' ')" 60
	is "all planned" "$(jq -r .status jobs.ndjson | sort -u)" planned
	is "prompts rendered from the catalog" "$(jq -r 'select(.variant_id=="v01" and .variation==1) | .prompt' jobs.ndjson)" \
		"Studio photo of Linen shirt (Blue / M) on a clean light background. soft shadow, product centred"
	is "product_images are the selected images" "$(jq -c 'select(.variant_id=="v03") | .input.product_images' jobs.ndjson | sort -u)" \
		'["examples/images/p01-pt01.jpg"]'
	printf '42\n' | bg-candidates --catalog cat.ndjson --root "$T/ex" 2>/dev/null | bg-plan --settings "$TOP/examples/settings.json" >jobs.ndjson 2>/dev/null
	is "a variant with no images reaches bg-plan as invalid_images" "$(jq -r .error.code jobs.ndjson)" invalid_images
	if bg-generate --help >/dev/null 2>&1 && bg-file --help >/dev/null 2>&1; then
		(cd "$TOP" && export BG_ROOT="$T/e2e" && echo v06 | bg-candidates -c examples/catalog.ndjson \
			| bg-plan --settings examples/settings.json --variations 1 2>/dev/null | bg-generate 2>/dev/null \
			| bg-file >/dev/null 2>&1
			echo v06 | bg-candidates -c examples/catalog.ndjson --pick generated,variant) >o.ndjson
		g=$(j -r '.generated[0].url' o.ndjson)
		is "after bg-generate | bg-file, the output is offered as generated" \
			"$(j '[(.generated | length), .generated[0].batch_id != null, (.selected | length)]' o.ndjson)" '[1,true,2]'
		check "the generated url is a file" [ -f "$g" ]
		case $g in "$T/e2e/variants/v06/"*) pass "it is the variant's filed image";;
		*) flunk "it is the variant's filed image: $g";; esac
		is "--pick generated,variant takes it first" "$(j -r '.selected[0]' o.ndjson)" "$g"
	fi
else
	echo "# skip: bg-plan --help fails"
	pass "bg-plan not ready, downstream check skipped"
fi

echo "# a large catalog"
if [ "${BG_TEST_SAN:-0}" = 1 ]; then n=10000; else n=100000; fi
awk -v n=$n 'BEGIN { for (i = 1; i <= n; i++) printf "{\"product_id\":\"p%d\",\"variant_id\":\"v%d\",\"title\":\"Product %d\",\"variant_title\":\"Size %d\",\"sku\":\"SKU-%d\",\"image_url\":\"https://cdn.example/%d.jpg\",\"images\":[{\"url\":\"https://cdn.example/%d.jpg\",\"slot\":\"MAIN\",\"width\":1000,\"height\":1000},{\"url\":\"https://cdn.example/%d-1.jpg\",\"slot\":\"PT01\",\"width\":800,\"height\":800}],\"attrs\":{\"color\":\"c%d\"}}\n", int(i / 3), i, i, i % 5, i, i, i, i, i % 7 }' >big.ndjson
awk -v n=$n 'BEGIN { for (i = n; i >= 1; i -= 2) print "v" i }' >big-ids.txt
t0=$(date +%s%N)
bg-candidates --catalog big.ndjson --root "$T/bigstore" --max-uploads 0 <big-ids.txt >big.out
rc=$?
t1=$(date +%s%N)
echo "# $n-variant catalog: $(wc -l <big-ids.txt | tr -d ' ') ids selected in $(( (t1 - t0) / 1000000 )) ms (not asserted)"
is "large catalog: exit 0, one record per id" "$rc $(wc -l <big.out | tr -d ' ')" "0 $(wc -l <big-ids.txt | tr -d ' ')"
is "large catalog: last id joined" "$(tail -1 big.out | j '[.variant_id,.product_id,.selected[0]]')" '["v2","p0","https://cdn.example/2.jpg"]'

done_testing
