# The review page (bg-report --html) in real headless chromium: approve two
# images, reject one with a note, download decisions.ndjson, reload; then
# bg-report --decisions merges the file into the counts and the page, and
# reports decisions for images that are not in the results.
. "$TOP/tests/lib.sh"

ln -s "$TOP/examples" examples
printf 'v01\nv02\nv06\n' >pick.txt
bg-batch -c examples/catalog.ndjson -s examples/settings.json -d batch \
	--root bg-data -j 4 pick.txt >/dev/null 2>batch.err
is "a local batch of 3 variants × 2 ran" "$?" 0
export BG_ROOT=$PWD/bg-data
check "the page has a Download decisions button" \
	grep -q '<button type="button" data-action="download-decisions">' batch/report.html
is "every generated image has its hooks" \
	"$(grep -o '<figure class="job succeeded" tabindex="0" data-job-id="[^"]*" data-sha256="[0-9a-f]\{64\}"' batch/report.html | wc -l)" 6

browser() {	# browser ARGS: the node driver, or a skip/flunk line
	if [ "${BG_TEST_SAN:-0}" = 1 ]; then
		pass "browser part skipped under sanitizers (chromium is not our code)"
	elif [ ! -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
		flunk "tests/browser/node_modules missing: run make deps"
	else
		timeout 120 node "$TOP/tests/browser/review.js" "$@" 2>node.err ||
			flunk "node review.js $*: $(tail -3 node.err)"
	fi
}
mkdir out
browser batch/report.html out
if [ ! -s out/decisions.ndjson ]; then
	# without a browser, the decisions a person would have saved
	jq -c 'select(.variant_id == "v01" or (.variant_id == "v02" and .variation == 1))
		| {job_id, variant_id, product_id, batch_id, sha256: .outputs[0].sha256,
		   decision: (if .variant_id == "v01" then "approved" else "rejected" end),
		   best: false, note: (if .variant_id == "v02" then "too dark, \"retry\"" else "" end),
		   decided_at: "2026-11-29T10:00:00Z"}' batch/results.ndjson >out/decisions.ndjson
fi
dec=out/decisions.ndjson
bg-report --json --decisions "$dec" batch/results.ndjson >rep.json 2>err
is "--decisions: exit 0 when everything matched" "$?" 0
is "--decisions: counts in the JSON report" "$(jq -c .review rep.json)" \
	'{"images":6,"approved":2,"rejected":1,"best":0,"undecided":3,"unmatched":0}'
bg-report --decisions "$dec" batch/results.ndjson >rep.txt 2>err
check "--decisions: a review line in the text" \
	grep -qx 'review: 2 approved (0 best), 1 rejected, 3 undecided of 6 images' rep.txt
is "--decisions: no warning" "$(cat err)" ""

# the same image decided again later: the later decided_at wins
head -1 "$dec" | jq -c '.decision = "rejected" | .decided_at = "2999-01-01T00:00:00Z"' >later.ndjson
head -1 "$dec" | jq -c '.decision = "approved" | .decided_at = "2000-01-01T00:00:00Z"' >>later.ndjson
cat "$dec" later.ndjson >all.ndjson
is "--decisions: the later decided_at wins" \
	"$(bg-report --json --decisions all.ndjson batch/results.ndjson | jq -c '[.review.approved, .review.rejected]')" '[1,2]'

# decisions for images that are not in the results are reported
cp "$dec" stray.ndjson
printf '%s\n' '{"job_id":"nope-1","sha256":"ab","decision":"approved","best":false,"note":"","decided_at":"2026-11-29T10:00:00Z"}' \
	'{"job_id":"x","decision":"maybe"}' >>stray.ndjson
bg-report --json --decisions stray.ndjson batch/results.ndjson >rep2.json 2>err2
is "--decisions: exit 1 for a stray or bad decision" "$?" 1
is "--decisions: the stray decision counted" "$(jq .review.unmatched rep2.json)" 1
check "--decisions: the stray decision named with file:line" grep -qx \
	'bg-report: stray.ndjson:4: approved decision for job nope-1 image ab: no such image in the results' err2
check "--decisions: a bad line named with file:line" grep -qx \
	'bg-report: stray.ndjson:5: decision must be "approved" or "rejected"' err2
bg-report --decisions missing.ndjson batch/results.ndjson >/dev/null 2>err3
is "--decisions: an unreadable file is a usage error" "$?" 2

# the page written with --decisions shows them, in a browser with no memory
bg-report --html merged.html --decisions "$dec" batch/results.ndjson >/dev/null 2>&1
is "--decisions: the page carries data-decision" \
	"$(grep -o 'data-decision="[a-z]*"' merged.html | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	' 2 data-decision="approved", 1 data-decision="rejected",'
check "--decisions: the note is on the page, escaped" grep -q 'data-note="too dark, &quot;retry&quot;"' merged.html
browser --merged merged.html

# while the batch runs the page reloads itself: decisions stay
head -n 4 batch/results.ndjson >partial.ndjson
bg-report --plan batch/jobs.ndjson --refresh 2 --html running.html partial.ndjson >/dev/null 2>&1
check "a running batch's page reloads itself" grep -q 'http-equiv="refresh" content="2"' running.html
browser --refresh running.html

# a hostile title is shown, not run
jq -c 'select(.variant_id == "v01") | .title = "<script>window.pwned=1</script>"
	| .variant_title = "\"><img src=x onerror=window.pwned=2>"' batch/results.ndjson >hostile.ndjson
bg-report --html hostile.html hostile.ndjson >/dev/null 2>&1
check "hostile: escaped in the page" grep -q '&lt;script&gt;window.pwned=1&lt;/script&gt;' hostile.html
is "hostile: only our scripts" "$(grep -o '<script' hostile.html | wc -l)" 1
browser --hostile hostile.html
done_testing
