/* Unit tests for lib/reqkey.c (what a request is known by) and
 * lib/cost.c (what a result was charged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cost.h"
#include "reqkey.h"
#include "store.h"
#include "util.h"
#include "test.h"

static const char *A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* The key of a job record's text, its references hashed as given. */
static void
key_of(const char *rec, const char *const *sha, int n, char key[65])
{
	cJSON *r = cJSON_Parse(rec);
	struct reqkey_in k = {0};

	if (!r) {
		printf("not ok - bad test record %s\n", rec);
		exit(1);
	}
	k.provider = cJSON_GetObjectItem(r, "provider")->valuestring;
	k.model = "m";
	k.prompt = cJSON_GetStringValue(cJSON_GetObjectItem(r, "prompt"));
	k.input = cJSON_GetObjectItem(r, "input");
	k.ref_sha = sha;
	k.nref = n;
	k.variation = cJSON_GetObjectItem(r, "variation");
	k.reroll = cJSON_GetObjectItem(r, "reroll");
	reqkey_compute(&k, key);
	cJSON_Delete(r);
}

/* The key of a gemini job with one field changed from the base job. */
#define BASE_IN "\"x\":1,\"y\":[1,2.5,\"s\"],\"z\":{\"q\":null,\"p\":true}," \
	"\"product_images\":[\"a.png\",\"b.png\"]"
static void
key_with(const char *prov, const char *prompt, int var, const char *extra,
    const char *in, const char *const *sha, char key[65])
{
	char rec[512];

	snprintf(rec, sizeof rec, "{\"provider\":\"%s\",\"prompt\":\"%s\","
	    "\"variation\":%d%s,\"input\":{%s}}", prov, prompt, var, extra, in);
	key_of(rec, sha, 2, key);
}

static void
test_key(void)
{
	const char *ab[] = {A, B}, *ba[] = {B, A}, *aa[] = {A, A};
	char k0[65], k[65];

	key_with("gemini", "p", 1, ",\"batch_id\":\"b1\",\"job_id\":\"b1-v-1\"",
	    BASE_IN, ab, k0);
	CHECK(strlen(k0) == 64, "key is 64 hex digits");
	key_with("gemini", "p", 1, ",\"batch_id\":\"b2\",\"job_id\":\"b2-v-1\"",
	    "\"product_images\":[\"/elsewhere/x.png\",\"https://cdn/y.png\"],"
	    "\"z\":{\"p\":true,\"q\":null},\"y\":[1,2.5,\"s\"],\"x\":1.0", ab, k);
	CHECK_STR(k, k0, "key ignores batch id, job id, paths, key order, 1 vs 1.0");
	key_with("gemini", "p", 1, "", BASE_IN, ba, k);
	CHECK(strcmp(k, k0) != 0, "key sees the references' order");
	key_with("gemini", "p", 1, "", BASE_IN, aa, k);
	CHECK(strcmp(k, k0) != 0, "key sees a reference's bytes");
	key_with("gemini", "p", 1, "", "\"x\":1,\"y\":[2.5,1,\"s\"],"
	    "\"z\":{\"q\":null,\"p\":true},\"product_images\":[\"a\",\"b\"]",
	    ab, k);
	CHECK(strcmp(k, k0) != 0, "key sees array order in parameters");
	key_with("gemini", "p ", 1, "", BASE_IN, ab, k);
	CHECK(strcmp(k, k0) != 0, "key sees the prompt");
	key_with("openai", "p", 1, "", BASE_IN, ab, k);
	CHECK(strcmp(k, k0) != 0, "key sees the provider");
	key_with("gemini", "p", 2, "", BASE_IN, ab, k);
	CHECK(strcmp(k, k0) != 0, "key sees the variation");
	key_with("gemini", "p", 1, ",\"reroll\":7", BASE_IN, ab, k);
	CHECK(strcmp(k, k0) != 0, "key sees the reroll");
}

static void
test_extra_refs(void)
{
	const char *ab[] = {A, B}, *urls[8];
	char k1[65], k2[65];
	cJSON *in;

	/* the same bytes as a model image or as a background: two requests */
	key_of("{\"provider\":\"gemini\",\"input\":{\"product_images\":[\"a\"],"
	    "\"model_image_url\":\"m.png\"}}", ab, 2, k1);
	key_of("{\"provider\":\"gemini\",\"input\":{\"product_images\":[\"a\"],"
	    "\"background_image_url\":\"m.png\"}}", ab, 2, k2);
	CHECK(strcmp(k1, k2) != 0, "key sees a reference's role");
	key_of("{\"provider\":\"gemini\",\"input\":{\"product_images\":[\"a\"],"
	    "\"background_image_url\":\"/other/n.png\"}}", ab, 2, k1);
	CHECK_STR(k1, k2, "key ignores an extra reference's path");
	in = cJSON_Parse("{\"product_images\":[\"a\",\"b\"],\"model_image_url\":"
	    "\"\",\"background_image_url\":\"c\"}");
	CHECK(reqkey_ref_urls(in, urls, 8) == 3 && !strcmp(urls[2], "c"),
	    "ref_urls: product images, then non-empty extras");
	CHECK(reqkey_ref_urls(in, urls, 2) == -1, "ref_urls: over max");
	cJSON_Delete(in);
	in = cJSON_Parse("{\"product_images\":[\"a\",3]}");
	CHECK(reqkey_ref_urls(in, urls, 8) == -1, "ref_urls: not a string");
	cJSON_Delete(in);
}

static void
test_paths(void)
{
	char *dir, *p, *map, sha[65], want[65];
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n0000IHDR-fake";
	FILE *f;

	p = reqkey_local_path("file://localhost/tmp/a%20b.png");
	CHECK_STR(p, "/tmp/a b.png", "file://localhost URL");
	g_free(p);
	p = reqkey_local_path("rel/x.png");
	CHECK_STR(p, "rel/x.png", "a plain path");
	g_free(p);
	CHECK(reqkey_local_path("https://cdn/x.png") == NULL, "http is not local");
	dir = t_tmpdir("reqkey");
	p = g_strdup_printf("%s/x.png", dir);
	f = fopen(p, "w");
	fwrite(png, 1, sizeof png - 1, f);
	fclose(f);
	util_sha256_hex(png, sizeof png - 1, want);
	CHECK(reqkey_ref_sha_offline(dir, p, 1 << 20, sha) == 0 &&
	    !strcmp(sha, want), "offline sha of a local file");
	CHECK(reqkey_ref_sha_offline(dir, "https://cdn/x.png", 1 << 20, sha)
	    == -1, "an URL never fetched: unknown");
	map = reqkey_refmap_path(dir, "https://cdn/x.png");
	store_write_atomic(map, "x.png\n", 6);
	CHECK(reqkey_ref_sha_offline(dir, "https://cdn/x.png", 1 << 20, sha)
	    == 0 && !strcmp(sha, want), "an URL fetched before: its object");
	unlink(map);
	free(map);
	unlink(p);
	g_free(p);
	t_rmtree(dir);
}

/* Stores made before the content key hold answers under the old key:
 * reqkey_legacy must give exactly what that bg-generate gave (the value
 * below was computed by its engine_request_key). */
static void
test_legacy(void)
{
	cJSON *in = cJSON_Parse("{\"product_images\":[\"a.png\"],"
	    "\"aspect_ratio\":\"1:1\",\"x\":[1,2.5,{\"b\":1,\"a\":null}]}");
	cJSON *b = cJSON_Parse("\"b1\""), *v = cJSON_Parse("2");
	char k[65];

	reqkey_legacy("gemini", "m", "p\"\n", in, b, v, k);
	CHECK_STR(k, "b172c730cc7a4d08a20611d01ed3f8fdd5e61be0126c2c1184fb6edda55e26bb",
	    "the old key, to find what older stores paid for");
	cJSON_Delete(in);
	cJSON_Delete(b);
	cJSON_Delete(v);
}

static void
test_cost(void)
{
	CHECK(cost_charged(0.039, 1) == 0.039, "cost: one image");
	CHECK(cost_charged(0.039, 3) == 0.117, "cost: three images, no float noise");
	CHECK(cost_charged(0.039, 0) == 0, "cost: no image");
	CHECK(cost_charged(-1, 2) == 0, "cost: a negative price");
	CHECK(cost_charged(0.0 / 0.0, 2) == 0, "cost: NaN price");
}

int
main(void)
{
	test_key();
	test_extra_refs();
	test_paths();
	test_legacy();
	test_cost();
	return t_failed;
}
