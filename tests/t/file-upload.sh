# bg-file --upload: the uploads library accepts real PNG/JPEG/WebP images
# (checked with libvips), refuses anything else, and is idempotent.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT

mkpng model-shot.png 20 10 1
vips copy model-shot.png shot.jpg
vips copy model-shot.png shot.webp
bg-file --upload --kind lifestyle model-shot.png shot.jpg shot.webp >up.out 2>up.err; rc=$?
is "three images: exit 0" "$rc" 0
is "no diagnostics" "$(cat up.err)" ""
is "one record each" "$(wc -l <up.out)" 3
is "record keys" "$(jq -c keys_unsorted up.out | sort -u)" \
    '["id","url","path","name","kind","mime","width","height","sha256","created_at"]'
is "names, kinds, types, sizes" "$(jq -r '[.name, .kind, .mime, .width, .height] | @tsv' up.out | tr '\t\n' ' |')" \
    "model-shot.png lifestyle image/png 20 10|shot.jpg lifestyle image/jpeg 20 10|shot.webp lifestyle image/webp 20 10|"
sha=$(sha256sum model-shot.png | cut -c1-64)
is "id is u + 12 hex of the sha256" "$(jq -r .id up.out | head -n 1)" "u$(echo "$sha" | cut -c1-12)"
is "stored as an object" "$(jq -r .path up.out | head -n 1)" "objects/$(echo "$sha" | cut -c1-2)/$sha.png"
url=$(jq -r .url up.out | head -n 1)
is "url is the object's absolute path" "$url" "$(cd "$R" && pwd)/objects/$(echo "$sha" | cut -c1-2)/$sha.png"
check "url holds the bytes" cmp -s "$url" model-shot.png
is "library: a line each, as printed" "$(cat "$R/uploads.ndjson")" "$(cat up.out)"

# the same bytes again, under another name: the same upload
cp model-shot.png again.png
bg-file --upload again.png >again.out; rc=$?
is "re-upload: exit 0" "$rc" 0
is "re-upload: the first record" "$(cat again.out)" "$(head -n 1 up.out)"
is "re-upload: nothing appended" "$(wc -l <"$R/uploads.ndjson")" 3

# not images: a text file named .png, a PNG header with nothing after it
echo "hello, not an image" >fake.png
printf '\211PNG\r\n\032\n' >trunc.png
mkpng ok.png 5 5 2
bg-file --upload fake.png trunc.png missing.png ok.png >bad.out 2>bad.err; rc=$?
is "refused files: exit 1" "$rc" 1
is "refused files: a record each, in order" "$(jq -r '.status // .kind' bad.out | tr '\n' ' ')" "failed failed failed reference "
is "refused files: codes" "$(jq -r '.error.code // "-"' bad.out | tr '\n' ' ')" \
    "unsupported_image unsupported_image file_failed - "
check "text file: the reason" grep -q 'fake.png: not a PNG, JPEG or WebP image' bad.err
check "truncated PNG: the reason" grep -q 'trunc.png: not a readable png image' bad.err
is "refused files: not in the library" "$(jq -r .name "$R/uploads.ndjson" | tr '\n' ' ')" \
    "model-shot.png shot.jpg shot.webp ok.png "
is "refused files: not stored" "$(find "$R/objects" -type f | wc -l)" 4

# a hostile file name is only data
h=$(printf 'evil\001\n name.png')
mkpng "$h" 6 6 3
bg-file --upload "$h" >h.out
is "control characters in a name: replaced" "$(jq -r .name h.out)" "evil__ name.png"

bg-file --upload </dev/null >/dev/null 2>&1; is "--upload without images: exit 2" "$?" 2
bg-file --upload --kind '../x' ok.png >/dev/null 2>&1; is "bad --kind: exit 2" "$?" 2
done_testing
