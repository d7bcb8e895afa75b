/* engine_admit: a record read becomes a job (see engine_int.h): passed
 * through, validated, its provider started, its references loaded, its
 * request key made, answered from the cache or queued. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachenames.h"
#include "engine_int.h"
#include "err.h"
#include "models.h"
#include "record.h"
#include "reqkey.h"
#include "result.h"
#include "store.h"

/* ---- providers ------------------------------------------------------- */

static struct prov_conf pconf[8];	/* the providers started, by use */
static int npconf;

/* The run's state for provider p, started on first use; NULL + *err. */
static struct prov_conf *
conf_for(const struct provider *p, char **err)
{
	struct prov_conf *c;
	int i;

	for (i = 0; i < npconf; i++)
		if (pconf[i].p == p) {
			if (!pconf[i].ready)
				*err = estrdup(pconf[i].err);
			return pconf[i].ready ? &pconf[i] : NULL;
		}
	if (npconf == (int)(sizeof pconf / sizeof *pconf))
		die(EXIT_FATAL, "too many providers");
	c = &pconf[npconf++];
	memset(c, 0, sizeof *c);
	c->p = p;
	if (p->init(c, econf->base_url, err) == 0)
		c->ready = 1;
	else
		c->err = estrdup(*err ? *err : "provider unavailable");
	return c->ready ? c : NULL;
}

int
engine_check_provider(const struct engine_conf *c, char **err)
{
	const struct provider *p = prov_find(c->provider);
	struct prov_conf pc;
	int rc;

	if (!p) {
		*err = easprintf("unknown provider %s (known: %s)",
		    c->provider, prov_names());
		return -1;
	}
	memset(&pc, 0, sizeof pc);
	pc.p = p;
	rc = p->init(&pc, c->base_url, err);
	if (rc == 0 && p->fini)
		p->fini(&pc);
	free(pc.base_url);
	return rc;
}


static int from_cache(struct job *j);

/* j->key from what is sent (lib/reqkey.h). */
static void
job_key(struct job *j)
{
	const char *sha[MAX_REFS];
	struct reqkey_in k = {0};
	int i;

	for (i = 0; i < j->pj.nrefs; i++)
		sha[i] = ref_sha256(j->pj.refs[i]);
	k.provider = j->prov->name;
	k.model = j->pj.model;
	k.prompt = j->pj.prompt;
	k.input = j->pj.input;
	k.ref_sha = sha;
	k.nref = j->pj.nrefs;
	k.variation = cJSON_GetObjectItemCaseSensitive(j->rec, "variation");
	k.reroll = cJSON_GetObjectItemCaseSensitive(j->rec, "reroll");
	reqkey_compute(&k, j->key);
}

void
job_refs_done(struct job *j)
{
	const char *msg;
	enum ec code;
	int i, retryable;

	for (i = 0; i < j->pj.nrefs; i++)
		if ((code = ref_failed(j->pj.refs[i], &retryable, &msg))) {
			job_fail_status(j, "failed", code, retryable, 0, msg);
			return;
		}
	/* the request is known by the bytes of its references, hashed now
	 * that they are at hand (once per reference, see ref_set_data) */
	job_key(j);
	if (!econf->force && from_cache(j))
		return;
	if (stop_for(j)) {	/* a stop came while its images loaded */
		not_sent(j, stop_for(j));
		return;
	}
	if (over_budget(j->price) && sched_inflight() == 0 &&
	    !sched_timers()) {
		/* nothing in flight can give budget back: skip it now */
		budget_skip(j);
		return;
	}
	ready_push(j, 0);
}

/* ---- admitting records ----------------------------------------------- */

/* The cache's entry for key (a success whose objects are all there,
 * with hit), or NULL; no system call for a key its names rule out. */
static cJSON *
lookup(const char *key, int hit)
{
	cJSON *c;

	if (cachenames_absent(econf->root, key))
		return NULL;
	c = hit ? store_cache_hit(econf->root, key) :
	    store_cache_get(econf->root, key);
	if (!c)
		cachenames_miss(key);
	return c;
}

/* Answer from the cache: 1 if the record was written. */
static int
from_cache(struct job *j)
{
	cJSON *c = lookup(j->key, 0);
	char old[65];
	int hit;

	if (!c && !cJSON_GetObjectItemCaseSensitive(j->rec, "reroll")) {
		/* paid for under the key of an older bg-generate: found once,
		 * then kept under the new key too */
		reqkey_legacy(j->prov->name, j->pj.model, j->pj.prompt,
		    j->pj.input, cJSON_GetObjectItemCaseSensitive(j->rec,
		    "batch_id"), cJSON_GetObjectItemCaseSensitive(j->rec,
		    "variation"), old);
		if ((c = lookup(old, 1))) {
			if (store_cache_put(econf->root, j->key, c) < 0)
				warnx("%s/cache:", econf->root);
			cachenames_add(j->key);
		}
	}
	hit = c && result_from_cache(econf->root, c, j->rec,
	    econf->inline_out, j->prev_attempt);
	if (hit)
		rec_set_str(j->rec, "store", store_abs());
	cJSON_Delete(c);
	if (!hit)
		return 0;
	stats_add(STAT_CACHED);
	job_finish(j);
	return 1;
}

static void
add_ref(struct job *j, const char *url)
{
	struct ref *r = ref_get(url, j);

	j->pj.refs[j->pj.nrefs++] = r;
	if (!j->prov->b64_refs)
		ref_want_raw(r);
}

/* The record says what is used, not only what was planned: provider and
 * model as sent, the plan's own kept as planned_provider/planned_model
 * when an override (--provider, --model) changed them. */
static void
record_used(struct job *j)
{
	const char *f[2][2] = {{"provider", "planned_provider"},
	    {"model", "planned_model"}}, *used[2], *was, *plan;
	int i;

	used[0] = j->prov->name;
	used[1] = j->pj.model;
	for (i = 0; i < 2; i++) {
		was = rec_str(j->rec, f[i][0]);
		plan = rec_str(j->rec, f[i][1]);
		if (was && strcmp(was, used[i]) && !plan)
			rec_set_str(j->rec, f[i][1], was);
		else if (plan && !strcmp(plan, used[i]))
			cJSON_DeleteItemFromObjectCaseSensitive(j->rec,
			    f[i][1]);
		if (!was || strcmp(was, used[i]))
			rec_set_str(j->rec, f[i][0], used[i]);
	}
	/* used[1] may have pointed at the string just replaced */
	j->pj.model = rec_str(j->rec, "model");
}

/* A job for rec, counted among the jobs in progress. */
static struct job *
job_new(cJSON *rec)
{
	struct job *j = ecalloc(1, sizeof *j);

	j->rec = rec;
	j->hidx = -1;
	j->pj.rec = rec;
	j->pj.fail.retry_after_ms = -1;
	j->prev_attempt = (int)rec_num(rec, "attempt", 0);
	j->price = rec_num(rec, "price_per_image", 0);
	if (j->price < 0 || !isfinite(j->price))
		j->price = 0;
	jobs_add(j);
	return j;
}

/* j's provider (named pname) and model as they will be used: 0, or -1
 * when j failed. */
static int
admit_model(struct job *j, const char *pname)
{
	const char *s;
	char *why;

	if (!prov_find(pname ? pname : "local")) {
		why = easprintf("unknown provider %s (known: %s)", pname,
		    prov_names());
		job_fail(j, EC_INVALID_RECORD, why);
		free(why);
		return -1;
	}
	j->pj.model = econf->model ? econf->model : rec_str(j->rec, "model");
	if (!econf->model && econf->provider &&
	    (s = rec_str(j->rec, "provider")) && strcmp(s, j->prov->name))
		j->pj.model = NULL;	/* the plan's model is another provider's */
	if (!j->pj.model && !(j->pj.model = models_default(j->prov->name))) {
		why = easprintf("no model in the job and no default for %s in "
		    "%s", j->prov->name, models_path());
		job_fail(j, EC_INVALID_RECORD, why);
		free(why);
		return -1;
	}
	record_used(j);
	return 0;
}

/* j's prompt and input: its list of product images, or NULL when j
 * failed. */
static const cJSON *
admit_input(struct job *j)
{
	const cJSON *imgs, *it;
	int n;

	j->pj.prompt = rec_str(j->rec, "prompt");
	j->pj.input = cJSON_GetObjectItemCaseSensitive(j->rec, "input");
	if (!cJSON_IsObject(j->pj.input))
		j->pj.input = NULL;
	if (!j->pj.prompt && !j->prov->offline) {
		job_fail(j, EC_INVALID_RECORD,
		    "no prompt (a string) in the job");
		return NULL;
	}
	if (!j->pj.prompt)
		j->pj.prompt = "";
	imgs = cJSON_GetObjectItemCaseSensitive(j->pj.input, "product_images");
	n = cJSON_IsArray(imgs) ? cJSON_GetArraySize(imgs) : 0;
	/* an explicitly empty list asks a network provider for an image
	 * from the prompt alone (openai: /v1/images/generations) */
	if ((n < 1 && (j->prov->offline || !cJSON_IsArray(imgs))) ||
	    n > MAX_REFS - 2) {
		job_fail(j, EC_INVALID_IMAGES,
		    "input.product_images must list 1 to 14 images");
		return NULL;
	}
	cJSON_ArrayForEach(it, imgs)
		if (!cJSON_IsString(it) || !*it->valuestring) {
			job_fail(j, EC_INVALID_IMAGES,
			    "input.product_images must hold URLs or paths");
			return NULL;
		}
	return imgs;
}

/* Load j's references: the product images, then the extra ones. */
static void
load_refs(struct job *j, const cJSON *imgs)
{
	const cJSON *it;
	const char *s;
	int i;

	j->pj.refs = ecalloc(MAX_REFS, sizeof *j->pj.refs);
	j->state = J_REFS;
	cJSON_ArrayForEach(it, imgs)
		add_ref(j, it->valuestring);
	j->pj.nproduct = j->pj.nrefs;
	for (i = 0; reqkey_extra_refs[i]; i++)
		if ((s = rec_str(j->pj.input, reqkey_extra_refs[i])) && *s)
			add_ref(j, s);
	if (j->pending == 0)
		job_refs_done(j);
}

void
admit(cJSON *rec)
{
	struct job *j = job_new(rec);
	const char *pname;
	const cJSON *imgs;
	char *why = NULL;

	pname = econf->provider ? econf->provider : rec_str(rec, "provider");
	j->prov = prov_find(pname ? pname : "local");
	if (!j->prov)
		j->prov = &prov_local;	/* for job_finish; fails below */
	/* pass-through: done, failed at another stage, or a line that was
	 * never a job */
	if (!strcmp(rec_status(rec), "succeeded") || rec_passes(rec, STAGE)) {
		job_finish(j);
		return;
	}
	if (admit_model(j, pname) < 0 || !(imgs = admit_input(j)))
		return;
	if (!(j->pj.conf = conf_for(j->prov, &why))) {
		job_fail(j, EC_AUTH,
		    why ? why : "provider unavailable");
		free(why);
		return;
	}
	load_refs(j, imgs);
}

/* ---- input ----------------------------------------------------------- */

void
provs_fini(void)
{
	int i;

	for (i = 0; i < npconf; i++) {
		if (pconf[i].ready && pconf[i].p->fini)
			pconf[i].p->fini(&pconf[i]);
		free(pconf[i].base_url);
		free(pconf[i].err);
	}
	npconf = 0;
}
