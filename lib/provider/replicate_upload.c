/* replicate_upload: references over DATA_URL_MAX go to POST /v1/files
 * once per run; jobs sharing a reference wait for the one upload (the
 * table in struct rpriv) instead of each sending their own. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "util.h"
#include "replicate.h"

static struct upload *
upload_find(const struct rpriv *p, const char *sha)
{
	int i;

	for (i = 0; i < p->nup; i++)
		if (!strcmp(p->up[i].sha, sha))
			return &p->up[i];
	return NULL;
}

/* The entry for sha, new and owned by j when there was none. */
struct upload *
rep_upload_get(struct rpriv *p, const char *sha, const struct pjob *j)
{
	struct upload *u;
	int i;

	if ((u = upload_find(p, sha)))
		return u;
	if (p->nup == UPLOADS_MAX) {	/* forget them all: a bound, rare */
		for (i = 0; i < p->nup; i++)
			free(p->up[i].url);
		p->nup = 0;
	}
	p->up = erealloc(p->up, (p->nup + 1) * sizeof *p->up);
	u = &p->up[p->nup++];
	memcpy(u->sha, sha, 65);
	u->url = NULL;
	u->owner = j;
	return u;
}

/* A job that ends gives up the uploads it had not finished. */
void
rep_upload_drop_owner(struct rpriv *p, const struct pjob *j)
{
	int i;

	for (i = 0; p && i < p->nup; i++)
		if (!p->up[i].url && p->up[i].owner == j) {
			p->up[i--] = p->up[--p->nup];
		}
}

void
rep_build_upload(struct pjob *j, struct prov_req *rq, int i)
{
	struct ref *r = j->refs[i];

	rq->url = prov_api_url(j->conf->base_url, "/v1/files");
	rep_auth(j, rq);
	if (!(rq->mime = curl_mime_init(rq->easy)))
		die(EXIT_FATAL, "out of memory");
	prov_mime_ref(rq->mime, "content", r, i);
}

int
rep_parse_upload(struct pjob *j, const struct prov_resp *rs)
{
	struct rstate *s = j->state;
	struct ref *r = j->refs[s->iref];
	struct upload *u;
	const char *url;
	cJSON *o;

	o = cJSON_ParseWithLength(rs->body, rs->len);
	url = rec_str(cJSON_GetObjectItemCaseSensitive(o, "urls"), "get");
	if (!url || strncmp(url, "http", 4)) {
		cJSON_Delete(o);
		return rep_bad_json(j, rs, "file upload answer");
	}
	s->files[s->iref] = estrdup(url);
	u = rep_upload_get(j->conf->priv, ref_sha256(r), j);
	free(u->url);
	u->url = estrdup(url);
	cJSON_Delete(o);
	s->iref++;
	j->delay_ms = 0;
	return PROV_NEXT;
}
