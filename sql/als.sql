--
-- als: ALS for explicit ratings and iALS for implicit feedback, on data
-- with a known answer (cf_synthetic_ratings), and serving from their models
--
-- Training is deterministic for a seed; floats are rounded, and quality is
-- asserted as bounds that the baselines shown beside cannot meet.
--
\ir sql/fixtures/extension.sql

--
-- ALS: 25,000 ratings from a planted 20-factor model, 10% held out
--
CREATE TABLE als_ratings AS
  SELECT * FROM cf_synthetic_ratings(1000, 500, 25000, seed => 11);
CREATE TABLE als_test AS
  SELECT * FROM als_ratings WHERE (user_id * 7919 + item_id * 104729) % 10 = 0;
DELETE FROM als_ratings WHERE (user_id * 7919 + item_id * 104729) % 10 = 0;

-- the algorithm's defaults: epochs, regularization and the rest left NULL
SELECT model, users, items, ratings, factors, epochs,
       round(loss::numeric, 3) AS loss, round(rmse::numeric, 3) AS rmse
FROM cf_train('als_ratings', model => 'als', algorithm => 'als', verbose => false);
SELECT algorithm, hyperparameters, round(global_mean::numeric, 4) AS global_mean,
       rating_min, rating_max, epochs
FROM cf_models WHERE name = 'als';

-- one log row per iteration; each half-step minimizes the objective
-- exactly, so the loss never goes up
SELECT count(*) AS iterations, bool_and(seconds >= 0) AS timed,
       round(min(loss) FILTER (WHERE epoch = 15)::numeric, 3) AS last_loss
FROM cf_training_log WHERE model = 'als';
SELECT count(*) AS loss_increases
FROM (SELECT loss - lag(loss) OVER (ORDER BY epoch) AS d
      FROM cf_training_log WHERE model = 'als') s
WHERE d > 1e-9;
-- the log's last loss and RMSE are the final model's
SELECT round(l.loss::numeric, 6) = round(m.loss::numeric, 6) AS same_loss,
       round(l.rmse::numeric, 6) = round(m.rmse::numeric, 6) AS same_rmse
FROM cf_training_log l JOIN cf_models m ON m.name = l.model
WHERE l.model = 'als' AND l.epoch = 15;

-- quality: the held-out RMSE beats the global mean and the regularized
-- baseline (mean + user bias + item bias) by a wide margin
CREATE TABLE als_baseline AS
WITH mu AS (SELECT avg(rating) AS m FROM als_ratings),
     bi AS (SELECT item_id, sum(rating - m) / (count(*) + 25) AS b
            FROM als_ratings, mu GROUP BY item_id),
     bu AS (SELECT user_id, sum(rating - m - bi.b) / (count(*) + 10) AS b
            FROM als_ratings JOIN bi USING (item_id), mu GROUP BY user_id)
SELECT t.user_id, t.item_id, t.rating, m + coalesce(bu.b, 0) + coalesce(bi.b, 0) AS pred, m
FROM als_test t LEFT JOIN bu USING (user_id) LEFT JOIN bi USING (item_id), mu;
SELECT sqrt(avg((m - rating)^2)) > 1.1 AS mean_rmse_above_1_1,
       sqrt(avg((pred - rating)^2)) > 1.0 AS baseline_rmse_above_1_0,
       sqrt(avg((cf_predict(user_id, item_id, 'als') - rating)^2)) < 0.82 AS als_rmse_below_0_82
FROM als_baseline;

-- the conjugate-gradient solver (3 warm-started steps per row) reaches
-- about the same model
SELECT count(*) FROM cf_train('als_ratings', model => 'als_cg', algorithm => 'als',
                              solver => 'cg', verbose => false);
SELECT hyperparameters FROM cf_models WHERE name = 'als_cg';
SELECT abs(sqrt(avg((cf_predict(user_id, item_id, 'als_cg') - rating)^2)) -
           sqrt(avg((cf_predict(user_id, item_id, 'als') - rating)^2))) < 0.01 AS cg_close_to_cholesky
FROM als_test;

-- rows longer than CG's chunk of 512 entries (every item here has 700) are set
-- up a chunk at a time in each CG pass: the same fit as the exact solver
CREATE TABLE long_rows AS SELECT * FROM cf_synthetic_ratings(700, 12, 8400, seed => 3);
SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM long_rows GROUP BY item_id) c;
SELECT count(*) FROM cf_train('long_rows', model => 'long_cg', algorithm => 'als', factors => 8,
                              solver => 'cg', verbose => false);
SELECT count(*) FROM cf_train('long_rows', model => 'long_chol', algorithm => 'als', factors => 8,
                              solver => 'cholesky', verbose => false);
SELECT count(*) FROM cf_train('long_rows', rating_column => NULL, model => 'long_icg',
                              algorithm => 'ials', factors => 8, solver => 'cg', verbose => false);
SELECT count(*) FROM cf_train('long_rows', rating_column => NULL, model => 'long_ichol',
                              algorithm => 'ials', factors => 8, solver => 'cholesky', verbose => false);
SELECT abs(cg.loss - chol.loss) < 0.001 * chol.loss AS cg_loss_as_cholesky
FROM cf_models cg, cf_models chol
WHERE (cg.name, chol.name) IN (('long_cg', 'long_chol'), ('long_icg', 'long_ichol'))
ORDER BY cg.name;
SELECT cf_drop_model(name) FROM cf_models WHERE name LIKE 'long\_%' ORDER BY name;
DROP TABLE long_rows;

-- k = 40 (a multiple of 8 above 32): the exact solver's systems come from the
-- Gram kernel's paths for a right-hand side past its first 32 rows and for
-- vectors wider than its first pass's sums; they must give the fit CG gives
-- when run nearly to convergence (20 steps a row)
SELECT count(*) FROM cf_train('als_ratings', model => 'k40_chol', algorithm => 'als', factors => 40,
                              epochs => 5, solver => 'cholesky', verbose => false);
SELECT count(*) FROM cf_train('als_ratings', model => 'k40_cg', algorithm => 'als', factors => 40,
                              epochs => 5, solver => 'cg', cg_steps => 20, verbose => false);
SELECT count(*) FROM cf_train('als_ratings', rating_column => NULL, model => 'k40_ichol',
                              algorithm => 'ials', factors => 40, epochs => 5, solver => 'cholesky',
                              verbose => false);
SELECT count(*) FROM cf_train('als_ratings', rating_column => NULL, model => 'k40_icg',
                              algorithm => 'ials', factors => 40, epochs => 5, solver => 'cg',
                              cg_steps => 20, verbose => false);
SELECT cg.name, abs(cg.loss - chol.loss) < 1e-6 * chol.loss AS cg_loss_as_cholesky
FROM cf_models cg, cf_models chol
WHERE (cg.name, chol.name) IN (('k40_cg', 'k40_chol'), ('k40_icg', 'k40_ichol'))
ORDER BY cg.name;
SELECT cf_drop_model(name) FROM cf_models WHERE name LIKE 'k40\_%' ORDER BY name;

-- users with more ratings than the objective's pass takes at a time (512;
-- every user here has 700): the reported training RMSE is still the stored
-- model's, over every rating (als) and every cell (ials: here every cell has
-- an event)
CREATE TABLE long_users AS SELECT * FROM cf_synthetic_ratings(12, 700, 8400, seed => 3);
SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM long_users GROUP BY user_id) c;
SELECT count(*) FROM cf_train('long_users', model => 'long_als', algorithm => 'als', factors => 8,
                              verbose => false);
SELECT count(*) FROM cf_train('long_users', rating_column => NULL, model => 'long_ials',
                              algorithm => 'ials', factors => 8, verbose => false);
SELECT abs(m.rmse - sqrt(avg((cf_predict(r.user_id, r.item_id, 'long_als') - r.rating)^2))) < 1e-4
         AS als_rmse_over_every_rating
FROM long_users r, cf_models m WHERE m.name = 'long_als' GROUP BY m.rmse;
SELECT abs(m.rmse - sqrt(avg((1 - cf_predict(r.user_id, r.item_id, 'long_ials'))^2))) < 1e-4
         AS ials_rmse_over_every_cell
FROM long_users r, cf_models m WHERE m.name = 'long_ials' GROUP BY m.rmse;
SELECT cf_drop_model(name) FROM cf_models WHERE name LIKE 'long\_%' ORDER BY name;
DROP TABLE long_users;

-- k a multiple of 8 builds the systems with cf's Gram kernel (on AVX2), any
-- other k with OpenBLAS's ssyrk: both recover the planted model
SELECT count(*) FROM cf_train('als_ratings', model => 'als_k60', algorithm => 'als',
                              factors => 60, verbose => false);
SELECT sqrt(avg((cf_predict(user_id, item_id, 'als_k60') - rating)^2)) < 0.82 AS k60_rmse_below_0_82,
       abs(sqrt(avg((cf_predict(user_id, item_id, 'als_k60') - rating)^2)) -
           sqrt(avg((cf_predict(user_id, item_id, 'als') - rating)^2))) < 0.01 AS k60_close_to_k64
FROM als_test;

-- settings given are stored; the regularization exponent 0 is a plain ridge
SELECT model, factors, epochs
FROM cf_train('als_ratings', model => 'als_small', algorithm => 'als', factors => 8, epochs => 3,
              regularization => 2, regularization_exponent => 0, solver => 'cg', cg_steps => 5,
              seed => 3, verbose => false);
SELECT hyperparameters FROM cf_models WHERE name = 'als_small';

-- parallel workers: the same model, bit for bit, with 0, 1 and 2 workers
SELECT count(*) FROM cf_train('als_ratings', model => 'als_w0', algorithm => 'als', factors => 16, workers => 0, verbose => false);
SELECT count(*) FROM cf_train('als_ratings', model => 'als_w1', algorithm => 'als', factors => 16, workers => 1, verbose => false);
SELECT count(*) FROM cf_train('als_ratings', model => 'als_w2', algorithm => 'als', factors => 16, workers => 2, verbose => false);
SELECT b.model, bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_item_factors
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'als_w0' AND b.model IN ('als_w1', 'als_w2') GROUP BY b.model ORDER BY b.model;
SELECT b.model, bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_user_factors
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE a.model = 'als_w0' AND b.model IN ('als_w1', 'als_w2') GROUP BY b.model ORDER BY b.model;
SELECT count(DISTINCT (loss, rmse)) AS distinct_results
FROM cf_models WHERE name IN ('als_w0', 'als_w1', 'als_w2');

--
-- iALS: every cell of a 300 x 100 planted matrix rated; the cells rated 4
-- or 5 are the events (positives), the others negatives.  20% of each
-- user's events held out by a fixed rule; a good ranking puts the held-out
-- positives above the negatives among the items the user has no event for.
--
CREATE TABLE ials_all AS
  SELECT * FROM cf_synthetic_ratings(300, 100, 30000, factors => 5, seed => 11);
CREATE TABLE ials_events AS
  SELECT user_id, item_id,
         row_number() OVER (PARTITION BY user_id
                            ORDER BY (user_id * 7919 + item_id * 104729) % 1009, item_id) AS rk,
         count(*) OVER (PARTITION BY user_id) AS n
  FROM ials_all WHERE rating >= 4;
CREATE TABLE ials_test AS SELECT user_id, item_id FROM ials_events WHERE rk <= floor(0.2 * n);
CREATE TABLE ials_train AS SELECT user_id, item_id FROM ials_events WHERE rk > floor(0.2 * n);
SELECT (SELECT count(*) FROM ials_train) AS train_events, (SELECT count(*) FROM ials_test) AS test_events;

-- no rating column: every row is one event
SELECT model, users, items, ratings, factors, epochs
FROM cf_train('ials_train', rating_column => NULL, model => 'ials', algorithm => 'ials',
              factors => 8, verbose => false);
SELECT algorithm, rating_column, hyperparameters, global_mean, rating_min, rating_max
FROM cf_models WHERE name = 'ials';
SELECT count(*) AS iterations, count(*) FILTER (WHERE loss > 0 AND rmse > 0 AND rmse < 1) AS sane
FROM cf_training_log WHERE model = 'ials';
-- biases are not part of the model
SELECT (SELECT count(*) FROM cf_user_factors WHERE model = 'ials' AND bias <> 0) +
       (SELECT count(*) FROM cf_item_factors WHERE model = 'ials' AND bias <> 0) AS nonzero_biases;

-- recall@10 (held-out events among the top 10, over min(10, held-out)):
-- iALS against a random ranking's expectation and the most popular items
CREATE FUNCTION ials_recall(ranked regclass) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  EXECUTE format($q$
    WITH t AS (SELECT user_id, count(*) AS nt FROM ials_test GROUP BY user_id),
         h AS (SELECT user_id, count(*) AS nh FROM %s JOIN ials_test USING (user_id, item_id)
               GROUP BY user_id)
    SELECT avg(coalesce(nh, 0)::float8 / least(nt, 10)) FROM t LEFT JOIN h USING (user_id)$q$,
    ranked) INTO r;
  RETURN r;
END $$;
CREATE TABLE ials_top AS SELECT user_id, item_id FROM cf_recommend_batch(NULL, 10, 'ials');
CREATE TABLE popular_top AS
  SELECT u.user_id, p.item_id
  FROM (SELECT DISTINCT user_id FROM ials_test) u,
       LATERAL (SELECT c.item_id FROM (SELECT item_id, count(*) AS n FROM ials_train GROUP BY item_id) c
                WHERE NOT EXISTS (SELECT FROM ials_train x WHERE x.user_id = u.user_id AND x.item_id = c.item_id)
                ORDER BY c.n DESC, c.item_id LIMIT 10) p;
-- a random ranking hits each of the user's candidates with chance 10 / candidates
SELECT round(avg(10.0 / (100 - (SELECT count(*) FROM ials_train x WHERE x.user_id = t.user_id))), 2) < 0.2
         AS random_recall_below_0_2,
       ials_recall('popular_top') < 0.4 AS popular_recall_below_0_4,
       ials_recall('ials_top') > 0.45 AS ials_recall_above_0_45
FROM (SELECT DISTINCT user_id FROM ials_test) t;

-- the exact solver gives about the same ranking
SELECT count(*) FROM cf_train('ials_train', rating_column => NULL, model => 'ials_chol',
                              algorithm => 'ials', factors => 8, solver => 'cholesky', verbose => false);
CREATE TABLE ials_chol_top AS SELECT user_id, item_id FROM cf_recommend_batch(NULL, 10, 'ials_chol');
SELECT ials_recall('ials_chol_top') > 0.45 AS cholesky_recall_above_0_45;

-- parallel workers: bit for bit the same, for both solvers
SELECT count(*) FROM cf_train('ials_train', rating_column => NULL, model => 'ials_w2', algorithm => 'ials',
                              factors => 8, workers => 2, verbose => false);
SELECT count(*) FROM cf_train('ials_train', rating_column => NULL, model => 'ials_chol_w1', algorithm => 'ials',
                              factors => 8, solver => 'cholesky', workers => 1, verbose => false);
SELECT b.model, bool_and(a.factors = b.factors) AS same_user_factors
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE (a.model, b.model) IN (('ials', 'ials_w2'), ('ials_chol', 'ials_chol_w1'))
GROUP BY b.model ORDER BY b.model;
SELECT b.model, bool_and(a.factors = b.factors) AS same_item_factors
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE (a.model, b.model) IN (('ials', 'ials_w2'), ('ials_chol', 'ials_chol_w1'))
GROUP BY b.model ORDER BY b.model;

-- amounts of feedback: duplicate rows add up, so two events of a pair are
-- the same as one row of rating 2 ("ratings" counts the rows read)
CREATE TABLE plays (user_id int, item_id int);
INSERT INTO plays SELECT user_id, item_id FROM ials_train;
INSERT INTO plays SELECT user_id, item_id FROM ials_train WHERE (user_id + item_id) % 3 = 0;
CREATE TABLE play_counts AS SELECT user_id, item_id, count(*)::int AS plays FROM plays GROUP BY 1, 2;
SELECT ratings FROM cf_train('plays', rating_column => NULL, model => 'plays_rows', algorithm => 'ials',
                             factors => 8, verbose => false);
SELECT ratings FROM cf_train('play_counts', rating_column => 'plays', model => 'plays_counts',
                             algorithm => 'ials', factors => 8, verbose => false);
SELECT bool_and(a.factors = b.factors) AS same_user_factors, count(*) AS users
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE a.model = 'plays_rows' AND b.model = 'plays_counts';
SELECT bool_and(a.factors = b.factors) AS same_item_factors, count(*) AS items
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'plays_rows' AND b.model = 'plays_counts';
-- a pair whose ratings sum to 0 is no event: that item's vector is 0
INSERT INTO play_counts VALUES (1, 1000, 0);
SELECT items FROM cf_train('play_counts', rating_column => 'plays', model => 'plays_zero',
                           algorithm => 'ials', factors => 8, verbose => false);
SELECT item_id, factors FROM cf_item_factors
WHERE model = 'plays_zero' AND factors = array_fill(0::real, array[8]);

--
-- serving iALS models: preference scores, no global mean, biases or clipping
--
-- the rating range is 1..1 (every event is 1), yet scores are not clipped
SELECT bool_or(cf_predict(t.user_id, t.item_id, 'ials') NOT BETWEEN 0.999 AND 1.001) AS not_clipped,
       bool_and(abs(cf_predict(t.user_id, t.item_id, 'ials') -
                    (SELECT sum(u * i) FROM unnest(uf.factors, itf.factors) AS x(u, i))) < 1e-5)
         AS score_is_the_dot_product
FROM ials_test t
JOIN cf_user_factors uf ON uf.model = 'ials' AND uf.user_id = t.user_id
JOIN cf_item_factors itf ON itf.model = 'ials' AND itf.item_id = t.item_id;
-- unknown users and items score 0; an unknown user gets no recommendations
SELECT cf_predict(-1, 1, 'ials') AS unknown_user, cf_predict(1, -1, 'ials') AS unknown_item;
SELECT count(*) AS recommendations_for_unknown_user FROM cf_recommend(-1, 5, 'ials');
SELECT user_id, count(*) FROM cf_recommend_batch(array[1, -1], 3, 'ials') GROUP BY user_id;
-- cf_recommend agrees with the batch
SELECT bool_and(r.item_id = b.item_id AND abs(r.score - b.score) < 1e-6) AS recommend_matches_batch
FROM (SELECT item_id, score, row_number() OVER () AS rank FROM cf_recommend(7, 10, 'ials')) r
JOIN cf_recommend_batch(array[7], 10, 'ials') b USING (rank);
SELECT count(*) AS similar_items FROM cf_similar_items(1, 5, 'ials');

-- fold-in: a user's training events give back the trained vector (the last
-- half-step solved the users against the final items) and so the same list
SELECT round(max(abs(f.score - r.score))::numeric, 4) AS max_score_difference,
       bool_and(f.item_id = r.item_id) AS same_items
FROM (SELECT item_id, score, row_number() OVER () AS rank
      FROM cf_recommend_for_ratings((SELECT array_agg(item_id) FROM ials_train WHERE user_id = 7),
                                    (SELECT array_agg(1::real) FROM ials_train WHERE user_id = 7),
                                    10, 'ials_chol')) f
JOIN (SELECT item_id, score, row_number() OVER () AS rank FROM cf_recommend(7, 10, 'ials_chol')) r
USING (rank);
-- no feedback, no preference: no rows
SELECT count(*) AS rows_without_feedback
FROM cf_recommend_for_ratings(array[1, 2]::bigint[], array[0, 0]::real[], 5, 'ials');
-- refresh re-solves from the source's rows (every row an event)
SELECT factors AS before FROM cf_user_factors WHERE model = 'ials_chol' AND user_id = 7 \gset
SELECT * FROM cf_refresh_users(array[7, 100000], 'ials_chol');
SELECT max(abs(a - b)) < 1e-4 AS unchanged_user_same_vector
FROM cf_user_factors, unnest(factors, :'before'::real[]) AS x(a, b)
WHERE model = 'ials_chol' AND user_id = 7;

-- explanations: the exact per-item terms of the score (Hu et al. 2008):
-- the shares of the supporting history items add up to 1
SELECT count(*) > 0 AS has_rows, round(sum(share)::numeric, 6) AS total_share,
       bool_and(share > 0) AS positive_shares
FROM cf_explain(7, (SELECT item_id FROM cf_recommend(7, 1, 'ials_chol')), 'ials_chol', 1000);
SELECT count(*) AS rows_shown FROM cf_explain(7, 50, 'ials_chol', 3);
-- for explicit ALS the terms are r_j - mu - b_j times the user's similarity
SELECT count(*) > 0 AS has_rows, round(sum(share)::numeric, 6) AS total_share
FROM cf_explain(7, (SELECT item_id FROM cf_recommend(7, 1, 'als')), 'als', 1000);
-- ratings far beyond the model's scale overflow the user's system: an error
BEGIN;
INSERT INTO als_ratings (user_id, item_id, rating) VALUES (7, 1, 3e38), (7, 2, 3e38);
SELECT * FROM cf_explain(7, 3, 'als');
ROLLBACK;

--
-- argument errors
--
SELECT * FROM cf_train('ials_train', rating_column => NULL, algorithm => 'ials', alpha => -1);
SELECT * FROM cf_train('ials_train', rating_column => NULL, algorithm => 'ials', alpha => 'NaN');
SELECT * FROM cf_train('als_ratings', algorithm => 'ials', regularization_exponent => 2);
SELECT * FROM cf_train('als_ratings', algorithm => 'als', solver => 'lu');
SELECT * FROM cf_train('als_ratings', algorithm => 'als', solver => NULL, cg_steps => 3);
SELECT * FROM cf_train('als_ratings', algorithm => 'als', solver => 'cg', cg_steps => 0);
SELECT * FROM cf_train('als_ratings', algorithm => 'als', learning_rate => 0.01);
SELECT * FROM cf_train('als_ratings', algorithm => 'als', alpha => 1);
SELECT * FROM cf_train('als_ratings', alpha => 1);
SELECT * FROM cf_train('als_ratings', solver => 'cg');
SELECT * FROM cf_train('als_ratings', regularization_exponent => 1);
SELECT * FROM cf_train('als_ratings', algorithm => 'als', rating_column => NULL);
SELECT * FROM cf_train('ials_train', algorithm => 'ials');
SELECT * FROM cf_train('ials_train', algorithm => 'ials', rating_column => 'clicks');
CREATE TABLE negative_events (user_id int, item_id int, weight real);
INSERT INTO negative_events VALUES (1, 1, 2), (1, 2, -0.5);
SELECT * FROM cf_train('negative_events', rating_column => 'weight', algorithm => 'ials',
                       model => 'negative');
SELECT * FROM cf_recommend_for_ratings(array[1, 2]::bigint[], array[1, -1]::real[], 5, 'ials');
SELECT * FROM cf_recommend_for_ratings(array[1, 2]::bigint[], array[1, 3e38]::real[], 5, 'ials');

--
-- validation and early stopping (cf_train's validation_fraction) for ALS:
-- the ratings cf_split_validation picks are held out and scored after
-- every iteration as cf_predict would score them.  Here the held-out
-- ratings are flipped (6 - r), so the better ALS fits the others the worse
-- it does on them: early stopping keeps the first iteration.
--
CREATE TABLE als_flip AS
  SELECT user_id, item_id,
         CASE WHEN cf_split_validation(user_id, item_id, 0.2, 42) THEN 6 - rating ELSE rating END AS rating
  FROM als_ratings WHERE user_id <= 300;
SELECT model, ratings, epochs, epoch_kept, round(validation_rmse::numeric, 4) AS validation_rmse
FROM cf_train('als_flip', model => 'als_es', algorithm => 'als', factors => 8, epochs => 30,
              validation_fraction => 0.2, early_stopping => true, patience => 3, verbose => false);
SELECT epoch, round(loss::numeric, 4) AS loss, round(rmse::numeric, 4) AS rmse,
       round(validation_rmse::numeric, 4) AS validation_rmse
FROM cf_training_log WHERE model = 'als_es' ORDER BY epoch;
-- the stored model is the refit: the kept count of iterations (1) on every
-- rating, held-out ones included, exactly as training that many iterations
-- without validation gives it
SELECT count(*) FROM cf_train('als_flip', model => 'als_es1', algorithm => 'als', factors => 8,
                              epochs => 1, verbose => false);
SELECT a.loss = b.loss AS same_loss, a.rmse = b.rmse AS same_rmse, a.ratings = b.ratings AS same_ratings
FROM cf_models a, cf_models b WHERE a.name = 'als_es' AND b.name = 'als_es1';
SELECT count(*) AS items, count(*) FILTER (WHERE a.factors = b.factors AND a.bias = b.bias) AS same
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'als_es' AND b.model = 'als_es1';
-- on the true ratings the validation RMSE keeps falling: the last iteration is kept
SELECT epochs, epoch_kept, validation_rmse < 0.85 AS validation_rmse_below_0_85
FROM cf_train('als_ratings', model => 'als_v', algorithm => 'als', epochs => 20,
              validation_fraction => 0.1, early_stopping => true, patience => 3, verbose => false);
SELECT count(*) FILTER (WHERE d > 0) AS validation_increases
FROM (SELECT validation_rmse - lag(validation_rmse) OVER (ORDER BY epoch) AS d
      FROM cf_training_log WHERE model = 'als_v') s;
-- iALS predicts no ratings (no RMSE to validate by)
SELECT * FROM cf_train('ials_train', rating_column => NULL, algorithm => 'ials',
                       validation_fraction => 0.1, verbose => false);

--
-- evaluation and tuning take ALS and iALS too, with their defaults
--
-- iALS ranks (no rating error) on the held-out events, ahead of popularity
SELECT count(*) FROM cf_train('ials_train', rating_column => NULL, model => 'ials_pop',
                              algorithm => 'popular', verbose => false);
SELECT e.rmse IS NULL AS no_rmse, e.users, e.ratings,
       e.recall_at_k > p.recall_at_k AS ials_recall_above_popular,
       e.ndcg_at_k > p.ndcg_at_k AS ials_ndcg_above_popular
FROM cf_evaluate('ials', 'ials_test') e, cf_evaluate('ials_pop', 'ials_test') p;
SELECT metric, round(mean::numeric, 2) AS mean
FROM cf_cross_validate('als_ratings', folds => 2, algorithm => 'als', factors => 8, epochs => 5)
WHERE metric IN ('rmse', 'mae');
CREATE TABLE ials_train_rated AS SELECT user_id, item_id, 1 AS rating FROM ials_train;
SELECT metric, mean IS NULL AS is_null, mean > 0.3 AS above_0_3
FROM cf_cross_validate('ials_train_rated', folds => 2, algorithm => 'ials', factors => 8)
WHERE metric IN ('rmse', 'ndcg_at_k');
-- a grid over ALS settings; learning_rate does not apply (NULL)
SELECT rank, factors, regularization, learning_rate, epochs, round(rmse::numeric, 2) AS rmse, model
FROM cf_grid_search('als_ratings', factors => '{4, 8}', regularization => '{0.05, 0.5}', epochs => '{5}',
                    folds => 2, algorithm => 'als', model => 'als_tuned')
ORDER BY rank;
SELECT hyperparameters FROM cf_models WHERE name = 'als_tuned';
SELECT * FROM cf_cross_validate('als_ratings', algorithm => 'als', learning_rate => 0.01);
SELECT * FROM cf_grid_search('als_ratings', algorithm => 'ials', metric => 'ndcg_at_k', learning_rate => '{0.01}');
SELECT * FROM cf_cross_validate('negative_events', rating_column => 'weight', algorithm => 'ials');

-- a training can be cancelled (here by statement_timeout), workers and all
-- (about 100 GFLOP an iteration: seconds of Cholesky factorizations of order 513)
CREATE TABLE big_ratings AS SELECT * FROM cf_synthetic_ratings(2000, 500, 40000, seed => 5);
SET statement_timeout = '500ms';
SELECT * FROM cf_train('big_ratings', model => 'cancelled', algorithm => 'als', factors => 512,
                       workers => 1, verbose => false);
RESET statement_timeout;
SELECT count(*) AS cancelled_models FROM cf_models WHERE name = 'cancelled';
DROP TABLE big_ratings;
