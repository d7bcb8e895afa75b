/* store: the content-addressed store under --root (doc/contract.md "The store"). */
#ifndef BG_STORE_H
#define BG_STORE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* The store root: opt if given, else $BG_ROOT, else "./bg-data". */
const char *store_root(const char *opt);

/* The store root folder, created if missing, opened (O_DIRECTORY) for
 * the *at calls; dies (exit 2) naming root when it cannot be. */
int store_open_root(const char *root);

/* mkdir -p of path (0755); 0 or -1 with errno. */
int store_mkdirs(const char *path);
/* mkdir -p of the folder that holds path. */
int store_mkparent(const char *path);

/* write(2) all of data to fd, retrying on EINTR; 0 or -1 with errno
 * (ENOSPC for a write that wrote nothing). */
int store_write_all(int fd, const void *data, size_t len);

/* Write data to path atomically: an unnamed temp file (O_TMPFILE) in the
 * same folder, fsync'd, then linked as path if path is new, else linked
 * under a temp name and rename(2)d over it (a named temp file where
 * O_TMPFILE is missing).  No reader ever sees a partial file under path.
 * Creates parent folders.  0 or -1 with errno. */
int store_write_atomic(const char *path, const void *data, size_t len);

/* store_write_atomic in its two halves, for writes made durable by a
 * group commit (lib/commit.c) instead of one fsync each; paths are
 * relative to the folder dfd (or AT_FDCWD).  store_stage
 * writes data into a file without a name beside path (store_tmp_open;
 * *tmp its temporary name where there is none, else NULL), creating the
 * folder, and returns its descriptor (-1 with errno).  store_name gives
 * it the name path (replacing a file there, or with keep leaving one
 * there as it is) and closes fd, frees tmp: 0 or -1 with errno.  Neither
 * syncs anything. */
int store_stage(int dfd, const char *path, const void *data, size_t len,
    char **tmp);
int store_name(int fd, char *tmp, int dfd, const char *path, int keep);
/* store_name without closing or freeing anything: one more name for a
 * staged file (fd, or tmp where it has one), so one file can be named
 * several times. */
int store_link(int fd, const char *tmp, int dfd, const char *path, int keep);
/* Give up a staged file: close fd (if >= 0), remove tmp (relative to
 * dfd, if not NULL) and free it; errno is kept. */
void store_discard(int fd, int dfd, char *tmp);

/* The one way a file is made whole before it has a name: an unnamed
 * O_TMPFILE in folder dir under dfd (*tmp = NULL), or where there is
 * none a hidden ".bg-tmp.PID.N" there (*tmp its path relative to dfd,
 * malloc'd).  Returns the descriptor or -1 with errno (ENOENT: no such
 * folder).  store_tmp_link names an unnamed one dfd/name (-1 EEXIST when
 * taken). */
int store_tmp_open(int dfd, const char *dir, char **tmp);
int store_tmp_link(int fd, int dfd, const char *name);

/* Read a whole file (at most max bytes; larger fails with EFBIG).
 * Returns malloc'd bytes with a NUL after them, *len set; NULL + errno. */
char *store_read_file(const char *path, size_t max, size_t *len);

/* Store bytes as objects/<aa>/<sha256>.<ext> under root (no rewrite when
 * present).  sha (65 bytes) gets the hash; *rel (malloc'd) the path
 * relative to root.  0 or -1 with errno. */
int store_put_object(const char *root, const void *data, size_t len,
    const char *ext, char sha[65], char **rel);

/* objects/<aa>/<sha256>.<ext> for data (malloc'd), sha (65 bytes) its
 * hash. */
char *store_object_rel(const void *data, size_t len, const char *ext,
    char sha[65]);

/* Append one line (len bytes ending in '\n') to path with O_APPEND under an
 * exclusive flock(2), in one write (filing_lock + filing_append; a partial
 * line is taken back).  Creates the file and its folder. */
int store_append(const char *path, const char *line, size_t len);

/* The request cache: cache/<aa>/<key>.json holds a finished result
 * record, as a line {"key":"<key>",<the record's members>}.  One file
 * may hold several such lines and be named under each of their keys (a
 * group commit's entries, lib/commit.c); files of older versions hold
 * the record alone.  store_cache_get returns the record, without "key"
 * (cJSON_Delete it), or NULL. */
cJSON *store_cache_get(const char *root, const char *key);
/* root/cache/<aa>/<key>.json (malloc'd); relative to the store if root
 * is NULL. */
char *store_cache_path(const char *root, const char *key);
/* A cached success whose output objects are all still in the store (the
 * record: cJSON_Delete it), or NULL. */
cJSON *store_cache_hit(const char *root, const char *key);
int store_cache_put(const char *root, const char *key, const cJSON *rec);
/* The same with the record already printed (json, len bytes: one object). */
int store_cache_put_text(const char *root, const char *key, const char *json,
    size_t len);
/* Append key's cache line for the printed record json (len bytes) to b. */
struct sbuf;
void store_cache_line(struct sbuf *b, const char *key, const char *json,
    size_t len);

#endif
