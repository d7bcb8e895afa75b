/* local: the offline provider.  It lays the job's reference images out on a
 * canvas of input.aspect_ratio (lib/layout.c): no key, no network, the same
 * inputs give the same bytes; each variation (and re-roll) its own layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "provider.h"
#include "record.h"

#define LOCAL_LONG_SIDE 1024

static int
local_init(struct prov_conf *c, const char *base_url, char **err)
{
	return 0;
}

/* Variation 1 is the plain layout; variation N and a re-roll get their
 * own (lib/layout.h): two variations are two pictures. */
static int
local_variant(const cJSON *rec)
{
	double v = rec_num(rec, "variation", 1), r = rec_num(rec, "reroll", 0);
	long k = 0;

	if (isfinite(v) && v >= 1 && v < 1e9)
		k = (long)v - 1;
	if (isfinite(r) && r > 0)
		k += 1 + (long)fmod(r, 11);
	return (int)(k % 12);
}

static int
local_build(struct pjob *j, struct prov_req *rq)
{
	struct layout_src src[LAYOUT_MAX_IMAGES];
	const char *aspect = NULL, *bg = NULL;
	unsigned char *png;
	char *err = NULL;
	size_t len;
	double side = LOCAL_LONG_SIDE;
	int i, n;

	if (j->input) {
		aspect = rec_str(j->input, "aspect_ratio");
		bg = rec_str(j->input, "background");
		side = rec_num(j->input, "long_side", LOCAL_LONG_SIDE);
	}
	if (!aspect)
		aspect = "1:1";
	if (side < LAYOUT_MIN_SIDE || side > LAYOUT_MAX_SIDE)
		return prov_fail(j, EC_BAD_REQUEST, 0,
		    "input.long_side must be %d..%d", LAYOUT_MIN_SIDE,
		    LAYOUT_MAX_SIDE);
	n = j->nproduct < LAYOUT_MAX_IMAGES ? j->nproduct : LAYOUT_MAX_IMAGES;
	if (n < 1)
		return prov_fail(j, EC_INVALID_IMAGES, 0,
		    "the local provider needs 1..%d product images",
		    LAYOUT_MAX_IMAGES);
	for (i = 0; i < n; i++) {
		src[i].data = j->refs[i]->data;
		src[i].len = j->refs[i]->len;
	}
	png = layout_render_var(src, n, aspect, bg, (int)side,
	    local_variant(j->rec), &len, &err);
	if (!png) {
		prov_fail(j, EC_BAD_REQUEST, 0, "layout: %s",
		    err ? err : "failed");
		free(err);
		return PROV_FAIL;
	}
	prov_output(j, png, len, "image/png");
	return PROV_DONE;
}

static int
local_parse(struct pjob *j, const struct prov_resp *rs)
{
	/* never called: nothing to try again */
	return prov_fail_retry(j, EC_BAD_RESPONSE, 0, rs->status,
	    "the local provider sends no requests");
}

const struct provider prov_local = {
	.name = "local",
	.offline = 1,
	.init = local_init,
	.build = local_build,
	.parse = local_parse,
};
