/* batch_rec: records of batch mode (lib/batch.c) for jobs that did not
 * succeed: failed, skipped or canceled ones, pending ones, and failures a
 * provider batch answered earlier.  Each writes rec with nd_write; every
 * one has usage.mode "batch" and, when b is given, usage.provider_batch. */
#ifndef BG_BATCH_REC_H
#define BG_BATCH_REC_H

#include <cjson/cJSON.h>

#include "batch_prov.h"
#include "errcode.h"

/* rec.usage = {mode:"batch", provider_batch: b's name (b may be NULL)}. */
void brec_usage(cJSON *rec, const struct pbatch *b);
/* Write rec with status and error {code, message, retryable,
 * http_status (if > 0), attempts}; attempts is added to rec.attempt (1
 * when a provider batch held the job, else 0). */
void brec_fail_as(cJSON *rec, const char *status, enum ec code,
    int retryable, long http, const char *msg, const struct pbatch *b,
    int attempts);
/* brec_fail_as with the code's status and retryable flag (its defaults,
 * lib/errcode.c) and no http_status. */
void brec_fail(cJSON *rec, enum ec code, const char *msg,
    const struct pbatch *b, int attempts);
/* Write rec as "pending" in provider batch b. */
void brec_pending(cJSON *rec, const struct pbatch *b);
/* Write rec as the failure kept in cache entry c; cached: answered from
 * the store now (else collected by this run: attempt + 1). */
void brec_cached_fail(cJSON *rec, const cJSON *c, const struct pbatch *b,
    int cached);

#endif
