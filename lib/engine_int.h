/* engine_int: what the parts of bg-generate's engine share (private to
 * lib/engine*.c; the interface is lib/engine.h).
 *
 *   engine.c        the loop: setup, epoll, signalfd, timers, input,
 *                   progress, teardown
 *   engine_http.c   transfers: easy-handle pool, socket/timer callbacks,
 *                   read/write/header callbacks, finished transfers
 *   engine_ref.c    reference images: fetch, hash, share, evict
 *   engine_sched.c  scheduling: timer heap, ready queue, concurrency
 *                   window (AIMD), --rpm tokens, budget
 *   engine_admit.c  admitting records: validation, providers, references,
 *                   request key, cache answers
 *   engine_job.c    attempts: provider steps, retry/backoff, stop-early
 *                   hooks, success, failure, the record written
 *
 * The run's state is one struct with a sub-struct per part: each part
 * writes its own and reads the others' through the functions below (a
 * few counters are read directly where a call would only add noise). */
#ifndef BG_ENGINE_INT_H
#define BG_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <glib.h>

#include "engine.h"
#include "ndjson.h"
#include "provider.h"
#include "util.h"

#define STAGE "generate"
#define MAX_REFS 16		/* images per job (product + extra) */
#define REF_SOFT ((size_t)32 << 20)	/* reference bytes before reading
					 * ahead stops */

enum { J_REFS, J_READY, J_SEND, J_DELAY, J_BACKOFF };

struct commit;
struct eref;
struct xfer;
struct sockstate;

struct job {
	struct pjob pj;
	cJSON *rec;
	const struct provider *prov;
	char key[65];
	int state;
	int pending;		/* references still loading */
	int holds_slot;		/* an attempt is under way */
	int committed;		/* counted against the budget */
	int prev_attempt;	/* the record's attempt when read */
	int staged;		/* its line waits for the group commit */
	double price;
	double t_first;		/* first attempt started (ms) */
	double due;		/* timer heap */
	int hidx;
	struct xfer *xf;
	struct job *qnext;	/* ready queue */
	struct job *prev, *next;	/* every job in progress */
};

/* One transfer: a provider request of job, a reference download of ref,
 * or (neither) an abandon request nobody waits for. */
struct xfer {
	CURL *h;
	struct job *job;
	struct ref *ref;
	struct prov_req rq;
	int seg;		/* upload position */
	size_t segoff;
	struct sbuf resp;
	char *flat;		/* a small body in one piece */
	size_t max_resp;
	int too_large;
	double retry_after_ms;
	char *req_id;
	double t0;		/* sent (ms) */
	int busy;		/* counted in eng.http.busy */
	long tmo_ms;		/* 0: --timeout */
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

struct engine {
	const struct engine_conf *c;
	struct {		/* engine.c */
		int ep, sigfd;
		int stopping, signo;
		double grace_due;
		double t_start, progress_due;
		int progress_on;
	} loop;
	struct {		/* engine.c: the input */
		struct nd_reader *rd;
		int eof, wait, armed, fd;
		int more;	/* read_input stopped early: call it again */
		long badlines;
	} in;
	struct {		/* engine_http.c */
		CURLM *multi;
		double curl_due;	/* < 0: none */
		struct xfer *xfers;
		struct sockstate *socks;
		int nsocks;
		CURL **pool;
		int npool, cappool;
		int detached;	/* abandon requests on the wire */
		double lat_ms;	/* moving mean of a request's time */
		int busy;	/* transfers moving a big body */
	} http;
	struct {		/* engine_ref.c */
		GHashTable *table;
		struct eref *idle_head, *idle_tail;
		int nidle;
		size_t bytes;	/* image bytes of references held */
	} refs;
	struct {		/* engine_sched.c */
		struct job *rq_head, *rq_tail;
		struct job **heap;
		int nheap, capheap;
		int inflight;	/* provider attempts holding a slot */
		double cwnd;	/* AIMD concurrency, <= jobs */
		int n429;
		double last_cut;
		double tokens, token_t;
		long committed_images;
		double committed_cost;
	} sched;
	struct {		/* engine_admit.c, engine_job.c */
		struct commit *commit;	/* lib/commit.c: results' files */
		struct job *list;
		long max_active, active;
		struct prov_conf pconf[8];
		int npconf;
	} work;
	struct {		/* engine_job.c counts, engine.c shows */
		long n_done, n_failed, n_cached, n_canceled;
	} stats;
};

extern struct engine eng;

static inline double
now_ms(void)
{
	return util_now_ms();
}

/* engine_http.c */
void http_init(long maxconnects);
void http_fini(void);
struct xfer *xfer_new(void);
void xfer_start(struct xfer *x);
void xfer_free(struct xfer *x);	/* and its request, answer, handle */
void http_event(int fd, uint32_t events);	/* an epoll event on fd */
void http_timers(void);		/* curl's timer, when due */
double http_due(void);		/* curl's timer; < 0: none */
int http_done(void);		/* hand finished transfers on; how many */

/* engine_ref.c */
void refs_init(void);
void refs_fini(void);
/* r for j, shared, loaded or loading (j->pending counts what it waits
 * for; job_refs_done runs when that reaches 0) */
struct ref *ref_get(const char *url, struct job *j);
void ref_release(struct ref *r, struct job *j, int raw);
const char *ref_failed(struct ref *r, int *retryable, const char **msg);
void ref_fetched(struct xfer *x, CURLcode cc);	/* frees x */
void ref_want_raw(struct ref *r);
void refs_sending(struct job *j, int on);

/* engine_sched.c */
void heap_push(struct job *j, double due);
void heap_remove(struct job *j);
struct job *heap_due(double t);	/* the first job due by t, removed */
void ready_push(struct job *j, int front);
void ready_remove(struct job *j);
int over_budget(double price);
void budget_skip(struct job *j);
int budget_commit(struct job *j);	/* 0: over budget, j skipped */
void budget_release(struct job *j);
void window_success(void);
void window_429(void);
double sched_due(double due);	/* the next heap or token time before due */
void dispatch(void);
void sched_init(void);
void sched_fini(void);

/* engine_admit.c */
void admit(cJSON *rec);
void job_refs_done(struct job *j);
void provs_fini(void);

/* engine_job.c */
void job_finish(struct job *j);
void job_fail_status(struct job *j, const char *status, const char *code,
    int retryable, long http, const char *msg);
void job_cancel(struct job *j);
const struct se_stop *stop_for(const struct job *j);
void not_sent(struct job *j, const struct se_stop *s);
void attempt_start(struct job *j);
void step_build(struct job *j);
void job_answered(struct xfer *x, CURLcode cc);	/* frees x */
const char *store_abs(void);

#endif
