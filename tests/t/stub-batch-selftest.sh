# The loopback stub's Batch APIs (tests/stub/stub_batch.py), spoken with
# curl.  Python only: the sanitizer pass runs it once.
. "$TOP/tests/lib.sh"
if [ "$BG_TEST_SAN" = 1 ]; then pass "stub batch self-test runs in the normal pass"; done_testing; fi
sh "$TOP/tests/stub/selftest_batch.sh"
