/* b64: table-driven base64 decoding; anything unusual goes to GLib's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "util.h"

/* 0..63 for the alphabet, 0xff for anything else ('=' included) */
static unsigned char rank[256];

static void
init_rank(void)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int i;

	memset(rank, 0xff, sizeof rank);
	for (i = 0; i < 64; i++)
		rank[(unsigned char)a[i]] = i;
}

unsigned char *
b64_decode(const char *text, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char *out, *o;
	size_t n = len, i, pad = 0;
	uint32_t v;

	if (!rank['A'])
		init_rank();
	/* the common form only: whole quads, '=' only as the last one or
	 * two characters; the rest (line breaks, unpadded, stray '=') is
	 * GLib's, which gives the same bytes for this form */
	if (n % 4 || !n)
		return util_b64_decode(text, len, outlen);
	if (p[n - 1] == '=')
		pad = p[n - 2] == '=' ? 2 : 1;
	out = o = emalloc(n / 4 * 3 + 4);
	for (i = 0; i + 4 <= n - (pad ? 4 : 0); i += 4) {
		v = (uint32_t)rank[p[i]] << 18 | (uint32_t)rank[p[i + 1]] << 12 |
		    (uint32_t)rank[p[i + 2]] << 6 | rank[p[i + 3]];
		if ((rank[p[i]] | rank[p[i + 1]] | rank[p[i + 2]] |
		    rank[p[i + 3]]) & 0xc0)
			goto slow;
		o[0] = v >> 16;
		o[1] = v >> 8;
		o[2] = v;
		o += 3;
	}
	if (pad) {
		if ((rank[p[i]] | rank[p[i + 1]] |
		    (pad == 1 ? rank[p[i + 2]] : 0)) & 0xc0)
			goto slow;
		v = (uint32_t)rank[p[i]] << 18 | (uint32_t)rank[p[i + 1]] << 12 |
		    (pad == 1 ? (uint32_t)rank[p[i + 2]] << 6 : 0);
		*o++ = v >> 16;
		if (pad == 1)
			*o++ = v >> 8;
	}
	*outlen = o - out;
	return out;
slow:
	free(out);
	return util_b64_decode(text, len, outlen);
}
