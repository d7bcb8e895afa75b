/* commit: group commit of bg-generate's store writes (see commit.h).
 *
 * The loop fills the open group (objects' and cache entries' bytes,
 * result lines); commit_kick hands it to the thread when it is due, while
 * the thread is free; the thread writes it, makes it durable and says so
 * on an eventfd; commit_done then writes its lines.  One group at a time
 * is with the thread: a slow disk makes the next group larger, not the
 * syncs more frequent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cachenames.h"
#include "commit.h"
#include "err.h"
#include "ndjson.h"
#include "store.h"
#include "util.h"

/* A group is due when it holds GROUP_MAX results or GROUP_BYTES bytes,
 * or its first result is GROUP_MS old (at once when the loop goes idle).
 * A syncfs costs about a millisecond of CPU on ext4 whatever it writes
 * (measured: tests/bench/generate.sh), so groups are sized to make that
 * small per result: at 500 answers a second, groups of 50 ms spent 0.07
 * ms a request on syncs, 250 ms a fifth of that.  Waiting costs no
 * throughput (a request's slot is free as soon as its answer is in),
 * only latency of the lines. */
/* A group's cache entries go into files of at most PACK_MAX entries or
 * PACK_BYTES bytes, each file named under each of its entries' keys
 * (store.h): a name costs a third of a file of its own on ext4, and a
 * later run's hit reads one such file. */
#define PACK_MAX 32
#define PACK_BYTES ((size_t)256 << 10)
#define GROUP_MAX 256
#define GROUP_MS 250.0
#define GROUP_BYTES ((size_t)32 << 20)
/* held before the loop waits for the disk */
#define HOLD_MAX 4096
#define HOLD_BYTES ((size_t)256 << 20)

struct entry {
	char *path;	/* relative to the store */
	char *data;	/* NULL once written */
	size_t len;
	int object;	/* else a cache entry */
	int fd;		/* written, not named yet */
	char *tmp;	/* its temporary name where O_TMPFILE is missing */
	int pack;	/* a cache entry: the entry whose fd holds its line */
};

struct group {
	struct entry *e;
	int ne, cape;
	struct sbuf lines;
	int nres;
	size_t bytes;
	double t0;
	int fatal_errno;	/* nothing here is durable */
	const char *fatal_what;
	int nbad, bad_errno;	/* cache entries left without a name */
	char *bad;
};

struct commit {
	char *root;
	int rootfd, efd;
	struct group *open;
	struct group *busy;	/* the thread's; NULL: the thread is free */
	int busy_done, quit;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void
group_free(const struct commit *c, struct group *g)
{
	struct entry *e;
	int i;

	for (i = 0; i < g->ne; i++) {
		e = &g->e[i];
		store_discard(e->fd, c->rootfd, e->tmp);
		free(e->path);
		free(e->data);
	}
	free(g->e);
	sb_free(&g->lines);
	free(g->bad);
	free(g);
}

static void
bad_entry(struct group *g, const struct entry *e)
{
	if (!g->nbad++) {
		g->bad_errno = errno;
		g->bad = estrdup(e->path);
	}
}

/* The cache entries' lines into files without a name, PACK_MAX a file:
 * each entry's pack is the first entry of its file, which holds the
 * descriptor. */
static void
stage_packs(struct commit *c, struct group *g)
{
	struct sbuf b = { 0 };
	struct entry *e, *first = NULL;
	int i, n = 0;

	for (i = 0; i <= g->ne; i++) {
		e = i < g->ne ? &g->e[i] : NULL;
		if (e && e->object)
			continue;
		if (first && (!e || n == PACK_MAX || b.len + e->len >
		    PACK_BYTES)) {
			first->fd = store_stage(c->rootfd, "cache/pack", b.s,
			    b.len, &first->tmp);
			if (first->fd < 0)
				bad_entry(g, first);
			sb_reset(&b);
			n = 0;
			first = NULL;
		}
		if (!e)
			break;
		if (!first)
			first = e;
		e->pack = first - g->e;
		sb_add(&b, e->data, e->len);
		free(e->data);
		e->data = NULL;
		n++;
	}
	sb_free(&b);
}

/* A cache entry's name, for its pack's file. */
static void
name_entry(struct commit *c, struct group *g, const struct entry *e)
{
	const struct entry *p = &g->e[e->pack];

	if ((p->fd < 0 && !p->tmp) || store_link(p->fd, p->tmp, c->rootfd,
	    e->path, 0) < 0)
		bad_entry(g, e);
}

/* The thread's part: every file's bytes without a name, one sync, the
 * names (objects first, then the cache entries that name them), one
 * sync.  So no name, object or cache entry, is ever seen for bytes a
 * crash could still take back; on a journalled filesystem the names
 * become durable in the order they were made. */
static void
make_durable(struct commit *c, struct group *g)
{
	struct entry *e;
	int i;

	if (!g->ne)
		return;	/* lines only (failures): nothing to make durable */
	for (i = 0; i < g->ne; i++) {
		e = &g->e[i];
		if (!e->object)
			continue;
		/* an object already in the store (content-addressed, named
		 * only once durable) is found when it is named: looking
		 * first cost a failed lookup for every new one */
		e->fd = store_stage(c->rootfd, e->path, e->data, e->len,
		    &e->tmp);
		if (e->fd < 0 && !g->fatal_errno) {
			g->fatal_errno = errno;
			g->fatal_what = e->path;
		}
		free(e->data);
		e->data = NULL;
	}
	if (g->fatal_errno)
		return;
	stage_packs(c, g);
	if (syncfs(c->rootfd) < 0)
		goto fatal;
	for (i = 0; i < g->ne && !g->fatal_errno; i++) {
		e = &g->e[i];
		if (!e->object || e->fd < 0)
			continue;
		/* an object named meanwhile holds the same bytes */
		if (store_name(e->fd, e->tmp, c->rootfd, e->path, 1) < 0) {
			g->fatal_errno = errno;
			g->fatal_what = e->path;
		}
		e->fd = -1;	/* store_name closed it, freed tmp */
		e->tmp = NULL;
	}
	/* then, unless an object failed, the cache entries naming them */
	for (i = 0; i < g->ne && !g->fatal_errno; i++)
		if (!g->e[i].object)
			name_entry(c, g, &g->e[i]);
	for (i = 0; i < g->ne; i++) {
		e = &g->e[i];
		store_discard(e->fd, c->rootfd, e->tmp);
		e->fd = -1;
		e->tmp = NULL;
	}
	if (g->fatal_errno)
		return;
	if (syncfs(c->rootfd) == 0)
		return;
fatal:
	g->fatal_errno = errno;
	g->fatal_what = "syncfs";
}

static void *
worker(void *arg)
{
	struct commit *c = arg;
	struct group *g;
	uint64_t one = 1;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->quit && (!c->busy || c->busy_done))
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->quit)
			break;
		g = c->busy;	/* the loop leaves it alone until done */
		pthread_mutex_unlock(&c->mu);
		make_durable(c, g);
		pthread_mutex_lock(&c->mu);
		c->busy_done = 1;
		if (write(c->efd, &one, sizeof one) < 0)
			abort();	/* an eventfd cannot overflow here */
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct commit *
commit_open(const char *root)
{
	struct commit *c = ecalloc(1, sizeof *c);

	c->root = estrdup(root);
	c->rootfd = -1;
	if ((c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		die(EXIT_FATAL, "eventfd:");
	return c;
}

/* The thread and the store's descriptor, at the first group: a run
 * that stores nothing makes no store. */
static void
start(struct commit *c)
{
	if (store_mkdirs(c->root) < 0 || (c->rootfd = open(c->root,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(EXIT_FATAL, "%s:", c->root);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((errno = pthread_create(&c->th, NULL, worker, c)) != 0)
		die(EXIT_FATAL, "pthread_create:");
}

void
commit_close(struct commit *c)
{
	commit_flush(c);
	if (c->rootfd >= 0) {
		pthread_mutex_lock(&c->mu);
		c->quit = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		close(c->rootfd);
	}
	close(c->efd);
	free(c->root);
	free(c);
}

static struct group *
open_group(struct commit *c)
{
	if (!c->open) {
		c->open = ecalloc(1, sizeof *c->open);
		c->open->t0 = util_now_ms();
	}
	return c->open;
}

/* An entry of the open group: path and data (len bytes) are its now. */
static void
add_entry(struct commit *c, char *path, char *data, size_t len, int object)
{
	struct group *g = open_group(c);
	struct entry *e;

	if (g->ne == g->cape) {
		g->cape = g->cape ? 2 * g->cape : 64;
		g->e = erealloc(g->e, g->cape * sizeof *g->e);
	}
	e = &g->e[g->ne++];
	memset(e, 0, sizeof *e);
	e->path = path;
	e->data = data;
	e->len = len;
	e->object = object;
	e->fd = -1;
	g->bytes += len;
}

char *
commit_object(struct commit *c, const void *data, size_t len,
    const char *ext, char sha[65])
{
	char *rel = store_object_rel(data, len, ext, sha);
	char *copy = emalloc(len ? len : 1);

	memcpy(copy, data, len);
	add_entry(c, estrdup(rel), copy, len, 1);
	return rel;
}

void
commit_cache(struct commit *c, const char *key, const char *json,
    size_t len)
{
	struct sbuf b = { 0 };

	store_cache_line(&b, key, json, len);
	add_entry(c, store_cache_path(NULL, key), b.s, b.len, 0);
	cachenames_add(key);	/* a later job of this run looks again */
}

/* Block until the thread is done with its group, and write that. */
static void
wait_thread(struct commit *c)
{
	struct pollfd p = { .fd = c->efd, .events = POLLIN };

	while (c->busy) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die(EXIT_FATAL, "poll:");
		commit_done(c);
	}
}

void
commit_line(struct commit *c, const cJSON *rec)
{
	struct group *g = open_group(c);

	if (nd_print_append(&g->lines, rec) < 0)
		die(EXIT_FATAL, "record cannot be printed (invalid JSON value)");
	sb_addc(&g->lines, '\n');
	g->nres++;
	if ((g->nres >= HOLD_MAX || g->bytes + g->lines.len >= HOLD_BYTES) &&
	    c->busy) {
		/* the disk is slower than the answers: hold no more */
		wait_thread(c);
		commit_kick(c, 1);
	}
}

void
commit_write(struct commit *c, const cJSON *rec)
{
	if (c->open || c->busy)
		commit_line(c, rec);
	else
		nd_write(rec);
}

int
commit_fd(const struct commit *c)
{
	return c->efd;
}

/* Whole lines, as many as fit in PIPE_BUF bytes a write (a longer line
 * alone): a write that size reaches a pipe whole or not at all, so a kill
 * never cuts a line, and a group of short lines costs a few writes
 * instead of one each. */
static void
write_lines(const struct sbuf *b)
{
	const char *p = b->s, *end = b->s + b->len, *q, *nl;

	while (p < end) {
		q = (const char *)memchr(p, '\n', end - p) + 1;
		while (q < end && (nl = memchr(q, '\n', end - q)) &&
		    nl + 1 - p <= PIPE_BUF)
			q = nl + 1;
		nd_write_raw(p, q - p);
		p = q;
	}
}

void
commit_done(struct commit *c)
{
	struct group *g;
	uint64_t n;

	if (read(c->efd, &n, sizeof n) < 0 && errno != EAGAIN)
		die(EXIT_FATAL, "eventfd:");
	pthread_mutex_lock(&c->mu);
	g = c->busy_done ? c->busy : NULL;
	if (g)
		c->busy = NULL;
	pthread_mutex_unlock(&c->mu);
	if (!g)
		return;
	if (g->fatal_errno) {
		errno = g->fatal_errno;
		die(EXIT_FATAL, "%s: %s:", c->root, g->fatal_what);
	}
	if (g->nbad) {
		errno = g->bad_errno;
		warnx("%s/%s%s:", c->root, g->bad, g->nbad > 1 ?
		    " (and others)" : "");
	}
	write_lines(&g->lines);
	group_free(c, g);
	commit_kick(c, 0);
}

void
commit_kick(struct commit *c, int idle)
{
	struct group *g = c->open;

	if (!g || c->busy)
		return;
	if (!idle && g->nres < GROUP_MAX && g->bytes + g->lines.len <
	    GROUP_BYTES &&
	    util_now_ms() < g->t0 + GROUP_MS)
		return;
	if (c->rootfd < 0)
		start(c);
	pthread_mutex_lock(&c->mu);
	c->busy = g;
	c->busy_done = 0;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	c->open = NULL;
}

double
commit_due(const struct commit *c)
{
	if (!c->open || c->busy)
		return -1;	/* the eventfd wakes the loop */
	return c->open->nres >= GROUP_MAX ? c->open->t0 : c->open->t0 +
	    GROUP_MS;
}

int
commit_pending(const struct commit *c)
{
	/* a group of files without lines is pending too */
	return (c->open ? c->open->nres + !c->open->nres : 0) +
	    (c->busy ? c->busy->nres + !c->busy->nres : 0);
}

void
commit_flush(struct commit *c)
{
	while (c->open || c->busy) {
		if (c->busy)
			wait_thread(c);
		else
			commit_kick(c, 1);
	}
}
