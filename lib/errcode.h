/* errcode: the one table of error codes (doc/contract.md "Error codes").
 * Records carry a code's name in error.code; the programs name codes by
 * these constants and take a code's defaults (retryable, what it stops)
 * from the table.  `bg-generate --list-errors` prints it, and
 * tests/t/errcodes.sh checks the documentation against that listing. */
#ifndef BG_ERRCODE_H
#define BG_ERRCODE_H

#include <stdio.h>

enum ec {
	EC_NONE = 0,		/* no failure (yet) */
	EC_BAD_JSON,
	EC_INVALID_RECORD,
	EC_NOT_FOUND,
	EC_INVALID_IMAGES,
	EC_IMAGE_FETCH_FAILED,
	EC_IMAGE_TOO_LARGE,
	EC_UNSUPPORTED_IMAGE,
	EC_AUTH,
	EC_QUOTA,
	EC_MODEL_NOT_FOUND,
	EC_BAD_REQUEST,
	EC_RATE_LIMITED,
	EC_SERVER_ERROR,
	EC_TIMEOUT,
	EC_NETWORK,
	EC_BLOCKED,
	EC_NO_IMAGE,
	EC_BAD_RESPONSE,
	EC_BUDGET,
	EC_CANCELED,
	EC_EXPIRED,
	EC_FILE_FAILED,
	EC_N
};

/* What a failure with the code stops bg-generate from sending
 * (lib/stopearly.c), unless --no-stop-early. */
enum ec_stop {
	EC_STOP_NONE = 0,
	EC_STOP_KEY,		/* every job of the provider and key */
	EC_STOP_MODEL,		/* every job of the provider, key and model */
	EC_STOP_HOST		/* every job of the provider, once its host
				 * was unreachable on consecutive attempts */
};

struct ec_info {
	const char *name;	/* error.code */
	int retryable;		/* the default error.retryable; a site that
				 * knows better says so (and why) */
	enum ec_stop stop;
	const char *status;	/* the record's status: "failed", or
				 * "skipped"/"canceled" for budget/canceled */
	const char *stages;	/* the error.stage values it comes with */
	const char *meaning;	/* one line, for people */
};

/* The table, indexed by enum ec (ec_tab[EC_NONE].name is NULL). */
extern const struct ec_info ec_tab[EC_N];

/* The code's name (a static string; NULL for EC_NONE or out of range). */
const char *ec_name(enum ec c);
/* The code's default retryable flag. */
int ec_retryable(enum ec c);
/* True when name (an error.code read from a record, or NULL) is c. */
int ec_is(const char *name, enum ec c);
/* The code called name, or EC_NONE when the table has none. */
enum ec ec_find(const char *name);
/* The word for a stop scope in listings: "key", "model", "host", "-". */
const char *ec_stop_word(enum ec_stop s);
/* Print the table to f, one code a line:
 * name TAB retryable(yes|no) TAB stops TAB status TAB stages TAB meaning. */
void ec_list(FILE *f);

#endif
