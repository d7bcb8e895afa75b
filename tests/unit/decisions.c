/* Unit tests of lib/decisions: the reader of the review page's
 * decisions.ndjson that bg-report, bg-pg-load and the programs acting on
 * approved/rejected images share. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "decisions.h"
#include "err.h"
#include "test.h"

int
main(void)
{
	char path[] = "/tmp/bg-dc.XXXXXX";
	struct dc_set d;
	struct dc_entry *e;
	FILE *f;
	int fd;

	err_init("decisions");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("{\"job_id\":\"j1\",\"sha256\":\"aa\",\"variant_id\":\"v1\","
	    "\"product_id\":7,\"batch_id\":\"b\",\"decision\":\"approved\","
	    "\"best\":true,\"note\":\"ok\",\"decided_at\":\"2026-11-29T10:00:00Z\"}\n"
	    "{\"job_id\":\"j1\",\"sha256\":\"aa\",\"decision\":\"rejected\","
	    "\"decided_at\":\"2026-11-29T09:00:00Z\"}\n"
	    "{\"job_id\":\"j2\",\"sha256\":\"bb\",\"decision\":\"rejected\","
	    "\"note\":\"too dark\",\"decided_at\":\"2026-11-29T10:00:00Z\"}\n"
	    "{\"job_id\":\"j2\",\"sha256\":\"bb\",\"decision\":\"approved\","
	    "\"decided_at\":\"2026-11-29T10:00:00Z\"}\n"
	    "{\"job_id\":\"j3\",\"decision\":\"approved\"}\n"
	    "{\"job_id\":\"j4\",\"decision\":\"maybe\"}\n"
	    "{\"decision\":\"approved\"}\n"
	    "{\"job_id\":\"j5\",\"decision\":\"approved\",\"best\":\"yes\"}\n"
	    "not json\n", f);
	fclose(f);

	dc_init(&d);
	CHECK(dc_load(&d, path) == 0, "dc_load reads the file");
	CHECK(d.n == 3, "one entry per image");
	CHECK(d.bad == 4, "four lines that are not decisions counted");
	e = dc_find(&d, "j1", "aa");
	CHECK(e && e->kind == DC_APPROVED && e->best,
	    "an older decided_at read later does not win");
	CHECK_STR(e ? e->product_id : NULL, "7", "numeric ids read as strings");
	CHECK_STR(e ? e->note : NULL, "ok", "the note");
	e = dc_find(&d, "j2", "bb");
	CHECK(e && e->kind == DC_APPROVED && e->line == 4,
	    "on a tie the later line wins");
	CHECK_STR(e ? e->note : NULL, "", "no note is \"\"");
	CHECK(dc_find(&d, "j3", NULL) && dc_find(&d, "j3", ""),
	    "no sha256 matches an image without one");
	CHECK(!dc_find(&d, "j1", "bb") && !dc_find(&d, "nope", "aa"),
	    "other images have no decision");
	dc_find(&d, "j1", "aa")->used = 1;
	CHECK(dc_warn_unused(&d, "the test") == 2, "unused decisions counted");
	CHECK(dc_load(&d, "/nonexistent/decisions.ndjson") == -1,
	    "an unreadable file is -1");
	dc_free(&d);
	unlink(path);
	return t_failed;
}
