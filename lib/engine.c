/* engine: the loop of bg-generate's engine (see engine.h; the parts and
 * what each owns: engine_int.h).  This file owns setup and teardown, the
 * epoll set, signals (signalfd, the grace period), reading input, the
 * timers' turn, progress and the exit status.
 *
 * Shape (after curl's ephiperfifo example): one epoll set holds curl's
 * sockets (engine_http.c), stdin (EPOLLONESHOT, armed only when a slot is
 * free and the reader has no whole line) and a signalfd; curl's timer
 * callback and our own timers (backoff, provider delays, rate tokens,
 * progress, grace) decide epoll_wait's timeout.
 *
 * A job's life: admit (engine_admit.c: pass-through, validation, cache)
 * -> its reference images (engine_ref.c: shared, fetched once) -> the
 * ready queue (engine_sched.c: a slot, an --rpm token, the budget) -> an
 * attempt (engine_job.c: provider steps over engine_http.c) -> success,
 * retry after a backoff, or a final failure -> one record written, job
 * freed. */

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "commit.h"
#include "err.h"
#include "record.h"
#include "stopearly.h"

#define PROGRESS_MS 500
#define READ_BATCH 256		/* input lines per turn of the loop */

struct engine eng;

/* ---- input ----------------------------------------------------------- */

static void
arm_input(void)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = eng.in.rd->fd;
	if (eng.in.armed && eng.in.fd == eng.in.rd->fd) {
		if (epoll_ctl(eng.loop.ep, EPOLL_CTL_MOD, eng.in.rd->fd,
		    &ev) == 0)
			return;
	}
	if (epoll_ctl(eng.loop.ep, EPOLL_CTL_ADD, eng.in.rd->fd, &ev) == 0 ||
	    (errno == EEXIST &&
	    epoll_ctl(eng.loop.ep, EPOLL_CTL_MOD, eng.in.rd->fd, &ev) == 0)) {
		eng.in.armed = 1;
		eng.in.fd = eng.in.rd->fd;
		return;
	}
	/* not pollable: let reads block instead */
	fcntl(eng.in.rd->fd, F_SETFL,
	    fcntl(eng.in.rd->fd, F_GETFL) & ~O_NONBLOCK);
	eng.in.wait = 0;
}

/* Whether read_input would take another line now.  The loop must not
 * sleep while it would: a regular file never wakes epoll, and offline jobs
 * finish inside dispatch, freeing slots without any event. */
static int
can_read(void)
{
	return !eng.loop.stopping && !eng.in.eof && !eng.in.wait &&
	    eng.work.active < eng.work.max_active &&
	    !(eng.refs.bytes > REF_SOFT && eng.sched.rq_head);
}

static void
read_input(void)
{
	cJSON *o;
	int rc, n = 0;

	/* read ahead, unless big references already wait in the queue */
	eng.in.more = 0;
	while (can_read()) {
		if (++n > READ_BATCH) {
			/* a run of cached or passed-through records: let
			 * the loop see transfers and signals in between */
			eng.in.more = 1;
			break;
		}
		rc = nd_get(eng.in.rd, STAGE, &o);
		if (rc == ND_AGAIN) {
			eng.in.wait = 1;
			arm_input();
			continue;
		}
		if (rc == ND_END || rc == ND_FOLLOW) {
			eng.in.eof = 1;
			break;
		}
		if (rc == ND_LINE) {
			admit(o);
			continue;
		}
		eng.in.badlines++;
		commit_write(eng.work.commit, o);
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

	if (eng.in.eof)
		return;
	while ((rc = nd_get(eng.in.rd, STAGE, &o)) == ND_LINE || rc == ND_BAD) {
		if (rc == ND_LINE) {
			if (strcmp(rec_status(o), "succeeded") &&
			    !rec_passes(o, STAGE)) {
				cJSON *e = rec_fail_status(o, "canceled",
				    STAGE, "canceled", 1, "%s",
				    eng.loop.signo == SIGINT ?
				    "interrupted (SIGINT)" :
				    "terminated (SIGTERM)");

				cJSON_AddNumberToObject(e, "attempts", 0);
				eng.stats.n_failed++;
				eng.stats.n_canceled++;
			}
		} else {
			eng.in.badlines++;
		}
		nd_write(o);
		cJSON_Delete(o);
	}
}

static void
on_signal(int signo)
{
	struct job *j, *next;

	if (eng.loop.stopping) {
		eng.loop.grace_due = now_ms();	/* a second signal: stop now */
		return;
	}
	eng.loop.stopping = 1;
	eng.loop.signo = signo;
	eng.loop.grace_due = now_ms() + eng.c->grace_ms;
	/* what is not on the wire stops now */
	for (j = eng.work.list; j; j = next) {
		next = j->next;
		if (!j->holds_slot)
			job_cancel(j);
	}
}

static void
cancel_all(void)
{
	while (eng.work.list)
		job_cancel(eng.work.list);
}

static void
progress(int last)
{
	double t = now_ms(), el = (t - eng.loop.t_start) / 1000, rate;
	char eta[48] = "";
	struct stat st;
	off_t pos;

	if (!eng.loop.progress_on)
		return;
	rate = el > 0 ? (eng.stats.n_done + eng.stats.n_failed) / el : 0;
	if (eng.in.rd->fd >= 0 && fstat(eng.in.rd->fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (pos = lseek(eng.in.rd->fd, 0, SEEK_CUR) -
	    (off_t)(eng.in.rd->end - eng.in.rd->start)) > 0 && rate > 0) {
		double left = el * (st.st_size - pos) / pos +
		    (double)eng.work.active / rate;

		snprintf(eta, sizeof eta, ", eta %.0fs", left);
	}
	fprintf(stderr, "\r%s: %ld done (%ld cached), %ld failed, %d in "
	    "flight, %.1f/s%s%s%s%s%s\033[K%s", argv0, eng.stats.n_done,
	    eng.stats.n_cached, eng.stats.n_failed, eng.sched.inflight, rate,
	    eta, se_first() ? ", stopped: " : "",
	    se_first() ? se_first()->conf->p->name : "",
	    se_first() ? " " : "", se_first() ? se_first()->code : "",
	    last ? "\n" : "");
	eng.loop.progress_due = t + PROGRESS_MS;
}

/* ---- the loop -------------------------------------------------------- */

static void
run_timers(void)
{
	double t = now_ms();
	struct job *j;

	while ((j = heap_due(t))) {
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

	if (http_due() >= 0 && http_due() < due)
		due = http_due();
	due = sched_due(due);
	if (eng.loop.progress_on && eng.loop.progress_due < due)
		due = eng.loop.progress_due;
	if (eng.loop.stopping && eng.work.active && eng.loop.grace_due < due)
		due = eng.loop.grace_due;
	if (commit_due(eng.work.commit) >= 0 &&
	    commit_due(eng.work.commit) < due)
		due = commit_due(eng.work.commit);
	if (due <= t || eng.in.more || can_read())
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
	memset(&eng, 0, sizeof eng);
	eng.c = c;
	eng.in.rd = r;
	eng.in.fd = -1;
	/* read ahead of the slots, so a freed slot finds a job whose images
	 * are loaded, but not so far that references pile up in memory */
	eng.work.max_active = c->jobs + (c->jobs / 4 > 8 ? c->jobs / 4 : 8);
	sched_init();
	eng.loop.t_start = now_ms();
	eng.loop.progress_on = c->progress && isatty(2);
	refs_init();
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
	if ((eng.loop.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EXIT_FATAL, "epoll_create1:");
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0 ||
	    (eng.loop.sigfd = signalfd(-1, &ss,
	    SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die(EXIT_FATAL, "signalfd:");
	ev.events = EPOLLIN;
	ev.data.fd = eng.loop.sigfd;
	if (epoll_ctl(eng.loop.ep, EPOLL_CTL_ADD, eng.loop.sigfd, &ev) < 0)
		die(EXIT_FATAL, "epoll_ctl:");
	/* after the mask: the commit thread inherits it */
	eng.work.commit = commit_open(c->root);
	ev.data.fd = commit_fd(eng.work.commit);
	if (epoll_ctl(eng.loop.ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		die(EXIT_FATAL, "epoll_ctl:");
	/* stdin is read from the loop: it must never block it (and the
	 * flag, shared with the shell on a terminal, is undone at exit) */
	if (fstat(0, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !(fcntl(0, F_GETFL) & O_NONBLOCK)) {
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		atexit(stdin_blocking);
	}
	http_init(eng.work.max_active + 16);
}

static void
teardown(void)
{
	commit_close(eng.work.commit);	/* nothing is pending by now */
	http_fini();	/* every transfer first: they hold references */
	refs_fini();
	sched_fini();
	provs_fini();
	curl_global_cleanup();
	se_reset();
	close(eng.loop.sigfd);
	close(eng.loop.ep);
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
	double d = eng.http.lat_ms / 200;

	if (w <= 0 || last <= 0 || last >= 16 || eng.http.busy ||
	    eng.sched.inflight < 32 || eng.loop.stopping || d < 1)
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
	int n, i, rc;

	setup(c, r);
	n = 0;
	for (;;) {
		read_input();
		dispatch();
		if (eng.loop.stopping && eng.work.active &&
		    now_ms() >= eng.loop.grace_due)
			cancel_all();
		/* the lines of results made durable together: sooner when
		 * no job is left to add to the group */
		commit_kick(eng.work.commit, eng.work.active == 0);
		if ((eng.in.eof || eng.loop.stopping) && eng.work.active == 0 &&
		    !eng.http.detached && !commit_pending(eng.work.commit))
			break;
		if (eng.loop.progress_on && now_ms() >= eng.loop.progress_due)
			progress(0);
		n = epoll_wait(eng.loop.ep, evs, 64, coalesce(wait_ms(), n));
		if (n < 0 && errno != EINTR)
			die(EXIT_FATAL, "epoll_wait:");
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == eng.loop.sigfd) {
				while (read(eng.loop.sigfd, &si, sizeof si) ==
				    sizeof si)
					on_signal((int)si.ssi_signo);
			} else if (eng.in.armed && fd == eng.in.fd) {
				eng.in.wait = 0;
			} else if (fd == commit_fd(eng.work.commit)) {
				commit_done(eng.work.commit);
			} else {
				http_event(fd, evs[i].events);
			}
		}
		http_timers();
		http_done();
		run_timers();
	}
	if (eng.loop.stopping)
		drain_input();
	progress(1);
	teardown();
	rc = eng.in.badlines || nd_open_failures ? EXIT_BADLINES : EXIT_DONE;
	if (eng.loop.signo) {
		rc = EXIT_FATAL;
		if (eng.stats.n_failed > eng.stats.n_canceled)
			warnx("interrupted: %ld done, %ld failed, %ld canceled; "
			    "run the same command again to resume",
			    eng.stats.n_done,
			    eng.stats.n_failed - eng.stats.n_canceled,
			    eng.stats.n_canceled);
		else
			warnx("interrupted: %ld done, %ld canceled; run the "
			    "same command again to resume", eng.stats.n_done,
			    eng.stats.n_canceled);
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
