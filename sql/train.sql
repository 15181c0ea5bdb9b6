--
-- train: cf_train on data with a known answer
--
-- Ratings from a planted 20-factor model (cf_synthetic_ratings), 10% held
-- out by a fixed rule (fixtures/ratings.sql).  Training output is deterministic for a seed; floats
-- are rounded so the expected output is stable.
--
\ir sql/fixtures/ratings.sql
SELECT count(*) AS train, (SELECT count(*) FROM ratings_test) AS test FROM ratings;

-- the one-row summary
SELECT model, users, items, ratings, factors, epochs,
       round(loss::numeric, 2) AS loss, round(rmse::numeric, 2) AS rmse,
       seconds > 0 AS timed
FROM cf_train('ratings', verbose => false);

-- the model row
SELECT name, version > 0 AS versioned, source, user_column, item_column, rating_column,
       algorithm, hyperparameters, factors, users, items, ratings,
       round(global_mean::numeric, 4) AS global_mean, rating_min, rating_max, epochs,
       round(rmse::numeric, 2) AS rmse, seconds > 0 AS timed,
       trained_at <= clock_timestamp() AS trained_at_ok
FROM cf_models;

-- factor rows: one per user and per item, k values each, the user's rated items
SELECT count(*) AS users, min(array_length(factors, 1)), max(array_length(factors, 1)),
       sum(array_length(rated_items, 1)) AS rated
FROM cf_user_factors WHERE model = 'default';
SELECT count(*) AS items, min(array_length(factors, 1)), max(array_length(factors, 1))
FROM cf_item_factors WHERE model = 'default';
-- rated_items is exactly the user's training items, sorted
SELECT count(*) AS mismatches
FROM cf_user_factors f
WHERE model = 'default'
  AND rated_items IS DISTINCT FROM
      (SELECT array_agg(DISTINCT item_id ORDER BY item_id) FROM ratings r WHERE r.user_id = f.user_id);

-- the epoch trace: one row per epoch, each epoch timed, the loss going down
SELECT count(*) AS epochs, bool_and(seconds >= 0) AS timed,
       round(min(loss) FILTER (WHERE epoch = 1)::numeric, 2) AS first_loss,
       round(min(loss) FILTER (WHERE epoch = 60)::numeric, 2) AS last_loss,
       round(min(rmse) FILTER (WHERE epoch = 60)::numeric, 2) AS last_rmse
FROM cf_training_log WHERE model = 'default';
SELECT count(*) AS loss_increases
FROM (SELECT loss - lag(loss) OVER (ORDER BY epoch) AS d
      FROM cf_training_log WHERE model = 'default') s
WHERE d > 0;

-- quality: training and held-out RMSE beat the global mean and the
-- regularized baseline (mean + user bias + item bias) by a wide margin
CREATE TABLE baseline AS
WITH mu AS (SELECT avg(rating) AS m FROM ratings),
     bi AS (SELECT item_id, sum(rating - m) / (count(*) + 25) AS b
            FROM ratings, mu GROUP BY item_id),
     bu AS (SELECT user_id, sum(rating - m - bi.b) / (count(*) + 10) AS b
            FROM ratings JOIN bi USING (item_id), mu GROUP BY user_id)
SELECT t.user_id, t.item_id, t.rating, m + coalesce(bu.b, 0) + coalesce(bi.b, 0) AS pred, m
FROM ratings_test t LEFT JOIN bu USING (user_id) LEFT JOIN bi USING (item_id), mu;
SELECT sqrt(avg((m - rating)^2)) > 1.1 AS mean_rmse_above_1_1,
       sqrt(avg((pred - rating)^2)) > 1.0 AS baseline_rmse_above_1_0,
       sqrt(avg((cf_predict(user_id, item_id) - rating)^2)) < 0.8 AS cf_rmse_below_0_8
FROM baseline;
SELECT rmse < 0.65 AS training_rmse_below_0_65 FROM cf_models WHERE name = 'default';

-- determinism: the same data and seed give the same model, bit for bit;
-- another seed gives another
SELECT rmse FROM cf_train('ratings', model => 'same', verbose => false) \gset
SELECT rmse = :rmse AS same_rmse FROM cf_models WHERE name = 'default';
SELECT bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_item_factors,
       count(*) AS items
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'default' AND b.model = 'same';
SELECT bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_user_factors
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE a.model = 'default' AND b.model = 'same';
SELECT count(*) FROM cf_train('ratings', model => 'other', seed => 7, verbose => false);
SELECT bool_and(a.factors = b.factors) AS same_with_other_seed
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'default' AND b.model = 'other';
-- the model depends on the rows, not on the order a scan returns them
CREATE TABLE ratings_shuffled AS SELECT * FROM ratings ORDER BY (user_id * 31 + item_id * 17) % 101, item_id DESC;
SELECT count(*) FROM cf_train('ratings_shuffled', model => 'shuffled', verbose => false);
SELECT bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_from_shuffled_table
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'default' AND b.model = 'shuffled';
-- likewise for heavy users (64 ratings or more: sorted by item with a radix
-- sort) who rate the same items many times with different ratings
CREATE TABLE heavy AS
  SELECT u AS user_id, g % 40 AS item_id, ((g * 7 + u) % 11)::real / 2 AS rating
  FROM generate_series(1, 3) u, generate_series(1, 300) g;
CREATE TABLE heavy_shuffled AS SELECT * FROM heavy ORDER BY (user_id * 13 + (rating * 2)::int * 31 + item_id * 7) % 29, rating DESC;
SELECT count(*) FROM cf_train('heavy', model => 'heavy', epochs => 3, verbose => false);
SELECT count(*) FROM cf_train('heavy_shuffled', model => 'heavy_shuffled', epochs => 3, verbose => false);
SELECT bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_for_heavy_users
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE a.model = 'heavy' AND b.model = 'heavy_shuffled';
SELECT cf_drop_model('heavy'), cf_drop_model('heavy_shuffled');
DROP TABLE heavy, heavy_shuffled;

-- parallel workers: the same model, bit for bit, with 0, 1 and 2 workers
-- beside the leader (the blocks a round runs share no user and no item);
-- had fewer workers started than asked for, a NOTICE would say so

SELECT count(*) FROM cf_train('ratings', model => 'w0', workers => 0, verbose => false);
SELECT count(*) FROM cf_train('ratings', model => 'w1', workers => 1, verbose => false);
SELECT count(*) FROM cf_train('ratings', model => 'w2', workers => 2, verbose => false);
SELECT b.model, bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_item_factors
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'w0' AND b.model IN ('w1', 'w2') GROUP BY b.model ORDER BY b.model;
SELECT b.model, bool_and(a.factors = b.factors AND a.bias = b.bias) AS same_user_factors
FROM cf_user_factors a JOIN cf_user_factors b USING (user_id)
WHERE a.model = 'w0' AND b.model IN ('w1', 'w2') GROUP BY b.model ORDER BY b.model;
SELECT count(DISTINCT (loss, rmse)) AS distinct_traces
FROM cf_models WHERE name IN ('w0', 'w1', 'w2');

-- settings are stored; other settings, other model
SELECT model, users, items, ratings, factors, epochs
FROM cf_train('ratings', model => 'small', factors => 4, epochs => 3,
              learning_rate => 0.02, regularization => 0.01, seed => 1, verbose => false);
SELECT hyperparameters, factors, epochs FROM cf_models WHERE name = 'small';
SELECT count(*) AS epochs_logged FROM cf_training_log WHERE model = 'small';
SELECT DISTINCT array_length(factors, 1) FROM cf_item_factors WHERE model = 'small';

-- the trace of a tiny training (NOTICEs carry seconds, which vary: the
-- trace is checked in cf_training_log)
CREATE TABLE tiny (user_id int, item_id int, rating int);
INSERT INTO tiny VALUES (1, 1, 5), (1, 2, 3), (2, 1, 4), (2, 3, 1), (3, 2, 2), (3, 3, 5);
SELECT users, items, ratings FROM cf_train('tiny', model => 'tiny', epochs => 2, verbose => false);
SELECT epoch, round(loss::numeric, 4) AS loss, round(rmse::numeric, 4) AS rmse
FROM cf_training_log WHERE model = 'tiny' ORDER BY epoch;

-- retraining replaces the model whole: new version, new counts, new trace
SELECT version AS v1 FROM cf_models WHERE name = 'tiny' \gset
INSERT INTO tiny VALUES (4, 4, 3);
SELECT users, items, ratings FROM cf_train('tiny', model => 'tiny', epochs => 3, verbose => false);
SELECT version > :v1 AS new_version, users, items, ratings, epochs FROM cf_models WHERE name = 'tiny';
SELECT count(*) AS user_rows FROM cf_user_factors WHERE model = 'tiny';
SELECT count(*) AS log_rows FROM cf_training_log WHERE model = 'tiny';
SELECT version AS v2 FROM cf_models WHERE name = 'tiny' \gset

-- training is transactional: a rolled-back training leaves the old model
BEGIN;
INSERT INTO tiny VALUES (5, 5, 1);
SELECT users FROM cf_train('tiny', model => 'tiny', epochs => 1, verbose => false);
SELECT users FROM cf_models WHERE name = 'tiny';
ROLLBACK;
SELECT version = :v2 AS old_version, users, items, ratings, epochs FROM cf_models WHERE name = 'tiny';
SELECT count(*) AS user_rows FROM cf_user_factors WHERE model = 'tiny';

-- a training that fails part-way leaves the old model exactly as it was
SELECT md5(string_agg(factors::text, ',' ORDER BY item_id)) AS before
FROM cf_item_factors WHERE model = 'tiny' \gset
CREATE TABLE tiny_bad AS SELECT user_id, item_id, rating::float8 AS rating FROM tiny;
INSERT INTO tiny_bad VALUES (9, 9, 'NaN');
SELECT * FROM cf_train('tiny_bad', model => 'tiny', verbose => false);
SELECT md5(string_agg(factors::text, ',' ORDER BY item_id)) = :'before' AS unchanged,
       (SELECT users FROM cf_models WHERE name = 'tiny') AS users
FROM cf_item_factors WHERE model = 'tiny';

-- rows with a NULL user, item or rating are skipped and counted
CREATE TABLE with_nulls (user_id bigint, item_id bigint, rating numeric);
INSERT INTO with_nulls VALUES (1, 1, 4.5), (1, 2, 3), (2, 1, 2), (NULL, 1, 3), (2, NULL, 3), (2, 2, NULL);
SELECT users, items, ratings FROM cf_train('with_nulls', model => 'nulls', epochs => 1, verbose => false);

-- duplicate (user, item) rows are separate observations: each counts as a
-- rating (like a weight); the item is listed once among the user's items
CREATE TABLE dups (user_id int, item_id int, rating real);
INSERT INTO dups VALUES (1, 1, 5), (1, 1, 5), (1, 1, 4), (1, 2, 1), (2, 1, 3), (2, 2, 2);
SELECT users, items, ratings FROM cf_train('dups', model => 'dups', epochs => 1, verbose => false);
SELECT user_id, rated_items FROM cf_user_factors WHERE model = 'dups' ORDER BY user_id;
SELECT round(global_mean::numeric, 4) AS mean_over_all_rows FROM cf_models WHERE name = 'dups';

-- sources: id and rating types, views, materialized views, partitioned tables
CREATE TABLE typed (u smallint, i bigint, r numeric(3,1));
INSERT INTO typed SELECT user_id, item_id * 1000000000000, rating FROM ratings WHERE user_id <= 100;
SELECT users, items, ratings FROM cf_train('typed', 'u', 'i', 'r', model => 'typed', epochs => 2, verbose => false);
SELECT min(item_id) >= 1000000000000 AS big_ids FROM cf_item_factors WHERE model = 'typed';
CREATE DOMAIN stars AS integer CHECK (VALUE BETWEEN 1 AND 5);
CREATE TABLE domained (user_id integer, item_id integer, rating stars);
INSERT INTO domained SELECT user_id, item_id, rating FROM ratings WHERE user_id <= 50;
SELECT users, items, ratings FROM cf_train('domained', model => 'domained', epochs => 1, verbose => false);
CREATE VIEW good_ratings AS SELECT user_id, item_id, rating FROM ratings WHERE rating >= 3;
SELECT ratings = (SELECT count(*) FROM ratings WHERE rating >= 3) AS all_rows
FROM cf_train('good_ratings', model => 'view', epochs => 1, verbose => false);
CREATE MATERIALIZED VIEW ratings_mv AS SELECT * FROM ratings WHERE user_id <= 200;
SELECT users FROM cf_train('ratings_mv', model => 'matview', epochs => 1, verbose => false);
CREATE TABLE parted (user_id int, item_id int, rating real) PARTITION BY RANGE (user_id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (1) TO (500);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (500) TO (2000);
INSERT INTO parted SELECT * FROM ratings;
SELECT users, ratings FROM cf_train('parted', model => 'parted', verbose => false);
-- same rows as the plain table: the same model
SELECT bool_and(a.factors = b.factors) AS same_as_plain_table
FROM cf_item_factors a JOIN cf_item_factors b USING (item_id)
WHERE a.model = 'default' AND b.model = 'parted';
-- a schema-qualified source with names that need quoting
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."My ""Ratings""" ("User Id" int, "Item;Id" int, "Rating'" real);
INSERT INTO "Odd Schema"."My ""Ratings""" SELECT * FROM tiny;
SELECT users, items, ratings
FROM cf_train('"Odd Schema"."My ""Ratings"""', 'User Id', 'Item;Id', 'Rating''',
              model => 'odd', epochs => 1, verbose => false);
SELECT source, user_column, item_column, rating_column FROM cf_models WHERE name = 'odd';

-- a model's rows follow its cf_models row: renamed with it, deleted with it
UPDATE cf_models SET name = 'w0 renamed' WHERE name = 'w0';
SELECT model, count(*) FROM cf_user_factors WHERE model LIKE 'w0%' GROUP BY model;
SELECT model, count(*) FROM cf_item_factors WHERE model LIKE 'w0%' GROUP BY model;
SELECT model, count(*) FROM cf_training_log WHERE model LIKE 'w0%' GROUP BY model;
DELETE FROM cf_models WHERE name IN ('w0 renamed', 'w1');
SELECT (SELECT count(*) FROM cf_user_factors WHERE model IN ('w0', 'w0 renamed', 'w1')) AS users,
       (SELECT count(*) FROM cf_item_factors WHERE model IN ('w0', 'w0 renamed', 'w1')) AS items,
       (SELECT count(*) FROM cf_training_log WHERE model IN ('w0', 'w0 renamed', 'w1')) AS epochs;
BEGIN;
TRUNCATE cf_models;
SELECT (SELECT count(*) FROM cf_user_factors) AS users, (SELECT count(*) FROM cf_item_factors) AS items,
       (SELECT count(*) FROM cf_training_log) AS epochs;
ROLLBACK;

-- without a model argument (or with model => NULL) the model is "default",
-- which only a training of the same algorithm replaces unasked; named, any
-- algorithm replaces it.  (The NOTICE a replacement prints: docs/reference/
-- cf_train.md, run by the doc tests, as NOTICEs carry timings.)
SELECT version AS default_version, algorithm AS default_algorithm
FROM cf_models WHERE name = 'default' \gset
SELECT * FROM cf_train('tiny', algorithm => 'als', verbose => false);
SELECT * FROM cf_train('tiny', algorithm => 'baseline', model => NULL, verbose => false);
SELECT version = :default_version AND algorithm = :'default_algorithm' AS default_unchanged
FROM cf_models WHERE name = 'default';
BEGIN;
SELECT model, ratings FROM cf_train('tiny', verbose => false);
SELECT model, ratings FROM cf_train('tiny', model => 'default', algorithm => 'als', verbose => false);
SELECT algorithm, ratings FROM cf_models WHERE name = 'default';
ROLLBACK;

SELECT name FROM cf_models ORDER BY name;
