/* ndjson: a bounded line reader over read(2) and a one-write-per-line writer. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ndjson.h"
#include "record.h"
#include "util.h"

int nd_open_failures;

static int
next_file(struct nd_reader *r)
{
	const char *f;

	if (r->fd > 0)
		close(r->fd);
	r->fd = -1;
	while (r->idx < (r->nfiles ? r->nfiles : 1)) {
		f = r->nfiles ? r->files[r->idx] : "-";
		r->idx++;
		r->lineno = 0;
		r->eof = 0;
		r->start = r->end = 0;
		if (!strcmp(f, "-")) {
			r->fd = 0;
			r->name = "<stdin>";
			return 1;
		}
		r->fd = open(f, O_RDONLY | O_CLOEXEC);
		if (r->fd >= 0) {
			r->name = f;
			return 1;
		}
		warnx("%s:", f);
		nd_open_failures++;
	}
	return 0;
}

void
nd_open(struct nd_reader *r, int n, char **files)
{
	memset(r, 0, sizeof *r);
	r->files = files;
	r->nfiles = n;
	r->fd = -1;
	r->name = "<stdin>";
	r->maxlen = ND_MAXLINE_DEFAULT;
	r->cap = 1 << 16;
	r->buf = emalloc(r->cap);
}

void
nd_close(struct nd_reader *r)
{
	if (r->fd > 0)
		close(r->fd);
	free(r->buf);
	free(r->err);
	r->buf = r->err = NULL;
}

static void
seterr(struct nd_reader *r, char *msg)
{
	free(r->err);
	r->err = msg;
}

/* Fill the buffer; returns bytes read, 0 at EOF, -1 when a non-blocking
 * input has nothing to read yet; dies on read errors. */
static ssize_t
fill(struct nd_reader *r)
{
	ssize_t n;

	if (r->start > 0 && r->start == r->end)
		r->start = r->end = 0;
	if (r->end + 1 >= r->cap) {
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		} else {
			r->cap *= 2;
			r->buf = erealloc(r->buf, r->cap);
		}
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;	/* non-blocking input: nothing there yet */
	if (n < 0)
		die(EXIT_FATAL, "%s:", r->name);
	r->end += n;
	return n;
}

/* Skip to the end of an overlong line: 0 when done, -1 when a
 * non-blocking input has no more yet (r->discarding stays set and the
 * next nd_line goes on, once the caller saw it readable: looping here
 * burned a core while a slow writer paused). */
static int
discard_line(struct nd_reader *r)
{
	char *nl;
	ssize_t got;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			r->start = nl - r->buf + 1;
			r->discarding = 0;
			return 0;
		}
		r->start = r->end = 0;
		if ((got = fill(r)) < 0)
			return -1;
		if (got == 0) {
			r->discarding = 0;
			return 0;
		}
	}
}

/* Report an overlong line starting at s: keep a prefix for the record. */
static void
too_long(struct nd_reader *r, const char *s, char **line, size_t *len)
{
	r->lineno++;
	memcpy(r->trunc, s, ND_RAWMAX);
	r->trunc[ND_RAWMAX] = '\0';
	seterr(r, easprintf("line longer than %zu bytes", r->maxlen));
	*line = r->trunc;
	*len = ND_RAWMAX;
}

int
nd_line(struct nd_reader *r, char **line, size_t *len)
{
	char *s, *nl;
	size_t n, scanned = 0;
	ssize_t got;
	int last;

	if (r->fd < 0 && !next_file(r))
		return ND_END;
	if (r->discarding && discard_line(r) < 0)
		return ND_AGAIN;
	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n',
		    r->end - r->start - scanned);
		if (!nl && r->end - r->start > r->maxlen) {
			too_long(r, r->buf + r->start, line, len);
			r->discarding = 1;
			discard_line(r);
			return ND_BAD;
		}
		if (!nl) {
			scanned = r->end - r->start;
			got = r->eof ? 0 : fill(r);
			if (got > 0)
				continue;
			if (got < 0)
				return ND_AGAIN;
			r->eof = 1;
			last = r->idx >= (r->nfiles ? r->nfiles : 1);
			if (r->follow && last) {
				r->eof = 0;	/* the rest may come later */
				return ND_FOLLOW;
			} else if (r->end > r->start) {
				nl = r->buf + r->end;	/* no final newline */
			} else if (next_file(r)) {
				scanned = 0;
				continue;
			} else {
				return ND_END;
			}
		}
		s = r->buf + r->start;
		n = nl - s;
		r->start = nl == r->buf + r->end ? r->end : (size_t)(nl - r->buf) + 1;
		scanned = 0;
		if (n > r->maxlen) {
			too_long(r, s, line, len);
			return ND_BAD;
		}
		*nl = '\0';
		r->lineno++;
		if (n && s[n - 1] == '\r')
			s[--n] = '\0';
		if (memchr(s, '\0', n)) {
			seterr(r, estrdup("NUL byte in line"));
			*line = s;
			*len = strlen(s);
			return ND_BAD;
		}
		if (strspn(s, " \t") == n)
			continue;	/* blank lines carry no record */
		*line = s;
		*len = n;
		return ND_LINE;
	}
}

cJSON *
nd_parse(struct nd_reader *r, const char *line, size_t len)
{
	const char *end = NULL, *ep;
	cJSON *o;

	o = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!o) {
		ep = cJSON_GetErrorPtr();
		if (ep >= line && ep <= line + len)
			seterr(r, easprintf("invalid JSON near column %ld",
			    (long)(ep - line) + 1));
		else
			seterr(r, estrdup("invalid JSON"));
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		seterr(r, estrdup("not a JSON object"));
		return NULL;
	}
	return o;
}

/* Bad lines warned and left unwarned, for the whole process: a file of a
 * million bad lines gives a few examples and one count, not a million
 * lines on stderr. */
static long warned_bad, unwarned_bad;

void
nd_warn_bad(const struct nd_reader *r)
{
	if (warned_bad < ND_WARN_BAD) {
		warned_bad++;
		warnx("%s:%ld: %s", r->name, r->lineno, r->err);
	} else {
		unwarned_bad++;
	}
}

void
nd_warn_summary(void)
{
	if (unwarned_bad)
		warnx("... and %ld more bad line%s", unwarned_bad,
		    unwarned_bad == 1 ? "" : "s");
	unwarned_bad = 0;
}

int
nd_get(struct nd_reader *r, const char *stage, cJSON **rec)
{
	char *line;
	size_t len;
	int rc;

	*rec = NULL;
	rc = nd_line(r, &line, &len);
	if (rc != ND_LINE && rc != ND_BAD)
		return rc;
	r->line = line;
	r->len = len;
	if (rc == ND_LINE && (*rec = nd_parse(r, line, len)))
		return ND_LINE;
	if (stage) {
		nd_warn_bad(r);
		*rec = rec_bad_line(stage, r->name, r->lineno, line, len,
		    r->err);
	}
	return ND_BAD;
}

cJSON *
nd_next(struct nd_reader *r, const char *stage, int *bad)
{
	cJSON *o;

	*bad = nd_get(r, stage, &o) == ND_BAD;
	return o;
}

int
nd_filter(int argc, char **argv, const char *stage,
    int (*fn)(cJSON *rec, const char *where))
{
	struct nd_reader r;
	char where[300], *line;
	cJSON *rec;
	int rc, bad = 0;

	nd_open(&r, argc, argv);
	while ((rc = nd_get(&r, stage, &rec)) != ND_END) {
		if (rc == ND_BAD) {
			bad = 1;
		} else if (rc != ND_LINE) {
			continue;
		} else {
			snprintf(where, sizeof where, "%s:%ld", r.name,
			    r.lineno);
			if (fn(rec, where) == ND_PASS) {
				line = (char *)r.line;	/* the reader's buffer */
				line[r.len] = '\n';	/* over the NUL */
				nd_write_raw(line, r.len + 1);
				line[r.len] = '\0';
				cJSON_Delete(rec);
				continue;
			}
		}
		nd_write(rec);
		cJSON_Delete(rec);
	}
	nd_close(&r);
	nd_finish();
	return bad || nd_open_failures ? EXIT_BADLINES : EXIT_DONE;
}

/* ---- printing --------------------------------------------------------
 * The same bytes as cJSON_PrintUnformatted, at a fraction of the cost:
 * cJSON 1.7.15 prints every number with sprintf("%1.15g") and checks it
 * with sscanf (about 3,000 instructions each), and most numbers in records
 * are integers (attempt, variation, bytes, width, height, elapsed_ms). */

/* sb_add and sb_addc without the call when there is room */
static inline void
put(struct sbuf *b, const void *p, size_t n)
{
	if (b->len + n < b->cap) {
		memcpy(b->s + b->len, p, n);
		b->len += n;
		b->s[b->len] = '\0';
	} else {
		sb_add(b, p, n);
	}
}

static inline void
put_c(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->s[b->len++] = c;
		b->s[b->len] = '\0';
	} else {
		sb_addc(b, c);
	}
}

void
nd_print_str(struct sbuf *b, const char *s)
{
	nd_json_str(b, s, 1);
}

/* The one JSON string escaper: \" and \\, with short_esc \b \f \n
 * \r \t as cJSON writes them, other bytes below 0x20 as \u00XX, the
 * rest (UTF-8 included) as they are. */
void
nd_json_str(struct sbuf *b, const char *s, int short_esc)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run;
	char esc[6];

	put_c(b, '"');
	for (;;) {
		for (run = p; *p >= 0x20 && *p != '"' && *p != '\\'; p++)
			;
		if (p > run)
			put(b, run, p - run);
		if (!*p)
			break;
		esc[0] = '\\';
		switch (*p == '"' || *p == '\\' || short_esc ? *p : 0) {
		case '"': case '\\': esc[1] = *p; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = esc[3] = '0';
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			put(b, esc, 6);
			p++;
			continue;
		}
		put(b, esc, 2);
		p++;
	}
	put_c(b, '"');
}

/* A number: integers below 1e15 (all that "%1.15g" prints as plain
 * digits) directly, anything else by cJSON itself. */
void
nd_print_num(struct sbuf *b, double d)
{
	char buf[64], *p = buf + sizeof buf;
	unsigned long long u;
	cJSON n;

	if (fabs(d) < 1e15 && d == (double)(long long)d) {
		u = d < 0 ? (unsigned long long)-(long long)d :
		    (unsigned long long)d;
		do
			*--p = '0' + u % 10;
		while (u /= 10);
		if (signbit(d))
			*--p = '-';	/* -0 too, as "%g" does */
		put(b, p, buf + sizeof buf - p);
		return;
	}
	memset(&n, 0, sizeof n);
	n.type = cJSON_Number;
	n.valuedouble = d;
	n.valueint = 0;
	if (!cJSON_PrintPreallocated(&n, buf, (int)sizeof buf - 6, 0))
		die(EXIT_FATAL, "cannot print the number %g", d);
	sb_adds(b, buf);
}

int
nd_print_append(struct sbuf *b, const cJSON *v)
{
	const cJSON *c;

	switch (v->type & 0xFF) {
	case cJSON_NULL:
		put(b, "null", 4);
		break;
	case cJSON_False:
		put(b, "false", 5);
		break;
	case cJSON_True:
		put(b, "true", 4);
		break;
	case cJSON_Number:
		nd_print_num(b, v->valuedouble);
		break;
	case cJSON_Raw:
		if (!v->valuestring)
			return -1;
		sb_adds(b, v->valuestring);
		break;
	case cJSON_String:
		nd_print_str(b, v->valuestring);
		break;
	case cJSON_Array:
		put_c(b, '[');
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				put_c(b, ',');
			if (nd_print_append(b, c) < 0)
				return -1;
		}
		put_c(b, ']');
		break;
	case cJSON_Object:
		put_c(b, '{');
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				put_c(b, ',');
			nd_print_str(b, c->string);
			put_c(b, ':');
			if (nd_print_append(b, c) < 0)
				return -1;
		}
		put_c(b, '}');
		break;
	default:
		return -1;	/* cJSON_Invalid: cJSON prints nothing */
	}
	return 0;
}

void
nd_write_raw(const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(1, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE)
			exit(EXIT_FATAL);
		if (n < 0)
			die(EXIT_FATAL, "stdout:");
		s += n;
		len -= n;
	}
}

/* The one record writer: print into one reused buffer, repair UTF-8
 * when asked, write the line with one write(2). */
static void
write_rec(const cJSON *obj, int fix)
{
	static struct sbuf b;

	sb_reset(&b);
	if (nd_print_append(&b, obj) < 0)
		die(EXIT_FATAL, "record cannot be printed (invalid JSON value)");
	if (fix)
		util_utf8_fix(b.s, b.len);
	sb_addc(&b, '\n');
	nd_write_raw(b.s, b.len);
}

void
nd_write(const cJSON *obj)
{
	write_rec(obj, 0);
}

void
nd_write_utf8(const cJSON *obj)
{
	write_rec(obj, 1);
}

char *
nd_print(const cJSON *obj)
{
	struct sbuf b = {0};

	if (nd_print_append(&b, obj) < 0)
		die(EXIT_FATAL, "record cannot be printed (invalid JSON value)");
	return b.s;
}

char *
nd_print_line(const cJSON *obj, size_t *len)
{
	struct sbuf b = {0};

	if (nd_print_append(&b, obj) < 0)
		die(EXIT_FATAL, "record cannot be printed (invalid JSON value)");
	sb_addc(&b, '\n');
	*len = b.len;
	return b.s;
}

void
nd_finish(void)
{
	nd_warn_summary();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			exit(EXIT_FATAL);
		die(EXIT_FATAL, "stdout:");
	}
}
