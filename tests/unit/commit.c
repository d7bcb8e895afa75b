/* Unit tests for lib/commit.c (group commit) and the store's two-step
 * writes it is made of (store_stage, store_name). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "commit.h"
#include "err.h"
#include "store.h"
#include "test.h"
#include "util.h"

static char *
slurp(const char *dir, const char *rel)
{
	char *p = easprintf("%s/%s", dir, rel), *b;
	size_t len;

	b = store_read_file(p, 1 << 20, &len);
	free(p);
	return b;
}

/* Every linkat of this program, lib/store.c's too, comes here: it
 * counts the links made through a /proc/self/fd path, the slow way. */
static int proc_links;

int
linkat(int ofd, const char *old, int nfd, const char *new, int flags)
{
	if (!strncmp(old, "/proc/", 6))
		proc_links++;
	return (int)syscall(SYS_linkat, ofd, old, nfd, new, flags);
}

/* A link into a missing folder fails with ENOENT, as linkat with
 * AT_EMPTY_PATH does where it is not allowed: the first must not turn
 * the second way off for the rest of the run. */
static void
test_empty_path(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd, direct;
	char *tmp;

	fd = store_stage(dfd, "e/probe", "p", 1, &tmp);
	direct = fd >= 0 && !tmp && linkat(fd, "", dfd, "e/probe",
	    AT_EMPTY_PATH) == 0;
	store_discard(fd, dfd, tmp);
	fd = store_stage(dfd, "e/a", "a", 1, &tmp);
	CHECK(fd >= 0 && store_link(fd, tmp, dfd, "new/a", 0) == 0,
	    "link into a folder that is missing: made, linked");
	store_discard(fd, dfd, tmp);
	proc_links = 0;
	fd = store_stage(dfd, "e/b", "b", 1, &tmp);
	CHECK(fd >= 0 && store_link(fd, tmp, dfd, "new/b", 0) == 0,
	    "the next link");
	store_discard(fd, dfd, tmp);
	fd = store_stage(dfd, "e/c", "c", 1, &tmp);
	CHECK(fd >= 0 && store_link(fd, tmp, dfd, "new2/c", 0) == 0,
	    "a link into another missing folder, once the direct way "
	    "worked: made, linked");
	store_discard(fd, dfd, tmp);
	if (direct)
		CHECK(proc_links == 0, "still without /proc where "
		    "linkat(AT_EMPTY_PATH) is allowed, a missing folder "
		    "not tried through /proc either");
	close(dfd);
}

static void
test_stage(const char *dir)
{
	char *p = easprintf("%s/s/f", dir), *tmp, *b;
	size_t len;
	int fd;

	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	fd = store_stage(AT_FDCWD, p, "one", 3, &tmp);
	CHECK(fd >= 0, "stage: a file without a name, its folder made");
	CHECK(access(p, F_OK) < 0, "stage: nothing under the name yet");
	CHECK(store_name(fd, tmp, AT_FDCWD, p, 0) == 0, "name");
	fd = store_stage(AT_FDCWD, p, "two", 3, &tmp);
	CHECK(fd >= 0 && store_name(fd, tmp, AT_FDCWD, p, 1) == 0,
	    "name, keep");
	CHECK_STR((b = store_read_file(p, 100, &len)), "one",
	    "keep leaves the file there as it is");
	free(b);
	/* relative to a folder, as the group commit writes */
	fd = store_stage(dfd, "s/f", "three", 5, &tmp);
	CHECK(fd >= 0 && store_name(fd, tmp, dfd, "s/f", 0) == 0,
	    "name, replace (relative to a folder)");
	CHECK_STR((b = store_read_file(p, 100, &len)), "three",
	    "replace puts the new bytes there");
	free(b);
	fd = store_stage(dfd, "t/u/g", "four", 4, &tmp);
	CHECK(fd >= 0 && store_name(fd, tmp, dfd, "t/u/g", 0) == 0,
	    "stage relative to a folder makes the folders there");
	CHECK_STR((b = slurp(dir, "t/u/g")), "four", "and the file is there");
	free(b);
	free(p);
	close(dfd);
}

/* A cache entry is the line of its key, in a file named under each
 * key; an older version's file holds the record alone. */
static void
test_cache_get(const char *dir)
{
	char *a = store_cache_path(dir, "abcdef"), *b, *p;
	struct stat sa, sb;
	cJSON *o;

	b = store_cache_path(dir, "abc123");
	CHECK(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino ==
	    sb.st_ino && sa.st_nlink == 2, "one file, named under both keys");
	free(b);
	CHECK_STR((b = cJSON_PrintUnformatted(o = store_cache_get(dir,
	    "abc123"))), "{\"status\":\"failed\"}",
	    "get: the key's line, without the key");
	cJSON_Delete(o);
	free(b);
	CHECK(!store_cache_get(dir, "abc12") && !store_cache_get(dir, "x"),
	    "get: no entry for another key");
	/* the file of abcdef under a key it does not hold */
	p = store_cache_path(dir, "ab0000");
	CHECK(!link(a, p) && !store_cache_get(dir, "ab0000"),
	    "get: a file without the key's line is a miss");
	unlink(p);
	CHECK(store_write_atomic(p, "{\"status\":\"old\"}", 16) == 0 &&
	    (o = store_cache_get(dir, "ab0000")) && (b =
	    cJSON_PrintUnformatted(o)), "get: an older version's entry");
	CHECK_STR(b, "{\"status\":\"old\"}", "is the record");
	cJSON_Delete(o);
	free(b);
	CHECK(store_cache_put_text(dir, "ab0000", "{}", 2) == 0 &&
	    (o = store_cache_get(dir, "ab0000")) && !o->child,
	    "put: an empty record over it");
	cJSON_Delete(o);
	free(p);
	free(a);
}

static void
test_group(const char *dir)
{
	struct commit *c = commit_open(dir);
	char sha[65], *rel, *b, *out = easprintf("%s/out", dir), *cp;
	cJSON *rec = cJSON_Parse("{\"job_id\":\"j1\",\"status\":\"succeeded\"}");
	int saved, fd;

	rel = commit_object(c, "image", 5, "png", sha);
	CHECK_STR(sha, "6105d6cc76af400325e94d588ce511be"
	    "5bfdbb73b437dc51eca43917d7a43e3d", "object: its hash");
	commit_cache(c, "abcdef", "{\"status\":\"succeeded\"}", 22);
	commit_cache(c, "abc123", "{\"status\":\"failed\"}", 19);
	commit_line(c, rec);
	CHECK(commit_pending(c) == 1, "one result pending");
	CHECK(commit_due(c) >= 0, "the open group is due later");
	cp = store_cache_path(dir, "abcdef");
	CHECK(access(cp, F_OK) < 0, "no cache entry before the group's sync");
	b = easprintf("%s/%s", dir, rel);
	CHECK(access(b, F_OK) < 0, "no object before the group is handed on");
	free(b);
	/* the line goes to stdout: catch it */
	fflush(stdout);
	saved = dup(1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	commit_flush(c);
	dup2(saved, 1);
	close(saved);
	CHECK(commit_pending(c) == 0, "flushed: nothing pending");
	CHECK_STR((b = slurp(dir, "out")),
	    "{\"job_id\":\"j1\",\"status\":\"succeeded\"}\n",
	    "the line, whole, after the sync");
	free(b);
	CHECK_STR((b = slurp(dir, rel)), "image", "the object");
	free(b);
	CHECK_STR((b = store_read_file(cp, 100, &(size_t){0})),
	    "{\"key\":\"abcdef\",\"status\":\"succeeded\"}\n"
	    "{\"key\":\"abc123\",\"status\":\"failed\"}\n",
	    "the group's cache entries: one file, a line each");
	free(b);
	test_cache_get(dir);
	commit_close(c);
	cJSON_Delete(rec);
	free(cp);
	free(rel);
	free(out);
}

int
main(int argc, char **argv)
{
	char *dir;

	(void)argc;
	err_init(argv[0]);
	dir = t_tmpdir("commit");
	test_empty_path(dir);
	test_stage(dir);
	test_group(dir);
	t_rmtree(dir);
	return t_failed;
}
