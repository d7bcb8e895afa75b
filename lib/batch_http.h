/* batch_http: blocking HTTP for batch mode (lib/batch.c): few, rare
 * requests (uploads, create, polls, downloads) on one reused libcurl easy
 * handle.  Request bodies come from memory, a file (streamed, never read
 * whole) or a curl_mime; answers go to memory or, for 2xx downloads, a
 * file. */
#ifndef BG_BATCH_HTTP_H
#define BG_BATCH_HTTP_H

#include <stdio.h>

#include <curl/curl.h>

#include "util.h"

struct bh_req {
	const char *method;		/* NULL: POST with a body, else GET */
	const char *url;
	struct curl_slist *headers;	/* caller's; not freed */
	const char *body;		/* memory body, or */
	size_t len;
	FILE *upload;			/* a file body of upload_len bytes
					 * from its current position, or */
	long long upload_len;
	curl_mime *mime;		/* a multipart body */
	FILE *out;			/* a 2xx answer's body goes here */
	double timeout_ms, connect_timeout_ms;
};

struct bh_resp {
	long status;			/* 0: no answer (err says why) */
	struct sbuf body;		/* the answer (unless it went to out) */
	char *upload_url;		/* x-goog-upload-url, or NULL */
	char *upload_status;		/* x-goog-upload-status, or NULL */
	char *request_id;		/* x-request-id, or NULL */
	double retry_after_ms;		/* Retry-After, or -1 */
	int write_failed;		/* writing out failed (errno kept) */
	char err[CURL_ERROR_SIZE];
};

/* Send rq on h (NULL: a handle made once and kept) and fill rs (which
 * bh_resp_free releases).  0 when an HTTP answer came, -1 otherwise. */
int bh_do(CURL *h, const struct bh_req *rq, struct bh_resp *rs);
void bh_resp_free(struct bh_resp *rs);
/* The handle bh_do uses when given NULL; bh_cleanup frees it. */
CURL *bh_handle(void);
void bh_cleanup(void);

#endif
