/* provider: the one interface between the engine (lib/engine.c) and an
 * image API.  A provider is a struct of function pointers; the engine owns
 * the event loop, HTTP, retries, rate, budget and the store, the provider
 * only turns a job into HTTP requests and HTTP answers into an outcome.
 *
 * A job goes through one or more *attempts*; an attempt is one or more
 * *steps*, each one HTTP request:
 *
 *   engine                              provider
 *   ------                              --------
 *   attempt starts (slot + rate token)
 *   build(j, rq) ---------------------> PROV_SEND: rq filled, send it
 *                                       PROV_DONE: outputs added, no HTTP
 *                                         (the offline `local` provider)
 *                                       PROV_FAIL: j->fail set, no HTTP
 *   2xx answer:  parse(j, rs) --------> PROV_DONE: outputs added (prov_output)
 *                                       PROV_NEXT: call build again for the
 *                                         same job after j->delay_ms (poll a
 *                                         prediction, download an output)
 *                                       PROV_FAIL: j->fail set (prov_fail)
 *   other status: classify(j, rs) ----> j->fail set (start from
 *                                         prov_classify_http, then refine)
 *   network error or timeout: the engine fills j->fail itself.
 *
 * A failure with fail.retryable set starts a new attempt after a backoff
 * (fail.retry_after_ms if the provider or a Retry-After header said so).
 * The new attempt calls build again: j->state survives attempts, so a
 * multi-step provider resumes where it was (e.g. keeps polling a prediction
 * it already created instead of paying for a second one); j->step counts
 * the requests of the current attempt and j->attempt the attempts (1-based).
 *
 * Only step 0 of an attempt takes a token from the --rpm bucket (polls and
 * downloads are not metered).  A job holds its concurrency slot (-j) for
 * the whole attempt, including PROV_NEXT delays.
 *
 * Memory: request bodies are lists of segments.  prov_body_add copies
 * small text; prov_body_ref borrows bytes that stay alive while the request
 * is on the wire (for reference images use ref_b64 or ref->data: each
 * reference is held once and shared by every job that uses it, never
 * copied per request; call ref_b64 again in each build, the engine frees
 * the base64 when no request needs it).
 *
 * Secrets (API keys) go only into rq->headers or the URL and never into
 * j->fail.message or any record.  Adding a provider: write
 * lib/provider/NAME.c defining `const struct provider prov_NAME` and list
 * it in lib/provider.c. */
#ifndef BG_PROVIDER_H
#define BG_PROVIDER_H

#include <stddef.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "errcode.h"
#include "util.h"

enum { PROV_SEND, PROV_DONE, PROV_FAIL, PROV_NEXT };

/* A reference image (input.product_images...), loaded once and shared. */
struct ref {
	char *url;		/* as written in the job */
	unsigned char *data;	/* the bytes (NULL for a b64_refs provider
				 * once the base64 exists) */
	size_t len;
	const char *mime;	/* image/png, image/jpeg or image/webp */
	char *b64;		/* base64 of data, made by ref_b64 */
	size_t b64len;
	char sha256[65];	/* hex of data, made by ref_sha256 */
	char *obj;		/* objects/... path in the store, or NULL */
};				/* the engine's bookkeeping: lib/engine_ref.c */

/* The base64 text of r's bytes, made once and shared by every request on
 * the wire; the engine drops it when none is left, unless it is the only
 * copy (see struct provider.b64_refs). */
const char *ref_b64(struct ref *r, size_t *len);
/* The SHA-256 hex of r's bytes, made once and kept with r. */
const char *ref_sha256(struct ref *r);

/* Per provider per run: what init found (base URL, key, private data). */
struct prov_conf {
	const struct provider *p;
	char *base_url;		/* no trailing '/' */
	char *key;		/* secret: never print it */
	void *priv;
	int ready;		/* init succeeded */
	char *err;		/* why init failed (engine's) */
};

/* One HTTP request.  The engine sends it and frees everything in it. */
struct prov_body_seg {
	const char *p;		/* borrowed, or NULL: own + off */
	size_t off, len;
};
struct prov_req {
	char *url;			/* malloc'd; full URL */
	const char *method;		/* "GET", "POST"...; NULL: POST if body */
	struct curl_slist *headers;	/* curl_slist_append'd */
	struct sbuf own;		/* copied body text */
	struct prov_body_seg *seg;	/* the body, in order */
	int nseg, capseg;
	int has_body;
	curl_mime *mime;		/* multipart body instead (owned) */
	CURL *easy;			/* the handle it will go on, for
					 * curl_mime_init; set options only
					 * through rq, not on easy */
	size_t max_response;		/* 0: the engine's default cap */
	int fresh;			/* on a new connection: libcurl
					 * silently re-sends a request whose
					 * reused connection closed unanswered,
					 * which must not happen to a paid,
					 * non-idempotent create */
};

/* A finished HTTP answer. */
struct prov_resp {
	long status;
	const char *body;	/* NUL-terminated */
	size_t len;
	const char *content_type;	/* or NULL */
	const char *request_id;		/* x-request-id or similar, or NULL */
	double retry_after_ms;		/* Retry-After / retry-after-ms, or -1 */
};

struct prov_output {
	unsigned char *data;
	size_t len;
	char *mime;		/* NULL: sniffed */
};

struct prov_fail {
	enum ec code;		/* lib/errcode.h; EC_NONE: not failed */
	int retryable;
	long http_status;	/* 0 when none */
	double retry_after_ms;	/* -1 when none */
	char *message;		/* malloc'd; no secrets */
};

/* The provider's view of a job. */
struct pjob {
	const cJSON *rec;	/* the job record (read only) */
	const char *model, *prompt;
	const cJSON *input;	/* rec.input, or NULL */
	struct prov_conf *conf;
	struct ref **refs;	/* input.product_images then extra images */
	int nrefs, nproduct;
	int attempt, step;
	void *state;		/* provider's; freed by p->release */
	/* results */
	struct prov_output *out;
	int nout;
	char *request_id;	/* provider_request_id for usage */
	cJSON *usage;		/* more usage fields (prov_usage) or NULL:
				 * the engine adds them to the record's
				 * usage and frees them */
	struct prov_fail fail;
	double delay_ms;	/* for PROV_NEXT */
};

struct provider {
	const char *name;		/* its default model and its models are
				 * in the model table (lib/models.h) */
	const char *key_env;	/* where the key comes from, for messages */
	int offline;		/* no HTTP: no rate tokens, no slots */
	int b64_refs;		/* reads references only through ref_b64:
				 * the engine may drop ref->data once the
				 * base64 exists (it is 3/4 of the memory) */
	/* Once per run before the first job: read the key and base URL
	 * (base_url is --base-url or NULL).  0, or -1 with *err (free(3)). */
	int (*init)(struct prov_conf *c, const char *base_url, char **err);
	/* The job's next request (see the table above). */
	int (*build)(struct pjob *j, struct prov_req *rq);
	/* A 2xx answer: PROV_DONE, PROV_NEXT or PROV_FAIL. */
	int (*parse)(struct pjob *j, const struct prov_resp *rs);
	/* A non-2xx answer: fill j->fail. */
	void (*classify)(struct pjob *j, const struct prov_resp *rs);
	/* Free j->state (may be NULL). */
	void (*release)(struct pjob *j);
	/* Free c->priv and c->key (may be NULL). */
	void (*fini)(struct prov_conf *c);
	/* The job ends without success (a final failure, a signal, the
	 * budget) while its state may hold something still running and
	 * billed (a Replicate prediction): fill rq with the request that
	 * stops it and return PROV_SEND (sent once, its answer ignored),
	 * else PROV_DONE.  May be NULL. */
	int (*abandon)(struct pjob *j, struct prov_req *rq);
	/* bg-generate --check / --list-models (lib/check.c): the GET that
	 * asks about model, or lists the models when model is NULL (0), or
	 * -1 when the provider has no such request. */
	int (*model_req)(struct prov_conf *c, const char *model,
	    struct prov_req *rq);
	/* Its 2xx answer: for a model, 0 when it can make images (*note
	 * may say more, e.g. an announced shutdown), or -1 with *note
	 * saying why not; for the list, the model ids added to names.
	 * *note is malloc'd or NULL. */
	int (*model_ans)(const char *model, const struct prov_resp *rs,
	    char **note, cJSON *names);
};

/* The provider called name, or NULL. */
const struct provider *prov_find(const char *name);
/* "local, gemini, ..." for messages. */
const char *prov_names(void);

/* Base URL: opt, else $BG_<NAME>_BASE_URL, else def; trailing '/' cut.
 * Returns malloc'd. */
char *prov_base_url(const char *name, const char *opt, const char *def);

/* base + path ("/v1/..."), where a base that already ends in "/v1" (the
 * OpenAI SDKs' OPENAI_BASE_URL style) does not get a second one.  free(3). */
char *prov_api_url(const char *base, const char *path);
/* rq: GET base + path with c's key as a bearer token (OpenAI, Replicate). */
void prov_get_bearer(struct prov_req *rq, const struct prov_conf *c,
    const char *path);
/* Wipe and free c->key: a fini for providers that keep nothing else. */
void prov_key_free(struct prov_conf *c);

/* Request building. */
void prov_req_init(struct prov_req *rq, CURL *easy);
void prov_req_free(struct prov_req *rq);
void prov_header(struct prov_req *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void prov_body_add(struct prov_req *rq, const void *p, size_t len);
void prov_body_adds(struct prov_req *rq, const char *s);
/* Append s as a JSON string literal (quotes included). */
void prov_body_json_str(struct prov_req *rq, const char *s);
/* Borrow p..p+len (alive until the job ends). */
void prov_body_ref(struct prov_req *rq, const void *p, size_t len);
size_t prov_body_len(const struct prov_req *rq);
/* Add to multipart body m a file part called field holding reference r,
 * with its content type and the file name "image-N.EXT" (N = index + 1).
 * The bytes are streamed from r (alive for the job), never copied. */
void prov_mime_ref(curl_mime *m, const char *field, const struct ref *r,
    int index);

/* Outcomes. */
/* Record a failure with code and its default retryable flag (the table,
 * lib/errcode.c) and return PROV_FAIL. */
int prov_fail(struct pjob *j, enum ec code, long http, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* As prov_fail, where the provider knows better than the code's default
 * whether trying again can help. */
int prov_fail_retry(struct pjob *j, enum ec code, int retryable, long http,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Change the code of j's failure to code, with its default retryable
 * flag (a provider refining prov_classify_http). */
void prov_recode(struct pjob *j, enum ec code);
/* Add an output; j takes data (malloc'd); mime may be NULL.  Returns 0,
 * or past PROV_MAX_OUTPUTS frees data, sets j->fail (bad_response) and
 * returns PROV_FAIL: a request asks for one image, so an answer with
 * thousands of parts is broken, not generous. */
#define PROV_MAX_OUTPUTS 16
int prov_output(struct pjob *j, unsigned char *data, size_t len,
    const char *mime);
void prov_set_request_id(struct pjob *j, const char *id);
/* Keep the provider's usage object (token counts...) for the record's
 * usage: a member of parent, taken out of it (the answer is freed next:
 * no copy), or with parent NULL one j now owns.  NULL or a non-object is
 * ignored (and with parent NULL freed). */
void prov_usage(struct pjob *j, cJSON *parent, cJSON *usage);

/* The generic mapping of an HTTP status (doc/contract.md "Providers"):
 * 400 bad_request, 401/403 auth, 404 bad_request, 408/409/429 and 5xx
 * retryable, Retry-After copied; message from msg (may be NULL). */
void prov_classify_http(struct pjob *j, const struct prov_resp *rs,
    const char *msg);
/* Parse a Retry-After value (seconds or an HTTP date) into ms, or -1. */
double prov_retry_after(const char *v);
/* Parse a protobuf duration such as "47s" or "1.5s" into ms, or -1. */
double prov_duration_ms(const char *v);

/* Request bodies shared with batch mode (lib/batch.c). */
/* gemini: the GenerateContentRequest of j into rq; references inline
 * (uris NULL) or as file_data naming uris[i]. */
void gemini_body(struct pjob *j, struct prov_req *rq, char *const *uris);
/* gemini: a model id safe in a URL path. */
int gemini_model_ok(const char *m);
/* openai: the endpoint j goes to ("/v1/images/edits" with references). */
const char *openai_endpoint(const struct pjob *j);
/* openai: the JSON body of j into rq (edits name file_ids[i]); PROV_SEND,
 * or PROV_FAIL with j->fail set. */
int openai_json_body(struct pjob *j, struct prov_req *rq,
    char *const *file_ids);

/* The providers (lib/provider/NAME.c). */
extern const struct provider prov_local, prov_gemini, prov_openai,
    prov_replicate;

/* The provider's error message in a JSON error body, at most max bytes,
 * or NULL (malloc'd). */
char *prov_error_text(const char *body, size_t len, size_t max);

#endif
