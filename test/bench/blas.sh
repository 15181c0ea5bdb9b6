#!/usr/bin/env bash
#
# test/bench/blas.sh -- what a build against reference BLAS/LAPACK costs,
# against the default OpenBLAS build, in one run.
#
#   test/bench/blas.sh [--repeats N]
#
# Builds cf twice in copies, with OpenBLAS and against Debian's reference
# BLAS and LAPACK (libblas-dev, liblapack-dev), each installed into its own
# private copy of PostgreSQL 15 (/tmp/cf-blas-openblas, /tmp/cf-blas-reference),
# and, for each build in turn, on a fresh private cluster "blas" (port
# $CF_BENCH_PORT, default 5487) with the same generated ratings
# (cf_synthetic_ratings(20000, 20000, 1000000, seed => 1)):
#
#   - ALS training, k = 128, 3 iterations, no workers (Gramians and
#     solves: cf's kernels, BLAS ssyrk, LAPACK)
#   - SGD training, k = 64, 5 epochs, no workers (no BLAS at all)
#   - 1000 calls of cf_recommend(u, 10) on the ALS model (sgemv over
#     20,000 items, after one warm-up call fills the factor cache)
#   - 200 fold-ins, cf_recommend_for_ratings of 20 ratings (LAPACK)
#
# each N times (default 3); prints the median seconds of each build and
# the ratio reference / OpenBLAS.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5487}
REPEATS=3
while (($#)); do
	case $1 in
	--repeats)
		REPEATS=$2
		shift
		;;
	*)
		printf 'usage: %s [--repeats N]\n' "$0" >&2
		exit 2
		;;
	esac
	shift
done
[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || die "--repeats takes a positive number"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cf-blas.XXXXXX")
trap 'cluster_stop blas >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

ensure_packages
ensure_packages libblas-dev liblapack-dev

# measure BUILD: one line per measurement, "name seconds", REPEATS times each.
measure() {
	local build=$1
	export CF_INSTALL_ROOT=/tmp/cf-blas-$build
	pg_major_set "$CF_PG_MAJOR"
	if [[ $build == reference ]]; then
		build_variant "$WORK/build-$build" "" reference >/dev/null
	else
		build_variant "$WORK/build-$build" "" "" >/dev/null
	fi
	cluster_start blas "$PORT" >/dev/null
	run_psql -q -d postgres >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cf;
CREATE TABLE r AS SELECT * FROM cf_synthetic_ratings(20000, 20000, 1000000, seed => 1);
ANALYZE r;
SQL
	for ((i = 0; i < REPEATS; i++)); do
		run_psql -q -At -d postgres <<'SQL'
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SELECT 'als_train ' || seconds FROM cf_train('r', model => 'a', algorithm => 'als', factors => 128,
                                             epochs => 3, workers => 0, verbose => false);
SELECT 'sgd_train ' || seconds FROM cf_train('r', model => 's', factors => 64, epochs => 5,
                                             workers => 0, verbose => false);
SELECT count(*) FROM cf_recommend(1, 10, 'a') \g /dev/null
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM (SELECT cf_recommend(u, 10, 'a') FROM generate_series(1, 1000) u) x \g /dev/null
SELECT 'recommend_1000 ' || extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM (SELECT cf_recommend_for_ratings(
         ARRAY(SELECT (u * 37 + j * 101) % 20000 + 1 FROM generate_series(1, 20) j)::bigint[],
         array_fill(4::real, ARRAY[20]), 10, 'a') FROM generate_series(1, 200) u) x \g /dev/null
SELECT 'foldin_200 ' || extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
	done
	# the BLAS the backends really ran
	run_psql -q -At -d postgres -c "LOAD 'cf'" \
		-c "SELECT pg_read_file('/proc/self/maps')" | grep -o '/[^ ]*lib\(open\)\{0,1\}blas[^ /]*\.so[^ ]*' |
		sort -u | sed 's/^/library /'
	cluster_stop blas >/dev/null
}

heading "Measuring: OpenBLAS build"
measure openblas | tee "$WORK/openblas.txt"
heading "Measuring: reference BLAS/LAPACK build"
measure reference | tee "$WORK/reference.txt"

# median NAME FILE
median() {
	awk -v n="$1" '$1 == n { print $2 }' "$2" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

heading "Reference BLAS/LAPACK against OpenBLAS: median seconds of $REPEATS, one run"
printf 'machine: %s, %s cores\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(nproc)"
printf '%-16s %10s %10s %8s\n' measurement openblas reference ratio
for name in als_train sgd_train recommend_1000 foldin_200; do
	o=$(median "$name" "$WORK/openblas.txt")
	r=$(median "$name" "$WORK/reference.txt")
	printf '%-16s %10.3f %10.3f %7.2fx\n' "$name" "$o" "$r" "$(awk -v a="$r" -v b="$o" 'BEGIN { print a / b }')"
done
printf 'ratio: reference seconds / OpenBLAS seconds (above 1: reference is slower)\n'
