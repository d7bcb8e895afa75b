# The commands bg-report prints under "next" (and the README's retry
# recipe), run as printed on a results file appended over three runs, send
# no job whose latest record succeeded and keep the store the results came
# from (against the loopback stub, gemini provider).
. "$TOP/tests/lib.sh"
mkdir img; mkpng img/a.png 40 30 255 0 0
start_stub
export BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key
unset GOOGLE_API_KEY BG_ROOT
S=$T/the-store
cat >settings.json <<'J'
{"name":"Hints","provider":"gemini","model":"gemini-3.1-flash-image","variations":1,
 "prompt":"Photo of {title}","input":{"aspect_ratio":"1:1"},"price_per_image":0.04}
J
for t in "A fine" "B once [[fault:503*1]]" "C bad [[fault:400]]" "D thrice [[fault:503*3]]"; do
	printf '{"variant_id":"%s","title":"%s","selected":["img/a.png"]}\n' "$(echo "$t" | cut -c1)" "$t"
done >cands.ndjson
bg-plan -q -s settings.json --batch-id h1 cands.ndjson >jobs.ndjson
G="bg-generate --max-attempts 1 --root $S"
F="bg-file --root $S"
$G jobs.ndjson | $F >>results.ndjson				# run 1: A ok
bg-retry results.ndjson 2>/dev/null | $G | $F >>results.ndjson	# run 2: B ok
$G jobs.ndjson | $F >>results.ndjson				# run 3: A B cached
latest() { jq -sc 'reduce .[] as $r ({}; .[$r.variant_id] = $r.status) | to_entries | map(.key + ":" + .value) | join(" ")' results.ndjson; }
is "three runs: A and B succeeded, C and D failed last" "$(latest)" '"A:succeeded B:succeeded C:failed D:failed"'
is "B failed before it succeeded" "$(jq -r 'select(.variant_id=="B") | .status' results.ndjson | tr '\n' ' ')" "failed succeeded succeeded "
check "the results name their store" sh -c "[ \"\$(jq -r .store results.ndjson | sort -u)\" = '$S' ]"

bg-report --plan jobs.ndjson results.ndjson >report.txt
awk '/^next/ { f = 1 } f { print substr($0, 12) }' report.txt >hints.sh
is "two hints: the retryable ones, then every failure after a fix" "$(cut -d' ' -f1-2 hints.sh | tr '\n' ';')" "bg-retry results.ndjson;bg-retry --all-failed;"
check "the hints carry the store" sh -c "[ \$(grep -c -- '--root $S' hints.sh) = 2 ]"
sent() { jq -r 'select(.provider=="gemini") | .prompt' "$T/stub.log" | tail -n +$((n0 + 1)) | cut -c10 | sort | tr -d '\n'; }
n0=$(wc -l <"$T/stub.log")
(eval "$(sed -n 1p hints.sh)") 2>/dev/null
is "the retry hint sends only D (retryable, failed last)" "$(sent)" D
is "D succeeded" "$(latest)" '"A:succeeded B:succeeded C:failed D:succeeded"'
n0=$(wc -l <"$T/stub.log")
(eval "$(sed -n 2p hints.sh)") 2>/dev/null
is "the --all-failed hint sends only C" "$(sent)" C
check "nothing was filed into a second store" test ! -e bg-data
check "the new records were filed into the store" sh -c "[ \$(jq -r 'select(.filed) | .filed.variant' results.ndjson | while read -r f; do test -f '$S'/\"\$f\" || echo missing; done | wc -l) = 0 ]"

# the README's recipe, with the store in BG_ROOT as the README says
n0=$(wc -l <"$T/stub.log")
recipe=$(grep -m1 '^bg-retry results.ndjson | bg-generate | bg-file >> results.ndjson$' "$TOP/README.md")
is "the README has the recipe" "$recipe" "bg-retry results.ndjson | bg-generate | bg-file >> results.ndjson"
(export BG_ROOT=$S; eval "$recipe") 2>/dev/null
is "the README's recipe sends nothing that succeeded last" "$(sent)" ""
check "and keeps the store" test ! -e bg-data
done_testing
