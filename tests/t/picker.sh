# The picker page (bg-candidates --html) in real headless chromium: uncheck
# a default, check two others, download selection.ndjson, feed it to
# bg-candidates and bg-plan, and find the choice in the jobs'
# product_images.
. "$TOP/tests/lib.sh"

ln -s "$TOP/examples" examples
export BG_ROOT=$PWD/bg-data
bg-candidates --catalog examples/catalog.ndjson --all --html pick/page.html >cands.ndjson 2>err
is "--html: exit 0" "$?" 0
is "--html: candidates still on stdout" "$(jq -s length cands.ndjson)" 30
is "--html: one row per variant" "$(grep -o '<section class="row" data-variant-id="[^"]*" data-product-id="[^"]*"' pick/page.html | wc -l)" 30
is "--html: the default selection is checked" "$(grep -o ' checked>' pick/page.html | wc -l)" \
	"$(jq -s '[.[].selected | length] | add' cands.ndjson)"
check "--html: the variant image is not offered twice" sh -c \
	"! grep -o 'data-url=\"examples/images/p01-v01-main.png\"' pick/page.html | sed -n 2p | grep -q ."
check "--html: slots grouped with sizes" grep -q '<h3>slot PT01</h3>.*240×180 · p01-pt01.jpg' pick/page.html
check "--html: thumbnails beside the page" test "$(ls pick/page.html.assets | grep -c '\.webp$')" -gt 10
check "--html: the save button" grep -q 'data-action="download-selection"' pick/page.html
check "--html: no network" sh -c '! grep -qiE "(src|href)=\"?(https?:)?//" pick/page.html'
bg-candidates --catalog examples/catalog.ndjson --all --summary --html x.html >/dev/null 2>&1
is "--html with --summary is a usage error" "$?" 2

# hostile catalog text and urls stay text
printf '%s\n' '{"product_id":"p<b>","variant_id":"v\"><script>window.pwned=1</script>","title":"<script>alert(1)</script>","image_url":"x\" onerror=\"alert(2).png"}' >evil.ndjson
bg-candidates --catalog evil.ndjson --all --html evil.html >/dev/null 2>&1
is "hostile: only our script" "$(grep -o '<script' evil.html | wc -l)" 1
check "hostile: the url is an escaped attribute" grep -q 'data-url="x&quot; onerror=&quot;alert(2).png"' evil.html

if [ "${BG_TEST_SAN:-0}" = 1 ]; then
	pass "browser part skipped under sanitizers (chromium is not our code)"
	done_testing
fi
if [ ! -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
	flunk "tests/browser/node_modules missing: run make deps"
	done_testing
fi
mkdir out
timeout 120 node "$TOP/tests/browser/picker.js" pick/page.html out v01 >node.out 2>node.err ||
	flunk "node picker.js: $(tail -3 node.err)"
grep -v '^#' node.out
chosen=$(sed -n 's/^# chosen //p' node.out)
bg-candidates --catalog examples/catalog.ndjson out/selection.ndjson >cands2.ndjson 2>err2
is "selection.ndjson: bg-candidates takes it back" "$?" 0
bg-plan --settings examples/settings.json cands2.ndjson >jobs.ndjson 2>/dev/null
is "selection.ndjson: the chosen images are v01's product_images" \
	"$(jq -c 'select(.variant_id == "v01") | .input.product_images' jobs.ndjson | sort -u)" "$chosen"
is "selection.ndjson: other variants keep the default" \
	"$(jq -c 'select(.variant_id == "v02") | .input.product_images' jobs.ndjson | sort -u)" \
	"$(jq -c 'select(.variant_id == "v02") | .selected' cands.ndjson)"
is "selection.ndjson: every variant planned" "$(jq -s 'map(.variant_id) | unique | length' jobs.ndjson)" 30

# the hostile page in the browser: nothing runs
node -e '
const { is, done, launch, open } = require(process.argv[1] + "/lib.js");
(async () => { const b = await launch(); const p = await open(await b.newContext(), "file://" + process.argv[2]);
is(await p.evaluate(() => window.pwned), undefined, "hostile: no script from the catalog ran");
is(await p.locator("section.row h2").first().evaluate(e => e.firstChild.textContent.trim()),
	"<script>alert(1)</script>", "hostile: the title is shown as text");
await b.close(); done(); })();' "$TOP/tests/browser" "$PWD/evil.html" 2>node2.err ||
	flunk "hostile page: $(tail -3 node2.err)"
done_testing
