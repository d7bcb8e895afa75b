/* report_text: bg-report's text summary (see report.h): counts, cost,
 * latency, errors, the --by tables and the commands to run next. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "errcode.h"
#include "report.h"

char *
rp_clean(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *c;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* do not cut a UTF-8 sequence */
	}
	c = estrndup(s, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = c[i] == '\t' || c[i] == '\n' ? ' ' : '?';
	return c;
}

void
rp_money(struct sbuf *o, double v)
{
	char b[64];
	size_t n;

	snprintf(b, sizeof b, "%.4f", v);
	n = strlen(b);
	while (n > 0 && b[n - 1] == '0' && b[n - 3] != '.')
		b[--n] = '\0';	/* 2.8000 -> 2.80, 0.0390 -> 0.039 */
	sb_adds(o, b);
}

static void
duration(struct sbuf *o, double ms)
{
	if (ms < 0)
		sb_adds(o, "-");
	else if (ms < 1000)
		sb_addf(o, "%.0f ms", ms);
	else if (ms < 600000)
		sb_addf(o, "%.1f s", ms / 1000);
	else
		sb_addf(o, "%.1f min", ms / 60000);
}

static void
counts_line(struct sbuf *o, const long n[RP_NSTATUS], long total,
    long cached)
{
	int i;

	sb_addf(o, "%ld", total);
	sb_addf(o, "  succeeded %ld", n[RP_SUCCEEDED]);
	for (i = RP_FAILED; i < RP_NSTATUS; i++)
		if (n[i] || i == RP_FAILED)
			sb_addf(o, "  %s %ld", rp_status_name[i], n[i]);
	if (n[RP_PENDING])
		sb_addf(o, "  pending %ld", n[RP_PENDING]);
	if (cached)
		sb_addf(o, "  (cached %ld)", cached);
	sb_addc(o, '\n');
}

static void
bar(struct sbuf *o, long done, long total, int width)
{
	int i, k = total ? (int)(done * width / total) : 0;

	sb_addc(o, '[');
	for (i = 0; i < width; i++)
		sb_addc(o, i < k ? '#' : '-');
	sb_addf(o, "] %3d%%", total ? (int)(done * 100 / total) : 0);
}

static void
text_errors(struct sbuf *o, const struct rp_stats *s)
{
	int w = 0, i, len;
	char *ex, *code;

	for (i = 0; i < s->nerrs; i++)
		if ((len = (int)strlen(s->errs[i].code)) > w)
			w = len > 24 ? 24 : len;
	for (i = 0; i < s->nerrs; i++) {
		code = rp_clean(s->errs[i].code, 24);
		sb_addf(o, "%-11s%-*s %5ld  %-9s", i ? "" : "errors",
		    w, code, s->errs[i].count,
		    s->errs[i].retryable ? "retryable" : "");
		free(code);
		if (s->errs[i].example) {
			ex = rp_clean(s->errs[i].example, 100);
			sb_addf(o, "  %s", ex);
			free(ex);
		}
		sb_addc(o, '\n');
	}
}

static void
text_variants(struct sbuf *o, const struct report *r)
{
	const struct rp_variant *v;
	char *id, *pid, *t, *vt;
	long n[RP_NSTATUS];
	int i, k;

	sb_addf(o, "\n%-20s %-14s %-9s %5s %5s %6s %7s  %s\n", "variant",
	    "product", "status", "jobs", "ok", "failed", "pending", "title");
	for (i = 0; i < r->nvariants; i++) {
		v = &r->variants[i];
		if (rp_variant_gone(r, i))
			continue;
		memset(n, 0, sizeof n);
		for (k = 0; k < v->njobs; k++)
			n[r->jobs[v->jobs[k]].status]++;
		id = rp_clean(v->variant_id ? v->variant_id : "-", 20);
		pid = rp_clean(v->product_id ? v->product_id : "-", 14);
		t = rp_clean(v->title ? v->title : "", 40);
		vt = rp_clean(v->variant_title ? v->variant_title : "", 30);
		sb_addf(o, "%-20s %-14s %-9s %5d %5ld %6ld %7ld  %s%s%s\n",
		    id, pid, rp_status_name[rp_variant_status(r, i)],
		    v->njobs, n[RP_SUCCEEDED],
		    n[RP_FAILED] + n[RP_SKIPPED] + n[RP_CANCELED],
		    n[RP_PENDING], t, *vt ? " / " : "", vt);
		free(id);
		free(pid);
		free(t);
		free(vt);
	}
}

static void
text_products(struct sbuf *o, const struct report *r)
{
	struct rp_prow *rows;
	char *pid;
	int n, i;

	rows = rp_product_rows(r, &n);
	sb_addf(o, "\n%-20s %8s %5s %5s %6s %7s %8s %8s\n", "product",
	    "variants", "jobs", "ok", "failed", "pending", "skipped",
	    "canceled");
	for (i = 0; i < n; i++) {
		pid = rp_clean(rows[i].product_id ? rows[i].product_id : "-",
		    20);
		sb_addf(o, "%-20s %8ld %5ld %5ld %6ld %7ld %8ld %8ld\n", pid,
		    rows[i].variants, rows[i].total, rows[i].n[RP_SUCCEEDED],
		    rows[i].n[RP_FAILED], rows[i].n[RP_PENDING],
		    rows[i].n[RP_SKIPPED], rows[i].n[RP_CANCELED]);
		free(pid);
	}
	free(rows);
}

static void
text_error_table(struct sbuf *o, const struct rp_stats *s)
{
	char *ex, *code;
	int i;

	sb_addf(o, "\n%-20s %6s  %-9s  %s\n", "error", "count", "retryable",
	    "example");
	for (i = 0; i < s->nerrs; i++) {
		ex = rp_clean(s->errs[i].example ? s->errs[i].example : "",
		    120);
		code = rp_clean(s->errs[i].code, 40);
		sb_addf(o, "%-20s %6ld  %-9s  %s\n", code,
		    s->errs[i].count, s->errs[i].retryable ? "yes" : "no", ex);
		free(ex);
		free(code);
	}
}

/* s as one shell word: as it is when it is safe, else in single quotes. */
static void
shq(struct sbuf *o, const char *s)
{
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_./-=:,+@%") == strlen(s)) {
		sb_adds(o, s);
		return;
	}
	sb_addc(o, '\'');
	for (p = s; *p; p++)
		if (*p == '\'')
			sb_adds(o, "'\\''");
		else
			sb_addc(o, *p);
	sb_addc(o, '\'');
}

/* "| bg-generate [--root R] | bg-file [--root R] >> RESULTS" */
static void
rerun_tail(struct sbuf *o, const char *results, const char *root)
{
	sb_adds(o, " | bg-generate");
	if (root) {
		sb_adds(o, " --root ");
		shq(o, root);
	}
	sb_adds(o, " | bg-file");
	if (root) {
		sb_adds(o, " --root ");
		shq(o, root);
	}
	sb_adds(o, " >> ");
	shq(o, results);
}

/* A code whose jobs are skipped or canceled rather than failed (budget,
 * canceled): text_next counts them by their status. */
static int
by_status(const char *code)
{
	enum ec c = ec_find(code);

	return c != EC_NONE && strcmp(ec_tab[c].status, "failed");
}

/* What to run next, safe on results appended over many runs: bg-retry
 * takes the latest record of each job (a job that succeeded later is not
 * sent again), and every command names the store the results came from. */
static void
text_next(struct sbuf *o, const struct rp_stats *s, const char *results,
    const char *plan, const char *root)
{
	long retry = s->n[RP_SKIPPED] + s->n[RP_CANCELED], final;
	int i, first = 1;

	for (i = 0; i < s->nerrs; i++)
		if (s->errs[i].retryable && !by_status(s->errs[i].code))
			retry += s->errs[i].count;
	final = s->n[RP_FAILED] - (retry - s->n[RP_SKIPPED] - s->n[RP_CANCELED]);
	if (!results)
		results = "results.ndjson";
	if (retry) {
		sb_addf(o, "%-11sbg-retry ", "next");
		shq(o, results);
		rerun_tail(o, results, root);
		sb_addc(o, '\n');
		first = 0;
	}
	if (final > 0) {
		sb_addf(o, "%-11sbg-retry --all-failed ", first ? "next" : "");
		shq(o, results);
		rerun_tail(o, results, root);
		sb_adds(o, "    # after fixing the inputs\n");
		first = 0;
	}
	if (s->n[RP_PENDING] && plan) {
		sb_addf(o, "%-11sbg-report --follow --plan ", first ? "next" : "");
		shq(o, plan);
		sb_addc(o, ' ');
		shq(o, results);
		sb_adds(o, "    # while the batch runs\n");
		sb_addf(o, "%-11sbg-report --pending --plan ", "");
		shq(o, plan);
		sb_addc(o, ' ');
		shq(o, results);
		rerun_tail(o, results, root);
		sb_adds(o, "    # if it stopped\n");
	}
}

void
rp_text(const struct report *r, enum rp_by by, const char *results,
    const char *plan, const char *root, struct sbuf *o)
{
	struct rp_stats s, bs;
	char *name, *id;
	long done;
	int i;

	rp_stats(r, -2, &s);
	for (i = 0; i < r->nbatches; i++) {
		if (rp_batch_gone(r, i))
			continue;
		name = rp_clean(r->batches[i].batch_name ?
		    r->batches[i].batch_name : "", 60);
		id = rp_clean(r->batches[i].batch_id ?
		    r->batches[i].batch_id : "(no batch id)", 60);
		sb_addf(o, "%-11s%s%s%s", "batch", name, *name ? "  " : "", id);
		free(name);
		free(id);
		if (r->nbatches > 1) {
			rp_stats(r, i, &bs);
			sb_addf(o, "\n%-11s", "");
			counts_line(o, bs.n, bs.total, bs.cached);
			rp_stats_free(&bs);
		} else {
			sb_addc(o, '\n');
		}
	}
	sb_addf(o, "%-11s", "jobs");
	counts_line(o, s.n, s.total, s.cached);
	done = s.total - s.n[RP_PENDING];
	sb_addf(o, "%-11s", "progress");
	bar(o, done, s.total, 30);
	sb_addc(o, '\n');
	sb_addf(o, "%-11spaid ", "cost");
	rp_money(o, s.cost);
	sb_addf(o, "  (%ld image%s)", s.images, s.images == 1 ? "" : "s");
	if (s.saved > 0) {
		sb_adds(o, "  saved ");
		rp_money(o, s.saved);
		sb_addf(o, " (%ld cached)", s.cached);
	}
	sb_addc(o, '\n');
	if (s.nlat) {
		sb_addf(o, "%-11sp50 ", "latency");
		duration(o, rp_percentile(&s, 0.5));
		sb_adds(o, "  p90 ");
		duration(o, rp_percentile(&s, 0.9));
		sb_adds(o, "  max ");
		duration(o, rp_percentile(&s, 1));
		sb_addc(o, '\n');
	}
	rp_exports_text(r, o);
	if (by == RP_BY_ERROR)
		text_error_table(o, &s);
	else
		text_errors(o, &s);
	if (by == RP_BY_VARIANT)
		text_variants(o, r);
	else if (by == RP_BY_PRODUCT)
		text_products(o, r);
	if (by != RP_BY_NONE && (s.n[RP_FAILED] || s.n[RP_PENDING] ||
	    s.n[RP_SKIPPED] || s.n[RP_CANCELED]))
		sb_addc(o, '\n');
	text_next(o, &s, results, plan, root);
	if (!r->njobs && !r->records)
		sb_adds(o, "no jobs: nothing was read\n");
	else if (!r->njobs)
		sb_addf(o, "no jobs: none of the %ld lines read is a batchgen "
		    "record (job_id, status)\n", r->records);
	rp_stats_free(&s);
}
