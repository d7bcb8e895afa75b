# Hostile input found by fuzzing (issue 11): each case once crashed,
# hit undefined behaviour or grew without bound.  The parsers' own
# regression inputs are the fuzz corpora (tests/fuzz/, replayed by
# tests/t/fuzz.sh); these are the programs' side of the same bugs.
. "$TOP/tests/lib.sh"
S=$TOP/tests/data/settings.json

# a 70 KB title: the prompt cap refuses it as invalid_record, the other
# variant is planned
python3 -c 'import json
print(json.dumps({"variant_id":"big","title":"t"*70000,"variant_title":"v","selected":["a.png"]}))
print(json.dumps({"variant_id":"ok","title":"t","variant_title":"v","selected":["a.png"]}))' >big.ndjson
bg-plan -q --settings "$S" --batch-id b big.ndjson >out 2>err; rc=$?
is "over-long prompt: exit 0 (it is data)" "$rc" 0
is "over-long prompt: invalid_record" "$(jq -r 'select(.variant_id=="big") | [.status,.error.code,.error.message] | join(" ")' out)" \
	"failed invalid_record variant big: prompt longer than 65536 bytes"
is "over-long prompt: the other is planned" "$(jq -r 'select(.variant_id=="ok") | .status' out | sort -u)" planned
check "over-long prompt: the title is passed on once, not in prompts" [ "$(wc -c <out)" -lt 100000 ]

# settings that parse but are not an object: a message, no error pointer
for v in '[]' '5' '"x"' 'null'; do
	printf '%s' "$v" >s.json
	bg-plan --settings s.json big.ndjson >out 2>err; rc=$?
	is "settings $v: exit 2 with a reason" "$rc $(cat err)" "2 bg-plan: s.json: not a JSON object"
done
printf '{"prompt": x}' >s.json
bg-plan --settings s.json big.ndjson >out 2>err
is "settings with bad JSON: line and column" "$(cat err)" "bg-plan: s.json: invalid JSON at line 1, column 12"
done_testing
