#!/usr/bin/env bash
#
# test/bench/isolation.sh -- what read isolation (a model's reader,
# docs/security.md) costs the serving path.
#
#   test/bench/isolation.sh [--sizes "1000 10000 100000"] [--repeats N]
#
# Builds and installs cf (CF_INSTALL_ROOT-aware), starts its own private
# cluster "ibench" (port $CF_BENCH_PORT, default 5496; directory
# $CF_CLUSTER_DIR or /tmp/cf-ibench) and, for a synthetic model of each size
# (items; 10,000 users; k = 64; rows written with SQL), measures as a role
# subject to row-level security (a member of the reader role, not a
# superuser):
#
#   recommend   median latency of cf_recommend(u, 10) over 300 random
#               users, the cache warm (PL/pgSQL loop, clock_timestamp())
#   load        median time of the first call in a new session: the item
#               rows read through the policies into the cache
#
# with the model's reader NULL, with it set, and with the read policies as
# 0.2.0 had them (USING (true): no isolation, no lookup), in alternation
# (--repeats rounds, default 5), and prints the medians and the ratios to
# the 0.2.0 policies; the superuser's latency is printed for reference
# (row-level security does not apply to it).  The cluster is stopped at the
# end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5496}
DB=cf_isolation
SIZES="1000 10000 100000"
REPEATS=5

while (($#)); do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	-h | --help) sed -n '4,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
for n in $SIZES $REPEATS; do [[ $n =~ ^[0-9]+$ ]] || die "'$n' is not a number"; done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/cf-isolation-bench.XXXXXX")
trap 'cluster_stop ibench; rm -rf "$OUT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
cluster_start ibench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"

psql_db() { run_psql -q -X -d "$DB" "$@"; }

psql_db <<'SQL'
CREATE EXTENSION cf;
CREATE ROLE bench_tenant;
CREATE ROLE bench_app IN ROLE bench_tenant;
GRANT SELECT ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO bench_app;

-- a model of n items and nusers users with random factors
CREATE FUNCTION make_model(m text, nitems int, nusers int, k int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM setseed(0.42);
  INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                         algorithm, hyperparameters, factors, users, items, ratings,
                         global_mean, rating_min, rating_max, epochs, seconds)
  VALUES (m, nextval('cf_model_version_seq'), 'none', 'user_id', 'item_id', 'rating', 'sgd',
          '{"regularization": 0.1}', k, nusers, nitems, 0, 3.5, 1, 5, 0, 0);
  INSERT INTO cf_item_factors
  SELECT m, i, (random() - 0.5)::real,
         ARRAY(SELECT ((random() - 0.5) * 0.3 + 0 * i)::real FROM generate_series(1, k))
  FROM generate_series(1, nitems) i;
  INSERT INTO cf_user_factors
  SELECT m, u, (random() - 0.5)::real,
         ARRAY(SELECT ((random() - 0.5) * 0.3 + 0 * u)::real FROM generate_series(1, k)),
         ARRAY(SELECT DISTINCT (1 + floor(random() * nitems) + 0 * u)::bigint
               FROM generate_series(1, 20) ORDER BY 1)
  FROM generate_series(1, nusers) u;
END $$;

-- median latency (ms) of `calls` cf_recommend calls for random users, cache warm
CREATE FUNCTION recommend_ms(m text, calls int, nusers int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; u bigint;
BEGIN
  PERFORM setseed(0.7);
  PERFORM count(*) FROM cf_recommend(1, 10, m);
  FOR j IN 1 .. calls LOOP
    u := 1 + floor(random() * nusers);
    t0 := clock_timestamp();
    PERFORM count(*) FROM cf_recommend(u, 10, m);
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END $$;

-- time (ms) of the first call of a session: the cache's load
CREATE FUNCTION first_call_ms(m text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  PERFORM count(*) FROM cf_recommend(1, 10, m);
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
GRANT EXECUTE ON FUNCTION recommend_ms(text, int, int), first_call_ms(text) TO bench_app;
SQL

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio A B: A / B to two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# the read policies of the factor tables as 0.2.0 had them, and back
old_policies() {
	psql_db >/dev/null <<'SQL'
ALTER POLICY cf_models_read ON cf_models USING (true);
ALTER POLICY cf_user_factors_read ON cf_user_factors USING (true);
ALTER POLICY cf_item_factors_read ON cf_item_factors USING (true);
SQL
}
new_policies() {
	psql_db >/dev/null <<'SQL'
ALTER POLICY cf_models_read ON cf_models USING (reader IS NULL OR cf_has_role(reader));
ALTER POLICY cf_user_factors_read ON cf_user_factors USING (cf_model_readable(model));
ALTER POLICY cf_item_factors_read ON cf_item_factors USING (cf_model_readable(model));
SQL
}

# measure MODEL KIND: one "recommend load" line as bench_app
measure() {
	local rec load
	rec=$(psql_db -At -c "SET ROLE bench_app; SELECT round(recommend_ms('$1', 300, 10000)::numeric, 4)")
	load=$(psql_db -At -c "SET ROLE bench_app; SELECT round(first_call_ms('$1')::numeric, 2)")
	printf '%s %s\n' "$rec" "$load"
}

for n in $SIZES; do
	model=iso_$n
	heading "Model of $n items, 10000 users, k = 64"
	psql_db -c "SELECT make_model('$model', $n, 10000, 64)" >/dev/null
	psql_db -c "VACUUM ANALYZE cf_models, cf_item_factors, cf_user_factors" >/dev/null
	su=$(psql_db -At -c "SELECT round(recommend_ms('$model', 300, 10000)::numeric, 4)")
	: >"$OUT/open"; : >"$OUT/reader"; : >"$OUT/old"
	for ((r = 1; r <= REPEATS; r++)); do
		psql_db -c "UPDATE cf_models SET reader = NULL WHERE name = '$model'" >/dev/null
		measure "$model" >>"$OUT/open"
		psql_db -c "UPDATE cf_models SET reader = 'bench_tenant' WHERE name = '$model'" >/dev/null
		measure "$model" >>"$OUT/reader"
		psql_db -c "UPDATE cf_models SET reader = NULL WHERE name = '$model'" >/dev/null
		old_policies
		measure "$model" >>"$OUT/old"
		new_policies
	done
	note "  superuser:                  recommend ${su} ms"
	for v in old open reader; do
		rec=$(cut -d' ' -f1 "$OUT/$v" | median)
		load=$(cut -d' ' -f2 "$OUT/$v" | median)
		[[ $v == old ]] && { old_rec=$rec; old_load=$load; }
		case $v in
		old) label="role, 0.2.0's read policies" ;;
		open) label="role, no reader           " ;;
		reader) label="role, reader set          " ;;
		esac
		note "  $label: recommend ${rec} ms ($(ratio "$rec" "$old_rec")x), first call ${load} ms ($(ratio "$load" "$old_load")x)"
	done
	psql_db -c "DELETE FROM cf_models WHERE name = '$model'" >/dev/null
done
