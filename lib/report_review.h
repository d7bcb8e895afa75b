/* report_review: the review side of bg-report: Approve/Reject/Best controls
 * and stable data-* hooks on the HTML page, and decisions (decisions.h)
 * counted against the report's images. */
#ifndef BG_REPORT_REVIEW_H
#define BG_REPORT_REVIEW_H

#include <cjson/cJSON.h>

#include "decisions.h"
#include "report.h"
#include "util.h"

/* Images of succeeded jobs, by decision. */
struct rv_counts {
	long images, approved, rejected, best, undecided;
	long unmatched;		/* decisions on images not in the report */
};

/* Count r's images against r->decisions (may be NULL) and mark the
 * decisions that matched (dc_entry.used). */
void rv_tally(const struct report *r, struct rv_counts *c);
/* Report each decision that matched no image ("prog: file:line: ..."). */
void rv_warn_unmatched(const struct report *r);
/* The counts as a text line, and as "review":{…} in the report record. */
void rv_text(const struct rv_counts *c, struct sbuf *out);
void rv_json(cJSON *report, const struct rv_counts *c);

/* Page parts, called by report_html.c. */
void rv_nav(struct sbuf *o, const struct report *r);
void rv_toolbar(struct sbuf *o, const struct report *r);
void rv_card_attrs(struct sbuf *o, const struct report *r,
    const struct rp_variant *v);
/* Attributes of output k of job j (a generated image).  Its buttons and
 * note field are added by the page's script when the card comes near the
 * viewport: half the markup of a 1,000-variant page. */
void rv_figure_attrs(struct sbuf *o, const struct report *r,
    const struct rp_job *j, int k);

#endif
