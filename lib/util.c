/* util: thin wrappers so that hashing, UUIDs and base64 come from GLib. */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "err.h"
#include "util.h"

/* libcrypto uses the CPU's SHA extensions where there are any: GLib's
 * plain C took 4 ms per MB of image and 1.5 us per request key.  The
 * digest is fetched once: SHA256() fetched it anew on every call, most
 * of the cost of hashing a small image or a request key. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	if (!(sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		die(EXIT_FATAL, "libcrypto: no SHA256");
}

void
util_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	pthread_once(&sha256_once, sha256_fetch);
	if (!EVP_Digest(data, len, md, NULL, sha256_md, NULL))
		die(EXIT_FATAL, "libcrypto: SHA256 failed");
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

char *
util_uuid(void)
{
	gchar *u = g_uuid_string_random();
	char *s = estrdup(u);

	g_free(u);
	return s;
}

/* Base64 two characters at a time: 12 bits index a table of character
 * pairs.  GLib's encoder went a character at a time and was a quarter of
 * bg-generate's CPU with big references (0.7 GB/s here; this is 3). */
static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
util_b64_encode(const void *data, size_t len, size_t *outlen)
{
	static char pair[4096][2];
	static gsize ready;
	const unsigned char *p = data;
	char *out = emalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	if (g_once_init_enter(&ready)) {
		for (i = 0; i < 4096; i++) {
			pair[i][0] = abc[i >> 6];
			pair[i][1] = abc[i & 63];
		}
		g_once_init_leave(&ready, 1);
	}
	for (i = 0; i + 3 <= len; i += 3, o += 4) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		memcpy(o, pair[v >> 12], 2);
		memcpy(o + 2, pair[v & 0xfff], 2);
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0);
		o[0] = abc[v >> 18];
		o[1] = abc[v >> 12 & 63];
		o[2] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		o[3] = '=';
		o += 4;
	}
	*o = '\0';
	if (outlen)
		*outlen = o - out;
	return out;
}

/* GLib's step decoder, after refusing what it would skip silently. */
static unsigned char *
b64_decode_glib(const char *text, size_t len, size_t *outlen)
{
	unsigned char *out;
	gint state = 0;
	guint save = 0;
	size_t i, n;

	/* GLib skips invalid characters silently: refuse them first */
	for (i = 0; i < len; i++) {
		unsigned char c = text[i];

		if (!(g_ascii_isalnum(c) || c == '+' || c == '/' || c == '=' ||
		    c == '\n' || c == '\r'))
			return NULL;
	}
	out = emalloc(len / 4 * 3 + 4);
	n = g_base64_decode_step(text, len, out, &state, &save);
	if (outlen)
		*outlen = n;
	return out;
}

/* Base64 a character group at a time: each character's six bits come
 * from a table of their own, already in place, so a group of four is four
 * loads and three ORs; a character outside the alphabet sets the top bit.
 * Megabytes of image arrive in the plain padded form; libcrypto's
 * EVP_DecodeBlock behind a check for blanks and inner '=' took 17
 * instructions a character (a third of bg-generate's CPU on real answers),
 * this 4.8 (callgrind, bench part C's answers).  Any other form (blanks,
 * line breaks, no padding, a bad character) keeps GLib's decoder and its
 * refusals. */
#define B64_BAD 0x80000000u

unsigned char *
util_b64_decode(const char *text, size_t len, size_t *outlen)
{
	static uint32_t d[4][256];
	static gsize ready;
	const unsigned char *p = (const unsigned char *)text;
	unsigned char *out, *o;
	size_t pad = 0, i, last;
	uint32_t x;
	int k, c;

	if (!len || len % 4 || len > (size_t)1 << 30)
		return b64_decode_glib(text, len, outlen);
	if (g_once_init_enter(&ready)) {
		for (k = 0; k < 4; k++)
			for (c = 0; c < 256; c++)
				d[k][c] = B64_BAD;
		for (c = 0; c < 64; c++)
			for (k = 0; k < 4; k++)
				d[k][(unsigned char)abc[c]] =
				    (uint32_t)c << (18 - 6 * k);
		g_once_init_leave(&ready, 1);
	}
	if (p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	out = o = emalloc(len / 4 * 3 + 1);
	last = len - 4;
	for (i = 0; i < last; i += 4, o += 3) {
		x = d[0][p[i]] | d[1][p[i + 1]] | d[2][p[i + 2]] |
		    d[3][p[i + 3]];
		if (x & B64_BAD)
			goto glib;
		o[0] = x >> 16;
		o[1] = x >> 8;
		o[2] = x;
	}
	/* the last group, "xx==" or "xxx=" padded: '=' reads as zero */
	x = d[0][p[i]] | d[1][p[i + 1]] | (pad == 2 ? 0 : d[2][p[i + 2]]) |
	    (pad ? 0 : d[3][p[i + 3]]);
	if (x & B64_BAD)
		goto glib;
	o[0] = x >> 16;
	o[1] = x >> 8;
	o[2] = x;
	if (outlen)
		*outlen = len / 4 * 3 - pad;
	return out;
glib:
	free(out);
	return b64_decode_glib(text, len, outlen);
}

char *
util_utf8_fix(char *s, size_t len)
{
	const gchar *end;
	char *p = s;

	while (!g_utf8_validate(p, len - (p - s), &end)) {
		p = (char *)end;
		*p++ = '?';
	}
	return s;
}

char *
util_now_iso(char *buf)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

double
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void
sb_grow(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	if (!b->cap)
		b->cap = 256;
	while (b->len + n + 1 > b->cap)
		b->cap *= 2;
	b->s = erealloc(b->s, b->cap);
}

void
sb_add(struct sbuf *b, const void *p, size_t n)
{
	sb_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void
sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

void
sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void
sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void
sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
