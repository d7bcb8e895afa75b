/* check: bg-generate --check and --list-models (see check.h).  Blocking
 * libcurl easy requests: a handful, before anything is sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "check.h"
#include "err.h"
#include "models.h"
#include "provider.h"
#include "record.h"
#include "util.h"

#define MAX_PAIRS 64
#define CHECK_TIMEOUT_S 30L
#define CONNECT_TIMEOUT_S 10L

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	struct sbuf *b = arg;

	if (b->len + sz * n > ((size_t)16 << 20))
		return 0;
	sb_add(b, p, sz * n);
	return sz * n;
}

/* Send rq; 0 with *status and body b, or -1 with *err (curl's). */
static int
get(struct prov_req *rq, long *status, struct sbuf *b, char **err)
{
	CURL *h = curl_easy_init();
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;

	if (!h)
		die(EXIT_FATAL, "curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, CHECK_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "batchgen/" BG_VERSION);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	sb_addc(b, '\0');
	b->len--;
	if (cc != CURLE_OK) {
		*err = estrdup(*ebuf ? ebuf : curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

/* "model X is not available to this key (retired D?); try Y" */
static char *
not_found(const char *prov, const char *model)
{
	const cJSON *m = models_get(prov, model);
	const char *sd = models_str(m, "shutdown"),
	    *rep = models_str(m, "replacement");

	if (!rep && (!m || models_retired(m)))
		rep = models_default(prov);
	return easprintf("model %s is not available to this key%s%s%s%s%s",
	    model, sd ? " (retired " : "", sd ? sd : "", sd ? "?)" : "",
	    rep ? "; try " : "", rep ? rep : "");
}

/* Ask the provider about model (NULL: list into names).  0, or -1 with
 * *why (malloc'd); *note as model_ans leaves it. */
static int
ask(struct prov_conf *c, const char *model, char **note, cJSON *names,
    char **why)
{
	struct prov_req rq;
	struct prov_resp rs = {0};
	struct sbuf b = {0};
	char *err = NULL, *t;
	int rc = -1;

	prov_req_init(&rq, NULL);
	if (c->p->model_req(c, model, &rq) < 0) {
		*why = estrdup(model ? "cannot ask about this model name" :
		    "no model list");
		prov_req_free(&rq);
		return -1;
	}
	if (get(&rq, &rs.status, &b, &err) < 0) {
		*why = easprintf("cannot reach %s: %s", c->base_url, err);
		free(err);
	} else if (rs.status >= 200 && rs.status <= 299) {
		rs.body = b.s ? b.s : "";
		rs.len = b.len;
		if ((rc = c->p->model_ans(model, &rs, note, names)) < 0) {
			*why = *note ? *note : estrdup("not usable");
			*note = NULL;
		}
	} else {
		t = prov_error_text(b.s ? b.s : "", b.len, 200);
		if (rs.status == 401 || rs.status == 403 ||
		    (t && strstr(t, "API key not valid")))
			*why = easprintf("the key is refused (HTTP %ld%s%s); "
			    "check %s", rs.status, t ? ": " : "", t ? t : "",
			    c->p->key_env ? c->p->key_env : "the key");
		else if (rs.status == 404 && model)
			*why = not_found(c->p->name, model);
		else
			*why = easprintf("HTTP %ld%s%s", rs.status,
			    t ? ": " : "", t ? t : "");
		free(t);
	}
	sb_free(&b);
	prov_req_free(&rq);
	return rc;
}

static struct prov_conf *
start(const struct engine_conf *ec, const char *name, struct prov_conf *c)
{
	char *err = NULL;

	memset(c, 0, sizeof *c);
	if (!(c->p = prov_find(name))) {
		warnx("unknown provider %s (known: %s)", name, prov_names());
		return NULL;
	}
	if (c->p->offline)
		return c;
	if (c->p->init(c, ec->base_url, &err) < 0) {
		warnx("%s", err);
		free(err);
		return NULL;
	}
	return c;
}

static void
stop(struct prov_conf *c)
{
	if (c->p && !c->p->offline && c->p->fini)
		c->p->fini(c);
	free(c->base_url);
}

/* Check one provider+model: 0 usable (a line on stdout), -1 not. */
static int
check_one(const struct engine_conf *ec, const char *prov, const char *model)
{
	struct prov_conf c;
	char *note = NULL, *why = NULL;
	long d;
	int rc;

	if (!start(ec, prov, &c))
		return -1;
	if (c.p->offline) {
		printf("%s: ok: offline\n", prov);
		return 0;
	}
	if (!model && !(model = models_default(prov))) {
		warnx("%s: no model given and none in %s", prov, models_path());
		stop(&c);
		return -1;
	}
	rc = ask(&c, model, &note, NULL, &why);
	if (rc == 0) {
		printf("%s: ok: %s%s%s\n", prov, model, note ? ", " : "",
		    note ? note : "");
		if (models_days_left(models_get(prov, model), &d) && d <= 30)
			warnx("%s: model %s shuts down on %s", prov, model,
			    models_str(models_get(prov, model), "shutdown"));
	} else {
		warnx("%s: %s", prov, why);
	}
	free(note);
	free(why);
	stop(&c);
	return rc;
}

/* Add (provider, model) to the pairs unless there. */
static int
add_pair(char *pairs[][2], int n, const char *prov, const char *model)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(pairs[i][0], prov) && ((!model && !pairs[i][1]) ||
		    (model && pairs[i][1] && !strcmp(pairs[i][1], model))))
			return n;
	if (n == MAX_PAIRS)
		return n;
	pairs[n][0] = estrdup(prov);
	pairs[n][1] = model ? estrdup(model) : NULL;
	return n + 1;
}

int
check_run(const struct engine_conf *ec, struct nd_reader *r)
{
	char *pairs[MAX_PAIRS][2], *line;
	const char *p, *m;
	size_t len;
	cJSON *o;
	int n = 0, i, bad = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die(EXIT_FATAL, "curl_global_init failed");
	if (ec->provider)
		n = add_pair(pairs, n, ec->provider, ec->model);
	else
		while (nd_line(r, &line, &len) == 1)
			if ((o = nd_parse(r, line, len))) {
				p = rec_str(o, "provider");
				m = ec->model ? ec->model : rec_str(o, "model");
				n = add_pair(pairs, n, p ? p : "local",
				    p && strcmp(p, "local") ? m : NULL);
				cJSON_Delete(o);
			}
	if (n == 0)
		warnx("--check: no --provider and no jobs to check");
	for (i = 0; i < n; i++) {
		if (check_one(ec, pairs[i][0], pairs[i][1]) < 0)
			bad = 1;
		free(pairs[i][0]);
		free(pairs[i][1]);
	}
	curl_global_cleanup();
	return bad || n == 0 ? EXIT_USAGE : EXIT_DONE;
}

/* One line for a model the key can use. */
static void
list_line(const char *prov, const char *name)
{
	const cJSON *m = models_get(prov, name);
	const char *sd = models_str(m, "shutdown");

	printf("%s%s%s%s\n", name, m && name && !strcmp(name,
	    models_default(prov) ? models_default(prov) : "") ?
	    "\tdefault" : "", sd ? "\tshutdown " : "", sd ? sd : "");
}

int
check_list(const struct engine_conf *ec)
{
	struct prov_conf c;
	cJSON *names, *it;
	const cJSON *m;
	const char *n;
	char *why = NULL, *note = NULL;
	int rc = EXIT_DONE;

	if (!ec->provider)
		die(EXIT_USAGE, "--list-models needs --provider");
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		die(EXIT_FATAL, "curl_global_init failed");
	if (!start(ec, ec->provider, &c))
		return EXIT_USAGE;
	names = cJSON_CreateArray();
	if (c.p->offline) {
		cJSON_ArrayForEach(m, models_list(ec->provider))
			list_line(ec->provider, models_str(m, "name"));
	} else if (ask(&c, NULL, &note, names, &why) == 0) {
		/* the provider's list: the table's models, and any other
		 * whose name says image */
		cJSON_ArrayForEach(it, names)
			if (models_get(ec->provider, it->valuestring) ||
			    strstr(it->valuestring, "image"))
				list_line(ec->provider, it->valuestring);
	} else if (!strcmp(why, "no model list")) {
		/* no list to ask for: each table model in turn */
		free(why);
		why = NULL;
		cJSON_ArrayForEach(m, models_list(ec->provider)) {
			n = models_str(m, "name");
			if (ask(&c, n, &note, NULL, &why) == 0)
				list_line(ec->provider, n);
			free(note);
			free(why);
			note = why = NULL;
		}
	} else {
		warnx("%s: %s", ec->provider, why);
		rc = EXIT_USAGE;
	}
	free(why);
	free(note);
	cJSON_Delete(names);
	stop(&c);
	curl_global_cleanup();
	return rc;
}
