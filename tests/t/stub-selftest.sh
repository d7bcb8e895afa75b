# The loopback stub's own self-test (curl against it).  The stub is Python,
# so the sanitizer pass has nothing to add and runs it only once.
. "$TOP/tests/lib.sh"
if [ "$BG_TEST_SAN" = 1 ]; then pass "stub self-test runs in the normal pass"; done_testing; fi
sh "$TOP/tests/stub/selftest.sh"
