#!/usr/bin/env bash
#
# test/check.sh -- build cf and run every test suite against a private,
# throwaway PostgreSQL 15 cluster.  This is what CI runs (.ci/run).
#
#   test/check.sh
#
# Steps: install missing Debian packages, build with warnings as errors and
# install, start the cluster "check" (port $CF_CHECK_PORT, default 5492),
# run the suites listed in SUITES, stop the cluster (also on failure or
# Ctrl-C), and end with exactly one line "N passed, N failed" counted over
# all suites.  Exits non-zero if anything failed.  Safe to re-run.
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
SUITES=(suite_regress suite_isolation suite_tap)

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

# pg_regress: sql/NAME.sql against expected/NAME.out for each NAME in the
# Makefile's REGRESS, through PGXS's own "make installcheck".  Output goes
# to results/ and regression.diffs in the checkout.
suite_regress() {
	local out=$WORK/regress.out rc=0 p f
	heading "pg_regress (make installcheck)"
	rm -f "$TOP/regression.diffs"
	make -C "$TOP" PG_CONFIG="$PG_CONFIG" installcheck 2>&1 | tee "$out" || rc=$?
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

# Isolation tests (concurrency): test/isolation/specs/NAME.spec against
# test/isolation/expected/NAME.out, every spec there, in a database where
# cf is already created.  Output goes to test/isolation/output_iso/.  (If
# the Makefile ever sets ISOLATION, "make installcheck" runs these too; then
# drop this suite.)
suite_isolation() {
	local out=$WORK/isolation.out rc=0 p f specs=() spec
	heading "isolation tests (pg_isolation_regress)"
	local dir=$TOP/test/isolation
	if [[ ! -d $dir/specs ]]; then
		skip isolation "no test/isolation/specs/ directory yet"
		return 0
	fi
	for spec in "$dir"/specs/*.spec; do
		[[ -e $spec ]] && specs+=("$(basename "$spec" .spec)")
	done
	if ((${#specs[@]} == 0)); then
		skip isolation "no test/isolation/specs/*.spec yet"
		return 0
	fi
	rm -f "$dir/output_iso/regression.diffs"
	"$PGXS_DIR/src/test/isolation/pg_isolation_regress" \
		--inputdir="$dir" --outputdir="$dir/output_iso" --bindir="$PGBIN" \
		--dbname=isolation_regression --load-extension=cf \
		"${specs[@]}" 2>&1 | tee "$out" || rc=$?
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

# TAP tests: test/t/*.pl run by prove with PostgreSQL's Perl test modules
# (PostgreSQL::Test::Cluster); they make their own clusters, not ours.
# initdb refuses to run as root, so as root the tests are copied into the
# cluster directory and run as postgres: a TAP test must not read other
# files from the checkout.  Logs land in tmp_check/ beside the tests.
suite_tap() {
	local out=$WORK/tap.out rc=0 p=0 f=0 total testdir runner=() tests=() t
	heading "TAP tests (prove)"
	if [[ ! -d $TOP/test/t ]]; then
		skip tap "no test/t/ directory yet"
		return 0
	fi
	testdir=$TOP/test
	if [[ $EUID -eq 0 ]]; then
		testdir=$CF_BASE/tap
		as_postgres rm -rf "$testdir"
		as_postgres mkdir "$testdir"
		as_root cp -R "$TOP/test/t" "$testdir/t"
		as_root chown -R postgres:postgres "$testdir/t"
		runner=(as_postgres)
	fi
	for t in "$testdir"/t/*.pl; do
		[[ -e $t ]] && tests+=("$t")
	done
	if ((${#tests[@]} == 0)); then
		skip tap "no t/*.pl yet"
		return 0
	fi
	"${runner[@]}" env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
		PATH="$PGBIN:$PATH" TESTDIR="$testdir" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
		prove -I "$PGXS_DIR/src/test/perl" -I "$testdir/t" "${tests[@]}" \
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

# ------------------------------------------------------------------- main

trap 'counted_exit $? check check.sh' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install verbose
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
