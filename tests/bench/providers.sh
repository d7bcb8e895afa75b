# openai and replicate against the loopback stub: N jobs with four 1 MB
# reference images each, J in flight, L ms of latency per answer.
#   openai:    one multipart /v1/images/edits per job, the images streamed
#              from the shared references (no copy per request)
#   replicate: the references uploaded once (/v1/files) for all jobs, then
#              one create per job; with BG_REPLICATE_WAIT=1 and a 1.5 s
#              model, every prediction is also polled
# Prints wall time against the floor (N/J x L), CPU, peak RSS and the
# requests the stub saw.  Goals: replicate within 10 % of the floor, RSS
# flat (well under N x 4 MB), 4 uploads for any N.  openai stays further
# from its floor because the Python stub spends ~10 ms of CPU parsing each
# 4 MB multipart body (N=400 at L=0: 4.9 s wall, 4 s of it the stub's
# CPU, 0.9 s bg-generate's).
N=${N:-400} J=${J:-64} L=${L:-500}
PY=/usr/bin/python3
shm=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/bg-bench-providers.XXXXXX) && cd "$shm"
fi
stub=
trap 'kill $stub 2>/dev/null; wait $stub 2>/dev/null; [ -n "$shm" ] && rm -rf "$shm"' EXIT
$PY - <<'EOF'
import os, struct, zlib
ch = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
for i in range(4):
	w = h = 600
	raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
	open("r%d.png" % i, "wb").write(b"\x89PNG\r\n\x1a\n" + ch(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + ch(b"IDAT", zlib.compress(raw, 0)) + ch(b"IEND", b""))
EOF
$PY "$TOP/tests/stub/bg-stub.py" --port-file port --latency-ms "$L" --image-size 64x64 2>stub.err &
stub=$!
i=0; while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
B=http://127.0.0.1:$(cat port)
export OPENAI_API_KEY=bench REPLICATE_API_TOKEN=bench BG_OPENAI_BASE_URL=$B BG_REPLICATE_BASE_URL=$B
jobs() {	# jobs PROVIDER MODEL [PROMPT-SUFFIX]
	i=0; while [ $i -lt "$N" ]; do i=$((i + 1))
		printf '{"job_id":"j%d","batch_id":"b","variation":%d,"provider":"%s","model":"%s","prompt":"p%d%s","input":{"product_images":["r0.png","r1.png","r2.png","r3.png"],"aspect_ratio":"1:1"}}\n' $i $i "$1" "$2" $i "${3:-}"
	done
}
run() {	# run NAME FLOOR-MS [ENV...] < jobs
	name=$1 floor=$2; shift 2
	curl -s -X POST "$B/_stub/reset" >/dev/null
	rm -rf st
	env "$@" /usr/bin/time -f '%e %M %U %S' -o time bg-generate -j "$J" --root st >out
	read -r wall rss usr sys <time
	ok=$(grep -c '"status":"succeeded"' out)
	awk -v n="$name" -v w="$wall" -v f="$floor" -v r="$rss" -v u="$usr" -v s="$sys" -v ok="$ok" -v N="$N" 'BEGIN {
		printf "%-10s %d/%d ok  wall %.2f s  floor %.2f s  floor/wall %.0f%%  cpu %.2f s  rss %d MB\n",
		    n, ok, N, w, f / 1000, 100 * f / 1000 / w, u + s, r / 1024 }'
	curl -s "$B/_stub/stats" | jq -c '{by_path, max_in_flight}'
}
rounds=$(( (N + J - 1) / J ))
jobs openai gpt-image-1 | run openai $((rounds * L))
jobs replicate a/b | run replicate $((rounds * L))
jobs replicate a/b ' [[fault:slow=1500]]' | run repl-poll $((rounds * 1500)) BG_REPLICATE_WAIT=1
