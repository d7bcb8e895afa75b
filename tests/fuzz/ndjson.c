/* Fuzz the NDJSON reader (lib/ndjson.c: nd_line, nd_parse, nd_next) and
 * check the record printer against cJSON on every object it accepts.
 * The first byte picks the line length limit, so overlong lines,
 * truncation and discarding are reached with small inputs. */
#include <string.h>
#include <unistd.h>

#include "ndjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nd_reader r;
	char path[64], *files[1] = { path }, *want, *got;
	cJSON *o;
	int fd, bad;

	if (size < 1)
		return 0;
	fd = fz_file(data + 1, size - 1, path);
	nd_open(&r, 1, files);
	r.maxlen = data[0] < 0x80 ? 16 + data[0] * 8 : ND_MAXLINE_DEFAULT;
	while ((o = nd_next(&r, "fuzz", &bad))) {
		fz_assert(cJSON_IsObject(o));
		if (!bad) {
			want = cJSON_PrintUnformatted(o);
			got = nd_print(o);
			if (want && strcmp(want, got))
				fz_fail("nd_print differs from cJSON");
			cJSON_free(want);
			free(got);
		}
		cJSON_Delete(o);
	}
	nd_close(&r);
	close(fd);
	return 0;
}
