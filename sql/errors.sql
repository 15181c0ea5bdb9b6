--
-- errors: every argument and source error of cf_train, each leaving the
-- stored models unchanged
--
\ir sql/fixtures/ratings.sql
SELECT count(*) AS models, coalesce(sum(version), 0) AS versions FROM cf_models \gset before_

-- the source: missing, of the wrong kind, empty, without the columns
SELECT * FROM cf_train('no_such_table');
CREATE SEQUENCE a_sequence;
SELECT * FROM cf_train('a_sequence');
CREATE INDEX ratings_user_idx ON ratings (user_id);
SELECT * FROM cf_train('ratings_user_idx');
CREATE TYPE a_composite AS (user_id int, item_id int, rating real);
SELECT * FROM cf_train('a_composite');
CREATE TABLE empty_ratings (user_id int, item_id int, rating real);
SELECT * FROM cf_train('empty_ratings');
INSERT INTO empty_ratings VALUES (NULL, 1, 1), (1, NULL, 1), (1, 1, NULL);
SELECT * FROM cf_train('empty_ratings');
SELECT * FROM cf_train('ratings', user_column => 'customer');
SELECT * FROM cf_train('ratings', item_column => 'product');
SELECT * FROM cf_train('ratings', rating_column => 'stars');
SELECT * FROM cf_train('ratings', user_column => 'ctid');

-- columns of the wrong type
CREATE TABLE wrong_types (user_id float8, item_id jsonb, rating text, uid uuid, when_rated timestamptz);
SELECT * FROM cf_train('wrong_types');
SELECT * FROM cf_train('wrong_types', user_column => 'uid');
SELECT * FROM cf_train('wrong_types', user_column => 'uid', item_column => 'when_rated');
CREATE TABLE text_ratings (user_id int, item_id int, rating text);
SELECT * FROM cf_train('text_ratings');
CREATE TABLE time_ratings (user_id int, item_id int, rating timestamptz);
SELECT * FROM cf_train('time_ratings');

-- ratings that are not finite numbers
CREATE TABLE bad_ratings (user_id int, item_id int, rating float8);
INSERT INTO bad_ratings VALUES (1, 1, 3), (1, 2, 'Infinity');
SELECT * FROM cf_train('bad_ratings');
UPDATE bad_ratings SET rating = '-Infinity' WHERE item_id = 2;
SELECT * FROM cf_train('bad_ratings');
UPDATE bad_ratings SET rating = 'NaN' WHERE item_id = 2;
SELECT * FROM cf_train('bad_ratings');
UPDATE bad_ratings SET rating = 1e300 WHERE item_id = 2;
SELECT * FROM cf_train('bad_ratings');
CREATE TABLE bad_numeric (user_id int, item_id int, rating numeric);
INSERT INTO bad_numeric VALUES (1, 1, 3), (2, 2, 'NaN');
SELECT * FROM cf_train('bad_numeric');

-- hyperparameters out of range
SELECT * FROM cf_train('ratings', factors => 0);
SELECT * FROM cf_train('ratings', factors => 100000);
SELECT * FROM cf_train('ratings', epochs => 0);
SELECT * FROM cf_train('ratings', epochs => -1);
SELECT * FROM cf_train('ratings', learning_rate => 0);
SELECT * FROM cf_train('ratings', learning_rate => -0.01);
SELECT * FROM cf_train('ratings', learning_rate => 2);
SELECT * FROM cf_train('ratings', learning_rate => 'NaN');
SELECT * FROM cf_train('ratings', regularization => -1);
SELECT * FROM cf_train('ratings', regularization => 'Infinity');
SELECT * FROM cf_train('ratings', model => '');
SELECT * FROM cf_train('ratings', workers => -1);
SELECT * FROM cf_train('ratings', workers => 5000);
SELECT * FROM cf_train('ratings', algorithm => 'svd++');
SELECT * FROM cf_train('ratings', algorithm => NULL);

-- NULL arguments
SELECT * FROM cf_train(NULL);
SELECT * FROM cf_train('ratings', user_column => NULL);
SELECT * FROM cf_train('ratings', item_column => NULL);
SELECT * FROM cf_train('ratings', rating_column => NULL);
-- (factors, epochs, learning_rate, regularization and the ALS/iALS
-- settings may be NULL: the algorithm's default, see the als and bayes
-- tests; model NULL names "default" and verbose NULL prints a short trace,
-- see the train test)
SELECT model, factors FROM cf_train('ratings', model => 'null_factors', factors => NULL, verbose => false);
SELECT model, factors FROM cf_train('ratings', model => 'null_factors_bayes', algorithm => 'bayes',
                                    factors => NULL, epochs => 2, verbose => false);
SELECT cf_drop_model('null_factors'), cf_drop_model('null_factors_bayes');
SELECT * FROM cf_train('ratings', seed => NULL);

-- a learning rate so large that training diverges
CREATE TABLE steep (user_id int, item_id int, rating float8);
INSERT INTO steep SELECT u, i, ((u * i) % 7) * 1e6 FROM generate_series(1, 30) u, generate_series(1, 30) i;
SELECT * FROM cf_train('steep', learning_rate => 1, epochs => 50, verbose => false);
-- a regularization so large that each update overshoots (the hint says
-- which setting, not "raise regularization")
SELECT * FROM cf_train('ratings', regularization => 1000, epochs => 5, verbose => false);
-- ratings near the limit of single precision overflow ALS's sums
CREATE TABLE vast (user_id int, item_id int, rating float8);
INSERT INTO vast SELECT u, i, CASE WHEN u <= 5 THEN 3e38 ELSE -3e38 END
FROM generate_series(1, 10) u, generate_series(1, 10) i;
SELECT * FROM cf_train('vast', algorithm => 'als', epochs => 2, model => 'vast', verbose => false);
DROP TABLE vast;

-- a training that needs more memory than maintenance_work_mem allows
SET maintenance_work_mem = '1MB';
SELECT * FROM cf_train('ratings', factors => 256, verbose => false);
RESET maintenance_work_mem;

-- the synthetic generator's arguments
SELECT * FROM cf_synthetic_ratings(0, 10, 10);
SELECT * FROM cf_synthetic_ratings(10, 10, 101);
SELECT * FROM cf_synthetic_ratings(10, 10, -1);
SELECT * FROM cf_synthetic_ratings(10, 10, 10, noise => -1);
SELECT * FROM cf_synthetic_ratings(10, 10, 10, factors => 0);
SELECT * FROM cf_synthetic_ratings(NULL, 10, 10);

-- nothing above changed a model
SELECT count(*) = :before_models AS same_models, coalesce(sum(version), 0) = :before_versions AS same_versions
FROM cf_models;

-- each error class carries its own SQLSTATE
CREATE FUNCTION sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT q, sqlstate_of(q) FROM (VALUES
  ($$SELECT cf_train('no_such_table')$$),
  ($$SELECT cf_train('a_sequence')$$),
  ($$SELECT cf_train('ratings', user_column => 'customer')$$),
  ($$SELECT cf_train('ratings', user_column => 'ctid')$$),
  ($$SELECT cf_train('wrong_types')$$),
  ($$SELECT cf_train('empty_ratings')$$),
  ($$SELECT cf_train('bad_numeric')$$),
  ($$SELECT cf_train('ratings', factors => 0)$$),
  ($$SELECT cf_train('ratings', seed => NULL)$$),
  ($$SELECT cf_train('steep', learning_rate => 1, epochs => 50, verbose => false)$$),
  ($$SELECT cf_predict(1, 1, 'no such model')$$),
  ($$SET LOCAL maintenance_work_mem = '1MB'; SELECT cf_train('ratings', factors => 256, verbose => false)$$),
  ($$SELECT cf_recommend(1, 0)$$)
) AS t(q);
