# bg-generate --check and --list-models against the loopback stub: one
# GET per provider, exit 0 and a line when usable, exit 2 naming the
# model (or the key) when not.
. "$TOP/tests/lib.sh"
start_stub
export BG_GEMINI_BASE_URL=$STUB BG_OPENAI_BASE_URL=$STUB BG_REPLICATE_BASE_URL=$STUB \
	GEMINI_API_KEY=k OPENAI_API_KEY=k REPLICATE_API_TOKEN=k BG_TODAY=2026-11-29
unset GOOGLE_API_KEY
n0() { n0=$(wc -l <"$T/stub.log"); }
sent() { tail -n +$((n0 + 1)) "$T/stub.log" | jq -r '.method + " " + .path + " " + (.status|tostring)' | tr '\n' ';'; }
C() { n0; bg-generate --check "$@" >out 2>err; echo $? >rc; }

C --provider gemini
is "gemini default: exit 0" "$(cat rc)" 0
is "gemini default: one line" "$(cat out)" "gemini: ok: gemini-3.1-flash-image"
is "gemini: one GET of the model" "$(sent)" "GET /v1beta/models/gemini-3.1-flash-image 200;"

C --provider gemini --model gemini-2.5-flash-image
is "gemini retired: exit 2" "$(cat rc)" 2
is "gemini retired: names the model, its shutdown and the replacement" "$(cat err)" "bg-generate: gemini: model gemini-2.5-flash-image is not available to this key (retired 2026-10-02?); try gemini-3.1-flash-image"

C --provider openai --model gpt-image-1
is "openai retired: exit 2" "$(cat rc)" 2
is "openai retired: the message" "$(cat err)" "bg-generate: openai: model gpt-image-1 is not available to this key (retired 2026-10-23?); try gpt-image-2.6-flare"
is "openai: GET /v1/models/{model}" "$(sent)" "GET /v1/models/gpt-image-1 404;"

C --provider openai --model gpt-image-1.5
is "openai deprecated: still usable today" "$(cat rc)" 0
is "openai: the API's shutdown_date is reported" "$(cat out)" "openai: ok: gpt-image-1.5, shutdown_date 2026-12-01"
is "and the table's warning" "$(cat err)" "bg-generate: openai: model gpt-image-1.5 shuts down on 2026-12-01"

OPENAI_API_KEY=wrong-key C --provider openai
is "openai wrong key: exit 2" "$(cat rc)" 2
check "openai wrong key: says the key is refused" grep -q 'openai: the key is refused (HTTP 401: Incorrect API key provided.*check OPENAI_API_KEY' err
GEMINI_API_KEY=wrong-key C --provider gemini
is "gemini wrong key: exit 2" "$(cat rc)" 2
check "gemini wrong key: says the key is refused" grep -q 'gemini: the key is refused (HTTP 400: API key not valid.*check GEMINI_API_KEY' err
env -u OPENAI_API_KEY bg-generate --check --provider openai >out 2>err; rc=$?
is "no key: exit 2 without a request" "$rc $(cat err)" "2 bg-generate: openai: set OPENAI_API_KEY"

C --provider replicate
is "replicate default: exit 0" "$(cat rc) $(cat out)" "0 replicate: ok: google/nano-banana-2"
is "replicate: GET /v1/models/{owner}/{name}" "$(sent)" "GET /v1/models/google/nano-banana-2 200;"
C --provider local
is "local: no request" "$(cat rc) $(cat out) $(sent)" "0 local: ok: offline "

# the providers of the jobs given
printf '%s\n' '{"provider":"gemini","model":"gemini-3.1-flash-image","prompt":"a"}' \
	'{"provider":"gemini","model":"gemini-3.1-flash-image","prompt":"b"}' \
	'{"provider":"openai","model":"gpt-image-1","prompt":"c"}' '{"prompt":"d"}' >jobs
C jobs
is "jobs: one check per provider+model, exit 2 for the retired one" "$(cat rc) $(sort out | tr '\n' ';')" "2 gemini: ok: gemini-3.1-flash-image;local: ok: offline;"
is "jobs: two requests for four jobs" "$(sent | tr ';' '\n' | grep -c GET)" 2

# nothing listens: a clear line in seconds
port=$(free_port)
BG_OPENAI_BASE_URL=http://127.0.0.1:$port bg-generate --check --provider openai >out 2>err; rc=$?
is "unreachable: exit 2" "$rc" 2
check "unreachable: one line saying so" grep -q "^bg-generate: openai: cannot reach http://127.0.0.1:$port: " err

# bg-batch checks first: offline, a provider run ends in seconds, one line
s0=$(date +%s)
BG_OPENAI_BASE_URL=http://127.0.0.1:$port bg-batch -c "$TOP/examples/catalog.ndjson" \
	-s "$TOP/examples/settings-openai.json" -d batch --root store >out 2>err; rc=$?
is "bg-batch, host unreachable: exit 2" "$rc" 2
# (the next check proves nothing was sent; this bound only catches a hang
# or retries, and is loose because the ASan build on a loaded machine took
# 6 s)
check "bg-batch: within seconds ($(( $(date +%s) - s0 )) s)" [ $(( $(date +%s) - s0 )) -le 30 ]
is "bg-batch: the check's line, then nothing sent" "$(grep -c "openai: cannot reach" err) $(grep -c 'nothing was sent' err) $(test -s batch/results.ndjson && echo results || echo none)" "1 1 none"

bg-generate --list-models --provider openai >out 2>err
is "openai --list-models: the image models, default and shutdowns marked" "$(cat out | tr '\t' ' ' | tr '\n' ';')" "gpt-image-2.6-flare default;gpt-image-2.6-sunburst;gpt-image-2;gpt-image-1.5 shutdown 2026-12-01;gpt-image-1-mini shutdown 2026-12-01;chatgpt-image-latest shutdown 2026-12-01;"
bg-generate --list-models --provider gemini >out 2>err
is "gemini --list-models" "$(cut -f1 out | tr '\n' ';')" "gemini-3.1-flash-image;gemini-3-pro-image;"
bg-generate --list-models --provider replicate >out 2>err
is "replicate --list-models: the table's models that exist" "$(cut -f1 out | tr '\n' ';')" "google/nano-banana-2;google/nano-banana;"
done_testing
