# Every ```sh block of the README's "Your first batch" tour and "Recipes"
# section runs as written, in order, offline (local provider; the tour's
# last step against the loopback stub), each section from a folder set up
# as it says.  Blocks whose first line says "not run by readme-recipes.sh"
# are skipped.
. "$TOP/tests/lib.sh"

# run_section TITLE DIR: extract the section's sh blocks into DIR, run them
run_section() {
	mkdir -p "$2"
	awk -v title="## $1" -v dir="$2" '$0 == title { on = 1; next } /^## / { on = 0 }
		on && /^```sh$/ { n++; f = sprintf("%s/block%02d.sh", dir, n); inb = 1; next }
		on && inb && /^```$/ { inb = 0; close(f); next }
		on && inb { print > f }' "$TOP/README.md"
	check "$1: the section has sh blocks" [ -f "$2/block01.sh" ]
	for b in "$2"/block*.sh; do
		first=$(head -1 "$b")
		case $first in *"not run by readme-recipes.sh"*)
			pass "$1: $(basename "$b") skipped: ${first#\# }"; continue;;
		esac
		if (cd "$2" && timeout 120 bash -e -o pipefail "$b" >"$b.out" 2>"$b.err"); then
			pass "$1: $(basename "$b"): $(head -1 "$b" | cut -c1-70)"
		else
			flunk "$1: $(basename "$b") failed: $(cat "$b") -- $(tail -5 "$b.err")"
		fi
	done
}

start_stub
trap 'kill $STUB_PID 2>/dev/null; wait $STUB_PID 2>/dev/null
	bg-pg-up --remove "$T/tour/pg" 2>/dev/null; bg-pg-up --remove "$T/recipes/pg" 2>/dev/null' EXIT
unset PGHOST PGPORT PGUSER PGDATABASE GOOGLE_API_KEY

echo "# the tour, from an empty folder with its own store"
(
	export BG_ROOT=$T/tour/bg-data GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB
	run_section "Your first batch" "$T/tour"
)
D=$T/tour
check "tour 3: the broken image is named with its variant" \
	grep -q '^bg-candidates: mug-red: img/mug-red.jpg: cannot probe image' "$D/block04.sh.err"
is "tour 4: the estimate shows the plan's batch id" \
	"$(head -n 1 "$D/block05.sh.out" | jq -r .batch_id) $(jq -r .batch_id "$D/jobs.ndjson" | sort -u)" "first-try first-try"
check "tour 5: the failure is reported" grep -q 'unsupported_image .*img/mug-red.jpg' "$D/block06.sh.out"
check "tour 5: not all done" grep -q '^not all done$' "$D/block06.sh.out"
check "tour 5: the page says unreadable image" grep -q 'unreadable image' "$D/report.html"
is "tour 6: every job succeeded after the fix" \
	"$(bg-report --json --plan "$D/jobs.ndjson" "$D/results.ndjson" | jq -c '[.succeeded,.failed,.pending]')" "[6,0,0]"
is "tour 7: the re-plan is all from the cache, paid nothing" "$(jq -c '[.cached, .cost]' "$D/block08.sh.out" | sort | uniq -c | tr -s ' ')" " 6 [true,0]"
check "tour 7: bg-plan says the store answers every job" grep -q '^bg-plan: 6 of 6 jobs are already generated in .*; they will not be paid again; --fresh generates new images$' "$D/block08.sh.err"
check "tour 9: --check said the key and model are usable" grep -q '^gemini: ok: gemini-3.1-flash-image' "$D/block10.sh.out"
check "tour 8: the summary view" grep -Eq '^ first-try +\| +6 \| +6 \| +0 \| +0 \|' "$D/block09.sh.out"
is "tour 9: one request for the check, then the other five" "$(grep -c generateContent "$T/stub.log")" 6
is "tour 9: the real batch succeeded" \
	"$(bg-report --json --plan "$D/jobs-gemini.ndjson" "$D/results-gemini.ndjson" | jq -c '[.succeeded,.failed]')" "[6,0]"

echo "# the recipes, from a folder with copies of the examples"
R=$T/recipes
mkdir -p "$R"
cp "$TOP/examples/catalog.ndjson" "$R/catalog.ndjson"
cp "$TOP/examples/settings.json" "$R/settings.json"
ln -s "$TOP/examples" "$R/examples"
(export BG_ROOT=$R/bg-data; run_section Recipes "$R")
is "recipes: every job of the run succeeded" "$(bg-report --json --plan "$R/jobs.ndjson" "$R/results.ndjson" | jq -c '[.failed,.pending]')" "[0,0]"
check "recipes: the bg-batch folder holds every intermediate" \
	sh -c "ls '$R/spring' | tr '\n' ' ' | grep -q 'candidates.ndjson jobs.ndjson plan.sum report.html report.html.assets results.ndjson'"
check "recipes: the PostgreSQL block loaded the results" grep -q succeeded "$(grep -l bg-pg-load "$R"/block*.sh).out"
done_testing
