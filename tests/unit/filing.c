/* Unit tests for lib/filing: safe paths, no-follow walks, no-replace
 * creation, placing files, locked logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "filing.h"
#include "util.h"
#include "test.h"

static void
test_paths(void)
{
	char longname[FILING_NAME_MAX + 2];

	CHECK(filing_name_ok("v12-2-3a7f12.png"), "plain name ok");
	CHECK(!filing_name_ok(""), "empty name refused");
	CHECK(!filing_name_ok(".hidden"), "leading dot refused");
	CHECK(!filing_name_ok("-rf"), "leading dash refused");
	CHECK(!filing_name_ok("a..b"), "dot dot refused");
	CHECK(!filing_name_ok("a b"), "space refused");
	CHECK(!filing_name_ok("a\nb"), "newline refused");
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	CHECK(!filing_name_ok(longname), "overlong name refused");
	longname[FILING_NAME_MAX] = '\0';
	CHECK(filing_name_ok(longname), "longest name ok");

	CHECK(filing_path_ok("variants/v12/spring-0b9f", "variants"), "variant folder ok");
	CHECK(filing_path_ok("objects/3a/3a7f.png", "objects"), "object path ok");
	CHECK(filing_path_ok("a/b", NULL), "any first component");
	CHECK(!filing_path_ok("variants", "variant"), "first component must match whole");
	CHECK(!filing_path_ok("variantsx/a", "variants"), "first component prefix refused");
	CHECK(!filing_path_ok("batches/x", "variants"), "other first component refused");
	CHECK(!filing_path_ok("/etc/x", NULL), "absolute path refused");
	CHECK(!filing_path_ok("variants/../x", NULL), "dot dot component refused");
	CHECK(!filing_path_ok("variants//x", NULL), "empty component refused");
	CHECK(!filing_path_ok("variants/x/", NULL), "trailing slash refused");
	CHECK(!filing_path_ok("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", NULL), "too deep refused");
	CHECK(!filing_path_ok(NULL, NULL), "NULL refused");
}

static void
test_files(const char *dir)
{
	int root, d, fd, src, srcdir, lk;
	struct stat st, st2;
	char sha[65], *p;
	cJSON *rec = NULL;
	static const char line1[] = "{\"file\":\"a.png\",\"n\":1}\n";
	static const char line2[] = "{\"file\":\"b.png\",\"n\":2}\n";

	root = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(root >= 0, "open root");
	d = filing_opendir(root, "variants/v1/b1", 1);
	CHECK(d >= 0, "opendir creates folders");
	CHECK(filing_write_new(d, "x.json", "one\n", 4, 0) == 1, "write_new creates");
	CHECK(filing_write_new(d, "x.json", "two\n", 4, 1) == 0, "write_new keeps an existing name");
	p = easprintf("%s/variants/v1/b1/x.json", dir);
	fd = open(p, O_RDONLY);
	{
		char buf[8] = "";
		CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 4 && !memcmp(buf, "one\n", 4),
		    "the first content stays");
	}
	close(fd);
	free(p);

	/* a symlink in the walk is refused */
	p = easprintf("%s/variants/link", dir);
	CHECK(symlink("/tmp", p) == 0, "make a symlink");
	free(p);
	errno = 0;
	CHECK(filing_opendir(root, "variants/link/x", 1) < 0, "opendir does not follow symlinks");
	CHECK(filing_opendir(root, "variants/../x", 1) < 0 && errno == EINVAL, "opendir refuses ..");

	/* place an object twice: new, then same; another file: taken */
	src = filing_openfile(root, "variants/v1/b1/x.json", &srcdir);
	CHECK(src >= 0, "openfile");
	fstat(src, &st);
	CHECK(filing_sha256_fd(src, sha) == 0, "sha256 of a file");
	{
		char want[65];
		util_sha256_hex("one\n", 4, want);
		CHECK_STR(sha, want, "sha256 is right");
	}
	CHECK(filing_place(d, "y.png", srcdir, "x.json", src, &st, sha, 0) == FILING_NEW, "place: new link");
	CHECK(fstatat(d, "y.png", &st2, 0) == 0 && st2.st_ino == st.st_ino, "place: same inode");
	CHECK(filing_place(d, "y.png", srcdir, "x.json", src, &st, sha, 0) == FILING_SAME, "place again: same");
	CHECK(filing_place(d, "z.png", srcdir, "x.json", src, &st, sha, 1) == FILING_NEW, "copy: new");
	CHECK(fstatat(d, "z.png", &st2, 0) == 0 && st2.st_ino != st.st_ino && st2.st_size == 4,
	    "copy: another inode, same size");
	CHECK(filing_place(d, "z.png", srcdir, "x.json", src, &st, sha, 1) == FILING_SAME,
	    "copy again: same by content");
	CHECK(filing_write_new(d, "w.png", "xxxx", 4, 0) == 1, "another file");
	CHECK(filing_place(d, "w.png", srcdir, "x.json", src, &st, sha, 0) == FILING_TAKEN,
	    "place over another file: taken");
	close(src);
	close(srcdir);
	CHECK(filing_openfile(root, "variants/link", &srcdir) < 0, "openfile does not follow symlinks");

	/* locked log: find and append */
	lk = filing_lock(d, "manifest.ndjson");
	CHECK(lk >= 0, "lock a log");
	CHECK(filing_find(lk, "file", "a.png", NULL) == 0, "empty log: not found");
	CHECK(filing_append(lk, line1, sizeof line1 - 1) == 0, "append");
	CHECK(filing_append(lk, line2, sizeof line2 - 1) == 0, "append again");
	CHECK(filing_find(lk, "file", "b.png", &rec) == 1 && rec, "found");
	CHECK(rec && cJSON_GetObjectItem(rec, "n")->valuedouble == 2, "found the right line");
	cJSON_Delete(rec);
	CHECK(filing_find(lk, "file", "b.pn", NULL) == 0, "a prefix is not a match");
	CHECK(filing_find(lk, "n", "a.png", NULL) == 0, "another key is not a match");
	close(lk);
	close(d);
	close(root);
}

int
main(void)
{
	char *dir;

	test_paths();
	dir = t_tmpdir("filing");
	test_files(dir);
	t_rmtree(dir);
	return t_failed;
}
