/* result: the parts of a result record that sync mode (lib/engine.c) and
 * batch mode (lib/batch.c) share: outputs stored as objects, the cache
 * entry read back into a record, --inline data, usage{} text, the cost
 * at the batch price.  Nothing here keeps state between calls. */
#ifndef BG_RESULT_H
#define BG_RESULT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "provider.h"
#include "util.h"

/* Store each output under root's objects/ and append outputs[] as JSON
 * text to b (printed once: the record and the cache entry share it); -1
 * and *why (free(3)) if an output is not an image.  g NULL: each object
 * written and fsync'd now; else handed to the group commit g
 * (lib/commit.c), durable before g writes a line that names it. */
struct commit;
int result_store_outputs(const char *root, const struct prov_output *out,
    int nout, struct commit *g, struct sbuf *b, char **why);

/* outputs[].data (base64) for --inline: from out[i] while i < nout, else
 * from the stored object. */
void result_inline_outputs(const char *root, cJSON *outputs,
    const struct prov_output *out, int nout);

/* Make rec the succeeded record of cache entry c (outputs, usage, attempt,
 * cached:true, cost 0) if c succeeded and its objects are still in the
 * store: 1, else 0 and rec untouched.  def_attempt: when c has none. */
int result_from_cache(const char *root, const cJSON *c, cJSON *rec,
    int inline_out, int def_attempt);

/* usage{} as JSON text appended to b: provider_request_id (or null),
 * elapsed_ms, then mode and provider_batch when not NULL, then the
 * provider's own fields (pu, may be NULL) under names not taken yet. */
void result_usage_text(struct sbuf *b, const char *request_id,
    double elapsed_ms, const char *mode, const char *provider_batch,
    const cJSON *pu);

#endif
