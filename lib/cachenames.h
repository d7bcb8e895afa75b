#ifndef CACHENAMES_H
#define CACHENAMES_H

/* Which request keys root's cache holds, known without a failed open per
 * key (lib/cachenames.c says when a shard's names are read).  A run sees
 * the entries there were when it read a shard's names, and its own; an
 * entry another run adds to that shard later is not seen (as one still
 * in flight there never was).  One store per process. */

/* 1 if key is certainly not in root's cache; 0: look (store_cache_get). */
int cachenames_absent(const char *root, const char *key);
/* A lookup of key found nothing: counts toward reading its shard. */
void cachenames_miss(const char *key);
/* This run put key in the cache. */
void cachenames_add(const char *key);
/* Forget everything (tests; a process using another store). */
void cachenames_reset(void);

#endif
