/* test.h: a tiny TAP-like harness for C unit tests of lib/. */
#ifndef BG_TEST_H
#define BG_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "util.h"

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

/* A new folder /tmp/bg-unit-NAME.XXXXXX (malloc'd); exit 2 without one. */
static inline char *
t_tmpdir(const char *name)
{
	char *d = easprintf("/tmp/bg-unit-%s.XXXXXX", name);

	if (!mkdtemp(d))
		die(EXIT_FATAL, "mkdtemp:");
	return d;
}

/* Remove folder d and everything in it, and free d; a failure fails. */
static inline void
t_rmtree(char *d)
{
	char *cmd = easprintf("rm -rf '%s'", d);

	if (system(cmd) != 0) {
		printf("not ok - remove %s\n", d);
		t_failed = 1;
	}
	free(cmd);
	free(d);
}
#endif
