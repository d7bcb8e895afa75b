/* batch_prov: helpers shared by the providers' batch parts (see
 * batch_prov.h). */
#include <stdlib.h>
#include <string.h>

#include "batch_prov.h"
#include "err.h"
#include "record.h"

void
bp_flatten(const struct prov_req *rq, struct sbuf *b)
{
	int i;

	for (i = 0; i < rq->nseg; i++)
		sb_add(b, rq->seg[i].p ? rq->seg[i].p : rq->own.s +
		    rq->seg[i].off, rq->seg[i].len);
}

int
bp_call(const struct bctx *x, struct bh_req *rq, struct bh_resp *rs,
    const char *what, char **err, int *transient)
{
	char *m;

	*transient = 0;
	if (bh_do(NULL, rq, rs) < 0) {
		*err = easprintf("%s: %s", what, rs->err);
		*transient = 1;
		bh_resp_free(rs);
		return -1;
	}
	if (rs->write_failed) {
		*err = easprintf("%s: writing the answer: %s", what,
		    strerror(rs->write_failed));
		bh_resp_free(rs);
		return -1;
	}
	if (rs->status >= 200 && rs->status <= 299)
		return 0;
	m = prov_error_text(rs->body.s, rs->body.len, 300);
	*err = easprintf("%s: HTTP %ld%s%s", what, rs->status, m ? ": " : "",
	    m ? m : "");
	free(m);
	*transient = rs->status == 408 || rs->status == 429 ||
	    rs->status >= 500;
	{
		double ra = rs->retry_after_ms;

		bh_resp_free(rs);
		rs->retry_after_ms = ra;
	}
	return -1;
}

long
bp_grpc_http(int code)
{
	static const long map[] = {
		200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400,
		501, 500, 503, 500, 401,
	};

	return code >= 0 && code < (int)(sizeof map / sizeof *map) ?
	    map[code] : 500;
}

void
bp_classify(struct pjob *j, long status, const char *body, size_t len)
{
	struct prov_resp rs = {0};

	rs.status = status;
	rs.body = body;
	rs.len = len;
	rs.retry_after_ms = -1;
	j->conf->p->classify(j, &rs);
}

int
bp_parse(struct pjob *j, const char *body, size_t len)
{
	struct prov_resp rs = {0};

	rs.status = 200;
	rs.body = body;
	rs.len = len;
	rs.retry_after_ms = -1;
	return j->conf->p->parse(j, &rs);
}

int
bp_req(const struct bctx *x, const char *url, struct curl_slist *h,
    const char *body, FILE *out, const char *what, struct bh_resp *rs,
    char **err, int *transient)
{
	struct bh_req rq = {0};

	rq.url = url;
	rq.headers = h;
	if (body) {
		rq.body = body;
		rq.len = strlen(body);
	}
	rq.out = out;
	/* downloads take what their size takes */
	rq.timeout_ms = out ? 0 : x->timeout_ms;
	rq.connect_timeout_ms = x->connect_timeout_ms;
	return bp_call(x, &rq, rs, what, err, transient);
}

int
bp_send(const struct bctx *x, char *url, struct curl_slist *h,
    const char *body, FILE *out, const char *what, char **err,
    int *transient)
{
	struct bh_resp rs;
	int rc = bp_req(x, url, h, body, out, what, &rs, err, transient);

	if (rc == 0)
		bh_resp_free(&rs);
	curl_slist_free_all(h);
	free(url);
	return rc;
}

struct curl_slist *
bp_secret(struct curl_slist *h, const char *name, const char *key)
{
	char *s = easprintf("%s: %s", name, key);

	h = curl_slist_append(h, s);
	memset(s, 0, strlen(s));
	free(s);
	return h;
}

cJSON *
bp_get_json(const struct bctx *x, const char *url, struct curl_slist *h,
    const char *what, double *retry_ms, char **err, int *transient)
{
	struct bh_resp rs;
	cJSON *o = NULL;
	int rc = bp_req(x, url, h, NULL, NULL, what, &rs, err, transient);

	*retry_ms = rs.retry_after_ms;
	if (rc < 0)
		return NULL;
	o = cJSON_ParseWithLength(rs.body.s, rs.body.len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
		*err = easprintf("%s: unparsable answer", what);
		*transient = 1;
	}
	bh_resp_free(&rs);
	return o;
}

int
bp_set_state(struct pbatch *b, const char *s, const struct bp_state *tab,
    size_t n, const char *what, char **err, int *transient)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(s, tab[i].s)) {
			b->state = tab[i].st;
			return 0;
		}
	*err = easprintf("%s: unknown state %s", what, s ? s : "(none)");
	*transient = 1;
	return -1;
}

int
bp_find(const struct bctx *x, struct pbatch *b, char **err, int *transient)
{
	char *cursor = NULL;
	int rc, pages = 0;

	do
		rc = b->bp->find_page(x, b, &cursor, err, transient);
	while (rc == 0 && cursor && ++pages < 1000);
	if (rc == 0 && cursor) {
		*err = easprintf("%s: more than %d pages of batches to look "
		    "through", b->bp->name, pages);
		rc = -1;
	}
	free(cursor);
	return rc;
}
