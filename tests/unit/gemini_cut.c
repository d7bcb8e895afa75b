/* Unit tests for gemini answers big enough that the image data is cut out
 * before cJSON reads them (lib/provider/gemini.c cut_data). */
#include <stdlib.h>

#include "err.h"
#include "provider.h"
#include "util.h"
#include "test.h"

static struct pjob job;
static unsigned char raw1[6000], raw2[3001];

static void
job_reset(void)
{
	int i;

	free(job.fail.message);
	free(job.request_id);
	for (i = 0; i < job.nout; i++) {
		free(job.out[i].data);
		free(job.out[i].mime);
	}
	free(job.out);
	memset(&job, 0, sizeof job);
	job.fail.retry_after_ms = -1;
}

static int
parse(const char *body)
{
	struct prov_resp rs = {0};

	job_reset();
	rs.status = 200;
	rs.body = body;
	rs.len = strlen(body);
	return prov_gemini.parse(&job, &rs);
}

static int
got(int i, const unsigned char *want, size_t n)
{
	return i < job.nout && job.out[i].len == n &&
	    !memcmp(job.out[i].data, want, n);
}

int
main(void)
{
	char *a, *b, *body, *esc;
	size_t i, la, lb;

	for (i = 0; i < sizeof raw1; i++)
		raw1[i] = rand();
	for (i = 0; i < sizeof raw2; i++)
		raw2[i] = rand();
	a = util_b64_encode(raw1, sizeof raw1, &la);
	b = util_b64_encode(raw2, sizeof raw2, &lb);

	body = easprintf("{\n  \"candidates\": [{\"content\": {\"parts\": [\n"
	    "    {\"text\": \"a \\\"data\\\": \\\"x\\\" \\\\\\n\"},\n"
	    "    {\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"AAAA\"}, \"thought\": true},\n"
	    "    {\"inlineData\": {\"mimeType\": \"image/png\", \"data\" :\n \"%s\"}},\n"
	    "    {\"inline_data\": {\"mime_type\": \"image/png\", \"data\": \"%s\"}}\n"
	    "  ]}, \"finishReason\": \"STOP\"}],\n  \"data\": 7,\n  \"responseId\": \"r9\"\n}", a, b);
	CHECK(parse(body) == PROV_DONE && job.nout == 2 && got(0, raw1,
	    sizeof raw1) && got(1, raw2, sizeof raw2),
	    "big answer: both images, thought part skipped, text with quotes");
	CHECK_STR(job.request_id, "r9", "big answer: responseId");
	free(body);

	/* a key with an escape: read as it is, same result */
	body = easprintf("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
	    "{\"mimeType\":\"image/png\",\"data\":\"%s\"}}]},\"d\\u0061ta\":\"#0\"}]}", a);
	CHECK(parse(body) == PROV_DONE && job.nout == 1 && got(0, raw1,
	    sizeof raw1), "big answer with an escaped key: read whole");
	free(body);

	/* "\/" in the data (allowed in JSON): read as it is */
	esc = easprintf("%.*s\\/%s", (int)(strchr(a, '/') - a), a,
	    strchr(a, '/') + 1);
	body = easprintf("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
	    "{\"mimeType\":\"image/png\",\"data\":\"%s\"}}]}}]}", esc);
	CHECK(parse(body) == PROV_DONE && got(0, raw1, sizeof raw1),
	    "big answer with an escaped slash in the data");
	free(body);
	free(esc);

	/* a data string that looks like our marker is data like any other */
	body = easprintf("{\"candidates\":[{\"content\":{\"parts\":["
	    "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"#1\"}},"
	    "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"%s\"}}]}}]}", a);
	CHECK(parse(body) == PROV_FAIL && job.fail.code ==
	    EC_BAD_RESPONSE, "a data string \"#1\" is not base64");
	free(body);

	/* cut short inside the data */
	body = easprintf("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
	    "{\"mimeType\":\"image/png\",\"data\":\"%s", a);
	CHECK(parse(body) == PROV_FAIL && job.fail.code ==
	    EC_BAD_RESPONSE && job.fail.retryable, "big answer cut short");
	free(body);

	/* a character outside base64 */
	a[100] = '.';
	body = easprintf("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
	    "{\"mimeType\":\"image/png\",\"data\":\"%s\"}}]}}]}", a);
	CHECK(parse(body) == PROV_FAIL && job.fail.code ==
	    EC_BAD_RESPONSE, "big answer with bad base64");
	free(body);
	job_reset();
	free(a);
	free(b);
	return t_failed;
}
