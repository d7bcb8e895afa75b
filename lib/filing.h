/* filing: safe walks under the store root, no-replace file creation and
 * check-then-append on locked NDJSON logs (bg-file's shared code). */
#ifndef BG_FILING_H
#define BG_FILING_H

#include <stddef.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "name.h"

#define FILING_NAME_MAX NAME_LEN_MAX	/* longest path component we accept */

/* Outcomes of filing_place. */
enum {
	FILING_SAME = 0,	/* the name already holds the same file */
	FILING_NEW = 1,		/* the name was created by this call */
	FILING_TAKEN = 2	/* the name holds a different file */
};

/* name_ok (lib/name.h, the one safe-name rule) of a whole string, and
 * name_path_ok. */
int filing_name_ok(const char *s);
int filing_path_ok(const char *rel, const char *first);

/* Open the folder rel under dirfd one component at a time, never following
 * symbolic links; with create, missing folders are made (0755).  Returns a
 * descriptor (close it) or -1 with errno. */
int filing_opendir(int dirfd, const char *rel, int create);
/* Open the regular file rel under dirfd for reading without following
 * symbolic links; *pdir gets its folder's descriptor (close both).
 * Returns the file descriptor or -1 with errno. */
int filing_openfile(int dirfd, const char *rel, int *pdir);

/* Create name in dfd holding len bytes, unless it exists: the bytes are
 * written to an unnamed (or hidden temporary) file first, so the name
 * appears complete or not at all.  sync fsyncs before.  Returns 1 when
 * created, 0 when the name already existed (left alone), -1 with errno. */
int filing_write_new(int dfd, const char *name, const void *data, size_t len,
    int sync);

/* SHA-256 of the open file fd (read from offset 0) as 64 hex digits into
 * out.  0 or -1 with errno. */
int filing_sha256_fd(int fd, char out[65]);

/* Give dfd/name the file srcfd (found as srcdir/srcname, stat *st, content
 * hash sha): a hard link, or with copy (and automatically when links are
 * impossible, e.g. across filesystems) a copy made complete before it is
 * named.  An existing name is "the same" when it is the same inode, or a
 * regular file of the same size and SHA-256.  Returns FILING_NEW,
 * FILING_SAME, FILING_TAKEN, or -1 with errno. */
int filing_place(int dfd, const char *name, int srcdir, const char *srcname,
    int srcfd, const struct stat *st, const char *sha, int copy);

/* Open (creating) the log dfd/name for appending and take an exclusive
 * flock(2) on it, the same lock store_append takes.  Returns the descriptor
 * (closing it releases the lock) or -1 with errno. */
int filing_lock(int dfd, const char *name);
/* Whether the locked log fd holds a line whose top-level string field key
 * equals val: 1 yes (*rec, when rec is not NULL, gets that line parsed:
 * cJSON_Delete it), 0 no, -1 with errno. */
int filing_find(int fd, const char *key, const char *val, cJSON **rec);
/* Append the line (len bytes ending in '\n') to the locked log in one
 * write(2).  0 or -1 with errno (a short write is ENOSPC). */
int filing_append(int fd, const char *line, size_t len);

/* The file-name stem of a record's images: its variant_id made safe,
 * "-" and its variation when it has one ("v12-2"); NULL without a
 * variant_id.  free(3) it. */
char *filing_stem(const cJSON *rec);
/* The whole regular file fd (at most max bytes, else EFBIG) read from
 * offset 0 into malloc'd memory with a NUL after it; *len set.  NULL
 * with errno. */
char *filing_read_fd(int fd, size_t max, size_t *len);

#endif
