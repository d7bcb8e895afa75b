/* ndjson: read input lines from operands or stdin, write one record a line. */
#ifndef BG_NDJSON_H
#define BG_NDJSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "util.h"

#define ND_MAXLINE_DEFAULT ((size_t)256 << 20)	/* 256 MiB: inline images */
#define ND_RAWMAX 256				/* bytes of a bad line kept */

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
};

/* Prepare to read operands files[0..n) ("-" is stdin); n == 0 reads stdin.
 * Unopenable files are reported and skipped (nd_reader.failed counts). */
void nd_open(struct nd_reader *r, int n, char **files);
void nd_close(struct nd_reader *r);

/* Next non-blank line, '\n' and '\r' stripped, NUL-terminated; valid until
 * the next call.  Returns 1 for a line, -1 for a line that was too long or
 * held a NUL (r->err says which; *line holds a truncated copy), 0 at the end
 * of every input.  In follow mode at the end it returns 2 (caller may sleep
 * and call again).  When the input is O_NONBLOCK and holds no whole line
 * yet it returns 3 (wait until it is readable and call again). */
int nd_line(struct nd_reader *r, char **line, size_t *len);

/* Parse one line strictly into a JSON object.  Returns the object (free with
 * cJSON_Delete) or NULL with r->err describing why (allocated, reader owns). */
cJSON *nd_parse(struct nd_reader *r, const char *line, size_t len);

/* Read the next record: a parsed object, or for a bad line a failed record
 * (stage, code "bad_json") with *bad set.  Returns NULL at the end. */
cJSON *nd_next(struct nd_reader *r, const char *stage, int *bad);

/* Write obj as one compact line with a single write(2).  On EPIPE exit 3
 * quietly; on other errors die(3). */
void nd_write(const cJSON *obj);
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
void nd_print_num(struct sbuf *b, double d);
/* Flush and check stdout at exit: die(3) if it failed. */
void nd_finish(void);

/* Count of operands that could not be opened, for exit status 1 */
extern int nd_open_failures;

#endif
