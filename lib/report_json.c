/* report_json: the report as one JSON object (bg-report --json; the
 * summary the HTML page and bg-pg-load read), built from the folded jobs
 * of report.c.  Text is report_text.c, the page report_html.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "report.h"

static void
add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_lat(cJSON *o, const char *key, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, round(v));
}

static void
add_counts(cJSON *o, const long n[RP_NSTATUS], long total)
{
	int i;

	cJSON_AddNumberToObject(o, "total", total);
	for (i = RP_SUCCEEDED; i < RP_NSTATUS; i++)
		cJSON_AddNumberToObject(o, rp_status_name[i], n[i]);
	cJSON_AddNumberToObject(o, "pending", n[RP_PENDING]);
}

static void
add_stats(cJSON *o, const struct rp_stats *s)
{
	cJSON *lat, *errs, *e;
	int i;

	add_counts(o, s->n, s->total);
	cJSON_AddNumberToObject(o, "cached", s->cached);
	cJSON_AddNumberToObject(o, "cost", s->cost);
	cJSON_AddNumberToObject(o, "saved", s->saved);
	cJSON_AddNumberToObject(o, "images", s->images);
	lat = cJSON_AddObjectToObject(o, "latency_ms");
	add_lat(lat, "p50", rp_percentile(s, 0.5));
	add_lat(lat, "p90", rp_percentile(s, 0.9));
	add_lat(lat, "max", rp_percentile(s, 1));
	errs = cJSON_AddArrayToObject(o, "errors");
	for (i = 0; i < s->nerrs; i++) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "code", s->errs[i].code);
		cJSON_AddNumberToObject(e, "count", s->errs[i].count);
		cJSON_AddBoolToObject(e, "retryable", s->errs[i].retryable);
		add_str_or_null(e, "example", s->errs[i].example);
		cJSON_AddItemToArray(errs, e);
	}
}

static void
json_variants(const struct report *r, cJSON *o)
{
	cJSON *a = cJSON_AddArrayToObject(o, "variants"), *v;
	const struct rp_variant *var;
	long n[RP_NSTATUS];
	long cached;
	int i, k;

	for (i = 0; i < r->nvariants; i++) {
		var = &r->variants[i];
		if (rp_variant_gone(r, i))
			continue;
		memset(n, 0, sizeof n);
		cached = 0;
		for (k = 0; k < var->njobs; k++) {
			n[r->jobs[var->jobs[k]].status]++;
			cached += r->jobs[var->jobs[k]].cached;
		}
		v = cJSON_CreateObject();
		add_str_or_null(v, "batch_id", r->batches[var->batch].batch_id);
		add_str_or_null(v, "variant_id", var->variant_id);
		add_str_or_null(v, "product_id", var->product_id);
		add_str_or_null(v, "title", var->title);
		add_str_or_null(v, "variant_title", var->variant_title);
		cJSON_AddStringToObject(v, "status",
		    rp_status_name[rp_variant_status(r, i)]);
		add_counts(v, n, var->njobs);
		cJSON_AddNumberToObject(v, "cached", cached);
		cJSON_AddItemToArray(a, v);
	}
}

static void
json_products(const struct report *r, cJSON *o)
{
	cJSON *a = cJSON_AddArrayToObject(o, "products"), *p;
	struct rp_prow *rows;
	int n, i;

	rows = rp_product_rows(r, &n);
	for (i = 0; i < n; i++) {
		p = cJSON_CreateObject();
		add_str_or_null(p, "product_id", rows[i].product_id);
		cJSON_AddNumberToObject(p, "variants", rows[i].variants);
		add_counts(p, rows[i].n, rows[i].total);
		cJSON_AddItemToArray(a, p);
	}
	free(rows);
}

cJSON *
rp_json(const struct report *r, enum rp_by by)
{
	cJSON *o = cJSON_CreateObject(), *batches, *b;
	struct rp_stats s;
	int i;

	rp_stats(r, -2, &s);
	add_stats(o, &s);
	rp_stats_free(&s);
	cJSON_AddBoolToObject(o, "complete", rp_complete(r));
	cJSON_AddNumberToObject(o, "records", r->records);
	if ((b = rp_exports_json(r, -2)))
		cJSON_AddItemToObject(o, "exports", b);
	batches = cJSON_AddArrayToObject(o, "batches");
	for (i = 0; i < r->nbatches; i++) {
		if (rp_batch_gone(r, i))
			continue;
		b = cJSON_CreateObject();
		add_str_or_null(b, "batch_id", r->batches[i].batch_id);
		add_str_or_null(b, "batch_name", r->batches[i].batch_name);
		rp_stats(r, i, &s);
		add_stats(b, &s);
		rp_stats_free(&s);
		cJSON_AddItemToArray(batches, b);
	}
	if (by == RP_BY_VARIANT)
		json_variants(r, o);
	else if (by == RP_BY_PRODUCT)
		json_products(r, o);
	return o;
}

