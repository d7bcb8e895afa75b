/* profile: built-in marketplace profiles and the profiles file parser.
 * The figures and their sources are in README.md ("bg-export"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "filing.h"
#include "profile.h"
#include "record.h"
#include "store.h"

#define MB (1024.0 * 1024.0)

static const struct profile builtins[] = {
	{ .name = "amazon-main", .format = "jpeg",
	  .accept = { "jpeg", "png", "tiff", "gif" }, .naccept = 4,
	  .min_long = 1000, .max_side = 10000, .max_bytes = 10 * MB,
	  .target = 2000, .white = 1, .tolerance = 2, .fill_min = 0.85,
	  .fill_target = 0.90, .provenance = 1, .quality = 92 },
	{ .name = "amazon-other", .format = "jpeg",
	  .accept = { "jpeg", "png", "tiff", "gif" }, .naccept = 4,
	  .min_long = 1000, .max_side = 10000, .max_bytes = 10 * MB,
	  .target = 2000, .provenance = 1, .quality = 92 },
	{ .name = "gmc", .format = "jpeg",
	  .accept = { "jpeg", "webp", "png", "gif", "bmp", "tiff" },
	  .naccept = 6, .min_short = 500, .max_mp = 64, .max_bytes = 16 * MB,
	  .target = 1500, .provenance = 1, .quality = 90 },
	{ .name = "shopify", .format = "jpeg",
	  .accept = { "jpeg", "png", "gif", "webp" }, .naccept = 4,
	  .max_side = 4472, .max_bytes = 20 * MB, .square = 1,
	  .target = 2048, .tolerance = 2, .provenance = 1, .quality = 90 },
	{ .name = "etsy", .format = "jpeg",
	  .accept = { "jpeg", "png", "gif" }, .naccept = 3,
	  .min_short = 635, .max_bytes = 10 * MB, .target = 2000,
	  .provenance = 1, .quality = 90 },
};
#define NBUILTIN (sizeof builtins / sizeof builtins[0])

static const char *formats[][2] = {
	{ "jpeg", "image/jpeg" }, { "png", "image/png" },
	{ "webp", "image/webp" }, { "gif", "image/gif" },
	{ "tiff", "image/tiff" }, { "bmp", "image/bmp" },
};

const char *
profile_mime(const char *format)
{
	size_t i;

	for (i = 0; format && i < sizeof formats / sizeof formats[0]; i++)
		if (!strcmp(formats[i][0], format))
			return formats[i][1];
	return NULL;
}

const struct profile *
profile_builtin(const char *name)
{
	size_t i;

	for (i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

int
profile_accepts(const struct profile *p, const char *mime)
{
	int i;

	for (i = 0; mime && i < p->naccept; i++)
		if (!strcmp(profile_mime(p->accept[i]), mime))
			return 1;
	return 0;
}

cJSON *
profile_to_json(const struct profile *p)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
	int i;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "format", p->format);
	for (i = 0; i < p->naccept; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(p->accept[i]));
	cJSON_AddItemToObject(o, "accept", a);
	cJSON_AddStringToObject(o, "colour_space", "srgb");
	cJSON_AddNumberToObject(o, "min_long_side", p->min_long);
	cJSON_AddNumberToObject(o, "min_short_side", p->min_short);
	cJSON_AddNumberToObject(o, "max_side", p->max_side);
	cJSON_AddNumberToObject(o, "max_megapixels", p->max_mp);
	cJSON_AddNumberToObject(o, "max_bytes", p->max_bytes);
	cJSON_AddBoolToObject(o, "square", p->square);
	cJSON_AddNumberToObject(o, "target_size", p->target);
	cJSON_AddStringToObject(o, "background", p->white ? "white" : "any");
	cJSON_AddNumberToObject(o, "background_tolerance", p->tolerance);
	cJSON_AddNumberToObject(o, "fill_min", p->fill_min);
	cJSON_AddNumberToObject(o, "fill_target", p->fill_target);
	cJSON_AddBoolToObject(o, "provenance", p->provenance);
	cJSON_AddNumberToObject(o, "quality", p->quality);
	return o;
}

cJSON *
profile_builtin_json(void)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < NBUILTIN; i++)
		cJSON_AddItemToArray(a, profile_to_json(&builtins[i]));
	return a;
}

char *
profile_fingerprint(const struct profile *p)
{
	cJSON *o = profile_to_json(p);
	char *s = cJSON_PrintUnformatted(o), *r = estrdup(s);

	cJSON_free(s);
	cJSON_Delete(o);
	return r;
}

/* A number field in [lo, hi]; absent leaves *v alone. */
static int
num_field(const cJSON *o, const char *key, double lo, double hi, double *v,
    char *why, size_t n)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!f)
		return 0;
	if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) ||
	    f->valuedouble < lo || f->valuedouble > hi) {
		snprintf(why, n, "%s: want a number from %g to %g", key, lo, hi);
		return -1;
	}
	*v = f->valuedouble;
	return 0;
}

static int
bool_field(const cJSON *o, const char *key, int *v, char *why, size_t n)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!f)
		return 0;
	if (!cJSON_IsBool(f)) {
		snprintf(why, n, "%s: want true or false", key);
		return -1;
	}
	*v = cJSON_IsTrue(f);
	return 0;
}

static int
format_list(const cJSON *o, struct profile *p, char *why, size_t n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "accept"), *f;

	if (!a) {
		snprintf(p->accept[0], sizeof p->accept[0], "%s", p->format);
		p->naccept = 1;
		return 0;
	}
	p->naccept = 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 ||
	    cJSON_GetArraySize(a) > PROFILE_MAX_FORMATS) {
		snprintf(why, n, "accept: want a list of 1 to %d formats",
		    PROFILE_MAX_FORMATS);
		return -1;
	}
	cJSON_ArrayForEach(f, a) {
		if (!cJSON_IsString(f) || !profile_mime(f->valuestring)) {
			snprintf(why, n, "accept: want jpeg, png, webp, gif, "
			    "tiff or bmp");
			return -1;
		}
		snprintf(p->accept[p->naccept++], sizeof p->accept[0], "%s",
		    f->valuestring);
	}
	return 0;
}

static int
known_key(const char *k)
{
	static const char *keys[] = { "name", "format", "accept",
	    "colour_space", "min_long_side", "min_short_side", "max_side",
	    "max_megapixels", "max_bytes", "square", "target_size",
	    "background", "background_tolerance", "fill_min", "fill_target",
	    "provenance", "quality", "source", "note", NULL };
	int i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(keys[i], k))
			return 1;
	return 0;
}

/* The format, background and colour space strings. */
static int
str_fields(const cJSON *o, struct profile *p, char *why, size_t n)
{
	const char *fmt = rec_str(o, "format"), *bg = rec_str(o, "background");
	const char *cs = rec_str(o, "colour_space");

	if (cJSON_GetObjectItemCaseSensitive(o, "format") && (!fmt ||
	    (strcmp(fmt, "jpeg") && strcmp(fmt, "png") && strcmp(fmt, "webp")))) {
		snprintf(why, n, "format: want jpeg, png or webp");
		return -1;
	}
	snprintf(p->format, sizeof p->format, "%s", fmt ? fmt : "jpeg");
	if (cJSON_GetObjectItemCaseSensitive(o, "background") && (!bg ||
	    (strcmp(bg, "white") && strcmp(bg, "any")))) {
		snprintf(why, n, "background: want \"white\" or \"any\"");
		return -1;
	}
	p->white = bg && !strcmp(bg, "white");
	if (cJSON_GetObjectItemCaseSensitive(o, "colour_space") &&
	    (!cs || strcmp(cs, "srgb"))) {
		snprintf(why, n, "colour_space: only \"srgb\" is supported");
		return -1;
	}
	return 0;
}

int
profile_from_json(const cJSON *o, struct profile *p, char *why, size_t n)
{
	const cJSON *f;
	const char *name = rec_str(o, "name");
	double minl = 0, mins = 0, maxs = 0, target = 2000, tol = 2, q = 90;

	memset(p, 0, sizeof *p);
	if (!cJSON_IsObject(o)) {
		snprintf(why, n, "a profile is not an object");
		return -1;
	}
	cJSON_ArrayForEach(f, o)
		if (!known_key(f->string)) {
			snprintf(why, n, "%s: unknown field", f->string);
			return -1;
		}
	if (!name || !filing_name_ok(name) || strlen(name) >= sizeof p->name) {
		snprintf(why, n, "name: want up to 63 of [A-Za-z0-9._-]");
		return -1;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	p->provenance = 1;
	if (str_fields(o, p, why, n) < 0 || format_list(o, p, why, n) < 0 ||
	    num_field(o, "min_long_side", 0, 100000, &minl, why, n) < 0 ||
	    num_field(o, "min_short_side", 0, 100000, &mins, why, n) < 0 ||
	    num_field(o, "max_side", 0, 100000, &maxs, why, n) < 0 ||
	    num_field(o, "max_megapixels", 0, 10000, &p->max_mp, why, n) < 0 ||
	    num_field(o, "max_bytes", 0, 1e12, &p->max_bytes, why, n) < 0 ||
	    bool_field(o, "square", &p->square, why, n) < 0 ||
	    num_field(o, "target_size", 16, 100000, &target, why, n) < 0 ||
	    num_field(o, "background_tolerance", 0, 64, &tol, why, n) < 0 ||
	    num_field(o, "fill_min", 0, 1, &p->fill_min, why, n) < 0 ||
	    num_field(o, "fill_target", 0, 1, &p->fill_target, why, n) < 0 ||
	    bool_field(o, "provenance", &p->provenance, why, n) < 0 ||
	    num_field(o, "quality", 1, 100, &q, why, n) < 0)
		return -1;
	p->min_long = minl;
	p->min_short = mins;
	p->max_side = maxs;
	p->target = target;
	p->tolerance = tol;
	p->quality = q;
	if (p->fill_min > 0 && p->fill_target == 0)
		p->fill_target = p->fill_min;
	if (p->fill_target && p->fill_target < p->fill_min) {
		snprintf(why, n, "fill_target: below fill_min");
		return -1;
	}
	return 0;
}

int
profile_load(const char *path, struct profile **out, int *nout, char *why,
    size_t n)
{
	size_t len;
	char *text, sub[200];
	cJSON *j, *o;
	int i = 0, cnt;

	*out = NULL;
	*nout = 0;
	if (!(text = store_read_file(path, 1 << 20, &len))) {
		snprintf(why, n, "%s", strerror(errno));
		return -1;
	}
	j = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	free(text);
	if (!j || (!cJSON_IsArray(j) && !cJSON_IsObject(j))) {
		snprintf(why, n, "not a JSON array or object");
		cJSON_Delete(j);
		return -1;
	}
	cnt = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : 1;
	*out = ecalloc(cnt ? cnt : 1, sizeof **out);
	for (o = cJSON_IsArray(j) ? j->child : j; o && i < cnt; o = o->next) {
		if (profile_from_json(o, &(*out)[i], sub, sizeof sub) < 0) {
			snprintf(why, n, "profile %d: %s", i + 1, sub);
			cJSON_Delete(j);
			free(*out);
			*out = NULL;
			return -1;
		}
		i++;
	}
	cJSON_Delete(j);
	*nout = i;
	return 0;
}
