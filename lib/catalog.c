/* catalog: one pass over the catalog file, kept as its lines plus two hash
 * tables, so that selecting from 100,000 variants is a lookup per id. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>

#include "catalog.h"
#include "err.h"
#include "ndjson.h"
#include "record.h"

struct cat_product {
	long first, last;
};

const char *
cat_id(const cJSON *o, const char *key, char *buf)
{
	const char *s = rec_id(o, key, buf);

	return s && *s ? s : NULL;
}

/* Why line o is not a usable catalog record, or NULL. */
static const char *
check(const cJSON *o, const char **id, const char **pid, char *ib, char *pb)
{
	const cJSON *imgs, *im;

	if (!(*id = cat_id(o, "variant_id", ib)))
		return "no variant_id";
	if (!(*pid = cat_id(o, "product_id", pb)))
		return "no product_id";
	imgs = cJSON_GetObjectItemCaseSensitive(o, "images");
	if (imgs && !cJSON_IsNull(imgs)) {
		if (!cJSON_IsArray(imgs))
			return "images is not a list";
		cJSON_ArrayForEach(im, imgs)
			if (!rec_str(im, "url") || !*rec_str(im, "url"))
				return "an entry of images has no url";
	}
	return NULL;
}

static void
add(struct catalog *c, const char *id, const char *pid, const char *line,
    size_t len, long lineno)
{
	struct cat_variant *v;
	struct cat_product *p;
	size_t i;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->v = erealloc(c->v, c->cap * sizeof *c->v);
	}
	i = c->n++;
	v = &c->v[i];
	v->id = g_string_chunk_insert_len(c->strs, id, -1);
	v->pid = g_string_chunk_insert_const(c->strs, pid);
	v->line = g_string_chunk_insert_len(c->strs, line, len);
	v->len = len;
	v->lineno = lineno;
	v->next = -1;
	g_hash_table_insert(c->by_id, (char *)v->id, GSIZE_TO_POINTER(i + 1));
	p = g_hash_table_lookup(c->by_product, v->pid);
	if (p) {
		c->v[p->last].next = i;
		p->last = i;
	} else {
		p = g_new(struct cat_product, 1);
		p->first = p->last = i;
		g_hash_table_insert(c->by_product, (char *)v->pid, p);
	}
}

void
cat_load(struct catalog *c, const char *path)
{
	struct nd_reader r;
	char ib[32], pb[32];
	const char *id, *pid, *why;
	const struct cat_variant *dup;
	cJSON *o;
	int rc, fd;
	char *files[1];

	memset(c, 0, sizeof *c);
	c->path = path;
	if (strcmp(path, "-")) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			die(EXIT_USAGE, "%s:", path);
		close(fd);
	}
	c->strs = g_string_chunk_new(1 << 20);
	c->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	c->by_product = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    g_free);
	files[0] = (char *)path;
	nd_open(&r, 1, files);
	r.maxlen = (size_t)16 << 20;
	while ((rc = nd_get(&r, NULL, &o)) != ND_END) {
		if (rc != ND_LINE) {
			warnx("%s:%ld: %s, line skipped", r.name, r.lineno,
			    r.err);
			c->bad++;
			continue;
		}
		if ((why = check(o, &id, &pid, ib, pb))) {
			warnx("%s:%ld: %s, line skipped", r.name, r.lineno,
			    why);
			c->bad++;
		} else if ((dup = cat_find(c, id))) {
			warnx("%s:%ld: variant_id repeats line %ld, line "
			    "skipped", r.name, r.lineno, dup->lineno);
			c->bad++;
		} else {
			add(c, id, pid, r.line, r.len, r.lineno);
		}
		cJSON_Delete(o);
	}
	nd_close(&r);
}

void
cat_free(struct catalog *c)
{
	if (c->by_id)
		g_hash_table_destroy(c->by_id);
	if (c->by_product)
		g_hash_table_destroy(c->by_product);
	if (c->strs)
		g_string_chunk_free(c->strs);
	free(c->v);
	memset(c, 0, sizeof *c);
}

const struct cat_variant *
cat_find(const struct catalog *c, const char *id)
{
	gpointer p = g_hash_table_lookup(c->by_id, id);

	return p ? &c->v[GPOINTER_TO_SIZE(p) - 1] : NULL;
}

long
cat_product_first(const struct catalog *c, const char *pid)
{
	const struct cat_product *p = g_hash_table_lookup(c->by_product, pid);

	return p ? p->first : -1;
}

cJSON *
cat_record(const struct cat_variant *v)
{
	cJSON *o = cJSON_ParseWithLengthOpts(v->line, v->len + 1, NULL, 1);

	if (!o)		/* it parsed when loaded: only memory can fail */
		die(EXIT_FATAL, "out of memory");
	return o;
}

const char *
cat_shown(const char *s)
{
	static char bufs[2][100];
	static int which;
	char *buf = bufs[which ^= 1];
	size_t o = 0;

	for (; *s && o < 80; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += snprintf(buf + o, 100 - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (*s)
		o += snprintf(buf + o, 100 - o, "...");
	buf[o] = '\0';
	return buf;
}
