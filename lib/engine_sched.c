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
	struct job *t = E.sched.heap[a];

	E.sched.heap[a] = E.sched.heap[b];
	E.sched.heap[b] = t;
	E.sched.heap[a]->hidx = a;
	E.sched.heap[b]->hidx = b;
}

static void
heap_up(int i)
{
	while (i > 0 && E.sched.heap[(i - 1) / 2]->due > E.sched.heap[i]->due) {
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
		if (l < E.sched.nheap && E.sched.heap[l]->due < E.sched.heap[m]->due)
			m = l;
		if (l + 1 < E.sched.nheap && E.sched.heap[l + 1]->due < E.sched.heap[m]->due)
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
	if (E.sched.nheap == E.sched.capheap) {
		E.sched.capheap = E.sched.capheap ? E.sched.capheap * 2 : 64;
		E.sched.heap = erealloc(E.sched.heap, E.sched.capheap * sizeof *E.sched.heap);
	}
	j->due = due;
	j->hidx = E.sched.nheap;
	E.sched.heap[E.sched.nheap++] = j;
	heap_up(j->hidx);
}

void
heap_remove(struct job *j)
{
	int i = j->hidx;

	if (i < 0)
		return;
	j->hidx = -1;
	if (i == --E.sched.nheap)
		return;
	E.sched.heap[i] = E.sched.heap[E.sched.nheap];
	E.sched.heap[i]->hidx = i;
	heap_down(i);
	heap_up(E.sched.heap[i]->hidx);
}

/* The first job due by t, taken off the heap; NULL: none. */
struct job *
heap_due(double t)
{
	struct job *j;

	if (!E.sched.nheap || E.sched.heap[0]->due > t)
		return NULL;
	j = E.sched.heap[0];
	heap_remove(j);
	return j;
}

/* ---- the ready queue ------------------------------------------------- */

void
ready_push(struct job *j, int front)
{
	j->state = J_READY;
	j->qnext = NULL;
	if (!E.sched.rq_head) {
		E.sched.rq_head = E.sched.rq_tail = j;
	} else if (front) {
		j->qnext = E.sched.rq_head;
		E.sched.rq_head = j;
	} else {
		E.sched.rq_tail->qnext = j;
		E.sched.rq_tail = j;
	}
}

void
ready_remove(struct job *j)
{
	struct job **pp, *prev = NULL;

	for (pp = &E.sched.rq_head; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == j) {
			*pp = j->qnext;
			if (E.sched.rq_tail == j)
				E.sched.rq_tail = prev;
			return;
		}
}


int
over_budget(double price)
{
	if (E.c->max_images >= 0 && E.sched.committed_images + 1 > E.c->max_images)
		return 1;
	if (E.c->max_cost >= 0 &&
	    E.sched.committed_cost + price > E.c->max_cost + 1e-9)
		return 1;
	return 0;
}

void
budget_skip(struct job *j)
{
	char msg[128];

	if (E.c->max_images >= 0 && E.sched.committed_images + 1 > E.c->max_images)
		snprintf(msg, sizeof msg, "--max-images %ld reached",
		    E.c->max_images);
	else
		snprintf(msg, sizeof msg, "--max-cost %.2f reached",
		    E.c->max_cost);
	job_fail_status(j, "skipped", "budget", 1, 0, msg);
}


/* Start ready jobs while there are slots and rate tokens. */
void
dispatch(void)
{
	struct job *j;
	double t;

	while ((j = E.sched.rq_head)) {
		if (stop_for(j)) {
			not_sent(j, stop_for(j));
			continue;
		}
		if (!j->prov->offline) {
			if (E.sched.inflight >= (int)E.sched.cwnd)
				return;
			if (E.c->rpm > 0) {
				t = now_ms();
				E.sched.tokens = fmin(1, E.sched.tokens + (t - E.sched.token_t) *
				    E.c->rpm / 60000);
				E.sched.token_t = t;
				if (E.sched.tokens < 1 - 1e-9)
					return;
				E.sched.tokens -= 1;
			}
		}
		E.sched.rq_head = j->qnext;
		if (!E.sched.rq_head)
			E.sched.rq_tail = NULL;
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
	E.sched.committed_images++;
	E.sched.committed_cost += j->price;
	return 1;
}

/* No image came of j: give its budget back. */
void
budget_release(struct job *j)
{
	if (!j->committed)
		return;
	E.sched.committed_images--;
	E.sched.committed_cost -= j->price;
}

/* additive increase: about one more slot per window of successes */
void
window_success(void)
{
	E.sched.n429 = 0;
	if (E.sched.cwnd < E.c->jobs)
		E.sched.cwnd = fmin(E.c->jobs, E.sched.cwnd + 1 / E.sched.cwnd);
}

/* multiplicative decrease on 429, at most once a second */
void
window_429(void)
{
	if (++E.sched.n429 >= 2 && now_ms() - E.sched.last_cut > 1000) {
		E.sched.cwnd = fmax(1, E.sched.cwnd / 2);
		E.sched.last_cut = now_ms();
		E.sched.n429 = 0;
	}
}

/* The earliest of due, the first timer and the next --rpm token (when a
 * job waits for one with a slot free). */
double
sched_due(double due)
{
	double tk;

	if (E.sched.nheap && E.sched.heap[0]->due < due)
		due = E.sched.heap[0]->due;
	if (E.sched.rq_head && E.c->rpm > 0 &&
	    E.sched.inflight < (int)E.sched.cwnd) {
		tk = E.sched.token_t + (1 - E.sched.tokens) * 60000 / E.c->rpm;
		if (tk < due)
			due = tk;
	}
	return due;
}

void
sched_init(void)
{
	E.sched.cwnd = E.c->jobs;
	E.sched.tokens = 1;
	E.sched.token_t = now_ms();
}

void
sched_fini(void)
{
	free(E.sched.heap);
}
