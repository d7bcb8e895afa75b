/* Unit tests for lib/profile and lib/provenance: built-ins, the JSON
 * round trip, field errors, and which DigitalSourceType a provider gets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "profile.h"
#include "provenance.h"
#include "test.h"

static int
parse(const char *json, struct profile *p, char *why, size_t n)
{
	cJSON *o = cJSON_Parse(json);
	int rc = profile_from_json(o, p, why, n);

	cJSON_Delete(o);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct profile *am = profile_builtin("amazon-main");
	const struct profile *gmc = profile_builtin("gmc");
	struct profile p;
	char why[200], *a, *b;
	cJSON *j;

	err_init(argv[0]);
	CHECK(am && am->white && am->fill_min == 0.85 && am->min_long == 1000,
	    "amazon-main: white, 85 %, 1000 px");
	CHECK(gmc && !gmc->white && gmc->max_mp == 64, "gmc: no white rule, 64 MP");
	CHECK(!profile_builtin("ebay"), "unknown profile: NULL");
	CHECK(profile_accepts(am, "image/png") && !profile_accepts(am,
	    "image/webp"), "amazon-main accepts PNG, not WebP");
	CHECK(profile_accepts(gmc, "image/webp"), "gmc accepts WebP");
	CHECK_STR(profile_mime("tiff"), "image/tiff", "tiff's MIME type");
	CHECK(!profile_mime("heic"), "heic is not a format");

	/* the JSON shape round-trips: same fingerprint */
	j = profile_to_json(am);
	CHECK(profile_from_json(j, &p, why, sizeof why) == 0, "to_json parses back");
	cJSON_Delete(j);
	a = profile_fingerprint(am);
	b = profile_fingerprint(&p);
	CHECK_STR(b, a, "round trip keeps every figure");
	free(a);
	free(b);

	CHECK(parse("{\"name\":\"x\"}", &p, why, sizeof why) == 0 &&
	    !strcmp(p.format, "jpeg") && p.naccept == 1 && p.provenance &&
	    p.target == 2000, "defaults: jpeg, accepts its format, provenance");
	CHECK(parse("{\"name\":\"x\",\"fill_min\":0.8}", &p, why, sizeof why)
	    == 0 && p.fill_target == 0.8, "fill_target defaults to fill_min");
	CHECK(parse("{\"name\":\"x\",\"fill_min\":0.9,\"fill_target\":0.8}",
	    &p, why, sizeof why) < 0, "fill_target below fill_min refused");
	CHECK_STR(why, "fill_target: below fill_min", "and named");
	CHECK(parse("{\"name\":\"x\",\"square\":1}", &p, why, sizeof why) < 0,
	    "square must be a boolean");
	CHECK_STR(why, "square: want true or false", "and named");
	CHECK(parse("{\"name\":\"x\",\"quality\":0}", &p, why, sizeof why) < 0,
	    "quality 0 refused");
	CHECK(parse("{\"format\":\"jpeg\"}", &p, why, sizeof why) < 0,
	    "a profile needs a name");
	CHECK(parse("[1]", &p, why, sizeof why) < 0, "not an object refused");

	CHECK(strstr(prov_source_type("gemini"), "/trainedAlgorithmicMedia") != NULL,
	    "gemini: trainedAlgorithmicMedia");
	CHECK(strstr(prov_source_type("local"), "/compositeSynthetic") != NULL,
	    "local: compositeSynthetic");
	CHECK(strstr(prov_source_type(NULL), "/compositeSynthetic") != NULL,
	    "no provider is local: compositeSynthetic");
	CHECK(!prov_read("not an image", 12), "no DigitalSourceType in junk");
	return t_failed;
}
