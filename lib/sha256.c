/* sha256: SHA-256 hex digests from OpenSSL's libcrypto, which uses the
 * CPU's SHA extensions where there are any (GLib's plain C took 4 ms per
 * MB of image and 1.5 us per request key: most of bg-generate's hashing). */
#include <openssl/sha.h>

#include "sha256.h"

void
sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256(data, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
