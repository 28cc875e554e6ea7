# libdistq - one hand-written Makefile.
#
#   make            library (static + shared), examples, the distq program
#   make demo       install missing Debian packages, build, train on all cores
#   make check      unit tests, examples, pkg-config build, ASan+UBSan, TSan,
#                   a short libFuzzer run (FUZZ_CHECK_SECONDS per target)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (default 60) each
#   make stress     lost-update and crash stress, STRESS_SECONDS (default 120)
#   make bench      benchmarks (never part of check)
#   make docs       Doxygen over the public header, warnings are errors
#   make install    PREFIX=/usr/local DESTDIR=  (uninstall likewise)
#   make format-check   clang-format --dry-run over the sources
#
#   V=1             show full command lines
#   SANITIZE=address,undefined | thread   sanitizer build (own build dir)

MAJOR := 0
MINOR := 1
PATCH := 0
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin

CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
OPT ?= -O2
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZE))
OPT ?= -O1
endif
comma := ,

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef \
	-Wcast-align -Wwrite-strings -Wvla
CPPFLAGS_ALL := -Iinclude -Ilib -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)
CFLAGS_ALL := -std=c11 $(OPT) -g $(WARN) -fPIC -pthread -MMD -MP $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs hwloc 2>/dev/null || echo -lhwloc) \
	-lz -lm -pthread $(LDLIBS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
ifneq ($(findstring undefined,$(SANITIZE)),)
CFLAGS_ALL += -fno-sanitize-recover=all
endif
LDFLAGS_ALL := -fsanitize=$(SANITIZE) $(LDFLAGS)
else
LDFLAGS_ALL := $(LDFLAGS)
endif

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

LIB_SRC := $(wildcard lib/*.c lib/envs/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC := $(wildcard bench/*.c)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

STATIC := $(BUILD)/libdistq.a
SONAME := libdistq.so.$(MAJOR)
SHARED := $(BUILD)/libdistq.so.$(VERSION)
DEPS_STAMP := build/.deps-ok

.PHONY: FORCE all deps demo check test test-unit test-examples test-pkgconfig \
	check-asan check-tsan bench docs install uninstall clean format \
	format-check fuzz fuzz-build fuzz-seeds fuzz-toolchain check-fuzz \
	stress stress-build bench-scaling
.DEFAULT_GOAL := all

all: $(STATIC) $(SHARED) $(BUILD)/distq $(EXAMPLES)

# Missing Debian packages are installed by a script that says what it does.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	$(Q)sh scripts/deps.sh
	$(Q)mkdir -p build && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -DDQ_BUILDING_LIBRARY -fvisibility=hidden \
		$(CFLAGS_ALL) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
		$(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)
	$(Q)ln -sf libdistq.so.$(VERSION) $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(BUILD)/libdistq.so

# Programs that use the public API only: no -Ilib.
PUB_CPPFLAGS := -Iinclude -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)

$(BUILD)/distq: $(CLI_OBJ) $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(STATIC) \
		$(LDLIBS_ALL)

$(BUILD)/cli/%.o: cli/%.c | $(DEPS_STAMP)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/examples/%: examples/%.c $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< \
		$(STATIC) $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) -O3 $(LDFLAGS_ALL) -o $@ $< \
		$(STATIC) $(LDLIBS_ALL)

# Unit tests mirror lib/ one to one and may use private headers.
# TEST_LDFLAGS: extra link flags of one test (set per target below).
$(BUILD)/tests/%: tests/%.c tests/dq_test.h tests/dq_fault_pthread.h $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(TEST_LDFLAGS) \
		-o $@ $< $(STATIC) -lcmocka $(LDLIBS_ALL)

# test_faults fails allocations on purpose: every call to the allocator
# from its own code and from libdistq.a's objects goes to its __wrap_*
# functions instead (calls inside shared libraries are not redirected).
FAULTS_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	-Wl,--wrap=aligned_alloc,--wrap=posix_memalign,--wrap=free
$(BUILD)/tests/test_faults: private TEST_LDFLAGS := $(FAULTS_WRAP)

# Suites that fail the library's pthread set-up calls on purpose
# (tests/dq_fault_pthread.h): mutexes, condition variables and barriers
# that cannot be initialised, threads that cannot be started.
PTHREAD_WRAP := -Wl,--wrap=pthread_mutex_init,--wrap=pthread_cond_init \
	-Wl,--wrap=pthread_barrier_init,--wrap=pthread_create
$(BUILD)/tests/test_table $(BUILD)/tests/test_learner \
$(BUILD)/tests/test_solve: private TEST_LDFLAGS := $(PTHREAD_WRAP)

# ---------------------------------------------------------------- tests --

# DQ_STRESS scales the concurrency stress tests (default 1; make stress
# uses more).
check: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory test
	$(Q)$(MAKE) --no-print-directory test-pkgconfig
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory docs
	$(Q)$(MAKE) --no-print-directory check-asan
	$(Q)$(MAKE) --no-print-directory check-tsan
	$(Q)$(MAKE) --no-print-directory check-fuzz
	$(Q)$(MAKE) --no-print-directory stress-build # built, run by make stress
	@echo "make check: all suites passed (plain, ASan+UBSan, TSan, fuzz)"

test: test-unit test-examples

test-unit: $(TESTS) $(BUILD)/distq
	$(Q)sh scripts/run-tests.sh $(BUILD) $(TESTS)

test-examples: $(EXAMPLES) $(BUILD)/distq
	$(Q)sh scripts/run-examples.sh $(BUILD)

check-asan:
	$(Q)ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(MAKE) --no-print-directory SANITIZE=address,undefined test

check-tsan:
	$(Q)TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	$(MAKE) --no-print-directory SANITIZE=thread test

# Build one example against the installed library through pkg-config.
STAGE := $(abspath $(BUILD)/stage)
test-pkgconfig: all
	$(Q)rm -rf $(STAGE)
	$(Q)$(MAKE) --no-print-directory install PREFIX=$(STAGE) >/dev/null
	$(Q)PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig sh scripts/pkgconfig-test.sh \
		$(STAGE) examples/quickstart.c $(BUILD)/pkgconfig-quickstart

format:
	clang-format -i $(LIB_SRC) $(wildcard lib/*.h lib/envs/*.h) \
		include/distq.h $(TEST_SRC) tests/dq_test.h \
		tests/dq_fault_pthread.h $(EXAMPLE_SRC) \
		$(CLI_SRC) $(wildcard cli/*.h) $(BENCH_SRC)

format-check:
	$(Q)if command -v clang-format >/dev/null 2>&1; then \
		clang-format --dry-run -Werror $(LIB_SRC) \
		$(wildcard lib/*.h lib/envs/*.h) include/distq.h \
		$(TEST_SRC) tests/dq_test.h tests/dq_fault_pthread.h \
		$(EXAMPLE_SRC) $(CLI_SRC) \
		$(wildcard cli/*.h) $(BENCH_SRC) && echo "format-check: ok"; \
	else echo "format-check: clang-format not installed, skipped"; fi

# ---------------------------------------------------------------- fuzz ---

# Every tests/fuzz/fuzz_<name>.c is a libFuzzer target, build/fuzz/
# fuzz_<name>, linked with the library and the distq program's sources
# but not its main(), all compiled by clang with ASan and UBSan (and
# coverage for the fuzzer). Its seeds are tests/fuzz/corpus_<name>/, which
# scripts/fuzz.sh copies to a scratch directory under build/ before each
# run so that the checked-in corpus never changes. clang is a dependency
# (scripts/deps.sh); without it these targets fail and say why.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 10
FUZZ_DIR := build/fuzz
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,\
	$(LIB_SRC) $(filter-out cli/distq.c,$(CLI_SRC)))
FUZZ_CPPFLAGS := -DDQ_BUILDING_LIBRARY -Iinclude -Ilib \
	-D_POSIX_C_SOURCE=200809L $(CPPFLAGS)
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -pthread -MMD -MP \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer $(CFLAGS)
# Checked on every use (it takes a moment), so that a missing clang is
# named as such rather than as a failed compile.
fuzz-toolchain: | $(DEPS_STAMP)
	$(Q)sh scripts/fuzz.sh --toolchain $(FUZZ_CC)

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-toolchain
	$(call say,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) | fuzz-toolchain
	$(call say,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_OBJ) $(LDLIBS_ALL)

# Kept between builds (they are only named by the pattern rule above).
.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	$(Q)sh scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

check-fuzz: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS)

# Regenerate the checkpoint seeds (checked in; rarely needed).
fuzz-seeds: $(STATIC)
	$(Q)mkdir -p $(FUZZ_DIR) tests/fuzz/corpus_checkpoint
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) $(LDFLAGS_ALL) \
		-o $(FUZZ_DIR)/seed_checkpoint tests/fuzz/seed_checkpoint.c \
		$(STATIC) $(LDLIBS_ALL)
	$(Q)$(FUZZ_DIR)/seed_checkpoint tests/fuzz/corpus_checkpoint
	$(Q)ls -l tests/fuzz/corpus_checkpoint

# -------------------------------------------------------------- stress ---

# Minutes of contention (tests/stress/*.c), built plain and under TSan,
# plus the checkpoint kill test many times over; see docs/reliability.md.
STRESS_SECONDS ?= 120
STRESS_SRC := $(wildcard tests/stress/*.c)
STRESSERS := $(STRESS_SRC:tests/stress/%.c=$(BUILD)/stress/%)

$(BUILD)/stress/%: tests/stress/%.c $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< \
		$(STATIC) $(LDLIBS_ALL)

# test_crash (tests/test_crash.c) is the checkpoint kill test.
stress-build: $(STRESSERS) $(filter %/test_crash,$(TESTS))

stress: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory stress-build
	$(Q)$(MAKE) --no-print-directory SANITIZE=thread stress-build
	$(Q)sh scripts/stress.sh $(STRESS_SECONDS) build build/san-thread

# ---------------------------------------------------------------- demo ---

demo: $(DEPS_STAMP) all
	$(Q)$(BUILD)/distq train taxi --threads all --seconds 5

# ---------------------------------------------------------------- bench --

bench: $(BENCHES)
	$(Q)sh bench/run.sh $(BUILD)

# The paired 1 / 2-thread scaling benchmark (3-6 minutes); with
# DOCS=docs/performance.md it rewrites that file's table at the top.
bench-scaling: $(BENCHES)
	$(Q)sh bench/scaling.sh $(BUILD)

# ---------------------------------------------------------------- docs ---

docs: | $(DEPS_STAMP)
	$(Q)mkdir -p build/docs
	$(Q)doxygen docs/Doxyfile && echo "docs: doxygen ok (warnings are errors)"

# ------------------------------------------------------------- install ---

# Written by every install, never reused: it holds PREFIX, which can
# differ between two installs from one build tree.
$(BUILD)/distq.pc: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		distq.pc.in > $@

FORCE:

install: all $(BUILD)/distq.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(BINDIR)
	install -m 644 include/distq.h $(DESTDIR)$(INCLUDEDIR)/distq.h
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libdistq.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libdistq.so.$(VERSION)
	ln -sf libdistq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libdistq.so
	install -m 644 $(BUILD)/distq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/distq.pc
	install -m 755 $(BUILD)/distq $(DESTDIR)$(BINDIR)/distq

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/distq.h $(DESTDIR)$(LIBDIR)/libdistq.a \
		$(DESTDIR)$(LIBDIR)/libdistq.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libdistq.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/distq.pc $(DESTDIR)$(BINDIR)/distq

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTS:=.d) $(EXAMPLES:=.d) \
	$(BENCHES:=.d)
-include $(FUZZ_OBJ:.o=.d) $(FUZZERS:=.d) $(STRESSERS:=.d)
