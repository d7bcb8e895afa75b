/* report_export: bg-export's verdicts in the report, per profile. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "report.h"

const char *const rp_problem_codes[RP_NPROBLEMS] = {
	"unreadable", "bad_format", "not_srgb", "image_too_small",
	"image_too_large", "not_square", "file_too_large",
	"background_not_white", "product_too_small", "provenance_missing",
	"other"
};

static int
problem_index(const char *code)
{
	int i;

	for (i = 0; code && i < RP_NPROBLEMS - 1; i++)
		if (!strcmp(rp_problem_codes[i], code))
			return i;
	return RP_NPROBLEMS - 1;
}

static struct rp_verdict *
verdict_for(struct rp_verdict **v, int *n, const char *profile)
{
	int i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].profile == profile)
			return &(*v)[i];
	*v = erealloc(*v, (*n + 1) * sizeof **v);
	memset(&(*v)[*n], 0, sizeof **v);
	(*v)[*n].profile = profile;
	return &(*v)[(*n)++];
}

void
rp_exports_apply(struct report *r, struct rp_job *j, const cJSON *rec)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(rec, "exports");
	const cJSON *e, *p;
	struct rp_verdict *v;
	const char *verdict;

	j->nverdicts = 0;
	if (strcmp(rec_status(rec), "succeeded") || !cJSON_IsArray(ex))
		return;
	cJSON_ArrayForEach(e, ex) {
		if (!rec_str(e, "profile") || !(verdict = rec_str(e, "verdict")))
			continue;
		v = verdict_for(&j->verdicts, &j->nverdicts,
		    rp_intern(r, rec_str(e, "profile")));
		if (!strcmp(verdict, "pass")) {
			v->pass++;
			continue;
		}
		v->fail++;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(e,
		    "problems"))
			if (cJSON_IsString(p))
				v->problems[problem_index(p->valuestring)]++;
	}
}

/* The sums over the jobs of batch (-2: all); *n profiles, free(3). */
static struct rp_verdict *
sums(const struct report *r, int batch, int *n)
{
	struct rp_verdict *s = NULL, *t;
	const struct rp_job *j;
	int i, k, c;

	*n = 0;
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (batch != -2 && j->batch != batch)
			continue;
		for (k = 0; k < j->nverdicts; k++) {
			t = verdict_for(&s, n, j->verdicts[k].profile);
			t->pass += j->verdicts[k].pass;
			t->fail += j->verdicts[k].fail;
			for (c = 0; c < RP_NPROBLEMS; c++)
				t->problems[c] += j->verdicts[k].problems[c];
		}
	}
	return s;
}

cJSON *
rp_exports_json(const struct report *r, int batch)
{
	struct rp_verdict *s;
	cJSON *a, *o, *pr;
	int n, i, c;

	if (!(s = sums(r, batch, &n)))
		return NULL;
	a = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "profile", s[i].profile);
		cJSON_AddNumberToObject(o, "pass", s[i].pass);
		cJSON_AddNumberToObject(o, "fail", s[i].fail);
		pr = cJSON_AddObjectToObject(o, "problems");
		for (c = 0; c < RP_NPROBLEMS; c++)
			if (s[i].problems[c])
				cJSON_AddNumberToObject(pr, rp_problem_codes[c],
				    s[i].problems[c]);
		cJSON_AddItemToArray(a, o);
	}
	free(s);
	return a;
}

void
rp_exports_text(const struct report *r, struct sbuf *o)
{
	struct rp_verdict *s;
	char *name;
	int n, i, c, first;

	if (!(s = sums(r, -2, &n)))
		return;
	for (i = 0; i < n; i++) {
		name = rp_clean(s[i].profile, 24);
		sb_addf(o, "%-11s%-14s pass %d  fail %d", i ? "" : "exports",
		    name, s[i].pass, s[i].fail);
		free(name);
		for (c = 0, first = 1; c < RP_NPROBLEMS; c++)
			if (s[i].problems[c]) {
				sb_addf(o, "%s%s %d", first ? "  " : ", ",
				    rp_problem_codes[c], s[i].problems[c]);
				first = 0;
			}
		sb_addc(o, '\n');
	}
	free(s);
}
