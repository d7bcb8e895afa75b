# make demo's script: one folder per provider (a second provider keeps the
# first one's report), a run where no job succeeds says so, a missing key
# stops before anything is sent, and PG=1 loads the batch into a private
# PostgreSQL cluster (bg-pg-up) and prints the summary view.
. "$TOP/tests/lib.sh"
export DEMO_DIR=$T/demo
unset GEMINI_API_KEY GOOGLE_API_KEY OPENAI_API_KEY REPLICATE_API_TOKEN PG
start_stub	# (sets its own EXIT trap: ours replaces it, stopping both)
trap 'kill $STUB_PID 2>/dev/null; wait $STUB_PID 2>/dev/null
	bg-pg-up --remove "$DEMO_DIR/pg" 2>/dev/null' EXIT

PG=1 "$TOP/scripts/demo.sh" >local.out 2>local.err; rc=$?
is "local demo with PG=1: exit 0" "$rc" 0
check "local demo: its report in demo/local" test -s "$DEMO_DIR/local/report.html"
check "local demo: says where the report is" grep -q "^demo: HTML report: $DEMO_DIR/local/report.html" local.out
check "PG=1: the summary view is printed" \
	grep -Eq '^ [0-9a-f-]{36} \| +60 \| +60 \| +0 \| +0 \| ' local.out
eval "$(bg-pg-up "$DEMO_DIR/pg" 2>/dev/null)"
is "PG=1: the demo batch is in the database" \
	"$(psql -X -At -c "SELECT count(*) FROM generation_jobs WHERE status = 'succeeded'")" 60
check "PG=1: no NOTICE lines" sh -c '! grep -q NOTICE local.out local.err'

# the README's PostgreSQL block, as written, after the demo (a fresh
# cluster: the demo's is removed first)
bg-pg-up --remove "$DEMO_DIR/pg" 2>/dev/null
mkdir rd && ln -s "$TOP/scripts" rd/scripts && ln -s "$DEMO_DIR" rd/demo
awk '/^## PostgreSQL/ { on = 1; next } /^## / { on = 0 }
	on && /^```sh$/ { inb = 1; next } on && inb && /^```$/ { exit }
	on && inb { print }' "$TOP/README.md" >rd/pg.sh
check "the README has a PostgreSQL block" grep -q bg-pg-load rd/pg.sh
(cd rd && env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE bash -e -o pipefail pg.sh) >rd.out 2>rd.err; rc=$?
is "README PostgreSQL lines: exit 0" "$rc" 0
check "README PostgreSQL lines: the demo batch summary is printed" \
	grep -Eq '^ [0-9a-f-]{36} \| +60 \| +60 \| +0 \| +0 \| ' rd.out
check "README PostgreSQL lines: no NOTICE" sh -c '! grep -q NOTICE rd.err'

# a second provider (gemini, answered by the loopback stub) keeps the first
GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB PROVIDER=gemini \
	"$TOP/scripts/demo.sh" >gemini.out 2>gemini.err; rc=$?
is "gemini demo (stub): exit 0" "$rc" 0
is "two provider demos leave two folders" "$(ls "$DEMO_DIR" | grep -v -e bg-data -e pg | tr '\n' ' ')" "gemini local "
check "the local report is still there" test -s "$DEMO_DIR/local/report.html"
is "the gemini batch went to the stub" "$(grep -c generateContent "$T/stub.log")" 60

# again: the same folder resumes, nothing is sent twice
GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB PROVIDER=gemini \
	"$TOP/scripts/demo.sh" >gemini2.out 2>&1; rc=$?
is "gemini demo again: exit 0" "$rc" 0
check "gemini demo again: says it resumes" grep -q "^demo: resuming $DEMO_DIR/gemini" gemini2.out
is "gemini demo again: nothing sent again" "$(grep -c generateContent "$T/stub.log")" 60

# a key the provider refuses: bg-batch's check stops it before any job is
# sent, and the demo says so
n0=$(grep -c '/v1/images/' "$T/stub.log")
OPENAI_API_KEY=bad-key BG_OPENAI_BASE_URL=$STUB PROVIDER=openai \
	"$TOP/scripts/demo.sh" >openai.out 2>&1; rc=$?
is "a refused key: exit 2" "$rc" 2
check "a refused key: the check names the key" grep -q '^bg-generate: openai: the key is refused (HTTP 401: .*check OPENAI_API_KEY$' openai.out
check "a refused key: the demo says it stopped" grep -q '^demo: stopped (exit 2)' openai.out
is "a refused key: no image request sent" "$(grep -c '/v1/images/' "$T/stub.log")" "$n0"
check "a refused key: no 'HTML report:' line as if all went well" sh -c '! grep -q "HTML report:" openai.out'

# a run where no job succeeds: the local provider with every example image
# unreadable (a copy of the tree): one clear line, the commonest error,
# exit 1 and no "HTML report:" line as if all went well
mkdir -p bad/examples/images
cp -r "$TOP/scripts" bad/
cp "$TOP/examples/catalog.ndjson" "$TOP/examples/settings.json" bad/examples/
for f in "$TOP"/examples/images/*; do echo "not an image" >"bad/examples/images/${f##*/}"; done
DEMO_DIR=$T/bad/demo bad/scripts/demo.sh >none.out 2>none.err; rc=$?
is "no job succeeded: exit 1" "$rc" 1
check "no job succeeded: said on stderr" grep -qx \
	"demo: no job succeeded with the local provider: nothing was generated" none.err
check "no job succeeded: the most common error" grep -q \
	'^demo: most common error: 60 x unsupported_image: examples/images/.*: not a PNG, JPEG or WebP image$' none.err
check "no job succeeded: no 'HTML report:' line" sh -c '! grep -q "HTML report:" none.out none.err'
# settings bg-plan refuses (an unknown placeholder): stopped, exit 2
cp "$TOP/examples/images/"* bad/examples/images/
sed -i 's/{title}/{titel}/' bad/examples/settings.json
rm -rf bad/demo
DEMO_DIR=$T/bad/demo bad/scripts/demo.sh >set.out 2>set.err; rc=$?
is "bad settings: exit 2" "$rc" 2
check "bad settings: bg-plan names the placeholder" grep -q \
	'^bg-plan: examples/settings.json: unknown placeholder {titel}$' set.err
check "bad settings: the demo says nothing was generated" grep -qx \
	"demo: stopped (exit 2): nothing was generated; the reason is above" set.err
check "bad settings: no 'HTML report:' line" sh -c '! grep -q "HTML report:" set.out set.err'

# no key at all: nothing runs
PROVIDER=replicate "$TOP/scripts/demo.sh" >rep.out 2>&1; rc=$?
is "no key: exit 1" "$rc" 1
is "no key: says which variable" "$(cat rep.out)" \
	"demo: PROVIDER=replicate needs REPLICATE_API_TOKEN: set it (README, Environment) and run again; nothing was sent"
check "no key: no folder made" test ! -e "$DEMO_DIR/replicate"
done_testing
