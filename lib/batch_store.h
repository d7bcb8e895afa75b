/* batch_store: provider batches in the store (doc/contract.md "The
 * store"): provider-batches/<provider>/<id>.json (the record, rewritten
 * atomically at each change of state), <id>.keys (the sorted request keys
 * it holds, one 64-hex line each, written before the batch is created)
 * and files/<sha256> (a reference image's uploaded file id and when). */
#ifndef BG_BATCH_STORE_H
#define BG_BATCH_STORE_H

#include "batch_prov.h"

/* A new local id ("20261129T040506Z-1a2b3c"); free(3). */
char *bs_new_id(void);
/* Write b's record; 0 or -1 with errno. */
int bs_save(const char *root, const struct pbatch *b);
/* Write b's keys (an array of n 65-byte keys, sorted here) and map them
 * for bs_has_key; 0 or -1 with errno. */
int bs_write_keys(const char *root, struct pbatch *b, char (*keys)[65],
    size_t n);
/* Whether b holds request key key (its .keys file). */
int bs_has_key(const struct pbatch *b, const char *key);
/* Every provider batch of bp in the store not yet collected, with keys
 * mapped; *n gets the count.  Free each with bs_free. */
struct pbatch **bs_load_live(const char *root, const struct bprov *bp,
    int *n);
void bs_free(struct pbatch *b);
/* b was recorded "creating" and has no provider name: the create's answer
 * was lost (a crash between it and saving the name).  Look for it in the
 * provider's list (x NULL: no key; left as it is): 1, adopted (b->name
 * set, running, saved); 0, never created (closed, saved: its jobs go to
 * a new batch); -1, not looked up.  Dies when the list cannot be read:
 * sending the jobs again could pay for them twice. */
int bs_adopt(const char *root, struct pbatch *b, const struct bctx *x);
/* The state's name in records and back. */
const char *bs_state_name(int st);
/* The file id of the reference sha uploaded for bp less than max_age
 * seconds ago, or NULL; free(3). */
char *bs_ref_get(const char *root, const struct bprov *bp, const char *sha,
    double max_age);
void bs_ref_put(const char *root, const struct bprov *bp, const char *sha,
    const char *id);

#endif
