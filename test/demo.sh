#!/usr/bin/env bash
#
# test/demo.sh -- see cf work, from nothing to recommendations.
#
#   test/demo.sh          build and install cf, start a private cluster
#                         "demo", load synthetic ratings, train a model,
#                         recommend and predict; the cluster keeps running
#                         so you can connect and play
#   test/demo.sh stop     stop the demo cluster
#   --pg N                with either: on PostgreSQL N (15, 17 or 18); a
#                         major this machine lacks runs in a Debian root
#                         (test/lib.sh, "other PostgreSQL majors")
#
# Port: $CF_DEMO_PORT (default 5491).  The cluster lives in /tmp/cf-demo
# (or $CF_CLUSTER_DIR; in the root for another major); see
# docs/developers.md.  Safe to re-run: a running demo cluster is stopped and
# replaced by a fresh one.
set -euo pipefail

# shellcheck source=test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${CF_DEMO_PORT:-5491}
DB=cf_demo
# how the user runs this script, with the settings this run uses (so that
# the stop command it prints stops this cluster, not another)
CALLER=${CF_DEMO_CALLER:-$0}
if [[ -z ${CF_DEMO_CALLER:-} ]]; then
	[[ -n ${CF_CLUSTER_DIR:-} ]] && CALLER="CF_CLUSTER_DIR=$CF_CLUSTER_DIR $CALLER"
	[[ -n ${CF_DEMO_PORT:-} ]] && CALLER="CF_DEMO_PORT=$CF_DEMO_PORT $CALLER"
	[[ -n ${CF_INSTALL_ROOT:-} ]] && CALLER="CF_INSTALL_ROOT=$CF_INSTALL_ROOT $CALLER"
fi

usage() {
	printf 'usage: %s [start|stop] [--pg N]\n' "$CALLER"
}

pg_major_option "$@"
set -- "${CF_ARGS[@]}"

# Another major: run this script in its Debian root, whose mounts stay while
# the demo cluster runs there.
if ! pg_native "$CF_PG_MAJOR"; then
	root=$(pg_root_dir "$CF_PG_MAJOR")
	rc=0
	CF_PGROOT_KEEP_MOUNTS=1 CF_DEMO_CALLER="$CALLER --pg $CF_PG_MAJOR" \
		run_in_pg_root "$CF_PG_MAJOR" test/demo.sh "$@" || rc=$?
	if [[ ${1:-start} == stop ]]; then
		pg_root_unmount "$CF_PG_MAJOR"
	elif ((rc == 0)); then
		cat <<EOF

The demo cluster runs inside the Debian root $root.
From this machine, connect through the root's socket directory:
    psql -h $root/tmp/cf-demo/socket -p $PORT -U postgres $DB
EOF
	fi
	exit "$rc"
fi

case ${1:-start} in
start) ;;
stop)
	if cluster_running demo; then
		cluster_stop demo
	else
		note "The demo cluster is not running."
	fi
	exit 0
	;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac

# on_exit: if the demo fails after the cluster is up, say where to look.
on_exit() {
	local rc=$?
	if ((rc != 0)) && [[ -n ${CF_LOG:-} ]] && cluster_running demo; then
		printf '\nThe demo failed (exit status %d).  Server log: %s\n' "$rc" "$CF_LOG" >&2
		printf 'The cluster is still running; stop it with: %s stop\n' "$CALLER" >&2
	fi
}
trap on_exit EXIT

ensure_packages
build_install quiet
heading "Starting a private PostgreSQL $CF_PG_MAJOR cluster"
cluster_start demo "$PORT"
run_psql -q -d postgres -c "CREATE DATABASE $DB"

# Everything below runs inside the server: the data comes from
# cf_synthetic_ratings, not from files.  NOTICEs (the epoch trace) go to
# stderr; merge them so they show in order.
run_psql -q -d "$DB" 2>&1 <<'SQL'
\echo
\echo '== Demo data'
\echo '1000 users x 500 items; 25000 ratings (5% of the cells), 1 to 5 stars,'
\echo 'drawn from a planted 20-factor model plus noise: cf_synthetic_ratings().'
\echo 'About 10% are held out in ratings_test; the rest, in ratings, train.'
CREATE EXTENSION cf;
CREATE TABLE ratings AS
    SELECT user_id, item_id, rating
    FROM cf_synthetic_ratings(1000, 500, 25000, 20, noise => 0.5, seed => 42);
-- a fixed, deterministic ~10% hold-out
CREATE TABLE ratings_test AS
    SELECT * FROM ratings WHERE (user_id * 7919 + item_id * 104729) % 10 = 0;
DELETE FROM ratings WHERE (user_id * 7919 + item_id * 104729) % 10 = 0;
ALTER TABLE ratings ADD PRIMARY KEY (user_id, item_id);
ALTER TABLE ratings_test ADD PRIMARY KEY (user_id, item_id);
ANALYZE ratings, ratings_test;
SELECT count(DISTINCT user_id) AS users,
       count(DISTINCT item_id) AS items,
       count(*) AS training_ratings,
       (SELECT count(*) FROM ratings_test) AS held_out_ratings,
       round(avg(rating)::numeric, 3) AS mean_rating
FROM ratings;

\echo '== Training: SELECT * FROM cf_train(''ratings'');'
\echo 'One NOTICE per epoch: training loss, training RMSE, time.'
SELECT * FROM cf_train('ratings');

\echo '== Top 10 items for user 42: SELECT * FROM cf_recommend(42, 10);'
\echo '(items user 42 already rated are left out)'
SELECT * FROM cf_recommend(42, 10);

\echo '== Held-out ratings the model never saw, beside cf_predict(user_id, item_id)'
SELECT user_id, item_id, rating AS actual,
       round(cf_predict(user_id, item_id)::numeric, 2) AS predicted
FROM ratings_test
ORDER BY user_id, item_id
LIMIT 10;

\echo '== Test RMSE over all held-out ratings (lower is better)'
\echo 'For scale: always predicting the training mean scores the last column.'
SELECT count(*) AS held_out,
       round(sqrt(avg((cf_predict(t.user_id, t.item_id) - t.rating) ^ 2))::numeric, 4) AS test_rmse,
       round(sqrt(avg((m.mean - t.rating) ^ 2))::numeric, 4) AS mean_only_rmse
FROM ratings_test t,
     (SELECT avg(rating) AS mean FROM ratings) m;
SQL

heading "The demo cluster is still running"
cat <<EOF
Connect with psql:
    psql -h $CF_SOCK -p $PORT -U postgres $DB
or, in your shell:
    source $CF_BASE/env; psql $DB
Then try, for example:
    SELECT * FROM cf_recommend(7, 5);
    SELECT cf_predict(7, 100);
    SELECT * FROM cf_training_log ORDER BY epoch;
Stop it when you are done:
    $CALLER stop
Server log: $CF_LOG
EOF
