#!/usr/bin/env bash
#
# test/bench/evaluate.sh -- cf_evaluate, the baselines, early stopping and
# tuning on MovieLens 100k.
#
#   test/bench/evaluate.sh [--split uN] [--quick] [DIR]
#
# DIR holds the unpacked MovieLens 100k files (default: ../shared/data/ml-100k
# relative to the top of the checkout).  Without DIR/u1.base and u1.test (or
# the split chosen with --split) it says so and exits 0.
#
# It builds and installs cf, starts its own private cluster "ebench" (port
# $CF_BENCH_PORT, default 5496), loads the split's .base into ml_train and
# .test into ml_test with psql's \copy (the server never reads the files,
# and they are never copied into the checkout), and compares:
#
#   1. training SGD (cf_train defaults), the baseline (mu + b_u + b_i, its
#      lambda chosen by 5-fold cf_grid_search on u1.base) and popularity;
#   2. cf_evaluate's RMSE and MAE with the same computed in plain SQL over
#      cf_predict (the difference must be below 1e-9, or the script fails);
#   3. the three side by side: RMSE, MAE and the ranking metrics at 10,
#      relevance = every test rating, and = test ratings >= 4;
#   4. cf_evaluate's time against the same precision@10 computed in SQL with
#      one cf_recommend call per test user (the values must agree);
#   5. early stopping (10% validation, up to 200 epochs, patience 20, 10, 5)
#      against fixed epoch counts on the same 90%, and the defaults on all of
#      u1.base (the script says whether early stopping beats or ties them);
#   6. (unless --quick) cf_grid_search over factors, regularization and
#      epochs with 3 folds on u1.base, the best trained and tested on u1.test;
#   7. (unless --quick) section 4 at scale, on 1M synthetic ratings.
#
# The cluster is stopped at the end.  Options (or environment):
#   --split uN    CF_SPLIT    which split (default u1)
#   --quick       CF_QUICK=1  skip the grid search
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5496}
DB=cf_ebench
split=${CF_SPLIT:-u1}
quick=${CF_QUICK:-}
dir=$TOP/../shared/data/ml-100k

usage() {
	sed -n '3,34s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

need_value() {
	[[ -n ${2:-} ]] || die "$1 needs a value"
}

while (($#)); do
	case $1 in
	--split) need_value "$@"; split=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) dir=$1; shift ;;
	esac
done
[[ $split =~ ^u[1-5]$|^u[ab]$ ]] || die "split must be u1..u5, ua or ub, not '$split'"

base=$dir/$split.base
test=$dir/$split.test
if [[ ! -r $base || ! -r $test ]]; then
	note "MovieLens 100k not found: no readable $split.base and $split.test in $dir."
	note "Skipping the benchmark.  To run it, unpack ml-100k.zip from"
	note "https://grouplens.org/datasets/movielens/100k/ and pass its directory:"
	note "    $0 /path/to/ml-100k"
	exit 0
fi
dir=$(cd "$dir" && pwd)

trap 'cluster_stop ebench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
cluster_start ebench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"

heading "Loading MovieLens 100k, split $split, from $dir"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION cf;
CREATE TABLE ml_train (user_id bigint, item_id bigint, rating real, ts bigint);
CREATE TABLE ml_test (LIKE ml_train);
SQL
run_psql -q -d "$DB" -c '\copy ml_train FROM pstdin' <"$base"
run_psql -q -d "$DB" -c '\copy ml_test FROM pstdin' <"$test"
run_psql -q -d "$DB" <<'SQL'
ALTER TABLE ml_train ADD PRIMARY KEY (user_id, item_id);
ALTER TABLE ml_test ADD PRIMARY KEY (user_id, item_id);
ANALYZE ml_train, ml_test;
SELECT (SELECT count(*) FROM ml_train) AS train_ratings,
       (SELECT count(*) FROM ml_test) AS test_ratings,
       (SELECT count(DISTINCT user_id) FROM ml_test) AS test_users;
SQL

run_psql -q -d "$DB" -v quick="${quick:-0}" <"$TOP/test/bench/evaluate.sql" 2>&1

heading "Done"
