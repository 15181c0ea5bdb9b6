#!/usr/bin/env bash
#
# test/bench/ladder.sh -- training speed from 100K to 25M ratings.
#
#   test/bench/ladder.sh [SIZE...]          SIZE: 100k 1m 10m 25m ml100k mllatest
#
# For each size it generates ratings with cf_synthetic_ratings (power-law
# user and item popularity, skew 1.0, a planted 20-factor model; users =
# ratings/50, items = ratings/500, so 10m is 200k users x 20k items) or loads
# MovieLens from ../shared/data (skipped when absent), then in one run:
#
#   - times SELECT count(user_id), count(item_id), sum(rating) (median of 3),
#   - trains with cf_train(factors => K, epochs => E, workers => 0) and with
#     workers => 1 (the leader and one worker: two processes),
#
# and prints, per training: load seconds and the load ratio (load / count),
# median seconds per epoch, rating updates per second per process, GFLOP/s
# (8k flops an update: a k-long dot product, two k-long axpy-like updates),
# the workers, the memory cf_train reports needing and the backend's peak
# RSS (VmHWM, which includes shared buffers and DSM pages it touched), and
# the final training RMSE.  Then the scaling ratio (epoch with 0 workers /
# epoch with 1 worker) per size.
#
# Settings (environment): CF_K (64), CF_EPOCHS (10), CF_BENCH_PORT (5494),
# CF_INSTALL_ROOT (see docs/developers.md), CF_LIBMF (a directory holding a
# LibMF build, mf-train, to time on the same data in the same run: seconds
# per iteration with 1 and 2 threads; LibMF is never part of this repository).
#
# Timings on a shared machine vary from run to run: compare the ratios
# printed in one run, not numbers across runs.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5494}
K=${CF_K:-64}
EPOCHS=${CF_EPOCHS:-10}
DB=cf_ladder
DATA=$TOP/../shared/data
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100k 1m 10m 25m ml100k)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/cf-ladder.XXXXXX")
chmod 755 "$OUT"

finish() {
	cluster_stop ladder || true
	rm -rf "$OUT"
}
trap finish EXIT

q() { run_psql -d "$DB" -qAt "$@"; }

# make_table NAME SIZE: create table NAME with the ratings of SIZE; false if
# the size's data is not available.
make_table() {
	local name=$1 size=$2 n
	case $size in
	100k) n=100000 ;;
	1m) n=1000000 ;;
	10m) n=10000000 ;;
	25m) n=25000000 ;;
	ml100k)
		[[ -r $DATA/ml-100k/u.data ]] || return 1
		q -c "CREATE TABLE $name (user_id int, item_id int, rating real, ts bigint)"
		q -c "\\copy $name FROM pstdin" <"$DATA/ml-100k/u.data"
		q -c "VACUUM ANALYZE $name"
		return 0
		;;
	mllatest)
		[[ -r $DATA/ml-latest-small/ratings.csv ]] || return 1
		q -c "CREATE TABLE $name (user_id int, item_id int, rating real, ts bigint)"
		q -c "\\copy $name FROM pstdin WITH (FORMAT csv, HEADER true)" <"$DATA/ml-latest-small/ratings.csv"
		q -c "VACUUM ANALYZE $name"
		return 0
		;;
	*) die "unknown size '$size'" ;;
	esac
	q -c "CREATE TABLE $name AS SELECT * FROM cf_synthetic_ratings($((n / 50)), $((n / 500)), $n, skew => 1.0)"
	q -c "VACUUM ANALYZE $name"
}

# count_seconds NAME: median of 3 timings of the reference aggregate.
count_seconds() {
	local i t times=()
	for i in 1 2 3; do
		t=$(run_psql -d "$DB" -qAt -c '\timing on' \
			-c "SELECT count(user_id), count(item_id), sum(rating) FROM $1" |
			sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
		times+=("$t")
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n 2p | awk '{ printf "%.3f", $1 / 1000 }'
}

# train NAME WORKERS: one training in a fresh backend; prints
# "load epoch_median mem_mb rss_mb rmse users items ratings".
train() {
	local name=$1 workers=$2 log=$OUT/$1.$2.log pid
	run_psql -d "$DB" -qAt >"$log" 2>&1 <<SQL
SET maintenance_work_mem = '1GB';
SELECT 'pid', pg_backend_pid();
SELECT 'result', users, items, ratings, rmse FROM cf_train('$name', model => '$name',
       factors => $K, epochs => $EPOCHS, workers => $workers);
SELECT 'epoch', percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
FROM cf_training_log WHERE model = '$name';
\\! cat /proc/\$(cat $OUT/pid)/status > $OUT/status 2>/dev/null || true
SQL
	# (the backend's status is read after the fact below instead: psql cannot
	# interpolate its own variables into \!)
	pid=$(sed -n 's/^pid|//p' "$log")
	awk -v pid="$pid" '
		/read [0-9]+ ratings/ { for (i = 1; i <= NF; i++) if ($i == "in") load = $(i + 1) }
		/training needs/ { for (i = 1; i <= NF; i++) if ($i == "needs") mem = $(i + 1) }
		/^result\|/ { split($0, a, "|"); users = a[2]; items = a[3]; n = a[4]; rmse = a[5] }
		/^epoch\|/ { split($0, a, "|"); epoch = a[2] }
		/ERROR/ { print "ERROR: " $0 > "/dev/stderr" }
		END { printf "%s %s %s %s %s %s %s\n", load, epoch, mem, rmse, users, items, n }' "$log"
}

# peak_rss_mb NAME WORKERS: VmHWM of a training's backend, measured by
# running the training again in a backend whose pid we know while it lives.
peak_rss_mb() {
	local name=$1 workers=$2 fifo=$OUT/fifo.$1.$2 pid hwm
	mkfifo "$fifo"
	run_psql -d "$DB" -qAt <"$fifo" >"$OUT/rss.$1.$2" 2>&1 &
	exec 9>"$fifo"
	printf "SELECT pg_backend_pid();\n" >&9
	sleep 0.5
	pid=$(head -n 1 "$OUT/rss.$1.$2")
	printf "SET maintenance_work_mem = '1GB';\nSELECT count(*) FROM cf_train('%s', model => '%s_rss', factors => %s, epochs => 1, workers => %s, verbose => false);\n" \
		"$name" "$name" "$K" "$workers" >&9
	printf "SELECT 'done';\n" >&9
	while ! grep -q '^done' "$OUT/rss.$1.$2" 2>/dev/null; do
		sleep 0.2
	done
	hwm=$(as_root cat "/proc/$pid/status" | awk '/^VmHWM/ { printf "%d", $2 / 1024 }')
	exec 9>&-
	wait
	rm -f "$fifo"
	q -c "DELETE FROM cf_models WHERE name = '${name}_rss'"
	echo "$hwm"
}

# libmf_epoch FILE THREADS: seconds per iteration of LibMF's mf-train
# (time for 1 + EPOCHS iterations minus time for 1, over EPOCHS).
libmf_epoch() {
	local file=$1 threads=$2 t1 tn
	t1=$( { /usr/bin/time -f %e "$CF_LIBMF/mf-train" -k "$K" -t 1 -s "$threads" -r 0.01 -l2 0.1 -l1 0 --quiet "$file" "$OUT/libmf.model" >/dev/null; } 2>&1 | tail -n 1)
	tn=$( { /usr/bin/time -f %e "$CF_LIBMF/mf-train" -k "$K" -t $((EPOCHS + 1)) -s "$threads" -r 0.01 -l2 0.1 -l1 0 --quiet "$file" "$OUT/libmf.model" >/dev/null; } 2>&1 | tail -n 1)
	awk -v a="$t1" -v b="$tn" -v e="$EPOCHS" 'BEGIN { printf "%.3f", (b - a) / e }'
}

ensure_packages
build_install quiet
cluster_start ladder "$PORT"
run_psql -q -c "CREATE DATABASE $DB"
q -c "CREATE EXTENSION cf"

heading "cf_train speed ladder: k = $K, $EPOCHS epochs, $(nproc) cores"
cat <<EOF
machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
printf '\n%-8s %9s %6s %6s %7s %5s %9s %12s %8s %7s %7s %7s %7s\n' \
	size ratings count_s load_s ratio wrk epoch_s upd/s/proc GFLOP/s mem_MB rss_MB rmse scale
declare -A epoch0
for size in "${SIZES[@]}"; do
	name=r_$size
	if ! make_table "$name" "$size"; then
		note "$size: data not found under $DATA; skipped"
		continue
	fi
	count=$(count_seconds "$name")
	for workers in 0 1; do
		read -r load epoch mem rmse _users _items n < <(train "$name" "$workers")
		rss=$(peak_rss_mb "$name" "$workers")
		procs=$((workers + 1))
		scale=-
		if ((workers == 0)); then
			epoch0[$size]=$epoch
		else
			scale=$(awk -v a="${epoch0[$size]}" -v b="$epoch" 'BEGIN { printf "%.2fx", a / b }')
		fi
		awk -v s="$size" -v n="$n" -v c="$count" -v l="$load" -v w="$workers" -v e="$epoch" \
			-v p="$procs" -v k="$K" -v m="$mem" -v r="$rss" -v rm="$rmse" -v sc="$scale" 'BEGIN {
			printf "%-8s %9d %6.3f %6.3f %6.2fx %5d %9.4f %12.0f %8.1f %7s %7s %7.4f %7s\n",
				s, n, c, l, l / c, w, e, n / e / p, n * 8 * k / e / 1e9, m, r, rm, sc }'
	done
	if [[ -n ${CF_LIBMF:-} && -x ${CF_LIBMF:-}/mf-train ]]; then
		run_psql -d "$DB" -qAt -c "\\copy (SELECT user_id - 1, item_id - 1, rating FROM $name) TO pstdout WITH (DELIMITER ' ')" >"$OUT/$name.txt"
		for threads in 1 2; do
			l=$(libmf_epoch "$OUT/$name.txt" "$threads")
			printf '%-8s LibMF (%s) %d thread(s): %s s per iteration; cf with %d process(es): %s s; LibMF / cf = %s\n' \
				"$size" "$CF_LIBMF" "$threads" "$l" "$threads" \
				"$(grep -h "" /dev/null; awk -v t="$threads" -v a="${epoch0[$size]}" -v b="$epoch" 'BEGIN { print (t == 1 ? a : b) }')" \
				"$(awk -v t="$threads" -v a="${epoch0[$size]}" -v b="$epoch" -v l="$l" 'BEGIN { printf "%.2f", l / (t == 1 ? a : b) }')"
		done
		rm -f "$OUT/$name.txt"
	fi
	q -c "DROP TABLE $name; DELETE FROM cf_models"
done
note ""
note "count_s: SELECT count(user_id), count(item_id), sum(rating) (median of 3); load_s: cf_train reading"
note "the same table; ratio: load_s / count_s. epoch_s: median epoch; upd/s/proc: ratings / epoch_s / processes;"
note "GFLOP/s at 8k flops an update; mem_MB: what cf_train reported needing; rss_MB: the backend's peak RSS"
note "(shared buffers and DSM included); rmse: final training RMSE; scale: epoch_s(0 workers) / epoch_s(1 worker)."
