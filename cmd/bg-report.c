/* bg-report: summarise a batch from any of its records.
 *
 * Reads records (results, filed results, jobs, failures) from operands or
 * stdin, and optionally the plan (--plan jobs.ndjson) so that jobs with no
 * result yet count as pending.  The latest record of each job_id wins.
 * Writes a text summary (default) or one JSON report record (--json) on
 * stdout, and with --html FILE a gallery page.  --follow keeps reading a
 * growing file, with a progress line on stderr, until every planned job
 * has a final record.  --pending prints the plan's unfinished jobs instead,
 * to resume a batch that stopped.  --decisions merges the review page's
 * decisions.ndjson into the page and the counts, and reports decisions on
 * images that are not in the results.  Exits 0 only when every job succeeded, 1 otherwise
 * (0 with --exit-zero), 2 on usage. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "ndjson.h"
#include "opts.h"
#include "record.h"
#include "report.h"
#include "report_html.h"
#include "report_review.h"
#include "store.h"
#include "util.h"

#define POLL_MS 200		/* follow: wait between reads at EOF */
#define HTML_EVERY_MS 2000	/* follow: rewrite the page at most this often */

static volatile sig_atomic_t stop;
static double start_ms;	/* when reading began, for the rate */

enum { O_PLAN = 'p', O_JSON = 'J', O_HTML = 'o', O_BY = 256,
	O_DECISIONS = 'd', O_FOLLOW = 'f', O_ZERO = 'Z', O_PENDING = 'P',
	O_ROOT = 'r', O_REFRESH };

static const struct opt optab[] = {
	{ "plan", 0, "FILE", "the batch's jobs (bg-plan output): unseen jobs "
	    "are pending", O_PLAN },
	{ "plan", 'p', "FILE", NULL, O_PLAN },	/* -p: -P -p in old scripts */
	{ "json", 'J', NULL, "print one JSON report record instead of text",
	    O_JSON },
	{ "html", 'o', "FILE", "write an HTML gallery (thumbnails in "
	    "FILE.assets/)", O_HTML },
	{ "decisions", 'd', "FILE", "the review page's decisions for the page "
	    "and the counts", O_DECISIONS },
	{ "by", 0, "KIND", "add a table per variant, product or error", O_BY },
	{ "follow", 'f', NULL, "keep reading a growing file; progress on "
	    "stderr", O_FOLLOW },
	{ "pending", 'P', NULL, "print the plan's jobs with no final record "
	    "(resume)", O_PENDING },
	{ "exit-zero", 'Z', NULL, "exit 0 even when jobs failed or are "
	    "pending", O_ZERO },
	{ "root", 'r', "DIR", "the store, for outputs[].path (default "
	    "$BG_ROOT or ./bg-data)", O_ROOT },
	{ "refresh", 0, "SEC", "the page reloads itself while incomplete "
	    "(default 3)", O_REFRESH },
	OPTS_END
};

/* The command line. */
struct args {
	const char *plan, *html, *root, *decisions;
	int json, follow, exit_zero, pending, refresh;
	enum rp_by by;
};

static enum rp_by
parse_by(const char *s)
{
	if (!strcmp(s, "variant"))
		return RP_BY_VARIANT;
	if (!strcmp(s, "product"))
		return RP_BY_PRODUCT;
	if (!strcmp(s, "error"))
		return RP_BY_ERROR;
	die(EXIT_USAGE, "--by: want variant, product or error, not '%s'", s);
}

static void
options(int argc, char **argv, struct args *a)
{
	struct opts o;
	int c;

	a->refresh = 3;
	a->by = RP_BY_NONE;
	opts_init(&o, optab, "bg-report [-JfPZ] [--plan FILE] [-o FILE] "
	    "[--by variant|product|error]\n"
	    "                 [-r DIR] [-d FILE] [--refresh SEC] [FILE...]",
	    "Summarise a batch from any of its records.");
	while ((c = opts_next(&o, argc, argv)) != -1) {
		switch (c) {
		case O_PLAN: a->plan = optarg; break;
		case O_JSON: a->json = 1; break;
		case O_HTML: a->html = optarg; break;
		case O_BY: a->by = parse_by(optarg); break;
		case O_DECISIONS: a->decisions = optarg; break;
		case O_FOLLOW: a->follow = 1; break;
		case O_PENDING: a->pending = 1; break;
		case O_ZERO: a->exit_zero = 1; break;
		case O_ROOT: a->root = optarg; break;
		case O_REFRESH:
			a->refresh = err_num("--refresh", optarg, 1, 3600);
			break;
		}
	}
	opts_free(&o);
	if (a->pending && !a->plan)
		die(EXIT_USAGE, "--pending needs --plan");
	if (a->pending && a->json)
		die(EXIT_USAGE, "--pending and --json: choose one");
	if (a->html && !*a->html)
		die(EXIT_USAGE, "--html: empty file name");
}

static void
on_signal(int sig)
{
	if (stop)
		_exit(128 + sig);	/* a second ^C: really stop */
	stop = 1;
}

/* The last input is followed only when it is a regular file: a pipe ends
 * at EOF. */
static int
followable(int n, char **files)
{
	struct stat st;
	const char *f = n ? files[n - 1] : "-";

	if (!strcmp(f, "-"))
		return fstat(0, &st) == 0 && S_ISREG(st.st_mode);
	return stat(f, &st) == 0 && S_ISREG(st.st_mode);
}

static void
progress(const struct report *r, int tty, double t0, int final)
{
	long total = r->njobs - r->superseded, done = total - r->n[RP_PENDING];
	double secs = (util_now_ms() - t0) / 1000;
	struct sbuf b = {0};
	int i, w = 24, k = total ? (int)(done * w / total) : 0;

	sb_adds(&b, tty ? "\r\033[K" : "");
	sb_addf(&b, "%s [", argv0);
	for (i = 0; i < w; i++)
		sb_addc(&b, i < k ? '#' : '-');
	sb_addf(&b, "] %3d%% %ld/%ld  ok %ld  failed %ld",
	    total ? (int)(done * 100 / total) : 0, done, total,
	    r->n[RP_SUCCEEDED], r->n[RP_FAILED]);
	if (r->n[RP_SKIPPED])
		sb_addf(&b, "  skipped %ld", r->n[RP_SKIPPED]);
	if (r->n[RP_CANCELED])
		sb_addf(&b, "  canceled %ld", r->n[RP_CANCELED]);
	sb_addf(&b, "  pending %ld  %.1f rec/s", r->n[RP_PENDING],
	    secs > 0 ? r->records / secs : 0.0);
	if (!tty || final)
		sb_addc(&b, '\n');
	fputs(b.s, stderr);
	fflush(stderr);
	sb_free(&b);
}

static void
write_html(const struct report *r, const char *path, const char *root,
    int refresh)
{
	if (rp_html_write(r, path, root, rp_complete(r) ? 0 : refresh) < 0)
		die(EXIT_FATAL, "%s:", path);
}

/* Print the jobs of the plan that are still pending: a second pass over
 * the plan, so nothing but the job table is kept in memory. */
static void
print_pending(const struct report *r, char *plan)
{
	struct nd_reader rd;
	char buf[32];
	const char *id;
	cJSON *o;
	int bad, i;

	nd_open(&rd, 1, &plan);
	while ((o = nd_next(&rd, "report", &bad))) {
		id = bad ? NULL : rec_id(o, "job_id", buf);
		if (id && (i = rp_find(r, id)) >= 0 &&
		    r->jobs[i].status == RP_PENDING)
			nd_write(o);
		cJSON_Delete(o);
	}
	nd_close(&rd);
}

/* Fold the records of the plan file in as declared jobs. */
static void
read_plan(struct report *r, char *plan)
{
	struct nd_reader rd;
	cJSON *o;
	int bad;

	nd_open(&rd, 1, &plan);
	while ((o = nd_next(&rd, "report", &bad))) {
		rp_add(r, o, !bad);
		cJSON_Delete(o);
	}
	nd_close(&rd);
	if (nd_open_failures)
		exit(EXIT_USAGE);
}

/* Fold every record of rd into r; with --follow, keep reading a growing
 * file (drawing progress and the page) until the plan is complete. */
static void
read_all(struct report *r, struct nd_reader *rd, const struct args *a,
    const char *root)
{
	double last_draw = 0, last_html = 0;
	long drawn = -1, written = -1;
	int rc, tty = isatty(2);
	size_t len;
	char *line;
	cJSON *o;

	start_ms = util_now_ms();
	for (;;) {
		rc = nd_line(rd, &line, &len);
		if (rc == 0)
			break;
		if (rc == 1 && (o = nd_parse(rd, line, len))) {
			rp_add(r, o, 0);
			cJSON_Delete(o);
		} else if (rc != 2) {
			nd_warn_bad(rd);
			o = rec_bad_line("report", rd->name, rd->lineno, line,
			    len, rd->err);
			rp_add(r, o, 0);
			cJSON_Delete(o);
		}
		if (!a->follow)
			continue;
		/* a pipe is drained to its end: leaving early would break
		 * the writer (tee -a results.ndjson | bg-report --follow) */
		if (stop || (a->plan && rd->follow && rp_complete(r)))
			break;
		if (util_now_ms() - last_draw >= (tty ? 100 : 5000) &&
		    r->records != drawn) {
			progress(r, tty, start_ms, 0);
			last_draw = util_now_ms();
			drawn = r->records;
		}
		if (a->html && util_now_ms() - last_html >= HTML_EVERY_MS &&
		    r->records != written) {
			write_html(r, a->html, root, a->refresh);
			last_html = util_now_ms();
			written = r->records;
		}
		if (rc == 2) {
			struct timespec ts = {0, POLL_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
}

/* The report on stdout: pending jobs, JSON or text. */
static void
print_report(struct report *r, const struct args *a,
    const struct rv_counts *review, int argc, char **argv)
{
	struct sbuf out = {0};
	const char *env = getenv("BG_ROOT");
	cJSON *o;

	if (a->pending) {
		print_pending(r, (char *)a->plan);
	} else if (a->json) {
		o = rp_json(r, a->by);
		if (a->decisions)
			rv_json(o, review);
		nd_write(o);
		cJSON_Delete(o);
	} else {
		/* the hints name the store the results came from */
		rp_text(r, a->by, argc == 1 && strcmp(argv[0], "-") ? argv[0] :
		    NULL, a->plan, a->root ? a->root : env && *env ? env :
		    r->stores == 1 ? r->store : NULL, &out);
		if (a->decisions)
			rv_text(review, &out);
		nd_write_raw(out.s, out.len);
		sb_free(&out);
	}
}

int
main(int argc, char **argv)
{
	struct args a = {0};
	struct dc_set dcs;
	struct rv_counts review;
	struct nd_reader rd;
	struct report r;
	const char *root;
	int i, rc;

	err_init(argv[0]);
	options(argc, argv, &a);
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") && access(argv[i], R_OK) < 0)
			die(EXIT_USAGE, "%s:", argv[i]);
	if (a.plan && access(a.plan, R_OK) < 0)
		die(EXIT_USAGE, "%s:", a.plan);
	root = store_root(a.root);

	rp_init(&r, a.html != NULL || a.decisions != NULL);
	if (a.decisions) {
		dc_init(&dcs);
		if (dc_load(&dcs, a.decisions) < 0)
			exit(EXIT_USAGE);
		r.decisions = &dcs;
	}
	if (a.plan)
		read_plan(&r, (char *)a.plan);
	nd_open(&rd, argc, argv);
	if (a.follow) {
		rd.follow = followable(argc, argv);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (a.html)
			write_html(&r, a.html, root, a.refresh);
	}
	read_all(&r, &rd, &a, root);
	nd_close(&rd);
	nd_warn_summary();
	if (a.follow)
		progress(&r, isatty(2), start_ms, 1);
	if (a.html)
		write_html(&r, a.html, root, a.refresh);
	rv_tally(&r, &review);
	if (a.decisions)
		rv_warn_unmatched(&r);
	print_report(&r, &a, &review, argc, argv);
	nd_finish();
	rc = a.exit_zero || rp_all_succeeded(&r) ? 0 : 1;
	rp_free(&r);
	if (a.decisions) {
		if (dcs.bad || review.unmatched)
			rc = a.exit_zero ? 0 : 1;
		dc_free(&dcs);
	}
	return rc;
}
