/*
 * bg-plan: turn candidate records into job records.
 *
 * Reads candidate records (bg-candidates) from the operands or stdin and a
 * settings file; writes one job per (variant x variation), or a failed
 * record for a candidate that cannot be planned, and passes records that
 * failed earlier through untouched.  Nothing is written until the whole
 * input has been checked against the batch size cap: jobs are spooled to
 * a temporary file first.  Prints the cost estimate on stderr (or, with
 * --estimate, as JSON on stdout instead of the jobs).
 *
 * With a store at hand (--root, BG_ROOT, ./bg-data) it notes on stderr how
 * many of the jobs the store's request cache already answers (they will
 * not be paid again; --fresh plans a re-roll instead).
 *
 * Exit: 0 planned, 1 some lines were not records, 2 usage/settings/too
 * many variants (nothing written), 3 fatal.
 */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "err.h"
#include "models.h"
#include "name.h"
#include "ndjson.h"
#include "opts.h"
#include "record.h"
#include "reqkey.h"
#include "settings.h"
#include "store.h"
#include "util.h"

#define MAX_VARIANTS 100
#define MAX_REF_BYTES ((size_t)64 << 20)
#define MAX_JOB_REFS 16

static struct settings set;
static const char *batch_id, *batch_name;
static char *folder;		/* "<slug>-<batch id prefix>" */
static int variations, max_images = 4;
static long max_variants = MAX_VARIANTS;
static long nvariants, nfailed;
static GHashTable *seen;	/* variant ids already planned */
static const char *root;	/* the store, for the cache note; NULL: none */
static double reroll;		/* --fresh: > 0 */
static long njobs, ncached;	/* jobs written, of them in the cache */
static char *cached_batch;	/* a batch that paid for one of them */
static int cached_batches;	/* how many different ones */

enum { O_SETTINGS = 's', O_NAME = 'n', O_ID = 'b', O_VAR = 'v',
	O_MAXVAR = 'm', O_MAXIMG = 'i', O_EST = 'e', O_FRESH = 256,
	O_ROOT = 'r', O_QUIET = 'q' };

static const struct opt optab[] = {
	{ "settings", 's', "FILE", "the batch's settings (required)",
	    O_SETTINGS },
	{ "name", 'n', "NAME", "the batch name (default: the settings' name)",
	    O_NAME },
	{ "batch-id", 'b', "ID", "the batch id, 1 to 64 of [A-Za-z0-9_-] "
	    "(default: a new UUID)", O_ID },
	{ "variations", 'v', "N", "images per variant, 1 to 10 (default: the "
	    "settings')", O_VAR },
	{ "max-variants", 'm', "N", "refuse a batch of more variants "
	    "(default 100)", O_MAXVAR },
	{ "max-images-per-variant", 'i', "N", "selected images allowed per "
	    "variant, 1 to 16 (default 4)", O_MAXIMG },
	{ "estimate", 'e', NULL, "print the cost estimate as JSON instead of "
	    "the jobs", O_EST },
	{ "fresh", 0, NULL, "re-roll: new images even where the store has "
	    "them", O_FRESH },
	{ "root", 'r', "DIR", "the store (default $BG_ROOT or ./bg-data)",
	    O_ROOT },
	{ "quiet", 'q', NULL, "no estimate or cache note on stderr", O_QUIET },
	OPTS_END
};

static const char usage_lines[] =
    "bg-plan --settings FILE [--name NAME] [--batch-id ID] [--variations N]\n"
    "               [--max-variants N] [--max-images-per-variant N] [--fresh]\n"
    "               [--root DIR] [--estimate] [-q] [FILE...]";

/* What the command line asks for beyond the file statics. */
struct args {
	const char *settings, *name, *id, *root;
	long variations;
	int quiet, estimate, fresh;
};

static void
options(int argc, char **argv, struct args *a)
{
	struct opts o;
	int c;

	opts_init(&o, optab, usage_lines,
	    "Turn candidate records into job records, one per image to make.");
	while ((c = opts_next(&o, argc, argv)) != -1) {
		switch (c) {
		case O_SETTINGS: a->settings = optarg; break;
		case O_NAME: a->name = optarg; break;
		case O_ID: a->id = optarg; break;
		case O_VAR:
			a->variations = err_num("--variations", optarg, 1, 10);
			break;
		case O_MAXVAR:
			max_variants = err_num("--max-variants", optarg, 1,
			    100000000);
			break;
		case O_MAXIMG:
			max_images = err_num("--max-images-per-variant", optarg,
			    1, 16);
			break;
		case O_EST: a->estimate = 1; break;
		case O_FRESH: a->fresh = 1; break;
		case O_ROOT: a->root = optarg; break;
		case O_QUIET: a->quiet = 1; break;
		}
	}
	if (!a->settings) {
		warnx("--settings FILE is required");
		opts_usage(&o);
	}
	opts_free(&o);
}

/* Spool a line to the temporary output. */
static void
spool(FILE *out, const char *s, size_t len)
{
	if (fwrite(s, 1, len, out) != len || putc('\n', out) == EOF)
		die(EXIT_FATAL, "spool:");
}

static void
spool_rec(FILE *out, const cJSON *o)
{
	char *s = nd_print(o);

	spool(out, s, strlen(s));
	cJSON_free(s);
}

/* Check selected: 1..max_images strings.  Returns NULL or why not. */
static char *
check_images(const cJSON *sel)
{
	const cJSON *e;
	int n;

	if (!cJSON_IsArray(sel))
		return estrdup("no selected images (selected must be a list of 1 to 4 image URLs or paths)");
	n = cJSON_GetArraySize(sel);
	cJSON_ArrayForEach(e, sel)
		if (!cJSON_IsString(e) || !*e->valuestring)
			return estrdup("selected images must be non-empty strings");
	if (n < 1 || n > max_images)
		return easprintf("%d selected images, need 1 to %d", n, max_images);
	return NULL;
}

/* The hashes of a job's references without the network (NULL-filled
 * when one is not at hand), into sha[]; their number, or -1. */
static int
refs_sha(const cJSON *input, char sha[][65])
{
	const char *urls[MAX_JOB_REFS];
	int i, n = reqkey_ref_urls(input, urls, MAX_JOB_REFS);

	for (i = 0; i < n; i++)
		if (reqkey_ref_sha_offline(root, urls[i], MAX_REF_BYTES,
		    sha[i]) < 0)
			return -1;
	return n;
}

/* Count the job c if the store's cache answers it (bg-generate would not
 * send it); refs are its references' hashes. */
static void
note_cached(const cJSON *c, char sha[][65], int nref)
{
	const char *ptr[MAX_JOB_REFS];
	struct reqkey_in k = {0};
	char key[65];
	const char *b;
	cJSON *hit;
	int i;

	if (nref < 0)
		return;
	for (i = 0; i < nref; i++)
		ptr[i] = sha[i];
	k.provider = set.provider;	/* one of the known, settings.c says */
	k.model = set.model ? set.model : models_default(set.provider);
	k.prompt = rec_str(c, "prompt");
	k.input = cJSON_GetObjectItemCaseSensitive(c, "input");
	k.ref_sha = ptr;
	k.nref = nref;
	k.variation = cJSON_GetObjectItemCaseSensitive(c, "variation");
	k.reroll = cJSON_GetObjectItemCaseSensitive(c, "reroll");
	reqkey_compute(&k, key);
	if (!(hit = store_cache_hit(root, key)))
		return;
	ncached++;
	if ((b = rec_str(hit, "batch_id")) && (!cached_batch ||
	    strcmp(b, cached_batch))) {
		cached_batches++;
		if (!cached_batch)
			cached_batch = estrdup(b);
	}
	cJSON_Delete(hit);
}

/* Plan one candidate: spool its jobs or a failed record. */
static void
plan(FILE *out, cJSON *c)
{
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(c, "selected");
	char idbuf[32], *why = NULL, *prompt, *safe, *s;
	const char *vid;
	cJSON *input, *targets;
	char sha[MAX_JOB_REFS][65];
	int v, nref = -1;

	if (!(vid = rec_id(c, "variant_id", idbuf))) {
		rec_fail(c, "plan", EC_INVALID_RECORD, "record has no variant_id");
		goto failed;
	}
	rec_set_str(c, "variant_id", vid);	/* ids travel as strings */
	if ((s = (char *)rec_id(c, "product_id", idbuf)))
		rec_set_str(c, "product_id", s);
	vid = rec_str(c, "variant_id");
	if ((why = check_images(sel))) {
		rec_fail(c, "plan", EC_INVALID_IMAGES, "variant %s: %s", vid, why);
		free(why);
		goto failed;
	}
	if (g_hash_table_contains(seen, vid)) {
		rec_fail(c, "plan", EC_INVALID_RECORD,
		    "variant %s is already in this batch", vid);
		goto failed;
	}
	if (!(prompt = tmpl_render(&set, c, &why))) {
		rec_fail(c, "plan", EC_INVALID_RECORD, "variant %s: %s", vid, why);
		free(why);
		goto failed;
	}
	g_hash_table_add(seen, estrdup(vid));
	nvariants++;

	/* the menu to choose from is not part of the job */
	cJSON_DeleteItemFromObjectCaseSensitive(c, "generated");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "uploads");
	rec_set_str(c, "batch_id", batch_id);
	rec_set_str(c, "batch_name", batch_name);
	rec_set_str(c, "provider", set.provider);
	if (set.model)
		rec_set_str(c, "model", set.model);
	rec_set_str(c, "prompt", prompt);
	input = cJSON_Duplicate(set.input, 1);
	rec_set(input, "product_images", cJSON_Duplicate(sel, 1));
	rec_set(c, "input", input);
	safe = name_safe(vid, NAME_MAX_DEFAULT);
	targets = cJSON_CreateObject();
	s = name_variant_folder(vid, folder);
	cJSON_AddStringToObject(targets, "variant_folder", s);
	free(s);
	s = name_batches_folder(folder);
	cJSON_AddStringToObject(targets, "batch_folder", s);
	free(s);
	rec_set(c, "targets", targets);
	rec_set_num(c, "price_per_image", set.price);
	if (set.batch_price >= 0)
		rec_set_num(c, "batch_price_per_image", set.batch_price);
	rec_set_num(c, "attempt", 0);
	rec_set_str(c, "status", "planned");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "error");
	if (reroll > 0)
		rec_set_num(c, "reroll", reroll);
	else if (root)
		nref = refs_sha(input, sha);	/* once for all variations */
	for (v = 1; v <= variations; v++) {
		s = easprintf("%s-%s-%d", batch_id, safe, v);
		rec_set_str(c, "job_id", s);
		free(s);
		rec_set_num(c, "variation", v);
		if (nref >= 0)
			note_cached(c, sha, nref);
		njobs++;
		spool_rec(out, c);
	}
	free(safe);
	free(prompt);
	return;
failed:
	nfailed++;
	spool_rec(out, c);
}

/* An anonymous spool file in $TMPDIR (tmpfile(3) ignores it). */
static FILE *
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd;

	path = easprintf("%s/bg-plan.XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		die(EXIT_FATAL, "%s:", path);
	unlink(path);
	if (!(f = fdopen(fd, "w+")))
		die(EXIT_FATAL, "%s:", path);
	free(path);
	return f;
}

/* Copy the spooled lines to stdout, one write per line. */
static void
emit(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	rewind(in);
	while ((n = getline(&line, &cap, in)) > 0)
		nd_write_raw(line, n);
	free(line);
	if (ferror(in))
		die(EXIT_FATAL, "spool:");
}

/* Warn when the settings' model (or the provider's default) is past or
 * within 30 days of its shutdown date in the model table. */
static void
warn_shutdown(const char *path, const struct settings *s)
{
	const char *model = s->model ? s->model : models_default(s->provider),
	    *rep;
	const cJSON *m = models_get(s->provider, model);
	long d;

	if (!models_days_left(m, &d) || d > 30)
		return;
	rep = models_str(m, "replacement");
	warnx("%s: %s model %s %s %s%s%s", path, s->provider, model,
	    d <= 0 ? "shut down on" : "shuts down on",
	    models_str(m, "shutdown"), rep ? "; use " : "", rep ? rep : "");
}

/* --fresh: a new reroll number (an identical request, asked anew); else
 * the store whose cache the note counts, if there is one. */
static void
cache_setup(int fresh, const char *opt_root)
{
	struct stat st;

	if (fresh)
		reroll = 1 + (double)((guint64)g_random_int() << 16 |
		    (g_random_int() & 0xffff));
	else if (stat(store_root(opt_root), &st) == 0 && S_ISDIR(st.st_mode))
		root = store_root(opt_root);
}

/* --estimate: the estimate as one JSON record (gen_id: the batch id is
 * made up, so none is printed). */
static void
print_estimate(double cost, int nbad, int gen_id)
{
	cJSON *o = cJSON_CreateObject();

	/* a made-up id would differ from the real plan's: none */
	if (gen_id)
		cJSON_AddNullToObject(o, "batch_id");
	else
		cJSON_AddStringToObject(o, "batch_id", batch_id);
	cJSON_AddStringToObject(o, "batch_name", batch_name);
	cJSON_AddStringToObject(o, "provider", set.provider);
	if (set.model)
		cJSON_AddStringToObject(o, "model", set.model);
	cJSON_AddNumberToObject(o, "variants", nvariants);
	cJSON_AddNumberToObject(o, "variations", variations);
	cJSON_AddNumberToObject(o, "images", (double)nvariants * variations);
	cJSON_AddNumberToObject(o, "price_per_image", set.price);
	cJSON_AddNumberToObject(o, "cost", cost);
	cJSON_AddNumberToObject(o, "failed", nfailed + nbad);
	cJSON_AddNumberToObject(o, "cached", ncached);
	nd_write(o);
	cJSON_Delete(o);
}

/* Say that n jobs will come from the cache, and how to re-roll. */
static void
note(long n)
{
	fprintf(stderr, "%s: %ld of %ld jobs are already generated in %s",
	    argv0, n, njobs, root);
	if (cached_batch)
		fprintf(stderr, " (batch %.8s%s%s)", cached_batch,
		    strlen(cached_batch) > 8 ? "\xe2\x80\xa6" : "",
		    cached_batches > 1 ? " and others" : "");
	fprintf(stderr, "; they will not be paid again; --fresh generates new "
	    "images\n");
}

/* Load the settings and fix the batch's name, id and folder; the id
 * when it was made here (free it), else NULL. */
static char *
setup(const struct args *a)
{
	char *err, *gen_id = NULL;
	const char *id = a->id;

	if (settings_load(&set, a->settings, &err) < 0)
		die(EXIT_USAGE, "%s: %s", a->settings, err);
	warn_shutdown(a->settings, &set);
	if (id) {
		if (!*id || strlen(id) > 64 ||
		    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(id))
			die(EXIT_USAGE, "--batch-id: use 1 to 64 letters, digits, '-' or '_', got '%s'", id);
		batch_id = id;
	} else {
		batch_id = gen_id = util_uuid();
	}
	batch_name = a->name ? a->name : set.name;
	variations = a->variations ? (int)a->variations : set.variations;
	folder = name_batch_folder(batch_name, batch_id);
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	cache_setup(a->fresh, a->root);
	return gen_id;
}

/* Read every candidate into the spool out; the number of bad lines. */
static int
read_all(FILE *out, int argc, char **argv)
{
	struct nd_reader rd;
	int bad, nbad = 0;
	cJSON *o;

	nd_open(&rd, argc, argv);
	while ((o = nd_next(&rd, "plan", &bad))) {
		if (bad) {
			nbad++;
			spool_rec(out, o);
		} else if (rec_passes(o, NULL)) {
			spool_rec(out, o);	/* failed earlier: pass through */
		} else {
			plan(out, o);
		}
		cJSON_Delete(o);
	}
	nd_close(&rd);
	if (fflush(out) == EOF)
		die(EXIT_FATAL, "spool:");
	return nbad;
}

int
main(int argc, char **argv)
{
	struct args a = {0};
	int nbad;
	char *gen_id;
	double cost;
	FILE *out;

	err_init(argv[0]);
	options(argc, argv, &a);
	gen_id = setup(&a);
	out = spool_open();
	nbad = read_all(out, argc - optind, argv + optind);
	if (nvariants > max_variants)
		die(EXIT_USAGE, "%ld variants exceed the batch limit of %ld; "
		    "split the batch or raise the limit with --max-variants %ld",
		    nvariants, max_variants, nvariants);
	cost = (double)nvariants * variations * set.price;
	if (a.estimate) {
		print_estimate(cost, nbad, gen_id != NULL);
	} else {
		if (!a.quiet)
			fprintf(stderr, "%s: %ld variants \xc3\x97 %d variations = %ld images, est. %.2f\n",
			    argv0, nvariants, variations, nvariants * variations, cost);
		emit(out);
	}
	if (ncached && !a.quiet)
		note(ncached);
	fclose(out);
	nd_finish();
	g_hash_table_destroy(seen);
	free(folder);
	free(gen_id);
	free(cached_batch);
	settings_free(&set);
	return nbad || nd_open_failures ? EXIT_BADLINES : EXIT_DONE;
}
