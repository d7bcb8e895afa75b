/* Unit tests of lib/report and lib/report_html helpers. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "report.h"
#include "report_html.h"
#include "test.h"

static void
add(struct report *r, const char *json, int plan)
{
	cJSON *o = cJSON_ParseWithOpts(json, NULL, 1);

	rp_add(r, o, plan);
	cJSON_Delete(o);
}

/* Paid once per distinct record; saved for cached results; a later plan
 * of a variant supersedes its failure before planning. */
static void
test_paid_and_superseded(void)
{
	struct report r;
	struct rp_stats s;
	const char *ok1 = "{\"job_id\":\"j\",\"variant_id\":\"v9\","
	    "\"batch_id\":\"b\",\"status\":\"succeeded\",\"attempt\":1,"
	    "\"price_per_image\":0.04,\"cost\":0.04,\"cached\":false,"
	    "\"outputs\":[{\"sha256\":\"aa\"}]}";

	rp_init(&r, 0);
	add(&r, "{\"variant_id\":\"v9\",\"status\":\"failed\",\"error\":"
	    "{\"stage\":\"plan\",\"code\":\"invalid_images\"}}", 0);
	CHECK(r.n[RP_FAILED] == 1, "a failure before planning counts");
	add(&r, ok1, 0);
	add(&r, ok1, 0);	/* passed on again by a later stage */
	add(&r, "{\"job_id\":\"j\",\"variant_id\":\"v9\",\"batch_id\":\"b\","
	    "\"status\":\"succeeded\",\"attempt\":1,\"price_per_image\":0.04,"
	    "\"cost\":0.04,\"outputs\":[{\"sha256\":\"bb\"}]}", 0);
	add(&r, "{\"job_id\":\"j\",\"variant_id\":\"v9\",\"batch_id\":\"b\","
	    "\"status\":\"succeeded\",\"attempt\":1,\"price_per_image\":0.04,"
	    "\"cost\":0,\"cached\":true,\"outputs\":[{\"sha256\":\"bb\"}]}", 0);
	CHECK(r.n[RP_FAILED] == 0 && r.superseded == 1 && rp_all_succeeded(&r),
	    "a later plan of the variant supersedes its failure");
	rp_stats(&r, -2, &s);
	CHECK(s.total == 1 && s.cost == 0.08 && s.saved == 0.04 && s.cached == 1,
	    "paid once per distinct record (a --force re-run too), saved when cached");
	rp_stats_free(&s);
	add(&r, "{\"variant_id\":\"v9\",\"status\":\"failed\",\"error\":"
	    "{\"stage\":\"plan\",\"code\":\"invalid_images\"}}", 0);
	CHECK(r.n[RP_FAILED] == 1 && r.superseded == 0,
	    "failing to plan again counts again");
	rp_free(&r);
}

int
main(void)
{
	struct sbuf b = {0};
	struct report r;
	struct rp_stats s;
	char *c;

	err_init("report");
	test_paid_and_superseded();
	html_esc(&b, "<a href=\"x\">'&'</a>");
	CHECK_STR(b.s, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
	    "html_esc escapes the five characters");
	sb_reset(&b);
	rp_money(&b, 2.8);
	sb_adds(&b, " ");
	rp_money(&b, 0.039);
	sb_adds(&b, " ");
	rp_money(&b, 0);
	CHECK_STR(b.s, "2.80 0.039 0.00", "rp_money keeps 2 to 4 decimals");
	c = rp_clean("a\033[31mb\tc", 100);
	CHECK_STR(c, "a?[31mb c", "rp_clean replaces control characters");
	free(c);
	c = rp_clean("\xc3\xa9\xc3\xa9", 3);
	CHECK_STR(c, "\xc3\xa9", "rp_clean does not cut a UTF-8 sequence");
	free(c);

	rp_init(&r, 1);
	add(&r, "{\"job_id\":\"a\",\"batch_id\":\"b\",\"variant_id\":\"v\","
	    "\"status\":\"planned\",\"price_per_image\":0.5,"
	    "\"input\":{\"product_images\":[\"x.png\",7,\"y.png\"]}}", 1);
	add(&r, "{\"job_id\":\"b\",\"batch_id\":\"b\",\"variant_id\":\"v\","
	    "\"status\":\"planned\"}", 1);
	CHECK(r.njobs == 2 && r.n[RP_PENDING] == 2, "plan: two pending jobs");
	CHECK(r.nvariants == 1 && r.variants[0].nrefs == 2,
	    "one card, string references kept");
	add(&r, "{\"job_id\":\"a\",\"status\":\"failed\",\"error\":"
	    "{\"code\":\"timeout\",\"message\":\"slow\",\"retryable\":true}}", 0);
	add(&r, "{\"job_id\":\"a\",\"status\":\"succeeded\",\"outputs\":"
	    "[{\"path\":\"o/1.png\"},{\"path\":\"o/2.png\"}],"
	    "\"usage\":{\"elapsed_ms\":40}}", 0);
	add(&r, "{\"job_id\":\"a\",\"status\":\"planned\"}", 0);
	CHECK(r.n[RP_SUCCEEDED] == 1 && r.jobs[0].noutputs == 2 &&
	    !r.jobs[0].code, "latest final record wins, planned does not hide it");
	CHECK(rp_variant_status(&r, 0) == RP_PENDING,
	    "card is pending while one job is");
	add(&r, "{\"job_id\":\"b\",\"status\":\"failed\",\"error\":"
	    "{\"code\":\"blocked\",\"message\":\"no\"}}", 0);
	CHECK(rp_variant_status(&r, 0) == RP_FAILED, "card fails with a job");
	CHECK(rp_complete(&r) && !rp_all_succeeded(&r), "complete, not all ok");
	rp_stats(&r, -2, &s);
	CHECK(s.cost == 1.0 && s.images == 2, "cost: price per image");
	CHECK(s.nlat == 1 && rp_percentile(&s, 0.5) == 40, "latency");
	CHECK(s.nerrs == 1 && !strcmp(s.errs[0].code, "blocked"), "errors");
	rp_stats_free(&s);
	rp_free(&r);

	rp_init(&r, 0);
	rp_stats(&r, -2, &s);
	CHECK(rp_percentile(&s, 0.5) < 0 && !rp_complete(&r) &&
	    !rp_all_succeeded(&r), "empty report: no latency, not complete");
	rp_stats_free(&s);
	rp_free(&r);
	sb_free(&b);
	return t_failed;
}
