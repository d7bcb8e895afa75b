/* probe: width/height of reference images without decoding them.  The
 * disk cache matters for catalogs probed again and again; the process
 * table for images shared by the variants of one product. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <cjson/cJSON.h>

#include "catalog.h"
#include "err.h"
#include "image.h"
#include "ndjson.h"
#include "probe.h"
#include "record.h"
#include "store.h"
#include "util.h"

static GHashTable *seen;	/* src -> (w << 32 | h) + 1, or 0 unknown */
static int warned_http, warned_cache;

static void
remember(const char *src, int w, int h, int ok)
{
	guint64 *v = g_new(guint64, 1);

	if (!seen)
		seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    g_free);
	*v = ok ? (((guint64)(guint32)w << 32) | (guint32)h) + 1 : 0;
	g_hash_table_replace(seen, g_strdup(src), v);
}

void
probe_note(const char *src, int w, int h)
{
	if (w > 0 && h > 0)
		remember(src, w, h, 1);
}

void
probe_free(void)
{
	if (seen)
		g_hash_table_destroy(seen);
	seen = NULL;
}

static char *
cache_file(const char *root, const char *path, const struct stat *st)
{
	char *k, hex[65], *p;

	k = easprintf("%s\n%lld\n%lld.%09ld\n%llu", path,
	    (long long)st->st_size, (long long)st->st_mtim.tv_sec,
	    (long)st->st_mtim.tv_nsec, (unsigned long long)st->st_ino);
	util_sha256_hex(k, strlen(k), hex);
	free(k);
	p = easprintf("%s/cache/probe/%.2s/%s.json", root, hex, hex);
	return p;
}

static int
cache_get(const char *file, int *w, int *h)
{
	size_t len;
	char *buf = store_read_file(file, 1 << 16, &len);
	cJSON *o;
	int rc = -1;

	if (!buf)
		return -1;
	o = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 0);
	if (o) {
		*w = (int)rec_num(o, "width", 0);
		*h = (int)rec_num(o, "height", 0);
		if (*w > 0 && *h > 0)
			rc = 0;
		cJSON_Delete(o);
	}
	free(buf);
	return rc;
}

static void
cache_put(const char *file, const char *path, int w, int h)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddNumberToObject(o, "width", w);
	cJSON_AddNumberToObject(o, "height", h);
	s = nd_print(o);
	if (store_write_atomic(file, s, strlen(s)) < 0 && !warned_cache) {
		warnx("%s: cannot write the probe cache:", cat_shown(file));
		warned_cache = 1;
	}
	cJSON_free(s);
	cJSON_Delete(o);
}

static int
probe_local(const char *root, const char *src, const char *who,
    const char *path, int *w, int *h)
{
	struct stat st;
	char *file;
	int rc;

	if (stat(path, &st) < 0 || (!S_ISREG(st.st_mode) &&
	    (errno = EINVAL))) {
		warnx("%s%s%s: cannot probe image:", who ? cat_shown(who) : "",
		    who ? ": " : "", cat_shown(path));
		remember(src, 0, 0, 0);
		return -1;
	}
	file = cache_file(root, path, &st);
	if ((rc = cache_get(file, w, h)) < 0) {
		rc = image_probe_file(path, w, h);
		if (rc == 0 && *w > 0 && *h > 0)
			cache_put(file, path, *w, *h);
		else {
			warnx("%s%s%s: cannot probe image: not an image "
			    "libvips reads", who ? cat_shown(who) : "",
			    who ? ": " : "", cat_shown(path));
			rc = -1;
		}
	}
	free(file);
	remember(src, *w, *h, rc == 0);
	return rc;
}

int
probe_size(const char *root, const char *src, const char *who, int *w,
    int *h)
{
	guint64 *v;
	const char *path = src;

	*w = *h = 0;
	if (seen && (v = g_hash_table_lookup(seen, src))) {
		if (!*v)
			return -1;
		*w = (int)((*v - 1) >> 32);
		*h = (int)((*v - 1) & 0xffffffff);
		return 0;
	}
	if (!g_ascii_strncasecmp(src, "file://", 7)) {
		path = src + 7;
		if (!g_ascii_strncasecmp(path, "localhost/", 10))
			path += 9;
	} else if (strstr(src, "://")) {
		if (!warned_http)
			warnx("http(s) images are not probed: give their "
			    "width and height in the catalog");
		warned_http = 1;
		remember(src, 0, 0, 0);
		return -1;
	}
	return probe_local(root, src, who, path, w, h);
}
