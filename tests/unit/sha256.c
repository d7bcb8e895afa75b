/* Unit tests for util_sha256_hex (libcrypto): the same digests as GLib's. */
#include <stdlib.h>

#include <glib.h>

#include "util.h"
#include "test.h"

int
main(void)
{
	static unsigned char buf[5000];
	char got[65], want[65];
	size_t i, len, bad = 0;

	util_sha256_hex("abc", 3, got);
	CHECK_STR(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256 of abc (FIPS 180-2)");
	util_sha256_hex("", 0, got);
	CHECK_STR(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256 of nothing");
	srand(3);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = rand();
	/* every length around the block and padding edges, then some */
	for (len = 0; len <= sizeof buf; len += len < 300 ? 1 : 97) {
		util_sha256_hex(buf + len % 7, len - len % 7, got);
		{
			gchar *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
			    buf + len % 7, len - len % 7);

			memcpy(want, h, 65);
			g_free(h);
		}
		if (strcmp(got, want) && !bad++)
			CHECK_STR(got, want, "sha256_hex as GLib");
	}
	CHECK(!bad, "sha256_hex gives GLib's digest for 0 to 5000 bytes at "
	    "any alignment");
	return t_failed;
}
