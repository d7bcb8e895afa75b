/* report_html: the HTML gallery of a report, one card per variant. */
#ifndef BG_REPORT_HTML_H
#define BG_REPORT_HTML_H

#include "report.h"
#include "util.h"

#define RP_THUMB_SIZE 240	/* thumbnail box, pixels */

/* Append the page for r to out.  Thumbnails are made (once) into the
 * folder assets, which the page names as the relative URL assets_url;
 * outputs[].path is read under root and, when root_url (root relative to
 * the page) is given, linked there; reference images are read relative to
 * the current folder (http URLs are shown as placeholders, never fetched).
 * refresh > 0 adds a meta refresh of that many seconds.  Every string from
 * the records is escaped. */
void rp_html(const struct report *r, const char *root, const char *root_url,
    const char *assets, const char *assets_url, int refresh, struct sbuf *out);

/* Write the page to path atomically (temp + rename), with thumbnails in
 * "path.assets/" and links into root.  0, or -1 with errno. */
int rp_html_write(const struct report *r, const char *path, const char *root,
    int refresh);

/* Append s to out escaped for HTML text and attribute values. */
void html_esc(struct sbuf *out, const char *s);
/* Append the path s percent-encoded for a relative URL (keeps '/'). */
void url_esc(struct sbuf *out, const char *s);

#endif
