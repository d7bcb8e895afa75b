/* report: the latest record of each job, and summaries over them.
 *
 * Jobs, variants (cards) and batches live in arrays in first-seen order, so
 * every output is deterministic; GLib hash tables map keys to indexes and a
 * GStringChunk interns the repeated strings (batch ids, codes, titles).
 *
 * This file folds records into jobs (rp_add) and counts them; the JSON
 * form is report_json.c, the text report_text.c, the page report_html.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "err.h"
#include "record.h"
#include "report.h"

#define MSG_MAX 400		/* bytes of an error message kept per job */
#define MAX_REFS 8
#define MAX_OUTPUTS 16

const char *const rp_status_name[RP_NSTATUS] = {
	"pending", "succeeded", "failed", "skipped", "canceled"
};

struct priv {
	GHashTable *jobs, *variants, *batches;	/* key -> index + 1 */
	GHashTable *paid;	/* records whose cost is counted (a set) */
	GHashTable *read;	/* final job records read: job_id, digest */
	GHashTable *planned;	/* variant ids the plan has jobs for */
	GStringChunk *pool;
	struct sbuf key, vkey;	/* scratch: job key, card key */
};

void
rp_init(struct report *r, int keep_paths)
{
	struct priv *p = ecalloc(1, sizeof *p);

	memset(r, 0, sizeof *r);
	r->keep_paths = keep_paths;
	p->jobs = g_hash_table_new(g_str_hash, g_str_equal);
	p->variants = g_hash_table_new(g_str_hash, g_str_equal);
	p->batches = g_hash_table_new(g_str_hash, g_str_equal);
	p->paid = g_hash_table_new(g_str_hash, g_str_equal);
	p->read = g_hash_table_new(g_str_hash, g_str_equal);
	p->planned = g_hash_table_new(g_str_hash, g_str_equal);
	p->pool = g_string_chunk_new(1 << 16);
	r->priv = p;
}

void
rp_free(struct report *r)
{
	struct priv *p = r->priv;
	int i;

	for (i = 0; i < r->njobs; i++) {
		free(r->jobs[i].message);
		free(r->jobs[i].outputs);
		free(r->jobs[i].shas);
		free(r->jobs[i].verdicts);
	}
	for (i = 0; i < r->nvariants; i++) {
		free(r->variants[i].jobs);
		free(r->variants[i].refs);
	}
	free(r->jobs);
	free(r->variants);
	free(r->batches);
	g_hash_table_destroy(p->jobs);
	g_hash_table_destroy(p->variants);
	g_hash_table_destroy(p->batches);
	g_hash_table_destroy(p->paid);
	g_hash_table_destroy(p->read);
	g_hash_table_destroy(p->planned);
	g_string_chunk_free(p->pool);
	sb_free(&p->key);
	sb_free(&p->vkey);
	free(p);
	r->priv = NULL;
}

const char *
rp_intern(struct report *r, const char *s)
{
	struct priv *p = r->priv;

	return s ? g_string_chunk_insert_const(p->pool, s) : NULL;
}

static void *
grow(void *a, int *cap, int n, size_t size)
{
	if (n < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 4;
	return erealloc(a, (size_t)*cap * size);
}

static enum rp_status
parse_status(const char *s)
{
	if (!s)
		return RP_PENDING;
	if (!strcmp(s, "succeeded"))
		return RP_SUCCEEDED;
	if (!strcmp(s, "failed"))
		return RP_FAILED;
	if (!strcmp(s, "skipped"))
		return RP_SKIPPED;
	if (!strcmp(s, "canceled"))
		return RP_CANCELED;
	return RP_PENDING;
}

static int
batch_of(struct report *r, const cJSON *rec)
{
	struct priv *p = r->priv;
	const char *id = rec_str(rec, "batch_id"), *name;
	struct rp_batch *b;
	gpointer v;

	v = g_hash_table_lookup(p->batches, id ? id : "");
	if (v) {
		b = &r->batches[GPOINTER_TO_INT(v) - 1];
		if (!b->batch_name && (name = rec_str(rec, "batch_name")))
			b->batch_name = rp_intern(r, name);
		return GPOINTER_TO_INT(v) - 1;
	}
	r->batches = grow(r->batches, &r->capbatches, r->nbatches,
	    sizeof *r->batches);
	b = &r->batches[r->nbatches];
	b->batch_id = rp_intern(r, id);
	b->batch_name = rp_intern(r, rec_str(rec, "batch_name"));
	g_hash_table_insert(p->batches, (char *)rp_intern(r, id ? id : ""),
	    GINT_TO_POINTER(r->nbatches + 1));
	return r->nbatches++;
}

/* The card of a job: one per (batch, variant); key is unique when the
 * record names no variant. */
static int
variant_of(struct report *r, const cJSON *rec, int batch, const char *solo)
{
	struct priv *p = r->priv;
	char buf[32];
	const char *vid = rec_id(rec, "variant_id", buf);
	struct rp_variant *v;
	gpointer x;
	const char *key;

	sb_reset(&p->vkey);
	if (vid) {
		sb_addf(&p->vkey, "%d", batch);
		sb_addc(&p->vkey, '\x1f');
		sb_adds(&p->vkey, vid);
	} else {
		sb_adds(&p->vkey, "\x1f");
		sb_adds(&p->vkey, solo);
	}
	x = g_hash_table_lookup(p->variants, p->vkey.s);
	if (x)
		return GPOINTER_TO_INT(x) - 1;
	r->variants = grow(r->variants, &r->capvariants, r->nvariants,
	    sizeof *r->variants);
	v = &r->variants[r->nvariants];
	memset(v, 0, sizeof *v);
	v->batch = batch;
	v->variant_id = rp_intern(r, vid);
	key = g_string_chunk_insert(p->pool, p->vkey.s);
	g_hash_table_insert(p->variants, (char *)key,
	    GINT_TO_POINTER(r->nvariants + 1));
	return r->nvariants++;
}

/* Fill what a card lacks from rec: product, titles, reference images. */
static void
variant_fill(struct report *r, struct rp_variant *v, const cJSON *rec)
{
	char buf[32];
	const cJSON *imgs, *it;
	const char *s;

	if (!v->product_id && (s = rec_id(rec, "product_id", buf)))
		v->product_id = rp_intern(r, s);
	if (!v->title && (s = rec_str(rec, "title")))
		v->title = rp_intern(r, s);
	if (!v->variant_title && (s = rec_str(rec, "variant_title")))
		v->variant_title = rp_intern(r, s);
	if (!r->keep_paths || v->nrefs)
		return;
	imgs = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(rec, "input"), "product_images");
	cJSON_ArrayForEach(it, imgs) {
		if (!cJSON_IsString(it) || v->nrefs == MAX_REFS)
			continue;
		if (!v->refs)
			v->refs = ecalloc(MAX_REFS, sizeof *v->refs);
		v->refs[v->nrefs++] = rp_intern(r, it->valuestring);
	}
}

static int
job_new(struct report *r, const char *key, const char *job_id,
    const cJSON *rec)
{
	struct priv *p = r->priv;
	struct rp_variant *v;
	struct rp_job *j;
	char *k;
	int b, vi;

	b = batch_of(r, rec);
	vi = variant_of(r, rec, b, key);
	r->jobs = grow(r->jobs, &r->capjobs, r->njobs, sizeof *r->jobs);
	j = &r->jobs[r->njobs];
	memset(j, 0, sizeof *j);
	j->batch = b;
	j->variant = vi;
	j->status = RP_PENDING;
	j->price = -1;
	j->elapsed = -1;
	k = g_string_chunk_insert(p->pool, key);
	j->job_id = job_id ? k : NULL;	/* the key of a job is its id */
	g_hash_table_insert(p->jobs, k, GINT_TO_POINTER(r->njobs + 1));
	v = &r->variants[vi];
	v->jobs = grow(v->jobs, &v->capjobs, v->njobs, sizeof *v->jobs);
	v->jobs[v->njobs++] = r->njobs;
	r->n[RP_PENDING]++;
	return r->njobs++;
}

/* Take the fields that a job keeps from its winning record. */
static void
job_apply(struct report *r, struct rp_job *j, const cJSON *rec,
    enum rp_status st)
{
	const cJSON *err, *outs, *it, *usage;
	const char *s;
	double d;

	r->n[j->status]--;
	r->n[st]++;
	j->status = st;
	d = rec_num(rec, "attempt", 0);
	j->attempt = d > 0 && d < 1e9 ? (int)d : 0;
	j->cached = rec_bool(rec, "cached");
	if ((d = rec_num(rec, "price_per_image", -1)) >= 0 && isfinite(d))
		j->price = d;
	if ((d = rec_num(rec, "variation", 0)) > 0 && d < 1e6)
		j->variation = (int)d;
	usage = cJSON_GetObjectItemCaseSensitive(rec, "usage");
	d = rec_num(usage, "elapsed_ms", -1);
	j->elapsed = d >= 0 && isfinite(d) ? d : -1;
	s = rec_str(usage, "provider_batch");
	j->provider_batch = s ? rp_intern(r, s) : NULL;

	err = cJSON_GetObjectItemCaseSensitive(rec, "error");
	free(j->message);
	j->message = NULL;
	j->code = NULL;
	j->retryable = 0;
	if (st != RP_SUCCEEDED && cJSON_IsObject(err)) {
		s = rec_str(err, "code");
		j->code = rp_intern(r, s ? s : "unknown");
		if ((s = rec_str(err, "message")))
			j->message = strlen(s) > MSG_MAX ?
			    estrndup(s, MSG_MAX) : estrdup(s);
		j->retryable = rec_bool(err, "retryable");
	} else if (st == RP_FAILED) {
		j->code = rp_intern(r, "unknown");
	}

	rp_exports_apply(r, j, rec);
	outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
	j->nimages = 0;
	j->noutputs = 0;
	if (st != RP_SUCCEEDED)
		return;
	j->nimages = cJSON_IsArray(outs) ? cJSON_GetArraySize(outs) : 1;
	if (!r->keep_paths)
		return;
	cJSON_ArrayForEach(it, outs) {
		if (!(s = rec_str(it, "path")) || j->noutputs == MAX_OUTPUTS)
			continue;
		if (!j->outputs) {
			j->outputs = ecalloc(MAX_OUTPUTS, sizeof *j->outputs);
			j->shas = ecalloc(MAX_OUTPUTS, sizeof *j->shas);
		}
		j->shas[j->noutputs] = rp_intern(r, rec_str(it, "sha256"));
		j->outputs[j->noutputs++] = rp_intern(r, s);
	}
}

/* Add rec's cost to j->paid unless this record was counted before.
 * Records from before `cost` existed: price x images of a fresh success. */
static void
add_paid(struct report *r, struct rp_job *j, const cJSON *rec,
    enum rp_status st)
{
	struct priv *p = r->priv;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "cost"), *outs;
	double cost = -1, d;
	const char *sha;

	if (cJSON_IsNumber(c))
		cost = c->valuedouble;
	else if (st == RP_SUCCEEDED && !rec_bool(rec, "cached") &&
	    ((d = rec_num(rec, "price_per_image", -1)) > 0 ||
	    (d = j->price) > 0)) {
		outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
		cost = d * (cJSON_IsArray(outs) ? cJSON_GetArraySize(outs) : 1);
	}
	if (!(cost > 0) || !isfinite(cost) || !j->job_id)
		return;
	outs = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec,
	    "outputs"), 0);
	sha = rec_str(outs, "sha256");
	sb_reset(&p->key);
	sb_addf(&p->key, "%s\x1f%.0f\x1f%s", j->job_id,
	    rec_num(rec, "attempt", 0), sha ? sha : "");
	if (g_hash_table_contains(p->paid, p->key.s))
		return;
	g_hash_table_add(p->paid, g_string_chunk_insert(p->pool, p->key.s));
	j->paid += cost;
}

/* True when this very record of job j was read before (a file read
 * again, a record passed on again by a later run): it keeps the place it
 * was first read at and does not win again.  Else note it. */
static int
read_before(struct report *r, const struct rp_job *j, const cJSON *rec)
{
	struct priv *p = r->priv;
	char *text, *md5;
	int seen;

	if (!j->job_id || !(text = cJSON_PrintUnformatted(rec)))
		return 0;
	md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, text, -1);
	cJSON_free(text);
	sb_reset(&p->key);
	sb_addf(&p->key, "%s\x1f%s", j->job_id, md5);
	g_free(md5);
	if (!(seen = g_hash_table_contains(p->read, p->key.s)))
		g_hash_table_add(p->read, g_string_chunk_insert(p->pool,
		    p->key.s));
	return seen;
}

static void
set_gone(struct report *r, struct rp_job *j, int gone)
{
	if (j->gone == gone)
		return;
	j->gone = gone;
	if (gone) {
		r->n[j->status]--;
		r->superseded++;
	} else {
		r->n[j->status]++;
		r->superseded--;
	}
}

/* A job record of variant vid: the variant's failure before planning, if
 * one was read, is superseded. */
static void
supersede(struct report *r, const char *vid, int plan)
{
	struct priv *p = r->priv;
	gpointer x;

	if (plan && !g_hash_table_contains(p->planned, vid))
		g_hash_table_add(p->planned, (char *)rp_intern(r, vid));
	sb_reset(&p->vkey);
	sb_adds(&p->vkey, "\x01");
	sb_adds(&p->vkey, vid);
	if ((x = g_hash_table_lookup(p->jobs, p->vkey.s)) &&
	    r->jobs[GPOINTER_TO_INT(x) - 1].status != RP_PENDING)
		set_gone(r, &r->jobs[GPOINTER_TO_INT(x) - 1], 1);
}

/* The store named by a record (bg-generate's `store`). */
static void
note_store(struct report *r, const cJSON *rec)
{
	const char *s = rec_str(rec, "store");

	if (!s || !*s || r->stores > 1)
		return;
	if (!r->store) {
		r->store = rp_intern(r, s);
		r->stores = 1;
	} else if (strcmp(r->store, s)) {
		r->stores = 2;
	}
}

void
rp_add(struct report *r, const cJSON *rec, int plan)
{
	struct priv *p = r->priv;
	enum rp_status st = parse_status(rec_str(rec, "status"));
	char buf[32], vbuf[32];
	const char *job_id, *vid, *file;
	const cJSON *err;
	struct rp_job *j;
	gpointer x;
	int i;

	if (!plan)
		r->records++;
	job_id = rec_id(rec, "job_id", buf);
	if (job_id && !*job_id)
		job_id = NULL;
	sb_reset(&p->key);
	if (job_id) {
		sb_adds(&p->key, job_id);
	} else if (st == RP_PENDING || st == RP_SUCCEEDED) {
		r->ignored++;	/* a candidate, an upload… not a job */
		return;
	} else if ((vid = rec_id(rec, "variant_id", vbuf))) {
		/* failed before planning: once per variant, however many
		 * runs and stages passed the record on */
		sb_adds(&p->key, "\x01");
		sb_adds(&p->key, vid);
	} else if ((err = cJSON_GetObjectItemCaseSensitive(rec, "error")) &&
	    (file = rec_str(err, "file")) && rec_num(err, "line", 0) > 0) {
		/* a bad line, by where it was read (it may come both in the
		 * plan and in the results that passed it on) */
		sb_addf(&p->key, "\x02%.0f:", rec_num(err, "line", 0));
		sb_adds(&p->key, file);
	} else {
		sb_addf(&p->key, "\x03%d", r->njobs);
	}
	x = g_hash_table_lookup(p->jobs, p->key.s);
	i = x ? GPOINTER_TO_INT(x) - 1 : job_new(r, p->key.s, job_id, rec);
	j = &r->jobs[i];
	variant_fill(r, &r->variants[j->variant], rec);
	if (!plan) {
		add_paid(r, j, rec, st);
		note_store(r, rec);
	}
	if (job_id && (vid = rec_id(rec, "variant_id", vbuf))) {
		supersede(r, vid, plan);
	} else if (!job_id && (vid = rec_id(rec, "variant_id", vbuf))) {
		/* failed before planning: counted again, unless the plan
		 * being reported has jobs for the variant */
		set_gone(r, j, 0);
		job_apply(r, j, rec, st);
		set_gone(r, j, g_hash_table_contains(p->planned, vid));
		return;
	}
	if (plan && job_id && !j->planned) {
		j->planned = 1;
		r->planned++;
	}
	if (st != RP_PENDING && read_before(r, j, rec))
		return;	/* not later: it was read before */
	if (st == RP_PENDING && (plan || j->status != RP_PENDING)) {
		/* a planned job: declares the job, never hides a result */
		if (j->price < 0)
			j->price = rec_num(rec, "price_per_image", -1);
		if (!j->variation)
			j->variation = (int)rec_num(rec, "variation", 0);
		return;
	}
	job_apply(r, j, rec, st);
}

int
rp_find(const struct report *r, const char *job_id)
{
	const struct priv *p = r->priv;
	gpointer x = g_hash_table_lookup(p->jobs, job_id);

	return x ? GPOINTER_TO_INT(x) - 1 : -1;
}

int
rp_complete(const struct report *r)
{
	return r->njobs > 0 && r->n[RP_PENDING] == 0;
}

int
rp_all_succeeded(const struct report *r)
{
	return r->njobs > r->superseded &&
	    r->n[RP_SUCCEEDED] == r->njobs - r->superseded;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
cmp_err(const void *a, const void *b)
{
	const struct rp_err *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->code, y->code);
}

void
rp_stats(const struct report *r, int batch, struct rp_stats *s)
{
	const struct rp_job *j;
	struct rp_err *e;
	int i, k;

	memset(s, 0, sizeof *s);
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (batch != -2 && j->batch != batch)
			continue;
		s->cost += j->paid;	/* paid, even by a superseded try */
		if (j->gone)
			continue;
		s->total++;
		s->n[j->status]++;
		if (j->cached)
			s->cached++;
		if (j->status == RP_SUCCEEDED) {
			s->images += j->nimages;
			if (j->cached && j->price > 0)
				s->saved += j->price * j->nimages;
		}
		if ((j->status == RP_SUCCEEDED || j->status == RP_FAILED) &&
		    j->elapsed >= 0 && !j->cached) {
			s->lat = grow(s->lat, &s->caplat, s->nlat,
			    sizeof *s->lat);
			s->lat[s->nlat++] = j->elapsed;
		}
		if (!j->code)
			continue;
		for (k = 0; k < s->nerrs; k++)
			if (s->errs[k].code == j->code)	/* interned */
				break;
		if (k == s->nerrs) {
			s->errs = grow(s->errs, &s->caperrs, s->nerrs,
			    sizeof *s->errs);
			e = &s->errs[s->nerrs++];
			memset(e, 0, sizeof *e);
			e->code = j->code;
		}
		e = &s->errs[k];
		e->count++;
		e->retryable |= j->retryable;
		if (!e->example && j->message)
			e->example = j->message;
	}
	/* cents are what people read: drop the float noise of the sum */
	s->cost = round(s->cost * 1e6) / 1e6;
	s->saved = round(s->saved * 1e6) / 1e6;
	if (s->nlat)
		qsort(s->lat, s->nlat, sizeof *s->lat, cmp_double);
	if (s->nerrs)
		qsort(s->errs, s->nerrs, sizeof *s->errs, cmp_err);
}

void
rp_stats_free(struct rp_stats *s)
{
	free(s->lat);
	free(s->errs);
	memset(s, 0, sizeof *s);
}

double
rp_percentile(const struct rp_stats *s, double p)
{
	long k;

	if (!s->nlat)
		return -1;
	k = (long)ceil(p * s->nlat) - 1;
	if (k < 0)
		k = 0;
	if (k >= s->nlat)
		k = s->nlat - 1;
	return s->lat[k];
}

int
rp_variant_gone(const struct report *r, int vi)
{
	const struct rp_variant *v = &r->variants[vi];
	int i;

	for (i = 0; i < v->njobs; i++)
		if (!r->jobs[v->jobs[i]].gone)
			return 0;
	return v->njobs > 0;
}

int
rp_batch_gone(const struct report *r, int b)
{
	int i, n = 0;

	if (!r->superseded)
		return 0;
	for (i = 0; i < r->njobs; i++)
		if (r->jobs[i].batch == b && (n++, !r->jobs[i].gone))
			return 0;
	return n > 0;
}

enum rp_status
rp_variant_status(const struct report *r, int vi)
{
	static const enum rp_status order[] = {
		RP_FAILED, RP_PENDING, RP_CANCELED, RP_SKIPPED
	};
	const struct rp_variant *v = &r->variants[vi];
	int seen[RP_NSTATUS] = {0}, i;

	for (i = 0; i < v->njobs; i++)
		if (!r->jobs[v->jobs[i]].gone)
			seen[r->jobs[v->jobs[i]].status] = 1;
	for (i = 0; i < 4; i++)
		if (seen[order[i]])
			return order[i];
	return RP_SUCCEEDED;
}

/* Rows per product, first-seen order: products with their counts. */
struct rp_prow *
rp_product_rows(const struct report *r, int *nrows)
{
	GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
	struct rp_prow *rows = NULL;
	int cap = 0, n = 0, i, k, ri;
	const struct rp_variant *v;
	gpointer x;

	for (i = 0; i < r->nvariants; i++) {
		v = &r->variants[i];
		if (rp_variant_gone(r, i))
			continue;
		x = g_hash_table_lookup(h, v->product_id ? v->product_id : "");
		if (x) {
			ri = GPOINTER_TO_INT(x) - 1;
		} else {
			rows = grow(rows, &cap, n, sizeof *rows);
			memset(&rows[n], 0, sizeof *rows);
			rows[n].product_id = v->product_id;
			g_hash_table_insert(h,
			    (char *)(v->product_id ? v->product_id : ""),
			    GINT_TO_POINTER(n + 1));
			ri = n++;
		}
		rows[ri].variants++;
		for (k = 0; k < v->njobs; k++) {
			rows[ri].total++;
			rows[ri].n[r->jobs[v->jobs[k]].status]++;
		}
	}
	g_hash_table_destroy(h);
	*nrows = n;
	return rows;
}
