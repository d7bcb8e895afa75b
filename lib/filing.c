/* filing: every path is walked with openat(O_NOFOLLOW) from the store
 * root, every name appears by an atomic no-replace step, every log line
 * is checked and appended under one flock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "err.h"
#include "filing.h"
#include "name.h"
#include "store.h"
#include "ndjson.h"
#include "record.h"

int
filing_name_ok(const char *s)
{
	return s && name_ok(s, strlen(s));
}

int
filing_path_ok(const char *rel, const char *first)
{
	return name_path_ok(rel, first);
}

int
filing_opendir(int dirfd, const char *rel, int create)
{
	char *p = estrdup(rel), *c, *save = NULL;
	int cur = dirfd, fd, saved;

	for (c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!filing_name_ok(c)) {
			errno = EINVAL;
			goto fail;
		}
		fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
				goto fail;
			fd = openat(cur, c, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			goto fail;
		if (cur != dirfd)
			close(cur);
		cur = fd;
	}
	free(p);
	if (cur == dirfd)
		cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	return cur;
fail:
	saved = errno;
	if (cur != dirfd)
		close(cur);
	free(p);
	errno = saved;
	return -1;
}

int
filing_openfile(int dirfd, const char *rel, int *pdir)
{
	const char *sl = strrchr(rel, '/');
	char *dir;
	struct stat st;
	int d, fd, saved;

	dir = sl ? estrndup(rel, sl - rel) : estrdup("");
	d = filing_opendir(dirfd, dir, 0);
	free(dir);
	if (d < 0)
		return -1;
	fd = openat(d, sl ? sl + 1 : rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		saved = errno;
		close(d);
		errno = saved;
		return -1;
	}
	*pdir = d;
	return fd;
}

/* An unnamed file in dfd (*tmp = NULL) or a hidden temporary one. */
static int
tmp_open(int dfd, char **tmp)
{
	return store_tmp_open(dfd, ".", tmp);
}

/* Give the finished temporary file its name unless the name exists.
 * Closes fd and frees tmp.  1 named, 0 existed, -1 errno. */
static int
tmp_commit(int dfd, int fd, char *tmp, const char *name)
{
	int rc, saved;

	if (!tmp) {
		rc = store_tmp_link(fd, dfd, name);
	} else {
		rc = renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE);
		if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
			rc = linkat(dfd, tmp, dfd, name, 0);
			if (rc == 0)
				unlinkat(dfd, tmp, 0);
		}
	}
	saved = errno;
	if (rc < 0 && tmp)
		unlinkat(dfd, tmp, 0);
	close(fd);
	free(tmp);
	if (rc == 0)
		return 1;
	errno = saved;
	return saved == EEXIST ? 0 : -1;
}

static void
tmp_abort(int dfd, int fd, char *tmp)
{
	int saved = errno;

	if (tmp)
		unlinkat(dfd, tmp, 0);
	close(fd);
	free(tmp);
	errno = saved;
}

int
filing_write_new(int dfd, const char *name, const void *data, size_t len,
    int sync)
{
	char *tmp;
	int fd = tmp_open(dfd, &tmp);

	if (fd < 0)
		return -1;
	if (store_write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		tmp_abort(dfd, fd, tmp);
		return -1;
	}
	return tmp_commit(dfd, fd, tmp, name);
}

/* Copy srcfd (from offset 0) to a new file dfd/name; as filing_write_new. */
static int
copy_new(int dfd, const char *name, int srcfd)
{
	char buf[1 << 16], *tmp;
	off_t off = 0;
	ssize_t n;
	int fd = tmp_open(dfd, &tmp);

	if (fd < 0)
		return -1;
	for (;;) {
		n = pread(srcfd, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && store_write_all(fd, buf, n) < 0)) {
			tmp_abort(dfd, fd, tmp);
			return -1;
		}
		if (n == 0)
			break;
		off += n;
	}
	if (fsync(fd) < 0) {
		tmp_abort(dfd, fd, tmp);
		return -1;
	}
	return tmp_commit(dfd, fd, tmp, name);
}

int
filing_sha256_fd(int fd, char out[65])
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	char buf[1 << 16];
	off_t off = 0;
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_checksum_free(ck);
			return -1;
		}
		if (n == 0)
			break;
		g_checksum_update(ck, (const guchar *)buf, n);
		off += n;
	}
	snprintf(out, 65, "%s", g_checksum_get_string(ck));
	g_checksum_free(ck);
	return 0;
}

static int
same_file(int dfd, const char *name, const struct stat *st, const char *sha)
{
	struct stat s2;
	char got[65];
	int fd, rc;

	if (fstatat(dfd, name, &s2, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISREG(s2.st_mode))
		return FILING_TAKEN;
	if (s2.st_dev == st->st_dev && s2.st_ino == st->st_ino)
		return FILING_SAME;
	if (s2.st_size != st->st_size || !sha)
		return FILING_TAKEN;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = filing_sha256_fd(fd, got);
	close(fd);
	if (rc < 0)
		return -1;
	return strcmp(got, sha) ? FILING_TAKEN : FILING_SAME;
}

int
filing_place(int dfd, const char *name, int srcdir, const char *srcname,
    int srcfd, const struct stat *st, const char *sha, int copy)
{
	int rc;

	if (!copy) {
		if (linkat(srcdir, srcname, dfd, name, 0) == 0)
			return FILING_NEW;
		if (errno == EEXIST)
			return same_file(dfd, name, st, sha);
		/* links impossible here: fall back to a copy */
		if (errno != EXDEV && errno != EMLINK && errno != EPERM &&
		    errno != EOPNOTSUPP)
			return -1;
	}
	rc = copy_new(dfd, name, srcfd);
	if (rc == 1)
		return FILING_NEW;
	if (rc == 0)
		return same_file(dfd, name, st, sha);
	return -1;
}

int
filing_lock(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0644), saved;

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
filing_find(int fd, const char *key, const char *val, cJSON **rec)
{
	struct stat st;
	cJSON *s;
	char *needle, *map, *hit, *p, *end, *line, *nl;
	size_t nlen, size;
	int found = 0;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_size == 0)
		return 0;
	size = st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	/* look for the value as JSON text, then confirm on the parsed line */
	s = cJSON_CreateString(val);
	needle = nd_print(s);
	cJSON_Delete(s);
	nlen = strlen(needle);
	for (p = map, end = map + size; !found &&
	    (hit = memmem(p, end - p, needle, nlen)); ) {
		char *ls = hit, *le;
		cJSON *o;
		const char *v;

		while (ls > map && ls[-1] != '\n')
			ls--;
		nl = memchr(hit, '\n', end - hit);
		le = nl ? nl : end;
		line = estrndup(ls, le - ls);
		o = cJSON_ParseWithLengthOpts(line, le - ls + 1, NULL, 0);
		v = o ? rec_str(o, key) : NULL;
		found = v && !strcmp(v, val);
		if (found && rec)
			*rec = o;
		else
			cJSON_Delete(o);
		free(line);
		p = nl ? nl + 1 : end;
	}
	cJSON_free(needle);
	munmap(map, size);
	return found;
}

int
filing_append(int fd, const char *line, size_t len)
{
	off_t at = lseek(fd, 0, SEEK_END);
	ssize_t n;
	int saved;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n == len)
		return 0;
	saved = n < 0 ? errno : ENOSPC;
	/* we hold the lock: take a partial line back */
	if (at >= 0 && n > 0 && ftruncate(fd, at) < 0)
		warnx("cannot remove a partial line:");
	errno = saved;
	return -1;
}

char *
filing_stem(const cJSON *rec)
{
	char buf[32], vbuf[32], *s, *v, *stem;
	const char *vid = rec_id(rec, "variant_id", buf);
	const char *var = rec_id(rec, "variation", vbuf);

	if (!vid)
		return NULL;
	s = name_safe(vid, 48);
	if (!var)
		return s;
	v = name_safe(var, 16);
	stem = easprintf("%s-%s", s, v);
	free(v);
	free(s);
	return stem;
}

char *
filing_read_fd(int fd, size_t max, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r;

	if (fstat(fd, &st) < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	buf = emalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		r = pread(fd, buf + n, st.st_size - n, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			if (r == 0)
				errno = EIO;	/* shrank while read */
			return NULL;
		}
		n += r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
