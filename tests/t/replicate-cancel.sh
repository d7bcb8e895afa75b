# Replicate predictions bg-generate gives up on are cancelled: on SIGINT
# (after --grace) each running prediction gets POST .../cancel, and every
# create carries Cancel-After so a lost process cannot leave one billing.
# SIGINT prints one line saying what happened.
. "$TOP/tests/lib.sh"
mkdir static; mkpng static/a.png 8 8 0 255 0
start_stub --static static --latency-ms 6000
export BG_ROOT=$T/store BG_REPLICATE_BASE_URL=$STUB REPLICATE_API_TOKEN=k BG_REPLICATE_WAIT=0
for i in 1 2 3 4 5; do
	printf '{"job_id":"j%d","batch_id":"b","variation":1,"provider":"replicate","model":"google/nano-banana-2","prompt":"slow %d","input":{"product_images":["static/a.png"]},"status":"planned","attempt":0}\n' $i $i
done >jobs
bg-generate -j 3 --grace 0.3 jobs >out 2>err &
pid=$!
i=0
while [ "$(jq -r 'select(.path|endswith("/predictions")) | .id' "$T/stub.log" 2>/dev/null | wc -l)" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid; rc=$?
is "interrupted: exit 3" "$rc" 3
is "one record per job, all canceled" "$(jq -r .status out | sort | uniq -c | awk '{print $1, $2}')" "5 canceled"
is "the line says what happened" "$(cat err)" "bg-generate: interrupted: 0 done, 5 canceled; run the same command again to resume"
created=$(jq -r 'select(.method=="POST" and (.path|endswith("/predictions"))) | .id' "$T/stub.log" | sort)
cancelled=$(jq -r 'select(.method=="POST" and (.path|endswith("/cancel"))) | .path | split("/")[3]' "$T/stub.log" | sort)
is "three predictions were created" "$(echo "$created" | grep -c .)" 3
is "the stub saw a cancel for each" "$cancelled" "$created"
is "and they are canceled there" "$(for id in $created; do curl -s -H 'Authorization: Bearer k' "$STUB/v1/predictions/$id" | jq -r .status; done | sort -u)" canceled
is "every create sends Cancel-After" "$(jq -r 'select(.method=="POST" and (.path|endswith("/predictions"))) | .headers["cancel-after"]' "$T/stub.log" | sort -u)" 35m
done_testing
