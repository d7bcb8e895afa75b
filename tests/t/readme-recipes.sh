# Every ```sh block of the README's "Recipes" section runs as written, in
# order, offline (local provider), from a folder set up as the section says.
. "$TOP/tests/lib.sh"
cp "$TOP/examples/catalog.ndjson" catalog.ndjson
cp "$TOP/examples/settings.json" settings.json
ln -s "$TOP/examples" examples
export BG_ROOT=$T/bg-data
awk '/^## Recipes/ { on = 1; next } /^## / { on = 0 }
	on && /^```sh$/ { n++; f = sprintf("block%02d.sh", n); inb = 1; next }
	on && inb && /^```$/ { inb = 0; close(f); next }
	on && inb { print > f }' "$TOP/README.md"
check "the Recipes section has sh blocks" [ -f block01.sh ]
for b in block*.sh; do
	first=$(head -1 "$b")
	case $first in *"not run by readme-recipes.sh"*)
		pass "$b skipped: ${first#\# }"; continue;;
	esac
	if timeout 120 bash -e -o pipefail "$b" >"$b.out" 2>"$b.err"; then
		pass "recipe $b: $(head -1 "$b" | cut -c1-70)"
	else
		flunk "recipe $b failed: $(cat "$b") -- $(tail -5 "$b.err")"
	fi
done
is "recipes: every job of the run succeeded" "$(bg-report --json --plan jobs.ndjson results.ndjson | jq -c '[.failed,.pending]')" "[0,0]"
check "recipes: the bg-batch folder holds every intermediate" \
	sh -c 'ls spring | tr "\n" " " | grep -q "candidates.ndjson jobs.ndjson plan.sum report.html report.html.assets results.ndjson"'
done_testing
