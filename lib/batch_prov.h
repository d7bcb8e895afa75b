/* batch_prov: the interface between batch mode (lib/batch.c) and a
 * provider's Batch API (lib/provider/NAME_batch.c).  lib/batch.c groups
 * jobs, keeps the store's provider-batches/ records, waits and writes the
 * records; the provider part only speaks the wire format:
 *
 *   upload_ref  a reference image -> a file the request lines name
 *   line        a job -> one JSONL request line keyed by its request key
 *   create      the JSONL file -> a provider batch (b->name)
 *   poll        b->state, counts, result files
 *   download    the result lines into a file
 *   result      one result line -> its key and an outcome in a pjob
 *   cancel      ask the provider to stop b
 *   find        b's batch in the provider's list, after a create whose
 *               answer was lost (a crash): never created twice
 *
 * Every function reports a failure as -1 with *err (free(3), no secrets)
 * and sets *transient when trying again later may help. */
#ifndef BG_BATCH_PROV_H
#define BG_BATCH_PROV_H

#include <stdio.h>

#include "batch_http.h"
#include "provider.h"

enum {
	BS_OPEN,	/* being filled by this run, not created */
	BS_CREATING,	/* recorded, create sent (or about to be) */
	BS_RUNNING,	/* created, not finished */
	BS_SUCCEEDED,	/* finished: results to collect */
	BS_FAILED,	/* the whole batch failed (fail_msg) */
	BS_CANCELED,	/* canceled: partial results to collect */
	BS_EXPIRED	/* expired: partial results to collect */
};

/* One provider batch: a record under provider-batches/<provider>/. */
struct pbatch {
	char *id;		/* local id: the record's file name */
	const struct bprov *bp;
	char *model, *endpoint;
	char *name;		/* the provider's batch name, NULL before */
	int state;		/* BS_* */
	int collected;		/* its results are in the cache */
	long njobs;		/* request lines */
	double created;		/* epoch seconds */
	char *out_file, *err_file;	/* the provider's result files */
	char *fail_msg;
	int fail_retryable;	/* trying again may work */
	long n_done, n_failed, n_total;	/* the provider's counts */
	/* this run only */
	FILE *jsonl;		/* BS_OPEN: the request lines so far */
	char *jsonl_path;
	long long bytes;
	void *open_keys;	/* BS_OPEN: GHashTable of its keys */
	char *keys;		/* mmap of the sorted .keys file */
	size_t keys_len;
	int used;		/* jobs of this run are in it */
	int dl_failed;		/* its results could not be fetched */
};

struct bctx {
	struct prov_conf *conf;		/* base_url, key */
	double timeout_ms, connect_timeout_ms;
};

struct bprov {
	const char *name;
	const struct provider *p;
	long long max_bytes;	/* per input file */
	long max_lines;		/* per batch */
	const char *(*endpoint)(const struct pjob *j);
	/* *id: what request lines name the uploaded reference by */
	int (*upload_ref)(const struct bctx *x, const struct ref *r, char **id,
	    char **err, int *transient);
	/* the request line of j (ids[i] names j->refs[i]) appended to b
	 * without '\n'; -1 with j->fail set */
	int (*line)(struct pjob *j, const char *key, char *const *ids,
	    struct sbuf *b);
	/* upload the request lines (f, len bytes) and create the batch:
	 * sets b->name */
	int (*create)(const struct bctx *x, struct pbatch *b, FILE *f,
	    long long len, char **err, int *transient);
	/* refresh b->state, counts and result files; *retry_ms from the
	 * answer (or -1) */
	int (*poll)(const struct bctx *x, struct pbatch *b, double *retry_ms,
	    char **err, int *transient);
	/* the result lines (output and error files) appended to f */
	int (*download)(const struct bctx *x, struct pbatch *b, FILE *f,
	    char **err, int *transient);
	/* one result line: key (65 bytes) and j's outputs or j->fail;
	 * PROV_DONE, PROV_FAIL, or -1 for a line that names no key */
	int (*result)(struct pjob *j, const char *line, size_t len,
	    char key[65]);
	int (*cancel)(const struct bctx *x, struct pbatch *b, char **err,
	    int *transient);
	/* one page of the provider's batch list (*cursor names it, NULL:
	 * the first): 1 when the batch a create of b made is on it (b->id
	 * is in its display name or metadata; b->name set), else 0 with
	 * *cursor set to the next page (NULL: no more), or -1 */
	int (*find_page)(const struct bctx *x, struct pbatch *b,
	    char **cursor, char **err, int *transient);
};

/* b's provider batch, through every page of the list (bprov.find_page):
 * 1 with b->name set, 0 when the provider has none, -1 with *err. */
int bp_find(const struct bctx *x, struct pbatch *b, char **err,
    int *transient);

extern const struct bprov bprov_gemini, bprov_openai;

/* Shared by the providers' batch parts (lib/batch.c). */
/* The JSON text of rq's body segments appended to b. */
void bp_flatten(const struct prov_req *rq, struct sbuf *b);
/* Send rq; 0 for a 2xx answer, else -1 with *err naming what (the
 * provider's error message when it sent one) and *transient for a
 * network error, 408, 429 or 5xx. */
int bp_call(const struct bctx *x, struct bh_req *rq, struct bh_resp *rs,
    const char *what, char **err, int *transient);
/* bp_call of a request to url with headers h, a JSON body (NULL: none,
 * a GET) and a 2xx answer into out (NULL: into rs->body). */
int bp_req(const struct bctx *x, const char *url, struct curl_slist *h,
    const char *body, FILE *out, const char *what, struct bh_resp *rs,
    char **err, int *transient);
/* bp_req whose answer is not wanted (out, if any, has it); url and h
 * are freed. */
int bp_send(const struct bctx *x, char *url, struct curl_slist *h,
    const char *body, FILE *out, const char *what, char **err,
    int *transient);
/* h plus the header "name: key" (a secret), the copy wiped. */
struct curl_slist *bp_secret(struct curl_slist *h, const char *name,
    const char *key);
/* GET url: the answer's JSON object, or NULL with *err; *retry_ms from
 * its Retry-After (or -1). */
cJSON *bp_get_json(const struct bctx *x, const char *url,
    struct curl_slist *h, const char *what, double *retry_ms, char **err,
    int *transient);
/* A provider's batch state name and ours. */
struct bp_state {
	const char *s;
	int st;
};
/* b->state for the provider's state s (tab: n names): 0, or -1 with
 * *err (an unknown state: poll again). */
int bp_set_state(struct pbatch *b, const char *s, const struct bp_state *tab,
    size_t n, const char *what, char **err, int *transient);
/* The gRPC code number as the HTTP status Google maps it to. */
long bp_grpc_http(int code);
/* j->fail from an error answer (status, JSON body) through the
 * provider's own classify. */
void bp_classify(struct pjob *j, long status, const char *body, size_t len);
/* j's outputs from a 2xx answer body through the provider's parse. */
int bp_parse(struct pjob *j, const char *body, size_t len);

#endif
