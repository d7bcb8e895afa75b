/* record: small helpers over cJSON objects used as batch records. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ndjson.h"
#include "record.h"
#include "util.h"

const char *
rec_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *
rec_id(const cJSON *o, const char *key, char *buf)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (cJSON_IsString(v))
		return v->valuestring;
	if (!cJSON_IsNumber(v))
		return NULL;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
		snprintf(buf, 32, "%.17g", d);
	else
		snprintf(buf, 32, "%.0f", d);
	return buf;
}

double
rec_num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int
rec_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

void
rec_set(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		die(EXIT_FATAL, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
	else
		cJSON_AddItemToObject(o, key, item);
}

void
rec_set_str(cJSON *o, const char *key, const char *val)
{
	rec_set(o, key, cJSON_CreateString(val));
}

void
rec_set_num(cJSON *o, const char *key, double val)
{
	rec_set(o, key, cJSON_CreateNumber(isfinite(val) ? val : 0));
}

void
rec_set_bool(cJSON *o, const char *key, int val)
{
	rec_set(o, key, cJSON_CreateBool(val));
}

static cJSON * __attribute__((format(printf, 6, 0)))
vfail(cJSON *o, const char *status, const char *stage, enum ec code,
    int retryable, const char *fmt, va_list ap)
{
	cJSON *e = cJSON_CreateObject();
	char *msg;

	msg = evasprintf(fmt, ap);
	cJSON_AddStringToObject(e, "stage", stage);
	cJSON_AddStringToObject(e, "code", ec_name(code));
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddBoolToObject(e, "retryable", retryable);
	free(msg);
	rec_set_str(o, "status", status);
	rec_set(o, "error", e);
	return e;
}

cJSON *
rec_fail(cJSON *o, const char *stage, enum ec code, const char *fmt, ...)
{
	va_list ap;
	cJSON *e;

	va_start(ap, fmt);
	e = vfail(o, ec_tab[code].status, stage, code, ec_retryable(code), fmt,
	    ap);
	va_end(ap);
	return e;
}

cJSON *
rec_fail_status(cJSON *o, const char *status, const char *stage,
    enum ec code, int retryable, const char *fmt, ...)
{
	va_list ap;
	cJSON *e;

	va_start(ap, fmt);
	e = vfail(o, status, stage, code, retryable, fmt, ap);
	va_end(ap);
	return e;
}

cJSON *
rec_bad_line(const char *stage, const char *file, long line, const char *raw,
    size_t rawlen, const char *why)
{
	cJSON *o = cJSON_CreateObject(), *e;
	char *r;

	if (rawlen > ND_RAWMAX)
		rawlen = ND_RAWMAX;
	e = rec_fail(o, stage, EC_BAD_JSON, "%s:%ld: %s", file, line, why);
	cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "file", file);
	/* cJSON copies bytes as they are: keep the output valid UTF-8 */
	r = util_utf8_fix(estrndup(raw, rawlen), rawlen);
	cJSON_AddStringToObject(e, "raw", r);
	free(r);
	return o;
}

const char *
rec_status(const cJSON *o)
{
	const char *s = rec_str(o, "status");

	return s ? s : "";
}

int
rec_is_final_failure(const cJSON *o)
{
	const char *s = rec_status(o);

	return !strcmp(s, "failed") || !strcmp(s, "skipped") ||
	    !strcmp(s, "canceled");
}

int
rec_passes(const cJSON *o, const char *stage)
{
	const char *s, *code;

	if (!rec_is_final_failure(o))
		return 0;
	if (!stage)
		return 1;
	s = rec_str(cJSON_GetObjectItemCaseSensitive(o, "error"), "stage");
	code = rec_error_code(o);
	return (s && strcmp(s, stage)) || ec_is(code, EC_BAD_JSON);
}

const char *
rec_error_code(const cJSON *o)
{
	return rec_str(cJSON_GetObjectItemCaseSensitive(o, "error"), "code");
}
