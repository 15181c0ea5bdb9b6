--
-- baselines: algorithm 'baseline' (mu + b_u + b_i) and 'popular'
--
\ir sql/fixtures/models.sql
-- Ratings that are exactly additive: mu = 3, user effects +1 / -1, item
-- effects +0.5, 0, -0.5.
CREATE TABLE additive (user_id int, item_id int, rating real);
INSERT INTO additive VALUES (1, 1, 4.5), (1, 2, 4), (1, 3, 3.5), (2, 1, 2.5), (2, 2, 2), (2, 3, 1.5);

-- unregularized, alternating least squares finds them in one epoch (the
-- second moves nothing and ends training); k = 0 factors
SELECT model, users, items, ratings, factors, epochs, round(rmse::numeric, 6) AS rmse
FROM cf_train('additive', model => 'b0', algorithm => 'baseline', regularization => 0, verbose => false);
SELECT user_id, bias, factors, rated_items FROM cf_user_factors WHERE model = 'b0' ORDER BY user_id;
SELECT item_id, bias, factors FROM cf_item_factors WHERE model = 'b0' ORDER BY item_id;
SELECT cf_predict(1, 1, 'b0') AS p11, cf_predict(2, 3, 'b0') AS p23, cf_predict(9, 1, 'b0') AS new_user;

-- lambda = 1, one epoch, by hand: item biases first, given b_u = 0:
--   b_1 = (1.5 - 0.5) / (1 + 2) = 1/3, b_2 = 0, b_3 = (0.5 - 1.5) / 3 = -1/3
-- then users: b_u1 = ((1.5 - 1/3) + 1 + (0.5 + 1/3)) / (1 + 3) = 0.75, b_u2 = -0.75
SELECT epochs, round(loss::numeric, 6) AS loss, round(rmse::numeric, 6) AS rmse
FROM cf_train('additive', model => 'b1', algorithm => 'baseline', regularization => 1, epochs => 1,
              verbose => false);
SELECT 'user' AS side, user_id AS id, round(bias::numeric, 6) AS bias FROM cf_user_factors WHERE model = 'b1'
UNION ALL
SELECT 'item', item_id, round(bias::numeric, 6) FROM cf_item_factors WHERE model = 'b1'
ORDER BY 1 DESC, 2;
-- loss per rating = (sum of squared errors + lambda (sum b_u^2 + sum b_i^2)) / n:
SELECT round(((sum((r.rating - 3 - u.bias - i.bias) ^ 2) +
               (SELECT sum(bias ^ 2) FROM cf_user_factors WHERE model = 'b1') +
               (SELECT sum(bias ^ 2) FROM cf_item_factors WHERE model = 'b1')) / 6)::numeric, 6) AS loss_by_hand
FROM additive r JOIN cf_user_factors u ON u.model = 'b1' AND u.user_id = r.user_id
JOIN cf_item_factors i ON i.model = 'b1' AND i.item_id = r.item_id;

-- on real-sized data: converged, and a fixed point of the damped means
-- b_i = sum(r - mu - b_u) / (lambda + n_i)
SELECT epochs < 60 AS converged, round(rmse::numeric, 2) AS rmse
FROM cf_train('ratings', model => 'base', algorithm => 'baseline', regularization => 5, verbose => false);
SELECT max(abs(i.bias - s.b)) < 1e-5 AS item_biases_are_damped_means
FROM cf_item_factors i
JOIN (SELECT r.item_id, sum(r.rating - m.global_mean - u.bias) / (5 + count(*)) AS b
      FROM ratings r JOIN cf_models m ON m.name = 'base'
      JOIN cf_user_factors u ON u.model = 'base' AND u.user_id = r.user_id
      GROUP BY r.item_id) s USING (item_id)
WHERE i.model = 'base';
SELECT count(*) AS epochs_logged, bool_and(validation_rmse IS NULL) AS no_validation
FROM cf_training_log WHERE model = 'base';
-- the trace: the loss never goes up (each step is exact)
SELECT count(*) AS loss_increases
FROM (SELECT loss - lag(loss) OVER (ORDER BY epoch) AS d FROM cf_training_log WHERE model = 'base') s
WHERE d > 1e-12;
-- the factor model beats it on held-out ratings; it beats the global mean
SELECT round(b.rmse::numeric, 3) < round(m.rmse::numeric, 3) AS baseline_beats_mean,
       round(s.rmse::numeric, 3) < round(b.rmse::numeric, 3) AS sgd_beats_baseline
FROM cf_evaluate('base', 'ratings_test') b, cf_evaluate('default', 'ratings_test') s,
     (SELECT sqrt(avg((rating - (SELECT avg(rating) FROM ratings)) ^ 2)) AS rmse FROM ratings_test) m;

-- popular: each item's score is the share of users who rated it
CREATE TABLE clicks (user_id int, item_id int, rating int);
INSERT INTO clicks VALUES (1, 1, 5), (2, 1, 1), (3, 1, 3), (1, 2, 4), (2, 2, 4), (4, 3, 2),
                          (4, 1, 1), (4, 1, 2);   -- a repeated pair counts once
SELECT model, users, items, ratings, factors, epochs, loss, rmse, validation_rmse, epoch_kept
FROM cf_train('clicks', model => 'pop', algorithm => 'popular', verbose => false);
SELECT item_id, bias, factors FROM cf_item_factors WHERE model = 'pop' ORDER BY item_id;
SELECT name, algorithm, factors, epochs, epoch_kept, loss, rmse FROM cf_models WHERE name = 'pop';
SELECT count(*) AS log_rows FROM cf_training_log WHERE model = 'pop';
-- cf_predict gives the score (no mean, no clipping); cf_recommend ranks by it
SELECT cf_predict(1, 1, 'pop') AS share_1, cf_predict(1, 3, 'pop') AS share_3,
       cf_predict(1, 99, 'pop') AS unknown_item;
SELECT * FROM cf_recommend(3, 5, 'pop');
SELECT * FROM cf_recommend(99, 5, 'pop');
SELECT * FROM cf_recommend(4, 5, 'pop', exclude_rated => false);

-- both work wherever a model does: batch, fold-in, refresh, the cache
SELECT user_id, item_id, score, rank FROM cf_recommend_batch(ARRAY[3, 99], 2, 'pop');
SELECT user_id, item_id, round(score::numeric, 4) AS score, rank
FROM cf_recommend_batch(ARRAY[1, 99], 2, 'b1', exclude_rated => false);
SELECT item_id, round(score::numeric, 4) AS score
FROM cf_recommend_for_ratings(ARRAY[1], ARRAY[5]::real[], 5, 'b1');
SELECT * FROM cf_recommend_for_ratings(ARRAY[2], ARRAY[1]::real[], 5, 'pop');
-- folding in under the baseline's own objective: b_u = sum(r - mu - b_i) / (lambda + n)
SELECT round(((5 - 3 - (SELECT bias FROM cf_item_factors WHERE model = 'b1' AND item_id = 1)) / (1 + 1))::numeric, 4)
       AS folded_bias_by_hand;
INSERT INTO additive VALUES (3, 1, 5);
SELECT * FROM cf_refresh_users(ARRAY[3], 'b1');
SELECT user_id, round(bias::numeric, 4) AS bias, factors, rated_items FROM cf_user_factors
WHERE model = 'b1' AND user_id = 3;
SELECT * FROM cf_refresh_users(ARRAY[4], 'pop');
SELECT model, factors, items FROM cf_cache() WHERE model IN ('pop', 'b1') ORDER BY model;

-- and evaluate: popular has no rating error, only rankings
SELECT rmse, mae, round(precision_at_k::numeric, 6) AS precision, users
FROM cf_evaluate('pop', 'clicks', k => 1);

-- no factor vectors: no similarity, no explanation
SELECT * FROM cf_similar_items(1, 5, 'pop');
SELECT * FROM cf_similar_users(1, 5, 'b1');
SELECT * FROM cf_explain(1, 1, 'b1');

-- the settings each baseline takes, NULL for its defaults: the baseline
-- takes epochs (at most; it converges) and regularization (lambda 3 by
-- default), popular none; other settings are errors
SELECT epochs <= 60 AS converged_within_60, factors
FROM cf_train('ratings', model => 'base_default', algorithm => 'baseline', verbose => false);
SELECT hyperparameters FROM cf_models WHERE name = 'base_default';
SELECT hyperparameters FROM cf_models WHERE name = 'pop';
SELECT * FROM cf_train('ratings', algorithm => 'baseline', learning_rate => 0.01);
SELECT * FROM cf_train('ratings', algorithm => 'baseline', solver => 'cg');
SELECT * FROM cf_train('clicks', algorithm => 'popular', epochs => 5);
SELECT * FROM cf_train('clicks', algorithm => 'popular', regularization => 0.1);
-- popular reads no rating values, so it trains without a rating column too
SELECT users, items, ratings, factors, epochs
FROM cf_train('clicks', rating_column => NULL, model => 'pop_events', algorithm => 'popular',
              verbose => false);
SELECT a.item_id, a.bias = b.bias AS same_score
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'pop' AND b.model = 'pop_events' ORDER BY a.item_id;
SELECT * FROM cf_train('clicks', rating_column => NULL, algorithm => 'baseline');
