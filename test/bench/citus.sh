#!/usr/bin/env bash
#
# test/bench/citus.sh -- ALS in SQL on a Citus cluster (cf_als_sums and
# cf_als_solve pushed down to the shards) against cf_train's ALS on one
# node: model quality, seconds per iteration, bytes between nodes, the
# coordinator's memory.
#
#   test/bench/citus.sh [--data DIR] [--ratings N] [--shards N] [--skip-movielens]
#
# Builds and installs cf, builds Citus from ../shared/vendor if it is not
# installed (test/lib.sh: citus_ensure), and starts a coordinator and two
# workers on this machine (clusters cbench0..2, ports $CF_BENCH_PORT..+2,
# default 5620).  The ratings table is distributed by user with N shards
# (default 4), the user factors co-located with it, the item factors a
# reference table.  One ALS iteration is two statements on the
# coordinator (docs/scale-out.md):
#
#   items:  SELECT item_id, cf_als_solve(cf_als_sums(user vector, bias,
#           rating, mu), lambda) ... GROUP BY item_id  -- partial sums on
#           every shard, added up and solved on the coordinator, written
#           to the reference table
#   users:  UPDATE users ... FROM (the same, joined with the items, GROUP
#           BY user_id)  -- pushed down whole: each shard solves its users
#
# MovieLens 100K u1 (if DIR, default ../shared/data, holds ml-100k/u1.base
# and u1.test; skipped politely if not): 15 iterations at the ALS defaults
# (k 64, lambda 0.12, exponent 1) distributed, and cf_train(algorithm =>
# 'als') on a local copy on the coordinator; the test RMSE of both on the
# test ratings of known users and items, the same clipping.
#
# N generated ratings (default 10,000,000; 0 skips): N/50 users, N/5000
# items, k = 32, 2 iterations each way; the coordinator's
# maintenance_work_mem is 16MB.
#
# For both: seconds per iteration (the median), the bytes of partial sums
# the shards send to the coordinator per iteration (every shard's items
# times the state's text size, bytea hex) and of item vectors sent back to
# the workers' copies of the reference table, and the peak resident memory
# (VmHWM) of the coordinator backend that ran the distributed iterations.
# Timings on a shared machine vary: compare the ratios of one run.  The
# clusters are stopped at the end.
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
	-h | --help) sed -n '4,41s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
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

# The distributed ALS loop: tables PREFIX_ratings (distributed by user_id),
# PREFIX_users (co-located), PREFIX_items (reference); returns the seconds
# of each iteration.
psql_db <<'SQL'
CREATE FUNCTION bench_dals(prefix text, k int, lambda float8, iterations int)
RETURNS SETOF float8 LANGUAGE plpgsql AS $$
DECLARE
  mu float8;
  t timestamptz;
BEGIN
  EXECUTE format('SELECT avg(rating) FROM %I', prefix || '_ratings') INTO mu;
  FOR it IN 1 .. iterations LOOP
    t := clock_timestamp();
    EXECUTE format('DELETE FROM %I', prefix || '_items');
    EXECUTE format($q$
      INSERT INTO %1$I
      SELECT item_id, x[$1 + 1], x[1:$1]
      FROM (SELECT r.item_id, cf_als_solve(cf_als_sums(u.factors, u.bias, r.rating, $2), $3) AS x
            FROM %2$I r JOIN %3$I u USING (user_id) GROUP BY r.item_id) s $q$,
      prefix || '_items', prefix || '_ratings', prefix || '_users') USING k, mu, lambda;
    EXECUTE format($q$
      UPDATE %1$I u SET bias = s.b, factors = s.f
      FROM (SELECT user_id, x[$1 + 1] AS b, x[1:$1] AS f
            FROM (SELECT r.user_id, cf_als_solve(cf_als_sums(i.factors, i.bias, r.rating, $2), $3) AS x
                  FROM %2$I r JOIN %3$I i USING (item_id) GROUP BY r.user_id) s0) s
      WHERE u.user_id = s.user_id $q$,
      prefix || '_users', prefix || '_ratings', prefix || '_items') USING k, mu, lambda;
    RETURN NEXT extract(epoch FROM clock_timestamp() - t);
  END LOOP;
END $$;
SQL

# distribute PREFIX K: PREFIX_ratings (local, loaded) distributed by user,
# its users' random start vectors co-located, an empty reference table of items.
distribute() {
	local p=$1 k=$2
	psql_db -c "SET client_min_messages = warning" -c "SET citus.shard_count = $SHARDS" \
		-c "SELECT create_distributed_table('${p}_ratings', 'user_id')" \
		-c "SELECT truncate_local_data_after_distributing_table('${p}_ratings')" >/dev/null
	psql_db -c "CREATE TABLE ${p}_users (user_id bigint PRIMARY KEY, bias real, factors real[]);
		SELECT create_distributed_table('${p}_users', 'user_id', colocate_with => '${p}_ratings');
		CREATE TABLE ${p}_items (item_id bigint PRIMARY KEY, bias real, factors real[]);
		SELECT create_reference_table('${p}_items');" >/dev/null
	# uniform in +-0.05 * sqrt(3 / k) * 2: variance 0.01 / k, as cf_train starts ALS
	psql_db -c "SELECT setseed(0.42)" -c "INSERT INTO ${p}_users
		SELECT user_id, 0, (SELECT array_agg(((random() - 0.5) * 0.2 * sqrt(3.0 / $k))::real)
		                    FROM generate_series(1, $k) WHERE user_id IS NOT NULL)
		FROM (SELECT DISTINCT user_id FROM ${p}_ratings) s" >/dev/null
}

# run_distributed PREFIX K ITERATIONS: the loop in one session with
# maintenance_work_mem 16MB; prints the median seconds of an iteration and
# the session's backend's peak resident memory in kB (VmHWM), a line each.
run_distributed() {
	local p=$1 k=$2 n=$3
	psql_db <<SQL
SET maintenance_work_mem = '16MB';
SELECT pg_backend_pid() AS pid \gset
SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY s))::numeric, 3) FROM bench_dals('$p', $k, 0.12, $n) s;
\setenv CFPID :pid
\! awk '/VmHWM/ { print \$2 }' /proc/\$CFPID/status
SQL
}

# bytes PREFIX K: partial sums to the coordinator and item vectors to the
# workers, per iteration.
bytes() {
	local p=$1 k=$2 groups items state
	groups=$(psql_db -c "SELECT sum(result::bigint) FROM run_command_on_shards('${p}_ratings',
		\$\$SELECT count(DISTINCT item_id) FROM %s\$\$)")
	items=$(psql_db -c "SELECT count(*) FROM ${p}_items")
	state=$((16 + (k + 2) * (k + 3) / 2 * 4))
	awk -v g="$groups" -v s="$state" -v i="$items" -v k="$k" 'BEGIN {
		printf "%.1f MB of partial sums (%d shard-item groups x %d bytes as hex), %.1f MB of item vectors to 2 workers",
			g * (2 * s + 2) / 1e6, g, 2 * s + 2, i * 2 * (4 * (k + 1) + 40) / 1e6 }'
}

# test_rmse USERS ITEMS TEST MU: RMSE over the test ratings of known users and items, clipped to 1-5
test_rmse() {
	psql_db -c "SELECT round(sqrt(avg(power(least(5, greatest(1, $4 + u.bias + i.bias +
		(SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b)))) - t.rating, 2)))::numeric, 4)
		FROM $3 t JOIN $1 u USING (user_id) JOIN $2 i USING (item_id)"
}

if [[ -n $MOVIELENS ]]; then
	heading "MovieLens 100K u1, ALS defaults (k 64, lambda 0.12, 15 iterations)"
	if [[ -r $DATA/ml-100k/u1.base && -r $DATA/ml-100k/u1.test ]]; then
		psql_db -c "CREATE TABLE ml_ratings (user_id bigint, item_id bigint, rating real, ts bigint);
			CREATE TABLE ml_local (LIKE ml_ratings); CREATE TABLE ml_test (LIKE ml_ratings)"
		psql_db -c "\\copy ml_local FROM pstdin" <"$DATA/ml-100k/u1.base"
		psql_db -c "\\copy ml_test FROM pstdin" <"$DATA/ml-100k/u1.test"
		psql_db -c "INSERT INTO ml_ratings SELECT * FROM ml_local"
		mu=$(psql_db -c "SELECT avg(rating) FROM ml_local")
		psql_db -c "SELECT count(*) FROM cf_train('ml_local', model => 'ml', algorithm => 'als', verbose => false)" >/dev/null
		single=$(psql_db -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric, 3)
			FROM cf_training_log WHERE model = 'ml'")
		psql_db -c "CREATE VIEW ml_su AS SELECT user_id, bias, factors FROM cf_user_factors WHERE model = 'ml';
			CREATE VIEW ml_si AS SELECT item_id, bias, factors FROM cf_item_factors WHERE model = 'ml'"
		rs=$(test_rmse ml_su ml_si ml_test "$mu")
		distribute ml 64
		mapfile -t dist < <(run_distributed ml 64 15)
		rd=$(test_rmse ml_users ml_items ml_test "$mu")
		note "test RMSE: single node (cf_train) $rs, distributed $rd, difference $(awk -v a="$rd" -v b="$rs" 'BEGIN { printf "%+.4f", a - b }')"
		note "seconds per iteration: single node $single, distributed ${dist[0]} ($SHARDS shards)"
		note "coordinator backend peak memory (VmHWM): $((dist[1] / 1024)) MB"
		note "per iteration: $(bytes ml 64)"
	else
		note "No MovieLens 100K under $DATA (ml-100k/u1.base, u1.test): skipped."
	fi
fi

if ((RATINGS > 0)); then
	USERS=$((RATINGS / 50))
	ITEMS=$((RATINGS / 5000))
	heading "Generated: $RATINGS ratings of $USERS users and $ITEMS items, k = 32, 2 iterations"
	psql_db -c "CREATE TABLE g_local AS SELECT * FROM cf_synthetic_ratings($USERS, $ITEMS, $RATINGS, seed => 3)"
	psql_db -c "CREATE TABLE g_ratings AS SELECT * FROM g_local"
	psql_db -c "SET maintenance_work_mem = '4GB'" -c "SELECT count(*) FROM cf_train('g_local', model => 'g', algorithm => 'als', factors => 32,
		epochs => 2, verbose => false)" >/dev/null
	single=$(psql_db -c "SELECT round(avg(seconds)::numeric, 3) FROM cf_training_log WHERE model = 'g'")
	distribute g 32
	mapfile -t dist < <(run_distributed g 32 2)
	note "seconds per iteration: single node (cf_train, parallel workers as it chooses) $single, distributed ${dist[0]} ($SHARDS shards)"
	note "coordinator backend peak memory (VmHWM): $((dist[1] / 1024)) MB"
	note "per iteration: $(bytes g 32)"
fi
