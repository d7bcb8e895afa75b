/* batch: bg-generate --mode batch (see batch.h).
 *
 * Three passes over the jobs, none holding them all in memory:
 *   1. read: records that need no provider batch are written at once
 *      (pass-through, invalid, cached); the others go to a spool file
 *      with the provider batch that answers them: a live one from the
 *      store, or a new one being filled (its request lines in a temp
 *      file, split at the provider's limits or --batch-size);
 *   2. submit and wait: each new batch is recorded (.keys, .json) before
 *      it is created; then poll until every batch of this run is done
 *      (or --no-wait, or a signal), collecting results into the cache;
 *   3. write: one record per spooled job, from the cache or the batch's
 *      end (pending, canceled, expired, failed). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "batch.h"
#include "models.h"
#include "batch_prov.h"
#include "batch_rec.h"
#include "batch_ref.h"
#include "batch_store.h"
#include "err.h"
#include "image.h"
#include "ndjson.h"
#include "record.h"
#include "result.h"
#include "store.h"

#define STAGE "generate"
#define MAX_REFS BREF_MAX_REFS
#define MAX_BATCHES 4096

static const struct bprov *const bprovs[] = {&bprov_gemini, &bprov_openai};
#define NBPROV ((int)(sizeof bprovs / sizeof *bprovs))

static struct {
	const struct engine_conf *c;
	const struct batch_conf *bc;
	struct pbatch *b[MAX_BATCHES];
	int nb;
	struct prov_conf conf[NBPROV];
	int conf_tried[NBPROV];
	struct bctx ctx[NBPROV];
	struct bref_set *refs;
	FILE *spool;
	long badlines, nspool, committed_images;
	double committed_cost;
	volatile sig_atomic_t signo;
} B;

static int
bp_index(const struct bprov *bp)
{
	int i;

	for (i = 0; i < NBPROV; i++)
		if (bprovs[i] == bp)
			return i;
	return 0;
}

/* ---- prices ------------------------------------------------------------ */

/* The model table's batch price of one image, or -1. */
static double
model_table_batch_price(const char *provider, const char *model)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(models_get(provider,
	    model), "price_per_image");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "batch");

	return cJSON_IsNumber(b) && b->valuedouble >= 0 ? b->valuedouble : -1;
}

double
batch_price(const cJSON *rec, const char *provider, const char *model)
{
	double p = rec_num(rec, "batch_price_per_image", -1);

	if (p >= 0 && isfinite(p))
		return p;
	if ((p = model_table_batch_price(provider, model)) >= 0)
		return p;
	p = rec_num(rec, "price_per_image", 0);
	return p > 0 && isfinite(p) ? p / 2 : 0;
}

/* ---- providers and references ---------------------------------------- */

static struct bctx *
ctx_for(const struct bprov *bp, char **err)
{
	int i = bp_index(bp);

	if (!B.conf_tried[i]) {
		B.conf_tried[i] = 1;
		B.conf[i].p = bp->p;
		if (bp->p->init(&B.conf[i], B.c->base_url, err) == 0)
			B.conf[i].ready = 1;
		else
			B.conf[i].err = estrdup(*err ? *err : "unavailable");
		B.ctx[i].conf = &B.conf[i];
		B.ctx[i].timeout_ms = B.c->timeout_ms;
		B.ctx[i].connect_timeout_ms = B.c->connect_timeout_ms;
	} else if (!B.conf[i].ready) {
		*err = estrdup(B.conf[i].err);
	}
	return B.conf[i].ready ? &B.ctx[i] : NULL;
}

/* ---- records ----------------------------------------------------------- */

/* The answer in the cache for a job read now: 1 if written. */
static int
from_cache(cJSON *rec, const char *key)
{
	cJSON *c = store_cache_get(B.c->root, key);
	const char *st = rec_status(rec);
	int done = 0;

	if (!c)
		return 0;
	if (result_from_cache(B.c->root, c, rec, B.c->inline_out,
	    (int)rec_num(rec, "attempt", 0))) {
		rec_set_num(rec, "cost", 0);
		nd_write(rec);
		done = 1;
	} else if (!strcmp(rec_status(c), "failed") && strcmp(st, "failed") &&
	    strcmp(st, "canceled") && strcmp(st, "skipped")) {
		/* a provider batch answered it with a failure: a fresh job
		 * gets that answer; a failed record fed back (a retry pass)
		 * goes to a new provider batch */
		brec_cached_fail(rec, c, NULL, 1);
		done = 1;
	}
	cJSON_Delete(c);
	return done;
}

/* ---- provider batches -------------------------------------------------- */

static int
find_live(const char *key)
{
	int i;

	for (i = 0; i < B.nb; i++)
		if (B.b[i]->keys && B.b[i]->state != BS_FAILED &&
		    bs_has_key(B.b[i], key))
			return i;
	return -1;
}

static void
submit(struct pbatch *b)
{
	struct bctx *x = ctx_for(b->bp, &(char *){NULL});
	GHashTableIter it;
	char (*keys)[65], *err = NULL;
	gpointer k;
	size_t n = 0;
	int transient = 0;

	keys = emalloc((g_hash_table_size(b->open_keys) + 1) * sizeof *keys);
	g_hash_table_iter_init(&it, b->open_keys);
	while (g_hash_table_iter_next(&it, &k, NULL))
		memcpy(keys[n++], k, 65);
	g_hash_table_destroy(b->open_keys);
	b->open_keys = NULL;
	/* recorded before it exists: a crash after the create finds it */
	b->state = BS_CREATING;
	if (bs_write_keys(B.c->root, b, keys, n) < 0 ||
	    bs_save(B.c->root, b) < 0)
		die(EXIT_FATAL, "%s/provider-batches:", B.c->root);
	free(keys);
	if (fflush(b->jsonl) || fseeko(b->jsonl, 0, SEEK_SET))
		die(EXIT_FATAL, "%s:", b->jsonl_path);
	if (b->bp->create(x, b, b->jsonl, b->bytes, &err, &transient) == 0) {
		b->state = BS_RUNNING;
	} else {
		warnx("%s", err);
		b->state = BS_FAILED;
		b->fail_msg = err;
		b->fail_retryable = 1;
		b->collected = 1;	/* nothing will come of it */
	}
	if (bs_save(B.c->root, b) < 0)
		die(EXIT_FATAL, "%s/provider-batches:", B.c->root);
	fclose(b->jsonl);
	b->jsonl = NULL;
	unlink(b->jsonl_path);
	if (B.c->progress && b->name)
		warnx("created provider batch %s (%ld jobs, %s %s)", b->name,
		    b->njobs, b->bp->name, b->model);
}

/* The open batch of (bp, model, endpoint) with room for a line of len
 * bytes: a full one is submitted and a new one started. */
static int
open_batch(const struct bprov *bp, const char *model, const char *endpoint,
    size_t len)
{
	struct pbatch *b;
	long max = bp->max_lines;
	int i;

	if (B.bc->batch_size > 0 && (max <= 0 || B.bc->batch_size < max))
		max = B.bc->batch_size;
	for (i = 0; i < B.nb; i++) {
		b = B.b[i];
		if (b->state != BS_OPEN || b->bp != bp ||
		    strcmp(b->model, model) || strcmp(b->endpoint, endpoint))
			continue;
		if ((max > 0 && b->njobs + 1 > max) ||
		    (b->njobs && b->bytes + (long long)len > bp->max_bytes))
			submit(b);
		else
			return i;
	}
	if (B.nb == MAX_BATCHES)
		die(EXIT_FATAL, "more than %d provider batches in one run",
		    MAX_BATCHES);
	b = ecalloc(1, sizeof *b);
	b->bp = bp;
	b->id = bs_new_id();
	b->model = estrdup(model);
	b->endpoint = estrdup(endpoint);
	b->state = BS_OPEN;
	b->created = (double)time(NULL);
	b->jsonl_path = easprintf("%s/provider-batches/%s/%s.jsonl",
	    B.c->root, bp->name, b->id);
	if (store_mkparent(b->jsonl_path) < 0 ||
	    !(b->jsonl = fopen(b->jsonl_path, "w+e")))
		die(EXIT_FATAL, "%s:", b->jsonl_path);
	b->open_keys = g_hash_table_new_full(g_str_hash, g_str_equal, free,
	    NULL);
	B.b[B.nb] = b;
	return B.nb++;
}

/* ---- reading jobs ------------------------------------------------------ */

static void
spool(int slot, const char *key, const cJSON *rec)
{
	char *s = nd_print(rec);

	B.b[slot]->used = 1;
	if (fprintf(B.spool, "%d\t%s\t%s\n", slot, key, s) < 0)
		die(EXIT_FATAL, "spool file:");
	cJSON_free(s);
	B.nspool++;
}

static int
over_budget(double price)
{
	return (B.c->max_images >= 0 &&
	    B.committed_images + 1 > B.c->max_images) ||
	    (B.c->max_cost >= 0 &&
	    B.committed_cost + price > B.c->max_cost + 1e-9);
}

/* The request line of a new job into *line; 0, or -1 with the record
 * written as failed. */
static int
make_line(cJSON *rec, struct pjob *pj, const struct bprov *bp,
    struct bctx *x, const cJSON *imgs, const char *key, struct sbuf *line)
{
	struct ref *refs[MAX_REFS];
	char *ids[MAX_REFS];
	const char *extra[] = {"model_image_url", "background_image_url"}, *s;
	const cJSON *it;
	struct bref *br;
	size_t i;
	int rc;

	pj->refs = refs;
	cJSON_ArrayForEach(it, imgs) {
		if (!(ids[pj->nrefs] = (char *)bref_id(B.refs,
		    it->valuestring, bp, bp_index(bp), x, &br)))
			goto bad;
		refs[pj->nrefs++] = &br->r;
	}
	pj->nproduct = pj->nrefs;
	for (i = 0; i < sizeof extra / sizeof *extra; i++)
		if ((s = rec_str(pj->input, extra[i])) && *s) {
			if (!(ids[pj->nrefs] = (char *)bref_id(B.refs, s,
			    bp, bp_index(bp), x, &br)))
				goto bad;
			refs[pj->nrefs++] = &br->r;
		}
	sb_reset(line);
	rc = bp->line(pj, key, ids, line);
	pj->refs = NULL;
	if (rc == PROV_FAIL) {
		brec_fail_as(rec, "failed", pj->fail.code, pj->fail.retryable,
		    0, pj->fail.message ? pj->fail.message : "bad request",
		    NULL, 0);
		free(pj->fail.message);
		return -1;
	}
	sb_addc(line, '\n');
	return 0;
bad:
	pj->refs = NULL;
	brec_fail_as(rec, "failed", br->fail_code, br->fail_retryable, 0,
	    br->fail_msg, NULL, 0);
	return -1;
}

/* A job that needs a provider: answered now, or spooled. */
static void
admit_job(cJSON *rec, const struct bprov *bp)
{
	static struct sbuf line;
	struct pjob pj = {0};
	const cJSON *imgs;
	struct bctx *x;
	struct bref *br;
	char key[65], *why = NULL;
	double price;
	int n, slot;

	pj.rec = rec;
	pj.model = B.c->model ? B.c->model : rec_str(rec, "model");
	if (!pj.model && !(pj.model = models_default(bp->name))) {
		why = easprintf("no model in the job and no default for %s in "
		    "%s", bp->name, models_path());
		brec_fail(rec, EC_INVALID_RECORD, why, NULL, 0);
		free(why);
		return;
	}
	pj.prompt = rec_str(rec, "prompt");
	pj.input = cJSON_GetObjectItemCaseSensitive(rec, "input");
	if (!cJSON_IsObject(pj.input))
		pj.input = NULL;
	pj.fail.retry_after_ms = -1;
	imgs = cJSON_GetObjectItemCaseSensitive(pj.input, "product_images");
	n = cJSON_IsArray(imgs) ? cJSON_GetArraySize(imgs) : -1;
	if (!pj.prompt) {
		brec_fail(rec, EC_INVALID_RECORD,
		    "no prompt (a string) in the job", NULL, 0);
		return;
	}
	if (n < 0 || n > MAX_REFS - 2) {
		brec_fail(rec, EC_INVALID_IMAGES,
		    "input.product_images must list 1 to 14 images", NULL, 0);
		return;
	}
	if (!(x = ctx_for(bp, &why))) {
		brec_fail(rec, EC_AUTH, why, NULL, 0);
		free(why);
		return;
	}
	pj.conf = x->conf;
	if (bref_request_key(B.refs, bp->name, pj.model, pj.prompt, rec, key,
	    &br) < 0) {
		brec_fail_as(rec, "failed", br->fail_code, br->fail_retryable,
		    0, br->fail_msg, NULL, 0);
		return;
	}
	if (!B.c->force && from_cache(rec, key))
		return;
	if ((slot = find_live(key)) >= 0) {
		spool(slot, key, rec);
		return;
	}
	price = batch_price(rec, bp->name, pj.model);
	if (over_budget(price)) {
		brec_fail(rec, EC_BUDGET,
		    B.c->max_images >= 0 &&
		    B.committed_images + 1 > B.c->max_images ?
		    "--max-images reached" : "--max-cost reached", NULL, 0);
		return;
	}
	if (make_line(rec, &pj, bp, x, imgs, key, &line) < 0)
		return;
	slot = open_batch(bp, pj.model, bp->endpoint(&pj), line.len);
	if (!g_hash_table_contains(B.b[slot]->open_keys, key)) {
		if (fwrite(line.s, 1, line.len, B.b[slot]->jsonl) != line.len)
			die(EXIT_FATAL, "%s:", B.b[slot]->jsonl_path);
		B.b[slot]->bytes += (long long)line.len;
		B.b[slot]->njobs++;
		g_hash_table_add(B.b[slot]->open_keys, estrdup(key));
		B.committed_images++;
		B.committed_cost += price;
	}
	spool(slot, key, rec);
}

static const struct bprov *
bprov_find(const char *name)
{
	int i;

	for (i = 0; i < NBPROV; i++)
		if (!strcmp(bprovs[i]->name, name))
			return bprovs[i];
	return NULL;
}

static void
admit(cJSON *rec)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "error");
	const char *pname, *s;
	const struct bprov *bp;
	char *why;

	/* pass-through: done, or failed at another stage */
	if (!strcmp(rec_status(rec), "succeeded") ||
	    (rec_is_final_failure(rec) && (((s = rec_str(err, "stage")) &&
	    strcmp(s, STAGE)) || ec_is(rec_str(err, "code"), EC_BAD_JSON)))) {
		nd_write(rec);
		return;
	}
	pname = B.c->provider ? B.c->provider : rec_str(rec, "provider");
	if (!pname)
		pname = "local";
	if (!(bp = bprov_find(pname))) {
		why = easprintf("provider %s has no batch mode (batch mode: "
		    "gemini, openai; use --mode sync)", pname);
		brec_fail(rec, EC_INVALID_RECORD, why, NULL, 0);
		free(why);
		return;
	}
	admit_job(rec, bp);
}

/* ---- waiting and collecting -------------------------------------------- */

static void
pj_clear(struct pjob *pj)
{
	int i;

	for (i = 0; i < pj->nout; i++) {
		free(pj->out[i].data);
		free(pj->out[i].mime);
	}
	free(pj->out);
	free(pj->request_id);
	cJSON_Delete(pj->usage);
	free(pj->fail.message);
}

/* One result line of b into the cache. */
static void
ingest(struct pbatch *b, struct bctx *x, const char *line, size_t len)
{
	static struct sbuf e, outs, usage;
	struct pjob pj = {0};
	char key[65], *why = NULL;
	int rc;

	pj.conf = x->conf;
	pj.model = b->model;
	pj.prompt = "";
	pj.fail.retry_after_ms = -1;
	rc = b->bp->result(&pj, line, len, key);
	if (rc < 0 || !bs_has_key(b, key))
		goto out;	/* not a line of ours */
	sb_reset(&outs);
	if (rc == PROV_DONE && result_store_outputs(B.c->root, pj.out, pj.nout,
	    NULL, &outs, &why) < 0) {
		prov_fail(&pj, EC_BAD_RESPONSE, 0, "%s", why);
		free(why);
		rc = PROV_FAIL;
	}
	sb_reset(&usage);
	result_usage_text(&usage, pj.request_id,
	    ((double)time(NULL) - b->created) * 1000, "batch", b->name,
	    pj.usage);
	sb_reset(&e);
	if (rc == PROV_DONE) {
		sb_adds(&e, "{\"status\":\"succeeded\",\"outputs\":");
		sb_add(&e, outs.s, outs.len);
	} else {
		sb_adds(&e, "{\"status\":\"failed\",\"error\":{\"stage\":\""
		    STAGE "\",\"code\":");
		nd_print_str(&e, ec_name(pj.fail.code ? pj.fail.code :
		    EC_BAD_RESPONSE));
		sb_adds(&e, ",\"message\":");
		nd_print_str(&e, pj.fail.message ? pj.fail.message : "failed");
		sb_addf(&e, ",\"retryable\":%s", pj.fail.retryable ? "true" :
		    "false");
		if (pj.fail.http_status > 0)
			sb_addf(&e, ",\"http_status\":%ld",
			    pj.fail.http_status);
		sb_adds(&e, ",\"attempts\":1}");
	}
	sb_adds(&e, ",\"usage\":");
	sb_add(&e, usage.s, usage.len);
	sb_adds(&e, "}");
	if (store_cache_put_text(B.c->root, key, e.s, e.len) < 0)
		warnx("%s/cache:", B.c->root);
out:
	pj_clear(&pj);
}

static void
collect(struct pbatch *b)
{
	struct bctx *x = ctx_for(b->bp, &(char *){NULL});
	char *line = NULL, *err = NULL;
	size_t cap = 0;
	ssize_t n;
	int transient = 0, tries = 0;
	FILE *f;

	for (;;) {
		if (!(f = tmpfile()))
			die(EXIT_FATAL, "tmpfile:");
		if (b->bp->download(x, b, f, &err, &transient) == 0)
			break;
		fclose(f);
		if (!transient || ++tries >= 5 || B.signo) {
			warnx("%s; run the same command again to collect %s",
			    err, b->name);
			free(err);
			b->dl_failed = 1;
			return;
		}
		free(err);
		err = NULL;
		sleep(tries);
	}
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n)
			ingest(b, x, line, (size_t)n);
	}
	free(line);
	fclose(f);
	b->collected = 1;
	if (bs_save(B.c->root, b) < 0)
		warnx("%s/provider-batches:", B.c->root);
}

static int
terminal(int st)
{
	return st == BS_SUCCEEDED || st == BS_FAILED || st == BS_CANCELED ||
	    st == BS_EXPIRED;
}

static void
on_signal(int signo)
{
	B.signo = signo;
}

/* Sleep ms unless a signal comes. */
static void
nap(double ms)
{
	struct timespec ts;
	double until = util_now_ms() + ms, left;

	while (!B.signo && (left = until - util_now_ms()) > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)fmod(left, 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
}

/* Poll b once: 1 when it needs no more waiting. */
static int
poll_one(struct pbatch *b, double *wait_ms)
{
	struct bctx *x = ctx_for(b->bp, &(char *){NULL});
	char *err = NULL;
	double ra = -1;
	int transient = 0, old = b->state;

	if (b->bp->poll(x, b, &ra, &err, &transient) < 0) {
		warnx("%s%s", err, transient ? " (will poll again)" : "");
		free(err);
		if (ra > *wait_ms)
			*wait_ms = ra;
		if (transient)
			return 0;
		b->dl_failed = 1;	/* its jobs fail, retryable */
		return 1;
	}
	if (ra > *wait_ms)
		*wait_ms = ra;
	if (b->state != old || terminal(b->state))
		if (bs_save(B.c->root, b) < 0)
			warnx("%s/provider-batches:", B.c->root);
	if (B.c->progress)
		warnx("provider batch %s: %s, %ld of %ld done, %ld failed",
		    b->name, bs_state_name(b->state), b->n_done, b->n_total,
		    b->n_failed);
	if (terminal(b->state)) {
		if (b->state != BS_FAILED)
			collect(b);
		return 1;
	}
	return 0;
}

static void
cancel_used(void)
{
	struct bctx *x;
	char *err = NULL;
	int i, transient;

	for (i = 0; i < B.nb; i++) {
		if (!B.b[i]->used || !B.b[i]->name || terminal(B.b[i]->state))
			continue;
		x = ctx_for(B.b[i]->bp, &(char *){NULL});
		if (B.b[i]->bp->cancel(x, B.b[i], &err, &transient) < 0) {
			warnx("%s", err);
			free(err);
			err = NULL;
		} else if (B.c->progress) {
			warnx("canceling provider batch %s", B.b[i]->name);
		}
	}
}

/* Poll the batches of this run until each is done, or --no-wait, or a
 * signal. */
static void
wait_all(void)
{
	double wait_ms;
	int i, left, first = 1;

	if (B.bc->cancel)
		cancel_used();
	for (;;) {
		left = 0;
		wait_ms = B.bc->poll_ms;
		for (i = 0; i < B.nb && !B.signo; i++) {
			if (!B.b[i]->used || B.b[i]->collected ||
			    B.b[i]->dl_failed || !B.b[i]->name)
				continue;
			if (!poll_one(B.b[i], &wait_ms))
				left++;
		}
		if (!left || B.signo || (B.bc->no_wait && !B.bc->cancel))
			break;
		if (first && !B.bc->no_wait)
			warnx("waiting for %d provider batch%s (polling every "
			    "%gs; Ctrl-C leaves %s running, the same command "
			    "collects later)", left, left > 1 ? "es" : "",
			    B.bc->poll_ms / 1000, left > 1 ? "them" : "it");
		first = 0;
		nap(wait_ms);
	}
}

/* ---- writing the spooled jobs ------------------------------------------ */

static void
write_done(cJSON *rec, const struct pbatch *b, const char *key)
{
	cJSON *c = store_cache_get(B.c->root, key);
	const cJSON *outs;
	char *msg;
	int prev = (int)rec_num(rec, "attempt", 0);

	if (c && result_from_cache(B.c->root, c, rec, B.c->inline_out, prev)) {
		outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
		rec_set_num(rec, "attempt", prev + 1);
		rec_set_bool(rec, "cached", 0);
		rec_set_num(rec, "cost", batch_price(rec, b->bp->name,
		    b->model) * cJSON_GetArraySize(outs));
		nd_write(rec);
	} else if (c && !strcmp(rec_status(c), "failed")) {
		brec_cached_fail(rec, c, b, 0);
	} else if (b->state == BS_CANCELED) {
		brec_fail(rec, EC_CANCELED, "the provider "
		    "batch was canceled before this request ran", b, 1);
	} else if (b->state == BS_EXPIRED) {
		brec_fail(rec, EC_EXPIRED, "the provider "
		    "batch expired before this request ran", b, 1);
	} else {
		msg = easprintf("no result for this request in provider "
		    "batch %s", b->name);
		brec_fail(rec, EC_BAD_RESPONSE, msg, b, 1);
		free(msg);
	}
	cJSON_Delete(c);
}

static void
write_one(cJSON *rec, const struct pbatch *b, const char *key)
{
	char *msg;

	if (b->collected && b->state != BS_FAILED) {
		write_done(rec, b, key);
	} else if (b->state == BS_FAILED || b->dl_failed) {
		msg = easprintf("provider batch %s: %s", b->name ? b->name :
		    b->id, b->fail_msg ? b->fail_msg :
		    "its results could not be fetched");
		brec_fail_as(rec, "failed", b->dl_failed ? EC_SERVER_ERROR :
		    EC_BAD_REQUEST, b->fail_retryable || b->dl_failed, 0, msg,
		    b, b->name != NULL);
		free(msg);
	} else if (b->state == BS_OPEN || !b->name) {
		brec_fail(rec, EC_CANCELED, "interrupted "
		    "before the provider batch was created", NULL, 0);
	} else {
		brec_pending(rec, b);
	}
}

static void
write_spool(void)
{
	char *line = NULL, *key, *json, *end;
	size_t cap = 0;
	ssize_t n;
	long slot;
	cJSON *rec;

	if (fflush(B.spool) || fseeko(B.spool, 0, SEEK_SET))
		die(EXIT_FATAL, "spool file:");
	while ((n = getline(&line, &cap, B.spool)) > 0) {
		line[--n] = '\0';
		slot = strtol(line, &key, 10);
		if (*key != '\t' || slot < 0 || slot >= B.nb ||
		    !(json = strchr(++key, '\t')))
			die(EXIT_FATAL, "spool file: corrupt line");
		*json++ = '\0';
		if (!(rec = cJSON_ParseWithLengthOpts(json, n - (json - line) +
		    1, (const char **)&end, 1)))
			die(EXIT_FATAL, "spool file: corrupt record");
		write_one(rec, B.b[slot], key);
		cJSON_Delete(rec);
	}
	free(line);
}

/* ---- the run ------------------------------------------------------------- */

void
batch_defaults(struct batch_conf *bc)
{
	memset(bc, 0, sizeof *bc);
	bc->poll_ms = 30000;
}

/* bs_adopt with this run's context for b's provider. */
static int
adopt(struct pbatch *b)
{
	char *err = NULL;
	struct bctx *x = ctx_for(b->bp, &err);

	free(err);
	return bs_adopt(B.c->root, b, x);
}

static void
load_live(void)
{
	struct pbatch **v;
	int i, k, n;

	for (i = 0; i < NBPROV; i++) {
		v = bs_load_live(B.c->root, bprovs[i], &n);
		for (k = 0; k < n; k++) {
			if (B.nb == MAX_BATCHES)
				die(EXIT_FATAL, "too many live provider "
				    "batches in %s", B.c->root);
			if (!v[k]->name && adopt(v[k]) <= 0) {
				bs_free(v[k]);	/* never made, or no key */
				continue;
			}
			B.b[B.nb++] = v[k];
		}
		free(v);
	}
}

static void
setup(const struct engine_conf *c, const struct batch_conf *bc)
{
	struct sigaction sa;

	memset(&B, 0, sizeof B);
	B.c = c;
	B.bc = bc;
	B.refs = bref_set_new(c->root, c->max_image_bytes, c->timeout_ms,
	    c->connect_timeout_ms);
	if (!(B.spool = tmpfile()))
		die(EXIT_FATAL, "tmpfile:");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: sleeps end */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	load_live();
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < B.nb; i++) {
		if (B.b[i]->jsonl) {
			fclose(B.b[i]->jsonl);
			unlink(B.b[i]->jsonl_path);
		}
		if (B.b[i]->open_keys)
			g_hash_table_destroy(B.b[i]->open_keys);
		bs_free(B.b[i]);
	}
	for (i = 0; i < NBPROV; i++) {
		if (B.conf[i].ready && B.conf[i].p->fini)
			B.conf[i].p->fini(&B.conf[i]);
		free(B.conf[i].base_url);
		free(B.conf[i].err);
	}
	bref_set_free(B.refs);
	fclose(B.spool);
	bh_cleanup();
}

int
batch_run(const struct engine_conf *c, const struct batch_conf *bc,
    struct nd_reader *r)
{
	cJSON *rec;
	int bad, i, rc = EXIT_DONE, running = 0;

	setup(c, bc);
	while ((rec = nd_next(r, STAGE, &bad))) {
		if (bad) {
			B.badlines++;
			warnx("%s", rec_str(cJSON_GetObjectItemCaseSensitive(
			    rec, "error"), "message"));
			nd_write(rec);
		} else if (B.signo && strcmp(rec_status(rec), "succeeded") &&
		    !rec_is_final_failure(rec)) {
			/* every line read gets its record */
			brec_fail(rec, EC_CANCELED,
			    "interrupted before it was submitted", NULL, 0);
		} else if (B.signo) {
			nd_write(rec);
		} else {
			admit(rec);
		}
		cJSON_Delete(rec);
	}
	for (i = 0; i < B.nb && !B.signo; i++)
		if (B.b[i]->state == BS_OPEN)
			submit(B.b[i]);
	if (!B.signo)
		wait_all();
	write_spool();
	for (i = 0; i < B.nb; i++)
		if (B.b[i]->used && B.b[i]->name && !B.b[i]->collected &&
		    !terminal(B.b[i]->state))
			running++;
	if (B.signo) {
		if (running)
			warnx("interrupted: %d provider batch%s keep%s "
			    "running; "
			    "run the same command again to collect", running,
			    running > 1 ? "es" : "", running > 1 ? "" : "s");
		rc = EXIT_FATAL;
	} else if (running && !bc->no_wait) {
		rc = EXIT_FATAL;
	} else if (B.badlines || nd_open_failures) {
		rc = EXIT_BADLINES;
	}
	teardown();
	return rc;
}
