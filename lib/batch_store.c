/* batch_store: provider batch records in the store (see batch_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch_store.h"
#include "err.h"
#include "ndjson.h"
#include "record.h"
#include "store.h"

static const char *const state_names[] = {
	"open", "creating", "running", "succeeded", "failed", "canceled",
	"expired",
};

const char *
bs_state_name(int st)
{
	return st >= 0 && st <= BS_EXPIRED ? state_names[st] : "unknown";
}

static int
state_of(const char *s)
{
	int i;

	for (i = 0; s && i <= BS_EXPIRED; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return BS_RUNNING;
}

char *
bs_new_id(void)
{
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned char r[4];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r)
		die(EXIT_FATAL, "/dev/urandom:");
	close(fd);
	gmtime_r(&now, &tm);
	strftime(t, sizeof t, "%Y%m%dT%H%M%SZ", &tm);
	return easprintf("%s-%02x%02x%02x%02x", t, r[0], r[1], r[2], r[3]);
}

static char *
path_of(const char *root, const struct pbatch *b, const char *ext)
{
	return easprintf("%s/provider-batches/%s/%s%s", root, b->bp->name,
	    b->id, ext);
}

static void
add_str(struct sbuf *s, const char *k, const char *v)
{
	sb_addf(s, ",\"%s\":", k);
	if (v)
		nd_print_str(s, v);
	else
		sb_adds(s, "null");
}

int
bs_save(const char *root, const struct pbatch *b)
{
	struct sbuf s = {0};
	char *path = path_of(root, b, ".json");
	int rc;

	sb_adds(&s, "{\"id\":");
	nd_print_str(&s, b->id);
	add_str(&s, "provider", b->bp->name);
	add_str(&s, "model", b->model);
	add_str(&s, "endpoint", b->endpoint);
	add_str(&s, "name", b->name);
	add_str(&s, "state", bs_state_name(b->state));
	sb_addf(&s, ",\"collected\":%s,\"jobs\":%ld,\"created\":%.0f",
	    b->collected ? "true" : "false", b->njobs, b->created);
	add_str(&s, "output_file", b->out_file);
	add_str(&s, "error_file", b->err_file);
	add_str(&s, "error", b->fail_msg);
	sb_adds(&s, "}\n");
	rc = store_write_atomic(path, s.s, s.len);
	free(path);
	sb_free(&s);
	return rc;
}

static int
cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

static int
map_keys(const char *root, struct pbatch *b)
{
	char *path = path_of(root, b, ".keys");
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m;

	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size % 65) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	b->keys_len = (size_t)st.st_size;
	if (b->keys_len) {
		m = mmap(NULL, b->keys_len, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			close(fd);
			return -1;
		}
		b->keys = m;
	}
	close(fd);
	return 0;
}

int
bs_write_keys(const char *root, struct pbatch *b, char (*keys)[65],
    size_t n)
{
	char *path = path_of(root, b, ".keys"), *buf;
	size_t i;
	int rc;

	qsort(keys, n, sizeof *keys, cmp_key);
	buf = emalloc(n * 65 + 1);
	for (i = 0; i < n; i++) {
		memcpy(buf + i * 65, keys[i], 64);
		buf[i * 65 + 64] = '\n';
	}
	rc = store_write_atomic(path, buf, n * 65);
	free(buf);
	free(path);
	return rc < 0 ? -1 : map_keys(root, b);
}

int
bs_has_key(const struct pbatch *b, const char *key)
{
	size_t lo = 0, hi = b->keys_len / 65, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(b->keys + mid * 65, key, 64);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static char *
dup_str(const cJSON *o, const char *k)
{
	const char *s = rec_str(o, k);

	return s ? estrdup(s) : NULL;
}

static struct pbatch *
load_one(const char *root, const struct bprov *bp, const char *path)
{
	size_t len;
	char *text = store_read_file(path, 1 << 20, &len);
	cJSON *o = text ? cJSON_ParseWithLength(text, len) : NULL;
	struct pbatch *b = NULL;

	free(text);
	if (!rec_str(o, "id") || rec_bool(o, "collected")) {
		cJSON_Delete(o);
		return NULL;
	}
	b = ecalloc(1, sizeof *b);
	b->bp = bp;
	b->id = dup_str(o, "id");
	b->model = dup_str(o, "model");
	b->endpoint = dup_str(o, "endpoint");
	b->name = dup_str(o, "name");
	b->out_file = dup_str(o, "output_file");
	b->err_file = dup_str(o, "error_file");
	b->fail_msg = dup_str(o, "error");
	b->state = state_of(rec_str(o, "state"));
	b->njobs = (long)rec_num(o, "jobs", 0);
	b->created = rec_num(o, "created", 0);
	cJSON_Delete(o);
	if (!b->model || !b->endpoint || map_keys(root, b) < 0) {
		warnx("%s: unreadable provider batch record", path);
		bs_free(b);
		return NULL;
	}
	return b;
}

struct pbatch **
bs_load_live(const char *root, const struct bprov *bp, int *n)
{
	char *dir = easprintf("%s/provider-batches/%s", root, bp->name), *p;
	struct pbatch **v = NULL, *b;
	struct dirent *d;
	DIR *dp = opendir(dir);
	size_t l;
	int cap = 0;

	*n = 0;
	while (dp && (d = readdir(dp))) {
		l = strlen(d->d_name);
		if (l < 6 || strcmp(d->d_name + l - 5, ".json"))
			continue;
		p = easprintf("%s/%s", dir, d->d_name);
		if ((b = load_one(root, bp, p))) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				v = erealloc(v, cap * sizeof *v);
			}
			v[(*n)++] = b;
		}
		free(p);
	}
	if (dp)
		closedir(dp);
	free(dir);
	return v;
}

void
bs_free(struct pbatch *b)
{
	if (!b)
		return;
	if (b->keys)
		munmap(b->keys, b->keys_len);
	free(b->id);
	free(b->model);
	free(b->endpoint);
	free(b->name);
	free(b->out_file);
	free(b->err_file);
	free(b->fail_msg);
	free(b->jsonl_path);
	free(b);
}

static char *
ref_path(const char *root, const struct bprov *bp, const char *sha)
{
	return easprintf("%s/provider-batches/%s/files/%s", root, bp->name,
	    sha);
}

char *
bs_ref_get(const char *root, const struct bprov *bp, const char *sha,
    double max_age)
{
	char *path = ref_path(root, bp, sha), *text, *nl;
	size_t len;
	double t;

	text = store_read_file(path, 4096, &len);
	free(path);
	if (!text || !(nl = strchr(text, '\n'))) {
		free(text);
		return NULL;
	}
	*nl = '\0';
	t = strtod(nl + 1, NULL);
	if (!*text || (double)time(NULL) - t > max_age) {
		free(text);
		return NULL;
	}
	return text;
}

void
bs_ref_put(const char *root, const struct bprov *bp, const char *sha,
    const char *id)
{
	char *path = ref_path(root, bp, sha);
	char *text = easprintf("%s\n%ld\n", id, (long)time(NULL));

	if (store_write_atomic(path, text, strlen(text)) < 0)
		warnx("%s:", path);
	free(text);
	free(path);
}

int
bs_adopt(const char *root, struct pbatch *b, const struct bctx *x)
{
	char *err = NULL, *path;
	int transient = 0, rc;

	if (!x) {
		warnx("provider batch %s/%s: its create was not answered; "
		    "not looked up without a key", b->bp->name, b->id);
		return -1;
	}
	if ((rc = bp_find(x, b, &err, &transient)) < 0)
		die(EXIT_FATAL, "provider batch %s/%s: its create was not "
		    "answered, and whether it was made cannot be told (%s); "
		    "run again to look again (removing %s/provider-batches/"
		    "%s/%s.json sends its jobs anew: maybe paid twice)",
		    b->bp->name, b->id, err, root, b->bp->name, b->id);
	if (rc) {
		b->state = BS_RUNNING;
		warnx("provider batch %s/%s: adopted %s, made by a create "
		    "whose answer was lost", b->bp->name, b->id, b->name);
	} else {
		b->state = BS_FAILED;
		b->collected = 1;
		b->fail_msg = estrdup("never created (not in the provider's "
		    "list)");
	}
	if (bs_save(root, b) < 0)
		die(EXIT_FATAL, "%s/provider-batches:", root);
	path = path_of(root, b, ".jsonl");	/* the lines sent, or not */
	unlink(path);
	free(path);
	return rc;
}
