# bg-report --html: the page, its escaping and thumbnails, and a real
# headless browser (Debian's chromium): no console errors, one card per
# variant with the right badges, a screenshot that is not blank.
. "$TOP/tests/lib.sh"

mkdir -p refs bg-data/objects/aa
vips black refs/black.png 64 48 --bands 3 &&
vips linear refs/black.png 'refs/red "q".png' "1 1 1" "200 40 40" --uchar &&
vips linear refs/black.png bg-data/objects/aa/out1.png "1 1 1" "40 160 90" --uchar &&
vips linear refs/black.png bg-data/objects/aa/out2.png "1 1 1" "40 90 200" --uchar ||
	flunk "vips made the fixture images"
J='"batch_id":"b1","batch_name":"Spring <b>studio</b>"'
cat >jobs.ndjson <<JOBS
{$J,"job_id":"b1-v1-1","variation":1,"variant_id":"v1","product_id":"p1","title":"Linen shirt","variant_title":"Blue / M","input":{"product_images":["refs/red \"q\".png","https://cdn.example/p1.jpg"]},"price_per_image":0.04,"status":"planned"}
{$J,"job_id":"b1-v1-2","variation":2,"variant_id":"v1","product_id":"p1","title":"Linen shirt","input":{"product_images":["refs/red \"q\".png"]},"price_per_image":0.04,"status":"planned"}
{$J,"job_id":"b1-v2-1","variation":1,"variant_id":"v2","product_id":"p1","title":"<script>alert(1)</script>","variant_title":"\" onmouseover=\"alert(3)","input":{"product_images":["refs/missing.png"]},"price_per_image":0.04,"status":"planned"}
{$J,"job_id":"b1-v3-1","variation":1,"variant_id":"v3","product_id":"p2","title":"Mug","input":{"product_images":["file://$PWD/refs/black.png"]},"price_per_image":0.04,"status":"planned"}
JOBS
cat >results.ndjson <<RES
{$J,"job_id":"b1-v1-1","variant_id":"v1","status":"failed","error":{"code":"rate_limited","retryable":true,"message":"HTTP 429"}}
{$J,"job_id":"b1-v1-1","variant_id":"v1","status":"succeeded","outputs":[{"path":"objects/aa/out1.png"}],"usage":{"elapsed_ms":900}}
{$J,"job_id":"b1-v1-2","variant_id":"v1","status":"succeeded","outputs":[{"path":"objects/aa/out2.png"}],"filed":{"variant":"variants/v1/x.png"}}
{$J,"job_id":"b1-v2-1","variant_id":"v2","status":"failed","error":{"code":"blocked","retryable":false,"message":"<img src=x onerror=alert(2)> blocked"}}
{"variant_id":"v404","status":"failed","error":{"code":"not_found","message":"unknown variant"}}
RES

bg-report --plan jobs.ndjson --html page.html results.ndjson >/dev/null 2>err
is "exit 1: a job is pending" "$?" 1
check "page written" test -s page.html
check "no temp files left" sh -c '! ls -a | grep -q "\.tmp\."'
check "thumbnails beside the page" test "$(ls page.html.assets | grep -c '\.webp$')" -eq 4
check "meta refresh while a job is pending" grep -q '<meta http-equiv="refresh" content="3">' page.html
check "hostile title escaped" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' page.html
check "hostile message escaped" grep -q '&lt;img src=x onerror=alert(2)&gt; blocked' page.html
check "hostile attribute escaped" grep -q '&quot; onmouseover=&quot;alert(3)' page.html
check "batch name escaped" grep -q 'Spring &lt;b&gt;studio&lt;/b&gt;' page.html
is "one script element: ours" "$(grep -o '<script' page.html | wc -l)" 1
check "no network: nothing loads from http(s)" sh -c '! grep -qiE "(src|href)=\"?(https?:)?//" page.html'
check "remote reference shown as a placeholder" grep -q 'title="https://cdn.example/p1.jpg">remote image' page.html
check "missing reference shown as a placeholder" grep -q 'title="refs/missing.png">missing image' page.html
# paid and saved: v1's two fresh images were paid, v3 comes from the cache
{ cat results.ndjson
  echo "{$J,\"job_id\":\"b1-v3-1\",\"variant_id\":\"v3\",\"status\":\"succeeded\",\"price_per_image\":0.04,\"cost\":0,\"cached\":true,\"outputs\":[{\"path\":\"objects/aa/out1.png\"}]}"
} >cached.ndjson
bg-report --plan jobs.ndjson --html cached.html cached.ndjson >/dev/null 2>&1
check "the page shows what was paid and what the cache saved" \
	grep -q 'paid <b class="paid">0.08</b> · saved <b class="saved">0.04</b> (1 cached)' cached.html
# a corrupt file that is there is not "missing": it cannot be read
echo 'not an image' >refs/corrupt.png
printf '{"job_id":"c1","variant_id":"vc","status":"planned","input":{"product_images":["refs/corrupt.png"]}}\n' >corrupt.ndjson
bg-report --html corrupt.html corrupt.ndjson >/dev/null 2>&1
check "corrupt reference shown as an unreadable image" grep -q 'title="refs/corrupt.png">unreadable image' corrupt.html
check "references with quotes in the name are thumbnailed" grep -q 'title="refs/red &quot;q&quot;.png"' page.html
check "no stderr" test ! -s err
thumbs=$(ls -l --time-style=+%s.%N page.html.assets | md5sum)
bg-report --plan jobs.ndjson --html page.html --refresh 7 results.ndjson >/dev/null 2>&1
is "thumbnails are made once" "$(ls -l --time-style=+%s.%N page.html.assets | md5sum)" "$thumbs"
check "--refresh sets the period" grep -q 'content="7"' page.html
bg-report --html done.html results.ndjson >/dev/null 2>&1
check "no refresh once nothing is pending" sh -c '! grep -q "http-equiv" done.html'
BG_ROOT=elsewhere bg-report --html noroot.html results.ndjson >/dev/null 2>&1
check "outputs are read under BG_ROOT" grep -q 'title="objects/aa/out1.png">missing image' noroot.html
bg-report --root bg-data --html root.html results.ndjson >/dev/null 2>&1
check "--root names the store" grep -q '<img loading="lazy" src="root.html.assets/[0-9a-f]*.webp" alt="generated image" title="objects/aa/out1.png">' root.html
printf '{"job_id":"x","status":"succeeded","outputs":[{"path":"../../etc/passwd"},{"path":"/etc/passwd"}]}\n' >evil.ndjson
bg-report --html evil.html evil.ndjson >/dev/null 2>&1
is "paths leaving the store are refused" "$(grep -o 'bad path' evil.html | wc -l)" 2
bg-report --html nodir/x/page.html results.ndjson >/dev/null 2>&1
check "the page's folder is created" test -s nodir/x/page.html
href=$(grep -o '<a href="[^"]*out1.png">' nodir/x/page.html | sed 's/<a href="//; s/">$//')
is "outputs link to the full image, relative to the page" "$href" ../../bg-data/objects/aa/out1.png
check "the link leads to the image" test -f "nodir/x/$href"


# --- in a real browser ------------------------------------------------------
if [ "${BG_TEST_SAN:-0}" = 1 ]; then
	pass "browser check skipped under sanitizers (chromium is not our code)"
	done_testing
fi
if ! command -v chromium >/dev/null; then
	flunk "chromium is not installed (make deps installs it)"
	done_testing
fi
browse() {	# browse PAGE ARGS...: run headless chromium, log on stderr
	p=$1; shift
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
		--enable-logging=stderr --v=0 "$@" "file://$PWD/$p"
}
# console errors: chromium logs them as "CONSOLE" lines on stderr
console_errors() { grep -E 'CONSOLE|Uncaught' "$1"; }

browse page.html --dump-dom >dom.html 2>log
check "browser: the page loads" grep -q '</html>' dom.html
if console_errors log >/dev/null; then flunk "browser: console errors: $(console_errors log | head -3)"
else pass "browser: no console errors"; fi
is "browser: one card per variant" "$(grep -o '<article class="card' dom.html | wc -l)" 4
is "browser: failed badges" "$(grep -o '<span class="badge failed">failed</span>' dom.html | wc -l)" 2
is "browser: pending badges" "$(grep -o '<span class="badge pending">pending</span>' dom.html | wc -l)" 1
is "browser: succeeded badges" "$(grep -o '<span class="badge succeeded">succeeded</span>' dom.html | wc -l)" 1
is "browser: the script ran (filter state set)" \
	"$(grep -o '<button data-f="all" aria-pressed="true">' dom.html | wc -l)" 1
is "browser: the hostile title stayed text" "$(grep -c '<script>alert' dom.html)" 0

browse page.html --screenshot="$PWD/shot.png" --window-size=1200,900 >/dev/null 2>log2
if [ -s shot.png ]; then
	sd=$(vips deviate shot.png 2>/dev/null)
	check "browser: the screenshot is not blank (deviation $sd)" \
		awk -v d="$sd" 'BEGIN { exit !(d + 0 > 10) }'
else
	flunk "browser: screenshot written"
fi

# the console check must catch a script error: prove it once
sed 's|<script>|<script>nosuchfunction();|' page.html >broken.html
browse broken.html --dump-dom >/dev/null 2>log3
check "browser: a script error is caught by the console check" \
	grep -q 'Uncaught ReferenceError: nosuchfunction' log3
done_testing
