/* batch_rec: the records batch mode writes for jobs that did not succeed
 * (see batch_rec.h). */
#include "batch_rec.h"
#include "ndjson.h"
#include "record.h"

#define STAGE "generate"

void
brec_usage(cJSON *rec, const struct pbatch *b)
{
	cJSON *u = cJSON_CreateObject();

	cJSON_AddStringToObject(u, "mode", "batch");
	if (b && b->name)
		cJSON_AddStringToObject(u, "provider_batch", b->name);
	rec_set(rec, "usage", u);
}

/* Write rec as status/code; attempts: 1 when a provider batch held it. */
void
brec_fail_as(cJSON *rec, const char *status, enum ec code, int retryable,
    long http, const char *msg, const struct pbatch *b, int attempts)
{
	cJSON *e;

	rec_set_num(rec, "attempt", rec_num(rec, "attempt", 0) + attempts);
	e = rec_fail_status(rec, status, STAGE, code, retryable, "%s", msg);
	if (http > 0)
		cJSON_AddNumberToObject(e, "http_status", http);
	cJSON_AddNumberToObject(e, "attempts", attempts);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "outputs");
	brec_usage(rec, b);
	rec_set_bool(rec, "cached", 0);
	nd_write(rec);
}

void
brec_fail(cJSON *rec, enum ec code, const char *msg, const struct pbatch *b,
    int attempts)
{
	brec_fail_as(rec, ec_tab[code].status, code, ec_retryable(code), 0, msg,
	    b, attempts);
}

void
brec_pending(cJSON *rec, const struct pbatch *b)
{
	rec_set_str(rec, "status", "pending");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "error");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "outputs");
	brec_usage(rec, b);
	rec_set_bool(rec, "cached", 0);
	nd_write(rec);
}

/* A failure kept in cache entry c (status "failed") as rec's record. */
void
brec_cached_fail(cJSON *rec, const cJSON *c, const struct pbatch *b,
    int cached)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "error");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(c, "usage");

	rec_set_num(rec, "attempt", rec_num(rec, "attempt", 0) + !cached);
	rec_set_str(rec, "status", "failed");
	rec_set(rec, "error", cJSON_Duplicate(e, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "outputs");
	if (u)
		rec_set(rec, "usage", cJSON_Duplicate(u, 1));
	else
		brec_usage(rec, b);
	rec_set_bool(rec, "cached", cached);
	nd_write(rec);
}
