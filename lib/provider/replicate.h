/* replicate.h: what lib/provider/replicate.c (build, create, poll,
 * fetch, classify) shares with replicate_upload.c (references sent to
 * /v1/files once per run) and replicate_lookup.c (finding a prediction
 * whose create answer was lost).  Private to the Replicate provider. */
#ifndef BG_REPLICATE_H
#define BG_REPLICATE_H

#include "provider.h"

#define REPLICATE_BASE "https://api.replicate.com"
#define DATA_URL_MAX (256 * 1024)	/* larger references are uploaded */
#define MAX_OUTPUTS 16
#define POLL_FIRST_MS 500.0
#define POLL_MAX_MS 5000.0
#define POLL_LIMIT_MS (30 * 60 * 1000.0)	/* then fail (retryable) */
#define CANCEL_AFTER_MIN 35	/* Cancel-After: the poll limit and some */
#define LOOKUP_SKEW_MS (5 * 60 * 1000.0)	/* clock skew we allow */
#define LOOKUP_PAGES 10
#define CLAIMED_MAX 4096
#define UPLOADS_MAX 4096
#define UPLOAD_WAIT_MS 50.0	/* how often a job looks for another's upload */

/* A reference uploaded (url) or being uploaded by owner (url NULL):
 * jobs sharing a reference wait for one upload instead of each sending
 * their own. */
struct upload {
	char sha[65];
	char *url;
	const struct pjob *owner;
};

/* Per run. */
struct rpriv {
	int wait_s;			/* Prefer: wait=N; 0: no header */
	char *claimed[CLAIMED_MAX];	/* prediction ids jobs own (ring) */
	int nclaimed, iclaimed;
	struct upload *up;		/* uploaded references */
	int nup;
};

enum { R_START, R_UPLOAD, R_CREATE, R_LOOKUP, R_POLL, R_FETCH };

/* Per job. */
struct rstate {
	int phase;		/* what the next (or pending) request is */
	int create_unknown;	/* a create went out, its answer is unknown */
	char **files;		/* uploaded URL per reference, or NULL */
	int iref;		/* next reference to look at for upload */
	char *id, *get;		/* the prediction */
	double sent_wall;	/* wall-clock ms when the create went out */
	double poll_t0, poll_ms;
	char *page;		/* the next list page of a lookup */
	int npages;
	char *outs[MAX_OUTPUTS];	/* output URLs to fetch */
	int nouts, iout;
};

/* replicate.c */
void rep_auth(struct pjob *j, struct prov_req *rq);
int rep_same_origin(const char *url, const char *base);
int rep_bad_json(struct pjob *j, const struct prov_resp *rs,
    const char *what);
void rep_adopt(struct pjob *j, const cJSON *p, const char *id);
void rep_poll_start(struct rstate *s);

/* replicate_upload.c: the run's table of uploaded references */
struct upload *rep_upload_get(struct rpriv *p, const char *sha,
    const struct pjob *j);
void rep_upload_drop_owner(struct rpriv *p, const struct pjob *j);
void rep_build_upload(struct pjob *j, struct prov_req *rq, int i);
int rep_parse_upload(struct pjob *j, const struct prov_resp *rs);

/* replicate_lookup.c: claimed prediction ids and the lookup */
void rep_claim(struct rpriv *p, const char *id);
int rep_parse_lookup(struct pjob *j, const struct prov_resp *rs);

#endif
