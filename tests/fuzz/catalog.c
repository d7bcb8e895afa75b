/* Fuzz the catalog reader (lib/catalog.c): load and index the input as
 * a catalog, then look every variant up again and re-read its line. */
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog c;
	char path[64];
	const struct cat_variant *v;
	cJSON *o;
	size_t i;
	long k;
	int fd;

	fd = fz_file(data, size, path);
	cat_load(&c, path);
	for (i = 0; i < c.n; i++) {
		v = cat_find(&c, c.v[i].id);
		fz_assert(v == &c.v[i]);
		fz_assert((o = cat_record(v)) != NULL);
		cJSON_Delete(o);
		for (k = cat_product_first(&c, v->pid); k >= 0; k = c.v[k].next)
			fz_assert(!strcmp(c.v[k].pid, v->pid));
		(void)cat_shown(v->line);
	}
	cat_free(&c);
	close(fd);
	return 0;
}
