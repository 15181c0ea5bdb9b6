--
-- test/bench/movielens.sql -- train on ml_train, score on ml_test.
--
-- Run by test/bench/movielens.sh through psql (read by psql, not by the
-- server), after it has loaded ml_train and ml_test.  psql variables:
--   :train_args   the argument list of cf_train, e.g.
--                 'ml_train', model => 'movielens', factors => 32
--   :model        the model name used in train_args, as a SQL literal
--

\echo
\echo '== Training: SELECT * FROM cf_train(':train_args');'
SELECT * FROM cf_train(:train_args) \gset train_

SELECT :'train_users'::bigint AS users, :'train_items'::bigint AS items,
       :'train_ratings'::bigint AS ratings,
       round(:'train_seconds'::numeric, 3) AS training_seconds,
       round(:'train_rmse'::numeric, 4) AS training_rmse;

\echo '== Settings the model was trained with (cf_models.hyperparameters)'
SELECT factors, epochs, hyperparameters
FROM cf_models WHERE name = :model;

--
-- Baselines, fitted on ml_train only:
--   global mean:          mu
--   mean + biases:        mu + b_u + b_i, with damped means
--                         b_i = sum(r - mu) / (n_i + 25),
--                         b_u = sum(r - mu - b_i) / (n_u + 10),
--                         clipped to 1..5; unknown user or item: bias 0.
--
CREATE TEMP TABLE mu AS SELECT avg(rating)::float8 AS mean FROM ml_train;
CREATE TEMP TABLE item_bias AS
    SELECT r.item_id, sum(r.rating - mu.mean) / (count(*) + 25) AS b
    FROM ml_train r CROSS JOIN mu
    GROUP BY r.item_id;
CREATE TEMP TABLE user_bias AS
    SELECT r.user_id, sum(r.rating - mu.mean - coalesce(i.b, 0)) / (count(*) + 10) AS b
    FROM ml_train r CROSS JOIN mu LEFT JOIN item_bias i USING (item_id)
    GROUP BY r.user_id;

\echo '== Test set scores (lower is better)'
\echo 'Time to score the test set with cf_predict:'
\timing on
CREATE TEMP TABLE scores AS
SELECT 1 AS ord, 'cf_predict' AS predictor,
       count(*) AS n,
       sqrt(avg((p.cf - t.rating) ^ 2)) AS rmse,
       avg(abs(p.cf - t.rating)) AS mae
FROM ml_test t,
     LATERAL (SELECT cf_predict(t.user_id, t.item_id, :model) AS cf) p;
\timing off
INSERT INTO scores
SELECT 2, 'global mean', count(*),
       sqrt(avg((mu.mean - t.rating) ^ 2)),
       avg(abs(mu.mean - t.rating))
FROM ml_test t CROSS JOIN mu;
INSERT INTO scores
SELECT 3, 'mean + user/item biases', count(*),
       sqrt(avg((b.pred - t.rating) ^ 2)),
       avg(abs(b.pred - t.rating))
FROM ml_test t CROSS JOIN mu
     LEFT JOIN user_bias u USING (user_id)
     LEFT JOIN item_bias i USING (item_id),
     LATERAL (SELECT least(5, greatest(1, mu.mean + coalesce(u.b, 0) + coalesce(i.b, 0))) AS pred) b;

SELECT predictor, n AS test_ratings,
       round(rmse::numeric, 4) AS rmse, round(mae::numeric, 4) AS mae,
       round((rmse / (SELECT rmse FROM scores WHERE ord = 1))::numeric, 3) AS rmse_ratio_to_cf
FROM scores ORDER BY ord;

-- One line to grep or paste.
SELECT format('RESULT test_rmse=%s mae=%s train_seconds=%s baseline_mean_rmse=%s baseline_biases_rmse=%s',
              round(c.rmse::numeric, 4), round(c.mae::numeric, 4),
              round(:'train_seconds'::numeric, 3),
              round(g.rmse::numeric, 4), round(b.rmse::numeric, 4)) AS summary
FROM scores c, scores g, scores b
WHERE c.ord = 1 AND g.ord = 2 AND b.ord = 3
\gset
\echo
\echo :summary
