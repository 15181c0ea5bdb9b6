--
-- tuning: cf_cross_validate and cf_grid_search
--
\ir sql/fixtures/extension.sql
CREATE TABLE tr AS SELECT * FROM cf_synthetic_ratings(300, 150, 6000, seed => 21);

-- one row per metric: mean, sample standard deviation and the folds' values
SELECT metric, round(mean::numeric, 3) AS mean, stddev >= 0 AS has_stddev,
       array_length(per_fold, 1) AS folds
FROM cf_cross_validate('tr', folds => 3, factors => 8, epochs => 20);
-- the mean and standard deviation are those of the folds' values
SELECT bool_and(abs(mean - (SELECT avg(v) FROM unnest(per_fold) v)) < 1e-12 AND
                abs(stddev - (SELECT stddev_samp(v) FROM unnest(per_fold) v)) < 1e-12) AS consistent
FROM cf_cross_validate('tr', folds => 3, factors => 8, epochs => 20);

-- fold f is exactly what cf_evaluate sees for a model trained, stored and
-- evaluated by hand on the folds cf_split_fold assigns
CREATE VIEW tr_fold0_train AS SELECT * FROM tr WHERE cf_split_fold(user_id, item_id, 3, 42) <> 0;
CREATE VIEW tr_fold0_test AS SELECT * FROM tr WHERE cf_split_fold(user_id, item_id, 3, 42) = 0;
SELECT count(*) FROM cf_train('tr_fold0_train', model => 'fold0', factors => 8, epochs => 20, verbose => false);
SELECT abs(e.rmse - c.per_fold[1]) < 1e-12 AS same_rmse,
       abs(e.ndcg_at_k - n.per_fold[1]) < 1e-12 AS same_ndcg
FROM cf_evaluate('fold0', 'tr_fold0_test') e,
     cf_cross_validate('tr', folds => 3, factors => 8, epochs => 20) c,
     cf_cross_validate('tr', folds => 3, factors => 8, epochs => 20) n
WHERE c.metric = 'rmse' AND n.metric = 'ndcg_at_k';

-- nothing was stored while cross-validating
SELECT count(*) AS models_before FROM cf_models \gset
SELECT count(*) FROM cf_cross_validate('tr', folds => 2, factors => 4, epochs => 2);
SELECT count(*) = :models_before AS nothing_stored FROM cf_models;

-- the baselines cross-validate too; popular has no rating error
SELECT metric, mean IS NOT NULL AS has_mean
FROM cf_cross_validate('tr', folds => 2, algorithm => 'popular') WHERE metric IN ('rmse', 'ndcg_at_k');
SELECT round(mean::numeric, 2) > 0.8 AS baseline_rmse
FROM cf_cross_validate('tr', folds => 2, algorithm => 'baseline', regularization => 5) WHERE metric = 'rmse';

-- a grid: every combination, best first by the metric, ties in grid order;
-- with a model name the best setting is trained on all rows and stored
SELECT rank, factors, regularization, learning_rate, epochs, round(rmse::numeric, 3) AS rmse,
       rmse <= lead(rmse) OVER (ORDER BY rank) AS sorted, stddev >= 0 AS has_stddev, model
FROM cf_grid_search('tr', factors => '{4, 16}', regularization => '{0.05, 0.5}',
                    learning_rate => '{0.01, 0.05}', epochs => '{20}', folds => 2, model => 'tuned')
ORDER BY rank;
SELECT name, factors, hyperparameters ->> 'regularization' AS regularization,
       hyperparameters ->> 'learning_rate' AS learning_rate, epochs, ratings
FROM cf_models WHERE name = 'tuned';
-- by a ranking metric, highest first
SELECT rank, factors, round(ndcg_at_k::numeric, 3) AS ndcg,
       ndcg_at_k >= lead(ndcg_at_k) OVER (ORDER BY rank) AS sorted
FROM cf_grid_search('tr', factors => '{4, 16}', epochs => '{10}', folds => 2, metric => 'ndcg_at_k')
ORDER BY rank;
-- the grid's rows are the cross-validation means of each setting
SELECT abs(g.rmse - c.mean) < 1e-12 AS same_as_cross_validate
FROM cf_grid_search('tr', factors => '{8}', epochs => '{20}', folds => 3) g,
     cf_cross_validate('tr', folds => 3, factors => 8, epochs => 20) c
WHERE c.metric = 'rmse';

-- event data (no rating column), as cf_train takes it for ials and popular:
-- tuned by ranking metrics, with no rating error
CREATE TABLE tr_events AS SELECT user_id, item_id FROM tr WHERE rating >= 4;
SELECT metric, mean IS NOT NULL AS has_mean
FROM cf_cross_validate('tr_events', folds => 2, rating_column => NULL, algorithm => 'ials',
                       factors => 8, epochs => 3)
WHERE metric IN ('rmse', 'ndcg_at_k');
SELECT metric, mean IS NOT NULL AS has_mean
FROM cf_cross_validate('tr_events', folds => 2, rating_column => NULL, algorithm => 'popular')
WHERE metric IN ('rmse', 'ndcg_at_k');
SELECT rank, factors, ndcg_at_k > 0 AS ranks_something, model
FROM cf_grid_search('tr_events', factors => '{4, 8}', epochs => '{3}', folds => 2,
                    metric => 'ndcg_at_k', rating_column => NULL, algorithm => 'ials',
                    model => 'tuned events')
ORDER BY rank;
SELECT name, algorithm, rating_column FROM cf_models WHERE name = 'tuned events';
SELECT cf_drop_model('tuned events');
-- algorithms that need ratings say so
SELECT * FROM cf_cross_validate('tr_events', rating_column => NULL);
SELECT * FROM cf_grid_search('tr_events', rating_column => NULL, algorithm => 'als');
DROP TABLE tr_events;

-- errors
SELECT * FROM cf_cross_validate('tr', folds => 1);
SELECT * FROM cf_cross_validate('tr', folds => 101);
SELECT * FROM cf_cross_validate('tr', k => 0);
SELECT * FROM cf_cross_validate('tr', factors => 0);
SELECT * FROM cf_cross_validate('tr', algorithm => 'svd');
SELECT * FROM cf_cross_validate('tr', threshold => 'NaN');
SELECT * FROM cf_cross_validate('tr', rating_column => 'stars');
SELECT * FROM cf_cross_validate('no_such_table');
SELECT * FROM cf_cross_validate('tr', folds => NULL);
CREATE TABLE tr_one (user_id int, item_id int, rating real);
INSERT INTO tr_one VALUES (1, 1, 5);
SELECT cf_split_fold(1, 1, 2) AS fold_of_the_one_rating;
SELECT * FROM cf_cross_validate('tr_one', folds => 2);
SELECT * FROM cf_grid_search('tr', factors => '{}');
SELECT * FROM cf_grid_search('tr', factors => '{4, NULL}');
SELECT * FROM cf_grid_search('tr', regularization => '{{0.1}}');
SELECT * FROM cf_grid_search('tr', learning_rate => '{0.01, 5}');
SELECT * FROM cf_grid_search('tr', metric => 'accuracy');
SELECT * FROM cf_grid_search('tr', algorithm => 'popular');
SELECT * FROM cf_grid_search('tr', model => '');
SELECT * FROM cf_grid_search('tr', factors => (SELECT array_agg(g) FROM generate_series(1, 101) g),
                             epochs => (SELECT array_agg(g) FROM generate_series(1, 100) g));
