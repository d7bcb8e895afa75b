/* batch_http: blocking HTTP for batch mode (see batch_http.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch_http.h"
#include "err.h"
#include "provider.h"

#define MAX_MEMORY_BODY ((size_t)256 << 20)

static CURL *handle;

struct ctx {
	CURL *h;
	const struct bh_req *rq;
	struct bh_resp *rs;
};

CURL *
bh_handle(void)
{
	if (!handle && !(handle = curl_easy_init()))
		die(EXIT_FATAL, "curl_easy_init failed");
	return handle;
}

void
bh_cleanup(void)
{
	if (handle)
		curl_easy_cleanup(handle);
	handle = NULL;
}

void
bh_resp_free(struct bh_resp *rs)
{
	sb_free(&rs->body);
	free(rs->upload_url);
	free(rs->upload_status);
	free(rs->request_id);
	memset(rs, 0, sizeof *rs);
	rs->retry_after_ms = -1;
}

static size_t
write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct ctx *x = arg;
	long st = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	if (x->rq->out && st >= 200 && st <= 299) {
		if (fwrite(p, 1, sz * n, x->rq->out) != sz * n) {
			x->rs->write_failed = errno ? errno : EIO;
			return 0;
		}
		return sz * n;
	}
	if (x->rs->body.len + sz * n > MAX_MEMORY_BODY)
		return 0;
	sb_add(&x->rs->body, p, sz * n);
	return sz * n;
}

/* A copy of the value of header line p if its name is name, else NULL. */
static char *
header_value(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(p, name, n) || p[n] != ':')
		return NULL;
	p += n + 1;
	len -= n + 1;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	return estrndup(p, len);
}

static size_t
header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct bh_resp *rs = arg;
	size_t len = sz * n;
	char *v;

	if (!strncmp(p, "HTTP/", 5)) {	/* a new answer (after a 100) */
		free(rs->upload_url);
		free(rs->upload_status);
		rs->upload_url = rs->upload_status = NULL;
	} else if ((v = header_value(p, len, "x-goog-upload-url"))) {
		free(rs->upload_url);
		rs->upload_url = v;
	} else if ((v = header_value(p, len, "x-goog-upload-status"))) {
		free(rs->upload_status);
		rs->upload_status = v;
	} else if ((v = header_value(p, len, "x-request-id"))) {
		free(rs->request_id);
		rs->request_id = v;
	} else if ((v = header_value(p, len, "retry-after"))) {
		rs->retry_after_ms = prov_retry_after(v);
		free(v);
	}
	return len;
}

int
bh_do(CURL *h, const struct bh_req *rq, struct bh_resp *rs)
{
	struct ctx x;
	CURLcode cc;

	if (!h)
		h = bh_handle();
	memset(rs, 0, sizeof *rs);
	rs->retry_after_ms = -1;
	x.h = h;
	x.rq = rq;
	x.rs = rs;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (rq->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
	if (rq->connect_timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)rq->connect_timeout_ms);
	if (rq->mime) {
		curl_easy_setopt(h, CURLOPT_MIMEPOST, rq->mime);
	} else if (rq->upload) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, rq->upload);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->upload_len);
	} else if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->len);
	}
	if (rq->method && strcmp(rq->method, "GET") && strcmp(rq->method,
	    "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	if (cc != CURLE_OK) {
		if (!*rs->err)
			snprintf(rs->err, sizeof rs->err, "%s",
			    curl_easy_strerror(cc));
		rs->status = 0;
		return -1;
	}
	sb_addc(&rs->body, '\0');	/* NUL-terminated, even when empty */
	rs->body.len--;
	return 0;
}
