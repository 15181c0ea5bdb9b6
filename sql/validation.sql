--
-- validation: cf_train's validation set and early stopping
--
-- Ratings from a planted model; the validation set is the pairs
-- cf_split_validation(user, item, validation_fraction, seed) picks.
\ir sql/fixtures/extension.sql
CREATE TABLE vr AS SELECT * FROM cf_synthetic_ratings(400, 200, 12000, seed => 11);

SELECT model, users, items, ratings, factors, epochs, epoch_kept,
       round(rmse::numeric, 2) AS rmse, round(validation_rmse::numeric, 2) AS validation_rmse
FROM cf_train('vr', model => 'v', factors => 16, epochs => 30, validation_fraction => 0.1,
              verbose => false);
-- trained on the other ratings only
SELECT count(*) FILTER (WHERE NOT cf_split_validation(user_id, item_id, 0.1, 42)) AS training_rows,
       count(*) FILTER (WHERE cf_split_validation(user_id, item_id, 0.1, 42)) AS held_out_rows
FROM vr;
SELECT ratings, round(global_mean::numeric, 6) =
       (SELECT round(avg(rating)::numeric, 6) FROM vr WHERE NOT cf_split_validation(user_id, item_id, 0.1, 42))
       AS mean_of_training_part,
       epochs, epoch_kept, hyperparameters
FROM cf_models WHERE name = 'v';
-- every epoch logs a validation RMSE; the last is what cf_predict scores
-- on the held-out rows with the stored model (to 1e-6: cf_predict returns
-- a score's float digits)
SELECT count(*) AS epochs, count(validation_rmse) AS validated,
       round(max(validation_rmse) FILTER (WHERE epoch = 1)::numeric, 2) AS first,
       round(min(validation_rmse) FILTER (WHERE epoch = 30)::numeric, 2) AS last
FROM cf_training_log WHERE model = 'v';
SELECT abs((SELECT validation_rmse FROM cf_training_log WHERE model = 'v' AND epoch = 30) -
           sqrt(avg((cf_predict(user_id, item_id, 'v') - rating) ^ 2))) < 1e-6 AS logged_as_predicted
FROM vr WHERE cf_split_validation(user_id, item_id, 0.1, 42);
-- and cf_evaluate on the held-out rows agrees
CREATE VIEW vr_validation AS SELECT * FROM vr WHERE cf_split_validation(user_id, item_id, 0.1, 42);
SELECT abs(rmse - (SELECT validation_rmse FROM cf_training_log WHERE model = 'v' AND epoch = 30)) < 1e-9
       AS evaluate_agrees
FROM cf_evaluate('v', 'vr_validation');
-- a training table made by cf_split_random with the same seed still
-- yields a validation set of about the asked share (the hashes differ)
CREATE TABLE vr_train AS SELECT * FROM vr WHERE NOT cf_split_random(user_id, item_id, 0.1, 42);
SELECT ratings AS training_rows, (SELECT count(*) FROM vr_train) AS of_rows
FROM cf_train('vr_train', model => 'nested', factors => 4, epochs => 2, validation_fraction => 0.1,
              verbose => false);
-- the same split with another seed holds out other rows
SELECT ratings AS other_seed_training_rows FROM cf_train('vr', model => 'v7', factors => 16, epochs => 2,
                          seed => 7, validation_fraction => 0.1, verbose => false);
SELECT count(*) FILTER (WHERE NOT cf_split_validation(user_id, item_id, 0.1, 7)) AS expected FROM vr;

-- early stopping: a learning rate high enough to overfit, patience 3;
-- training stops 3 epochs after the best one, then refits that many
-- epochs on all the ratings (the held-out ones too)
SELECT * FROM cf_train('vr', model => 'es', factors => 32, epochs => 200, learning_rate => 0.05,
                       regularization => 0.01, validation_fraction => 0.1, early_stopping => true,
                       patience => 3, verbose => false) \gset es_
SELECT :es_epochs < 200 AS stopped_early, :es_epoch_kept = :es_epochs - 3 AS kept_patience_before,
       :'es_validation_rmse'::float8 = min(validation_rmse) AS returned_the_best,
       :es_ratings = (SELECT count(*) FROM vr) AS refit_on_every_rating
FROM cf_training_log WHERE model = 'es';
SELECT epoch_kept = (SELECT epoch FROM cf_training_log WHERE model = 'es'
                     ORDER BY validation_rmse, epoch LIMIT 1) AS best_epoch_recorded,
       epochs = (SELECT max(epoch) FROM cf_training_log WHERE model = 'es') AS all_epochs_logged,
       hyperparameters ->> 'patience' AS patience
FROM cf_models WHERE name = 'es';
-- the stored model is the refit: exactly the model of epoch_kept epochs
-- on all the ratings, without validation
SELECT count(*) FROM cf_train('vr', model => 'es_direct', factors => 32, epochs => :es_epoch_kept,
                              learning_rate => 0.05, regularization => 0.01, verbose => false);
SELECT count(*) AS items, count(*) FILTER (WHERE a.factors = b.factors AND a.bias = b.bias) AS same
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'es' AND b.model = 'es_direct';
SELECT a.rmse = b.rmse AND a.users = b.users AND a.items = b.items AS same_fit
FROM cf_models a, cf_models b WHERE a.name = 'es' AND b.name = 'es_direct';
-- cf_models.rmse is the refit's exact training fit over every rating
-- (unclipped, as the objective measures it)
SELECT abs(m.rmse - sqrt(avg((r.rating - (m.global_mean + u.bias + i.bias +
              (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS x(a, b)))) ^ 2))) < 1e-5
       AS rmse_of_refit
FROM vr r
JOIN cf_models m ON m.name = 'es'
JOIN cf_user_factors u ON u.model = 'es' AND u.user_id = r.user_id
JOIN cf_item_factors i ON i.model = 'es' AND i.item_id = r.item_id
GROUP BY m.rmse;
-- early stopping beats training on for all 200 epochs on a held-out test set
SELECT count(*) FROM cf_train('vr', model => 'no_es', factors => 32, epochs => 200, learning_rate => 0.05,
                              regularization => 0.01, validation_fraction => 0.1, verbose => false);
SELECT (SELECT validation_rmse FROM cf_training_log WHERE model = 'no_es' AND epoch = 200) >
       (SELECT validation_rmse FROM cf_models m JOIN cf_training_log l ON l.model = m.name
        AND l.epoch = m.epoch_kept WHERE m.name = 'es') AS early_stopping_better;

-- deterministic: the same again gives the same model, also on workers
SELECT count(*) FROM cf_train('vr', model => 'es2', factors => 32, epochs => 200, learning_rate => 0.05,
                              regularization => 0.01, validation_fraction => 0.1, early_stopping => true,
                              patience => 3, workers => 1, verbose => false);
SELECT a.epochs = b.epochs AND a.epoch_kept = b.epoch_kept AND a.rmse = b.rmse AS same_model
FROM cf_models a, cf_models b WHERE a.name = 'es' AND b.name = 'es2';
SELECT bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_item_factors
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id) WHERE a.model = 'es' AND b.model = 'es2';

-- a tiny training's trace (the NOTICEs carry the same values, with seconds)
CREATE TABLE vtiny AS SELECT * FROM cf_synthetic_ratings(20, 10, 120, seed => 3);
SELECT epochs, epoch_kept FROM cf_train('vtiny', model => 'vt', factors => 2, epochs => 3,
                                        validation_fraction => 0.2, verbose => false);
SELECT epoch, round(loss::numeric, 4) AS loss, round(rmse::numeric, 4) AS rmse,
       round(validation_rmse::numeric, 4) AS validation_rmse
FROM cf_training_log WHERE model = 'vt' ORDER BY epoch;
-- without validation the column is NULL
SELECT count(*) FROM cf_train('vtiny', model => 'vt0', factors => 2, epochs => 2, verbose => false);
SELECT count(validation_rmse) AS validated, (SELECT epoch_kept FROM cf_models WHERE name = 'vt0') AS epoch_kept
FROM cf_training_log WHERE model = 'vt0';

-- baseline models validate and stop early too; the default patience is 20
SELECT epochs <= 60 AS ran, epoch_kept >= 1 AS kept, validation_rmse IS NOT NULL AS validated
FROM cf_train('vr', model => 'vb', algorithm => 'baseline', validation_fraction => 0.1,
              early_stopping => true, verbose => false);
SELECT hyperparameters ->> 'patience' AS default_patience FROM cf_models WHERE name = 'vb';

-- errors
SELECT * FROM cf_train('vr', early_stopping => true);
SELECT * FROM cf_train('vr', validation_fraction => -0.1);
SELECT * FROM cf_train('vr', validation_fraction => 0.6);
SELECT * FROM cf_train('vr', validation_fraction => 'NaN');
SELECT * FROM cf_train('vr', validation_fraction => 0.1, early_stopping => true, patience => 0);
SELECT * FROM cf_train('vr', validation_fraction => NULL);
SELECT * FROM cf_train('vr', early_stopping => NULL);
SELECT * FROM cf_train('vr', patience => NULL);
SELECT * FROM cf_train('vr', algorithm => 'popular', validation_fraction => 0.1);
CREATE TABLE vone (user_id int, item_id int, rating real);
INSERT INTO vone VALUES (1, 1, 3);
SELECT * FROM cf_train('vone', validation_fraction => 0.1, verbose => false);
SELECT cf_split_validation(1, 1, 0.5) AS held_at_0_5;
SELECT * FROM cf_train('vone', validation_fraction => 0.5, verbose => false);
