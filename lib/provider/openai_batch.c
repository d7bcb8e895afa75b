/* openai_batch: the OpenAI Batch API wire format (doc/providers.md 2.5).
 * Request lines {"custom_id","method","url","body"} go up as a JSONL file
 * (POST /v1/files, purpose batch); reference images go up once each
 * (purpose vision) and edits name them as images:[{file_id}]; one batch
 * per endpoint and model (POST /v1/batches), polled at /v1/batches/{id};
 * the output and error files come from /v1/files/{id}/content. */
#include <stdlib.h>
#include <string.h>

#include "batch_prov.h"
#include "err.h"
#include "ndjson.h"
#include "record.h"

static struct curl_slist *
auth(const struct bctx *x, struct curl_slist *h)
{
	char *v = easprintf("Bearer %s", x->conf->key);

	h = bp_secret(h, "Authorization", v);
	memset(v, 0, strlen(v));
	free(v);
	return h;
}

static size_t
file_read(char *buf, size_t sz, size_t n, void *arg)
{
	return fread(buf, sz, n, arg);
}

/* POST /v1/files: the part "file" from mem or f (streamed); *id the new
 * file's id. */
static int
upload(const struct bctx *x, const char *purpose, const char *fname,
    const char *mime, const void *mem, FILE *f, long long len, char **id,
    char **err, int *transient)
{
	struct bh_req rq = {0};
	struct bh_resp rs;
	struct curl_slist *h = auth(x, NULL);
	char *url = prov_api_url(x->conf->base_url, "/v1/files");
	curl_mime *m = curl_mime_init(bh_handle());
	curl_mimepart *p;
	cJSON *o;
	int rc = -1;

	p = curl_mime_addpart(m);
	curl_mime_name(p, "purpose");
	curl_mime_data(p, purpose, CURL_ZERO_TERMINATED);
	p = curl_mime_addpart(m);
	curl_mime_name(p, "file");
	curl_mime_filename(p, fname);
	curl_mime_type(p, mime);
	if (f)
		curl_mime_data_cb(p, (curl_off_t)len, file_read, NULL, NULL, f);
	else
		curl_mime_data(p, mem, (size_t)len);
	rq.url = url;
	rq.headers = h;
	rq.mime = m;
	rq.connect_timeout_ms = x->connect_timeout_ms;
	if (bp_call(x, &rq, &rs, "openai: files upload", err, transient) == 0) {
		o = cJSON_ParseWithLength(rs.body.s, rs.body.len);
		if (rec_str(o, "id")) {
			*id = estrdup(rec_str(o, "id"));
			rc = 0;
		} else {
			*err = estrdup("openai: files upload: no id in the "
			    "answer");
			*transient = 1;
		}
		cJSON_Delete(o);
		bh_resp_free(&rs);
	}
	curl_mime_free(m);
	curl_slist_free_all(h);
	free(url);
	return rc;
}

static const char *
openai_batch_endpoint(const struct pjob *j)
{
	return openai_endpoint(j);
}

static int
openai_upload_ref(const struct bctx *x, const struct ref *r, char **id,
    char **err, int *transient)
{
	char fname[48];
	const char *ext = strchr(r->mime, '/') + 1;

	snprintf(fname, sizeof fname, "ref-%.16s.%s", r->sha256,
	    strcmp(ext, "jpeg") ? ext : "jpg");
	return upload(x, "vision", fname, r->mime, r->data, NULL,
	    (long long)r->len, id, err, transient);
}

static int
openai_line(struct pjob *j, const char *key, char *const *ids,
    struct sbuf *b)
{
	struct prov_req rq;
	int rc;

	prov_req_init(&rq, NULL);
	if ((rc = openai_json_body(j, &rq, ids)) == PROV_SEND) {
		sb_adds(b, "{\"custom_id\":\"");
		sb_adds(b, key);
		sb_adds(b, "\",\"method\":\"POST\",\"url\":\"");
		sb_adds(b, openai_endpoint(j));
		sb_adds(b, "\",\"body\":");
		bp_flatten(&rq, b);
		sb_addc(b, '}');
		rc = PROV_DONE;
	}
	prov_req_free(&rq);
	return rc;
}

/* POST with a JSON body (or none) to path; the answer's object. */
static cJSON *
post_json(const struct bctx *x, const char *path, const char *body,
    const char *what, char **err, int *transient)
{
	struct bh_resp rs;
	struct curl_slist *h = auth(x, NULL);
	char *url = prov_api_url(x->conf->base_url, path);
	cJSON *o = NULL;

	h = curl_slist_append(h, "Content-Type: application/json");
	if (bp_req(x, url, h, body ? body : "{}", NULL, what, &rs, err,
	    transient) == 0) {
		o = cJSON_ParseWithLength(rs.body.s, rs.body.len);
		if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
			o = NULL;
			*err = easprintf("%s: unparsable answer", what);
		}
		bh_resp_free(&rs);
	}
	curl_slist_free_all(h);
	free(url);
	return o;
}

static int
openai_create(const struct bctx *x, struct pbatch *b, FILE *f,
    long long len, char **err, int *transient)
{
	struct sbuf body = {0};
	char *fid = NULL, fname[96];
	cJSON *o;
	int rc = -1;

	snprintf(fname, sizeof fname, "bg-%s.jsonl", b->id);
	if (upload(x, "batch", fname, "application/jsonl", NULL, f, len, &fid,
	    err, transient) < 0)
		return -1;
	sb_adds(&body, "{\"input_file_id\":");
	nd_print_str(&body, fid);
	sb_adds(&body, ",\"endpoint\":");
	nd_print_str(&body, b->endpoint);
	sb_adds(&body, ",\"completion_window\":\"24h\",\"metadata\":"
	    "{\"bg_batch\":");
	nd_print_str(&body, b->id);
	sb_adds(&body, "}}");
	o = post_json(x, "/v1/batches", body.s, "openai: batches create", err,
	    transient);
	if (o && rec_str(o, "id")) {
		b->name = estrdup(rec_str(o, "id"));
		rc = 0;
	} else if (o) {
		*err = estrdup("openai: batches create: no id in the answer");
	}
	*transient = 0;	/* never sent twice blindly */
	cJSON_Delete(o);
	sb_free(&body);
	free(fid);
	return rc;
}

static int
openai_poll(const struct bctx *x, struct pbatch *b, double *retry_ms,
    char **err, int *transient)
{
	static const struct bp_state states[] = {
		{"validating", BS_RUNNING}, {"in_progress", BS_RUNNING},
		{"finalizing", BS_RUNNING}, {"cancelling", BS_RUNNING},
		{"completed", BS_SUCCEEDED}, {"failed", BS_FAILED},
		{"expired", BS_EXPIRED}, {"cancelled", BS_CANCELED},
	};
	struct curl_slist *h = auth(x, NULL);
	const cJSON *n, *e;
	const char *s;
	char *path = easprintf("/v1/batches/%s", b->name);
	char *url = prov_api_url(x->conf->base_url, path);
	cJSON *o;
	int rc;

	o = bp_get_json(x, url, h, "openai: batch poll", retry_ms, err,
	    transient);
	curl_slist_free_all(h);
	free(url);
	free(path);
	if (!o)
		return -1;
	rc = bp_set_state(b, rec_str(o, "status"), states,
	    sizeof states / sizeof *states, "openai: batch poll", err,
	    transient);
	n = cJSON_GetObjectItemCaseSensitive(o, "request_counts");
	b->n_total = (long)rec_num(n, "total", 0);
	b->n_done = (long)rec_num(n, "completed", 0);
	b->n_failed = (long)rec_num(n, "failed", 0);
	if ((s = rec_str(o, "output_file_id")) && !b->out_file)
		b->out_file = estrdup(s);
	if ((s = rec_str(o, "error_file_id")) && !b->err_file)
		b->err_file = estrdup(s);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, "errors"), "data"), 0);
	if (b->state == BS_FAILED && !b->fail_msg)
		b->fail_msg = estrdup((s = rec_str(e, "message")) ? s :
		    "the provider batch failed");
	cJSON_Delete(o);
	return rc;
}

static int
openai_download(const struct bctx *x, struct pbatch *b, FILE *f, char **err,
    int *transient)
{
	struct bh_resp rs;
	struct curl_slist *h = auth(x, NULL);
	const char *ids[2] = {b->out_file, b->err_file};
	char *url, *path;
	int i, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		if (!ids[i])
			continue;
		path = easprintf("/v1/files/%s/content", ids[i]);
		url = prov_api_url(x->conf->base_url, path);
		rc = bp_req(x, url, h, NULL, f, "openai: results download", &rs,
		    err, transient);
		if (rc == 0) {
			bh_resp_free(&rs);
			fputc('\n', f);	/* the files may not end in one */
		}
		free(url);
		free(path);
	}
	curl_slist_free_all(h);
	return rc;
}

static int
openai_result(struct pjob *j, const char *line, size_t len, char key[65])
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *resp, *body, *e;
	const char *k, *c;
	char *text;
	long st;
	int rc = PROV_FAIL;

	if (!(k = rec_str(o, "custom_id")) || strlen(k) != 64) {
		cJSON_Delete(o);
		return -1;
	}
	memcpy(key, k, 65);
	resp = cJSON_GetObjectItemCaseSensitive(o, "response");
	body = cJSON_GetObjectItemCaseSensitive(resp, "body");
	st = (long)rec_num(resp, "status_code", 0);
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsObject(body)) {
		text = nd_print(body);
		if (st >= 200 && st <= 299)
			rc = bp_parse(j, text, strlen(text));
		else
			bp_classify(j, st, text, strlen(text));
		cJSON_free(text);
		if (rec_str(resp, "request_id"))
			prov_set_request_id(j, rec_str(resp, "request_id"));
	} else if (cJSON_IsObject(e)) {
		/* no HTTP answer: the batch ended before the line ran */
		c = rec_str(e, "code");
		prov_fail(j, c && strstr(c, "expired") ? EC_EXPIRED : c &&
		    strstr(c, "cancel") ? EC_CANCELED : EC_SERVER_ERROR, 0,
		    "openai: %s: %s", c ? c : "error",
		    rec_str(e, "message") ? rec_str(e, "message") : "");
	} else {
		prov_fail(j, EC_BAD_RESPONSE, 0,
		    "openai: batch result line without response or error");
	}
	cJSON_Delete(o);
	return rc;
}

static int
openai_cancel(const struct bctx *x, struct pbatch *b, char **err,
    int *transient)
{
	char *path = easprintf("/v1/batches/%s/cancel", b->name);
	cJSON *o = post_json(x, path, NULL, "openai: batch cancel", err,
	    transient);

	int rc = o ? 0 : -1;

	free(path);
	cJSON_Delete(o);
	return rc;
}

/* One page of GET /v1/batches (newest first): 1 when b's batch is on it
 * (metadata.bg_batch, b->name set); *after gets the cursor of the next
 * page, NULL after the last one or once the page reaches batches made
 * a day before b was (clocks differ; its create came after). */
static int
find_page(const struct bctx *x, struct pbatch *b, char **after, char **err,
    int *transient)
{
	struct curl_slist *h = auth(x, NULL);
	struct sbuf path = {0};
	const cJSON *it;
	const char *s;
	char *url;
	double retry_ms, oldest = 1e300;
	cJSON *o;
	int found = 0;

	sb_adds(&path, "/v1/batches?limit=100");
	if (*after)
		sb_addf(&path, "&after=%s", *after);	/* batch_[0-9a-z] */
	free(*after);
	*after = NULL;
	url = prov_api_url(x->conf->base_url, path.s);
	o = bp_get_json(x, url, h, "openai: batches list", &retry_ms, err,
	    transient);
	curl_slist_free_all(h);
	free(url);
	sb_free(&path);
	if (!o)
		return -1;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "data")) {
		if ((s = rec_str(cJSON_GetObjectItemCaseSensitive(it,
		    "metadata"), "bg_batch")) && !strcmp(s, b->id) &&
		    rec_str(it, "id")) {
			b->name = estrdup(rec_str(it, "id"));
			found = 1;
			break;
		}
		if (rec_num(it, "created_at", 1e300) < oldest)
			oldest = rec_num(it, "created_at", 1e300);
	}
	if (!found && rec_bool(o, "has_more") && oldest > b->created - 86400 &&
	    (s = rec_str(o, "last_id")) && strspn(s, "abcdefghijklmnopqrstuv"
	    "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s))
		*after = estrdup(s);
	cJSON_Delete(o);
	return found;
}

const struct bprov bprov_openai = {
	.name = "openai",
	.p = &prov_openai,
	.max_bytes = 190LL << 20,	/* 200 MB per input file */
	.max_lines = 50000,
	.endpoint = openai_batch_endpoint,
	.upload_ref = openai_upload_ref,
	.line = openai_line,
	.create = openai_create,
	.poll = openai_poll,
	.download = openai_download,
	.result = openai_result,
	.cancel = openai_cancel,
	.find_page = find_page,
};
