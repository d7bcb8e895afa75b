/* profile: marketplace image profiles for bg-export (built in, or read
 * from a user's JSON file of the same shape; README.md "bg-export"). */
#ifndef BG_PROFILE_H
#define BG_PROFILE_H

#include <cjson/cJSON.h>

#define PROFILE_MAX_FORMATS 8

struct profile {
	char name[64];
	char format[8];		/* what copies are written as: jpeg png webp */
	char accept[PROFILE_MAX_FORMATS][8];	/* formats the channel takes */
	int naccept;
	int min_long;		/* px on the longest side, 0 = none */
	int min_short;		/* px on the shortest side, 0 = none */
	int max_side;		/* px on either side, 0 = none */
	double max_mp;		/* megapixels, 0 = none */
	double max_bytes;	/* file size, 0 = none */
	int square;		/* width must equal height */
	int target;		/* copies are made at most this long */
	int white;		/* the border must be white */
	int tolerance;		/* per channel below 255 still called white */
	double fill_min;	/* product share of the frame, 0 = none */
	double fill_target;	/* what reframing pads back to */
	int provenance;		/* write and check DigitalSourceType */
	int quality;		/* JPEG/WebP quality of copies */
};

/* The built-in profile called name, or NULL. */
const struct profile *profile_builtin(const char *name);
/* The built-in profiles as a JSON array (cJSON_Delete it). */
cJSON *profile_builtin_json(void);
/* The profile p as the JSON object a profiles file holds. */
cJSON *profile_to_json(const struct profile *p);

/* Parse one profile object into *p; -1 with a message naming the field
 * in why (size n). */
int profile_from_json(const cJSON *o, struct profile *p, char *why,
    size_t n);
/* Read a profiles file (a JSON array of profile objects, or one object)
 * into *out (malloc'd, *nout entries; free(3) it).  -1 with why set. */
int profile_load(const char *path, struct profile **out, int *nout,
    char *why, size_t n);

/* Whether p accepts the MIME type mime ("image/jpeg"...). */
int profile_accepts(const struct profile *p, const char *mime);
/* "image/jpeg" for "jpeg"..., or NULL for an unknown format name. */
const char *profile_mime(const char *format);
/* A stable text of every field (for naming copies): free(3) it. */
char *profile_fingerprint(const struct profile *p);

#endif
