/* listing: marketplace checks and channel copies with libvips.
 *
 * Every pixel test runs on a thumbnail at most ANALYSE px long (JPEG and
 * WebP shrink on load), flattened onto white and converted to 8-bit sRGB,
 * so a 4096² image never has to be decoded whole.  Copies are made at the
 * profile's target size the same way, so memory is a few images, not the
 * batch. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vipsdl.h"

#include "err.h"
#include "image.h"
#include "listing.h"
#include "provenance.h"

#define ANALYSE 512
#define TRIM_THRESHOLD 10	/* how far from white is the product */

/* Local images freed together: t[i] unref'd with the context. */
struct ctx {
	VipsObject *o;
	VipsImage **t;
};

static void
ctx_new(struct ctx *c)
{
	c->o = VIPS_OBJECT(vips_image_new());
	c->t = (VipsImage **)vips_object_local_array(c->o, 24);
}

static void
ctx_free(struct ctx *c)
{
	g_object_unref(c->o);
	vips_error_clear();
}

static const char *
loader_mime(const char *loader)
{
	static const char *map[][2] = { { "Jpeg", "image/jpeg" },
	    { "Png", "image/png" }, { "Webp", "image/webp" },
	    { "Gif", "image/gif" }, { "Tiff", "image/tiff" } };
	size_t i;

	for (i = 0; loader && i < sizeof map / sizeof map[0]; i++)
		if (strstr(loader, map[i][0]))
			return map[i][1];
	return NULL;
}

/* An ICC profile other than sRGB (by its description) means not sRGB. */
static int
icc_is_srgb(VipsImage *im)
{
	const void *d;
	size_t n;

	if (vips_image_get_typeof(im, VIPS_META_ICC_NAME) == 0)
		return 1;
	if (vips_image_get_blob(im, VIPS_META_ICC_NAME, &d, &n) != 0)
		return 0;
	return memmem(d, n, "sRGB", 4) != NULL ||
	    memmem(d, n, "s\0R\0G\0B", 7) != NULL;
}

/* in as 8-bit sRGB with alpha flattened onto white: c->t[k], t[k+1]... */
static VipsImage *
flat_srgb(struct ctx *c, VipsImage *in, int k)
{
	VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
	VipsImage *im = in;
	int rc = 0;

	if (!icc_is_srgb(im)) {
		rc = vips_icc_transform(im, &c->t[k], "srgb", "embedded", TRUE,
		    NULL);
		im = c->t[k];
	}
	if (!rc && !(rc = vips_colourspace(im, &c->t[k + 1],
	    VIPS_INTERPRETATION_sRGB, NULL)))
		im = c->t[k + 1];
	if (!rc && vips_image_hasalpha(im) && !(rc = vips_flatten(im,
	    &c->t[k + 2], "background", white, NULL)))
		im = c->t[k + 2];
	if (!rc && !(rc = vips_cast_uchar(im, &c->t[k + 3], NULL)))
		rc = vips_image_wio_input(im = c->t[k + 3]);
	vips_area_unref(VIPS_AREA(white));
	return rc ? NULL : im;
}

/* Whether the outer 1 % frame of im (8-bit, 3 bands) is white. */
static int
border_white(struct ctx *c, VipsImage *im, int tol, int k)
{
	int w = im->Xsize, h = im->Ysize, b = VIPS_MAX(1, VIPS_MIN(w, h) / 100);
	int box[4][4] = { { 0, 0, w, b }, { 0, h - b, w, b },
	    { 0, 0, b, h }, { w - b, 0, b, h } };
	double min;
	int i;

	for (i = 0; i < 4; i++) {
		if (vips_extract_area(im, &c->t[k + i], box[i][0], box[i][1],
		    box[i][2], box[i][3], NULL) ||
		    vips_min(c->t[k + i], &min, NULL))
			return -1;
		if (min < 255 - tol)
			return 0;
	}
	return 1;
}

/* The first and last index with a non-zero sum in a projection. */
static void
span(VipsImage *proj, int n, int *first, int *len)
{
	const double *d = (const double *)VIPS_IMAGE_ADDR(proj, 0, 0);
	int i, a = -1, b = -1;

	for (i = 0; i < n; i++)
		if (d[i] > 0) {
			if (a < 0)
				a = i;
			b = i;
		}
	*first = a < 0 ? 0 : a;
	*len = a < 0 ? 0 : b - a + 1;
}

/* The box of pixels darker than white by more than TRIM_THRESHOLD in some
 * channel (im: 8-bit, 3 bands), from the row and column sums of that mask:
 * one pass, where vips_find_trim's median filter costs more than the
 * rest of an export.  0, or -1 when libvips fails. */
static int
trim_box(VipsImage *im, int *l, int *t, int *w, int *h)
{
	VipsImage *m = NULL, *b = NULL, *cols = NULL, *rows = NULL;
	VipsImage *cd = NULL, *rd = NULL;
	int rc = -1;

	if (!vips_relational_const1(im, &m, VIPS_OPERATION_RELATIONAL_LESS,
	    255 - TRIM_THRESHOLD, NULL) &&
	    !vips_bandbool(m, &b, VIPS_OPERATION_BOOLEAN_OR, NULL) &&
	    !vips_project(b, &cols, &rows, NULL) &&
	    !vips_cast(cols, &cd, VIPS_FORMAT_DOUBLE, NULL) &&
	    !vips_cast(rows, &rd, VIPS_FORMAT_DOUBLE, NULL) &&
	    !vips_image_wio_input(cd) && !vips_image_wio_input(rd)) {
		span(cd, cd->Xsize, l, w);
		span(rd, rd->Ysize, t, h);
		rc = 0;
	}
	VIPS_UNREF(m);
	VIPS_UNREF(b);
	VIPS_UNREF(cols);
	VIPS_UNREF(rows);
	VIPS_UNREF(cd);
	VIPS_UNREF(rd);
	return rc;
}

static double
fill_of(int bw, int bh, int w, int h)
{
	if (bw <= 0 || bh <= 0)
		return 0;
	return VIPS_MAX((double)bw / w, (double)bh / h);
}

static void
add(cJSON *problems, const char *code)
{
	cJSON_AddItemToArray(problems, cJSON_CreateString(code));
}

/* The header checks: format, colour, sizes, bytes. */
static void
check_header(VipsImage *im, const struct profile *p, cJSON *problems,
    struct listing_facts *f)
{
	VipsInterpretation in = vips_image_guess_interpretation(im);
	int lo = VIPS_MIN(f->width, f->height), hi = VIPS_MAX(f->width,
	    f->height);

	if (!profile_accepts(p, f->mime))
		add(problems, "bad_format");
	if ((in != VIPS_INTERPRETATION_sRGB && in != VIPS_INTERPRETATION_B_W &&
	    in != VIPS_INTERPRETATION_RGB16 && in != VIPS_INTERPRETATION_GREY16)
	    || !icc_is_srgb(im))
		add(problems, "not_srgb");
	if ((p->min_long && hi < p->min_long) ||
	    (p->min_short && lo < p->min_short))
		add(problems, "image_too_small");
	if ((p->max_side && hi > p->max_side) || (p->max_mp &&
	    (double)f->width * f->height > p->max_mp * 1e6))
		add(problems, "image_too_large");
	if (p->square && f->width != f->height)
		add(problems, "not_square");
	if (p->max_bytes && (double)f->bytes > p->max_bytes)
		add(problems, "file_too_large");
}

/* The pixel checks on a thumbnail: background and fill; -1 unreadable. */
static int
check_pixels(struct ctx *c, const void *img, size_t len,
    const struct profile *p, cJSON *problems, struct listing_facts *f)
{
	VipsImage *im;
	int l, t, w, h;

	if (!p->white && p->fill_min <= 0)
		return 0;
	if (vips_thumbnail_buffer((void *)img, len, &c->t[1], ANALYSE,
	    "height", ANALYSE, "size", VIPS_SIZE_DOWN, NULL) ||
	    !(im = flat_srgb(c, c->t[1], 2)))
		return -1;
	if ((f->white = border_white(c, im, p->tolerance, 6)) < 0 ||
	    trim_box(im, &l, &t, &w, &h) < 0)
		return -1;
	f->fill = fill_of(w, h, im->Xsize, im->Ysize);
	if (p->white && !f->white)
		add(problems, "background_not_white");
	if (p->fill_min > 0 && f->fill + 1e-9 < p->fill_min)
		add(problems, "product_too_small");
	return 0;
}

int
listing_check(const void *img, size_t len, const struct profile *p,
    const char *want_dst, cJSON *problems, struct listing_facts *f)
{
	struct ctx c;
	char *dst;
	int bad = 0;

	memset(f, 0, sizeof *f);
	f->bytes = len;
	image_init();
	ctx_new(&c);
	f->mime = loader_mime(vips_foreign_find_load_buffer(img, len));
	if (!f->mime || !(c.t[0] = vips_image_new_from_buffer(img, len, "",
	    "access", VIPS_ACCESS_SEQUENTIAL, NULL))) {
		f->mime = NULL;
		bad = 1;
	} else {
		f->width = c.t[0]->Xsize;
		f->height = c.t[0]->Ysize;
		check_header(c.t[0], p, problems, f);
		bad = check_pixels(&c, img, len, p, problems, f) < 0;
	}
	ctx_free(&c);
	if (bad) {
		add(problems, "unreadable");
		return cJSON_GetArraySize(problems);
	}
	if (p->provenance) {
		dst = prov_read(img, len);
		if (!dst || !want_dst || strcmp(dst, want_dst))
			add(problems, "provenance_missing");
		free(dst);
	}
	return cJSON_GetArraySize(problems);
}

/* trim_box on a box-filtered copy at most ANALYSE px long, scaled back
 * to im;
 * *err gets the pixels one step of the copy stands for. */
static int
trim_scaled(struct ctx *c, VipsImage *im, int k, int *l, int *t, int *w,
    int *h, int *err)
{
	int lo = VIPS_MAX(im->Xsize, im->Ysize);
	double f = (double)lo / ANALYSE;

	*err = 0;
	if (lo <= ANALYSE)
		return trim_box(im, l, t, w, h);
	if (vips_shrink(im, &c->t[k], f, f, NULL) ||
	    trim_box(c->t[k], l, t, w, h))
		return -1;
	if (*w <= 0 || *h <= 0)
		return 0;
	*err = (int)ceil(f) + 1;
	*l = (int)floor(*l * f);
	*t = (int)floor(*t * f);
	*w = VIPS_MIN(im->Xsize - *l, (int)ceil(*w * f));
	*h = VIPS_MIN(im->Ysize - *t, (int)ceil(*h * f));
	return 0;
}

/* Trim the white margin of im (keeping a small safety edge, so faint
 * shadows are never cut) and pad with white to the profile's fill and
 * squareness; *canvas gets the result (in c->t[k..]).  0 when nothing
 * needed to change, 1 when reframed, -1 on a libvips error. */
static int
reframe(struct ctx *c, VipsImage *im, const struct profile *p, int k,
    VipsImage **canvas)
{
	int l = 0, t = 0, w = im->Xsize, h = im->Ysize, cw, ch, pad, change = 0;
	double fill;

	if (p->fill_target > 0) {
		if (trim_scaled(c, im, k + 2, &l, &t, &w, &h, &pad) < 0)
			return -1;
		fill = fill_of(w, h, im->Xsize, im->Ysize);
		if (w > 0 && h > 0 && fill + 1e-9 < p->fill_min) {
			pad += VIPS_MAX(2, VIPS_MAX(w, h) / 100);
			l = VIPS_MAX(0, l - pad);
			t = VIPS_MAX(0, t - pad);
			w = VIPS_MIN(im->Xsize - l, w + 2 * pad);
			h = VIPS_MIN(im->Ysize - t, h + 2 * pad);
			change = 1;
		} else {
			l = t = 0;
			w = im->Xsize;
			h = im->Ysize;
		}
	}
	cw = change ? (int)ceil(w / p->fill_target) : w;
	ch = change ? (int)ceil(h / p->fill_target) : h;
	/* keep the master's shape: pad the other side out to it */
	if (change && (double)cw / ch < (double)im->Xsize / im->Ysize)
		cw = (int)ceil((double)ch * im->Xsize / im->Ysize);
	else if (change)
		ch = (int)ceil((double)cw * im->Ysize / im->Xsize);
	if (p->square && cw != ch)
		cw = ch = VIPS_MAX(cw, ch);
	if (!change && cw == im->Xsize && ch == im->Ysize)
		return 0;
	if (vips_extract_area(im, &c->t[k], l, t, w, h, NULL) ||
	    vips_gravity(c->t[k], &c->t[k + 1], VIPS_COMPASS_DIRECTION_CENTRE,
	    cw, ch, "extend", VIPS_EXTEND_WHITE, NULL))
		return -1;
	*canvas = c->t[k + 1];
	return 1;
}

static int
encode(VipsImage *im, const struct profile *p, void **out, size_t *outlen)
{
	if (!strcmp(p->format, "png"))
		return vips_pngsave_buffer(im, out, outlen, NULL);
	if (!strcmp(p->format, "webp"))
		return vips_webpsave_buffer(im, out, outlen, "Q", p->quality,
		    NULL);
	return vips_jpegsave_buffer(im, out, outlen, "Q", p->quality,
	    "optimize_coding", TRUE, NULL);
}

int
listing_make(const void *master, size_t len, const struct profile *p,
    const char *xmp, size_t xmplen, void **out, size_t *outlen,
    int *reframed, char *why, size_t n)
{
	struct ctx c;
	VipsImage *im, *cv = NULL;
	int mlong, want, rc = -1, white;

	*out = NULL;
	*reframed = 0;
	image_init();
	ctx_new(&c);
	if (!(c.t[0] = vips_image_new_from_buffer(master, len, "", NULL)) ||
	    vips_thumbnail_buffer((void *)master, len, &c.t[1], p->target,
	    "height", p->target, "size", VIPS_SIZE_DOWN, NULL) ||
	    !(im = flat_srgb(&c, c.t[1], 2))) {
		snprintf(why, n, "unreadable image: %s", vips_error_buffer());
		goto out;
	}
	mlong = VIPS_MAX(c.t[0]->Xsize, c.t[0]->Ysize);
	white = border_white(&c, im, p->tolerance, 6);
	if (white > 0 && (p->fill_target > 0 || p->square))
		*reframed = reframe(&c, im, p, 10, &cv);
	if (white < 0 || *reframed < 0) {
		snprintf(why, n, "reframing: %s", vips_error_buffer());
		goto out;
	}
	if (*reframed) {
		/* back to the size asked for, never beyond the master's */
		want = VIPS_MIN(p->target, mlong);
		if (VIPS_MAX(cv->Xsize, cv->Ysize) != want &&
		    vips_resize(cv, &c.t[14], (double)want /
		    VIPS_MAX(cv->Xsize, cv->Ysize), NULL))
			goto fail;
		im = VIPS_MAX(cv->Xsize, cv->Ysize) != want ? c.t[14] : cv;
	}
	if (vips_copy(im, &c.t[15], NULL))
		goto fail;
	im = c.t[15];
	vips_image_remove(im, VIPS_META_ICC_NAME);	/* sRGB: untagged */
	vips_image_set_blob_copy(im, VIPS_META_XMP_NAME, xmp, xmplen);
	if (encode(im, p, out, outlen))
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(why, n, "encoding: %s", vips_error_buffer());
out:
	ctx_free(&c);
	return rc;
}
