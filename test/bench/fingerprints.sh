#!/usr/bin/env bash
#
# test/bench/fingerprints.sh -- an md5 of every stored row of a model of each
# algorithm, to show that a change to the code leaves models bit for bit as
# they were (run it before and after, compare the lines).
#
#   test/bench/fingerprints.sh [--movielens DIR]
#
# Builds and installs cf (CF_INSTALL_ROOT-aware), starts its own private
# cluster "fprint" (port $CF_BENCH_PORT, default 5497; directory
# $CF_CLUSTER_DIR or /tmp/cf-fprint) and trains, on generated ratings
# (cf_synthetic_ratings(2000, 500, 40000, skew => 1), and the same as events
# for the implicit models) and, when the MovieLens 100K directory is there
# (default ../shared/data/ml-100k; skipped politely when absent), on
# u1.base:
#
#   sgd, sgd with workers => 1, als, als with workers => 1, ials (cg),
#   ials (cholesky), baseline, popular, sgd with early stopping
#
# and prints one line per model: data, algorithm, and the md5 of its
# cf_models numbers (users, items, ratings, epochs, kept epoch, global mean,
# loss, RMSE), its user rows, item rows and training log (loss and RMSE,
# not the seconds).  The cluster is stopped at the end.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PORT=${CF_BENCH_PORT:-5497}
DB=cf_fingerprints
ML=$TOP/../shared/data/ml-100k

while (($#)); do
	case $1 in
	--movielens) ML=$2; shift 2 ;;
	-h | --help) sed -n '4,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

trap 'cluster_stop fprint >&2' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
build_install quiet >&2
cluster_start fprint "$PORT" >&2
run_psql -q -d postgres -c "CREATE DATABASE $DB"
psql_db() { run_psql -q -X -d "$DB" "$@"; }

psql_db >/dev/null <<'SQL'
CREATE EXTENSION cf;
SET client_min_messages = warning;
-- every stored number of a model, as one md5
CREATE FUNCTION fingerprint(m text) RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws(' ',
    (SELECT format('%s %s %s %s %s %s %s %s', users, items, ratings, epochs, epoch_kept,
                   global_mean, loss, rmse) FROM cf_models WHERE name = m),
    (SELECT md5(string_agg(format('%s %s %s %s', user_id, bias, factors, rated_items), ','
                           ORDER BY user_id)) FROM cf_user_factors WHERE model = m),
    (SELECT md5(string_agg(format('%s %s %s', item_id, bias, factors), ',' ORDER BY item_id))
     FROM cf_item_factors WHERE model = m),
    (SELECT md5(string_agg(format('%s %s %s %s', epoch, loss, rmse, validation_rmse), ','
                           ORDER BY epoch)) FROM cf_training_log WHERE model = m)))
$$;
-- train each algorithm on table t, as models named <t>:<what>
CREATE FUNCTION train_all(t text, events text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM cf_train(t, model => t || ':sgd', verbose => false, workers => 0);
  PERFORM cf_train(t, model => t || ':sgd-1-worker', verbose => false, workers => 1);
  PERFORM cf_train(t, model => t || ':sgd-early-stopping', epochs => 120, verbose => false,
                   validation_fraction => 0.1, early_stopping => true, workers => 0);
  PERFORM cf_train(t, model => t || ':als', algorithm => 'als', verbose => false, workers => 0);
  PERFORM cf_train(t, model => t || ':als-1-worker', algorithm => 'als', verbose => false,
                   workers => 1);
  PERFORM cf_train(t, model => t || ':baseline', algorithm => 'baseline', verbose => false);
  PERFORM cf_train(events, rating_column => NULL, model => t || ':ials-cg', algorithm => 'ials',
                   verbose => false, workers => 0);
  PERFORM cf_train(events, rating_column => NULL, model => t || ':ials-cholesky',
                   algorithm => 'ials', solver => 'cholesky', verbose => false, workers => 0);
  PERFORM cf_train(events, rating_column => NULL, model => t || ':popular', algorithm => 'popular',
                   verbose => false);
END $$;
CREATE TABLE generated AS
SELECT * FROM cf_synthetic_ratings(2000, 500, 40000, skew => 1, seed => 7);
CREATE TABLE generated_events AS SELECT user_id, item_id FROM generated WHERE rating >= 4;
SELECT train_all('generated', 'generated_events');
SQL

if [[ -r $ML/u1.base ]]; then
	psql_db -c "CREATE TABLE u1 (user_id int, item_id int, rating real, ts bigint)"
	psql_db -c "\\copy u1 FROM '$ML/u1.base' WITH (DELIMITER E'\\t')"
	psql_db -c "CREATE TABLE u1_events AS SELECT user_id, item_id FROM u1 WHERE rating >= 4"
	psql_db -c "SET client_min_messages = warning" -c "SELECT train_all('u1', 'u1_events')" >/dev/null
else
	note "MovieLens 100K not found in $ML: generated data only" >&2
fi

psql_db -At -F ' ' -c "SELECT name, fingerprint(name) FROM cf_models ORDER BY name"
