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
#include "cachenames.h"
#include "commit.h"
#include "err.h"
#include "record.h"
#include "stopearly.h"

#define PROGRESS_MS 500
#define READ_BATCH 256		/* input lines per turn of the loop */

const struct engine_conf *econf;

static struct {
	int ep, sigfd;		/* the epoll set, signals */
	int stopping, signo;	/* a signal came: which */
	double grace_due;	/* when requests in flight are given up */
	double t_start, progress_due;
	int progress_on;
	long max_active;	/* jobs read ahead of the slots */
	struct commit *commit;	/* results' files made durable by groups */
} loop;

static struct {			/* the input */
	struct nd_reader *rd;
	int eof, wait, armed, fd;
	int more;		/* read_input stopped early: call it again */
	long badlines;
} in;

static long stats[STAT_N];	/* outcomes, for progress and the end */

void
stats_add(int which)
{
	stats[which]++;
}

int
loop_signal(void)
{
	return loop.signo;
}

int
loop_stopping(void)
{
	return loop.stopping;
}

struct commit *
loop_commit(void)
{
	return loop.commit;
}

void
progress_break(void)
{
	if (loop.progress_on)
		fputc('\n', stderr);
}

/* ---- input ----------------------------------------------------------- */

static void
arm_input(void)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = in.rd->fd;
	if (in.armed && in.fd == in.rd->fd) {
		if (epoll_ctl(loop.ep, EPOLL_CTL_MOD, in.rd->fd,
		    &ev) == 0)
			return;
	}
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, in.rd->fd, &ev) == 0 ||
	    (errno == EEXIST &&
	    epoll_ctl(loop.ep, EPOLL_CTL_MOD, in.rd->fd, &ev) == 0)) {
		in.armed = 1;
		in.fd = in.rd->fd;
		return;
	}
	/* not pollable: let reads block instead */
	fcntl(in.rd->fd, F_SETFL,
	    fcntl(in.rd->fd, F_GETFL) & ~O_NONBLOCK);
	in.wait = 0;
}

/* Whether read_input would take another line now.  The loop must not
 * sleep while it would: a regular file never wakes epoll, and offline jobs
 * finish inside dispatch, freeing slots without any event. */
static int
can_read(void)
{
	return !loop.stopping && !in.eof && !in.wait &&
	    jobs_active() < loop.max_active &&
	    !(refs_bytes() > REF_SOFT && sched_queued());
}

static void
read_input(void)
{
	cJSON *o;
	int rc, n = 0;
	double t0 = now_ms();

	/* read ahead, unless big references already wait in the queue */
	in.more = 0;
	while (can_read()) {
		if (++n > READ_BATCH || (sched_queued() && now_ms() - t0 >
		    LOOP_TURN_MS)) {
			/* a run of cached or passed-through records, or of
			 * references read from disk while jobs are ready:
			 * let the loop send and see signals in between */
			in.more = 1;
			break;
		}
		rc = nd_get(in.rd, STAGE, &o);
		if (rc == ND_AGAIN) {
			in.wait = 1;
			arm_input();
			continue;
		}
		if (rc == ND_END || rc == ND_FOLLOW) {
			in.eof = 1;
			break;
		}
		if (rc == ND_LINE) {
			admit(o);
			continue;
		}
		in.badlines++;
		commit_write(loop.commit, o);
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

	if (in.eof)
		return;
	while ((rc = nd_get(in.rd, STAGE, &o)) == ND_LINE || rc == ND_BAD) {
		if (rc == ND_LINE) {
			if (strcmp(rec_status(o), "succeeded") &&
			    !rec_passes(o, STAGE)) {
				cJSON *e = rec_fail(o, STAGE,
				    EC_CANCELED, "%s",
				    loop.signo == SIGINT ?
				    "interrupted (SIGINT)" :
				    "terminated (SIGTERM)");

				cJSON_AddNumberToObject(e, "attempts", 0);
				stats_add(STAT_FAILED);
				stats_add(STAT_CANCELED);
			}
		} else {
			in.badlines++;
		}
		commit_write(loop.commit, o);
		cJSON_Delete(o);
	}
}

static void
on_signal(int signo)
{
	struct job *j, *next;

	if (loop.stopping) {
		loop.grace_due = now_ms();	/* a second signal: now */
		return;
	}
	loop.stopping = 1;
	loop.signo = signo;
	loop.grace_due = now_ms() + econf->grace_ms;
	/* what is not on the wire stops now */
	for (j = jobs_first(); j; j = next) {
		next = j->next;
		if (!j->holds_slot)
			job_cancel(j);
	}
}

static void
cancel_all(void)
{
	while (jobs_first())
		job_cancel(jobs_first());
}

static void
progress(int last)
{
	double t = now_ms(), el = (t - loop.t_start) / 1000, rate;
	char eta[48] = "";
	struct stat st;
	off_t pos;

	if (!loop.progress_on)
		return;
	rate = el > 0 ? (stats[STAT_DONE] + stats[STAT_FAILED]) / el : 0;
	if (in.rd->fd >= 0 && fstat(in.rd->fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (pos = lseek(in.rd->fd, 0, SEEK_CUR) -
	    (off_t)(in.rd->end - in.rd->start)) > 0 && rate > 0) {
		double left = el * (st.st_size - pos) / pos +
		    (double)jobs_active() / rate;

		snprintf(eta, sizeof eta, ", eta %.0fs", left);
	}
	fprintf(stderr, "\r%s: %ld done (%ld cached), %ld failed, %d in "
	    "flight, %.1f/s%s%s%s%s%s\033[K%s", argv0, stats[STAT_DONE],
	    stats[STAT_CACHED], stats[STAT_FAILED], sched_inflight(), rate,
	    eta, se_first() ? ", stopped: " : "",
	    se_first() ? se_first()->conf->p->name : "",
	    se_first() ? " " : "", se_first() ? ec_name(se_first()->code) : "",
	    last ? "\n" : "");
	loop.progress_due = t + PROGRESS_MS;
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
	if (loop.progress_on && loop.progress_due < due)
		due = loop.progress_due;
	if (loop.stopping && jobs_active() && loop.grace_due < due)
		due = loop.grace_due;
	if (commit_due(loop.commit) >= 0 &&
	    commit_due(loop.commit) < due)
		due = commit_due(loop.commit);
	if (due <= t || in.more || sched_more() || can_read())
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
	memset(&loop, 0, sizeof loop);
	memset(&in, 0, sizeof in);
	memset(stats, 0, sizeof stats);
	econf = c;
	in.rd = r;
	in.fd = -1;
	/* read ahead of the slots, so a freed slot finds a job whose images
	 * are loaded, but not so far that references pile up in memory */
	loop.max_active = c->jobs + (c->jobs / 4 > 8 ? c->jobs / 4 : 8);
	sched_init();
	loop.t_start = now_ms();
	loop.progress_on = c->progress && isatty(2);
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
	if ((loop.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die(EXIT_FATAL, "epoll_create1:");
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0 ||
	    (loop.sigfd = signalfd(-1, &ss,
	    SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die(EXIT_FATAL, "signalfd:");
	ev.events = EPOLLIN;
	ev.data.fd = loop.sigfd;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, loop.sigfd, &ev) < 0)
		die(EXIT_FATAL, "epoll_ctl:");
	/* after the mask: the commit thread inherits it */
	loop.commit = commit_open(c->root);
	ev.data.fd = commit_fd(loop.commit);
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		die(EXIT_FATAL, "epoll_ctl:");
	/* stdin is read from the loop: it must never block it (and the
	 * flag, shared with the shell on a terminal, is undone at exit) */
	if (fstat(0, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !(fcntl(0, F_GETFL) & O_NONBLOCK)) {
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		atexit(stdin_blocking);
	}
	http_init(loop.ep, loop.max_active + 16);
}

static void
teardown(void)
{
	commit_close(loop.commit);	/* nothing is pending by now */
	http_fini();	/* every transfer first: they hold references */
	refs_fini();
	sched_fini();
	provs_fini();
	curl_global_cleanup();
	se_reset();
	cachenames_reset();
	close(loop.sigfd);
	close(loop.ep);
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
	double d = http_latency() / 200;

	if (w <= 0 || last <= 0 || last >= 16 || http_busy() ||
	    sched_inflight() < 32 || loop.stopping || d < 1)
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
		if (loop.stopping && jobs_active() &&
		    now_ms() >= loop.grace_due)
			cancel_all();
		/* the lines of results made durable together: sooner when
		 * no job is left to add to the group */
		commit_kick(loop.commit, jobs_active() == 0);
		if ((in.eof || loop.stopping) && jobs_active() == 0 &&
		    !http_detached() && !commit_pending(loop.commit))
			break;
		if (loop.progress_on && now_ms() >= loop.progress_due)
			progress(0);
		n = epoll_wait(loop.ep, evs, 64, coalesce(wait_ms(), n));
		if (n < 0 && errno != EINTR)
			die(EXIT_FATAL, "epoll_wait:");
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == loop.sigfd) {
				while (read(loop.sigfd, &si, sizeof si) ==
				    sizeof si)
					on_signal((int)si.ssi_signo);
			} else if (in.armed && fd == in.fd) {
				in.wait = 0;
			} else if (fd == commit_fd(loop.commit)) {
				commit_done(loop.commit);
			} else {
				http_event(fd, evs[i].events);
			}
		}
		http_timers();
		http_done();
		run_timers();
	}
	if (loop.stopping)
		drain_input();
	progress(1);
	teardown();
	rc = in.badlines || nd_open_failures ? EXIT_BADLINES : EXIT_DONE;
	if (loop.signo) {
		rc = EXIT_FATAL;
		if (stats[STAT_FAILED] > stats[STAT_CANCELED])
			warnx("interrupted: %ld done, %ld failed, %ld canceled; "
			    "run the same command again to resume",
			    stats[STAT_DONE],
			    stats[STAT_FAILED] - stats[STAT_CANCELED],
			    stats[STAT_CANCELED]);
		else
			warnx("interrupted: %ld done, %ld canceled; run the "
			    "same command again to resume", stats[STAT_DONE],
			    stats[STAT_CANCELED]);
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
