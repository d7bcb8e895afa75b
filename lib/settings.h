/* settings: bg-plan's settings file and its prompt template. */
#ifndef BG_SETTINGS_H
#define BG_SETTINGS_H

#include <cjson/cJSON.h>

/* One piece of a parsed template: literal text or a placeholder. */
struct tmpl_part {
	char *text;		/* literal text, or the placeholder name */
	int is_field;
};

struct settings {
	cJSON *json;		/* the whole file; owns the strings below */
	const char *name;	/* "batch" when absent */
	const char *provider;	/* "local" when absent */
	const char *model;	/* may be NULL */
	const char *aspect;	/* input.aspect_ratio, "1:1" when absent */
	int variations;		/* 1..10, default 1 */
	double price;		/* price_per_image, default 0 */
	double batch_price;	/* batch_price_per_image, < 0 when not set */
	cJSON *input;		/* the settings' input object (never NULL) */
	char *custom;		/* input.custom_instructions joined with ", " */
	struct tmpl_part *parts;
	int nparts;
};

/* The aspect ratios every provider understands (doc/providers.md §1.4). */
extern const char *const settings_ratios[];
int settings_ratio_ok(const char *r);

/* Load and validate path.  0, or -1 with *err (free(3)) saying why:
 * invalid JSON, missing prompt, unknown placeholder, bad aspect ratio,
 * variations out of 1..10, unknown provider.  Free with settings_free. */
int settings_load(struct settings *s, const char *path, char **err);
void settings_free(struct settings *s);

/* Parse a template into parts; 0, or -1 with *err.  Known placeholders:
 * title variant_title sku product_id variant_id custom_instructions and
 * attrs.NAME; "{{" and "}}" stand for braces. */
int tmpl_parse(const char *t, struct tmpl_part **parts, int *n, char **err);
/* The longest prompt tmpl_render makes: the providers' own limits are
 * far lower (OpenAI's gpt-image: 32,000 characters). */
#define TMPL_PROMPT_MAX (64 * 1024)
/* Render the template for record rec.  Returns the prompt (free(3)), or
 * NULL with *err (free(3)) naming the field the record lacks or saying
 * the prompt is longer than TMPL_PROMPT_MAX. */
char *tmpl_render(const struct settings *s, const cJSON *rec, char **err);

#endif
