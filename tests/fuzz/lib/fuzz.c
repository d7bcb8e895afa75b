/* fuzz.c: helpers shared by the harnesses in tests/fuzz/ (fuzz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "models.h"
#include "provider.h"
#include "record.h"
#include "util.h"
#include "../fuzz.h"

int
fz_file(const uint8_t *data, size_t size, char *path)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		fz_fail("memfd_create");
	while (off < size) {
		if ((n = write(fd, data + off, size - off)) <= 0)
			fz_fail("write to the memfd");
		off += n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* ---- providers ------------------------------------------------------
 * The input is a conversation: answers separated by "\n--\n", each a
 * status byte (below 0x80: 200, else one of the statuses providers
 * treat specially) and a body.  The job's requests are answered in
 * turn, through retries, as the engine would. */

static struct prov_conf conf;
static const long statuses[] = {
	400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504,
	201, 418,
};

void
fz_prov_init(const struct provider *p, const char *keyvar)
{
	char *err = NULL;

	setenv(keyvar, "fuzz-key", 1);
	conf.p = p;
	if (p->init(&conf, "http://stub.test", &err) < 0)
		fz_fail(err);
}

static void
job_free(struct pjob *j)
{
	int i;

	if (j->state && conf.p->release)
		conf.p->release(j);
	for (i = 0; i < j->nout; i++) {
		free(j->out[i].data);
		free(j->out[i].mime);
	}
	free(j->out);
	free(j->request_id);
	cJSON_Delete(j->usage);
	free(j->fail.message);
}

/* One answer to the job's pending request; returns the outcome. */
static int
answer(struct pjob *j, const uint8_t *a, size_t n)
{
	struct prov_resp rs = {0};
	char *body = emalloc(n + 1);
	int rc, i;

	rs.status = n && a[0] >= 0x80 ?
	    statuses[a[0] % (sizeof statuses / sizeof *statuses)] : 200;
	memcpy(body, a + !!n, n - !!n);
	body[n - !!n] = '\0';
	rs.body = body;
	rs.len = n - !!n;
	rs.content_type = n > 1 && a[1] & 1 ? "image/png" : "application/json";
	rs.request_id = "req-fuzz";
	rs.retry_after_ms = -1;
	if (rs.status >= 200 && rs.status <= 299) {
		rc = conf.p->parse(j, &rs);
	} else {
		free(j->fail.message);
		memset(&j->fail, 0, sizeof j->fail);
		j->fail.retry_after_ms = -1;
		conf.p->classify(j, &rs);
		rc = PROV_FAIL;
	}
	free(body);
	if (rc == PROV_FAIL)
		fz_assert(ec_name(j->fail.code) && j->fail.message);
	if (rc == PROV_DONE) {
		fz_assert(j->nout >= 1 && j->nout <= PROV_MAX_OUTPUTS);
		for (i = 0; i < j->nout; i++)
			fz_assert(j->out[i].data && j->out[i].len > 0);
	}
	fz_assert(j->nout <= PROV_MAX_OUTPUTS);
	return rc;
}

int
fz_prov_run(const uint8_t *data, size_t size)
{
	static const char rec_json[] = "{\"model\":\"\",\"prompt\":\"p\","
	    "\"input\":{\"product_images\":[],\"aspect_ratio\":\"1:1\"}}";
	const uint8_t *p = data, *end = data + size, *sep;
	struct prov_req rq;
	struct pjob j;
	const char *m;
	cJSON *rec;
	int rc, turns;

	memset(&j, 0, sizeof j);
	rec = cJSON_Parse(rec_json);
	m = models_default(conf.p->name);
	rec_set_str(rec, "model", m ? m : "");
	j.rec = rec;
	j.model = rec_str(rec, "model");
	j.prompt = rec_str(rec, "prompt");
	j.input = cJSON_GetObjectItemCaseSensitive(rec, "input");
	j.conf = &conf;
	j.attempt = 1;
	j.fail.retry_after_ms = -1;
	for (turns = 0; turns < 32; turns++) {
		prov_req_init(&rq, NULL);
		rc = conf.p->build(&j, &rq);
		if (rc == PROV_SEND && !p) {
			prov_req_free(&rq);
			break;		/* no answers left */
		}
		if (rc == PROV_SEND) {
			fz_assert(rq.url != NULL);
			sep = memmem(p, end - p, "\n--\n", 4);
			rc = answer(&j, p, (sep ? sep : end) - p);
			p = sep ? sep + 4 : NULL;
		}
		prov_req_free(&rq);
		if (rc == PROV_NEXT) {
			j.step++;
		} else if (rc == PROV_FAIL && j.fail.retryable) {
			j.attempt++;
			j.step = 0;
		} else {
			break;
		}
	}
	job_free(&j);
	cJSON_Delete(rec);
	return 0;
}
