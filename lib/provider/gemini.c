/* gemini: Google's generateContent with inline reference images
 * (doc/providers.md section 1).  One request per attempt. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "provider.h"
#include "record.h"
#include "util.h"

#define GEMINI_BASE "https://generativelanguage.googleapis.com"

static int
gemini_init(struct prov_conf *c, const char *base_url, char **err)
{
	const char *k = getenv("GEMINI_API_KEY");

	if (!k || !*k)
		k = getenv("GOOGLE_API_KEY");
	if (!k || !*k) {
		*err = estrdup("gemini: set GEMINI_API_KEY (or GOOGLE_API_KEY)");
		return -1;
	}
	c->key = estrdup(k);
	c->base_url = prov_base_url("gemini", base_url, GEMINI_BASE);
	return 0;
}

/* The GenerateContentRequest JSON of j into rq: the prompt, then each
 * reference inline (uris NULL) or as file_data naming uris[i] (batch
 * mode, lib/provider/gemini_batch.c), then generationConfig. */
void
gemini_body(struct pjob *j, struct prov_req *rq, char *const *uris)
{
	const char *aspect = NULL, *size = NULL, *b64;
	size_t n;
	int i;

	if (j->input) {
		aspect = rec_str(j->input, "aspect_ratio");
		size = rec_str(j->input, "image_size");
	}
	prov_body_adds(rq, "{\"contents\":[{\"role\":\"user\",\"parts\":"
	    "[{\"text\":");
	prov_body_json_str(rq, j->prompt);
	prov_body_adds(rq, "}");
	for (i = 0; i < j->nrefs; i++) {
		if (uris) {
			prov_body_adds(rq, ",{\"file_data\":{\"mime_type\":\"");
			prov_body_adds(rq, j->refs[i]->mime);
			prov_body_adds(rq, "\",\"file_uri\":");
			prov_body_json_str(rq, uris[i]);
			prov_body_adds(rq, "}}");
			continue;
		}
		prov_body_adds(rq, ",{\"inline_data\":{\"mime_type\":\"");
		prov_body_adds(rq, j->refs[i]->mime);
		prov_body_adds(rq, "\",\"data\":\"");
		b64 = ref_b64(j->refs[i], &n);
		prov_body_ref(rq, b64, n);	/* shared, not copied */
		prov_body_adds(rq, "\"}}");
	}
	prov_body_adds(rq, "]}],\"generationConfig\":{\"responseModalities\":"
	    "[\"TEXT\",\"IMAGE\"]");
	if (aspect || size) {
		prov_body_adds(rq, ",\"imageConfig\":{");
		if (aspect) {
			prov_body_adds(rq, "\"aspectRatio\":");
			prov_body_json_str(rq, aspect);
		}
		if (size) {
			prov_body_adds(rq, aspect ? ",\"imageSize\":" :
			    "\"imageSize\":");
			prov_body_json_str(rq, size);
		}
		prov_body_adds(rq, "}");
	}
	prov_body_adds(rq, "}}");
}

/* Model ids go into the URL path: keep them to a safe alphabet. */
int
gemini_model_ok(const char *m)
{
	return *m && strspn(m, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(m);
}

static int
gemini_build(struct pjob *j, struct prov_req *rq)
{
	if (!gemini_model_ok(j->model))
		return prov_fail(j, EC_BAD_REQUEST, 0,
		    "gemini: bad model name");
	rq->url = easprintf("%s/v1beta/models/%s:generateContent",
	    j->conf->base_url, j->model);
	prov_header(rq, "Content-Type: application/json");
	prov_header(rq, "x-goog-api-key: %s", j->conf->key);
	gemini_body(j, rq, NULL);
	return PROV_SEND;
}

static const cJSON *
get2(const cJSON *o, const char *camel, const char *snake)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, camel);

	return v ? v : cJSON_GetObjectItemCaseSensitive(o, snake);
}

/* The first printable text part, shortened, for messages. */
static char *
first_text(const cJSON *parts)
{
	const cJSON *p;
	const char *t;

	cJSON_ArrayForEach(p, parts) {
		if ((t = rec_str(p, "text")) && *t)
			return estrndup(t, strlen(t) > 200 ? 200 : strlen(t));
	}
	return NULL;
}

/* Answers at least this big have their image data cut out before cJSON
 * reads them: cJSON copies a string a byte at a time (about 2 ms a MB) and
 * a 1.5 MB image is 2 MB of base64. */
#define CUT_MIN 4096

struct span {
	const char *p;
	size_t len;
};

/* The end of the JSON string whose text starts at p: its closing quote,
 * or NULL; *esc set if it holds a backslash escape. */
static const char *
str_end(const char *p, const char *end, int *esc)
{
	const char *q, *bs;

	for (;;) {
		if (p >= end || !(q = memchr(p, '"', end - p)))
			return NULL;
		if (!(bs = memchr(p, '\\', q - p)))
			return q;
		*esc = 1;
		p = bs + 2;	/* past the escaped character */
	}
}

/* The body with the text of every string value of a "data" key replaced
 * by "#N", N its index in *sp (bytes borrowed from body).  NULL (and
 * nothing to free) when there is none, or when the body is not plain
 * enough to be sure: a key or a data value with an escape, a string
 * that does not end.  cJSON then reads the body as it is. */
static char *
cut_data(const char *body, size_t len, struct span **sp, int *nsp,
    size_t *outlen)
{
	const char *p = body, *end = body + len, *q, *r, *copied = body;
	struct sbuf b = {0};
	char num[24];
	int esc, want = 0, cap = 0;

	*sp = NULL;
	*nsp = 0;
	while (p < end) {
		if (*p != '"') {
			if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
				want = 0;	/* a value that is no string */
			p++;
			continue;
		}
		esc = 0;
		if (!(q = str_end(p + 1, end, &esc)))
			goto plain;
		for (r = q + 1; r < end && (*r == ' ' || *r == '\n' ||
		    *r == '\r' || *r == '\t'); r++)
			;
		if (r < end && *r == ':') {	/* a key */
			if (esc)
				goto plain;
			want = q - p - 1 == 4 && !memcmp(p + 1, "data", 4);
			p = r + 1;
			continue;
		}
		if (want) {
			if (esc)
				goto plain;
			if (*nsp == cap) {
				cap = cap ? cap * 2 : 4;
				*sp = erealloc(*sp, cap * sizeof **sp);
			}
			(*sp)[*nsp].p = p + 1;
			(*sp)[*nsp].len = q - p - 1;
			sb_add(&b, copied, p + 1 - copied);
			snprintf(num, sizeof num, "#%d", (*nsp)++);
			sb_adds(&b, num);
			copied = q;
			want = 0;
		}
		p = q + 1;
	}
	if (!*nsp)
		goto plain;
	sb_add(&b, copied, end - copied);
	*outlen = b.len;
	return b.s;
plain:
	sb_free(&b);
	free(*sp);
	*sp = NULL;
	*nsp = 0;
	return NULL;
}

/* The bytes of an inline image: its data string, or where cut_data cut
 * it out, the span it names. */
static unsigned char *
part_bytes(const cJSON *data, const struct span *sp, int nsp, size_t *len)
{
	const char *s;
	char *e;
	long i;

	if (!cJSON_IsString(data))
		return NULL;
	s = data->valuestring;
	if (sp && s[0] == '#') {
		i = strtol(s + 1, &e, 10);
		if (e == s + 1 || *e || i < 0 || i >= nsp)
			return NULL;
		return util_b64_decode(sp[i].p, sp[i].len, len);
	}
	return util_b64_decode(s, strlen(s), len);
}

/* finishReason values that are no safety decision (IMAGE_SAFETY, SAFETY,
 * PROHIBITED_CONTENT, BLOCKLIST, RECITATION... stay blocked). */
static int
no_image(const char *reason)
{
	static const char *const r[] = {
		"NO_IMAGE", "IMAGE_OTHER", "OTHER", "MAX_TOKENS",
	};
	size_t i;

	for (i = 0; i < sizeof r / sizeof *r; i++)
		if (!strcmp(reason, r[i]))
			return 1;
	return 0;
}

static int
gemini_parse(struct pjob *j, const struct prov_resp *rs)
{
	const cJSON *fb, *cands, *c0, *parts, *p, *id, *data;
	const char *reason, *why, *mime;
	unsigned char *bytes;
	struct span *sp = NULL;
	size_t len, cutlen = 0;
	char *text, *cut = NULL;
	cJSON *o;
	int rc, nsp = 0;

	if (rs->len >= CUT_MIN)
		cut = cut_data(rs->body, rs->len, &sp, &nsp, &cutlen);
	o = cut ? cJSON_ParseWithLength(cut, cutlen) :
	    cJSON_ParseWithLength(rs->body, rs->len);
	free(cut);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		free(sp);
		return prov_fail(j, EC_BAD_RESPONSE, rs->status,
		    "gemini: unparsable response (%zu bytes)", rs->len);
	}
	if ((id = cJSON_GetObjectItemCaseSensitive(o, "responseId")) &&
	    cJSON_IsString(id))
		prov_set_request_id(j, id->valuestring);
	fb = get2(o, "promptFeedback", "prompt_feedback");
	if ((reason = rec_str(fb, "blockReason")) ||
	    (reason = rec_str(fb, "block_reason"))) {
		rc = prov_fail(j, EC_BLOCKED, rs->status,
		    "gemini: prompt blocked: %s", reason);
		goto out;
	}
	cands = cJSON_GetObjectItemCaseSensitive(o, "candidates");
	c0 = cJSON_GetArrayItem(cands, 0);
	parts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c0, "content"), "parts");
	cJSON_ArrayForEach(p, parts) {
		const cJSON *in = get2(p, "inlineData", "inline_data");

		if (!in || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
		    "thought")))
			continue;
		data = cJSON_GetObjectItemCaseSensitive(in, "data");
		mime = rec_str(in, "mimeType");
		if (!mime)
			mime = rec_str(in, "mime_type");
		if (!(bytes = part_bytes(data, sp, nsp, &len)) || len == 0) {
			free(bytes);
			rc = prov_fail(j, EC_BAD_RESPONSE, rs->status,
			    "gemini: image part is not base64");
			goto out;
		}
		if (prov_output(j, bytes, len, mime)) {
			rc = PROV_FAIL;
			goto out;
		}
	}
	if (j->nout > 0) {
		prov_usage(j, o, (cJSON *)get2(o, "usageMetadata",
		    "usage_metadata"));
		rc = PROV_DONE;
		goto out;
	}
	reason = rec_str(c0, "finishReason");
	if (!reason)
		reason = rec_str(c0, "finish_reason");
	why = rec_str(c0, "finishMessage");
	text = first_text(parts);
	if (!c0)
		rc = prov_fail(j, EC_BLOCKED, rs->status,
		    "gemini: no candidates in the response");
	else if (reason && no_image(reason))
		/* the model drew nothing, for no safety reason: a new
		 * try may well draw it */
		rc = prov_fail(j, EC_NO_IMAGE, rs->status,
		    "gemini: no image: %s%s%s%s%s", reason, why ? ": " : "",
		    why ? why : "", text ? ": " : "", text ? text : "");
	else if (reason && strcmp(reason, "STOP"))
		rc = prov_fail(j, EC_BLOCKED, rs->status,
		    "gemini: no image: %s%s%s", reason, why ? ": " : "",
		    why ? why : "");
	else
		rc = prov_fail(j, EC_BLOCKED, rs->status,
		    "gemini: no image in the response%s%s",
		    text ? ": " : "", text ? text : "");
	free(text);
out:
	cJSON_Delete(o);
	free(sp);
	return rc;
}

static void
gemini_classify(struct pjob *j, const struct prov_resp *rs)
{
	const cJSON *err, *d, *v, *e;
	const char *msg = NULL, *t, *q;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	err = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, 0) : o;
	err = cJSON_GetObjectItemCaseSensitive(err, "error");
	msg = rec_str(err, "message");
	prov_classify_http(j, rs, msg);
	if (rs->status == 404) {
		/* "models/X is not found for API version v1beta" */
		prov_recode(j, EC_MODEL_NOT_FOUND);
	} else if (rs->status == 429 && msg && strstr(msg, "credits")) {
		/* "Your prepayment credits are depleted": waiting does
		 * not refill the account */
		prov_recode(j, EC_QUOTA);
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(err,
	    "details")) {
		t = rec_str(d, "@type");
		if (!t)
			continue;
		if (strstr(t, "google.rpc.RetryInfo") &&
		    j->fail.retry_after_ms < 0)
			j->fail.retry_after_ms =
			    prov_duration_ms(rec_str(d, "retryDelay"));
		/* a daily quota does not come back by waiting a minute */
		if (strstr(t, "google.rpc.QuotaFailure"))
			cJSON_ArrayForEach(v,
			    cJSON_GetObjectItemCaseSensitive(d, "violations"))
				if ((q = rec_str(v, "quotaId")) &&
				    strstr(q, "PerDay"))
					j->fail.retryable = 0;
		if (strstr(t, "google.rpc.ErrorInfo") &&
		    (e = cJSON_GetObjectItemCaseSensitive(d, "reason")) &&
		    cJSON_IsString(e) &&
		    !strcmp(e->valuestring, "API_KEY_INVALID")) {
			prov_recode(j, EC_AUTH);
		}
	}
	cJSON_Delete(o);
}

static int
gemini_model_req(struct prov_conf *c, const char *model, struct prov_req *rq)
{
	if (model && !gemini_model_ok(model))
		return -1;
	rq->url = model ? easprintf("%s/v1beta/models/%s", c->base_url, model)
	    : easprintf("%s/v1beta/models?pageSize=1000", c->base_url);
	rq->method = "GET";
	prov_header(rq, "x-goog-api-key: %s", c->key);
	return 0;
}

static int
gemini_model_ans(const char *model, const struct prov_resp *rs, char **note,
    cJSON *names)
{
	cJSON *o = cJSON_ParseWithLength(rs->body, rs->len);
	const cJSON *m, *meth;
	const char *n;
	int rc = 0, gen = 0;

	if (!model) {
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o,
		    "models"))
			if ((n = rec_str(m, "name")))
				cJSON_AddItemToArray(names, cJSON_CreateString(
				    strncmp(n, "models/", 7) ? n : n + 7));
		cJSON_Delete(o);
		return 0;
	}
	meth = cJSON_GetObjectItemCaseSensitive(o, "supportedGenerationMethods");
	cJSON_ArrayForEach(m, meth)
		if (cJSON_IsString(m) && !strcmp(m->valuestring,
		    "generateContent"))
			gen = 1;
	if (!cJSON_IsObject(o)) {
		*note = estrdup("unparsable answer");
		rc = -1;
	} else if (cJSON_IsArray(meth) && !gen) {
		*note = easprintf("model %s does not support generateContent",
		    model);
		rc = -1;
	}
	cJSON_Delete(o);
	return rc;
}

const struct provider prov_gemini = {
	.name = "gemini",
	.key_env = "GEMINI_API_KEY",
	.b64_refs = 1,
	.init = gemini_init,
	.build = gemini_build,
	.parse = gemini_parse,
	.classify = gemini_classify,
	.fini = prov_key_free,
	.model_req = gemini_model_req,
	.model_ans = gemini_model_ans,
};
