/* Fuzz base64 (lib/util.c) against GLib: util_b64_decode must decode and
 * refuse exactly as GLib's step decoder does once the characters GLib
 * would skip are refused, whichever of its two paths it takes (the table
 * path for the plain padded form, GLib for the rest); and decoding what
 * util_b64_encode wrote gives the input back. */
#include <string.h>

#include <glib.h>

#include "util.h"
#include "fuzz.h"
#include "../unit/b64ref.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t la = 0, lb = 0, le = 0;
	unsigned char *a, *b;
	char *e;

	a = util_b64_decode((const char *)data, size, &la);
	b = ref_decode((const char *)data, size, &lb);
	fz_assert(!a == !b);
	fz_assert(!a || (la == lb && !memcmp(a, b, la)));
	free(a);
	free(b);
	e = util_b64_encode(data, size, &le);
	a = util_b64_decode(e, le, &la);
	fz_assert(size ? a && la == size && !memcmp(a, data, size) : 1);
	free(a);
	free(e);
	return 0;
}
