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
 * Each part keeps its state in its own file (file-static) and the others
 * reach it only through the functions below; what they all read is the
 * run's options, econf. */
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
#define UPLOAD_TURNS 1		/* big bodies sent at once (engine_http.c) */
/* reference work (reading, encoding) one turn of the loop does while
 * requests are ready to go out */
#define LOOP_TURN_MS 5.0
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
	int busy;		/* counted in http_busy() */
	int up;			/* UP_*: its body's turn (engine_http.c) */
	double up_t;		/* last handed libcurl body bytes (ms) */
	struct xfer *upnext;	/* waiting for a turn */
	long tmo_ms;		/* 0: --timeout */
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

/* The run's options: set once by engine_run before any part starts,
 * read by all of them, written by none. */
extern const struct engine_conf *econf;

static inline double
now_ms(void)
{
	return util_now_ms();
}

/* engine.c */
enum { STAT_DONE, STAT_FAILED, STAT_CACHED, STAT_CANCELED, STAT_N };
void stats_add(int which);	/* count an outcome */
int loop_signal(void);		/* the signal that stops the run, or 0 */
int loop_stopping(void);	/* a signal came: no new attempts */
void progress_break(void);	/* end the progress line before a message */
struct commit *loop_commit(void);	/* the group commit (lib/commit.h) */

/* engine_http.c */
void http_init(int ep, long maxconnects);	/* ep: the loop's epoll set */
int http_busy(void);		/* transfers moving a big body */
int http_detached(void);	/* abandon requests still on the wire */
void http_detach(struct xfer *x);	/* start x, an abandon request */
double http_latency(void);	/* moving mean of a request's time (ms) */
void http_note_latency(double ms);
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
size_t refs_bytes(void);	/* image bytes of references held */
void refs_fini(void);
/* r for j, shared, loaded or loading (j->pending counts what it waits
 * for; job_refs_done runs when that reaches 0) */
struct ref *ref_get(const char *url, struct job *j);
void ref_release(struct ref *r, struct job *j, int raw);
enum ec ref_failed(struct ref *r, int *retryable, const char **msg);
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
int sched_inflight(void);	/* provider attempts holding a slot */
void sched_hold(int on);	/* an attempt takes (1) or frees (0) a slot */
int sched_queued(void);		/* jobs wait in the ready queue */
int sched_more(void);		/* dispatch left startable jobs (time) */
int sched_timers(void);		/* jobs wait for a timer */
void sched_fini(void);

/* engine_admit.c */
void admit(cJSON *rec);
void job_refs_done(struct job *j);
void provs_fini(void);

/* engine_job.c */
void jobs_add(struct job *j);	/* j is in progress */
struct job *jobs_first(void);	/* every job in progress, via ->next */
long jobs_active(void);
void job_finish(struct job *j);
void job_fail_status(struct job *j, const char *status, enum ec code,
    int retryable, long http, const char *msg);
/* job_fail_status with the code's status and retryable flag (its
 * defaults, lib/errcode.c). */
void job_fail(struct job *j, enum ec code, const char *msg);
void job_cancel(struct job *j);
const struct se_stop *stop_for(const struct job *j);
void not_sent(struct job *j, const struct se_stop *s);
void attempt_start(struct job *j);
void step_build(struct job *j);
void job_answered(struct xfer *x, CURLcode cc);	/* frees x */
const char *store_abs(void);

#endif
