# bg-pg-load stores bg-export's verdicts in the exports table (a real
# PostgreSQL); the latest record of a job wins; loading twice changes no row.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/export-lib.inc"
. "$TOP/tests/t/pg-lib.inc"
export BG_ROOT="$T/store"
mkproduct p90.png 1200 90 90 "255 255 255"
mkproduct grey.png 1200 90 90 "235 235 235"
for v in p90 grey; do store_result "$BG_ROOT" "$v.png" "$v"; done | bg-export -p amazon-main -p gmc >ex.ndjson 2>/dev/null
bg-pg-load ex.ndjson 2>/dev/null; rc=$?
is "load: exit 0" "$rc" 0
q() { psql -X -At -c "$1"; }
is "exports: one row per copy" "$(q 'SELECT count(*) FROM exports')" 4
is "exports: verdicts and problems" \
    "$(q "SELECT variant_id, profile, verdict, array_to_string(problems, ','), width, reframed FROM exports ORDER BY 1, 2" | tr '\n' ' ')" \
    "grey|amazon-main|fail|background_not_white|1200|f grey|gmc|pass||1200|f p90|amazon-main|pass||1200|f p90|gmc|pass||1200|f "
is "exports: paths are bg-export's" \
    "$(q "SELECT path FROM exports WHERE variant_id = 'p90' AND profile = 'gmc'")" \
    "$(jq -r 'select(.variant_id == "p90") | .exports[1].path' ex.ndjson)"
before=$(q 'SELECT xmin, * FROM exports ORDER BY 2, 3')
bg-pg-load ex.ndjson 2>/dev/null
is "loading twice changes no row (not even xmin)" "$(q 'SELECT xmin, * FROM exports ORDER BY 2, 3')" "$before"
jq -c 'select(.variant_id == "grey") | .exports[0] |= (.verdict = "pass" | .problems = [])' ex.ndjson >later.ndjson
bg-pg-load ex.ndjson later.ndjson 2>/dev/null
is "the latest record of a job wins" "$(q "SELECT verdict FROM exports WHERE variant_id = 'grey' AND profile = 'amazon-main'")" pass
is "a query for listing-ready images" \
    "$(q "SELECT count(*) FROM exports WHERE profile = 'amazon-main' AND verdict = 'pass'")" 2
done_testing
