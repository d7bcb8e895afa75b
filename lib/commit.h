/* commit: group commit of bg-generate's store writes (doc/contract.md
 * "The store", durability).
 *
 * A fsync per file cost most of bg-generate's CPU on a real disk and
 * stalled its loop.  Instead the results of a few tens of milliseconds are
 * written and made durable together by a thread of their own, in this
 * order:
 *
 *   objects and cache entries written into files without a name
 *   -> syncfs(2) of the store: their bytes
 *   -> objects named, then cache entries named -> syncfs: their names
 *   -> the group's result lines written (commit_done, in the loop).
 *
 * So no name (an object's, which a later run takes as whole by its size),
 * no cache entry that answers a later run and no result line stands for
 * bytes that a crash could still take back, and the loop never waits for
 * the disk; a kill -9 leaves the nameless files to vanish with it. */
#ifndef BG_COMMIT_H
#define BG_COMMIT_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct commit;

/* The group commit of the store at root.  Open it after signals are
 * blocked: its thread (started with the first group) inherits the mask. */
struct commit *commit_open(const char *root);
/* Wait for every result (commit_flush) and stop the thread. */
void commit_close(struct commit *c);

/* Store data (len bytes, copied) as an object: sha (65 bytes) gets its
 * hash, the return value (malloc'd) its path relative to root. */
char *commit_object(struct commit *c, const void *data, size_t len,
    const char *ext, char sha[65]);
/* Cache entry key holding json (len bytes, copied), named once the
 * objects it names are durable (a failure is a warning). */
void commit_cache(struct commit *c, const char *key, const char *json,
    size_t len);
/* A result record, written once the files of its group are durable. */
void commit_line(struct commit *c, const cJSON *rec);

/* A record that names no new file (a failure, a bad line, a cached
 * answer): written now when nothing is pending, else after the pending
 * groups, so that lines keep the order in which jobs finished. */
void commit_write(struct commit *c, const cJSON *rec);

/* Readable (add it to the epoll set) when a group is durable: then
 * commit_done writes its lines. */
int commit_fd(const struct commit *c);
void commit_done(struct commit *c);
/* Hand the open group to the thread if it is due (or now, when idle:
 * nothing else is coming soon) and the thread is free. */
void commit_kick(struct commit *c, int idle);
/* When the open group will be due (ms, util_now_ms); < 0: none waits. */
double commit_due(const struct commit *c);
/* Results whose lines are not written yet (0: nothing is pending). */
int commit_pending(const struct commit *c);
/* Every result durable and written, waiting as long as that takes. */
void commit_flush(struct commit *c);

#endif
