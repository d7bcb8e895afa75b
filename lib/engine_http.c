/* engine_http: the transfers of bg-generate's engine (see engine_int.h):
 * a pool of easy handles, libcurl's socket and timer callbacks on the
 * loop's epoll set, the body read callback that sends a request's
 * segments without copying and big bodies one after another (turns),
 * the answer's write and header callbacks, and finished transfers handed
 * to their owner (a job or a reference). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_int.h"
#include "err.h"

#define MAX_RESPONSE ((size_t)512 << 20)
#define FLAT_MAX (16 * 1024)	/* bodies copied into one buffer */
#define BIG_BODY (64 * 1024)	/* bodies that take several turns */
#define TURN_BODY (256 * 1024)	/* bodies that wait for an upload turn */
#define TURN_STALL 250		/* ms without progress that lose a turn */

/* An upload turn.  Big bodies sent side by side all arrive late: 32 bodies
 * of 5 MB shared the server's reading (and, on a real link, the uplink),
 * so each was complete only when nearly all were, and a server reading
 * them in one loop answered late meanwhile.  One after another, the
 * first is complete at once and the server starts on it.  A body waits
 * (its transfer paused by the read callback) after its connection and
 * headers are made, and its turn ends once libcurl has all of it (the
 * kernel's buffer still sends its end as the next begins) or when it
 * made no progress for TURN_STALL ms (a server that stopped reading).
 * Only over http://: https:// may multiplex HTTP/2 streams, where pausing
 * an upload is unreliable in libcurl 7.88 (curl issues 10618, 10751). */
enum { UP_NONE, UP_ASK, UP_TURN, UP_WAIT };

static void turns_pass(void);

static struct {
	int ep;			/* the loop's epoll set */
	CURLM *multi;
	double curl_due;	/* curl's timer (ms); < 0: none */
	struct xfer *xfers;	/* every transfer */
	struct sockstate *socks;
	int nsocks;
	CURL **pool;		/* easy handles to reuse */
	int npool, cappool;
	int detached;		/* abandon requests on the wire */
	double lat_ms;		/* moving mean of a request's time */
	int busy;		/* transfers moving a big body */
	struct xfer *turn[UPLOAD_TURNS];	/* sending a big body */
	struct xfer *upq_head, *upq_tail;	/* paused for a turn */
	int upq_kick;		/* a turn came free inside a callback */
} http;

static CURL *
easy_get(void)
{
	CURL *h;

	if (http.npool > 0)
		return http.pool[--http.npool];
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
	if (http.npool == http.cappool) {
		http.cappool = http.cappool ? http.cappool * 2 : 64;
		http.pool = erealloc(http.pool, http.cappool *
		    sizeof *http.pool);
	}
	http.pool[http.npool++] = h;
}


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
	if (s >= http.nsocks) {
		if (!grow)
			return NULL;
		n = http.nsocks ? http.nsocks : 256;
		while (n <= s)
			n *= 2;
		http.socks = erealloc(http.socks, n *
		    sizeof *http.socks);
		memset(http.socks + http.nsocks, 0,
		    (n - http.nsocks) * sizeof *http.socks);
		http.nsocks = n;
	}
	return &http.socks[s];
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
	epoll_ctl(http.ep, EPOLL_CTL_DEL, s, NULL);
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
			curl_multi_assign(http.multi, s, NULL);
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
		if (epoll_ctl(http.ep, EPOLL_CTL_MOD, s, &ev) < 0)
			die(EXIT_FATAL, "epoll_ctl:");
	} else if (epoll_ctl(http.ep, EPOLL_CTL_ADD, s, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(http.ep, EPOLL_CTL_MOD, s,
	    &ev) < 0)) {
		die(EXIT_FATAL, "epoll_ctl:");
	}
	if (st) {
		st->in_set = 1;
		st->ev = ev.events;
	} else {
		curl_multi_assign(http.multi, s, &http);
	}
	return 0;
}

/* What epoll said about fd: an idle pooled connection leaves the set,
 * anything else goes to libcurl. */
void
http_event(int fd, uint32_t events)
{
	int running, f;

	if (fd < http.nsocks && http.socks[fd].ours &&
	    !http.socks[fd].on) {
		/* an idle pooled connection (closed by the server, say):
		 * libcurl finds out on reuse */
		sock_unset(fd, &http.socks[fd]);
		return;
	}
	f = (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
	    (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
	    (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	curl_multi_socket_action(http.multi, fd, f, &running);
	if (http.upq_kick)
		turns_pass();
}

void
http_timers(void)
{
	int running;

	if (http.curl_due >= 0 && now_ms() >= http.curl_due) {
		http.curl_due = -1;
		curl_multi_socket_action(http.multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	if (http.upq_kick || http.upq_head)
		turns_pass();
}

/* curl's timer, or the next stalled turn to pass on. */
double
http_due(void)
{
	double due = http.curl_due;
	int i;

	for (i = 0; i < UPLOAD_TURNS && http.upq_head; i++)
		if (http.turn[i] && (due < 0 ||
		    http.turn[i]->up_t + TURN_STALL < due))
			due = http.turn[i]->up_t + TURN_STALL;
	return due;
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	http.curl_due = ms < 0 ? -1 : now_ms() + ms;
	return 0;
}

/* x starts (on = 1) or stops moving a big body, which coalesce() must
 * not slow down. */
static void
xfer_busy(struct xfer *x, int on)
{
	if (on && !x->busy)
		http.busy++;
	else if (!on && x->busy)
		http.busy--;
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

/* Give x a turn if one is free. */
static int
turn_take(struct xfer *x)
{
	int i;

	for (i = 0; i < UPLOAD_TURNS; i++)
		if (!http.turn[i]) {
			http.turn[i] = x;
			x->up = UP_TURN;
			x->up_t = now_ms();
			return 1;
		}
	return 0;
}

/* x's body no longer holds or waits for a turn (all of it is with
 * libcurl, it stalled, or the transfer ends). */
static void
turn_end(struct xfer *x)
{
	struct xfer **p, *prev = NULL;
	int i;

	if (x->up == UP_TURN) {
		for (i = 0; i < UPLOAD_TURNS; i++)
			if (http.turn[i] == x)
				http.turn[i] = NULL;
		http.upq_kick = 1;	/* curl calls wait for the loop */
	} else if (x->up == UP_WAIT) {
		for (p = &http.upq_head; *p != x; p = &(*p)->upnext)
			prev = *p;
		*p = x->upnext;
		if (http.upq_tail == x)
			http.upq_tail = prev;
		x->upnext = NULL;
	}
	x->up = UP_NONE;
}

/* From the loop: turns of stalled bodies go to the next in line, and
 * the bodies whose turn came resume. */
static void
turns_pass(void)
{
	struct xfer *x;
	double t = now_ms();
	int i;

	for (i = 0; i < UPLOAD_TURNS && http.upq_head; i++)
		if ((x = http.turn[i]) && t - x->up_t >= TURN_STALL)
			turn_end(x);
	http.upq_kick = 0;
	while ((x = http.upq_head) && turn_take(x)) {
		http.upq_head = x->upnext;
		if (!http.upq_head)
			http.upq_tail = NULL;
		x->upnext = NULL;
		curl_easy_pause(x->h, CURLPAUSE_CONT);
	}
}

/* The upload body: the request's segments in order, without copying. */
static size_t
read_cb(char *buf, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct prov_req *rq = &x->rq;
	size_t room = sz * n, got = 0, k;

	if (x->up == UP_ASK && !turn_take(x)) {
		x->up = UP_WAIT;
		if (http.upq_tail)
			http.upq_tail->upnext = x;
		else
			http.upq_head = x;
		http.upq_tail = x;
		return CURL_READFUNC_PAUSE;
	}
	x->up_t = now_ms();
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
	if (x->seg == rq->nseg) {
		xfer_busy(x, 0);	/* all of it handed over */
		turn_end(x);
	}
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

struct xfer *
xfer_new(void)
{
	struct xfer *x = ecalloc(1, sizeof *x);

	x->h = easy_get();
	x->retry_after_ms = -1;
	x->max_resp = MAX_RESPONSE;
	prov_req_init(&x->rq, x->h);
	return x;
}

void
xfer_start(struct xfer *x)
{
	CURL *h = x->h;
	long tmo = x->tmo_ms ? x->tmo_ms : (long)econf->timeout_ms;

	curl_easy_setopt(h, CURLOPT_URL, x->rq.url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)econf->connect_timeout_ms);
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
		    (curl_off_t)econf->max_image_bytes);
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

			memcpy(x->flat + n, sg->p ? sg->p : x->rq.own.s +
			    sg->off,
			    sg->len);
			n += sg->len;
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
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
		if (prov_body_len(&x->rq) >= TURN_BODY &&
		    strncasecmp(x->rq.url, "https:", 6))
			x->up = UP_ASK;
	}
	if (x->rq.method && strcmp(x->rq.method, "GET") &&
	    strcmp(x->rq.method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->rq.method);
	else if (x->rq.method && !strcmp(x->rq.method, "POST") &&
	    !x->rq.has_body && !x->rq.mime) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	x->next = http.xfers;
	x->prev = NULL;
	if (http.xfers)
		http.xfers->prev = x;
	http.xfers = x;
	x->t0 = now_ms();
	if (curl_multi_add_handle(http.multi, h) != CURLM_OK)
		die(EXIT_FATAL, "curl_multi_add_handle failed");
}

void
xfer_free(struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else if (http.xfers == x)
		http.xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	xfer_busy(x, 0);
	turn_end(x);
	curl_multi_remove_handle(http.multi, x->h);
	prov_req_free(&x->rq);
	easy_put(x->h);
	sb_free(&x->resp);
	free(x->flat);
	free(x->req_id);
	free(x);
}

/* ---- reference images ------------------------------------------------ */

/* Hand finished transfers on; how many there were. */
int
http_done(void)
{
	CURLMsg *m;
	struct xfer *x;
	int left, done = 0;

	while ((m = curl_multi_info_read(http.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		done++;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		if (x->ref) {
			ref_fetched(x, m->data.result);
		} else if (!x->job) {
			http.detached--;	/* an abandon request: done */
			xfer_free(x);
		} else {
			job_answered(x, m->data.result);
		}
	}
	return done;
}

int
http_busy(void)
{
	return http.busy;
}

int
http_detached(void)
{
	return http.detached;
}

void
http_detach(struct xfer *x)
{
	http.detached++;
	xfer_start(x);
}

double
http_latency(void)
{
	return http.lat_ms;
}

void
http_note_latency(double ms)
{
	http.lat_ms = http.lat_ms ? 0.95 * http.lat_ms + 0.05 * ms : ms;
}

void
http_init(int ep, long maxconnects)
{
	memset(&http, 0, sizeof http);
	http.ep = ep;
	http.curl_due = -1;
	if (!(http.multi = curl_multi_init()))
		die(EXIT_FATAL, "curl_multi_init failed");
	curl_multi_setopt(http.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(http.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(http.multi, CURLMOPT_MAXCONNECTS, maxconnects);
}

void
http_fini(void)
{
	int i;

	while (http.xfers)
		xfer_free(http.xfers);
	for (i = 0; i < http.npool; i++)
		curl_easy_cleanup(http.pool[i]);
	free(http.pool);
	curl_multi_cleanup(http.multi);	/* closes sockets: close_cb */
	free(http.socks);
}
