/* Unit tests for lib/layout: canvas sizes, cell placement, colours,
 * alpha, input formats, errors, determinism.  Source images are made in
 * memory with libvips; outputs are read back with vips_getpoint. */
#include <stdlib.h>

#include "vipsdl.h"

#include "err.h"
#include "image.h"
#include "layout.h"
#include "test.h"

struct buf { void *data; size_t len; };

/* A w x h image of one colour (alpha < 0: none), saved as fmt; g_free. */
static struct buf
make(const char *fmt, int w, int h, int r, int g, int b, int alpha)
{
	VipsImage *t[4] = { 0 }, *im;
	double a[3] = { 1, 1, 1 }, c[3];
	struct buf o = { 0 };
	int i;

	c[0] = r, c[1] = g, c[2] = b;
	if (vips_black(&t[0], w, h, "bands", 3, NULL) ||
	    vips_linear(t[0], &t[1], a, c, 3, NULL) ||
	    vips_cast_uchar(t[1], &t[2], NULL))
		die(3, "make: %s", vips_error_buffer());
	im = t[2];
	if (alpha >= 0) {
		if (vips_bandjoin_const1(t[2], &t[3], alpha, NULL))
			die(3, "make: %s", vips_error_buffer());
		im = t[3];
	}
	if (!strcmp(fmt, "png") ?
	    vips_pngsave_buffer(im, &o.data, &o.len, NULL) :
	    !strcmp(fmt, "jpg") ?
	    vips_jpegsave_buffer(im, &o.data, &o.len, "Q", 95, NULL) :
	    vips_webpsave_buffer(im, &o.data, &o.len, "lossless", TRUE, NULL))
		die(3, "make: %s", vips_error_buffer());
	for (i = 0; i < 4; i++)
		if (t[i])
			g_object_unref(t[i]);
	return o;
}

/* An image from a libvips pipeline's last stage, saved as PNG; g_free. */
static struct buf
save(VipsImage *im)
{
	struct buf o = { 0 };

	if (vips_pngsave_buffer(im, &o.data, &o.len, NULL))
		die(3, "save: %s", vips_error_buffer());
	return o;
}

static VipsImage *
load(const unsigned char *png, size_t len)
{
	VipsImage *im = vips_image_new_from_buffer(png, len, "", NULL);

	if (!im)
		die(3, "load: %s", vips_error_buffer());
	return im;
}

/* Pixel (x, y) of a 3-band image into p; the number of bands. */
static int
pixel(VipsImage *im, int x, int y, double p[3])
{
	double *v;
	int n, i;

	if (vips_getpoint(im, &v, &n, x, y, NULL))
		die(3, "getpoint: %s", vips_error_buffer());
	for (i = 0; i < 3; i++)
		p[i] = i < n ? v[i] : -1;
	g_free(v);
	return n;
}

/* Is pixel (x, y) within tol of r, g, b?  Says what it saw if not. */
static int
near(VipsImage *im, int x, int y, int r, int g, int b, int tol)
{
	double v[3];
	int n = pixel(im, x, y, v), ok;

	ok = n == 3 && abs((int)v[0] - r) <= tol && abs((int)v[1] - g) <= tol &&
	    abs((int)v[2] - b) <= tol;
	if (!ok)
		printf("# pixel %d,%d: %g %g %g (want %d %d %d)\n", x, y,
		    v[0], v[1], v[2], r, g, b);
	return ok;
}

static int
is_white(VipsImage *im, int x, int y)
{
	double v[3];

	pixel(im, x, y, v);
	return v[0] > 247 && v[1] > 247 && v[2] > 247;
}

static const int col[4][3] = {
	{ 220, 20, 20 }, { 20, 200, 20 }, { 20, 20, 220 }, { 230, 200, 0 },
};

static void
test_sizes(void)
{
	static const struct { const char *aspect; int w, h; } t[] = {
		{ "1:1", 256, 256 }, { "2:3", 171, 256 }, { "3:2", 256, 171 },
		{ "3:4", 192, 256 }, { "4:3", 256, 192 }, { "4:5", 205, 256 },
		{ "5:4", 256, 205 }, { "9:16", 144, 256 }, { "16:9", 256, 144 },
		{ "21:9", 256, 110 },
	};
	static const char *fmts[4] = { "png", "jpg", "webp", "png" };
	struct layout_src src[4];
	struct buf in[4];
	int i, n, ok_size = 1, ok_png = 1, ok_bg = 1, ok_img = 1, ok_fmt = 1;
	int px[4][2];

	/* different shapes: a tall, a wide and two square sources */
	for (i = 0; i < 4; i++) {
		in[i] = make(fmts[i], i == 0 ? 30 : 48, i == 1 ? 24 : 48,
		    col[i][0], col[i][1], col[i][2], -1);
		src[i] = (struct layout_src){ in[i].data, in[i].len };
	}
	for (i = 0; i < (int)(sizeof t / sizeof *t); i++) {
		for (n = 1; n <= 4; n++) {
			unsigned char *png;
			size_t len;
			char *err = NULL;
			VipsImage *im;
			int w = t[i].w, h = t[i].h, k;

			png = layout_render(src, n, t[i].aspect, "#102030", 256,
			    &len, &err);
			if (!png) {
				printf("# %s n=%d: %s\n", t[i].aspect, n, err);
				ok_png = 0;
				free(err);
				continue;
			}
			if (!image_sniff(png, len) ||
			    strcmp(image_sniff(png, len), "image/png"))
				ok_png = 0;
			im = load(png, len);
			if (im->Xsize != w || im->Ysize != h) {
				printf("# %s n=%d: %dx%d, want %dx%d\n", t[i].aspect,
				    n, im->Xsize, im->Ysize, w, h);
				ok_size = 0;
			}
			if (im->Bands != 3 || im->BandFmt != VIPS_FORMAT_UCHAR ||
			    vips_image_guess_interpretation(im) !=
			    VIPS_INTERPRETATION_sRGB)
				ok_fmt = 0;
			if (!near(im, 0, 0, 0x10, 0x20, 0x30, 0) ||
			    !near(im, w - 1, 0, 0x10, 0x20, 0x30, 0) ||
			    !near(im, 0, h - 1, 0x10, 0x20, 0x30, 0) ||
			    !near(im, w - 1, h - 1, 0x10, 0x20, 0x30, 0))
				ok_bg = 0;
			/* where each image's centre should be */
			if (n == 1) {
				px[0][0] = w / 2, px[0][1] = h / 2;
			} else if (n == 2 && w >= h) {
				px[0][0] = w / 4, px[0][1] = h / 2;
				px[1][0] = 3 * w / 4, px[1][1] = h / 2;
			} else if (n == 2) {
				px[0][0] = w / 2, px[0][1] = h / 4;
				px[1][0] = w / 2, px[1][1] = 3 * h / 4;
			} else {
				for (k = 0; k < 4; k++)
					px[k][0] = (k % 2 ? 3 : 1) * w / 4,
					px[k][1] = (k / 2 ? 3 : 1) * h / 4;
				if (n == 3)
					px[2][0] = w / 2;
			}
			for (k = 0; k < n; k++)
				if (!near(im, px[k][0], px[k][1], col[k][0],
				    col[k][1], col[k][2], 6)) {
					printf("# %s n=%d image %d\n",
					    t[i].aspect, n, k + 1);
					ok_img = 0;
				}
			/* 3: the bottom row's right quarter stays empty */
			if (n == 3 && !near(im, 7 * w / 8, 3 * h / 4,
			    0x10, 0x20, 0x30, 0))
				ok_img = 0;
			g_object_unref(im);
			free(png);
		}
	}
	CHECK(ok_png, "40 layouts (10 aspects x 1..4 images) give PNG");
	CHECK(ok_size, "canvas size: long side exact, short side rounded");
	CHECK(ok_fmt, "output is 3-band 8-bit sRGB");
	CHECK(ok_bg, "background colour at all four corners");
	CHECK(ok_img, "each image's colour at its cell's centre");
	for (i = 0; i < 4; i++)
		g_free(in[i].data);
}

static void
test_canvas(void)
{
	int w = 0, h = 0;

	CHECK(!layout_canvas("1.91:1", 1024, &w, &h) && w == 1024 && h == 536,
	    "decimal ratio 1.91:1 at 1024 is 1024x536");
	CHECK(!layout_canvas("1:10", 16, &w, &h) && w == 2 && h == 16,
	    "1:10 at the minimum long side");
	CHECK(!layout_canvas("16:9", 8192, &w, &h) && w == 8192 && h == 4608,
	    "16:9 at the maximum long side");
	CHECK(layout_canvas("16:9", 15, &w, &h) == -1, "long side 15 refused");
	CHECK(layout_canvas("16:9", 8193, &w, &h) == -1, "long side 8193 refused");
	CHECK(layout_canvas("11:1", 256, &w, &h) == -1, "11:1 refused");
	CHECK(layout_canvas("16x9", 256, &w, &h) == -1, "16x9 refused");
	CHECK(layout_canvas("1.2.3:1", 256, &w, &h) == -1, "1.2.3:1 refused");
	CHECK(layout_canvas("-16:9", 256, &w, &h) == -1, "-16:9 refused");
	CHECK(layout_canvas(" 16:9", 256, &w, &h) == -1, "leading space refused");
}

static void
test_colours(void)
{
	double c[3];

	CHECK(!layout_colour(NULL, c) && c[0] == 255 && c[1] == 255 && c[2] == 255,
	    "no background is white");
	CHECK(!layout_colour("#1a2B3c", c) && c[0] == 0x1a && c[1] == 0x2b &&
	    c[2] == 0x3c, "#rrggbb, either case");
	CHECK(!layout_colour("#f80", c) && c[0] == 0xff && c[1] == 0x88 &&
	    c[2] == 0x00, "#rgb doubles each digit");
	CHECK(!layout_colour("LightGrey", c) && c[0] == 0xd3, "names, any case");
	CHECK(layout_colour("#12", c) == -1, "#12 refused");
	CHECK(layout_colour("#12345g", c) == -1, "#12345g refused");
	CHECK(layout_colour("transparent", c) == -1, "transparent refused");
	CHECK(layout_colour("", c) == -1, "empty background refused");
}

static void
test_alpha_and_formats(void)
{
	struct buf clear = make("png", 40, 40, 255, 0, 0, 0);
	struct buf half = make("png", 40, 40, 255, 0, 0, 128);
	struct buf webpa = make("webp", 40, 40, 0, 0, 255, 0);
	struct layout_src s;
	VipsImage *t[3] = { 0 }, *im;
	unsigned char *png;
	struct buf grey, deep;
	size_t len;
	char *err = NULL;
	int i;

	s = (struct layout_src){ clear.data, clear.len };
	png = layout_render(&s, 1, "1:1", "#00ff00", 64, &len, &err);
	im = load(png, len);
	CHECK(near(im, 32, 32, 0, 255, 0, 0),
	    "fully transparent input shows the background");
	g_object_unref(im);
	free(png);

	s = (struct layout_src){ half.data, half.len };
	png = layout_render(&s, 1, "1:1", "white", 64, &len, &err);
	im = load(png, len);
	CHECK(near(im, 32, 32, 255, 127, 127, 2),
	    "half transparent red is flattened to pink on white");
	g_object_unref(im);
	free(png);

	s = (struct layout_src){ webpa.data, webpa.len };
	png = layout_render(&s, 1, "1:1", "black", 64, &len, &err);
	im = load(png, len);
	CHECK(im->Bands == 3 && near(im, 32, 32, 0, 0, 0, 0),
	    "WebP alpha flattened to 3 bands");
	g_object_unref(im);
	free(png);

	/* one-band grey, and 16-bit RGB, both become 8-bit sRGB */
	if (vips_black(&t[0], 40, 30, NULL) ||
	    vips_linear1(t[0], &t[1], 1, 100, NULL) ||
	    vips_cast_uchar(t[1], &t[2], NULL))
		die(3, "grey: %s", vips_error_buffer());
	grey = save(t[2]);
	for (i = 0; i < 3; i++)
		g_object_unref(t[i]);
	s = (struct layout_src){ grey.data, grey.len };
	png = layout_render(&s, 1, "4:3", NULL, 64, &len, &err);
	im = load(png, len);
	CHECK(im->Bands == 3 && near(im, 32, 24, 100, 100, 100, 1),
	    "grey input comes out as 3-band grey");
	g_object_unref(im);
	free(png);

	if (vips_black(&t[0], 30, 30, "bands", 3, NULL) ||
	    vips_linear1(t[0], &t[1], 1, 40000, NULL) ||
	    vips_cast_ushort(t[1], &t[2], NULL))
		die(3, "deep: %s", vips_error_buffer());
	t[2]->Type = VIPS_INTERPRETATION_RGB16;
	deep = save(t[2]);
	for (i = 0; i < 3; i++)
		g_object_unref(t[i]);
	s = (struct layout_src){ deep.data, deep.len };
	png = layout_render(&s, 1, "1:1", "black", 64, &len, &err);
	im = load(png, len);
	CHECK(im->Bands == 3 && im->BandFmt == VIPS_FORMAT_UCHAR &&
	    near(im, 32, 32, 40000 >> 8, 40000 >> 8, 40000 >> 8, 1),
	    "16-bit input comes out as 8 bits");
	g_object_unref(im);
	free(png);

	g_free(clear.data);
	g_free(half.data);
	g_free(webpa.data);
	g_free(grey.data);
	g_free(deep.data);
}

/* A wide source with blue left and right stripes: contained, not cropped. */
static void
test_contain(void)
{
	VipsImage *t[4] = { 0 }, *im;
	double red[3] = { 255, 0, 0 }, blue[3] = { 0, 0, 255 };
	struct layout_src s;
	struct buf wide;
	unsigned char *png;
	size_t len;
	char *err = NULL;
	int i, x0 = -1, x1 = -1, y0 = -1, y1 = -1, left = 0, right = 0;

	if (vips_black(&t[0], 200, 100, "bands", 3, NULL) ||
	    !(t[1] = vips_image_copy_memory(t[0])) ||
	    vips_draw_rect(t[1], red, 3, 0, 0, 200, 100, "fill", TRUE, NULL) ||
	    vips_draw_rect(t[1], blue, 3, 0, 0, 10, 100, "fill", TRUE, NULL) ||
	    vips_draw_rect(t[1], blue, 3, 190, 0, 10, 100, "fill", TRUE, NULL))
		die(3, "wide: %s", vips_error_buffer());
	wide = save(t[1]);
	g_object_unref(t[0]);
	g_object_unref(t[1]);
	s = (struct layout_src){ wide.data, wide.len };
	png = layout_render(&s, 1, "1:1", "white", 256, &len, &err);
	im = load(png, len);
	for (i = 0; i < 256; i++) {	/* the middle row and column */
		if (!is_white(im, i, 128) && (x1 = i, x0 < 0))
			x0 = i;
		if (!is_white(im, 128, i) && (y1 = i, y0 < 0))
			y0 = i;
	}
	if (x0 >= 0) {
		left = near(im, x0 + 2, 128, 0, 0, 255, 10);
		right = near(im, x1 - 2, 128, 0, 0, 255, 10);
	}
	CHECK(x0 > 0 && x1 < 255 && y0 > 0 && y1 < 255,
	    "a margin of background around the image");
	CHECK(left && right, "both edges of a wide image kept (not cropped)");
	CHECK(abs((x1 - x0 + 1) - 2 * (y1 - y0 + 1)) <= 2,
	    "aspect ratio 2:1 kept");
	CHECK(x1 - x0 + 1 >= 256 * 90 / 100, "scaled up to fill its cell");
	g_object_unref(im);
	free(png);
	g_free(wide.data);
}

/* PNG's CRC-32, to forge a header. */
static unsigned long
crc32(const unsigned char *p, size_t n)
{
	unsigned long c = 0xffffffffUL;
	int k;

	while (n--)
		for (c ^= *p++, k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
	return c ^ 0xffffffffUL;
}

static void
be32(unsigned char *p, unsigned long v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* A tiny PNG whose header claims 20000x20000 is refused before decoding;
 * an image with a Display P3 profile comes out converted to sRGB. */
static void
test_header_and_profile(void)
{
	struct buf bomb = make("png", 1, 1, 0, 0, 0, -1), p3;
	unsigned char *b = bomb.data, *png;
	VipsImage *t[4] = { 0 }, *im;
	double a[3] = { 1, 1, 1 }, green[3] = { 0, 200, 0 };
	double red[3] = { 220, 20, 20 };
	struct layout_src s;
	size_t len;
	char *err = NULL;
	int i;

	be32(b + 16, 20000);
	be32(b + 20, 20000);
	be32(b + 29, crc32(b + 12, 17));
	s = (struct layout_src){ bomb.data, bomb.len };
	png = layout_render(&s, 1, "1:1", NULL, 64, &len, &err);
	printf("# %s\n", err ? err : "(no error)");
	CHECK(!png && err && strstr(err, "image 1: image/png of 20000x20000"),
	    "a 400 megapixel header is refused");
	free(err);
	free(png);
	g_free(bomb.data);

	if (vips_black(&t[0], 32, 32, "bands", 3, NULL) ||
	    vips_linear(t[0], &t[1], a, green, 3, NULL) ||
	    vips_cast_uchar(t[1], &t[2], NULL) ||
	    vips_icc_transform(t[2], &t[3], "p3", "input_profile", "srgb",
	    NULL))
		die(3, "p3: %s", vips_error_buffer());
	p3 = save(t[3]);
	for (i = 0; i < 4; i++)
		g_object_unref(t[i]);
	s = (struct layout_src){ p3.data, p3.len };
	png = layout_render(&s, 1, "1:1", NULL, 64, &len, &err);
	im = load(png, len);
	CHECK(near(im, 32, 32, 0, 200, 0, 4),
	    "an embedded Display P3 profile is converted to sRGB");
	g_object_unref(im);
	free(png);
	g_free(p3.data);

	/* tagged sRGB (most camera JPEGs) keeps its numbers */
	if (vips_black(&t[0], 32, 32, "bands", 3, NULL) ||
	    vips_linear(t[0], &t[1], a, red, 3, NULL) ||
	    vips_cast_uchar(t[1], &t[2], NULL) ||
	    vips_icc_transform(t[2], &t[3], "srgb", "input_profile", "srgb",
	    NULL))
		die(3, "srgb: %s", vips_error_buffer());
	p3 = save(t[3]);
	for (i = 0; i < 4; i++)
		g_object_unref(t[i]);
	s = (struct layout_src){ p3.data, p3.len };
	png = layout_render(&s, 1, "1:1", NULL, 64, &len, &err);
	im = load(png, len);
	CHECK(near(im, 32, 32, 220, 20, 20, 2),
	    "an embedded sRGB profile keeps the colours");
	g_object_unref(im);
	free(png);
	g_free(p3.data);
}

/* A wide JPEG, red left and blue right, tagged "rotate 90 clockwise": it
 * is laid out upright, tall, red on top. */
static void
test_orientation(void)
{
	VipsImage *t[3] = { 0 }, *im;
	double red[3] = { 255, 0, 0 }, blue[3] = { 0, 0, 255 };
	struct layout_src s;
	struct buf jpg = { 0 };
	unsigned char *png;
	size_t len;
	char *err = NULL;

	if (vips_black(&t[0], 120, 60, "bands", 3, NULL) ||
	    !(t[1] = vips_image_copy_memory(t[0])) ||
	    vips_draw_rect(t[1], red, 3, 0, 0, 60, 60, "fill", TRUE, NULL) ||
	    vips_draw_rect(t[1], blue, 3, 60, 0, 60, 60, "fill", TRUE, NULL) ||
	    vips_copy(t[1], &t[2], NULL))
		die(3, "orient: %s", vips_error_buffer());
	vips_image_set_int(t[2], VIPS_META_ORIENTATION, 6);
	if (vips_jpegsave_buffer(t[2], &jpg.data, &jpg.len, "Q", 95, NULL))
		die(3, "orient: %s", vips_error_buffer());
	g_object_unref(t[0]);
	g_object_unref(t[1]);
	g_object_unref(t[2]);
	s = (struct layout_src){ jpg.data, jpg.len };
	png = layout_render(&s, 1, "1:1", "white", 128, &len, &err);
	im = load(png, len);
	CHECK(near(im, 64, 40, 255, 0, 0, 12) && near(im, 64, 88, 0, 0, 255, 12) &&
	    near(im, 25, 64, 255, 255, 255, 0) && near(im, 102, 64, 255, 255, 255, 0),
	    "EXIF orientation honoured (upright, tall, not cropped)");
	g_object_unref(im);
	free(png);
	g_free(jpg.data);
}

static int
fails(const struct layout_src *s, int n, const char *aspect, const char *bg,
    int side, const char *want, const char *desc)
{
	unsigned char *png;
	size_t len = 99;
	char *err = NULL;
	int ok;

	png = layout_render(s, n, aspect, bg, side, &len, &err);
	ok = !png && len == 0 && err && strstr(err, want);
	printf("# %s: %s\n", desc, err ? err : "(no error)");
	CHECK(ok, desc);
	free(png);
	free(err);
	return ok;
}

static void
test_errors(void)
{
	struct buf good = make("png", 20, 20, 1, 2, 3, -1);
	struct buf jpg = make("jpg", 64, 64, 1, 2, 3, -1);
	static const unsigned char junk[] = "this is not an image at all";
	static const unsigned char fakepng[] = "\x89PNG\r\n\x1a\nnot really";
	struct layout_src s[5];
	int i;

	for (i = 0; i < 5; i++)
		s[i] = (struct layout_src){ good.data, good.len };
	fails(s, 1, "foo", NULL, 256, "aspect", "aspect 'foo' fails");
	fails(s, 1, "16:0", NULL, 256, "aspect", "aspect '16:0' fails");
	fails(s, 1, "16:", NULL, 256, "aspect", "aspect '16:' fails");
	fails(s, 1, "16:9:1", NULL, 256, "aspect", "aspect '16:9:1' fails");
	fails(s, 1, NULL, NULL, 256, "aspect", "no aspect fails");
	fails(s, 0, "1:1", NULL, 256, "got 0", "n=0 fails");
	fails(s, 5, "1:1", NULL, 256, "got 5", "n=5 fails");
	fails(s, 1, "1:1", NULL, 15, "long side", "long side 15 fails");
	fails(s, 1, "1:1", NULL, 8193, "long side", "long side 8193 fails");
	fails(s, 1, "1:1", "#12", 256, "background", "background '#12' fails");
	fails(s, 1, "1:1", "mauve-ish", 256, "background",
	    "unknown colour name fails");

	s[1] = (struct layout_src){ junk, sizeof junk - 1 };
	fails(s, 3, "1:1", NULL, 256, "image 2: not a PNG, JPEG or WebP",
	    "garbage bytes fail naming image 2");
	s[1] = (struct layout_src){ fakepng, sizeof fakepng - 1 };
	fails(s, 2, "1:1", NULL, 256, "image 2: cannot decode image/png",
	    "PNG magic with garbage after it fails naming image 2");
	s[1] = (struct layout_src){ NULL, 0 };
	fails(s, 2, "1:1", NULL, 256, "image 2: empty", "empty image 2 fails");
	s[1] = (struct layout_src){ good.data, good.len };
	/* a JPEG cut in half decodes its header but not its pixels */
	s[2] = (struct layout_src){ jpg.data, jpg.len / 2 };
	fails(s, 4, "1:1", NULL, 256, "image 3: cannot decode image/jpeg",
	    "truncated JPEG fails naming image 3");
	g_free(good.data);
	g_free(jpg.data);
}

static void
test_determinism(void)
{
	struct buf a = make("jpg", 120, 80, 200, 100, 50, -1);
	struct buf b = make("png", 60, 90, 10, 100, 250, 100);
	struct layout_src s[2] = { { a.data, a.len }, { b.data, b.len } };
	unsigned char *p1, *p2;
	size_t l1 = 0, l2 = 0;
	char *err = NULL;

	p1 = layout_render(s, 2, "4:5", "whitesmoke", 300, &l1, &err);
	p2 = layout_render(s, 2, "4:5", "whitesmoke", 300, &l2, &err);
	CHECK(p1 && p2 && l1 == l2 && !memcmp(p1, p2, l1),
	    "same inputs give the same bytes");
	free(p1);
	free(p2);
	g_free(a.data);
	g_free(b.data);
}

/* A job's variations are different pictures (the demo's "2 variations"
 * must not be one file under two names), each one stable. */
static void
test_variants(void)
{
	struct buf a = make("png", 120, 80, 200, 100, 50, -1);
	struct layout_src s[1] = { { a.data, a.len } };
	unsigned char *p[4], *again;
	size_t l[4], la = 0;
	char *err = NULL;
	int i, k, differ = 1;

	for (i = 0; i < 4; i++)
		p[i] = layout_render_var(s, 1, "1:1", "white", 128, i, &l[i],
		    &err);
	for (i = 0; i < 4; i++)
		for (k = i + 1; k < 4; k++)
			if (!p[i] || !p[k] || (l[i] == l[k] &&
			    !memcmp(p[i], p[k], l[i])))
				differ = 0;
	CHECK(differ, "variants 0..3 give four different pictures");
	again = layout_render_var(s, 1, "1:1", "white", 128, 2, &la, &err);
	CHECK(again && la == l[2] && !memcmp(again, p[2], la),
	    "the same variant gives the same bytes");
	free(again);
	again = layout_render(s, 1, "1:1", "white", 128, &la, &err);
	CHECK(again && la == l[0] && !memcmp(again, p[0], la),
	    "variant 0 is the plain layout");
	free(again);
	for (i = 0; i < 4; i++)
		free(p[i]);
	g_free(a.data);
}

int
main(int argc, char **argv)
{
	err_init(argv[0]);
	image_init();
	test_canvas();
	test_colours();
	test_sizes();
	test_alpha_and_formats();
	test_contain();
	test_orientation();
	test_header_and_profile();
	test_errors();
	test_determinism();
	test_variants();
	return t_failed;
}
