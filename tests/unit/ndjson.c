/* Unit tests for the ndjson printer: the same bytes as cJSON. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

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

/* An overlong line on a non-blocking input that pauses: the reader
 * reports it, then says "would block" (3) until the rest comes, instead
 * of spinning (which hung here: nobody writes while nd_line loops). */
static void
test_discard_nonblocking(void)
{
	struct nd_reader r;
	char big[300], *line;
	size_t len;
	int p[2], rc, saved = dup(0);

	if (pipe(p) < 0)
		return;
	dup2(p[0], 0);
	close(p[0]);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	memset(big, 'x', sizeof big);
	write(p[1], big, sizeof big);
	alarm(10);	/* a spin fails the test instead of hanging it */
	nd_open(&r, 0, NULL);
	r.maxlen = 100;
	rc = nd_line(&r, &line, &len);
	CHECK(rc == -1 && r.lineno == 1, "overlong line reported at once");
	rc = nd_line(&r, &line, &len);
	CHECK(rc == 3, "the rest of it not there yet: would block");
	write(p[1], "yyy\n{\"a\":1}\n", 12);
	rc = nd_line(&r, &line, &len);
	CHECK(rc == 1 && !strcmp(line, "{\"a\":1}") && r.lineno == 2,
	    "the next line after the rest of the long one");
	close(p[1]);
	rc = nd_line(&r, &line, &len);
	CHECK(rc == 0, "then the end");
	alarm(0);
	nd_close(&r);
	dup2(saved, 0);
	close(saved);
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
	test_discard_nonblocking();
	return t_failed;
}
