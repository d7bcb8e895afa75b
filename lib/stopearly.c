/* stopearly: stop sending what cannot succeed (see stopearly.h). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "models.h"
#include "provider.h"
#include "stopearly.h"

#define NET_FAILS 3	/* consecutive unreachable attempts ... */
#define NET_JOBS 2	/* ... of at least this many jobs */

static struct se_stop *stops;
static int nstops;
/* the unreachable streak per provider */
static struct streak {
	const struct prov_conf *conf;
	const void *last;
	int fails, jobs;
} streaks[8];

const struct se_stop *
se_stopped(const struct prov_conf *c, const char *model)
{
	int i;

	for (i = 0; i < nstops; i++)
		if (stops[i].conf == c && (!stops[i].model ||
		    (model && !strcmp(stops[i].model, model))))
			return &stops[i];
	return NULL;
}

const struct se_stop *
se_first(void)
{
	return nstops ? &stops[0] : NULL;
}

/* What to do about it, for the stderr line. */
static char *
fix(const struct prov_conf *c, const char *model, enum ec code)
{
	const char *name = c->p->name, *rep, *env = c->p->key_env;
	const cJSON *m;
	long d;

	if (code == EC_AUTH)
		return easprintf("check %s", env ? env : "the API key");
	if (code == EC_QUOTA)
		return estrdup("add credit or raise the billing limit, then "
		    "run the same command again");
	if (code == EC_NETWORK)
		return easprintf("check the network and the base URL (%s)",
		    c->base_url ? c->base_url : name);
	m = models_get(name, model);
	rep = models_str(m, "replacement");
	if (!rep && !m)
		rep = models_default(name);
	if (models_days_left(m, &d) && d <= 0)
		return easprintf("it shut down on %s; try %s",
		    models_str(m, "shutdown"), rep ? rep : "another model");
	return easprintf("check the model name (bg-generate --list-models "
	    "--provider %s)%s%s", name, rep ? "; try " : "", rep ? rep : "");
}

static const struct se_stop *
add(const struct prov_conf *c, const char *model, enum ec code,
    const char *why)
{
	struct se_stop *s;
	char *f;

	stops = erealloc(stops, (nstops + 1) * sizeof *stops);
	s = &stops[nstops++];
	s->conf = c;
	s->model = model ? estrdup(model) : NULL;
	s->code = code;
	s->retryable = ec_retryable(code);
	s->why = estrdup(why ? why : ec_name(code));
	f = fix(c, model, code);
	if (model)
		s->line = easprintf("%s: %s: model %s: %s; not sending the "
		    "jobs left for it: %s", c->p->name, ec_name(code), model,
		    s->why, f);
	else
		s->line = easprintf("%s: %s: %s; not sending the jobs left "
		    "for %s: %s", c->p->name, ec_name(code), s->why,
		    c->p->name, f);
	free(f);
	return s;
}

const struct se_stop *
se_fail(const struct prov_conf *c, const char *model, enum ec code,
    long http, const char *msg)
{
	int per_model;

	if (!c || code <= EC_NONE || code >= EC_N)
		return NULL;
	per_model = ec_tab[code].stop == EC_STOP_MODEL;
	if (!per_model && ec_tab[code].stop != EC_STOP_KEY)
		return NULL;
	if (se_stopped(c, per_model ? model : NULL))
		return NULL;
	return add(c, per_model ? model : NULL, code, msg);
}

static struct streak *
streak(const struct prov_conf *c)
{
	size_t i;

	for (i = 0; i < sizeof streaks / sizeof *streaks; i++)
		if (streaks[i].conf == c || !streaks[i].conf) {
			streaks[i].conf = c;
			return &streaks[i];
		}
	return NULL;
}

const struct se_stop *
se_unreachable(const struct prov_conf *c, const void *job,
    const char *curl_err)
{
	struct streak *s = streak(c);

	if (!s || se_stopped(c, NULL))
		return NULL;
	s->fails++;
	if (s->last != job) {
		s->jobs++;
		s->last = job;
	}
	if (s->fails < NET_FAILS || s->jobs < NET_JOBS)
		return NULL;
	return add(c, NULL, EC_NETWORK, curl_err);
}

void
se_answered(const struct prov_conf *c)
{
	struct streak *s = streak(c);

	if (s) {
		s->fails = s->jobs = 0;
		s->last = NULL;
	}
}

void
se_reset(void)
{
	int i;

	for (i = 0; i < nstops; i++) {
		free(stops[i].model);
		free(stops[i].why);
		free(stops[i].line);
	}
	free(stops);
	stops = NULL;
	nstops = 0;
	memset(streaks, 0, sizeof streaks);
}
