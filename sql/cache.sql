--
-- cache: the factor cache serves exactly the model row it was read for,
-- however a user edits the model tables (docs/reference/cf_cache.md)
--
-- Each case serves a model (filling this backend's cache), changes the
-- model tables, and compares what this backend then answers with what a
-- fresh session (an empty cache) answers for the same rows.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cf;
RESET client_min_messages;
CREATE TABLE cache_ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 4000, seed => 11);

-- a trainer that owns its models and is no superuser
CREATE ROLE regress_cf_cache_owner;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON cf_models, cf_user_factors, cf_item_factors, cf_training_log TO regress_cf_cache_owner;
GRANT USAGE ON SEQUENCE cf_model_version_seq TO regress_cf_cache_owner;
GRANT SELECT ON cache_ratings TO regress_cf_cache_owner;
-- answers are kept here, with their queries, to compare across sessions
CREATE TABLE cache_answers (label text, query text, answer text);
GRANT ALL ON cache_answers TO regress_cf_cache_owner;
CREATE FUNCTION cache_answer(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a text;
BEGIN
  EXECUTE format('SELECT string_agg(item_id || '':'' || round(score::numeric, 4), '' '''
                 ' ORDER BY score DESC, item_id) FROM (%s) s', query) INTO a;
  RETURN a;
END $$;
CREATE FUNCTION keep_answer(label text, query text) RETURNS text LANGUAGE sql AS $$
  INSERT INTO cache_answers VALUES (label, query, cache_answer(query)) RETURNING label;
$$;

--
-- 1. The owner sets cf_models.version back after a retrain with fewer
--    factors.  Keyed by version, the cache served the k = 1024 matrix for
--    the k = 1 model: scores read past the user's vector, and fold-in
--    crashed the server.
--
SET ROLE regress_cf_cache_owner;
SELECT factors FROM cf_train('cache_ratings', model => 'shrunk', factors => 1024, epochs => 2,
                             verbose => false);
SELECT version AS v1 FROM cf_models WHERE name = 'shrunk' \gset
SELECT count(*) FROM cf_recommend(1, 5, 'shrunk');
SELECT factors FROM cf_train('cache_ratings', model => 'shrunk', factors => 1, epochs => 2,
                             verbose => false);
UPDATE cf_models SET version = :v1 WHERE name = 'shrunk';
SELECT keep_answer('1 recommend', $$SELECT * FROM cf_recommend(1, 5, 'shrunk')$$);
SELECT keep_answer('1 fold-in',
                   $$SELECT * FROM cf_recommend_for_ratings('{1, 2, 3}', '{5, 4, 1}', 5, 'shrunk')$$);
-- the cached entry is the k = 1 model's
SELECT factors FROM cf_cache() WHERE model = 'shrunk';
RESET ROLE;

--
-- 2. A model replaced by another under the same name and version, as a
--    restored dump whose version sequence went back would: the cache must
--    serve the new rows.
--
SELECT model FROM cf_train('cache_ratings', model => 'kept', factors => 8, seed => 1, verbose => false);
SELECT model FROM cf_train('cache_ratings', model => 'other', factors => 8, seed => 2, verbose => false);
SELECT version AS kept_version FROM cf_models WHERE name = 'kept' \gset
SELECT count(*) FROM cf_recommend(3, 5, 'kept');
SELECT cache_answer($$SELECT * FROM cf_recommend(3, 5, 'other')$$) AS other_answer \gset
BEGIN;
SELECT cf_drop_model('kept');
SELECT cf_rename_model('other', 'kept');
UPDATE cf_models SET version = :kept_version WHERE name = 'kept';
COMMIT;
SELECT cache_answer($$SELECT * FROM cf_recommend(3, 5, 'kept')$$) = :'other_answer'
       AS serves_the_new_rows;

--
-- 3. Item rows edited by hand: the next call serves the edited rows.
--
SELECT item_id AS bottom_item FROM cf_recommend(3, 100, 'kept', exclude_rated => false)
ORDER BY score, item_id LIMIT 1 \gset
UPDATE cf_item_factors SET bias = bias + 100 WHERE model = 'kept' AND item_id = :bottom_item;
SELECT item_id = :bottom_item AS edited_item_first FROM cf_recommend(3, 1, 'kept', exclude_rated => false);
SELECT keep_answer('3 edited items', $$SELECT * FROM cf_recommend(3, 5, 'kept')$$);
-- also inside a transaction that rolls back: the rollback's rows are served after it
BEGIN;
DELETE FROM cf_item_factors WHERE model = 'kept' AND item_id = :bottom_item;
SELECT count(*) AS served_without_it FROM cf_recommend(3, 100, 'kept', exclude_rated => false)
WHERE item_id = :bottom_item;
ROLLBACK;
SELECT count(*) AS served_again FROM cf_recommend(3, 100, 'kept', exclude_rated => false)
WHERE item_id = :bottom_item;
-- an edit by a role without UPDATE on cf_models is refused (it could not invalidate)
CREATE ROLE regress_cf_cache_editor;
GRANT SELECT, INSERT, DELETE ON cf_models, cf_item_factors TO regress_cf_cache_editor;
UPDATE cf_models SET owner = 'regress_cf_cache_editor' WHERE name = 'kept';
SET ROLE regress_cf_cache_editor;
DELETE FROM cf_item_factors WHERE model = 'kept' AND item_id = :bottom_item;
RESET ROLE;

-- every answer above is what a fresh session, with nothing cached, gives
\c
SET ROLE regress_cf_cache_owner;
SELECT label, answer = cache_answer(query) AS same_as_fresh_session
FROM cache_answers ORDER BY label;
RESET ROLE;

--
-- 4. Stored rows of the wrong shape are clear errors, cached or not
--
SELECT count(*) FROM cf_recommend(4, 5, 'kept');
UPDATE cf_user_factors SET factors = factors[1:3] WHERE model = 'kept' AND user_id = 3;
SELECT * FROM cf_recommend(3, 5, 'kept');
UPDATE cf_item_factors SET factors = factors || 1::real WHERE model = 'kept' AND item_id = 1;
SELECT * FROM cf_recommend(4, 5, 'kept');
UPDATE cf_item_factors SET factors = factors[1:8] WHERE model = 'kept' AND item_id = 1;
SELECT count(*) FROM cf_recommend(4, 5, 'kept');
UPDATE cf_models SET factors = 9 WHERE name = 'kept';
SELECT * FROM cf_predict(4, 2, 'kept');
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 5, 'kept');
-- a model of factors that says it has none (and rows of none) is refused,
-- not folded into with empty matrices
SELECT model FROM cf_train('cache_ratings', model => 'none', algorithm => 'ials', factors => 4,
                           seed => 1, verbose => false);
UPDATE cf_item_factors SET factors = '{}' WHERE model = 'none';
UPDATE cf_models SET factors = 0 WHERE name = 'none';
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 5, 'none');

-- clean up
DELETE FROM cf_models WHERE name IN ('shrunk', 'kept', 'none');
DROP TABLE cache_ratings, cache_answers;
DROP FUNCTION cache_answer(text), keep_answer(text, text);
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, cf_training_log
  FROM regress_cf_cache_owner, regress_cf_cache_editor;
REVOKE ALL ON SEQUENCE cf_model_version_seq FROM regress_cf_cache_owner;
DROP ROLE regress_cf_cache_owner, regress_cf_cache_editor;
