/* err: diagnostics and exit codes shared by every program. */
#ifndef BG_ERR_H
#define BG_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes, doc/contract.md "Exit status". */
enum {
	EXIT_DONE = 0,		/* stream processed */
	EXIT_BADLINES = 1,	/* processed, some lines were not valid records */
	EXIT_USAGE = 2,		/* usage or configuration error */
	EXIT_FATAL = 3		/* runtime error, stopped early */
};

extern const char *argv0;	/* program name, set by err_init */

/* Set the program name from argv[0] and ignore SIGPIPE (EPIPE is handled). */
void err_init(const char *arg0);
/* Print "prog: msg" to stderr and exit with status; a format ending in ':'
 * gets ": strerror(errno)" appended. */
void die(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* As die, but returns. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that dies (exit 3) on failure; free with free(3). */
void *emalloc(size_t n);
void *ecalloc(size_t n, size_t m);
void *erealloc(void *p, size_t n);
char *estrdup(const char *s);
char *estrndup(const char *s, size_t n);
/* Formatted allocation; free with free(3). */
char *easprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *evasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Parse a whole decimal number in [lo, hi] for option opt, or die(2). */
long err_num(const char *opt, const char *s, long lo, long hi);
/* Parse a non-negative decimal amount (e.g. a cost) for opt, or die(2). */
double err_amount(const char *opt, const char *s);
/* Print "prog VERSION" to stdout and exit 0. */
void err_version(void) __attribute__((noreturn));

#endif
