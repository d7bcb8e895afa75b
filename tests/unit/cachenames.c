/* Unit tests for lib/cachenames.c: which keys the cache certainly lacks,
 * and when a shard's names are read instead of asked per key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cachenames.h"
#include "err.h"
#include "store.h"
#include "test.h"
#include "util.h"

/* the key of the text s */
static const char *
key(const char *s)
{
	static char k[4][65];
	static int i;

	i = (i + 1) % 4;
	util_sha256_hex(s, strlen(s), k[i]);
	return k[i];
}

/* a key in shard "ab" */
static const char *
key_ab(int n)
{
	static char k[65];

	snprintf(k, sizeof k, "ab%062d", n);
	return k;
}

static void
put(const char *root, const char *k)
{
	char *p = store_cache_path(root, k);

	if (store_write_atomic(p, "{}", 2) < 0)
		die(EXIT_FATAL, "%s:", p);
	free(p);
}

/* as engine_admit's lookup: ask unless ruled out, count a miss */
static int
looked_up(const char *root, const char *k)
{
	char *p;
	int found;

	if (cachenames_absent(root, k))
		return 0;
	p = store_cache_path(root, k);
	found = access(p, F_OK) == 0;
	free(p);
	if (!found)
		cachenames_miss(k);
	return 1;
}

static void
test_no_cache(const char *dir)
{
	char *root = easprintf("%s/none", dir);

	cachenames_reset();
	CHECK(cachenames_absent(root, key("a")),
	    "no cache folder: every key is absent");
	cachenames_add(key("a"));
	CHECK(!cachenames_absent(root, key("a")),
	    "a key this run wrote is looked up");
	CHECK(cachenames_absent(root, key("b")), "others still absent");
	CHECK(!cachenames_absent(root, "not a key"),
	    "what is not a key is looked up");
	free(root);
}

static void
test_shards(const char *dir)
{
	char *root = easprintf("%s/st", dir);
	int i, asked;

	cachenames_reset();
	put(root, key_ab(1));
	CHECK(!cachenames_absent(root, key_ab(2)),
	    "a shard not read yet is asked per key");
	CHECK(looked_up(root, key_ab(2)), "asked");
	CHECK(cachenames_absent(root, key_ab(3)),
	    "one miss in a small shard reads its names");
	CHECK(!cachenames_absent(root, key_ab(1)),
	    "a key there is looked up");
	/* a shard with no folder: known empty after one miss */
	CHECK(!cachenames_absent(root, key("x")), "another shard: asked");
	looked_up(root, key("x"));
	CHECK(cachenames_absent(root, key("x")),
	    "its folder missing: nothing in it");
	/* a big shard: asked per key until the misses pay for reading */
	for (i = 100; i < 700; i++)
		put(root, key_ab(i));
	cachenames_reset();
	for (asked = 0, i = 0; i < 60 && !cachenames_absent(root, key_ab(
	    5000 + i)); i++)
		asked += looked_up(root, key_ab(5000 + i));
	printf("# asked %d\n", asked);
	CHECK(asked > 1 && asked < 60,
	    "a big shard: read after several misses, not at once");
	CHECK(!cachenames_absent(root, key_ab(650)),
	    "and its names are all there");
	cachenames_reset();
	free(root);
}

int
main(int argc, char **argv)
{
	char *dir;

	(void)argc;
	err_init(argv[0]);
	dir = t_tmpdir("cachenames");
	test_no_cache(dir);
	test_shards(dir);
	t_rmtree(dir);
	return t_failed;
}
