# tests/fuzz/fuzz.mk — libFuzzer targets for the code that reads untrusted input (included by the
# top-level Makefile; clang with libclang-rt-14-dev).
#   make fuzz-build              pgfleet's library sources with -fsanitize=fuzzer-no-link,address,
#                                undefined into build/fuzz/obj/, each tests/fuzz/fuzz_NAME.c into
#                                build/fuzz/fuzz_NAME (-fsanitize=fuzzer,address,undefined)
#   make fuzz [FUZZ_SECONDS=300] [FUZZ_TARGETS="escape config"]
#                                runs each target that long on its corpus: the committed seeds of
#                                tests/fuzz/corpus/NAME/ copied to build/fuzz/work/NAME/corpus/
#                                (libFuzzer never writes into tests/); crashes are reported with
#                                the reproducer's path; fails if any target failed.
# A reproducer runs with build/fuzz/fuzz_NAME FILE. tests/integ/fuzz.sh (make check) runs every
# target briefly on its seeds.

FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -Iinclude \
                $(PKG_CFLAGS) -DPGFLEET_VERSION='"$(VERSION)"'
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_UTIL    := $(FUZZ_DIR)/obj/tests/fuzz/fuzzutil.o
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)

.PHONY: fuzz-build fuzz

fuzz-build: $(FUZZ_UTIL) $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c | libs-present
	@mkdir -p $(dir $@)
	@echo "  CC  $< (fuzz)"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

# The targets' helpers (their oracle included) get no coverage instrumentation: it would only
# steer libFuzzer towards the oracle's own branches.
$(FUZZ_UTIL): tests/fuzz/fuzzutil.c | libs-present
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libpgfleet.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_UTIL) $(FUZZ_DIR)/libpgfleet.a
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(FUZZ_UTIL) $(FUZZ_DIR)/libpgfleet.a $(LDLIBS)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

-include $(wildcard $(FUZZ_DIR)/*.d $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*/*/*.d $(FUZZ_DIR)/obj/*/*/*/*.d)
