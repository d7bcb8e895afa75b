/* err: "prog: context: reason" diagnostics, checked allocation. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "version.h"

const char *argv0 = "batchgen";

void
err_init(const char *arg0)
{
	const char *p;

	if (arg0 && *arg0) {
		p = strrchr(arg0, '/');
		argv0 = p ? p + 1 : arg0;
	}
	signal(SIGPIPE, SIG_IGN);
}

static void __attribute__((format(printf, 1, 0)))
vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	fflush(stdout);
	fprintf(stderr, "%s: ", argv0);
	vfprintf(stderr, fmt, ap);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EXIT_FATAL, "out of memory");
	return p;
}

void *
ecalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		die(EXIT_FATAL, "out of memory");
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(EXIT_FATAL, "out of memory");
	return p;
}

char *
estrdup(const char *s)
{
	return estrndup(s, strlen(s));
}

char *
estrndup(const char *s, size_t n)
{
	char *p = emalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
evasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		die(EXIT_FATAL, "out of memory");
	return s;
}

char *
easprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = evasprintf(fmt, ap);
	va_end(ap);
	return s;
}

long
err_num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		die(EXIT_USAGE, "%s: expected a whole number from %ld to %ld, got '%s'",
		    opt, lo, hi, s);
	return v;
}

double
err_amount(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0) || v > 1e12)
		die(EXIT_USAGE, "%s: expected a non-negative amount, got '%s'", opt, s);
	return v;
}

void
err_version(void)
{
	printf("%s %s\n", argv0, BG_VERSION);
	if (fflush(stdout) || ferror(stdout))
		exit(EXIT_FATAL);
	exit(EXIT_DONE);
}
