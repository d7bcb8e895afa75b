/* image: probing headers with libvips (sniffing by magic bytes, which
 * needs no libvips, is mime.c). */
#include "vipsdl.h"

#include "err.h"
#include "image.h"

void
image_init(void)
{
	static int done;

	if (done)
		return;
	vipsdl_open();
	if (VIPS_INIT(argv0))
		die(EXIT_FATAL, "libvips: %s", vips_error_buffer());
	/* a pipeline stage must not spawn a thread per core per image */
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	done = 1;
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
