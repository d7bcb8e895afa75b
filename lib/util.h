/* util: SHA-256 and base64 (libcrypto, GLib), UUIDs (GLib), growable
 * strings, UTF-8 repair. */
#ifndef BG_UTIL_H
#define BG_UTIL_H

#include <stddef.h>

/* SHA-256 of data as 64 lower-case hex digits plus NUL into out. */
void util_sha256_hex(const void *data, size_t len, char out[65]);
/* A random (version 4) UUID string; free with free(3). */
char *util_uuid(void);
/* Base64 of data; *outlen (if not NULL) gets its length; free with free(3). */
char *util_b64_encode(const void *data, size_t len, size_t *outlen);
/* Decode base64 text of len bytes; NULL if it is not base64.  free(3). */
unsigned char *util_b64_decode(const char *text, size_t len, size_t *outlen);
/* Replace bytes that are not valid UTF-8 with '?', in place; returns s. */
char *util_utf8_fix(char *s, size_t len);
/* The current time as RFC 3339 UTC ("2026-11-20T10:00:00Z") into buf[32]. */
char *util_now_iso(char *buf);
/* Monotonic milliseconds. */
double util_now_ms(void);
/* The value of hex digit c (either case), or -1. */
int util_hexval(int c);

/* A growable byte string, always NUL-terminated once non-empty. */
struct sbuf {
	char *s;
	size_t len, cap;
};
void sb_grow(struct sbuf *b, size_t n);	/* room for n more bytes */
void sb_add(struct sbuf *b, const void *p, size_t n);
void sb_adds(struct sbuf *b, const char *s);
void sb_addc(struct sbuf *b, char c);
void sb_addf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_reset(struct sbuf *b);	/* empty, keep memory */
void sb_free(struct sbuf *b);	/* release memory */

#endif
