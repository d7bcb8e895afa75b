/* picker_html: the picker page of bg-candidates --html: one row per
 * variant with every candidate image grouped by source, the default
 * selection checked, 1 to 4 per variant; it saves selection.ndjson
 * ({variant_id, product_id, selected}) that bg-candidates reads back. */
#ifndef BG_PICKER_HTML_H
#define BG_PICKER_HTML_H

#include <cjson/cJSON.h>

#include "util.h"

#define PK_THUMB_SIZE 240	/* thumbnail box, pixels */
#define PK_MAX_UPLOADS 12	/* uploads shown per row */

struct pk_page {
	char *path, *assets, *assets_url;	/* the page and its thumbnails */
	struct sbuf rows;
	long nrows;
};

/* Start the page that will be written to path (thumbnails go to
 * "path.assets/" as they are made). */
void pk_begin(struct pk_page *p, const char *path);
/* Add the row of one candidate record (doc/contract.md "candidate"). */
void pk_row(struct pk_page *p, const cJSON *cand);
/* Write the page atomically and free it: 0, or -1 with errno. */
int pk_write(struct pk_page *p);

#endif
