#
# cf on a Citus cluster: a coordinator and two workers on this machine
# (docs/scale-out.md).  Skipped when Citus is not installed for this
# server (test/check.sh builds it from the vendored source on the host's
# PostgreSQL; Citus 13.2 supports PostgreSQL 15 to 17).
#
#   - The cluster: three nodes over their private socket directories,
#     citus and cf in each.
#   - An ALS item half-step over ratings distributed by user: Citus runs
#     cf_als_sums as partial aggregates on the shards (worker_partial_agg)
#     and combines them on the coordinator; the items solved are those of
#     the same half-step on a local copy of the ratings.
#   - The same for iALS: the users' Gramian (cf_gram) and the items'
#     weighted sums (cf_ials_sums) in parts on the shards solve the items
#     of the local half-step.
#   - The user half-step, grouped by the distribution column and joined
#     with the items' reference table, is pushed down whole.
#   - Fifteen iterations of the two statements fit planted data as
#     cf_train's ALS does on the local copy (held-out RMSE within 0.01).
#   - cf_train itself on the distributed table: ALS on the cluster (says
#     so, reads no row to the coordinator: no query on the workers, as
#     pg_stat_statements counts, returns more rows than there are items),
#     the users in a table co-located
#     with the ratings, the items on the coordinator, held-out RMSE within
#     0.01 of cf_train on the local copy; iALS within 3% of its loss; a
#     table distributed by item gives the same model (its ratings copied
#     by user among the workers first).
#   - Serving on the coordinator: cf_predict from the distributed user rows
#     and the cached items, cf_recommend excluding the rated items, one
#     routed query per user; functions that read every user refuse.
#   - sgd there reads every row to the coordinator and says why; a table
#     without ratings and a foreign table of the user table's name are
#     errors.
#   - A training cancelled mid-way, and one whose worker is stopped
#     mid-way: an error, and the previous model intact on every node.
#   - Two trainings of one model serialize; cf_drop_model drops the user
#     table.
#   - A worker down when an iteration writes the items: the iteration
#     fails with an error naming the node, and the items' reference table
#     keeps the previous iteration's rows on the coordinator and, once the
#     worker is back, on the workers; the next iteration then writes.
#   - The coordinator's memory: an item half-step over 200,000 ratings,
#     then cf_train on them (k = 32), with maintenance_work_mem 16MB, peak
#     below 80 MB in its backend.
#
# Runs from a copy of test/t: it must not read other files of the checkout.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
plan skip_all => "Citus is not installed for this server ($libdir/citus.so)"
  unless -f "$libdir/citus.so";

my @nodes;
for my $name (qw(coordinator worker1 worker2))
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'citus, pg_stat_statements'\nmax_prepared_transactions = 100\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE shop');
	$node->safe_psql('shop',
		'CREATE EXTENSION citus; CREATE EXTENSION cf; CREATE EXTENSION pg_stat_statements;');
	push @nodes, $node;
}
my ($coord, $w1, $w2) = @nodes;
$coord->safe_psql('shop',
	    "SELECT citus_set_coordinator_host('"
	  . $coord->host . "', "
	  . $coord->port . ");"
	  . "SELECT citus_add_node('"
	  . $w1->host . "', "
	  . $w1->port . ");"
	  . "SELECT citus_add_node('"
	  . $w2->host . "', "
	  . $w2->port . ");");
is($coord->safe_psql('shop', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'2', 'the coordinator sees two workers');

# planted ratings: 90% distributed by user in 4 shards (and a local copy),
# 10% held out; user factors co-located, item factors a reference table
$coord->safe_psql(
	'shop', q{
CREATE TABLE planted AS
  SELECT * FROM cf_synthetic_ratings(600, 150, 18000, factors => 5, noise => 0.5, seed => 11);
CREATE TABLE held AS SELECT * FROM planted WHERE (user_id * 7919 + item_id * 104729) % 10 = 0;
CREATE TABLE local_ratings AS SELECT * FROM planted WHERE (user_id * 7919 + item_id * 104729) % 10 <> 0;
CREATE TABLE ratings AS SELECT * FROM local_ratings;
SET citus.shard_count = 4;
SET client_min_messages = warning;
SELECT create_distributed_table('ratings', 'user_id');
SELECT truncate_local_data_after_distributing_table('ratings');
CREATE TABLE users (user_id bigint PRIMARY KEY, bias real, factors real[]);
SELECT create_distributed_table('users', 'user_id', colocate_with => 'ratings');
CREATE TABLE items (item_id bigint PRIMARY KEY, bias real, factors real[]);
SELECT create_reference_table('items');
CREATE TABLE local_users (LIKE users);
SELECT setseed(0.42);
INSERT INTO local_users
  SELECT user_id, 0, (SELECT array_agg(((random() - 0.5) * 0.2 * sqrt(3.0 / 8))::real)
                      FROM generate_series(1, 8) WHERE user_id IS NOT NULL)
  FROM (SELECT DISTINCT user_id FROM local_ratings) s;
INSERT INTO users SELECT * FROM local_users;
});
is($coord->safe_psql('shop', 'SELECT count(*) FROM ratings'),
	$coord->safe_psql('shop', 'SELECT count(*) FROM local_ratings'),
	'the ratings are distributed');

my $mu = $coord->safe_psql('shop', 'SELECT avg(rating) FROM local_ratings');

# the item half-step: partial sums on the shards, combined on the coordinator
my $item_step = qq{
SELECT r.item_id, cf_als_solve(cf_als_sums(u.factors, u.bias, r.rating, $mu), 0.12) AS x
FROM %s r JOIN %s u USING (user_id) GROUP BY r.item_id};
my $plan = $coord->safe_psql('shop',
	'EXPLAIN (VERBOSE, COSTS OFF) ' . sprintf($item_step, 'ratings', 'users'));
like($plan, qr/worker_partial_agg/, 'the item sums are partial aggregates on the shards');
like($plan, qr/coord_combine_agg/, 'and combined on the coordinator');
is( $coord->safe_psql(
		'shop', sprintf(
			q{
SELECT count(*) || ' ' || (max((SELECT max(abs(a - b)) FROM unnest(d.x, l.x) AS t(a, b))) < 1e-4)
FROM (%s) d JOIN (%s) l USING (item_id)},
			sprintf($item_step, 'ratings',       'users'),
			sprintf($item_step, 'local_ratings', 'local_users'))),
	'150 true',
	'the distributed item half-step solves the items of the local one');

# iALS: the users' Gramian and the items' weighted sums, both in parts on
# the shards, solve the items of the same half-step on the local copy
my $ials_step = q{
SELECT r.item_id, cf_ials_solve(cf_ials_sums(u.factors, r.rating, 10), g.gram, 0.03, 1, g.users) AS x
FROM %s r JOIN %s u USING (user_id),
     (SELECT cf_gram(factors) AS gram, count(*) AS users FROM %s) g
GROUP BY r.item_id, g.gram, g.users};
$plan = $coord->safe_psql('shop',
	'EXPLAIN (VERBOSE, COSTS OFF) SELECT cf_gram(factors) FROM users');
like($plan, qr/worker_partial_agg/, "the users' Gramian is summed in parts on the shards");
is( $coord->safe_psql(
		'shop', sprintf(
			q{
SELECT count(*) || ' ' || (max((SELECT max(abs(a - b)) FROM unnest(d.x, l.x) AS t(a, b))) < 1e-4)
FROM (%s) d JOIN (%s) l USING (item_id)},
			sprintf($ials_step, 'ratings',       'users',       'users'),
			sprintf($ials_step, 'local_ratings', 'local_users', 'local_users'))),
	'150 true',
	'the distributed iALS item half-step solves the items of the local one');

# the user half-step is pushed down whole
my $user_step = qq{
UPDATE users u SET bias = s.b, factors = s.f
FROM (SELECT user_id, x[9] AS b, x[1:8] AS f
      FROM (SELECT r.user_id, cf_als_solve(cf_als_sums(i.factors, i.bias, r.rating, $mu), 0.12) AS x
            FROM ratings r JOIN items i USING (item_id) GROUP BY r.user_id) s0) s
WHERE u.user_id = s.user_id};
$plan = $coord->safe_psql('shop', "EXPLAIN (VERBOSE, COSTS OFF) $user_step");
like($plan, qr/Task Count: 4/, 'the user half-step runs as one task per shard');
unlike($plan, qr/coord_combine_agg|worker_partial_agg/, 'with nothing combined on the coordinator');

# fifteen iterations against cf_train's ALS on the local copy
my $iterate = qq{
DELETE FROM items;
INSERT INTO items SELECT item_id, x[9], x[1:8] FROM (} . sprintf($item_step, 'ratings', 'users') . qq{) s;
$user_step;
};
$coord->safe_psql('shop', $iterate) for 1 .. 15;
$coord->safe_psql('shop',
	q{SELECT count(*) FROM cf_train('local_ratings', model => 'local', algorithm => 'als',
	                                factors => 8, verbose => false)});
my $rmse = $coord->safe_psql(
	'shop', qq{
SELECT round(abs(d.rmse - l.rmse)::numeric, 4) || ' ' || (abs(d.rmse - l.rmse) < 0.01)
FROM (SELECT sqrt(avg(power($mu + u.bias + i.bias
                   + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b)) - h.rating, 2))) AS rmse
      FROM held h JOIN users u USING (user_id) JOIN items i USING (item_id)) d,
     (SELECT sqrt(avg(power(cf_predict(user_id, item_id, 'local') - rating, 2))) AS rmse
      FROM held h WHERE EXISTS (SELECT 1 FROM local_ratings r WHERE r.user_id = h.user_id)
                    AND EXISTS (SELECT 1 FROM local_ratings r WHERE r.item_id = h.item_id)) l});
like($rmse, qr/ true$/, "distributed ALS fits as cf_train's ALS (held-out RMSE difference $rmse)");

# cf_train itself on the distributed table: ALS where the rows are
$_->safe_psql('shop', 'SELECT pg_stat_statements_reset()') for ($w1, $w2);
my ($rc, $tout, $terr) = $coord->psql('shop',
	q{SELECT count(*) FROM cf_train('ratings', model => 'dist', algorithm => 'als', factors => 8)});
is($rc, 0, 'cf_train trains ALS on a table distributed by user');
like($terr, qr/NOTICE:  training on the Citus cluster: 16\d{3} ratings of 150 items/,
	'on the cluster, and says so');
unlike($terr, qr/reading every row/, 'without reading the rows to the coordinator');
# what the shards' queries sent back: at most a row per item (a shard's part of the
# item sums), never its ratings or (user, item) pairs (some 4,000 a shard)
my $most = q{SELECT coalesce(max(rows / calls), 0) FROM pg_stat_statements
             WHERE query ~* '^\s*select' AND calls > 0};
is($w1->safe_psql('shop', $most) <= 150 && $w2->safe_psql('shop', $most) <= 150,
	1, 'no query on the workers sends the coordinator more rows than there are items');
is( $coord->safe_psql(
		'shop', q{
SELECT m.user_table || ' ' || (p.colocationid = r.colocationid) || ' ' || m.users || ' ' || m.items
       || ' ' || (SELECT count(*) FROM cf_user_factors WHERE model = 'dist')
       || ' ' || (SELECT count(*) FROM cf_item_factors WHERE model = 'dist')
       || ' ' || (SELECT count(*) FROM cf_user_factors_dist)
FROM cf_models m, pg_dist_partition p, pg_dist_partition r
WHERE m.name = 'dist' AND p.logicalrelid = 'cf_user_factors_dist'::regclass
  AND r.logicalrelid = 'ratings'::regclass}),
	'public.cf_user_factors_dist true 600 150 0 150 600',
	'users co-located with the ratings, items on the coordinator');
$rmse = $coord->safe_psql(
	'shop', q{
SELECT round(abs(d.rmse - l.rmse)::numeric, 4) || ' ' || (abs(d.rmse - l.rmse) < 0.01)
FROM (SELECT sqrt(avg(power(cf_predict(user_id, item_id, 'dist') - rating, 2))) AS rmse
      FROM held h WHERE EXISTS (SELECT 1 FROM local_ratings r WHERE r.user_id = h.user_id)
                    AND EXISTS (SELECT 1 FROM local_ratings r WHERE r.item_id = h.item_id)) d,
     (SELECT sqrt(avg(power(cf_predict(user_id, item_id, 'local') - rating, 2))) AS rmse
      FROM held h WHERE EXISTS (SELECT 1 FROM local_ratings r WHERE r.user_id = h.user_id)
                    AND EXISTS (SELECT 1 FROM local_ratings r WHERE r.item_id = h.item_id)) l});
like($rmse, qr/ true$/, "cf_train on the cluster fits as on one node (held-out RMSE difference $rmse)");

# iALS too: its objective per cell as on one node (the same exact solves)
$coord->safe_psql('shop', q{
SELECT count(*) FROM cf_train('ratings', model => 'dist_ials', algorithm => 'ials', factors => 8, verbose => false);
SELECT count(*) FROM cf_train('local_ratings', model => 'local_ials', algorithm => 'ials', factors => 8,
                              solver => 'cholesky', verbose => false)});
my $ials = $coord->safe_psql(
	'shop', q{
SELECT round(d.loss::numeric, 4) || ' ' || round(l.loss::numeric, 4) || ' '
       || (abs(d.loss - l.loss) < 0.03 * l.loss) || ' ' || d.user_table
FROM cf_models d, cf_models l WHERE d.name = 'dist_ials' AND l.name = 'local_ials'});
like($ials, qr/ true public.cf_user_factors_dist_ials$/,
	"cf_train's iALS on the cluster reaches the loss it reaches on one node ($ials)");
is($coord->safe_psql('shop',
		q{SELECT count(*) FROM cf_recommend((SELECT min(user_id) FROM local_ratings), 5, 'dist_ials')}),
	'5', 'and serves on the coordinator');

# distributed by item: the ratings are first copied by user among the
# workers (dropped after), and the model is the same as from the table
# distributed by user
($rc, $tout, $terr) = $coord->psql(
	'shop', q{
SET client_min_messages = notice;
CREATE TABLE ratings_by_item AS SELECT * FROM local_ratings;
SET citus.shard_count = 4;
SET client_min_messages = warning;
SELECT create_distributed_table('ratings_by_item', 'item_id');
SELECT truncate_local_data_after_distributing_table('ratings_by_item');
SET client_min_messages = notice;
SELECT count(*) FROM cf_train('ratings_by_item', model => 'by_item', algorithm => 'als', factors => 8)});
is($rc, 0, 'cf_train trains ALS on a table distributed by item');
like($terr, qr/NOTICE:  copying the 16\d{3} ratings of "ratings_by_item" by user among the workers/,
	'after copying its ratings by user among the workers');
unlike($terr, qr/reading every row/, 'not to the coordinator');
is( $coord->safe_psql(
		'shop', q{
SELECT (abs(b.loss - d.loss) < 1e-6) || ' ' || (b.items = d.items) || ' '
       || (to_regclass('cf_training_by_item') IS NULL)
FROM cf_models b, cf_models d WHERE b.name = 'by_item' AND d.name = 'dist'}),
	'true true true',
	'the same model as from the table distributed by user, and no working table left');

# serving on the coordinator: the user's row routed to its shard, the items cached
is( $coord->safe_psql(
		'shop', q{
WITH h AS (SELECT * FROM held ORDER BY user_id, item_id LIMIT 200),
     u AS MATERIALIZED (SELECT * FROM cf_user_factors_dist WHERE user_id IN (SELECT user_id FROM h))
SELECT count(*) || ' ' || (max(abs(cf_predict(h.user_id, h.item_id, 'dist')
         - greatest(m.rating_min, least(m.rating_max, m.global_mean + u.bias + i.bias
             + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b)))))) < 1e-4)
FROM h JOIN u USING (user_id)
JOIN cf_item_factors i ON i.model = 'dist' AND i.item_id = h.item_id, cf_models m
WHERE m.name = 'dist'}),
	'200 true',
	'cf_predict on the coordinator scores from the distributed user rows');
is( $coord->safe_psql(
		'shop', q{
WITH u AS MATERIALIZED (SELECT * FROM cf_user_factors_dist ORDER BY user_id LIMIT 3)
SELECT count(*) || ' ' || count(*) FILTER (WHERE r.item_id = ANY (u.rated_items))
FROM u, cf_recommend(u.user_id, 5, 'dist') r}),
	'15 0',
	'cf_recommend ranks items the users did not rate');
like($coord->safe_psql('shop',
		'EXPLAIN (COSTS OFF) SELECT bias, factors FROM cf_user_factors_dist WHERE user_id = 7'),
	qr/Task Count: 1/, "a user's lookup is one routed query");
($rc, $tout, $terr) = $coord->psql('shop', q{SELECT count(*) FROM cf_recommend_batch(ARRAY[1, 2], 3, 'dist')});
like($terr, qr/cf_recommend_batch does not support model "dist", whose users are on a Citus cluster/,
	'functions that read every user say they do not support it');

# sgd cannot train there: it reads every row to the coordinator, and says why
($rc, $tout, $terr) = $coord->psql('shop',
	q{SELECT count(*) FROM cf_train('ratings', model => 'pulled', algorithm => 'sgd', factors => 8, verbose => false)});
is($rc, 0, 'cf_train reads a distributed table for sgd');
like($terr, qr/NOTICE:  reading every row of distributed table "ratings" to this node\nDETAIL:  Algorithm "sgd" trains in one backend's memory only; "als" and "ials" train where the rows are/,
	'and says it reads every row to the coordinator, and why');
is($coord->safe_psql('shop',
		q{SELECT count(*) FROM cf_recommend((SELECT min(user_id) FROM local_ratings), 5, 'pulled')}),
	'5', 'that model serves on the coordinator');
unlike(
	scalar(($coord->psql('shop',
		q{SELECT count(*) FROM cf_train('local_ratings', model => 'pulled', algorithm => 'als', factors => 8)}))[2]),
	qr/distributed table|Citus/, 'no such notice for a local table');

# errors on the cluster: no ratings, and a table of the user table's name that is not the model's
($rc, $tout, $terr) = $coord->psql(
	'shop', q{
SET client_min_messages = warning;
CREATE TABLE no_ratings (user_id bigint, item_id bigint, rating real);
SELECT create_distributed_table('no_ratings', 'user_id');
INSERT INTO no_ratings VALUES (1, NULL, 2), (2, 3, NULL);
SELECT count(*) FROM cf_train('no_ratings', model => 'none', algorithm => 'als')});
like($terr, qr/ERROR:  relation "no_ratings" has no ratings
DETAIL:  All 2 rows have a NULL user, item or rating./,
	'a distributed table without ratings is an error');
($rc, $tout, $terr) = $coord->psql(
	'shop', q{
CREATE TABLE cf_user_factors_taken (x int);
SELECT count(*) FROM cf_train('ratings', model => 'taken', algorithm => 'als', epochs => 1)});
like($terr, qr/ERROR:  relation "cf_user_factors_taken" already exists
DETAIL:  cf_train keeps the user factors of model "taken"/,
	"so is a table of the user table's name that is not the model's");

# what one model's training leaves, to compare after failed ones
my $state = q{
SELECT version || ' ' || (SELECT md5(string_agg(factors::text, ',' ORDER BY user_id)) FROM cf_user_factors_dist)
       || ' ' || (SELECT md5(string_agg(factors::text, ',' ORDER BY item_id)) FROM cf_item_factors WHERE model = 'dist')
FROM cf_models WHERE name = 'dist'};
my $kept = $coord->safe_psql('shop', $state);
my $long = q{SELECT count(*) FROM cf_train('ratings', model => 'dist', algorithm => 'als', factors => 8,
                                            epochs => 400, verbose => false);};
my $running = q{SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%epochs => 400%'
                AND state = 'active' AND now() - query_start > interval '1 s' AND pid <> pg_backend_pid())};

# cancelled mid-training: the previous model, on every node
my $bg = $coord->background_psql('shop', on_error_stop => 0);
$bg->query_until(qr/started/, "\\echo started\n$long\n");
$coord->poll_query_until('shop', $running) or die 'the training did not start';
$coord->safe_psql('shop',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%epochs => 400%' AND pid <> pg_backend_pid()});
$bg->query('SELECT 1');
like($bg->{stderr}, qr/canceling statement due to user request/, 'a training is cancelled mid-way');
is($coord->safe_psql('shop', $state), $kept, 'and the previous model is intact');

# a worker stopped mid-training: an error, the previous model intact
$bg->{stderr} = '';
$bg->query_until(qr/started/, "\\echo started\n$long\n");
$coord->poll_query_until('shop', $running) or die 'the training did not start';
$w2->stop('immediate');
$bg->query('SELECT 1');
# Citus names the lost node in its own words, by the step it was at: "connection to the remote
# node …:port failed", "failed to COPY to shard N on …:port", …; each names the node's port
my $w2port = $w2->port;
like($bg->{stderr}, qr/ERROR:  [^\n]*(?:remote node|connection|:$w2port\b)/,
	'a worker stopped mid-training fails the training, with an error that names the node');
diag("the error: $bg->{stderr}");
$bg->quit;
$w2->start;
$coord->safe_psql('shop', 'SELECT recover_prepared_transactions()');
is($coord->safe_psql('shop', $state), $kept, 'and the previous model is intact on every node');

# two trainings of one model serialize
my $first = $coord->background_psql('shop');
$first->query_safe('BEGIN');
$first->query_safe(q{SELECT count(*) FROM cf_train('ratings', model => 'dist', algorithm => 'als', factors => 8,
                                                    epochs => 2, verbose => false)});
my $second = $coord->background_psql('shop');
$second->query_until(qr/started/,
	"\\echo started\nSELECT count(*) FROM cf_train('ratings', model => 'dist', algorithm => 'als', factors => 8, epochs => 3, verbose => false);\n");
$coord->poll_query_until('shop',
	q{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)})
  or die 'the second training did not wait';
pass('a second training of the model waits for the first');
$first->query_safe('COMMIT');
$second->query('SELECT 1');
is($second->{stderr}, '', 'and then trains');
$first->quit;
$second->quit;
is($coord->safe_psql('shop', q{SELECT epochs || ' ' || (SELECT count(*) FROM cf_user_factors_dist) FROM cf_models WHERE name = 'dist'}),
	'3 600', 'the model is the second training\'s');

# dropped with its user table
$coord->safe_psql('shop', q{SELECT cf_drop_model('dist')});
is($coord->safe_psql('shop', q{SELECT to_regclass('cf_user_factors_dist') IS NULL}), 't',
	'cf_drop_model drops the user table');

# a worker down when an iteration writes the items: the old items everywhere
my $before = $coord->safe_psql('shop', 'SELECT md5(string_agg(factors::text, \',\' ORDER BY item_id)) FROM items');
$w2->stop('immediate');
my ($ret, $out, $err) = $coord->psql('shop', $iterate);
isnt($ret, 0, 'an iteration fails while a worker is down');
like($err, qr/connection to the remote node .* failed/, 'with an error that names the node');
diag("the error: $err");
is($coord->safe_psql('shop', 'SELECT md5(string_agg(factors::text, \',\' ORDER BY item_id)) FROM items'),
	$before, 'the coordinator keeps the previous items');
$w2->start;
is( $w1->safe_psql(
		'shop', q{SELECT md5(string_agg(factors::text, ',' ORDER BY item_id))
		          FROM items}),
	$before,
	'and so does a worker');
# (the prepared transactions of the failed write are resolved by Citus's recovery)
$coord->safe_psql('shop', 'SELECT recover_prepared_transactions()');
$coord->safe_psql('shop', $iterate);
isnt($coord->safe_psql('shop', 'SELECT md5(string_agg(factors::text, \',\' ORDER BY item_id)) FROM items'),
	$before, 'with the worker back, the next iteration writes');

# the coordinator's memory: an item half-step over 200,000 ratings
$coord->safe_psql(
	'shop', q{
SET client_min_messages = warning;
CREATE TABLE big AS SELECT * FROM cf_synthetic_ratings(4000, 400, 200000, seed => 12);
SELECT create_distributed_table('big', 'user_id', colocate_with => 'ratings');
CREATE TABLE big_users (user_id bigint PRIMARY KEY, bias real, factors real[]);
SELECT create_distributed_table('big_users', 'user_id', colocate_with => 'ratings');
INSERT INTO big_users
  SELECT user_id, 0, array_fill(0.1::real, ARRAY[32]) FROM (SELECT DISTINCT user_id FROM big) s;
});
my $session = $coord->background_psql('shop');
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_safe("SET maintenance_work_mem = '16MB'");
is( $session->query_safe(
		q{SELECT count(*) FROM (SELECT r.item_id, cf_als_solve(cf_als_sums(u.factors, u.bias, r.rating, 3), 0.12)
		                       FROM big r JOIN big_users u USING (user_id) GROUP BY r.item_id) s}),
	'400',
	'an item half-step over 200,000 ratings solves every item');
my ($hwm) = slurp_file("/proc/$pid/status") =~ /^VmHWM:\s+(\d+)\s+kB/m;
cmp_ok($hwm, '<', 80 * 1024, "the coordinator backend peaked at $hwm kB, below 80 MB");
is( $session->query_safe(
		q{SELECT items FROM cf_train('big', model => 'big', algorithm => 'als', factors => 32, epochs => 2, verbose => false)}),
	'400',
	'cf_train on the cluster over 200,000 ratings');
($hwm) = slurp_file("/proc/$pid/status") =~ /^VmHWM:\s+(\d+)\s+kB/m;
cmp_ok($hwm, '<', 80 * 1024, "and the coordinator backend peaked at $hwm kB, below 80 MB");
$session->quit;

done_testing();
