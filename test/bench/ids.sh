#!/usr/bin/env bash
#
# test/bench/ids.sh -- what ids that are not integers cost.
#
#   test/bench/ids.sh [--ratings N] [--repeats R]
#
# Builds and installs cf, starts its own private cluster "ibench" (port
# $CF_BENCH_PORT, default 5497; directory $CF_CLUSTER_DIR or /tmp/cf-ibench)
# with shared_buffers = 1GB (the tables stay in shared buffers, so the
# loads compare the loaders rather than the page cache), and makes the
# same synthetic ratings (N ratings, default 2,000,000, of
# N/40 users and N/400 items) twice: with bigint ids, and with uuid users
# (md5 of the number) and text items ('SKU-' and the number).  Then, in one
# run, alternating the two R times (default 3) and taking medians:
#
#   load        the loader's time, as cf_train's "read ... in X s" line says
#               (each training after a CHECKPOINT)
#   epoch       seconds per SGD epoch (the mean of the epochs of a 10-epoch
#               training, k = 32)
#   recommend   median latency of one cf_recommend(user, 10) over 2,000
#               calls for random users, timed in the server after a warm-up
#
# and the ratios typed / bigint (the goals: load <= 1.5, epoch about 1,
# recommend <= 1.1), and the memory per id: the factor cache's bytes per
# item (cf_cache()) and the key column's bytes per stored row.  The
# cluster is stopped at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5497}
DB=cf_ids
RATINGS=2000000
REPEATS=3

while (($#)); do
	case $1 in
	--ratings) RATINGS=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	-h | --help) sed -n '4,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[[ $RATINGS =~ ^[0-9]+$ && $RATINGS -ge 4000 ]] || die "--ratings must be a number of at least 4000"
[[ $REPEATS =~ ^[0-9]+$ && $REPEATS -ge 1 ]] || die "--repeats must be a positive number"
USERS=$((RATINGS / 40))
ITEMS=$((RATINGS / 400))

trap 'cluster_stop ibench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
# both tables fit in shared buffers: the loads compare the loaders, not the page cache
CF_SERVER_OPTIONS="${CF_SERVER_OPTIONS:-} -c shared_buffers=1GB" cluster_start ibench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"
run_psql -q -d postgres -c "ALTER DATABASE $DB SET maintenance_work_mem = '2GB'"

psql_db() { run_psql -q -X -At -d "$DB" "$@"; }

heading "Making $RATINGS ratings of $USERS users and $ITEMS items, twice"
psql_db <<SQL
CREATE EXTENSION cf;
CREATE TABLE ints AS SELECT * FROM cf_synthetic_ratings($USERS, $ITEMS, $RATINGS);
CREATE TABLE typed AS
SELECT md5('u' || user_id)::uuid AS user_id, 'SKU-' || item_id AS item_id, rating FROM ints;
VACUUM ANALYZE ints;
VACUUM ANALYZE typed;

-- median latency (ms) of calls cf_recommend calls for random users
CREATE FUNCTION recommend_ms(m text, calls int, nusers int, typed boolean) RETURNS float8
LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; ms float8[] := '{}'; u bigint; id uuid;
BEGIN
  PERFORM setseed(0.7);
  IF typed THEN
    PERFORM count(*) FROM cf_recommend(md5('u1')::uuid, 10, m);
  ELSE
    PERFORM count(*) FROM cf_recommend(1, 10, m);
  END IF;
  FOR j IN 1 .. calls LOOP
    u := 1 + floor(random() * nusers);
    IF typed THEN
      id := md5('u' || u)::uuid;
      t0 := clock_timestamp();
      PERFORM count(*) FROM cf_recommend(id, 10, m);
    ELSE
      t0 := clock_timestamp();
      PERFORM count(*) FROM cf_recommend(u, 10, m);
    END IF;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END \$\$;
SQL
note "$(psql_db -c "SELECT 'tables: ints ' || pg_size_pretty(pg_total_relation_size('ints'))
  || ', typed ' || pg_size_pretty(pg_total_relation_size('typed'))")"

# train TABLE: prints "load_seconds epoch_seconds"
train() {
	local out load epoch
	# (a checkpoint first: the previous model's writes must not be flushed during this load)
	psql_db -c "CHECKPOINT" >/dev/null
	out=$(run_psql -X -At -d "$DB" -c "SET client_min_messages = notice;
		SELECT seconds FROM cf_train('$1', model => '$1', factors => 32, epochs => 10, verbose => true)" 2>&1)
	load=$(sed -n 's/.*read [0-9]* ratings of .* in \([0-9.]*\) s.*/\1/p' <<<"$out" | head -1)
	[[ -n $load ]] || die "no load time in cf_train's output: $out"
	epoch=$(psql_db -c "SELECT avg(seconds) FROM cf_training_log WHERE model = '$1'")
	printf '%s %s\n' "$load" "$epoch"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

heading "Training and serving, $REPEATS rounds (bigint, then typed, each round)"
declare -a il ie it tl te tt
for ((r = 1; r <= REPEATS; r++)); do
	read -r l e <<<"$(train ints)"
	il+=("$l"); ie+=("$e")
	read -r l e <<<"$(train typed)"
	tl+=("$l"); te+=("$e")
	it+=("$(psql_db -c "SELECT recommend_ms('ints', 2000, $USERS, false)")")
	tt+=("$(psql_db -c "SELECT recommend_ms('typed', 2000, $USERS, true)")")
	note "round $r: load ${il[-1]} / ${tl[-1]} s, epoch ${ie[-1]} / ${te[-1]} s, recommend ${it[-1]} / ${tt[-1]} ms (bigint / typed)"
done

report() {
	local what=$1 unit=$2 a b
	a=$(printf '%s\n' "${@:3:$REPEATS}" | median)
	b=$(printf '%s\n' "${@:$((3 + REPEATS)):$REPEATS}" | median)
	awk -v w="$what" -v u="$unit" -v a="$a" -v b="$b" \
		'BEGIN { printf "%-10s bigint %9.4f %s   typed %9.4f %s   typed/bigint %.2f\n", w, a, u, b, u, b / a }'
}
heading "Medians over $REPEATS rounds"
report load s "${il[@]}" "${tl[@]}"
report epoch s "${ie[@]}" "${te[@]}"
report recommend ms "${it[@]}" "${tt[@]}"

heading "Memory per id"
psql_db <<'SQL'
-- load both models into the cache
\o /dev/null
SELECT count(*) FROM cf_recommend(1, 1, 'ints');
SELECT count(*) FROM cf_recommend(md5('u1')::uuid, 1, 'typed');
\o
SELECT format('cache      bigint %s bytes/item   typed %s bytes/item',
              round(max(bytes) FILTER (WHERE model = 'ints')::numeric / max(items) FILTER (WHERE model = 'ints')),
              round(max(bytes) FILTER (WHERE model = 'typed')::numeric / max(items) FILTER (WHERE model = 'typed')))
FROM cf_cache();
SELECT format('stored     user_key %s bytes/user, item_key %s bytes/item (typed model; NULL for bigint)',
              (SELECT round(avg(pg_column_size(user_key)), 1) FROM cf_user_factors WHERE model = 'typed'),
              (SELECT round(avg(pg_column_size(item_key)), 1) FROM cf_item_factors WHERE model = 'typed'));
SELECT format('indexes    cf_user_factors_key %s, cf_item_factors_key %s',
              pg_size_pretty(pg_relation_size('cf_user_factors_key')),
              pg_size_pretty(pg_relation_size('cf_item_factors_key')));
SQL
