/* engine_ref: reference images of bg-generate's engine (see
 * engine_int.h): loaded once per URL (a file, an earlier run's object, or
 * a download) and shared by every job naming it, hashed once, their
 * base64 kept only while requests borrow it, and a few unused ones kept
 * for the next variation before they are evicted. */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "err.h"
#include "image.h"
#include "reqkey.h"
#include "store.h"

enum { R_LOADING, R_READY, R_FAILED };

#define IDLE_REFS 8		/* unused references kept in memory */

/* A reference as the engine keeps it; providers see only r. */
struct eref {
	struct ref r;
	int refs, state;
	int sending;		/* requests on the wire of jobs using it */
	int raw_users;		/* jobs whose provider reads data */
	enum ec fail_code;
	char *fail_msg;
	int fail_retryable;
	struct job **waiters;
	int nwait, capwait;
	struct eref *idle_next, *idle_prev;
	int idle;
};

static struct {
	GHashTable *table;	/* url -> struct eref */
	struct eref *idle_head, *idle_tail;	/* unused, oldest first */
	int nidle;
	size_t bytes;		/* image bytes of references held */
} refs;

static struct eref *
eref(struct ref *r)
{
	return (struct eref *)(void *)((char *)r - offsetof(struct eref, r));
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

/* Memory held for r's image: the bytes, or the base64 when it is the
 * only copy (refs.bytes is the sum). */
static size_t
ref_mem(const struct eref *r)
{
	return r->r.data ? r->r.len : r->r.b64 ? r->r.b64len : 0;
}

static void
ref_free(struct eref *r)
{
	refs.bytes -= ref_mem(r);
	free(r->r.url);
	free(r->r.data);
	free(r->r.b64);
	free(r->r.obj);
	free(r->fail_msg);
	free(r->waiters);
	free(r);
}

static void
idle_unlink(struct eref *r)
{
	if (!r->idle)
		return;
	if (r->idle_prev)
		r->idle_prev->idle_next = r->idle_next;
	else
		refs.idle_head = r->idle_next;
	if (r->idle_next)
		r->idle_next->idle_prev = r->idle_prev;
	else
		refs.idle_tail = r->idle_prev;
	r->idle = 0;
	r->idle_next = r->idle_prev = NULL;
	refs.nidle--;
}

static void
eref_put(struct eref *r)
{
	if (--r->refs > 0)
		return;
	if (r->state == R_LOADING)
		return;		/* its download ends it (see ref_loaded) */
	if (r->state == R_FAILED) {
		g_hash_table_remove(refs.table, r->r.url);
		ref_free(r);
		return;
	}
	/* keep a few unused ones: the next variation likely wants them */
	r->idle = 1;
	r->idle_prev = refs.idle_tail;
	r->idle_next = NULL;
	if (refs.idle_tail)
		refs.idle_tail->idle_next = r;
	else
		refs.idle_head = r;
	refs.idle_tail = r;
	refs.nidle++;
	while (refs.nidle > IDLE_REFS || (refs.nidle &&
	    refs.bytes > REF_SOFT)) {
		struct eref *o = refs.idle_head;

		idle_unlink(o);
		g_hash_table_remove(refs.table, o->r.url);
		ref_free(o);
	}
}

static void
ref_unwait(struct eref *r, struct job *j)
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
ref_loaded(struct eref *r)
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
	eref_put(r);
}

static void
ref_fail(struct eref *r, enum ec code, int retryable, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
ref_fail(struct eref *r, enum ec code, int retryable, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = evasprintf(fmt, ap);
	va_end(ap);
	r->state = R_FAILED;
	r->fail_code = code;
	r->fail_msg = m;
	r->fail_retryable = retryable;
}

/* A reference over --max-image-bytes: the message names the option to
 * raise, in MB as people think of image sizes. */
static void
ref_too_large(struct eref *r, const char *u)
{
	ref_fail(r, EC_IMAGE_TOO_LARGE, ec_retryable(EC_IMAGE_TOO_LARGE),
	    "%s: larger than %.4g MB "
	    "(--max-image-bytes %zu): shrink the image or raise "
	    "--max-image-bytes", u, econf->max_image_bytes / 1048576.0,
	    econf->max_image_bytes);
}

/* Take the bytes: sniff them, keep them. */
static void
ref_set_data(struct eref *r, unsigned char *data, size_t len)
{
	char *u;

	r->r.mime = image_sniff(data, len);
	if (!r->r.mime) {
		u = redact_url(r->r.url);
		free(data);
		ref_fail(r, EC_UNSUPPORTED_IMAGE,
		    ec_retryable(EC_UNSUPPORTED_IMAGE),
		    "%s: not a PNG, JPEG or WebP image", u);
		free(u);
		return;
	}
	r->r.data = data;
	r->r.len = len;
	r->state = R_READY;
	ref_sha256(&r->r);	/* once, for every job's request key */
	refs.bytes += ref_mem(r);
}

/* An http(s) reference fetched by an earlier run: its object. */
static int
ref_from_store(struct eref *r)
{
	char *rel, *path, *data;
	size_t len;

	if (!(rel = reqkey_refmap_get(econf->root, r->r.url)))
		return 0;
	path = easprintf("%s/%s", econf->root, rel);
	data = store_read_file(path, econf->max_image_bytes, &len);
	free(path);
	if (!data || !image_sniff(data, len)) {
		free(data);
		free(rel);
		return 0;
	}
	r->r.obj = rel;
	ref_set_data(r, (unsigned char *)data, len);
	return 1;
}

void
ref_fetched(struct xfer *x, CURLcode cc)
{
	struct eref *r = eref(x->ref);
	long st = 0;
	char sha[65], *rel, *map, *u = redact_url(r->r.url);
	unsigned char *data;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
	if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		ref_too_large(r, u);
	} else if (cc != CURLE_OK) {
		ref_fail(r, EC_IMAGE_FETCH_FAILED, 1, "%s: %s", u,
		    *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
	} else if (st < 200 || st > 299) {
		ref_fail(r, EC_IMAGE_FETCH_FAILED, st == 408 || st == 429 ||
		    st >= 500, "%s: HTTP %ld", u, st);
	} else {
		data = (unsigned char *)x->resp.s;
		x->resp.s = NULL;
		ref_set_data(r, data ? data : (unsigned char *)estrdup(""),
		    x->resp.len);
		if (r->state == R_READY) {
			if (store_put_object(econf->root, r->r.data, r->r.len,
			    image_ext(r->r.mime), sha, &rel) < 0)
				die(EXIT_FATAL, "%s/objects:", econf->root);
			r->r.obj = rel;
			map = reqkey_refmap_path(econf->root, r->r.url);
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
struct ref *
ref_get(const char *url, struct job *j)
{
	struct eref *r = g_hash_table_lookup(refs.table, url);
	char *path, *data, *u;
	size_t len;
	struct xfer *x;

	if (r) {
		idle_unlink(r);
		r->refs++;
		goto wait;
	}
	r = ecalloc(1, sizeof *r);
	r->r.url = estrdup(url);
	r->refs = 1;
	r->state = R_LOADING;
	g_hash_table_insert(refs.table, r->r.url, r);
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://",
	    8)) {
		if (ref_from_store(r))
			return &r->r;
		x = xfer_new();
		x->ref = &r->r;
		x->rq.url = estrdup(url);
		x->max_resp = econf->max_image_bytes;
		xfer_start(x);
		goto wait;
	}
	path = reqkey_local_path(url);
	u = redact_url(url);
	if (!path) {
		ref_fail(r, EC_IMAGE_FETCH_FAILED, 0, "%s: unsupported URL", u);
	} else if (!(data = store_read_file(path, econf->max_image_bytes,
	    &len))) {
		if (errno == EFBIG)
			ref_too_large(r, u);
		else
			ref_fail(r, EC_IMAGE_FETCH_FAILED, 0, "%s: %s", u,
			    strerror(errno));
	} else {
		ref_set_data(r, (unsigned char *)data, len);
	}
	g_free(path);
	free(u);
	return &r->r;
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
	return &r->r;
}

/* A request of j goes on the wire (on = 1) or comes back (0).  The base64
 * of a reference lives only while requests that may borrow it are out:
 * it is 4/3 of the image, and refs are read ahead of the slots. */
void
refs_sending(struct job *j, int on)
{
	struct eref *r;
	int i;

	for (i = 0; i < j->pj.nrefs; i++) {
		r = eref(j->pj.refs[i]);
		if (on) {
			r->sending++;
			if (r->r.b64 && r->r.data && r->raw_users == 0) {
				/* nobody reads the bytes: keep one copy */
				refs.bytes -= ref_mem(r);
				free(r->r.data);
				r->r.data = NULL;
				refs.bytes += ref_mem(r);
			}
		} else if (--r->sending == 0 && r->r.b64 && r->r.data) {
			free(r->r.b64);
			r->r.b64 = NULL;
			r->r.b64len = 0;
		}
	}
}

/* j lets go of r (its record is written): it no longer waits for it or
 * reads its bytes (raw), and r goes when nobody holds it. */
void
ref_release(struct ref *p, struct job *j, int raw)
{
	struct eref *r = eref(p);

	if (r->state == R_LOADING)
		ref_unwait(r, j);
	if (raw)
		r->raw_users--;
	eref_put(r);
}

/* Why r could not be loaded: an error code (and *retryable, *msg); EC_NONE
 * when it loaded. */
enum ec
ref_failed(struct ref *p, int *retryable, const char **msg)
{
	struct eref *r = eref(p);

	if (r->state != R_FAILED)
		return EC_NONE;
	*retryable = r->fail_retryable;
	*msg = r->fail_msg;
	return r->fail_code;
}

/* j's provider reads ref->data: bring the bytes back if they were
 * dropped for their base64. */
void
ref_want_raw(struct ref *p)
{
	struct eref *r = eref(p);
	size_t n;

	r->raw_users++;
	if (r->r.data || !r->r.b64)
		return;
	refs.bytes -= ref_mem(r);
	r->r.data = util_b64_decode(r->r.b64, r->r.b64len, &n);
	r->r.len = n;
	refs.bytes += ref_mem(r);
}

size_t
refs_bytes(void)
{
	return refs.bytes;
}

void
refs_init(void)
{
	memset(&refs, 0, sizeof refs);
	refs.table = g_hash_table_new(g_str_hash, g_str_equal);
}

void
refs_fini(void)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, refs.table);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_hash_table_iter_steal(&it);
		ref_free(v);
	}
	g_hash_table_destroy(refs.table);
}
