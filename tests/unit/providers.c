/* Unit tests for lib/provider/openai.c and replicate.c: the requests they
 * build and what they make of canned answers, without the network. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "provider.h"
#include "record.h"
#include "util.h"
#include "test.h"

/* A 1x1 PNG. */
static const char png_b64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAA"
    "DElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

static struct prov_conf conf;
static struct pjob job;
static struct ref ref1;
static struct ref *refs[1] = { &ref1 };
static cJSON *rec;

static void
conf_start(const struct provider *p, const char *keyvar)
{
	char *err = NULL;

	setenv(keyvar, "unit-key", 1);
	memset(&conf, 0, sizeof conf);
	conf.p = p;
	CHECK(p->init(&conf, "http://stub.test/", &err) == 0, "init");
	free(err);
}

static void
conf_end(void)
{
	conf.p->fini(&conf);
	free(conf.base_url);
}

/* A job from the JSON text of its record. */
static void
job_start(const char *json, int nrefs)
{
	size_t n;

	memset(&job, 0, sizeof job);
	rec = cJSON_Parse(json);
	job.rec = rec;
	job.model = rec_str(rec, "model");
	job.prompt = rec_str(rec, "prompt");
	job.input = cJSON_GetObjectItemCaseSensitive(rec, "input");
	job.conf = &conf;
	job.refs = refs;
	job.nrefs = job.nproduct = nrefs;
	job.attempt = 1;
	job.fail.retry_after_ms = -1;
	if (nrefs && !ref1.data) {
		ref1.data = util_b64_decode(png_b64, strlen(png_b64), &n);
		ref1.len = n;
		ref1.mime = "image/png";
	}
}

static void
job_end(void)
{
	int i;

	if (job.state && conf.p->release)
		conf.p->release(&job);
	for (i = 0; i < job.nout; i++) {
		free(job.out[i].data);
		free(job.out[i].mime);
	}
	free(job.out);
	free(job.request_id);
	cJSON_Delete(job.usage);
	free(job.fail.message);
	cJSON_Delete(rec);
}

/* The body of rq as one string (free(3)). */
static char *
body(const struct prov_req *rq)
{
	struct sbuf b = {0};
	int i;

	for (i = 0; i < rq->nseg; i++)
		sb_add(&b, rq->seg[i].p ? rq->seg[i].p :
		    rq->own.s + rq->seg[i].off, rq->seg[i].len);
	sb_addc(&b, '\0');
	return b.s;
}

static int
build(struct prov_req *rq, char **text)
{
	int rc;

	prov_req_init(rq, NULL);
	rc = conf.p->build(&job, rq);
	*text = body(rq);
	return rc;
}

static int
answer(long status, const char *text, double retry_after)
{
	struct prov_resp rs = {0};

	rs.status = status;
	rs.body = text;
	rs.len = strlen(text);
	rs.retry_after_ms = retry_after;
	if (status >= 200 && status <= 299)
		return conf.p->parse(&job, &rs);
	free(job.fail.message);
	memset(&job.fail, 0, sizeof job.fail);
	conf.p->classify(&job, &rs);
	return PROV_FAIL;
}

/* The size openai asks for: a generations request for model and aspect. */
static char *
size_for(const char *model, const char *aspect)
{
	struct prov_req rq;
	char *t, *json, *s;
	cJSON *o;

	json = easprintf("{\"model\":\"%s\",\"prompt\":\"p\",\"input\":"
	    "{\"product_images\":[],\"aspect_ratio\":\"%s\"}}", model, aspect);
	job_start(json, 0);
	build(&rq, &t);
	o = cJSON_Parse(t);
	s = rec_str(o, "size") ? estrdup(rec_str(o, "size")) : NULL;
	cJSON_Delete(o);
	free(t);
	free(json);
	prov_req_free(&rq);
	job_end();
	return s;
}

static void
test_openai_sizes(void)
{
	static const char *const gpt[][2] = {
		{"1:1", "1024x1024"}, {"2:3", "1024x1536"},
		{"3:2", "1536x1024"}, {"3:4", "1024x1536"},
		{"4:3", "1536x1024"}, {"4:5", "1024x1536"},
		{"5:4", "1536x1024"}, {"9:16", "1024x1536"},
		{"16:9", "1536x1024"}, {"21:9", "1536x1024"},
	};
	size_t i;
	char *s, d[64];

	conf_start(&prov_openai, "OPENAI_API_KEY");
	for (i = 0; i < sizeof gpt / sizeof *gpt; i++) {
		s = size_for("gpt-image-1", gpt[i][0]);
		snprintf(d, sizeof d, "gpt-image-1 %s -> %s", gpt[i][0],
		    gpt[i][1]);
		CHECK_STR(s, gpt[i][1], d);
		free(s);
	}
	s = size_for("dall-e-3", "16:9");
	CHECK_STR(s, "1792x1024", "dall-e-3 16:9 -> 1792x1024");
	free(s);
	s = size_for("dall-e-2", "16:9");
	CHECK_STR(s, "1024x1024", "dall-e-2: squares only");
	free(s);
	s = size_for("gpt-image-2", "4:5");
	CHECK_STR(s, "1024x1280", "gpt-image-2 4:5 exact");
	free(s);
	s = size_for("gpt-image-2", "21:9");
	CHECK_STR(s, "2384x1024", "gpt-image-2 21:9, multiples of 16");
	free(s);
	conf_end();
}

static void
test_openai(void)
{
	struct prov_req rq;
	char *t, *ans;
	int rc;

	conf_start(&prov_openai, "OPENAI_API_KEY");
	CHECK_STR(conf.base_url, "http://stub.test", "base URL without '/'");

	job_start("{\"model\":\"gpt-image-1\",\"prompt\":\"say \\\"hi\\\"\","
	    "\"input\":{\"product_images\":[],\"quality\":\"high\","
	    "\"moderation\":\"low\",\"background\":\"white\","
	    "\"output_format\":\"jpg\"}}", 0);
	rc = build(&rq, &t);
	CHECK(rc == PROV_SEND, "generations: send");
	CHECK_STR(rq.url, "http://stub.test/v1/images/generations",
	    "generations URL");
	CHECK_STR(t, "{\"model\":\"gpt-image-1\",\"prompt\":\"say \\\"hi\\\"\","
	    "\"n\":1,\"quality\":\"high\",\"output_format\":\"jpeg\","
	    "\"moderation\":\"low\"}", "generations body: escaped prompt, "
	    "no size, no colour background, jpg as jpeg");
	CHECK(rq.headers && strstr(rq.headers->data, "Bearer unit-key"),
	    "bearer header");
	free(t);
	prov_req_free(&rq);

	ans = easprintf("{\"created\":1,\"data\":[{\"b64_json\":\"%s\"}],"
	    "\"usage\":{\"total_tokens\":9}}", png_b64);
	rc = answer(200, ans, -1);
	free(ans);
	CHECK(rc == PROV_DONE && job.nout == 1 && job.out[0].len > 60,
	    "b64_json decoded");
	CHECK(job.usage && rec_num(job.usage, "total_tokens", 0) == 9,
	    "usage kept");
	rc = answer(200, "{\"data\":[{\"b64_json\":\"AAA", -1);
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BAD_RESPONSE &&
	    job.fail.retryable, "a cut body is bad_response, retryable");
	rc = answer(200, "{\"data\":[]}", -1);
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BAD_RESPONSE,
	    "no image is bad_response");

	answer(429, "{\"error\":{\"message\":\"You exceeded your current "
	    "quota\",\"type\":\"insufficient_quota\",\"param\":null,"
	    "\"code\":\"insufficient_quota\"}}", 2000);
	CHECK(job.fail.code == EC_QUOTA && !job.fail.retryable,
	    "insufficient_quota: quota, not retryable");
	answer(429, "{\"error\":{\"message\":\"Rate limit reached\","
	    "\"type\":\"requests\",\"param\":null,\"code\":"
	    "\"rate_limit_exceeded\"}}", 1500);
	CHECK(job.fail.code == EC_RATE_LIMITED && job.fail.retryable &&
	    job.fail.retry_after_ms == 1500,
	    "rate_limit_exceeded: retryable after Retry-After");
	CHECK_STR(job.fail.message, "HTTP 429: Rate limit reached",
	    "message from error.message");
	answer(400, "{\"error\":{\"message\":\"Your request was rejected by "
	    "the safety system.\",\"type\":\"image_generation_user_error\","
	    "\"param\":null,\"code\":\"moderation_blocked\"}}", -1);
	CHECK(job.fail.code == EC_BLOCKED && !job.fail.retryable,
	    "moderation_blocked: blocked");
	answer(400, "{\"error\":{\"message\":\"Invalid size\",\"type\":"
	    "\"invalid_request_error\",\"param\":\"size\",\"code\":null}}",
	    -1);
	CHECK(job.fail.code == EC_BAD_REQUEST && !job.fail.retryable,
	    "400: bad_request");
	answer(503, "<html>busy</html>", -1);
	CHECK(job.fail.code == EC_SERVER_ERROR && job.fail.retryable,
	    "503 with an HTML body: server_error, retryable");
	job_end();

	/* a base URL in the SDKs' style, ending in /v1 */
	free(conf.base_url);
	conf.base_url = estrdup("http://gw.test/openai/v1");
	job_start("{\"model\":\"gpt-image-1\",\"prompt\":\"p\"}", 0);
	build(&rq, &t);
	CHECK_STR(rq.url, "http://gw.test/openai/v1/images/generations",
	    "a base ending in /v1 gets no second /v1");
	free(t);
	prov_req_free(&rq);
	job_end();
	conf_end();
}

static void
test_replicate_build(void)
{
	struct prov_req rq;
	const char *pre;
	char *t, *want;
	cJSON *o;

	setenv("BG_REPLICATE_WAIT", "7", 1);
	conf_start(&prov_replicate, "REPLICATE_API_TOKEN");
	job_start("{\"model\":\"google/nano-banana\",\"prompt\":\"p\","
	    "\"input\":{\"product_images\":[\"a.png\"],\"aspect_ratio\":"
	    "\"4:5\",\"purpose\":\"listing\",\"custom_instructions\":[\"x\"],"
	    "\"model_image_url\":null,\"seed\":3,\"prompt\":\"old\"}}", 1);
	CHECK(build(&rq, &t) == PROV_SEND, "create: send");
	CHECK_STR(rq.url, "http://stub.test/v1/models/google/nano-banana/"
	    "predictions", "create URL");
	want = easprintf("{\"input\":{\"prompt\":\"p\",\"aspect_ratio\":"
	    "\"4:5\",\"seed\":3,\"image_input\":[\"data:image/png;base64,%s\""
	    "]}}", png_b64);
	CHECK_STR(t, want, "create body: input minus own keys, data URL");
	free(want);
	o = cJSON_Parse(t);
	CHECK(o != NULL, "create body is JSON");
	cJSON_Delete(o);
	CHECK(rq.headers && rq.headers->next && rq.headers->next->next &&
	    !strcmp(rq.headers->next->data, "Prefer: wait=7"),
	    "Prefer: wait from BG_REPLICATE_WAIT");
	free(t);
	prov_req_free(&rq);
	job_end();

	job_start("{\"model\":\"acme/x:abc123\",\"prompt\":\"p\",\"input\":"
	    "{\"input_images_key\":\"image\",\"input_images_list\":false}}",
	    1);
	build(&rq, &t);
	CHECK_STR(rq.url, "http://stub.test/v1/predictions",
	    "a version goes to /v1/predictions");
	pre = "{\"version\":\"acme/x:abc123\",\"input\":{\"prompt\":"
	    "\"p\",\"image\":\"data:image/png";
	CHECK(!strncmp(t, pre, strlen(pre)),
	    "version in the body, one image as a string under its key");
	free(t);
	prov_req_free(&rq);
	job_end();

	job_start("{\"model\":\"acme/x/../y\",\"prompt\":\"p\"}", 0);
	CHECK(build(&rq, &t) == PROV_FAIL && job.fail.code ==
	    EC_BAD_REQUEST, "a model unfit for a URL fails");
	free(t);
	prov_req_free(&rq);
	job_end();
	conf_end();
	unsetenv("BG_REPLICATE_WAIT");
}

/* One step: build, then answer with status/text; returns parse's code. */
static int
step(const char *url, long status, const char *text)
{
	struct prov_req rq;
	char *t, d[200];
	int rc;

	rc = build(&rq, &t);
	if (rc == PROV_SEND)
		job.step++;
	snprintf(d, sizeof d, "request to %s", url);
	CHECK(rc == PROV_SEND && rq.url && !strcmp(rq.url, url), d);
	if (rc == PROV_SEND && rq.url && strcmp(rq.url, url))
		printf("# got %s\n", rq.url);
	free(t);
	prov_req_free(&rq);
	return answer(status, text, -1);
}

static void
test_replicate_flow(void)
{
	char now[32], *list, *pred;
	int rc;

	conf_start(&prov_replicate, "REPLICATE_API_TOKEN");
	/* create -> processing -> poll -> succeeded -> fetch two outputs */
	job_start("{\"model\":\"a/b\",\"prompt\":\"p\"}", 0);
	rc = step("http://stub.test/v1/models/a/b/predictions", 201,
	    "{\"id\":\"x1\",\"status\":\"processing\",\"urls\":{\"get\":"
	    "\"http://stub.test/v1/predictions/x1\"}}");
	CHECK(rc == PROV_NEXT && job.delay_ms == 500, "processing: poll in "
	    "500 ms");
	CHECK_STR(job.request_id, "x1", "prediction id as request id");
	rc = step("http://stub.test/v1/predictions/x1", 200,
	    "{\"id\":\"x1\",\"status\":\"processing\"}");
	CHECK(rc == PROV_NEXT && job.delay_ms == 750, "polls back off");
	rc = step("http://stub.test/v1/predictions/x1", 200,
	    "{\"id\":\"x1\",\"status\":\"succeeded\",\"output\":["
	    "\"https://cdn.test/o1.png\",\"https://cdn.test/o2.png\"],"
	    "\"metrics\":{\"predict_time\":1.5}}");
	CHECK(rc == PROV_NEXT && job.delay_ms == 0, "succeeded: fetch now");
	CHECK(job.usage && rec_num(job.usage, "predict_time", 0) == 1.5,
	    "metrics kept as usage");
	rc = step("https://cdn.test/o1.png", 200, "PNG1");
	CHECK(rc == PROV_NEXT, "first output, then the next");
	rc = step("https://cdn.test/o2.png", 200, "PNG2");
	CHECK(rc == PROV_DONE && job.nout == 2, "both outputs");
	job_end();

	/* urls.get on another host is not trusted with the token */
	job_start("{\"model\":\"a/b\",\"prompt\":\"p\"}", 0);
	step("http://stub.test/v1/models/a/b/predictions", 201,
	    "{\"id\":\"x2\",\"status\":\"starting\",\"urls\":{\"get\":"
	    "\"https://evil.test/v1/predictions/x2\"}}");
	rc = step("http://stub.test/v1/predictions/x2", 200,
	    "{\"id\":\"x2\",\"status\":\"failed\",\"error\":\"NSFW content "
	    "detected\"}");
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BLOCKED &&
	    !job.fail.retryable && job.fail.http_status == 0,
	    "an NSFW failure is blocked, no http_status");
	job_end();

	/* a create with no answer: the next attempt looks it up */
	util_now_iso(now);
	job_start("{\"model\":\"a/b\",\"prompt\":\"the p\"}", 0);
	rc = step("http://stub.test/v1/models/a/b/predictions", 201,
	    "{\"id\":");
	CHECK(rc == PROV_FAIL && job.fail.retryable, "a cut create answer "
	    "is retryable");
	job.attempt = 2;
	job.step = 0;
	list = easprintf("{\"next\":null,\"results\":["
	    "{\"id\":\"other\",\"model\":\"a/b\",\"status\":\"succeeded\","
	    "\"created_at\":\"%s\",\"input\":{\"prompt\":\"another p\"}},"
	    "{\"id\":\"old\",\"model\":\"a/b\",\"status\":\"succeeded\","
	    "\"created_at\":\"2020-01-01T00:00:00.000Z\",\"input\":{\"prompt\":"
	    "\"the p\"}},"
	    "{\"id\":\"mine\",\"model\":\"a/b\",\"status\":\"processing\","
	    "\"created_at\":\"%s\",\"input\":{\"prompt\":\"the p\"},"
	    "\"urls\":{\"get\":\"http://stub.test/v1/predictions/mine\"}}]}",
	    now, now);
	rc = step("http://stub.test/v1/predictions", 200, list);
	CHECK(rc == PROV_NEXT && job.delay_ms == 0, "found in the list");
	pred = "{\"id\":\"mine\",\"status\":\"succeeded\",\"output\":"
	    "\"data:image/png;base64,iVBORw0KGgo=\"}";
	rc = step("http://stub.test/v1/predictions/mine", 200, pred);
	CHECK(rc == PROV_DONE && job.nout == 1, "polled the found one; an "
	    "inline data URL output needs no fetch");
	job_end();

	/* the same lookup from another job: "mine" is claimed now, so it
	 * creates its own */
	job_start("{\"model\":\"a/b\",\"prompt\":\"the p\"}", 0);
	step("http://stub.test/v1/models/a/b/predictions", 502, "bad gw");
	CHECK(job.fail.code == EC_SERVER_ERROR && job.fail.retryable,
	    "502 on create: retryable");
	job.attempt = 2;
	job.step = 0;
	rc = step("http://stub.test/v1/predictions", 200, list);
	CHECK(rc == PROV_NEXT, "not found: create");
	rc = step("http://stub.test/v1/models/a/b/predictions", 429,
	    "{\"title\":\"Request was throttled\",\"detail\":\"Request was "
	    "throttled. Your rate limit resets in ~12s.\",\"status\":429}");
	CHECK(job.fail.code == EC_RATE_LIMITED && job.fail.retryable &&
	    job.fail.retry_after_ms == 12000, "429: the detail's wait");
	job.attempt = 3;
	job.step = 0;
	rc = step("http://stub.test/v1/models/a/b/predictions", 402,
	    "{\"title\":\"Insufficient credit\",\"detail\":\"You have "
	    "insufficient credit\",\"status\":402}");
	CHECK(job.fail.code == EC_QUOTA && !job.fail.retryable,
	    "402 after a refused create (no lookup): quota");
	free(list);
	job_end();
	conf_end();
}

/* Answers found by fuzzing: each once crashed, misbehaved or ran away. */
static void
test_hostile(void)
{
	struct sbuf b = {0};
	int rc, i;

	conf_start(&prov_replicate, "REPLICATE_API_TOKEN");
	job_start("{\"model\":\"a/b\",\"prompt\":\"p\"}", 0);
	rc = step("http://stub.test/v1/models/a/b/predictions", 201,
	    "{\"id\":\"e1\",\"status\":\"succeeded\",\"output\":"
	    "\"data:;base64,\"}");
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BAD_RESPONSE &&
	    !job.fail.retryable && job.nout == 0,
	    "replicate: an empty data: URL is a bad_response, not retried");
	job_end();

	/* a lookup with a year that overflowed iso_ms (UBSan saw it) */
	job_start("{\"model\":\"a/b\",\"prompt\":\"p\"}", 0);
	step("http://stub.test/v1/models/a/b/predictions", 201, "{");
	job.attempt = 2;
	job.step = 0;
	rc = step("http://stub.test/v1/predictions", 200, "{\"results\":["
	    "{\"id\":\"y\",\"model\":\"a/b\",\"input\":{\"prompt\":"
	    "\"p\"},\"created_at\":\"-2147483648-1-1T0:0:0\"},"
	    "{\"id\":\"z\",\"model\":\"a/b\",\"input\":{\"prompt\":"
	    "\"p\"},\"created_at\":\"2030-13-99T99:0:0+99:99\"}]}");
	CHECK(rc == PROV_NEXT && !job.request_id,
	    "replicate: out-of-range created_at never matches");
	job_end();

	/* a thousand inline outputs: capped, bad_response */
	job_start("{\"model\":\"a/b\",\"prompt\":\"p\"}", 0);
	sb_adds(&b, "{\"id\":\"m\",\"status\":\"succeeded\",\"output\":[");
	for (i = 0; i < 1000; i++)
		sb_adds(&b, i ? ",\"data:image/png;base64,iVBORw0KGgo=\"" :
		    "\"data:image/png;base64,iVBORw0KGgo=\"");
	sb_adds(&b, "]}");
	rc = step("http://stub.test/v1/models/a/b/predictions", 201, b.s);
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BAD_RESPONSE &&
	    !job.fail.retryable && job.nout == PROV_MAX_OUTPUTS,
	    "replicate: outputs past the cap fail the job");
	job_end();
	conf_end();

	conf_start(&prov_openai, "OPENAI_API_KEY");
	job_start("{\"model\":\"gpt-image-1\",\"prompt\":\"p\"}", 0);
	sb_reset(&b);
	sb_adds(&b, "{\"data\":[");
	for (i = 0; i < 100; i++)
		sb_adds(&b, i ? ",{\"b64_json\":\"iVBORw0KGgo=\"}" :
		    "{\"b64_json\":\"iVBORw0KGgo=\"}");
	sb_adds(&b, "]}");
	rc = answer(200, b.s, -1);
	CHECK(rc == PROV_FAIL && job.fail.code == EC_BAD_RESPONSE &&
	    job.nout == PROV_MAX_OUTPUTS, "openai: data[] past the cap fails");
	job_end();
	conf_end();
	sb_free(&b);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	test_openai_sizes();
	test_openai();
	test_replicate_build();
	test_replicate_flow();
	test_hostile();
	free(ref1.data);
	free(ref1.b64);
	curl_global_cleanup();
	return t_failed;
}
