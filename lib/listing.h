/* listing: marketplace checks on an image and the making of a channel copy
 * (converted, flattened, resized, reframed), with libvips. */
#ifndef BG_LISTING_H
#define BG_LISTING_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "profile.h"

/* What the checks measured. */
struct listing_facts {
	int width, height;
	size_t bytes;
	const char *mime;	/* static; NULL when unreadable */
	double fill;		/* product share of the frame, 0..1 */
	int white;		/* the border is white */
};

/* Check the image img (len bytes) against p; every failed check appends
 * its code (a string) to problems: unreadable, bad_format, not_srgb,
 * image_too_small, image_too_large, not_square, file_too_large,
 * background_not_white, product_too_small, provenance_missing (when p
 * wants provenance and the image's DigitalSourceType is not want_dst).
 * Pixels are read from a shrink-on-load thumbnail, never the whole image.
 * Returns the number of problems. */
int listing_check(const void *img, size_t len, const struct profile *p,
    const char *want_dst, cJSON *problems, struct listing_facts *f);

/* Make p's copy of master (len bytes): sRGB, alpha flattened onto white,
 * shrunk to p->target on its longest side, reframed when p wants a fill
 * (or a square) and the border is white: the margin is trimmed and white
 * padded back to p->fill_target, the copy then scaled to at most the
 * master's own size.  The XMP packet xmp (xmplen bytes) is embedded.
 * Returns 0 with *out (g_free it), *outlen and *reframed set, or -1 with
 * a reason in why (size n). */
int listing_make(const void *master, size_t len, const struct profile *p,
    const char *xmp, size_t xmplen, void **out, size_t *outlen,
    int *reframed, char *why, size_t n);

#endif
