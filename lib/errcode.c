/* errcode: the error code table (see errcode.h).  doc/contract.md's table
 * of error codes is checked against this one by tests/t/errcodes.sh: edit
 * both together. */
#include <string.h>

#include "errcode.h"

#define F "failed"

const struct ec_info ec_tab[EC_N] = {
	[EC_BAD_JSON] = { "bad_json", 0, EC_STOP_NONE, F, "any",
	    "an input line is not a JSON object (invalid JSON, a NUL, too "
	    "long); the record keeps its file, line and raw text" },
	[EC_INVALID_RECORD] = { "invalid_record", 0, EC_STOP_NONE, F,
	    "candidates, plan, generate",
	    "a record lacks a field its stage needs or holds a bad one (no "
	    "variant_id, no prompt, a prompt over 64 KiB, an unknown "
	    "provider)" },
	[EC_NOT_FOUND] = { "not_found", 0, EC_STOP_NONE, F, "candidates",
	    "a selector names a variant or product the catalog does not "
	    "have" },
	[EC_INVALID_IMAGES] = { "invalid_images", 0, EC_STOP_NONE, F,
	    "plan, generate",
	    "the selected images are not a usable list of URLs or paths "
	    "(bg-plan: 1 to 4), or the provider cannot take them" },
	[EC_IMAGE_FETCH_FAILED] = { "image_fetch_failed", 0, EC_STOP_NONE, F,
	    "generate",
	    "a reference image could not be read or downloaded (retryable "
	    "after a network error, HTTP 408, 429 or 5xx)" },
	[EC_IMAGE_TOO_LARGE] = { "image_too_large", 0, EC_STOP_NONE, F,
	    "generate",
	    "a reference image is over --max-image-bytes" },
	[EC_UNSUPPORTED_IMAGE] = { "unsupported_image", 0, EC_STOP_NONE, F,
	    "generate, file",
	    "an image is not a readable PNG, JPEG or WebP" },
	[EC_AUTH] = { "auth", 0, EC_STOP_KEY, F, "generate",
	    "the provider refused the key (HTTP 401, 403, API_KEY_INVALID) "
	    "or no key is set" },
	[EC_QUOTA] = { "quota", 0, EC_STOP_KEY, F, "generate",
	    "the account is out of credit or quota (Replicate 402, Gemini "
	    "credits depleted, OpenAI insufficient_quota)" },
	[EC_MODEL_NOT_FOUND] = { "model_not_found", 0, EC_STOP_MODEL, F,
	    "generate",
	    "the provider does not have the model: retired or misspelt "
	    "(HTTP 404)" },
	[EC_BAD_REQUEST] = { "bad_request", 0, EC_STOP_NONE, F, "generate",
	    "the provider rejected the request (HTTP 400 and other 4xx, "
	    "Replicate 422) or it could not be built" },
	[EC_RATE_LIMITED] = { "rate_limited", 1, EC_STOP_NONE, F, "generate",
	    "HTTP 429: too many requests (a daily quota is not retried)" },
	[EC_SERVER_ERROR] = { "server_error", 1, EC_STOP_NONE, F, "generate",
	    "the provider failed (HTTP 409, 5xx); a failed Replicate "
	    "prediction is not retried" },
	[EC_TIMEOUT] = { "timeout", 1, EC_STOP_NONE, F, "generate",
	    "no answer within --timeout, HTTP 408 or 504, or a Replicate "
	    "prediction unfinished after its time or aborted" },
	[EC_NETWORK] = { "network", 1, EC_STOP_HOST, F, "generate",
	    "the host could not be reached or the connection broke before "
	    "an answer" },
	[EC_BLOCKED] = { "blocked", 0, EC_STOP_NONE, F, "generate",
	    "a safety filter refused the prompt or the image" },
	[EC_NO_IMAGE] = { "no_image", 1, EC_STOP_NONE, F, "generate",
	    "the model answered without an image for a reason other than "
	    "safety" },
	[EC_BAD_RESPONSE] = { "bad_response", 1, EC_STOP_NONE, F, "generate",
	    "an answer that cannot be used: truncated or unparsable "
	    "(retried), an empty image, over 16 images or over the size "
	    "limit (not retried)" },
	[EC_BUDGET] = { "budget", 1, EC_STOP_NONE, "skipped", "generate",
	    "not sent: --max-images or --max-cost reached" },
	[EC_CANCELED] = { "canceled", 1, EC_STOP_NONE, "canceled",
	    "generate",
	    "cut short by SIGINT or SIGTERM or --cancel (a prediction "
	    "canceled at Replicate: failed, not retryable)" },
	[EC_EXPIRED] = { "expired", 1, EC_STOP_NONE, F, "generate",
	    "a provider batch expired before the request ran" },
	[EC_FILE_FAILED] = { "file_failed", 0, EC_STOP_NONE, F, "file",
	    "bg-file could not store or link the outputs, or record an "
	    "upload" },
};

const char *
ec_name(enum ec c)
{
	return c > EC_NONE && c < EC_N ? ec_tab[c].name : NULL;
}

int
ec_retryable(enum ec c)
{
	return c > EC_NONE && c < EC_N && ec_tab[c].retryable;
}

int
ec_is(const char *name, enum ec c)
{
	return name && c > EC_NONE && c < EC_N && !strcmp(name, ec_tab[c].name);
}

enum ec
ec_find(const char *name)
{
	int i;

	for (i = EC_NONE + 1; name && i < EC_N; i++)
		if (!strcmp(ec_tab[i].name, name))
			return (enum ec)i;
	return EC_NONE;
}

const char *
ec_stop_word(enum ec_stop s)
{
	static const char *const w[] = { "-", "key", "model", "host" };

	return (unsigned)s < sizeof w / sizeof *w ? w[s] : "-";
}

void
ec_list(FILE *f)
{
	const struct ec_info *e;
	int i;

	for (i = EC_NONE + 1; i < EC_N; i++) {
		e = &ec_tab[i];
		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", e->name,
		    e->retryable ? "yes" : "no", ec_stop_word(e->stop),
		    e->status, e->stages, e->meaning);
	}
}
