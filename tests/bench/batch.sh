# bg-generate --mode batch against the loopback stub's Gemini Batch API:
# for N=10000 jobs (and N/10, to show memory is flat in the number of
# jobs) the client's wall time and peak RSS to submit (--no-wait: read the
# jobs, upload 20 distinct references once, write and upload the request
# file, create the batch) and to collect (poll, download the responses,
# store the images, write the records), and the cost next to sync mode.
# The stub runs the batch between the two (not counted).
# Goals: submit under 10 s, RSS flat in N.
N=${N:-10000}
PY=/usr/bin/python3
export GEMINI_API_KEY=bench-key
shm=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/bg-bench-batch.XXXXXX) && cd "$shm"
fi
stub=
trap 'kill $stub 2>/dev/null; wait $stub 2>/dev/null; [ -n "$shm" ] && rm -rf "$shm"' EXIT
echo "working in $PWD"
$PY - <<'PYEOF'
import struct, zlib, os
ch = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
for i in range(20):
	raw = b"".join(b"\0" + bytes((i * 12, 40, 200)) * 64 for _ in range(64))
	open("r%02d.png" % i, "wb").write(b"\x89PNG\r\n\x1a\n" + ch(b"IHDR",
	    struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)) +
	    ch(b"IDAT", zlib.compress(raw)) + ch(b"IEND", b""))
PYEOF
$PY "$TOP/tests/stub/bg-stub.py" --port-file port --image-size 64x64 2>stub.err &
stub=$!
i=0; while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
B=http://127.0.0.1:$(cat port)
export BG_GEMINI_BASE_URL=$B
curl -s -X POST "$B/_stub/batch" -d '{"polls":1}' >/dev/null

jobs() {	# jobs N TAG
	awk -v n="$1" -v t="$2" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"job_id\":\"%s%d\",\"batch_id\":\"b\",\"variation\":1,\"provider\":\"gemini\",\"model\":\"gemini-3.1-flash-image\",\"prompt\":\"catalog shot %s %d\",\"input\":{\"product_images\":[\"r%02d.png\",\"r%02d.png\"]},\"price_per_image\":0.039,\"status\":\"planned\",\"attempt\":0}\n", t, i, t, i, i % 20, (i + 7) % 20 }' >jobs.$2
}
bench() {	# bench N TAG
	jobs "$1" "$2"
	/usr/bin/time -f '%e %M' -o t.submit bg-generate --mode batch --no-wait \
		--root st.$2 jobs.$2 >pend.$2 2>/dev/null
	name=$(jq -r .usage.provider_batch pend.$2 | head -n 1)
	t0=$(date +%s.%N)
	curl -s "$B/v1beta/$name" -H "x-goog-api-key: $GEMINI_API_KEY" >/dev/null
	t1=$(date +%s.%N)
	/usr/bin/time -f '%e %M' -o t.collect bg-generate --mode batch --poll 1 \
		--root st.$2 jobs.$2 >out.$2 2>/dev/null
	read -r sw sr <t.submit
	read -r cw cr <t.collect
	ok=$(grep -c '"status":"succeeded"' out.$2)
	pend=$(grep -c '"status":"pending"' pend.$2)
	cost=$(jq -s 'map(.cost // 0) | add * 1e4 | round / 1e4' out.$2)
	sync=$(jq -s 'map(select(.status=="succeeded") | .price_per_image) | add * 1e4 | round / 1e4' out.$2)
	awk -v n="$1" -v sw="$sw" -v sr="$sr" -v cw="$cw" -v cr="$cr" -v ok="$ok" \
	    -v p="$pend" -v c="$cost" -v s="$sync" -v t0="$t0" -v t1="$t1" 'BEGIN {
		printf "N=%-6d submit %.2f s rss %d MB (%d pending) | stub runs it %.1f s | collect %.2f s rss %d MB (%d ok) | cost batch $%.2f vs sync $%.2f\n",
		    n, sw, sr / 1024, p, t1 - t0, cw, cr / 1024, ok, c, s }'
}
bench $((N / 10)) s
bench "$N" l
curl -s "$B/_stub/batch" | jq -c '{counts}'
