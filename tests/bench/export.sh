# bg-export: exports per second and peak memory for N1 generated 1024²
# PNGs (product at 60 %: every copy is reframed) and N4 4096² JPEGs, one
# amazon-main copy each; then the same records again (every copy reused).
# Memory should be a few images, not the batch: the 1024² run is done at
# N1/10 and N1 images and the peak RSS of both is printed.
N1=${N1:-1000}
N4=${N4:-100}
export BG_ROOT="$PWD/store"
t() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / (s > 0 ? s : 0.001) }'; }

# base SIZE PCT FMT OUT: a textured product on white, made with libvips
base() {
	p=$(($1 * $2 / 100)) o=$((($1 - $1 * $2 / 100) / 2))
	vips gaussnoise n.v "$p" "$p" --mean 110 --sigma 30 &&
	vips bandjoin "n.v n.v n.v" n3.v && vips cast n3.v n8.v uchar &&
	vips embed n8.v "$4" "$o" "$o" "$1" "$1" --extend white
}
# results N BASE BATCH: N distinct images (a unique PNG tEXt chunk or JPEG
# comment), stored in objects/, as succeeded result records
results() {
	python3 - "$@" <<'PY'
import sys, os, zlib, struct, hashlib, json
n, base, batch = int(sys.argv[1]), sys.argv[2], sys.argv[3]
b = open(base, 'rb').read()
root = os.environ['BG_ROOT']
for i in range(n):
    tag = ('bench %s %d' % (batch, i)).encode()
    if b[:4] == b'\x89PNG':
        d = b'tEXt' + b'Comment\0' + tag
        img = b[:33] + struct.pack('>I', len(d) - 4) + d + struct.pack('>I', zlib.crc32(d)) + b[33:]
        ext = 'png'
    else:
        img = b[:2] + b'\xff\xfe' + struct.pack('>H', len(tag) + 2) + tag + b[2:]
        ext = 'jpg'
    h = hashlib.sha256(img).hexdigest()
    os.makedirs(os.path.join(root, 'objects', h[:2]), exist_ok=True)
    rel = 'objects/%s/%s.%s' % (h[:2], h, ext)
    open(os.path.join(root, rel), 'wb').write(img)
    print(json.dumps({'batch_id': batch, 'job_id': '%s-v%d-1' % (batch, i),
        'variant_id': 'v%d' % i, 'variation': 1, 'provider': 'gemini',
        'model': 'gemini-3.1-flash-image', 'status': 'succeeded',
        'targets': {'batch_folder': 'batches/' + batch},
        'outputs': [{'path': rel, 'sha256': h, 'mime': 'image/' + ext}]}))
PY
}
base 1024 60 png b1024.png && base 4096 70 jpg b4096.jpg || exit 1
results "$((N1 / 10))" b1024.png small >small.ndjson
results "$N1" b1024.png b1 >r1024.ndjson
results "$N4" b4096.jpg b4 >r4096.ndjson
echo "inputs: 1024² PNG $(wc -c <b1024.png) bytes, 4096² JPEG $(wc -c <b4096.jpg) bytes"

set -- $(t bg-export -p amazon-main small.ndjson)
echo "1024² x $((N1 / 10)): ${1}s, $(rate $((N1 / 10)) "$1") exports/s (peak RSS ${2} KB)"
set -- $(t bg-export -p amazon-main r1024.ndjson)
echo "1024² x $N1: ${1}s, $(rate "$N1" "$1") exports/s (peak RSS ${2} KB)"
set -- $(t bg-export -p amazon-main r4096.ndjson)
echo "4096² x $N4: ${1}s, $(rate "$N4" "$1") exports/s (peak RSS ${2} KB)"
set -- $(t bg-export -p amazon-main r1024.ndjson)
echo "1024² x $N1 again (copies reused): ${1}s, $(rate "$N1" "$1") records/s (peak RSS ${2} KB)"
n=$(find "$BG_ROOT/exports" -name '*.jpg' | wc -l)
want=$((N1 / 10 + N1 + N4))
[ "$n" -eq "$want" ] && echo "copies: $n, as expected" || { echo "copies: $n, want $want"; exit 1; }
bg-export -p amazon-main r1024.ndjson 2>/dev/null | jq -r '.exports[0].verdict' | sort | uniq -c | sed 's/^ */verdicts: /'
