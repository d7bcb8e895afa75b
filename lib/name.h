/* name: ids and names turned into safe file and folder names. */
#ifndef BG_NAME_H
#define BG_NAME_H

#include <stddef.h>

#define NAME_MAX_DEFAULT 64	/* the length name_safe makes by default */
#define NAME_LEN_MAX 128	/* the longest component name_ok accepts */

/* The one safe-name rule for every file and folder name in the store:
 * s[0..n) is 1 to NAME_LEN_MAX bytes of [A-Za-z0-9._-], with no leading
 * '.' or '-' and no "..".  name_safe makes such names; bg-file checks the
 * names records bring with it. */
int name_ok(const char *s, size_t n);
/* True when rel is a relative path of at most 16 name_ok components whose
 * first component is first (any when first is NULL). */
int name_path_ok(const char *rel, const char *first);

/* A single path component made from raw: only [A-Za-z0-9._-], no leading
 * '.' or '-', no "..", at most max bytes (>= 16).  When raw had to change,
 * "-" and 8 hex digits of its SHA-256 are appended, so distinct raw ids
 * stay distinct.  Never empty.  Free with free(3). */
char *name_safe(const char *raw, size_t max);
/* A lower-case slug for display names ("Spring studio" -> "spring-studio"):
 * runs of other characters become '-'; "batch" when nothing is left. */
char *name_slug(const char *raw, size_t max);

/* The store's folders for a batch (doc/contract.md "The store"), made by
 * bg-plan into a job's targets and checked by bg-file before it files
 * anything there.  name_batch_folder: "<slug of the name>-<first 8 bytes
 * of the id>"; name_variant_folder: "variants/<safe variant id>/<folder>";
 * name_batches_folder: "batches/<folder>".  free(3) each. */
char *name_batch_folder(const char *batch_name, const char *batch_id);
char *name_variant_folder(const char *variant_id, const char *folder);
char *name_batches_folder(const char *folder);
/* Whether rel is a safe folder under variants/ or under batches/. */
int name_variant_folder_ok(const char *rel);
int name_batches_folder_ok(const char *rel);

#endif
