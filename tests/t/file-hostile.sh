# bg-file: names are data, not paths.  Hostile targets, object paths, ids
# and symbolic links never make it write outside the store; a folder it
# cannot write gives file_failed records, not a crash.
. "$TOP/tests/lib.sh"
. "$TOP/tests/t/file-lib.inc"
export BG_ROOT="$T/store"
R=$BG_ROOT
mkdir -p "$T/outside"
echo secret >"$T/outside/secret.png"
snapshot "$T/outside" >outside.before

mkresults "$R" 1 >one.ndjson
rec=$(cat one.ndjson)
hostile() {	# hostile JQ-EDIT: one record with the edit applied
	printf '%s\n' "$rec" | jq -c "$1"
}
ln -s "$T/outside" "$R/variants-link"
mkdir -p "$R/variants" "$R/objects/zz"
ln -s "$T/outside" "$R/variants/evil"
ln -s "$T/outside/secret.png" "$R/objects/zz/link.png"
{
	hostile '.targets.variant_folder = "variants/../../outside"'
	hostile '.targets.variant_folder = "'"$T"'/outside"'
	hostile '.targets.variant_folder = "batches/b"'
	hostile '.targets.batch_folder = "batches/x/../../.."'
	hostile '.targets.batch_folder = "batches/.hidden"'
	hostile '.targets.variant_folder = "variants/a\nb"'
	hostile '.targets.variant_folder = "variants/-rf"'
	hostile '.targets.variant_folder = "variants-link/x"'
	hostile '.targets.variant_folder = "variants/evil/x"'
	hostile 'del(.targets)'
	hostile '.targets.batch_folder = 7'
	hostile '.outputs[0].path = "objects/../../outside/secret.png"'
	hostile '.outputs[0].path = "'"$T"'/outside/secret.png"'
	hostile '.outputs[0].path = "objects/zz/link.png"'
	hostile '.outputs[0].sha256 = "../../x"'
	hostile '.outputs = []'
	hostile '.outputs = ["objects/x"]'
} >hostile.ndjson
n=$(wc -l <hostile.ndjson)
bg-file hostile.ndjson >h.out 2>h.err; rc=$?
is "hostile records: exit 0 (failures are data)" "$rc" 0
is "hostile records: one record each" "$(wc -l <h.out)" "$n"
is "hostile records: every one file_failed" \
    "$(jq -c '[.status, .error.stage, .error.code]' h.out | sort | uniq -c | tr -s ' ')" \
    " $n [\"failed\",\"file\",\"file_failed\"]"
is "hostile records: a diagnostic each" "$(wc -l <h.err)" "$n"
snapshot "$T/outside" >outside.after
check "nothing written outside the store" cmp -s outside.before outside.after
is "nothing filed" "$(find "$R" -name '*.json' -o -name '*.ndjson' | wc -l)" 0

# hostile ids with safe folders: the file name is sanitised
printf '%s\n' "$rec" | jq -c '.variant_id = "../../x\n-y" | .variation = "../2"' >ids.ndjson
printf '%s\n' "$rec" | jq -c '.variant_id = "-rf" | .variation = 1' >>ids.ndjson
printf '%s\n' "$rec" | jq -c --arg v "$(printf 'v%.0s' $(seq 300))" '.variant_id = $v' >>ids.ndjson
bg-file ids.ndjson >ids.out
is "hostile ids: filed" "$(jq -r .status ids.out | sort -u)" succeeded
bad=0
for p in $(jq -r '.filed.variant, .filed.batch' ids.out); do
	b=${p##*/}
	case $b in -*|.*) bad=1;; esac
	[ ${#b} -le 128 ] || bad=1
	[ -f "$R/$p" ] || bad=1
	case $p in variants/v1/spring-studio-b1/*|batches/spring-studio-b1/*) ;; *) bad=1;; esac
done
is "hostile ids: names stay in their folder, bounded, no leading - or ." "$bad" 0
is "hostile ids: no newline in any name" "$(find "$R" -name '*
*' | wc -l)" 0

# a symbolic link where an image name should go is another file
sha=$(jq -r '.outputs[0].sha256' one.ndjson)
mkdir -p "$R/batches/spring-studio-b1"
mkresults "$R" 1 batch=b9 >b9.ndjson
sha9=$(jq -r '.outputs[0].sha256' b9.ndjson)
mkdir -p "$R/batches/spring-studio-b9"
ln -s "$T/outside/secret.png" "$R/batches/spring-studio-b9/v1-1-$(echo "$sha9" | cut -c1-6).png"
bg-file b9.ndjson >b9.out
is "symlink at the name: a longer name instead" "$(jq -r .filed.batch b9.out)" \
    "batches/spring-studio-b9/v1-1-$(echo "$sha9" | cut -c1-12).png"
is "symlink at the name: its target untouched" "$(cat "$T/outside/secret.png")" secret

# a folder that cannot be written: a regular file where a folder should be
mkresults "$R" 2 batch=ro >ro.ndjson
mkdir -p "$R/batches"
echo x >"$R/batches/spring-studio-ro"
bg-file ro.ndjson >ro.out 2>ro.err; rc=$?
is "unwritable folder: exit 0" "$rc" 0
is "unwritable folder: file_failed records" "$(jq -c '[.status, .error.code, .error.retryable]' ro.out | sort -u)" \
    '["failed","file_failed",false]'
check "unwritable folder: the reason is given" grep -q 'batches/spring-studio-ro: Not a directory' ro.err
rm "$R/batches/spring-studio-ro"
bg-file ro.out >ro2.out
is "after the fix, the failed records are filed" "$(jq -r .status ro2.out | sort -u)" succeeded
# history.ndjson that cannot be appended to
mkresults "$R" 1 batch=hi >hi.ndjson
mv "$R/history.ndjson" "$R/history.keep"; mkdir "$R/history.ndjson"
bg-file hi.ndjson >hi.out 2>/dev/null; rc=$?
is "unwritable history: file_failed, exit 0" "$(jq -r .error.code hi.out) $rc" "file_failed 0"
rmdir "$R/history.ndjson"; mv "$R/history.keep" "$R/history.ndjson"

# really read-only: an unprivileged user and a store it may not write
if id nobody >/dev/null 2>&1; then
	U=$(mktemp -d /tmp/bg-ro.XXXXXX)
	chmod 755 "$U"
	mkresults "$U/store" 2 batch=nb >nb.ndjson
	# a copy of bg-file nobody can reach (the checkout may be under /root)
	cp "$(command -v bg-file)" "$TOP/tests/lsan.supp" "$U/"
	chmod -R a+rX "$U"
	runuser -u nobody -- env ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
	    LSAN_OPTIONS="$(echo "${LSAN_OPTIONS:-}" | sed "s#=[^:]*lsan.supp#=$U/lsan.supp#")" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	    "$U/bg-file" --root "$U/store" <nb.ndjson >nb.out 2>nb.err; rc=$?
	is "read-only store (user nobody): exit 0" "$rc" 0
	is "read-only store: file_failed records" "$(jq -r .error.code nb.out | sort | uniq -c | tr -s ' ')" " 2 file_failed"
	check "read-only store: permission denied" grep -q 'Permission denied' nb.err
	is "read-only store: unchanged" "$(find "$U/store" -newer nb.ndjson | wc -l)" 0
	rm -rf "$U"
else
	flunk "no user nobody for the read-only test"
fi
done_testing
