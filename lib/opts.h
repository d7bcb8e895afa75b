/* opts: one table of options per program feeds getopt_long and --help,
 * so the help cannot drift from the parser.  The same letter means the
 * same thing in every program (doc/contract.md "Command-line contract"). */
#ifndef BG_OPTS_H
#define BG_OPTS_H

#include <getopt.h>
#include <stdio.h>

enum { OPT_HELP = -2, OPT_VERSION = -3 };	/* handled by opts_next */

struct opt {
	const char *name;	/* long name, without "--"; NULL ends */
	int letter;		/* short letter, or 0: long only */
	const char *arg;	/* argument name, or NULL: a flag */
	const char *help;	/* one line for --help; NULL: not listed (an
				 * old letter kept for scripts) */
	int id;			/* what opts_next returns */
};

/* The standard last entries of every table. */
#define OPTS_END \
	{ "help", 'h', NULL, "print this help and exit", OPT_HELP }, \
	{ "version", 'V', NULL, "print the version and exit", OPT_VERSION }, \
	{ NULL, 0, NULL, NULL, 0 }

struct opts {
	const struct opt *tab;
	const char *usage;	/* synopsis lines, after "usage: " */
	const char *what;	/* one line: what the program does */
	struct option *lo;
	char sh[200];
};

/* Build the getopt tables of tab; free with opts_free. */
void opts_init(struct opts *o, const struct opt *tab, const char *usage,
    const char *what);
void opts_free(struct opts *o);
/* The next option's id (optarg as getopt sets it), or -1 after the last
 * option (optind is then the first operand).  --help prints the help to
 * stdout and exits 0, --version the version; a bad option prints the
 * usage lines to stderr and exits 2. */
int opts_next(struct opts *o, int argc, char **argv);
/* Print the usage lines to stderr and exit 2. */
void opts_usage(const struct opts *o) __attribute__((noreturn));
/* Print the usage lines, what and every listed option to f. */
void opts_help(const struct opts *o, FILE *f);

#endif
