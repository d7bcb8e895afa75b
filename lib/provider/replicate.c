/* replicate: Replicate's predictions API (doc/providers.md section 3).  A job is
 * a small state machine over several requests, all within the engine's
 * event loop (PROV_NEXT, never a blocking sleep):
 *
 *   upload  POST /v1/files for each reference image over 256 KB (smaller
 *           ones travel inline as data URLs); the URL is kept for the run
 *   create  POST /v1/models/{owner}/{name}/predictions (or /v1/predictions
 *           with a version) with "Prefer: wait=60"
 *   poll    GET urls.get until the prediction is terminal
 *   fetch   GET each output URL (a string or a list)
 *
 * j->state survives attempts: a retry after a failed poll or download goes
 * on with the same prediction.  A create whose answer never came (timeout,
 * dropped connection, a 5xx or a garbled body) may still have made a
 * prediction, so the next attempt first looks for it in GET /v1/predictions
 * (same model and prompt, created since we sent ours, not claimed by
 * another job of this run) and only posts again when there is none: no
 * prediction is paid twice.  The upload table lives in replicate_upload.c,
 * the lookup in replicate_lookup.c (shared state: replicate.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "provider.h"
#include "record.h"
#include "util.h"
#include "replicate.h"

/* The job record keys that are batchgen's own, not model inputs. */
static const char *const own_keys[] = {
	"product_images", "input_images_key", "input_images_list",
	"custom_instructions", "purpose", "moodboard_id", "model_image_url",
	"background_image_url", "long_side",
};

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int
replicate_init(struct prov_conf *c, const char *base_url, char **err)
{
	const char *k = getenv("REPLICATE_API_TOKEN"), *w;
	struct rpriv *p;
	char *end;
	long n = 60;

	if (!k || !*k) {
		*err = estrdup("replicate: set REPLICATE_API_TOKEN");
		return -1;
	}
	if ((w = getenv("BG_REPLICATE_WAIT")) && *w) {
		n = strtol(w, &end, 10);
		if (*end || n < 0 || n > 60) {
			*err = estrdup("replicate: BG_REPLICATE_WAIT must be "
			    "0..60 (seconds)");
			return -1;
		}
	}
	p = ecalloc(1, sizeof *p);
	p->wait_s = (int)n;
	c->priv = p;
	c->key = estrdup(k);
	c->base_url = prov_base_url("replicate", base_url, REPLICATE_BASE);
	return 0;
}

static void
replicate_fini(struct prov_conf *c)
{
	struct rpriv *p = c->priv;
	int i;

	prov_key_free(c);
	if (p) {
		for (i = 0; i < p->nclaimed; i++)
			free(p->claimed[i]);
		for (i = 0; i < p->nup; i++)
			free(p->up[i].url);
		free(p->up);
		free(p);
	}
	c->priv = NULL;
}

static void
release(struct pjob *j)
{
	struct rstate *s = j->state;
	int i;

	if (!s)
		return;
	rep_upload_drop_owner(j->conf->priv, j);
	for (i = 0; s->files && i < j->nrefs; i++)
		free(s->files[i]);
	free(s->files);
	free(s->id);
	free(s->get);
	free(s->page);
	for (i = 0; i < s->nouts; i++)
		free(s->outs[i]);
	free(s);
	j->state = NULL;
}

/* Forget the prediction: the next attempt makes a new one. */
static void
forget(struct rstate *s)
{
	int i;

	free(s->id);
	free(s->get);
	free(s->page);
	s->id = s->get = s->page = NULL;
	for (i = 0; i < s->nouts; i++)
		free(s->outs[i]);
	s->nouts = s->iout = 0;
	s->phase = R_START;
	s->create_unknown = 0;
}

void
rep_poll_start(struct rstate *s)
{
	s->phase = R_POLL;
	s->poll_t0 = util_now_ms();
	s->poll_ms = POLL_FIRST_MS;
}

/* Length of the scheme://host[:port] part of url. */
static size_t
origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

/* Whether url is on the same origin as the base URL: only then does it
 * get the token (an output on a CDN, or a URL a response made up, must
 * not). */
int
rep_same_origin(const char *url, const char *base)
{
	size_t n = origin_len(base);

	return n > 0 && origin_len(url) == n && !strncasecmp(url, base, n);
}

static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* model: "owner/name", "owner/name:version" or a bare 64-hex version.
 * Sets *path (the create URL's path) and *version (NULL or the body's
 * version); 0, or -1 for a name that must not go into a URL. */
static int
model_route(const char *m, char **path, const char **version)
{
	const char *slash = strchr(m, '/'), *colon = strchr(m, ':');

	*version = NULL;
	if (!slash) {
		if (strlen(m) != 64 || !name_ok(m, 64))
			return -1;
		*version = m;
		*path = estrdup("/v1/predictions");
		return 0;
	}
	if (strchr(slash + 1, '/') || !name_ok(m, slash - m) ||
	    !name_ok(slash + 1, (colon ? colon : m + strlen(m)) - slash - 1))
		return -1;
	if (colon) {
		if (!name_ok(colon + 1, strlen(colon + 1)))
			return -1;
		*version = m;
		*path = estrdup("/v1/predictions");
		return 0;
	}
	*path = easprintf("/v1/models/%s/predictions", m);
	return 0;
}

/* Forget the outputs of an earlier attempt. */
static void
drop_outputs(struct pjob *j)
{
	int i;

	for (i = 0; i < j->nout; i++) {
		free(j->out[i].data);
		free(j->out[i].mime);
	}
	j->nout = 0;
}

void
rep_auth(struct pjob *j, struct prov_req *rq)
{
	prov_header(rq, "Authorization: Bearer %s", j->conf->key);
}

static int
own_key(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof own_keys / sizeof *own_keys; i++)
		if (!strcmp(k, own_keys[i]))
			return 1;
	return 0;
}

/* The create body: {"version"?, "input": input minus batchgen's own keys,
 * with the prompt and the reference images under images_key}.  The base64
 * of the references is borrowed, never copied. */
static void
build_create_body(struct pjob *j, struct prov_req *rq, const char *version)
{
	struct rstate *s = j->state;
	const char *key = "image_input", *b64;
	cJSON *in, *it, *next;
	char *txt;
	size_t n;
	int i, list = 1, first = 1;

	if (j->input) {
		if ((b64 = rec_str(j->input, "input_images_key")) && *b64)
			key = b64;
		if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j->input,
		    "input_images_list")))
			list = 0;
	}
	in = j->input ? cJSON_Duplicate(j->input, 1) : cJSON_CreateObject();
	if (!in)
		die(EXIT_FATAL, "out of memory");
	for (it = in->child; it; it = next) {
		next = it->next;
		if (own_key(it->string) || cJSON_IsNull(it) ||
		    !strcmp(it->string, "prompt") ||
		    (j->nrefs && !strcmp(it->string, key)))
			cJSON_Delete(cJSON_DetachItemViaPointer(in, it));
	}
	prov_header(rq, "Content-Type: application/json");
	prov_body_adds(rq, "{");
	if (version) {
		prov_body_adds(rq, "\"version\":");
		prov_body_json_str(rq, version);
		prov_body_adds(rq, ",");
	}
	prov_body_adds(rq, "\"input\":{\"prompt\":");
	prov_body_json_str(rq, j->prompt);
	for (it = in->child; it; it = it->next) {
		if (!(txt = cJSON_PrintUnformatted(it)))
			die(EXIT_FATAL, "out of memory");
		prov_body_adds(rq, ",");
		prov_body_json_str(rq, it->string);
		prov_body_adds(rq, ":");
		prov_body_adds(rq, txt);
		cJSON_free(txt);
	}
	cJSON_Delete(in);
	if (j->nrefs > 0) {
		prov_body_adds(rq, ",");
		prov_body_json_str(rq, key);
		prov_body_adds(rq, list ? ":[" : ":");
		for (i = 0; i < (list ? j->nrefs : 1); i++) {
			if (!first)
				prov_body_adds(rq, ",");
			first = 0;
			if (s->files[i]) {
				prov_body_json_str(rq, s->files[i]);
				continue;
			}
			prov_body_adds(rq, "\"data:");
			prov_body_adds(rq, j->refs[i]->mime);
			prov_body_adds(rq, ";base64,");
			b64 = ref_b64(j->refs[i], &n);
			prov_body_ref(rq, b64, n);
			prov_body_adds(rq, "\"");
		}
		if (list)
			prov_body_adds(rq, "]");
	}
	prov_body_adds(rq, "}}");
}

static int
build_create(struct pjob *j, struct prov_req *rq)
{
	struct rstate *s = j->state;
	struct rpriv *p = j->conf->priv;
	const char *version;
	char *path;

	if (model_route(j->model, &path, &version) < 0)
		return prov_fail(j, EC_BAD_REQUEST, 0,
		    "replicate: bad model name (want owner/name, "
		    "owner/name:version or a version id)");
	rq->url = prov_api_url(j->conf->base_url, path);
	free(path);
	rep_auth(j, rq);
	if (p->wait_s > 0)
		prov_header(rq, "Prefer: wait=%d", p->wait_s);
	/* a process that dies leaves no prediction billing for ever */
	prov_header(rq, "Cancel-After: %dm", CANCEL_AFTER_MIN);
	build_create_body(j, rq, version);
	rq->fresh = 1;
	s->phase = R_CREATE;
	s->create_unknown = 1;
	s->sent_wall = wall_ms();
	return PROV_SEND;
}

static int
replicate_build(struct pjob *j, struct prov_req *rq)
{
	struct rstate *s = j->state;
	struct rpriv *p = j->conf->priv;
	struct upload *u;
	struct ref *r;
	const char *url;

	if (!*j->model)
		return prov_fail(j, EC_BAD_REQUEST, 0, "replicate: no model");
	if (!s) {
		s = j->state = ecalloc(1, sizeof *s);
		s->files = ecalloc(j->nrefs ? j->nrefs : 1, sizeof *s->files);
	}
	if (s->phase == R_CREATE && s->create_unknown) {
		/* the last attempt's create got no usable answer */
		s->phase = R_LOOKUP;
		free(s->page);
		s->page = NULL;
		s->npages = 0;
	}
	rq->method = "GET";
	switch (s->phase) {
	case R_START:
	case R_UPLOAD:
		for (; s->iref < j->nrefs; s->iref++) {
			r = j->refs[s->iref];
			if (r->len <= DATA_URL_MAX || s->files[s->iref])
				continue;
			u = rep_upload_get(p, ref_sha256(r), j);
			if (u->url) {
				s->files[s->iref] = estrdup(u->url);
				continue;
			}
			if (u->owner != j) {
				/* another job is uploading it */
				j->delay_ms = UPLOAD_WAIT_MS;
				return PROV_NEXT;
			}
			rq->method = "POST";
			s->phase = R_UPLOAD;
			rep_build_upload(j, rq, s->iref);
			return PROV_SEND;
		}
		rq->method = "POST";
		return build_create(j, rq);
	case R_LOOKUP:
		rq->url = s->page ? estrdup(s->page) :
		    prov_api_url(j->conf->base_url, "/v1/predictions");
		rep_auth(j, rq);
		return PROV_SEND;
	case R_CREATE:		/* answered, but not with a prediction */
		if (!s->get) {
			rq->method = "POST";
			return build_create(j, rq);
		}
		/* FALLTHROUGH */
	case R_POLL:
		rq->url = estrdup(s->get);
		rep_auth(j, rq);
		return PROV_SEND;
	case R_FETCH:
		if (j->step == 0) {
			/* a new attempt: fetch everything again, from a
			 * fresh look at the prediction */
			drop_outputs(j);
			rep_poll_start(s);
			rq->url = estrdup(s->get);
			rep_auth(j, rq);
			return PROV_SEND;
		}
		url = s->outs[s->iout];
		rq->url = estrdup(url);
		if (rep_same_origin(url, j->conf->base_url))
			rep_auth(j, rq);
		return PROV_SEND;
	}
	return prov_fail(j, EC_BAD_REQUEST, 0, "replicate: bad state");
}

int
rep_bad_json(struct pjob *j, const struct prov_resp *rs, const char *what)
{
	return prov_fail(j, EC_BAD_RESPONSE, rs->status,
	    "replicate: unparsable %s (%zu bytes)", what, rs->len);
}

/* Whether the prediction's error reads like a safety filter. */
static int
is_blocked(const char *e)
{
	static const char *const w[] = {
		"nsfw", "sensitive", "safety", "flagged", "content policy",
		"moderation",
	};
	size_t i;

	for (i = 0; e && i < sizeof w / sizeof *w; i++)
		if (strcasestr(e, w[i]))
			return 1;
	return 0;
}

static void
add_out(struct pjob *j, struct rstate *s, const char *u, int *bad)
{
	unsigned char *bytes = NULL;
	const char *c;
	size_t len;

	if (*bad)
		return;
	if (!strncmp(u, "data:", 5)) {
		/* a model that answers inline */
		if (!(c = strstr(u, ";base64,")) ||
		    !(bytes = util_b64_decode(c + 8, strlen(c + 8), &len)) ||
		    len == 0) {
			free(bytes);	/* "data:;base64," decodes to nothing */
			*bad = 1;
			return;
		}
		if (prov_output(j, bytes, len, NULL))
			*bad = 2;	/* too many: j->fail says so */
		return;
	}
	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
		*bad = 1;
		return;
	}
	if (s->nouts < MAX_OUTPUTS)
		s->outs[s->nouts++] = estrdup(u);
}

/* Make prediction p (with id) the job's: claim it, note where to poll. */
void
rep_adopt(struct pjob *j, const cJSON *p, const char *id)
{
	struct rstate *s = j->state;
	const char *get;
	char *path;

	s->create_unknown = 0;
	if (!s->id || strcmp(s->id, id)) {
		free(s->id);
		s->id = estrdup(id);
		rep_claim(j->conf->priv, id);
	}
	prov_set_request_id(j, id);
	/* poll urls.get when it is on our base URL; a URL elsewhere would
	 * get our token, so then ask the base URL for the same id */
	get = rec_str(cJSON_GetObjectItemCaseSensitive(p, "urls"), "get");
	free(s->get);
	if (get && rep_same_origin(get, j->conf->base_url)) {
		s->get = estrdup(get);
	} else {
		path = easprintf("/v1/predictions/%s", id);
		s->get = prov_api_url(j->conf->base_url, path);
		free(path);
	}
}

/* What to do with a prediction object p (from create or poll). */
static int
prediction(struct pjob *j, const struct prov_resp *rs, const cJSON *p)
{
	struct rstate *s = j->state;
	const cJSON *out, *it, *m, *err;
	const char *st = rec_str(p, "status"), *id = rec_str(p, "id"), *msg;
	cJSON *usage;
	int bad = 0, i;

	if (!st || !id)
		return prov_fail(j, EC_BAD_RESPONSE, rs->status,
		    "replicate: answer is not a prediction");
	rep_adopt(j, p, id);
	if (!strcmp(st, "starting") || !strcmp(st, "processing")) {
		if (s->phase != R_POLL) {
			rep_poll_start(s);
		} else if (util_now_ms() - s->poll_t0 > POLL_LIMIT_MS) {
			/* keep the state: a new attempt polls on */
			return prov_fail(j, EC_TIMEOUT, 0, "replicate: "
			    "prediction %s still %s after %.0f minutes", id,
			    st, POLL_LIMIT_MS / 60000);
		} else {
			s->poll_ms = fmin(POLL_MAX_MS, s->poll_ms * 1.5);
		}
		j->delay_ms = s->poll_ms;
		return PROV_NEXT;
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(p, "metrics")) &&
	    cJSON_IsObject(m)) {
		usage = cJSON_CreateObject();
		cJSON_ArrayForEach(it, m)
			if (cJSON_IsNumber(it))
				cJSON_AddNumberToObject(usage, it->string,
				    it->valuedouble);
		prov_usage(j, NULL, usage);
	}
	/* a model's failure is not an HTTP error: no http_status */
	err = cJSON_GetObjectItemCaseSensitive(p, "error");
	msg = cJSON_IsString(err) ? err->valuestring : NULL;
	if (!strcmp(st, "failed")) {
		forget(s);
		if (is_blocked(msg))
			return prov_fail(j, EC_BLOCKED, 0,
			    "replicate: prediction %s failed: %s", id, msg);
		/* a model error; each try is billed, so no automatic retry */
		return prov_fail_retry(j, EC_SERVER_ERROR, 0, 0,
		    "replicate: prediction %s failed: %s", id,
		    msg ? msg : "no error given");
	}
	if (!strcmp(st, "canceled")) {
		forget(s);
		/* someone canceled it at Replicate: do not undo that */
		return prov_fail_retry(j, EC_CANCELED, 0, 0,
		    "replicate: prediction %s was canceled", id);
	}
	if (!strcmp(st, "aborted")) {
		/* ended before it started: nothing was billed */
		forget(s);
		return prov_fail(j, EC_TIMEOUT, 0,
		    "replicate: prediction %s was aborted%s%s", id,
		    msg ? ": " : "", msg ? msg : "");
	}
	if (strcmp(st, "succeeded")) {
		rep_poll_start(s);	/* a status from the future: ask again */
		return prov_fail(j, EC_BAD_RESPONSE, 0,
		    "replicate: prediction %s has unknown status %s", id, st);
	}
	out = cJSON_GetObjectItemCaseSensitive(p, "output");
	drop_outputs(j);
	for (i = 0; i < s->nouts; i++)
		free(s->outs[i]);
	s->nouts = 0;
	if (cJSON_IsString(out))
		add_out(j, s, out->valuestring, &bad);
	else if (cJSON_IsArray(out) || cJSON_IsObject(out))
		cJSON_ArrayForEach(it, out)
			if (cJSON_IsString(it))
				add_out(j, s, it->valuestring, &bad);
	if (bad || (s->nouts == 0 && j->nout == 0)) {
		forget(s);
		if (bad == 2)
			return PROV_FAIL;
		/* billed: another try would be billed too */
		return prov_fail_retry(j, EC_BAD_RESPONSE, 0, 0,
		    "replicate: prediction %s succeeded without %s", id,
		    bad ? "a usable output URL" : "an output");
	}
	if (s->nouts == 0)
		return PROV_DONE;	/* inline outputs only */
	s->phase = R_FETCH;
	s->iout = 0;
	j->delay_ms = 0;
	return PROV_NEXT;
}

static int
parse_fetch(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	const char *mime = NULL;
	unsigned char *data;

	if (rs->len == 0)
		return prov_fail(j, EC_BAD_RESPONSE, rs->status,
		    "replicate: output %d is empty", s->iout + 1);
	if (rs->content_type && !strncasecmp(rs->content_type, "image/", 6))
		mime = rs->content_type;
	data = emalloc(rs->len);
	memcpy(data, rs->body, rs->len);
	prov_output(j, data, rs->len, mime);
	if (++s->iout < s->nouts) {
		j->delay_ms = 0;
		return PROV_NEXT;
	}
	return PROV_DONE;
}

static int
replicate_parse(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	cJSON *o;
	int rc;

	switch (s->phase) {
	case R_UPLOAD:
		return rep_parse_upload(j, rs);
	case R_LOOKUP:
		return rep_parse_lookup(j, rs);
	case R_FETCH:
		return parse_fetch(j, rs);
	case R_CREATE:
	case R_POLL:
		o = cJSON_ParseWithLength(rs->body, rs->len);
		if (!cJSON_IsObject(o)) {
			/* a create stays unknown: the next attempt looks */
			cJSON_Delete(o);
			return rep_bad_json(j, rs, s->phase == R_CREATE ?
			    "create answer" : "prediction");
		}
		rc = prediction(j, rs, o);
		cJSON_Delete(o);
		return rc;
	}
	/* a step this code does not know: trying again cannot help */
	return prov_fail_retry(j, EC_BAD_RESPONSE, 0, rs->status,
	    "replicate: answer in a bad state");
}

/* "... resets in ~30s." from a 429's detail, in ms, or -1. */
static double
resets_in(const char *d)
{
	const char *p;
	double v;

	if (!d || !(p = strstr(d, "resets in")))
		return -1;
	p += 9;
	while (*p == ' ' || *p == '~')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtod(p, NULL);
	return isfinite(v) && v >= 0 ? v * 1000 : -1;
}

static void
replicate_classify(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	const char *msg;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	if (!(msg = rec_str(o, "detail")))
		msg = rec_str(o, "title");
	prov_classify_http(j, rs, msg);
	if (rs->status == 402) {
		prov_recode(j, EC_QUOTA);
	} else if (rs->status == 404 && s && s->phase == R_CREATE) {
		/* POST /v1/models/{owner}/{name}/predictions: no such
		 * model (or not one this token can run) */
		prov_recode(j, EC_MODEL_NOT_FOUND);
	} else if (rs->status == 422) {
		prov_recode(j, EC_BAD_REQUEST);
	} else if (rs->status == 429 && j->fail.retry_after_ms < 0) {
		j->fail.retry_after_ms = resets_in(msg);
	}
	if (s && s->phase == R_CREATE && s->create_unknown &&
	    rs->status >= 400 && rs->status < 500 && rs->status != 408 &&
	    rs->status != 409) {
		/* refused: no prediction was made */
		s->create_unknown = 0;
		s->phase = R_START;
	}
	cJSON_Delete(o);
}

/* A prediction still starting or processing when its job ends: cancel
 * it, or it runs (and bills) on. */
static int
replicate_abandon(struct pjob *j, struct prov_req *rq)
{
	struct rstate *s = j->state;
	char *path;

	if (!s || !s->id || (s->phase != R_POLL && s->phase != R_CREATE))
		return PROV_DONE;
	path = easprintf("/v1/predictions/%s/cancel", s->id);
	rq->url = prov_api_url(j->conf->base_url, path);
	free(path);
	rq->method = "POST";
	rep_auth(j, rq);
	return PROV_SEND;
}

/* GET /v1/models/{owner}/{name} (a version id alone cannot be asked
 * about; the list is the model table's, each asked in turn). */
static int
replicate_model_req(struct prov_conf *c, const char *model,
    struct prov_req *rq)
{
	const char *version;
	char *path;

	if (!model || model_route(model, &path, &version) < 0)
		return -1;
	free(path);
	if (!strchr(model, '/'))
		return -1;
	path = easprintf("/v1/models/%.*s", (int)strcspn(model, ":"), model);
	prov_get_bearer(rq, c, path);
	free(path);
	return 0;
}

static int
replicate_model_ans(const char *model, const struct prov_resp *rs,
    char **note, cJSON *names)
{
	cJSON *o = cJSON_ParseWithLength(rs->body, rs->len);
	int rc = 0;

	if (!cJSON_IsObject(o) || !rec_str(o, "name")) {
		*note = estrdup("unparsable answer");
		rc = -1;
	}
	cJSON_Delete(o);
	return rc;
}

const struct provider prov_replicate = {
	.name = "replicate",
	.key_env = "REPLICATE_API_TOKEN",
	.init = replicate_init,
	.build = replicate_build,
	.parse = replicate_parse,
	.classify = replicate_classify,
	.release = release,
	.fini = replicate_fini,
	.abandon = replicate_abandon,
	.model_req = replicate_model_req,
	.model_ans = replicate_model_ans,
};
