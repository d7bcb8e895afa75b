/* probe: image width and height for a catalog reference, cached in the
 * store (<root>/cache/probe/) and for the life of the process. */
#ifndef BG_PROBE_H
#define BG_PROBE_H

/* Width and height of the image src names: a local path (relative paths
 * against the current folder), a file:// URL, or an http(s) URL.  Local
 * files are probed with libvips (header only) and the answer cached under
 * root, keyed by path, size, mtime and inode.  http(s) URLs are not
 * fetched: they are unknown (warned once per process), unless an earlier
 * probe_note gave their size.  Returns 0, or -1 if unknown (unreadable
 * files are warned once each, naming who, the variant that asked first,
 * when not NULL). */
int probe_size(const char *root, const char *src, const char *who, int *w,
    int *h);
/* Remember the size of src given by the catalog for this process. */
void probe_note(const char *src, int w, int h);
/* Forget everything (free the process table). */
void probe_free(void);

#endif
