/* b64: a fast decoder for the base64 of images in provider answers. */
#ifndef BG_B64_H
#define BG_B64_H

#include <stddef.h>

/* Decode len bytes of standard base64 into malloc'd bytes (*outlen set),
 * exactly as util_b64_decode does (NULL for a character outside the
 * alphabet, '=' and CR/LF), but about 10 times faster on the common
 * form: no line breaks, '=' only at the end. */
unsigned char *b64_decode(const char *text, size_t len, size_t *outlen);

#endif
