#!/usr/bin/env bash
#
# test/bench/ials.sh -- implicit-feedback ALS (iALS) on MovieLens: ranking
# quality against the most popular items.
#
#   test/bench/ials.sh [options] [DIR]
#
# DIR holds MovieLens 100K (u.data) or MovieLens latest-small (ratings.csv);
# default ../shared/data/ml-100k relative to the top of the checkout.
# Without either file it says so and exits 0.  The files are read by psql
# (\copy) and never copied into the checkout.
#
# The ratings of 4 or 5 stars are the events (every other rating is
# dropped); of each user's events, floor(20%) are held out, chosen by a
# seeded hash of (seed, user, item), so the split is the same on every run.
# cf_train(..., rating_column => NULL, algorithm => 'ials') learns from the
# rest, once with the default CG solver and once with the exact Cholesky
# solver.  For every user with held-out events, each model's top 20 (the
# user's training events left out) and the most popular items (by training
# events, the user's own left out, ties by id) are scored:
#
#   recall@20  held-out events among the top 20 / min(20, held-out events)
#   NDCG@10    discounted gain of the held-out events in the top 10 over
#              the ideal one (binary relevance)
#
# averaged over the users, printed beside the ratio to the most-popular
# ranking.  Own private cluster "ibench" (port $CF_BENCH_PORT, default
# 5496; directory $CF_CLUSTER_DIR or /tmp/cf-ibench), stopped at the end.
#
# Settings (options or environment; empty: cf_train's defaults):
#   --factors N                  CF_FACTORS
#   --epochs N                   CF_EPOCHS
#   --alpha X                    CF_ALPHA
#   --regularization X           CF_REGULARIZATION
#   --regularization-exponent X  CF_REGULARIZATION_EXPONENT
#   --seed N                     CF_SPLIT_SEED  the held-out split (default 42)
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5496}
DB=cf_ibench
dir=$TOP/../shared/data/ml-100k
split_seed=${CF_SPLIT_SEED:-42}
declare -A setting=(
	[factors]=${CF_FACTORS:-}
	[epochs]=${CF_EPOCHS:-}
	[alpha]=${CF_ALPHA:-}
	[regularization]=${CF_REGULARIZATION:-}
	[regularization_exponent]=${CF_REGULARIZATION_EXPONENT:-}
)

usage() { sed -n '4,38s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
need_value() { [[ -n ${2:-} ]] || die "$1 needs a value"; }

while (($#)); do
	case $1 in
	--factors) need_value "$@"; setting[factors]=$2; shift 2 ;;
	--epochs) need_value "$@"; setting[epochs]=$2; shift 2 ;;
	--alpha) need_value "$@"; setting[alpha]=$2; shift 2 ;;
	--regularization) need_value "$@"; setting[regularization]=$2; shift 2 ;;
	--regularization-exponent) need_value "$@"; setting[regularization_exponent]=$2; shift 2 ;;
	--seed) need_value "$@"; split_seed=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) dir=$1; shift ;;
	esac
done

int_re='^[0-9]+$'
num_re='^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
[[ $split_seed =~ $int_re ]] || die "seed: '$split_seed' is not a plain number"
train_args="'ev_train', rating_column => NULL, algorithm => 'ials', verbose => false"
for name in factors epochs alpha regularization regularization_exponent; do
	value=${setting[$name]}
	[[ -n $value ]] || continue
	case $name in
	factors | epochs) re=$int_re ;;
	*) re=$num_re ;;
	esac
	[[ $value =~ $re ]] || die "${name//_/-}: '$value' is not a plain number"
	train_args+=", $name => $value"
done

if [[ -r $dir/u.data ]]; then
	file=$dir/u.data
	format=ml-100k
elif [[ -r $dir/ratings.csv ]]; then
	file=$dir/ratings.csv
	format=ml-latest-small
else
	note "MovieLens not found: no readable u.data or ratings.csv in $dir."
	note "Skipping the benchmark.  To run it, unpack ml-100k.zip (or ml-latest-small.zip)"
	note "from https://grouplens.org/datasets/movielens/ and pass its directory:"
	note "    $0 /path/to/ml-100k"
	exit 0
fi
dir=$(cd "$dir" && pwd)

trap 'cluster_stop ibench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
cluster_start ibench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"

heading "Loading $format from $file; events: ratings >= 4; split seed $split_seed"
run_psql -q -d "$DB" -c "CREATE EXTENSION cf" \
	-c "CREATE TABLE ml (user_id bigint, item_id bigint, rating real, ts bigint)"
if [[ $format == ml-100k ]]; then
	run_psql -q -d "$DB" -c '\copy ml FROM pstdin' <"$file"
else
	run_psql -q -d "$DB" -c '\copy ml FROM pstdin WITH (FORMAT csv, HEADER true)' <"$file"
fi

run_psql -q -d "$DB" -v seed="$split_seed" -v train_args="$train_args" <<'SQL'
SET maintenance_work_mem = '1GB';
CREATE TABLE ev AS
SELECT user_id, item_id,
       row_number() OVER (PARTITION BY user_id
                          ORDER BY md5(:'seed' || ':' || user_id || ':' || item_id), item_id) AS rk,
       count(*) OVER (PARTITION BY user_id) AS n
FROM ml WHERE rating >= 4;
CREATE TABLE ev_test AS SELECT user_id, item_id FROM ev WHERE rk <= floor(0.2 * n);
CREATE TABLE ev_train AS SELECT user_id, item_id FROM ev WHERE rk > floor(0.2 * n);
ANALYZE ev_train, ev_test;
SELECT (SELECT count(*) FROM ev_train) AS train_events,
       (SELECT count(*) FROM ev_test) AS test_events,
       (SELECT count(DISTINCT user_id) FROM ev_test) AS test_users,
       (SELECT count(DISTINCT item_id) FROM ev_train) AS items;

-- recall@20 and NDCG@10 of a top-20 table (user_id, item_id, rank)
CREATE FUNCTION metrics(top regclass, OUT recall20 float8, OUT ndcg10 float8)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($q$
    WITH t AS (SELECT user_id, count(*) AS nt FROM ev_test GROUP BY user_id),
         hits AS (SELECT r.user_id, r.rank FROM %s r JOIN ev_test e USING (user_id, item_id)),
         per AS (SELECT t.user_id,
                        (SELECT count(*) FROM hits h WHERE h.user_id = t.user_id)::float8
                          / least(t.nt, 20) AS recall,
                        (SELECT coalesce(sum(1 / log(2, h.rank + 1)), 0) FROM hits h
                         WHERE h.user_id = t.user_id AND h.rank <= 10)
                          / (SELECT sum(1 / log(2, g + 1)) FROM generate_series(1, least(t.nt, 10)) g)
                          AS ndcg
                 FROM t)
    SELECT avg(recall), avg(ndcg) FROM per$q$, top) INTO recall20, ndcg10;
END $$;

CREATE TABLE results (ord int, ranking text, seconds float8, recall20 float8, ndcg10 float8);

-- most popular
\timing on
CREATE TABLE top_popular AS
SELECT u.user_id, p.item_id, p.rank
FROM (SELECT DISTINCT user_id FROM ev_test) u,
     LATERAL (SELECT c.item_id, row_number() OVER (ORDER BY c.n DESC, c.item_id) AS rank
              FROM (SELECT item_id, count(*) AS n FROM ev_train GROUP BY item_id) c
              WHERE NOT EXISTS (SELECT FROM ev_train x WHERE x.user_id = u.user_id AND x.item_id = c.item_id)
              ORDER BY c.n DESC, c.item_id LIMIT 20) p;
\timing off
INSERT INTO results SELECT 3, 'most popular', NULL, * FROM metrics('top_popular');

\echo
\echo '== Training: cf_train(':train_args', model => ...)'
SELECT seconds FROM cf_train(:train_args, model => 'ials_cg') \gset cg_
SELECT seconds FROM cf_train(:train_args, model => 'ials_cholesky', solver => 'cholesky') \gset ch_
SELECT name, hyperparameters FROM cf_models ORDER BY name;
CREATE TABLE top_cg AS SELECT user_id, item_id, rank FROM cf_recommend_batch(
  (SELECT array_agg(DISTINCT user_id) FROM ev_test), 20, 'ials_cg');
CREATE TABLE top_cholesky AS SELECT user_id, item_id, rank FROM cf_recommend_batch(
  (SELECT array_agg(DISTINCT user_id) FROM ev_test), 20, 'ials_cholesky');
INSERT INTO results SELECT 1, 'iALS (cg, the default)', :'cg_seconds', * FROM metrics('top_cg');
INSERT INTO results SELECT 2, 'iALS (cholesky)', :'ch_seconds', * FROM metrics('top_cholesky');

\echo '== Held-out events found (higher is better)'
SELECT ranking, round(seconds::numeric, 3) AS train_seconds,
       round(recall20::numeric, 4) AS "recall@20",
       round((recall20 / (SELECT recall20 FROM results WHERE ord = 3))::numeric, 2) AS "recall ratio to popular",
       round(ndcg10::numeric, 4) AS "NDCG@10",
       round((ndcg10 / (SELECT ndcg10 FROM results WHERE ord = 3))::numeric, 2) AS "NDCG ratio to popular"
FROM results ORDER BY ord;

SELECT format('RESULT ials_recall20=%s ials_ndcg10=%s popular_recall20=%s popular_ndcg10=%s recall_ratio=%s ndcg_ratio=%s',
              round(a.recall20::numeric, 4), round(a.ndcg10::numeric, 4),
              round(p.recall20::numeric, 4), round(p.ndcg10::numeric, 4),
              round((a.recall20 / p.recall20)::numeric, 2), round((a.ndcg10 / p.ndcg10)::numeric, 2)) AS summary
FROM results a, results p WHERE a.ord = 1 AND p.ord = 3 \gset
\echo
\echo :summary
SQL

heading "Done"
