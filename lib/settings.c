/* settings: load, validate and render (doc/contract.md "settings file"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "models.h"
#include "record.h"
#include "settings.h"
#include "store.h"
#include "util.h"

const char *const settings_ratios[] = {
	"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
	NULL
};

static const char *const providers[] = {
	"local", "gemini", "openai", "replicate", NULL
};

static const char *const fields[] = {
	"title", "variant_title", "sku", "product_id", "variant_id",
	"custom_instructions", NULL
};

static int
in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return 1;
	return 0;
}

int
settings_ratio_ok(const char *r)
{
	return r && in_list(settings_ratios, r);
}

static void
add_part(struct tmpl_part **parts, int *n, const char *s, size_t len, int field)
{
	*parts = erealloc(*parts, (*n + 1) * sizeof **parts);
	(*parts)[*n].text = estrndup(s, len);
	(*parts)[*n].is_field = field;
	(*n)++;
}

int
tmpl_parse(const char *t, struct tmpl_part **parts, int *n, char **err)
{
	struct sbuf lit = {0};
	const char *p = t, *close;
	size_t len;

	*parts = NULL;
	*n = 0;
	while (*p) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			sb_addc(&lit, *p);
			p += 2;
		} else if (*p == '}') {
			*err = easprintf("unmatched '}' at offset %ld", (long)(p - t));
			goto fail;
		} else if (*p == '{') {
			close = strchr(p, '}');
			if (!close) {
				*err = easprintf("unclosed placeholder at offset %ld",
				    (long)(p - t));
				goto fail;
			}
			len = close - p - 1;
			if (lit.len)
				add_part(parts, n, lit.s, lit.len, 0);
			sb_reset(&lit);
			add_part(parts, n, p + 1, len, 1);
			if (!in_list(fields, (*parts)[*n - 1].text) &&
			    !(len > 6 && !strncmp(p + 1, "attrs.", 6) &&
			    !memchr(p + 1, '{', len))) {
				*err = easprintf("unknown placeholder {%s}",
				    (*parts)[*n - 1].text);
				goto fail;
			}
			p = close + 1;
		} else {
			sb_addc(&lit, *p++);
		}
	}
	if (lit.len)
		add_part(parts, n, lit.s, lit.len, 0);
	sb_free(&lit);
	return 0;
fail:
	sb_free(&lit);
	while (*n > 0)
		free((*parts)[--*n].text);
	free(*parts);
	*parts = NULL;
	return -1;
}

/* custom_instructions may be a string or a list of strings. */
static char *
join_custom(const cJSON *c, char **err)
{
	struct sbuf b = {0};
	const cJSON *e;

	if (!c || cJSON_IsNull(c))
		return estrdup("");
	if (cJSON_IsString(c))
		return estrdup(c->valuestring);
	if (!cJSON_IsArray(c))
		goto bad;
	cJSON_ArrayForEach(e, c) {
		if (!cJSON_IsString(e))
			goto bad;
		if (b.len)
			sb_adds(&b, ", ");
		sb_adds(&b, e->valuestring);
	}
	return b.s ? b.s : estrdup("");
bad:
	sb_free(&b);
	*err = estrdup("input.custom_instructions must be a string or a list of strings");
	return NULL;
}

/* Line and column of offset off in text, for JSON errors. */
static void
position(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* A ratio beyond the common ones that the model table lists for the
 * settings' model (or the provider's default), e.g. gemini's 1:4, 8:1. */
static int
model_ratio_ok(const struct settings *s, const char *r)
{
	const cJSON *m = models_get(s->provider, s->model ? s->model :
	    models_default(s->provider)), *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m,
	    "aspect_ratios"))
		if (cJSON_IsString(it) && !strcmp(it->valuestring, r))
			return 1;
	return 0;
}

/* A key the program does not know is most often a typo ("variatons")
 * whose setting would be silently lost, on images that are paid for. */
static int
unknown_key(const cJSON *o, char **err)
{
	static const char *const known[] = { "name", "description",
		"provider", "model", "variations", "prompt", "input",
		"price_per_image", "batch_price_per_image", NULL };
	const cJSON *it;
	int i;

	cJSON_ArrayForEach(it, o) {
		for (i = 0; known[i] && strcmp(known[i], it->string); i++)
			;
		if (!known[i]) {
			*err = easprintf("unknown key \"%.64s\" (the keys are "
			    "name, description, provider, model, variations, "
			    "prompt, input, price_per_image, "
			    "batch_price_per_image)", it->string);
			return -1;
		}
	}
	return 0;
}

/* *v: o's key, a price (dflt when absent or null); -1 + *err when it is
 * not a non-negative number. */
static int
price(const cJSON *o, const char *key, double dflt, double *v, char **err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, key);

	if (p && !cJSON_IsNull(p) && (!cJSON_IsNumber(p) ||
	    !(p->valuedouble >= 0))) {
		*err = easprintf("%s must be a non-negative number", key);
		return -1;
	}
	*v = rec_num(o, key, dflt);
	return 0;
}

int
settings_load(struct settings *s, const char *path, char **err)
{
	const cJSON *v;
	char *text;
	size_t len;
	int line, col;

	memset(s, 0, sizeof *s);
	if (!(text = store_read_file(path, 1 << 20, &len))) {
		*err = easprintf("cannot read: %s", strerror(errno));
		return -1;
	}
	s->json = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	if (!s->json || !cJSON_IsObject(s->json)) {
		/* only a failed parse sets the error pointer (after a
		 * success cJSON computes NULL + 0, undefined behaviour) */
		const char *ep = s->json ? NULL : cJSON_GetErrorPtr();

		if (ep && ep >= text && ep <= text + len) {
			position(text, ep - text, &line, &col);
			*err = easprintf("invalid JSON at line %d, column %d",
			    line, col);
		} else {
			*err = estrdup("not a JSON object");
		}
		free(text);
		goto fail;
	}
	free(text);
	if (unknown_key(s->json, err) < 0)
		goto fail;

	v = cJSON_GetObjectItemCaseSensitive(s->json, "prompt");
	if (!cJSON_IsString(v) || !*v->valuestring) {
		*err = estrdup("missing prompt");
		goto fail;
	}
	if (tmpl_parse(v->valuestring, &s->parts, &s->nparts, err) < 0)
		goto fail;

	s->name = rec_str(s->json, "name");
	if (!s->name || !*s->name)
		s->name = "batch";
	s->provider = rec_str(s->json, "provider");
	if (!s->provider)
		s->provider = "local";
	if (!in_list(providers, s->provider)) {
		*err = easprintf("unknown provider '%s' (local, gemini, openai, replicate)",
		    s->provider);
		goto fail;
	}
	s->model = rec_str(s->json, "model");

	v = cJSON_GetObjectItemCaseSensitive(s->json, "variations");
	s->variations = 1;
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble > 10 || v->valuedouble != (int)v->valuedouble) {
			*err = estrdup("variations must be a whole number from 1 to 10");
			goto fail;
		}
		s->variations = v->valueint;
	}
	if (price(s->json, "price_per_image", 0, &s->price, err) < 0 ||
	    price(s->json, "batch_price_per_image", -1, &s->batch_price,
	    err) < 0)
		goto fail;

	s->input = cJSON_GetObjectItemCaseSensitive(s->json, "input");
	if (s->input && !cJSON_IsObject(s->input)) {
		*err = estrdup("input must be an object");
		goto fail;
	}
	if (!s->input) {
		s->input = cJSON_CreateObject();
		cJSON_AddItemToObject(s->json, "input", s->input);
	}
	v = cJSON_GetObjectItemCaseSensitive(s->input, "aspect_ratio");
	if (!v || cJSON_IsNull(v)) {
		s->aspect = "1:1";
		rec_set_str(s->input, "aspect_ratio", "1:1");
	} else if (!cJSON_IsString(v) || (!settings_ratio_ok(v->valuestring) &&
	    !model_ratio_ok(s, v->valuestring))) {
		char *r = cJSON_PrintUnformatted(v);

		*err = easprintf("bad aspect ratio %s (one of 1:1 2:3 3:2 3:4 4:3 4:5 5:4 9:16 16:9 21:9, or another the model table lists for the model)", r);
		cJSON_free(r);
		goto fail;
	} else {
		s->aspect = v->valuestring;
	}
	if (!(s->custom = join_custom(cJSON_GetObjectItemCaseSensitive(s->input,
	    "custom_instructions"), err)))
		goto fail;
	return 0;
fail:
	settings_free(s);
	return -1;
}

void
settings_free(struct settings *s)
{
	int i;

	for (i = 0; i < s->nparts; i++)
		free(s->parts[i].text);
	free(s->parts);
	free(s->custom);
	cJSON_Delete(s->json);
	memset(s, 0, sizeof *s);
}

/* The value of placeholder name for rec, into b; -1 when rec lacks it. */
static int
field_value(const struct settings *s, const cJSON *rec, const char *name,
    struct sbuf *b)
{
	const cJSON *attrs;
	const char *v;
	char num[32];

	if (!strcmp(name, "custom_instructions")) {
		sb_adds(b, s->custom);
		return 0;
	}
	if (!strncmp(name, "attrs.", 6)) {
		attrs = cJSON_GetObjectItemCaseSensitive(rec, "attrs");
		v = rec_id(attrs, name + 6, num);
	} else {
		v = rec_id(rec, name, num);
	}
	if (!v)
		return -1;
	sb_adds(b, v);
	return 0;
}

char *
tmpl_render(const struct settings *s, const cJSON *rec, char **err)
{
	struct sbuf b = {0};
	size_t end;
	int i;

	for (i = 0; i < s->nparts; i++) {
		if (!s->parts[i].is_field)
			sb_adds(&b, s->parts[i].text);
		else if (field_value(s, rec, s->parts[i].text, &b) < 0) {
			*err = easprintf("record has no %s for {%s}",
			    s->parts[i].text, s->parts[i].text);
			sb_free(&b);
			return NULL;
		}
		if (b.len > TMPL_PROMPT_MAX) {
			/* a 200 MB title made an 839 MB plan */
			*err = easprintf("prompt longer than %d bytes",
			    TMPL_PROMPT_MAX);
			sb_free(&b);
			return NULL;
		}
	}
	if (!b.s)
		return estrdup("");
	/* an empty {custom_instructions} at the end leaves a dangling space */
	for (end = b.len; end > 0 && (b.s[end - 1] == ' ' || b.s[end - 1] == '\t'); end--)
		;
	b.s[end] = '\0';
	return b.s;
}
