# bg-candidates on a 100,000-variant catalog: indexing alone, selecting 10k
# and ~63k distinct ids, --all, --slot, --summary.
# Goal: 100k variants select in about a second.
N=${N:-100000}
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"product_id\":\"p%d\",\"variant_id\":\"v%d\",\"title\":\"Product %d\",\"variant_title\":\"Size %d\",\"sku\":\"SKU-%d\",\"image_url\":\"https://cdn.example/%d.jpg\",\"images\":[{\"url\":\"https://cdn.example/%d.jpg\",\"slot\":\"MAIN\",\"width\":1000,\"height\":1000},{\"url\":\"https://cdn.example/%d-1.jpg\",\"slot\":\"PT01\",\"width\":800,\"height\":800}],\"attrs\":{\"color\":\"c%d\"}}\n", int(i / 3), i, i, i % 5, i, i, i, i, i % 7 }' >cat.ndjson
awk -v n="$N" 'BEGIN { srand(1); for (i = 1; i <= n; i++) print "v" int(1 + rand() * n) }' | awk '!seen[$0]++' >ids.txt
head -n 10000 ids.txt >ids10k.txt
t() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
run() {
	label=$1; shift
	set -- $(t "$@")
	printf '%-44s %6ss  peak RSS %7s KB\n' "$label" "$1" "$2"
}
export BG_ROOT=$PWD/store
run "index only (no selection)" sh -c 'bg-candidates -c cat.ndjson </dev/null'
run "select 10k ids" sh -c 'bg-candidates -c cat.ndjson --max-uploads 0 <ids10k.txt'
run "select $(wc -l <ids.txt) ids" sh -c 'bg-candidates -c cat.ndjson --max-uploads 0 <ids.txt'
run "--all" bg-candidates -c cat.ndjson --all --max-uploads 0
run "--all --slot PT01" bg-candidates -c cat.ndjson --all --slot PT01 --max-uploads 0
run "--all --summary" bg-candidates -c cat.ndjson --all --summary
