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

\c contrib_regression
DROP DATABASE cf_fresh;
DROP DATABASE cf_from_0_1_0;
