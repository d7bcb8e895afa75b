/* engine: bg-generate's event loop.  One libcurl multi handle driven by
 * curl_multi_socket_action over epoll, which also watches stdin and a
 * signalfd; jobs flow
 *   read -> cache? -> reference images -> ready queue (slot, --rpm token,
 *   budget) -> provider requests (lib/provider.h) -> store -> one record.
 * Memory is bounded by the number of jobs in progress (-j plus a quarter,
 * at least 8, read ahead), never by the input's length. */
#ifndef BG_ENGINE_H
#define BG_ENGINE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ndjson.h"

struct engine_conf {
	int jobs;		/* requests in flight at most (-j) */
	double rpm;		/* first attempts + retries per minute; 0: no cap */
	int max_attempts;	/* attempts per job in this run */
	double timeout_ms;	/* whole request */
	double connect_timeout_ms;
	long max_images;	/* < 0: no cap */
	double max_cost;	/* < 0: no cap */
	int inline_out;		/* outputs[].data = base64 of the bytes */
	int force;		/* ignore the request cache */
	int progress;		/* live status line on a terminal stderr */
	int no_stop_early;	/* send every job even after an answer that
				 * dooms them all (lib/stopearly.h) */
	const char *provider;	/* overrides the job's; NULL: job's or local */
	const char *model;	/* overrides the job's */
	const char *base_url;	/* --base-url */
	const char *root;	/* the store */
	size_t max_image_bytes;	/* per reference image */
	double backoff_ms;	/* first retry delay scale (full jitter) */
	double backoff_max_ms;	/* cap of one backoff */
	double grace_ms;	/* after SIGINT/SIGTERM, for requests in flight */
};

/* Defaults for every field. */
void engine_defaults(struct engine_conf *c);

/* Check that the provider named by --provider can start (key present...):
 * 0, or -1 with *err (free(3)). */
int engine_check_provider(const struct engine_conf *c, char **err);

/* Read job records from r and write one result record per input line on
 * stdout until the end of the input or a signal.  Returns the exit status
 * (EXIT_DONE, EXIT_BADLINES, or EXIT_FATAL when interrupted). */
int engine_run(const struct engine_conf *c, struct nd_reader *r);

/* The request key of a job: SHA-256 hex of a canonical JSON array of
 * (provider, model, prompt, input, batch_id, variation). */
void engine_request_key(const char *provider, const char *model,
    const char *prompt, const cJSON *input, const cJSON *batch_id,
    const cJSON *variation, char key[65]);

#endif
