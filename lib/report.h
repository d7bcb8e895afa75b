/* report: aggregate batch records into per-job state and batch summaries
 * (doc/contract.md "report").  Memory grows with the number of jobs (and a
 * digest per distinct final record), never with the size of the records:
 * only the few fields a report shows are kept. */
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
	int nimages;		/* outputs of the winning record */
	unsigned char gone;	/* a failure before planning that a later
				 * plan of its variant superseded: not counted */
	double price;		/* price_per_image, < 0 unknown */
	double paid;		/* cost summed over its distinct records */
	double elapsed;		/* usage.elapsed_ms, < 0 unknown */
	const char *code;	/* error.code of the winning record */
	char *message;		/* error.message (owned, bounded), or NULL */
	const char **outputs;	/* outputs[].path (only with keep_paths) */
	const char **shas;	/* outputs[].sha256 beside them, or NULL */
	int noutputs;
	struct rp_verdict *verdicts;	/* bg-export's, per profile */
	int nverdicts;
	const char *provider_batch;	/* usage.provider_batch (batch mode) */
};

struct dc_set;

struct report {
	int keep_paths;		/* keep image paths, for the HTML page */
	struct dc_set *decisions;	/* caller: review decisions, or NULL */
	struct rp_batch *batches;
	struct rp_variant *variants;
	struct rp_job *jobs;
	int nbatches, nvariants, njobs;
	int capbatches, capvariants, capjobs;
	long n[RP_NSTATUS];	/* jobs per status, kept up to date */
	long planned;		/* jobs named by the plan */
	long records;		/* records read */
	long ignored;		/* records without job_id that did not fail */
	long superseded;	/* jobs with gone set */
	const char *store;	/* the records' store (result field store) */
	int stores;		/* how many different ones: 0, 1 or 2 (more) */
	void *priv;		/* hash tables and the string pool */
};

/* Start an empty report; keep_paths keeps image paths for the HTML page.
 * rp_free releases everything. */
void rp_init(struct report *r, int keep_paths);
void rp_free(struct report *r);

/* Fold one record in.  The later record of a job wins, in reading order
 * (doc/contract.md "Which record of a job wins"), whatever its attempt,
 * except that a record that is not final (planned…) never hides a final
 * one, and that a final record read again keeps its first place.
 * Records without a job_id count only when they failed (a failure before
 * planning), once per variant_id or bad line (error.file, error.line).
 * plan marks records of the plan: their jobs are counted in r->planned.
 * Every record's cost adds to its job's paid, once per distinct record
 * (job_id, attempt, first output): a record passed on again by a later
 * stage or run is not paid twice.  A job record of a variant supersedes
 * the variant's earlier failure before planning (invalid_images…): that
 * one no longer counts (gone), unless it fails again later. */
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
	double cost;		/* paid: cost over every distinct record */
	double saved;		/* what the cached latest records would cost */
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

/* True when every job of card vi, or of batch b, is gone (superseded
 * failures before planning): it is not shown. */
int rp_variant_gone(const struct report *r, int vi);
int rp_batch_gone(const struct report *r, int b);

/* The status shown for a variant's card: failed if any job failed, else
 * pending, canceled, skipped, succeeded in that order of precedence. */
enum rp_status rp_variant_status(const struct report *r, int v);

enum rp_by { RP_BY_NONE, RP_BY_VARIANT, RP_BY_PRODUCT, RP_BY_ERROR };

/* Rows per product, first-seen order (free(3) the array). */
struct rp_prow {
	const char *product_id;
	long variants, total, n[RP_NSTATUS];
};
struct rp_prow *rp_product_rows(const struct report *r, int *nrows);

/* The report record (doc/contract.md "report") plus "variants"/"products" rows
 * for --by.  cJSON_Delete it. */
cJSON *rp_json(const struct report *r, enum rp_by by);

/* The text summary, appended to out; results names the file for the retry
 * commands it ends with when something failed, root (NULL: none) the
 * store they must use. */
void rp_text(const struct report *r, enum rp_by by, const char *results,
    const char *plan, const char *root, struct sbuf *out);

/* bg-export's verdicts of a job's winning record, per profile: how many
 * of its images pass and fail, and how often each problem code came up
 * (rp_problem_codes; the last slot counts other codes). */
#define RP_NPROBLEMS 11
extern const char *const rp_problem_codes[RP_NPROBLEMS];
struct rp_verdict {
	const char *profile;
	int pass, fail;
	int problems[RP_NPROBLEMS];
};
/* Replace job j's verdicts with those of rec's "exports" (none unless rec
 * succeeded). */
void rp_exports_apply(struct report *r, struct rp_job *j, const cJSON *rec);
/* The verdicts of every job (batch == -2) or one batch, per profile:
 * [{profile, pass, fail, problems:{code: n}}], or NULL when no job has
 * any.  cJSON_Delete it. */
cJSON *rp_exports_json(const struct report *r, int batch);
/* One "exports" line per profile, appended to out (nothing when none). */
void rp_exports_text(const struct report *r, struct sbuf *out);

/* Append an amount with 2 to 4 decimals (2.80, 0.039) to out. */
void rp_money(struct sbuf *out, double v);

/* Copy of s with control characters replaced by '?' and at most max bytes
 * (cut on a UTF-8 boundary); for terminals.  free(3). */
char *rp_clean(const char *s, size_t max);

#endif
