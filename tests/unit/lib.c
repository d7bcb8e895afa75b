/* Unit tests for lib/: names, records, ndjson, util, store. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "name.h"
#include "ndjson.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "test.h"

static void
test_names(void)
{
	char *s;

	s = name_safe("v12", 64);
	CHECK_STR(s, "v12", "plain id kept");
	free(s);
	s = name_safe("../../etc", 64);
	CHECK(!strchr(s, '/') && !strstr(s, "..") && s[0] != '.', "hostile id has no / or ..");
	free(s);
	s = name_safe("a/b", 64);
	{
		char *t = name_safe("a_b", 64);
		CHECK(strcmp(s, t) != 0, "a/b and a_b stay distinct");
		free(t);
	}
	free(s);
	s = name_safe("", 64);
	CHECK(s[0] && s[0] != '-', "empty id gives a name");
	free(s);
	s = name_safe("-rf", 64);
	CHECK(s[0] != '-', "no leading dash");
	free(s);
	s = name_safe("x\ny\x01", 64);
	CHECK(!strchr(s, '\n') && !strchr(s, 1), "control characters removed");
	free(s);
	{
		char big[300];
		memset(big, 'a', 299);
		big[299] = 0;
		s = name_safe(big, 64);
		CHECK(strlen(s) <= 64, "length bounded");
		free(s);
	}
	s = name_slug("Spring studio!", 40);
	CHECK_STR(s, "spring-studio", "slug");
	free(s);
	s = name_slug("***", 40);
	CHECK_STR(s, "batch", "empty slug");
	free(s);
}

static void
test_records(void)
{
	cJSON *o = cJSON_Parse("{\"a\":\"x\",\"n\":12,\"f\":1.5}"), *e;
	char buf[32];

	CHECK_STR(rec_str(o, "a"), "x", "rec_str");
	CHECK(rec_str(o, "n") == NULL, "rec_str on number is NULL");
	CHECK_STR(rec_id(o, "n", buf), "12", "numeric id as string");
	rec_set_str(o, "a", "y");
	CHECK_STR(rec_str(o, "a"), "y", "rec_set_str replaces");
	e = rec_fail(o, "plan", EC_INVALID_IMAGES, "need %d", 1);
	CHECK_STR(rec_status(o), "failed", "rec_fail sets status");
	CHECK_STR(rec_str(e, "code"), "invalid_images", "error code");
	CHECK_STR(rec_error_code(o), "invalid_images", "rec_error_code");
	CHECK(rec_is_final_failure(o), "failed is final");
	cJSON_Delete(o);
	o = rec_bad_line("plan", "x.ndjson", 3, "ab\xff", 3, "invalid JSON");
	{
		char *s = nd_print(o);
		CHECK(strstr(s, "\"line\":3") != NULL, "bad line has line number");
		CHECK(strstr(s, "ab?") != NULL, "raw made valid UTF-8");
		cJSON_free(s);
	}
	cJSON_Delete(o);
}

static void
test_util(void)
{
	char hex[65], *b;
	unsigned char *d;
	size_t n;

	util_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256");
	b = util_b64_encode("hello", 5, &n);
	CHECK_STR(b, "aGVsbG8=", "base64 encode");
	d = util_b64_decode(b, n, &n);
	CHECK(n == 5 && !memcmp(d, "hello", 5), "base64 decode");
	free(d);
	free(b);
	CHECK(util_b64_decode("a$b=", 4, &n) == NULL, "base64 refuses junk");
	b = util_uuid();
	CHECK(strlen(b) == 36, "uuid");
	free(b);
}

static void
test_reader(void)
{
	char path[] = "/tmp/bg-unit-XXXXXX", *files[1], *line;
	const char *data = "{\"a\":1}\n\n{bad\n{\"b\":2}  junk\n[1]\n{\"c\":3}";
	struct nd_reader r;
	size_t len;
	int fd = mkstemp(path), bad, nbad = 0, ngood = 0;
	cJSON *o;

	if (write(fd, data, strlen(data)) < 0)
		return;
	close(fd);
	files[0] = path;
	nd_open(&r, 1, files);
	while ((o = nd_next(&r, "test", &bad))) {
		if (bad)
			nbad++;
		else
			ngood++;
		cJSON_Delete(o);
	}
	CHECK(ngood == 2, "two good records");
	CHECK(nbad == 3, "trailing garbage, bad JSON and non-object rejected");
	CHECK(r.lineno == 6, "line numbers count blank lines");
	nd_close(&r);
	/* an overlong line is reported, later lines still read */
	fd = open(path, O_WRONLY | O_TRUNC);
	{
		char big[5000];
		memset(big, 'x', sizeof big);
		if (write(fd, big, sizeof big) < 0 || write(fd, "\n{\"z\":1}\n", 9) < 0)
			return;
	}
	close(fd);
	nd_open(&r, 1, files);
	r.maxlen = 1000;
	CHECK(nd_line(&r, &line, &len) == -1, "overlong line rejected");
	CHECK(nd_line(&r, &line, &len) == 1 && !strcmp(line, "{\"z\":1}"), "next line read after overlong one");
	nd_close(&r);
	/* a valid line longer than the first buffer (64 KiB) is read whole */
	fd = open(path, O_WRONLY | O_TRUNC);
	{
		static char big[200000];
		memset(big, 'y', sizeof big);
		memcpy(big, "{\"k\":\"", 6);
		memcpy(big + sizeof big - 3, "\"}\n", 3);
		if (write(fd, big, sizeof big) < 0 || write(fd, "{}\n", 3) < 0)
			return;
	}
	close(fd);
	nd_open(&r, 1, files);
	o = nd_next(&r, "test", &bad);
	CHECK(o && !bad && strlen(rec_str(o, "k")) == 200000 - 9, "200 KB line read whole");
	cJSON_Delete(o);
	o = nd_next(&r, "test", &bad);
	CHECK(o && !bad, "line after a long one");
	cJSON_Delete(o);
	nd_close(&r);
	unlink(path);
}

static void
test_store(void)
{
	char *dir = t_tmpdir("store"), sha[65], *rel, *p, *buf;
	size_t len;
	cJSON *o;

	CHECK(store_put_object(dir, "hello", 5, "png", sha, &rel) == 0, "put object");
	CHECK(!strncmp(rel, "objects/2c/2cf24dba", 19), "object path is content addressed");
	p = easprintf("%s/%s", dir, rel);
	buf = store_read_file(p, 100, &len);
	CHECK(buf && len == 5 && !memcmp(buf, "hello", 5), "object content");
	free(buf);
	free(p);
	free(rel);
	p = easprintf("%s/a/b/log", dir);
	CHECK(store_append(p, "one\n", 4) == 0 && store_append(p, "two\n", 4) == 0, "append");
	buf = store_read_file(p, 100, &len);
	CHECK(buf && !strcmp(buf, "one\ntwo\n"), "appended lines");
	free(buf);
	free(p);
	p = easprintf("%s/w/x/file", dir);
	CHECK(store_write_atomic(p, "one", 3) == 0 && store_write_atomic(p, "two!", 4) == 0,
	    "atomic write makes folders and replaces");
	buf = store_read_file(p, 100, &len);
	CHECK(buf && len == 4 && !memcmp(buf, "two!", 4), "atomic write content");
	free(buf);
	free(p);
	{
		char *cmd = easprintf("test \"$(ls -A '%s/w/x')\" = file", dir);
		CHECK(system(cmd) == 0, "atomic write leaves no temp file");
		free(cmd);
	}
	o = cJSON_Parse("{\"x\":1}");
	CHECK(store_cache_put(dir, "abcdef", o) == 0, "cache put");
	cJSON_Delete(o);
	o = store_cache_get(dir, "abcdef");
	CHECK(o && rec_num(o, "x", 0) == 1, "cache get");
	cJSON_Delete(o);
	CHECK(store_cache_get(dir, "nothere") == NULL, "cache miss");
	t_rmtree(dir);
}

int
main(int argc, char **argv)
{
	err_init(argv[0]);
	test_names();
	test_records();
	test_util();
	test_reader();
	test_store();
	return t_failed;
}
