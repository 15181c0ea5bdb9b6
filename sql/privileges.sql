--
-- privileges: who may train from what, and who may read, replace and drop a
-- model (docs/security.md)
--
-- Roles: two trainers (alice, bob) in a group that holds the table
-- privileges, a team role they both belong to, a reader that only serves,
-- and a role with a name that needs quoting.  The functions run as the
-- caller, so SET ROLE is all it takes to act as each.
--
\ir sql/fixtures/extension.sql
CREATE ROLE regress_cf_trainers NOLOGIN;
CREATE ROLE regress_cf_team NOLOGIN;
CREATE ROLE regress_cf_alice IN ROLE regress_cf_trainers, regress_cf_team;
CREATE ROLE regress_cf_bob IN ROLE regress_cf_trainers, regress_cf_team;
CREATE ROLE "regress_cf Odd ""Q""" IN ROLE regress_cf_trainers;
CREATE ROLE regress_cf_reader;
CREATE ROLE regress_cf_nobody;

-- nothing on the model tables is granted to PUBLIC (or any other role) by
-- the install script
SELECT c.relname,
       NOT EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS no_grants
FROM pg_class c
WHERE c.relname IN ('cf_models', 'cf_user_factors', 'cf_item_factors', 'cf_training_log',
                    'cf_model_version_seq')
ORDER BY 1;
SELECT relname, relrowsecurity FROM pg_class
WHERE relname IN ('cf_models', 'cf_user_factors', 'cf_item_factors', 'cf_training_log')
ORDER BY 1;
-- and the functions run as their caller: none is SECURITY DEFINER
SELECT count(*) > 4 AS has_functions, count(*) FILTER (WHERE prosecdef) AS security_definer
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cf');

-- what a DBA grants: trainers write models, readers read them
GRANT SELECT, INSERT, UPDATE, DELETE
  ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO regress_cf_trainers;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO regress_cf_trainers;
GRANT SELECT ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO regress_cf_reader;

-- a ratings table with a secret column and a region per row
CREATE TABLE priv_ratings AS
  SELECT user_id, item_id, rating, (user_id % 2 = 0) AS even_user, rating AS secret_rating
  FROM cf_synthetic_ratings(100, 50, 1500, seed => 3);

--
-- Reading the source as the caller
--
-- no privilege on the source: no training (terse: the context names the
-- loader's query)
\set VERBOSITY terse
SET ROLE regress_cf_alice;
SELECT * FROM cf_train('priv_ratings', model => 'alice');
RESET ROLE;
-- a column privilege on the ids but not on the rating is not enough
GRANT SELECT (user_id, item_id, secret_rating) ON priv_ratings TO regress_cf_alice;
SET ROLE regress_cf_alice;
SELECT * FROM cf_train('priv_ratings', model => 'alice');
\set VERBOSITY default
-- the columns it may read are enough
SELECT model, users, items, ratings
FROM cf_train('priv_ratings', rating_column => 'secret_rating', model => 'alice', verbose => false);
RESET ROLE;
GRANT SELECT (rating) ON priv_ratings TO regress_cf_alice;

-- row-level security on the source: the model only sees the allowed rows
GRANT SELECT ON priv_ratings TO regress_cf_bob;
ALTER TABLE priv_ratings ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_users_only ON priv_ratings FOR SELECT TO regress_cf_bob USING (even_user);
SET ROLE regress_cf_bob;
SELECT model, users, items, ratings FROM cf_train('priv_ratings', model => 'bob', verbose => false);
SELECT count(*) AS users, count(*) FILTER (WHERE user_id % 2 = 1) AS odd_users,
       sum(array_length(rated_items, 1)) AS rated
FROM cf_user_factors WHERE model = 'bob';
RESET ROLE;
-- the table's owner reads every row
SELECT (SELECT count(DISTINCT user_id) FROM priv_ratings) AS all_users,
       (SELECT count(*) FROM priv_ratings WHERE even_user) AS even_rows;
ALTER TABLE priv_ratings DISABLE ROW LEVEL SECURITY;

--
-- Model owners
--
-- a model belongs to the role that trained it; a role name that needs
-- quoting works
GRANT SELECT ON priv_ratings TO "regress_cf Odd ""Q""";
SET ROLE "regress_cf Odd ""Q""";
SELECT model FROM cf_train('priv_ratings', model => 'quoted', verbose => false);
RESET ROLE;
SELECT name, owner, owner = 'regress_cf_alice' AS is_alice
FROM cf_models WHERE name IN ('alice', 'bob', 'quoted') ORDER BY name;

-- bob may not replace, rename, give away or drop alice's model, nor touch
-- its rows; each attempt changes nothing
SELECT version AS alice_version FROM cf_models WHERE name = 'alice' \gset
SET ROLE regress_cf_bob;
SELECT * FROM cf_train('priv_ratings', model => 'alice', verbose => false);
DELETE FROM cf_models WHERE name = 'alice';
UPDATE cf_models SET name = 'stolen' WHERE name = 'alice';
UPDATE cf_models SET owner = 'regress_cf_bob' WHERE name = 'alice';
DELETE FROM cf_user_factors WHERE model = 'alice';
UPDATE cf_item_factors SET bias = 100 WHERE model = 'alice';
DELETE FROM cf_training_log WHERE model = 'alice';
INSERT INTO cf_item_factors VALUES ('alice', 1000, 100, '{}');
INSERT INTO cf_training_log VALUES ('alice', 1000, 0, 0, 0);
-- nor through the model functions
SELECT cf_drop_model('alice');
SELECT cf_rename_model('alice', 'stolen');
SELECT * FROM cf_refresh_users('{2}', 'alice');
-- nor create a model in alice's name
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds, owner)
VALUES ('framed', 0, 'none', 'u', 'i', 'r', 'sgd', '{}', 1, 0, 0, 0, 3, 1, 5, 0, 0,
        'regress_cf_alice');
-- but bob reads it and serves from it
SELECT count(*) AS alice_items FROM cf_item_factors WHERE model = 'alice';
SELECT count(*) AS recommended FROM cf_recommend(2, 5, 'alice');
RESET ROLE;
SELECT version = :alice_version AS same_version, users,
       (SELECT count(*) FROM cf_user_factors WHERE model = 'alice') AS user_rows,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'alice') AS item_rows,
       (SELECT max(bias) < 100 FROM cf_item_factors WHERE model = 'alice') AS biases_intact,
       (SELECT count(*) FROM cf_training_log WHERE model = 'alice') AS log_rows
FROM cf_models WHERE name = 'alice';
SELECT count(*) AS stolen_or_framed FROM cf_models WHERE name IN ('stolen', 'framed');

-- alice replaces her own model; she may give it to a role she belongs to,
-- but not to one she does not
SET ROLE regress_cf_alice;
SELECT model FROM cf_train('priv_ratings', model => 'alice', epochs => 5, verbose => false);
UPDATE cf_models SET owner = 'regress_cf_bob' WHERE name = 'alice';
UPDATE cf_models SET owner = 'regress_cf_team' WHERE name = 'alice';
RESET ROLE;
SELECT version > :alice_version AS new_version, epochs, owner FROM cf_models WHERE name = 'alice';

-- a model owned by a team: any member replaces it, and it keeps its owner
SET ROLE regress_cf_bob;
SELECT model FROM cf_train('priv_ratings', model => 'alice', epochs => 7, verbose => false);
RESET ROLE;
SELECT epochs, owner FROM cf_models WHERE name = 'alice';

-- a superuser may replace any model, which keeps its owner
SELECT model FROM cf_train('priv_ratings', model => 'quoted', epochs => 3, verbose => false);
SELECT epochs, owner FROM cf_models WHERE name = 'quoted';

-- bob renames his own model, then drops it: its factor and log rows follow
-- (the cascade trigger runs as bob, under the policies)
SET ROLE regress_cf_bob;
UPDATE cf_models SET name = 'bob renamed' WHERE name = 'bob';
SELECT (SELECT count(*) FROM cf_user_factors WHERE model = 'bob renamed') AS user_rows,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'bob renamed') AS item_rows,
       (SELECT count(*) FROM cf_training_log WHERE model = 'bob renamed') AS log_rows,
       (SELECT count(*) FROM cf_user_factors WHERE model = 'bob') AS left_behind;
DELETE FROM cf_models WHERE name = 'bob renamed';
RESET ROLE;
SELECT (SELECT count(*) FROM cf_models WHERE name LIKE 'bob%') AS models,
       (SELECT count(*) FROM cf_user_factors WHERE model LIKE 'bob%') AS user_rows,
       (SELECT count(*) FROM cf_item_factors WHERE model LIKE 'bob%') AS item_rows,
       (SELECT count(*) FROM cf_training_log WHERE model LIKE 'bob%') AS log_rows;

--
-- Readers and roles without grants
--
SET ROLE regress_cf_reader;
SELECT name, owner FROM cf_models WHERE name IN ('alice', 'quoted') ORDER BY name;
SELECT cf_predict(2, 1, 'alice') BETWEEN 1 AND 5 AS predicts;
SELECT count(*) AS recommended FROM cf_recommend(2, 5, 'alice');
-- a reader cannot train: it fails before reading the source
SELECT * FROM cf_train('priv_ratings', model => 'reader');
DELETE FROM cf_models WHERE name = 'alice';
RESET ROLE;
SET ROLE regress_cf_nobody;
\set VERBOSITY terse
SELECT cf_predict(2, 1, 'alice');
SELECT * FROM cf_recommend(2, 5, 'alice');
SELECT count(*) FROM cf_models;
\set VERBOSITY default
RESET ROLE;
-- a trainer without the sequence cannot train either
REVOKE USAGE ON SEQUENCE cf_model_version_seq FROM regress_cf_trainers;
SET ROLE regress_cf_alice;
SELECT * FROM cf_train('priv_ratings', model => 'alice');
RESET ROLE;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO regress_cf_trainers;

--
-- A model whose owner was dropped: only a superuser may change it
--
CREATE ROLE regress_cf_gone IN ROLE regress_cf_trainers;
GRANT SELECT ON priv_ratings TO regress_cf_gone;
SET ROLE regress_cf_gone;
SELECT model FROM cf_train('priv_ratings', model => 'orphan', epochs => 2, verbose => false);
RESET ROLE;
REVOKE SELECT ON priv_ratings FROM regress_cf_gone;
DROP ROLE regress_cf_gone;
-- the owner is a name: it stays, and grants nothing while no role has it
SELECT owner, cf_has_role(owner) AS owner_exists FROM cf_models WHERE name = 'orphan';
SET ROLE regress_cf_alice;
\set VERBOSITY terse
SELECT * FROM cf_train('priv_ratings', model => 'orphan', verbose => false);
\set VERBOSITY default
DELETE FROM cf_models WHERE name = 'orphan';
SELECT count(*) AS orphans_left FROM cf_models WHERE name = 'orphan';
RESET ROLE;
DELETE FROM cf_models WHERE name = 'orphan';
SELECT count(*) AS orphans_left FROM cf_models WHERE name = 'orphan';

--
-- The source a model records is read as the model's owner.  Its owner may
-- point cf_models.source at any table; read with the rights of whoever
-- refreshes or explains, a more privileged role would copy what the owner
-- may not read into rows the owner reads (a confused deputy).
--
CREATE TABLE priv_secret AS SELECT user_id, item_id + 1000 AS item_id, rating FROM priv_ratings;
SET ROLE regress_cf_alice;
SELECT model FROM cf_train('priv_ratings', model => 'deputy', algorithm => 'als', epochs => 2,
                           verbose => false);
UPDATE cf_models SET source = 'public.priv_secret' WHERE name = 'deputy';
RESET ROLE;
-- a superuser refreshing or explaining the model reads it as alice: refused
\set VERBOSITY terse
SELECT * FROM cf_refresh_users('{2}', 'deputy');
SELECT * FROM cf_explain(2, 1, 'deputy');
\set VERBOSITY default
SELECT count(*) AS secret_items_stored FROM cf_user_factors, unnest(rated_items) AS i
WHERE model = 'deputy' AND i > 1000;
-- what the source's own code sees: the owner as current_user, in a
-- security-restricted operation (no SET ROLE, no changed settings), with
-- only pg_catalog and pg_temp on the search_path
CREATE TABLE priv_seen (who name);
GRANT INSERT ON priv_seen TO regress_cf_alice;
CREATE FUNCTION priv_note(who name) RETURNS boolean LANGUAGE sql AS
  $$ INSERT INTO public.priv_seen VALUES (who) RETURNING true $$;
CREATE VIEW priv_noting WITH (security_invoker) AS
  SELECT user_id, item_id, rating FROM priv_ratings WHERE priv_note(current_user);
GRANT SELECT ON priv_noting TO regress_cf_alice;
UPDATE cf_models SET source = 'public.priv_noting' WHERE name = 'deputy';
SELECT user_id, action FROM cf_refresh_users('{2}', 'deputy');
SELECT DISTINCT who FROM priv_seen;
-- a model whose owner no role has: its source is not read at all
UPDATE cf_models SET owner = 'regress_cf_nosuchrole' WHERE name = 'deputy';
SELECT * FROM cf_refresh_users('{2}', 'deputy');
DELETE FROM cf_models WHERE name = 'deputy';
DROP VIEW priv_noting;
DROP FUNCTION priv_note(name);
DROP TABLE priv_secret, priv_seen;

--
-- Read isolation: a model with a reader is read only by roles with the
-- privileges of its reader or of its owner (docs/security.md)
--
CREATE ROLE regress_cf_tenant_a;
CREATE ROLE regress_cf_tenant_b;
CREATE ROLE regress_cf_app_a IN ROLE regress_cf_tenant_a;
GRANT SELECT ON cf_models, cf_user_factors, cf_item_factors, cf_training_log
  TO regress_cf_tenant_a, regress_cf_tenant_b;
SET ROLE regress_cf_alice;
-- set in the training's transaction, no one else ever sees the model
BEGIN;
SELECT model FROM cf_train('priv_ratings', model => 'tenant a', epochs => 2, verbose => false);
UPDATE cf_models SET reader = 'regress_cf_tenant_a' WHERE name = 'tenant a';
COMMIT;
SELECT name, owner, reader FROM cf_models WHERE name = 'tenant a';
RESET ROLE;
-- the reader's members serve it; other roles see no trace of it
SET ROLE regress_cf_app_a;
SELECT count(*) AS recommended FROM cf_recommend(2, 5, 'tenant a');
SELECT (SELECT count(*) FROM cf_models WHERE name = 'tenant a') AS models,
       (SELECT count(*) FROM cf_user_factors WHERE model = 'tenant a') > 0 AS user_rows,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'tenant a') > 0 AS item_rows,
       (SELECT count(*) FROM cf_training_log WHERE model = 'tenant a') AS log_rows;
RESET ROLE;
SET ROLE regress_cf_tenant_b;
SELECT * FROM cf_recommend(2, 5, 'tenant a');
SELECT cf_predict(2, 1, 'tenant a');
SELECT (SELECT count(*) FROM cf_models WHERE name = 'tenant a') AS models,
       (SELECT count(*) FROM cf_user_factors WHERE model = 'tenant a') AS user_rows,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'tenant a') AS item_rows,
       (SELECT count(*) FROM cf_training_log WHERE model = 'tenant a') AS log_rows;
-- nor through a cache filled by a reader in the same session
RESET ROLE;
SET ROLE regress_cf_app_a;
SELECT count(*) AS recommended FROM cf_recommend(2, 5, 'tenant a');
SET ROLE regress_cf_tenant_b;
SELECT * FROM cf_recommend(2, 5, 'tenant a');
SELECT count(*) AS cached_entries_seen FROM cf_cache() WHERE model = 'tenant a';
-- nor can it write, or plant rows under the name
DELETE FROM cf_item_factors WHERE model = 'tenant a';
RESET ROLE;
SET ROLE regress_cf_bob;
DELETE FROM cf_item_factors;
INSERT INTO cf_training_log VALUES ('tenant a', 99, 0, 0, 0);
SELECT count(*) AS bob_sees FROM cf_models WHERE name = 'tenant a';
RESET ROLE;
SELECT (SELECT count(*) FROM cf_item_factors WHERE model = 'tenant a') > 0 AS items_intact,
       (SELECT count(*) FROM cf_training_log WHERE model = 'tenant a') AS log_rows;
-- the owner keeps the reader when retraining, and a copy keeps it too; the
-- owner may lift it
SET ROLE regress_cf_alice;
SELECT cf_copy_model('tenant a', 'tenant a copy');
SELECT name, owner, reader FROM cf_models WHERE name = 'tenant a copy';
SET ROLE regress_cf_tenant_b;
SELECT count(*) AS copies_seen FROM cf_models WHERE name = 'tenant a copy';
SET ROLE regress_cf_alice;
SELECT cf_drop_model('tenant a copy');
SELECT model FROM cf_train('priv_ratings', model => 'tenant a', epochs => 3, verbose => false);
SELECT reader FROM cf_models WHERE name = 'tenant a';
UPDATE cf_models SET reader = NULL WHERE name = 'tenant a';
RESET ROLE;
SET ROLE regress_cf_tenant_b;
SELECT count(*) AS recommended FROM cf_recommend(2, 5, 'tenant a');
RESET ROLE;
DELETE FROM cf_models WHERE name = 'tenant a';
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, cf_training_log
  FROM regress_cf_tenant_a, regress_cf_tenant_b;
DROP ROLE regress_cf_app_a, regress_cf_tenant_a, regress_cf_tenant_b;

--
-- The SQLSTATEs
--
CREATE FUNCTION pg_temp.sqlstate_as(role name, query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', role);
  EXECUTE query;
  RESET ROLE;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT role, q, pg_temp.sqlstate_as(role, q) FROM (VALUES
  ('regress_cf_nobody', $$SELECT cf_train('priv_ratings')$$),
  ('regress_cf_reader', $$SELECT cf_train('priv_ratings', model => 'x')$$),
  ('regress_cf_bob', $$SELECT cf_train('priv_ratings', model => 'quoted')$$),
  ('regress_cf_bob', $$INSERT INTO cf_training_log VALUES ('quoted', 99, 0, 0, 0)$$),
  ('regress_cf_nobody', $$SELECT cf_predict(1, 1, 'quoted')$$)
) AS t(role, q);

-- clean up: the models first (they name the roles), then the roles
DELETE FROM cf_models WHERE name IN ('alice', 'quoted');
DROP TABLE priv_ratings;
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, cf_training_log
  FROM regress_cf_trainers, regress_cf_reader;
REVOKE ALL ON SEQUENCE cf_model_version_seq FROM regress_cf_trainers;
DROP ROLE regress_cf_alice, regress_cf_bob, "regress_cf Odd ""Q""", regress_cf_reader,
          regress_cf_nobody, regress_cf_team, regress_cf_trainers;
