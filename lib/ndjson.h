/* ndjson: read input lines from operands or stdin, write one record a line. */
#ifndef BG_NDJSON_H
#define BG_NDJSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "util.h"

#define ND_MAXLINE_DEFAULT ((size_t)256 << 20)	/* 256 MiB: inline images */
#define ND_RAWMAX 256				/* bytes of a bad line kept */

/* What nd_line and nd_get return. */
enum {
	ND_BAD = -1,	/* a line that is not a record (r->err says why) */
	ND_END = 0,	/* every input is read */
	ND_LINE = 1,	/* a line (nd_line), a record (nd_get) */
	ND_FOLLOW = 2,	/* follow mode, at the end for now: call again */
	ND_AGAIN = 3	/* an O_NONBLOCK input holds no whole line yet:
			 * wait until it is readable and call again */
};

struct nd_reader {
	char **files;		/* operands; none means stdin */
	int nfiles, idx;
	int fd;			/* current input, -1 before the first */
	const char *name;	/* "<stdin>" or the operand */
	long lineno;		/* line number in the current input */
	char *buf;
	size_t cap, start, end;
	size_t maxlen;		/* longer lines are reported, not kept */
	int eof;		/* current input reached end of file */
	int follow;		/* at EOF of the last input, wait for more */
	int retried;		/* internal: EOF seen once in follow mode */
	int discarding;		/* internal: skipping an overlong line */
	char *err;		/* why the last line was rejected */
	char trunc[ND_RAWMAX + 1];	/* prefix of an overlong line */
	const char *line;	/* nd_get's last line (or its kept prefix) */
	size_t len;
};

/* Prepare to read operands files[0..n) ("-" is stdin); n == 0 reads stdin.
 * Unopenable files are reported and skipped (nd_reader.failed counts). */
void nd_open(struct nd_reader *r, int n, char **files);
void nd_close(struct nd_reader *r);

/* Next non-blank line, '\n' and '\r' stripped, NUL-terminated; valid until
 * the next call.  Returns ND_LINE, ND_BAD for a line that was too long or
 * held a NUL (r->err says which; *line holds a truncated copy), ND_END,
 * ND_FOLLOW or ND_AGAIN. */
int nd_line(struct nd_reader *r, char **line, size_t *len);

/* Parse one line strictly into a JSON object.  Returns the object (free with
 * cJSON_Delete) or NULL with r->err describing why (allocated, reader owns). */
cJSON *nd_parse(struct nd_reader *r, const char *line, size_t len);

/* Warn about the line r just rejected (r->err): the first ND_WARN_BAD
 * of the process are shown, the rest only counted; nd_warn_summary (and
 * nd_finish) then prints "... and N more bad lines" once. */
#define ND_WARN_BAD 10
void nd_warn_bad(const struct nd_reader *r);
void nd_warn_summary(void);

/* The one reading loop's step: the next line as a record.  ND_LINE: *rec
 * is the parsed object.  ND_BAD: the line is not a record; with a stage
 * it is reported ("prog: file:line: why") and *rec is its failed record
 * (code "bad_json"), without one *rec is NULL and the caller says why
 * (r->err).  ND_END, ND_FOLLOW, ND_AGAIN (*rec NULL): as nd_line.  The
 * line read stays in r->line, r->len until the next call (pass-through
 * of the very bytes). */
int nd_get(struct nd_reader *r, const char *stage, cJSON **rec);
/* nd_get for readers that stop at the end: the record or failed record,
 * *bad set for the latter; NULL at the end. */
cJSON *nd_next(struct nd_reader *r, const char *stage, int *bad);

/* The loop of a filter stage (bg-file, bg-export): every record of the
 * operands (or stdin) is given to fn with where = "file:line"; fn returns
 * ND_PASS to have the line written again byte for byte, ND_WRITE to have
 * the (changed) record written.  A line that is not a record is warned
 * about and written as a failed bad_json record of stage.  Returns
 * EXIT_BADLINES when there was one (or an operand could not be opened),
 * else EXIT_DONE; stdout is checked (nd_finish). */
enum { ND_WRITE = 0, ND_PASS = 1 };
int nd_filter(int argc, char **argv, const char *stage,
    int (*fn)(cJSON *rec, const char *where));

/* Write obj as one compact line with a single write(2).  On EPIPE exit 3
 * quietly; on other errors die(3). */
void nd_write(const cJSON *obj);
/* nd_write for records whose strings may not be valid UTF-8 (catalogs
 * and ids from anywhere): bytes that are not become '?'. */
void nd_write_utf8(const cJSON *obj);
/* Write a ready line (len bytes, must end in '\n') with one write(2). */
void nd_write_raw(const char *s, size_t len);
/* Print a record to an allocated compact string (cJSON_free it).  Both
 * print exactly what cJSON_PrintUnformatted would, faster. */
char *nd_print(const cJSON *obj);
/* obj as one line, '\n' included (free(3)); *len its length. */
char *nd_print_line(const cJSON *obj, size_t *len);
/* The same printer, appending to b: the value, a string (as cJSON escapes
 * it; NULL prints ""), a number.  nd_print_append returns -1 for a value
 * cJSON cannot print (cJSON_Invalid, a raw item without text). */
int nd_print_append(struct sbuf *b, const cJSON *v);
void nd_print_str(struct sbuf *b, const char *s);
/* The one JSON string escaper (nd_print_str is it with short_esc): \" \\,
 * with short_esc \b \f \n \r \t, every other byte below 0x20 as
 * \u00XX (without short_esc, the request key's form). */
void nd_json_str(struct sbuf *b, const char *s, int short_esc);
void nd_print_num(struct sbuf *b, double d);
/* Flush and check stdout at exit: die(3) if it failed.  Prints the
 * nd_warn_summary first. */
void nd_finish(void);

/* Count of operands that could not be opened, for exit status 1 */
extern int nd_open_failures;

#endif
