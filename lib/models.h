/* models: the model table, share/batchgen/models.json (data, not code):
 * each provider's image models, its default, what a model takes, its
 * price and its announced shutdown date.  Found at run time: $BG_MODELS,
 * else ../share/batchgen/models.json next to the program's folder (an
 * install, or the source tree when run from build/bin, build/tests or
 * build/asan/bin), else the compiled-in BG_DATADIR.  Read once; the
 * pointers returned live until exit. */
#ifndef BG_MODELS_H
#define BG_MODELS_H

#include <cjson/cJSON.h>

/* The whole table, or NULL (a warning once) when it is missing or bad. */
const cJSON *models_table(void);
/* The path the table was read from (or looked for last), for messages. */
const char *models_path(void);
/* The provider's default model, or NULL. */
const char *models_default(const char *provider);
/* The table's entry for provider's model, or NULL. */
const cJSON *models_get(const char *provider, const char *model);
/* The provider's entries (an array), or NULL. */
const cJSON *models_list(const char *provider);
/* Days from today (UTC; $BG_TODAY=YYYY-MM-DD overrides, for tests) to
 * the entry's shutdown date: negative once past, 0 on the day.  Returns
 * 1 and sets *days when the entry has a date, else 0. */
int models_days_left(const cJSON *m, long *days);
/* 1 when the entry is retired: status "retired" or past its date. */
int models_retired(const cJSON *m);
/* A string field of an entry, or NULL. */
const char *models_str(const cJSON *m, const char *field);

#endif
