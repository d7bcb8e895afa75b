/* report_review: decisions on the page and in the counts.  Every hook a
 * script may rely on is written here (bg-report(1) "REVIEW PAGE"):
 * cards carry data-variant-id, data-product-id and data-batch-id; each
 * generated image's figure data-job-id and data-sha256 (and data-decision,
 * data-best, data-note, data-decided-at when --decisions decided it);
 * buttons data-action = approve, reject, best, download-decisions. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "report_html.h"
#include "report_review.h"

static const char *
sha_of(const struct rp_job *j, int k)
{
	return j->shas && j->shas[k] ? j->shas[k] : "";
}

static struct dc_entry *
decision(const struct report *r, const struct rp_job *j, int k)
{
	if (!r->decisions || !j->job_id)
		return NULL;
	return dc_find(r->decisions, j->job_id, sha_of(j, k));
}

void
rv_tally(const struct report *r, struct rv_counts *c)
{
	const struct rp_job *j;
	struct dc_entry *e;
	size_t n;
	int i, k;

	memset(c, 0, sizeof *c);
	for (i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (j->status != RP_SUCCEEDED)
			continue;
		for (k = 0; k < j->noutputs; k++) {
			c->images++;
			if (!(e = decision(r, j, k))) {
				c->undecided++;
				continue;
			}
			e->used = 1;
			if (e->kind == DC_APPROVED)
				c->approved++;
			else
				c->rejected++;
			c->best += e->best;
		}
	}
	for (n = 0; r->decisions && n < r->decisions->n; n++)
		c->unmatched += !r->decisions->e[n].used;
}

void
rv_warn_unmatched(const struct report *r)
{
	if (r->decisions)
		dc_warn_unused(r->decisions, "the results");
}

void
rv_text(const struct rv_counts *c, struct sbuf *o)
{
	sb_addf(o, "review: %ld approved (%ld best), %ld rejected, "
	    "%ld undecided of %ld images", c->approved, c->best, c->rejected,
	    c->undecided, c->images);
	if (c->unmatched)
		sb_addf(o, "; %ld decision%s for images not in the results",
		    c->unmatched, c->unmatched == 1 ? "" : "s");
	sb_addc(o, '\n');
}

void
rv_json(cJSON *rep, const struct rv_counts *c)
{
	cJSON *o = cJSON_AddObjectToObject(rep, "review");

	cJSON_AddNumberToObject(o, "images", c->images);
	cJSON_AddNumberToObject(o, "approved", c->approved);
	cJSON_AddNumberToObject(o, "rejected", c->rejected);
	cJSON_AddNumberToObject(o, "best", c->best);
	cJSON_AddNumberToObject(o, "undecided", c->undecided);
	cJSON_AddNumberToObject(o, "unmatched", c->unmatched);
}

void
rv_nav(struct sbuf *o, const struct report *r)
{
	static const char *const f[] = {"undecided", "approved", "rejected"};
	int i;

	for (i = 0; i < 3; i++)
		sb_addf(o, "<button type=\"button\" data-f=\"%s\">%s</button>",
		    f[i], f[i]);
}

void
rv_toolbar(struct sbuf *o, const struct report *r)
{
	struct rv_counts c;

	rv_tally(r, &c);
	sb_addf(o, "<div class=\"review\"><p class=\"counts\" "
	    "aria-live=\"polite\"><b data-count=\"approved\">%ld</b> approved"
	    " · <b data-count=\"rejected\">%ld</b> rejected · "
	    "<b data-count=\"undecided\">%ld</b> undecided · "
	    "<b data-count=\"best\">%ld</b> best</p>"
	    "<button type=\"button\" data-action=\"download-decisions\">"
	    "Download decisions</button>"
	    "<p class=\"keys\">Keys: arrows move between images, "
	    "<kbd>a</kbd> approve, <kbd>r</kbd> reject, <kbd>b</kbd> best of "
	    "the variant, <kbd>n</kbd> note. Decisions are kept in this "
	    "browser until downloaded.</p></div>\n",
	    c.approved, c.rejected, c.undecided, c.best);
}

static void
attr(struct sbuf *o, const char *name, const char *v)
{
	if (!v)
		return;
	sb_addf(o, " %s=\"", name);
	html_esc(o, v);
	sb_addc(o, '"');
}

void
rv_card_attrs(struct sbuf *o, const struct report *r,
    const struct rp_variant *v)
{
	attr(o, "data-variant-id", v->variant_id);
	attr(o, "data-product-id", v->product_id);
	attr(o, "data-batch-id", r->batches[v->batch].batch_id);
}

void
rv_figure_attrs(struct sbuf *o, const struct report *r,
    const struct rp_job *j, int k)
{
	const struct rp_variant *v = &r->variants[j->variant];
	const struct dc_entry *e = decision(r, j, k);

	sb_adds(o, " tabindex=\"0\"");
	attr(o, "data-job-id", j->job_id);
	attr(o, "data-sha256", sha_of(j, k));
	sb_adds(o, " aria-label=\"");
	html_esc(o, v->title ? v->title : v->variant_id ? v->variant_id : "");
	if (j->variation)
		sb_addf(o, " #%d", j->variation);
	if (j->noutputs > 1)
		sb_addf(o, " image %d", k + 1);
	sb_adds(o, "\"");
	if (!e)
		return;
	attr(o, "data-decision", dc_name(e->kind));
	attr(o, "data-best", e->best ? "true" : NULL);
	attr(o, "data-note", e->note);
	attr(o, "data-decided-at", e->decided_at);
}
