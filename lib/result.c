/* result: shared pieces of result records (see result.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "commit.h"
#include "err.h"
#include "image.h"
#include "ndjson.h"
#include "record.h"
#include "result.h"
#include "store.h"

#define MAX_OBJECT ((size_t)512 << 20)

/* Width and height: a PNG's IHDR is read directly (the common case, and
 * libvips costs more than the rest of a request), others by libvips. */
static int
probe(const unsigned char *p, size_t len, int *w, int *h)
{
	unsigned long x, y;

	if (len >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8) &&
	    !memcmp(p + 12, "IHDR", 4)) {
		x = (unsigned long)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
		y = (unsigned long)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
		if (x > 0 && y > 0 && x < 1UL << 31 && y < 1UL << 31) {
			*w = (int)x;
			*h = (int)y;
			return 0;
		}
	}
	return image_probe(p, len, w, h);
}

/* outputs[] from the job's results, stored and described, as JSON text
 * appended to b (printed once: the record and the cache entry share it);
 * -1 and *why if an output is not an image. */
int
result_store_outputs(const char *root, const struct prov_output *out,
    int nout, struct commit *g, struct sbuf *b, char **why)
{
	const struct prov_output *po;
	const char *mime;
	char sha[65], *rel;
	int i, w, h;

	sb_addc(b, '[');
	for (i = 0; i < nout; i++) {
		po = &out[i];
		mime = image_sniff(po->data, po->len);
		if (!mime) {
			*why = easprintf("output %d is not a PNG, JPEG or WebP "
			    "image (%s, %zu bytes)", i + 1,
			    po->mime ? po->mime : "no type", po->len);
			return -1;
		}
		if (g)
			rel = commit_object(g, po->data, po->len,
			    image_ext(mime), sha);
		else if (store_put_object(root, po->data, po->len,
		    image_ext(mime), sha, &rel) < 0)
			die(EXIT_FATAL, "%s/objects:", root);
		sb_adds(b, i ? ",{\"path\":" : "{\"path\":");
		nd_print_str(b, rel);
		sb_adds(b, ",\"sha256\":");
		nd_print_str(b, sha);
		sb_adds(b, ",\"mime\":");
		nd_print_str(b, mime);
		sb_adds(b, ",\"bytes\":");
		nd_print_num(b, (double)po->len);
		if (probe(po->data, po->len, &w, &h) == 0) {
			sb_adds(b, ",\"width\":");
			nd_print_num(b, w);
			sb_adds(b, ",\"height\":");
			nd_print_num(b, h);
		}
		sb_addc(b, '}');
		free(rel);
	}
	sb_addc(b, ']');
	return 0;
}

/* outputs[].data for --inline, from the bytes at hand or the store. */
void
result_inline_outputs(const char *root, cJSON *outputs,
    const struct prov_output *out, int nout)
{
	cJSON *o;
	const char *rel;
	char *path, *data, *b64;
	size_t len;
	int i = 0;

	cJSON_ArrayForEach(o, outputs) {
		if (i < nout) {
			b64 = util_b64_encode(out[i].data, out[i].len, NULL);
		} else {
			if (!(rel = rec_str(o, "path")))
				continue;
			path = easprintf("%s/%s", root, rel);
			data = store_read_file(path, MAX_OBJECT, &len);
			free(path);
			if (!data)
				continue;
			b64 = util_b64_encode(data, len, NULL);
			free(data);
		}
		rec_set_str(o, "data", b64);
		free(b64);
		i++;
	}
}

int
result_from_cache(const char *root, const cJSON *c, cJSON *rec,
    int inline_out, int def_attempt)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(c, "outputs"), *o;
	const char *rel;
	char *path;
	struct stat st;
	cJSON *v;

	if (strcmp(rec_status(c), "succeeded") || !cJSON_IsArray(outs))
		return 0;
	cJSON_ArrayForEach(o, outs) {
		/* the objects must still be there */
		if (!(rel = rec_str(o, "path")))
			return 0;
		path = easprintf("%s/%s", root, rel);
		if (stat(path, &st) < 0) {
			free(path);
			return 0;
		}
		free(path);
	}
	rec_set_str(rec, "status", "succeeded");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "error");
	rec_set_num(rec, "attempt", rec_num(c, "attempt", def_attempt));
	if (!(v = cJSON_Duplicate(outs, 1)))
		die(EXIT_FATAL, "out of memory");
	if (inline_out)
		result_inline_outputs(root, v, NULL, 0);
	rec_set(rec, "outputs", v);
	v = cJSON_GetObjectItemCaseSensitive(c, "usage");
	v = v ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
	if (!v)
		die(EXIT_FATAL, "out of memory");
	rec_set(rec, "usage", v);
	rec_set_num(rec, "cost", 0);	/* paid once, by the run that made it */
	rec_set_bool(rec, "cached", 1);
	return 1;
}

void
result_usage_text(struct sbuf *b, const char *request_id, double elapsed_ms,
    const char *mode, const char *provider_batch, const cJSON *pu)
{
	const cJSON *c, *d;
	size_t mark;

	sb_adds(b, "{\"provider_request_id\":");
	if (request_id)
		nd_print_str(b, request_id);
	else
		sb_adds(b, "null");
	sb_adds(b, ",\"elapsed_ms\":");
	nd_print_num(b, round(elapsed_ms));
	if (mode) {
		sb_adds(b, ",\"mode\":");
		nd_print_str(b, mode);
	}
	if (provider_batch) {
		sb_adds(b, ",\"provider_batch\":");
		nd_print_str(b, provider_batch);
	}
	cJSON_ArrayForEach(c, pu) {
		if (!c->string || !strcasecmp(c->string, "provider_request_id")
		    || !strcasecmp(c->string, "elapsed_ms") ||
		    !strcasecmp(c->string, "mode") ||
		    !strcasecmp(c->string, "provider_batch"))
			continue;
		for (d = pu->child; d != c; d = d->next)
			if (d->string && !strcasecmp(d->string, c->string))
				break;
		if (d != c)
			continue;
		mark = b->len;
		sb_addc(b, ',');
		nd_print_str(b, c->string);
		sb_addc(b, ':');
		if (nd_print_append(b, c) < 0)
			b->len = mark;	/* nothing printable */
	}
	sb_addc(b, '}');
}
