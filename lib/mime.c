/* mime: an image's type from its magic bytes or its name, and the file
 * extension for a type.  Apart from image.c so that a program that only
 * sniffs (bg-plan's cache note, the request key) does not load libvips. */
#include <string.h>
#include <strings.h>

#include "image.h"

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
