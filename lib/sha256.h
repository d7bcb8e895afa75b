/* sha256: SHA-256 hex digests, with the CPU's SHA extensions when it has
 * them (about 8 times faster than GLib's on the small inputs hashed per
 * request: the request key, an output image); else GLib's. */
#ifndef BG_SHA256_H
#define BG_SHA256_H

#include <stddef.h>

/* out gets 64 lower-case hex digits and a NUL, as util_sha256_hex. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
