/* history: the store's history.ndjson (images filed per variant) and
 * uploads.ndjson (the uploads library), read into bounded newest-first
 * lists for bg-candidates. */
#ifndef BG_HISTORY_H
#define BG_HISTORY_H

#include <stddef.h>
#include <glib.h>
#include <cjson/cJSON.h>

/* One earlier image. */
struct hist_item {
	char *created_at;	/* "" when the line had none */
	long seq;		/* line number: later is newer on ties */
	char *src;		/* url, or the store path joined to root */
	const char *sha256, *name, *kind, *id;	/* in obj, or NULL */
	cJSON *obj;		/* the entry a candidate shows */
};

/* Newest first, at most max items. */
struct hist_list {
	struct hist_item *it;
	size_t n, max;
};

/* Where a store-relative reference points: a URL ("scheme://...") or an
 * absolute path as it is, anything else joined to root.  free(3). */
char *hist_resolve(const char *root, const char *ref);

/* Read history.ndjson at path into a table variant id -> struct hist_list
 * (newest first, at most max each, one entry per sha256), keeping only
 * variants for which want(id, arg) is true.  A missing file is an empty
 * history unless must_exist (then die 2).  Bad lines are reported and
 * skipped.  Free with g_hash_table_destroy. */
GHashTable *hist_load(const char *path, const char *root, size_t max,
    int must_exist, int (*want)(const char *id, void *arg), void *arg);

/* Read uploads.ndjson at path into one list (newest first, at most max).
 * Same rules as hist_load.  Free with hist_list_free. */
struct hist_list *hist_uploads(const char *path, const char *root,
    size_t max, int must_exist);
void hist_list_free(struct hist_list *l);

#endif
