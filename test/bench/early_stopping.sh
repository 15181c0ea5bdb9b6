#!/usr/bin/env bash
#
# test/bench/early_stopping.sh -- early stopping that refits, against the
# best fixed number of epochs, on MovieLens 100K's five splits.
#
#   test/bench/early_stopping.sh [--data DIR] [--algorithm NAME]
#
# DIR (default ../shared/data/ml-100k beside the checkout) holds u1.base ...
# u5.test; without them it says so and exits 0.  psql reads the files.
#
# For each split, with the algorithm's defaults otherwise (default sgd):
#   fixed      the test RMSE of every epoch count 10, 20, ..., 150, and the
#              best of them (chosen on the test split: a yardstick, not a
#              setting anyone could pick)
#   refit      cf_train(validation_fraction => 0.1, early_stopping => true,
#              epochs => 300): the epoch chosen on the held-out tenth, then
#              that many epochs on all the ratings (what cf does since 0.4.0)
#   kept 90%   what early stopping stored before: the same epoch's model
#              trained on the other nine tenths only (cf_split_validation
#              rebuilds the held-out set in SQL)
# and the differences refit - best fixed and refit - kept 90%.
#
# Builds and installs cf and starts its own private cluster "esbench" (port
# $CF_BENCH_PORT, default 5495), stopped at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5495}
DB=cf_es
DATA=$TOP/../shared/data/ml-100k
ALG=sgd

while (($#)); do
	case $1 in
	--data) DATA=$2; shift 2 ;;
	--algorithm) ALG=$2; shift 2 ;;
	-h | --help) sed -n '4,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[[ $ALG =~ ^[a-z]+$ ]] || die "--algorithm must be an algorithm's name"
splits=()
for s in u1 u2 u3 u4 u5; do
	[[ -r $DATA/$s.base && -r $DATA/$s.test ]] && splits+=("$s")
done
if ((${#splits[@]} == 0)); then
	note "MovieLens 100K not found (no readable uN.base and uN.test in $DATA): skipping."
	exit 0
fi

trap 'cluster_stop esbench' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet
heading "Starting the benchmark cluster"
cluster_start esbench "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"
psql_db() { run_psql -q -X -At -d "$DB" "$@"; }
psql_db -c "CREATE EXTENSION cf"

heading "Early stopping with algorithm $ALG: test RMSE per split"
printf '%-5s %12s %6s %8s %6s %9s %15s %17s\n' split "best fixed" epochs refit kept "kept 90%" "refit - fixed" "refit - kept 90%"
for s in "${splits[@]}"; do
	psql_db -c "CREATE TABLE ${s}_train (user_id bigint, item_id bigint, rating real, ts bigint);
		CREATE TABLE ${s}_test (LIKE ${s}_train)"
	psql_db -c "\\copy ${s}_train FROM pstdin" <"$DATA/$s.base"
	psql_db -c "\\copy ${s}_test FROM pstdin" <"$DATA/$s.test"
	best=$(psql_db <<SQL
CREATE TEMP TABLE fixed (epochs int, rmse float8);
DO \$\$
BEGIN
  FOR e IN 1 .. 15 LOOP
    PERFORM cf_train('${s}_train', model => 'f', algorithm => '$ALG', epochs => 10 * e, verbose => false);
    INSERT INTO fixed SELECT 10 * e, rmse FROM cf_evaluate('f', '${s}_test');
  END LOOP;
END \$\$;
SELECT round(rmse::numeric, 4) || ' ' || epochs FROM fixed ORDER BY rmse LIMIT 1;
SQL
)
	read -r brmse bepochs <<<"$best"
	kept=$(psql_db -c "SELECT epoch_kept FROM cf_train('${s}_train', model => 'es', algorithm => '$ALG',
		validation_fraction => 0.1, early_stopping => true, epochs => 300, verbose => false)")
	refit=$(psql_db -c "SELECT round(rmse::numeric, 4) FROM cf_evaluate('es', '${s}_test')")
	psql_db -c "CREATE VIEW ${s}_90 AS SELECT * FROM ${s}_train
		WHERE NOT cf_split_validation(user_id, item_id, 0.1, 42)"
	psql_db -c "SELECT count(*) FROM cf_train('${s}_90', model => 'k90', algorithm => '$ALG',
		epochs => $kept, verbose => false)" >/dev/null
	k90=$(psql_db -c "SELECT round(rmse::numeric, 4) FROM cf_evaluate('k90', '${s}_test')")
	printf '%-5s %12s %6s %8s %6s %9s %15s %17s\n' "$s" "$brmse" "$bepochs" "$refit" "$kept" "$k90" \
		"$(awk -v a="$refit" -v b="$brmse" 'BEGIN { printf "%+.4f", a - b }')" \
		"$(awk -v a="$refit" -v b="$k90" 'BEGIN { printf "%+.4f", a - b }')"
done
