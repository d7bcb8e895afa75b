/* Unit tests for b64_decode: the same bytes as util_b64_decode. */
#include <stdlib.h>

#include "b64.h"
#include "util.h"
#include "test.h"

static int bad;

static void
same(const char *s, size_t n, const char *what)
{
	size_t la = 0, lb = 0;
	unsigned char *a = b64_decode(s, n, &la), *b = util_b64_decode(s, n, &lb);

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
		s = util_b64_encode(raw, n, &len);
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
	CHECK(!bad, "b64_decode decodes (and refuses) as util_b64_decode does");
	return t_failed;
}
