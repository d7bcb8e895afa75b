# The same batch runs unchanged on local, gemini, openai and replicate: one
# settings file with only provider/model changed, the same candidates, the
# same pipeline (bg-plan | bg-generate | bg-file), against the loopback
# stub.  Also runs examples/settings-{gemini,openai,replicate}.json so they
# cannot rot.
. "$TOP/tests/lib.sh"
mkpng a.png 40 30 255 0 0; mkpng b.png 20 50 0 0 255; mkpng c.png 30 30 0 255 0
cat >cands.ndjson <<EOF
{"variant_id":"v1","product_id":"p1","title":"Linen shirt","variant_title":"Blue / M","sku":"LS-BL-M","selected":["a.png"],"status":"candidate"}
{"variant_id":"v2","product_id":"p1","title":"Linen shirt","variant_title":"Red / M","sku":"LS-RD-M","selected":["a.png","b.png","c.png","$T/b.png"],"status":"candidate","mine":"kept"}
EOF
start_stub
export BG_GEMINI_BASE_URL=$STUB BG_OPENAI_BASE_URL=$STUB BG_REPLICATE_BASE_URL=$STUB
export GEMINI_API_KEY=test-SECRET-g OPENAI_API_KEY=test-SECRET-o REPLICATE_API_TOKEN=test-SECRET-r
unset GOOGLE_API_KEY BG_REPLICATE_WAIT

# one settings file; each provider's copy changes provider and model only
base=$TOP/examples/settings-gemini.json
for pm in local:layout gemini:gemini-3.1-flash-image openai:gpt-image-2.6-flare replicate:google/nano-banana; do
	p=${pm%%:*}
	jq --arg p "$p" --arg m "${pm#*:}" '.provider = $p | .model = $m' "$base" >"s-$p.json"
	BG_ROOT=$T/store-$p
	export BG_ROOT
	bg-plan -q --settings "s-$p.json" --batch-id b1 cands.ndjson >"jobs-$p.ndjson" 2>"err-$p" &&
		bg-generate -j 4 --backoff 0.05 "jobs-$p.ndjson" 2>>"err-$p" | bg-file >"res-$p.ndjson" 2>>"err-$p"
	is "$p: the pipeline exits 0, quietly" "$? $(cat "err-$p")" "0 "
	is "$p: four jobs, all succeeded and filed" "$(jq -r '[.status, (.filed.variant != null), (.outputs|length)] | join(" ")' "res-$p.ndjson" | sort | uniq -c | tr -s ' ')" " 4 succeeded true 1"
	check "$p: the filed images exist" sh -c "jq -r '.filed.variant, .filed.batch' 'res-$p.ndjson' | while read -r f; do test -f \"$BG_ROOT/\$f\" || exit 1; done"
	is "$p: unknown fields kept" "$(jq -r 'select(.variant_id=="v2") | .mine' "res-$p.ndjson" | sort -u)" kept
done
same() { jq -S -c "$1" "$2" | sort; }
is "the settings differ only in provider/model" "$(for p in gemini openai replicate; do same 'del(.provider,.model)' "s-$p.json" | cmp -s - "$(same 'del(.provider,.model)' s-local.json >ref; echo ref)" || echo "$p"; done)" ""
is "the jobs differ only in provider/model" "$(for p in gemini openai replicate; do same 'del(.provider,.model)' "jobs-$p.ndjson" | cmp -s - "$(same 'del(.provider,.model)' jobs-local.ndjson >refj; echo refj)" || echo "$p"; done)" ""
is "the same job ids everywhere" "$(for p in local gemini openai replicate; do jq -r .job_id "res-$p.ndjson" | sort | tr '\n' ' '; echo; done | sort -u | wc -l | tr -d ' ')" 1
S=$T/stub.log
is "the stub saw each provider's own protocol" \
	"$(jq -r 'select(.method=="POST") | .path' "$S" | sed 's|/v1/predictions/.*||' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
	" 4 /v1/images/edits; 4 /v1/models/google/nano-banana/predictions; 4 /v1beta/models/gemini-3.1-flash-image:generateContent;"
is "one and four reference images reached each provider" \
	"$(jq -r 'select(.method=="POST") | "\(.provider) \(.images|length)"' "$S" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
	" 2 gemini 1; 2 gemini 4; 2 openai 1; 2 openai 4; 2 replicate 1; 2 replicate 4;"
check "no key reaches records or stderr" sh -c "! grep -q SECRET res-* err-*"

# the example settings files, as shipped
for p in gemini openai replicate; do
	BG_ROOT=$T/ex-$p bg-plan -q --settings "$TOP/examples/settings-$p.json" cands.ndjson 2>"exerr-$p" |
		BG_ROOT=$T/ex-$p bg-generate -j 4 --backoff 0.05 >"ex-$p.ndjson" 2>>"exerr-$p"
	is "examples/settings-$p.json runs: 4 succeeded" "$(jq -r .status "ex-$p.ndjson" | sort | uniq -c | tr -s ' ') $(cat "exerr-$p")" " 4 succeeded "
done
done_testing
