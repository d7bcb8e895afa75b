/* store: temp-then-rename writes, locked appends, objects and the cache. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "filing.h"
#include "ndjson.h"
#include "store.h"
#include "util.h"

const char *
store_root(const char *opt)
{
	const char *e;

	if (opt && *opt)
		return opt;
	e = getenv("BG_ROOT");
	return e && *e ? e : "./bg-data";
}

int
store_open_root(const char *root)
{
	int fd;

	if (store_mkdirs(root) < 0)
		die(EXIT_USAGE, "%s:", root);
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(EXIT_USAGE, "%s:", root);
	return fd;
}

/* mkdir -p path, relative to the folder dfd (or AT_FDCWD) */
static int
mkdirs_at(int dfd, const char *path)
{
	char *p, *s;
	int rc = 0;

	/* the folder itself first: its parents are there but the first time
	 * (a shard of objects/ or cache/) */
	if (mkdirat(dfd, path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	p = estrdup(path);
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdirat(dfd, p, 0755) < 0 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

int
store_mkdirs(const char *path)
{
	return mkdirs_at(AT_FDCWD, path);
}

static int
mkparent_at(int dfd, const char *path)
{
	const char *sl = strrchr(path, '/');
	char *d;
	int rc;

	if (!sl || sl == path)
		return 0;
	d = estrndup(path, sl - path);
	rc = mkdirs_at(dfd, d);
	free(d);
	return rc;
}

int
store_mkparent(const char *path)
{
	return mkparent_at(AT_FDCWD, path);
}

int
store_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static char *
tmp_name(const char *path)
{
	return easprintf("%s.tmp.%ld", path, (long)getpid());
}

/* Unnamed files need /proc (or a kernel allowing linkat AT_EMPTY_PATH)
 * to be given a name. */
static int
have_tmpfile(void)
{
	static _Atomic int have = -1;	/* the commit thread stages too */

	if (have < 0)
		have = access("/proc/self/fd", X_OK) == 0;
	return have;
}

int
store_tmp_open(int dfd, const char *dir, char **tmp)
{
	static _Atomic unsigned seq;	/* names unique across threads */
	int fd, saved;

	*tmp = NULL;
	if (have_tmpfile()) {
		fd = openat(dfd, dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0 || errno == ENOENT)
			return fd;
	}
	*tmp = strcmp(dir, ".") ? easprintf("%s/.bg-tmp.%ld.%u", dir,
	    (long)getpid(), seq++) : easprintf(".bg-tmp.%ld.%u",
	    (long)getpid(), seq++);
	fd = openat(dfd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd < 0) {
		saved = errno;
		free(*tmp);
		*tmp = NULL;
		errno = saved;
	}
	return fd;
}

/* Open a file for path's contents that no crash can leave half-written
 * under a name (store_tmp_open in path's folder), making the folder
 * when it is missing. */
static int
open_temp(int dfd, const char *path, char **tmp)
{
	const char *sl = strrchr(path, '/');
	char *dir = sl ? estrndup(path, sl == path ? 1 : (size_t)(sl - path)) :
	    estrdup(".");
	int fd, mk = 0;

	for (;;) {
		free(*tmp);
		fd = store_tmp_open(dfd, dir, tmp);
		/* folders are made only when missing: mkdir -p on every
		 * write was most of bg-generate's system calls */
		if (fd >= 0 || errno != ENOENT || mk++ ||
		    mkdirs_at(dfd, dir) < 0)
			break;
	}
	free(dir);
	return fd;
}

int
store_tmp_link(int fd, int dfd, const char *name)
{
	/* 1: try it, 2: it worked, 0: not allowed (the group commit's
	 * thread links too) */
	static _Atomic int flink = 1;
	char proc[64];
	int rc, tried = 0;

	/* linkat(AT_EMPTY_PATH) where the kernel allows it (older ones only
	 * with CAP_DAC_READ_SEARCH; it is 1.2 us a file less than the path
	 * walk through /proc), else through the file's /proc/self/fd link */
	if (flink) {
		if (linkat(fd, "", dfd, name, AT_EMPTY_PATH) == 0) {
			if (flink == 1)
				flink = 2;
			return 0;
		}
		/* once allowed, ENOENT is a missing folder: nothing for /proc */
		if ((errno == ENOENT && flink == 2) ||
		    (errno != ENOENT && errno != EPERM && errno != EINVAL))
			return -1;
		tried = 1;
	}
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	rc = linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW);
	/* not allowed only if /proc could: ENOENT is also a missing
	 * folder, which the caller makes and tries again */
	if (rc == 0 && tried)
		flink = 0;
	return rc;
}

void
store_discard(int fd, int dfd, char *tmp)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	if (tmp)
		unlinkat(dfd, tmp, 0);
	free(tmp);
	errno = saved;
}

int
store_stage(int dfd, const char *path, const void *data, size_t len,
    char **tmp)
{
	int fd;

	*tmp = NULL;
	if ((fd = open_temp(dfd, path, tmp)) < 0)
		return -1;
	if (store_write_all(fd, data, len) < 0) {
		store_discard(fd, dfd, *tmp);
		*tmp = NULL;
		return -1;
	}
	return fd;
}

/* One name for a staged file: fd (unnamed) or tmp. */
static int
link_as(int fd, const char *tmp, int dfd, const char *path)
{
	return tmp ? linkat(dfd, tmp, dfd, path, 0) :
	    store_tmp_link(fd, dfd, path);
}

int
store_link(int fd, const char *tmp, int dfd, const char *path, int keep)
{
	char *t2;
	int saved, rc;

	/* path itself when it is new (the common case, one system call),
	 * else a second temporary name renamed over it: a kill between link
	 * and rename leaves a whole file under that name, never a partial
	 * one.  A file staged in another folder makes path's when missing. */
	rc = link_as(fd, tmp, dfd, path);
	if (rc < 0 && errno == ENOENT && mkparent_at(dfd, path) == 0)
		rc = link_as(fd, tmp, dfd, path);
	if (rc == 0 || (keep && errno == EEXIST))
		return 0;
	if (errno != EEXIST)
		return -1;
	t2 = tmp_name(path);
	unlinkat(dfd, t2, 0);
	if (link_as(fd, tmp, dfd, t2) < 0 || renameat(dfd, t2, dfd, path) < 0) {
		saved = errno;
		unlinkat(dfd, t2, 0);
		free(t2);
		errno = saved;
		return -1;
	}
	free(t2);
	return 0;
}

int
store_name(int fd, char *tmp, int dfd, const char *path, int keep)
{
	int rc = -1;

	/* a file with a temporary name is closed first: the last word on
	 * its bytes (a network file system's) before it is named */
	if (!tmp || close(fd) == 0)
		rc = store_link(fd, tmp, dfd, path, keep);
	if (tmp)
		fd = -1;
	store_discard(fd, dfd, tmp);
	return rc;
}

int
store_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp;
	int fd;

	if ((fd = store_stage(AT_FDCWD, path, data, len, &tmp)) < 0)
		return -1;
	if (fsync(fd) < 0) {
		store_discard(fd, AT_FDCWD, tmp);
		return -1;
	}
	/* a name only now that the bytes are all there and synced */
	return store_name(fd, tmp, AT_FDCWD, path, 0);
}

char *
store_read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = emalloc(st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

char *
store_object_rel(const void *data, size_t len, const char *ext, char sha[65])
{
	util_sha256_hex(data, len, sha);
	return easprintf("objects/%.2s/%s.%s", sha, sha, ext);
}

/* The object data at path unless a file of its size is there (objects
 * are content-addressed, and named only once whole and durable). */
static int
put_at(const char *path, const void *data, size_t len)
{
	struct stat st;

	if (stat(path, &st) == 0 && (size_t)st.st_size == len)
		return 0;
	return store_write_atomic(path, data, len);
}

int
store_put_object(const char *root, const void *data, size_t len,
    const char *ext, char sha[65], char **rel)
{
	char *path;
	int rc, saved;

	*rel = store_object_rel(data, len, ext, sha);
	path = easprintf("%s/%s", root, *rel);
	rc = put_at(path, data, len);
	free(path);
	if (rc < 0) {
		saved = errno;
		free(*rel);
		*rel = NULL;
		errno = saved;
	}
	return rc;
}

int
store_append(const char *path, const char *line, size_t len)
{
	int fd, rc, saved;

	if (store_mkparent(path) < 0)
		return -1;
	if ((fd = filing_lock(AT_FDCWD, path)) < 0)
		return -1;
	rc = filing_append(fd, line, len);
	saved = errno;
	close(fd);	/* closing releases the lock */
	errno = saved;
	return rc;
}

char *
store_cache_path(const char *root, const char *key)
{
	return root ? easprintf("%s/cache/%.2s/%s.json", root, key, key) :
	    easprintf("cache/%.2s/%s.json", key, key);
}

void
store_cache_line(struct sbuf *b, const char *key, const char *json,
    size_t len)
{
	/* the whole line at once: grown piece by piece it was a realloc
	 * and a copy for every entry */
	sb_grow(b, strlen(key) + len + 12);
	sb_addf(b, "{\"key\":\"%s\"", key);
	/* json is one object: its members follow the key */
	if (len > 2 && json[0] == '{') {
		sb_addc(b, ',');
		sb_add(b, json + 1, len - 1);
	} else {
		sb_addc(b, '}');
	}
	sb_addc(b, '\n');
}

/* The line of buf (len bytes) that holds key's entry, *n its length:
 * the line that starts {"key":"<key>" (a file holds a group's entries,
 * named under each of their keys), else a whole file of one record
 * without a key (as older bg-generates wrote it). */
static const char *
cache_entry(const char *buf, size_t len, const char *key, size_t *n)
{
	char head[96];
	const char *p, *nl, *end = buf + len;
	size_t hl;

	hl = (size_t)snprintf(head, sizeof head, "{\"key\":\"%s\"", key);
	if (hl >= sizeof head)
		return NULL;	/* no such key is made */
	if (len < 8 || memcmp(buf, head, 8)) {
		*n = len;
		return buf;
	}
	for (p = buf; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', end - p)))
			nl = end;
		if ((size_t)(nl - p) > hl && !memcmp(p, head, hl) &&
		    (p[hl] == ',' || p[hl] == '}')) {
			*n = nl - p;
			return p;
		}
	}
	return NULL;
}

cJSON *
store_cache_get(const char *root, const char *key)
{
	char *path = store_cache_path(root, key), *buf;
	const char *line;
	size_t len, n;
	cJSON *o = NULL;

	buf = store_read_file(path, (size_t)1 << 30, &len);
	if (buf && (line = cache_entry(buf, len, key, &n))) {
		o = cJSON_ParseWithLengthOpts(line, n, NULL, 0);
		if (o && !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			o = NULL;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(o, "key");
	}
	free(buf);
	free(path);
	return o;
}

cJSON *
store_cache_hit(const char *root, const char *key)
{
	cJSON *c = store_cache_get(root, key), *o, *outs;
	const cJSON *st;
	char *path;
	struct stat sb;

	if (!c)
		return NULL;
	outs = cJSON_GetObjectItemCaseSensitive(c, "outputs");
	st = cJSON_GetObjectItemCaseSensitive(c, "status");
	if (!cJSON_IsString(st) || strcmp(st->valuestring, "succeeded") ||
	    !cJSON_IsArray(outs))
		goto miss;
	cJSON_ArrayForEach(o, outs) {
		/* the objects must still be there */
		st = cJSON_GetObjectItemCaseSensitive(o, "path");
		if (!cJSON_IsString(st))
			goto miss;
		path = easprintf("%s/%s", root, st->valuestring);
		if (stat(path, &sb) < 0) {
			free(path);
			goto miss;
		}
		free(path);
	}
	return c;
miss:
	cJSON_Delete(c);
	return NULL;
}

int
store_cache_put_text(const char *root, const char *key, const char *json,
    size_t len)
{
	char *path = store_cache_path(root, key);
	struct sbuf b = { 0 };
	int rc;

	store_cache_line(&b, key, json, len);
	rc = store_write_atomic(path, b.s, b.len);
	sb_free(&b);
	free(path);
	return rc;
}

int
store_cache_put(const char *root, const char *key, const cJSON *rec)
{
	char *s = nd_print(rec);
	int rc;

	rc = store_cache_put_text(root, key, s, strlen(s));
	cJSON_free(s);
	return rc;
}
