#
# Backups that restore: models dumped with pg_dump come back whole in
# another cluster, and serve the same recommendations (docs/security.md,
# "Backups").
#
#   - A database whose models belong to a role the target cluster lacks
#     (alice), one of them restricted to a reader role, dumped with
#     pg_dump -Fc as a superuser and restored with pg_restore --no-owner:
#     every model comes back (cf_models as well as its factor and log rows),
#     owned by the name "alice", which grants nothing there; the restored
#     models answer cf_recommend, cf_predict and cf_recommend_for_ratings
#     exactly as the original; a superuser gives them to an existing role.
#   - A backup role that is no superuser (pg_read_all_data): row-level
#     security on the model tables makes plain pg_dump fail; with
#     --enable-row-security it dumps the models it may read (not those
#     whose reader it lacks); with BYPASSRLS it dumps them all.
#   - DROP EXTENSION cf drops every model; a dump restores them.
#   - A model whose ids are not integers (uuid users, text items) comes
#     back with its id types and keys, and answers the same.
#
# Runs from a copy of test/t: it must not read other files of the checkout.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->start;

$source->safe_psql(
	'postgres', q{
CREATE DATABASE shop;
});
$source->safe_psql(
	'shop', q{
CREATE EXTENSION cf;
CREATE ROLE alice;
CREATE ROLE tenant;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO alice;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO alice;
CREATE TABLE ratings AS SELECT * FROM cf_synthetic_ratings(300, 120, 6000, seed => 4);
CREATE TABLE plays AS SELECT user_id, item_id FROM ratings WHERE rating >= 4;
GRANT SELECT ON ratings, plays TO alice;
SET ROLE alice;
SELECT count(*) FROM cf_train('ratings', model => 'sgd', factors => 16, epochs => 20, verbose => false);
SELECT count(*) FROM cf_train('ratings', model => 'als', algorithm => 'als', factors => 8,
                              epochs => 5, verbose => false);
SELECT count(*) FROM cf_train('plays', rating_column => NULL, model => 'ials', algorithm => 'ials',
                              factors => 8, epochs => 5, verbose => false);
UPDATE cf_models SET reader = 'tenant' WHERE name = 'ials';
RESET ROLE;
SELECT count(*) FROM cf_train('ratings', model => 'base', algorithm => 'baseline', verbose => false);
});

# What each model answers, as one string per model.
my $answers_sql = q{
SELECT m.name, md5(concat_ws(' ',
  (SELECT string_agg(format('%s:%s', item_id, score), ',' ORDER BY score DESC, item_id)
   FROM generate_series(1, 40) u, LATERAL cf_recommend(u, 5, m.name)),
  (SELECT string_agg(cf_predict(u, i, m.name)::text, ',' ORDER BY u, i)
   FROM generate_series(1, 20) u, generate_series(1, 20) i),
  (SELECT string_agg(format('%s:%s', item_id, score), ',' ORDER BY score DESC, item_id)
   FROM cf_recommend_for_ratings('{1, 2, 3}', '{5, 4, 1}', 5, m.name)),
  (SELECT count(*) FROM cf_training_log l WHERE l.model = m.name)))
FROM cf_models m ORDER BY m.name
};
my $rows_sql = q{
SELECT (SELECT count(*) FROM cf_models) || ' ' || (SELECT count(*) FROM cf_user_factors) || ' ' ||
       (SELECT count(*) FROM cf_item_factors) || ' ' || (SELECT count(*) FROM cf_training_log)
};
my $answers = $source->safe_psql('shop', $answers_sql);
my $rows = $source->safe_psql('shop', $rows_sql);
like($answers, qr/^als\|\w+\nbase\|\w+\nials\|\w+\nsgd\|\w+$/, 'four models to back up');

my $dump = $source->basedir . '/shop.dump';
$source->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'shop' ], 'pg_dump -Fc as a superuser');

#
# Restore where alice and tenant do not exist
#
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->start;
$target->safe_psql('postgres', 'CREATE DATABASE shop');
# (its only complaints are the grants to the roles it lacks)
my ($stdout, $stderr) = run_command(
	[ 'pg_restore', '--no-owner', '-d', 'shop', '-h', $target->host, '-p', $target->port, $dump ]);
my @complaints = grep { /error:/ } split /\n/, $stderr;
ok(@complaints > 0 && !grep({ !/role "(alice|tenant)" does not exist/ } @complaints),
	'pg_restore --no-owner into a cluster without the roles: only the grants to them fail')
  or diag($stderr);
is($target->safe_psql('shop', $rows_sql), $rows, 'every model row came back');
is($target->safe_psql('shop', $answers_sql), $answers, 'the restored models answer the same');
is( $target->safe_psql(
		'shop', q{SELECT string_agg(name || ' ' || owner || ' ' || cf_has_role(owner) || ' '
                  || coalesce(reader, '-'), ', ' ORDER BY name) FROM cf_models}),
	'als alice false -, base postgres true -, ials alice false tenant, sgd alice false -',
	'owners and readers are the names they had, which grant nothing here');
# a superuser gives alice's models to a role of this cluster, which may then retrain them
$target->safe_psql(
	'shop', q{
CREATE ROLE bob;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO bob;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO bob;
GRANT SELECT ON ratings TO bob;
UPDATE cf_models SET owner = 'bob' WHERE owner = 'alice';
});
is( $target->safe_psql(
		'shop', q{SET ROLE bob;
SELECT epochs FROM cf_train('ratings', model => 'sgd', factors => 16, epochs => 3, verbose => false)}),
	'3',
	'the new owner retrains a restored model');

#
# A backup role that is no superuser
#
$source->safe_psql(
	'shop', q{
CREATE ROLE backup LOGIN IN ROLE pg_read_all_data;
});
my $rc = $source->run_log(
	[ 'pg_dump', '-Fc', '-U', 'backup', '-f', "$dump.plain", '-d', 'shop' ]);
ok(!$rc, 'pg_dump as a role subject to row-level security fails');
($stdout, $stderr) = run_command(
	[ 'pg_dump', '-Fc', '-U', 'backup', '-f', "$dump.plain", '-d', 'shop',
	  '-h', $source->host, '-p', $source->port ]);
like($stderr, qr/row-level security/, '... and says it is row-level security');
$source->command_ok(
	[ 'pg_dump', '-Fc', '-U', 'backup', '--enable-row-security', '-f', "$dump.rls", '-d', 'shop' ],
	'pg_dump --enable-row-security as the backup role');
$source->safe_psql('shop', 'ALTER ROLE backup BYPASSRLS');
$source->command_ok([ 'pg_dump', '-Fc', '-U', 'backup', '-f', "$dump.bypass", '-d', 'shop' ],
	'pg_dump as the backup role with BYPASSRLS');
for my $case ([ 'rls', 'als base sgd' ], [ 'bypass', 'als base ials sgd' ])
{
	my ($suffix, $models) = @$case;
	$target->safe_psql('postgres', "DROP DATABASE IF EXISTS shop_$suffix");
	$target->safe_psql('postgres', "CREATE DATABASE shop_$suffix");
	$target->command_ok(
		[ 'pg_restore', '--no-owner', '--no-privileges', '-d', "shop_$suffix", "$dump.$suffix" ],
		"restore of the $suffix dump");
	is($target->safe_psql("shop_$suffix", q{SELECT string_agg(name, ' ' ORDER BY name) FROM cf_models}),
		$models, "the $suffix dump holds the models the backup role may read");
}
is($target->safe_psql('shop_bypass', $answers_sql), $answers,
	'the BYPASSRLS dump restores every model whole');

#
# DROP EXTENSION drops the models; the dump brings them back
#
$source->safe_psql('shop', 'DROP EXTENSION cf');
is($source->safe_psql('shop', q{SELECT count(*) FROM pg_class WHERE relname = 'cf_models'}),
	'0', 'DROP EXTENSION cf drops the model tables');
$source->safe_psql('postgres', 'CREATE DATABASE shop_again');
$source->command_ok([ 'pg_restore', '-d', 'shop_again', $dump ], 'restore into the same cluster');
is($source->safe_psql('shop_again', $answers_sql), $answers,
	'... with the same owners and the same answers');

#
# A model with uuid users and text items
#
$source->safe_psql('postgres', 'CREATE DATABASE typed');
$source->safe_psql(
	'typed', q{
CREATE EXTENSION cf;
CREATE TABLE shop AS
SELECT md5('customer ' || user_id)::uuid AS customer, 'SKU-' || item_id AS sku, rating
FROM cf_synthetic_ratings(200, 80, 4000, seed => 5);
SELECT count(*) FROM cf_train('shop', 'customer', 'sku', model => 'typed', factors => 8,
                              epochs => 10, verbose => false);
});
my $typed_sql = q{
SELECT concat_ws(' | ',
  (SELECT user_type || ' ' || item_type FROM cf_models WHERE name = 'typed'),
  md5((SELECT string_agg(format('%s:%s', item_id, score), ',' ORDER BY u, score DESC, item_id)
       FROM generate_series(1, 30) u, LATERAL cf_recommend(md5('customer ' || u)::uuid, 5, 'typed'))),
  md5((SELECT string_agg(format('%s:%s:%s', user_id, item_id, score), ',' ORDER BY user_id, rank)
       FROM cf_recommend_batch_by_key(NULL, 3, 'typed'))),
  (SELECT cf_predict(md5('customer 7')::uuid, 'SKU-3', 'typed')),
  (SELECT count(*) FROM cf_user_factors WHERE model = 'typed' AND user_key IS NOT NULL))
};
my $typed = $source->safe_psql('typed', $typed_sql);
like($typed, qr/^uuid text \| \w+ \| \w+ \| [0-9.]+ \| 200$/, 'a model with uuid users and text items');
$source->command_ok([ 'pg_dump', '-Fc', '-f', "$dump.typed", '-d', 'typed' ],
	'pg_dump of a database with a typed model');
$target->safe_psql('postgres', 'CREATE DATABASE typed');
$target->command_ok([ 'pg_restore', '-d', 'typed', "$dump.typed" ], 'its restore');
is($target->safe_psql('typed', $typed_sql), $typed,
	'the restored typed model keeps its id types and keys and answers the same');

$source->stop;
$target->stop;
done_testing();
