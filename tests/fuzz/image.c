/* Fuzz image sniffing and header probing (lib/image.c): the magic-byte
 * sniffer, the name-to-type map, and libvips reading only the header,
 * which must agree with the sniffer on what is an image. */
#include <string.h>

#include "image.h"
#include "err.h"
#include "util.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	image_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *mime, *ext;
	char *name;
	int w = 0, h = 0;

	mime = image_sniff(data, size);
	ext = image_ext(mime);
	fz_assert(ext && (mime || !strcmp(ext, "bin")));
	name = estrndup((const char *)data, size > 64 ? 64 : size);
	(void)image_mime_for_name(name);
	free(name);
	if (image_probe(data, size, &w, &h) == 0)
		fz_assert(w > 0 && h > 0);
	return 0;
}
