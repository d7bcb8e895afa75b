/* report_html: a static page (no network, no external assets) with a card
 * per variant.  Thumbnails live beside the page in FILE.assets/ rather than
 * in data: URIs so that rewriting the page while a batch runs (--follow)
 * costs only the new thumbnails, and the page itself stays small. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "report.h"
#include "page_assets.h"
#include "report_html.h"
#include "report_review.h"
#include "store.h"
#include "thumb.h"
#include "util.h"

void
html_esc(struct sbuf *o, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		switch (*p) {
		case '&': sb_adds(o, "&amp;"); break;
		case '<': sb_adds(o, "&lt;"); break;
		case '>': sb_adds(o, "&gt;"); break;
		case '"': sb_adds(o, "&quot;"); break;
		case '\'': sb_adds(o, "&#39;"); break;
		default:
			if ((unsigned char)*p < 0x20 && *p != '\n' &&
			    *p != '\t')
				sb_addc(o, '?');
			else
				sb_addc(o, *p);
		}
	}
}

void
url_esc(struct sbuf *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			sb_addc(o, *p);
		} else {
			sb_addc(o, '%');
			sb_addc(o, hex[*p >> 4]);
			sb_addc(o, hex[*p & 15]);
		}
	}
}

static const char css[] =
"*{box-sizing:border-box}"
"body{margin:0;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;"
"color:#1d2430;background:#f3f4f7}"
"header.top{background:#fff;border-bottom:1px solid #dde1e8;padding:16px 24px}"
"h1{font-size:20px;margin:0 0 4px}"
".summary{margin:4px 0;color:#4a5568}"
".summary b{color:#1d2430}"
".bar{height:8px;background:#e4e7ee;border-radius:4px;overflow:hidden;"
"margin:8px 0;display:flex;max-width:720px}"
".bar i{display:block;height:100%}"
".bar .succeeded{background:#2f9e5b}.bar .failed{background:#d64545}"
".bar .skipped,.bar .canceled{background:#b7791f}"
"nav{margin-top:8px}"
"nav button{font:inherit;border:1px solid #c9ced8;background:#fff;"
"border-radius:14px;padding:2px 10px;margin:0 4px 4px 0;cursor:pointer}"
"nav button[aria-pressed=true]{background:#1d2430;color:#fff;"
"border-color:#1d2430}"
"table.errors{border-collapse:collapse;margin-top:8px;font-size:13px}"
"table.errors td,table.errors th{text-align:left;padding:2px 12px 2px 0;"
"vertical-align:top}"
"h2.batch{font-size:16px;margin:20px 24px 0}"
".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));"
"gap:16px;padding:16px 24px}"
".card{background:#fff;border:1px solid #dde1e8;border-radius:8px;"
"padding:12px;border-top:4px solid #a0aec0}"
".card.succeeded{border-top-color:#2f9e5b}.card.failed{border-top-color:#d64545}"
".card.skipped,.card.canceled{border-top-color:#b7791f}"
".card h3{font-size:15px;margin:0;overflow-wrap:anywhere}"
".sub{color:#6b7485;font-size:12px;margin:2px 0 8px;overflow-wrap:anywhere}"
".badge{float:right;font-size:11px;font-weight:600;text-transform:uppercase;"
"letter-spacing:.03em;padding:1px 8px;border-radius:10px;color:#fff;"
"background:#718096;margin-left:8px}"
".badge.succeeded{background:#2f9e5b}.badge.failed{background:#d64545}"
".badge.skipped,.badge.canceled{background:#b7791f}"
".label{font-size:11px;color:#6b7485;text-transform:uppercase;margin:6px 0 2px}"
".refs,.outs{display:flex;flex-wrap:wrap;gap:6px}"
"figure{margin:0}"
".refs img,.refs .ph{width:64px;height:64px}"
".outs img,.outs .ph{width:150px;height:150px}"
"img{object-fit:contain;background:#eef0f4;border-radius:4px;display:block}"
".ph{display:flex;align-items:center;justify-content:center;text-align:center;"
"background:#eef0f4;color:#6b7485;font-size:11px;border-radius:4px;"
"padding:4px;overflow:hidden;overflow-wrap:anywhere}"
".outs .ph.failed{background:#fdecec;color:#9b2c2c}"
"figcaption{font-size:11px;color:#6b7485;margin-top:2px;max-width:150px}"
".err{color:#9b2c2c;font-size:12px;margin:6px 0 0;overflow-wrap:anywhere}"
"code{font-size:12px}"
".exports{font-size:12px;margin:6px 0 0;color:#4a5568}"
".exports .pass{color:#2f9e5b}.exports .fail{color:#9b2c2c}"
"footer{color:#6b7485;font-size:12px;padding:0 24px 24px}"
"[hidden]{display:none!important}";

/* Filter cards by status; the choice survives the meta refresh in the URL
 * fragment. */
static const char script[] =
"(function(){"
"var cards=document.querySelectorAll('.card'),"
"btns=document.querySelectorAll('nav button');"
"function show(f){var ok=false,i;"
"for(i=0;i<btns.length;i++)if(btns[i].getAttribute('data-f')===f)ok=true;"
"if(!ok)f='all';"
"for(i=0;i<cards.length;i++)cards[i].hidden=!(f==='all'||"
"cards[i].getAttribute('data-status')===f);"
"for(i=0;i<btns.length;i++)btns[i].setAttribute('aria-pressed',"
"String(btns[i].getAttribute('data-f')===f));}"
"var nav=document.querySelector('nav');"
"if(nav)nav.addEventListener('click',function(e){"
"var f=e.target.getAttribute('data-f');if(!f)return;"
"history.replaceState(null,'','#'+f);show(f);});"
"show(location.hash.slice(1)||'all');"
"})();";

/* Where things are, for one page. */
struct page {
	const struct report *r;
	const char *root;	/* the store, outputs[].path is under it */
	const char *assets;	/* the thumbnail folder */
	const char *assets_url;	/* the same, relative to the page */
	const char *root_url;	/* the store relative to the page, or NULL */
};

static int
is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* An image: a thumbnail when the file reads as one (a link to the full
 * image when href is given), else a placeholder saying why. */
static void
image(struct sbuf *o, const struct page *pg, const char *file,
    const char *shown, const char *alt, const char *href)
{
	char *name = NULL;

	if (file)
		name = thumb_make(file, pg->assets, RP_THUMB_SIZE);
	if (name) {
		if (href) {
			sb_adds(o, "<a href=\"");
			url_esc(o, href);
			sb_adds(o, "\">");
		}
		sb_adds(o, "<img loading=\"lazy\" src=\"");
		url_esc(o, pg->assets_url);
		sb_addc(o, '/');
		url_esc(o, name);
		sb_adds(o, "\" alt=\"");
		html_esc(o, alt);
		sb_adds(o, "\" title=\"");
		html_esc(o, shown);
		sb_adds(o, href ? "\"></a>" : "\">");
		free(name);
		return;
	}
	sb_adds(o, "<div class=\"ph\" title=\"");
	html_esc(o, shown);
	sb_adds(o, "\">");
	if (!file)
		sb_adds(o, "remote image");
	else if (access(file, F_OK) == 0)
		sb_adds(o, "unreadable image");	/* there, but not an image */
	else
		sb_adds(o, "missing image");
	sb_adds(o, "</div>");
}

static void
ref_image(struct sbuf *o, const struct page *pg, const char *ref)
{
	const char *file = ref;

	if (is_url(ref))
		file = NULL;	/* never fetched: no network from a report */
	else if (!strncmp(ref, "file://", 7))
		file = ref + 7;
	sb_adds(o, "<figure>");
	image(o, pg, file, ref, "reference image", NULL);
	sb_adds(o, "</figure>");
}

/* A store path from a record: relative, with no ".." component. */
static int
safe_rel(const char *p)
{
	const char *s;

	if (*p == '/' || !*p)
		return 0;
	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
			return 0;
	return 1;
}

static void
job_figures(struct sbuf *o, const struct page *pg, const struct rp_job *j)
{
	const char *st = rp_status_name[j->status];
	char *file, *href;
	int i;

	for (i = 0; i < j->noutputs || (i == 0 && !j->noutputs); i++) {
		sb_addf(o, "<figure class=\"job %s\"", st);
		if (j->noutputs && safe_rel(j->outputs[i]))
			rv_figure_attrs(o, pg->r, j, i);
		sb_adds(o, ">");
		if (j->noutputs && safe_rel(j->outputs[i])) {
			file = easprintf("%s/%s", pg->root, j->outputs[i]);
			href = pg->root_url ? easprintf("%s/%s", pg->root_url,
			    j->outputs[i]) : NULL;
			image(o, pg, file, j->outputs[i], "generated image",
			    href);
			free(file);
			free(href);
		} else if (j->noutputs) {
			sb_adds(o, "<div class=\"ph failed\">bad path</div>");
		} else {
			sb_addf(o, "<div class=\"ph %s\">%s</div>", st,
			    j->status == RP_PENDING ? "waiting" : st);
		}
		sb_adds(o, "<figcaption>");
		if (j->variation)
			sb_addf(o, "#%d ", j->variation);
		sb_adds(o, st);
		if (j->cached)
			sb_adds(o, " (cached)");
		if (j->provider_batch) {
			/* batch mode: the provider batch it waits in or came
			 * from */
			sb_adds(o, "<br><small class=\"pbatch\">");
			html_esc(o, j->provider_batch);
			sb_adds(o, "</small>");
		}
		sb_adds(o, "</figcaption></figure>");
	}
}

/* One line per card: bg-export's verdicts per profile over its jobs. */
static void
card_exports(struct sbuf *o, const struct report *r,
    const struct rp_variant *v)
{
	const struct rp_job *j;
	const char *prof[8];
	int pass[8] = { 0 }, fail[8] = { 0 }, np = 0, i, k, p;

	for (i = 0; i < v->njobs; i++) {
		j = &r->jobs[v->jobs[i]];
		for (k = 0; k < j->nverdicts; k++) {
			for (p = 0; p < np && prof[p] != j->verdicts[k].profile; p++)
				;
			if (p == np && np == 8)
				continue;
			if (p == np)
				prof[np++] = j->verdicts[k].profile;
			pass[p] += j->verdicts[k].pass;
			fail[p] += j->verdicts[k].fail;
		}
	}
	if (!np)
		return;
	sb_adds(o, "<p class=\"exports\">");
	for (p = 0; p < np; p++) {
		sb_adds(o, p ? " · " : "");
		html_esc(o, prof[p]);
		sb_addf(o, ": <b class=\"%s\">%d pass</b>", pass[p] ? "pass" : "",
		    pass[p]);
		if (fail[p])
			sb_addf(o, ", <b class=\"fail\">%d fail</b>", fail[p]);
	}
	sb_adds(o, "</p>\n");
}

static void
card(struct sbuf *o, const struct report *r, int vi, const struct page *pg)
{
	const struct rp_variant *v = &r->variants[vi];
	const char *st = rp_status_name[rp_variant_status(r, vi)];
	const struct rp_job *j;
	int i;

	sb_addf(o, "<article class=\"card %s\" data-status=\"%s\"", st, st);
	rv_card_attrs(o, r, v);
	sb_adds(o, ">\n");
	sb_addf(o, "<span class=\"badge %s\">%s</span>", st, st);
	sb_adds(o, "<h3>");
	html_esc(o, v->title ? v->title : v->variant_id ? v->variant_id :
	    "(no variant)");
	sb_adds(o, "</h3>\n<p class=\"sub\">");
	if (v->variant_title) {
		html_esc(o, v->variant_title);
		sb_adds(o, " · ");
	}
	sb_adds(o, "variant <code>");
	html_esc(o, v->variant_id ? v->variant_id : "-");
	sb_adds(o, "</code>");
	if (v->product_id) {
		sb_adds(o, " · product <code>");
		html_esc(o, v->product_id);
		sb_adds(o, "</code>");
	}
	sb_adds(o, "</p>\n");
	if (v->nrefs) {
		sb_adds(o, "<div class=\"label\">reference</div><div class=\"refs\">");
		for (i = 0; i < v->nrefs; i++)
			ref_image(o, pg, v->refs[i]);
		sb_adds(o, "</div>\n");
	}
	sb_adds(o, "<div class=\"label\">generated</div><div class=\"outs\">");
	for (i = 0; i < v->njobs; i++)
		job_figures(o, pg, &r->jobs[v->jobs[i]]);
	sb_adds(o, "</div>\n");
	for (i = 0; i < v->njobs; i++) {
		j = &r->jobs[v->jobs[i]];
		if (!j->code)
			continue;
		sb_adds(o, "<p class=\"err\">");
		if (j->variation)
			sb_addf(o, "#%d ", j->variation);
		sb_adds(o, "<code>");
		html_esc(o, j->code);
		sb_adds(o, "</code>");
		if (j->message) {
			sb_adds(o, " ");
			html_esc(o, j->message);
		}
		sb_adds(o, "</p>\n");
	}
	card_exports(o, r, v);
	sb_adds(o, "</article>\n");
}

static void
header(struct sbuf *o, const struct report *r, const struct rp_stats *s)
{
	static const int shown[] = {
		RP_SUCCEEDED, RP_FAILED, RP_PENDING, RP_SKIPPED, RP_CANCELED
	};
	long nv[RP_NSTATUS] = {0};
	const char *name = NULL;
	int i, k, nall;

	for (i = k = 0; i < r->nbatches; i++) {
		if (!r->batches[i].batch_id)
			continue;	/* failures before planning */
		if (!k++)
			name = r->batches[i].batch_name ?
			    r->batches[i].batch_name : r->batches[i].batch_id;
	}
	sb_adds(o, "<header class=\"top\"><h1>");
	html_esc(o, name ? name : "batch report");
	if (k > 1)
		sb_addf(o, " and %d more batch%s", k - 1, k > 2 ? "es" : "");
	sb_addf(o, "</h1>\n<p class=\"summary\"><b>%ld</b> jobs · "
	    "<b>%ld</b> succeeded · <b>%ld</b> failed · <b>%ld</b> pending",
	    s->total, s->n[RP_SUCCEEDED], s->n[RP_FAILED], s->n[RP_PENDING]);
	if (s->n[RP_SKIPPED])
		sb_addf(o, " · <b>%ld</b> skipped", s->n[RP_SKIPPED]);
	if (s->n[RP_CANCELED])
		sb_addf(o, " · <b>%ld</b> canceled", s->n[RP_CANCELED]);
	if (s->cached)
		sb_addf(o, " · %ld cached", s->cached);
	sb_adds(o, " · paid <b class=\"paid\">");
	rp_money(o, s->cost);
	sb_adds(o, "</b>");
	if (s->saved > 0) {
		sb_adds(o, " · saved <b class=\"saved\">");
		rp_money(o, s->saved);
		sb_addf(o, "</b> (%ld cached)", s->cached);
	}
	if (s->nlat)
		sb_addf(o, " · latency p50 %.1f s, p90 %.1f s",
		    rp_percentile(s, 0.5) / 1000, rp_percentile(s, 0.9) / 1000);
	sb_adds(o, "</p>\n<div class=\"bar\">");
	for (i = RP_SUCCEEDED; i < RP_NSTATUS && s->total; i++)
		if (s->n[i])
			sb_addf(o, "<i class=\"%s\" style=\"width:%.2f%%\"></i>",
			    rp_status_name[i], 100.0 * s->n[i] / s->total);
	sb_adds(o, "</div>\n");

	for (i = 0; i < r->nvariants; i++)
		if (!rp_variant_gone(r, i))
			nv[rp_variant_status(r, i)]++;
	for (i = nall = 0; i < r->nvariants; i++)
		nall += !rp_variant_gone(r, i);
	sb_addf(o, "<nav><button data-f=\"all\">all (%d)</button>", nall);
	for (k = 0; k < 5; k++)
		if (nv[shown[k]])
			sb_addf(o, "<button data-f=\"%s\">%s (%ld)</button>",
			    rp_status_name[shown[k]], rp_status_name[shown[k]],
			    nv[shown[k]]);
	rv_nav(o, r);
	sb_adds(o, "</nav>\n");
	rv_toolbar(o, r);
	if (s->nerrs) {
		sb_adds(o, "<table class=\"errors\"><tr><th>error</th>"
		    "<th>jobs</th><th>example</th></tr>\n");
		for (i = 0; i < s->nerrs; i++) {
			sb_adds(o, "<tr><td><code>");
			html_esc(o, s->errs[i].code);
			sb_addf(o, "</code>%s</td><td>%ld</td><td>",
			    s->errs[i].retryable ? " (retryable)" : "",
			    s->errs[i].count);
			html_esc(o, s->errs[i].example ? s->errs[i].example :
			    "");
			sb_adds(o, "</td></tr>\n");
		}
		sb_adds(o, "</table>\n");
	}
	sb_adds(o, "</header>\n");
}

void
rp_html(const struct report *r, const char *root, const char *root_url,
    const char *assets, const char *assets_url, int refresh, struct sbuf *o)
{
	struct page pg = {r, root, assets, assets_url, root_url};
	struct rp_stats s;
	const struct rp_batch *b;
	char now[32];
	int i, k;

	rp_stats(r, -2, &s);
	sb_adds(o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n");
	if (refresh > 0)
		sb_addf(o, "<meta http-equiv=\"refresh\" content=\"%d\">\n",
		    refresh);
	sb_adds(o, "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>bg-report</title>\n<style>");
	sb_adds(o, css);
	sb_adds(o, rv_css);
	sb_adds(o, "</style></head>\n<body>\n");
	header(o, r, &s);
	for (k = 0; k < r->nbatches; k++) {
		b = &r->batches[k];
		if (rp_batch_gone(r, k))
			continue;
		if (r->nbatches > 1) {
			sb_adds(o, "<h2 class=\"batch\">");
			html_esc(o, b->batch_name ? b->batch_name :
			    b->batch_id ? b->batch_id :
			    "failed before planning");
			sb_adds(o, "</h2>\n");
		}
		sb_adds(o, "<section class=\"grid\">\n");
		for (i = 0; i < r->nvariants; i++)
			if (r->variants[i].batch == k &&
			    !rp_variant_gone(r, i))
				card(o, r, i, &pg);
		sb_adds(o, "</section>\n");
	}
	sb_addf(o, "<footer>bg-report %s · %ld records · %s%s</footer>\n",
	    BG_VERSION, r->records, util_now_iso(now),
	    refresh > 0 ? " · refreshing while the batch runs" : "");
	sb_adds(o, "<script>");
	sb_adds(o, script);
	sb_adds(o, rv_js);
	sb_adds(o, "</script>\n</body></html>\n");
	rp_stats_free(&s);
}

/* The path of target relative to the folder dir (both must exist), for
 * links from the page into the store; NULL when either does not. */
static char *
rel_path(const char *dir, const char *target)
{
	char *d = realpath(dir, NULL), *t = realpath(target, NULL), *seg;
	struct sbuf b = {0};
	size_t i = 0, last = 0;

	if (!d || !t) {
		free(d);
		free(t);
		return NULL;
	}
	for (; d[i] && d[i] == t[i]; i++)
		if (d[i] == '/')
			last = i;
	if ((!d[i] && (t[i] == '/' || !t[i])) || (!t[i] && d[i] == '/'))
		last = i;
	for (seg = d + last; *seg; seg++)
		if (*seg == '/' && seg[1] && seg[1] != '/')
			sb_adds(&b, "../");
	sb_adds(&b, t + last + (t[last] == '/'));
	while (b.len > 1 && b.s[b.len - 1] == '/')
		b.s[--b.len] = '\0';
	if (!b.len)
		sb_addc(&b, '.');
	free(d);
	free(t);
	return b.s;
}

int
rp_html_write(const struct report *r, const char *path, const char *root,
    int refresh)
{
	struct sbuf page = {0};
	char *assets, *url, *dir, *root_url;
	const char *base;
	int rc, saved;

	if (store_mkparent(path) < 0)
		return -1;
	base = strrchr(path, '/');
	dir = base ? estrndup(path, base - path + 1) : estrdup(".");
	base = base ? base + 1 : path;
	assets = easprintf("%s.assets", path);
	url = easprintf("%s.assets", base);
	root_url = rel_path(dir, root);
	rp_html(r, root, root_url, assets, url, refresh, &page);
	rc = store_write_atomic(path, page.s, page.len);
	saved = errno;
	sb_free(&page);
	free(assets);
	free(url);
	free(dir);
	free(root_url);
	errno = saved;
	return rc;
}
