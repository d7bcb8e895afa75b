/*
 * bg-export: listing-ready copies of filed images, with a verdict each.
 *
 * Reads result records (bg-generate, bg-file) from the operands or stdin
 * and writes each one again, one line per input line.  For every output
 * of a succeeded record and every --profile, a channel copy is made under
 * exports/<profile>/<batch>/ (sRGB, flattened onto white, resized,
 * reframed when the profile wants a fill, XMP DigitalSourceType written)
 * and checked; the record gains "exports".  The masters in objects/ are
 * only read.  Other records pass through byte for byte.  An existing copy
 * (with its .json sidecar) is reused, so a second run writes nothing.
 * Exit: 0 done, 1 some input lines were not records, 2 usage or a bad
 * profiles file, 3 fatal (stdout closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "decisions.h"
#include "err.h"
#include "filing.h"
#include "image.h"
#include "listing.h"
#include "name.h"
#include "ndjson.h"
#include "opts.h"
#include "profile.h"
#include "provenance.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define STAGE "export"
#define MASTER_MAX ((size_t)256 << 20)
#define MAX_PROFILES 32

static int rootfd = -1;
static const struct profile *profs[MAX_PROFILES];
static char *prints[MAX_PROFILES];	/* profile fingerprints */
static int nprof;
static struct dc_set *approved;	/* --approved: export only these images */

enum { O_PROFILE = 'p', O_PROFILES = 256, O_LIST = 'l', O_ROOT = 'r',
	O_APPROVED };

static const struct opt optab[] = {
	{ "profile", 'p', "NAME", "a profile to export for (repeatable; "
	    "--list-profiles lists them)",
	    O_PROFILE },
	{ "profiles", 0, "FILE", "your own profiles (JSON, the shape "
	    "--list-profiles prints)", O_PROFILES },
	{ "list-profiles", 'l', NULL, "print every known profile as JSON and "
	    "exit", O_LIST },
	{ "approved", 0, "FILE", "export only the images approved in FILE "
	    "(the review page's decisions)", O_APPROVED },
	{ "root", 'r', "DIR", "the store (default $BG_ROOT or ./bg-data)",
	    O_ROOT },
	OPTS_END
};

/* The master's bytes, read through the store's safe walk; NULL + why. */
static char *
read_master(const cJSON *out, size_t *len, char *why, size_t n)
{
	const char *rel = rec_str(out, "path");
	int fd, dfd;
	char *buf;

	if (!rel || !filing_path_ok(rel, "objects")) {
		snprintf(why, n, "output path is not a file under objects/");
		return NULL;
	}
	if ((fd = filing_openfile(rootfd, rel, &dfd)) < 0) {
		snprintf(why, n, "%s: %s", rel, strerror(errno));
		return NULL;
	}
	if (!(buf = filing_read_fd(fd, MASTER_MAX, len)))
		snprintf(why, n, "%s: %s", rel, strerror(errno));
	close(fd);
	close(dfd);
	return buf;
}

/* Read a small file in dfd; NULL when missing. */
static cJSON *
read_sidecar(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t len;
	char *s;
	cJSON *j = NULL;

	if (fd < 0)
		return NULL;
	if ((s = filing_read_fd(fd, 1 << 20, &len)))
		j = cJSON_ParseWithLengthOpts(s, len + 1, NULL, 1);
	free(s);
	close(fd);
	return cJSON_IsObject(j) ? j : (cJSON_Delete(j), NULL);
}

static cJSON *
entry_new(const struct profile *p, const char *path, const char *object)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "profile", p->name);
	if (path)
		cJSON_AddStringToObject(e, "path", path);
	else
		cJSON_AddNullToObject(e, "path");
	cJSON_AddStringToObject(e, "verdict", "fail");
	cJSON_AddItemToObject(e, "problems", cJSON_CreateArray());
	if (object)
		cJSON_AddStringToObject(e, "object", object);
	return e;
}

/* Fill e from the checks of the copy img. */
static void
entry_check(cJSON *e, const struct profile *p, const void *img, size_t len,
    const char *dst, int reframed)
{
	struct listing_facts f;
	cJSON *probs = cJSON_GetObjectItemCaseSensitive(e, "problems");

	listing_check(img, len, p, dst, probs, &f);
	rec_set_str(e, "verdict", cJSON_GetArraySize(probs) ? "fail" : "pass");
	rec_set_num(e, "width", f.width);
	rec_set_num(e, "height", f.height);
	rec_set_num(e, "bytes", (double)f.bytes);
	if (f.mime)
		rec_set_str(e, "mime", f.mime);
	else
		rec_set(e, "mime", cJSON_CreateNull());
	rec_set_bool(e, "reframed", reframed);
}

/* An entry from a sidecar that still matches its copy, else NULL. */
static cJSON *
entry_reuse(int dfd, const char *name, const char *side)
{
	cJSON *j = read_sidecar(dfd, side), *e;
	struct stat st;

	if (!j)
		return NULL;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || rec_num(j, "bytes", -1) != st.st_size) {
		cJSON_Delete(j);
		return NULL;
	}
	e = cJSON_DetachItemFromObjectCaseSensitive(j, "entry");
	cJSON_Delete(j);
	return cJSON_IsObject(e) ? e : (cJSON_Delete(e), NULL);
}

/* Make, store and check one copy into dfd/name; the entry or NULL. */
static cJSON *
entry_make(int dfd, const char *name, cJSON *e, const struct profile *p,
    const char *master, size_t mlen, const cJSON *rec, const char *dst,
    char *why, size_t n)
{
	char *xmp, *old = NULL;
	void *copy = NULL;
	size_t xlen = 0, clen = 0;
	int reframed = 0, fd, rc;

	if (!(xmp = prov_xmp_for(master, mlen, dst, rec_str(rec, "provider"),
	    rec_str(rec, "model"), &xlen))) {
		snprintf(why, n, "unreadable image (no metadata reader)");
		return NULL;
	}
	rc = listing_make(master, mlen, p, xmp, xlen, &copy, &clen, &reframed,
	    why, n);
	g_free(xmp);
	if (rc < 0)
		return NULL;
	if ((rc = filing_write_new(dfd, name, copy, clen, 0)) < 0) {
		snprintf(why, n, "%s: %s", name, strerror(errno));
		g_free(copy);
		return NULL;
	}
	if (rc == 0 && (fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) >= 0) {
		/* a killed run left the copy without its sidecar: check it */
		old = filing_read_fd(fd, MASTER_MAX, &clen);
		close(fd);
	}
	entry_check(e, p, old ? old : copy, clen, dst, reframed);
	free(old);
	g_free(copy);
	return e;
}

static void
write_sidecar(int dfd, const char *side, const cJSON *e, const char *dst)
{
	cJSON *j = cJSON_CreateObject();
	char *s;
	size_t n;

	cJSON_AddItemToObject(j, "entry", cJSON_Duplicate(e, 1));
	cJSON_AddNumberToObject(j, "bytes", rec_num(e, "bytes", 0));
	cJSON_AddStringToObject(j, "digital_source_type", dst);
	s = nd_print(j);
	n = strlen(s);
	s[n] = '\n';
	if (filing_write_new(dfd, side, s, n + 1, 0) < 0)
		warnx("%s:", side);
	cJSON_free(s);
	cJSON_Delete(j);
}

/* The copies of one output go to exports/<profile>/<batch>/. */
static char *
batch_dir(const cJSON *rec)
{
	const char *bf = rec_str(cJSON_GetObjectItemCaseSensitive(rec,
	    "targets"), "batch_folder");
	char buf[32];
	const char *id = rec_id(rec, "batch_id", buf);

	if (bf && filing_path_ok(bf, "batches") && strchr(bf, '/'))
		return estrdup(strrchr(bf, '/') + 1);
	return name_safe(id ? id : "batch", 64);
}

struct master {
	const cJSON *out;
	char *bytes;		/* read when first needed */
	size_t len;
	char sha[65];
	int failed;
	char why[512];
};

static int
master_load(struct master *m)
{
	if (m->bytes || m->failed)
		return m->failed ? -1 : 0;
	if (!(m->bytes = read_master(m->out, &m->len, m->why,
	    sizeof m->why))) {
		m->failed = 1;
		return -1;
	}
	if (!m->sha[0])
		util_sha256_hex(m->bytes, m->len, m->sha);
	return 0;
}

/* One output for one profile: the export entry (never NULL). */
static cJSON *
export_one(const cJSON *rec, struct master *m, int pi, const char *bdir,
    const char *stem, const char *where)
{
	const struct profile *p = profs[pi];
	const char *dst = prov_source_type(rec_str(rec, "provider"));
	const char *ext = !strcmp(p->format, "jpeg") ? "jpg" : p->format;
	char key[65], *id, *folder, *name, *side, *path, why[512] = "";
	cJSON *e = NULL, *fresh;
	int dfd;

	if (!m->sha[0] && master_load(m) < 0)
		goto bad;
	id = easprintf("%s\n%s\n%s", m->sha, prints[pi], dst);
	util_sha256_hex(id, strlen(id), key);
	free(id);
	folder = easprintf("exports/%s/%s", p->name, bdir);
	name = easprintf("%s-%.12s.%s", stem, key, ext);
	side = easprintf("%s.json", name);
	path = easprintf("%s/%s", folder, name);
	if ((dfd = filing_opendir(rootfd, folder, 1)) < 0) {
		snprintf(why, sizeof why, "%s: %s", folder, strerror(errno));
	} else if (!(e = entry_reuse(dfd, name, side))) {
		fresh = entry_new(p, path, rec_str(m->out, "path"));
		if (master_load(m) < 0)
			snprintf(why, sizeof why, "%s", m->why);
		else if ((e = entry_make(dfd, name, fresh, p, m->bytes, m->len,
		    rec, dst, why, sizeof why)))
			write_sidecar(dfd, side, e, dst);
		if (!e)
			cJSON_Delete(fresh);
	}
	if (dfd >= 0)
		close(dfd);
	free(folder);
	free(name);
	free(side);
	free(path);
	if (e)
		return e;
bad:
	warnx("%s: %s: %s", where, p->name, why[0] ? why : m->why);
	e = entry_new(p, NULL, rec_str(m->out, "path"));
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(e, "problems"),
	    cJSON_CreateString("unreadable"));
	rec_set_bool(e, "reframed", 0);
	return e;
}

/* Without --approved every output is exported; with it, only the images
 * approved there (the decision is marked used). */
static int
wanted(const cJSON *rec, const cJSON *out)
{
	struct dc_entry *e;

	if (!approved)
		return 1;
	e = dc_find(approved, rec_str(rec, "job_id"), rec_str(out, "sha256"));
	if (!e)
		return 0;
	e->used = 1;
	return e->kind == DC_APPROVED;
}

static void
export_record(cJSON *rec, const char *where)
{
	cJSON *outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
	cJSON *out, *all = cJSON_CreateArray();
	const char *sha;
	char *bdir = batch_dir(rec), *stem = filing_stem(rec);
	struct master m;
	int i;

	if (!stem)
		stem = estrdup("image");
	cJSON_ArrayForEach(out, outs) {
		if (!wanted(rec, out))
			continue;
		memset(&m, 0, sizeof m);
		m.out = out;
		sha = rec_str(out, "sha256");
		if (sha && strlen(sha) == 64 && strspn(sha,
		    "0123456789abcdef") == 64)
			memcpy(m.sha, sha, 65);
		for (i = 0; i < nprof; i++)
			cJSON_AddItemToArray(all, export_one(rec, &m, i, bdir,
			    stem, where));
		free(m.bytes);
	}
	rec_set(rec, "exports", all);
	free(bdir);
	free(stem);
}

/* nd_filter's callback: export a succeeded record, pass the rest. */
static int
export_or_pass(cJSON *rec, const char *where)
{
	cJSON *outs = cJSON_GetObjectItemCaseSensitive(rec, "outputs");

	const cJSON *out;
	int n = 0;

	if (strcmp(rec_status(rec), "succeeded") || !cJSON_IsArray(outs))
		return ND_PASS;
	cJSON_ArrayForEach(out, outs)
		n += wanted(rec, out);
	if (!n)
		return ND_PASS;	/* nothing to export: the record as read */
	export_record(rec, where);
	return ND_WRITE;
}

static void
list_profiles(const struct profile *own, int nown)
{
	cJSON *a = profile_builtin_json();
	char *s;
	int i;

	for (i = 0; i < nown; i++)
		cJSON_AddItemToArray(a, profile_to_json(&own[i]));
	s = cJSON_Print(a);
	printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(a);
	nd_finish();
	exit(EXIT_DONE);
}

/* Resolve --profile names: the profiles file first, then built-ins. */
static void
pick_profiles(char **names, int n, const struct profile *own, int nown)
{
	int i, j;

	for (i = 0; i < n; i++) {
		profs[nprof] = NULL;
		for (j = 0; j < nown && !profs[nprof]; j++)
			if (!strcmp(own[j].name, names[i]))
				profs[nprof] = &own[j];
		if (!profs[nprof])
			profs[nprof] = profile_builtin(names[i]);
		if (!profs[nprof])
			die(EXIT_USAGE, "--profile %s: no such profile "
			    "(--list-profiles lists them)", names[i]);
		for (j = 0; j < nprof; j++)
			if (profs[j] == profs[nprof])
				break;
		if (j == nprof)
			prints[nprof] = profile_fingerprint(profs[nprof]),
			    nprof++;
	}
}

/* The command line. */
struct args {
	const char *root, *profiles, *approved;
	char *names[MAX_PROFILES];
	int nnames, list;
};

static void
options(int argc, char **argv, struct args *a)
{
	struct opts o;
	int c;

	opts_init(&o, optab, "bg-export --profile NAME... [--profiles FILE] "
	    "[--approved FILE] [--root DIR] [FILE...]\n"
	    "       bg-export --list-profiles [--profiles FILE]",
	    "Make checked, listing-ready copies of filed images under "
	    "exports/.");
	while ((c = opts_next(&o, argc, argv)) != -1) {
		switch (c) {
		case O_PROFILE:
			if (a->nnames == MAX_PROFILES)
				die(EXIT_USAGE, "--profile: at most %d",
				    MAX_PROFILES);
			a->names[a->nnames++] = optarg;
			break;
		case O_PROFILES: a->profiles = optarg; break;
		case O_LIST: a->list = 1; break;
		case O_ROOT: a->root = optarg; break;
		case O_APPROVED: a->approved = optarg; break;
		}
	}
	opts_free(&o);
}

int
main(int argc, char **argv)
{
	struct args a = {0};
	const char *root;
	struct dc_set dset;
	char why[256];
	struct profile *own = NULL;
	int nown = 0, rc, i;

	err_init(argv[0]);
	options(argc, argv, &a);
	argc -= optind;
	argv += optind;
	if (a.profiles && profile_load(a.profiles, &own, &nown, why,
	    sizeof why) < 0)
		die(EXIT_USAGE, "%s: %s", a.profiles, why);
	if (a.list)
		list_profiles(own, nown);
	if (a.nnames == 0)
		die(EXIT_USAGE, "no --profile given (--list-profiles lists "
		    "them)");
	pick_profiles(a.names, a.nnames, own, nown);
	if (a.approved) {
		dc_init(&dset);
		if (dc_load(&dset, a.approved) < 0)
			exit(EXIT_USAGE);
		approved = &dset;
	}
	root = store_root(a.root);
	rootfd = store_open_root(root);
	image_init();
	rc = nd_filter(argc, argv, STAGE, export_or_pass);
	if (approved) {
		/* a decision for an image not in the results is said, not
		 * dropped */
		if (dc_warn_unused(approved, "the results") || approved->bad)
			rc = rc == EXIT_DONE ? EXIT_BADLINES : rc;
		dc_free(approved);
	}
	close(rootfd);
	for (i = 0; i < nprof; i++)
		free(prints[i]);
	free(own);
	return rc;
}
