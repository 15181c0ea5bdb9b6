# cf: collaborative filtering inside PostgreSQL (PGXS build)
#
#   make                      build (OpenBLAS found with pkg-config)
#   make install              install into the server that pg_config names
#   make installcheck         run the pg_regress, isolation and TAP suites against a
#                             running server (the TAP tests start their own)
#   make WERROR=1             treat warnings as errors (the test command does)
#   make SANITIZE=1           build with ASan + UBSan (see test/memcheck.sh)
#   make BENCH=1              add the benchmarks' measuring helpers (test/bench)
#   make BLAS_CFLAGS=... BLAS_LIBS=...   use another BLAS/LAPACK
#   make dist                 dist/cf-VERSION.zip (PGXN) and .tar.gz, from git HEAD
#
# The source of the extension's version is cf_extension.control; the build
# turns it into cf.control (the name PostgreSQL looks for) and turns the
# install script source sql/cf.sql into sql/cf--$(EXTVERSION).sql.

EXTENSION = cf
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" cf_extension.control)

MODULE_big = cf
OBJS = \
	src/access.o \
	src/algorithm.o \
	src/als.o \
	src/als_kernels.o \
	src/als_solve.o \
	src/baseline.o \
	src/bayes.o \
	src/batch.o \
	src/cache.o \
	src/cf.o \
	src/citus.o \
	src/eval.o \
	src/explain.o \
	src/foldin.o \
	src/ids.o \
	src/load.o \
	src/manage.o \
	src/model.o \
	src/partial.o \
	src/parallel.o \
	src/rows.o \
	src/score.o \
	src/sgd.o \
	src/similar.o \
	src/solve.o \
	src/split.o \
	src/synth.o \
	src/train.o \
	src/tune.o \
	src/util.o

# The current version's install script is built from sql/cf.sql; released
# versions keep their install script as shipped (never edited), and every
# release has an upgrade script from the one before.
RELEASED = 0.1.0 0.2.0 0.3.0
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/$(EXTENSION)--*--*.sql) $(patsubst %,sql/$(EXTENSION)--%.sql,$(RELEASED))
DOCS =

# pg_regress suites: sql/<name>.sql and expected/<name>.out, in this order.
REGRESS = setup train predict recommend serving serving_batch serving_foldin cache als partial split \
	validation baselines evaluate tuning manage privileges searchpath badinput errors upgrade \
	server_messages typed_ids bayes cluster
REGRESS_OPTS = --inputdir=. --outputdir=.

# Isolation tests (concurrency): test/isolation/specs/NAME.spec against
# test/isolation/expected/NAME.out, in a database where cf is created.
ISOLATION = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso \
	--load-extension=cf

# TAP tests (cancellation, crashes, backups): test/t/*.pl, each starting
# clusters of its own, so they run as a user initdb accepts (not root;
# test/check.sh runs them as postgres from a copy).
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = cf.control sql/$(EXTENSION)--$(EXTVERSION).sql

# OpenBLAS (BLAS and LAPACK); override on the command line for another build,
# e.g. reference BLAS and LAPACK: make BLAS_CFLAGS= BLAS_LIBS="-lblas -llapack"
# (any CBLAS with LAPACK's spotrf and spotrs; docs/install.md says what a build
# without OpenBLAS gives up).
PKG_CONFIG ?= pkg-config
BLAS_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags openblas)
BLAS_LIBS ?= $(shell $(PKG_CONFIG) --libs openblas)

PG_CPPFLAGS += $(BLAS_CFLAGS) -I$(srcdir)/src
SHLIB_LINK += $(BLAS_LIBS) -lm

# -Wextra on top of PostgreSQL's own warnings; its headers (fmgr's
# PG_FUNCTION_ARGS, array.h's ARR_DATA_PTR) trip the two switched off here.
PG_CFLAGS += -Wextra -Wno-unused-parameter -Wno-sign-compare
ifdef WERROR
PG_CFLAGS += -Werror
endif

# make BENCH=1: the measuring helpers of test/bench (src/bench.c: cf_bench_stream,
# cf_bench_sgemm, not declared by the extension's SQL); a release ships
# without them.
ifdef BENCH
OBJS += src/bench.o
endif

# make SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer in cf's
# own code (test/memcheck.sh asan; src/sanitize.c says how it runs).
ifdef SANITIZE
OBJS += src/sanitize.o
PG_CPPFLAGS += -DCF_SANITIZE
PG_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=address,undefined
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# OpenBLAS's own calls (openblas_set_num_threads) only where the BLAS
# linked is OpenBLAS: a program calling it must link.
CF_HAVE_OPENBLAS := $(shell echo 'void openblas_set_num_threads(int); \
	int main(void) { openblas_set_num_threads(1); return 0; }' | \
	$(CC) -x c -o /dev/null - $(BLAS_LIBS) 2>/dev/null && echo yes)
ifeq ($(CF_HAVE_OPENBLAS),yes)
override CPPFLAGS += -DCF_HAVE_OPENBLAS
endif

# make CC=clang (or another compiler than the server was built with): keep
# only the server's CFLAGS that this compiler accepts (clang rejects gcc's
# -fexcess-precision=standard and -Wimplicit-fallthrough=3, say), and where
# it ignores the server headers' printf attribute (gnu_printf), do not warn
# of it in every file.
SERVER_CC := $(shell $(PG_CONFIG) --cc)
ifneq ($(notdir $(firstword $(CC))),$(notdir $(firstword $(SERVER_CC))))
cf_cc_accepts = $(shell $(CC) -Werror $(1) -c -x c -o /dev/null /dev/null 2>/dev/null && echo yes)
override CFLAGS := $(foreach flag,$(CFLAGS),$(if $(call cf_cc_accepts,$(flag)),$(flag)))
ifneq ($(shell echo 'void f(const char *s, ...) __attribute__((format(gnu_printf, 1, 2)));' | \
	$(CC) -Werror -c -x c -o /dev/null - 2>/dev/null && echo yes),yes)
override CFLAGS += -Wno-ignored-attributes
endif
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql cf_extension.control
	cp $< $@

$(EXTENSION).control: cf_extension.control
	cp $< $@

$(OBJS): $(wildcard src/*.h)

# Changing BENCH or SANITIZE rebuilds everything: the objects depend on a
# stamp that holds them, rewritten only when they change.
BUILD_FLAGS_STAMP = .cf-build-flags
$(shell echo 'BENCH=$(BENCH) SANITIZE=$(SANITIZE)' | cmp -s - $(BUILD_FLAGS_STAMP) || \
	echo 'BENCH=$(BENCH) SANITIZE=$(SANITIZE)' > $(BUILD_FLAGS_STAMP))
$(OBJS): $(BUILD_FLAGS_STAMP)
EXTRA_CLEAN += $(BUILD_FLAGS_STAMP)

# The training kernels (and the benchmark's streaming pass) want the loop
# vectorizer at full strength.
src/sgd.o src/als.o src/als_kernels.o src/als_solve.o src/bench.o: CFLAGS += -O3
# (als.c never reads errno after a math function; without it sqrtf vectorizes)
src/als.o src/als_kernels.o src/als_solve.o: CFLAGS += -fno-math-errno

# make dist: the release files, from the committed tree (git archive), with
# the files .gitattributes marks export-ignore left out.  META.json must name
# the version the control file does.
.PHONY: dist
dist:
	@grep -q '"version": "$(EXTVERSION)"' META.json || \
		{ echo "META.json does not give version $(EXTVERSION)" >&2; exit 1; }
	mkdir -p dist
	git archive --format=zip --prefix=$(EXTENSION)-$(EXTVERSION)/ \
		-o dist/$(EXTENSION)-$(EXTVERSION).zip HEAD
	git archive --format=tar.gz --prefix=$(EXTENSION)-$(EXTVERSION)/ \
		-o dist/$(EXTENSION)-$(EXTVERSION).tar.gz HEAD
