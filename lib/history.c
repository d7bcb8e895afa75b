/* history: the store's logs, written and read here: manifest.ndjson and
 * the .json sidecars of filed images, history.ndjson and uploads.ndjson.
 * Reading keeps them bounded, so memory follows --max-generated and
 * --max-uploads, not the file sizes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "err.h"
#include "filing.h"
#include "history.h"
#include "ndjson.h"
#include "record.h"
#include "util.h"

char *
hist_resolve(const char *root, const char *ref)
{
	const char *p;

	for (p = ref; g_ascii_isalnum(*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if ((p > ref && !strncmp(p, "://", 3)) || ref[0] == '/')
		return estrdup(ref);
	return easprintf("%s/%s", root, ref);
}

static int
newer(const struct hist_item *a, const struct hist_item *b)
{
	int c = strcmp(a->created_at, b->created_at);

	return c > 0 || (c == 0 && a->seq > b->seq);
}

static void
item_free(struct hist_item *it)
{
	free(it->created_at);
	free(it->src);
	cJSON_Delete(it->obj);
}

static void
drop(struct hist_list *l, size_t i)
{
	item_free(&l->it[i]);
	memmove(&l->it[i], &l->it[i + 1], (l->n - i - 1) * sizeof *l->it);
	l->n--;
}

/* Insert it keeping newest first and at most l->max; it is consumed. */
static void
insert(struct hist_list *l, struct hist_item *it, int dedup)
{
	size_t i, pos;

	if (dedup && it->sha256) {
		for (i = 0; i < l->n; i++) {
			if (!l->it[i].sha256 || strcmp(l->it[i].sha256,
			    it->sha256))
				continue;
			if (!newer(it, &l->it[i])) {
				item_free(it);
				return;
			}
			drop(l, i);
			break;
		}
	}
	for (pos = 0; pos < l->n && newer(&l->it[pos], it); pos++)
		;
	if (pos >= l->max) {
		item_free(it);
		return;
	}
	if (l->n == l->max)
		drop(l, l->n - 1);
	memmove(&l->it[pos + 1], &l->it[pos], (l->n - pos) * sizeof *l->it);
	l->it[pos] = *it;
	l->n++;
}

static struct hist_list *
list_new(size_t max)
{
	struct hist_list *l = ecalloc(1, sizeof *l);

	l->max = max;
	l->it = ecalloc(max ? max : 1, sizeof *l->it);
	return l;
}

void
hist_list_free(struct hist_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		item_free(&l->it[i]);
	free(l->it);
	free(l);
}

static void
list_destroy(gpointer p)
{
	hist_list_free(p);
}

/* Copy o[key] into e when it is there. */
static void
keep(cJSON *e, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v && !cJSON_IsNull(v))
		cJSON_AddItemToObject(e, key, cJSON_Duplicate(v, 1));
}

/* Build the item for line o; -1 when it names no image. */
static int
make_item(struct hist_item *it, const cJSON *o, const char *root,
    const char *const *fields, long seq)
{
	const char *ref = rec_str(o, "url"), *ts;
	size_t i;

	if (!ref || !*ref)
		ref = rec_str(o, "path");
	if (!ref || !*ref)
		return -1;
	memset(it, 0, sizeof *it);
	ts = rec_str(o, "created_at");
	it->created_at = estrdup(ts ? ts : "");
	it->seq = seq;
	it->src = hist_resolve(root, ref);
	it->obj = cJSON_CreateObject();
	for (i = 0; fields[i]; i++) {
		if (!strcmp(fields[i], "url"))
			cJSON_AddStringToObject(it->obj, "url", it->src);
		else
			keep(it->obj, o, fields[i]);
	}
	it->sha256 = rec_str(it->obj, "sha256");
	it->name = rec_str(it->obj, "name");
	it->kind = rec_str(it->obj, "kind");
	it->id = rec_str(it->obj, "id");
	return 0;
}

/* Open path for reading; 0 when it is missing and may be. */
static int
present(const char *path, int must_exist)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == ENOENT && !must_exist)
		return 0;
	die(EXIT_USAGE, "%s:", path);
}

static const char *const hist_fields[] = {
	"url", "sha256", "batch_id", "job_id", "width", "height", "created_at",
	NULL
};
static const char *const upload_fields[] = {
	"id", "url", "name", "kind", "width", "height", "created_at", NULL
};

/* Read path line by line; each valid line goes to fn. */
static void
each_line(const char *path, int (*fn)(cJSON *o, long seq, void *arg),
    void *arg)
{
	struct nd_reader r;
	char *files[1];
	cJSON *o;
	int rc;

	files[0] = (char *)path;
	nd_open(&r, 1, files);
	r.maxlen = (size_t)1 << 20;
	while ((rc = nd_get(&r, NULL, &o)) != ND_END) {
		if (rc != ND_LINE) {
			warnx("%s:%ld: %s, line skipped", r.name, r.lineno,
			    r.err);
			continue;
		}
		if (fn(o, r.lineno, arg) < 0)
			warnx("%s:%ld: no url or path, line skipped", r.name,
			    r.lineno);
		cJSON_Delete(o);
	}
	nd_close(&r);
}

struct hist_ctx {
	GHashTable *t;
	const char *root;
	size_t max;
	int (*want)(const char *, void *);
	void *arg;
};

static int
hist_line(cJSON *o, long seq, void *arg)
{
	struct hist_ctx *x = arg;
	struct hist_list *l;
	struct hist_item it;
	char b[32];
	const char *id = cat_id(o, "variant_id", b);

	if (!id || (x->want && !x->want(id, x->arg)))
		return 0;
	if (make_item(&it, o, x->root, hist_fields, seq) < 0)
		return -1;
	if (!(l = g_hash_table_lookup(x->t, id))) {
		l = list_new(x->max);
		g_hash_table_insert(x->t, g_strdup(id), l);
	}
	insert(l, &it, 1);
	return 0;
}

GHashTable *
hist_load(const char *path, const char *root, size_t max, int must_exist,
    int (*want)(const char *id, void *arg), void *arg)
{
	struct hist_ctx x = { NULL, root, max, want, arg };

	x.t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    list_destroy);
	if (max > 0 && present(path, must_exist))
		each_line(path, hist_line, &x);
	return x.t;
}

struct up_ctx {
	struct hist_list *l;
	const char *root;
};

static int
up_line(cJSON *o, long seq, void *arg)
{
	struct up_ctx *x = arg;
	struct hist_item it;

	if (make_item(&it, o, x->root, upload_fields, seq) < 0)
		return -1;
	insert(x->l, &it, 0);
	return 0;
}

struct hist_list *
hist_uploads(const char *path, const char *root, size_t max, int must_exist)
{
	struct up_ctx x = { list_new(max), root };

	if (max > 0 && present(path, must_exist))
		each_line(path, up_line, &x);
	return x.l;
}

/* ---- writing ------------------------------------------------------ */

static void
add_field(cJSON *dst, const char *key, const cJSON *src)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);

	if (v)
		cJSON_AddItemToObject(dst, key, cJSON_Duplicate(v, 1));
}

static void
add_id(cJSON *dst, const char *key, const cJSON *src)
{
	char buf[32];
	const char *v = rec_id(src, key, buf);

	if (v)
		cJSON_AddStringToObject(dst, key, v);
}

/* copy KEYS of SRC to DST in order; a key written "#name" is an id
 * (a number or a string in records, always a string here) */
static void
copy_fields(cJSON *dst, const cJSON *src, const char *const *keys)
{
	for (; *keys; keys++)
		if (**keys == '#')
			add_id(dst, *keys + 1, src);
		else
			add_field(dst, *keys, src);
}

static const char *const out_fields[] = { "sha256", "mime", "bytes",
	"width", "height", NULL };

cJSON *
hist_manifest_entry(const cJSON *rec, const cJSON *out, const char *now)
{
	static const char *const keys[] = { "#variant_id", "#product_id",
		"title", "variant_title", "sku", "#batch_id", "batch_name",
		"#job_id", "variation", "provider", "model", "prompt", NULL };
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(rec, "input");
	const cJSON *refs = cJSON_GetObjectItemCaseSensitive(in,
	    "product_images");
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "file", "");
	copy_fields(m, rec, keys);
	if (refs)
		cJSON_AddItemToObject(m, "reference_images",
		    cJSON_Duplicate(refs, 1));
	add_field(m, "input", rec);
	cJSON_AddStringToObject(m, "object", rec_str(out, "path"));
	copy_fields(m, out, out_fields);
	cJSON_AddStringToObject(m, "created_at", now);
	return m;
}

cJSON *
hist_history_entry(const cJSON *rec, const cJSON *out, const char *now)
{
	static const char *const keys[] = { "#variant_id", "#product_id",
		"#batch_id", "#job_id", NULL };
	static const char *const okeys[] = { "sha256", "mime", "width",
		"height", NULL };
	cJSON *h = cJSON_CreateObject();

	copy_fields(h, rec, keys);
	cJSON_AddStringToObject(h, "path", "");
	cJSON_AddStringToObject(h, "object", rec_str(out, "path"));
	copy_fields(h, out, okeys);
	cJSON_AddStringToObject(h, "created_at", now);
	return h;
}

void
hist_upload_id(const char *sha, char id[14])
{
	snprintf(id, 14, "u%.12s", sha);
}

cJSON *
hist_upload_entry(const char *rootabs, const char *rel, const char *sha,
    const char *name, const char *kind, const char *mime, int w, int h)
{
	char id[14], now[32], *url = easprintf("%s/%s", rootabs, rel);
	cJSON *rec = cJSON_CreateObject();

	hist_upload_id(sha, id);
	cJSON_AddStringToObject(rec, "id", id);
	cJSON_AddStringToObject(rec, "url", url);
	cJSON_AddStringToObject(rec, "path", rel);
	cJSON_AddStringToObject(rec, "name", name);
	cJSON_AddStringToObject(rec, "kind", kind);
	cJSON_AddStringToObject(rec, "mime", mime);
	cJSON_AddNumberToObject(rec, "width", w);
	cJSON_AddNumberToObject(rec, "height", h);
	cJSON_AddStringToObject(rec, "sha256", sha);
	cJSON_AddStringToObject(rec, "created_at", util_now_iso(now));
	free(url);
	return rec;
}

int
hist_log_append(int fd, const cJSON *entry)
{
	size_t n;
	char *s = nd_print_line(entry, &n);
	int rc = filing_append(fd, s, n);

	free(s);
	return rc;
}

int
hist_log_once(int fd, const char *key, const char *val, const cJSON *entry,
    int scan)
{
	int found = 0;

	if (scan && (found = filing_find(fd, key, val, NULL)) < 0)
		return -1;
	return found ? 0 : hist_log_append(fd, entry);
}

int
hist_sidecar_write(int dfd, const char *name, const cJSON *entry)
{
	size_t n;
	char *s = nd_print_line(entry, &n);
	int rc = filing_write_new(dfd, name, s, n, 0);

	free(s);
	return rc < 0 ? -1 : 0;
}
