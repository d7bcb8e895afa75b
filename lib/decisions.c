/* decisions: read decisions.ndjson into a table.  Later decisions replace
 * earlier ones image by image, so a person can download from the review
 * page again and again and concatenate the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "err.h"
#include "ndjson.h"
#include "record.h"

void
dc_init(struct dc_set *d)
{
	memset(d, 0, sizeof *d);
	d->index = g_hash_table_new(g_str_hash, g_str_equal);
	d->pool = g_string_chunk_new(1 << 14);
}

void
dc_free(struct dc_set *d)
{
	if (d->index)
		g_hash_table_destroy(d->index);
	if (d->pool)
		g_string_chunk_free(d->pool);
	free(d->e);
	memset(d, 0, sizeof *d);
}

const char *
dc_name(int kind)
{
	return kind == DC_APPROVED ? "approved" : "rejected";
}

static const char *
intern(struct dc_set *d, const char *s)
{
	return s ? g_string_chunk_insert_const(d->pool, s) : NULL;
}

static char *
key_of(const char *job_id, const char *sha256)
{
	return g_strconcat(job_id, "\x1f", sha256 ? sha256 : "", NULL);
}

struct dc_entry *
dc_find(const struct dc_set *d, const char *job_id, const char *sha256)
{
	char *k;
	gpointer x;

	if (!d || !d->index || !job_id)
		return NULL;
	k = key_of(job_id, sha256);
	x = g_hash_table_lookup(d->index, k);
	g_free(k);
	return x ? &d->e[GPOINTER_TO_SIZE(x) - 1] : NULL;
}

/* Why o is not a decision, or NULL. */
static const char *
invalid(const cJSON *o, int *kind)
{
	const char *s = rec_str(o, "decision");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "best");

	if (!rec_str(o, "job_id") || !*rec_str(o, "job_id"))
		return "a decision needs a job_id";
	if (cJSON_GetObjectItemCaseSensitive(o, "sha256") &&
	    !rec_str(o, "sha256"))
		return "sha256 must be a string";
	if (!s || (strcmp(s, "approved") && strcmp(s, "rejected")))
		return "decision must be \"approved\" or \"rejected\"";
	if (b && !cJSON_IsBool(b))
		return "best must be true or false";
	*kind = !strcmp(s, "approved") ? DC_APPROVED : DC_REJECTED;
	return NULL;
}

static void
add(struct dc_set *d, const cJSON *o, int kind, const char *file, long line)
{
	const char *job = rec_str(o, "job_id"), *sha = rec_str(o, "sha256");
	const char *at = rec_str(o, "decided_at");
	struct dc_entry *e;
	char *k = key_of(job, sha);
	char buf[32];
	gpointer x = g_hash_table_lookup(d->index, k);

	if (x) {
		e = &d->e[GPOINTER_TO_SIZE(x) - 1];
		if (strcmp(at ? at : "", e->decided_at) < 0) {
			g_free(k);
			return;	/* an older decision read later */
		}
	} else {
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 16;
			d->e = erealloc(d->e, d->cap * sizeof *d->e);
		}
		e = &d->e[d->n++];
		memset(e, 0, sizeof *e);
		e->job_id = intern(d, job);
		e->sha256 = intern(d, sha ? sha : "");
		g_hash_table_insert(d->index,
		    g_string_chunk_insert(d->pool, k), GSIZE_TO_POINTER(d->n));
	}
	g_free(k);
	e->variant_id = intern(d, rec_id(o, "variant_id", buf));
	e->product_id = intern(d, rec_id(o, "product_id", buf));
	e->batch_id = intern(d, rec_str(o, "batch_id"));
	e->note = intern(d, rec_str(o, "note") ? rec_str(o, "note") : "");
	e->decided_at = intern(d, at ? at : "");
	e->file = intern(d, file);
	e->line = line;
	e->kind = kind;
	e->best = rec_bool(o, "best");
}

int
dc_load(struct dc_set *d, const char *path)
{
	struct nd_reader rd;
	char *files[1] = {(char *)path};
	const char *why;
	size_t len;
	char *line;
	cJSON *o;
	int rc, kind = 0, failed = nd_open_failures;

	nd_open(&rd, 1, files);
	while ((rc = nd_line(&rd, &line, &len)) != 0) {
		o = rc == 1 ? nd_parse(&rd, line, len) : NULL;
		why = !o ? rd.err : invalid(o, &kind);
		if (why) {
			warnx("%s:%ld: %s", rd.name, rd.lineno, why);
			d->bad++;
		} else {
			add(d, o, kind, rd.name, rd.lineno);
		}
		cJSON_Delete(o);
	}
	nd_close(&rd);
	return nd_open_failures != failed ? -1 : 0;	/* warned */
}

long
dc_warn_unused(const struct dc_set *d, const char *where)
{
	const struct dc_entry *e;
	long n = 0;
	size_t i;

	for (i = 0; i < d->n; i++) {
		e = &d->e[i];
		if (e->used)
			continue;
		warnx("%s:%ld: %s decision for job %s image %s: no such image "
		    "in %s", e->file, e->line, dc_name(e->kind), e->job_id,
		    *e->sha256 ? e->sha256 : "(no sha256)", where);
		n++;
	}
	return n;
}
