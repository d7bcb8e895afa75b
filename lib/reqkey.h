/* reqkey: what a request is known by (doc/contract.md "Request identity").
 *
 * A request is identified by what is sent, never by where it came from:
 * provider, model, the rendered prompt, the job's input without the fields
 * that name reference images, the SHA-256 of each reference image's bytes
 * (in order), the variation and the reroll.  Not the batch id, the job id,
 * a path or a URL: the same selection planned twice is the same request,
 * the same bytes under another name are the same request, and a file
 * replaced under its old name is a new one.  bg-generate (sync and provider
 * batch mode) and bg-plan's cache note all compute it here. */
#ifndef BG_REQKEY_H
#define BG_REQKEY_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* input fields that name one reference image each, besides
 * product_images, in the order the engine loads them; NULL-terminated */
extern const char *const reqkey_extra_refs[];

struct reqkey_in {
	const char *provider, *model;
	const char *prompt;		/* NULL: none */
	const cJSON *input;		/* the job's input object (or NULL) */
	/* sha256 hex of each reference image's bytes, in the engine's order:
	 * every input.product_images entry, then each reqkey_extra_refs
	 * field that is a non-empty string */
	const char *const *ref_sha;
	int nref;
	const cJSON *variation;		/* the job's fields; NULL: absent */
	const cJSON *reroll;
};

/* The request key: 64 hex digits (SHA-256 of a canonical JSON text) and
 * a NUL into key. */
void reqkey_compute(const struct reqkey_in *in, char key[65]);

/* The key stores made before this rule used (batch id and paths
 * included): only to find what they already paid for. */
void reqkey_legacy(const char *provider, const char *model,
    const char *prompt, const cJSON *input, const cJSON *batch_id,
    const cJSON *variation, char key[65]);

/* The references a job names, in the order of reqkey_in.ref_sha: fills
 * urls[] (pointers into input, at most max) and returns how many, or -1
 * when input.product_images is not a list of non-empty strings or there
 * are more than max. */
int reqkey_ref_urls(const cJSON *input, const char **urls, int max);

/* A file:// URL or a plain path as a local path (g_free), or NULL for
 * any other URL scheme. */
char *reqkey_local_path(const char *url);

/* Where the store remembers which object an http(s) reference was fetched
 * into: <root>/cache/refs/<aa>/<sha256 of the URL> (free). */
char *reqkey_refmap_path(const char *root, const char *url);

/* The object path (relative to root; free) an earlier run fetched url
 * into, or NULL. */
char *reqkey_refmap_get(const char *root, const char *url);

/* The sha256 of a reference's bytes without the network: a local file
 * read (at most max bytes), or an http(s) URL an earlier run fetched into
 * the store.  0, or -1 when the bytes are not at hand. */
int reqkey_ref_sha_offline(const char *root, const char *url, size_t max,
    char sha[65]);

#endif
