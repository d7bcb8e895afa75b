/* reqkey: the request key (see reqkey.h) and the reference helpers it
 * needs: local paths, the store's map of fetched URLs, offline hashing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "err.h"
#include "image.h"
#include "ndjson.h"
#include "reqkey.h"
#include "store.h"
#include "util.h"

/* the key's form: changing it changes every key (old cache entries are
 * then simply not found) */
#define REQKEY_FORM "bg-request/2"

const char *const reqkey_extra_refs[] = {
	"model_image_url", "background_image_url", NULL
};

static int
cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* A JSON string literal of s: \" \\ and \u00XX below 0x20 (the key's
 * form, nd_json_str without short escapes: changing a byte here changes
 * every key). */
static void
json_str(struct sbuf *b, const char *s)
{
	nd_json_str(b, s, 0);
}

/* A number as "%.0f" (integers below 1e15) or "%.17g" print it. */
static void
canon_num(struct sbuf *b, double d)
{
	char buf[32], *p = buf + sizeof buf;
	unsigned long long u;

	if (d == floor(d) && fabs(d) < 1e15) {
		u = d < 0 ? (unsigned long long)-(long long)d :
		    (unsigned long long)d;
		do
			*--p = '0' + u % 10;
		while (u /= 10);
		if (signbit(d))
			*--p = '-';	/* "%.0f" prints -0 too */
		sb_add(b, p, buf + sizeof buf - p);
	} else {
		sb_addf(b, "%.17g", d);
	}
}

static int
is_ref_field(const char *k)
{
	int i;

	if (!strcmp(k, "product_images"))
		return 1;
	for (i = 0; reqkey_extra_refs[i]; i++)
		if (!strcmp(k, reqkey_extra_refs[i]))
			return 1;
	return 0;
}

/* JSON with object keys sorted and numbers printed one way; with
 * no_refs, an object's reference fields are left out (the input's
 * top level: their bytes are keyed instead). */
static void
canon(struct sbuf *b, const cJSON *v, int no_refs)
{
	const cJSON *c, **kids;
	int n, i, k;

	if (!v || cJSON_IsNull(v)) {
		sb_adds(b, "null");
	} else if (cJSON_IsBool(v)) {
		sb_adds(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		canon_num(b, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		json_str(b, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		sb_addc(b, '[');
		i = 0;
		cJSON_ArrayForEach(c, v) {
			if (i++)
				sb_addc(b, ',');
			canon(b, c, 0);
		}
		sb_addc(b, ']');
	} else if (cJSON_IsObject(v)) {
		const cJSON *stack[16];

		n = cJSON_GetArraySize(v);
		kids = n <= 16 ? stack : emalloc(n * sizeof *kids);
		i = 0;
		cJSON_ArrayForEach(c, v)
			if (c->string && !(no_refs && is_ref_field(c->string)))
				kids[i++] = c;
		n = i;
		qsort(kids, n, sizeof *kids, cmp_keys);
		sb_addc(b, '{');
		for (k = 0; k < n; k++) {
			if (k)
				sb_addc(b, ',');
			json_str(b, kids[k]->string);
			sb_addc(b, ':');
			canon(b, kids[k], 0);
		}
		sb_addc(b, '}');
		if (kids != stack)
			free(kids);
	} else {
		sb_adds(b, "null");
	}
}

int
reqkey_ref_urls(const cJSON *input, const char **urls, int max)
{
	const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(input,
	    "product_images"), *it, *e;
	int n = 0, i;

	if (imgs && !cJSON_IsArray(imgs))
		return -1;
	cJSON_ArrayForEach(it, imgs) {
		if (!cJSON_IsString(it) || !*it->valuestring || n == max)
			return -1;
		urls[n++] = it->valuestring;
	}
	for (i = 0; reqkey_extra_refs[i]; i++) {
		e = cJSON_GetObjectItemCaseSensitive(input,
		    reqkey_extra_refs[i]);
		if (!cJSON_IsString(e) || !*e->valuestring)
			continue;
		if (n == max)
			return -1;
		urls[n++] = e->valuestring;
	}
	return n;
}

/* The references' hashes by role: {"product_images":[...],"NAME":"..."}. */
static void
refs_text(struct sbuf *b, const struct reqkey_in *in)
{
	const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(in->input,
	    "product_images"), *e;
	int i, k = 0, np = cJSON_IsArray(imgs) ? cJSON_GetArraySize(imgs) : 0;

	sb_adds(b, "{\"product_images\":[");
	for (i = 0; i < np && k < in->nref; i++) {
		if (i)
			sb_addc(b, ',');
		json_str(b, in->ref_sha[k++]);
	}
	sb_addc(b, ']');
	/* reqkey_extra_refs is in sorted order: the object stays canonical */
	for (i = 0; reqkey_extra_refs[i] && k < in->nref; i++) {
		e = cJSON_GetObjectItemCaseSensitive(in->input,
		    reqkey_extra_refs[i]);
		if (!cJSON_IsString(e) || !*e->valuestring)
			continue;
		sb_addc(b, ',');
		json_str(b, reqkey_extra_refs[i]);
		sb_addc(b, ':');
		json_str(b, in->ref_sha[k++]);
	}
	sb_addc(b, '}');
}

void
reqkey_compute(const struct reqkey_in *in, char key[65])
{
	static struct sbuf b;

	/* the canonical JSON array, written directly */
	sb_reset(&b);
	sb_adds(&b, "[\"" REQKEY_FORM "\",");
	json_str(&b, in->provider ? in->provider : "");
	sb_addc(&b, ',');
	json_str(&b, in->model ? in->model : "");
	sb_addc(&b, ',');
	if (in->prompt)
		json_str(&b, in->prompt);
	else
		sb_adds(&b, "null");
	sb_addc(&b, ',');
	canon(&b, in->input, 1);
	sb_addc(&b, ',');
	refs_text(&b, in);
	sb_addc(&b, ',');
	canon(&b, in->variation, 0);
	sb_addc(&b, ',');
	canon(&b, in->reroll, 0);
	sb_addc(&b, ']');
	util_sha256_hex(b.s, b.len, key);
}

void
reqkey_legacy(const char *provider, const char *model, const char *prompt,
    const cJSON *input, const cJSON *batch_id, const cJSON *variation,
    char key[65])
{
	static struct sbuf b;

	sb_reset(&b);
	sb_adds(&b, "[\"bg-generate/1\",");
	json_str(&b, provider);
	sb_addc(&b, ',');
	json_str(&b, model);
	sb_addc(&b, ',');
	if (prompt)
		json_str(&b, prompt);
	else
		sb_adds(&b, "null");
	sb_addc(&b, ',');
	canon(&b, input, 0);
	sb_addc(&b, ',');
	canon(&b, batch_id, 0);
	sb_addc(&b, ',');
	canon(&b, variation, 0);
	sb_addc(&b, ']');
	util_sha256_hex(b.s, b.len, key);
}

char *
reqkey_local_path(const char *url)
{
	const char *p;

	if (!strncasecmp(url, "file://", 7)) {
		/* "file:///x" and "file://localhost/x", %XX undone */
		p = url + 7;
		if (!strncasecmp(p, "localhost/", 10))
			p += 9;
		return g_uri_unescape_string(p, NULL);
	}
	if (strstr(url, "://") || !*url)
		return NULL;
	return g_strdup(url);
}

char *
reqkey_refmap_path(const char *root, const char *url)
{
	char h[65];

	util_sha256_hex(url, strlen(url), h);
	return easprintf("%s/cache/refs/%.2s/%s", root, h, h);
}

char *
reqkey_refmap_get(const char *root, const char *url)
{
	char *map = reqkey_refmap_path(root, url), *rel;
	size_t len;

	rel = store_read_file(map, 4096, &len);
	free(map);
	if (rel)
		rel[strcspn(rel, "\n")] = '\0';
	return rel;
}

int
reqkey_ref_sha_offline(const char *root, const char *url, size_t max,
    char sha[65])
{
	char *path = reqkey_local_path(url), *rel, *data;
	size_t len;

	if (!path) {
		if (strncasecmp(url, "http://", 7) &&
		    strncasecmp(url, "https://", 8))
			return -1;
		if (!(rel = reqkey_refmap_get(root, url)))
			return -1;
		path = g_strdup_printf("%s/%s", root, rel);
		free(rel);
	}
	data = store_read_file(path, max, &len);
	g_free(path);
	if (!data || !image_sniff(data, len)) {
		free(data);
		return -1;
	}
	util_sha256_hex(data, len, sha);
	free(data);
	return 0;
}
