/* fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share.  Each
 * harness NAME.c feeds one parser hostile bytes; its seed corpus is
 * tests/fuzz/NAME/ (see tests/fuzz/README).  A broken invariant calls
 * fz_fail, which aborts: libFuzzer then saves the input as a crash. */
#ifndef BG_FUZZ_H
#define BG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fz_fail(what) do { \
	fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what, \
	    __FILE__, __LINE__); \
	abort(); \
} while (0)
#define fz_assert(cond) do { if (!(cond)) fz_fail(#cond); } while (0)

/* The bytes as a file the library can open by name: a memfd, path
 * "/proc/self/fd/N" in buf (64 bytes).  Returns the fd (close it). */
int fz_file(const uint8_t *data, size_t size, char *path);

/* The provider harnesses (fuzz_prov.c): init provider p once with a fake
 * key in env var keyvar, then answer a job's requests with the input. */
struct provider;
void fz_prov_init(const struct provider *p, const char *keyvar);
int fz_prov_run(const uint8_t *data, size_t size);

#endif
