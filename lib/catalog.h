/* catalog: the product catalog (NDJSON, one variant a line) indexed by
 * variant id and by product id, for bg-candidates. */
#ifndef BG_CATALOG_H
#define BG_CATALOG_H

#include <stddef.h>
#include <glib.h>
#include <cjson/cJSON.h>

/* One catalog variant.  Strings live in the catalog's string chunk. */
struct cat_variant {
	const char *id, *pid;	/* variant_id, product_id as strings */
	const char *line;	/* the catalog line, NUL-terminated */
	size_t len;
	long lineno;
	long next;		/* next variant of the same product, or -1 */
};

struct catalog {
	const char *path;
	struct cat_variant *v;	/* in catalog order */
	size_t n, cap;
	GHashTable *by_id;	/* variant id -> index + 1 */
	GHashTable *by_product;	/* product id -> struct cat_product * */
	GStringChunk *strs;
	long bad;		/* malformed or duplicate lines skipped */
};

/* Read and index the catalog at path ("-" is stdin).  Malformed lines
 * (not a JSON object, no variant_id or product_id, images not a list of
 * {url} objects, a repeated variant_id) are reported once on stderr with
 * their line number and skipped (c->bad counts them).  Dies (2) if the
 * file cannot be opened.  Free with cat_free. */
void cat_load(struct catalog *c, const char *path);
void cat_free(struct catalog *c);

/* The variant with this id, or NULL. */
const struct cat_variant *cat_find(const struct catalog *c, const char *id);
/* The index of the first variant of product pid (follow ->next), or -1. */
long cat_product_first(const struct catalog *c, const char *pid);
/* The variant's catalog record, parsed again (cJSON_Delete it). */
cJSON *cat_record(const struct cat_variant *v);

/* An id (string, or whole number) at o[key] as a string into buf[32]:
 * NULL when absent, empty, or of another type. */
const char *cat_id(const cJSON *o, const char *key, char *buf);

/* s fit for a one-line diagnostic: control bytes and '\\' escaped as
 * \\xNN, cut after 80 bytes.  Returns one of two static buffers (so two
 * may appear in one message). */
const char *cat_shown(const char *s);

#endif
