--
-- test/bench/evaluate.sql -- run by test/bench/evaluate.sh through psql
-- after it has loaded ml_train and ml_test.  psql variable :quick (1: skip
-- sections 6 and 7, the grid search and the run at scale).
--
\pset footer off
\set ON_ERROR_STOP 1

\echo
\echo '== 1. Training the three models on ml_train (NOTICEs off)'
\echo 'sgd: cf_train defaults; baseline: lambda chosen by 5-fold cross-validation on ml_train; popular'
CREATE TEMP TABLE baseline_grid AS
SELECT * FROM cf_grid_search('ml_train', algorithm => 'baseline', regularization => '{0.1, 1, 3, 10, 25}',
                             folds => 5);
SELECT rank, regularization, round(rmse::numeric, 4) AS cv_rmse, round(stddev::numeric, 4) AS sd
FROM baseline_grid ORDER BY rank;
SELECT regularization FROM baseline_grid WHERE rank = 1 \gset best_baseline_
\timing on
SELECT model, epochs, round(seconds::numeric, 3) AS seconds FROM cf_train('ml_train', model => 'sgd', verbose => false);
SELECT model, epochs, round(seconds::numeric, 3) AS seconds
FROM cf_train('ml_train', model => 'baseline', algorithm => 'baseline',
              regularization => :best_baseline_regularization, verbose => false);
SELECT model, epochs, round(seconds::numeric, 3) AS seconds
FROM cf_train('ml_train', model => 'popular', algorithm => 'popular', verbose => false);
\timing off

\echo
\echo '== 2. cf_evaluate against plain SQL over cf_predict (|difference| must be < 1e-9)'
CREATE TEMP TABLE agreement AS
SELECT m AS model, e.rmse AS evaluate_rmse, s.rmse AS sql_rmse, e.mae AS evaluate_mae, s.mae AS sql_mae
FROM unnest(ARRAY['sgd', 'baseline']) m,
     LATERAL cf_evaluate(m, 'ml_test') e,
     LATERAL (SELECT sqrt(avg((cf_predict(user_id, item_id, m) - rating) ^ 2)) AS rmse,
                     avg(abs(cf_predict(user_id, item_id, m) - rating)) AS mae
              FROM ml_test) s;
SELECT model, evaluate_rmse, sql_rmse, to_char(abs(evaluate_rmse - sql_rmse), '9.9EEEE') AS rmse_difference,
       to_char(abs(evaluate_mae - sql_mae), '9.9EEEE') AS mae_difference,
       abs(evaluate_rmse - sql_rmse) < 1e-9 AND abs(evaluate_mae - sql_mae) < 1e-9 AS within_1e_9
FROM agreement ORDER BY model;
SELECT bool_and(abs(evaluate_rmse - sql_rmse) < 1e-9 AND abs(evaluate_mae - sql_mae) < 1e-9) AS agree
FROM agreement \gset
\if :agree
\else
\echo 'FAILED: cf_evaluate and plain SQL differ by 1e-9 or more'
SELECT 1 / 0 AS failed;
\endif

\echo
\echo '== 3. Side by side on ml_test (k = 10)'
CREATE TEMP TABLE side AS
SELECT o AS ord, m AS model, 'every test rating' AS relevant, e.*
FROM unnest(ARRAY['sgd', 'baseline', 'popular']) WITH ORDINALITY AS t(m, o), LATERAL cf_evaluate(m, 'ml_test') e
UNION ALL
SELECT 3 + o, m, 'rated >= 4', e.*
FROM unnest(ARRAY['sgd', 'baseline', 'popular']) WITH ORDINALITY AS t(m, o),
     LATERAL cf_evaluate(m, 'ml_test', threshold => 4) e;
SELECT model, relevant, round(rmse::numeric, 4) AS rmse, round(mae::numeric, 4) AS mae,
       round(precision_at_k::numeric, 4) AS "P@10", round(recall_at_k::numeric, 4) AS "R@10",
       round(ndcg_at_k::numeric, 4) AS "nDCG@10", round(map_at_k::numeric, 4) AS "MAP@10",
       round(hit_rate::numeric, 4) AS hit_rate, round(coverage::numeric, 4) AS coverage, users
FROM side ORDER BY ord;

\echo
\echo '== 4. cf_evaluate against one cf_recommend call per test user in SQL, model sgd (precision@10)'
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT avg(hits) / 10 AS sql_precision
FROM (SELECT u.user_id, count(t.item_id) AS hits
      FROM (SELECT DISTINCT user_id FROM ml_test) u
      CROSS JOIN LATERAL cf_recommend(u.user_id, 10, 'sgd') r
      LEFT JOIN ml_test t ON t.user_id = u.user_id AND t.item_id = r.item_id
      GROUP BY u.user_id) s \gset
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT precision_at_k AS evaluate_precision FROM cf_evaluate('sgd', 'ml_test') \gset
SELECT extract(epoch FROM clock_timestamp()) AS t2 \gset
SELECT round(:sql_precision::numeric, 6) AS sql_precision,
       round(:evaluate_precision::numeric, 6) AS cf_evaluate_precision,
       round((:t1 - :t0)::numeric * 1000, 1) AS sql_ms,
       round((:t2 - :t1)::numeric * 1000, 1) AS cf_evaluate_ms,
       round(((:t1 - :t0) / (:t2 - :t1))::numeric, 1) AS ratio;

\echo
\echo '== 5. Early stopping: 10% of ml_train held out (seed 42), models tested on ml_test'
CREATE TEMP TABLE es (ord numeric, setting text, epochs int, epoch_kept int, validation_rmse float8,
                      test_rmse float8, seconds float8);
INSERT INTO es
SELECT 1, 'early stopping (patience 20, the default; at most 200 epochs)', epochs, epoch_kept,
       validation_rmse, NULL, seconds
FROM cf_train('ml_train', model => 'es', epochs => 200, validation_fraction => 0.1,
              early_stopping => true, verbose => false);
INSERT INTO es
SELECT 2, 'early stopping, patience 5', epochs, epoch_kept, validation_rmse, NULL, seconds
FROM cf_train('ml_train', model => 'es5', epochs => 200, validation_fraction => 0.1,
              early_stopping => true, patience => 5, verbose => false);
INSERT INTO es
SELECT 2.5, 'early stopping, patience 10', epochs, epoch_kept, validation_rmse, NULL, seconds
FROM cf_train('ml_train', model => 'es10', epochs => 200, validation_fraction => 0.1,
              early_stopping => true, patience => 10, verbose => false);
INSERT INTO es
SELECT 3, 'fixed 60 epochs (the default), same 90%', epochs, epoch_kept, validation_rmse, NULL, seconds
FROM cf_train('ml_train', model => 'fixed60', epochs => 60, validation_fraction => 0.1, verbose => false);
INSERT INTO es
SELECT 4, 'fixed 200 epochs, same 90%', epochs, epoch_kept, validation_rmse, NULL, seconds
FROM cf_train('ml_train', model => 'fixed200', epochs => 200, validation_fraction => 0.1, verbose => false);
-- (tested in statements of their own: a statement's snapshot does not see
-- the model the same statement trains)
UPDATE es SET test_rmse = (SELECT rmse FROM cf_evaluate(CASE ord WHEN 1 THEN 'es' WHEN 2 THEN 'es5'
                                                                   WHEN 2.5 THEN 'es10' WHEN 3 THEN 'fixed60'
                                                                   ELSE 'fixed200' END, 'ml_test'));
INSERT INTO es
SELECT 5, 'the kept epoch count, retrained on all of ml_train', epochs, epoch_kept, NULL, NULL, seconds
FROM cf_train('ml_train', model => 'es_refit', epochs => (SELECT epoch_kept FROM es WHERE ord = 1),
              verbose => false);
UPDATE es SET test_rmse = (SELECT rmse FROM cf_evaluate('es_refit', 'ml_test')) WHERE ord = 5;
INSERT INTO es
SELECT 6, 'cf_train defaults on all of ml_train', 60, 60, NULL, (SELECT rmse FROM cf_evaluate('sgd', 'ml_test')),
       (SELECT seconds FROM cf_models WHERE name = 'sgd');
SELECT setting, epochs, epoch_kept, round(validation_rmse::numeric, 4) AS validation_rmse,
       round(test_rmse::numeric, 4) AS test_rmse, round(seconds::numeric, 2) AS seconds
FROM es ORDER BY ord;
SELECT (SELECT test_rmse FROM es WHERE ord = 1) <= least((SELECT test_rmse FROM es WHERE ord = 3),
                                                         (SELECT test_rmse FROM es WHERE ord = 4)) + 1e-4
       AS early_stopping_beats_or_ties_fixed_epochs \gset
SELECT :'early_stopping_beats_or_ties_fixed_epochs' AS early_stopping_beats_or_ties_fixed_epochs;
\echo
SELECT * FROM cf_training_chart('es', 70, 14);

\if :quick
\echo
\echo '== 6. Grid search skipped (--quick)'
\else
\echo
\echo '== 6. Grid search, 3-fold cross-validation on ml_train (12 settings, 36 trainings)'
\timing on
CREATE TEMP TABLE grid AS
SELECT * FROM cf_grid_search('ml_train', factors => '{32, 64, 128}', regularization => '{0.05, 0.1}',
                             epochs => '{40, 60}', folds => 3, model => 'tuned');
\timing off
SELECT rank, factors, regularization, epochs, round(rmse::numeric, 4) AS cv_rmse,
       round(stddev::numeric, 4) AS sd, round(ndcg_at_k::numeric, 4) AS "nDCG@10",
       round(seconds::numeric, 2) AS seconds, model
FROM grid ORDER BY rank;
SELECT 'tuned' AS model, round(rmse::numeric, 4) AS test_rmse, round(ndcg_at_k::numeric, 4) AS "nDCG@10"
FROM cf_evaluate('tuned', 'ml_test');
\endif

\if :quick
\else
\echo
\echo '== 7. At scale: 1M synthetic ratings (20,000 users, 5,000 items), 10% held out by cf_split_random'
CREATE TABLE syn AS SELECT * FROM cf_synthetic_ratings(20000, 5000, 1000000, skew => 1.0);
CREATE TABLE syn_train AS SELECT * FROM syn WHERE NOT cf_split_random(user_id, item_id, 0.1);
CREATE TABLE syn_test AS SELECT * FROM syn WHERE cf_split_random(user_id, item_id, 0.1);
ANALYZE syn_train, syn_test;
SELECT model, users, items, ratings, round(seconds::numeric, 2) AS seconds
FROM cf_train('syn_train', model => 'syn', epochs => 20, verbose => false);
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT avg(hits) / 10 AS sql_precision
FROM (SELECT u.user_id, count(t.item_id) AS hits
      FROM (SELECT DISTINCT user_id FROM syn_test) u
      CROSS JOIN LATERAL cf_recommend(u.user_id, 10, 'syn') r
      LEFT JOIN syn_test t ON t.user_id = u.user_id AND t.item_id = r.item_id
      GROUP BY u.user_id) s \gset
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT precision_at_k AS evaluate_precision, users AS evaluate_users, rmse AS syn_rmse
FROM cf_evaluate('syn', 'syn_test') \gset
SELECT extract(epoch FROM clock_timestamp()) AS t2 \gset
SELECT :evaluate_users AS users, round(:syn_rmse::numeric, 4) AS rmse,
       round(:sql_precision::numeric, 6) AS sql_precision,
       round(:evaluate_precision::numeric, 6) AS cf_evaluate_precision,
       round((:t1 - :t0)::numeric, 2) AS sql_s, round((:t2 - :t1)::numeric, 2) AS cf_evaluate_s,
       round(((:t1 - :t0) / (:t2 - :t1))::numeric, 1) AS ratio;
\endif

\echo
SELECT format('RESULT sgd_rmse=%s baseline_rmse=%s evaluate_vs_sql=%s es_epoch=%s es_rmse=%s fixed60_rmse=%s fixed200_rmse=%s',
              round((SELECT rmse FROM side WHERE ord = 1)::numeric, 4),
              round((SELECT rmse FROM side WHERE ord = 2)::numeric, 4),
              to_char((SELECT max(abs(evaluate_rmse - sql_rmse)) FROM agreement), '9.9EEEE'),
              (SELECT epoch_kept FROM es WHERE ord = 1),
              round((SELECT test_rmse FROM es WHERE ord = 1)::numeric, 4),
              round((SELECT test_rmse FROM es WHERE ord = 3)::numeric, 4),
              round((SELECT test_rmse FROM es WHERE ord = 4)::numeric, 4)) AS summary \gset
\echo :summary
