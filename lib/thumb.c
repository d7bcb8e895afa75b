/* thumb: libvips thumbnails cached by a hash of the source file's identity.
 *
 * The source is read into memory and given to vips_thumbnail_buffer, not
 * named to vips_thumbnail: libvips parses "[options]" in file names, and
 * image paths come from records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipsdl.h"

#include "err.h"
#include "image.h"
#include "store.h"
#include "thumb.h"
#include "util.h"

#define SRC_MAX ((size_t)64 << 20)	/* bigger files are not thumbnailed */

char *
thumb_make(const char *src, const char *dir, int size)
{
	struct stat st;
	char hex[65], *id, *name, *path, *data;
	void *out = NULL;
	size_t len, outlen = 0;
	VipsImage *im = NULL;
	int rc;

	if (stat(src, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > SRC_MAX)
		return NULL;
	id = easprintf("%s\n%lld\n%lld.%09ld\n%d", src, (long long)st.st_size,
	    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, size);
	util_sha256_hex(id, strlen(id), hex);
	free(id);
	hex[32] = '\0';
	name = easprintf("%s.webp", hex);
	path = easprintf("%s/%s", dir, name);
	if (access(path, F_OK) == 0) {
		free(path);
		return name;
	}
	if (!(data = store_read_file(src, SRC_MAX, &len)))
		goto fail;
	if (!image_sniff(data, len)) {
		free(data);
		goto fail;
	}
	image_init();
	rc = vips_thumbnail_buffer(data, len, &im, size, "height", size,
	    NULL);
	if (rc == 0)
		rc = vips_webpsave_buffer(im, &out, &outlen, "Q", 80, NULL);
	if (im)
		g_object_unref(im);
	free(data);
	if (rc != 0) {
		vips_error_clear();
		goto fail;
	}
	if (store_write_atomic(path, out, outlen) < 0) {
		warnx("%s:", path);
		g_free(out);
		goto fail;
	}
	g_free(out);
	free(path);
	return name;
fail:
	free(path);
	free(name);
	return NULL;
}
