# The README's Models table from share/batchgen/models.json:
#   jq -r -f share/batchgen/models-readme.jq share/batchgen/models.json
def price($basis):
	if . == null then
		(if ($basis // "") | startswith("billed per token") then "per token" else "unknown" end)
	elif . == 0 then "0" else "$\(.)" end;
def prices: .price_per_image as $p | if $p == null then "-"
	else "\($p.sync | price($p.basis)), \(if $p.sync == 0 then "-" else ($p.batch | price($p.basis)) end)" end;
"| provider | model | status | shutdown | references | price/image (sync, batch) | read |",
"|---|---|---|---|---|---|---|",
(.providers | to_entries[] | .key as $p | .value.default as $d | .value.models[] |
 "| \($p) | `\(.name)`\(if .name == $d then " (default)" else "" end) | \(.status) | \(.shutdown // (if .status == "retired" then "past" else "none announced" end)) | \(.reference_images // "-") | \(prices) | \(.read // .price_per_image.read // "-") |")
