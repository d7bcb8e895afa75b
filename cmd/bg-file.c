/*
 * bg-file: file generated images into the store.
 *
 * Reads result records (bg-generate) from the operands or stdin and writes
 * each one again, one line per input line.  Every output of a succeeded
 * record is hard-linked (or copied) into its per-variant batch folder and
 * the shared batch folder, with a manifest.ndjson line and a .json sidecar
 * in each, and one history.ndjson line; the record gains "filed".  Other
 * records pass through byte for byte; a record that cannot be filed
 * becomes status "failed", error.code "file_failed".
 * With --upload it stores image files in the uploads library instead and
 * prints one uploads record per file.
 * Exit: 0 done, 1 some input lines (or uploads) were refused, 2 usage,
 * 3 fatal (stdout closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "filing.h"
#include "history.h"
#include "image.h"
#include "name.h"
#include "ndjson.h"
#include "opts.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define STAGE "file"
#define MAX_UPLOAD ((size_t)256 << 20)

static const char *root;
static char *rootabs;		/* root made absolute: upload urls, store */
static int rootfd = -1;
static int copy;
static char msg[1024];		/* why the current record was not filed */

/* An output's object, opened inside objects/. */
struct obj {
	int dirfd, fd;
	const char *rel, *base;	/* "objects/3a/3a7f….png", "3a7f….png" */
	char ext[16];
	char sha[65];
	struct stat st;
};

enum { O_COPY = 256, O_ROOT = 'r', O_UPLOAD = 'u', O_KIND = 'k' };

static const struct opt optab[] = {
	{ "copy", 0, NULL, "copy the images instead of hard-linking them",
	    O_COPY },
	{ "root", 'r', "DIR", "the store (default $BG_ROOT or ./bg-data)",
	    O_ROOT },
	{ "upload", 'u', NULL, "add the IMAGE files to the uploads library",
	    O_UPLOAD },
	{ "kind", 'k', "KIND", "the uploads' kind (default reference)",
	    O_KIND },
	OPTS_END
};

/* Say why the record is not filed; a format ending in ':' gets errno. */
static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
fail(const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = strlen(msg);
	if (n && msg[n - 1] == ':')
		snprintf(msg + n, sizeof msg - n, " %s", strerror(saved));
	return -1;
}

static int
is_sha(const char *s)
{
	size_t i;

	for (i = 0; s && i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s && s[64] == '\0';
}

static void
obj_close(struct obj *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->fd = o->dirfd = -1;
}

/* Write inline bytes ("data", base64) into objects/ after checking them
 * against "sha256"; "path" then names the stored object. */
static int
materialise(cJSON *out, const char *b64)
{
	unsigned char *bytes;
	const char *want = rec_str(out, "sha256"), *mime;
	char sha[65], *rel;
	size_t n;
	int w, h, rc;

	bytes = util_b64_decode(b64, strlen(b64), &n);
	if (!bytes)
		return fail("inline data is not base64");
	util_sha256_hex(bytes, n, sha);
	if (want && strcmp(want, sha)) {
		free(bytes);
		return fail("inline data does not match its sha256 %.12s "
		    "(got %.12s)", want, sha);
	}
	mime = image_sniff(bytes, n);
	if (!mime)
		mime = rec_str(out, "mime");
	rc = store_put_object(root, bytes, n, image_ext(mime), sha, &rel);
	if (rc < 0) {
		free(bytes);
		return fail("%s/objects:", root);
	}
	rec_set_str(out, "path", rel);
	if (!want)
		rec_set_str(out, "sha256", sha);
	if (!rec_str(out, "mime") && mime)
		rec_set_str(out, "mime", mime);
	if (rec_num(out, "bytes", -1) < 0)
		rec_set_num(out, "bytes", n);
	if (rec_num(out, "width", -1) < 0 && image_probe(bytes, n, &w, &h) == 0) {
		rec_set_num(out, "width", w);
		rec_set_num(out, "height", h);
	}
	free(rel);
	free(bytes);
	return 0;
}

/* Find (and, when inline, first store) the object of one output. */
static int
object_of(cJSON *out, struct obj *o)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(out, "data");
	const char *sha, *dot;
	double bytes;

	o->fd = o->dirfd = -1;
	if (!cJSON_IsObject(out))
		return fail("an output is not an object");
	if (cJSON_IsString(data) && materialise(out, data->valuestring) < 0)
		return -1;
	o->rel = rec_str(out, "path");
	if (!o->rel)
		return fail("an output has no path");
	if (!filing_path_ok(o->rel, "objects"))
		return fail("output path is not a file under objects/");
	o->fd = filing_openfile(rootfd, o->rel, &o->dirfd);
	if (o->fd < 0)
		return fail("%s:", o->rel);
	if (fstat(o->fd, &o->st) < 0)
		return fail("%s:", o->rel);
	bytes = rec_num(out, "bytes", -1);
	if (bytes >= 0 && bytes != (double)o->st.st_size)
		return fail("%s: %lld bytes, the record says %.0f", o->rel,
		    (long long)o->st.st_size, bytes);
	sha = rec_str(out, "sha256");
	if (sha && !is_sha(sha))
		return fail("output sha256 is not 64 hex digits");
	if (sha)
		memcpy(o->sha, sha, 65);
	else if (filing_sha256_fd(o->fd, o->sha) < 0)
		return fail("%s:", o->rel);
	else
		rec_set_str(out, "sha256", o->sha);
	o->base = strrchr(o->rel, '/') + 1;
	dot = strrchr(o->base, '.');
	snprintf(o->ext, sizeof o->ext, "%s",
	    dot && strlen(dot + 1) < sizeof o->ext ? dot + 1 :
	    image_ext(rec_str(out, "mime")));
	return 0;
}

/* hist_log_once, saying why it failed. */
static int
log_once(int fd, const char *name, const char *key, const char *val,
    const cJSON *line, int scan)
{
	if (hist_log_once(fd, key, val, line, scan) < 0)
		return fail("%s:", name);
	return 0;
}

/*
 * Give folder (open as dfd) the image o under the first free one of
 * stem-<6, 12, 64 hex of the hash>.ext, then its manifest line, sidecar
 * and (for the variant folder) history line, all under the folder's
 * manifest lock.  A name's lines are only ever written after the name
 * exists and before its sidecar does; so a name we just created whose
 * sidecar is missing has no lines yet, a name with its sidecar is done,
 * and only the mixed cases (a killed run, a deleted image) scan the logs.
 */
static int
file_into(int dfd, const char *folder, const char *stem, struct obj *o,
    cJSON *meta, cJSON *hist, char **path)
{
	static const int lens[] = { 6, 12, 64 };
	char *name = NULL, *side = NULL;
	struct stat st;
	int lk, hk, r = -1, i, has_side, scan, rc = 0;

	lk = filing_lock(dfd, HIST_MANIFEST);
	if (lk < 0)
		return fail("%s/manifest.ndjson:", folder);
	for (i = 0; i < 3; i++) {
		free(name);
		name = easprintf("%s-%.*s.%s", stem, lens[i], o->sha, o->ext);
		r = filing_place(dfd, name, o->dirfd, o->base, o->fd, &o->st,
		    o->sha, copy);
		if (r != FILING_TAKEN)
			break;
	}
	if (r < 0) {
		rc = fail("%s/%s:", folder, name);
		goto out;
	}
	if (r == FILING_TAKEN) {
		rc = fail("%s: every name for %.12s holds another file",
		    folder, o->sha);
		goto out;
	}
	*path = easprintf("%s/%s", folder, name);
	side = easprintf("%s.json", name);
	has_side = fstatat(dfd, side, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (r == FILING_SAME && has_side)
		goto out;	/* filed before */
	scan = (r == FILING_NEW) == has_side;
	rec_set_str(meta, "file", name);
	if (log_once(lk, HIST_MANIFEST, "file", name, meta, scan) < 0) {
		rc = -1;
		goto out;
	}
	if (hist) {
		/* lock order: a variant folder's manifest, then history */
		rec_set_str(hist, "path", *path);
		if ((hk = filing_lock(rootfd, HIST_HISTORY)) < 0) {
			rc = fail("history.ndjson:");
			goto out;
		}
		rc = log_once(hk, HIST_HISTORY, "path", *path, hist, scan);
		close(hk);
		if (rc < 0)
			goto out;
	}
	if (!has_side && hist_sidecar_write(dfd, side, meta) < 0)
		rc = fail("%s/%s:", folder, side);
out:
	close(lk);	/* after every log: the sidecar says "done" */
	free(name);
	free(side);
	return rc;
}

/* File every output of one succeeded record; -1 with msg set. */
static int
file_record(cJSON *rec)
{
	cJSON *outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
	cJSON *tg = cJSON_GetObjectItemCaseSensitive(rec, "targets");
	cJSON *out, *all, *one, *meta, *hist, *filed;
	const char *vf = rec_str(tg, "variant_folder");
	const char *bf = rec_str(tg, "batch_folder");
	char now[32], *stem, *vpath, *bpath;
	struct obj o;
	int vd = -1, bd = -1, rc = 0;

	if (!cJSON_IsArray(outs) || cJSON_GetArraySize(outs) == 0)
		return fail("the record has no outputs");
	if (!name_variant_folder_ok(vf))
		return fail("targets.variant_folder is not a safe folder "
		    "under variants/");
	if (!name_batches_folder_ok(bf))
		return fail("targets.batch_folder is not a safe folder "
		    "under batches/");
	if (!(stem = filing_stem(rec)))
		return fail("the record has no variant_id");
	util_now_iso(now);
	all = cJSON_CreateArray();
	cJSON_ArrayForEach(out, outs) {
		if (rc < 0)
			break;
		vpath = bpath = NULL;
		rc = object_of(out, &o);
		/* folders only once there is something good to put there */
		if (rc == 0 && vd < 0 && (vd = filing_opendir(rootfd, vf, 1)) < 0)
			rc = fail("%s:", vf);
		if (rc == 0 && bd < 0 && (bd = filing_opendir(rootfd, bf, 1)) < 0)
			rc = fail("%s:", bf);
		if (rc == 0) {
			meta = hist_manifest_entry(rec, out, now);
			hist = hist_history_entry(rec, out, now);
			rc = file_into(vd, vf, stem, &o, meta, hist, &vpath);
			if (rc == 0)
				rc = file_into(bd, bf, stem, &o, meta, NULL,
				    &bpath);
			cJSON_Delete(meta);
			cJSON_Delete(hist);
		}
		obj_close(&o);
		if (rc == 0) {
			one = cJSON_CreateObject();
			cJSON_AddStringToObject(one, "variant", vpath);
			cJSON_AddStringToObject(one, "batch", bpath);
			cJSON_AddItemToArray(all, one);
		}
		free(vpath);
		free(bpath);
	}
	if (rc == 0) {
		/* filed: the inline bytes are in objects/ now */
		cJSON_ArrayForEach(out, outs)
			cJSON_DeleteItemFromObjectCaseSensitive(out, "data");
		one = cJSON_GetArrayItem(all, 0);
		filed = cJSON_CreateObject();
		cJSON_AddStringToObject(filed, "variant", rec_str(one, "variant"));
		cJSON_AddStringToObject(filed, "batch", rec_str(one, "batch"));
		cJSON_AddItemToObject(filed, "all", all);
		rec_set(rec, "filed", filed);
		/* where the images are, for whoever re-runs this record */
		rec_set_str(rec, "store", rootabs);
	} else {
		cJSON_Delete(all);
	}
	if (vd >= 0)
		close(vd);
	if (bd >= 0)
		close(bd);
	free(stem);
	return rc;
}

/* Records bg-file files: succeeded ones, and its own earlier failures. */
static int
wants_filing(cJSON *rec)
{
	const char *st = rec_status(rec);
	cJSON *e = cJSON_GetObjectItemCaseSensitive(rec, "error");

	if (!strcmp(st, "succeeded"))
		return 1;
	if (strcmp(st, "failed") || !cJSON_IsArray(
	    cJSON_GetObjectItemCaseSensitive(rec, "outputs")))
		return 0;
	if (strcmp(rec_str(e, "stage") ? rec_str(e, "stage") : "", STAGE))
		return 0;
	rec_set_str(rec, "status", "succeeded");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "error");
	return 1;
}

/* nd_filter's callback: file what bg-file files, pass the rest. */
static int
file_or_pass(cJSON *rec, const char *where)
{
	char buf[32];
	const char *job;

	if (!wants_filing(rec))
		return ND_PASS;		/* not ours: the very bytes we read */
	if (file_record(rec) < 0) {
		job = rec_id(rec, "job_id", buf);
		warnx("%s: %s%s%s", where, job ? job : "", job ? ": " : "",
		    msg);
		rec_fail(rec, STAGE, EC_FILE_FAILED, "%s", msg);
	}
	return ND_WRITE;
}

/* The display name of an upload: its base name, valid UTF-8, no control
 * characters, bounded.  It is data only; no file is named after it. */
static char *
display_name(const char *file)
{
	const char *b = strrchr(file, '/');
	char *s;
	size_t i, n;

	b = b && b[1] ? b + 1 : file;
	n = strlen(b);
	if (n > 200)
		n = 200;
	s = estrndup(b, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '_';
	return util_utf8_fix(s, n);
}

/* Store one image file in the uploads library and print its record;
 * -1 when it was refused (a failed record is printed instead). */
static int
upload(const char *file, const char *kind)
{
	char *buf, *name = display_name(file), *rel = NULL, id[14];
	char sha[65];
	const char *mime = NULL;
	enum ec code = EC_UNSUPPORTED_IMAGE;
	size_t n = 0;
	int w, h, fd, found;
	cJSON *rec = NULL;

	buf = store_read_file(file, MAX_UPLOAD, &n);
	if (!buf) {
		code = EC_FILE_FAILED;
		fail("%s:", file);
	} else if (!(mime = image_sniff(buf, n))) {
		fail("%s: not a PNG, JPEG or WebP image", file);
	} else if (image_probe(buf, n, &w, &h) < 0) {
		fail("%s: not a readable %s image", file, image_ext(mime));
	} else if (store_put_object(root, buf, n, image_ext(mime), sha,
	    &rel) < 0) {
		code = EC_FILE_FAILED;
		fail("%s/objects:", root);
	} else if ((fd = filing_lock(rootfd, HIST_UPLOADS)) < 0) {
		code = EC_FILE_FAILED;
		fail("%s/" HIST_UPLOADS ":", root);
	} else {
		/* the same bytes are the same upload: keep the first record */
		hist_upload_id(sha, id);
		found = filing_find(fd, "id", id, &rec);
		if (found == 0) {
			rec = hist_upload_entry(rootabs, rel, sha, name, kind,
			    mime, w, h);
			if (hist_log_append(fd, rec) < 0) {
				code = EC_FILE_FAILED;
				fail("%s/" HIST_UPLOADS ":", root);
				cJSON_Delete(rec);
				rec = NULL;
			}
		} else if (found < 0) {
			code = EC_FILE_FAILED;
			fail("%s/" HIST_UPLOADS ":", root);
		}
		close(fd);
	}
	if (!rec) {
		warnx("%s", msg);
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "name", name);
		cJSON_AddStringToObject(rec, "kind", kind);
		rec_fail(rec, STAGE, code, "%s", msg);
	}
	nd_write(rec);
	found = !cJSON_GetObjectItemCaseSensitive(rec, "error") ? 0 : -1;
	cJSON_Delete(rec);
	free(buf);
	free(rel);
	free(name);
	return found;
}

int
main(int argc, char **argv)
{
	const char *optroot = NULL, *kind = NULL;
	int c, up = 0, i, rc = EXIT_DONE;
	struct opts o;

	err_init(argv[0]);
	opts_init(&o, optab, "bg-file [--copy] [--root DIR] [FILE...]\n"
	    "       bg-file --upload [--kind KIND] [--root DIR] IMAGE...",
	    "File generated images into per-variant and shared batch folders.");
	while ((c = opts_next(&o, argc, argv)) != -1) {
		switch (c) {
		case O_COPY: copy = 1; break;
		case O_ROOT: optroot = optarg; break;
		case O_UPLOAD: up = 1; break;
		case O_KIND: kind = optarg; break;
		}
	}
	opts_free(&o);
	argc -= optind;
	argv += optind;
	if (kind && !up)
		die(EXIT_USAGE, "--kind needs --upload");
	if (kind && (!filing_name_ok(kind) || strlen(kind) > 32))
		die(EXIT_USAGE, "--kind: want up to 32 of [A-Za-z0-9._-]");
	if (up && argc == 0)
		die(EXIT_USAGE, "--upload needs at least one IMAGE");
	root = store_root(optroot);
	rootfd = store_open_root(root);
	if (!(rootabs = realpath(root, NULL)))
		die(EXIT_USAGE, "%s:", root);
	if (!up) {
		rc = nd_filter(argc, argv, STAGE, file_or_pass);
	} else {
		for (i = 0; i < argc; i++)
			if (upload(argv[i], kind ? kind : "reference") < 0)
				rc = EXIT_BADLINES;
		nd_finish();
	}
	free(rootabs);
	close(rootfd);
	return rc;
}
