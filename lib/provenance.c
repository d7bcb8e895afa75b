/* provenance: XMP with gexiv2. */
#include <stdlib.h>
#include <string.h>

#include <gexiv2/gexiv2.h>

#include "err.h"
#include "provenance.h"

#define TAG_DST "Xmp.iptcExt.DigitalSourceType"

static void
prov_init(void)
{
	static int done;

	if (!done) {
		gexiv2_initialize();
		/* exiv2 warns on stderr about odd metadata it still reads */
		gexiv2_log_set_level(GEXIV2_LOG_LEVEL_MUTE);
		done = 1;
	}
}

const char *
prov_source_type(const char *provider)
{
	if (!provider || !strcmp(provider, "local"))
		return PROV_CV "compositeSynthetic";
	return PROV_CV "trainedAlgorithmicMedia";
}

static GExiv2Metadata *
open_mem(const void *buf, size_t len)
{
	GExiv2Metadata *m;
	GError *e = NULL;

	prov_init();
	m = gexiv2_metadata_new();
	if (!gexiv2_metadata_open_buf(m, buf, (glong)len, &e)) {
		g_clear_error(&e);
		g_object_unref(m);
		return NULL;
	}
	return m;
}

static int
set(GExiv2Metadata *m, const char *tag, const char *val)
{
	GError *e = NULL;

	if (!val || !*val)
		return 0;
	if (!gexiv2_metadata_try_set_tag_string(m, tag, val, &e)) {
		g_clear_error(&e);
		return -1;
	}
	return 0;
}

char *
prov_xmp_for(const void *src, size_t len, const char *type,
    const char *provider, const char *model, size_t *plen)
{
	GExiv2Metadata *m = open_mem(src, len);
	GError *e = NULL;
	char *p = NULL, *tool;
	int ai = strstr(type, "trainedAlgorithmicMedia") != NULL;

	if (!m)
		return NULL;
	tool = easprintf("batchgen bg-export %s", BG_VERSION);
	if (set(m, TAG_DST, type) == 0 &&
	    (!ai || set(m, "Xmp.iptcExt.AISystemUsed", provider) == 0) &&
	    (!ai || set(m, "Xmp.iptcExt.AISystemVersionUsed", model) == 0) &&
	    set(m, "Xmp.xmp.CreatorTool", tool) == 0)
		p = gexiv2_metadata_try_generate_xmp_packet(m,
		    GEXIV2_USE_COMPACT_FORMAT, 0, &e);
	g_clear_error(&e);
	free(tool);
	g_object_unref(m);
	if (p)
		*plen = strlen(p);
	return p;
}

char *
prov_read(const void *img, size_t len)
{
	GExiv2Metadata *m = open_mem(img, len);
	GError *e = NULL;
	gchar *v;
	char *r = NULL;

	if (!m)
		return NULL;
	v = gexiv2_metadata_try_get_tag_string(m, TAG_DST, &e);
	g_clear_error(&e);
	if (v)
		r = estrdup(v);
	g_free(v);
	g_object_unref(m);
	return r;
}
