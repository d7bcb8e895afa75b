/* report: aggregate batch records into per-job state and batch summaries
 * (doc/contract.md "report").  Memory grows with the number of jobs, never with
 * the size of the records: only the few fields a report shows are kept. */
#ifndef BG_REPORT_H
#define BG_REPORT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "util.h"

enum rp_status {
	RP_PENDING,		/* planned or not final yet */
	RP_SUCCEEDED,
	RP_FAILED,
	RP_SKIPPED,
	RP_CANCELED,
	RP_NSTATUS
};
extern const char *const rp_status_name[RP_NSTATUS];

/* Strings in these structs are interned in the report (never free them). */
struct rp_batch {
	const char *batch_id;	/* NULL: failed before planning */
	const char *batch_name;
};

struct rp_variant {		/* one card of the HTML report */
	int batch;
	const char *variant_id, *product_id, *title, *variant_title;
	const char **refs;	/* reference images (only with keep_paths) */
	int nrefs;
	int *jobs;		/* indexes into report.jobs, first seen first */
	int njobs, capjobs;
};

struct rp_job {
	const char *job_id;	/* NULL for a failure before planning */
	int variant, batch;
	unsigned char status;	/* enum rp_status */
	unsigned char cached, retryable, planned;
	int variation;		/* 0 when unknown */
	int attempt;		/* attempt of the winning record */
	int source;		/* report.source when it was read */
	int nimages;		/* outputs of the winning record */
	double price;		/* price_per_image, < 0 unknown */
	double elapsed;		/* usage.elapsed_ms, < 0 unknown */
	const char *code;	/* error.code of the winning record */
	char *message;		/* error.message (owned, bounded), or NULL */
	const char **outputs;	/* outputs[].path (only with keep_paths) */
	int noutputs;
	const char *provider_batch;	/* usage.provider_batch (batch mode) */
};

struct report {
	int keep_paths;		/* keep image paths, for the HTML page */
	struct rp_batch *batches;
	struct rp_variant *variants;
	struct rp_job *jobs;
	int nbatches, nvariants, njobs;
	int capbatches, capvariants, capjobs;
	long n[RP_NSTATUS];	/* jobs per status, kept up to date */
	long planned;		/* jobs named by the plan */
	long records;		/* records read */
	long ignored;		/* records without job_id that did not fail */
	int source;		/* caller: the input the next records are from */
	void *priv;		/* hash tables and the string pool */
};

/* Start an empty report; keep_paths keeps image paths for the HTML page.
 * rp_free releases everything. */
void rp_init(struct report *r, int keep_paths);
void rp_free(struct report *r);

/* Fold one record in.  The later record of a job wins, except that a
 * record that is not final (planned…) never hides a final one, and that
 * between inputs (r->source differs: files have no order in time) a final
 * record with a lower attempt does not replace one with a higher attempt.
 * Records without a job_id count only when they failed (a failure before
 * planning), once per variant_id or bad line (error.file, error.line).
 * plan marks records of the plan: their jobs are counted in r->planned. */
void rp_add(struct report *r, const cJSON *rec, int plan);

/* The index of the job with this job_id, or -1. */
int rp_find(const struct report *r, const char *job_id);

/* Intern s in the report's string pool (NULL stays NULL). */
const char *rp_intern(struct report *r, const char *s);

/* True when no job is pending (and there is at least one job). */
int rp_complete(const struct report *r);
/* True when there is at least one job and every job succeeded. */
int rp_all_succeeded(const struct report *r);

/* Counts, cost, latency and errors over a set of jobs. */
struct rp_err {
	const char *code;
	long count;
	int retryable;		/* some job with this code is retryable */
	const char *example;	/* message of the first such job */
};
struct rp_stats {
	long total, n[RP_NSTATUS], cached, images;
	double cost;
	int nlat, caplat;
	double *lat;		/* sorted elapsed_ms, finished uncached jobs */
	struct rp_err *errs;	/* sorted by count, then code */
	int nerrs, caperrs;
};
/* Stats over every job (batch == -2), or over one batch (index). Free
 * with rp_stats_free. */
void rp_stats(const struct report *r, int batch, struct rp_stats *s);
void rp_stats_free(struct rp_stats *s);
/* Nearest-rank percentile (0 < p <= 1) of the latencies; -1 if none. */
double rp_percentile(const struct rp_stats *s, double p);

/* The status shown for a variant's card: failed if any job failed, else
 * pending, canceled, skipped, succeeded in that order of precedence. */
enum rp_status rp_variant_status(const struct report *r, int v);

enum rp_by { RP_BY_NONE, RP_BY_VARIANT, RP_BY_PRODUCT, RP_BY_ERROR };

/* The report record (doc/contract.md "report") plus "variants"/"products" rows
 * for --by.  cJSON_Delete it. */
cJSON *rp_json(const struct report *r, enum rp_by by);

/* The text summary, appended to out; results names the file for the retry
 * command it ends with when something failed. */
void rp_text(const struct report *r, enum rp_by by, const char *results,
    const char *plan, struct sbuf *out);

/* Append an amount with 2 to 4 decimals (2.80, 0.039) to out. */
void rp_money(struct sbuf *out, double v);

/* Copy of s with control characters replaced by '?' and at most max bytes
 * (cut on a UTF-8 boundary); for terminals.  free(3). */
char *rp_clean(const char *s, size_t max);

#endif
