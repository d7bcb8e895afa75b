/* picker_html: rows of candidate images with checkboxes.  Each image
 * appears once per row, in the first group that names it (the variant's
 * image is often also its MAIN slot); an image the selection names that no
 * group shows gets its own group, so a pre-checked box is never hidden.
 * Hooks: rows section[data-variant-id][data-product-id], checkboxes
 * input[data-url], the save button [data-action=download-selection]. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "err.h"
#include "page_assets.h"
#include "picker_html.h"
#include "record.h"
#include "report_html.h"
#include "store.h"
#include "thumb.h"

/* One row being written. */
struct row {
	struct pk_page *p;
	struct sbuf *o;
	const cJSON *selected;
	GHashTable *shown;	/* urls already in the row */
	int open;		/* a group is open */
	char *title;		/* the next group's, opened by its first image */
};

static const char *
base_name(const char *u)
{
	const char *s = strrchr(u, '/');

	return s && s[1] ? s + 1 : u;
}

/* Rank of url in the selection (1-based), 0 when not selected. */
static int
rank(const struct row *w, const char *url)
{
	const cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, w->selected) {
		i++;
		if (cJSON_IsString(e) && !strcmp(e->valuestring, url))
			return i;
	}
	return 0;
}

static void
thumb(struct row *w, const char *url)
{
	const char *file = url;
	char *name = NULL;

	if (!g_ascii_strncasecmp(url, "file://", 7))
		file = url + 7;
	else if (strstr(url, "://"))
		file = NULL;	/* never fetched: no network from a page */
	if (file)
		name = thumb_make(file, w->p->assets, PK_THUMB_SIZE);
	if (!name) {
		sb_addf(w->o, "<span class=\"ph\">%s</span>",
		    file ? "missing image" : "remote image");
		return;
	}
	sb_adds(w->o, "<img loading=\"lazy\" alt=\"\" src=\"");
	url_esc(w->o, w->p->assets_url);
	sb_addc(w->o, '/');
	url_esc(w->o, name);
	sb_adds(w->o, "\">");
	free(name);
}

/* Start a group: it is written when its first image is, so that a group
 * whose images all appeared earlier shows nothing.  NULL ends the last. */
static void
group(struct row *w, const char *title)
{
	g_free(w->title);
	w->title = g_strdup(title);
	if (w->open && !title)
		sb_adds(w->o, "</div></div>");
	w->open = w->open && title;
}

static void
group_open(struct row *w)
{
	if (!w->title)
		return;
	if (w->open)
		sb_adds(w->o, "</div></div>");
	sb_adds(w->o, "<div class=\"group\"><h3>");
	html_esc(w->o, w->title);
	sb_adds(w->o, "</h3><div class=\"cands\">");
	g_free(w->title);
	w->title = NULL;
	w->open = 1;
}

/* One checkbox with its image; what says what it is ("MAIN 160×160"). */
static void
cand(struct row *w, const char *url, const char *what, const cJSON *im)
{
	double wd = rec_num(im, "width", 0), ht = rec_num(im, "height", 0);
	int r;

	if (!url || !*url || g_hash_table_contains(w->shown, url))
		return;
	g_hash_table_add(w->shown, (char *)url);
	group_open(w);
	r = rank(w, url);
	sb_adds(w->o, "<label class=\"cand\" title=\"");
	html_esc(w->o, url);
	sb_adds(w->o, "\"><input type=\"checkbox\" data-url=\"");
	html_esc(w->o, url);
	sb_addf(w->o, "\" data-rank=\"%d\"%s>", r, r ? " checked" : "");
	thumb(w, url);
	sb_adds(w->o, "<span>");
	if (what && *what) {
		html_esc(w->o, what);
		sb_adds(w->o, " · ");
	}
	if (wd > 0 && ht > 0 && wd < 1e6 && ht < 1e6)
		sb_addf(w->o, "%.0f×%.0f · ", wd, ht);
	html_esc(w->o, base_name(url));
	sb_adds(w->o, "</span></label>");
}

/* The slot of url among the catalog images, for the variant image. */
static const char *
slot_of(const cJSON *images, const char *url)
{
	const cJSON *im;
	const char *u;

	cJSON_ArrayForEach(im, images)
		if ((u = rec_str(im, "url")) && !strcmp(u, url))
			return rec_str(im, "slot");
	return NULL;
}

/* Catalog images, one group per slot in the order slots first appear. */
static void
slots(struct row *w, const cJSON *images)
{
	GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
	const cJSON *im, *jm;
	const char *s, *t;
	char *title;

	cJSON_ArrayForEach(im, images) {
		s = rec_str(im, "slot");
		s = s && *s ? s : "";
		if (g_hash_table_contains(done, s))
			continue;
		g_hash_table_add(done, (char *)s);
		title = *s ? g_strdup_printf("slot %s", s) :
		    g_strdup("catalog");
		group(w, title);
		g_free(title);
		cJSON_ArrayForEach(jm, images) {
			t = rec_str(jm, "slot");
			if (!strcmp(t && *t ? t : "", s))
				cand(w, rec_str(jm, "url"), NULL, jm);
		}
	}
	g_hash_table_destroy(done);
}

static void
row_groups(struct row *w, const cJSON *c)
{
	const cJSON *vi = cJSON_GetObjectItemCaseSensitive(c, "variant_image");
	const cJSON *images = cJSON_GetObjectItemCaseSensitive(c, "images");
	const cJSON *it;
	const char *u, *s;
	int n = 0;

	if ((u = rec_str(vi, "url")) && *u) {
		group(w, "variant image");
		cand(w, u, slot_of(images, u), vi);
	}
	slots(w, images);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c,
	    "generated")) {
		if (!n++)
			group(w, "generated");
		s = rec_str(it, "created_at");
		cand(w, rec_str(it, "url"), s ? s : "", it);
	}
	n = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "uploads")) {
		if (n == PK_MAX_UPLOADS)
			break;
		if (!n++)
			group(w, "uploads");
		cand(w, rec_str(it, "url"), rec_str(it, "name"), it);
	}
	n = 0;
	cJSON_ArrayForEach(it, w->selected) {
		if (!cJSON_IsString(it) ||
		    g_hash_table_contains(w->shown, it->valuestring))
			continue;
		if (!n++)
			group(w, "also selected");
		cand(w, it->valuestring, NULL, NULL);
	}
	group(w, NULL);
}

void
pk_row(struct pk_page *p, const cJSON *c)
{
	struct row w = {p, &p->rows, NULL, NULL, 0, NULL};
	const char *t = rec_str(c, "title"), *vt = rec_str(c, "variant_title");
	const char *vid = rec_str(c, "variant_id"), *pid = rec_str(c, "product_id");

	if (!vid)
		return;
	w.selected = cJSON_GetObjectItemCaseSensitive(c, "selected");
	w.shown = g_hash_table_new(g_str_hash, g_str_equal);
	p->nrows++;
	sb_adds(w.o, "<section class=\"row\" data-variant-id=\"");
	html_esc(w.o, vid);
	sb_adds(w.o, "\" data-product-id=\"");
	html_esc(w.o, pid ? pid : "");
	sb_addf(w.o, "\" aria-labelledby=\"r%ld\"><h2 id=\"r%ld\">", p->nrows,
	    p->nrows);
	html_esc(w.o, t ? t : vid);
	sb_adds(w.o, " <span class=\"sub\">");
	if (vt) {
		html_esc(w.o, vt);
		sb_adds(w.o, " · ");
	}
	sb_adds(w.o, "variant ");
	html_esc(w.o, vid);
	sb_adds(w.o, "</span></h2><p class=\"pick-count\"></p>"
	    "<div class=\"groups\">");
	row_groups(&w, c);
	sb_adds(w.o, "</div></section>\n");
	g_hash_table_destroy(w.shown);
}

void
pk_begin(struct pk_page *p, const char *path)
{
	const char *base = strrchr(path, '/');

	memset(p, 0, sizeof *p);
	p->path = estrdup(path);
	p->assets = easprintf("%s.assets", path);
	p->assets_url = easprintf("%s.assets", base ? base + 1 : path);
}

int
pk_write(struct pk_page *p)
{
	struct sbuf o = {0};
	char now[32];
	int rc, saved;

	sb_adds(&o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width\">\n"
	    "<title>bg-candidates: pick reference images</title>\n<style>");
	sb_adds(&o, pk_css);
	sb_addf(&o, "</style></head>\n<body>\n<header class=\"top\">"
	    "<h1>Pick reference images</h1><p class=\"summary\"><b>%ld</b> "
	    "variant%s · check 1 to 4 images for each; the default selection "
	    "is checked</p><button type=\"button\" "
	    "data-action=\"download-selection\">Download selection</button>"
	    "<p class=\"msg\" role=\"status\"></p></header>\n<main>\n",
	    p->nrows, p->nrows == 1 ? "" : "s");
	sb_add(&o, p->rows.s ? p->rows.s : "", p->rows.len);
	sb_addf(&o, "</main>\n<footer>bg-candidates %s · %s · then: "
	    "<code>bg-candidates selection.ndjson | bg-plan -s "
	    "settings.json</code></footer>\n<script>", BG_VERSION,
	    util_now_iso(now));
	sb_adds(&o, pk_js);
	sb_adds(&o, "</script>\n</body></html>\n");
	rc = store_mkparent(p->path);
	if (rc == 0)
		rc = store_write_atomic(p->path, o.s, o.len);
	saved = errno;
	sb_free(&o);
	sb_free(&p->rows);
	free(p->path);
	free(p->assets);
	free(p->assets_url);
	errno = saved;
	return rc;
}
