/* openai: the OpenAI Images API (doc/providers.md section 2).  With reference
 * images: POST /v1/images/edits as multipart/form-data, one image[] part
 * per image streamed from the shared reference bytes; without: POST
 * /v1/images/generations as JSON.  Both answer synchronously with
 * data[].b64_json, so an attempt is one request. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "models.h"
#include "provider.h"
#include "record.h"
#include "util.h"

#define OPENAI_BASE "https://api.openai.com"

static int
openai_init(struct prov_conf *c, const char *base_url, char **err)
{
	const char *k = getenv("OPENAI_API_KEY");

	if (!k || !*k) {
		*err = estrdup("openai: set OPENAI_API_KEY");
		return -1;
	}
	c->key = estrdup(k);
	c->base_url = prov_base_url("openai", base_url, OPENAI_BASE);
	return 0;
}

/* The size for input.aspect_ratio ("W:H"), from the model's entry in the
 * model table: "size_step" N takes any WxH in steps of N (the exact
 * ratio, short side 1024, within 1:3..3:1); "sizes" lists the sizes it
 * takes, and the nearest ratio on a log scale wins, so 4:5 and 3:4
 * become portrait, 5:4 and 4:3 landscape.  A model not in the table gets
 * the three sizes every GPT image model takes.  buf holds 16 bytes. */
static const char *
openai_size(const char *model, const char *aspect, char *buf)
{
	static const char *const three[] = {
		"1024x1024", "1536x1024", "1024x1536",
	};
	const cJSON *m = models_get("openai", model), *sizes, *it;
	double w, h, r, sw, sh, d, best = INFINITY;
	const char *s = NULL, *c;
	int step;
	size_t i;

	if (!aspect || sscanf(aspect, "%lf:%lf", &w, &h) != 2 || !(w > 0) ||
	    !(h > 0) || !isfinite(w / h))
		return NULL;
	r = w / h;
	if ((step = (int)rec_num(m, "size_step", 0)) > 0) {
		r = fmin(3, fmax(1 / 3., r));
		if (r >= 1)
			snprintf(buf, 16, "%dx1024",
			    (int)lround(1024 * r / step) * step);
		else
			snprintf(buf, 16, "1024x%d",
			    (int)lround(1024 / r / step) * step);
		return buf;
	}
	sizes = cJSON_GetObjectItemCaseSensitive(m, "sizes");
	it = cJSON_IsArray(sizes) ? sizes->child : NULL;
	for (i = 0; it ? 1 : !sizes && i < 3; i++) {
		c = it ? it->valuestring : three[i];
		if (it)
			it = it->next;
		if (!c || sscanf(c, "%lfx%lf", &sw, &sh) != 2 ||
		    !(sw > 0) || !(sh > 0))
			continue;
		d = fabs(log(r) - log(sw / sh));
		if (d < best - 1e-9) {
			best = d;
			s = c;
		}
	}
	return s;
}

/* The optional parameters taken from input, as strings (multipart values
 * are strings; JSON gets numbers where the API wants them). */
struct param {
	const char *name;
	char *val;
	int num;
};

static int
get_params(struct pjob *j, struct param *pa, int edits, char *sizebuf)
{
	static const char *const strs[] = {
		"quality", "output_format", "moderation", "input_fidelity",
	};
	const char *size = NULL, *aspect = NULL, *v;
	int n = 0;
	size_t i;
	double d;

	if (j->input) {
		size = rec_str(j->input, "size");
		aspect = rec_str(j->input, "aspect_ratio");
	}
	if (!size)
		size = openai_size(j->model, aspect, sizebuf);
	if (size) {
		pa[n].name = "size";
		pa[n].val = estrdup(size);
		pa[n++].num = 0;
	}
	for (i = 0; j->input && i < sizeof strs / sizeof *strs; i++) {
		if (!(v = rec_str(j->input, strs[i])) || !*v)
			continue;
		if (!strcmp(strs[i], "input_fidelity") && !edits)
			continue;
		/* CreateImageEditRequest has no moderation field */
		if (!strcmp(strs[i], "moderation") && edits)
			continue;
		/* Replicate's models say jpg, the Images API jpeg */
		if (!strcmp(strs[i], "output_format") && !strcmp(v, "jpg"))
			v = "jpeg";
		pa[n].name = strs[i];
		pa[n].val = estrdup(v);
		pa[n++].num = 0;
	}
	/* input.background is also the local provider's canvas colour: only
	 * the values the API knows are sent */
	if (j->input && (v = rec_str(j->input, "background")) &&
	    (!strcmp(v, "transparent") || !strcmp(v, "opaque") ||
	    !strcmp(v, "auto"))) {
		pa[n].name = "background";
		pa[n].val = estrdup(v);
		pa[n++].num = 0;
	}
	if (j->input && (d = rec_num(j->input, "output_compression", -1)) >= 0
	    && d <= 100) {
		pa[n].name = "output_compression";
		pa[n].val = easprintf("%d", (int)d);
		pa[n++].num = 1;
	}
	/* models that answer with URLs unless told otherwise (the table
	 * says which) */
	if ((v = models_str(models_get("openai", j->model),
	    "response_format"))) {
		pa[n].name = "response_format";
		pa[n].val = estrdup(v);
		pa[n++].num = 0;
	}
	return n;
}

static void
mime_field(curl_mime *m, const char *name, const char *val)
{
	curl_mimepart *part = curl_mime_addpart(m);

	if (!part || curl_mime_name(part, name) != CURLE_OK ||
	    curl_mime_data(part, val, CURL_ZERO_TERMINATED) != CURLE_OK)
		die(EXIT_FATAL, "out of memory");
}

static void
build_edits(struct pjob *j, struct prov_req *rq, struct param *pa, int np)
{
	int i;

	if (!(rq->mime = curl_mime_init(rq->easy)))
		die(EXIT_FATAL, "out of memory");
	mime_field(rq->mime, "model", j->model);
	mime_field(rq->mime, "prompt", j->prompt);
	mime_field(rq->mime, "n", "1");
	for (i = 0; i < np; i++)
		mime_field(rq->mime, pa[i].name, pa[i].val);
	for (i = 0; i < j->nrefs; i++)
		prov_mime_ref(rq->mime, "image[]", j->refs[i], i);
}

/* The JSON body: generations, or (file_ids given) the JSON form of edits
 * with images:[{file_id}] (batch mode, lib/provider/openai_batch.c). */
static void
json_body(struct pjob *j, struct prov_req *rq, struct param *pa, int np,
    char *const *file_ids)
{
	int i;

	prov_body_adds(rq, "{\"model\":");
	prov_body_json_str(rq, j->model);
	prov_body_adds(rq, ",\"prompt\":");
	prov_body_json_str(rq, j->prompt);
	prov_body_adds(rq, ",\"n\":1");
	for (i = 0; i < np; i++) {
		prov_body_adds(rq, ",");
		prov_body_json_str(rq, pa[i].name);
		prov_body_adds(rq, ":");
		if (pa[i].num)
			prov_body_adds(rq, pa[i].val);
		else
			prov_body_json_str(rq, pa[i].val);
	}
	for (i = 0; file_ids && i < j->nrefs; i++) {
		prov_body_adds(rq, i ? ",{\"file_id\":" : ",\"images\":"
		    "[{\"file_id\":");
		prov_body_json_str(rq, file_ids[i]);
		prov_body_adds(rq, "}");
	}
	prov_body_adds(rq, file_ids && j->nrefs ? "]}" : "}");
}

const char *
openai_endpoint(const struct pjob *j)
{
	return j->nrefs > 0 ? "/v1/images/edits" : "/v1/images/generations";
}

int
openai_json_body(struct pjob *j, struct prov_req *rq, char *const *file_ids)
{
	struct param pa[16];
	char sizebuf[16];
	int np, i;

	if (j->nrefs > 16)
		return prov_fail(j, EC_INVALID_IMAGES, 0,
		    "openai: %d reference images, the API takes 16 at most",
		    j->nrefs);
	np = get_params(j, pa, j->nrefs > 0, sizebuf);
	json_body(j, rq, pa, np, file_ids);
	for (i = 0; i < np; i++)
		free(pa[i].val);
	return PROV_SEND;
}

static int
openai_build(struct pjob *j, struct prov_req *rq)
{
	struct param pa[16];
	char sizebuf[16];
	int np, i;

	if (!*j->model)
		return prov_fail(j, EC_BAD_REQUEST, 0, "openai: no model");
	rq->url = prov_api_url(j->conf->base_url, openai_endpoint(j));
	prov_header(rq, "Authorization: Bearer %s", j->conf->key);
	if (j->nrefs == 0 || j->nrefs > 16) {
		prov_header(rq, "Content-Type: application/json");
		return openai_json_body(j, rq, NULL);
	}
	np = get_params(j, pa, 1, sizebuf);
	build_edits(j, rq, pa, np);
	for (i = 0; i < np; i++)
		free(pa[i].val);
	return PROV_SEND;
}

static int
openai_parse(struct pjob *j, const struct prov_resp *rs)
{
	const cJSON *data, *d, *b;
	unsigned char *bytes;
	size_t len;
	cJSON *o;
	int rc = PROV_DONE, n = 0, i;

	if (rs->request_id)
		prov_set_request_id(j, rs->request_id);
	for (i = 0; i < j->nout; i++) {	/* an earlier attempt's */
		free(j->out[i].data);
		free(j->out[i].mime);
	}
	j->nout = 0;
	o = cJSON_ParseWithLength(rs->body, rs->len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return prov_fail(j, EC_BAD_RESPONSE, rs->status,
		    "openai: unparsable response (%zu bytes)", rs->len);
	}
	data = cJSON_GetObjectItemCaseSensitive(o, "data");
	cJSON_ArrayForEach(d, data) {
		b = cJSON_GetObjectItemCaseSensitive(d, "b64_json");
		n++;
		if (!cJSON_IsString(b))
			continue;
		bytes = util_b64_decode(b->valuestring,
		    strlen(b->valuestring), &len);
		if (!bytes || len == 0) {
			free(bytes);
			rc = prov_fail(j, EC_BAD_RESPONSE, rs->status,
			    "openai: data[].b64_json is not base64");
			goto out;
		}
		if (prov_output(j, bytes, len, NULL)) {
			rc = PROV_FAIL;
			goto out;
		}
	}
	if (j->nout == 0)
		rc = prov_fail(j, EC_BAD_RESPONSE, rs->status, n ?
		    "openai: no data[].b64_json in the response" :
		    "openai: no image in the response");
	else
		prov_usage(j, o, cJSON_GetObjectItemCaseSensitive(o, "usage"));
out:
	cJSON_Delete(o);
	return rc;
}

/* error.code values that waiting does not fix: the account is out of
 * credit or over a hard billing limit */
static int
is_quota(const char *code, const char *type)
{
	static const char *const q[] = {
		"insufficient_quota", "billing_hard_limit_reached",
		"credit_balance_exhausted", "billing_not_active",
	};
	size_t i;

	for (i = 0; i < sizeof q / sizeof *q; i++)
		if ((code && !strcmp(code, q[i])) ||
		    (type && !strcmp(type, q[i])))
			return 1;
	return 0;
}

static void
openai_classify(struct pjob *j, const struct prov_resp *rs)
{
	const cJSON *err;
	const char *code, *type, *msg;
	cJSON *o;

	if (rs->request_id)
		prov_set_request_id(j, rs->request_id);
	o = cJSON_ParseWithLength(rs->body, rs->len);
	err = cJSON_GetObjectItemCaseSensitive(o, "error");
	prov_classify_http(j, rs, rec_str(err, "message"));
	code = rec_str(err, "code");
	type = rec_str(err, "type");
	msg = rec_str(err, "message");
	if ((code && (!strcmp(code, "moderation_blocked") ||
	    !strcmp(code, "content_policy_violation"))) ||
	    (rs->status == 400 && msg && strstr(msg, "safety system"))) {
		prov_recode(j, EC_BLOCKED);
	} else if (rs->status == 404 || (code &&
	    !strcmp(code, "model_not_found"))) {
		/* "The model `X` does not exist or you do not have access
		 * to it" (a retired model) */
		prov_recode(j, EC_MODEL_NOT_FOUND);
	} else if (is_quota(code, type)) {
		prov_recode(j, EC_QUOTA);
	} else if (rs->status == 429) {
		/* rate_limit_exceeded, slow_down: wait and try again */
		prov_recode(j, EC_RATE_LIMITED);
	}
	cJSON_Delete(o);
}

static int
openai_model_req(struct prov_conf *c, const char *model, struct prov_req *rq)
{
	char *path;
	CURL *h;
	char *esc = NULL;

	if (model) {
		if (!(h = curl_easy_init()) ||
		    !(esc = curl_easy_escape(h, model, 0)))
			die(EXIT_FATAL, "out of memory");
		curl_easy_cleanup(h);
	}
	path = esc ? easprintf("/v1/models/%s", esc) : estrdup("/v1/models");
	curl_free(esc);
	prov_get_bearer(rq, c, path);
	free(path);
	return 0;
}

static int
openai_model_ans(const char *model, const struct prov_resp *rs, char **note,
    cJSON *names)
{
	cJSON *o = cJSON_ParseWithLength(rs->body, rs->len);
	const cJSON *m;
	const char *id, *sd;
	int rc = 0;

	if (!model) {
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o,
		    "data"))
			if ((id = rec_str(m, "id")))
				cJSON_AddItemToArray(names,
				    cJSON_CreateString(id));
	} else if (!cJSON_IsObject(o)) {
		*note = estrdup("unparsable answer");
		rc = -1;
	} else if ((sd = rec_str(o, "shutdown_date"))) {
		/* the API's own word on the model's end */
		*note = easprintf("shutdown_date %s", sd);
	}
	cJSON_Delete(o);
	return rc;
}

const struct provider prov_openai = {
	.name = "openai",
	.key_env = "OPENAI_API_KEY",
	.init = openai_init,
	.build = openai_build,
	.parse = openai_parse,
	.classify = openai_classify,
	.fini = prov_key_free,
	.model_req = openai_model_req,
	.model_ans = openai_model_ans,
};
