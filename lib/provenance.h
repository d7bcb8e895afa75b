/* provenance: the IPTC DigitalSourceType and the AI system named in XMP,
 * written and read with gexiv2 (exiv2), never with hand-built bytes. */
#ifndef BG_PROVENANCE_H
#define BG_PROVENANCE_H

#include <stddef.h>

#define PROV_CV "http://cv.iptc.org/newscodes/digitalsourcetype/"

/* The DigitalSourceType URI for images from provider: trainedAlgorithmic-
 * Media for a generative provider, compositeSynthetic for "local" (and a
 * missing provider, which bg-generate treats as local).  Static. */
const char *prov_source_type(const char *provider);

/* An XMP packet for a copy of the image src (len bytes): src's own XMP
 * (kept: a provider's fields must not be stripped) plus DigitalSourceType
 * = type, and for generative providers Iptc4xmpExt:AISystemUsed =
 * provider and AISystemVersionUsed = model, and xmp:CreatorTool.  Returns
 * the packet (g_free it), *plen set, or NULL when src is unreadable. */
char *prov_xmp_for(const void *src, size_t len, const char *type,
    const char *provider, const char *model, size_t *plen);

/* The DigitalSourceType an image in memory carries, or NULL (free(3)). */
char *prov_read(const void *img, size_t len);

#endif
