/* thumb: small WebP thumbnails of image files, made once into a folder. */
#ifndef BG_THUMB_H
#define BG_THUMB_H

/* A thumbnail of the image file src, at most size pixels on each side, in
 * folder dir (created if needed).  The name is a hash of src's path, size,
 * mtime and the thumbnail size, so an existing thumbnail is reused and a
 * changed image gets a new one.  Returns the file's base name (free(3)),
 * or NULL when src is missing or not an image. */
char *thumb_make(const char *src, const char *dir, int size);

#endif
