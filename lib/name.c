/* name: names are data, not paths. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "name.h"
#include "util.h"

#define PATH_DEPTH_MAX 16

static int
okchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_LEN_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!okchar(s[i]))
			return 0;
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

int
name_path_ok(const char *rel, const char *first)
{
	const char *p, *sl;
	int depth = 0;

	if (!rel || !*rel)
		return 0;
	for (p = rel; ; p = sl + 1) {
		size_t n;

		sl = strchr(p, '/');
		n = sl ? (size_t)(sl - p) : strlen(p);
		if (!name_ok(p, n))
			return 0;
		if (depth == 0 && first &&
		    (n != strlen(first) || strncmp(p, first, n)))
			return 0;
		if (++depth > PATH_DEPTH_MAX)
			return 0;
		if (!sl)
			return 1;
	}
}

char *
name_safe(const char *raw, size_t max)
{
	size_t n = strlen(raw), i, o = 0;
	char *s, hex[65];
	int changed = 0;

	if (max < 16)
		max = 16;
	s = emalloc(max + 1);
	for (i = 0; i < n && o < max; i++) {
		unsigned char c = raw[i];

		if (!okchar(c) || (o == 0 && (c == '.' || c == '-')) ||
		    (c == '.' && o > 0 && s[o - 1] == '.')) {
			c = '_';
			changed = 1;
		}
		s[o++] = c;
	}
	if (i < n || n == 0)
		changed = 1;
	if (changed) {
		/* room for "-xxxxxxxx" */
		if (o > max - 9)
			o = max - 9;
		if (o == 0)
			s[o++] = '_';
		util_sha256_hex(raw, n, hex);
		s[o++] = '-';
		memcpy(s + o, hex, 8);
		o += 8;
	}
	s[o] = '\0';
	return s;
}

char *
name_slug(const char *raw, size_t max)
{
	size_t n = strlen(raw), i, o = 0;
	char *s = emalloc(max + 1);

	for (i = 0; i < n && o < max; i++) {
		unsigned char c = raw[i];

		if (isalnum(c))
			s[o++] = tolower(c);
		else if (o > 0 && s[o - 1] != '-')
			s[o++] = '-';
	}
	while (o > 0 && s[o - 1] == '-')
		o--;
	s[o] = '\0';
	if (o == 0) {
		free(s);
		return estrdup("batch");
	}
	return s;
}

char *
name_batch_folder(const char *batch_name, const char *batch_id)
{
	char *slug = name_slug(batch_name, 40), *s;

	s = easprintf("%s-%.8s", slug, batch_id);
	free(slug);
	return s;
}

char *
name_variant_folder(const char *variant_id, const char *folder)
{
	char *safe = name_safe(variant_id, NAME_MAX_DEFAULT), *s;

	s = easprintf("variants/%s/%s", safe, folder);
	free(safe);
	return s;
}

char *
name_batches_folder(const char *folder)
{
	return easprintf("batches/%s", folder);
}

int
name_variant_folder_ok(const char *rel)
{
	return name_path_ok(rel, "variants");
}

int
name_batches_folder_ok(const char *rel)
{
	return name_path_ok(rel, "batches");
}
