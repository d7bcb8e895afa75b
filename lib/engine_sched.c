/* engine_sched: when bg-generate's jobs run (see engine_int.h): the
 * timer heap (backoffs, provider delays), the ready queue, the AIMD
 * concurrency window, the --rpm token bucket and the budget
 * (--max-images, --max-cost). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine_int.h"
#include "err.h"
#include "stopearly.h"


static void
heap_swap(int a, int b)
{
	struct job *t = eng.sched.heap[a];

	eng.sched.heap[a] = eng.sched.heap[b];
	eng.sched.heap[b] = t;
	eng.sched.heap[a]->hidx = a;
	eng.sched.heap[b]->hidx = b;
}

static void
heap_up(int i)
{
	while (i > 0 && eng.sched.heap[(i -
	    1) / 2]->due > eng.sched.heap[i]->due) {
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
		if (l < eng.sched.nheap &&
		    eng.sched.heap[l]->due < eng.sched.heap[m]->due)
			m = l;
		if (l + 1 < eng.sched.nheap && eng.sched.heap[l +
		    1]->due < eng.sched.heap[m]->due)
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
	if (eng.sched.nheap == eng.sched.capheap) {
		eng.sched.capheap = eng.sched.capheap ? eng.sched.capheap * 2 :
		    64;
		eng.sched.heap = erealloc(eng.sched.heap, eng.sched.capheap *
		    sizeof *eng.sched.heap);
	}
	j->due = due;
	j->hidx = eng.sched.nheap;
	eng.sched.heap[eng.sched.nheap++] = j;
	heap_up(j->hidx);
}

void
heap_remove(struct job *j)
{
	int i = j->hidx;

	if (i < 0)
		return;
	j->hidx = -1;
	if (i == --eng.sched.nheap)
		return;
	eng.sched.heap[i] = eng.sched.heap[eng.sched.nheap];
	eng.sched.heap[i]->hidx = i;
	heap_down(i);
	heap_up(eng.sched.heap[i]->hidx);
}

/* The first job due by t, taken off the heap; NULL: none. */
struct job *
heap_due(double t)
{
	struct job *j;

	if (!eng.sched.nheap || eng.sched.heap[0]->due > t)
		return NULL;
	j = eng.sched.heap[0];
	heap_remove(j);
	return j;
}

/* ---- the ready queue ------------------------------------------------- */

void
ready_push(struct job *j, int front)
{
	j->state = J_READY;
	j->qnext = NULL;
	if (!eng.sched.rq_head) {
		eng.sched.rq_head = eng.sched.rq_tail = j;
	} else if (front) {
		j->qnext = eng.sched.rq_head;
		eng.sched.rq_head = j;
	} else {
		eng.sched.rq_tail->qnext = j;
		eng.sched.rq_tail = j;
	}
}

void
ready_remove(struct job *j)
{
	struct job **pp, *prev = NULL;

	for (pp = &eng.sched.rq_head; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == j) {
			*pp = j->qnext;
			if (eng.sched.rq_tail == j)
				eng.sched.rq_tail = prev;
			return;
		}
}


int
over_budget(double price)
{
	if (eng.c->max_images >= 0 && eng.sched.committed_images +
	    1 > eng.c->max_images)
		return 1;
	if (eng.c->max_cost >= 0 &&
	    eng.sched.committed_cost + price > eng.c->max_cost + 1e-9)
		return 1;
	return 0;
}

void
budget_skip(struct job *j)
{
	char msg[128];

	if (eng.c->max_images >= 0 && eng.sched.committed_images +
	    1 > eng.c->max_images)
		snprintf(msg, sizeof msg, "--max-images %ld reached",
		    eng.c->max_images);
	else
		snprintf(msg, sizeof msg, "--max-cost %.2f reached",
		    eng.c->max_cost);
	job_fail(j, EC_BUDGET, msg);
}


/* Start ready jobs while there are slots and rate tokens. */
void
dispatch(void)
{
	struct job *j;
	double t;

	while ((j = eng.sched.rq_head)) {
		if (stop_for(j)) {
			not_sent(j, stop_for(j));
			continue;
		}
		if (!j->prov->offline) {
			if (eng.sched.inflight >= (int)eng.sched.cwnd)
				return;
			if (eng.c->rpm > 0) {
				t = now_ms();
				eng.sched.tokens = fmin(1, eng.sched.tokens +
				    (t - eng.sched.token_t) *
				    eng.c->rpm / 60000);
				eng.sched.token_t = t;
				if (eng.sched.tokens < 1 - 1e-9)
					return;
				eng.sched.tokens -= 1;
			}
		}
		eng.sched.rq_head = j->qnext;
		if (!eng.sched.rq_head)
			eng.sched.rq_tail = NULL;
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
	eng.sched.committed_images++;
	eng.sched.committed_cost += j->price;
	return 1;
}

/* No image came of j: give its budget back. */
void
budget_release(struct job *j)
{
	if (!j->committed)
		return;
	eng.sched.committed_images--;
	eng.sched.committed_cost -= j->price;
}

/* additive increase: about one more slot per window of successes */
void
window_success(void)
{
	eng.sched.n429 = 0;
	if (eng.sched.cwnd < eng.c->jobs)
		eng.sched.cwnd = fmin(eng.c->jobs, eng.sched.cwnd +
		    1 / eng.sched.cwnd);
}

/* multiplicative decrease on 429, at most once a second */
void
window_429(void)
{
	if (++eng.sched.n429 >= 2 && now_ms() - eng.sched.last_cut > 1000) {
		eng.sched.cwnd = fmax(1, eng.sched.cwnd / 2);
		eng.sched.last_cut = now_ms();
		eng.sched.n429 = 0;
	}
}

/* The earliest of due, the first timer and the next --rpm token (when a
 * job waits for one with a slot free). */
double
sched_due(double due)
{
	double tk;

	if (eng.sched.nheap && eng.sched.heap[0]->due < due)
		due = eng.sched.heap[0]->due;
	if (eng.sched.rq_head && eng.c->rpm > 0 &&
	    eng.sched.inflight < (int)eng.sched.cwnd) {
		tk = eng.sched.token_t + (1 - eng.sched.tokens) *
		    60000 / eng.c->rpm;
		if (tk < due)
			due = tk;
	}
	return due;
}

void
sched_init(void)
{
	eng.sched.cwnd = eng.c->jobs;
	eng.sched.tokens = 1;
	eng.sched.token_t = now_ms();
}

void
sched_fini(void)
{
	free(eng.sched.heap);
}
