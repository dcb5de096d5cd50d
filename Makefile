# Makefile — builds the one binary `pgfleet`, runs its tests, demo and benchmark.
# Build output goes under build/ (never committed). Dependencies are found with pkg-config.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
PKGS    := ncursesw libpq yaml-0.1 libbsd-overlay jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The libraries pkg-config cannot find: a build without them stops with their names and the fix.
PKG_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(p))))
# The version (-V): `git describe` of the newest release tag without its "v" (0.1.0, or
# 0.1.0-3-gabc1234-dirty past it); before the first tag, BASE_VERSION and the commit
# (0.1.0+gabc1234); outside a git checkout, BASE_VERSION alone.
BASE_VERSION := 0.1.0
GIT_COMMIT := $(if $(wildcard .git),$(shell git describe --always --abbrev=7 --dirty 2>/dev/null))
GIT_TAG := $(if $(GIT_COMMIT),$(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null))
VERSION := $(if $(GIT_TAG),$(patsubst v%,%,$(GIT_TAG)),$(BASE_VERSION)$(if $(GIT_COMMIT),+g$(GIT_COMMIT)))

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS) -DPGFLEET_VERSION='"$(VERSION)"'
# Each object's header dependencies, written by the compiler beside it.
DEPFLAGS = -MMD -MP
LDLIBS  := $(PKG_LIBS) -lanl -lm

# VARIANT selects a build directory: build/release (default), build/asan (sanitizers); any
# variant named asan-* is a sanitizer build too (a second tree to work in side by side).
VARIANT ?= release
B       := build/$(VARIANT)
ifneq ($(filter asan asan-%,$(VARIANT)),)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(wildcard probes/core/*.c) $(wildcard probes/*.c) $(wildcard actions/*.c) $(filter-out tui/main.c,$(wildcard tui/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_OBJ := $(B)/tests/unit/testutil.o
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka)
HELPERS  := $(B)/tests/delayproxy $(B)/tests/faultproxy $(B)/tests/resolvleak $(B)/tests/rt_tick

.PHONY: FORCE all check unit unit-build sanitize demo bench soak install clean layers format-check deps helpers libs-present
all: $(B)/pgfleet

$(B)/%.o: %.c | libs-present
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Stop early, naming what is missing, rather than with a compiler error about a header.
libs-present:
ifneq ($(PKG_MISSING),)
	@echo "pgfleet: missing libraries (pkg-config cannot find: $(PKG_MISSING)); run \`make deps\` to install them" >&2
	@exit 1
endif

$(B)/libpgfleet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# main.o prints the version: it is rebuilt when the version changes (a commit, a dirty tree).
$(B)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(B)/tui/main.o: $(B)/version.stamp
FORCE:

$(B)/pgfleet: $(B)/tui/main.o $(B)/libpgfleet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every unit test links the helpers of tests/unit/testutil.c, compiled once.
$(UNIT_OBJ): tests/unit/testutil.c | libs-present
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(CMOCKA_CFLAGS) -c $< -o $@

$(B)/tests/test_%: tests/unit/test_%.c $(UNIT_OBJ) $(B)/libpgfleet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS) $(shell pkg-config --libs cmocka)

$(B)/tests/delayproxy: tests/bench/delayproxy.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/tests/faultproxy: tests/fault/faultproxy.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/tests/resolvleak: tests/fault/resolvleak.c $(B)/libpgfleet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

$(B)/tests/rt_tick: tests/bench/rt_tick.c $(B)/libpgfleet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

# make unit: build and run the cmocka unit tests (pure logic, no servers; seconds).
unit-build: $(UNIT_BIN)

unit: unit-build
	@fail=0; for t in $(UNIT_BIN); do $$t >$$t.log 2>&1 || { echo "FAIL $$t (see $$t.log)"; fail=1; }; \
	    grep -h '^\[  PASSED' $$t.log | sed "s|^|$$(basename $$t): |"; done; exit $$fail

helpers: $(HELPERS)

# make check: install what is missing, build the release and sanitizer variants, run every
# suite (unit, integration against real servers, TUI in tmux), one closing line N passed, N failed.
check: deps layers format-check
	$(MAKE) --no-print-directory VARIANT=release all
	$(MAKE) --no-print-directory VARIANT=asan all unit-build helpers
	$(MAKE) --no-print-directory fuzz-build
	tests/run-all build/asan build/release

sanitize:
	$(MAKE) --no-print-directory VARIANT=asan all unit-build

deps:
	@tests/lab/ensure-deps

demo: deps all
	tests/lab/demo $(B)/pgfleet

bench: deps all
	$(MAKE) --no-print-directory $(HELPERS)
	tests/bench/run $(B)

# make soak: the long reconnect soak (make check runs a short pass of it).
soak: deps all helpers
	tests/soak/run $(B)

layers:
	@tests/check-layers

# The tree is formatted by clang-format 14 (Debian 12's); another major lays some lines out
# differently, so it is told and skipped rather than failing on style it did not choose.
format-check:
	@v=$$(clang-format --version | sed -n 's/.*version \([0-9]*\).*/\1/p'); \
	f=$$(git ls-files "*.c" "*.h" 2>/dev/null); \
	if [ -z "$$f" ]; then echo "format-check: skipped (not a git checkout)"; \
	elif [ "$$v" != 14 ]; then echo "format-check: skipped (clang-format $$v here; the tree follows 14)"; \
	else clang-format --dry-run --Werror $$f && echo "format: ok"; fi

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/pgfleet $(DESTDIR)$(BINDIR)/pgfleet
	install -m 644 doc/pgfleet.1 $(DESTDIR)$(MANDIR)/man1/pgfleet.1

clean:
	rm -rf build

# make fuzz (libFuzzer targets, as long as FUZZ_SECONDS says); fuzz-build builds them.
-include tests/fuzz/fuzz.mk

-include $(wildcard $(B)/*.d $(B)/*/*.d $(B)/*/*/*.d)
