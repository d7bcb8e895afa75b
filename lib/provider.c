/* provider: the registry and the helpers every provider shares. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "err.h"
#include "record.h"
#include "image.h"
#include "ndjson.h"
#include "provider.h"
#include "util.h"

static const struct provider *const providers[] = {
	&prov_local, &prov_gemini, &prov_openai, &prov_replicate,
};

const struct provider *
prov_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof providers / sizeof *providers; i++)
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	return NULL;
}

const char *
prov_names(void)
{
	return "local, gemini, openai, replicate";
}

const char *
ref_b64(struct ref *r, size_t *len)
{
	if (!r->b64)
		r->b64 = util_b64_encode(r->data, r->len, &r->b64len);
	if (len)
		*len = r->b64len;
	return r->b64;
}

const char *
ref_sha256(struct ref *r)
{
	if (!r->sha256[0])
		util_sha256_hex(r->data, r->len, r->sha256);
	return r->sha256;
}

char *
prov_base_url(const char *name, const char *opt, const char *def)
{
	char var[64], *s;
	const char *e;
	size_t i, n;

	if (!opt || !*opt) {
		snprintf(var, sizeof var, "BG_%s_BASE_URL", name);
		for (i = 0; var[i]; i++)
			var[i] = toupper((unsigned char)var[i]);
		e = getenv(var);
		opt = e && *e ? e : def;
	}
	s = estrdup(opt);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

void
prov_req_init(struct prov_req *rq, CURL *easy)
{
	memset(rq, 0, sizeof *rq);
	rq->easy = easy;
}

void
prov_req_free(struct prov_req *rq)
{
	free(rq->url);
	curl_slist_free_all(rq->headers);
	sb_free(&rq->own);
	free(rq->seg);
	if (rq->mime)
		curl_mime_free(rq->mime);
	memset(rq, 0, sizeof *rq);
}

void
prov_header(struct prov_req *rq, const char *fmt, ...)
{
	struct curl_slist *l;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = evasprintf(fmt, ap);
	va_end(ap);
	l = curl_slist_append(rq->headers, s);
	/* the header may hold a key: wipe the temporary copy */
	explicit_bzero(s, strlen(s));
	free(s);
	if (!l)
		die(EXIT_FATAL, "out of memory");
	rq->headers = l;
}

static struct prov_body_seg *
new_seg(struct prov_req *rq)
{
	if (rq->nseg == rq->capseg) {
		rq->capseg = rq->capseg ? rq->capseg * 2 : 16;
		rq->seg = erealloc(rq->seg, rq->capseg * sizeof *rq->seg);
	}
	rq->has_body = 1;
	return &rq->seg[rq->nseg++];
}

void
prov_body_add(struct prov_req *rq, const void *p, size_t len)
{
	struct prov_body_seg *s;

	/* grow the last copied segment rather than adding one */
	if (rq->nseg && !rq->seg[rq->nseg - 1].p &&
	    rq->seg[rq->nseg - 1].off + rq->seg[rq->nseg - 1].len ==
	    rq->own.len) {
		sb_add(&rq->own, p, len);
		rq->seg[rq->nseg - 1].len += len;
		return;
	}
	s = new_seg(rq);
	s->p = NULL;
	s->off = rq->own.len;
	s->len = len;
	sb_add(&rq->own, p, len);
}

void
prov_body_adds(struct prov_req *rq, const char *s)
{
	prov_body_add(rq, s, strlen(s));
}

void
prov_body_json_str(struct prov_req *rq, const char *s)
{
	struct sbuf b = {0};

	nd_json_str(&b, s, 1);
	prov_body_add(rq, b.s, b.len);
	sb_free(&b);
}

char *
prov_api_url(const char *base, const char *path)
{
	size_t n = strlen(base);

	if (n >= 3 && !strcmp(base + n - 3, "/v1"))
		path += 3;
	return easprintf("%s%s", base, path);
}

void
prov_key_free(struct prov_conf *c)
{
	if (c->key)
		explicit_bzero(c->key, strlen(c->key));
	free(c->key);
	c->key = NULL;
}

/* A reference image read by libcurl straight from the shared bytes. */
struct mime_cursor {
	const unsigned char *p;
	size_t len, off;
};

static size_t
cursor_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct mime_cursor *c = arg;
	size_t n = size * nitems;

	if (n > c->len - c->off)
		n = c->len - c->off;
	memcpy(buf, c->p + c->off, n);
	c->off += n;
	return n;
}

static int
cursor_seek(void *arg, curl_off_t off, int origin)
{
	struct mime_cursor *c = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > c->len)
		return CURL_SEEKFUNC_CANTSEEK;
	c->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

void
prov_mime_ref(curl_mime *m, const char *field, const struct ref *r, int index)
{
	struct mime_cursor *c = emalloc(sizeof *c);
	curl_mimepart *part;
	char name[32];

	c->p = r->data;
	c->len = r->len;
	c->off = 0;
	snprintf(name, sizeof name, "image-%d.%s", index + 1,
	    image_ext(r->mime));
	if (!(part = curl_mime_addpart(m)) ||
	    curl_mime_name(part, field) != CURLE_OK ||
	    curl_mime_filename(part, name) != CURLE_OK ||
	    curl_mime_type(part, r->mime) != CURLE_OK ||
	    curl_mime_data_cb(part, (curl_off_t)c->len, cursor_read,
	    cursor_seek, free, c) != CURLE_OK)
		die(EXIT_FATAL, "out of memory");
}

void
prov_body_ref(struct prov_req *rq, const void *p, size_t len)
{
	struct prov_body_seg *s = new_seg(rq);

	s->p = p;
	s->off = 0;
	s->len = len;
}

size_t
prov_body_len(const struct prov_req *rq)
{
	size_t n = 0;
	int i;

	for (i = 0; i < rq->nseg; i++)
		n += rq->seg[i].len;
	return n;
}

static int __attribute__((format(printf, 5, 0)))
vfail(struct pjob *j, enum ec code, int retryable, long http,
    const char *fmt, va_list ap)
{
	char *s;

	s = evasprintf(fmt, ap);
	free(j->fail.message);
	j->fail.code = code;
	j->fail.retryable = retryable;
	j->fail.http_status = http;
	j->fail.message = util_utf8_fix(s, strlen(s));
	return PROV_FAIL;
}

int
prov_fail(struct pjob *j, enum ec code, long http, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(j, code, ec_retryable(code), http, fmt, ap);
	va_end(ap);
	return rc;
}

int
prov_fail_retry(struct pjob *j, enum ec code, int retryable, long http,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(j, code, retryable, http, fmt, ap);
	va_end(ap);
	return rc;
}

void
prov_recode(struct pjob *j, enum ec code)
{
	j->fail.code = code;
	j->fail.retryable = ec_retryable(code);
}

int
prov_output(struct pjob *j, unsigned char *data, size_t len, const char *mime)
{
	struct prov_output *o;

	if (j->nout >= PROV_MAX_OUTPUTS) {
		/* 50 MB of tiny parts made 1.69 M outputs before this cap */
		free(data);
		/* not retryable: the same request gets the same answer */
		return prov_fail_retry(j, EC_BAD_RESPONSE, 0, 0, "%s: more "
		    "than %d images in one answer", j->conf->p->name,
		    PROV_MAX_OUTPUTS);
	}
	/* capacity is the next power of two: grow when nout reaches one */
	if ((j->nout & (j->nout - 1)) == 0)
		j->out = erealloc(j->out, (j->nout ? 2 * j->nout : 1) *
		    sizeof *j->out);
	o = &j->out[j->nout++];
	o->data = data;
	o->len = len;
	o->mime = mime ? estrdup(mime) : NULL;
	return 0;
}

void
prov_set_request_id(struct pjob *j, const char *id)
{
	free(j->request_id);
	j->request_id = id ? estrdup(id) : NULL;
}

void
prov_usage(struct pjob *j, cJSON *parent, cJSON *usage)
{
	if (!cJSON_IsObject(usage)) {
		if (!parent)
			cJSON_Delete(usage);
		return;
	}
	if (parent)
		cJSON_DetachItemViaPointer(parent, usage);
	cJSON_Delete(j->usage);
	j->usage = usage;
}

void
prov_classify_http(struct pjob *j, const struct prov_resp *rs, const char *msg)
{
	long st = rs->status;
	enum ec code;
	char text[200];

	/* retryable or not: the code's default (lib/errcode.c) */
	if (st == 401 || st == 403)
		code = EC_AUTH;
	else if (st == 429)
		code = EC_RATE_LIMITED;
	else if (st == 408 || st == 504)
		code = EC_TIMEOUT;
	else if (st == 409 || st >= 500)
		code = EC_SERVER_ERROR;
	else if (st >= 400)
		code = EC_BAD_REQUEST;
	else
		code = EC_BAD_RESPONSE;	/* 1xx/3xx where a 2xx was due */
	if (!msg || !*msg) {
		/* a short, printable start of the body, or the status */
		size_t n = 0, i;

		for (i = 0; rs->body && i < rs->len && n < sizeof text - 1; i++)
			text[n++] = isprint((unsigned char)rs->body[i]) ?
			    rs->body[i] : ' ';
		text[n] = '\0';
		msg = n && (!rs->content_type ||
		    strncasecmp(rs->content_type, "text/html", 9)) ?
		    text : "";
	}
	if (*msg)
		prov_fail(j, code, st, "HTTP %ld: %s", st, msg);
	else
		prov_fail(j, code, st, "HTTP %ld", st);
	j->fail.retry_after_ms = rs->retry_after_ms;
}

double
prov_retry_after(const char *v)
{
	char *end;
	double d;
	time_t t;

	while (v && isspace((unsigned char)*v))
		v++;
	if (!v || !*v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		d = strtod(v, &end);
		while (isspace((unsigned char)*end))
			end++;
		return *end || !isfinite(d) ? -1 : d * 1000;
	}
	t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	d = difftime(t, time(NULL)) * 1000;
	return d < 0 ? 0 : d;
}

double
prov_duration_ms(const char *v)
{
	char *end;
	double d;

	if (!v)
		return -1;
	d = strtod(v, &end);
	if (end == v || strcmp(end, "s") || !isfinite(d) || d < 0)
		return -1;
	return d * 1000;
}

void
prov_get_bearer(struct prov_req *rq, const struct prov_conf *c,
    const char *path)
{
	rq->url = prov_api_url(c->base_url, path);
	rq->method = "GET";
	prov_header(rq, "Authorization: Bearer %s", c->key);
}

/* The provider's error message in an error body (error.message, else
 * message, detail or title; an array's first element), at most max
 * bytes, or NULL (malloc'd): what every provider's JSON errors carry. */
char *
prov_error_text(const char *body, size_t len, size_t max)
{
	cJSON *o = cJSON_ParseWithLength(body, len), *e;
	const char *m;
	char *s = NULL;

	e = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, 0) : o;
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "error")))
		e = cJSON_GetObjectItemCaseSensitive(e, "error");
	if ((m = rec_str(e, "message")) || (m = rec_str(e, "detail")) ||
	    (m = rec_str(e, "title")))
		s = estrndup(m, strlen(m) > max ? max : strlen(m));
	cJSON_Delete(o);
	return s;
}
