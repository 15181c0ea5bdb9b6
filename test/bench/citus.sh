#!/usr/bin/env bash
#
# test/bench/citus.sh -- cf_train on a Citus cluster (ALS and iALS where the
# ratings are, docs/scale-out.md) against cf_train on one node: model
# quality, seconds per iteration, bytes between nodes, the coordinator's
# memory.
#
#   test/bench/citus.sh [--data DIR] [--ratings N] [--shards N] [--skip-movielens]
#
# Builds and installs cf, builds Citus from ../shared/vendor if it is not
# installed (test/lib.sh: citus_ensure), and starts a coordinator and two
# workers on this machine (clusters cbench0..2, ports $CF_BENCH_PORT..+2,
# default 5620).  The ratings table is distributed by user with N shards
# (default 4); cf_train on it trains on the cluster: each iteration's user
# half-step runs on the shards (an UPDATE of the model's user table,
# co-located), the item half-step's sums are partial aggregates on the
# shards combined on the coordinator, which solves the items.  The same
# cf_train call on a local copy on the coordinator is the single-node
# baseline.
#
# MovieLens 100K u1 (if DIR, default ../shared/data, holds ml-100k/u1.base
# and u1.test; skipped politely if not): ALS at its defaults (k 64, lambda
# 0.12, 15 iterations) both ways; the test RMSE of both on the test
# ratings of known users and items (cf_predict on the coordinator).
#
# N generated ratings (default 10,000,000; 0 skips): N/50 users, N/5000
# items, k = 32, 3 iterations of ALS and of iALS each way (on the cluster,
# the first apart: it also writes each user's row and rated items).
#
# Serving (MovieLens): milliseconds per cf_recommend(u, 10) call on the
# coordinator for the test users, the model trained on the cluster (one
# routed query per call for the user's row) against the one trained on
# one node.
#
# For both: seconds per iteration (the median of cf_training_log), the
# bytes of partial sums the shards send to the coordinator per iteration
# (every shard's items times the state's text size, bytea hex) and of item
# vectors sent to the shards, and the peak resident memory (VmHWM) of
# the coordinator backend that ran the distributed trainings, with
# maintenance_work_mem 16MB.  Timings on a shared machine vary: compare the
# ratios of one run.  The clusters are stopped at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5620}
DB=cf_citus
DATA=$TOP/../shared/data
RATINGS=10000000
SHARDS=4
MOVIELENS=1

while (($#)); do
	case $1 in
	--data) DATA=$2; shift 2 ;;
	--ratings) RATINGS=$2; shift 2 ;;
	--shards) SHARDS=$2; shift 2 ;;
	--skip-movielens) MOVIELENS=; shift ;;
	-h | --help) sed -n '3,41s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[[ $RATINGS =~ ^[0-9]+$ && ($RATINGS -eq 0 || $RATINGS -ge 100000) ]] ||
	die "--ratings must be 0 or a number of at least 100000"
[[ $SHARDS =~ ^[0-9]+$ && $SHARDS -ge 1 ]] || die "--shards must be a positive number"

ensure_packages
build_install quiet
citus_available || { note "Citus is not installed and cannot be built here: skipped."; exit 0; }
citus_ensure
trap 'citus_cluster_stop cbench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
heading "Starting the Citus cluster (coordinator and two workers)"
citus_cluster_start cbench "$PORT" "$DB"
psql_db() { run_psql -q -X -At -d "$DB" "$@"; }

# distribute PREFIX: PREFIX_ratings (local, loaded) distributed by user.
distribute() {
	psql_db -c "SET client_min_messages = warning" -c "SET citus.shard_count = $SHARDS" \
		-c "SELECT create_distributed_table('${1}_ratings', 'user_id')" \
		-c "SELECT truncate_local_data_after_distributing_table('${1}_ratings')" >/dev/null
}

# train_distributed TRAINING...: each cf_train call (SQL) in one session
# with maintenance_work_mem 16MB; prints the backend's peak resident
# memory in kB (VmHWM).
train_distributed() {
	local sql=""
	for t in "$@"; do sql+="SELECT count(*) FROM $t;"$'\n'; done
	psql_db <<SQL
SET maintenance_work_mem = '16MB';
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid \gset
$sql
\setenv CFPID :pid
\! awk '/VmHWM/ { print \$2 }' /proc/\$CFPID/status
SQL
}

# median MODEL [FROM]: the median seconds of the model's iterations (from iteration FROM on)
median() {
	psql_db -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric, 3)
		FROM cf_training_log WHERE model = '$1' AND epoch >= ${2:-1}"
}

# bytes PREFIX K MODEL: partial sums to the coordinator and item vectors to
# the shards, per iteration: the users' statement sends the items' ids and
# vectors (MODEL's final ones, as a stand-in of each iteration's) to every
# shard's task as text parameters.
bytes() {
	local p=$1 k=$2 model=$3 groups state vectors
	groups=$(psql_db -c "SELECT sum(result::bigint) FROM run_command_on_shards('${p}_ratings',
		\$\$SELECT count(DISTINCT item_id) FROM %s\$\$)")
	vectors=$(psql_db -c "SELECT length(array_agg(item_id ORDER BY item_id)::text)
		+ length(array_agg(factors || bias ORDER BY item_id)::text)
		FROM cf_item_factors WHERE model = '$model'")
	state=$((20 + (k + 2) * (k + 3) / 2 * 4))
	awk -v g="$groups" -v s="$state" -v v="$vectors" -v n="$SHARDS" 'BEGIN {
		printf "%.1f MB of partial sums (%d shard-item groups x %d bytes as hex), %.1f MB of item vectors to %d shards (as text)",
			g * (2 * s + 2) / 1e6, g, 2 * s + 2, v * n / 1e6, n }'
}

# serve_ms MODEL: milliseconds per cf_recommend(u, 10) call over the users
# of ml_test (a local table: the calls run on the coordinator), the median
# of three passes after a warming one.
serve_ms() {
	psql_db -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 3)
		FROM bench_serve('$1') ms"
}

# test_rmse MODEL TEST: RMSE of cf_predict over the test ratings of the model's users and items
test_rmse() {
	psql_db -c "SELECT round(sqrt(avg(power(cf_predict(t.user_id, t.item_id, '$1') - t.rating, 2)))::numeric, 4)
		FROM $2 t WHERE t.user_id IN (SELECT user_id FROM ml_local) AND t.item_id IN (SELECT item_id FROM ml_local)"
}

psql_db <<'SQL'
CREATE FUNCTION bench_serve(model text) RETURNS SETOF float8 LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  n bigint;
BEGIN
  FOR pass IN 0 .. 3 LOOP
    t := clock_timestamp();
    SELECT count(*) INTO n FROM (SELECT DISTINCT user_id FROM ml_test) u, cf_recommend(u.user_id, 10, model);
    IF pass > 0 THEN
      RETURN NEXT extract(epoch FROM clock_timestamp() - t) * 1000 / greatest(n / 10, 1);
    END IF;
  END LOOP;
END $$;
SQL

if [[ -n $MOVIELENS ]]; then
	heading "MovieLens 100K u1, ALS defaults (k 64, lambda 0.12, 15 iterations)"
	if [[ -r $DATA/ml-100k/u1.base && -r $DATA/ml-100k/u1.test ]]; then
		psql_db -c "CREATE TABLE ml_ratings (user_id bigint, item_id bigint, rating real, ts bigint);
			CREATE TABLE ml_local (LIKE ml_ratings); CREATE TABLE ml_test (LIKE ml_ratings)"
		psql_db -c "\\copy ml_local FROM pstdin" <"$DATA/ml-100k/u1.base"
		psql_db -c "\\copy ml_test FROM pstdin" <"$DATA/ml-100k/u1.test"
		psql_db -c "INSERT INTO ml_ratings SELECT * FROM ml_local"
		psql_db -c "SELECT count(*) FROM cf_train('ml_local', model => 'ml', algorithm => 'als', verbose => false)" >/dev/null
		distribute ml
		hwm=$(train_distributed "cf_train('ml_ratings', model => 'mld', algorithm => 'als', verbose => false)" | tail -1)
		rs=$(test_rmse ml ml_test)
		rd=$(test_rmse mld ml_test)
		note "test RMSE: single node $rs, on the cluster $rd, difference $(awk -v a="$rd" -v b="$rs" 'BEGIN { printf "%+.4f", a - b }')"
		note "seconds per iteration: single node $(median ml), on the cluster $(median mld) ($SHARDS shards)"
		note "coordinator backend peak memory (VmHWM): $((hwm / 1024)) MB"
		note "per iteration: $(bytes ml 64 mld)"
		note "serving, ms per cf_recommend(u, 10) over the $(psql_db -c "SELECT count(DISTINCT user_id) FROM ml_test") test users (median of 3 passes): single node $(serve_ms ml), on the cluster $(serve_ms mld) (one routed query per call)"
	else
		note "No MovieLens 100K under $DATA (ml-100k/u1.base, u1.test): skipped."
	fi
fi

if ((RATINGS > 0)); then
	USERS=$((RATINGS / 50))
	ITEMS=$((RATINGS / 5000))
	heading "Generated: $RATINGS ratings of $USERS users and $ITEMS items, k = 32, 3 iterations"
	psql_db -c "CREATE TABLE g_local AS SELECT * FROM cf_synthetic_ratings($USERS, $ITEMS, $RATINGS, seed => 3)"
	psql_db -c "CREATE TABLE g_ratings AS SELECT * FROM g_local"
	for alg in als ials; do
		psql_db -c "SET maintenance_work_mem = '4GB'" -c "SELECT count(*) FROM cf_train('g_local', model => 'g_$alg',
			algorithm => '$alg', factors => 32, epochs => 3, verbose => false)" >/dev/null
	done
	distribute g
	hwm=$(train_distributed \
		"cf_train('g_ratings', model => 'gd_als', algorithm => 'als', factors => 32, epochs => 3, verbose => false)" \
		"cf_train('g_ratings', model => 'gd_ials', algorithm => 'ials', factors => 32, epochs => 3, verbose => false)" | tail -1)
	for alg in als ials; do
		note "$alg seconds per iteration: single node (cf_train, parallel workers as it chooses) $(median g_$alg), on the cluster $(median gd_$alg 2) ($SHARDS shards; the first, which also writes each user's rated items and ratings: $(psql_db -c "SELECT round(seconds::numeric, 3) FROM cf_training_log WHERE model = 'gd_$alg' AND epoch = 1"))"
	done
	note "coordinator backend peak memory (VmHWM), both trainings: $((hwm / 1024)) MB"
	note "per iteration: $(bytes g 32 gd_als)"
fi
