/* engine_job: a job's attempts (see engine_int.h): the provider's
 * steps, answers classified, retries after a backoff, the stop-early
 * hooks (lib/stopearly.c), success (outputs stored, cache entry) or
 * failure, and the one record written before the job is freed. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "commit.h"
#include "cost.h"
#include "err.h"
#include "record.h"
#include "result.h"
#include "stopearly.h"
#include "store.h"

#define MAX_RETRY_WAIT_MS (600 * 1000.0)

static void attempt_failed(struct job *j);

static struct {
	struct job *list;	/* every job in progress */
	long active;		/* how many */
} work;

void
jobs_add(struct job *j)
{
	j->prev = NULL;
	j->next = work.list;
	if (work.list)
		work.list->prev = j;
	work.list = j;
	work.active++;
}

struct job *
jobs_first(void)
{
	return work.list;
}

long
jobs_active(void)
{
	return work.active;
}

static void
job_unlink(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (work.list == j)
		work.list = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void
job_free(struct job *j)
{
	int i;

	for (i = 0; i < j->pj.nrefs; i++)
		ref_release(j->pj.refs[i], j, !j->prov->b64_refs);
	free(j->pj.refs);
	if (j->pj.state && j->prov && j->prov->release)
		j->prov->release(&j->pj);
	for (i = 0; i < j->pj.nout; i++) {
		free(j->pj.out[i].data);
		free(j->pj.out[i].mime);
	}
	free(j->pj.out);
	free(j->pj.request_id);
	cJSON_Delete(j->pj.usage);
	free(j->pj.fail.message);
	cJSON_Delete(j->rec);
	free(j);
}

#define ABANDON_TIMEOUT_MS 10000L

/* Send the request that stops what j leaves running at the provider (a
 * Replicate prediction); nobody waits for its answer but the exit. */
static void
abandon(struct job *j)
{
	struct xfer *x = xfer_new();

	if (j->prov->abandon(&j->pj, &x->rq) != PROV_SEND || !x->rq.url) {
		xfer_free(x);
		return;
	}
	x->tmo_ms = ABANDON_TIMEOUT_MS;
	http_detach(x);
}

/* The store as an absolute path, for the records' `store` (bg-report's
 * hints re-run them against it). */
const char *
store_abs(void)
{
	static char *abs;
	char *cwd;

	if (abs)
		return abs;
	if (!(abs = realpath(econf->root, NULL))) {
		cwd = getcwd(NULL, 0);
		abs = econf->root[0] == '/' || !cwd ? estrdup(econf->root) :
		    easprintf("%s/%s", cwd, econf->root);
		free(cwd);
	}
	return abs;
}

/* Write the record and forget the job. */
void
job_finish(struct job *j)
{
	const char *st = rec_status(j->rec);

	if (j->xf) {
		xfer_free(j->xf);
		j->xf = NULL;
		refs_sending(j, 0);
	}
	if (j->holds_slot && !j->prov->offline)
		sched_hold(0);
	j->holds_slot = 0;
	heap_remove(j);
	if (j->state == J_READY)
		ready_remove(j);
	if (strcmp(st, "succeeded"))
		budget_release(j);	/* no image came of it */
	stats_add(strcmp(st, "succeeded") ? STAT_FAILED : STAT_DONE);
	if (!strcmp(st, "canceled"))
		stats_add(STAT_CANCELED);
	if (strcmp(st, "succeeded") && j->pj.state && j->prov->abandon)
		abandon(j);
	if (j->staged)
		commit_line(loop_commit(), j->rec);
	else
		commit_write(loop_commit(), j->rec);
	job_unlink(j);
	job_free(j);
	work.active--;
}

static int
attempts_total(struct job *j)
{
	return j->prev_attempt + j->pj.attempt;
}

static void
set_attempt(struct job *j)
{
	rec_set_num(j->rec, "attempt", attempts_total(j));
}

/* Fail j with code (and the record's attempt counts). */
void
job_fail_status(struct job *j, const char *status, enum ec code,
    int retryable, long http, const char *msg)
{
	cJSON *e;

	set_attempt(j);
	e = rec_fail_status(j->rec, status, STAGE, code, retryable, "%s", msg);
	if (http > 0)
		cJSON_AddNumberToObject(e, "http_status", http);
	cJSON_AddNumberToObject(e, "attempts", j->pj.attempt);
	cJSON_DeleteItemFromObjectCaseSensitive(j->rec, "outputs");
	cJSON_DeleteItemFromObjectCaseSensitive(j->rec, "usage");
	rec_set_num(j->rec, "cost", 0);	/* no image, no charge */
	rec_set_str(j->rec, "store", store_abs());
	rec_set_bool(j->rec, "cached", 0);
	job_finish(j);
}

void
job_fail(struct job *j, enum ec code, const char *msg)
{
	job_fail_status(j, ec_tab[code].status, code, ec_retryable(code), 0,
	    msg);
}

void
job_cancel(struct job *j)
{
	job_fail(j, EC_CANCELED,
	    loop_signal() ? (loop_signal() == SIGINT ?
	    "interrupted (SIGINT)" :
	    "terminated (SIGTERM)") : "canceled");
}

/* ---- stop early (lib/stopearly.c) ---------------------------------- */

const struct se_stop *
stop_for(const struct job *j)
{
	return j->pj.conf && !j->prov->offline && !econf->no_stop_early ?
	    se_stopped(j->pj.conf, j->pj.model) : NULL;
}

/* Fail j, which will not be sent (again), for stop s. */
void
not_sent(struct job *j, const struct se_stop *s)
{
	char *msg = easprintf("not sent%s: %s %s: %s", j->pj.attempt ?
	    " again" : "", j->prov->name, ec_name(s->code), s->why);

	job_fail_status(j, "failed", s->code, s->retryable, 0, msg);
	free(msg);
}

/* A stop began: say so once, and fail the jobs waiting to retry. */
static void
stop_began(const struct se_stop *s)
{
	struct job *j, *next;

	if (!s || econf->no_stop_early)
		return;
	progress_break();
	warnx("%s", s->line);
	for (j = work.list; j; j = next) {
		next = j->next;
		if (j->state == J_BACKOFF && stop_for(j) == s) {
			heap_remove(j);
			not_sent(j, s);
		}
	}
}

/* The cache holds what a re-run needs to answer j without paying: the
 * same outputs and usage text as the record, printed once. */
static void
cache_put(struct job *j, double cost, const struct sbuf *outs,
    const struct sbuf *usage)
{
	static struct sbuf ce;
	const char *s;

	sb_reset(&ce);
	sb_adds(&ce, "{\"status\":\"succeeded\",\"attempt\":");
	nd_print_num(&ce, attempts_total(j));
	/* who paid, for bg-plan's note and for the curious */
	if ((s = rec_str(j->rec, "batch_id"))) {
		sb_adds(&ce, ",\"batch_id\":");
		nd_print_str(&ce, s);
	}
	if ((s = rec_str(j->rec, "job_id"))) {
		sb_adds(&ce, ",\"job_id\":");
		nd_print_str(&ce, s);
	}
	sb_adds(&ce, ",\"cost\":");
	nd_print_num(&ce, cost);
	sb_adds(&ce, ",\"outputs\":");
	sb_add(&ce, outs->s, outs->len);
	sb_adds(&ce, ",\"usage\":");
	sb_add(&ce, usage->s, usage->len);
	sb_addc(&ce, '}');
	commit_cache(loop_commit(), j->key, ce.s, ce.len);
}

static void
job_succeeded(struct job *j)
{
	static struct sbuf outs, usage;
	cJSON *o;
	char *why = NULL;
	double cost;

	sb_reset(&outs);
	/* durable with the group: j's line waits for it */
	if (result_store_outputs(econf->root, j->pj.out, j->pj.nout,
	    loop_commit(), &outs, &why) < 0) {
		prov_fail(&j->pj, EC_BAD_RESPONSE, 0, "%s", why);
		free(why);
		attempt_failed(j);
		return;
	}
	window_success();
	sb_reset(&usage);
	result_usage_text(&usage, j->pj.request_id, now_ms() - j->t_first,
	    NULL, NULL, j->pj.usage);
	/* the offline provider charges nothing, whatever the plan's price */
	cost = cost_charged(j->price, j->prov->offline ? 0 : j->pj.nout);
	cache_put(j, cost, &outs, &usage);
	set_attempt(j);
	rec_set_str(j->rec, "status", "succeeded");
	cJSON_DeleteItemFromObjectCaseSensitive(j->rec, "error");
	if (econf->inline_out) {
		if (!(o = cJSON_ParseWithLength(outs.s, outs.len)))
			die(EXIT_FATAL, "out of memory");
		result_inline_outputs(econf->root, o, j->pj.out, j->pj.nout);
	} else {
		o = cJSON_CreateRaw(outs.s);	/* printed as it is */
	}
	rec_set(j->rec, "outputs", o);
	rec_set(j->rec, "usage", cJSON_CreateRaw(usage.s));
	rec_set_num(j->rec, "cost", cost);
	rec_set_str(j->rec, "store", store_abs());
	rec_set_bool(j->rec, "cached", 0);
	j->staged = 1;
	job_finish(j);
}

/* ---- attempts -------------------------------------------------------- */

static void
reset_fail(struct job *j)
{
	free(j->pj.fail.message);
	memset(&j->pj.fail, 0, sizeof j->pj.fail);
	j->pj.fail.retry_after_ms = -1;
}

static void
release_slot(struct job *j)
{
	if (j->holds_slot && !j->prov->offline)
		sched_hold(0);
	j->holds_slot = 0;
}

static double
backoff_ms(struct job *j)
{
	double cap = econf->backoff_ms * pow(2, j->pj.attempt - 1);

	if (cap > econf->backoff_max_ms)
		cap = econf->backoff_max_ms;
	return g_random_double() * cap;	/* full jitter */
}

static void
attempt_failed(struct job *j)
{
	struct prov_fail *f = &j->pj.fail;
	double delay;

	release_slot(j);
	if (!f->code)
		prov_fail(&j->pj, EC_BAD_RESPONSE, 0, "provider failed");
	if (f->http_status == 429)
		window_429();
	if (f->retryable && loop_stopping()) {
		job_cancel(j);
		return;
	}
	if (!f->retryable)
		stop_began(se_fail(j->pj.conf, j->pj.model, f->code,
		    f->http_status, f->message));
	delay = f->retry_after_ms >= 0 ? f->retry_after_ms : backoff_ms(j);
	if (f->retryable && j->pj.attempt < econf->max_attempts &&
	    delay <= MAX_RETRY_WAIT_MS && !stop_for(j)) {
		j->state = J_BACKOFF;
		heap_push(j, now_ms() + delay);
		return;
	}
	job_fail_status(j, "failed", f->code, f->retryable, f->http_status,
	    f->message ? f->message : ec_name(f->code));
}

/* A provider request came back. */
void
job_answered(struct xfer *x, CURLcode cc)
{
	struct job *j = x->job;
	struct prov_resp rs = {0};
	char *ctype = NULL;
	int rc;

	j->xf = NULL;
	refs_sending(j, 0);
	reset_fail(j);
	/* the moving mean of request times, for coalesce() */
	http_note_latency(now_ms() - x->t0);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &rs.status);
	if (cc != CURLE_OK) {
		if (x->too_large)	/* the same again next time */
			prov_fail_retry(&j->pj, EC_BAD_RESPONSE, 0, rs.status,
			    "response larger than %zu bytes", x->max_resp);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			prov_fail(&j->pj, EC_TIMEOUT, 0, "%s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
		else if (cc == CURLE_PARTIAL_FILE ||
		    cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING)
			prov_fail(&j->pj, rs.status ? EC_BAD_RESPONSE :
			    EC_NETWORK, rs.status, "%s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
		else
			prov_fail(&j->pj, EC_NETWORK, 0, "%s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
		xfer_free(x);
		if (cc == CURLE_COULDNT_RESOLVE_HOST ||
		    cc == CURLE_COULDNT_RESOLVE_PROXY ||
		    cc == CURLE_COULDNT_CONNECT)
			stop_began(se_unreachable(j->pj.conf, j,
			    j->pj.fail.message));
		attempt_failed(j);
		return;
	}
	se_answered(j->pj.conf);
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ctype);
	rs.body = x->resp.s ? x->resp.s : "";
	rs.len = x->resp.len;
	rs.content_type = ctype;
	rs.request_id = x->req_id;
	rs.retry_after_ms = x->retry_after_ms;
	if (x->req_id && !j->pj.request_id)
		prov_set_request_id(&j->pj, x->req_id);
	if (rs.status >= 200 && rs.status <= 299) {
		rc = j->prov->parse(&j->pj, &rs);
	} else {
		if (j->prov->classify)
			j->prov->classify(&j->pj, &rs);
		else
			prov_classify_http(&j->pj, &rs, NULL);
		if (!j->pj.fail.code)
			prov_classify_http(&j->pj, &rs, NULL);
		rc = PROV_FAIL;
	}
	xfer_free(x);
	switch (rc) {
	case PROV_DONE:
		release_slot(j);
		job_succeeded(j);
		break;
	case PROV_NEXT:
		j->state = J_DELAY;
		heap_push(j, now_ms() + (j->pj.delay_ms > 0 ?
		    j->pj.delay_ms : 0));
		break;
	default:
		attempt_failed(j);
	}
}

/* Ask the provider for the job's next request and send it. */
void
step_build(struct job *j)
{
	struct xfer *x = xfer_new();
	int rc;

	reset_fail(j);
	j->pj.delay_ms = 0;
	x->job = j;
	rc = j->prov->build(&j->pj, &x->rq);
	if (rc == PROV_SEND && x->rq.url) {
		j->pj.step++;
		j->state = J_SEND;
		j->xf = x;
		refs_sending(j, 1);
		xfer_start(x);
		return;
	}
	xfer_free(x);
	if (rc == PROV_DONE) {
		release_slot(j);
		job_succeeded(j);
	} else if (rc == PROV_NEXT) {
		j->state = J_DELAY;
		heap_push(j, now_ms() + j->pj.delay_ms);
	} else {
		if (rc == PROV_SEND)
			prov_fail(&j->pj, EC_BAD_REQUEST, 0,
			    "provider built no request");
		attempt_failed(j);
	}
}


void
attempt_start(struct job *j)
{
	if (!budget_commit(j))
		return;
	if (!j->t_first)
		j->t_first = now_ms();
	/* what a failed attempt left behind is not this attempt's */
	for (int i = 0; i < j->pj.nout; i++) {
		free(j->pj.out[i].data);
		free(j->pj.out[i].mime);
	}
	j->pj.nout = 0;
	j->pj.attempt++;
	j->pj.step = 0;
	j->holds_slot = 1;
	if (!j->prov->offline)
		sched_hold(1);
	step_build(j);
}

