# Fan-out: the same jobs three ways (one bg-generate; GNU parallel --pipe -j4;
# GNU parallel --sshloginfile over two simulated hosts, outputs carried back
# --inline and filed locally) give the same jobs, each exactly once, filed.
. "$TOP/tests/lib.sh"
start_stub --latency-ms 20
export GEMINI_API_KEY=fake-key BG_GEMINI_BASE_URL=$STUB
img=$(ls "$TOP"/examples/images/*.png | head -1)
awk -v img="$img" 'BEGIN { for (i = 1; i <= 12; i++) printf "{\"variant_id\":\"v%d\",\"product_id\":\"p\",\"title\":\"Mug %d\",\"variant_title\":\"x\",\"selected\":[\"%s\"]}\n", i, i, img }' >cands.ndjson
echo '{"name":"Fan out","provider":"gemini","model":"m","variations":2,"prompt":"Photo of {title}","input":{"aspect_ratio":"4:3"}}' >s.json
bg-plan -q --settings s.json --batch-id fan cands.ndjson >jobs.ndjson
is "24 jobs planned" "$(wc -l <jobs.ndjson | tr -d ' ')" 24

# 1. one process
BG_ROOT=$T/one bg-generate -j 8 jobs.ndjson | BG_ROOT=$T/one bg-file >one.ndjson
# 2. four local processes
BG_ROOT=$T/par parallel --pipe -N 5 -j 4 bg-generate -j 4 <jobs.ndjson | BG_ROOT=$T/par bg-file >par.ndjson
# 3. two "hosts": a fake ssh runs the command in a folder of its own, with
# a store of its own, so only the inline bytes come back; like sshd it sets
# SHELL (GNU parallel's remote side runs the job with $SHELL; CI has none)
cat >fakessh <<X
#!/bin/sh
while [ \$# -gt 0 ]; do case \$1 in -*) shift;; *) break;; esac; done
host=\$1; shift; [ "\$1" = -- ] && shift
echo "\$host" >>$T/hosts-used
mkdir -p $T/hosts/\$host && cd $T/hosts/\$host || exit 255
SHELL=/bin/sh BG_ROOT=$T/hosts/\$host/store exec /bin/sh -c "\$*"
X
chmod +x fakessh
printf '2/hostA\n2/hostB\n' >sshlogins
parallel --pipe -N 5 --ssh "$T/fakessh" --sshloginfile sshlogins bg-generate --inline -j 4 \
	<jobs.ndjson 2>ssh.err | BG_ROOT=$T/ssh bg-file >ssh.ndjson
[ -s ssh.ndjson ] || sed 's/^/# ssh.err: /' ssh.err | head -20
check "both simulated hosts were used" [ "$(sort -u hosts-used | wc -l)" -eq 2 ]

for w in one par ssh; do
	is "$w: 24 records" "$(wc -l <$w.ndjson | tr -d ' ')" 24
	is "$w: every job exactly once" "$(jq -r .job_id $w.ndjson | sort | uniq | wc -l | tr -d ' ')" 24
	is "$w: same jobs as the plan" "$(jq -r .job_id $w.ndjson | sort | md5sum)" "$(jq -r .job_id jobs.ndjson | sort | md5sum)"
	is "$w: all succeeded" "$(jq -r .status $w.ndjson | sort -u)" succeeded
	is "$w: all filed" "$(jq -r 'select(.filed.batch) | .filed.batch' $w.ndjson | while read -r f; do [ -f "$T/$w/$f" ] && echo y; done | wc -l | tr -d ' ')" 24
	is "$w: no inline bytes left in records" "$(jq -r '[.outputs[]? | select(has("data"))] | length' $w.ndjson | sort -u)" 0
done
is "same images all three ways" "$(jq -r '.outputs[0].sha256' one.ndjson | sort | md5sum)" "$(jq -r '.outputs[0].sha256' ssh.ndjson | sort | md5sum)"
is "three ways sent 72 requests" "$(grep -c generateContent "$T/stub.log")" 72

# bg-batch fans out the same way: -P (local processes) and --hosts (GNU
# parallel --sshloginfile; PARALLEL_SSH is GNU parallel's own ssh override)
# (absolute image paths: the "hosts" run elsewhere, as real ones would)
sed "s#\"examples/#\"$TOP/examples/#g" "$TOP/examples/catalog.ndjson" | head -4 >cat4.ndjson
: >hosts-used
BG_ROOT=$T/bP bg-batch -c cat4.ndjson -s s.json -d bP -P 3 -j 2 >bP.out 2>bP.err
is "bg-batch -P 3: every job succeeded" "$?" 0
PARALLEL_SSH=$T/fakessh BG_ROOT=$T/bH bg-batch -c cat4.ndjson -s s.json -d bH --hosts sshlogins -j 2 >bH.out 2>bH.err
is "bg-batch --hosts: every job succeeded" "$?" 0
is "bg-batch --hosts: 8 jobs, once each" "$(jq -r .job_id bH/results.ndjson | sort -u | wc -l | tr -d ' ')/$(wc -l <bH/results.ndjson | tr -d ' ')" "8/8"
check "bg-batch --hosts: ran on the simulated hosts" [ "$(sort -u hosts-used | wc -l)" -eq 2 ]
check "bg-batch --hosts: images filed in the local store" [ "$(find "$T/bH/batches" -name '*.png' | wc -l)" -eq 8 ]
done_testing
