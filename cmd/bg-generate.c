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
 * --list-models prints the image models the key can use.
 * --mode batch (lib/batch.c) sends the same jobs through the providers'
 * Batch APIs at their batch price and waits for them (or, --no-wait,
 * writes them "pending" and a later run collects).
 *
 * Exit: 0 processed, 1 some lines were not records, 2 usage or
 * configuration (or --check found a provider unusable), 3 fatal or
 * interrupted (SIGINT/SIGTERM).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "batch.h"
#include "engine.h"
#include "err.h"
#include "ndjson.h"
#include "provider.h"
#include "store.h"

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: %s [-j|--jobs N] [--provider NAME] [--model NAME] [--base-url URL]\n"
	    "                   [--rpm N] [--max-attempts N] [--timeout SEC] [--max-images N]\n"
	    "                   [--max-cost AMOUNT] [--inline] [--force] [--progress] [--root DIR]\n"
	    "                   [--max-image-bytes N] [--connect-timeout SEC] [--backoff SEC]\n"
	    "                   [--grace SEC] [--no-stop-early] [--mode sync|batch] [--poll SEC]\n"
	    "                   [--no-wait] [--cancel] [--batch-size N] [FILE...]\n"
	    "       %s --check [--provider NAME] [--model NAME] [--base-url URL] [FILE...]\n"
	    "       %s --list-models --provider NAME [--base-url URL]\n",
	    argv0, argv0, argv0);
	exit(status);
}

enum {
	O_PROVIDER = 256, O_MODEL, O_BASE, O_RPM, O_ATTEMPTS, O_TIMEOUT,
	O_IMAGES, O_COST, O_INLINE, O_FORCE, O_PROGRESS, O_ROOT, O_IMGBYTES,
	O_CTIMEOUT, O_BACKOFF, O_GRACE, O_VERSION, O_NOSTOP,
	O_CHECK, O_LIST,
	O_MODE, O_POLL, O_NOWAIT,
	O_CANCEL, O_BSIZE
};

static const struct option longopts[] = {
	{"jobs", required_argument, NULL, 'j'},
	{"provider", required_argument, NULL, O_PROVIDER},
	{"model", required_argument, NULL, O_MODEL},
	{"base-url", required_argument, NULL, O_BASE},
	{"rpm", required_argument, NULL, O_RPM},
	{"max-attempts", required_argument, NULL, O_ATTEMPTS},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"max-images", required_argument, NULL, O_IMAGES},
	{"max-cost", required_argument, NULL, O_COST},
	{"inline", no_argument, NULL, O_INLINE},
	{"force", no_argument, NULL, O_FORCE},
	{"progress", no_argument, NULL, O_PROGRESS},
	{"root", required_argument, NULL, O_ROOT},
	{"max-image-bytes", required_argument, NULL, O_IMGBYTES},
	{"connect-timeout", required_argument, NULL, O_CTIMEOUT},
	{"backoff", required_argument, NULL, O_BACKOFF},
	{"grace", required_argument, NULL, O_GRACE},
	{"no-stop-early", no_argument, NULL, O_NOSTOP},
	{"check", no_argument, NULL, O_CHECK},
	{"list-models", no_argument, NULL, O_LIST},
	{"mode", required_argument, NULL, O_MODE},
	{"poll", required_argument, NULL, O_POLL},
	{"no-wait", no_argument, NULL, O_NOWAIT},
	{"cancel", no_argument, NULL, O_CANCEL},
	{"batch-size", required_argument, NULL, O_BSIZE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0}
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

int
main(int argc, char *argv[])
{
	struct engine_conf c;
	struct batch_conf bc;
	struct nd_reader r;
	const char *root = NULL;
	char *err = NULL;
	int ch, rc, check = 0, list = 0, batch = 0, batch_opt = 0;

	err_init(argv[0]);
	engine_defaults(&c);
	batch_defaults(&bc);
	while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			c.jobs = (int)err_num("--jobs", optarg, 1, 4096);
			break;
		case O_PROVIDER: c.provider = optarg; break;
		case O_MODEL: c.model = optarg; break;
		case O_BASE: c.base_url = optarg; break;
		case O_RPM: c.rpm = err_amount("--rpm", optarg); break;
		case O_ATTEMPTS:
			c.max_attempts = (int)err_num("--max-attempts", optarg,
			    1, 100);
			break;
		case O_TIMEOUT:
			c.timeout_ms = seconds("--timeout", optarg, 0);
			break;
		case O_IMAGES:
			c.max_images = err_num("--max-images", optarg, 0,
			    1000000000);
			break;
		case O_COST: c.max_cost = err_amount("--max-cost", optarg); break;
		case O_INLINE: c.inline_out = 1; break;
		case O_FORCE: c.force = 1; break;
		case O_PROGRESS: c.progress = 1; break;
		case O_ROOT: root = optarg; break;
		case O_IMGBYTES:
			c.max_image_bytes = (size_t)err_num("--max-image-bytes",
			    optarg, 1, (long)1 << 30);
			break;
		case O_CTIMEOUT:
			c.connect_timeout_ms = seconds("--connect-timeout",
			    optarg, 0);
			break;
		case O_BACKOFF:
			c.backoff_ms = seconds("--backoff", optarg, 1);
			break;
		case O_GRACE: c.grace_ms = seconds("--grace", optarg, 1); break;
		case O_NOSTOP: c.no_stop_early = 1; break;
		case O_CHECK: check = 1; break;
		case O_LIST: list = 1; break;
		case O_MODE:
			if (strcmp(optarg, "sync") && strcmp(optarg, "batch"))
				die(EXIT_USAGE, "--mode: sync or batch");
			batch = !strcmp(optarg, "batch");
			break;
		case O_POLL:
			bc.poll_ms = seconds("--poll", optarg, 0);
			batch_opt = 1;
			break;
		case O_NOWAIT: bc.no_wait = batch_opt = 1; break;
		case O_CANCEL: bc.cancel = batch_opt = 1; break;
		case O_BSIZE:
			bc.batch_size = err_num("--batch-size", optarg, 1,
			    1000000);
			batch_opt = 1;
			break;
		case 'h': usage(EXIT_DONE);
		case O_VERSION: err_version();
		default: usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (batch_opt && !batch)
		die(EXIT_USAGE, "--poll, --no-wait, --cancel and --batch-size "
		    "need --mode batch");
	if (c.connect_timeout_ms > c.timeout_ms)
		c.connect_timeout_ms = c.timeout_ms;
	if (list)
		return check_list(&c);
	if (check) {
		nd_open(&r, argc, argv);
		rc = check_run(&c, &r);
		nd_close(&r);
		nd_finish();
		return rc;
	}
	c.root = store_root(root);
	/* a provider named on the command line must be usable up front */
	if (c.provider && engine_check_provider(&c, &err) < 0)
		die(EXIT_USAGE, "%s", err);
	nd_open(&r, argc, argv);
	rc = batch ? batch_run(&c, &bc, &r) : engine_run(&c, &r);
	nd_close(&r);
	nd_finish();
	return rc;
}
