--
-- manage: dropping, renaming and copying models, the summary view and the
-- training chart
--
-- Models of every kind: with a validation set (v), with early stopping
-- (es, es2), a baseline (b1) and popularity (pop).
\ir sql/fixtures/ratings.sql
CREATE TABLE manage_r AS SELECT * FROM cf_synthetic_ratings(400, 200, 12000, seed => 11);
SELECT model FROM cf_train('manage_r', model => 'v', factors => 16, epochs => 30, validation_fraction => 0.1,
                           verbose => false);
SELECT model FROM cf_train('manage_r', model => 'es', factors => 32, epochs => 200, learning_rate => 0.05,
                           regularization => 0.01, validation_fraction => 0.1, early_stopping => true,
                           patience => 3, verbose => false);
SELECT model FROM cf_train('manage_r', model => 'es2', factors => 32, epochs => 200, learning_rate => 0.05,
                           regularization => 0.01, validation_fraction => 0.1, early_stopping => true,
                           patience => 3, verbose => false);
SELECT model FROM cf_train('manage_r', model => 'b1', algorithm => 'baseline', regularization => 1,
                           epochs => 1, verbose => false);
SELECT model FROM cf_train('manage_r', rating_column => NULL, model => 'pop', algorithm => 'popular',
                           verbose => false);

SELECT model, algorithm, factors, users, items, ratings, epochs, epoch_kept,
       round(train_rmse, 2) AS train_rmse, round(validation_rmse, 2) AS validation_rmse,
       seconds >= 0 AS timed, trained_at IS NOT NULL AS dated
FROM cf_model_summary WHERE model IN ('v', 'es', 'pop', 'b1') ORDER BY model;

-- copy: a new version with every row
SELECT cf_copy_model('es', 'es copy');
SELECT a.version < b.version AS new_version, a.users = b.users AND a.epochs = b.epochs AND
       a.epoch_kept = b.epoch_kept AND a.rmse = b.rmse AND a.hyperparameters = b.hyperparameters AS same_row
FROM cf_models a, cf_models b WHERE a.name = 'es' AND b.name = 'es copy';
SELECT (SELECT count(*) FROM cf_user_factors WHERE model = 'es copy') = (SELECT count(*) FROM cf_user_factors WHERE model = 'es') AS users,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'es copy') = (SELECT count(*) FROM cf_item_factors WHERE model = 'es') AS items,
       (SELECT count(*) FROM cf_training_log WHERE model = 'es copy' AND validation_rmse IS NOT NULL) =
       (SELECT count(*) FROM cf_training_log WHERE model = 'es') AS log;
SELECT bool_and(cf_predict(user_id, item_id, 'es copy') = cf_predict(user_id, item_id, 'es')) AS same_predictions
FROM manage_r WHERE user_id <= 20;

-- rename: the rows follow, the old name is gone, the new one serves
SELECT cf_rename_model('es copy', 'es renamed');
SELECT name FROM cf_models WHERE name LIKE 'es %' ORDER BY name;
SELECT count(*) AS user_rows FROM cf_user_factors WHERE model = 'es renamed';
SELECT count(*) AS left_behind FROM cf_user_factors WHERE model = 'es copy';
SELECT count(*) AS recommended FROM cf_recommend(1, 5, 'es renamed');
SELECT * FROM cf_recommend(1, 5, 'es copy');

-- drop: the model and its rows
SELECT cf_drop_model('es renamed');
SELECT (SELECT count(*) FROM cf_models WHERE name = 'es renamed') AS models,
       (SELECT count(*) FROM cf_user_factors WHERE model = 'es renamed') AS users,
       (SELECT count(*) FROM cf_item_factors WHERE model = 'es renamed') AS items,
       (SELECT count(*) FROM cf_training_log WHERE model = 'es renamed') AS log;
SELECT cf_drop_model('es renamed', if_exists => true);
-- in a transaction, rolled back: the model stays
BEGIN;
SELECT cf_drop_model('es2');
ROLLBACK;
SELECT count(*) AS still_there FROM cf_user_factors WHERE model = 'es2';

-- the chart: a hand-made log of 12 epochs, the 8th kept
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds, epoch_kept)
VALUES ('charted', nextval('cf_model_version_seq'), 'none', 'u', 'i', 'r', 'sgd', '{}',
        1, 1, 1, 1, 3, 1, 5, 12, 0, 8);
INSERT INTO cf_training_log (model, epoch, loss, rmse, seconds, validation_rmse)
SELECT 'charted', e, 1.0 / e + 0.4, 1.0 / e + 0.35, 0.01, 0.8 + 0.002 * (e - 8) ^ 2
FROM generate_series(1, 12) e;
SELECT * FROM cf_training_chart('charted', height => 8);
-- more epochs than columns: each column shows the last epoch of its group
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds, epoch_kept)
VALUES ('long', nextval('cf_model_version_seq'), 'none', 'u', 'i', 'r', 'sgd', '{}',
        1, 1, 1, 1, 3, 1, 5, 100, 0, 100);
INSERT INTO cf_training_log (model, epoch, loss, rmse, seconds)
SELECT 'long', e, 2.0 - e / 100.0, 1, 0.01 FROM generate_series(1, 100) e;
SELECT * FROM cf_training_chart('long', width => 20, height => 5);
-- in the select list, one line a row
SELECT cf_training_chart('charted', 10, 3);
-- a model without epochs
SELECT * FROM cf_training_chart('pop');
-- any log cf_train writes draws: a baseline on ratings of the order of 1e9
-- (loss ~1e18, where an absolute widening of the range vanished and 0/0
-- made a row index), and one epoch (a single value)
CREATE TABLE huge_ratings AS
SELECT user_id, item_id, rating * 1e9 AS rating FROM cf_synthetic_ratings(300, 200, 6000);
SELECT model, epochs FROM cf_train('huge_ratings', model => 'huge', algorithm => 'baseline',
                                   epochs => 1, verbose => false);
SELECT * FROM cf_training_chart('huge', height => 5);
-- and any log a user writes: values at the limits of double precision,
-- infinities and NaN (not drawn), all equal
UPDATE cf_training_log SET loss = CASE epoch WHEN 1 THEN -1e308 WHEN 2 THEN 1e308
                                             WHEN 3 THEN 'Infinity' WHEN 4 THEN 'NaN' ELSE loss END,
                           validation_rmse = CASE epoch WHEN 5 THEN '-Infinity' ELSE 1.7e308 END
WHERE model = 'charted';
SELECT * FROM cf_training_chart('charted', width => 12, height => 5);
UPDATE cf_training_log SET loss = 5e-324, validation_rmse = 5e-324 WHERE model = 'charted';
SELECT * FROM cf_training_chart('charted', width => 12, height => 3);
UPDATE cf_training_log SET loss = 1.7976931348623157e308, validation_rmse = NULL
WHERE model = 'charted';
SELECT * FROM cf_training_chart('charted', width => 12, height => 3);
UPDATE cf_training_log SET loss = 'NaN', validation_rmse = NULL WHERE model = 'charted';
SELECT * FROM cf_training_chart('charted', width => 12, height => 3);
UPDATE cf_models SET epoch_kept = -5 WHERE name = 'charted';
SELECT count(*) AS lines FROM cf_training_chart('charted');
SELECT cf_drop_model('huge');
DROP TABLE huge_ratings;

-- errors
SELECT cf_drop_model('no such model');
SELECT cf_drop_model('');
SELECT cf_drop_model(NULL);
SELECT cf_drop_model('v', NULL);
SELECT cf_rename_model('no such model', 'x');
SELECT cf_rename_model('v', 'es');
SELECT cf_rename_model('v', '');
SELECT cf_rename_model('v', NULL);
SELECT cf_copy_model('no such model', 'x');
SELECT cf_copy_model('v', 'v');
SELECT * FROM cf_training_chart('no such model');
SELECT * FROM cf_training_chart('charted', width => 5);
SELECT * FROM cf_training_chart('charted', height => 101);
SELECT * FROM cf_training_chart('charted', height => NULL);
