--
-- evaluate: cf_evaluate's metrics on a case computed by hand
--
\ir sql/fixtures/models.sql
-- A hand-made model (k = 1): mean 3, ratings 1..5; items 1..5 with biases
-- 0.5 .. 0.1 and factor 0 except item 4 (factor 1); user 1 (bias 0.5,
-- factor -1, rated item 1 in training), user 2 (bias -0.5, factor 2,
-- rated item 5).  User 3 is unknown to the model.
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds)
VALUES ('em', nextval('cf_model_version_seq'), 'none', 'user_id', 'item_id', 'rating', 'sgd',
        '{}', 1, 2, 5, 2, 3, 1, 5, 0, 0);
INSERT INTO cf_user_factors VALUES ('em', 1, 0.5, '{-1}', '{1}'), ('em', 2, -0.5, '{2}', '{5}');
INSERT INTO cf_item_factors VALUES
  ('em', 1, 0.5, '{0}'), ('em', 2, 0.4, '{0}'), ('em', 3, 0.3, '{0}'),
  ('em', 4, 0.2, '{1}'), ('em', 5, 0.1, '{0}');
CREATE TABLE em_test (user_id int, item_id int, rating real);
INSERT INTO em_test VALUES
  (1, 3, 5), (1, 5, 2), (1, 9, 4),       -- item 9 is unknown to the model
  (2, 2, 1), (2, 1, 4), (2, 4, 2),
  (3, 4, 3);                             -- user 3 is unknown to the model

-- The top 2 (training items left out, ties by id):
--   user 1: scores 2: 0.4, 3: 0.3, 4: 0.2 - 1, 5: 0.1 -> [2, 3]; relevant {3, 5, 9}
--   user 2: scores 1: 0.5, 2: 0.4, 3: 0.3, 4: 0.2 + 2 -> [4, 1]; relevant {1, 2, 4}
--   user 3: unknown, best item biases -> [1, 2]; relevant {4}
-- hits 1 (rank 2), 2 (ranks 1, 2), 0:
--   precision = (1/2 + 2/2 + 0) / 3                          = 0.5
--   recall    = (1/3 + 2/3 + 0) / 3                          = 0.333333
--   ndcg      = ((1/log2 3) / (1 + 1/log2 3) + 1 + 0) / 3    = 0.462284
--   map       = ((1/2) / 2 + (1/1 + 2/2) / 2 + 0) / 3        = 0.416667
--   hit_rate  = 2 / 3                                        = 0.666667
--   coverage  = |{2, 3, 4, 1}| / 5                           = 0.8
-- Predictions (mean + b_u + b_i + p.q) minus ratings:
--   3.8-5, 3.6-2, 3.5-4, 2.9-1, 3.0-4, 4.7-2, 3.2-3
--   rmse = sqrt(16.19 / 7) = 1.520808, mae = 9.1 / 7 = 1.3
SELECT round(rmse::numeric, 6) AS rmse, round(mae::numeric, 6) AS mae,
       round(precision_at_k::numeric, 6) AS precision, round(recall_at_k::numeric, 6) AS recall,
       round(ndcg_at_k::numeric, 6) AS ndcg, round(map_at_k::numeric, 6) AS map,
       round(hit_rate::numeric, 6) AS hit_rate, round(coverage::numeric, 6) AS coverage,
       users, ratings
FROM cf_evaluate('em', 'em_test', k => 2);

-- the same lists as cf_recommend
SELECT u, array_agg(item_id ORDER BY score DESC, item_id) AS top_2
FROM generate_series(1, 3) u, LATERAL cf_recommend(u, 2, 'em') GROUP BY u ORDER BY u;

-- rmse and mae are cf_predict's, to the last bits
SELECT abs(e.rmse - (SELECT sqrt(avg((cf_predict(user_id, item_id, 'em') - rating) ^ 2)) FROM em_test)) < 1e-12 AS rmse_as_sql,
       abs(e.mae - (SELECT avg(abs(cf_predict(user_id, item_id, 'em') - rating)) FROM em_test)) < 1e-12 AS mae_as_sql
FROM cf_evaluate('em', 'em_test', k => 2) e;

-- A model without biases (implicit feedback) gives a user it does not know
-- no recommendations, so cf_evaluate counts no hits for one.  'emi' is 'em'
-- as an ials model: biases 0, the same vectors; user 3's test item is 1,
-- which a list by (equal) biases would have put first.
--   user 1: [2, 3] (ties by id), 1 hit at rank 2; user 2: [4, 1], 2 hits;
--   user 3: no list, no hit -- the same sums as 'em' above
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds)
SELECT 'emi', nextval('cf_model_version_seq'), source, user_column, item_column, rating_column,
       'ials', hyperparameters, factors, users, items, ratings, 0, rating_min, rating_max,
       epochs, seconds
FROM cf_models WHERE name = 'em';
INSERT INTO cf_user_factors SELECT 'emi', user_id, 0, factors, rated_items
FROM cf_user_factors WHERE model = 'em';
INSERT INTO cf_item_factors SELECT 'emi', item_id, 0, factors
FROM cf_item_factors WHERE model = 'em';
CREATE TABLE emi_test AS SELECT user_id, CASE WHEN user_id = 3 THEN 1 ELSE item_id END AS item_id,
                                rating
FROM em_test;
SELECT count(*) AS user_3_recommended FROM cf_recommend(3, 2, 'emi');
SELECT rmse, round(precision_at_k::numeric, 6) AS precision,
       round(recall_at_k::numeric, 6) AS recall, round(ndcg_at_k::numeric, 6) AS ndcg,
       round(map_at_k::numeric, 6) AS map, round(hit_rate::numeric, 6) AS hit_rate,
       round(coverage::numeric, 6) AS coverage, users
FROM cf_evaluate('emi', 'emi_test', k => 2);
DELETE FROM cf_models WHERE name = 'emi';
DROP TABLE emi_test;

-- relevant = rated >= 4: user 1 {3, 9}, user 2 {1}, user 3 none (not ranked)
--   precision = (1/2 + 1/2) / 2 = 0.5;  recall = (1/2 + 1/1) / 2 = 0.75
--   ndcg = ((1/log2 3) / (1 + 1/log2 3) + (1/log2 3) / 1) / 2  = 0.508891
--   map  = ((1/2) / 2 + (1/2) / 1) / 2                         = 0.375
--   hit_rate = 1, coverage = 0.8, users = 2
SELECT round(precision_at_k::numeric, 6) AS precision, round(recall_at_k::numeric, 6) AS recall,
       round(ndcg_at_k::numeric, 6) AS ndcg, round(map_at_k::numeric, 6) AS map,
       round(hit_rate::numeric, 6) AS hit_rate, round(coverage::numeric, 6) AS coverage, users
FROM cf_evaluate('em', 'em_test', threshold => 4, k => 2);

-- k = 1: user 1 [2] no hit; user 2 [4] hit; user 3 [1] no hit
--   precision = 1/3, recall = (1/3) / 3, ndcg = map = hit_rate = 1/3,
--   coverage = |{2, 4, 1}| / 5
SELECT round(precision_at_k::numeric, 6) AS precision, round(recall_at_k::numeric, 6) AS recall,
       round(ndcg_at_k::numeric, 6) AS ndcg, round(map_at_k::numeric, 6) AS map,
       round(hit_rate::numeric, 6) AS hit_rate, round(coverage::numeric, 6) AS coverage
FROM cf_evaluate('em', 'em_test', k => 1);

-- k beyond the catalog: lists hold every unrated item, precision still
-- divides by k: hits 2 (user 1: 3, 5), 3 (user 2: 1, 2, 4), 1 (user 3: 4)
SELECT round(precision_at_k::numeric, 6) AS precision, round(recall_at_k::numeric, 6) AS recall,
       round(hit_rate::numeric, 6) AS hit_rate, round(coverage::numeric, 6) AS coverage
FROM cf_evaluate('em', 'em_test', k => 10);

-- a test item the user rated in training is left out of the list, so it
-- counts as a miss (user 1 item 1); duplicate test rows count once as
-- relevant items, every time for rmse
CREATE TABLE em_test2 AS SELECT * FROM em_test;
INSERT INTO em_test2 VALUES (1, 1, 5), (2, 4, 2);
SELECT round(recall_at_k::numeric, 6) AS recall, users, ratings,
       abs(rmse - (SELECT sqrt(avg((cf_predict(user_id, item_id, 'em') - rating) ^ 2)) FROM em_test2)) < 1e-12 AS rmse_as_sql
FROM cf_evaluate('em', 'em_test2', k => 2);

-- other column names, as arguments; rows with NULLs are skipped (NOTICE)
CREATE TABLE em_test3 (u bigint, i smallint, stars numeric);
INSERT INTO em_test3 SELECT user_id, item_id, rating FROM em_test;
INSERT INTO em_test3 VALUES (NULL, 1, 3), (1, 2, NULL);
SELECT round(rmse::numeric, 6) AS rmse, round(ndcg_at_k::numeric, 6) AS ndcg, users, ratings
FROM cf_evaluate('em', 'em_test3', 'u', 'i', 'stars', k => 2);

-- a model that predicts no ratings has no rmse or mae
UPDATE cf_models SET algorithm = 'popular', version = nextval('cf_model_version_seq') WHERE name = 'em';
SELECT rmse, mae, round(precision_at_k::numeric, 6) AS precision FROM cf_evaluate('em', 'em_test', k => 2);
UPDATE cf_models SET algorithm = 'sgd', version = nextval('cf_model_version_seq') WHERE name = 'em';

-- a trained model: the default k is 10; evaluating on the training rows
-- themselves finds no hits at all (they are all left out of the lists)
SELECT users, ratings, precision_at_k = 0 AS no_hits, round(rmse::numeric, 2) < 0.7 AS fits
FROM cf_evaluate('default', 'ratings');
SELECT users, ratings, precision_at_k > 0 AS hits, round(rmse::numeric, 2) < 0.8 AS generalizes
FROM cf_evaluate('default', 'ratings_test');
-- the same through a model that is not cached (read for the call), and
-- with users in many small blocks (a small work_mem)
SELECT rmse, ndcg_at_k, map_at_k, coverage FROM cf_evaluate('default', 'ratings_test') \gset cached_
SET cf.cache_size = 0;
SELECT rmse = :cached_rmse AND ndcg_at_k = :cached_ndcg_at_k AND map_at_k = :cached_map_at_k
       AND coverage = :cached_coverage AS same_uncached
FROM cf_evaluate('default', 'ratings_test');
RESET cf.cache_size;
SET work_mem = '64kB';
SELECT abs(ndcg_at_k - :cached_ndcg_at_k) < 1e-12 AND abs(map_at_k - :cached_map_at_k) < 1e-12
       AND coverage = :cached_coverage AS same_in_small_blocks
FROM cf_evaluate('default', 'ratings_test');
RESET work_mem;

-- errors
SELECT * FROM cf_evaluate('em', 'em_test', k => 0);
SELECT * FROM cf_evaluate('em', 'em_test', k => -1);
SELECT * FROM cf_evaluate('no such model', 'em_test');
SELECT * FROM cf_evaluate('em', 'no_such_table');
CREATE TABLE em_no_rating (user_id int, item_id int);
SELECT * FROM cf_evaluate('em', 'em_no_rating');
CREATE TABLE em_other (customer int, product int, stars int);
SELECT * FROM cf_evaluate('em', 'em_other');
SELECT * FROM cf_evaluate('em', 'em_other', 'customer');
SELECT * FROM cf_evaluate('em', 'em_test3', 'u', 'i', 'stars', threshold => 'Infinity');
CREATE TABLE em_text (user_id int, item_id int, rating text);
SELECT * FROM cf_evaluate('em', 'em_text');
CREATE TABLE em_empty (user_id int, item_id int, rating real);
SELECT * FROM cf_evaluate('em', 'em_empty');
SELECT * FROM cf_evaluate('', 'em_test');
SELECT * FROM cf_evaluate(NULL, 'em_test');
SELECT * FROM cf_evaluate('em', NULL);
SELECT * FROM cf_evaluate('em', 'em_test', k => NULL);
