/* Fuzz bg-plan's settings file and prompt template (lib/settings.c):
 * load the input as a settings file and render its template for a
 * record; parse it as a template on its own too. */
#include <string.h>
#include <unistd.h>

#include "settings.h"
#include "err.h"
#include "util.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char rec_json[] = "{\"variant_id\":\"v1\","
	    "\"product_id\":7,\"title\":\"Linen {shirt}\",\"variant_title\":"
	    "\"Blue\",\"sku\":\"S-1\",\"attrs\":{\"color\":\"blue\",\"n\":3}}";
	struct tmpl_part *parts = NULL;
	struct settings s;
	char path[64], *err = NULL, *t, *prompt;
	cJSON *rec;
	int fd, n = 0, i;

	fd = fz_file(data, size, path);
	if (settings_load(&s, path, &err) == 0) {
		fz_assert(s.name && s.provider && s.aspect && s.input);
		fz_assert(s.variations >= 1 && s.variations <= 10);
		rec = cJSON_Parse(rec_json);
		if ((prompt = tmpl_render(&s, rec, &err)))
			fz_assert(strlen(prompt) <= TMPL_PROMPT_MAX);
		free(prompt);
		cJSON_Delete(rec);
		settings_free(&s);
	} else {
		fz_assert(err != NULL);
	}
	free(err);
	err = NULL;
	close(fd);
	t = estrndup((const char *)data, size);
	if (tmpl_parse(t, &parts, &n, &err) == 0)
		for (i = 0; i < n; i++)
			free(parts[i].text);
	free(parts);
	free(err);
	free(t);
	return 0;
}
