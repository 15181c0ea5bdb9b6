--
-- badinput: every SQL function against bad arguments and bad sources, table
-- driven (one row per case in "cases").  Each case is one query; try() runs it and prints the SQLSTATE and
-- the message (or how many rows it returned), and whether the stored models
-- changed.  To cover a new function, add its rows to "cases".
--
\ir sql/fixtures/extension.sql
CREATE TABLE bi_ratings AS SELECT * FROM cf_synthetic_ratings(20, 10, 100, seed => 5);
SELECT model, users, items FROM cf_train('bi_ratings', model => 'bi', factors => 4, epochs => 5,
                                         verbose => false);

-- try(query): run it; SQLSTATE and message, or the row count; did the
-- stored models change?
CREATE FUNCTION pg_temp.try(query text, OUT state text, OUT outcome text, OUT changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  before text := (SELECT string_agg(name || ':' || version, ',' ORDER BY name) FROM cf_models);
  n bigint;
  nulls bigint;
BEGIN
  BEGIN
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE q IS NULL) FROM (%s) q', query)
      INTO n, nulls;
    state := '00000';
    outcome := format('%s rows', n) || CASE WHEN nulls > 0 THEN format(' (%s null)', nulls) ELSE '' END;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, outcome = MESSAGE_TEXT;
  END;
  changed := before IS DISTINCT FROM
             (SELECT string_agg(name || ':' || version, ',' ORDER BY name) FROM cf_models);
END $$;

-- the sources
CREATE TABLE bi_empty (user_id int, item_id int, rating real);
CREATE TABLE bi_all_null (user_id int, item_id int, rating real);
INSERT INTO bi_all_null VALUES (NULL, 1, 1), (1, NULL, 1), (1, 1, NULL);
CREATE SEQUENCE bi_seq;
CREATE INDEX bi_idx ON bi_ratings (user_id);
CREATE TYPE bi_type AS (user_id int, item_id int, rating real);
CREATE TABLE bi_parted (user_id int, item_id int, rating real) PARTITION BY RANGE (user_id);
CREATE TABLE bi_types (t text, n numeric, b boolean, ts timestamptz, u uuid, a real[],
                       j jsonb, i int, f float8, iv interval);
INSERT INTO bi_types VALUES ('1', 1, true, now(), gen_random_uuid(), '{1}', '1', 1, 1, '1 day');
CREATE DOMAIN bi_text_domain AS text;
CREATE TABLE bi_domain (user_id bi_text_domain, item_id int, rating real);
CREATE VIEW bi_failing AS SELECT user_id, item_id, rating / 0 AS rating FROM bi_ratings;
CREATE TABLE bi_nonfinite (user_id int, item_id int, rating float8);
INSERT INTO bi_nonfinite VALUES (1, 1, 3), (1, 2, 'NaN'), (2, 1, 'Infinity');

-- stored models edited into shapes cf never writes: arrays of the wrong
-- length, with several dimensions, NULL elements, other lower bounds, and
-- non-finite values
SELECT count(*) AS edited_models FROM (VALUES ('bi_item_2d'), ('bi_item_short'), ('bi_item_null'),
    ('bi_item_empty'), ('bi_item_lbound'), ('bi_user_2d'), ('bi_rated_2d'), ('bi_rated_null'),
    ('bi_nonfinite')) AS m(name),
  LATERAL cf_train('bi_ratings', model => m.name, factors => 4, epochs => 5, verbose => false);
UPDATE cf_item_factors SET factors = '{{1,2},{3,4}}' WHERE model = 'bi_item_2d' AND item_id = 1;
UPDATE cf_item_factors SET factors = '{1,2}' WHERE model = 'bi_item_short' AND item_id = 1;
UPDATE cf_item_factors SET factors = '{1,NULL,3,4}' WHERE model = 'bi_item_null' AND item_id = 1;
UPDATE cf_item_factors SET factors = '{}' WHERE model = 'bi_item_empty' AND item_id = 1;
UPDATE cf_item_factors SET factors = '[0:3]={0,0,0,0}' WHERE model = 'bi_item_lbound' AND item_id = 1;
UPDATE cf_user_factors SET factors = '{{1,2},{3,4}}' WHERE model = 'bi_user_2d' AND user_id = 1;
UPDATE cf_user_factors SET rated_items = '{{1},{2}}' WHERE model = 'bi_rated_2d' AND user_id = 1;
UPDATE cf_user_factors SET rated_items = '{1,NULL}' WHERE model = 'bi_rated_null' AND user_id = 1;
UPDATE cf_item_factors SET factors = '{NaN,0,0,0}' WHERE model = 'bi_nonfinite' AND item_id IN (1, 4);
UPDATE cf_item_factors SET bias = 'Infinity' WHERE model = 'bi_nonfinite' AND item_id IN (2, 5);
UPDATE cf_item_factors SET bias = '-Infinity' WHERE model = 'bi_nonfinite' AND item_id = 3;

CREATE TABLE cases (id serial, fn text, what text, query text);
INSERT INTO cases (fn, what, query) VALUES
  -- cf_train: NULL arguments
  ('cf_train', 'source NULL', $$SELECT * FROM cf_train(NULL)$$),
  ('cf_train', 'user_column NULL', $$SELECT * FROM cf_train('bi_ratings', user_column => NULL)$$),
  ('cf_train', 'item_column NULL', $$SELECT * FROM cf_train('bi_ratings', item_column => NULL)$$),
  ('cf_train', 'rating_column NULL', $$SELECT * FROM cf_train('bi_ratings', rating_column => NULL)$$),
  ('cf_train', 'factors NULL: the algorithm''s default', $$SELECT * FROM cf_train('bi_ratings', model => 'bi_null', factors => NULL, verbose => false)$$),
  ('cf_train', 'epochs NULL: the algorithm''s default', $$SELECT * FROM cf_train('bi_ratings', model => 'bi_null', epochs => NULL, verbose => false)$$),
  ('cf_train', 'learning_rate NULL: the algorithm''s default', $$SELECT * FROM cf_train('bi_ratings', model => 'bi_null', learning_rate => NULL, verbose => false)$$),
  ('cf_train', 'regularization NULL: the algorithm''s default', $$SELECT * FROM cf_train('bi_ratings', model => 'bi_null', regularization => NULL, verbose => false)$$),
  ('cf_train', 'seed NULL', $$SELECT * FROM cf_train('bi_ratings', seed => NULL)$$),
  -- cf_train: hyperparameters out of range, NaN, infinite
  ('cf_train', 'factors 0', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', factors => 0)$$),
  ('cf_train', 'factors -1', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', factors => -1)$$),
  ('cf_train', 'factors 1025', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', factors => 1025)$$),
  ('cf_train', 'factors 100000', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', factors => 100000)$$),
  ('cf_train', 'factors 2^31-1', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', factors => 2147483647)$$),
  ('cf_train', 'epochs 0', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', epochs => 0)$$),
  ('cf_train', 'epochs -2^31', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', epochs => -2147483648)$$),
  ('cf_train', 'epochs 100001', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', epochs => 100001)$$),
  ('cf_train', 'learning_rate 0', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => 0)$$),
  ('cf_train', 'learning_rate -0.01', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => -0.01)$$),
  ('cf_train', 'learning_rate 1.5', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => 1.5)$$),
  ('cf_train', 'learning_rate NaN', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => 'NaN')$$),
  ('cf_train', 'learning_rate Infinity', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => 'Infinity')$$),
  ('cf_train', 'learning_rate -Infinity', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => '-Infinity')$$),
  ('cf_train', 'learning_rate 1e-320', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', learning_rate => 1e-320, epochs => 1, verbose => false)$$),
  ('cf_train', 'regularization -1', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', regularization => -1)$$),
  ('cf_train', 'regularization -0.0', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', regularization => '-0', epochs => 1, verbose => false)$$),
  ('cf_train', 'regularization 1001', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', regularization => 1001)$$),
  ('cf_train', 'regularization NaN', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', regularization => 'NaN')$$),
  ('cf_train', 'regularization Infinity', $$SELECT * FROM cf_train('bi_ratings', model => 'bi', regularization => 'Infinity')$$),
  -- cf_train: model names
  ('cf_train', 'model empty', $$SELECT * FROM cf_train('bi_ratings', model => '')$$),
  ('cf_train', 'model 1025 bytes', $$SELECT * FROM cf_train('bi_ratings', model => repeat('é', 512) || 'x')$$),
  -- cf_train: sources missing, empty, of the wrong kind
  ('cf_train', 'source missing', $$SELECT * FROM cf_train('bi_no_such_table')$$),
  ('cf_train', 'source empty string', $$SELECT * FROM cf_train('')$$),
  ('cf_train', 'source too many dots', $$SELECT * FROM cf_train('a.b.c.d')$$),
  ('cf_train', 'source OID 0', $$SELECT * FROM cf_train(0)$$),
  ('cf_train', 'source unused OID', $$SELECT * FROM cf_train(4294967295)$$),
  ('cf_train', 'source empty table', $$SELECT * FROM cf_train('bi_empty')$$),
  ('cf_train', 'source only NULL rows', $$SELECT * FROM cf_train('bi_all_null')$$),
  ('cf_train', 'source partitioned, no partitions', $$SELECT * FROM cf_train('bi_parted')$$),
  ('cf_train', 'source sequence', $$SELECT * FROM cf_train('bi_seq')$$),
  ('cf_train', 'source index', $$SELECT * FROM cf_train('bi_idx')$$),
  ('cf_train', 'source composite type', $$SELECT * FROM cf_train('bi_type')$$),
  ('cf_train', 'source system catalog', $$SELECT * FROM cf_train('pg_class', user_column => 'oid')$$),
  ('cf_train', 'source view that fails', $$SELECT * FROM cf_train('bi_failing')$$),
  ('cf_train', 'source with NaN and Infinity', $$SELECT * FROM cf_train('bi_nonfinite')$$),
  -- cf_train: columns missing or of the wrong type
  ('cf_train', 'user column missing', $$SELECT * FROM cf_train('bi_ratings', user_column => 'nope')$$),
  ('cf_train', 'user column system', $$SELECT * FROM cf_train('bi_ratings', user_column => 'xmin')$$),
  ('cf_train', 'user column injection', $$SELECT * FROM cf_train('bi_ratings', user_column => 'user_id FROM pg_authid; --')$$),
  ('cf_train', 'rating column injection', $$SELECT * FROM cf_train('bi_ratings', rating_column => 'rating"; DROP TABLE bi_ratings; --')$$),
  ('cf_train', 'user column double precision', $$SELECT * FROM cf_train('bi_types', user_column => 'f', item_column => 'i', rating_column => 'i')$$),
  ('cf_train', 'user column interval', $$SELECT * FROM cf_train('bi_types', user_column => 'iv', item_column => 'i', rating_column => 'f')$$),
  ('cf_train', 'user column real[]', $$SELECT * FROM cf_train('bi_types', user_column => 'a', item_column => 'i', rating_column => 'f')$$),
  ('cf_train', 'user column domain over text', $$SELECT * FROM cf_train('bi_domain')$$),
  ('cf_train', 'item column double precision', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'f', rating_column => 'i')$$),
  ('cf_train', 'item column jsonb', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'j', rating_column => 'f')$$),
  ('cf_train', 'rating column text', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'i', rating_column => 't')$$),
  ('cf_train', 'rating column boolean', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'i', rating_column => 'b')$$),
  ('cf_train', 'rating column timestamptz', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'i', rating_column => 'ts')$$),
  ('cf_train', 'rating column real[]', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'i', rating_column => 'a')$$),
  ('cf_train', 'rating column interval', $$SELECT * FROM cf_train('bi_types', user_column => 'i', item_column => 'i', rating_column => 'iv')$$),
  -- cf_predict (strict: NULL in, NULL out)
  ('cf_predict', 'user_id NULL', $$SELECT cf_predict(NULL, 1, 'bi')$$),
  ('cf_predict', 'item_id NULL', $$SELECT cf_predict(1, NULL, 'bi')$$),
  ('cf_predict', 'model NULL', $$SELECT cf_predict(1, 1, NULL)$$),
  ('cf_predict', 'model unknown', $$SELECT cf_predict(1, 1, 'bi_no_such_model')$$),
  ('cf_predict', 'model empty', $$SELECT cf_predict(1, 1, '')$$),
  ('cf_predict', 'model 1025 bytes', $$SELECT cf_predict(1, 1, repeat('x', 1025))$$),
  ('cf_predict', 'ids at the bigint limits', $$SELECT cf_predict(-9223372036854775808, 9223372036854775807, 'bi')$$),
  ('cf_predict', 'ids unknown', $$SELECT cf_predict(0, -1, 'bi')$$),
  -- cf_recommend
  ('cf_recommend', 'user_id NULL', $$SELECT * FROM cf_recommend(NULL, 5, 'bi')$$),
  ('cf_recommend', 'n NULL', $$SELECT * FROM cf_recommend(1, NULL, 'bi')$$),
  ('cf_recommend', 'model NULL', $$SELECT * FROM cf_recommend(1, 5, NULL)$$),
  ('cf_recommend', 'exclude_rated NULL', $$SELECT * FROM cf_recommend(1, 5, 'bi', NULL)$$),
  ('cf_recommend', 'model unknown', $$SELECT * FROM cf_recommend(1, 5, 'bi_no_such_model')$$),
  ('cf_recommend', 'model empty', $$SELECT * FROM cf_recommend(1, 5, '')$$),
  ('cf_recommend', 'n 0', $$SELECT * FROM cf_recommend(1, 0, 'bi')$$),
  ('cf_recommend', 'n -1', $$SELECT * FROM cf_recommend(1, -1, 'bi')$$),
  ('cf_recommend', 'n -2^31', $$SELECT * FROM cf_recommend(1, -2147483648, 'bi')$$),
  ('cf_recommend', 'n 1', $$SELECT * FROM cf_recommend(1, 1, 'bi')$$),
  ('cf_recommend', 'n above the catalog', $$SELECT * FROM cf_recommend(1, 11, 'bi', false)$$),
  ('cf_recommend', 'n 2^31-1', $$SELECT * FROM cf_recommend(1, 2147483647, 'bi', false)$$),
  ('cf_recommend', 'n 2^31-1, rated left out', $$SELECT * FROM cf_recommend(1, 2147483647, 'bi')$$),
  ('cf_recommend', 'user unknown, n 2^31-1', $$SELECT * FROM cf_recommend(-9223372036854775808, 2147483647, 'bi')$$),
  -- cf_predict and cf_recommend on edited models
  ('cf_predict', 'item vector 2-D', $$SELECT cf_predict(1, 1, 'bi_item_2d')$$),
  ('cf_predict', 'item vector too short', $$SELECT cf_predict(1, 1, 'bi_item_short')$$),
  ('cf_predict', 'item vector with NULL', $$SELECT cf_predict(1, 1, 'bi_item_null')$$),
  ('cf_predict', 'item vector empty', $$SELECT cf_predict(1, 1, 'bi_item_empty')$$),
  ('cf_predict', 'item vector from 0', $$SELECT cf_predict(1, 1, 'bi_item_lbound')$$),
  ('cf_predict', 'user vector 2-D', $$SELECT cf_predict(1, 1, 'bi_user_2d')$$),
  ('cf_predict', 'rated items 2-D', $$SELECT cf_predict(1, 1, 'bi_rated_2d')$$),
  ('cf_predict', 'rated items with NULL', $$SELECT cf_predict(1, 1, 'bi_rated_null')$$),
  ('cf_predict', 'item vector NaN', $$SELECT cf_predict(1, 1, 'bi_nonfinite')$$),
  ('cf_recommend', 'item vector 2-D', $$SELECT * FROM cf_recommend(2, 3, 'bi_item_2d')$$),
  ('cf_recommend', 'item vector too short', $$SELECT * FROM cf_recommend(2, 3, 'bi_item_short')$$),
  ('cf_recommend', 'item vector with NULL', $$SELECT * FROM cf_recommend(2, 3, 'bi_item_null')$$),
  ('cf_recommend', 'item vector empty', $$SELECT * FROM cf_recommend(2, 3, 'bi_item_empty')$$),
  ('cf_recommend', 'user vector 2-D', $$SELECT * FROM cf_recommend(1, 3, 'bi_user_2d')$$),
  ('cf_recommend', 'rated items 2-D', $$SELECT * FROM cf_recommend(1, 3, 'bi_rated_2d')$$),
  ('cf_recommend', 'rated items with NULL', $$SELECT * FROM cf_recommend(1, 3, 'bi_rated_null')$$),
  ('cf_recommend', 'non-finite scores', $$SELECT * FROM cf_recommend(1, 10, 'bi_nonfinite', false)$$),
  -- cf_synthetic_ratings
  -- cf_recommend_batch
  ('cf_recommend_batch', 'user_ids with NULL', $$SELECT * FROM cf_recommend_batch('{1,NULL}', 5, 'bi')$$),
  ('cf_recommend_batch', 'user_ids 2-D', $$SELECT * FROM cf_recommend_batch('{{1},{2}}', 5, 'bi')$$),
  ('cf_recommend_batch', 'user_ids empty', $$SELECT * FROM cf_recommend_batch('{}', 5, 'bi')$$),
  ('cf_recommend_batch', 'n 0', $$SELECT * FROM cf_recommend_batch('{1,2}', 0, 'bi')$$),
  ('cf_recommend_batch', 'n NULL', $$SELECT * FROM cf_recommend_batch('{1,2}', NULL, 'bi')$$),
  ('cf_recommend_batch', 'n 2^31-1', $$SELECT * FROM cf_recommend_batch('{1,2}', 2147483647, 'bi', false)$$),
  ('cf_recommend_batch', 'model unknown', $$SELECT * FROM cf_recommend_batch('{1}', 5, 'bi_no_such_model')$$),
  -- cf_similar_items, cf_similar_users
  ('cf_similar_items', 'item_id NULL', $$SELECT * FROM cf_similar_items(NULL, 5, 'bi')$$),
  ('cf_similar_items', 'n 0', $$SELECT * FROM cf_similar_items(1, 0, 'bi')$$),
  ('cf_similar_items', 'n 2^31-1', $$SELECT * FROM cf_similar_items(1, 2147483647, 'bi')$$),
  ('cf_similar_items', 'item unknown', $$SELECT * FROM cf_similar_items(-1, 5, 'bi')$$),
  ('cf_similar_items', 'model unknown', $$SELECT * FROM cf_similar_items(1, 5, 'bi_no_such_model')$$),
  ('cf_similar_users', 'n -1', $$SELECT * FROM cf_similar_users(1, -1, 'bi')$$),
  ('cf_similar_users', 'user unknown', $$SELECT * FROM cf_similar_users(9223372036854775807, 5, 'bi')$$),
  -- cf_recommend_for_ratings
  ('cf_recommend_for_ratings', 'lengths differ', $$SELECT * FROM cf_recommend_for_ratings('{1,2}', '{5}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'empty arrays', $$SELECT * FROM cf_recommend_for_ratings('{}', '{}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'rating NULL element', $$SELECT * FROM cf_recommend_for_ratings('{1}', '{NULL}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'rating NaN', $$SELECT * FROM cf_recommend_for_ratings('{1}', '{NaN}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'rating Infinity', $$SELECT * FROM cf_recommend_for_ratings('{1}', '{Infinity}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'item_ids 2-D', $$SELECT * FROM cf_recommend_for_ratings('{{1}}', '{{5}}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'item_ids NULL', $$SELECT * FROM cf_recommend_for_ratings(NULL, '{5}', 5, 'bi')$$),
  ('cf_recommend_for_ratings', 'unknown items only', $$SELECT * FROM cf_recommend_for_ratings('{-5,-6}', '{4,5}', 5, 'bi')$$),
  -- cf_refresh_users
  ('cf_refresh_users', 'user_ids empty', $$SELECT * FROM cf_refresh_users('{}', 'bi')$$),
  ('cf_refresh_users', 'user_ids with NULL', $$SELECT * FROM cf_refresh_users('{NULL}', 'bi')$$),
  ('cf_refresh_users', 'model unknown', $$SELECT * FROM cf_refresh_users('{1}', 'bi_no_such_model')$$),
  -- cf_explain
  ('cf_explain', 'n 0', $$SELECT * FROM cf_explain(1, 1, 'bi', 0)$$),
  ('cf_explain', 'user_id NULL', $$SELECT * FROM cf_explain(NULL, 1, 'bi')$$),
  ('cf_explain', 'model unknown', $$SELECT * FROM cf_explain(1, 1, 'bi_no_such_model')$$),
  -- the split functions
  ('cf_split_random', 'fraction NaN', $$SELECT cf_split_random(1, 1, 'NaN')$$),
  ('cf_split_random', 'fraction -1', $$SELECT cf_split_random(1, 1, -1)$$),
  ('cf_split_random', 'fraction 2', $$SELECT cf_split_random(1, 1, 2)$$),
  ('cf_split_fold', 'folds 0', $$SELECT cf_split_fold(1, 1, 0)$$),
  ('cf_split_fold', 'folds -2^31', $$SELECT cf_split_fold(1, 1, -2147483648)$$),
  ('cf_split', 'source missing', $$SELECT * FROM cf_split('bi_no_such_table')$$),
  ('cf_split', 'source sequence', $$SELECT * FROM cf_split('bi_seq')$$),
  ('cf_split', 'method unknown', $$SELECT * FROM cf_split('bi_ratings', method => 'bi_no_such_method')$$),
  ('cf_split', 'fraction Infinity', $$SELECT * FROM cf_split('bi_ratings', fraction => 'Infinity')$$),
  -- cf_evaluate, cf_cross_validate, cf_grid_search
  ('cf_evaluate', 'model unknown', $$SELECT * FROM cf_evaluate('bi_no_such_model', 'bi_ratings')$$),
  ('cf_evaluate', 'test missing', $$SELECT * FROM cf_evaluate('bi', 'bi_no_such_table')$$),
  ('cf_evaluate', 'test empty', $$SELECT * FROM cf_evaluate('bi', 'bi_empty')$$),
  ('cf_cross_validate', 'folds 1', $$SELECT * FROM cf_cross_validate('bi_ratings', 1)$$),
  ('cf_cross_validate', 'folds NULL', $$SELECT * FROM cf_cross_validate('bi_ratings', NULL)$$),
  ('cf_grid_search', 'factors empty', $$SELECT * FROM cf_grid_search('bi_ratings', factors => '{}')$$),
  ('cf_grid_search', 'factors 0', $$SELECT * FROM cf_grid_search('bi_ratings', factors => '{0}')$$),
  ('cf_grid_search', 'factors with NULL', $$SELECT * FROM cf_grid_search('bi_ratings', factors => '{4,NULL}')$$),
  -- model management
  ('cf_drop_model', 'model unknown', $$SELECT cf_drop_model('bi_no_such_model')$$),
  ('cf_drop_model', 'model unknown, if_exists', $$SELECT cf_drop_model('bi_no_such_model', true)$$),
  ('cf_drop_model', 'model empty', $$SELECT cf_drop_model('')$$),
  ('cf_rename_model', 'to an existing name', $$SELECT cf_rename_model('bi', 'bi_item_2d')$$),
  ('cf_rename_model', 'to an empty name', $$SELECT cf_rename_model('bi', '')$$),
  ('cf_rename_model', 'to 1025 bytes', $$SELECT cf_rename_model('bi', repeat('x', 1025))$$),
  ('cf_rename_model', 'model unknown', $$SELECT cf_rename_model('bi_no_such_model', 'bi_x')$$),
  ('cf_copy_model', 'to an existing name', $$SELECT cf_copy_model('bi', 'bi_item_2d')$$),
  ('cf_copy_model', 'new_name NULL', $$SELECT cf_copy_model('bi', NULL)$$),
  ('cf_training_chart', 'width 0', $$SELECT * FROM cf_training_chart('bi', 0)$$),
  ('cf_training_chart', 'height -1', $$SELECT * FROM cf_training_chart('bi', 60, -1)$$),
  ('cf_training_chart', 'model unknown', $$SELECT * FROM cf_training_chart('bi_no_such_model')$$),
  ('cf_synthetic_ratings', 'users NULL', $$SELECT * FROM cf_synthetic_ratings(NULL, 10, 10)$$),
  ('cf_synthetic_ratings', 'items NULL', $$SELECT * FROM cf_synthetic_ratings(10, NULL, 10)$$),
  ('cf_synthetic_ratings', 'ratings NULL', $$SELECT * FROM cf_synthetic_ratings(10, 10, NULL)$$),
  ('cf_synthetic_ratings', 'factors NULL', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, factors => NULL)$$),
  ('cf_synthetic_ratings', 'noise NULL', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, noise => NULL)$$),
  ('cf_synthetic_ratings', 'skew NULL', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, skew => NULL)$$),
  ('cf_synthetic_ratings', 'seed NULL', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, seed => NULL)$$),
  ('cf_synthetic_ratings', 'users 0', $$SELECT * FROM cf_synthetic_ratings(0, 10, 10)$$),
  ('cf_synthetic_ratings', 'users -2^31', $$SELECT * FROM cf_synthetic_ratings(-2147483648, 10, 10)$$),
  ('cf_synthetic_ratings', 'users 2^31-1', $$SELECT * FROM cf_synthetic_ratings(2147483647, 10, 10)$$),
  ('cf_synthetic_ratings', 'items 0', $$SELECT * FROM cf_synthetic_ratings(10, 0, 10)$$),
  ('cf_synthetic_ratings', 'ratings -1', $$SELECT * FROM cf_synthetic_ratings(10, 10, -1)$$),
  ('cf_synthetic_ratings', 'ratings 0', $$SELECT * FROM cf_synthetic_ratings(10, 10, 0)$$),
  ('cf_synthetic_ratings', 'ratings above users x items', $$SELECT * FROM cf_synthetic_ratings(10, 10, 101)$$),
  ('cf_synthetic_ratings', 'ratings 2^63-1', $$SELECT * FROM cf_synthetic_ratings(10, 10, 9223372036854775807)$$),
  ('cf_synthetic_ratings', 'memory beyond maintenance_work_mem', $$SELECT * FROM cf_synthetic_ratings(100000000, 100000000, 1)$$),
  ('cf_synthetic_ratings', 'factors 0', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, factors => 0)$$),
  ('cf_synthetic_ratings', 'factors 100000', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, factors => 100000)$$),
  ('cf_synthetic_ratings', 'noise -1', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, noise => -1)$$),
  ('cf_synthetic_ratings', 'noise NaN', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, noise => 'NaN')$$),
  ('cf_synthetic_ratings', 'noise Infinity', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, noise => 'Infinity')$$),
  ('cf_synthetic_ratings', 'skew -1', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, skew => -1)$$),
  ('cf_synthetic_ratings', 'skew NaN', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, skew => 'NaN')$$),
  ('cf_synthetic_ratings', 'skew -Infinity', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, skew => '-Infinity')$$),
  ('cf_synthetic_ratings', 'skew 10 (largest)', $$SELECT * FROM cf_synthetic_ratings(50, 50, 2500, skew => 10)$$),
  ('cf_synthetic_ratings', 'seed at the bigint limits', $$SELECT * FROM cf_synthetic_ratings(10, 10, 10, seed => -9223372036854775808)$$);

-- (LATERAL: (try(query)).* would run each query once per output column)
SELECT c.id, c.fn, c.what, t.* FROM cases c, LATERAL pg_temp.try(c.query) t ORDER BY c.id;
SELECT count(*) AS cases FROM cases;

--
-- Valid but awkward names: quoted identifiers with spaces, quotes and
-- semicolons, as the source's schema, table and columns and as the model
-- name; cf_train reads them and stores them quoted
--
CREATE SCHEMA "bi sch""ema;";
CREATE TABLE "bi sch""ema;"."rat ""ings""; DROP TABLE bi_ratings; --" AS
  SELECT user_id AS "user id", item_id AS "item;id", rating AS "it's ""the"" rating"
  FROM bi_ratings;
SELECT model, users, items, ratings
FROM cf_train('"bi sch""ema;"."rat ""ings""; DROP TABLE bi_ratings; --"',
              user_column => 'user id', item_column => 'item;id',
              rating_column => 'it''s "the" rating',
              model => 'bi ''quoted''; DROP TABLE cf_models; --', factors => 4, epochs => 5,
              verbose => false);
SELECT name, source, user_column, item_column, rating_column
FROM cf_models WHERE name = 'bi ''quoted''; DROP TABLE cf_models; --';
-- the same model as from the plain table
SELECT (SELECT array_agg(factors ORDER BY user_id) FROM cf_user_factors
        WHERE model = 'bi ''quoted''; DROP TABLE cf_models; --') =
       (SELECT array_agg(factors ORDER BY user_id) FROM cf_user_factors WHERE model = 'bi')
       AS same_factors;
SELECT count(*) AS recommended
FROM cf_recommend(1, 3, 'bi ''quoted''; DROP TABLE cf_models; --');
-- a 1024-byte name is allowed
SELECT length(model) FROM cf_train('bi_ratings', model => repeat('m', 1024), epochs => 1,
                                   verbose => false);
-- the tables named in the injections are all still there
SELECT count(*) AS still_there FROM pg_class WHERE relname IN ('bi_ratings', 'cf_models');

-- user rows edited to NaN and infinity: an error from every reader of user
-- rows, not NaN scores dropped or clipped to the scale
SELECT users > 3 AS trained FROM cf_train('bi_ratings', model => 'bi_user_nonfinite', factors => 4,
                                       epochs => 5, verbose => false);
UPDATE cf_user_factors SET factors = '{0,NaN,0,0}' WHERE model = 'bi_user_nonfinite' AND user_id = 1;
UPDATE cf_user_factors SET bias = 'Infinity' WHERE model = 'bi_user_nonfinite' AND user_id = 2;
SELECT cf_predict(1, 1, 'bi_user_nonfinite');
SELECT cf_predict(2, 1, 'bi_user_nonfinite');
SELECT * FROM cf_recommend(1, 3, 'bi_user_nonfinite');
SELECT * FROM cf_recommend_batch(NULL, 3, 'bi_user_nonfinite');
SELECT * FROM cf_similar_users(3, 3, 'bi_user_nonfinite');
SELECT * FROM cf_evaluate('bi_user_nonfinite', 'bi_ratings');

DELETE FROM cf_models WHERE name LIKE 'bi%' OR name = repeat('m', 1024);
DROP SCHEMA "bi sch""ema;" CASCADE;
DROP TABLE cases, bi_ratings, bi_empty, bi_all_null, bi_parted, bi_types, bi_domain,
           bi_nonfinite CASCADE;
DROP SEQUENCE bi_seq;
DROP TYPE bi_type;
DROP DOMAIN bi_text_domain;
