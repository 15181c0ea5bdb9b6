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
#   - cf_train on the distributed table reads every row to the coordinator
#     and says so in a NOTICE (not for a local table); the model serves.
#   - A worker down when an iteration writes the items: the iteration
#     fails with an error naming the node, and the items' reference table
#     keeps the previous iteration's rows on the coordinator and, once the
#     worker is back, on the workers; the next iteration then writes.
#   - The coordinator's memory: an item half-step over 200,000 ratings
#     with maintenance_work_mem 16MB peaks below 80 MB in its backend.
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
		"shared_preload_libraries = 'citus'\nmax_prepared_transactions = 100\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE shop');
	$node->safe_psql('shop', 'CREATE EXTENSION citus; CREATE EXTENSION cf;');
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

# cf_train on the distributed table: every row read to the coordinator
# (it says so), a model that serves there
my ($rc, $tout, $terr) = $coord->psql('shop',
	q{SELECT count(*) FROM cf_train('ratings', model => 'pulled', algorithm => 'als', factors => 8)});
is($rc, 0, 'cf_train reads a distributed table');
like($terr, qr/NOTICE:  reading every row of distributed table "ratings" to this node/,
	'and says it reads every row to the coordinator');
is($coord->safe_psql('shop',
		q{SELECT count(*) FROM cf_recommend((SELECT min(user_id) FROM local_ratings), 5, 'pulled')}),
	'5', 'the model serves on the coordinator');
unlike(
	scalar(($coord->psql('shop',
		q{SELECT count(*) FROM cf_train('local_ratings', model => 'pulled', algorithm => 'als', factors => 8)}))[2]),
	qr/distributed table/, 'no such notice for a local table');

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
$session->quit;

done_testing();
