# Decisions from the review page flow on (doc/contract.md "Decisions"):
# bg-retry --rejected re-rolls exactly the rejected jobs (one new paid
# request each against the loopback stub, the note added to the prompt),
# and bg-export --approved exports exactly the approved images; decisions
# that match nothing are said, not dropped.
. "$TOP/tests/lib.sh"
mkdir -p img
mkpng img/a.png 40 30 255 0 0; mkpng img/b.png 30 40 0 0 255; mkpng img/c.png 20 20 0 200 0
start_stub
export BG_ROOT=$T/store BG_GEMINI_BASE_URL=$STUB GEMINI_API_KEY=test-key
unset GOOGLE_API_KEY
cat >settings.json <<'J'
{"name":"Review","provider":"gemini","model":"gemini-3.1-flash-image","variations":1,
 "prompt":"Photo of {title}","input":{"aspect_ratio":"1:1"},"price_per_image":0.039}
J
for v in a b c; do
	printf '{"variant_id":"v%s","product_id":"p","title":"shirt %s","selected":["img/%s.png"]}\n' $v $v $v
done >cands.ndjson
sent() { jq -c 'select(.provider=="gemini")' "$T/stub.log" 2>/dev/null | wc -l | tr -d ' '; }
bg-plan -q -s settings.json cands.ndjson >jobs.ndjson
bg-generate jobs.ndjson | bg-file >results.ndjson
is "three jobs, three paid requests" "$(sent) $(jq -c 'select(.status=="succeeded")' results.ndjson | wc -l | tr -d ' ')" "3 3"

# the decisions a person saved on the review page: va approved (best),
# vb rejected with a note, vc not decided
jq -c 'select(.variant_id != "vc") | .outputs[0] as $o
	| {job_id, variant_id, product_id, batch_id, sha256: $o.sha256,
	   decision: (if .variant_id == "va" then "approved" else "rejected" end),
	   best: (.variant_id == "va"),
	   note: (if .variant_id == "vb" then "show the collar" else "" end),
	   decided_at: "2026-11-29T10:00:00.000Z"}' results.ndjson >decisions.ndjson

# bg-retry --rejected: the rejected job, re-planned as a re-roll
bg-retry --rejected decisions.ndjson results.ndjson >again.ndjson 2>retry.err
is "--rejected: exit 0" "$?" 0
is "--rejected: exactly the rejected job" "$(jq -r .variant_id again.ndjson)" vb
is "--rejected: planned again, the note in the prompt" \
	"$(jq -c '[.status, .prompt, (.reroll | type), has("outputs"), has("cost")]' again.ndjson)" \
	'["planned","Photo of shirt b show the collar","number",false,false]'
check "--rejected: says how many on stderr" grep -qx 'bg-retry: 1 rejected job(s) re-rolled' retry.err
bg-generate again.ndjson | bg-file >>results.ndjson
is "the re-roll: one new paid request" "$(sent)" 4
is "the re-roll: a new image, paid once" \
	"$(jq -c 'select(.variant_id == "vb") | [.cached, .cost]' results.ndjson | tail -1)" '[false,0.039]'
check "the re-roll: not the rejected image" [ "$(jq -r 'select(.variant_id == "vb") | .outputs[0].sha256' results.ndjson | sort -u | wc -l)" = 2 ]
# without a note it is still a new request (the cache does not answer it)
jq -c 'select(.variant_id == "vb") | .note = ""' decisions.ndjson >nonote.ndjson
bg-retry --rejected nonote.ndjson results.ndjson 2>/dev/null | bg-generate >r3.ndjson
is "a re-roll without a note: a new request too" "$(sent) $(jq -c .cached r3.ndjson)" "5 false"
# a rejected decision for a job that is not in the results
printf '%s\n' '{"job_id":"nope-1","sha256":"ab","decision":"rejected","best":false,"note":"","decided_at":"2026-11-29T10:00:00Z"}' >stray.ndjson
bg-retry --rejected stray.ndjson results.ndjson >stray.out 2>stray.err
is "--rejected: a decision naming no job: exit 1" "$?" 1
check "--rejected: the stray decision is said" \
	grep -qx 'bg-retry: stray.ndjson: rejected job nope-1: no succeeded record in the results' stray.err
is "--rejected: nothing printed for it" "$(cat stray.out)" ""
bg-retry --rejected 2>/dev/null; is "--rejected without a file: exit 2" "$?" 2

# bg-export --approved: only va's image gets an export entry
head -n 3 results.ndjson >first.ndjson
bg-export --approved decisions.ndjson -p gmc first.ndjson >exp.ndjson 2>exp.err
is "--approved: exit 0" "$?" 0
is "--approved: exports only the approved image" \
	"$(jq -c '[.variant_id, (.exports // [] | length)]' exp.ndjson | tr '\n' ' ')" \
	'["va",1] ["vb",0] ["vc",0] '
is "--approved: the copy is there" "$(jq -r 'select(.variant_id == "va") | .exports[0].path' exp.ndjson | xargs -I{} test -s "$BG_ROOT/{}" && echo yes)" yes
is "--approved: the other records pass as they were read" \
	"$(jq -c 'select(.variant_id != "va")' exp.ndjson | md5sum)" \
	"$(jq -c 'select(.variant_id != "va")' first.ndjson | md5sum)"
cat decisions.ndjson stray.ndjson >both.ndjson
sed -i 's/"rejected"/"approved"/' stray.ndjson
bg-export --approved stray.ndjson -p gmc first.ndjson >/dev/null 2>stray2.err
is "--approved: a decision for an image not in the results: exit 1" "$?" 1
check "--approved: it is said with file:line" grep -q 'stray.ndjson:1: approved decision for job nope-1 image ab: no such image in the results' stray2.err
done_testing
