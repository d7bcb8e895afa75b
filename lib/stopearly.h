/* stopearly: failures no retry can fix end the sending for every job they
 * apply to.  A definitive answer (a refused key, a model the provider
 * does not have, an account out of credit) applies to every job of the
 * same provider and key (auth, quota) or provider, key and model
 * (model_not_found); the provider host unreachable on consecutive
 * attempts of several jobs (DNS failure, connection refused) applies to
 * every job of the provider.  bg-generate (lib/engine.c) notes each
 * outcome here and asks, before it sends a job, whether a stop applies:
 * a 10,000-job batch with a bad key then costs a handful of requests. */
#ifndef BG_STOPEARLY_H
#define BG_STOPEARLY_H

#include "errcode.h"

struct prov_conf;

struct se_stop {
	const struct prov_conf *conf;	/* the provider and its key */
	char *model;			/* NULL: every model */
	enum ec code;
	int retryable;
	char *why;			/* the first answer's message */
	char *line;			/* the stderr line: cause and fix */
};

/* Note a final (not retryable) failure of a job for conf and model.
 * Returns the new stop when this one starts it (the code's stop scope in
 * lib/errcode.c is the key or the model), else NULL. */
const struct se_stop *se_fail(const struct prov_conf *c, const char *model,
    enum ec code, long http, const char *msg);
/* Note that a request for conf could not reach the host (job is the
 * job's identity, curl_err the reason).  Returns the new stop when this
 * one starts it, else NULL. */
const struct se_stop *se_unreachable(const struct prov_conf *c,
    const void *job, const char *curl_err);
/* Note any HTTP answer from conf's host: the host is reachable. */
void se_answered(const struct prov_conf *c);
/* The stop that applies to conf and model, or NULL. */
const struct se_stop *se_stopped(const struct prov_conf *c,
    const char *model);
/* The first stop of the run (for --progress), or NULL. */
const struct se_stop *se_first(void);
/* Forget every stop (end of a run). */
void se_reset(void);

#endif
