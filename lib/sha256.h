/* sha256: SHA-256 hex digests with OpenSSL's libcrypto (hardware SHA
 * instructions where the CPU has them); util_sha256_hex is the same. */
#ifndef BG_SHA256_H
#define BG_SHA256_H

#include <stddef.h>

/* out gets 64 lower-case hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
