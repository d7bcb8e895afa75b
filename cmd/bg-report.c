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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "ndjson.h"
#include "record.h"
#include "report.h"
#include "report_html.h"
#include "report_review.h"
#include "store.h"
#include "util.h"

#define POLL_MS 200		/* follow: wait between reads at EOF */
#define HTML_EVERY_MS 2000	/* follow: rewrite the page at most this often */

static volatile sig_atomic_t stop;

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: %s [-JfPZ] [-p plan] [-o page.html] [-b variant|product|error]\n"
	    "       %*s [-r root] [-d decisions] [--refresh sec] [file ...]\n"
	    "  -p, --plan FILE   jobs of the batch (bg-plan output): unseen jobs are pending\n"
	    "  -J, --json        print one JSON report record instead of text\n"
	    "  -o, --html FILE   write an HTML gallery (thumbnails in FILE.assets/)\n"
	    "  -d, --decisions FILE  review decisions (decisions.ndjson) for the page and counts\n"
	    "  -b, --by KIND     add a table per variant, product or error\n"
	    "  -f, --follow      keep reading a growing file; progress on stderr\n"
	    "  -P, --pending     print the plan's jobs that have no final record (resume)\n"
	    "  -Z, --exit-zero   exit 0 even when jobs failed or are pending\n"
	    "  -r, --root DIR    the store, for outputs[].path (default $BG_ROOT, ./bg-data)\n"
	    "      --refresh SEC the page reloads itself while incomplete (default 3)\n"
	    "  -h, --help        this help\n"
	    "      --version     print the version\n",
	    argv0, (int)strlen(argv0), "");
	exit(status);
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
	long total = r->njobs, done = total - r->n[RP_PENDING];
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"plan", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'J'},
		{"html", required_argument, NULL, 'o'},
		{"by", required_argument, NULL, 'b'},
		{"decisions", required_argument, NULL, 'd'},
		{"follow", no_argument, NULL, 'f'},
		{"exit-zero", no_argument, NULL, 'Z'},
		{"pending", no_argument, NULL, 'P'},
		{"root", required_argument, NULL, 'r'},
		{"refresh", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	const char *plan = NULL, *html = NULL, *root_opt = NULL, *root;
	const char *decisions = NULL;
	struct dc_set dcs;
	struct rv_counts rc_review;
	int json = 0, follow = 0, exit_zero = 0, pending = 0, refresh = 3;
	int c, i, rc, tty;
	enum rp_by by = RP_BY_NONE;
	double t0, last_draw = 0, last_html = 0;
	long drawn = -1, written = -1;
	struct nd_reader rd;
	struct report r;
	struct sbuf out = {0};
	size_t len;
	char *line;
	cJSON *o;

	err_init(argv[0]);
	while ((c = getopt_long(argc, argv, "p:Jo:b:d:fPZr:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'p': plan = optarg; break;
		case 'J': json = 1; break;
		case 'o': html = optarg; break;
		case 'b':
			if (!strcmp(optarg, "variant"))
				by = RP_BY_VARIANT;
			else if (!strcmp(optarg, "product"))
				by = RP_BY_PRODUCT;
			else if (!strcmp(optarg, "error"))
				by = RP_BY_ERROR;
			else
				die(EXIT_USAGE, "--by: want variant, product "
				    "or error, not '%s'", optarg);
			break;
		case 'd': decisions = optarg; break;
		case 'f': follow = 1; break;
		case 'P': pending = 1; break;
		case 'Z': exit_zero = 1; break;
		case 'r': root_opt = optarg; break;
		case 'R': refresh = err_num("--refresh", optarg, 1, 3600);
			break;
		case 'h': usage(0); break;
		case 'V': err_version(); break;
		default: usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (pending && !plan)
		die(EXIT_USAGE, "--pending needs --plan");
	if (pending && json)
		die(EXIT_USAGE, "--pending and --json: choose one");
	if (html && !*html)
		die(EXIT_USAGE, "--html: empty file name");
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") && access(argv[i], R_OK) < 0)
			die(EXIT_USAGE, "%s:", argv[i]);
	if (plan && access(plan, R_OK) < 0)
		die(EXIT_USAGE, "%s:", plan);
	root = store_root(root_opt);

	rp_init(&r, html != NULL || decisions != NULL);
	if (decisions) {
		dc_init(&dcs);
		if (dc_load(&dcs, decisions) < 0)
			exit(EXIT_USAGE);
		r.decisions = &dcs;
	}
	if (plan)
		read_plan(&r, (char *)plan);
	nd_open(&rd, argc, argv);
	tty = isatty(2);
	t0 = util_now_ms();
	if (follow) {
		rd.follow = followable(argc, argv);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (html)
			write_html(&r, html, root, refresh);
	}
	for (;;) {
		rc = nd_line(&rd, &line, &len);
		if (rc == 0)
			break;
		r.source = rd.idx;	/* the operand being read, from 1 */
		if (rc == 1 && (o = nd_parse(&rd, line, len))) {
			rp_add(&r, o, 0);
			cJSON_Delete(o);
		} else if (rc != 2) {
			warnx("%s:%ld: %s", rd.name, rd.lineno, rd.err);
			o = rec_bad_line("report", rd.name, rd.lineno, line, len,
			    rd.err);
			rp_add(&r, o, 0);
			cJSON_Delete(o);
		}
		if (!follow)
			continue;
		/* a pipe is drained to its end: leaving early would break
		 * the writer (tee -a results.ndjson | bg-report --follow) */
		if (stop || (plan && rd.follow && rp_complete(&r)))
			break;
		if (util_now_ms() - last_draw >= (tty ? 100 : 5000) &&
		    r.records != drawn) {
			progress(&r, tty, t0, 0);
			last_draw = util_now_ms();
			drawn = r.records;
		}
		if (html && util_now_ms() - last_html >= HTML_EVERY_MS &&
		    r.records != written) {
			write_html(&r, html, root, refresh);
			last_html = util_now_ms();
			written = r.records;
		}
		if (rc == 2) {
			struct timespec ts = {0, POLL_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	nd_close(&rd);
	if (follow)
		progress(&r, tty, t0, 1);
	if (html)
		write_html(&r, html, root, refresh);
	rv_tally(&r, &rc_review);
	if (decisions)
		rv_warn_unmatched(&r);
	if (pending) {
		print_pending(&r, (char *)plan);
	} else if (json) {
		o = rp_json(&r, by);
		if (decisions)
			rv_json(o, &rc_review);
		nd_write(o);
		cJSON_Delete(o);
	} else {
		rp_text(&r, by, argc == 1 && strcmp(argv[0], "-") ? argv[0] :
		    NULL, plan, &out);
		if (decisions)
			rv_text(&rc_review, &out);
		nd_write_raw(out.s, out.len);
		sb_free(&out);
	}
	nd_finish();
	rc = exit_zero || rp_all_succeeded(&r) ? 0 : 1;
	rp_free(&r);
	if (decisions) {
		if (dcs.bad || rc_review.unmatched)
			rc = exit_zero ? 0 : 1;
		dc_free(&dcs);
	}
	return rc;
}
