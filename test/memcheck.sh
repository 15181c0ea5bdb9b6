#!/usr/bin/env bash
#
# test/memcheck.sh -- memory-safety checks of cf, beside test/check.sh.
#
#   test/memcheck.sh valgrind          the pg_regress suite, server under valgrind
#   test/memcheck.sh asan              cf built with ASan + UBSan (make SANITIZE=1):
#                                      the pg_regress and isolation suites
#   test/memcheck.sh fuzz [SECONDS]    every libFuzzer target in test/fuzz,
#                                      SECONDS each (default 60)
#   test/memcheck.sh all [SECONDS]     the three
#
# Like check.sh it installs what it needs (valgrind, clang, libclang-rt),
# runs a private cluster and ends with one line "N passed, N failed".  It
# always installs into a private copy of PostgreSQL: CF_INSTALL_ROOT, or
# /tmp/cf-memcheck-root when that is not set (the sanitizer build of cf.so
# must never land in the system's PostgreSQL).  Cluster "memcheck" on port
# CF_MEMCHECK_PORT (default 5489), directory CF_CLUSTER_DIR (default
# /tmp/cf-memcheck).  What each mode catches and misses, and how long it
# takes: docs/developers.md, "Memory checks".
set -euo pipefail

: "${CF_INSTALL_ROOT:=/tmp/cf-memcheck-root}"
export CF_INSTALL_ROOT

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${1:-}
FUZZ_SECONDS=${2:-60}
PORT=${CF_MEMCHECK_PORT:-5489}
PASSED=0
FAILED=0
RESULTS=()
CLUSTER_UP=
REPORTED=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cf-memcheck.XXXXXX")
chmod 0755 "$WORK"          # the server (postgres) reads the wrapper and suppressions here

usage() {
	sed -n '3,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

case $MODE in
valgrind | asan | all) ;;
fuzz) [[ $FUZZ_SECONDS =~ ^[0-9]+$ ]] || usage ;;
*) usage ;;
esac
if [[ $MODE == all ]]; then
	[[ $FUZZ_SECONDS =~ ^[0-9]+$ ]] || usage
fi

# record NAME PASSED FAILED [NOTE]
record() {
	record_counts "$(printf '%-10s %4d passed, %4d failed  %s' "$1" "$2" "$3" "${4:-}")" "$2" "$3"
}

trap 'counted_exit $? memcheck memcheck.sh' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ensure_tools PACKAGE...: apt-get install the missing ones.
ensure_tools() {
	local missing=() pkg
	for pkg in "$@"; do
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
			missing+=("$pkg")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	heading "Installing missing packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# regress_counts FILE: "PASSED FAILED" from pg_regress output (as check.sh).
regress_counts() {
	awk '
		/ \.\.\. +ok( |$)/            { p++; next }
		/ \.\.\. +failed \(ignored\)/ { p++; next }
		/ \.\.\. +FAILED/             { f++; next }
		END { print p + 0, f + 0 }' "$1"
}

# run_regress NAME: the pg_regress suite against the running cluster;
# records NAME.  Output in $WORK/NAME.out.
run_regress() {
	local name=$1 out=$WORK/$1.out rc=0 p f
	rm -f "$TOP/regression.diffs"
	# (the pg_regress suite only: the other suites run on their own below,
	# and TAP starts its own servers of the system's build)
	make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= TAP_TESTS= 2>&1 |
		tee "$out" || rc=$?
	read -r p f < <(regress_counts "$out")
	if ((rc != 0)); then
		[[ -s $TOP/regression.diffs ]] && head -n 200 "$TOP/regression.diffs"
		((f > 0)) || f=1
	fi
	record "$name" "$p" "$f" "(pg_regress)"
}

# run_isolation NAME: the isolation specs against the running cluster.
run_isolation() {
	local name=$1 out=$WORK/$1.out rc=0 p f specs=() spec dir=$TOP/test/isolation
	for spec in "$dir"/specs/*.spec; do
		[[ -e $spec ]] && specs+=("$(basename "$spec" .spec)")
	done
	((${#specs[@]} > 0)) || return 0
	"$PGXS_DIR/src/test/isolation/pg_isolation_regress" \
		--inputdir="$dir" --outputdir="$WORK/iso-$name" --bindir="$PGBIN" \
		--dbname=isolation_regression --load-extension=cf \
		"${specs[@]}" 2>&1 | tee "$out" || rc=$?
	read -r p f < <(regress_counts "$out")
	if ((rc != 0)); then
		[[ -s $WORK/iso-$name/regression.diffs ]] && head -n 200 "$WORK/iso-$name/regression.diffs"
		((f > 0)) || f=1
	fi
	record "$name" "$p" "$f" "(isolation)"
}

# cf_frames: the regexp that marks a report as one about cf's code.
CF_FRAMES='cf\.so|\((cf|load|model|score|sgd|synth|train|util|parallel|als|ials|eval|sanitize)\.c:[0-9]+\)|src/(cf|load|model|score|sgd|synth|train|util|parallel|als|ials|eval)\.c'

# ------------------------------------------------------------------ valgrind

mode_valgrind() {
	local logs=$WORK/valgrind-logs wrapper=$WORK/valgrind-postgres supp=$WORK/valgrind.supp
	local files total=0 cf=0 f
	heading "valgrind: the pg_regress suite with the server under valgrind (memcheck)"
	ensure_tools valgrind
	build_install quiet

	install -d -m 0777 "$logs"
	install -m 0644 "$TOP/test/valgrind.supp" "$supp"
	# The postmaster and every backend it forks run under valgrind.
	cat >"$wrapper" <<-EOF
		#!/bin/sh
		exec valgrind --quiet --trace-children=no --track-origins=yes \\
			--read-var-info=yes --num-callers=30 --leak-check=no \\
			--gen-suppressions=all --suppressions=$supp \\
			--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \\
			--log-file=$logs/%p.log "$PGBIN/postgres" "\$@"
	EOF
	chmod 0755 "$wrapper"

	CF_POSTGRES_WRAPPER=$wrapper CF_START_TIMEOUT=600 cluster_start memcheck "$PORT"
	CLUSTER_UP=1
	run_regress valgrind-regress
	cluster_stop memcheck
	CLUSTER_UP=

	# Every error report, split by the markers; those that mention cf's code
	# are cf's.
	files=("$logs"/*.log)
	for f in "${files[@]}"; do
		[[ -e $f ]] || continue
		total=$((total + $(grep -c VALGRINDERROR-BEGIN "$f" || true)))
		cf=$((cf + $(awk -v re="$CF_FRAMES" '
			/VALGRINDERROR-BEGIN/ { block = ""; inblock = 1; next }
			/VALGRINDERROR-END/   { if (block ~ re) n++; inblock = 0; next }
			inblock               { block = block "\n" $0 }
			END { print n + 0 }' "$f")))
	done
	note "valgrind: ${#files[@]} processes, $total error reports, $cf of them in cf's code"
	if ((total > 0)); then
		heading "valgrind reports (the first 200 lines)"
		awk '/VALGRINDERROR-BEGIN/,/VALGRINDERROR-END/' "$logs"/*.log | head -n 200 || true
	fi
	if ((cf == 0)); then
		record valgrind 1 0 "($total reports outside cf, ${#files[@]} processes)"
	else
		record valgrind 0 1 "($cf reports in cf's code)"
	fi
}

# ---------------------------------------------------------------------- asan

mode_asan() {
	local build=$WORK/asan-build reports ub
	heading "asan: cf built with AddressSanitizer + UndefinedBehaviorSanitizer"
	ensure_tools libasan8 libubsan1
	# Build in a copy, so that the checkout's objects stay the normal build.
	# The copy's objects are removed first: copied along with the sources,
	# most of them would look up to date and be linked uninstrumented.
	mkdir -p "$build"
	cp -R "$TOP/Makefile" "$TOP/cf_extension.control" "$TOP/src" "$TOP/sql" "$build/"
	make -C "$build" -s PG_CONFIG="$PG_CONFIG" SANITIZE=1 clean
	make -C "$build" -s PG_CONFIG="$PG_CONFIG" SANITIZE=1 WERROR=1
	private_root_prepare
	make -C "$build" -s PG_CONFIG="$PG_CONFIG" SANITIZE=1 install DESTDIR="$CF_INSTALL_ROOT"

	cluster_start memcheck "$PORT"
	CLUSTER_UP=1
	run_regress asan-regress
	run_isolation asan-isolation
	# the runtime is really in the server: a backend that loaded cf maps it
	if [[ $(run_psql -d postgres -qAtc "LOAD 'cf'" -c "SELECT pg_read_file('/proc/self/maps') ~ 'libasan'") != t ]]; then
		record asan-runtime 0 1 "(libasan is not loaded in a backend with cf)"
	fi
	cluster_stop memcheck
	CLUSTER_UP=

	reports=$(grep -c 'ERROR: AddressSanitizer' "$CF_LOG" || true)
	ub=$(grep -c 'runtime error:' "$CF_LOG" || true)
	note "asan: $reports AddressSanitizer reports, $ub UndefinedBehaviorSanitizer reports in $CF_LOG"
	if ((reports + ub > 0)); then
		grep -A 30 -E 'ERROR: AddressSanitizer|runtime error:' "$CF_LOG" | head -n 200 || true
		record asan 0 1 "($reports ASan, $ub UBSan reports)"
	else
		record asan 1 0 "(no ASan or UBSan report)"
	fi
	# put the normal build back for check.sh runs sharing this root
	build_install quiet
}

# ---------------------------------------------------------------------- fuzz

mode_fuzz() {
	local out=$WORK/fuzz includes objs=() target name execs rc flags blas extra
	local findings=${CF_FUZZ_FINDINGS:-/tmp/cf-fuzz-findings}
	heading "fuzz: libFuzzer targets in test/fuzz, $FUZZ_SECONDS s each"
	ensure_tools clang libclang-rt-14-dev
	mkdir -p "$out"
	# pg_prng, qsort and snprintf from PostgreSQL's own static libraries; every
	# other backend function is stubbed (test/fuzz/pgstub.c) or never called.
	(cd "$out" && ar x "$PGXS_DIR/../libpgcommon_shlib.a" pg_prng_shlib.o &&
		ar x "$PGXS_DIR/../libpgport_shlib.a" qsort_arg_shlib.o qsort_shlib.o snprintf_shlib.o strerror_shlib.o)
	objs=("$out"/pg_prng_shlib.o "$out"/qsort_arg_shlib.o "$out"/qsort_shlib.o "$out"/snprintf_shlib.o "$out"/strerror_shlib.o)
	includes=(-I"$TOP/test/fuzz" -I"$TOP/src" -I"$("$PG_CONFIG" --includedir-server)")
	read -ra blas <<<"$(pkg-config --cflags openblas)"
	flags=(-g -O1 -fno-omit-frame-pointer -fwrapv -fno-strict-aliasing
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
		-Wno-unused-function -Wno-unused-variable -Wno-ignored-attributes
		"${includes[@]}" "${blas[@]}" -DCF_HAVE_OPENBLAS)
	for target in "$TOP"/test/fuzz/fuzz_*.c; do
		name=$(basename "$target" .c)
		note "building $name"
		# Link once to learn which backend functions the included cf file
		# references but the harness never reaches, then give each an
		# aborting definition (a call would show up as a crash).
		# more of cf's files a harness needs: its " * Also links: src/x.c" line
		read -ra extra <<<"$(sed -n 's|^ \* Also links: ||p' "$target" | sed "s|src/|$TOP/src/|g")"
		clang "${flags[@]}" "$target" "$TOP/test/fuzz/pgstub.c" "$TOP/src/util.c" "${extra[@]}" \
			"${objs[@]}" -lm -o "$out/$name" 2>"$out/$name.link" || true
		sed -n "s/.*undefined reference to \`\([A-Za-z_][A-Za-z0-9_]*\)'.*/\1/p" "$out/$name.link" |
			sort -u | awk '{ printf "void %s(void);\nvoid %s(void) { __builtin_trap(); }\n", $1, $1 }' \
			>"$out/$name-unreached.c"
		clang "${flags[@]}" "$target" "$TOP/test/fuzz/pgstub.c" "$TOP/src/util.c" "${extra[@]}" \
			"$out/$name-unreached.c" "${objs[@]}" -lm -o "$out/$name"
		note "  $(grep -c '^void .*{' "$out/$name-unreached.c") unreached backend functions stubbed"
	done
	for target in "$out"/fuzz_*; do
		[[ -x $target ]] || continue
		name=$(basename "$target")
		mkdir -p "$out/corpus-$name" "$out/crash-$name"
		rc=0
		(cd "$out/crash-$name" && "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 "$out/corpus-$name" \
			>"$out/$name.log" 2>&1) || rc=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -1)
		if ((rc == 0)); then
			record "$name" 1 0 "(${execs:-?} inputs in ${FUZZ_SECONDS} s, no finding)"
		else
			tail -n 60 "$out/$name.log"
			# keep the input that failed, to replay: $findings/$name/crash-... with
			# the target rebuilt, or read it with xxd
			mkdir -p "$findings/$name"
			cp "$out/crash-$name"/* "$findings/$name/" 2>/dev/null || true
			record "$name" 0 1 "(finding after ${execs:-?} inputs; input kept in $findings/$name)"
		fi
	done
}

case $MODE in
valgrind) mode_valgrind ;;
asan) mode_asan ;;
fuzz) mode_fuzz ;;
all)
	mode_fuzz
	mode_asan
	mode_valgrind
	;;
esac

heading "Summary"
printf '%s\n' "${RESULTS[@]}"
REPORTED=1
note "$PASSED passed, $FAILED failed"
((FAILED == 0))
