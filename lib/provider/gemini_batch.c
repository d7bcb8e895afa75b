/* gemini_batch: the Gemini Batch API wire format (doc/providers.md 1.10).
 * Request lines {"key","request"} go up as one JSONL file through the
 * Files API resumable upload; reference images go up once each the same
 * way and lines name them with file_data; the batch is created with
 * models/{model}:batchGenerateContent, polled at batches/{id}, and its
 * responses file downloaded with files/{id}:download?alt=media. */
#include <stdlib.h>
#include <string.h>

#include "batch_prov.h"
#include "err.h"
#include "ndjson.h"
#include "record.h"

static const char *
gemini_endpoint(const struct pjob *j)
{
	return "batchGenerateContent";
}

static struct curl_slist *
key_header(const struct bctx *x, struct curl_slist *h)
{
	return bp_secret(h, "x-goog-api-key", x->conf->key);
}

/* The Files API resumable upload of len bytes (mem, or f from its
 * position): start, then one "upload, finalize".  *file gets the answer's
 * file object (cJSON_Delete it). */
static int
upload(const struct bctx *x, const char *display, const char *mime,
    const void *mem, FILE *f, long long len, cJSON **file, char **err,
    int *transient)
{
	struct bh_req rq = {0};
	struct bh_resp rs;
	struct curl_slist *h = NULL;
	struct sbuf body = {0};
	char *url = easprintf("%s/upload/v1beta/files", x->conf->base_url);
	cJSON *o;
	int rc = -1;

	h = key_header(x, h);
	h = curl_slist_append(h, "X-Goog-Upload-Protocol: resumable");
	h = curl_slist_append(h, "X-Goog-Upload-Command: start");
	sb_addf(&body, "X-Goog-Upload-Header-Content-Length: %lld", len);
	h = curl_slist_append(h, body.s);
	sb_reset(&body);
	sb_addf(&body, "X-Goog-Upload-Header-Content-Type: %s", mime);
	h = curl_slist_append(h, body.s);
	h = curl_slist_append(h, "Content-Type: application/json");
	sb_reset(&body);
	sb_adds(&body, "{\"file\":{\"display_name\":");
	nd_print_str(&body, display);
	sb_adds(&body, "}}");
	if (bp_req(x, url, h, body.s, NULL, "gemini: files upload start", &rs,
	    err, transient) < 0)
		goto out;
	if (!rs.upload_url) {
		*err = estrdup("gemini: files upload start: no "
		    "x-goog-upload-url in the answer");
		*transient = 1;
		bh_resp_free(&rs);
		goto out;
	}
	curl_slist_free_all(h);
	h = curl_slist_append(NULL, "X-Goog-Upload-Command: upload, finalize");
	h = curl_slist_append(h, "X-Goog-Upload-Offset: 0");
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	free(url);
	url = rs.upload_url;
	rs.upload_url = NULL;
	bh_resp_free(&rs);
	memset(&rq, 0, sizeof rq);
	rq.url = url;
	rq.headers = h;
	rq.body = mem;
	rq.len = (size_t)len;
	rq.upload = f;
	rq.upload_len = len;
	rq.timeout_ms = 0;	/* big files take what they take */
	rq.connect_timeout_ms = x->connect_timeout_ms;
	if (bp_call(x, &rq, &rs, "gemini: files upload", err, transient) < 0)
		goto out;
	o = cJSON_ParseWithLength(rs.body.s, rs.body.len);
	if (!rec_str(cJSON_GetObjectItemCaseSensitive(o, "file"), "name") ||
	    (rs.upload_status && strcmp(rs.upload_status, "final"))) {
		*err = easprintf("gemini: files upload: unexpected answer "
		    "(status %s)", rs.upload_status ? rs.upload_status : "-");
		*transient = 1;
		cJSON_Delete(o);
	} else {
		*file = cJSON_DetachItemFromObjectCaseSensitive(o, "file");
		cJSON_Delete(o);
		rc = 0;
	}
	bh_resp_free(&rs);
out:
	curl_slist_free_all(h);
	sb_free(&body);
	free(url);
	return rc;
}

static int
gemini_upload_ref(const struct bctx *x, const struct ref *r, char **id,
    char **err, int *transient)
{
	cJSON *f = NULL;
	const char *uri;
	char display[40];

	snprintf(display, sizeof display, "bg-ref-%.24s", r->sha256);
	if (upload(x, display, r->mime, r->data, NULL, (long long)r->len, &f,
	    err, transient) < 0)
		return -1;
	/* lines name the file by its uri (file_data.file_uri) */
	uri = rec_str(f, "uri");
	*id = uri ? estrdup(uri) : easprintf("%s/v1beta/%s", x->conf->base_url,
	    rec_str(f, "name"));
	cJSON_Delete(f);
	return 0;
}

static int
gemini_line(struct pjob *j, const char *key, char *const *ids,
    struct sbuf *b)
{
	struct prov_req rq;

	if (!gemini_model_ok(j->model))
		return prov_fail(j, EC_BAD_REQUEST, 0,
		    "gemini: bad model name");
	prov_req_init(&rq, NULL);
	gemini_body(j, &rq, ids);
	sb_adds(b, "{\"key\":\"");
	sb_adds(b, key);
	sb_adds(b, "\",\"request\":");
	bp_flatten(&rq, b);
	sb_addc(b, '}');
	prov_req_free(&rq);
	return PROV_DONE;
}

/* What a batch is known by at the provider: its local id (find). */
static void
display_name(const struct pbatch *b, char *buf, size_t len)
{
	snprintf(buf, len, "bg-%s", b->id);
}

static int
gemini_create(const struct bctx *x, struct pbatch *b, FILE *f,
    long long len, char **err, int *transient)
{
	struct bh_resp rs;
	struct curl_slist *h = NULL;
	struct sbuf body = {0};
	char display[80], *url;
	const char *name;
	cJSON *file = NULL, *o;
	int rc = -1;

	display_name(b, display, sizeof display);
	if (upload(x, display, "application/jsonl", NULL, f, len, &file, err,
	    transient) < 0)
		return -1;
	sb_adds(&body, "{\"batch\":{\"display_name\":");
	nd_print_str(&body, display);
	sb_adds(&body, ",\"input_config\":{\"file_name\":");
	nd_print_str(&body, rec_str(file, "name"));
	sb_adds(&body, "}}}");
	cJSON_Delete(file);
	url = easprintf("%s/v1beta/models/%s:batchGenerateContent",
	    x->conf->base_url, b->model);
	h = key_header(x, h);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (bp_req(x, url, h, body.s, NULL, "gemini: batchGenerateContent", &rs,
	    err, transient) == 0) {
		o = cJSON_ParseWithLength(rs.body.s, rs.body.len);
		if ((name = rec_str(o, "name")) && !strncmp(name, "batches/", 8)
		    && gemini_model_ok(name + 8)) {
			b->name = estrdup(name);
			rc = 0;
		} else {
			*err = estrdup("gemini: batchGenerateContent: no "
			    "batches/ name in the answer");
		}
		cJSON_Delete(o);
		bh_resp_free(&rs);
	}
	/* a create that may have happened is never sent again blindly */
	*transient = 0;
	curl_slist_free_all(h);
	sb_free(&body);
	free(url);
	return rc;
}

/* int64 counts come as strings in proto3 JSON */
static long
count(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return strtol(v->valuestring, NULL, 10);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static int
gemini_poll(const struct bctx *x, struct pbatch *b, double *retry_ms,
    char **err, int *transient)
{
	static const struct bp_state states[] = {
		{"BATCH_STATE_PENDING", BS_RUNNING},
		{"BATCH_STATE_RUNNING", BS_RUNNING},
		{"BATCH_STATE_SUCCEEDED", BS_SUCCEEDED},
		{"BATCH_STATE_FAILED", BS_FAILED},
		{"BATCH_STATE_CANCELLED", BS_CANCELED},
		{"BATCH_STATE_EXPIRED", BS_EXPIRED},
	};
	struct curl_slist *h = key_header(x, NULL);
	const cJSON *md, *st;
	const char *s, *f;
	char *url = easprintf("%s/v1beta/%s", x->conf->base_url, b->name);
	cJSON *o;
	int rc = -1;

	o = bp_get_json(x, url, h, "gemini: batch poll", retry_ms, err,
	    transient);
	curl_slist_free_all(h);
	free(url);
	if (!o)
		return -1;
	if (!(md = cJSON_GetObjectItemCaseSensitive(o, "metadata")))
		md = o;		/* a GenerateContentBatch itself */
	rc = bp_set_state(b, rec_str(md, "state"), states,
	    sizeof states / sizeof *states, "gemini: batch poll", err,
	    transient);
	st = cJSON_GetObjectItemCaseSensitive(md, "batchStats");
	b->n_total = count(st, "requestCount");
	b->n_done = count(st, "successfulRequestCount");
	b->n_failed = count(st, "failedRequestCount");
	if (!(f = rec_str(cJSON_GetObjectItemCaseSensitive(o, "response"),
	    "responsesFile")))
		f = rec_str(cJSON_GetObjectItemCaseSensitive(md, "output"),
		    "responsesFile");
	if (f && !b->out_file)
		b->out_file = estrdup(f);
	if (b->state == BS_FAILED && !b->fail_msg)
		b->fail_msg = estrdup((s = rec_str(
		    cJSON_GetObjectItemCaseSensitive(o, "error"), "message")) ?
		    s : "the provider batch failed");
	cJSON_Delete(o);
	return rc;
}

static int
gemini_download(const struct bctx *x, struct pbatch *b, FILE *f, char **err,
    int *transient)
{
	char *url;

	if (!b->out_file)
		return 0;	/* nothing ran (canceled or expired early) */
	url = easprintf("%s/download/v1beta/%s:download?alt=media",
	    x->conf->base_url, b->out_file);
	return bp_send(x, url, key_header(x, NULL), NULL, f,
	    "gemini: responses download", err, transient);
}

static int
gemini_result(struct pjob *j, const char *line, size_t len, char key[65])
{
	cJSON *o = cJSON_ParseWithLength(line, len), *w;
	const cJSON *resp, *e;
	const char *k;
	char *text;
	int rc = PROV_FAIL, code;

	k = rec_str(o, "key");
	if (!k)
		k = rec_str(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
		    "key");
	if (!k || strlen(k) != 64) {
		cJSON_Delete(o);
		return -1;
	}
	memcpy(key, k, 65);
	resp = cJSON_GetObjectItemCaseSensitive(o, "response");
	if ((e = cJSON_GetObjectItemCaseSensitive(o, "error"))) {
		/* a google.rpc.Status with a numeric gRPC code: classified
		 * as the HTTP answer Google maps that code to */
		code = (int)rec_num(e, "code", 2);
		w = cJSON_CreateObject();
		cJSON_AddItemToObject(w, "error", cJSON_Duplicate(e, 1));
		text = nd_print(w);
		bp_classify(j, bp_grpc_http(code), text, strlen(text));
		cJSON_free(text);
		cJSON_Delete(w);
	} else if (cJSON_IsObject(resp)) {
		text = nd_print(resp);
		rc = bp_parse(j, text, strlen(text));
		cJSON_free(text);
	} else {
		prov_fail(j, EC_BAD_RESPONSE, 0,
		    "gemini: batch result line without response or error");
	}
	cJSON_Delete(o);
	return rc;
}

static int
gemini_cancel(const struct bctx *x, struct pbatch *b, char **err,
    int *transient)
{
	struct curl_slist *h = key_header(x, NULL);

	h = curl_slist_append(h, "Content-Type: application/json");
	return bp_send(x, easprintf("%s/v1beta/%s:cancel", x->conf->base_url,
	    b->name), h, "{}", NULL, "gemini: batch cancel", err, transient);
}

/* One page of batches?pageSize&pageToken: 1 when b's batch is on it
 * (b->name set); *tok gets the next page's token (NULL: the last). */
static int
find_page(const struct bctx *x, struct pbatch *b, char **tok, char **err,
    int *transient)
{
	struct curl_slist *h = key_header(x, NULL);
	struct sbuf url = {0};
	const cJSON *op, *md;
	const char *s, *name;
	char display[80], *t;
	double retry_ms;
	cJSON *o;
	int found = 0;

	display_name(b, display, sizeof display);
	sb_addf(&url, "%s/v1beta/batches?pageSize=100", x->conf->base_url);
	if (*tok && (t = curl_easy_escape(NULL, *tok, 0))) {
		sb_addf(&url, "&pageToken=%s", t);
		curl_free(t);
	}
	free(*tok);
	*tok = NULL;
	o = bp_get_json(x, url.s, h, "gemini: batches list", &retry_ms, err,
	    transient);
	curl_slist_free_all(h);
	sb_free(&url);
	if (!o)
		return -1;
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(o,
	    "operations")) {
		md = cJSON_GetObjectItemCaseSensitive(op, "metadata");
		name = rec_str(op, "name");
		if ((s = rec_str(md, "displayName")) && !strcmp(s, display) &&
		    name && !strncmp(name, "batches/", 8)) {
			b->name = estrdup(name);
			found = 1;
			break;
		}
	}
	if (!found && (s = rec_str(o, "nextPageToken")) && *s)
		*tok = estrdup(s);
	cJSON_Delete(o);
	return found;
}

const struct bprov bprov_gemini = {
	.name = "gemini",
	.p = &prov_gemini,
	.max_bytes = 2000LL << 20,	/* 2 GB per file, with a margin */
	.max_lines = 0,
	.endpoint = gemini_endpoint,
	.upload_ref = gemini_upload_ref,
	.line = gemini_line,
	.create = gemini_create,
	.poll = gemini_poll,
	.download = gemini_download,
	.result = gemini_result,
	.cancel = gemini_cancel,
	.find_page = find_page,
};
