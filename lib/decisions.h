/* decisions: the review page's decisions.ndjson (doc/contract.md
 * "Decisions"), one line per decided image, read into a table keyed by
 * (job_id, sha256).  bg-report merges them into its page and counts; the
 * same reader serves any program that acts on approved or rejected images. */
#ifndef BG_DECISIONS_H
#define BG_DECISIONS_H

#include <glib.h>

enum dc_kind { DC_APPROVED = 1, DC_REJECTED = 2 };

/* One decision; strings are interned in the set (never free them). */
struct dc_entry {
	const char *job_id, *sha256;	/* sha256 "" when the line had none */
	const char *variant_id, *product_id, *batch_id;	/* or NULL */
	const char *note;		/* "" when none */
	const char *decided_at;		/* "" when none */
	const char *file;		/* where it was read */
	long line;
	int kind;			/* enum dc_kind */
	int best;
	int used;			/* caller: matched an image */
};

struct dc_set {
	struct dc_entry *e;		/* in the order first seen */
	size_t n, cap;
	long bad;			/* lines that were not decisions */
	GHashTable *index;		/* "job_id\x1fsha256" -> index + 1 */
	GStringChunk *pool;
};

void dc_init(struct dc_set *d);
void dc_free(struct dc_set *d);

/* Read decisions from path ("-" is stdin).  The same image decided twice
 * keeps the later decided_at (the later line on a tie).  Lines that are not
 * decisions are reported ("prog: file:line: reason") and counted in bad.
 * -1 (with a message) when the file cannot be read, else 0. */
int dc_load(struct dc_set *d, const char *path);

/* The decision on image sha256 (NULL or "" when unknown) of job_id, or
 * NULL. */
struct dc_entry *dc_find(const struct dc_set *d, const char *job_id,
    const char *sha256);

/* Report each decision not marked used ("prog: file:line: approved
 * decision for job J image S: no such image in WHERE"); the count. */
long dc_warn_unused(const struct dc_set *d, const char *where);

/* "approved" or "rejected". */
const char *dc_name(int kind);

#endif
