/* Unit tests for the ndjson printer: the same bytes as cJSON. */
#include <math.h>
#include <stdlib.h>

#include "ndjson.h"
#include "util.h"
#include "test.h"

static int nsame, ndiff;

/* one value printed both ways; the first difference is shown */
static void
same(cJSON *v)
{
	char *want = cJSON_PrintUnformatted(v), *got = nd_print(v);

	if (!strcmp(want, got)) {
		nsame++;
	} else if (!ndiff++) {
		CHECK_STR(got, want, "nd_print as cJSON_PrintUnformatted");
	}
	cJSON_free(want);
	free(got);
	cJSON_Delete(v);
}

static void
num(double d)
{
	same(cJSON_CreateNumber(d));
}

int
main(void)
{
	static const double nums[] = {0, 1, -1, 7, 42, 81, 1290, 1e14,
	    999999999999999.0, -999999999999999.0, 1e15, -1e15, 1e16, 1e300,
	    -1e-300, 0.5, 0.1, 1.0 / 3, 2.5e-7, 123456.789, 4294967296.0,
	    2147483647.0, 2147483648.0, -2147483649.0, 9007199254740993.0,
	    5e-324, 1.7976931348623157e308};
	const char *docs[] = {
		"{\"job_id\":\"a1\",\"variation\":1,\"input\":{\"product_images\":"
		"[\"x.png\"],\"aspect_ratio\":\"1:1\"},\"attempt\":2,\"ok\":true,"
		"\"no\":false,\"n\":null,\"e\":[],\"o\":{},\"u\":\"caf\\u00e9 \\u2603\"}",
		"[1,[2,[3,[]]],{\"a\":{\"b\":{\"c\":[{}]}}},-0.0,1e2,-3.25e-5]",
		"{\"\":\"\",\"k\\\"ey\\\\\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f/\"}",
	};
	struct sbuf b = {0};
	cJSON *o, r;
	char s[40];
	size_t i;
	int k;

	for (i = 0; i < sizeof nums / sizeof *nums; i++) {
		num(nums[i]);
		num(-nums[i]);
	}
	num(NAN);
	num(INFINITY);
	num(-INFINITY);
	srand(1);
	for (k = 0; k < 20000; k++) {
		double d = (double)rand() * rand() - (double)rand() * rand();

		num(k % 2 ? d : d / (rand() + 1));
		num(ldexp((double)rand(), rand() % 120 - 60));
		num((double)(rand() % 100000));
	}
	for (i = 0; i < sizeof docs / sizeof *docs; i++)
		same(cJSON_Parse(docs[i]));
	/* every byte as a string and as a key */
	for (k = 1; k < 256; k++) {
		snprintf(s, sizeof s, "a%cb%c", k, k);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, s, s);
		same(o);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("[1, 2]"));
	cJSON_AddNumberToObject(o, "n", 3);
	same(o);
	CHECK(ndiff == 0 && nsame > 60000, "nd_print: the same bytes as "
	    "cJSON_PrintUnformatted for numbers, strings, every byte, nesting, raw");

	memset(&r, 0, sizeof r);
	r.type = cJSON_Raw;
	CHECK(nd_print_append(&b, &r) < 0, "a raw item without text cannot "
	    "be printed");
	r.type = cJSON_Invalid;
	CHECK(nd_print_append(&b, &r) < 0, "nor an invalid item");
	sb_reset(&b);
	nd_print_str(&b, NULL);
	CHECK_STR(b.s, "\"\"", "a NULL string prints as \"\"");
	sb_free(&b);
	return t_failed;
}
