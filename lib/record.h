/* record: field access and error records (doc/contract.md "Records"). */
#ifndef BG_RECORD_H
#define BG_RECORD_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "errcode.h"

/* The string value of o[key], or NULL when absent or not a string. */
const char *rec_str(const cJSON *o, const char *key);
/* o[key] as an id: a string, or a whole number printed into buf (size 32);
 * NULL when absent or of another type.  Returns buf or the string. */
const char *rec_id(const cJSON *o, const char *key, char *buf);
/* o[key] as a number, or def. */
double rec_num(const cJSON *o, const char *key, double def);
/* o[key] as a boolean (true only for JSON true). */
int rec_bool(const cJSON *o, const char *key);

/* Set o[key], replacing any old value; o takes ownership of item. */
void rec_set(cJSON *o, const char *key, cJSON *item);
void rec_set_str(cJSON *o, const char *key, const char *val);
void rec_set_num(cJSON *o, const char *key, double val);
void rec_set_bool(cJSON *o, const char *key, int val);

/* Mark o failed: error {stage, code, message, retryable} with the code's
 * status and retryable flag from the table (lib/errcode.c).  Returns the
 * error object (owned by o) so callers may add http_status... */
cJSON *rec_fail(cJSON *o, const char *stage, enum ec code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* As rec_fail, with the status and retryable flag given. */
cJSON *rec_fail_status(cJSON *o, const char *status, const char *stage,
    enum ec code, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A new failed record for an input line that is not a record: code
 * "bad_json", message "file:line: why", the line number and up to
 * ND_RAWMAX bytes of the raw text. */
cJSON *rec_bad_line(const char *stage, const char *file, long line,
    const char *raw, size_t rawlen, const char *why);

/* The record's status, or "" */
const char *rec_status(const cJSON *o);
/* True when o failed, was skipped or canceled at an earlier stage. */
int rec_is_final_failure(const cJSON *o);
/* The one pass-through rule: true when a program at stage leaves o alone
 * (writes it on unchanged): it failed, was skipped or canceled at another
 * stage, or was never a record (bad_json); with stage NULL, at any
 * stage. */
int rec_passes(const cJSON *o, const char *stage);
/* The error code of a failed record, or NULL. */
const char *rec_error_code(const cJSON *o);

#endif
