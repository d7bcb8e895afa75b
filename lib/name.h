/* name: ids and names turned into safe file and folder names. */
#ifndef BG_NAME_H
#define BG_NAME_H

#include <stddef.h>

#define NAME_MAX_DEFAULT 64

/* A single path component made from raw: only [A-Za-z0-9._-], no leading
 * '.' or '-', no "..", at most max bytes (>= 16).  When raw had to change,
 * "-" and 8 hex digits of its SHA-256 are appended, so distinct raw ids
 * stay distinct.  Never empty.  Free with free(3). */
char *name_safe(const char *raw, size_t max);
/* A lower-case slug for display names ("Spring studio" -> "spring-studio"):
 * runs of other characters become '-'; "batch" when nothing is left. */
char *name_slug(const char *raw, size_t max);

#endif
