/* engine_sched: when bg-generate's jobs run (see engine_int.h): the
 * timer heap (backoffs, provider delays), the ready queue, the AIMD
 * concurrency window, the --rpm token bucket and the budget
 * (--max-images, --max-cost). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "err.h"
#include "stopearly.h"

static struct {
	struct job *rq_head, *rq_tail;	/* the ready queue */
	struct job **heap;	/* the timer heap, by due */
	int nheap, capheap;
	int inflight;		/* provider attempts holding a slot */
	double cwnd;		/* AIMD concurrency, <= jobs */
	int n429;
	double last_cut;
	double tokens, token_t;	/* --rpm */
	long committed_images;	/* the budget */
	double committed_cost;
	int more;		/* dispatch stopped for time */
} sched;

static void
heap_swap(int a, int b)
{
	struct job *t = sched.heap[a];

	sched.heap[a] = sched.heap[b];
	sched.heap[b] = t;
	sched.heap[a]->hidx = a;
	sched.heap[b]->hidx = b;
}

static void
heap_up(int i)
{
	while (i > 0 && sched.heap[(i - 1) / 2]->due > sched.heap[i]->due) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(int i)
{
	int l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < sched.nheap &&
		    sched.heap[l]->due < sched.heap[m]->due)
			m = l;
		if (l + 1 < sched.nheap && sched.heap[l +
		    1]->due < sched.heap[m]->due)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void
heap_push(struct job *j, double due)
{
	if (sched.nheap == sched.capheap) {
		sched.capheap = sched.capheap ? sched.capheap * 2 :
		    64;
		sched.heap = erealloc(sched.heap, sched.capheap *
		    sizeof *sched.heap);
	}
	j->due = due;
	j->hidx = sched.nheap;
	sched.heap[sched.nheap++] = j;
	heap_up(j->hidx);
}

void
heap_remove(struct job *j)
{
	int i = j->hidx;

	if (i < 0)
		return;
	j->hidx = -1;
	if (i == --sched.nheap)
		return;
	sched.heap[i] = sched.heap[sched.nheap];
	sched.heap[i]->hidx = i;
	heap_down(i);
	heap_up(sched.heap[i]->hidx);
}

/* The first job due by t, taken off the heap; NULL: none. */
struct job *
heap_due(double t)
{
	struct job *j;

	if (!sched.nheap || sched.heap[0]->due > t)
		return NULL;
	j = sched.heap[0];
	heap_remove(j);
	return j;
}

/* ---- the ready queue ------------------------------------------------- */

void
ready_push(struct job *j, int front)
{
	j->state = J_READY;
	j->qnext = NULL;
	if (!sched.rq_head) {
		sched.rq_head = sched.rq_tail = j;
	} else if (front) {
		j->qnext = sched.rq_head;
		sched.rq_head = j;
	} else {
		sched.rq_tail->qnext = j;
		sched.rq_tail = j;
	}
}

void
ready_remove(struct job *j)
{
	struct job **pp, *prev = NULL;

	for (pp = &sched.rq_head; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == j) {
			*pp = j->qnext;
			if (sched.rq_tail == j)
				sched.rq_tail = prev;
			return;
		}
}


int
over_budget(double price)
{
	if (econf->max_images >= 0 && sched.committed_images +
	    1 > econf->max_images)
		return 1;
	if (econf->max_cost >= 0 &&
	    sched.committed_cost + price > econf->max_cost + 1e-9)
		return 1;
	return 0;
}

void
budget_skip(struct job *j)
{
	char msg[128];

	if (econf->max_images >= 0 && sched.committed_images +
	    1 > econf->max_images)
		snprintf(msg, sizeof msg, "--max-images %ld reached",
		    econf->max_images);
	else
		snprintf(msg, sizeof msg, "--max-cost %.2f reached",
		    econf->max_cost);
	job_fail(j, EC_BUDGET, msg);
}


/* Start ready jobs while there are slots and rate tokens, for at most
 * LOOP_TURN_MS: building a request with big references (base64) takes
 * milliseconds, and the ones built are sent only when the loop turns
 * (curl's timer is then due, so it turns at once).  At the start of a
 * run of 1 MB references, the first request left after every slot's
 * body was built: half a second. */
void
dispatch(void)
{
	struct job *j;
	double t, t0 = now_ms();

	sched.more = 0;
	while ((j = sched.rq_head)) {
		if (now_ms() - t0 > LOOP_TURN_MS) {
			sched.more = 1;	/* the loop must not wait */
			return;
		}
		if (stop_for(j)) {
			not_sent(j, stop_for(j));
			continue;
		}
		if (!j->prov->offline) {
			if (sched.inflight >= (int)sched.cwnd)
				return;
			if (econf->rpm > 0) {
				t = now_ms();
				sched.tokens = fmin(1, sched.tokens +
				    (t - sched.token_t) *
				    econf->rpm / 60000);
				sched.token_t = t;
				if (sched.tokens < 1 - 1e-9)
					return;
				sched.tokens -= 1;
			}
		}
		sched.rq_head = j->qnext;
		if (!sched.rq_head)
			sched.rq_tail = NULL;
		j->qnext = NULL;
		j->state = J_SEND;
		attempt_start(j);
	}
}

/* j is about to be sent for the first time: count it against the budget.
 * 0: over budget, j was skipped (and its record written). */
int
budget_commit(struct job *j)
{
	if (j->committed)
		return 1;
	if (over_budget(j->price)) {
		budget_skip(j);
		return 0;
	}
	j->committed = 1;
	sched.committed_images++;
	sched.committed_cost += j->price;
	return 1;
}

/* No image came of j: give its budget back. */
void
budget_release(struct job *j)
{
	if (!j->committed)
		return;
	sched.committed_images--;
	sched.committed_cost -= j->price;
}

/* additive increase: about one more slot per window of successes */
void
window_success(void)
{
	sched.n429 = 0;
	if (sched.cwnd < econf->jobs)
		sched.cwnd = fmin(econf->jobs, sched.cwnd +
		    1 / sched.cwnd);
}

/* multiplicative decrease on 429, at most once a second */
void
window_429(void)
{
	if (++sched.n429 >= 2 && now_ms() - sched.last_cut > 1000) {
		sched.cwnd = fmax(1, sched.cwnd / 2);
		sched.last_cut = now_ms();
		sched.n429 = 0;
	}
}

/* The earliest of due, the first timer and the next --rpm token (when a
 * job waits for one with a slot free). */
double
sched_due(double due)
{
	double tk;

	if (sched.nheap && sched.heap[0]->due < due)
		due = sched.heap[0]->due;
	if (sched.rq_head && econf->rpm > 0 &&
	    sched.inflight < (int)sched.cwnd) {
		tk = sched.token_t + (1 - sched.tokens) *
		    60000 / econf->rpm;
		if (tk < due)
			due = tk;
	}
	return due;
}

/* dispatch stopped for time with jobs it could start */
int
sched_more(void)
{
	return sched.more;
}

int
sched_inflight(void)
{
	return sched.inflight;
}

void
sched_hold(int on)
{
	sched.inflight += on ? 1 : -1;
}

int
sched_queued(void)
{
	return sched.rq_head != NULL;
}

int
sched_timers(void)
{
	return sched.nheap;
}

void
sched_init(void)
{
	memset(&sched, 0, sizeof sched);
	sched.cwnd = econf->jobs;
	sched.tokens = 1;
	sched.token_t = now_ms();
}

void
sched_fini(void)
{
	free(sched.heap);
}
