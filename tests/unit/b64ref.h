/* b64ref.h: the reference base64 decoder that tests/unit/b64.c and the
 * fuzz harness tests/fuzz/b64.c compare util_b64_decode with: GLib's step
 * decoder, after refusing the characters it would skip silently. */
#ifndef BG_B64REF_H
#define BG_B64REF_H

#include <stdlib.h>

#include <glib.h>

static unsigned char *
ref_decode(const char *text, size_t len, size_t *outlen)
{
	unsigned char *out;
	gint state = 0;
	guint save = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (!(g_ascii_isalnum(text[i]) || text[i] == '+' ||
		    text[i] == '/' || text[i] == '=' || text[i] == '\n' ||
		    text[i] == '\r'))
			return NULL;
	out = malloc(len / 4 * 3 + 4);
	*outlen = g_base64_decode_step(text, len, out, &state, &save);
	return out;
}

#endif
