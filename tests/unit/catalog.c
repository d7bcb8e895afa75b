/* Unit tests for lib/catalog, lib/history and lib/probe. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "err.h"
#include "history.h"
#include "probe.h"
#include "test.h"

static char *dir;

static char *
write_file(const char *name, const char *text)
{
	char *p = easprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	return p;
}

static void
test_catalog(void)
{
	struct catalog c;
	const struct cat_variant *v;
	cJSON *o;
	long i;
	char *p = write_file("cat.ndjson",
	    "{\"product_id\":\"p1\",\"variant_id\":\"a\",\"title\":\"T\"}\n"
	    "not json\n"
	    "{\"product_id\":9,\"variant_id\":12}\n"
	    "{\"product_id\":\"p1\",\"variant_id\":\"b\"}\n"
	    "{\"product_id\":\"p1\",\"variant_id\":\"a\"}\n"
	    "{\"product_id\":\"p2\",\"variant_id\":\"c\",\"images\":[{}]}\n");

	cat_load(&c, p);
	CHECK(c.n == 3, "three good variants");
	CHECK(c.bad == 3, "bad JSON, a repeated id, an image without url");
	v = cat_find(&c, "12");
	CHECK(v && !strcmp(v->pid, "9") && v->lineno == 3,
	    "numeric ids found as strings, with their line");
	CHECK(cat_find(&c, "c") == NULL, "a skipped line is not indexed");
	i = cat_product_first(&c, "p1");
	CHECK(i >= 0 && !strcmp(c.v[i].id, "a") && c.v[i].next >= 0 &&
	    !strcmp(c.v[c.v[i].next].id, "b") && c.v[c.v[i].next].next == -1,
	    "a product's variants in catalog order");
	CHECK(cat_product_first(&c, "nope") == -1, "unknown product");
	o = cat_record(cat_find(&c, "a"));
	CHECK_STR(cJSON_GetObjectItem(o, "title")->valuestring, "T",
	    "the record parses again");
	cJSON_Delete(o);
	cat_free(&c);
	free(p);
}

static void
test_history(void)
{
	GHashTable *t;
	struct hist_list *l;
	char *s, *p = write_file("history.ndjson",
	    "{\"variant_id\":\"a\",\"url\":\"x/1.png\",\"sha256\":\"1\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n"
	    "{\"variant_id\":\"a\",\"path\":\"x/3.png\",\"sha256\":\"3\",\"created_at\":\"2026-01-03T00:00:00Z\"}\n"
	    "{\"variant_id\":\"a\",\"url\":\"http://h/2.png\",\"sha256\":\"2\",\"created_at\":\"2026-01-02T00:00:00Z\"}\n"
	    "{\"variant_id\":\"a\",\"url\":\"x/3b.png\",\"sha256\":\"3\",\"created_at\":\"2026-01-04T00:00:00Z\"}\n"
	    "{\"variant_id\":\"z\",\"url\":\"x/z.png\"}\n");

	s = hist_resolve("/r", "objects/a.png");
	CHECK_STR(s, "/r/objects/a.png", "relative refs joined to the root");
	free(s);
	s = hist_resolve("/r", "https://h/a.png");
	CHECK_STR(s, "https://h/a.png", "URLs kept");
	free(s);
	s = hist_resolve("/r", "/abs/a.png");
	CHECK_STR(s, "/abs/a.png", "absolute paths kept");
	free(s);

	t = hist_load(p, "/r", 2, 0, NULL, NULL);
	l = g_hash_table_lookup(t, "a");
	CHECK(l && l->n == 2, "bounded to max");
	CHECK(l && !strcmp(l->it[0].src, "/r/x/3b.png") &&
	    !strcmp(l->it[1].src, "http://h/2.png"),
	    "newest first, one per sha256 (the newest)");
	CHECK(g_hash_table_lookup(t, "z") != NULL, "no created_at is fine");
	g_hash_table_destroy(t);
	t = hist_load("/nonexistent/h.ndjson", "/r", 2, 0, NULL, NULL);
	CHECK(g_hash_table_size(t) == 0, "a missing store file is empty");
	g_hash_table_destroy(t);
	l = hist_uploads(p, "/r", 10, 0);
	CHECK(l->n == 5, "uploads keep repeats of a sha256");
	hist_list_free(l);
	free(p);
}

static void
test_probe(void)
{
	int w, h;

	probe_note("https://h/x.png", 30, 20);
	CHECK(probe_size(dir, "https://h/x.png", NULL, &w, &h) == 0 && w == 30 &&
	    h == 20, "a noted size answers");
	CHECK(probe_size(dir, "/nonexistent.png", NULL, &w, &h) < 0,
	    "a missing file is unknown");
	probe_free();
}

int
main(int argc, char **argv)
{
	err_init(argv[0]);
	dir = t_tmpdir("catalog");
	test_catalog();
	test_history();
	test_probe();
	t_rmtree(dir);
	return t_failed;
}
