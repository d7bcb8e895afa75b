/* replicate_lookup: after a create whose answer never came, find the
 * prediction it may have made in GET /v1/predictions (same model and
 * prompt, created since we sent ours, not claimed by another job of this
 * run), so that no prediction is paid twice (see replicate.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "record.h"
#include "util.h"
#include "replicate.h"

/* "2023-09-08T16:19:34.765994Z" (RFC 3339 UTC) as ms since the epoch, or
 * -1. */
static double
iso_ms(const char *s)
{
	struct tm tm = {0};
	double sec;
	int n = 0;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%lf%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec, &n) != 6 ||
	    !isfinite(sec) || sec < 0 || sec >= 62)
		return -1;
	/* range-check before the arithmetic: "-2147483648-1-1" overflowed */
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	tm.tm_sec = 0;
	/* an offset other than Z is rare here; read +hh:mm anyway */
	if (s[n] == '+' || s[n] == '-') {
		int hh = 0, mm = 0;

		if (sscanf(s + n + 1, "%d:%d", &hh, &mm) < 1 || hh < 0 ||
		    hh > 23 || mm < 0 || mm > 59)
			return -1;
		sec -= (s[n] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
	}
	return ((double)timegm(&tm) + sec) * 1000;
}

void
rep_claim(struct rpriv *p, const char *id)
{
	if (p->nclaimed < CLAIMED_MAX) {
		p->claimed[p->nclaimed++] = estrdup(id);
		return;
	}
	free(p->claimed[p->iclaimed]);
	p->claimed[p->iclaimed] = estrdup(id);
	p->iclaimed = (p->iclaimed + 1) % CLAIMED_MAX;
}

static int
claimed(const struct rpriv *p, const char *id)
{
	int i;

	for (i = 0; i < p->nclaimed; i++)
		if (!strcmp(p->claimed[i], id))
			return 1;
	return 0;
}

/* Our prediction in a page of GET /v1/predictions, or PROV_NEXT for the
 * next page, or a new create when it is not there. */
int
rep_parse_lookup(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	struct rpriv *p = j->conf->priv;
	const cJSON *res, *it, *best = NULL;
	const char *model, *next, *colon, *pm, *pv, *pp;
	double t, d, bestd = INFINITY, oldest = INFINITY;
	size_t mlen;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	res = cJSON_GetObjectItemCaseSensitive(o, "results");
	if (!cJSON_IsArray(res)) {
		cJSON_Delete(o);
		return rep_bad_json(j, rs, "prediction list");
	}
	model = j->model;
	colon = strchr(model, ':');
	mlen = colon ? (size_t)(colon - model) : strlen(model);
	cJSON_ArrayForEach(it, res) {
		t = iso_ms(rec_str(it, "created_at"));
		if (t >= 0 && t < oldest)
			oldest = t;
		if (t < 0 || t < s->sent_wall - LOOKUP_SKEW_MS)
			continue;
		pm = rec_str(it, "model");
		pv = rec_str(it, "version");
		if (strchr(model, '/')) {
			if (!pm || strlen(pm) != mlen || strncmp(pm, model, mlen))
				continue;
			if (colon && pv && strcmp(pv, "hidden") &&
			    strcmp(pv, colon + 1))
				continue;
		} else if (!pv || strcmp(pv, model)) {
			continue;
		}
		pp = rec_str(cJSON_GetObjectItemCaseSensitive(it, "input"),
		    "prompt");
		if (!rec_str(it, "id") || claimed(p, rec_str(it, "id")) ||
		    !pp || strcmp(pp, j->prompt))
			continue;
		d = fabs(t - s->sent_wall);
		if (d < bestd) {
			bestd = d;
			best = it;
		}
	}
	if (best) {
		/* found: a list entry may be abridged, so poll it whole */
		rep_adopt(j, best, rec_str(best, "id"));
		rep_poll_start(s);
		free(s->page);
		s->page = NULL;
		cJSON_Delete(o);
		j->delay_ms = 0;
		return PROV_NEXT;
	}
	next = rec_str(o, "next");
	if (next && ++s->npages < LOOKUP_PAGES && oldest >= s->sent_wall -
	    LOOKUP_SKEW_MS && rep_same_origin(next, j->conf->base_url)) {
		free(s->page);
		s->page = estrdup(next);
		cJSON_Delete(o);
		j->delay_ms = 0;
		return PROV_NEXT;
	}
	cJSON_Delete(o);
	/* it was never made: make it now */
	s->phase = R_START;
	s->create_unknown = 0;
	free(s->page);
	s->page = NULL;
	j->delay_ms = 0;
	return PROV_NEXT;
}
