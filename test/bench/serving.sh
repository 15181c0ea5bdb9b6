#!/usr/bin/env bash
#
# test/bench/serving.sh -- how fast cf serves recommendations.
#
#   test/bench/serving.sh [--sizes "10000 100000 1000000"] [--seconds N]
#
# Builds and installs cf (CF_INSTALL_ROOT-aware, like the other scripts),
# starts its own private cluster "sbench" (port $CF_BENCH_PORT, default
# 5495; directory $CF_CLUSTER_DIR or /tmp/cf-sbench) and, for synthetic
# models of each size (items; 10,000 users; k = 64; factor rows written
# with SQL from random numbers, no training), prints:
#
#   recommend    median latency of one cf_recommend(u, 10) call, timed in
#                the server (clock_timestamp() around each call of a
#                PL/pgSQL loop over random users), after a warm-up call
#   stream       median time of one pass that reads the whole cached item
#                matrix once (memory-bandwidth reference), and of one sgemv
#                over it, measured in C in the same backend right after
#   ratio        recommend / stream (target: <= 2 at 100k items)
#   plain SQL    median time of the same top-10 in plain SQL (ORDER BY the
#                dot product over cf_item_factors LIMIT 10)
#   speed-up     plain SQL / recommend (target: >= 100 at 100k items)
#   pgbench      transactions per second of "SELECT * FROM cf_recommend(
#                random user, 10)" with 1, 2 and 8 clients, counted over the
#                steady state only (from the moment every client has served
#                its first call, i.e. has its cache loaded, to the end)
#
# and then batch recommendation for all users of a model trained on 1M
# synthetic ratings: cf_recommend_batch(NULL, 10) against one
# cf_recommend call per user.  The cluster is stopped at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5495}
DB=cf_serving
SIZES=${CF_SIZES:-"10000 100000 1000000"}
SECONDS_PER_RUN=${CF_PGBENCH_SECONDS:-10}
USERS=10000
K=64

while (($#)); do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--seconds) SECONDS_PER_RUN=$2; shift 2 ;;
	-h | --help) sed -n '4,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
for n in $SIZES; do [[ $n =~ ^[0-9]+$ ]] || die "size '$n' is not a number"; done
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ ]] || die "--seconds must be a number"

PGBENCH=$PGBIN/pgbench
OUT=$(mktemp -d "${TMPDIR:-/tmp}/cf-serving-bench.XXXXXX")
chmod 0777 "$OUT"
trap 'cluster_stop sbench; rm -rf "$OUT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
# the measuring helpers of src/bench.c are built only with BENCH=1
CF_MAKE_ARGS="${CF_MAKE_ARGS:-} BENCH=1" build_install quiet
heading "Starting the benchmark cluster"
cluster_start sbench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"
run_psql -q -d postgres -c "ALTER DATABASE $DB SET cf.cache_size = '2GB'"

psql_db() { run_psql -q -X -d "$DB" "$@"; }

psql_db <<'SQL'
CREATE EXTENSION cf;
-- the measuring helper in cf's library (not part of the extension's SQL)
CREATE FUNCTION cf_bench_stream(model text, passes integer,
    OUT stream_ms float8, OUT sgemv_ms float8, OUT megabytes float8)
AS '$libdir/cf', 'cf_bench_stream' LANGUAGE C STRICT;

-- a model of n items and 10000 users with random factors
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

-- median latency (ms) of `calls` cf_recommend calls for random users
CREATE FUNCTION recommend_ms(m text, calls int, nusers int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; u bigint;
BEGIN
  PERFORM setseed(0.7);
  PERFORM count(*) FROM cf_recommend(1, 10, m);          -- warm-up: loads the cache
  FOR j IN 1 .. calls LOOP
    u := 1 + floor(random() * nusers);
    t0 := clock_timestamp();
    PERFORM count(*) FROM cf_recommend(u, 10, m);
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END $$;

-- median time (ms) of the same top-10 in plain SQL
CREATE FUNCTION plain_sql_ms(m text, calls int, nusers int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; u bigint;
BEGIN
  PERFORM setseed(0.7);
  FOR j IN 1 .. calls LOOP
    u := 1 + floor(random() * nusers);
    t0 := clock_timestamp();
    PERFORM count(*) FROM (
      SELECT i.item_id
      FROM cf_item_factors i, cf_user_factors uf
      WHERE i.model = m AND uf.model = m AND uf.user_id = u
        AND i.item_id <> ALL (uf.rated_items)
      ORDER BY i.bias + (SELECT sum(a * b) FROM unnest(uf.factors, i.factors) x(a, b)) DESC
      LIMIT 10) s;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END $$;
SQL

# pgbench_tps MODEL CLIENTS: steady-state transactions per second.
pgbench_tps() {
	local model=$1 clients=$2 dir=$OUT/pgb-$1-$2
	mkdir -p "$dir"
	chmod 0777 "$dir"
	printf '\\set u random(1, %d)\nSELECT * FROM cf_recommend(:u, 10, %s);\n' \
		"$USERS" "'$model'" >"$dir/script.sql"
	"$PGBENCH" -n -c "$clients" -j "$clients" -T "$SECONDS_PER_RUN" -f "$dir/script.sql" \
		-l --log-prefix="$dir/log" "$DB" >"$dir/out.txt" 2>&1 ||
		{ cat "$dir/out.txt" >&2; die "pgbench failed"; }
	# log lines: client transaction latency_us script epoch_s epoch_us.
	# Steady state: from the time every client has finished its first call
	# (its cache is loaded) to the time the first client finished its last.
	cat "$dir"/log* | awk '
		{ t = $5 + $6 / 1e6; c = $1
		  if (!(c in first) || t < first[c]) first[c] = t
		  if (!(c in last) || t > last[c]) last[c] = t
		  times[NR] = t }
		END {
			start = 0; stop = 1e18
			for (c in first) { if (first[c] > start) start = first[c]; if (last[c] < stop) stop = last[c] }
			n = 0; for (i in times) if (times[i] > start && times[i] <= stop) n++
			if (stop > start) printf "%.0f\n", n / (stop - start); else print "n/a"
		}'
}

declare -A REC STREAM GEMV SQLMS TPS1 TPS2 TPS8 MB
for n in $SIZES; do
	model=bench_$n
	heading "Model of $n items, $USERS users, k = $K"
	start=$(date +%s)
	psql_db -c "SELECT make_model('$model', $n, $USERS, $K)" >/dev/null
	psql_db -c "VACUUM ANALYZE cf_item_factors, cf_user_factors" >/dev/null
	note "  written in $(($(date +%s) - start)) s"

	calls=300; sqlcalls=5
	if ((n >= 1000000)); then calls=60; sqlcalls=1; fi
	read -r rec stream gemv mb < <(psql_db -At -F ' ' <<SQL
SELECT round(recommend_ms('$model', $calls, $USERS)::numeric, 3),
       round(b.stream_ms::numeric, 3), round(b.sgemv_ms::numeric, 3), round(b.megabytes::numeric, 1)
FROM cf_bench_stream('$model', 21) b;
SQL
	)
	REC[$n]=$rec STREAM[$n]=$stream GEMV[$n]=$gemv MB[$n]=$mb
	note "  cf_recommend median ${rec} ms; stream ${stream} ms (${mb} MB), sgemv ${gemv} ms"
	SQLMS[$n]=$(psql_db -At -c "SELECT round(plain_sql_ms('$model', $sqlcalls, $USERS)::numeric, 1)")
	note "  plain SQL median ${SQLMS[$n]} ms"
	TPS1[$n]=$(pgbench_tps "$model" 1)
	TPS2[$n]=$(pgbench_tps "$model" 2)
	TPS8[$n]=$(pgbench_tps "$model" 8)
	note "  pgbench tps: 1 client ${TPS1[$n]}, 2 clients ${TPS2[$n]}, 8 clients ${TPS8[$n]}"
	psql_db -c "DELETE FROM cf_models WHERE name = '$model'" >/dev/null
done

heading "Batch: all users of a model trained on 1M ratings"
read -r bu bi br < <(psql_db -At -F ' ' <<'SQL'
CREATE TABLE batch_ratings AS SELECT * FROM cf_synthetic_ratings(10000, 5000, 1000000, seed => 1);
SELECT users, items, ratings FROM cf_train('batch_ratings', model => 'batch', verbose => false);
SQL
)
batch=$(psql_db -At <<'SQL'
SELECT count(*) FROM cf_recommend(1, 10, 'batch');   -- load the cache first
\o /dev/null
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM cf_recommend_batch(NULL, 10, 'batch');
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS batch_s \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM cf_user_factors u, LATERAL cf_recommend(u.user_id, 10, 'batch') r WHERE u.model = 'batch';
SELECT extract(epoch FROM clock_timestamp() - :'t0') AS single_s \gset
\o
SELECT round(:batch_s::numeric, 2) || ' ' || round(:single_s::numeric, 2);
SQL
)
batch=$(tail -n 1 <<<"$batch")
read -r batch_s single_s <<<"$batch"

heading "Results"
printf '%-9s %8s %12s %10s %10s %7s %12s %9s %8s %8s %8s\n' \
	items MB "recommend" stream sgemv ratio "plain SQL" speed-up "tps 1" "tps 2" "tps 8"
for n in $SIZES; do
	printf '%-9s %8s %9s ms %7s ms %7s ms %7s %9s ms %8sx %8s %8s %8s\n' "$n" "${MB[$n]}" \
		"${REC[$n]}" "${STREAM[$n]}" "${GEMV[$n]}" \
		"$(awk -v a="${REC[$n]}" -v b="${STREAM[$n]}" 'BEGIN { printf "%.2f", a / b }')" \
		"${SQLMS[$n]}" \
		"$(awk -v a="${SQLMS[$n]}" -v b="${REC[$n]}" 'BEGIN { printf "%.0f", a / b }')" \
		"${TPS1[$n]}" "${TPS2[$n]}" "${TPS8[$n]}"
done
echo
note "batch: $bu users x $bi items ($br ratings), top 10 for every user:"
note "  cf_recommend_batch(NULL, 10)         ${batch_s} s"
note "  one cf_recommend(u, 10) per user     ${single_s} s   ($(awk -v a="$single_s" -v b="$batch_s" 'BEGIN { printf "%.1f", a / b }')x the batch time)"
