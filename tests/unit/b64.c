/* Unit tests for util_b64_encode and util_b64_decode: the encoder's
 * table gives GLib's text, and the decoder's table path gives the
 * same bytes and refusals as GLib's decoder with the alphabet check. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "util.h"
#include "test.h"
#include "b64ref.h"

static int bad, enc_bad;

static void
same(const char *s, size_t n, const char *what)
{
	size_t la = 0, lb = 0;
	unsigned char *a = util_b64_decode(s, n, &la), *b = ref_decode(s, n, &lb);

	if (!!a != !!b || (a && (la != lb || memcmp(a, b, la)))) {
		if (!bad++)
			printf("# differs on %s: %.40s (%zu bytes)\n", what, s, n);
	}
	free(a);
	free(b);
}

int
main(void)
{
	static unsigned char raw[3000];
	const char *odd[] = {"", "=", "==", "QQ==", "QUI=", "QUJD", "QQ", "QUI",
	    "Q===", "QQ=A", "QU=D", "QUJD\nQUJD", "QUJD\r\n", "QU JD", "QUJ*",
	    "QR==", "QUJ=QUJD", "====", "-_-_", "QUJDQQ==QUJD"};
	char *s;
	size_t i, n, len;

	srand(5);
	for (i = 0; i < sizeof raw; i++)
		raw[i] = rand();
	for (n = 0; n <= sizeof raw; n += n < 200 ? 1 : 61) {
		gchar *g = g_base64_encode(raw, n);

		s = util_b64_encode(raw, n, &len);
		if (strlen(g) != len || strcmp(g, s))
			if (!enc_bad++)
				printf("# encodes %zu bytes as %.40s, GLib %.40s\n",
				    n, s, g);
		g_free(g);
		same(s, len, "encoded bytes");
		if (len > 8) {
			s[len / 2] = '.';	/* a character outside the alphabet */
			same(s, len, "a bad character");
			s[len / 2] = '=';
			same(s, len, "'=' inside");
		}
		free(s);
	}
	for (i = 0; i < sizeof odd / sizeof *odd; i++)
		same(odd[i], strlen(odd[i]), "an odd form");
	CHECK(!enc_bad, "util_b64_encode writes what GLib writes");
	CHECK(!bad, "util_b64_decode decodes (and refuses) as GLib does");
	return t_failed;
}
