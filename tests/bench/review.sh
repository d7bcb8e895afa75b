# The review page (bg-report --html) of 1,000 variants × 4 images and the
# picker page (bg-candidates --html) of 1,000 variants, loaded in chromium:
# time to a usable page (goal < 2 s), DOM size, layout and style work, and
# the cost of a decision, a filter, a key press and a download.
N=${N:-1000}
if [ ! -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
	echo "review bench: tests/browser/node_modules missing (make deps)"; exit 1
fi
mkdir -p bg-data/objects/aa imgs
for i in 0 1 2 3 4 5 6 7; do
	vips black x.png 512 512 --bands 3 &&
	vips linear x.png bg-data/objects/aa/o$i.png "1 1 1" "$((i * 30)) 90 $((200 - i * 20))" --uchar &&
	cp bg-data/objects/aa/o$i.png imgs/c$i.png || exit 1
done
awk -v n="$N" 'BEGIN { for (v = 0; v < n; v++) for (k = 1; k <= 4; k++)
	printf "{\"batch_id\":\"b1\",\"batch_name\":\"Bench\",\"job_id\":\"b1-v%d-%d\",\"variation\":%d,\"variant_id\":\"v%d\",\"product_id\":\"p%d\",\"title\":\"Linen shirt %d\",\"variant_title\":\"Blue / M\",\"input\":{\"product_images\":[\"imgs/c%d.png\"]},\"status\":\"succeeded\",\"outputs\":[{\"path\":\"objects/aa/o%d.png\",\"sha256\":\"%056d%08d\"}]}\n", v, k, k, v, int(v / 3), v, v % 8, (v + k) % 8, 0, v * 4 + k }' >results.ndjson
awk -v n="$N" 'BEGIN { for (v = 0; v < n; v++)
	printf "{\"product_id\":\"p%d\",\"variant_id\":\"v%d\",\"title\":\"Linen shirt %d\",\"image_url\":\"imgs/c%d.png\",\"images\":[{\"url\":\"imgs/c%d.png\",\"slot\":\"MAIN\",\"width\":512,\"height\":512},{\"url\":\"imgs/c%d.png\",\"slot\":\"PT01\",\"width\":512,\"height\":512},{\"url\":\"imgs/c%d.png\",\"slot\":\"PT02\",\"width\":512,\"height\":512}]}\n", int(v / 3), v, v, v % 8, v % 8, (v + 1) % 8, (v + 2) % 8 }' >catalog.ndjson
t() { /usr/bin/time -f '%e' "$@" 2>&1 >/dev/null | tail -1; }
echo "bg-report --html, $N variants × 4 images: $(t bg-report --root bg-data --html review.html results.ndjson)s (thumbnails made), again $(t bg-report --root bg-data --html review.html results.ndjson)s; page $(du -k review.html | cut -f1) KB"
echo "bg-candidates --html, $N variants: $(t bg-candidates --root bg-data --catalog catalog.ndjson --all --html picker.html)s; page $(du -k picker.html | cut -f1) KB"
node "$TOP/tests/browser/bench.js" review.html picker.html
