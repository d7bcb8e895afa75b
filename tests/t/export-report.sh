# bg-export's verdicts downstream: bg-report counts them per profile (text,
# --json), the HTML page shows a line per card (checked in headless
# chromium), and bg-retry --failed-checks re-plans the failed jobs through
# a real offline pipeline (local provider).
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/export-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT

mkproduct p90.png 1200 90 90 "255 255 255"
mkproduct grey.png 1200 90 90 "235 235 235"
mkproduct small.png 600 90 90 "255 255 255"
for v in p90 grey small; do store_result "$R" "$v.png" "$v"; done | bg-export -p amazon-main -p gmc >ex.ndjson 2>/dev/null

bg-report --json --exit-zero ex.ndjson >rep.json
is "report --json: verdicts per profile" "$(jq -c .exports rep.json)" \
    '[{"profile":"amazon-main","pass":1,"fail":2,"problems":{"image_too_small":1,"background_not_white":1}},{"profile":"gmc","pass":3,"fail":0,"problems":{}}]'
bg-report --exit-zero ex.ndjson >rep.txt
check "report text: one line per profile" grep -Eq '^exports +amazon-main +pass 1  fail 2  image_too_small 1, background_not_white 1$' rep.txt
check "report text: gmc" grep -Eq '^ +gmc +pass 3  fail 0$' rep.txt
# a later record of a job wins: its verdicts replace the earlier ones
jq -c 'select(.variant_id == "grey") | .exports |= map(.verdict = "pass" | .problems = [])' ex.ndjson >later.ndjson
is "report: the latest record's verdicts count" \
    "$(cat ex.ndjson later.ndjson | bg-report --json --exit-zero | jq -c '.exports[0] | [.pass, .fail]')" '[2,1]'
is "report: no exports, no exports field" "$(jq -c 'del(.exports)' ex.ndjson | bg-report --json --exit-zero | jq -c 'has("exports")')" false

bg-report --exit-zero --html page.html ex.ndjson >/dev/null
is "html: a verdict line per card" "$(grep -c '<p class="exports">' page.html)" 3
if [ "${BG_TEST_SAN:-0}" = 1 ]; then
	pass "browser check skipped under sanitizers (chromium is not our code)"
elif ! command -v chromium >/dev/null; then
	flunk "chromium is not installed (make deps installs it)"
else
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --dump-dom "file://$PWD/page.html" >dom.html 2>/dev/null
	python3 - dom.html >cards.txt <<'PY'
import sys, html.parser
class P(html.parser.HTMLParser):
    card = None; inex = False; out = []
    def handle_starttag(self, t, a):
        a = dict(a)
        if t == 'article': self.card = ''
        if t == 'code' and self.card == '': self.card = None; self.want = True
        if t == 'p' and a.get('class') == 'exports': self.inex = True; self.text = ''
    def handle_data(self, d):
        if getattr(self, 'want', False): self.name = d; self.want = False
        if self.inex: self.text += d
    def handle_endtag(self, t):
        if t == 'p' and self.inex: self.inex = False; self.out.append(self.name + ' ' + self.text)
p = P(); p.feed(open(sys.argv[1]).read()); print('\n'.join(sorted(p.out)))
PY
	is "browser: each card says its verdicts" "$(cat cards.txt)" "grey amazon-main: 0 pass, 1 fail · gmc: 1 pass
p90 amazon-main: 1 pass · gmc: 1 pass
small amazon-main: 0 pass, 1 fail · gmc: 1 pass"
fi

# bg-retry --failed-checks: an offline batch, a profile its images fail
cp "$TOP/examples/catalog.ndjson" catalog.ndjson
cp "$TOP/examples/settings.json" settings.json
ln -s "$TOP/examples" examples
echo '[{"name":"big","min_long_side":2000,"target_size":2000}]' >big.json
printf 'v01\nv02\n' | bg-candidates -c catalog.ndjson | bg-plan --settings settings.json -q >jobs.ndjson
bg-generate <jobs.ndjson 2>/dev/null | bg-file | bg-export --profiles big.json -p big -p amazon-main >res.ndjson
is "offline batch: every image fails big for its size" \
    "$(jq -c '[.exports[] | select(.profile == "big") | .problems] | unique' res.ndjson | sort -u)" '[["image_too_small"]]'
bg-retry --failed-checks big --instruction "larger" res.ndjson >retry.ndjson 2>retry.err; rc=$?
is "retry: exit 0" "$rc" 0
is "retry: every failed job, once" "$(jq -r .job_id retry.ndjson | sort | tr '\n' ' ')" "$(jq -r .job_id res.ndjson | sort | tr '\n' ' ')"
is "retry: re-planned, result fields gone, why kept" \
    "$(jq -c '[.status, has("outputs"), has("exports"), has("filed"), .export_retry]' retry.ndjson | sort -u)" \
    '["planned",false,false,false,{"profile":"big","problems":["image_too_small"]}]'
is "retry: the instruction ends the prompt" "$(jq -r '.prompt | endswith(" larger")' retry.ndjson | sort -u)" true
check "retry: says how many on stderr" grep -q '^bg-retry: 4 job(s) failed the big checks$' retry.err
is "retry: none failed amazon-main" "$(bg-retry --failed-checks amazon-main res.ndjson 2>/dev/null | wc -l)" 0
bg-generate <retry.ndjson 2>/dev/null | bg-file | bg-export --profiles big.json -p big >again.ndjson
is "retry: a new request, not the cached image" "$(jq -c '[.status, .cached]' again.ndjson | sort -u)" '["succeeded",false]'
is "retry: exported again" "$(jq -c '[.exports[].profile]' again.ndjson | sort -u)" '["big"]'
bg-retry --failed-checks 2>/dev/null; rc=$?
is "retry: --failed-checks without PROFILE: exit 2" "$rc" 2
done_testing
