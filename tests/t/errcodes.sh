# The one table of error codes (lib/errcode.c): bg-generate --list-errors
# prints it, doc/contract.md's table and bg-generate.1 agree with it both
# ways, the records carry its retryable flag and status, and no error code
# is spelt as a string literal in lib/ or cmd/ outside it.
. "$TOP/tests/lib.sh"
tab=$(printf '\t')

bg-generate --list-errors >list 2>err; rc=$?
is "--list-errors: exit 0" "$rc" 0
is "--list-errors: nothing on stderr" "$(cat err)" ""
check "--list-errors lists codes" test -s list
is "--list-errors: six tab-separated fields a line" \
    "$(awk -F"$tab" 'NF != 6' list)" ""
is "--list-errors: retryable is yes or no, stops key/model/host/-, status" \
    "$(awk -F"$tab" '$2 !~ /^(yes|no)$/ || $3 !~ /^(key|model|host|-)$/ ||
	$4 !~ /^(failed|skipped|canceled)$/' list)" ""
is "--list-errors: each code once" "$(cut -f1 list | sort | uniq -d)" ""
is "--list-errors: codes are lower_snake_case" \
    "$(cut -f1 list | grep -v '^[a-z][a-z_]*$')" ""
cut -f1 list | sort >codes
check "--help lists --list-errors" sh -c 'bg-generate --help | grep -q -- "--list-errors"'

# doc/contract.md: the rows of the table under "### Error codes"
awk '/^### Error codes/ { on = 1; next } on && /^#/ { on = 0 }
    on && /^\| `/' "$TOP/doc/contract.md" |
    sed -e 's/^| `\([a-z_]*\)` | /\1 | /' -e 's/ |$//' -e "s/ | /$tab/g" >doc
cut -f1 doc | sort >doc.codes
is "every code in the table is documented in doc/contract.md" \
    "$(comm -23 codes doc.codes | tr '\n' ' ')" ""
is "every code documented in doc/contract.md is in the table" \
    "$(comm -13 codes doc.codes | tr '\n' ' ')" ""
if ! diff list doc >doc.diff; then
	flunk "doc/contract.md's error table is the listing (retryable, stops, status, stages, meaning); put these rows in it:"
	awk -F"$tab" '{ printf "#   | `%s` | %s | %s | %s | %s | %s |\n",
	    $1, $2, $3, $4, $5, $6 }' list
else
	pass "doc/contract.md's error table equals --list-errors, column by column"
fi
is "batch_limit, never written, is not documented as a code" \
    "$(grep -l '^| `batch_limit`' "$TOP/doc/contract.md")" ""

# bg-generate.1 names every code its records can carry (stage generate)
man=$TOP/cmd/bg-generate.1
sed -n 's/^\.Cm //p' "$man" | tr -d ',.()' | tr ' ' '\n' | sort -u >man.cm
awk -F"$tab" '$5 ~ /generate|any/ { print $1 }' list | sort >gen.codes
is "bg-generate.1 names every code of stage generate" \
    "$(comm -23 gen.codes man.cm | tr '\n' ' ')" ""
# ... and its list of codes holds nothing else
sed -n '/^Error codes/,/^\.Ss Retries/p' "$man" | sed -n 's/^\.Cm //p' |
    tr -d ',.()' | tr ' ' '\n' | grep . | sort -u >man.list
is "bg-generate.1's list of error codes names only codes" \
    "$(comm -13 codes man.list | tr '\n' ' ')" ""

# the records agree with the table: code, status and retryable flag
export BG_ROOT=$T/store
mkpng a.png 16 16 0 128 0; mkpng b.png 16 16 0 0 128
echo 'not an image' >text.png
job() {	# job ID PROVIDER IMAGES-JSON
	printf '{"job_id":"%s","batch_id":"b1","variation":1,"provider":"%s","prompt":"p","input":{"product_images":%s},"status":"planned","attempt":0}\n' "$1" "$2" "$3"
}
{
	job ok1 local '["a.png"]'
	echo '{"not json'
	job noprov nosuch '["a.png"]'
	job noimg local '[]'
	job missing local '["missing.png"]'
	job text local '["text.png"]'
} >jobs.ndjson
job ok2 local '["b.png"]' >over.ndjson	# not in the cache
bg-generate jobs.ndjson >out 2>/dev/null
bg-generate --max-images 0 over.ndjson >>out 2>/dev/null
jq -r 'select(.error) | [.error.code, (if .error.retryable then "yes"
    else "no" end), .status] | @tsv' out | sort >got
is "the test met the codes it meant to" "$(cut -f1 got | tr '\n' ' ')" \
    "bad_json budget image_fetch_failed invalid_images invalid_record unsupported_image "
awk -F"$tab" '{ print $1 FS $2 FS $4 }' list | sort >want
is "each record's code, retryable and status are the table's" \
    "$(comm -23 got want | tr '\n' ' ')" ""

# bg-retry goes by each record's error.retryable (set from the table),
# not by a list of codes of its own
sed -n "/^filter='/,/'\$/p" "$TOP/scripts/bg-retry" >retry.filter
check "bg-retry's filter found" grep -q 'error.retryable' retry.filter
is "bg-retry's filter does not look at error.code" \
    "$(grep -c 'error\.code' retry.filter)" 0

# no error code spelt as a string literal in lib/ or cmd/ but the table;
# the same words elsewhere mean something else (path, word, why):
cat >allow <<'EOF'
lib/record.c canceled a record status
lib/report.c canceled a record status
lib/report_text.c canceled a record status
lib/batch.c canceled a record status
lib/engine_job.c canceled a record status and a message
lib/batch_store.c canceled a provider batch's state
lib/batch_store.c expired a provider batch's state
lib/provider/openai_batch.c expired OpenAI's batch status and error words
lib/provider/replicate.c canceled Replicate's prediction status
lib/provider/openai.c model_not_found OpenAI's own error.code
lib/listing.c image_too_large a bg-export problem code
lib/report_export.c image_too_large a bg-export problem code
cmd/bg-generate.c timeout the option --timeout
cmd/bg-candidates.c not_found a --summary counter
EOF
re=$(paste -sd'|' codes)
(cd "$TOP" && grep -rnE "\"($re)\"" lib cmd --include='*.c' --include='*.h') |
    grep -v '^lib/errcode\.[ch]:' |
    grep -vE '^[^:]*:[0-9]*:[[:space:]]*/?\*' |	# comment lines
    while IFS=: read -r path _ text; do
	printf '%s\n' "$text" | grep -oE "\"($re)\"" | tr -d '"' |
	    sed "s|^|$path |"
    done | sort -u >literals
cut -d' ' -f1,2 allow | sort -u >allowed
is "no error code as a string literal in lib/ or cmd/ outside lib/errcode.c" \
    "$(comm -23 literals allowed | tr '\n' ';')" ""
is "every allowed literal is still there (else drop it from the list)" \
    "$(comm -13 literals allowed | tr '\n' ';')" ""

done_testing
