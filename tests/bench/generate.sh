# bg-generate vs GNU parallel + curl vs a Python aiohttp client, against the
# loopback stub (gemini protocol, latency uniform in [0.5 L, 1.5 L]).
#   A: N=4000 jobs, J=256 in flight, LA=500 ms, one small reference image;
#      bg-generate with its store on the real disk (the folder the bench
#      runs in: ext4 here, see findmnt), on a fresh ext4 with a journal in
#      an image file on that disk (as root), and on tmpfs, side by side:
#      the disk's cost of making results durable (group commit,
#      lib/commit.c) shows only on the first two; and a bare libcurl loop
#      (curlfloor.c) sending the same requests, for what they cost alone
#   B: N2=200 jobs (50 variants x 4 variations), four 1 MB references
#      each, J2=32 in flight, L=1 s
#   C: N3=200 jobs, J3=32 in flight, L=1 s, answers as large as real ones:
#      a 700x700 image of random pixels (1.47 MB of PNG, 1.96 MB of
#      base64), where A's and B's stub answers 8x8 images
# For each client: wall time, floor/wall (the floor is the makespan of a
# perfect scheduler under the same latency distribution, simulated), CPU
# time per request (user + sys, every thread) and peak RSS.  Goals: >= 98 %
# of the floor, <= 0.25 ms CPU per request in A with the store on ext4, RSS
# flat in N and <= 128 MB in B.
# SKIP_OTHERS=1 runs bg-generate only; PARTS=A, B or C (or AC...) some;
# RUNS=N runs each row of A N times, the rows taking turns (default 3);
# BASE=REV adds to A the bg-generate of an earlier revision (git
# rev-parse REV in this repository, built in a scratch copy), on tmpfs and
# on a fresh ext4, taking its turns with the others: what the code changed
# measured on the same host in the same minutes.
N=${N:-4000} J=${J:-256} LA=${LA:-500} L=${L:-1000}
N2=${N2:-200} J2=${J2:-32}
N3=${N3:-200} J3=${J3:-32}
# one run's CPU time varies by 15 % here (a VM: system calls cost what
# the host lets them): part A runs bg-generate RUNS times per store
RUNS=${RUNS:-3}
PARTS=${PARTS:-ABC}
PY=/usr/bin/python3
export GEMINI_API_KEY=bench-key
# the real disk: where the bench was started (tests/bench/run.sh makes a
# folder under $TMPDIR or /tmp)
disk=$PWD
# stores and outputs on tmpfs when there is one: this measures the clients,
# not the disk
shm=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/bg-bench-generate.XXXXXX) && cd "$shm"
fi
stub= stuba= stubc=
trap 'kill $stub $stuba $stubc 2>/dev/null; wait $stub $stuba $stubc 2>/dev/null; [ -n "$shm" ] && rm -rf "$shm"
	mountpoint -q "$disk/img" 2>/dev/null && umount "$disk/img"' EXIT
echo "working in $PWD"

# small.png for A; refs/ (200 MB) is made when B starts: writing it must
# not weigh on A's runs
$PY - <<'EOF'
import struct, zlib
ch = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = (b"\x89PNG\r\n\x1a\n" + ch(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
	+ ch(b"IDAT", zlib.compress(b"".join(b"\0" + b"\x80" * 24 for _ in range(8)), 0)) + ch(b"IEND", b""))
open("small.png", "wb").write(png)
EOF

mkjobs_a() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"job_id\":\"a%d\",\"batch_id\":\"bench\",\"variation\":1,\"provider\":\"gemini\",\"model\":\"gemini-3.1-flash-image\",\"prompt\":\"bench photo %d\",\"input\":{\"product_images\":[\"small.png\"],\"aspect_ratio\":\"1:1\"}}\n", i, i }'; }
mkjobs_b() { awk -v n="$1" -v d="$PWD/refs" 'BEGIN { for (i = 0; i < n; i++) { v = int(i / 4); r = 4 * (v % 50)
	printf "{\"job_id\":\"b%d\",\"batch_id\":\"bench\",\"variation\":%d,\"provider\":\"gemini\",\"model\":\"gemini-3.1-flash-image\",\"prompt\":\"variant %d\",\"input\":{\"product_images\":[\"%s/r%03d.png\",\"%s/r%03d.png\",\"%s/r%03d.png\",\"%s/r%03d.png\"],\"aspect_ratio\":\"1:1\"}}\n", i, i % 4 + 1, v, d, r, d, r + 1, d, r + 2, d, r + 3 } }'; }
mkjobs_a "$N" >a.ndjson
mkjobs_a 2000 >a2k.ndjson
mkjobs_b "$N2" >b.ndjson

# floor N J [L]: the simulated makespan (s) of a perfect scheduler
floor() { $PY - "$1" "$2" "${3:-$L}" <<'EOF'
import heapq, random, sys
n, j, l = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
tot = 0
for seed in range(20):
	rng = random.Random(seed)
	h = [0.0] * min(j, n)
	for _ in range(n):
		t = heapq.heappop(h)
		heapq.heappush(h, t + rng.uniform(0.5 * l, 1.5 * l))
	tot += max(h)
print("%.3f" % (tot / 20))
EOF
}

# stub PORTFILE LATENCY [WORKERS]: a stub answering after LATENCY ms
# (uniform), in WORKERS processes (1), given the stub's options ARG...
stub() { sf=$1 sl=$2 sw=${3:-1}; shift 2; [ $# -gt 0 ] && shift; rm -f "$sf"
	$PY "$TOP/tests/stub/bg-stub.py" --port-file "$sf" --latency-ms "$sl" \
		--latency-dist uniform --image-size 8x8 --workers "$sw" "$@" 2>"$sf.err" &
	i=0; while [ ! -s "$sf" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }
stub port "$L"; stub=$!
URL=http://127.0.0.1:$(cat port)
stub porta "$LA"; stuba=$!
URLA=http://127.0.0.1:$(cat porta)
export BG_GEMINI_BASE_URL=$URL

# report NAME REQUESTS FLOOR TIMEFILE: one result line (and the stub's CPU
# time during the run: near the wall time, the stub was the bottleneck)
report() { read -r wall usr sys rss <"$4"
	awk -v name="$1" -v n="$2" -v f="$3" -v w="$wall" -v u="$usr" -v s="$sys" -v r="$rss" -v sc="$stubcpu" 'BEGIN {
	printf "  %-30s wall %7.2f s  floor/wall %5.1f %%  cpu/request %6.3f ms  peak RSS %6.1f MB  (stub cpu %.1f s)\n",
	    name, w, 100 * f / w, 1000 * (u + s) / n, r / 1024, sc }'; }
ticks() { for p in ${tstub:-$stub} $(pgrep -P "${tstub:-$stub}"); do
	awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ t += $1 } END { print t + 0 }'; }
tm() { out=$1; shift; t0=$(ticks); /usr/bin/time -f '%e %U %S %M' -o "$out" "$@"
	stubcpu=$(awk -v a="$t0" -v b="$(ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }'); }

# the Python aiohttp client: same requests, answers decoded and stored
cat >aio.py <<'EOF'
import asyncio, base64, hashlib, json, os, sys
import aiohttp
url, jobs, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = os.environ["GEMINI_API_KEY"]
os.makedirs("aio-out", exist_ok=True)
b64 = {}
def enc(p):
	if p not in b64:
		b64[p] = base64.b64encode(open(p, "rb").read()).decode()
	return b64[p]
async def one(s, sem, job):
	async with sem:
		parts = [{"text": job["prompt"]}] + [{"inline_data": {"mime_type": "image/png", "data": enc(p)}}
			for p in job["input"]["product_images"]]
		body = {"contents": [{"role": "user", "parts": parts}], "generationConfig": {
			"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "1:1"}}}
		u = "%s/v1beta/models/%s:generateContent" % (url, job["model"])
		async with s.post(u, json=body, headers={"x-goog-api-key": key}) as r:
			d = await r.json()
		for p in d["candidates"][0]["content"]["parts"]:
			if "inlineData" in p:
				img = base64.b64decode(p["inlineData"]["data"])
				open("aio-out/" + hashlib.sha256(img).hexdigest() + ".png", "wb").write(img)
async def main():
	sem = asyncio.Semaphore(limit)
	conn = aiohttp.TCPConnector(limit=limit)
	timeout = aiohttp.ClientTimeout(total=300)
	async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s:
		pending = set()
		for line in open(jobs):
			pending.add(asyncio.ensure_future(one(s, sem, json.loads(line))))
			if len(pending) >= 2 * limit:
				done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
				for d in done: d.result()
		for d in asyncio.as_completed(pending): await d
asyncio.run(main())
EOF

# GNU parallel + curl: a shell per job builds the body (base64 of each
# reference) and curl posts it and saves the answer
cat >one.sh <<'EOF'
#!/bin/sh
# one.sh URL OUT PROMPT IMAGE...
url=$1 out=$2 prompt=$3; shift 3
{
	printf '{"contents":[{"role":"user","parts":[{"text":"%s"}' "$prompt"
	for f; do printf ',{"inline_data":{"mime_type":"image/png","data":"'; base64 -w0 "$f"; printf '"}}'; done
	printf ']}],"generationConfig":{"responseModalities":["TEXT","IMAGE"],"imageConfig":{"aspectRatio":"1:1"}}}'
} | curl -sS -o "$out" -H "x-goog-api-key: $GEMINI_API_KEY" -H 'Content-Type: application/json' \
	-H 'Expect:' --data-binary @- "$url/v1beta/models/gemini-3.1-flash-image:generateContent"
EOF
chmod +x one.sh
cat >par.sh <<'EOF'
#!/bin/sh
# par.sh URL JOBS J: one.sh per job under GNU parallel
mkdir -p par-out
jq -r '[.job_id, .prompt] + .input.product_images | @tsv' "$2" |
parallel --will-cite -j "$3" --colsep '\t' ./one.sh "$1" par-out/{1}.json {2} {3} {4} {5} {6}
EOF
chmod +x par.sh

fa=$(floor "$N" "$J" "$LA"); fa2=$(floor 2000 "$J" "$LA"); fb=$(floor "$N2" "$J2")
case $PARTS in *A*)
tstub=$stuba
export BG_GEMINI_BASE_URL=$URLA
mkdir -p "$disk/st-a"
fs=$(findmnt -n -o FSTYPE -T "$disk/st-a" 2>/dev/null || stat -f -c %T "$disk/st-a")
# ext4 without a journal (this VM's root) looks at every recently deleted
# inode before it reuses one (fs/ext4/ialloc.c, recently_deleted): right
# after a test run or an earlier bench removed thousands of files, each new
# file costs far more (measured: 4,000 jobs into a new store right after
# removing such a store took 1.5 s of CPU, the next run 0.87 s; 45 % of
# the first in find_inode_bit).  Such an inode stops counting a minute
# after it was freed once its inode table block is written, so the bench
# syncs and waits that minute (RD_WAIT seconds) before it measures; and
# it measures a fresh ext4 as mkfs.ext4 makes it (journal on, like most
# users' disks) in an image file on the same disk.
dev=$(basename "$(findmnt -n -o SOURCE -T "$disk/st-a" 2>/dev/null)" 2>/dev/null)
[ "$fs" = ext4 ] && [ "$(cat "/sys/fs/ext4/$dev/journal_task" 2>/dev/null)" = "<none>" ] &&
	fs="ext4, no journal"
# base: BASE's bg-generate, from its own tree (git archive) built here,
# before the wait below lets the host settle
if [ -n "${BASE:-}" ]; then
	rev=$(git -C "$TOP" rev-parse --short "$BASE^{commit}") &&
	mkdir base && git -C "$TOP" archive "$rev" | tar -x -C base &&
	make -s -j"$(nproc)" -C base all >base.log 2>&1 && [ -x base/build/bin/bg-generate ] || {
		tail -n 5 base.log >&2 2>/dev/null
		echo "bench: BASE=$BASE: not a revision here, or it does not build" >&2; exit 1; }
fi
echo "A: $N jobs, $J in flight, latency uniform [0.5, 1.5] x ${LA} ms; floor ${fa} s"
if [ "$fs" = "ext4, no journal" ] && [ "${RD_WAIT:-60}" -gt 0 ]; then
	echo "  (waiting ${RD_WAIT:-60} s: ext4 without a journal passes over the inodes freed in the last minute)"
	sync; sleep "${RD_WAIT:-60}"
fi
echo "  the store on $fs ($disk) and on tmpfs ($PWD);"
echo "  each row: the run of median CPU of $RUNS, each bg-generate run into a new store,"
echo "  the rows' runs taking turns"
# ext4img: a new ext4 as mkfs.ext4 makes it on $disk/img (root only)
ext4img() { mountpoint -q "$disk/img" && umount "$disk/img"
	[ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && mkdir -p "$disk/img" &&
	truncate -s 1G "$disk/ext4.img" && mkfs.ext4 -q -F "$disk/ext4.img" &&
	mount -o loop "$disk/ext4.img" "$disk/img" 2>/dev/null; }
# one ROW I: run I of ROW into a new store (removing one would make the
# next run's new files slower on ext4 without a journal): r the store on
# the disk, e on a fresh ext4, t on tmpfs, c the bare libcurl loop
# (tests/bench/curlfloor.c) sending the same requests and doing nothing
# with them: what any libcurl client spends, bg-generate's CPU beyond it
# is its own work; E and T are e and t for BASE's bg-generate
one() { case $1 in [A-Z]) bg=base/build/bin/bg-generate;; *) bg=bg-generate;; esac
	case $1 in
	r) tm t.r$2 bg-generate -j "$J" --root "$disk/st-a$2" a.ndjson >out-r$2 ;;
	e|E) ext4img && tm t.$1$2 "$bg" -j "$J" --root "$disk/img/st-a" \
		a.ndjson >out-$1$2 && umount "$disk/img" ;;
	t|T) tm t.$1$2 "$bg" -j "$J" --root "st-$1$2" a.ndjson >out-$1$2 ;;
	c) tm t.c$2 ./curlfloor "$URLA/v1beta/models/gemini-3.1-flash-image:generateContent" \
		body-a.json "$N" "$J" ;;
	esac; }
# row ROW NAME: the run of median CPU, and every run's CPU per request
# medrun ROW: runs.cpu (CPU seconds and run number, cheapest first) and
# the number of ROW's run of median CPU
medrun() { i=1; while [ $i -le "$RUNS" ]; do
		echo "$(awk '{ print $2 + $3 }' t.$1$i) $i"; i=$((i + 1)); done |
		sort -n >runs.cpu
	awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2 }' runs.cpu; }
row() { m=$(medrun "$1")
	report "$2" "$N" "$fa" t.$1$m
	echo "    cpu/request of each run: $(sort -k2 -n runs.cpu | awk -v n="$N" '{ printf "%s%.3f", (NR > 1 ? ", " : ""), 1000 * $1 / n }') ms;" \
		"$(jq -r .status out-$1$m 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
}
rows=r
if ext4img; then
	rows="$rows e"
	umount "$disk/img"
else
	echo "  (a fresh ext4 needs root, mkfs.ext4 and a loop device: skipped)"
fi
rows="$rows t"
if cc -O2 -o curlfloor "$TOP/tests/bench/curlfloor.c" -lcurl; then
	printf '{"contents":[{"role":"user","parts":[{"text":"bench photo 1"},{"inline_data":{"mime_type":"image/png","data":"%s"}}]}],"generationConfig":{"responseModalities":["TEXT","IMAGE"],"imageConfig":{"aspectRatio":"1:1"}}}' \
		"$(base64 -w0 small.png)" >body-a.json
	rows="$rows c"
fi
if [ -n "${BASE:-}" ]; then
	case " $rows " in *" e "*) rows="$rows E";; esac
	rows="$rows T"
fi
# the rows' runs take turns (r e t c r e t c ...): a busy minute on the
# host, or a stub that has aged, weighs on every row alike
i=1; while [ $i -le "$RUNS" ]; do
	for r in $rows; do one $r $i; done
	i=$((i + 1))
done
rm -f "$disk/ext4.img"
for r in $rows; do case $r in
	r) row r "bg-generate ($fs)" ;;
	e) row e "bg-generate (ext4, fresh)" ;;
	t) row t "bg-generate (tmpfs)" ;;
	c) row c "libcurl alone (no work)" ;;
	E) row E "$rev (ext4, fresh)" ;;
	T) row T "$rev (tmpfs)" ;;
esac; done
# what the rows say together, each from its median run: what the disk
# adds to tmpfs (the cost of durability), and bg-generate's CPU against
# the bare libcurl loop's (a busy host raises both alike)
med() { awk -v n="$N" '{ print 1000 * ($2 + $3) / n }' t.$1$(medrun "$1"); }
mt=$(med t)
for r in $rows; do case $r in r|e)
	m=$(med $r); [ $r = r ] && name=$fs || name="ext4, fresh"
	awk -v a="$m" -v t="$mt" -v n="$name" 'BEGIN { printf "  the disk'"'"'s cost (%s) over tmpfs: %+.3f ms a request\n", n, a - t }' ;;
esac; done
case " $rows " in *" c "*)
	awk -v t="$mt" -v c="$(med c)" 'BEGIN { printf "  bg-generate (tmpfs) / libcurl alone: %.2fx the CPU\n", t / c }' ;;
esac
# ratio NAME ROW BASEROW: this revision's CPU as a multiple of BASE's
ratio() { awk -v a="$(med "$2")" -v b="$(med "$3")" -v n="$1" -v r="$rev" \
	'BEGIN { printf "  bg-generate / %s, %s: %.2fx the CPU\n", r, n, a / b }'; }
case " $rows " in *" E "*) ratio "ext4, fresh" e E ;; esac
case " $rows " in *" T "*) ratio tmpfs t T ;; esac
tm t.bg2 bg-generate -j "$J" --root st-a2 a2k.ndjson >/dev/null
report "bg-generate (2000 jobs, tmpfs)" 2000 "$fa2" t.bg2
tm t.bgc bg-generate -j "$J" --root "$disk/st-a1" a.ndjson >/dev/null
awk -v fs="$fs" '{ printf "  bg-generate re-run (all cached, %s): %.2f s\n", fs, $1 }' t.bgc
if [ -z "${SKIP_OTHERS:-}" ]; then
	tm t.aio $PY aio.py "$URLA" a.ndjson "$J"
	report "python aiohttp (tmpfs)" "$N" "$fa" t.aio
	# a shell and a curl per job: 4,000 of them took 260 s, 2,000 say
	# the same (beside bg-generate's 2,000-job row) in half the time
	tm t.par ./par.sh "$URLA" a2k.ndjson "$J"
	report "GNU parallel+curl (2000 jobs)" 2000 "$fa2" t.par
fi
tstub=
export BG_GEMINI_BASE_URL=$URL;;
esac

# fresh_stub: a new stub for the next client of B, warmed up.  A stub's
# first 5 MB bodies cost it page faults its later ones do not (its sys
# time was 2-3 times higher): whichever client ran first on it lost ~1 s.
# So each client gets a new stub that has already served 32 such requests
# (from GNU parallel + curl, untimed), as a provider's server has.
# The stub reads each 5 MB body as JSON and decodes its images, as the
# API does: 30-50 ms of Python a request, a core or more at 32 requests a
# second, so one stub process was the bottleneck of B and of every client
# alike.  It answers in BW processes (default 2) sharing the port.
BW=${BW:-2}
head -32 b.ndjson >warm.ndjson
fresh_stub() { kill $stub 2>/dev/null; wait $stub 2>/dev/null
	stub port "$L" "$BW"; stub=$!; URL=http://127.0.0.1:$(cat port)
	export BG_GEMINI_BASE_URL=$URL
	./par.sh "$URL" warm.ndjson 32 >/dev/null 2>&1; }
case $PARTS in *B*)
$PY - <<'EOF'
import struct, zlib, os
ch = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
os.makedirs("refs", exist_ok=True)
# 1 MB each: random pixels stored uncompressed (~577 x 577 RGB)
side = 577
for i in range(200):
	raw = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))
	open("refs/r%03d.png" % i, "wb").write(b"\x89PNG\r\n\x1a\n"
		+ ch(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
		+ ch(b"IDAT", zlib.compress(raw, 0)) + ch(b"IEND", b""))
EOF
echo "B: $N2 jobs (4 variations x 50 variants), four 1 MB references each, $J2 in flight; floor ${fb} s; stub in $BW processes"
fresh_stub
tm t.bgb bg-generate -j "$J2" --root st-b b.ndjson >out-b
report bg-generate "$N2" "$fb" t.bgb
echo "  ($(jq -r .status out-b | sort | uniq -c | tr -s ' ' | tr '\n' ' '))"
if [ -z "${SKIP_OTHERS:-}" ]; then
	fresh_stub
	tm t.aiob $PY aio.py "$URL" b.ndjson "$J2"
	report "python aiohttp" "$N2" "$fb" t.aiob
	awk -v a="$(cut -d' ' -f1 t.bgb)" -v b="$(cut -d' ' -f1 t.aiob)" \
		'BEGIN { printf "  bg-generate / python aiohttp: %.2fx the wall time\n", a / b }'
	fresh_stub
	tm t.parb ./par.sh "$URL" b.ndjson "$J2"
	report "GNU parallel + curl" "$N2" "$fb" t.parb
fi;;
esac

# C: answers as large as real ones.  A real answer carries its image as
# 1.5-2 MB of base64, which the client must read, parse, decode, hash and
# store: the work A's 8x8 images leave out.  The stub draws the pixels
# once, but each answer's JSON and sending still cost it about 25 ms of
# Python, so it answers in two processes.
case $PARTS in *C*)
head -n "$N3" a.ndjson >c.ndjson
fc=$(floor "$N3" "$J3")
stub portc "$L" 2 --image-size 700x700 --image-noise; stubc=$!
tstub=$stubc
URLC=http://127.0.0.1:$(cat portc)
echo "C: $N3 jobs, $J3 in flight, latency uniform [0.5, 1.5] x ${L} ms, answers of 1.96 MB (a 700x700 image of random pixels); floor ${fc} s"
BG_GEMINI_BASE_URL=$URLC tm t.bgc3 bg-generate -j "$J3" --root st-c c.ndjson >out-c
report "bg-generate (tmpfs)" "$N3" "$fc" t.bgc3
echo "  ($(jq -r .status out-c | sort | uniq -c | tr -s ' ' | tr '\n' ' '))"
BG_GEMINI_BASE_URL=$URLC tm t.bgc3d bg-generate -j "$J3" --root "$disk/st-c" c.ndjson >/dev/null
report "bg-generate (the disk)" "$N3" "$fc" t.bgc3d
if [ -z "${SKIP_OTHERS:-}" ]; then
	rm -rf aio-out
	tm t.aioc $PY aio.py "$URLC" c.ndjson "$J3"
	report "python aiohttp (tmpfs)" "$N3" "$fc" t.aioc
	awk -v a="$(cat t.bgc3)" -v b="$(cat t.aioc)" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "  bg-generate / python aiohttp (tmpfs): %.2fx the CPU, %.2fx the wall time\n",
		    (x[2] + x[3]) / (y[2] + y[3]), x[1] / y[1] }'
fi
tstub=;;
esac
echo "  (peak RSS of GNU parallel + curl is its largest single process)"
