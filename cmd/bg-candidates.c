/*
 * bg-candidates: propose the reference images for every selected variant.
 *
 * Reads variant selectors (bare ids one a line, or JSON records with a
 * variant_id or product_id) from the operands or stdin, and/or takes
 * --all and --product; joins each variant with the catalog, the store's
 * history.ndjson and uploads.ndjson; writes one candidate record per
 * variant (doc/contract.md "candidate") with a default `selected` list, or a
 * failed record (not_found, invalid_record, bad_json).  --summary writes
 * per-slot counts instead.  --html FILE also writes the picker page, where
 * a person checks 1 to 4 images per variant and saves selection.ndjson,
 * which this program reads back as selectors with `selected`.
 *
 * Exit: 0 processed, 1 some selector or catalog lines were not records,
 * 2 usage (bad option, unreadable catalog), 3 fatal.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "catalog.h"
#include "err.h"
#include "history.h"
#include "ndjson.h"
#include "opts.h"
#include "picker_html.h"
#include "probe.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define STAGE "candidates"
#define MAX_SELECTED 4
#define MAX_PICKS 16

enum { PK_VARIANT, PK_SLOT, PK_LARGEST, PK_GENERATED, PK_UPLOAD };
struct pick {
	int kind;
	char *arg;	/* slot code or upload pattern, or NULL */
	long n;		/* generated: how many */
};

static struct catalog cat;
static const char *root, *slot, *hist_path, *up_path;
static char *hist_file, *up_file;
static long max_generated = 50, max_uploads = 200;
static struct pick picks[MAX_PICKS];
static int npicks, summary, ret;
static GHashTable *seen;	/* selected ids -> times seen */
static GHashTable *history;	/* variant id -> struct hist_list */
static struct hist_list *uploads;
static cJSON *uploads_arr;	/* shown on every candidate (referenced) */
static struct pk_page *page;	/* --html */
static const char *probing;	/* the variant whose images are ranked */

/* --summary counts */
struct slot_count {
	long variants, images;
};
static GHashTable *slots;	/* code -> struct slot_count */
static long n_variants, n_variant_image, n_with_images, n_without,
    n_not_found, n_bad, n_failed;

enum { O_CATALOG = 'c', O_HISTORY = 256, O_UPLOADS, O_ROOT = 'r',
	O_ALL = 'a', O_PRODUCT = 258, O_SLOT, O_PICK, O_MAXGEN, O_MAXUP,
	O_SUMMARY = 'S', O_HTML = 'o' };

static const struct opt optab[] = {
	{ "catalog", 'c', "FILE", "the catalog (default: catalog.ndjson in "
	    "the store)", O_CATALOG },
	{ "history", 0, "FILE", "the generation history (default the "
	    "store's)", O_HISTORY },
	{ "uploads", 0, "FILE", "the uploads library (default the store's)",
	    O_UPLOADS },
	{ "root", 'r', "DIR", "the store (default $BG_ROOT or ./bg-data)",
	    O_ROOT },
	{ "all", 'a', NULL, "every variant of the catalog", O_ALL },
	{ "product", 0, "ID", "every variant of product ID (repeatable)",
	    O_PRODUCT },
	{ "slot", 0, "CODE", "the image slot to fill, e.g. MAIN or PT01",
	    O_SLOT },
	{ "pick", 0, "SPEC", "choose the images now, e.g. "
	    "variant,generated:2,upload:KIND", O_PICK },
	{ "max-generated", 0, "N", "generated images offered per variant "
	    "(default 50)", O_MAXGEN },
	{ "max-uploads", 0, "N", "uploads offered per variant (default 200)",
	    O_MAXUP },
	{ "summary", 'S', NULL, "count images per slot instead of candidates",
	    O_SUMMARY },
	{ "html", 'o', "FILE", "write a picker page to choose images in",
	    O_HTML },
	OPTS_END
};

/* The command line beyond the file statics. */
struct args {
	const char *catalog, *pick, *root, *html;
	char **products;
	int nproducts, all;
};

static void
parse_pick(const char *spec)
{
	char *copy = estrdup(spec), *tok, *save = NULL, *arg;
	struct pick *p;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (npicks == MAX_PICKS)
			die(EXIT_USAGE, "--pick: more than %d sources",
			    MAX_PICKS);
		p = &picks[npicks++];
		if ((arg = strchr(tok, ':')))
			*arg++ = '\0';
		p->n = 1;
		if (!strcmp(tok, "variant") && !arg)
			p->kind = PK_VARIANT;
		else if (!strcmp(tok, "largest") && !arg)
			p->kind = PK_LARGEST;
		else if (!strcmp(tok, "slot"))
			p->kind = PK_SLOT;
		else if (!strcmp(tok, "generated")) {
			p->kind = PK_GENERATED;
			if (arg)
				p->n = err_num("--pick generated", arg, 1,
				    MAX_SELECTED);
			arg = NULL;
		} else if (!strcmp(tok, "upload"))
			p->kind = PK_UPLOAD;
		else
			die(EXIT_USAGE, "--pick: unknown source '%s' (variant, "
			    "slot[:CODE], largest, generated[:N], "
			    "upload[:PATTERN])", cat_shown(tok));
		if (arg && !*arg)
			die(EXIT_USAGE, "--pick: empty argument to %s", tok);
		p->arg = arg ? estrdup(arg) : NULL;
		if (p->kind == PK_SLOT && !p->arg && !slot)
			die(EXIT_USAGE, "--pick: slot needs a code "
			    "(slot:CODE) or --slot");
	}
	free(copy);
	if (npicks == 0)
		die(EXIT_USAGE, "--pick: no sources");
}

/* 1 (and a warning the second time) when id was selected before. */
static int
again(const char *id, const char *ctx)
{
	gpointer p;
	long times;

	if (!seen)
		seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    NULL);
	p = g_hash_table_lookup(seen, id);
	times = GPOINTER_TO_SIZE(p);
	g_hash_table_replace(seen, g_strdup(id), GSIZE_TO_POINTER(times + 1));
	if (times == 1)
		warnx("%s: %s selected again, ignored", ctx, cat_shown(id));
	return times > 0;
}

static int
in_catalog(const char *id, void *arg)
{
	return cat_find(arg, id) != NULL;
}

/* The store's lists, read before anything is written (a missing named
 * file is a usage error). */
static void
load_library(void)
{
	const cJSON *e;
	size_t i;

	if (history)
		return;
	history = hist_load(hist_file, root, max_generated, hist_path != NULL,
	    in_catalog, &cat);
	uploads = hist_uploads(up_file, root, max_uploads, up_path != NULL);
	uploads_arr = cJSON_CreateArray();
	for (i = 0; i < uploads->n; i++) {
		e = uploads->it[i].obj;
		cJSON_AddItemToArray(uploads_arr, cJSON_Duplicate(e, 1));
	}
}

/* Width times height of image entry im, probed when the catalog does not
 * say (and then noted in the entry); 0 when unknown. */
static double
area(cJSON *im)
{
	double w = rec_num(im, "width", 0), h = rec_num(im, "height", 0);
	int pw, ph;

	if (w > 0 && h > 0) {
		/* another variant may name the same image without its size */
		if (w < 1e9 && h < 1e9)
			probe_note(rec_str(im, "url"), (int)w, (int)h);
		return w * h;
	}
	if (probe_size(root, rec_str(im, "url"), probing, &pw, &ph) < 0)
		return 0;
	rec_set_num(im, "width", pw);
	rec_set_num(im, "height", ph);
	return (double)pw * ph;
}

/* The url of the largest image in images (in slot code, if not NULL);
 * the first of equals wins.  NULL when there is none. */
static const char *
best(cJSON *images, const char *code)
{
	cJSON *im;
	const char *url = NULL, *s;
	double a, top = -1;

	cJSON_ArrayForEach(im, images) {
		s = rec_str(im, "slot");
		if (!rec_str(im, "url") || !*rec_str(im, "url"))
			continue;
		if (code && (!s || g_ascii_strcasecmp(s, code)))
			continue;
		if ((a = area(im)) > top) {
			top = a;
			url = rec_str(im, "url");
		}
	}
	return url;
}

/* Append src to the selected list sel unless full or already there. */
static void
choose(cJSON *sel, const char *src)
{
	const cJSON *e;

	if (!src || !*src || cJSON_GetArraySize(sel) >= MAX_SELECTED)
		return;
	cJSON_ArrayForEach(e, sel)
		if (!strcmp(e->valuestring, src))
			return;
	cJSON_AddItemToArray(sel, cJSON_CreateString(src));
}

static int
upload_matches(const struct hist_item *it, const char *pat)
{
	return (it->name && !fnmatch(pat, it->name, 0)) ||
	    (it->kind && !fnmatch(pat, it->kind, 0)) ||
	    (it->id && !fnmatch(pat, it->id, 0));
}

/* The selected list: --pick's sources in order, else the default (the
 * --slot image, else the variant image, else the largest image). */
static cJSON *
selection(cJSON *rec, const struct hist_list *gen)
{
	cJSON *sel = cJSON_CreateArray(), *images;
	const char *vimg = rec_str(rec, "image_url");
	size_t i;
	int k;
	long j;

	images = cJSON_GetObjectItemCaseSensitive(rec, "images");
	if (!cJSON_IsArray(images))
		images = NULL;
	if (npicks == 0) {
		if (slot && images)
			choose(sel, best(images, slot));
		if (cJSON_GetArraySize(sel) == 0)
			choose(sel, vimg);
		if (cJSON_GetArraySize(sel) == 0 && images)
			choose(sel, best(images, NULL));
		return sel;
	}
	for (k = 0; k < npicks; k++) {
		switch (picks[k].kind) {
		case PK_VARIANT:
			choose(sel, vimg);
			break;
		case PK_SLOT:
			if (images)
				choose(sel, best(images,
				    picks[k].arg ? picks[k].arg : slot));
			break;
		case PK_LARGEST:
			if (images)
				choose(sel, best(images, NULL));
			break;
		case PK_GENERATED:
			for (j = 0; gen && j < picks[k].n &&
			    (size_t)j < gen->n; j++)
				choose(sel, gen->it[j].src);
			break;
		case PK_UPLOAD:
			for (i = 0; i < uploads->n; i++) {
				if (!picks[k].arg) {
					choose(sel, uploads->it[i].src);
					break;
				}
				if (upload_matches(&uploads->it[i],
				    picks[k].arg))
					choose(sel, uploads->it[i].src);
			}
			break;
		}
	}
	return sel;
}

/* The variant's own image as {url, width?, height?}, or null. */
static cJSON *
variant_image(const cJSON *rec)
{
	const char *url = rec_str(rec, "image_url");
	const cJSON *im;
	cJSON *o;
	double w = rec_num(rec, "image_width", 0);
	double h = rec_num(rec, "image_height", 0);

	if (!url || !*url)
		return cJSON_CreateNull();
	if (!(w > 0 && h > 0)) {
		cJSON_ArrayForEach(im, cJSON_GetObjectItemCaseSensitive(rec,
		    "images")) {
			const char *u = rec_str(im, "url");

			if (u && !strcmp(u, url)) {
				w = rec_num(im, "width", 0);
				h = rec_num(im, "height", 0);
				break;
			}
		}
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "url", url);
	if (w > 0 && h > 0) {
		cJSON_AddNumberToObject(o, "width", w);
		cJSON_AddNumberToObject(o, "height", h);
	}
	return o;
}

static void
count(const struct cat_variant *v)
{
	cJSON *rec = cat_record(v), *im;
	const char *s;
	GHashTable *mine = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	struct slot_count *c;
	char *code;
	int any = 0;

	n_variants++;
	if ((s = rec_str(rec, "image_url")) && *s) {
		n_variant_image++;
		any = 1;
	}
	cJSON_ArrayForEach(im, cJSON_GetObjectItemCaseSensitive(rec,
	    "images")) {
		any = 1;
		s = rec_str(im, "slot");
		code = g_ascii_strup(s && *s ? s : "(none)", -1);
		if (!(c = g_hash_table_lookup(slots, code))) {
			c = g_new0(struct slot_count, 1);
			g_hash_table_insert(slots, g_strdup(code), c);
		}
		c->images++;
		if (!g_hash_table_contains(mine, code))
			c->variants++;
		g_hash_table_add(mine, code);	/* frees an equal key */
	}
	if (any)
		n_with_images++;
	else
		n_without++;
	g_hash_table_destroy(mine);
	cJSON_Delete(rec);
}

/*
 * The candidate for catalog variant v, built on sel (the selector record,
 * consumed; NULL for a bare id): selector fields win over catalog fields,
 * an explicit `selected` over the default choice.
 */
static void
emit(cJSON *sel, const struct cat_variant *v, const char *ctx)
{
	cJSON *rec = sel ? sel : cJSON_CreateObject(), *cat_rec, *f, *given;
	cJSON *gen_arr;
	const struct hist_list *gen;
	size_t i;

	if (again(v->id, ctx)) {
		cJSON_Delete(rec);
		return;
	}
	if (summary) {
		count(v);
		cJSON_Delete(rec);
		return;
	}
	given = cJSON_GetObjectItemCaseSensitive(rec, "selected");
	if (given) {
		const cJSON *e;
		int ok = cJSON_IsArray(given);

		cJSON_ArrayForEach(e, given)
			ok = ok && cJSON_IsString(e);
		if (!ok) {
			rec_fail(rec, STAGE, EC_INVALID_RECORD,
			    "%s: selected must be a list of image URLs or "
			    "paths", ctx);
			nd_write_utf8(rec);
			cJSON_Delete(rec);
			ret = EXIT_BADLINES;
			return;
		}
	}
	rec_set_str(rec, "variant_id", v->id);
	rec_set_str(rec, "product_id", v->pid);
	cat_rec = cat_record(v);
	while ((f = cat_rec->child)) {
		cJSON_DetachItemViaPointer(cat_rec, f);
		/* AddItemToArray keeps f->string: an object is a list of
		 * named items, and this saves a copy of every key */
		if (cJSON_GetObjectItemCaseSensitive(rec, f->string))
			cJSON_Delete(f);
		else
			cJSON_AddItemToArray(rec, f);
	}
	cJSON_Delete(cat_rec);
	rec_set(rec, "variant_image", variant_image(rec));
	gen = g_hash_table_lookup(history, v->id);
	gen_arr = cJSON_CreateArray();
	for (i = 0; gen && i < gen->n; i++)
		cJSON_AddItemToArray(gen_arr,
		    cJSON_CreateObjectReference(gen->it[i].obj->child));
	rec_set(rec, "generated", gen_arr);
	rec_set(rec, "uploads", cJSON_CreateArrayReference(uploads_arr->child));
	probing = v->id;
	if (!given)
		rec_set(rec, "selected", selection(rec, gen));
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec,
	    "selected")) == 0)
		warnx("%s: %s: no image to select", ctx, cat_shown(v->id));
	rec_set_str(rec, "status", "candidate");
	nd_write_utf8(rec);
	if (page)
		pk_row(page, rec);
	cJSON_Delete(rec);
}

/* A failed record for an id that names nothing in the catalog (id may
 * point into sel). */
static void
not_found(cJSON *sel, const char *key, const char *id, const char *ctx)
{
	cJSON *rec = sel ? sel : cJSON_CreateObject();
	char *s = estrdup(id);

	if (again(s, ctx)) {
		;
	} else if (summary) {
		n_not_found++;
	} else {
		rec_set_str(rec, key, s);
		rec_fail(rec, STAGE, EC_NOT_FOUND, "%s %s is not in %s",
		    !strcmp(key, "variant_id") ? "variant" : "product",
		    cat_shown(s), cat.path);
		nd_write_utf8(rec);
	}
	free(s);
	cJSON_Delete(rec);
}

/* Every variant of product pid; sel (consumed) is copied onto each. */
static void
emit_product(cJSON *sel, const char *pid, const char *ctx)
{
	long i = cat_product_first(&cat, pid);
	char *vctx;

	if (i < 0) {
		not_found(sel, "product_id", pid, ctx);
		return;
	}
	for (; i >= 0; i = cat.v[i].next) {
		vctx = sel ? estrdup(ctx) : easprintf("%s:%ld", cat.path,
		    cat.v[i].lineno);
		emit(sel ? cJSON_Duplicate(sel, 1) : NULL, &cat.v[i], vctx);
		free(vctx);
	}
	cJSON_Delete(sel);
}

static void
bad(cJSON *rec)
{
	ret = EXIT_BADLINES;
	n_bad++;
	if (!summary)
		nd_write_utf8(rec);
	cJSON_Delete(rec);
}

/* One selector line: a JSON object, a JSON string, or a bare id. */
static void
select_line(struct nd_reader *r, char *line, size_t len, const char *ctx)
{
	const struct cat_variant *v;
	const char *id;
	char buf[32];
	cJSON *o;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	while (*line == ' ' || *line == '\t')
		line++, len--;
	if (*line != '{' && *line != '[' && *line != '"') {
		if ((v = cat_find(&cat, line)))
			emit(NULL, v, ctx);
		else
			not_found(NULL, "variant_id", line, ctx);
		return;
	}
	if (*line == '"') {
		o = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
		if (!cJSON_IsString(o) || !*o->valuestring) {
			cJSON_Delete(o);
			warnx("%s: not a variant id", ctx);
			bad(rec_bad_line(STAGE, r->name, r->lineno, line, len,
			    "not a variant id"));
			return;
		}
		if ((v = cat_find(&cat, o->valuestring)))
			emit(NULL, v, ctx);
		else
			not_found(NULL, "variant_id", o->valuestring, ctx);
		cJSON_Delete(o);
		return;
	}
	if (!(o = nd_parse(r, line, len))) {
		warnx("%s: %s", ctx, r->err);
		bad(rec_bad_line(STAGE, r->name, r->lineno, line, len, r->err));
		return;
	}
	if (rec_passes(o, NULL)) {
		if (summary)
			n_failed++;
		else
			nd_write_utf8(o);
		cJSON_Delete(o);
	} else if ((id = cat_id(o, "variant_id", buf))) {
		if ((v = cat_find(&cat, id)))
			emit(o, v, ctx);
		else
			not_found(o, "variant_id", id, ctx);
	} else if ((id = cat_id(o, "product_id", buf))) {
		emit_product(o, id, ctx);
	} else {
		warnx("%s: no variant_id or product_id", ctx);
		rec_fail(o, STAGE, EC_INVALID_RECORD,
		    "%s: no variant_id or product_id", ctx);
		bad(o);
	}
}

static void
read_selectors(int n, char **files)
{
	struct nd_reader r;
	char *line, *ctx;
	size_t len;
	int rc;

	nd_open(&r, n, files);
	r.maxlen = (size_t)16 << 20;
	while ((rc = nd_line(&r, &line, &len)) != ND_END) {
		ctx = easprintf("%s:%ld", r.name, r.lineno);
		if (rc == ND_BAD) {
			warnx("%s: %s", ctx, r.err);
			bad(rec_bad_line(STAGE, r.name, r.lineno, line, len,
			    r.err));
		} else
			select_line(&r, line, len, ctx);
		free(ctx);
	}
	nd_close(&r);
}

static int
by_code(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
print_summary(void)
{
	guint n, i;
	gpointer *keys = g_hash_table_get_keys_as_array(slots, &n);
	struct slot_count *c;
	cJSON *o, *t;

	qsort(keys, n, sizeof *keys, by_code);
	for (i = 0; i < n; i++) {
		c = g_hash_table_lookup(slots, keys[i]);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "slot", keys[i]);
		cJSON_AddNumberToObject(o, "variants", c->variants);
		cJSON_AddNumberToObject(o, "images", c->images);
		nd_write_utf8(o);
		cJSON_Delete(o);
	}
	g_free(keys);
	o = cJSON_CreateObject();
	t = cJSON_AddObjectToObject(o, "totals");
	cJSON_AddNumberToObject(t, "variants", n_variants);
	cJSON_AddNumberToObject(t, "with_variant_image", n_variant_image);
	cJSON_AddNumberToObject(t, "with_images", n_with_images);
	cJSON_AddNumberToObject(t, "without_images", n_without);
	cJSON_AddNumberToObject(t, "slots", n);
	cJSON_AddNumberToObject(t, "not_found", n_not_found);
	cJSON_AddNumberToObject(t, "failed", n_failed);
	cJSON_AddNumberToObject(t, "bad_lines", n_bad);
	cJSON_AddNumberToObject(t, "catalog_bad_lines", cat.bad);
	nd_write_utf8(o);
	cJSON_Delete(o);
}

static void
options(int argc, char **argv, struct args *a)
{
	struct opts o;
	int c;

	a->products = ecalloc(argc, sizeof *a->products);
	opts_init(&o, optab, "bg-candidates [--catalog FILE] [--history FILE] "
	    "[--uploads FILE] [--root DIR]\n"
	    "                     [--all | --product ID]... [--slot CODE] "
	    "[--pick SPEC]\n"
	    "                     [--max-generated N] [--max-uploads N] "
	    "[--summary]\n"
	    "                     [--html FILE] [FILE...]",
	    "Turn variant ids into candidate records with their images.");
	while ((c = opts_next(&o, argc, argv)) != -1) {
		switch (c) {
		case O_CATALOG: a->catalog = optarg; break;
		case O_HISTORY: hist_path = optarg; break;
		case O_UPLOADS: up_path = optarg; break;
		case O_ROOT: a->root = optarg; break;
		case O_ALL: a->all = 1; break;
		case O_PRODUCT:
			if (!*optarg)
				die(EXIT_USAGE, "--product: empty id");
			a->products[a->nproducts++] = optarg;
			break;
		case O_SLOT:
			if (!*optarg || strlen(optarg) > 32)
				die(EXIT_USAGE, "--slot: want a code such as "
				    "MAIN or PT01");
			slot = optarg;
			break;
		case O_PICK: a->pick = optarg; break;
		case O_MAXGEN:
			max_generated = err_num("--max-generated", optarg, 0,
			    100000);
			break;
		case O_MAXUP:
			max_uploads = err_num("--max-uploads", optarg, 0,
			    100000);
			break;
		case O_SUMMARY: summary = 1; break;
		case O_HTML:
			if (!*optarg)
				die(EXIT_USAGE, "--html: empty file name");
			a->html = optarg;
			break;
		}
	}
	opts_free(&o);
	if (a->pick)
		parse_pick(a->pick);
	if (a->html && summary)
		die(EXIT_USAGE, "--html and --summary: choose one");
}

/* Find the store, the catalog, the history and the uploads; the
 * default catalog's name when it was made here (free it), else NULL. */
static char *
setup(struct args *a, struct pk_page *pk)
{
	char *cat_default = NULL;

	if (a->html) {
		pk_begin(pk, a->html);
		page = pk;
	}
	root = store_root(a->root);
	if (!a->catalog)
		a->catalog = cat_default = easprintf("%s/catalog.ndjson", root);
	hist_file = hist_path ? estrdup(hist_path) :
	    easprintf("%s/" HIST_HISTORY, root);
	up_file = up_path ? estrdup(up_path) :
	    easprintf("%s/" HIST_UPLOADS, root);
	cat_load(&cat, a->catalog);
	if (cat.bad)
		ret = EXIT_BADLINES;
	if (summary)
		slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    g_free);
	else
		load_library();
	return cat_default;
}

/* The variants named by --all and --product. */
static void
emit_named(const struct args *a)
{
	char *ctx;
	size_t k;
	int i;

	if (a->all) {
		for (k = 0; k < cat.n; k++) {
			ctx = easprintf("%s:%ld", cat.path, cat.v[k].lineno);
			emit(NULL, &cat.v[k], ctx);
			free(ctx);
		}
	}
	for (i = 0; i < a->nproducts; i++) {
		ctx = easprintf("--product %s", cat_shown(a->products[i]));
		emit_product(NULL, a->products[i], ctx);
		free(ctx);
	}
}

static void
cleanup(void)
{
	int i;

	for (i = 0; i < npicks; i++)
		free(picks[i].arg);
	free(hist_file);
	free(up_file);
	if (seen)
		g_hash_table_destroy(seen);
	if (history)
		g_hash_table_destroy(history);
	if (slots)
		g_hash_table_destroy(slots);
	hist_list_free(uploads);
	cJSON_Delete(uploads_arr);
	probe_free();
	cat_free(&cat);
}

int
main(int argc, char **argv)
{
	struct args a = {0};
	struct pk_page pk;
	char *cat_default;

	err_init(argv[0]);
	options(argc, argv, &a);
	argc -= optind;
	argv += optind;
	cat_default = setup(&a, &pk);
	emit_named(&a);
	/* with --all or --product, stdin is read only when named ("-") */
	if ((!a.all && !a.nproducts) || argc > 0)
		read_selectors(argc, argv);
	if (nd_open_failures)
		ret = EXIT_BADLINES;
	if (summary)
		print_summary();
	if (page && pk_write(page) < 0)
		die(EXIT_FATAL, "%s:", a.html);
	nd_finish();
	free(a.products);
	free(cat_default);
	cleanup();
	return ret;
}
