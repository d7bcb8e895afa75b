# bg-plan vs the same transformation in jq, on 100,000 candidates.
# Prints both times and the ratio (goal: bg-plan >= 5x faster).
N=${N:-100000}
S=$TOP/tests/data/settings.json
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"variant_id\":\"v%d\",\"product_id\":\"p%d\",\"title\":\"Linen shirt %d\",\"variant_title\":\"Blue / M\",\"sku\":\"LS-%d\",\"selected\":[\"https://cdn.example/p/%d.jpg\",\"https://cdn.example/p/%d-b.jpg\"],\"status\":\"candidate\",\"attrs\":{\"colour\":\"blue\"}}\n", i, i / 3, i, i, i, i }' >c.ndjson
t() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
set -- $(t bg-plan -q --settings "$S" --batch-id bench --max-variants "$N" c.ndjson)
bp=$1 bprss=$2
set -- $(t jq -c --arg b bench --slurpfile s "$S" '
  $s[0] as $S | . as $c | range(1; $S.variations + 1) as $v
  | ($c + {batch_id: $b, batch_name: $S.name, job_id: "\($b)-\($c.variant_id)-\($v)",
      variation: $v, attempt: 0, provider: $S.provider, model: $S.model,
      prompt: "Studio photo of \($c.title) (\($c.variant_title)) on a clean background. \($S.input.custom_instructions | join(", "))",
      input: ($S.input + {product_images: $c.selected}),
      targets: {variant_folder: "variants/\($c.variant_id)/spring-studio-bench",
                batch_folder: "batches/spring-studio-bench"},
      price_per_image: $S.price_per_image, status: "planned"})
  | del(.generated, .uploads)' c.ndjson)
jqt=$1 jqrss=$2
echo "bg-plan: $N candidates -> $((N * 2)) jobs in ${bp}s (peak RSS ${bprss} KB)"
echo "jq:      same transformation in ${jqt}s (peak RSS ${jqrss} KB)"
awk -v a="$bp" -v b="$jqt" 'BEGIN { printf "bg-plan is %.1fx faster than jq (goal >= 5x)\n", b / (a > 0 ? a : 0.001) }'
