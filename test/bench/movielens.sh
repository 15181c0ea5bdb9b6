#!/usr/bin/env bash
#
# test/bench/movielens.sh -- train cf on MovieLens 100k and score it.
#
#   test/bench/movielens.sh [options] [DIR]
#
# DIR holds the unpacked MovieLens 100k files (default: ../shared/data/ml-100k
# relative to the top of the checkout).  Without DIR/u1.base and u1.test
# (or the split chosen with --split) it says so and exits 0.
#
# It builds and installs cf, starts its own private cluster "bench" (port
# $CF_BENCH_PORT, default 5493), loads the split's .base into ml_train and
# .test into ml_test with psql's \copy (the server never reads the files,
# and they are never copied into the checkout), trains with
# cf_train('ml_train', ...), and prints the test RMSE and MAE of
# cf_predict, the training time, and two baselines fitted in SQL: the
# global mean, and the mean plus damped user and item biases.  The
# cluster is stopped at the end.
#
# Training settings: options, or the environment; anything not given is
# left to cf_train's own defaults.
#   --factors N           CF_FACTORS
#   --epochs N            CF_EPOCHS
#   --learning-rate X     CF_LEARNING_RATE
#   --regularization X    CF_REGULARIZATION
#   --algorithm NAME      CF_ALGORITHM   sgd (default) or als
#   --regularization-exponent X  CF_REGULARIZATION_EXPONENT   (als)
#   --solver NAME         CF_SOLVER      cholesky or cg (als)
#   --cg-steps N          CF_CG_STEPS    (als with cg)
#   --seed N              CF_SEED
#   --quiet               CF_QUIET=1     no per-epoch NOTICEs (verbose => false)
#   --split uN            CF_SPLIT       which split (default u1)
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5493}
DB=cf_bench
MODEL=movielens

# cf_train's settings; empty: cf_train's default.
declare -A setting=(
	[factors]=${CF_FACTORS:-}
	[epochs]=${CF_EPOCHS:-}
	[learning_rate]=${CF_LEARNING_RATE:-}
	[regularization]=${CF_REGULARIZATION:-}
	[seed]=${CF_SEED:-}
	[algorithm]=${CF_ALGORITHM:-}
	[regularization_exponent]=${CF_REGULARIZATION_EXPONENT:-}
	[solver]=${CF_SOLVER:-}
	[cg_steps]=${CF_CG_STEPS:-}
)
quiet=${CF_QUIET:-}
split=${CF_SPLIT:-u1}
dir=$TOP/../shared/data/ml-100k

usage() {
	sed -n '4,32s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# need_value OPTION VALUE: the option must have a value.
need_value() {
	[[ -n ${2:-} ]] || die "$1 needs a value"
}

while (($#)); do
	case $1 in
	--factors) need_value "$@"; setting[factors]=$2; shift 2 ;;
	--epochs) need_value "$@"; setting[epochs]=$2; shift 2 ;;
	--learning-rate) need_value "$@"; setting[learning_rate]=$2; shift 2 ;;
	--regularization) need_value "$@"; setting[regularization]=$2; shift 2 ;;
	--seed) need_value "$@"; setting[seed]=$2; shift 2 ;;
	--algorithm) need_value "$@"; setting[algorithm]=$2; shift 2 ;;
	--regularization-exponent) need_value "$@"; setting[regularization_exponent]=$2; shift 2 ;;
	--solver) need_value "$@"; setting[solver]=$2; shift 2 ;;
	--cg-steps) need_value "$@"; setting[cg_steps]=$2; shift 2 ;;
	--split) need_value "$@"; split=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) dir=$1; shift ;;
	esac
done

# The settings go into SQL text: accept plain numbers only.
int_re='^[0-9]+$'
num_re='^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
train_args="'ml_train', model => '$MODEL'"
for name in factors epochs learning_rate regularization seed algorithm \
	regularization_exponent solver cg_steps; do
	value=${setting[$name]}
	[[ -n $value ]] || continue
	case $name in
	factors | epochs | seed | cg_steps) re=$int_re ;;
	algorithm) re='^(sgd|als)$' ;;
	solver) re='^(cholesky|cg)$' ;;
	*) re=$num_re ;;
	esac
	[[ $value =~ $re ]] || die "${name//_/-}: '$value' is not a valid value"
	case $name in
	algorithm | solver) train_args+=", $name => '$value'" ;;
	*) train_args+=", $name => $value" ;;
	esac
done
if [[ -n $quiet && $quiet != 0 ]]; then
	train_args+=", verbose => false"
fi
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

trap 'cluster_stop bench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
cluster_start bench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"

heading "Loading MovieLens 100k, split $split, from $dir"
run_psql -q -d "$DB" <<'SQL'
CREATE EXTENSION cf;
CREATE TABLE ml_train (user_id bigint, item_id bigint, rating real, ts bigint);
CREATE TABLE ml_test (LIKE ml_train);
SQL
# psql reads the files (tab-separated: user item rating timestamp) and
# streams them to the server.
run_psql -q -d "$DB" -c '\copy ml_train FROM pstdin' <"$base"
run_psql -q -d "$DB" -c '\copy ml_test FROM pstdin' <"$test"
run_psql -q -d "$DB" <<'SQL'
ALTER TABLE ml_train ADD PRIMARY KEY (user_id, item_id);
ALTER TABLE ml_test ADD PRIMARY KEY (user_id, item_id);
ANALYZE ml_train, ml_test;
SELECT (SELECT count(*) FROM ml_train) AS train_ratings,
       (SELECT count(*) FROM ml_test) AS test_ratings,
       (SELECT count(DISTINCT user_id) FROM ml_train) AS train_users,
       (SELECT count(DISTINCT item_id) FROM ml_train) AS train_items,
       (SELECT count(*) FROM ml_test t
        WHERE NOT EXISTS (SELECT FROM ml_train r WHERE r.item_id = t.item_id)) AS test_ratings_of_unseen_items;
SQL

# The training and the scores; NOTICEs (epoch trace) merged in order.
run_psql -q -d "$DB" -v train_args="$train_args" -v model="'$MODEL'" \
	<"$TOP/test/bench/movielens.sql" 2>&1

heading "Done"
