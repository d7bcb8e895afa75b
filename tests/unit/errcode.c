/* Unit tests for lib/errcode.c (the table of error codes) and the
 * failure setters that take its defaults (lib/record.c, lib/provider.c,
 * lib/stopearly.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "provider.h"
#include "record.h"
#include "stopearly.h"
#include "test.h"

/* Every enum value has a whole row: a code added to the enum but not to
 * the table would print (null) in --list-errors. */
static void
rows(void)
{
	int i, whole = 1, found = 1;
	const struct ec_info *e;

	for (i = EC_NONE + 1; i < EC_N; i++) {
		e = &ec_tab[i];
		whole = whole && e->name && e->status && e->stages &&
		    e->meaning && *e->meaning;
		found = found && e->name && ec_find(e->name) == (enum ec)i &&
		    ec_is(e->name, (enum ec)i);
	}
	CHECK(whole, "every code has a name, status, stages and meaning");
	CHECK(found, "ec_find and ec_is find every code by its name");
	CHECK(ec_name(EC_NONE) == NULL && ec_name(EC_N) == NULL,
	    "EC_NONE and out of range have no name");
	CHECK(ec_find("batch_limit") == EC_NONE && ec_find(NULL) == EC_NONE,
	    "an unknown name is EC_NONE");
	CHECK(!ec_is(NULL, EC_AUTH) && !ec_is("auth", EC_QUOTA),
	    "ec_is: another code or none");
	CHECK_STR(ec_stop_word(ec_tab[EC_MODEL_NOT_FOUND].stop), "model",
	    "model_not_found stops the model");
}

/* rec_fail and prov_fail take the table's defaults; the _retry and
 * _status forms what they are given. */
static void
setters(void)
{
	cJSON *o = cJSON_CreateObject(), *e;
	struct pjob j;

	e = rec_fail(o, "generate", EC_BUDGET, "--max-images %d reached", 3);
	CHECK_STR(rec_status(o), "skipped", "budget: status skipped");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(e, "retryable")),
	    "budget: retryable, as in the table");
	CHECK_STR(rec_error_code(o), "budget", "budget: error.code");
	e = rec_fail_status(o, "failed", "generate", EC_CANCELED, 0, "x");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(e, "retryable")) &&
	    !strcmp(rec_status(o), "failed"), "rec_fail_status: as given");
	cJSON_Delete(o);

	memset(&j, 0, sizeof j);
	prov_fail(&j, EC_NO_IMAGE, 200, "no image %s", "here");
	CHECK(j.fail.code == EC_NO_IMAGE && j.fail.retryable &&
	    j.fail.http_status == 200, "prov_fail: the default retryable");
	prov_fail_retry(&j, EC_SERVER_ERROR, 0, 0, "billed");
	CHECK(j.fail.code == EC_SERVER_ERROR && !j.fail.retryable,
	    "prov_fail_retry: as given");
	prov_recode(&j, EC_RATE_LIMITED);
	CHECK(j.fail.code == EC_RATE_LIMITED && j.fail.retryable &&
	    !strcmp(j.fail.message, "billed"), "prov_recode keeps the message");
	prov_recode(&j, EC_QUOTA);
	CHECK(!j.fail.retryable, "prov_recode: quota is not retryable");
	free(j.fail.message);
}

/* Only codes whose row says key or model stop the sending. */
static void
stops(void)
{
	static struct provider p = { .name = "gemini" };
	struct prov_conf c = { .p = &p };
	const struct se_stop *s;

	CHECK(!se_fail(&c, "m1", EC_BLOCKED, 400, "no"),
	    "blocked stops nothing");
	CHECK(!se_fail(&c, "m1", EC_SERVER_ERROR, 500, "no"),
	    "server_error stops nothing");
	s = se_fail(&c, "m1", EC_MODEL_NOT_FOUND, 404, "gone");
	CHECK(s && s->model && !strcmp(s->model, "m1") && !s->retryable,
	    "model_not_found stops that model");
	CHECK(!se_stopped(&c, "m2"), "... not another");
	s = se_fail(&c, "m2", EC_QUOTA, 429, "broke");
	CHECK(s && !s->model && se_stopped(&c, "m2"),
	    "quota stops every model of the key");
	se_reset();
}

int
main(void)
{
	rows();
	setters();
	stops();
	return t_failed;
}
