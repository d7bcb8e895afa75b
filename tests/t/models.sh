# The model table (share/batchgen/models.json): the README's Models section
# is generated from it, no default is a retired model, every price and
# shutdown names its source and date, bg-plan warns near a shutdown, the C
# code holds no model names, and `make install` installs the table where
# the installed programs find it.
. "$TOP/tests/lib.sh"
M=$TOP/share/batchgen/models.json
want=$(jq -r -f "$TOP/share/batchgen/models-readme.jq" "$M")
got=$(sed -n '/^<!-- models: generated/,/^<!-- models: end -->/p' "$TOP/README.md" | sed '1d;$d')
is "README's Models table is the table's (regenerate: see README)" "$got" "$want"

retired="gemini-2.5-flash-image gpt-image-1 gpt-image-1.5 gpt-image-1-mini chatgpt-image-latest dall-e-2 dall-e-3"
for d in $(jq -r '.providers[].default' "$M"); do
	case " $retired " in *" $d "*) flunk "default $d is a retired model";; *) pass "default $d is current";; esac
done
is "every default is in its provider's list" "$(jq -r '.providers | to_entries[] | select(.value.default as $d | .value.models | map(.name) | index($d) | not) | .key' "$M")" ""
is "every dated entry names its source and when it was read" "$(jq -r '.providers[].models[] | select((.shutdown != null and (.shutdown_source == null or .read == null)) or (.price_per_image != null and (.price_per_image.source == null or .price_per_image.read == null))) | .name' "$M")" ""
is "every source named is listed" "$(jq -r '.sources as $s | .providers[].models[] | (.shutdown_source, .price_per_image.source) | select(. != null and ($s[.] == null) and (startswith("offline") | not))' "$M")" ""
is "sync and batch prices for helper tools (batch_price_per_image)" "$(jq -r '.providers.gemini.models[0].price_per_image | [.sync, .batch] | map(type) | join(" ")' "$M")" "number number"
is "no model name in the C code" "$(grep -nE '"(gemini-[0-9]|gpt-image|dall-e|chatgpt-image|imagen-|[a-z]+/nano-banana)' "$TOP"/lib/*.c "$TOP"/lib/provider/*.c "$TOP"/cmd/*.c)" ""

# bg-plan: past or within 30 days of the shutdown
printf '{"prompt":"p {title}","provider":"openai","model":"gpt-image-1.5"}\n' >s.json
BG_TODAY=2026-11-29 bg-plan -s s.json </dev/null >/dev/null 2>err
is "bg-plan warns 2 days before" "$(head -1 err)" "bg-plan: s.json: openai model gpt-image-1.5 shuts down on 2026-12-01; use gpt-image-2.6-flare"
BG_TODAY=2026-10-01 bg-plan -s s.json </dev/null >/dev/null 2>err
is "and not 61 days before" "$(grep -c 'shuts down' err)" 0
printf '{"prompt":"p {title}","provider":"gemini","model":"gemini-2.5-flash-image"}\n' >s2.json
bg-plan -s s2.json </dev/null >/dev/null 2>err
is "bg-plan warns after the shutdown" "$(head -1 err)" "bg-plan: s2.json: gemini model gemini-2.5-flash-image shut down on 2026-10-02; use gemini-3.1-flash-image"
printf '{"prompt":"p {title}","provider":"gemini"}\n' >s3.json
bg-plan -s s3.json </dev/null >/dev/null 2>err
is "the default model gets no warning" "$(grep -c 'shut' err)" 0

# the extra aspect ratios the table lists for a model, and imageSize
printf '{"prompt":"p {title}","provider":"gemini","model":"gemini-3.1-flash-image","input":{"aspect_ratio":"1:4","image_size":"4K"}}\n' >s4.json
bg-plan -s s4.json </dev/null >/dev/null 2>err; rc=$?
is "bg-plan takes gemini-3.1-flash-image's 1:4" "$rc $(grep -c 'bad aspect' err)" "0 0"
printf '{"prompt":"p {title}","provider":"openai","model":"gpt-image-2.6-flare","input":{"aspect_ratio":"1:4"}}\n' >s5.json
bg-plan -s s5.json </dev/null >/dev/null 2>err; rc=$?
is "but not for a model whose entry lacks it" "$rc $(grep -c 'bad aspect ratio' err)" "2 1"

# BG_MODELS: the table is data; a job without a model gets its default
jq '.providers.local.default = "layout" | .providers.gemini.default = "gemini-9-test-image"' "$M" >alt.json
mkpng a.png 4 4 1 2 3
printf '{"job_id":"j","provider":"gemini","prompt":"p","input":{"product_images":["a.png"]},"status":"planned"}\n' >job
start_stub
BG_MODELS=$T/alt.json BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=k bg-generate job >out 2>err
is "BG_MODELS: the default comes from the table" "$(jq -r 'select(.provider=="gemini") | .model' "$T/stub.log")" gemini-9-test-image
printf '{"job_id":"t","provider":"gemini","model":"gemini-3.1-flash-image","prompt":"tall","input":{"product_images":["a.png"],"aspect_ratio":"1:4","image_size":"2K"}}\n' >tall
BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=k bg-generate tall >out 2>err
is "gemini: 1:4 and imageSize sent, accepted" "$(jq -r .status out) $(jq -c 'select(.prompt=="tall") | .fields | [.aspectRatio, .imageSize]' "$T/stub.log")" 'succeeded ["1:4","2K"]'

BG_MODELS=$T/none.json BG_ROOT=$T/store bg-generate job >out 2>err
is "no table: the job fails, and stderr says where it looked" "$(jq -r '.error.code' out) $(grep -c 'none.json: cannot read the model table' err)" "invalid_record 1"

# make install puts the table where the installed programs look
make -s -C "$TOP" B="${BUILD#$TOP/}" DESTDIR="$T/inst" PREFIX=/opt/bg install >/dev/null 2>&1
check "installed as PREFIX/share/batchgen/models.json" cmp -s "$M" "$T/inst/opt/bg/share/batchgen/models.json"
cp -r "$T/inst/opt/bg" "$T/moved"
printf '{"job_id":"j","provider":"local","prompt":"p","input":{"product_images":["%s/a.png"]},"status":"planned"}\n' "$T" >ljob
(cd / && env -u BG_MODELS BG_ROOT="$T/store2" "$T/moved/bin/bg-generate" "$T/ljob") >out 2>err
is "an installed bg-generate finds its table (relocated prefix too)" "$(jq -r .status out) $(cat err)" "succeeded "
done_testing
