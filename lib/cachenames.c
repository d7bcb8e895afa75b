/* cachenames: which request keys the store's cache holds, so that a new
 * request costs no failed open (see cachenames.h).
 *
 * bg-generate looks every job up in cache/<aa>/<key>.json (and an older
 * bg-generate's key too): for a run of new requests that was two failed
 * path lookups per job, 7 % of its CPU on tmpfs and more on ext4.  A
 * shard's names are read instead, once reading them costs less than the
 * lookups they save: a shard folder that does not exist at once, others
 * after enough misses for their size (st_size: about 80 bytes a name on
 * ext4, 20 on tmpfs; a readdir name costs some 50 ns, a failed open some
 * 2-5 us).  A big store cut into small runs (parallel --pipe) keeps
 * asking per key. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachenames.h"
#include "err.h"
#include "util.h"

#define NSHARD 256
/* names read when misses * MISS_NAMES >= st_size / NAME_BYTES */
#define MISS_NAMES 64
#define NAME_BYTES 64

struct key { uint64_t w[4]; };

static struct {
	int cachefd;		/* root/cache; -1: not open (yet) */
	char *root;
	unsigned misses[NSHARD];
	unsigned next_check[NSHARD];	/* misses at the next look */
	unsigned char read[NSHARD];	/* its names are in the set */
	struct key *set;	/* open addressing; all-zero: empty slot */
	size_t n, cap;
} cn = { .cachefd = -1 };

/* A 64-digit hex key as 32 bytes; -1 if it is not one. */
static int
parse_key(const char *s, struct key *k)
{
	unsigned char *b = (unsigned char *)k->w;
	int i, hi, lo;

	for (i = 0; i < 32; i++) {
		if ((hi = util_hexval(s[2 * i])) < 0 || (lo = util_hexval(s[2 * i + 1])) < 0)
			return -1;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
shard_of(const char *key)
{
	int hi = util_hexval(key[0]), lo = util_hexval(key[1]);

	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

static void
shard_name(int shard, char name[3])
{
	static const char hex[] = "0123456789abcdef";

	name[0] = hex[shard >> 4 & 15];
	name[1] = hex[shard & 15];
	name[2] = '\0';
}

static int
is_empty(const struct key *k)
{
	return !(k->w[0] | k->w[1] | k->w[2] | k->w[3]);
}

static struct key *
slot(struct key *set, size_t cap, const struct key *k)
{
	size_t i = (size_t)(k->w[1] ^ k->w[0] >> 17) & (cap - 1);

	while (!is_empty(&set[i]) && memcmp(&set[i], k, sizeof *k))
		i = (i + 1) & (cap - 1);
	return &set[i];
}

static void
insert(const struct key *k)
{
	struct key *old = cn.set, *s;
	size_t i, ocap = cn.cap;

	if (is_empty(k))
		return;	/* the all-zero key marks an empty slot */
	if (2 * (cn.n + 1) > cn.cap) {
		cn.cap = cn.cap ? 2 * cn.cap : 1024;
		cn.set = ecalloc(cn.cap, sizeof *cn.set);
		for (i = 0; i < ocap; i++)
			if (!is_empty(&old[i]))
				*slot(cn.set, cn.cap, &old[i]) = old[i];
		free(old);
	}
	s = slot(cn.set, cn.cap, k);
	if (is_empty(s)) {
		*s = *k;
		cn.n++;
	}
}

/* Read shard's names into the set: 0, or -1 (and the shard is still
 * asked per key) when its folder cannot be read. */
static int
read_shard(int shard)
{
	char name[3];
	struct dirent *d;
	struct key k;
	DIR *dir;
	int fd;

	shard_name(shard, name);
	fd = openat(cn.cachefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((d = readdir(dir)))
		if (strlen(d->d_name) == 69 && !strcmp(d->d_name + 64, ".json")
		    && parse_key(d->d_name, &k) == 0)
			insert(&k);
	closedir(dir);
	return 0;
}

/* After a miss in shard: read its names if that is now the cheaper way. */
static void
consider(int shard)
{
	struct stat st;
	char name[3];

	if (++cn.misses[shard] < cn.next_check[shard])
		return;
	cn.next_check[shard] = 2 * cn.misses[shard];
	shard_name(shard, name);
	if (fstatat(cn.cachefd, name, &st, 0) < 0) {
		if (errno == ENOENT)
			cn.read[shard] = 1;	/* no folder: no names */
		return;
	}
	if ((uintmax_t)st.st_size / NAME_BYTES <=
	    (uintmax_t)cn.misses[shard] * MISS_NAMES && read_shard(shard) == 0)
		cn.read[shard] = 1;
}

static int
open_cache(const char *root)
{
	char *p;

	if (cn.cachefd >= 0)
		return 0;
	if (cn.root && !strcmp(cn.root, root))
		return -1;	/* tried: no cache folder yet */
	free(cn.root);
	cn.root = estrdup(root);
	p = easprintf("%s/cache", root);
	cn.cachefd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(p);
	return cn.cachefd < 0 ? -1 : 0;
}

int
cachenames_absent(const char *root, const char *key)
{
	struct key k;
	int shard = shard_of(key);

	if (shard < 0 || strlen(key) != 64 || parse_key(key, &k) < 0)
		return 0;
	if (open_cache(root) < 0) {
		/* no cache folder when the run began: nothing but what this
		 * run writes (cachenames_add) */
		return cn.n == 0 || is_empty(slot(cn.set, cn.cap, &k));
	}
	if (!cn.read[shard])
		return 0;
	return cn.n == 0 || is_empty(slot(cn.set, cn.cap, &k));
}

void
cachenames_miss(const char *key)
{
	int shard = shard_of(key);

	if (shard >= 0 && cn.cachefd >= 0 && !cn.read[shard])
		consider(shard);
}

void
cachenames_add(const char *key)
{
	struct key k;

	if (strlen(key) == 64 && parse_key(key, &k) == 0)
		insert(&k);
}

void
cachenames_reset(void)
{
	if (cn.cachefd >= 0)
		close(cn.cachefd);
	free(cn.root);
	free(cn.set);
	memset(&cn, 0, sizeof cn);
	cn.cachefd = -1;
}
