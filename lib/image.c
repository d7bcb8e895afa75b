/* image: sniffing by magic bytes, probing headers with libvips. */
#include <string.h>
#include <strings.h>

#include <vips/vips.h>

#include "err.h"
#include "image.h"

void
image_init(void)
{
	static int done;

	if (done)
		return;
	if (VIPS_INIT(argv0))
		die(EXIT_FATAL, "libvips: %s", vips_error_buffer());
	/* a pipeline stage must not spawn a thread per core per image */
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	done = 1;
}

const char *
image_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

const char *
image_ext(const char *mime)
{
	if (!mime)
		return "bin";
	if (!strcmp(mime, "image/png"))
		return "png";
	if (!strcmp(mime, "image/jpeg"))
		return "jpg";
	if (!strcmp(mime, "image/webp"))
		return "webp";
	return "bin";
}

const char *
image_mime_for_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return NULL;
	if (!strcasecmp(dot, ".png"))
		return "image/png";
	if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))
		return "image/jpeg";
	if (!strcasecmp(dot, ".webp"))
		return "image/webp";
	return NULL;
}

static int
facts(VipsImage *im, int *w, int *h)
{
	if (!im) {
		vips_error_clear();
		return -1;
	}
	*w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	g_object_unref(im);
	return 0;
}

int
image_probe(const void *buf, size_t len, int *w, int *h)
{
	image_init();
	return facts(vips_image_new_from_buffer(buf, len, "", NULL), w, h);
}

int
image_probe_file(const char *path, int *w, int *h)
{
	image_init();
	return facts(vips_image_new_from_file(path, NULL), w, h);
}
