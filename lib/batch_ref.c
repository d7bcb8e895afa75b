/* batch_ref: reference images for batch mode (see batch_ref.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "batch_ref.h"
#include "batch_store.h"
#include "err.h"
#include "image.h"
#include "reqkey.h"
#include "store.h"

/* uploaded files are reused this long (Gemini keeps files 48 h) */
#define GEMINI_FILE_AGE (40 * 3600.0)
#define OPENAI_FILE_AGE (25 * 86400.0)

struct bref_set {
	GHashTable *refs;	/* url -> struct bref */
	const char *root;
	size_t max_bytes;
	double timeout_ms, connect_timeout_ms;
};

static unsigned char *
fetch_url(struct bref_set *s, const char *url, size_t *len, char **why)
{
	struct bh_req rq = {0};
	struct bh_resp rs;
	unsigned char *data = NULL;

	rq.url = url;
	rq.timeout_ms = s->timeout_ms;
	rq.connect_timeout_ms = s->connect_timeout_ms;
	if (bh_do(NULL, &rq, &rs) < 0)
		*why = estrdup(rs.err);
	else if (rs.status < 200 || rs.status > 299)
		*why = easprintf("HTTP %ld", rs.status);
	else if (rs.body.len > s->max_bytes)
		*why = easprintf("larger than %zu bytes", s->max_bytes);
	else {
		*len = rs.body.len;
		data = (unsigned char *)rs.body.s;
		rs.body.s = NULL;
	}
	bh_resp_free(&rs);
	return data ? data : NULL;
}

static void
bref_load(struct bref_set *s, struct bref *br)
{
	const char *url = br->r.url;
	char *path = NULL, *why = NULL;
	unsigned char *data = NULL;
	size_t len = 0;

	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))
		data = fetch_url(s, url, &len, &why);
	else if (!strncasecmp(url, "file://", 7))
		path = g_uri_unescape_string(url + 7 + (strncasecmp(url + 7,
		    "localhost/", 10) ? 0 : 9), NULL);
	else if (!strstr(url, "://"))
		path = g_strdup(url);
	else
		why = estrdup("unsupported URL");
	if (path && !(data = (unsigned char *)store_read_file(path,
	    s->max_bytes, &len)))
		why = estrdup(errno == EFBIG ? "too large" : strerror(errno));
	g_free(path);
	if (!data) {
		br->fail_code = why && !strcmp(why, "too large") ?
		    EC_IMAGE_TOO_LARGE : EC_IMAGE_FETCH_FAILED;
		br->fail_msg = easprintf("%s: %s", url, why);
	} else if (!(br->r.mime = image_sniff(data, len))) {
		br->fail_code = EC_UNSUPPORTED_IMAGE;
		br->fail_msg = easprintf("%s: not a PNG, JPEG or WebP image",
		    url);
		free(data);
	} else {
		br->r.data = data;
		br->r.len = len;
		util_sha256_hex(data, len, br->r.sha256);
	}
	free(why);
}

/* The reference at url, read once per run. */
static struct bref *
bref_get(struct bref_set *s, const char *url)
{
	struct bref *br = g_hash_table_lookup(s->refs, url);

	if (!br) {
		br = ecalloc(1, sizeof *br);
		br->r.url = estrdup(url);
		g_hash_table_insert(s->refs, br->r.url, br);
		bref_load(s, br);
	}
	return br;
}

const char *
bref_sha(struct bref_set *s, const char *url, struct bref **out)
{
	struct bref *br = bref_get(s, url);

	*out = br;
	return br->fail_code ? NULL : br->r.sha256;
}

/* The reference at url, uploaded for bp: its file id, or NULL when it
 * failed (br->fail_*). */
const char *
bref_id(struct bref_set *s, const char *url, const struct bprov *bp, int bpi,
    const struct bctx *x, struct bref **out)
{
	struct bref *br = bref_get(s, url);
	int i = bpi, transient = 0, k;
	char *err = NULL;

	*out = br;
	if (br->fail_code || br->id[i])
		return br->id[i];
	br->id[i] = bs_ref_get(s->root, bp, br->r.sha256, bp == &bprov_gemini
	    ? GEMINI_FILE_AGE : OPENAI_FILE_AGE);
	if (!br->id[i] && !br->r.data)
		bref_load(s, br);	/* dropped after another upload */
	if (!br->id[i] && !br->fail_code) {
		if (bp->upload_ref(x, &br->r, &br->id[i], &err,
		    &transient) < 0) {
			/* a refused upload (HTTP 4xx) is refused again:
			 * only a transient failure is worth a retry */
			br->fail_code = transient ? EC_SERVER_ERROR :
			    EC_BAD_REQUEST;
			br->fail_retryable = transient;
			br->fail_msg = err;
			return NULL;
		}
		bs_ref_put(s->root, bp, br->r.sha256, br->id[i]);
	}
	/* the bytes stay only while a provider may still need them */
	for (k = 0; k < BREF_NPROV && br->id[k]; k++)
		;
	if (k == BREF_NPROV) {
		free(br->r.data);
		br->r.data = NULL;
	}
	return br->id[i];
}

static void
bref_free(void *p)
{
	struct bref *br = p;
	int i;

	free(br->r.url);
	free(br->r.data);
	for (i = 0; i < BREF_NPROV; i++)
		free(br->id[i]);
	free(br->fail_msg);
	free(br);
}

struct bref_set *
bref_set_new(const char *root, size_t max_bytes, double timeout_ms,
    double connect_timeout_ms)
{
	struct bref_set *s = ecalloc(1, sizeof *s);

	s->refs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    bref_free);
	s->root = root;
	s->max_bytes = max_bytes;
	s->timeout_ms = timeout_ms;
	s->connect_timeout_ms = connect_timeout_ms;
	return s;
}

void
bref_set_free(struct bref_set *s)
{
	g_hash_table_destroy(s->refs);
	free(s);
}

/* The request key is made of the references' bytes, read here once. */
int
bref_request_key(struct bref_set *s, const char *prov, const char *model,
    const char *prompt, const cJSON *rec, char key[65], struct bref **bad)
{
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(rec, "input");
	const char *urls[BREF_MAX_REFS], *sha[BREF_MAX_REFS];
	struct reqkey_in k = {0};
	int i, n = reqkey_ref_urls(input, urls, BREF_MAX_REFS);

	*bad = NULL;
	for (i = 0; i < n; i++)
		if (!(sha[i] = bref_sha(s, urls[i], bad)))
			return -1;
	k.provider = prov;
	k.model = model;
	k.prompt = prompt;
	k.input = input;
	k.ref_sha = sha;
	k.nref = n < 0 ? 0 : n;
	k.variation = cJSON_GetObjectItemCaseSensitive(rec, "variation");
	k.reroll = cJSON_GetObjectItemCaseSensitive(rec, "reroll");
	reqkey_compute(&k, key);
	return 0;
}
