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
 * prediction is paid twice. */
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

#define REPLICATE_BASE "https://api.replicate.com"
#define DATA_URL_MAX (256 * 1024)	/* larger references are uploaded */
#define MAX_OUTPUTS 16
#define POLL_FIRST_MS 500.0
#define POLL_MAX_MS 5000.0
#define POLL_LIMIT_MS (30 * 60 * 1000.0)	/* then fail (retryable) */
#define CANCEL_AFTER_MIN 35	/* Cancel-After: the poll limit and some */
#define LOOKUP_SKEW_MS (5 * 60 * 1000.0)	/* clock skew we allow */
#define LOOKUP_PAGES 10
#define CLAIMED_MAX 4096
#define UPLOADS_MAX 4096
#define UPLOAD_WAIT_MS 50.0	/* how often a job looks for another's upload */

/* The job record keys that are batchgen's own, not model inputs. */
static const char *const own_keys[] = {
	"product_images", "input_images_key", "input_images_list",
	"custom_instructions", "purpose", "moodboard_id", "model_image_url",
	"background_image_url", "long_side",
};

/* A reference uploaded (url) or being uploaded by owner (url NULL):
 * jobs sharing a reference wait for one upload instead of each sending
 * their own. */
struct upload {
	char sha[65];
	char *url;
	const struct pjob *owner;
};

/* Per run. */
struct rpriv {
	int wait_s;			/* Prefer: wait=N; 0: no header */
	char *claimed[CLAIMED_MAX];	/* prediction ids jobs own (ring) */
	int nclaimed, iclaimed;
	struct upload *up;		/* uploaded references */
	int nup;
};

enum { R_START, R_UPLOAD, R_CREATE, R_LOOKUP, R_POLL, R_FETCH };

/* Per job. */
struct rstate {
	int phase;		/* what the next (or pending) request is */
	int create_unknown;	/* a create went out, its answer is unknown */
	char **files;		/* uploaded URL per reference, or NULL */
	int iref;		/* next reference to look at for upload */
	char *id, *get;		/* the prediction */
	double sent_wall;	/* wall-clock ms when the create went out */
	double poll_t0, poll_ms;
	char *page;		/* the next list page of a lookup */
	int npages;
	char *outs[MAX_OUTPUTS];	/* output URLs to fetch */
	int nouts, iout;
};

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* "2023-09-08T16:19:34.765994Z" (RFC 3339 UTC) as ms since the epoch, or
 * -1. */
static double
iso_ms(const char *s)
{
	struct tm tm = {0};
	double sec;
	int n = 0;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%lf%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec, &n) != 6 ||
	    !isfinite(sec) || sec < 0 || sec >= 62)
		return -1;
	/* range-check before the arithmetic: "-2147483648-1-1" overflowed */
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	tm.tm_sec = 0;
	/* an offset other than Z is rare here; read +hh:mm anyway */
	if (s[n] == '+' || s[n] == '-') {
		int hh = 0, mm = 0;

		if (sscanf(s + n + 1, "%d:%d", &hh, &mm) < 1 || hh < 0 ||
		    hh > 23 || mm < 0 || mm > 59)
			return -1;
		sec -= (s[n] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
	}
	return ((double)timegm(&tm) + sec) * 1000;
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
claim(struct rpriv *p, const char *id)
{
	if (p->nclaimed < CLAIMED_MAX) {
		p->claimed[p->nclaimed++] = estrdup(id);
		return;
	}
	free(p->claimed[p->iclaimed]);
	p->claimed[p->iclaimed] = estrdup(id);
	p->iclaimed = (p->iclaimed + 1) % CLAIMED_MAX;
}

static int
claimed(const struct rpriv *p, const char *id)
{
	int i;

	for (i = 0; i < p->nclaimed; i++)
		if (!strcmp(p->claimed[i], id))
			return 1;
	return 0;
}

static struct upload *
upload_find(const struct rpriv *p, const char *sha)
{
	int i;

	for (i = 0; i < p->nup; i++)
		if (!strcmp(p->up[i].sha, sha))
			return &p->up[i];
	return NULL;
}

/* The entry for sha, new and owned by j when there was none. */
static struct upload *
upload_get(struct rpriv *p, const char *sha, const struct pjob *j)
{
	struct upload *u;
	int i;

	if ((u = upload_find(p, sha)))
		return u;
	if (p->nup == UPLOADS_MAX) {	/* forget them all: a bound, rare */
		for (i = 0; i < p->nup; i++)
			free(p->up[i].url);
		p->nup = 0;
	}
	p->up = erealloc(p->up, (p->nup + 1) * sizeof *p->up);
	u = &p->up[p->nup++];
	memcpy(u->sha, sha, 65);
	u->url = NULL;
	u->owner = j;
	return u;
}

/* A job that ends gives up the uploads it had not finished. */
static void
upload_drop_owner(struct rpriv *p, const struct pjob *j)
{
	int i;

	for (i = 0; p && i < p->nup; i++)
		if (!p->up[i].url && p->up[i].owner == j) {
			p->up[i--] = p->up[--p->nup];
		}
}

static void
release(struct pjob *j)
{
	struct rstate *s = j->state;
	int i;

	if (!s)
		return;
	upload_drop_owner(j->conf->priv, j);
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

static void
poll_start(struct rstate *s)
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
static int
same_origin(const char *url, const char *base)
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

static void
auth(struct pjob *j, struct prov_req *rq)
{
	prov_header(rq, "Authorization: Bearer %s", j->conf->key);
}

static void
build_upload(struct pjob *j, struct prov_req *rq, int i)
{
	struct ref *r = j->refs[i];

	rq->url = prov_api_url(j->conf->base_url, "/v1/files");
	auth(j, rq);
	if (!(rq->mime = curl_mime_init(rq->easy)))
		die(EXIT_FATAL, "out of memory");
	prov_mime_ref(rq->mime, "content", r, i);
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
		return prov_fail(j, "bad_request", 0, 0,
		    "replicate: bad model name (want owner/name, "
		    "owner/name:version or a version id)");
	rq->url = prov_api_url(j->conf->base_url, path);
	free(path);
	auth(j, rq);
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
		return prov_fail(j, "bad_request", 0, 0, "replicate: no model");
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
			u = upload_get(p, ref_sha256(r), j);
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
			build_upload(j, rq, s->iref);
			return PROV_SEND;
		}
		rq->method = "POST";
		return build_create(j, rq);
	case R_LOOKUP:
		rq->url = s->page ? estrdup(s->page) :
		    prov_api_url(j->conf->base_url, "/v1/predictions");
		auth(j, rq);
		return PROV_SEND;
	case R_CREATE:		/* answered, but not with a prediction */
		if (!s->get) {
			rq->method = "POST";
			return build_create(j, rq);
		}
		/* FALLTHROUGH */
	case R_POLL:
		rq->url = estrdup(s->get);
		auth(j, rq);
		return PROV_SEND;
	case R_FETCH:
		if (j->step == 0) {
			/* a new attempt: fetch everything again, from a
			 * fresh look at the prediction */
			drop_outputs(j);
			poll_start(s);
			rq->url = estrdup(s->get);
			auth(j, rq);
			return PROV_SEND;
		}
		url = s->outs[s->iout];
		rq->url = estrdup(url);
		if (same_origin(url, j->conf->base_url))
			auth(j, rq);
		return PROV_SEND;
	}
	return prov_fail(j, "bad_request", 0, 0, "replicate: bad state");
}

static int
bad_json(struct pjob *j, const struct prov_resp *rs, const char *what)
{
	return prov_fail(j, "bad_response", 1, rs->status,
	    "replicate: unparsable %s (%zu bytes)", what, rs->len);
}

static int
parse_upload(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	struct ref *r = j->refs[s->iref];
	struct upload *u;
	const char *url;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	url = rec_str(cJSON_GetObjectItemCaseSensitive(o, "urls"), "get");
	if (!url || strncmp(url, "http", 4)) {
		cJSON_Delete(o);
		return bad_json(j, rs, "file upload answer");
	}
	s->files[s->iref] = estrdup(url);
	u = upload_get(j->conf->priv, ref_sha256(r), j);
	free(u->url);
	u->url = estrdup(url);
	cJSON_Delete(o);
	s->iref++;
	j->delay_ms = 0;
	return PROV_NEXT;
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
static void
adopt(struct pjob *j, const cJSON *p, const char *id)
{
	struct rstate *s = j->state;
	const char *get;
	char *path;

	s->create_unknown = 0;
	if (!s->id || strcmp(s->id, id)) {
		free(s->id);
		s->id = estrdup(id);
		claim(j->conf->priv, id);
	}
	prov_set_request_id(j, id);
	/* poll urls.get when it is on our base URL; a URL elsewhere would
	 * get our token, so then ask the base URL for the same id */
	get = rec_str(cJSON_GetObjectItemCaseSensitive(p, "urls"), "get");
	free(s->get);
	if (get && same_origin(get, j->conf->base_url)) {
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
		return prov_fail(j, "bad_response", 1, rs->status,
		    "replicate: answer is not a prediction");
	adopt(j, p, id);
	if (!strcmp(st, "starting") || !strcmp(st, "processing")) {
		if (s->phase != R_POLL) {
			poll_start(s);
		} else if (util_now_ms() - s->poll_t0 > POLL_LIMIT_MS) {
			/* keep the state: a new attempt polls on */
			return prov_fail(j, "timeout", 1, 0, "replicate: "
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
		prov_usage(j, usage);
		cJSON_Delete(usage);
	}
	/* a model's failure is not an HTTP error: no http_status */
	err = cJSON_GetObjectItemCaseSensitive(p, "error");
	msg = cJSON_IsString(err) ? err->valuestring : NULL;
	if (!strcmp(st, "failed")) {
		forget(s);
		if (is_blocked(msg))
			return prov_fail(j, "blocked", 0, 0,
			    "replicate: prediction %s failed: %s", id, msg);
		/* a model error; each try is billed, so no automatic retry */
		return prov_fail(j, "server_error", 0, 0,
		    "replicate: prediction %s failed: %s", id,
		    msg ? msg : "no error given");
	}
	if (!strcmp(st, "canceled")) {
		forget(s);
		return prov_fail(j, "canceled", 0, 0,
		    "replicate: prediction %s was canceled", id);
	}
	if (!strcmp(st, "aborted")) {
		/* ended before it started: nothing was billed */
		forget(s);
		return prov_fail(j, "timeout", 1, 0,
		    "replicate: prediction %s was aborted%s%s", id,
		    msg ? ": " : "", msg ? msg : "");
	}
	if (strcmp(st, "succeeded")) {
		poll_start(s);	/* a status from the future: ask again */
		return prov_fail(j, "bad_response", 1, 0,
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
		return prov_fail(j, "bad_response", 0, 0,
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

/* Our prediction in a page of GET /v1/predictions, or PROV_NEXT for the
 * next page, or a new create when it is not there. */
static int
parse_lookup(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	struct rpriv *p = j->conf->priv;
	const cJSON *res, *it, *best = NULL;
	const char *model, *next, *colon, *pm, *pv, *pp;
	double t, d, bestd = INFINITY, oldest = INFINITY;
	size_t mlen;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	res = cJSON_GetObjectItemCaseSensitive(o, "results");
	if (!cJSON_IsArray(res)) {
		cJSON_Delete(o);
		return bad_json(j, rs, "prediction list");
	}
	model = j->model;
	colon = strchr(model, ':');
	mlen = colon ? (size_t)(colon - model) : strlen(model);
	cJSON_ArrayForEach(it, res) {
		t = iso_ms(rec_str(it, "created_at"));
		if (t >= 0 && t < oldest)
			oldest = t;
		if (t < 0 || t < s->sent_wall - LOOKUP_SKEW_MS)
			continue;
		pm = rec_str(it, "model");
		pv = rec_str(it, "version");
		if (strchr(model, '/')) {
			if (!pm || strlen(pm) != mlen || strncmp(pm, model, mlen))
				continue;
			if (colon && pv && strcmp(pv, "hidden") &&
			    strcmp(pv, colon + 1))
				continue;
		} else if (!pv || strcmp(pv, model)) {
			continue;
		}
		pp = rec_str(cJSON_GetObjectItemCaseSensitive(it, "input"),
		    "prompt");
		if (!rec_str(it, "id") || claimed(p, rec_str(it, "id")) ||
		    !pp || strcmp(pp, j->prompt))
			continue;
		d = fabs(t - s->sent_wall);
		if (d < bestd) {
			bestd = d;
			best = it;
		}
	}
	if (best) {
		/* found: a list entry may be abridged, so poll it whole */
		adopt(j, best, rec_str(best, "id"));
		poll_start(s);
		free(s->page);
		s->page = NULL;
		cJSON_Delete(o);
		j->delay_ms = 0;
		return PROV_NEXT;
	}
	next = rec_str(o, "next");
	if (next && ++s->npages < LOOKUP_PAGES && oldest >= s->sent_wall -
	    LOOKUP_SKEW_MS && same_origin(next, j->conf->base_url)) {
		free(s->page);
		s->page = estrdup(next);
		cJSON_Delete(o);
		j->delay_ms = 0;
		return PROV_NEXT;
	}
	cJSON_Delete(o);
	/* it was never made: make it now */
	s->phase = R_START;
	s->create_unknown = 0;
	free(s->page);
	s->page = NULL;
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
		return prov_fail(j, "bad_response", 1, rs->status,
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
		return parse_upload(j, rs);
	case R_LOOKUP:
		return parse_lookup(j, rs);
	case R_FETCH:
		return parse_fetch(j, rs);
	case R_CREATE:
	case R_POLL:
		o = cJSON_ParseWithLength(rs->body, rs->len);
		if (!cJSON_IsObject(o)) {
			/* a create stays unknown: the next attempt looks */
			cJSON_Delete(o);
			return bad_json(j, rs, s->phase == R_CREATE ?
			    "create answer" : "prediction");
		}
		rc = prediction(j, rs, o);
		cJSON_Delete(o);
		return rc;
	}
	return prov_fail(j, "bad_response", 0, rs->status,
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
		j->fail.code = "quota";
		j->fail.retryable = 0;
	} else if (rs->status == 404 && s && s->phase == R_CREATE) {
		/* POST /v1/models/{owner}/{name}/predictions: no such
		 * model (or not one this token can run) */
		j->fail.code = "model_not_found";
		j->fail.retryable = 0;
	} else if (rs->status == 422) {
		j->fail.code = "bad_request";
		j->fail.retryable = 0;
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
	auth(j, rq);
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
