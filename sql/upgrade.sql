--
-- upgrade: ALTER EXTENSION cf UPDATE from every released version gives the
-- same objects as a fresh install, and models trained before still serve
--
-- A query describing the extension's objects in full (definitions,
-- volatility, strictness, parallel safety, columns, defaults, constraints,
-- indexes, comments, configuration tables) as a count and an md5; kept in
-- a psql variable, since it runs in several databases.
SELECT $query$
WITH members AS (
  SELECT d.classid, d.objid FROM pg_depend d, pg_extension e
  WHERE e.extname = 'cf' AND d.refclassid = 'pg_extension'::regclass
    AND d.refobjid = e.oid AND d.deptype = 'e'),
lines AS (
  SELECT format('function %s returns %s volatility %s strict %s parallel %s security definer %s config %s args (%s) src %s acl %s comment %s',
                p.oid::regprocedure, pg_get_function_result(p.oid), p.provolatile, p.proisstrict,
                p.proparallel, p.prosecdef, p.proconfig, pg_get_function_arguments(p.oid), p.prosrc, p.proacl,
                obj_description(p.oid, 'pg_proc')) AS line
  FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  UNION ALL
  SELECT format('relation %s kind %s acl %s row security %s forced %s comment %s', c.relname, c.relkind,
                c.relacl, c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'))
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  UNION ALL
  SELECT format('policy %s.%s command %s permissive %s roles %s using %s check %s comment %s',
                c.relname, p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
                obj_description(p.oid, 'pg_policy'))
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  JOIN pg_policy p ON p.polrelid = c.oid
  UNION ALL
  SELECT format('column %s.%s %s not null %s default %s storage %s acl %s comment %s', c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                a.attstorage, a.attacl, col_description(c.oid, a.attnum))
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
  UNION ALL
  SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  JOIN pg_constraint k ON k.conrelid = c.oid
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
  FROM members m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
  UNION ALL
  SELECT format('trigger %s', pg_get_triggerdef(g.oid))
  FROM members m JOIN pg_trigger g ON m.classid = 'pg_class'::regclass AND g.tgrelid = m.objid
  WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('config %s', t.oid::regclass)
  FROM pg_extension e, unnest(e.extconfig) AS t(oid) WHERE e.extname = 'cf')
SELECT count(*) AS objects, md5(string_agg(line, E'\n' ORDER BY line)) AS digest FROM lines
$query$ AS catalog_query \gset

-- the reference: a fresh install of the current version
CREATE DATABASE cf_fresh;
\c cf_fresh
CREATE EXTENSION cf;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
:catalog_query \gset fresh_

-- from 0.1.0: install it, train a model, update
CREATE DATABASE cf_from_0_1_0;
\c cf_from_0_1_0
CREATE EXTENSION cf VERSION '0.1.0';
CREATE TABLE ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 3000);
SELECT users, items, ratings FROM cf_train('ratings', epochs => 5, verbose => false);
SELECT array_agg(item_id) AS recommended_before FROM cf_recommend(1, 5) \gset
SELECT cf_predict(1, 1) AS predicted_before \gset
ALTER EXTENSION cf UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
:catalog_query \gset updated_
SELECT :fresh_objects = :updated_objects AS same_object_count,
       :'fresh_digest' = :'updated_digest' AS same_as_fresh_install;
-- the model trained under 0.1.0 serves unchanged
SELECT array_agg(item_id) = :'recommended_before' AS same_recommendations FROM cf_recommend(1, 5);
SELECT cf_predict(1, 1) = :predicted_before AS same_prediction;
-- and the updated extension trains
SELECT users, items, ratings FROM cf_train('ratings', model => 'after', epochs => 5, verbose => false);
-- the model trained under 0.1.0 has no kept epoch nor validation RMSEs
-- (columns added by the update), and the new functions take it
SELECT epoch_kept FROM cf_models WHERE name = 'default';
SELECT count(*) AS epochs, count(validation_rmse) AS validated FROM cf_training_log WHERE model = 'default';
SELECT users > 0 AS evaluated, rmse > 0 AS has_rmse FROM cf_evaluate('default', 'ratings');
SELECT count(*) > 3 AS charted FROM cf_training_chart('default');
SELECT model, epochs FROM cf_model_summary WHERE model = 'default';
SELECT epoch_kept, validation_rmse IS NOT NULL AS validated
FROM cf_train('ratings', model => 'validated', epochs => 5, validation_fraction => 0.1, verbose => false);

-- from 0.2.0: the same objects as a fresh install, a model serves unchanged
CREATE DATABASE cf_from_0_2_0;
\c cf_from_0_2_0
CREATE EXTENSION cf VERSION '0.2.0';
CREATE TABLE ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 3000);
SELECT users FROM cf_train('ratings', algorithm => 'als', epochs => 5, verbose => false);
SELECT array_agg(item_id) AS recommended_before FROM cf_recommend(1, 5) \gset
-- ids that are not integers need 0.4.0's tables
CREATE TABLE text_ratings AS SELECT 'u' || user_id AS user_id, item_id, rating FROM ratings;
SELECT users FROM cf_train('text_ratings', model => 'text ids', verbose => false);
ALTER EXTENSION cf UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
:catalog_query \gset updated_
SELECT :fresh_objects = :updated_objects AS same_object_count,
       :'fresh_digest' = :'updated_digest' AS same_as_fresh_install;
SELECT array_agg(item_id) = :'recommended_before' AS same_recommendations FROM cf_recommend(1, 5);
SELECT count(*) AS refreshed FROM cf_refresh_users('{1, 2}');

-- from 0.2.0, models of other roles: owners were regrole, now role names
-- (grants make explicit ACLs, so this one is not compared with a fresh install)
CREATE DATABASE cf_owners_0_2_0;
\c cf_owners_0_2_0
CREATE EXTENSION cf VERSION '0.2.0';
CREATE ROLE "regress_cf Upgrade ""Q""";
CREATE ROLE regress_cf_upgrade_gone;
GRANT SELECT, INSERT, UPDATE, DELETE ON cf_models, cf_user_factors, cf_item_factors, cf_training_log
  TO "regress_cf Upgrade ""Q""", regress_cf_upgrade_gone;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO "regress_cf Upgrade ""Q""", regress_cf_upgrade_gone;
CREATE TABLE ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 3000);
GRANT SELECT ON ratings TO "regress_cf Upgrade ""Q""", regress_cf_upgrade_gone;
SET ROLE "regress_cf Upgrade ""Q""";
SELECT users FROM cf_train('ratings', model => 'quoted', epochs => 5, verbose => false);
SET ROLE regress_cf_upgrade_gone;
SELECT users FROM cf_train('ratings', model => 'gone', algorithm => 'als', epochs => 2, verbose => false);
RESET ROLE;
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, cf_training_log, ratings
  FROM regress_cf_upgrade_gone;
REVOKE ALL ON SEQUENCE cf_model_version_seq FROM regress_cf_upgrade_gone;
DROP ROLE regress_cf_upgrade_gone;
SELECT name, pg_typeof(owner) AS owner_type, owner::text ~ '^[0-9]+$' AS dropped
FROM cf_models ORDER BY name;
-- this library serves 0.2.0's tables until the update: a retrain keeps the
-- regrole owner, a refresh reads the source as it, a dropped owner's model
-- is refused (to all but a superuser)
SET ROLE "regress_cf Upgrade ""Q""";
SELECT users FROM cf_train('ratings', model => 'quoted', epochs => 5, verbose => false);
SELECT user_id, action FROM cf_refresh_users('{1}', 'quoted');
\set VERBOSITY terse
SELECT * FROM cf_train('ratings', model => 'gone', verbose => false);
\set VERBOSITY default
RESET ROLE;
SELECT name, owner FROM cf_models WHERE name = 'quoted';
SELECT array_agg(item_id) AS recommended_before FROM cf_recommend(1, 5, 'quoted') \gset
ALTER EXTENSION cf UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
-- the owners are role names (a dropped one as PostgreSQL shows it), the
-- models serve as before and their owners still own them
SELECT name, pg_typeof(owner) AS owner_type, owner ~ '^unknown \(OID=[0-9]+\)$' AS dropped,
       owner = 'regress_cf Upgrade "Q"' AS quoted_owner, reader
FROM cf_models ORDER BY name;
SELECT array_agg(item_id) = :'recommended_before' AS same_recommendations
FROM cf_recommend(1, 5, 'quoted');
SET ROLE "regress_cf Upgrade ""Q""";
SELECT users FROM cf_train('ratings', model => 'quoted', epochs => 6, verbose => false);
SELECT owner FROM cf_models WHERE name = 'quoted';
\set VERBOSITY terse
SELECT * FROM cf_train('ratings', model => 'gone', verbose => false);
\set VERBOSITY default
RESET ROLE;
DELETE FROM cf_models;
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, cf_training_log, ratings
  FROM "regress_cf Upgrade ""Q""";
REVOKE ALL ON SEQUENCE cf_model_version_seq FROM "regress_cf Upgrade ""Q""";
DROP ROLE "regress_cf Upgrade ""Q""";

-- from 0.3.0: cf_train's model and verbose default to NULL since 0.4.0
CREATE DATABASE cf_from_0_3_0;
\c cf_from_0_3_0
CREATE EXTENSION cf VERSION '0.3.0';
CREATE TABLE ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 3000);
SELECT users FROM cf_train('ratings', epochs => 5, verbose => false);
-- until the update, 0.3.0's declaration passes model 'default': replaced
-- whatever its algorithm, as 0.3.0 did
SELECT users FROM cf_train('ratings', algorithm => 'als', epochs => 2, verbose => false);
SELECT algorithm FROM cf_models WHERE name = 'default';
SELECT array_agg(item_id) AS recommended_before FROM cf_recommend(1, 5) \gset
-- ids that are not integers need 0.4.0's tables
CREATE TABLE text_ratings AS SELECT 'u' || user_id AS user_id, item_id, rating FROM ratings;
SELECT users FROM cf_train('text_ratings', model => 'text ids', verbose => false);
ALTER EXTENSION cf UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
:catalog_query \gset updated_
SELECT :fresh_objects = :updated_objects AS same_object_count,
       :'fresh_digest' = :'updated_digest' AS same_as_fresh_install;
SELECT array_agg(item_id) = :'recommended_before' AS same_recommendations FROM cf_recommend(1, 5);
-- the integer model carried over: bigint ids, no keys; then text ids train
SELECT user_type, item_type,
       (SELECT count(*) FROM cf_user_factors WHERE user_key IS NOT NULL) AS user_keys
FROM cf_models WHERE name = 'default';
SELECT users FROM cf_train('text_ratings', model => 'text ids', epochs => 5, verbose => false);
SELECT count(*) FROM cf_recommend('u1', 5, 'text ids');
-- after it, the default name is replaced only by the same algorithm
SELECT users FROM cf_train('ratings', epochs => 5, verbose => false);
SELECT users FROM cf_train('ratings', algorithm => 'als', epochs => 2, verbose => false);

\c contrib_regression
DROP DATABASE cf_fresh;
DROP DATABASE cf_from_0_1_0;
DROP DATABASE cf_from_0_2_0;
DROP DATABASE cf_owners_0_2_0;
DROP DATABASE cf_from_0_3_0;
