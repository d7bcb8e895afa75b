/* batch_ref: batch mode's reference images (lib/batch.c).  Each distinct
 * URL is loaded once (a path, file:// or http(s)://), hashed, and uploaded
 * once per provider through its Files API; the file id is kept in the
 * store (batch_store.h) and reused by later runs while the provider keeps
 * the file.  The bytes are dropped once every provider has its file. */
#ifndef BG_BATCH_REF_H
#define BG_BATCH_REF_H

#include "batch_prov.h"
#include "errcode.h"

#define BREF_NPROV 2
#define BREF_MAX_REFS 16	/* references per job at most */	/* providers with a Batch API (lib/batch.c) */

struct bref {
	struct ref r;		/* url, sha256, mime; data until uploaded */
	char *id[BREF_NPROV];	/* the uploaded file, per provider */
	enum ec fail_code;	/* why it cannot be used (EC_NONE: it can) */
	char *fail_msg;
	int fail_retryable;
};

struct bref_set;

/* An empty set; references over max_bytes are refused. */
struct bref_set *bref_set_new(const char *root, size_t max_bytes,
    double timeout_ms, double connect_timeout_ms);
void bref_set_free(struct bref_set *s);

/* The reference at url, uploaded for bp (provider number bpi) through x:
 * its file id (owned by the set), or NULL when it cannot be used
 * ((*out)->fail_*).  *out is the reference either way. */
/* The sha256 of the bytes of the reference at url (read once, kept for
 * its upload), or NULL when it cannot be read (*out's fail_* say why):
 * the request key is made of it. */
const char *bref_sha(struct bref_set *s, const char *url, struct bref **out);
const char *bref_id(struct bref_set *s, const char *url,
    const struct bprov *bp, int bpi, const struct bctx *x,
    struct bref **out);

/* The request key (lib/reqkey.h) of the job rec into key, from the bytes
 * of its references as sync mode computes it, so either mode answers the
 * other's requests from the cache; -1 when a reference cannot be read
 * (*bad says why). */
int bref_request_key(struct bref_set *s, const char *prov,
    const char *model, const char *prompt, const cJSON *rec, char key[65],
    struct bref **bad);
#endif
