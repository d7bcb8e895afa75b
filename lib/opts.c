/* opts: option tables for getopt_long and --help (see opts.h). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "opts.h"

#define HELP_COL 26	/* where the meanings start */

void
opts_init(struct opts *o, const struct opt *tab, const char *usage,
    const char *what)
{
	size_t n, i, k = 0;

	for (n = 0; tab[n].name; n++)
		;
	o->tab = tab;
	o->usage = usage;
	o->what = what;
	o->lo = ecalloc(n + 1, sizeof *o->lo);
	for (i = 0; i < n; i++) {
		o->lo[i].name = tab[i].name;
		o->lo[i].has_arg = tab[i].arg ? required_argument : no_argument;
		o->lo[i].val = 256 + (int)i;
		if (tab[i].letter && k + 3 < sizeof o->sh) {
			o->sh[k++] = (char)tab[i].letter;
			if (tab[i].arg)
				o->sh[k++] = ':';
		}
	}
	o->sh[k] = '\0';
}

void
opts_free(struct opts *o)
{
	free(o->lo);
	o->lo = NULL;
}

void
opts_usage(const struct opts *o)
{
	fprintf(stderr, "usage: %s\n", o->usage);
	exit(EXIT_USAGE);
}

void
opts_help(const struct opts *o, FILE *f)
{
	const struct opt *t;
	int w;

	fprintf(f, "usage: %s\n%s\noptions:\n", o->usage, o->what);
	for (t = o->tab; t->name; t++) {
		if (!t->help)
			continue;
		if (t->letter)
			w = fprintf(f, "  -%c, --%s", t->letter, t->name);
		else
			w = fprintf(f, "      --%s", t->name);
		if (t->arg)
			w += fprintf(f, " %s", t->arg);
		fprintf(f, "%*s%s\n", w < HELP_COL - 1 ? HELP_COL - w : 1, "",
		    t->help);
	}
}

/* The table entry getopt_long's answer c stands for, or NULL. */
static const struct opt *
entry(const struct opts *o, int c)
{
	const struct opt *t;

	if (c >= 256)
		return &o->tab[c - 256];
	for (t = o->tab; t->name; t++)
		if (t->letter && t->letter == c)
			return t;
	return NULL;
}

int
opts_next(struct opts *o, int argc, char **argv)
{
	const struct opt *t;
	int c = getopt_long(argc, argv, o->sh, o->lo, NULL);

	if (c == -1)
		return -1;
	if (c == '?' || !(t = entry(o, c)))
		opts_usage(o);	/* getopt_long said what was wrong */
	if (t->id == OPT_HELP) {
		opts_help(o, stdout);
		exit(EXIT_DONE);
	}
	if (t->id == OPT_VERSION)
		err_version();
	return t->id;
}
