# libdistq - one hand-written Makefile.
#
#   make            library (static + shared), examples, the distq program;
#                   checks that hwloc, zlib and pkg-config are there, names
#                   what is missing and stops (installs nothing, never root)
#   make deps       install the missing Debian packages (scripts/deps.sh)
#   make demo       install missing build packages, build, train on all cores
#   make check      install missing test packages, then unit tests, examples,
#                   the headers in every language mode, the Python package
#                   (make test-python), the MPI jobs (make test-mpi),
#                   install recipes,
#                   ABI check, man pages, ASan+UBSan, TSan,
#                   a short libFuzzer run (FUZZ_CHECK_SECONDS per target);
#                   prints each phase's wall and CPU seconds (phases that
#                   time no agent run two at a time). CI (.ci/run) runs
#                   make check, then make mutants
#   make abi-baseline   rewrite abi/libdistq.abi from the built library
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (default 60) each
#   make stress     lost-update and crash stress, STRESS_SECONDS (default 120)
#   make mutants    deliberate breakages that the tests must catch (CI runs
#                   it after make check; not part of check)
#   make bench      benchmarks (never part of check)
#   make docs       Doxygen over the public header and docs/*.md, warnings
#                   are errors; HTML in build/docs/html/index.html
#   make install    PREFIX=/usr/local DESTDIR=  (uninstall likewise); also
#                   LIBDIR INCLUDEDIR BINDIR MANDIR DOCDIR
#   make format-check   clang-format --dry-run over the sources
#
#   V=1             show full command lines
#   SANITIZE=address,undefined | thread   sanitizer build (own build dir)
#   CC AR CPPFLAGS CFLAGS LDFLAGS LDLIBS   honoured; CFLAGS come after the
#                   project's flags, so CFLAGS=-O0 overrides -O2
#   WERROR=0        warnings stay warnings (release builds; default 1 for
#                   development and CI)

# Compile in parallel, one job per CPU, unless the command line says how
# (make -j1 serialises): make check builds the library four times (plain,
# ASan+UBSan, TSan, fuzz). Only at the top level: sub-makes inherit it.
# Targets that run tests run them one after another (see `test`).
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif
endif

# The version is defined once, by DQ_VERSION_* in the public header; the
# soname, the file names and distq.pc follow from it (test-install checks
# that the installed library, header and distq.pc agree).
VERSION_H := $(firstword $(wildcard include/distq/version.h) include/distq.h)
dq_version_part = $(shell awk '$$1 ~ /define$$/ && \
	$$2 == "DQ_VERSION_$(1)" { print $$3 }' $(VERSION_H))
MAJOR := $(call dq_version_part,MAJOR)
MINOR := $(call dq_version_part,MINOR)
PATCH := $(call dq_version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)
ifeq ($(words $(MAJOR) $(MINOR) $(PATCH)),3)
else
$(error cannot read DQ_VERSION_MAJOR/MINOR/PATCH from $(VERSION_H))
endif

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/libdistq

CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
AR ?= ar
WERROR ?= 1

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
OPT ?= -O2
else
BUILD ?= build/san-$(subst $(comma),-,$(SANITIZE))
OPT ?= -O1
endif
comma := ,

WARN := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow \
	-Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef \
	-Wcast-align -Wwrite-strings -Wvla
CPPFLAGS_ALL := -Iinclude -Ilib -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)
CFLAGS_ALL := -std=c11 $(OPT) -g $(WARN) -fPIC -pthread -MMD -MP $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs hwloc 2>/dev/null || echo -lhwloc) \
	-lz -lm -pthread $(LDLIBS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
ifneq ($(findstring undefined,$(SANITIZE)),)
# float-cast-overflow is not part of "undefined" in GCC: a double too
# large for the integer it is converted to is undefined behaviour too.
CFLAGS_ALL += -fno-sanitize-recover=all -fsanitize=float-cast-overflow
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
# What distq and the examples link: the release library, except in a
# sanitizer tree, which has no release use (nothing installs it): there
# they link the test copy of the library ($(BUILD)/jet/, below; its hooks
# do nothing unless a unit test turns them on), so that a sanitizer tree
# compiles the library once, not twice (lib/learner.c alone costs 35-105
# CPU seconds per compile under a sanitizer).
PROG_LIB := $(if $(SANITIZE),$(BUILD)/jet/libdistq-jet.a,$(STATIC))
SONAME := libdistq.so.$(MAJOR)
SHARED := $(BUILD)/libdistq.so.$(VERSION)
# Exported symbols and their version nodes (see the file).
VERSION_SCRIPT := abi/libdistq.map
# make deps / demo / check install what is missing (Debian); this stamp
# says make check's packages were found or installed.
DEPS_STAMP := build/.deps-ok
# Plain make only checks for what building needs and never installs.
BUILD_DEPS := build/.deps-build-ok

.PHONY: FORCE all deps demo check check-ir test test-unit test-examples test-pkgconfig \
	check-asan check-tsan bench docs install uninstall clean format \
	abi-check abi-grow-test abi-baseline test-build test-install test-man test-headers test-python \
	format-check fuzz fuzz-build fuzz-seeds fuzz-toolchain check-fuzz \
	stress stress-build mutants mutants-build check-side tests-built \
	build-asan build-tsan bench-scaling mpi test-mpi bench-mpi bench-rules
.DEFAULT_GOAL := all

all: $(STATIC) $(SHARED) $(BUILD)/distq $(EXAMPLES) mpi

# Missing Debian packages are installed by a script that says what it does,
# only by the targets of the two-command set-up (deps, demo, check).
deps:
	$(Q)sh scripts/deps.sh --install all
	$(Q)mkdir -p build && touch $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	$(Q)sh scripts/deps.sh --install test
	$(Q)mkdir -p build && touch $@
$(BUILD_DEPS): scripts/deps.sh
	$(Q)sh scripts/deps.sh --check build
	$(Q)mkdir -p build && touch $@

$(BUILD)/%.o: %.c | $(BUILD_DEPS)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -DDQ_BUILDING_LIBRARY -fvisibility=hidden \
		$(CFLAGS_ALL) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ) $(VERSION_SCRIPT)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
		-Wl,--version-script=$(VERSION_SCRIPT) \
		$(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(LIB_OBJ) $(LDLIBS_ALL)
	$(Q)ln -sf libdistq.so.$(VERSION) $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(BUILD)/libdistq.so

# Programs that use the public API only: no -Ilib.
PUB_CPPFLAGS := -Iinclude -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)

$(BUILD)/distq: $(CLI_OBJ) $(PROG_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(PROG_LIB) \
		$(LDLIBS_ALL)

$(BUILD)/cli/%.o: cli/%.c | $(BUILD_DEPS)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/examples/%: examples/%.c $(PROG_LIB)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< \
		$(PROG_LIB) $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(CFLAGS_ALL) -O3 $(LDFLAGS_ALL) -o $@ $< \
		$(STATIC) $(LDLIBS_ALL)

# ----------------------------------------------------------- test build --

# The unit tests link a test copy of the library, $(BUILD)/jet/ (jemalloc's
# "JET" idea): the same sources compiled with -DDQ_JET, which turns on the
# test hooks of lib/jet.h (race windows that yield). The release objects
# above, the installed library and the distq program carry no hook.
JET := $(BUILD)/jet
JET_OBJ := $(LIB_SRC:%.c=$(JET)/%.o)
JET_STATIC := $(JET)/libdistq-jet.a

$(JET)/%.o: %.c | $(DEPS_STAMP)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -DDQ_BUILDING_LIBRARY -DDQ_JET \
		-fvisibility=hidden $(CFLAGS_ALL) -c $< -o $@

$(JET_STATIC): $(JET_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# test_checkpoint observes the durability protocol: the library's fsync
# and rename calls go through its __wrap_* recorders.
$(BUILD)/tests/test_checkpoint: private TEST_LDFLAGS := \
	-Wl,--wrap=fsync,--wrap=renameat

# Unit tests mirror lib/ one to one and may use private headers.
# TEST_LDFLAGS: extra link flags of one test (set per target below).
$(BUILD)/tests/%: tests/%.c tests/dq_test.h tests/dq_fault_pthread.h \
		$(JET_STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_ALL) -DDQ_JET $(CFLAGS_ALL) $(LDFLAGS_ALL) \
		$(TEST_LDFLAGS) -o $@ $< $(JET_STATIC) -lcmocka $(LDLIBS_ALL)

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
#
# make check's phases. The ones that run agents against the clock (time
# budgets, a monitor's CPU use, two agents timed against each other,
# mpirun jobs) run alone, one after the other: test, test-python,
# test-mpi, check-asan, check-tsan. The others
# (CHECK_SIDE) build, lint, compare instruction counts (callgrind counts
# do not depend on the load) or fuzz for a fixed time: no verdict of
# theirs depends on the load, so they run two at a time (make -j), after
# the "build" phase has built what they share; they also build the
# sanitizer trees, so that check-asan and check-tsan only run. The
# mutation check (make mutants, which builds its own pristine tree) is
# not a phase: CI (.ci/run) runs it after make check. Each phase's wall
# and CPU seconds (user+sys) are printed when it ends and as a table at
# the end (build/check-times.txt; scripts/timed.sh).
CHECK_TIMES := build/check-times.txt
TIMED := sh scripts/timed.sh $(CHECK_TIMES)
CHECK_SIDE := test-headers test-build test-install abi-check abi-grow-test \
	test-man format-check docs check-fuzz check-ir build-asan build-tsan
check: $(DEPS_STAMP)
	$(Q)rm -f $(CHECK_TIMES) && mkdir -p build && date +%s.%N >build/.check-start
	$(Q)$(TIMED) test $(MAKE) --no-print-directory test
	$(Q)$(TIMED) build $(MAKE) --no-print-directory all \
		$(BENCHES) stress-build # stress: built, run by make stress; benches: built (5 CPU s), so none rots
	$(Q)$(TIMED) '(side)' $(MAKE) --no-print-directory --output-sync=target \
		check-side
	$(Q)$(TIMED) test-python $(MAKE) --no-print-directory test-python
	$(Q)$(TIMED) test-mpi $(MAKE) --no-print-directory test-mpi
	$(Q)$(TIMED) check-asan $(MAKE) --no-print-directory check-asan
	$(Q)$(TIMED) check-tsan $(MAKE) --no-print-directory check-tsan
	$(Q)sh scripts/timed.sh --report $(CHECK_TIMES) $$(cat build/.check-start)
	@echo "make check: all suites passed (plain, ASan+UBSan, TSan, fuzz; CI runs make mutants next)"

check-side: $(CHECK_SIDE:%=check-phase-%)
check-phase-%:
	$(Q)$(TIMED) side:$* $(MAKE) --no-print-directory $*

# What make test runs, built (check-side builds the sanitizer trees).
tests-built: $(TESTS) $(EXAMPLES) $(BUILD)/distq
build-asan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined tests-built
build-tsan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=thread tests-built

# One after the other: suites that time two agents must not share the
# CPUs with the examples.
test:
	$(Q)$(MAKE) --no-print-directory test-unit
	$(Q)$(MAKE) --no-print-directory test-examples

test-unit: $(TESTS) $(BUILD)/distq
	$(Q)sh scripts/run-tests.sh $(BUILD) $(TESTS)

test-examples: $(EXAMPLES) $(BUILD)/distq
	$(Q)sh scripts/run-examples.sh $(BUILD)

# The Python package (python/, docs/python.md) against the shared library
# just built: pytest, skipped with a message without python3, cffi, numpy.
test-python: $(SHARED) $(BUILD)/distq
	$(Q)sh scripts/python-test.sh $(BUILD)

# The hot loop's cost: instructions per step (callgrind) against the
# committed bench/ir-baseline.txt; fails on a rise above 3%.
check-ir: $(BUILD)/bench/throughput
	$(Q)sh bench/ir-guard.sh $(BUILD)

# Under a sanitizer the runs that prove learning (to the exact optimum)
# stop after SAN_CONVERGE_STEPS steps, without the check of what they
# learnt: the same code runs, every rule, env and thread count, for
# memory errors and races; the proof of learning is make test's
# (DQ_CONVERGE_STEPS, tests/dq_test.h). Concurrency tests are not scaled.
SAN_CONVERGE_STEPS ?= 200000
check-asan:
	$(Q)ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	DQ_CONVERGE_STEPS=$(SAN_CONVERGE_STEPS) \
	$(MAKE) --no-print-directory SANITIZE=address,undefined test

check-tsan:
	$(Q)TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	DQ_CONVERGE_STEPS=$(SAN_CONVERGE_STEPS) \
	$(MAKE) --no-print-directory SANITIZE=thread test

# <distq.h> and each part <distq/*.h> alone compile without a warning as
# C99, C11, C17 (gcc, clang) and C++11 to C++20 (g++, clang++), and a
# program using them links in each mode (scripts/header-test.sh).
PUB_HEADERS := include/distq.h $(wildcard include/distq/*.h)
test-headers: $(STATIC) | $(DEPS_STAMP)
	$(Q)sh scripts/header-test.sh include $(STATIC) $(LDLIBS_ALL)

# Plain make never installs packages; CC, AR, CFLAGS, LDFLAGS, WERROR=0 are
# honoured (scripts/build-test.sh, in a copy of the tree).
test-build:
	$(Q)sh scripts/build-test.sh

# The README's install recipes on the README's own example: install into a
# private prefix, build through pkg-config, run with LD_LIBRARY_PATH, with
# an rpath, and linked statically (scripts/install-test.sh); DESTDIR
# staging keeps PREFIX in distq.pc.
STAGE := $(abspath $(BUILD)/stage)
test-install: all
	$(Q)rm -rf $(STAGE) $(BUILD)/destdir
	$(Q)$(MAKE) --no-print-directory install PREFIX=$(STAGE) >/dev/null
	$(Q)sh scripts/install-test.sh $(STAGE) $(BUILD)/install-test
	$(Q)$(MAKE) --no-print-directory install PREFIX=/usr/local \
		DESTDIR=$(abspath $(BUILD)/destdir) >/dev/null
	$(Q)grep -qx 'prefix=/usr/local' \
		$(BUILD)/destdir/usr/local/lib/pkgconfig/distq.pc
	$(Q)$(MAKE) --no-print-directory uninstall PREFIX=/usr/local \
		DESTDIR=$(abspath $(BUILD)/destdir) >/dev/null
	$(Q)test -z "$$(find $(BUILD)/destdir -type f)"
	@echo "install-test: DESTDIR staging keeps PREFIX; uninstall removes every file"
test-pkgconfig: test-install

format:
	clang-format -i $(LIB_SRC) $(wildcard lib/*.h lib/envs/*.h) \
		$(PUB_HEADERS) $(TEST_SRC) tests/dq_test.h \
		tests/dq_test_tiles.h tests/dq_fault_pthread.h $(EXAMPLE_SRC) \
		$(CLI_SRC) $(wildcard cli/*.h) $(BENCH_SRC) $(MPI_SRC) \
		$(wildcard tests/mpi/*.c bench/mpi/*.c)

format-check:
	$(Q)if command -v clang-format >/dev/null 2>&1; then \
		clang-format --dry-run -Werror $(LIB_SRC) \
		$(wildcard lib/*.h lib/envs/*.h) $(PUB_HEADERS) \
		$(TEST_SRC) tests/dq_test.h tests/dq_fault_pthread.h \
		tests/dq_test_tiles.h $(EXAMPLE_SRC) $(CLI_SRC) \
		$(wildcard cli/*.h) $(BENCH_SRC) $(MPI_SRC) \
		$(wildcard tests/mpi/*.c bench/mpi/*.c) && echo "format-check: ok"; \
	else echo "format-check: clang-format not installed, skipped"; fi

# ----------------------------------------------------------------- abi ---

# The shared library's ABI (functions, their types, the layout of every
# public struct, symbol versions) against the committed baseline, by
# libabigail's abidiff; abi/README.md says when the baseline changes.
# abi/libdistq.suppr, when present, names changes that are compatible by
# design (libabigail suppression syntax).
ABI_BASELINE := abi/libdistq.abi
ABI_SUPPR := abi/libdistq.suppr
ABIDW_FLAGS := --headers-dir include --drop-private-types --no-corpus-path \
	--no-comp-dir-path --type-id-style hash

abi-check: $(SHARED)
	$(Q)sh scripts/abi-check.sh $(ABI_BASELINE) $(SHARED) include $(ABI_SUPPR)

# What may grow passes the check and what may not fails it, on a copy of
# the tree (scripts/abi-grow-test.sh).
abi-grow-test: $(SHARED)
	$(Q)sh scripts/abi-grow-test.sh

abi-baseline: $(SHARED)
	$(Q)abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(SHARED)
	@echo "abi-baseline: wrote $(ABI_BASELINE) for $(SONAME) $(VERSION); commit it"

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
fuzz-toolchain: | $(BUILD_DEPS)
	$(Q)sh scripts/fuzz.sh --toolchain $(FUZZ_CC)

# The fuzzer's coverage instrumentation, for every object but the agents'
# step loops (lib/learner.c), which no fuzz target runs: they stay under
# ASan and UBSan, without coverage and at -O0 (clang: 181 CPU s with
# coverage at -O1, 129 without, 67 at -O0; the largest single compile of
# make check).
FUZZ_COVERAGE := -fsanitize=fuzzer-no-link
$(FUZZ_DIR)/obj/lib/learner.o: FUZZ_COVERAGE :=
$(FUZZ_DIR)/obj/lib/learner.o: FUZZ_CFLAGS += -O0
$(FUZZ_DIR)/obj/%.o: %.c | fuzz-toolchain
	$(call say,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		$(FUZZ_COVERAGE) -c $< -o $@

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

# ------------------------------------------------------------- mutants ---

# Every proof must be able to fail: each tests/mutants/*.mut is a
# deliberate breakage (a CAS made a plain store, the seqlock's re-check
# removed, a release made relaxed, the checkpoint's fsync or rename
# removed, ...) that scripts/mutants.sh applies to a scratch copy under
# build/mutants/, builds (-O1, only the suites it names) and tests; it
# fails unless every mutant is killed. MUTANT=name runs one.
MUTANT ?=
mutants: $(DEPS_STAMP)
	$(Q)sh scripts/mutants.sh $(MUTANT)
# Only the pristine tree (make mutants builds it too when it is stale).
mutants-build: $(DEPS_STAMP)
	$(Q)sh scripts/mutants.sh --build $(MUTANT)

# ----------------------------------------------------------------- mpi ---

# libdistq-mpi (include/distq/mpi.h, mpi/): a separate library on the
# public API of libdistq, the only code that calls MPI, and the distq-mpi
# program (distq's CLI with train run over ranks). Built when Open MPI's C
# binding is found (pkg-config ompi-c, or mpicc's flags); otherwise make
# says it skips it. make deps and make check install it (scripts/deps.sh).
MPICC ?= mpicc
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null || \
	$(MPICC) --showme:compile 2>/dev/null)
MPI_LIBS := $(shell pkg-config --libs ompi-c 2>/dev/null || \
	$(MPICC) --showme:link 2>/dev/null)
HAVE_MPI := $(if $(strip $(MPI_LIBS)),1,)
MPI_SONAME := libdistq-mpi.so.$(MAJOR)
MPI_STATIC := $(BUILD)/libdistq-mpi.a
MPI_SHARED := $(BUILD)/libdistq-mpi.so.$(VERSION)
MPI_SRC := $(wildcard mpi/*.c)
MPI_OBJ := $(BUILD)/mpi/mpi.o
MPI_PROG := $(BUILD)/distq-mpi
MPI_TEST := $(BUILD)/tests/mpi/test_mpi

ifeq ($(HAVE_MPI),1)
mpi: $(MPI_STATIC) $(MPI_SHARED) $(MPI_PROG)
else
mpi:
	@echo "libdistq-mpi: skipped, Open MPI not found (make deps installs libopenmpi-dev openmpi-bin)"
endif

# Public API only (no -Ilib), as cli/ and examples/.
$(BUILD)/mpi/%.o: mpi/%.c | $(BUILD_DEPS)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(MPI_CFLAGS) -DDQ_BUILDING_LIBRARY \
		-fvisibility=hidden $(CFLAGS_ALL) -c $< -o $@

$(MPI_STATIC): $(MPI_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(MPI_SHARED): $(MPI_OBJ) $(SHARED) abi/libdistq-mpi.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(MPI_SONAME) -Wl,--no-undefined \
		-Wl,--version-script=abi/libdistq-mpi.map \
		$(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(MPI_OBJ) \
		-L$(BUILD) -ldistq $(MPI_LIBS) -lm -pthread
	$(Q)ln -sf libdistq-mpi.so.$(VERSION) $(BUILD)/$(MPI_SONAME)
	$(Q)ln -sf $(MPI_SONAME) $(BUILD)/libdistq-mpi.so

$(MPI_PROG): $(BUILD)/mpi/distq-mpi.o $(filter-out $(BUILD)/cli/distq.o,\
		$(CLI_OBJ)) $(MPI_STATIC) $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(MPI_LIBS) \
		$(LDLIBS_ALL)

$(BUILD)/mpi/distq-mpi.o: mpi/distq-mpi.c | $(BUILD_DEPS)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) -Icli $(MPI_CFLAGS) $(CFLAGS_ALL) \
		-c $< -o $@

$(MPI_TEST): tests/mpi/test_mpi.c $(MPI_STATIC) $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(MPI_CFLAGS) $(CFLAGS_ALL) $(LDFLAGS_ALL) \
		-o $@ $< $(MPI_STATIC) $(STATIC) $(MPI_LIBS) $(LDLIBS_ALL)

# The sync-cost benchmark (bench/mpi.sh; never part of check).
$(BUILD)/bench/mpi/%: bench/mpi/%.c $(MPI_STATIC) $(STATIC)
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PUB_CPPFLAGS) $(MPI_CFLAGS) $(CFLAGS_ALL) -O3 \
		$(LDFLAGS_ALL) -o $@ $< $(MPI_STATIC) $(STATIC) $(MPI_LIBS) \
		$(LDLIBS_ALL)

bench-mpi: $(BUILD)/bench/mpi/sync_cost $(MPI_PROG) $(BUILD)/distq
	$(Q)sh bench/mpi.sh $(BUILD)

# Real mpirun jobs of 2 and 3 ranks (scripts/mpi-test.sh).
ifeq ($(HAVE_MPI),1)
test-mpi: $(MPI_PROG) $(MPI_TEST) $(BUILD)/distq
	$(Q)sh scripts/mpi-test.sh $(BUILD)
else
test-mpi:
	@echo "test-mpi: skipped, Open MPI not found (make deps installs it)"
endif

# ---------------------------------------------------------------- demo ---

# The stamp too: all's own --check would say "present" a second time.
demo:
	$(Q)sh scripts/deps.sh --install build && mkdir -p build && \
		touch $(BUILD_DEPS)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/distq train taxi --threads all --seconds 5

# ---------------------------------------------------------------- bench --

# The shared library too: bench/peer_numba.py reaches it through Python.
bench: $(BENCHES) $(SHARED)
	$(Q)sh bench/run.sh $(BUILD)

# The paired 1 / 2-thread scaling benchmark (3-6 minutes); with
# DOCS=docs/performance.md it rewrites that file's table at the top.
bench-scaling: $(BENCHES)
	$(Q)sh bench/scaling.sh $(BUILD)

# Per learning rule: steps/s at 1 and 2 threads, steps and time to the
# exact optimum (median of 5 seeds, at most 100M steps each; 12-15
# minutes on a quiet 2-core machine) on taxi and frozenlake8x8, as the
# markdown table of docs/performance.md, "Rules: cost and speed".
# RULES_OPTS adds options (bench/rules.c --help).
bench-rules: $(BUILD)/bench/rules
	$(Q)$(BUILD)/bench/rules $(RULES_OPTS)

# ---------------------------------------------------------------- docs ---

# The header's reference and docs/*.md as HTML (docs/Doxyfile).
docs:
	$(Q)sh scripts/deps.sh --check docs >/dev/null
	$(Q)mkdir -p build/docs
	$(Q)doxygen docs/Doxyfile
	@echo "docs: doxygen ok (warnings are errors); open build/docs/html/index.html"

# The manual pages (man/): mandoc lint, and no command, option or public
# function missing from them.
test-man: $(BUILD)/distq
	$(Q)sh scripts/man-check.sh $(BUILD)/distq include man

# ------------------------------------------------------------- install ---

# Written by every install, never reused: it holds PREFIX, which can
# differ between two installs from one build tree.
$(BUILD)/distq.pc: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		distq.pc.in > $@

# The manual pages name the version and where the documentation went.
MAN_PAGES := $(wildcard man/*.[0-9])
$(BUILD)/man/%: man/% FORCE
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@VERSION@|$(VERSION)|' -e 's|@DOCDIR@|$(DOCDIR)|' $< > $@

DOC_FILES := README.md $(wildcard docs/*.md)
DOC_IMAGES := $(wildcard docs/perf/*.png)

FORCE:

install: all $(BUILD)/distq.pc $(MAN_PAGES:%=$(BUILD)/%)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/distq \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(DOCDIR)/perf
	install -m 644 include/distq.h $(DESTDIR)$(INCLUDEDIR)/distq.h
	install -m 644 $(wildcard include/distq/*.h) $(DESTDIR)$(INCLUDEDIR)/distq
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libdistq.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libdistq.so.$(VERSION)
	ln -sf libdistq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libdistq.so
	install -m 644 $(BUILD)/distq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/distq.pc
	install -m 755 $(BUILD)/distq $(DESTDIR)$(BINDIR)/distq
	install -m 644 $(BUILD)/man/distq.1 $(DESTDIR)$(MANDIR)/man1/distq.1
	install -m 644 $(BUILD)/man/libdistq.3 $(DESTDIR)$(MANDIR)/man3/libdistq.3
	install -m 644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)
	install -m 644 $(DOC_IMAGES) $(DESTDIR)$(DOCDIR)/perf
ifeq ($(HAVE_MPI),1)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		distq-mpi.pc.in > $(BUILD)/distq-mpi.pc
	install -m 644 $(MPI_STATIC) $(DESTDIR)$(LIBDIR)/libdistq-mpi.a
	install -m 755 $(MPI_SHARED) \
		$(DESTDIR)$(LIBDIR)/libdistq-mpi.so.$(VERSION)
	ln -sf libdistq-mpi.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $(DESTDIR)$(LIBDIR)/libdistq-mpi.so
	install -m 644 $(BUILD)/distq-mpi.pc \
		$(DESTDIR)$(LIBDIR)/pkgconfig/distq-mpi.pc
	install -m 755 $(MPI_PROG) $(DESTDIR)$(BINDIR)/distq-mpi
endif

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/distq.h $(DESTDIR)$(LIBDIR)/libdistq.a \
		$(DESTDIR)$(LIBDIR)/libdistq.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libdistq.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/distq.pc $(DESTDIR)$(BINDIR)/distq \
		$(DESTDIR)$(MANDIR)/man1/distq.1 $(DESTDIR)$(MANDIR)/man3/libdistq.3
	rm -f $(DESTDIR)$(LIBDIR)/libdistq-mpi.a \
		$(DESTDIR)$(LIBDIR)/libdistq-mpi.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(MPI_SONAME) \
		$(DESTDIR)$(LIBDIR)/libdistq-mpi.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/distq-mpi.pc \
		$(DESTDIR)$(BINDIR)/distq-mpi
	rm -f $(patsubst include/%,$(DESTDIR)$(INCLUDEDIR)/%,\
		$(wildcard include/distq/*.h))
	rmdir $(DESTDIR)$(INCLUDEDIR)/distq 2>/dev/null || true
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTS:=.d) $(EXAMPLES:=.d) \
	$(BENCHES:=.d)
-include $(JET_OBJ:.o=.d)
-include $(FUZZ_OBJ:.o=.d) $(FUZZERS:=.d) $(STRESSERS:=.d)
-include $(MPI_OBJ:.o=.d) $(BUILD)/mpi/distq-mpi.d $(MPI_TEST:=.d)
