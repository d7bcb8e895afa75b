/* models: the model table (see models.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "models.h"

#ifndef BG_DATADIR
#define BG_DATADIR "/usr/local/share/batchgen"
#endif
#define REL "share/batchgen/models.json"

static cJSON *table;
static int tried;
static char path[PATH_MAX + 64];

static cJSON *
load(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf;
	long n;
	cJSON *o;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = emalloc(n + 1);
	n = (long)fread(buf, 1, n, f);
	fclose(f);
	buf[n] = '\0';
	o = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (!o || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o,
	    "providers"))) {
		warnx("%s: not a model table", p);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ../share, ../../share and ../../../share beside the program. */
static cJSON *
near_program(void)
{
	char exe[PATH_MAX], *s;
	const char *up[] = {"/../", "/../../", "/../../../"};
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t i;
	cJSON *o;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (!(s = strrchr(exe, '/')))
		return NULL;
	*s = '\0';
	for (i = 0; i < sizeof up / sizeof *up; i++) {
		snprintf(path, sizeof path, "%s%s%s", exe, up[i], REL);
		if (access(path, R_OK) == 0 && (o = load(path)))
			return o;
	}
	return NULL;
}

const cJSON *
models_table(void)
{
	const char *e;

	if (tried)
		return table;
	tried = 1;
	if ((e = getenv("BG_MODELS")) && *e) {
		snprintf(path, sizeof path, "%s", e);
		if (!(table = load(path)))
			warnx("%s: cannot read the model table (BG_MODELS)",
			    path);
		return table;
	}
	if ((table = near_program()))
		return table;
	snprintf(path, sizeof path, "%s/models.json", BG_DATADIR);
	if (!(table = load(path)))
		warnx("%s: cannot read the model table (set BG_MODELS)", path);
	return table;
}

const char *
models_path(void)
{
	models_table();
	return path;
}

static const cJSON *
provider(const char *name)
{
	const cJSON *t = models_table();

	if (!t || !name)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "providers"), name);
}

const char *
models_default(const char *prov)
{
	return models_str(provider(prov), "default");
}

const cJSON *
models_list(const char *prov)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(provider(prov),
	    "models");

	return cJSON_IsArray(l) ? l : NULL;
}

const cJSON *
models_get(const char *prov, const char *model)
{
	const cJSON *m;
	const char *n;

	if (!model)
		return NULL;
	cJSON_ArrayForEach(m, models_list(prov))
		if ((n = models_str(m, "name")) && !strcmp(n, model))
			return m;
	return NULL;
}

const char *
models_str(const cJSON *m, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, field);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Days since 1970-01-01 of "YYYY-MM-DD", or LONG_MIN. */
static long
epoch_day(const char *s)
{
	struct tm tm = {0};
	int n = 0;

	if (!s || sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &n) != 3 || s[n] || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return LONG_MIN;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	return (long)(timegm(&tm) / 86400);
}

int
models_days_left(const cJSON *m, long *days)
{
	long d = epoch_day(models_str(m, "shutdown")), today;
	const char *e = getenv("BG_TODAY");

	if (d == LONG_MIN)
		return 0;
	today = e && *e ? epoch_day(e) : LONG_MIN;
	if (today == LONG_MIN)
		today = (long)(time(NULL) / 86400);
	*days = d - today;
	return 1;
}

int
models_retired(const cJSON *m)
{
	const char *st = models_str(m, "status");
	long d;

	/* the date, where there is one, wins over the status as read */
	if (models_days_left(m, &d))
		return d <= 0;
	return st && !strcmp(st, "retired");
}
