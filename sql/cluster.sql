--
-- cluster: a model whose users live in another table (cf_models.user_table,
-- as cf_train leaves a model trained on a Citus cluster: t/003_citus.pl
-- trains one).  Without Citus the serving side is the same: the table a
-- row names is read as the caller, only if it is an ordinary table without
-- row-level security, by name (never spliced), its rows checked; functions
-- that read every user's row refuse such a model; dropping or retraining
-- the model drops the table if cf named it.
--
\ir sql/fixtures/ratings.sql
CREATE TABLE cluster_r AS SELECT * FROM cf_synthetic_ratings(50, 30, 900, factors => 3, seed => 5);
SELECT model FROM cf_train('cluster_r', model => 'c', algorithm => 'als', factors => 2, epochs => 3,
                           verbose => false);
-- the users as cf_train on Citus keeps them: its own table, not cf_user_factors
CREATE TABLE cf_user_factors_c (user_id bigint PRIMARY KEY, bias real NOT NULL,
                                factors real[] NOT NULL, rated_items bigint[] NOT NULL);
INSERT INTO cf_user_factors_c SELECT user_id, bias, factors, rated_items FROM cf_user_factors
WHERE model = 'c';
DELETE FROM cf_user_factors WHERE model = 'c';
UPDATE cf_models SET user_table = 'public.cf_user_factors_c' WHERE name = 'c';
SELECT round(cf_predict(1, 1, 'c')::numeric, 4) =
       round((SELECT greatest(m.rating_min, least(m.rating_max, m.global_mean + u.bias + i.bias
                + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b))))
              FROM cf_models m, cf_user_factors_c u, cf_item_factors i
              WHERE m.name = 'c' AND u.user_id = 1 AND i.model = 'c' AND i.item_id = 1)::numeric, 4)
       AS predicted_from_the_table;
SELECT count(*) AS recommended, count(*) FILTER (WHERE item_id = ANY (u.rated_items)) AS rated
FROM cf_recommend(1, 5, 'c'), cf_user_factors_c u WHERE u.user_id = 1;
SELECT count(*) AS explained FROM cf_explain(1, 1, 'c');
-- a user the table does not have, and an id its type cannot hold
SELECT * FROM cf_recommend(1000, 2, 'c');
ALTER TABLE cf_user_factors_c ALTER COLUMN user_id TYPE smallint;
SELECT cf_predict(100000, 1, 'c') AS unknown_user;
ALTER TABLE cf_user_factors_c ALTER COLUMN user_id TYPE bigint;

-- what reads every user refuses it
SELECT * FROM cf_recommend_batch(ARRAY[1, 2], 2, 'c');
SELECT cf_copy_model('c', 'c2');
SELECT * FROM cf_evaluate('c', 'cluster_r');
SELECT * FROM cf_similar_users(1, 2, 'c');
SELECT * FROM cf_refresh_users(ARRAY[1], 'c');

-- what the row names is checked before it is read
UPDATE cf_user_factors_c SET factors = '{1, 2, 3}' WHERE user_id = 1;
SELECT cf_predict(1, 1, 'c');
UPDATE cf_user_factors_c SET factors = '{1, 2}' WHERE user_id = 1;
UPDATE cf_models SET user_table = 'public.no_such_table' WHERE name = 'c';
SELECT cf_predict(1, 1, 'c');
UPDATE cf_models SET user_table = 'cf_user_factors_c; DROP TABLE cluster_r' WHERE name = 'c';
SELECT cf_predict(1, 1, 'c');
CREATE VIEW users_view AS SELECT * FROM cf_user_factors_c;
UPDATE cf_models SET user_table = 'users_view' WHERE name = 'c';
SELECT cf_predict(1, 1, 'c');
DROP VIEW users_view;
CREATE TABLE users_rls (LIKE cf_user_factors_c);
ALTER TABLE users_rls ENABLE ROW LEVEL SECURITY;
UPDATE cf_models SET user_table = 'users_rls' WHERE name = 'c';
SELECT cf_predict(1, 1, 'c');
CREATE TABLE users_text (user_id text, bias real, factors real[], rated_items bigint[]);
UPDATE cf_models SET user_table = 'users_text' WHERE name = 'c';
SELECT cf_predict(1, 1, 'c');

-- dropping the model drops a table cf named, never another
UPDATE cf_models SET user_table = 'users_rls' WHERE name = 'c';
SELECT cf_drop_model('c');
SELECT to_regclass('users_rls') IS NOT NULL AS kept;
SELECT model FROM cf_train('cluster_r', model => 'c', algorithm => 'als', factors => 2, epochs => 3,
                           verbose => false);
UPDATE cf_models SET user_table = 'public.cf_user_factors_c' WHERE name = 'c';
SELECT cf_drop_model('c');
SELECT to_regclass('cf_user_factors_c') IS NULL AS dropped;
-- and so does retraining it on this node
CREATE TABLE cf_user_factors_c (user_id bigint);
SELECT model FROM cf_train('cluster_r', model => 'c', algorithm => 'als', factors => 2, epochs => 3,
                           verbose => false);
UPDATE cf_models SET user_table = 'public.cf_user_factors_c' WHERE name = 'c';
SELECT model FROM cf_train('cluster_r', model => 'c', algorithm => 'als', factors => 2, epochs => 3,
                           verbose => false);
SELECT to_regclass('cf_user_factors_c') IS NULL AS dropped, user_table IS NULL AS local
FROM cf_models WHERE name = 'c';

DROP TABLE users_rls, users_text, cluster_r;
SELECT cf_drop_model('c');
