/* vipsdl: the pointers to libvips' functions (lib/vipsdl.h) and filling
 * them from the library, opened by its SONAME (the Makefile reads it from
 * the installed libvips.so, so no version is written here). */
#include <dlfcn.h>

#include "err.h"
#include "vipsdl.h"

#ifndef BG_VIPS_SONAME
#error "BG_VIPS_SONAME unset: the Makefile found no libvips.so (libvips-dev)"
#endif

/* __typeof__ of the declaration: f itself is a #define by now */
#define BG_VIPS_DEFINE(f) __typeof__(bgvips_##f) bgvips_##f;
BG_VIPS_FUNCS(BG_VIPS_DEFINE)

#define BG_VIPS_ENTRY(f) { #f, (void **)&bgvips_##f },
static const struct {
	const char *name;
	void **fn;
} table[] = { BG_VIPS_FUNCS(BG_VIPS_ENTRY) };

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
/* Under ASan, the thread-local storage of libraries opened after start
 * (libvips' own) is dynamic, and LeakSanitizer misreads its bounds on
 * glibc 2.36 and crashes at exit ("Tracer caught signal 11",
 * github.com/google/sanitizers/issues/1322).  Not intercepting
 * __tls_get_addr skips only those blocks: the program's own and its
 * linked libraries' TLS is static and still scanned. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "intercept_tls_get_addr=0";
}
#endif

static void __attribute__((noreturn))
fail(void)
{
	const char *e = dlerror();

	die(EXIT_FATAL, "libvips (%s): %s", BG_VIPS_SONAME,
	    e ? e : "cannot load");
}

void
vipsdl_open(void)
{
	static void *lib;
	size_t i;

	if (lib)
		return;
	/* RTLD_LOCAL: its symbols serve only these pointers (its loadable
	 * modules name libvips themselves); RTLD_NOW: a broken install
	 * fails here, whole, not at some later call */
	if (!(lib = dlopen(BG_VIPS_SONAME, RTLD_NOW | RTLD_LOCAL)))
		fail();
	for (i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!(*table[i].fn = dlsym(lib, table[i].name)))
			fail();
}
