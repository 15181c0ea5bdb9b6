#!/usr/bin/env bash
#
# test/bench/als.sh -- how fast ALS and iALS train, and how close their
# Gram and solve phases come to OpenBLAS's sgemm.
#
#   test/bench/als.sh [--sizes "1000000 10000000"] [--factors "32 64 128"]
#                     [--epochs 3] [--repeats 3] [--parallel-factors "64"]
#
# Builds and installs cf (CF_INSTALL_ROOT-aware), starts its own private
# cluster "abench" (port $CF_BENCH_PORT, default 5497; directory
# $CF_CLUSTER_DIR or /tmp/cf-abench) and, for each size n, generates
# cf_synthetic_ratings(n / 50, n / 500, n, skew => 1.0) (n / 50 users,
# n / 500 items, a long tail of popularity).  Then for each k and each of
#
#   als            ALS, exact Cholesky solves (its default)
#   ials           iALS, 3 conjugate-gradient steps per row (its default)
#   ials-cholesky  iALS, exact Cholesky solves
#
# it trains `repeats` times with `epochs` iterations, in the leader alone
# (workers => 0, one core), and prints medians over all those iterations:
#
#   s/iter       wall seconds of one iteration (cf_training_log.seconds)
#   gram         GFLOP/s of building the normal equations: the Gramians
#                (ssyrk) and, for Cholesky, every row's matrix and
#                right-hand side (gather + cf's Gram kernel, or ssyrk
#                where k is not a multiple of 8), or for CG the
#                right-hand sides
#   solve        GFLOP/s of solving them: Cholesky factorizations and
#                substitutions, or the CG steps
#   sgemm        GFLOP/s of OpenBLAS's sgemm on 1024 x 1024 matrices in
#                the same backend, measured right before and after each
#                training (cf_bench_sgemm, a helper in cf's library that
#                the extension's SQL does not declare)
#   gram/sgemm, solve/sgemm   the ratios
#
# Rates are flops per CPU second of the process (as the DEBUG1 phase report
# of cf_train counts them: the monotonic clock per group of 8 rows, scaled
# per half-step by the thread's CPU time over its wall time), so that other
# load on a shared machine does not count against them; flops are the useful ones
# (a syrk of n vectors of d floats counts n d (d + 1), a Cholesky
# factorization d^3 / 3, the two substitutions 2 d^2, a CG matrix product
# 2 k^2 + 4 n d).  With --parallel-factors, those k are trained once more
# with one parallel worker beside the leader (two processes) and the
# median iteration time and speed-up are printed.  The cluster is stopped
# at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5497}
DB=cf_abench
SIZES="1000000 10000000"
FACTORS="32 64 128"
EPOCHS=3
REPEATS=3
PARALLEL_FACTORS="64"
ALGORITHMS="als ials ials-cholesky"

usage() { sed -n '4,45s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($#)); do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--factors) FACTORS=$2; shift 2 ;;
	--epochs) EPOCHS=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	--parallel-factors) PARALLEL_FACTORS=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
for v in $SIZES $FACTORS $EPOCHS $REPEATS $PARALLEL_FACTORS; do
	[[ $v =~ ^[0-9]+$ ]] || die "'$v' is not a number"
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/cf-als-bench.XXXXXX")
trap 'cluster_stop abench; rm -rf "$OUT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
# the measuring helpers of src/bench.c are built only with BENCH=1
CF_MAKE_ARGS="${CF_MAKE_ARGS:-} BENCH=1" build_install quiet
heading "Starting the benchmark cluster"
cluster_start abench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"
run_psql -q -d postgres -c "ALTER DATABASE $DB SET maintenance_work_mem = '8GB'"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION cf;
-- the measuring helper in cf's library (not part of the extension's SQL)
CREATE FUNCTION cf_bench_sgemm(n integer, passes integer) RETURNS float8
AS '$libdir/cf', 'cf_bench_sgemm' LANGUAGE C STRICT;
SQL

note "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
note "OpenBLAS $(pkg-config --modversion openblas 2>/dev/null || echo '?'), cf.blas_threads = 1"

# algorithm_args NAME: cf_train's arguments for an algorithm of the list.
algorithm_args() {
	case $1 in
	als) echo "algorithm => 'als'" ;;
	ials) echo "algorithm => 'ials'" ;;
	ials-cholesky) echo "algorithm => 'ials', solver => 'cholesky'" ;;
	esac
}

# train TABLE K ALGORITHM WORKERS TAG: one training; appends to $OUT/samples
# lines "TAG iter SECONDS", "TAG phase GRAM_GFLOPS SOLVE_GFLOPS" and
# "TAG sgemm GFLOPS".
train() {
	local table=$1 k=$2 alg=$3 workers=$4 tag=$5
	run_psql -q -X -A -t -d "$DB" >"$OUT/out" 2>"$OUT/err" <<SQL
SELECT 'sgemm', cf_bench_sgemm(1024, 5);
SET client_min_messages = debug1;
SELECT 'trained', seconds FROM cf_train('$table', model => 'bench', factors => $k, epochs => $EPOCHS,
                                        workers => $workers, verbose => false, $(algorithm_args "$alg"));
RESET client_min_messages;
SELECT 'iter', seconds FROM cf_training_log WHERE model = 'bench' ORDER BY epoch;
SELECT 'sgemm', cf_bench_sgemm(1024, 5);
SQL
	awk -F'|' -v tag="$tag" '$1 == "iter" || $1 == "sgemm" { print tag, $1, $2 }' "$OUT/out" >>"$OUT/samples"
	# DEBUG:  cf: epoch N phases (...): gram S s G GFLOP, solve S s G GFLOP
	sed -n 's/.*cf: epoch [0-9]* phases[^:]*: gram \([0-9.]*\) s \([0-9.]*\) GFLOP, solve \([0-9.]*\) s \([0-9.]*\) GFLOP.*/\1 \2 \3 \4/p' \
		"$OUT/err" | awk -v tag="$tag" '{ printf "%s phase %.3f %.3f\n", tag, $2 / $1, $4 / $3 }' >>"$OUT/samples"
	grep -q "trained" "$OUT/out" || { cat "$OUT/err" >&2; die "training failed"; }
}

# median TAG KIND [FIELD]: the median of the samples of a tag and kind.
median() {
	awk -v tag="$1" -v kind="$2" -v f="${3:-3}" '$1 == tag && $2 == kind { print $f }' "$OUT/samples" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

: >"$OUT/samples"
for n in $SIZES; do
	users=$((n / 50))
	items=$((n / 500))
	heading "$n ratings: cf_synthetic_ratings($users, $items, $n, skew => 1.0)"
	run_psql -q -d "$DB" -c "CREATE TABLE r_$n AS SELECT * FROM cf_synthetic_ratings($users, $items, $n, skew => 1.0)" \
		-c "ANALYZE r_$n"
	printf '%-14s %4s %8s %8s %8s %8s %11s %11s\n' algorithm k s/iter gram solve sgemm gram/sgemm solve/sgemm
	for k in $FACTORS; do
		for alg in $ALGORITHMS; do
			tag="$n-$k-$alg-0"
			for _ in $(seq "$REPEATS"); do
				train "r_$n" "$k" "$alg" 0 "$tag"
			done
			iter=$(median "$tag" iter)
			gram=$(median "$tag" phase 3)
			solve=$(median "$tag" phase 4)
			sgemm=$(median "$tag" sgemm)
			printf '%-14s %4d %8.3f %8.1f %8.1f %8.1f %11.2f %11.2f\n' "$alg" "$k" "$iter" "$gram" "$solve" \
				"$sgemm" "$(echo "$gram / $sgemm" | bc -l)" "$(echo "$solve / $sgemm" | bc -l)"
		done
	done
	if [[ -n $PARALLEL_FACTORS ]]; then
		note ""
		note "Two processes (workers => 1) against one:"
		printf '%-14s %4s %12s %12s %9s\n' algorithm k "s/iter (1)" "s/iter (2)" speed-up
		for k in $PARALLEL_FACTORS; do
			for alg in $ALGORITHMS; do
				tag="$n-$k-$alg-1"
				for _ in $(seq "$REPEATS"); do
					train "r_$n" "$k" "$alg" 1 "$tag"
				done
				one=$(median "$n-$k-$alg-0" iter)
				two=$(median "$tag" iter)
				printf '%-14s %4d %12.3f %12.3f %9.2f\n' "$alg" "$k" "$one" "$two" "$(echo "$one / $two" | bc -l)"
			done
		done
	fi
	run_psql -q -d "$DB" -c "DROP TABLE r_$n"
done

heading "Done"
