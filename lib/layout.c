/* layout: reference images contained in cells on a canvas (libvips).
 *
 * Each input is decoded on its own, in full, before it is drawn: a broken
 * image then fails with its own number, not somewhere inside the final
 * PNG encode.  vips_thumbnail_buffer does the resizing because it shrinks
 * on load (JPEG, WebP), honours EXIF orientation, converts CMYK and
 * embedded profiles to sRGB, and resamples with lanczos3. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vipsdl.h"

#include "err.h"
#include "image.h"
#include "layout.h"
#include "util.h"

/* Refuse decompression bombs: decoding is bounded by the header's size. */
#define MAX_PIXELS 100000000.0
#define MAX_RATIO 10.0

struct rect { int x, y, w, h; };

static const struct { const char *name; unsigned rgb; } colours[] = {
	{ "white", 0xffffff }, { "black", 0x000000 },
	{ "gray", 0x808080 }, { "grey", 0x808080 },
	{ "lightgray", 0xd3d3d3 }, { "lightgrey", 0xd3d3d3 },
	{ "silver", 0xc0c0c0 }, { "whitesmoke", 0xf5f5f5 },
};

/* One side of "W:H": digits with at most one '.', e.g. 16 or 1.91. */
static int
ratio_part(const char *s, size_t n, double *v)
{
	double scale = 1;
	int dot = 0, digits = 0;
	size_t i;

	if (n == 0 || n > 8)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = 1;
		} else if (isdigit((unsigned char)s[i])) {
			digits++;
			if (dot)
				*v += (s[i] - '0') * (scale /= 10);
			else
				*v = *v * 10 + (s[i] - '0');
		} else {
			return -1;
		}
	}
	return digits && *v > 0 ? 0 : -1;
}

int
layout_canvas(const char *aspect, int long_side, int *w, int *h)
{
	const char *colon;
	double aw, ah, r;
	int shrt;

	if (!aspect || long_side < LAYOUT_MIN_SIDE || long_side > LAYOUT_MAX_SIDE)
		return -1;
	if (!(colon = strchr(aspect, ':')) ||
	    ratio_part(aspect, colon - aspect, &aw) ||
	    ratio_part(colon + 1, strlen(colon + 1), &ah))
		return -1;
	r = aw > ah ? aw / ah : ah / aw;
	if (r > MAX_RATIO)
		return -1;
	shrt = (int)floor(long_side / r + 0.5);
	if (shrt < 1)
		shrt = 1;
	*w = aw >= ah ? long_side : shrt;
	*h = aw >= ah ? shrt : long_side;
	return 0;
}

int
layout_colour(const char *bg, double rgb[3])
{
	unsigned v = 0;
	size_t i, n;
	int d;

	if (!bg)
		bg = "white";
	if (bg[0] == '#') {
		n = strlen(++bg);
		if (n != 3 && n != 6)
			return -1;
		for (i = 0; i < n; i++) {
			if ((d = util_hexval((unsigned char)bg[i])) < 0)
				return -1;
			/* #rgb means #rrggbb */
			v = n == 3 ? v << 8 | d << 4 | d : v << 4 | d;
		}
	} else {
		for (i = 0; i < sizeof colours / sizeof *colours; i++)
			if (!strcasecmp(bg, colours[i].name))
				break;
		if (i == sizeof colours / sizeof *colours)
			return -1;
		v = colours[i].rgb;
	}
	rgb[0] = v >> 16 & 0xff;
	rgb[1] = v >> 8 & 0xff;
	rgb[2] = v & 0xff;
	return 0;
}

/* libvips reports much of what is wrong with an input as GLib warnings
 * on stderr ("not enough data"): while an image is decoded they are kept
 * here instead, the first one as the reason should the decode fail, so a
 * batch of broken uploads does not flood bg-generate's stderr. */
static char warned[160];

static void
keep_warning(const char *domain, GLogLevelFlags level, const char *msg,
    void *data)
{
	if (!warned[0] && msg)
		snprintf(warned, sizeof warned, "%s", msg);
}

/* libvips' last error as "reason": its first line (else the first warning),
 * then the log cleared. */
static char *
vips_reason(void)
{
	const char *e = vips_error_buffer();
	size_t n;
	char *s;

	if (!e[0])
		e = warned;
	n = strcspn(e, "\n");
	while (n > 0 && (e[n - 1] == '.' || e[n - 1] == ' '))
		n--;
	s = n ? estrndup(e, n) : estrdup("corrupt or unsupported data");
	vips_error_clear();
	return s;
}

static void
cells(int n, int w, int h, struct rect *c)
{
	int m = (w > h ? w : h) * 3 / 100, cw, ch, i;

	if (n == 1) {
		c[0] = (struct rect){ m, m, w - 2 * m, h - 2 * m };
		return;
	}
	if (n == 2 && w >= h) {
		cw = (w - 3 * m) / 2;
		c[0] = (struct rect){ m, m, cw, h - 2 * m };
		c[1] = (struct rect){ w - m - cw, m, cw, h - 2 * m };
		return;
	}
	if (n == 2) {
		ch = (h - 3 * m) / 2;
		c[0] = (struct rect){ m, m, w - 2 * m, ch };
		c[1] = (struct rect){ m, h - m - ch, w - 2 * m, ch };
		return;
	}
	cw = (w - 3 * m) / 2;
	ch = (h - 3 * m) / 2;
	for (i = 0; i < n; i++)
		c[i] = (struct rect){ i % 2 ? w - m - cw : m,
		    i / 2 ? h - m - ch : m, cw, ch };
	if (n == 3)	/* a lone last image reads better centred */
		c[2].x = (w - cw) / 2;
}

/* Image no (1-based) decoded, fitted into a cell of w x h, flattened onto
 * bg, as 3-band sRGB uchar in memory; NULL with *err set. */
static VipsImage *
fit(const struct layout_src *s, int no, int w, int h, const double bg[3],
    char **err)
{
	VipsImage *t[6] = { 0 }, *out = NULL;
	VipsArrayDouble *ink = NULL;
	const char *mime;
	char *why;
	unsigned handler;
	int iw, ih, icc, i, k = 0;

	if (!s->data || !s->len) {
		*err = easprintf("image %d: empty", no);
		return NULL;
	}
	if (!(mime = image_sniff(s->data, s->len))) {
		*err = easprintf("image %d: not a PNG, JPEG or WebP image", no);
		return NULL;
	}
	warned[0] = '\0';
	handler = g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, keep_warning,
	    NULL);
	/* the header alone: cheap, and tells a bomb before it is decoded */
	if (!(t[0] = vips_image_new_from_buffer(s->data, s->len, "", NULL)))
		goto bad;
	iw = vips_image_get_width(t[0]);
	ih = vips_image_get_height(t[0]);
	icc = vips_image_get_typeof(t[0], VIPS_META_ICC_NAME) != 0;
	g_object_unref(t[0]);
	t[0] = NULL;
	if ((double)iw * ih > MAX_PIXELS) {
		*err = easprintf("image %d: %s of %dx%d pixels is over the "
		    "limit of %.0f megapixels", no, mime, iw, ih, MAX_PIXELS / 1e6);
		goto done;
	}
	/* fail_on=error: a truncated or corrupt image fails here rather
	 * than coming out half grey.  export_profile: an image with an
	 * embedded profile (Display P3, Adobe RGB) is converted to sRGB;
	 * without it libvips 8.14 keeps the profile, which the stripped PNG
	 * then loses, and the colours shift.  Not for untagged images:
	 * there libvips 8.14 changes sRGB 220,20,20 into 216,34,19. */
	if (vips_thumbnail_buffer((void *)s->data, s->len, &t[k], w,
	    "height", h, "size", VIPS_SIZE_BOTH,
	    "export_profile", icc ? "srgb" : NULL,
	    "fail_on", VIPS_FAIL_ON_ERROR, NULL))
		goto bad;
	/* grey, 16-bit, CMYK leftovers: all to 8-bit sRGB (alpha kept) */
	if (vips_colourspace(t[k], &t[k + 1], VIPS_INTERPRETATION_sRGB, NULL))
		goto bad;
	k++;
	if (vips_image_hasalpha(t[k])) {
		ink = vips_array_double_new(bg, 3);
		if (vips_flatten(t[k], &t[k + 1], "background", ink, NULL))
			goto bad;
		k++;
	}
	if (t[k]->Bands > 3) {
		if (vips_extract_band(t[k], &t[k + 1], 0, "n", 3, NULL))
			goto bad;
		k++;
	}
	if (vips_cast_uchar(t[k], &t[k + 1], NULL))
		goto bad;
	k++;
	/* decode now, so that a failure names this image */
	if (!(out = vips_image_copy_memory(t[k])))
		goto bad;
	goto done;
bad:
	why = vips_reason();
	*err = easprintf("image %d: cannot decode %s: %s", no, mime, why);
	free(why);
done:
	g_log_remove_handler("VIPS", handler);
	if (ink)
		vips_area_unref(VIPS_AREA(ink));
	for (i = 0; i < (int)(sizeof t / sizeof *t); i++)
		if (t[i])
			g_object_unref(t[i]);
	return out;
}

/* Variation k (0 = the plain layout) of the cells and background: each
 * image shrunk by 8, 16 or 24 % towards a corner of its cell, and the
 * background tinted 30 % towards one of four hues, so the variations of a
 * job are different pictures, and the same k always the same one. */
static void
vary(int k, int n, struct rect *c, double bg[3])
{
	static const double hue[4][3] = {
		{ 255, 214, 170 }, { 170, 200, 255 },
		{ 180, 235, 185 }, { 225, 190, 245 },
	};
	double s;
	int i, dw, dh, t;

	if (k <= 0)
		return;
	t = (k - 1) % 4;
	for (i = 0; i < 3; i++)
		bg[i] = floor(bg[i] * 0.7 + hue[t][i] * 0.3 + 0.5);
	s = 0.08 * (1 + (k - 1) % 3);
	for (i = 0; i < n; i++) {
		dw = (int)(c[i].w * s);
		dh = (int)(c[i].h * s);
		c[i].w -= dw;
		c[i].h -= dh;
		c[i].x += k % 2 ? dw : 0;
		c[i].y += k / 2 % 2 ? dh : 0;
	}
}

unsigned char *
layout_render(const struct layout_src *src, int n, const char *aspect,
    const char *background, int long_side, size_t *len, char **err)
{
	return layout_render_var(src, n, aspect, background, long_side, 0,
	    len, err);
}

unsigned char *
layout_render_var(const struct layout_src *src, int n, const char *aspect,
    const char *background, int long_side, int variant, size_t *len,
    char **err)
{
	VipsImage *t = NULL, *canvas = NULL, *tile;
	struct rect cell[LAYOUT_MAX_IMAGES];
	unsigned char *out = NULL;
	double bg[3];
	void *buf = NULL;
	size_t blen = 0;
	char *why;
	int w, h, i, r;

	image_init();
	*len = 0;
	*err = NULL;
	if (n < 1 || n > LAYOUT_MAX_IMAGES || !src) {
		*err = easprintf("need 1 to %d images, got %d",
		    LAYOUT_MAX_IMAGES, src ? n : 0);
		return NULL;
	}
	if (long_side < LAYOUT_MIN_SIDE || long_side > LAYOUT_MAX_SIDE) {
		*err = easprintf("long side %d out of range %d..%d", long_side,
		    LAYOUT_MIN_SIDE, LAYOUT_MAX_SIDE);
		return NULL;
	}
	if (layout_canvas(aspect, long_side, &w, &h)) {
		*err = easprintf("bad aspect ratio '%.40s' (want W:H up to "
		    "10:1, e.g. 16:9)", aspect ? aspect : "");
		return NULL;
	}
	if (layout_colour(background, bg)) {
		*err = easprintf("bad background '%.40s' (want #rrggbb, #rgb "
		    "or white, black, gray, lightgray, silver, whitesmoke)",
		    background);
		return NULL;
	}
	cells(n, w, h, cell);
	vary(variant, n, cell, bg);

	if (vips_black(&t, w, h, "bands", 3, NULL) ||
	    !(canvas = vips_image_copy_memory(t)) ||
	    vips_draw_rect(canvas, bg, 3, 0, 0, w, h, "fill", TRUE, NULL))
		goto vipsfail;
	for (i = 0; i < n; i++) {
		if (!(tile = fit(&src[i], i + 1, cell[i].w, cell[i].h, bg, err)))
			goto fail;
		r = vips_draw_image(canvas, tile,
		    cell[i].x + (cell[i].w - tile->Xsize) / 2,
		    cell[i].y + (cell[i].h - tile->Ysize) / 2, NULL);
		g_object_unref(tile);
		if (r)
			goto vipsfail;
	}
	/* adaptive filters at level 3: measured on a 1024 px layout of
	 * photos, 18% smaller than libvips' default (no filter, level 6) in
	 * about the same time; level 6 with filters saves 7% more for 70%
	 * more time, and on noisy images level 6 costs 4x level 1 */
	if (vips_pngsave_buffer(canvas, &buf, &blen, "strip", TRUE,
	    "compression", 3, "filter", VIPS_FOREIGN_PNG_FILTER_ALL, NULL))
		goto vipsfail;
	/* the contract says free(3): do not hand out GLib's allocation */
	out = emalloc(blen);
	memcpy(out, buf, blen);
	g_free(buf);
	*len = blen;
	goto fail;
vipsfail:
	why = vips_reason();
	*err = easprintf("layout: %s", why);
	free(why);
fail:
	if (canvas)
		g_object_unref(canvas);
	if (t)
		g_object_unref(t);
	return out;
}
