/* engine: the libcurl multi loop of bg-generate (see engine.h).
 *
 * Shape (after curl's ephiperfifo example): one epoll set holds curl's
 * sockets (socket callback), stdin (EPOLLONESHOT, armed only when a slot is
 * free and the reader has no whole line) and a signalfd; curl's timer
 * callback and our own timers (backoff, provider delays, rate tokens,
 * progress, grace) decide epoll_wait's timeout.
 *
 * A job's life: admit (pass-through, validation, cache) -> its reference
 * images (shared struct ref, fetched once) -> the ready queue -> an attempt
 * (a slot, an --rpm token, the budget) -> provider steps -> success, retry
 * after a backoff, or a final failure -> one record written, job freed. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include "cost.h"
#include "engine.h"
#include "err.h"
#include "image.h"
#include "models.h"
#include "ndjson.h"
#include "provider.h"
#include "record.h"
#include "reqkey.h"
#include "stopearly.h"
#include "result.h"
#include "store.h"
#include "util.h"

#define STAGE "generate"
#define MAX_REFS 16		/* images per job (product + extra) */
#define IDLE_REFS 8		/* unused references kept in memory */
#define REF_SOFT ((size_t)32 << 20)	/* reference bytes before reading
					 * ahead stops */
#define MAX_RESPONSE ((size_t)512 << 20)
#define MAX_RETRY_WAIT_MS (600 * 1000.0)
#define PROGRESS_MS 500
#define FLAT_MAX (16 * 1024)	/* bodies copied into one buffer */
#define READ_BATCH 256		/* input lines per turn of the loop */
#define BIG_BODY (64 * 1024)	/* bodies that take several turns */

enum { R_LOADING, R_READY, R_FAILED };
enum { J_REFS, J_READY, J_SEND, J_DELAY, J_BACKOFF };

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
	double price;
	double t_first;		/* first attempt started (ms) */
	double due;		/* timer heap */
	int hidx;
	struct xfer *xf;
	struct job *qnext;	/* ready queue */
	struct job *prev, *next;	/* every job in progress */
};

struct xfer {
	CURL *h;
	struct job *job;	/* a provider request, or */
	struct ref *ref;	/* a reference image download */
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
	int busy;		/* counted in E.busy */
	long tmo_ms;		/* 0: --timeout */
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

static struct {
	const struct engine_conf *c;
	struct nd_reader *rd;
	CURLM *multi;
	int ep, sigfd;
	double curl_due;	/* < 0: none */
	/* input */
	int in_eof, in_wait, in_armed, in_fd;
	int in_more;		/* read_input stopped early: call it again */
	long max_active, active;
	long badlines;
	/* queues */
	struct job *rq_head, *rq_tail;
	struct job **heap;
	int nheap, capheap;
	struct job *jobs;
	struct xfer *xfers;
	int inflight;		/* provider attempts holding a slot */
	double cwnd;		/* AIMD concurrency, <= jobs */
	int n429;
	double last_cut;
	double tokens, token_t;
	/* budget */
	long committed_images;
	double committed_cost;
	/* signals */
	int stopping, signo;
	double grace_due;
	/* references */
	GHashTable *refs;
	struct ref *idle_head, *idle_tail;
	int nidle;
	size_t ref_bytes;	/* image bytes of references held */
	/* providers */
	struct prov_conf pconf[8];
	int npconf;
	/* sockets */
	struct sockstate *socks;
	int nsocks;
	/* easy handles */
	CURL **pool;
	int npool, cappool;
	/* progress */
	long n_done, n_failed, n_cached, n_canceled;
	int detached;		/* abandon requests on the wire */
	double t_start, progress_due;
	int progress_on;
	double lat_ms;		/* moving mean of a request's time */
	int busy;		/* transfers moving a big body */
} E;

static void job_finish(struct job *j);
static void job_refs_done(struct job *j);
static void attempt_failed(struct job *j);
static void step_build(struct job *j);

/* ---- small things ---------------------------------------------------- */

static double
now_ms(void)
{
	return util_now_ms();
}

/* A URL as it may appear in messages: no query or fragment (signed URLs
 * carry their secret there), no user:password. */
static char *
redact_url(const char *u)
{
	const char *at, *slash, *p = strstr(u, "://");
	struct sbuf b = {0};
	size_t n = strcspn(u, "?#");

	if (p && (at = memchr(p + 3, '@', n - (p + 3 - u))) &&
	    (!(slash = memchr(p + 3, '/', n - (p + 3 - u))) || at < slash)) {
		sb_add(&b, u, p + 3 - u);
		sb_add(&b, at + 1, n - (at + 1 - u));
	} else {
		sb_add(&b, u, n);
	}
	if (u[n])
		sb_adds(&b, "?...");
	if (!b.s)
		return estrdup("");
	return b.s;
}

static CURL *
easy_get(void)
{
	CURL *h;

	if (E.npool > 0)
		return E.pool[--E.npool];
	if (!(h = curl_easy_init()))
		die(EXIT_FATAL, "curl_easy_init failed");
	return h;
}

static void
easy_put(CURL *h)
{
	if (!h)
		return;
	curl_easy_reset(h);
	if (E.npool == E.cappool) {
		E.cappool = E.cappool ? E.cappool * 2 : 64;
		E.pool = erealloc(E.pool, E.cappool * sizeof *E.pool);
	}
	E.pool[E.npool++] = h;
}

/* ---- providers ------------------------------------------------------- */

/* The run's state for provider p, started on first use; NULL + *err. */
static struct prov_conf *
conf_for(const struct provider *p, char **err)
{
	struct prov_conf *c;
	int i;

	for (i = 0; i < E.npconf; i++)
		if (E.pconf[i].p == p) {
			if (!E.pconf[i].ready)
				*err = estrdup(E.pconf[i].err);
			return E.pconf[i].ready ? &E.pconf[i] : NULL;
		}
	if (E.npconf == (int)(sizeof E.pconf / sizeof *E.pconf))
		die(EXIT_FATAL, "too many providers");
	c = &E.pconf[E.npconf++];
	memset(c, 0, sizeof *c);
	c->p = p;
	if (p->init(c, E.c->base_url, err) == 0)
		c->ready = 1;
	else
		c->err = estrdup(*err ? *err : "provider unavailable");
	return c->ready ? c : NULL;
}

int
engine_check_provider(const struct engine_conf *c, char **err)
{
	const struct provider *p = prov_find(c->provider);
	struct prov_conf pc;
	int rc;

	if (!p) {
		*err = easprintf("unknown provider %s (known: %s)",
		    c->provider, prov_names());
		return -1;
	}
	memset(&pc, 0, sizeof pc);
	pc.p = p;
	rc = p->init(&pc, c->base_url, err);
	if (rc == 0 && p->fini)
		p->fini(&pc);
	free(pc.base_url);
	return rc;
}

/* ---- timers ---------------------------------------------------------- */

static void
heap_swap(int a, int b)
{
	struct job *t = E.heap[a];

	E.heap[a] = E.heap[b];
	E.heap[b] = t;
	E.heap[a]->hidx = a;
	E.heap[b]->hidx = b;
}

static void
heap_up(int i)
{
	while (i > 0 && E.heap[(i - 1) / 2]->due > E.heap[i]->due) {
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
		if (l < E.nheap && E.heap[l]->due < E.heap[m]->due)
			m = l;
		if (l + 1 < E.nheap && E.heap[l + 1]->due < E.heap[m]->due)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void
heap_push(struct job *j, double due)
{
	if (E.nheap == E.capheap) {
		E.capheap = E.capheap ? E.capheap * 2 : 64;
		E.heap = erealloc(E.heap, E.capheap * sizeof *E.heap);
	}
	j->due = due;
	j->hidx = E.nheap;
	E.heap[E.nheap++] = j;
	heap_up(j->hidx);
}

static void
heap_remove(struct job *j)
{
	int i = j->hidx;

	if (i < 0)
		return;
	j->hidx = -1;
	if (i == --E.nheap)
		return;
	E.heap[i] = E.heap[E.nheap];
	E.heap[i]->hidx = i;
	heap_down(i);
	heap_up(E.heap[i]->hidx);
}

/* ---- the ready queue ------------------------------------------------- */

static void
ready_push(struct job *j, int front)
{
	j->state = J_READY;
	j->qnext = NULL;
	if (!E.rq_head) {
		E.rq_head = E.rq_tail = j;
	} else if (front) {
		j->qnext = E.rq_head;
		E.rq_head = j;
	} else {
		E.rq_tail->qnext = j;
		E.rq_tail = j;
	}
}

static void
ready_remove(struct job *j)
{
	struct job **pp, *prev = NULL;

	for (pp = &E.rq_head; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == j) {
			*pp = j->qnext;
			if (E.rq_tail == j)
				E.rq_tail = prev;
			return;
		}
}

/* ---- curl plumbing --------------------------------------------------- */

/* What epoll watches for each socket libcurl opened (through open_cb).
 * A connection that goes back to libcurl's pool stays in the epoll set
 * (on = 0): the next request on it usually wants the same events, so
 * reusing a connection costs no epoll_ctl instead of a DEL and an ADD.
 * close_cb forgets the socket (closing it leaves the set by itself); an
 * event on an idle one takes it out of the set. */
struct sockstate {
	unsigned ours : 1;	/* opened through open_cb */
	unsigned in_set : 1;	/* registered with epoll */
	unsigned on : 1;	/* libcurl wants events on it */
	uint32_t ev;		/* events registered */
};

static struct sockstate *
sock_state(curl_socket_t s, int grow)
{
	int n;

	if (s < 0)
		return NULL;
	if (s >= E.nsocks) {
		if (!grow)
			return NULL;
		n = E.nsocks ? E.nsocks : 256;
		while (n <= s)
			n *= 2;
		E.socks = erealloc(E.socks, n * sizeof *E.socks);
		memset(E.socks + E.nsocks, 0,
		    (n - E.nsocks) * sizeof *E.socks);
		E.nsocks = n;
	}
	return &E.socks[s];
}

static curl_socket_t
open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC,
	    a->protocol);
	struct sockstate *st;

	if (s >= 0) {
		st = sock_state(s, 1);
		memset(st, 0, sizeof *st);
		st->ours = 1;
	}
	return s;
}

static int
close_cb(void *arg, curl_socket_t s)
{
	struct sockstate *st = sock_state(s, 0);

	if (st)
		memset(st, 0, sizeof *st);
	return close(s);
}

static void
sock_unset(curl_socket_t s, struct sockstate *st)
{
	epoll_ctl(E.ep, EPOLL_CTL_DEL, s, NULL);
	if (st) {
		st->in_set = 0;
		st->ev = 0;
	}
}

static int
sock_cb(CURL *h, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct sockstate *st = sock_state(s, 0);
	struct epoll_event ev = {0};

	if (st && !st->ours)
		st = NULL;
	if (what == CURL_POLL_REMOVE) {
		if (st)
			st->on = 0;	/* stays in the set (see above) */
		else {
			sock_unset(s, NULL);
			curl_multi_assign(E.multi, s, NULL);
		}
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (st) {
		st->on = 1;
		if (st->in_set && st->ev == ev.events)
			return 0;
	}
	/* a socket not ours (a resolver's) is added, or modified if the
	 * set already has it */
	if ((st && st->in_set) || (!st && sockp)) {
		if (epoll_ctl(E.ep, EPOLL_CTL_MOD, s, &ev) < 0)
			die(EXIT_FATAL, "epoll_ctl:");
	} else if (epoll_ctl(E.ep, EPOLL_CTL_ADD, s, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(E.ep, EPOLL_CTL_MOD, s, &ev) < 0)) {
		die(EXIT_FATAL, "epoll_ctl:");
	}
	if (st) {
		st->in_set = 1;
		st->ev = ev.events;
	} else {
		curl_multi_assign(E.multi, s, &E);
	}
	return 0;
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	E.curl_due = ms < 0 ? -1 : now_ms() + ms;
	return 0;
}

/* x starts (on = 1) or stops moving a big body, which coalesce() must
 * not slow down. */
static void
xfer_busy(struct xfer *x, int on)
{
	if (on && !x->busy)
		E.busy++;
	else if (!on && x->busy)
		E.busy--;
	x->busy = on;
}

static size_t
write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= sz;
	if (x->resp.len + n > x->max_resp) {
		x->too_large = 1;
		return 0;
	}
	if (!x->resp.cap) {
		/* the announced size at once (a 2 MB answer was a dozen
		 * reallocs from 256 bytes up), within reason */
		curl_off_t cl = -1;

		if (curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &cl) == CURLE_OK && cl > 0 && (size_t)cl < x->max_resp &&
		    cl <= (64 << 20)) {
			x->resp.s = emalloc((size_t)cl + 1);
			x->resp.cap = (size_t)cl + 1;
		}
	}
	/* sb_add grows geometrically: a 10 MB answer is few reallocs */
	sb_add(&x->resp, p, n);
	if (x->resp.len >= BIG_BODY)
		xfer_busy(x, 1);	/* until the end */
	return n;
}

static size_t
header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n, k;
	char *v;

	if (len > 12 && !strncasecmp(p, "HTTP/", 5)) {
		x->retry_after_ms = -1;	/* a new response (redirect, 100) */
		return len;
	}
	for (k = 0; k < len && p[k] != ':'; k++)
		;
	if (k == len || (k != 11 && k != 12 && k != 14 && k != 17))
		return len;	/* not one we read: no copy */
	v = estrndup(p + k + 1, len - k - 1);
	g_strstrip(v);
	if (k == 14 && !strncasecmp(p, "retry-after-ms", 14)) {
		double d = strtod(v, NULL);

		if (d >= 0 && isfinite(d))
			x->retry_after_ms = d;
	} else if (k == 11 && !strncasecmp(p, "retry-after", 11)) {
		if (x->retry_after_ms < 0)
			x->retry_after_ms = prov_retry_after(v);
	} else if ((k == 12 && !strncasecmp(p, "x-request-id", 12)) ||
	    (k == 17 && !strncasecmp(p, "x-goog-request-id", 17))) {
		free(x->req_id);
		x->req_id = v;
		return len;
	}
	free(v);
	return len;
}

/* The upload body: the request's segments in order, without copying. */
static size_t
read_cb(char *buf, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct prov_req *rq = &x->rq;
	size_t room = sz * n, got = 0, k;

	while (room > 0 && x->seg < rq->nseg) {
		struct prov_body_seg *s = &rq->seg[x->seg];
		const char *base = s->p ? s->p : rq->own.s + s->off;

		k = s->len - x->segoff;
		if (k > room)
			k = room;
		memcpy(buf + got, base + x->segoff, k);
		got += k;
		room -= k;
		x->segoff += k;
		if (x->segoff == s->len) {
			x->seg++;
			x->segoff = 0;
		}
	}
	if (x->seg == rq->nseg)
		xfer_busy(x, 0);	/* all of it handed over */
	return got;
}

/* Rewinding (a reused connection turned out dead, a redirect). */
static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;
	int i;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	for (i = 0; i < x->rq.nseg; i++) {
		if ((size_t)off < x->rq.seg[i].len)
			break;
		off -= x->rq.seg[i].len;
	}
	x->seg = i;
	x->segoff = i < x->rq.nseg ? (size_t)off : 0;
	xfer_busy(x, x->seg < x->rq.nseg);
	return off > 0 && i == x->rq.nseg ? CURL_SEEKFUNC_FAIL :
	    CURL_SEEKFUNC_OK;
}

static struct xfer *
xfer_new(void)
{
	struct xfer *x = ecalloc(1, sizeof *x);

	x->h = easy_get();
	x->retry_after_ms = -1;
	x->max_resp = MAX_RESPONSE;
	prov_req_init(&x->rq, x->h);
	return x;
}

static void
xfer_start(struct xfer *x)
{
	CURL *h = x->h;
	long tmo = x->tmo_ms ? x->tmo_ms : (long)E.c->timeout_ms;

	curl_easy_setopt(h, CURLOPT_URL, x->rq.url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)E.c->connect_timeout_ms);
	/* wait for a multiplexed HTTP/2 connection rather than open more;
	 * plain http:// never multiplexes, waiting would cost a round trip */
	if (!strncasecmp(x->rq.url, "https:", 6))
		curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, (long)x->rq.fresh);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "batchgen/" BG_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	if (x->rq.max_response)
		x->max_resp = x->rq.max_response;
	if (x->ref) {
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)E.c->max_image_bytes);
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	}
	/* no "Expect: 100-continue" round trip before big bodies */
	x->rq.headers = curl_slist_append(x->rq.headers, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->rq.headers);
	if (x->rq.mime) {
		xfer_busy(x, 1);	/* no way to see its end: all along */
		curl_easy_setopt(h, CURLOPT_MIMEPOST, x->rq.mime);
	} else if (x->rq.has_body && prov_body_len(&x->rq) <= FLAT_MAX) {
		/* small: one buffer lets headers and body go in one send */
		size_t n = 0, len = prov_body_len(&x->rq);
		int i;

		x->flat = emalloc(len + 1);
		for (i = 0; i < x->rq.nseg; i++) {
			struct prov_body_seg *sg = &x->rq.seg[i];

			memcpy(x->flat + n, sg->p ? sg->p : x->rq.own.s + sg->off,
			    sg->len);
			n += sg->len;
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->flat);
	} else if (x->rq.has_body) {
		xfer_busy(x, 1);	/* until read_cb has given it all */
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)prov_body_len(&x->rq));
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
	}
	if (x->rq.method && strcmp(x->rq.method, "GET") &&
	    strcmp(x->rq.method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->rq.method);
	else if (x->rq.method && !strcmp(x->rq.method, "POST") &&
	    !x->rq.has_body && !x->rq.mime) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	x->next = E.xfers;
	x->prev = NULL;
	if (E.xfers)
		E.xfers->prev = x;
	E.xfers = x;
	x->t0 = now_ms();
	if (curl_multi_add_handle(E.multi, h) != CURLM_OK)
		die(EXIT_FATAL, "curl_multi_add_handle failed");
}

static void
xfer_free(struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else if (E.xfers == x)
		E.xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	xfer_busy(x, 0);
	curl_multi_remove_handle(E.multi, x->h);
	prov_req_free(&x->rq);
	easy_put(x->h);
	sb_free(&x->resp);
	free(x->flat);
	free(x->req_id);
	free(x);
}

/* ---- reference images ------------------------------------------------ */

/* Memory held for r's image: the bytes, or the base64 when it is the
 * only copy (E.ref_bytes is the sum). */
static size_t
ref_mem(const struct ref *r)
{
	return r->data ? r->len : r->b64 ? r->b64len : 0;
}

static void
ref_free(struct ref *r)
{
	E.ref_bytes -= ref_mem(r);
	free(r->url);
	free(r->data);
	free(r->b64);
	free(r->obj);
	free(r->fail_code);
	free(r->fail_msg);
	free(r->waiters);
	free(r);
}

static void
idle_unlink(struct ref *r)
{
	if (!r->idle)
		return;
	if (r->idle_prev)
		r->idle_prev->idle_next = r->idle_next;
	else
		E.idle_head = r->idle_next;
	if (r->idle_next)
		r->idle_next->idle_prev = r->idle_prev;
	else
		E.idle_tail = r->idle_prev;
	r->idle = 0;
	r->idle_next = r->idle_prev = NULL;
	E.nidle--;
}

static void
ref_put(struct ref *r)
{
	if (--r->refs > 0)
		return;
	if (r->state == R_LOADING)
		return;		/* its download ends it (see ref_loaded) */
	if (r->state == R_FAILED) {
		g_hash_table_remove(E.refs, r->url);
		ref_free(r);
		return;
	}
	/* keep a few unused ones: the next variation likely wants them */
	r->idle = 1;
	r->idle_prev = E.idle_tail;
	r->idle_next = NULL;
	if (E.idle_tail)
		E.idle_tail->idle_next = r;
	else
		E.idle_head = r;
	E.idle_tail = r;
	E.nidle++;
	while (E.nidle > IDLE_REFS || (E.nidle && E.ref_bytes > REF_SOFT)) {
		struct ref *o = E.idle_head;

		idle_unlink(o);
		g_hash_table_remove(E.refs, o->url);
		ref_free(o);
	}
}

static void
ref_unwait(struct ref *r, struct job *j)
{
	int i;

	for (i = 0; i < r->nwait; i++)
		if (r->waiters[i] == j) {
			r->waiters[i] = r->waiters[--r->nwait];
			return;
		}
}

/* The reference finished loading: wake every job waiting for it. */
static void
ref_loaded(struct ref *r)
{
	struct job **w = r->waiters;
	int i, n = r->nwait;

	r->waiters = NULL;
	r->nwait = r->capwait = 0;
	r->refs++;	/* hold it while the waiters run */
	for (i = 0; i < n; i++)
		if (--w[i]->pending == 0)
			job_refs_done(w[i]);
	free(w);
	ref_put(r);
}

static void
ref_fail(struct ref *r, const char *code, int retryable, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
ref_fail(struct ref *r, const char *code, int retryable, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		die(EXIT_FATAL, "out of memory");
	va_end(ap);
	r->state = R_FAILED;
	r->fail_code = estrdup(code);
	r->fail_msg = m;
	r->fail_retryable = retryable;
}

/* A reference over --max-image-bytes: the message names the option to
 * raise, in MB as people think of image sizes. */
static void
ref_too_large(struct ref *r, const char *u)
{
	ref_fail(r, "image_too_large", 0, "%s: larger than %.4g MB "
	    "(--max-image-bytes %zu): shrink the image or raise "
	    "--max-image-bytes", u, E.c->max_image_bytes / 1048576.0,
	    E.c->max_image_bytes);
}

/* Take the bytes: sniff them, keep them. */
static void
ref_set_data(struct ref *r, unsigned char *data, size_t len)
{
	char *u;

	r->mime = image_sniff(data, len);
	if (!r->mime) {
		u = redact_url(r->url);
		free(data);
		ref_fail(r, "unsupported_image", 0,
		    "%s: not a PNG, JPEG or WebP image", u);
		free(u);
		return;
	}
	r->data = data;
	r->len = len;
	r->state = R_READY;
	ref_sha256(r);	/* once, for every job's request key */
	E.ref_bytes += ref_mem(r);
}

/* An http(s) reference fetched by an earlier run: its object. */
static int
ref_from_store(struct ref *r)
{
	char *rel, *path, *data;
	size_t len;

	if (!(rel = reqkey_refmap_get(E.c->root, r->url)))
		return 0;
	path = easprintf("%s/%s", E.c->root, rel);
	data = store_read_file(path, E.c->max_image_bytes, &len);
	free(path);
	if (!data || !image_sniff(data, len)) {
		free(data);
		free(rel);
		return 0;
	}
	r->obj = rel;
	ref_set_data(r, (unsigned char *)data, len);
	return 1;
}

static void
ref_fetched(struct xfer *x, CURLcode cc)
{
	struct ref *r = x->ref;
	long st = 0;
	char sha[65], *rel, *map, *u = redact_url(r->url);
	unsigned char *data;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		ref_too_large(r, u);
	} else if (cc != CURLE_OK) {
		ref_fail(r, "image_fetch_failed", 1, "%s: %s", u,
		    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
	} else if (st < 200 || st > 299) {
		ref_fail(r, "image_fetch_failed", st == 408 || st == 429 ||
		    st >= 500, "%s: HTTP %ld", u, st);
	} else {
		data = (unsigned char *)x->resp.s;
		x->resp.s = NULL;
		ref_set_data(r, data ? data : (unsigned char *)estrdup(""),
		    x->resp.len);
		if (r->state == R_READY) {
			if (store_put_object(E.c->root, r->data, r->len,
			    image_ext(r->mime), sha, &rel) < 0)
				die(EXIT_FATAL, "%s/objects:", E.c->root);
			r->obj = rel;
			map = reqkey_refmap_path(E.c->root, r->url);
			if (store_write_atomic(map, rel, strlen(rel)) < 0)
				warnx("%s:", map);
			free(map);
		}
	}
	free(u);
	xfer_free(x);
	ref_loaded(r);
}

/* Load the reference named url for j: shared if already known. */
static struct ref *
ref_get(const char *url, struct job *j)
{
	struct ref *r = g_hash_table_lookup(E.refs, url);
	char *path, *data, *u;
	size_t len;
	struct xfer *x;

	if (r) {
		idle_unlink(r);
		r->refs++;
		goto wait;
	}
	r = ecalloc(1, sizeof *r);
	r->url = estrdup(url);
	r->refs = 1;
	r->state = R_LOADING;
	g_hash_table_insert(E.refs, r->url, r);
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) {
		if (ref_from_store(r))
			return r;
		x = xfer_new();
		x->ref = r;
		x->rq.url = estrdup(url);
		x->max_resp = E.c->max_image_bytes;
		xfer_start(x);
		goto wait;
	}
	path = reqkey_local_path(url);
	u = redact_url(url);
	if (!path) {
		ref_fail(r, "image_fetch_failed", 0, "%s: unsupported URL", u);
	} else if (!(data = store_read_file(path, E.c->max_image_bytes, &len))) {
		if (errno == EFBIG)
			ref_too_large(r, u);
		else
			ref_fail(r, "image_fetch_failed", 0, "%s: %s", u,
			    strerror(errno));
	} else {
		ref_set_data(r, (unsigned char *)data, len);
	}
	g_free(path);
	free(u);
	return r;
wait:
	if (r->state == R_LOADING) {
		if (r->nwait == r->capwait) {
			r->capwait = r->capwait ? r->capwait * 2 : 4;
			r->waiters = erealloc(r->waiters,
			    r->capwait * sizeof *r->waiters);
		}
		r->waiters[r->nwait++] = j;
		j->pending++;
	}
	return r;
}

/* A request of j goes on the wire (on = 1) or comes back (0).  The base64
 * of a reference lives only while requests that may borrow it are out:
 * it is 4/3 of the image, and refs are read ahead of the slots. */
static void
refs_sending(struct job *j, int on)
{
	struct ref *r;
	int i;

	for (i = 0; i < j->pj.nrefs; i++) {
		r = j->pj.refs[i];
		if (on) {
			r->sending++;
			if (r->b64 && r->data && r->raw_users == 0) {
				/* nobody reads the bytes: keep one copy */
				E.ref_bytes -= ref_mem(r);
				free(r->data);
				r->data = NULL;
				E.ref_bytes += ref_mem(r);
			}
		} else if (--r->sending == 0 && r->b64 && r->data) {
			free(r->b64);
			r->b64 = NULL;
			r->b64len = 0;
		}
	}
}

/* j's provider reads ref->data: bring the bytes back if they were
 * dropped for their base64. */
static void
ref_want_raw(struct ref *r)
{
	size_t n;

	r->raw_users++;
	if (r->data || !r->b64)
		return;
	E.ref_bytes -= ref_mem(r);
	r->data = util_b64_decode(r->b64, r->b64len, &n);
	r->len = n;
	E.ref_bytes += ref_mem(r);
}

/* ---- records --------------------------------------------------------- */

static void
job_unlink(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else if (E.jobs == j)
		E.jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void
job_free(struct job *j)
{
	int i;

	for (i = 0; i < j->pj.nrefs; i++) {
		if (j->pj.refs[i]->state == R_LOADING)
			ref_unwait(j->pj.refs[i], j);
		if (!j->prov->b64_refs)
			j->pj.refs[i]->raw_users--;
		ref_put(j->pj.refs[i]);
	}
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
	E.detached++;
	xfer_start(x);
}

/* The store as an absolute path, for the records' `store` (bg-report's
 * hints re-run them against it). */
static const char *
store_abs(void)
{
	static char *abs;
	char *cwd;

	if (abs)
		return abs;
	if (!(abs = realpath(E.c->root, NULL))) {
		cwd = getcwd(NULL, 0);
		abs = E.c->root[0] == '/' || !cwd ? estrdup(E.c->root) :
		    easprintf("%s/%s", cwd, E.c->root);
		free(cwd);
	}
	return abs;
}

/* Write the record and forget the job. */
static void
job_finish(struct job *j)
{
	const char *st = rec_status(j->rec);

	if (j->xf) {
		xfer_free(j->xf);
		j->xf = NULL;
		refs_sending(j, 0);
	}
	if (j->holds_slot && !j->prov->offline)
		E.inflight--;
	j->holds_slot = 0;
	heap_remove(j);
	if (j->state == J_READY)
		ready_remove(j);
	if (j->committed && strcmp(st, "succeeded")) {
		/* no image came of it: give the budget back */
		E.committed_images--;
		E.committed_cost -= j->price;
	}
	if (!strcmp(st, "succeeded"))
		E.n_done++;
	else
		E.n_failed++;
	if (!strcmp(st, "canceled"))
		E.n_canceled++;
	if (strcmp(st, "succeeded") && j->pj.state && j->prov->abandon)
		abandon(j);
	nd_write(j->rec);
	job_unlink(j);
	job_free(j);
	E.active--;
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
static void
job_fail_status(struct job *j, const char *status, const char *code,
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

static void
job_cancel(struct job *j)
{
	job_fail_status(j, "canceled", "canceled", 1, 0,
	    E.signo ? (E.signo == SIGINT ? "interrupted (SIGINT)" :
	    "terminated (SIGTERM)") : "canceled");
}

/* ---- stop early (lib/stopearly.c) ---------------------------------- */

static const struct se_stop *
stop_for(const struct job *j)
{
	return j->pj.conf && !j->prov->offline && !E.c->no_stop_early ?
	    se_stopped(j->pj.conf, j->pj.model) : NULL;
}

/* Fail j, which will not be sent (again), for stop s. */
static void
not_sent(struct job *j, const struct se_stop *s)
{
	char *msg = easprintf("not sent%s: %s %s: %s", j->pj.attempt ?
	    " again" : "", j->prov->name, s->code, s->why);

	job_fail_status(j, "failed", s->code, s->retryable, 0, msg);
	free(msg);
}

/* A stop began: say so once, and fail the jobs waiting to retry. */
static void
stop_began(const struct se_stop *s)
{
	struct job *j, *next;

	if (!s || E.c->no_stop_early)
		return;
	if (E.progress_on)
		fputc('\n', stderr);
	warnx("%s", s->line);
	for (j = E.jobs; j; j = next) {
		next = j->next;
		if (j->state == J_BACKOFF && stop_for(j) == s) {
			heap_remove(j);
			not_sent(j, s);
		}
	}
}

static void
job_succeeded(struct job *j)
{
	static struct sbuf outs, usage, ce;
	cJSON *o;
	char *why = NULL;
	const char *s;
	double cost;

	sb_reset(&outs);
	if (result_store_outputs(E.c->root, j->pj.out, j->pj.nout, &outs,
	    &why) < 0) {
		prov_fail(&j->pj, "bad_response", 1, 0, "%s", why);
		free(why);
		attempt_failed(j);
		return;
	}
	/* additive increase: about one more slot per window of successes */
	E.n429 = 0;
	if (E.cwnd < E.c->jobs)
		E.cwnd = fmin(E.c->jobs, E.cwnd + 1 / E.cwnd);
	sb_reset(&usage);
	result_usage_text(&usage, j->pj.request_id, now_ms() - j->t_first,
	    NULL, NULL, j->pj.usage);
	/* the cache holds what a re-run needs to answer without paying: the
	 * same outputs and usage text as the record, printed once */
	/* the offline provider charges nothing, whatever the plan's price */
	cost = cost_charged(j->price, j->prov->offline ? 0 : j->pj.nout);
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
	sb_add(&ce, outs.s, outs.len);
	sb_adds(&ce, ",\"usage\":");
	sb_add(&ce, usage.s, usage.len);
	sb_addc(&ce, '}');
	if (store_cache_put_text(E.c->root, j->key, ce.s, ce.len) < 0)
		warnx("%s/cache:", E.c->root);
	set_attempt(j);
	rec_set_str(j->rec, "status", "succeeded");
	cJSON_DeleteItemFromObjectCaseSensitive(j->rec, "error");
	if (E.c->inline_out) {
		if (!(o = cJSON_ParseWithLength(outs.s, outs.len)))
			die(EXIT_FATAL, "out of memory");
		result_inline_outputs(E.c->root, o, j->pj.out, j->pj.nout);
	} else {
		o = cJSON_CreateRaw(outs.s);	/* printed as it is */
	}
	rec_set(j->rec, "outputs", o);
	rec_set(j->rec, "usage", cJSON_CreateRaw(usage.s));
	rec_set_num(j->rec, "cost", cost);
	rec_set_str(j->rec, "store", store_abs());
	rec_set_bool(j->rec, "cached", 0);
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
		E.inflight--;
	j->holds_slot = 0;
}

static double
backoff_ms(struct job *j)
{
	double cap = E.c->backoff_ms * pow(2, j->pj.attempt - 1);

	if (cap > E.c->backoff_max_ms)
		cap = E.c->backoff_max_ms;
	return g_random_double() * cap;	/* full jitter */
}

static void
attempt_failed(struct job *j)
{
	struct prov_fail *f = &j->pj.fail;
	double delay;

	release_slot(j);
	if (!f->code)
		prov_fail(&j->pj, "bad_response", 1, 0, "provider failed");
	if (f->http_status == 429) {
		/* multiplicative decrease, at most once a second */
		if (++E.n429 >= 2 && now_ms() - E.last_cut > 1000) {
			E.cwnd = fmax(1, E.cwnd / 2);
			E.last_cut = now_ms();
			E.n429 = 0;
		}
	}
	if (f->retryable && E.stopping) {
		job_cancel(j);
		return;
	}
	if (!f->retryable)
		stop_began(se_fail(j->pj.conf, j->pj.model, f->code,
		    f->http_status, f->message));
	delay = f->retry_after_ms >= 0 ? f->retry_after_ms : backoff_ms(j);
	if (f->retryable && j->pj.attempt < E.c->max_attempts &&
	    delay <= MAX_RETRY_WAIT_MS && !stop_for(j)) {
		j->state = J_BACKOFF;
		heap_push(j, now_ms() + delay);
		return;
	}
	job_fail_status(j, "failed", f->code, f->retryable, f->http_status,
	    f->message ? f->message : f->code);
}

/* A provider request came back. */
static void
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
	E.lat_ms = E.lat_ms ? 0.95 * E.lat_ms + 0.05 * (now_ms() - x->t0) :
	    now_ms() - x->t0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &rs.status);
	if (cc != CURLE_OK) {
		if (x->too_large)
			prov_fail(&j->pj, "bad_response", 0, rs.status,
			    "response larger than %zu bytes", x->max_resp);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			prov_fail(&j->pj, "timeout", 1, 0, "%s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
		else if (cc == CURLE_PARTIAL_FILE ||
		    cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING)
			prov_fail(&j->pj, rs.status ? "bad_response" :
			    "network", 1, rs.status, "%s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
		else
			prov_fail(&j->pj, "network", 1, 0, "%s",
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
static void
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
			prov_fail(&j->pj, "bad_request", 0, 0,
			    "provider built no request");
		attempt_failed(j);
	}
}

static int
over_budget(double price)
{
	if (E.c->max_images >= 0 && E.committed_images + 1 > E.c->max_images)
		return 1;
	if (E.c->max_cost >= 0 &&
	    E.committed_cost + price > E.c->max_cost + 1e-9)
		return 1;
	return 0;
}

static void
budget_skip(struct job *j)
{
	char msg[128];

	if (E.c->max_images >= 0 && E.committed_images + 1 > E.c->max_images)
		snprintf(msg, sizeof msg, "--max-images %ld reached",
		    E.c->max_images);
	else
		snprintf(msg, sizeof msg, "--max-cost %.2f reached",
		    E.c->max_cost);
	job_fail_status(j, "skipped", "budget", 1, 0, msg);
}

static void
attempt_start(struct job *j)
{
	if (!j->committed) {
		if (over_budget(j->price)) {
			budget_skip(j);
			return;
		}
		j->committed = 1;
		E.committed_images++;
		E.committed_cost += j->price;
	}
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
		E.inflight++;
	step_build(j);
}

/* Start ready jobs while there are slots and rate tokens. */
static void
dispatch(void)
{
	struct job *j;
	double t;

	while ((j = E.rq_head)) {
		if (stop_for(j)) {
			not_sent(j, stop_for(j));
			continue;
		}
		if (!j->prov->offline) {
			if (E.inflight >= (int)E.cwnd)
				return;
			if (E.c->rpm > 0) {
				t = now_ms();
				E.tokens = fmin(1, E.tokens + (t - E.token_t) *
				    E.c->rpm / 60000);
				E.token_t = t;
				if (E.tokens < 1 - 1e-9)
					return;
				E.tokens -= 1;
			}
		}
		E.rq_head = j->qnext;
		if (!E.rq_head)
			E.rq_tail = NULL;
		j->qnext = NULL;
		j->state = J_SEND;
		attempt_start(j);
	}
}

static int from_cache(struct job *j);

/* j->key from what is sent (lib/reqkey.h). */
static void
job_key(struct job *j)
{
	const char *sha[MAX_REFS];
	struct reqkey_in k = {0};
	int i;

	for (i = 0; i < j->pj.nrefs; i++)
		sha[i] = ref_sha256(j->pj.refs[i]);
	k.provider = j->prov->name;
	k.model = j->pj.model;
	k.prompt = j->pj.prompt;
	k.input = j->pj.input;
	k.ref_sha = sha;
	k.nref = j->pj.nrefs;
	k.variation = cJSON_GetObjectItemCaseSensitive(j->rec, "variation");
	k.reroll = cJSON_GetObjectItemCaseSensitive(j->rec, "reroll");
	reqkey_compute(&k, j->key);
}

static void
job_refs_done(struct job *j)
{
	int i;
	struct ref *r;

	for (i = 0; i < j->pj.nrefs; i++) {
		r = j->pj.refs[i];
		if (r->state == R_FAILED) {
			job_fail_status(j, "failed", r->fail_code,
			    r->fail_retryable, 0, r->fail_msg);
			return;
		}
	}
	/* the request is known by the bytes of its references, hashed now
	 * that they are at hand (once per reference, see ref_set_data) */
	job_key(j);
	if (!E.c->force && from_cache(j))
		return;
	if (stop_for(j)) {	/* a stop came while its images loaded */
		not_sent(j, stop_for(j));
		return;
	}
	if (over_budget(j->price) && E.inflight == 0 && !E.nheap) {
		/* nothing in flight can give budget back: skip it now */
		budget_skip(j);
		return;
	}
	ready_push(j, 0);
}

/* ---- admitting records ----------------------------------------------- */

/* Answer from the cache: 1 if the record was written. */
static int
from_cache(struct job *j)
{
	cJSON *c = store_cache_get(E.c->root, j->key);
	char old[65];
	int hit;

	if (!c && !cJSON_GetObjectItemCaseSensitive(j->rec, "reroll")) {
		/* paid for under the key of an older bg-generate: found once,
		 * then kept under the new key too */
		reqkey_legacy(j->prov->name, j->pj.model, j->pj.prompt,
		    j->pj.input, cJSON_GetObjectItemCaseSensitive(j->rec,
		    "batch_id"), cJSON_GetObjectItemCaseSensitive(j->rec,
		    "variation"), old);
		if ((c = store_cache_hit(E.c->root, old)) &&
		    store_cache_put(E.c->root, j->key, c) < 0)
			warnx("%s/cache:", E.c->root);
	}
	hit = c && result_from_cache(E.c->root, c, j->rec,
	    E.c->inline_out, j->prev_attempt);
	if (hit)
		rec_set_str(j->rec, "store", store_abs());
	cJSON_Delete(c);
	if (!hit)
		return 0;
	E.n_cached++;
	job_finish(j);
	return 1;
}

static void
add_ref(struct job *j, const char *url)
{
	struct ref *r = ref_get(url, j);

	j->pj.refs[j->pj.nrefs++] = r;
	if (!j->prov->b64_refs)
		ref_want_raw(r);
}

/* The record says what is used, not only what was planned: provider and
 * model as sent, the plan's own kept as planned_provider/planned_model
 * when an override (--provider, --model) changed them. */
static void
record_used(struct job *j)
{
	const char *f[2][2] = {{"provider", "planned_provider"},
	    {"model", "planned_model"}}, *used[2], *was, *plan;
	int i;

	used[0] = j->prov->name;
	used[1] = j->pj.model;
	for (i = 0; i < 2; i++) {
		was = rec_str(j->rec, f[i][0]);
		plan = rec_str(j->rec, f[i][1]);
		if (was && strcmp(was, used[i]) && !plan)
			rec_set_str(j->rec, f[i][1], was);
		else if (plan && !strcmp(plan, used[i]))
			cJSON_DeleteItemFromObjectCaseSensitive(j->rec,
			    f[i][1]);
		if (!was || strcmp(was, used[i]))
			rec_set_str(j->rec, f[i][0], used[i]);
	}
	/* used[1] may have pointed at the string just replaced */
	j->pj.model = rec_str(j->rec, "model");
}

static void
admit(cJSON *rec)
{
	struct job *j = ecalloc(1, sizeof *j);
	const cJSON *imgs, *it;
	const char *pname, *s;
	char *why = NULL;
	int i, n;

	j->rec = rec;
	j->hidx = -1;
	j->pj.rec = rec;
	j->pj.fail.retry_after_ms = -1;
	j->prev_attempt = (int)rec_num(rec, "attempt", 0);
	j->price = rec_num(rec, "price_per_image", 0);
	if (j->price < 0 || !isfinite(j->price))
		j->price = 0;
	j->next = E.jobs;
	if (E.jobs)
		E.jobs->prev = j;
	E.jobs = j;
	E.active++;

	pname = E.c->provider ? E.c->provider : rec_str(rec, "provider");
	j->prov = prov_find(pname ? pname : "local");
	if (!j->prov)
		j->prov = &prov_local;	/* for job_finish; fails below */

	/* pass-through: done, or failed at another stage */
	if (!strcmp(rec_status(rec), "succeeded")) {
		job_finish(j);
		return;
	}
	if (rec_passes(rec, STAGE)) {
		/* another stage's failure, or a line that was never a job */
		job_finish(j);
		return;
	}
	if (!prov_find(pname ? pname : "local")) {
		why = easprintf("unknown provider %s (known: %s)", pname,
		    prov_names());
		job_fail_status(j, "failed", "invalid_record", 0, 0, why);
		free(why);
		return;
	}
	j->pj.model = E.c->model ? E.c->model : rec_str(rec, "model");
	if (!E.c->model && E.c->provider && (s = rec_str(rec, "provider")) &&
	    strcmp(s, j->prov->name))
		j->pj.model = NULL;	/* the plan's model is another provider's */
	if (!j->pj.model && !(j->pj.model = models_default(j->prov->name))) {
		why = easprintf("no model in the job and no default for %s in "
		    "%s", j->prov->name, models_path());
		job_fail_status(j, "failed", "invalid_record", 0, 0, why);
		free(why);
		return;
	}
	record_used(j);
	j->pj.prompt = rec_str(rec, "prompt");
	j->pj.input = cJSON_GetObjectItemCaseSensitive(rec, "input");
	if (!cJSON_IsObject(j->pj.input))
		j->pj.input = NULL;
	if (!j->pj.prompt && !j->prov->offline) {
		job_fail_status(j, "failed", "invalid_record", 0, 0,
		    "no prompt (a string) in the job");
		return;
	}
	if (!j->pj.prompt)
		j->pj.prompt = "";
	imgs = cJSON_GetObjectItemCaseSensitive(j->pj.input, "product_images");
	n = cJSON_IsArray(imgs) ? cJSON_GetArraySize(imgs) : 0;
	/* an explicitly empty list asks a network provider for an image
	 * from the prompt alone (openai: /v1/images/generations) */
	if ((n < 1 && (j->prov->offline || !cJSON_IsArray(imgs))) ||
	    n > MAX_REFS - 2) {
		job_fail_status(j, "failed", "invalid_images", 0, 0,
		    "input.product_images must list 1 to 14 images");
		return;
	}
	cJSON_ArrayForEach(it, imgs)
		if (!cJSON_IsString(it) || !*it->valuestring) {
			job_fail_status(j, "failed", "invalid_images", 0, 0,
			    "input.product_images must hold URLs or paths");
			return;
		}
	if (!(j->pj.conf = conf_for(j->prov, &why))) {
		job_fail_status(j, "failed", "auth", 0, 0,
		    why ? why : "provider unavailable");
		free(why);
		return;
	}
	j->pj.refs = ecalloc(MAX_REFS, sizeof *j->pj.refs);
	j->state = J_REFS;
	cJSON_ArrayForEach(it, imgs)
		add_ref(j, it->valuestring);
	j->pj.nproduct = j->pj.nrefs;
	for (i = 0; reqkey_extra_refs[i]; i++)
		if ((s = rec_str(j->pj.input, reqkey_extra_refs[i])) && *s)
			add_ref(j, s);
	if (j->pending == 0)
		job_refs_done(j);
}

/* ---- input ----------------------------------------------------------- */

static void
arm_input(void)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = E.rd->fd;
	if (E.in_armed && E.in_fd == E.rd->fd) {
		if (epoll_ctl(E.ep, EPOLL_CTL_MOD, E.rd->fd, &ev) == 0)
			return;
	}
	if (epoll_ctl(E.ep, EPOLL_CTL_ADD, E.rd->fd, &ev) == 0 ||
	    (errno == EEXIST &&
	    epoll_ctl(E.ep, EPOLL_CTL_MOD, E.rd->fd, &ev) == 0)) {
		E.in_armed = 1;
		E.in_fd = E.rd->fd;
		return;
	}
	/* not pollable: let reads block instead */
	fcntl(E.rd->fd, F_SETFL, fcntl(E.rd->fd, F_GETFL) & ~O_NONBLOCK);
	E.in_wait = 0;
}

/* Whether read_input would take another line now.  The loop must not
 * sleep while it would: a regular file never wakes epoll, and offline jobs
 * finish inside dispatch, freeing slots without any event. */
static int
can_read(void)
{
	return !E.stopping && !E.in_eof && !E.in_wait &&
	    E.active < E.max_active &&
	    !(E.ref_bytes > REF_SOFT && E.rq_head);
}

static void
read_input(void)
{
	cJSON *o;
	int rc, n = 0;

	/* read ahead, unless big references already wait in the queue */
	E.in_more = 0;
	while (can_read()) {
		if (++n > READ_BATCH) {
			/* a run of cached or passed-through records: let
			 * the loop see transfers and signals in between */
			E.in_more = 1;
			break;
		}
		rc = nd_get(E.rd, STAGE, &o);
		if (rc == ND_AGAIN) {
			E.in_wait = 1;
			arm_input();
			continue;
		}
		if (rc == ND_END || rc == ND_FOLLOW) {
			E.in_eof = 1;
			break;
		}
		if (rc == ND_LINE) {
			admit(o);
			continue;
		}
		E.badlines++;
		nd_write(o);
		cJSON_Delete(o);
	}
}

/* ---- signals, progress ---------------------------------------------- */

/* After a signal: every line that can be had without waiting still gets
 * its record (canceled, or passed through as admit would). */
static void
drain_input(void)
{
	cJSON *o;
	int rc;

	if (E.in_eof)
		return;
	while ((rc = nd_get(E.rd, STAGE, &o)) == ND_LINE || rc == ND_BAD) {
		if (rc == ND_LINE) {
			if (strcmp(rec_status(o), "succeeded") &&
			    !rec_passes(o, STAGE)) {
				cJSON *e = rec_fail_status(o, "canceled",
				    STAGE, "canceled", 1, "%s",
				    E.signo == SIGINT ? "interrupted (SIGINT)"
				    : "terminated (SIGTERM)");

				cJSON_AddNumberToObject(e, "attempts", 0);
				E.n_failed++;
				E.n_canceled++;
			}
		} else {
			E.badlines++;
		}
		nd_write(o);
		cJSON_Delete(o);
	}
}

static void
on_signal(int signo)
{
	struct job *j, *next;

	if (E.stopping) {
		E.grace_due = now_ms();	/* a second signal: stop now */
		return;
	}
	E.stopping = 1;
	E.signo = signo;
	E.grace_due = now_ms() + E.c->grace_ms;
	/* what is not on the wire stops now */
	for (j = E.jobs; j; j = next) {
		next = j->next;
		if (!j->holds_slot)
			job_cancel(j);
	}
}

static void
cancel_all(void)
{
	while (E.jobs)
		job_cancel(E.jobs);
}

static void
progress(int last)
{
	double t = now_ms(), el = (t - E.t_start) / 1000, rate;
	char eta[48] = "";
	struct stat st;
	off_t pos;

	if (!E.progress_on)
		return;
	rate = el > 0 ? (E.n_done + E.n_failed) / el : 0;
	if (E.rd->fd >= 0 && fstat(E.rd->fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (pos = lseek(E.rd->fd, 0, SEEK_CUR) -
	    (off_t)(E.rd->end - E.rd->start)) > 0 && rate > 0) {
		double left = el * (st.st_size - pos) / pos +
		    (double)E.active / rate;

		snprintf(eta, sizeof eta, ", eta %.0fs", left);
	}
	fprintf(stderr, "\r%s: %ld done (%ld cached), %ld failed, %d in "
	    "flight, %.1f/s%s%s%s%s%s\033[K%s", argv0, E.n_done, E.n_cached,
	    E.n_failed, E.inflight, rate, eta, se_first() ? ", stopped: " :
	    "", se_first() ? se_first()->conf->p->name : "",
	    se_first() ? " " : "", se_first() ? se_first()->code : "",
	    last ? "\n" : "");
	E.progress_due = t + PROGRESS_MS;
}

/* ---- the loop -------------------------------------------------------- */

/* Hand finished transfers on; how many there were. */
static int
check_done(void)
{
	CURLMsg *m;
	struct xfer *x;
	int left, done = 0;

	while ((m = curl_multi_info_read(E.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		done++;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		if (x->ref) {
			ref_fetched(x, m->data.result);
		} else if (!x->job) {
			E.detached--;	/* an abandon request: done */
			xfer_free(x);
		} else {
			job_answered(x, m->data.result);
		}
	}
	return done;
}

static void
run_timers(void)
{
	double t = now_ms();
	struct job *j;

	while (E.nheap && E.heap[0]->due <= t) {
		j = E.heap[0];
		heap_remove(j);
		if (j->state == J_BACKOFF)
			ready_push(j, 1);	/* retries go first */
		else
			step_build(j);
	}
}

static int
wait_ms(void)
{
	double t = now_ms(), due = t + 60000;

	if (E.curl_due >= 0 && E.curl_due < due)
		due = E.curl_due;
	if (E.nheap && E.heap[0]->due < due)
		due = E.heap[0]->due;
	if (E.rq_head && E.c->rpm > 0 && E.inflight < (int)E.cwnd) {
		double tk = E.token_t + (1 - E.tokens) * 60000 / E.c->rpm;

		if (tk < due)
			due = tk;
	}
	if (E.progress_on && E.progress_due < due)
		due = E.progress_due;
	if (E.stopping && E.active && E.grace_due < due)
		due = E.grace_due;
	if (due <= t || E.in_more || can_read())
		return 0;
	return (int)ceil(due - t);
}

static void
stdin_blocking(void)
{
	int fl = fcntl(0, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(0, F_SETFL, fl & ~O_NONBLOCK);
}

static void
setup(const struct engine_conf *c, struct nd_reader *r)
{
	struct rlimit rl;
	sigset_t ss;
	struct epoll_event ev = {0};
	struct stat st;

	/* images are big, short-lived buffers: always give them their own
	 * mapping, returned on free, instead of glibc's sliding threshold
	 * that moves them into a heap that never shrinks */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	memset(&E, 0, sizeof E);
	E.c = c;
	E.rd = r;
	E.curl_due = -1;
	E.in_fd = -1;
	/* read ahead of the slots, so a freed slot finds a job whose images
	 * are loaded, but not so far that references pile up in memory */
	E.max_active = c->jobs + (c->jobs / 4 > 8 ? c->jobs / 4 : 8);
	E.cwnd = c->jobs;
	E.tokens = 1;
	E.token_t = now_ms();
	E.t_start = now_ms();
	E.progress_on = c->progress && isatty(2);
	E.refs = g_hash_table_new(g_str_hash, g_str_equal);
	/* every connection is a descriptor: lift the soft limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die(EXIT_FATAL, "curl_global_init failed");
	/* no image_init here: libvips loads its modules (about 30 ms of
	 * CPU) and only the local provider and non-PNG outputs need it;
	 * image_probe and the layout start it on first use, after the
	 * signal mask below, so its threads inherit it */
	if ((E.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EXIT_FATAL, "epoll_create1:");
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0 ||
	    (E.sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die(EXIT_FATAL, "signalfd:");
	ev.events = EPOLLIN;
	ev.data.fd = E.sigfd;
	if (epoll_ctl(E.ep, EPOLL_CTL_ADD, E.sigfd, &ev) < 0)
		die(EXIT_FATAL, "epoll_ctl:");
	/* stdin is read from the loop: it must never block it (and the
	 * flag, shared with the shell on a terminal, is undone at exit) */
	if (fstat(0, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !(fcntl(0, F_GETFL) & O_NONBLOCK)) {
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		atexit(stdin_blocking);
	}
	if (!(E.multi = curl_multi_init()))
		die(EXIT_FATAL, "curl_multi_init failed");
	curl_multi_setopt(E.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(E.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(E.multi, CURLMOPT_MAXCONNECTS, E.max_active + 16);
}

static void
teardown(void)
{
	int i;

	GHashTableIter it;
	gpointer k, v;

	while (E.xfers)
		xfer_free(E.xfers);
	g_hash_table_iter_init(&it, E.refs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_hash_table_iter_steal(&it);
		ref_free(v);
	}
	g_hash_table_destroy(E.refs);
	for (i = 0; i < E.npool; i++)
		curl_easy_cleanup(E.pool[i]);
	free(E.pool);
	free(E.heap);
	curl_multi_cleanup(E.multi);	/* closes sockets: close_cb */
	free(E.socks);
	for (i = 0; i < E.npconf; i++) {
		if (E.pconf[i].ready && E.pconf[i].p->fini)
			E.pconf[i].p->fini(&E.pconf[i]);
		free(E.pconf[i].base_url);
		free(E.pconf[i].err);
	}
	curl_global_cleanup();
	se_reset();
	close(E.sigfd);
	close(E.ep);
}

/* With many requests out, each answer woke the loop on its own: at 512
 * in flight and 1 s answers, a wake-up (a context switch) per request
 * was a quarter of the CPU.  When the last wake-up had few events and no
 * transfer is moving a big body (waiting would slow those: 1 MB
 * references going out, big answers coming in), wait a little before
 * the next epoll_wait so answers arriving meanwhile are handled
 * together: 0.5 % of the mean request time (10 ms at most; a slot waits
 * half that on average, 0.25 % of throughput), never past a due timer
 * (w).  Fewer than 32 requests out: no waiting. */
static int
coalesce(int w, int last)
{
	struct timespec ts;
	double d = E.lat_ms / 200;

	if (w <= 0 || last <= 0 || last >= 16 || E.busy || E.inflight < 32 ||
	    E.stopping || d < 1)
		return w;
	if (d > 10)
		d = 10;
	if (d > w)
		d = w;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(d * 1e6);
	nanosleep(&ts, NULL);
	return 0;
}

int
engine_run(const struct engine_conf *c, struct nd_reader *r)
{
	struct epoll_event evs[64];
	struct signalfd_siginfo si;
	int n, i, running, rc;

	setup(c, r);
	n = 0;
	for (;;) {
		read_input();
		dispatch();
		if (E.stopping && E.active && now_ms() >= E.grace_due)
			cancel_all();
		if ((E.in_eof || E.stopping) && E.active == 0 && !E.detached)
			break;
		if (E.progress_on && now_ms() >= E.progress_due)
			progress(0);
		n = epoll_wait(E.ep, evs, 64, coalesce(wait_ms(), n));
		if (n < 0 && errno != EINTR)
			die(EXIT_FATAL, "epoll_wait:");
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == E.sigfd) {
				while (read(E.sigfd, &si, sizeof si) ==
				    sizeof si)
					on_signal((int)si.ssi_signo);
			} else if (E.in_armed && fd == E.in_fd) {
				E.in_wait = 0;
			} else if (fd < E.nsocks && E.socks[fd].ours &&
			    !E.socks[fd].on) {
				/* an idle pooled connection (closed by the
				 * server, say): libcurl finds out on reuse */
				sock_unset(fd, &E.socks[fd]);
			} else {
				int f = (evs[i].events & EPOLLIN ?
				    CURL_CSELECT_IN : 0) |
				    (evs[i].events & EPOLLOUT ?
				    CURL_CSELECT_OUT : 0) |
				    (evs[i].events & (EPOLLERR | EPOLLHUP) ?
				    CURL_CSELECT_ERR : 0);

				curl_multi_socket_action(E.multi, fd, f,
				    &running);
			}
		}
		if (E.curl_due >= 0 && now_ms() >= E.curl_due) {
			E.curl_due = -1;
			curl_multi_socket_action(E.multi, CURL_SOCKET_TIMEOUT,
			    0, &running);
		}
		check_done();
		run_timers();
	}
	if (E.stopping)
		drain_input();
	progress(1);
	teardown();
	rc = E.badlines || nd_open_failures ? EXIT_BADLINES : EXIT_DONE;
	if (E.signo) {
		rc = EXIT_FATAL;
		if (E.n_failed > E.n_canceled)
			warnx("interrupted: %ld done, %ld failed, %ld canceled; "
			    "run the same command again to resume", E.n_done,
			    E.n_failed - E.n_canceled, E.n_canceled);
		else
			warnx("interrupted: %ld done, %ld canceled; run the "
			    "same command again to resume", E.n_done,
			    E.n_canceled);
	}
	return rc;
}

void
engine_defaults(struct engine_conf *c)
{
	memset(c, 0, sizeof *c);
	c->jobs = 8;
	c->rpm = 0;
	c->max_attempts = 5;
	c->timeout_ms = 300 * 1000.0;
	c->connect_timeout_ms = 30 * 1000.0;
	c->max_images = -1;
	c->max_cost = -1;
	c->max_image_bytes = (size_t)20 << 20;
	c->backoff_ms = 1000;
	c->backoff_max_ms = 60 * 1000.0;
	c->grace_ms = 10 * 1000.0;
}
