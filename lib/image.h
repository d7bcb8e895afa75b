/* image: image facts with libvips (format, size) without decoding pixels. */
#ifndef BG_IMAGE_H
#define BG_IMAGE_H

#include <stddef.h>

/* Load (lib/vipsdl.c) and start libvips once (safe to call again); call it
 * before any libvips function.  Dies (3) if it cannot load or start. */
void image_init(void);

/* The MIME type named by the first bytes: "image/png", "image/jpeg",
 * "image/webp", or NULL for anything else. */
const char *image_sniff(const void *buf, size_t len);
/* "png", "jpg", "webp" for those MIME types, else "bin". */
const char *image_ext(const char *mime);
/* The MIME type for a file name's extension, or NULL. */
const char *image_mime_for_name(const char *name);

/* Width and height from the header of an image in memory (libvips reads
 * only the header).  0, or -1 if libvips cannot read it. */
int image_probe(const void *buf, size_t len, int *w, int *h);
/* The same for a file on disk. */
int image_probe_file(const char *path, int *w, int *h);

#endif
