/* test.h: a tiny TAP-like harness for C unit tests of lib/. */
#ifndef BG_TEST_H
#define BG_TEST_H
#include <stdio.h>
#include <string.h>

static int t_failed;
#define CHECK(cond, desc) do { \
	if (cond) printf("ok - %s\n", desc); \
	else { printf("not ok - %s (%s:%d: %s)\n", desc, __FILE__, __LINE__, #cond); t_failed = 1; } \
} while (0)
#define CHECK_STR(got, want, desc) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && w_ && !strcmp(g_, w_)) printf("ok - %s\n", desc); \
	else { printf("not ok - %s: got '%s', want '%s'\n", desc, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); t_failed = 1; } \
} while (0)
#endif
