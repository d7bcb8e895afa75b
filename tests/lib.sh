# tests/lib.sh: helpers sourced by tests/t/*.sh (TAP-like lines).
#   ok COND-COMMAND... "description"   is replaced by check/is below.
n_fail=0
pass() { echo "ok - $*"; bg_tick "$*"; }
flunk() { echo "not ok - $*"; n_fail=$((n_fail + 1)); bg_tick "$*"; }
# with tests/run.sh TIMES=1: the seconds since the previous check, per check
# (the previous check's time is kept in a file: one made in a subshell,
# whose variables are lost, still counts)
bg_tick() {
	[ -n "${BG_TEST_TIMES:-}" ] || return 0
	bg_now=$(date +%s.%N)
	bg_prev=$(cat "$BG_TEST_TIMES.last" 2>/dev/null)
	printf '%s %s %s\n' "${bg_prev:-${bg_last:-$bg_now}}" "$bg_now" \
	    "$(printf '%s' "$1" | tr '\n' ' ')" >>"$BG_TEST_TIMES"
	echo "$bg_now" >"$BG_TEST_TIMES.last"
}
# check "description" command...: ok when the command succeeds
check() { d=$1; shift; if "$@"; then pass "$d"; else flunk "$d"; fi; }
# is "description" actual expected
is() { if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1: got '$2', want '$3'"; fi; }
# the last line of a test: exit status from the count of failures
done_testing() { exit $((n_fail > 0)); }
# at_exit COMMAND: run COMMAND at exit, after those registered later (one
# EXIT trap for all, so a stub and a database server are both stopped)
BG_AT_EXIT=
at_exit() { BG_AT_EXIT="$1
$BG_AT_EXIT"; trap 'eval "$BG_AT_EXIT"' EXIT; }
# a free loopback TCP port
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# start_stub [stub options...]: start the loopback provider stub in the
# background with a request log at $T/stub.log; sets STUB (base URL) and
# STUB_PID and stops it at exit.
start_stub() {
	rm -f "$T/stub.port"
	/usr/bin/python3 "$TOP/tests/stub/bg-stub.py" --port-file "$T/stub.port" \
		--log "$T/stub.log" "$@" 2>"$T/stub.err" &
	STUB_PID=$!
	at_exit 'kill $STUB_PID 2>/dev/null; wait $STUB_PID 2>/dev/null'
	i=0
	while [ ! -s "$T/stub.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$T/stub.port" ] || { flunk "stub did not start: $(cat "$T/stub.err")"; done_testing; }
	STUB=http://127.0.0.1:$(cat "$T/stub.port")
}
# mkpng FILE W H R G B: a solid RGB PNG
mkpng() { python3 -c 'import struct,sys,zlib
f,w,h,r,g,b=sys.argv[1],*map(int,sys.argv[2:])
row=b"\0"+bytes((r,g,b))*w
ch=lambda t,d:struct.pack(">I",len(d))+t+d+struct.pack(">I",zlib.crc32(t+d))
open(f,"wb").write(b"\x89PNG\r\n\x1a\n"+ch(b"IHDR",struct.pack(">IIBBBBB",w,h,8,2,0,0,0))+ch(b"IDAT",zlib.compress(row*h))+ch(b"IEND",b""))' "$@"; }
