/* batch: bg-generate --mode batch.  The same job records in and result
 * records out as lib/engine.c, through the providers' Batch APIs at their
 * batch price (lib/batch_prov.h):
 *   read every job -> cache? -> already in a live provider batch? ->
 *   references uploaded once -> a request line in the open provider batch
 *   of its (provider, model, endpoint), split by the limits -> each batch
 *   recorded in the store, then created -> wait (poll) -> results joined
 *   by key into the cache -> one record per input line.
 * Jobs wait in a spool file, not in memory; the store's
 * provider-batches/<provider>/<id>.json and .keys let any later run find
 * a provider batch again (after Ctrl-C, kill -9 or --no-wait). */
#ifndef BG_BATCH_H
#define BG_BATCH_H

#include "engine.h"
#include "ndjson.h"

struct batch_conf {
	double poll_ms;		/* between polls (--poll) */
	int no_wait;		/* submit or find, write pending, exit */
	int cancel;		/* cancel the jobs' provider batches */
	long batch_size;	/* jobs per provider batch at most; 0: the
				 * provider's limit */
};

void batch_defaults(struct batch_conf *bc);

/* Run batch mode over r; the exit status (as engine_run). */
int batch_run(const struct engine_conf *c, const struct batch_conf *bc,
    struct nd_reader *r);

/* The batch price of one image of the job rec: its batch_price_per_image,
 * else the model table's batch price, else half its price_per_image. */
double batch_price(const cJSON *rec, const char *provider, const char *model);

#endif
