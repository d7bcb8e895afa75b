/* layout: the offline "local" provider's picture, made with libvips: the
 * job's reference images contained and centred on a canvas of the requested
 * aspect ratio and background colour.
 *
 * The canvas is W:H with its long side long_side px (the short side is
 * rounded to the nearest pixel).  Every image is scaled up or down to fit its
 * cell (aspect kept, never cropped) and centred in it; alpha is flattened
 * onto the background.  Cells, with a margin of 3% of the long side around
 * and between them:
 *   1 image   one cell, the whole canvas less the margin
 *   2 images  side by side (landscape or square canvas), stacked (portrait)
 *   3 images  a 2x2 grid whose third cell is centred on the bottom row
 *   4 images  a 2x2 grid
 * The output is a PNG, sRGB, 8 bits, 3 bands, no metadata; the same inputs
 * give the same bytes. */
#ifndef BG_LAYOUT_H
#define BG_LAYOUT_H

#include <stddef.h>

#define LAYOUT_MIN_SIDE 16
#define LAYOUT_MAX_SIDE 8192
#define LAYOUT_MAX_IMAGES 4

struct layout_src { const unsigned char *data; size_t len; };

/* Lay out n (1..4) images contained and centred on a canvas of aspect ratio
 * `aspect` ("W:H", e.g. "16:9") whose long side is long_side px, on
 * `background` ("#rrggbb", "#rgb" or a few names like "white"; NULL = white).
 * Inputs are PNG, JPEG or WebP bytes.
 * Returns PNG bytes (free(3)), *len set; NULL with *err (free(3)) on failure. */
unsigned char *layout_render(const struct layout_src *src, int n, const char *aspect,
    const char *background, int long_side, size_t *len, char **err);

/* The same with variant k >= 0: 0 is layout_render's picture; k > 0
 * shrinks every image 8, 16 or 24 % towards a corner of its cell and
 * tints the background towards one of four hues (period 12), so that a
 * job's variations differ; the same k gives the same bytes. */
unsigned char *layout_render_var(const struct layout_src *src, int n,
    const char *aspect, const char *background, int long_side, int variant,
    size_t *len, char **err);

/* The canvas size for aspect ("W:H", W and H positive numbers such as 16 or
 * 1.91, at most 10:1 either way) and long_side (16..8192): 0 with *w, *h
 * set, or -1 if either is invalid.  Needs no libvips. */
int layout_canvas(const char *aspect, int long_side, int *w, int *h);

/* Parse a background colour ("#rrggbb", "#rgb", or white, black, gray/grey,
 * lightgray/lightgrey, silver, whitesmoke; NULL = white) into 0..255
 * values: 0, or -1 if it is not one of those. */
int layout_colour(const char *background, double rgb[3]);

#endif
