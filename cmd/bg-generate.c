/*
 * bg-generate: turn job records into result records by calling the image
 * provider (lib/engine.c, lib/provider/).
 *
 * Reads job records (bg-plan) from the operands or stdin, only a little
 * ahead of the -j requests in flight; writes one result record per input line as
 * each finishes (succeeded, failed, skipped by the budget, canceled by a
 * signal), passing records that succeeded or failed at another stage
 * through untouched.  Images go to the store's objects/, finished requests
 * to its cache/, so a re-run pays nothing twice.
 *
 * --check asks each provider (--provider, or those of the jobs given)
 * once whether the key and the model are usable, before any spend;
 * --list-models prints the image models the key can use; --list-errors
 * the error codes its records (and the other programs') can carry.
 * --mode batch (lib/batch.c) sends the same jobs through the providers'
 * Batch APIs at their batch price and waits for them (or, --no-wait,
 * writes them "pending" and a later run collects).
 *
 * Exit: 0 processed, 1 some lines were not records, 2 usage or
 * configuration (or --check found a provider unusable), 3 fatal or
 * interrupted (SIGINT/SIGTERM).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "batch.h"
#include "engine.h"
#include "err.h"
#include "errcode.h"
#include "ndjson.h"
#include "opts.h"
#include "provider.h"
#include "store.h"

enum {
	O_JOBS = 'j', O_ROOT = 'r', O_PROVIDER = 256, O_MODEL, O_BASE, O_RPM,
	O_ATTEMPTS, O_TIMEOUT, O_IMAGES, O_COST, O_INLINE, O_FORCE,
	O_PROGRESS, O_IMGBYTES, O_CTIMEOUT, O_BACKOFF, O_GRACE, O_NOSTOP,
	O_CHECK, O_LIST, O_ERRORS, O_MODE, O_POLL, O_NOWAIT, O_CANCEL, O_BSIZE
};

static const struct opt optab[] = {
	{ "jobs", 'j', "N", "requests in flight, 1 to 4096 (default 8)",
	    O_JOBS },
	{ "provider", 0, "NAME", "use this provider for every job",
	    O_PROVIDER },
	{ "model", 0, "NAME", "use this model for every job", O_MODEL },
	{ "base-url", 0, "URL", "the provider's endpoint (default: the "
	    "environment, then the public one)", O_BASE },
	{ "rpm", 0, "N", "requests per minute at most (default: no limit)",
	    O_RPM },
	{ "max-attempts", 0, "N", "tries per job, 1 to 100 (default 5)",
	    O_ATTEMPTS },
	{ "timeout", 0, "SEC", "give up a request after SEC (default 300)",
	    O_TIMEOUT },
	{ "max-images", 0, "N", "start no job past N images (the rest are "
	    "skipped)", O_IMAGES },
	{ "max-cost", 0, "AMOUNT", "stop paying once the estimated cost "
	    "reaches AMOUNT", O_COST },
	{ "inline", 0, NULL, "also put each output's bytes, base64, in "
	    "outputs[].data", O_INLINE },
	{ "force", 0, NULL, "ignore the cache: send every job again",
	    O_FORCE },
	{ "progress", 0, NULL, "a progress line on stderr", O_PROGRESS },
	{ "root", 'r', "DIR", "the store (default $BG_ROOT or ./bg-data)",
	    O_ROOT },
	{ "max-image-bytes", 0, "N", "the largest reference image accepted "
	    "(default 20 MiB)", O_IMGBYTES },
	{ "connect-timeout", 0, "SEC", "give up connecting after SEC "
	    "(default 30)", O_CTIMEOUT },
	{ "backoff", 0, "SEC", "the first wait before a retry (default 1)",
	    O_BACKOFF },
	{ "grace", 0, "SEC", "on a signal, wait this long for requests in "
	    "flight (default 10)", O_GRACE },
	{ "no-stop-early", 0, NULL, "send every job even after an answer that "
	    "dooms them all", O_NOSTOP },
	{ "check", 0, NULL, "only check that the key and the model are usable",
	    O_CHECK },
	{ "list-models", 0, NULL, "print the image models the key can use",
	    O_LIST },
	{ "list-errors", 0, NULL, "print the error codes and what each means",
	    O_ERRORS },
	{ "mode", 0, "MODE", "sync (default) or batch: the providers' Batch "
	    "APIs", O_MODE },
	{ "poll", 0, "SEC", "batch mode: seconds between polls", O_POLL },
	{ "no-wait", 0, NULL, "batch mode: submit, write pending records and "
	    "exit", O_NOWAIT },
	{ "cancel", 0, NULL, "batch mode: cancel the jobs' provider batches",
	    O_CANCEL },
	{ "batch-size", 0, "N", "batch mode: jobs per provider batch at most",
	    O_BSIZE },
	OPTS_END
};

static const char usage_lines[] =
    "bg-generate [-j|--jobs N] [--provider NAME] [--model NAME] [--base-url URL]\n"
    "                   [--rpm N] [--max-attempts N] [--timeout SEC] [--max-images N]\n"
    "                   [--max-cost AMOUNT] [--inline] [--force] [--progress] [--root DIR]\n"
    "                   [--max-image-bytes N] [--connect-timeout SEC] [--backoff SEC]\n"
    "                   [--grace SEC] [--no-stop-early] [--mode sync|batch] [--poll SEC]\n"
    "                   [--no-wait] [--cancel] [--batch-size N] [FILE...]\n"
    "       bg-generate --check [--provider NAME] [--model NAME] [--base-url URL] [FILE...]\n"
    "       bg-generate --list-models --provider NAME [--base-url URL]\n"
    "       bg-generate --list-errors";

/* The command line beyond engine_conf and batch_conf. */
struct args {
	const char *root;
	int check, list, errors, batch, batch_opt;
};

/* Seconds (decimals allowed) as milliseconds, > 0 unless zero_ok. */
static double
seconds(const char *opt, const char *s, int zero_ok)
{
	double d = err_amount(opt, s);

	if (d == 0 && !zero_ok)
		die(EXIT_USAGE, "%s: must be more than 0", opt);
	if (d > 86400)
		die(EXIT_USAGE, "%s: at most 86400 seconds", opt);
	return d * 1000;
}

static void
options(int argc, char **argv, struct engine_conf *c, struct batch_conf *bc,
    struct args *a)
{
	struct opts o;
	int ch;

	opts_init(&o, optab, usage_lines, "Turn job records into result "
	    "records by calling the image provider.");
	while ((ch = opts_next(&o, argc, argv)) != -1) {
		switch (ch) {
		case O_JOBS:
			c->jobs = (int)err_num("--jobs", optarg, 1, 4096);
			break;
		case O_PROVIDER: c->provider = optarg; break;
		case O_MODEL: c->model = optarg; break;
		case O_BASE: c->base_url = optarg; break;
		case O_RPM: c->rpm = err_amount("--rpm", optarg); break;
		case O_ATTEMPTS:
			c->max_attempts = (int)err_num("--max-attempts", optarg,
			    1, 100);
			break;
		case O_TIMEOUT:
			c->timeout_ms = seconds("--timeout", optarg, 0);
			break;
		case O_IMAGES:
			c->max_images = err_num("--max-images", optarg, 0,
			    1000000000);
			break;
		case O_COST: c->max_cost = err_amount("--max-cost", optarg); break;
		case O_INLINE: c->inline_out = 1; break;
		case O_FORCE: c->force = 1; break;
		case O_PROGRESS: c->progress = 1; break;
		case O_ROOT: a->root = optarg; break;
		case O_IMGBYTES:
			c->max_image_bytes = (size_t)err_num("--max-image-bytes",
			    optarg, 1, (long)1 << 30);
			break;
		case O_CTIMEOUT:
			c->connect_timeout_ms = seconds("--connect-timeout",
			    optarg, 0);
			break;
		case O_BACKOFF:
			c->backoff_ms = seconds("--backoff", optarg, 1);
			break;
		case O_GRACE: c->grace_ms = seconds("--grace", optarg, 1); break;
		case O_NOSTOP: c->no_stop_early = 1; break;
		case O_CHECK: a->check = 1; break;
		case O_LIST: a->list = 1; break;
		case O_ERRORS: a->errors = 1; break;
		case O_MODE:
			if (strcmp(optarg, "sync") && strcmp(optarg, "batch"))
				die(EXIT_USAGE, "--mode: sync or batch");
			a->batch = !strcmp(optarg, "batch");
			break;
		case O_POLL:
			bc->poll_ms = seconds("--poll", optarg, 0);
			a->batch_opt = 1;
			break;
		case O_NOWAIT: bc->no_wait = a->batch_opt = 1; break;
		case O_CANCEL: bc->cancel = a->batch_opt = 1; break;
		case O_BSIZE:
			bc->batch_size = err_num("--batch-size", optarg, 1,
			    1000000);
			a->batch_opt = 1;
			break;
		}
	}
	opts_free(&o);
	if (a->batch_opt && !a->batch)
		die(EXIT_USAGE, "--poll, --no-wait, --cancel and --batch-size "
		    "need --mode batch");
	if (c->connect_timeout_ms > c->timeout_ms)
		c->connect_timeout_ms = c->timeout_ms;
}

/* References of a megabyte or more are read, base64'd and sent as
 * buffers of 1-6 MB.  glibc gave each its own fresh pages (mmap above a
 * moving threshold, heap trimmed back at 128 KB): with four 1 MB
 * references a job, 140,000 page faults and 3.1 s of CPU for 200 jobs,
 * where the same buffers kept in the heap (the top 64 MB not given back)
 * fault 34,000 times and cost 1.3 s (tests/bench/generate.sh, part B;
 * peak RSS 81 -> 115 MB then, 82-87 MB once the loop sent while it read
 * the references, lib/engine.c). */
static void
memory_for_big_bodies(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
}

int
main(int argc, char *argv[])
{
	struct engine_conf c;
	struct batch_conf bc;
	struct nd_reader r;
	struct args a = {0};
	char *err = NULL;
	int rc;

	err_init(argv[0]);
	memory_for_big_bodies();
	engine_defaults(&c);
	batch_defaults(&bc);
	options(argc, argv, &c, &bc, &a);
	argc -= optind;
	argv += optind;
	if (a.errors) {
		ec_list(stdout);
		nd_finish();
		return EXIT_DONE;
	}
	if (a.list)
		return check_list(&c);
	if (a.check) {
		nd_open(&r, argc, argv);
		rc = check_run(&c, &r);
		nd_close(&r);
		nd_finish();
		return rc;
	}
	c.root = store_root(a.root);
	/* a provider named on the command line must be usable up front */
	if (c.provider && engine_check_provider(&c, &err) < 0)
		die(EXIT_USAGE, "%s", err);
	nd_open(&r, argc, argv);
	rc = a.batch ? batch_run(&c, &bc, &r) : engine_run(&c, &r);
	nd_close(&r);
	nd_finish();
	return rc;
}
