#!/bin/sh
# tests/stub/selftest_batch.sh: the Batch APIs of bg-stub.py
# (tests/stub/stub_batch.py) spoken with curl(1): the Gemini resumable
# upload, create, poll, download and per-line keys; the OpenAI files,
# batches, output and error files.  Prints "ok - ..." / "not ok - ..."
# lines, then "N passed, N failed"; exits 0 when all passed.
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
KEY=selftest-key
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bg-stub-batch.XXXXXX") || exit 1
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
npass=0 nfail=0
pass() { echo "ok - $*"; npass=$((npass + 1)); }
flunk() { echo "not ok - $*"; nfail=$((nfail + 1)); }
is() { if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1: got '$2', want '$3'"; fi; }
hdr() { tr -d '\r' <"$1" | awk -v h="$2" 'tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print }'; }

"$PY" "$here/bg-stub.py" --port-file "$tmp/port" --log "$tmp/log" 2>"$tmp/err" &
pid=$!
i=0; while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
B=http://127.0.0.1:$(cat "$tmp/port")
G="-H x-goog-api-key:$KEY"

# ---- Gemini: resumable upload of a two-line JSONL file ----
printf '%s\n%s\n' \
	'{"key":"k1","request":{"contents":[{"parts":[{"text":"a cat"}]}]}}' \
	'{"key":"k2","request":{"contents":[{"parts":[{"text":"no [[fault:400]]"}]}]}}' >"$tmp/in.jsonl"
n=$(wc -c <"$tmp/in.jsonl" | tr -d ' ')
curl -s -D "$tmp/h1" -o /dev/null $G -H 'X-Goog-Upload-Protocol: resumable' \
	-H 'X-Goog-Upload-Command: start' -H "X-Goog-Upload-Header-Content-Length: $n" \
	-H 'X-Goog-Upload-Header-Content-Type: application/jsonl' \
	-H 'Content-Type: application/json' -d '{"file":{"display_name":"t"}}' "$B/upload/v1beta/files"
url=$(hdr "$tmp/h1" x-goog-upload-url)
is "upload start: an upload URL, status active" "$(echo "$url" | grep -c upload_id) $(hdr "$tmp/h1" x-goog-upload-status)" "1 active"
curl -s -o "$tmp/bad" -w '%{http_code}' -H 'X-Goog-Upload-Command: upload, finalize' \
	-H 'X-Goog-Upload-Offset: 5' --data-binary @"$tmp/in.jsonl" "$url" >"$tmp/code"
is "a wrong offset is refused" "$(cat "$tmp/code")" 400
curl -s -D "$tmp/h2" -o "$tmp/file" -H 'X-Goog-Upload-Command: upload, finalize' \
	-H 'X-Goog-Upload-Offset: 0' --data-binary @"$tmp/in.jsonl" "$url"
is "finalize: status final" "$(hdr "$tmp/h2" x-goog-upload-status)" final
fname=$(jq -r .file.name "$tmp/file")
is "the file's size and hash" "$(jq -r '.file.sizeBytes' "$tmp/file") $(jq -r .file.sha256Hash "$tmp/file")" \
	"$n $(sha256sum <"$tmp/in.jsonl" | cut -d' ' -f1)"

# ---- Gemini: create, poll, download ----
curl -s -o "$tmp/op" $G -H 'Content-Type: application/json' \
	-d "{\"batch\":{\"display_name\":\"t\",\"input_config\":{\"file_name\":\"$fname\"}}}" \
	"$B/v1beta/models/gemini-3.1-flash-image:batchGenerateContent"
name=$(jq -r .name "$tmp/op")
is "create: a batches/ name, pending" "$(echo "$name" | cut -c1-8) $(jq -r .metadata.state "$tmp/op")" "batches/ BATCH_STATE_PENDING"
curl -s -o "$tmp/p1" $G "$B/v1beta/$name"
curl -s -o "$tmp/p2" $G "$B/v1beta/$name"
is "poll: running, then succeeded" "$(jq -r .metadata.state "$tmp/p1") $(jq -r .metadata.state "$tmp/p2")" \
	"BATCH_STATE_RUNNING BATCH_STATE_SUCCEEDED"
is "poll: stats and responses file" "$(jq -c '[.done,.metadata.batchStats.requestCount,(.response.responsesFile|startswith("files/"))]' "$tmp/p2")" '[true,"2",true]'
curl -s -o "$tmp/out.jsonl" $G "$B/download/v1beta/$(jq -r .response.responsesFile "$tmp/p2"):download?alt=media"
is "responses: one line per key" "$(jq -r .key "$tmp/out.jsonl" | sort | tr '\n' ' ')" "k1 k2 "
is "responses: an image, and a gRPC error" \
	"$(jq -r 'select(.key=="k1") | .response.candidates[0].content.parts[-1].inlineData.mimeType' "$tmp/out.jsonl") $(jq -c 'select(.key=="k2") | [.error.code,.error.status]' "$tmp/out.jsonl")" \
	'image/png [3,"INVALID_ARGUMENT"]'
is "no key: 403" "$(curl -s -o /dev/null -w '%{http_code}' "$B/v1beta/$name")" 403

# ---- OpenAI: files, batches, output and error files ----
printf '%s\n%s\n' \
	'{"custom_id":"c1","method":"POST","url":"/v1/images/generations","body":{"model":"gpt-image-1.5","prompt":"a dog"}}' \
	'{"custom_id":"c2","method":"POST","url":"/v1/images/generations","body":{"model":"gpt-image-1.5","prompt":"x [[fault:blocked]]"}}' >"$tmp/o.jsonl"
curl -s -o "$tmp/of" -H "Authorization: Bearer sk-$KEY" -F purpose=batch -F "file=@$tmp/o.jsonl" "$B/v1/files"
fid=$(jq -r .id "$tmp/of")
is "files: an id, purpose batch" "$(echo "$fid" | cut -c1-5) $(jq -r .purpose "$tmp/of")" "file- batch"
curl -s -o "$tmp/ob" -H "Authorization: Bearer sk-$KEY" -H 'Content-Type: application/json' \
	-d "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/images/generations\",\"completion_window\":\"24h\"}" "$B/v1/batches"
bid=$(jq -r .id "$tmp/ob")
is "batches: validating" "$(jq -r .status "$tmp/ob")" validating
curl -s -o /dev/null -H "Authorization: Bearer sk-$KEY" "$B/v1/batches/$bid"
curl -s -o "$tmp/ob2" -H "Authorization: Bearer sk-$KEY" "$B/v1/batches/$bid"
is "batches: completed, counts" "$(jq -c '[.status,.request_counts]' "$tmp/ob2")" '["completed",{"total":2,"completed":1,"failed":1}]'
curl -s -o "$tmp/oo" -H "Authorization: Bearer sk-$KEY" "$B/v1/files/$(jq -r .output_file_id "$tmp/ob2")/content"
curl -s -o "$tmp/oe" -H "Authorization: Bearer sk-$KEY" "$B/v1/files/$(jq -r .error_file_id "$tmp/ob2")/content"
is "output file: c1 with an image" "$(jq -r '[.custom_id,.response.status_code,(.response.body.data[0].b64_json|length > 100)] | join(" ")' "$tmp/oo")" "c1 200 true"
is "error file: c2 moderation_blocked" "$(jq -r '[.custom_id,.response.status_code,.response.body.error.code] | join(" ")' "$tmp/oe")" "c2 400 moderation_blocked"

# ---- the lists, paged (two batches of each provider, one per page) ----
curl -s -o /dev/null $G -H 'Content-Type: application/json' \
	-d "{\"batch\":{\"display_name\":\"t2\",\"input_config\":{\"file_name\":\"$fname\"}}}" \
	"$B/v1beta/models/gemini-3.1-flash-image:batchGenerateContent"
curl -s -o /dev/null -H "Authorization: Bearer sk-$KEY" -H 'Content-Type: application/json' \
	-d "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/images/generations\",\"completion_window\":\"24h\",\"metadata\":{\"k\":\"v\"}}" "$B/v1/batches"
curl -s -o /dev/null -X POST -d '{"page_max":1}' "$B/_stub/batch"
curl -s -o "$tmp/gl1" $G "$B/v1beta/batches?pageSize=10"
curl -s -o "$tmp/gl2" $G "$B/v1beta/batches?pageSize=10&pageToken=$(jq -r .nextPageToken "$tmp/gl1")"
is "gemini list: newest first, one per page, then no token" \
	"$(jq -r '.operations[0].metadata.displayName' "$tmp/gl1") $(jq -r '[.operations[0].name == "'"$name"'", .nextPageToken // "none"] | join(" ")' "$tmp/gl2")" "t2 true none"
curl -s -o "$tmp/ol1" -H "Authorization: Bearer sk-$KEY" "$B/v1/batches?limit=5"
curl -s -o "$tmp/ol2" -H "Authorization: Bearer sk-$KEY" "$B/v1/batches?limit=5&after=$(jq -r .last_id "$tmp/ol1")"
is "openai list: newest first with metadata, has_more, after=" \
	"$(jq -c '[.object,.data[0].metadata,.has_more]' "$tmp/ol1") $(jq -c '[.data[0].id == "'"$bid"'",.has_more]' "$tmp/ol2")" \
	'["list",{"k":"v"},true] [true,false]'
is "openai list: limit 0 refused" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-$KEY" "$B/v1/batches?limit=0")" 400
is "log: every batch request has its op" "$(jq -r 'select(.batch_op) | .batch_op' "$tmp/log" | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 4 create, 3 download, 5 list, 5 poll, 3 upload, 1 upload-start,"
kill -TERM "$pid"; wait "$pid"; pid=
is "nothing on stderr" "$(cat "$tmp/err")" ""
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
