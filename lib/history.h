/* history: the store's logs, their writers (for bg-file) beside their
 * readers (for bg-candidates): manifest.ndjson and a .json sidecar per
 * image in each folder, history.ndjson (images filed per variant) and
 * uploads.ndjson (the uploads library), read into bounded newest-first
 * lists. */
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

/* The logs' names: in each folder, and at the store root. */
#define HIST_MANIFEST "manifest.ndjson"
#define HIST_HISTORY "history.ndjson"
#define HIST_UPLOADS "uploads.ndjson"

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

/* Writing (doc/contract.md "The store").  The manifest line, which is
 * also the sidecar, of output out of result rec ("file" to be set), and
 * its history.ndjson line ("path" to be set); now is the filing time. */
cJSON *hist_manifest_entry(const cJSON *rec, const cJSON *out,
    const char *now);
cJSON *hist_history_entry(const cJSON *rec, const cJSON *out,
    const char *now);
/* An uploads.ndjson entry and its id ("u" + 12 hex of sha). */
void hist_upload_id(const char *sha, char id[14]);
cJSON *hist_upload_entry(const char *rootabs, const char *rel,
    const char *sha, const char *name, const char *kind, const char *mime,
    int w, int h);
/* Append entry as one line to the log fd, locked with filing_lock;
 * hist_log_once only when no line has key == val (scan 0: the caller
 * knows there is none).  0 or -1 with errno. */
int hist_log_append(int fd, const cJSON *entry);
int hist_log_once(int fd, const char *key, const char *val,
    const cJSON *entry, int scan);
/* Create the sidecar dfd/name holding entry, unless it exists.  0 or -1
 * with errno. */
int hist_sidecar_write(int dfd, const char *name, const cJSON *entry);

#endif
