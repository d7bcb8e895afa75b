/* Unit tests for bg-generate's pieces without the network: Retry-After
 * and duration parsing, the generic HTTP mapping, and the gemini
 * provider's request and answers (the request key: tests/unit/reqkey.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "engine.h"
#include "err.h"
#include "provider.h"
#include "record.h"
#include "util.h"
#include "test.h"

static cJSON *
J(const char *s)
{
	return cJSON_Parse(s);
}

static void
test_retry_after(void)
{
	char date[64];
	time_t t = time(NULL) + 30;
	struct tm tm;
	double ms;

	CHECK(prov_retry_after("7") == 7000, "Retry-After: 7");
	CHECK(prov_retry_after(" 1.5 ") == 1500, "Retry-After: 1.5 with spaces");
	CHECK(prov_retry_after("soon") < 0, "Retry-After: garbage");
	CHECK(prov_retry_after("") < 0, "Retry-After: empty");
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	ms = prov_retry_after(date);
	CHECK(ms > 28000 && ms <= 30000, "Retry-After: an HTTP date 30 s ahead");
	CHECK(prov_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 0,
	    "Retry-After: a past date is 0");
	CHECK(prov_duration_ms("47s") == 47000, "duration 47s");
	CHECK(prov_duration_ms("1.25s") == 1250, "duration 1.25s");
	CHECK(prov_duration_ms("47") < 0, "duration without s");
	CHECK(prov_duration_ms("-1s") < 0, "negative duration");
}

static struct pjob job;
static struct prov_conf conf;

static void
job_reset(void)
{
	free(job.fail.message);
	free(job.request_id);
	for (int i = 0; i < job.nout; i++) {
		free(job.out[i].data);
		free(job.out[i].mime);
	}
	free(job.out);
	job.out = NULL;
	job.nout = 0;
	job.request_id = NULL;
	memset(&job.fail, 0, sizeof job.fail);
	job.fail.retry_after_ms = -1;
}

static void
classify(long st, const char *body, double ra)
{
	struct prov_resp rs = {0};

	job_reset();
	rs.status = st;
	rs.body = body;
	rs.len = strlen(body);
	rs.retry_after_ms = ra;
	prov_gemini.classify(&job, &rs);
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

static void
test_gemini(void)
{
	static struct ref r1 = {0};
	struct ref *refs[1] = { &r1 };
	struct prov_req rq;
	struct curl_slist *h;
	char *err = NULL, *body;
	size_t n = 0;
	cJSON *b, *rec;
	int i, sawkey = 0;

	setenv("GEMINI_API_KEY", "unit-key", 1);
	conf.p = &prov_gemini;
	CHECK(prov_gemini.init(&conf, "http://stub.test//", &err) == 0, "gemini init");
	CHECK_STR(conf.base_url, "http://stub.test", "base URL without trailing /");
	r1.data = (unsigned char *)"\x89PNG\r\n\x1a\nxx";
	r1.len = 10;
	r1.mime = "image/png";
	rec = J("{\"prompt\":\"say \\\"hi\\\"\\n\",\"input\":{\"aspect_ratio\":\"16:9\"}}");
	job.rec = rec;
	job.model = "gemini-2.5-flash-image";
	job.prompt = rec_str(rec, "prompt");
	job.input = cJSON_GetObjectItem(rec, "input");
	job.conf = &conf;
	job.refs = refs;
	job.nrefs = job.nproduct = 1;
	prov_req_init(&rq, NULL);
	CHECK(prov_gemini.build(&job, &rq) == PROV_SEND, "build sends");
	CHECK_STR(rq.url, "http://stub.test/v1beta/models/gemini-2.5-flash-image:generateContent", "URL");
	for (h = rq.headers; h; h = h->next)
		if (!strcmp(h->data, "x-goog-api-key: unit-key"))
			sawkey = 1;
	CHECK(sawkey, "key header");
	body = emalloc(prov_body_len(&rq) + 1);
	for (i = 0; i < rq.nseg; i++) {
		memcpy(body + n, rq.seg[i].p ? rq.seg[i].p : rq.own.s + rq.seg[i].off, rq.seg[i].len);
		n += rq.seg[i].len;
	}
	body[n] = '\0';
	CHECK(rq.nseg >= 3, "the image is a borrowed segment");
	b = cJSON_Parse(body);
	CHECK(b != NULL, "body is JSON");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(b, "contents"), 0), "parts"), 0), "text")->valuestring,
	    "say \"hi\"\n", "prompt escaped and intact");
	CHECK_STR(rec_str(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(b, "contents"), 0), "parts"), 1), "inline_data"), "data"),
	    "iVBORw0KGgp4eA==", "image as base64");
	CHECK_STR(rec_str(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "generationConfig"), "imageConfig"), "aspectRatio"),
	    "16:9", "aspect ratio");
	cJSON_Delete(b);
	free(body);
	prov_req_free(&rq);
	job.model = "../x";
	prov_req_init(&rq, NULL);
	job_reset();
	CHECK(prov_gemini.build(&job, &rq) == PROV_FAIL && job.fail.code == EC_BAD_REQUEST, "a model with / is refused");
	prov_req_free(&rq);

	CHECK(parse("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AAAA\"},\"thought\":true},"
	    "{\"inline_data\":{\"mime_type\":\"image/png\",\"data\":\"iVBORw==\"}}]},\"finishReason\":\"STOP\"}],\"responseId\":\"r1\"}") == PROV_DONE,
	    "parse: image");
	CHECK(job.nout == 1 && job.out[0].len == 4, "parse: thought part skipped");
	CHECK_STR(job.request_id, "r1", "parse: responseId");
	CHECK(parse("{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}") == PROV_FAIL &&
	    job.fail.code == EC_BLOCKED && !job.fail.retryable, "parse: blockReason");
	CHECK(parse("{\"candidates\":[{\"finishReason\":\"IMAGE_SAFETY\"}]}") == PROV_FAIL &&
	    job.fail.code == EC_BLOCKED, "parse: IMAGE_SAFETY");
	CHECK(parse("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"no\"}]},\"finishReason\":\"STOP\"}]}") == PROV_FAIL &&
	    job.fail.code == EC_BLOCKED, "parse: text only");
	CHECK(parse("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineDa") == PROV_FAIL &&
	    job.fail.code == EC_BAD_RESPONSE && job.fail.retryable, "parse: truncated");
	CHECK(parse("{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"data\":\"@@@\"}}]}}]}") == PROV_FAIL &&
	    job.fail.code == EC_BAD_RESPONSE, "parse: bad base64");

	classify(429, "{\"error\":{\"code\":429,\"message\":\"slow down\",\"details\":[{\"@type\":"
	    "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"2.5s\"}]}}", -1);
	CHECK(job.fail.code == EC_RATE_LIMITED && job.fail.retryable && job.fail.retry_after_ms == 2500,
	    "classify: RetryInfo");
	CHECK_STR(job.fail.message, "HTTP 429: slow down", "classify: message");
	classify(429, "{\"error\":{\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
	    "\"retryDelay\":\"9s\"}]}}", 1000);
	CHECK(job.fail.retry_after_ms == 1000, "classify: the Retry-After header wins");
	classify(429, "{\"error\":{\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
	    "\"violations\":[{\"quotaId\":\"GenerateRequestsPerDayPerProject\"}]}]}}", -1);
	CHECK(!job.fail.retryable, "classify: a daily quota is final");
	classify(400, "[{\"error\":{\"code\":400,\"message\":\"API key not valid\",\"details\":[{\"@type\":"
	    "\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"API_KEY_INVALID\"}]}}]", -1);
	CHECK(job.fail.code == EC_AUTH && !job.fail.retryable, "classify: API_KEY_INVALID (array form)");
	classify(502, "<html>bad gateway</html>", -1);
	CHECK(job.fail.code == EC_SERVER_ERROR && job.fail.retryable && job.fail.http_status == 502,
	    "classify: 502");
	classify(408, "", -1);
	CHECK(job.fail.code == EC_TIMEOUT && job.fail.retryable, "classify: 408");
	classify(404, "{}", -1);
	CHECK(job.fail.code == EC_MODEL_NOT_FOUND && !job.fail.retryable, "classify: 404 is model_not_found");
	classify(429, "{\"error\":{\"code\":429,\"message\":\"Your prepayment credits are depleted.\",\"status\":\"RESOURCE_EXHAUSTED\"}}", -1);
	CHECK(job.fail.code == EC_QUOTA && !job.fail.retryable, "classify: credits depleted is quota");
	job_reset();
	cJSON_Delete(rec);
	prov_gemini.fini(&conf);
	free(conf.base_url);
}

int
main(int argc, char *argv[])
{
	err_init(argv[0]);
	test_retry_after();
	test_gemini();
	return t_failed;
}
