# batchgen: one non-recursive Makefile.  `make` builds every cmd/bg-*.c
# against one static library built from lib/.  See README.md.

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DESTDIR ?=

# Build folder: build/ normally, build/asan for the sanitizer run.
B ?= build
# libvips is compiled against but not linked: lib/vipsdl.c opens it on
# first use by its SONAME, read here from the installed libvips.so
PKGS = libcurl libcjson libcrypto gexiv2 gobject-2.0 glib-2.0
CC ?= cc
OPT ?= -O2 -g
SAN ?=
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) vips 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VIPS_SO := $(wildcard $(shell pkg-config --variable=libdir vips 2>/dev/null)/libvips.so)
VIPS_SONAME := $(if $(VIPS_SO),$(shell objdump -p $(VIPS_SO) | \
	awk '$$1 == "SONAME" { print $$2 }'))
CFLAGS ?=
CFLAGS += $(OPT) $(SAN) -std=c11 -D_GNU_SOURCE -DBG_VERSION='"$(VERSION)"' \
	-DBG_DATADIR='"$(DATADIR)/batchgen"' \
	-Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	-Ilib $(PKG_CFLAGS)
# only the libraries a program uses: bg-plan needs no libcurl, and no
# program loads libvips' ~70 libraries (48 ms) before it decodes an image
LDFLAGS += -Wl,--as-needed $(SAN)
LDLIBS += $(PKG_LIBS) -lm -ldl

LIB_SRC := $(sort $(wildcard lib/*.c lib/provider/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIB_HDR := $(wildcard lib/*.h lib/provider/*.h)
LIBA := $(B)/libbatchgen.a
CMDS := $(sort $(basename $(notdir $(wildcard cmd/bg-*.c))))
BINS := $(CMDS:%=$(B)/bin/%)
MANS := $(wildcard cmd/bg-*.1 scripts/bg-*.1)
# scripts users run; bg-example-images only remakes examples/images
SCRIPTS := $(filter-out %.md %.1 scripts/bg-example-images,$(wildcard scripts/bg-*))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNITS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# Debian packages: build, test and demo needs ("make deps" installs the
# missing ones; make test and make demo run it first).
DEB_PKGS = gcc make pkg-config libcurl4-openssl-dev libcjson-dev libvips-dev \
	jq parallel curl python3 postgresql chromium openssh-client libssl-dev \
	openssh-server procps libvips-tools nodejs \
	libgexiv2-dev libimage-exiftool-perl clang libclang-rt-14-dev dpkg-dev \
	python3-aiohttp

.PHONY: all test test-fast test-builds asan-build demo bench install uninstall clean deps check-deps \
	fuzz fuzz-build fuzzers
all: $(BINS) $(UNITS)

$(B)/%.o: %.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# rebuilt when libvips is upgraded, as its SONAME may change
$(B)/lib/vipsdl.o: $(VIPS_SO)
$(B)/lib/vipsdl.o: CFLAGS += $(if $(VIPS_SONAME),-DBG_VIPS_SONAME='"$(VIPS_SONAME)"')

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/%: $(B)/cmd/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# Fuzzing (tests/fuzz/README): libFuzzer harnesses built with clang, ASan
# and UBSan into build/fuzz/harness/, linked with cJSON compiled from
# Debian's source of the installed libcjson (tests/fuzz/cjson.sh), as the
# parsers' behaviour depends on it.  make fuzz runs each FUZZ_SECONDS;
# make test replays the seed corpora (tests/t/fuzz.sh).
FUZZ_SECONDS ?= 60
FUZZ_B = build/fuzz
FUZZ_SAN = -fsanitize=address,undefined,fuzzer-no-link \
	-fno-sanitize-recover=undefined
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZERS := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/harness/%)
FUZZ_LIB := $(B)/tests/fuzz/lib/fuzz.o

fuzzers: $(FUZZERS)
.SECONDARY: $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/fuzz/%.o) $(FUZZ_LIB)

$(B)/cjson/link: tests/fuzz/cjson.sh
	@tests/fuzz/cjson.sh $(@D) $(CC) $(OPT) $(SAN)

$(B)/harness/%: $(B)/tests/fuzz/%.o $(FUZZ_LIB) $(LIBA) $(B)/cjson/link
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBA) \
		$$(cat $(B)/cjson/link) $(filter-out -lcjson,$(LDLIBS))

fuzz-build:
	@$(MAKE) -s B=$(FUZZ_B) CC=clang OPT='-O1 -g -Wno-format-nonliteral' SAN='$(FUZZ_SAN)' fuzzers

fuzz: deps fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS)

# Install missing Debian packages (needs root; runs apt-get update once).
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@# the browser tests' pinned npm packages (tests/browser/package-lock.json)
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends npm >/dev/null; } || exit 1
	@cd tests/browser && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then \
		npm ci --no-audit --no-fund --loglevel=error && touch node_modules; fi

# The whole suite, then again under AddressSanitizer + UBSan.  JOBS (the
# number of CPUs unless given) is both make's -j for the three builds, which
# run side by side, and the number of tests tests/run.sh runs at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) -s -j$(JOBS) test-builds
	@JOBS=$(JOBS) tests/run.sh build build/asan

test-builds: all asan-build fuzz-build
asan-build:
	@$(MAKE) -s B=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' all

# The suite once, without sanitizers (for quick iterations).
test-fast:
	@$(MAKE) -s -j$(JOBS) all
	@JOBS=$(JOBS) tests/run.sh build

# The example batch offline in demo/local/ (PROVIDER=gemini: demo/gemini/;
# PG=1: loaded into a private PostgreSQL cluster too, see scripts/demo.sh).
demo: deps
	@$(MAKE) -s all
	@scripts/demo.sh

bench: deps all
	@tests/bench/run.sh build

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	install -d $(DESTDIR)$(DATADIR)/batchgen
	install -m 644 share/batchgen/models.json $(DESTDIR)$(DATADIR)/batchgen

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(CMDS) $(notdir $(SCRIPTS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANS))) \
		$(DESTDIR)$(DATADIR)/batchgen/models.json

clean:
	rm -rf build
