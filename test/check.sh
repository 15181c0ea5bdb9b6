#!/usr/bin/env bash
#
# test/check.sh -- build cf and run every test suite against a private,
# throwaway PostgreSQL cluster.
#
#   test/check.sh --all        the whole matrix, as CI runs it (.ci/run):
#                              every suite on PostgreSQL 15, 17 and 18, then
#                              the pg_regress and isolation suites with cf
#                              built by gcc-11, by clang, and against
#                              reference BLAS/LAPACK, then the release files
#                              installed (test/package.sh)
#   test/check.sh              every suite on PostgreSQL 15 (this machine's)
#   test/check.sh --pg N       every suite on PostgreSQL N (15, 17 or 18; a
#                              major this machine lacks runs in a Debian root,
#                              see lib.sh, "other PostgreSQL majors")
#   test/check.sh --cc CC      cf built with compiler CC (gcc-11, clang, ...)
#   test/check.sh --blas reference
#                              cf built against reference BLAS and LAPACK
#                              (Debian's libblas-dev, liblapack-dev)
#
# --cc and --blas build in a copy of the sources and install into a private
# copy of PostgreSQL (CF_INSTALL_ROOT, default /tmp/cf-check-variant), so
# the system keeps the default build; they run the pg_regress and isolation
# suites (the TAP tests start servers of the system's build) and check that
# the build is what was asked for.
#
# Steps: install missing Debian packages, build with warnings as errors and
# install, start the cluster "check" (port $CF_CHECK_PORT, default 5492),
# run the suites listed in SUITES, stop the cluster (also on failure or
# Ctrl-C), and end with exactly one line "N passed, N failed" counted over
# all suites (with --all, over the whole matrix).  Exits non-zero if
# anything failed.  Safe to re-run.
#
# Adding a suite: write a function suite_NAME that prints a heading, runs
# its tests against the cluster (PGHOST, PGPORT and PGUSER are exported),
# and calls `record NAME PASSED FAILED` (or `skip NAME WHY` when it has
# nothing to run yet); then add it to SUITES.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${CF_CHECK_PORT:-5492}

# The suites, in the order they run.
SUITES=(suite_regress suite_isolation suite_tap suite_docs)

usage() {
	sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
}

pg_major_option "$@"
set -- "${CF_ARGS[@]}"
ALL=
VARIANT_CC=
VARIANT_BLAS=
while (($#)); do
	case $1 in
	--all) ALL=1 ;;
	--cc)
		(($# >= 2)) || usage
		VARIANT_CC=$2
		shift
		;;
	--blas)
		(($# >= 2)) || usage
		[[ $2 == reference || $2 == openblas ]] || die "--blas takes reference or openblas"
		[[ $2 == reference ]] && VARIANT_BLAS=$2
		shift
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done

PASSED=0          # tests passed, over all suites
FAILED=0          # tests failed, over all suites
RESULTS=()        # one summary line per suite
CLUSTER_UP=       # set while our cluster runs
REPORTED=         # set once the final line is printed
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cf-check.XXXXXX")   # suites' output; removed at exit

# record SUITE PASSED FAILED: add a suite's counts to the totals.
record() {
	record_counts "$(printf '%-12s %4d passed, %4d failed' "$1" "$2" "$3")" "$2" "$3"
}

# skip SUITE WHY: note a suite that has nothing to run.
skip() {
	note "skipped: $2"
	RESULTS+=("$(printf '%-12s skipped (%s)' "$1" "$2")")
}

# regress_counts FILE: print "PASSED FAILED" from pg_regress (or
# pg_isolation_regress) output.  PostgreSQL 15 prints one line per test:
#   test setup                        ... ok           12 ms
#        train                        ... FAILED       40 ms   (parallel group)
# A test that "failed (ignored)" counts as passed, as pg_regress counts it.
# (PostgreSQL 16 and later print TAP lines "ok 1 - setup"; counted too.)
regress_counts() {
	awk '
		/ \.\.\. +ok( |$)/                              { p++; next }
		/ \.\.\. +failed \(ignored\)/                   { p++; next }
		/ \.\.\. +FAILED/                               { f++; next }
		/^ok [0-9]+ /                                   { p++; next }
		/^not ok [0-9]+ /                               { f++; next }
		END { print p + 0, f + 0 }' "$1"
}

# show_diffs FILE: print a regression.diffs file (the first 400 lines).
show_diffs() {
	local lines
	[[ -s $1 ]] || return 0
	heading "Differences (${1#"$TOP"/})"
	lines=$(wc -l <"$1")
	head -n 400 "$1"
	if ((lines > 400)); then
		note "... $((lines - 400)) more lines in $1"
	fi
}

# ------------------------------------------------------------------ suites

# Every suite runs through PGXS's own "make installcheck" (the Makefile's
# REGRESS, ISOLATION and TAP_TESTS), one suite at a time: the other two are
# switched off on the command line, so that a failing suite does not stop
# the next (make stops a recipe at its first failing command).

# pg_regress: sql/NAME.sql against expected/NAME.out for each NAME in the
# Makefile's REGRESS.  Output goes to results/ and regression.diffs in the
# checkout.
suite_regress() {
	local out=$WORK/regress.out rc=0 p f
	heading "pg_regress (make installcheck)"
	rm -f "$TOP/regression.diffs"
	make -C "$TOP" PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= TAP_TESTS= 2>&1 |
		tee "$out" || rc=$?
	read -r p f < <(regress_counts "$out")
	if ((rc != 0)); then
		show_diffs "$TOP/regression.diffs"
		if ((f == 0)); then
			note "pg_regress failed without a failing test; see its output above"
			f=1
		fi
	fi
	record pg_regress "$p" "$f"
}

# Isolation tests (concurrency): the Makefile's ISOLATION, every spec in
# test/isolation/specs against test/isolation/expected, in a database where
# cf is created.  Output goes to test/isolation/output_iso/.
suite_isolation() {
	local out=$WORK/isolation.out rc=0 p f
	local dir=$TOP/test/isolation
	heading "isolation tests (make installcheck)"
	rm -f "$dir/output_iso/regression.diffs"
	make -C "$TOP" PG_CONFIG="$PG_CONFIG" installcheck REGRESS= TAP_TESTS= 2>&1 |
		tee "$out" || rc=$?
	read -r p f < <(regress_counts "$out")
	if ((rc != 0)); then
		show_diffs "$dir/output_iso/regression.diffs"
		if ((f == 0)); then
			note "pg_isolation_regress failed without a failing test; see above"
			f=1
		fi
	fi
	record isolation "$p" "$f"
}

# TAP tests: test/t/*.pl run by prove (the Makefile's TAP_TESTS) with
# PostgreSQL's Perl test modules; they make their own clusters, not ours.
# initdb refuses to run as root, so as root the Makefile, the control file
# and test/t are copied into the cluster directory and "make installcheck"
# runs there as postgres: a TAP test must not read other files of the
# checkout.  Logs land in tmp_check/ beside the Makefile.
suite_tap() {
	local out=$WORK/tap.out rc=0 p=0 f=0 total dir=$TOP runner=()
	# Citus for t/003_citus.pl, built from ../shared/vendor where that is
	# at hand (run_in_pg_root copies it into the Debian roots) and Citus
	# supports the major (15 to 17); without it that test skips, and says so
	if [[ -z ${CF_INSTALL_ROOT:-} ]] && citus_available; then
		(citus_ensure) || note "Citus could not be built: t/003_citus.pl will skip"
	fi
	heading "TAP tests (make installcheck)"
	if [[ $EUID -eq 0 ]]; then
		dir=$CF_BASE/tap
		as_postgres rm -rf "$dir"
		as_postgres mkdir -p "$dir/test"
		as_root cp "$TOP/Makefile" "$TOP/cf_extension.control" "$dir/"
		as_root cp -R "$TOP/test/t" "$dir/test/t"
		as_root chown -R postgres:postgres "$dir"
		runner=(as_postgres)
	fi
	"${runner[@]}" env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
		make -C "$dir" PG_CONFIG="$PG_CONFIG" installcheck REGRESS= ISOLATION= \
		2>&1 | tee "$out" || rc=$?
	# prove's summary: "Files=2, Tests=17, ..." and, per failing file,
	# "Failed 2/10 subtests".
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$out")
	f=$(awk '/Failed [0-9]+\/[0-9]+ subtests/ { split($2, a, "/"); n += a[1] } END { print n + 0 }' "$out")
	p=$((${total:-0} - f))
	if ((rc != 0 && f == 0)); then
		note "prove failed without a failing subtest (a test died?); see above"
		f=1
	fi
	record tap "$p" "$f"
}

# The docs' SQL: every ```sql block of README.md and docs/ runs against a
# fresh database of the cluster and its output is compared with the one the
# page shows (test/doctest.py says how; blocks marked illustrative are only
# counted).  Output in the suite's log only.
suite_docs() {
	local out=$WORK/docs.out rc=0 line
	heading "the docs' SQL (test/doctest.py)"
	command -v python3 >/dev/null || ensure_packages python3
	(cd "$TOP" && CF_PSQL=$PSQL python3 test/doctest.py README.md docs/*.md docs/*/*.md) 2>&1 |
		tee "$out" || rc=$?
	line=$(tail -n 1 "$out")
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		record docs "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	else
		note "test/doctest.py stopped early (exit status $rc); see above"
		record docs 0 1
	fi
}

# The build a variant asked for, checked in a backend that loaded cf: the
# compiler that built cf.so (its .comment section) and the BLAS it runs.
suite_build() {
	local p=0 f=0 so maps
	heading "the build"
	so=$CF_INSTALL_ROOT$("$PG_CONFIG" --pkglibdir)/cf.so
	if [[ -n $VARIANT_CC ]]; then
		local want comment
		want=$(variant_cc_signature)
		comment=$(readelf -p .comment "$so" 2>/dev/null | tr -s ' ' | grep -i "$want" | head -n 1 || true)
		if [[ -n $comment ]]; then
			note "cf.so was built by: ${comment#*] }"
			p=$((p + 1))
		else
			note "cf.so has no .comment from '$want':"
			readelf -p .comment "$so" || true
			f=$((f + 1))
		fi
	fi
	maps=$(run_psql -d postgres -qAt -c "LOAD 'cf'" -c "SELECT pg_read_file('/proc/self/maps')")
	if [[ -n $VARIANT_BLAS ]]; then
		if grep -q '/blas/libblas\.so' <<<"$maps" && ! grep -qi openblas <<<"$maps"; then
			note "a backend with cf maps reference BLAS: $(grep -o '/[^ ]*/blas/libblas\.so[^ ]*' <<<"$maps" | head -n 1)"
			p=$((p + 1))
		else
			note "a backend with cf does not map reference BLAS only:"
			grep -i 'blas\|lapack' <<<"$maps" || true
			f=$((f + 1))
		fi
	fi
	record build "$p" "$f"
}

# variant_cc_signature: what the .comment of a build by VARIANT_CC names
# ("GCC: (Debian 11..." for gcc-11, "clang version" for clang).
variant_cc_signature() {
	case $VARIANT_CC in
	*clang*) echo "clang version" ;;
	gcc-[0-9]*) echo "GCC: .* ${VARIANT_CC#gcc-}\." ;;
	*) "$VARIANT_CC" --version | head -n 1 | sed 's/ .*//' ;;
	esac
}

# run_matrix: this script once per configuration of the matrix, each with
# its own output and count; one count over all of them at the end.
run_matrix() {
	local config out line p f total_p=0 total_f=0 lines=()
	local configs=("--pg 15" "--pg 17" "--pg 18" "--cc gcc-11" "--cc clang" "--blas reference"
		"package")
	out=$WORK/matrix.out
	for config in "${configs[@]}"; do
		if [[ $config == package ]]; then
			heading "test/package.sh"
			"$TOP/test/package.sh" 2>&1 | tee "$out" || true
		else
			heading "test/check.sh $config"
			# shellcheck disable=SC2086
			"$TOP/test/check.sh" $config 2>&1 | tee "$out" || true
		fi
		line=$(tail -n 1 "$out")
		if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
		else
			p=0
			f=1
		fi
		total_p=$((total_p + p))
		total_f=$((total_f + f))
		lines+=("$(printf '%-18s %4d passed, %4d failed' "$config" "$p" "$f")")
	done
	heading "Summary of the matrix"
	printf '%s\n' "${lines[@]}"
	PASSED=$total_p
	FAILED=$total_f
	REPORTED=1
	note "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

# ------------------------------------------------------------------- main

trap 'counted_exit $? check check.sh' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n $ALL ]]; then
	run_matrix
	exit
fi

if ! pg_native "$CF_PG_MAJOR"; then
	REPORTED=1       # the run inside the root prints the count
	args=()
	[[ -n $VARIANT_CC ]] && args+=(--cc "$VARIANT_CC")
	[[ -n $VARIANT_BLAS ]] && args+=(--blas "$VARIANT_BLAS")
	run_in_pg_root "$CF_PG_MAJOR" test/check.sh "${args[@]}"
	exit
fi

ensure_packages
if [[ -n $VARIANT_CC || -n $VARIANT_BLAS ]]; then
	[[ -z $VARIANT_CC ]] || command -v "$VARIANT_CC" >/dev/null || ensure_packages "$VARIANT_CC"
	[[ -z $VARIANT_BLAS ]] || ensure_packages libblas-dev liblapack-dev
	export CF_INSTALL_ROOT=${CF_INSTALL_ROOT:-/tmp/cf-check-variant}
	pg_major_set "$CF_PG_MAJOR"           # PGBIN under CF_INSTALL_ROOT
	build_variant "$WORK/build" "$VARIANT_CC" "$VARIANT_BLAS"
	SUITES=(suite_build suite_regress suite_isolation)
else
	build_install verbose
fi
heading "Starting the test cluster"
cluster_start check "$PORT"
CLUSTER_UP=1

for suite in "${SUITES[@]}"; do
	"$suite"
done

heading "Summary"
printf '%s\n' "${RESULTS[@]}"
cluster_stop check
CLUSTER_UP=
REPORTED=1
note "$PASSED passed, $FAILED failed"
((FAILED == 0))
