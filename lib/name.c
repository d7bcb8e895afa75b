/* name: names are data, not paths. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "name.h"
#include "util.h"

static int
okchar(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
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
