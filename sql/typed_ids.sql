--
-- typed_ids: models whose ids are not integers (uuid users, text items,
-- mixed, numeric, date), and the errors of a wrong id type
--
CREATE EXTENSION IF NOT EXISTS cf;
SET client_min_messages = warning;

-- a shop: customers by uuid, products by text SKU; ratings from the planted model
CREATE TABLE customers (id uuid PRIMARY KEY, n bigint UNIQUE);
INSERT INTO customers SELECT md5('customer ' || u)::uuid, u FROM generate_series(1, 300) u;
CREATE TABLE products (sku text PRIMARY KEY, n bigint UNIQUE, name text);
INSERT INTO products SELECT 'SKU-' || lpad(i::text, 4, '0'), i, 'product ' || i
FROM generate_series(1, 120) i;
CREATE TABLE shop_ratings AS
SELECT c.id AS customer, p.sku, r.rating
FROM cf_synthetic_ratings(300, 120, 6000, factors => 4) r
JOIN customers c ON c.n = r.user_id JOIN products p ON p.n = r.item_id;
-- rows without a customer or product are skipped and counted
INSERT INTO shop_ratings VALUES (NULL, 'SKU-0001', 3), (md5('customer 1')::uuid, NULL, 3);

SET client_min_messages = notice;
SELECT model, users, items, ratings FROM cf_train('shop_ratings', 'customer', 'sku', 'rating',
    model => 'shop', factors => 8, epochs => 30, verbose => false);
SET client_min_messages = warning;
SELECT name, user_type, item_type, users, items FROM cf_models WHERE name = 'shop';
-- ids are stored by a 64-bit hash of their text, the text beside it
SELECT count(*) AS users, count(DISTINCT user_key) AS keys,
       bool_and(user_key::uuid IN (SELECT id FROM customers)) AS all_customers
FROM cf_user_factors WHERE model = 'shop';
SELECT count(*) AS items, bool_and(item_key LIKE 'SKU-%') AS all_skus
FROM cf_item_factors WHERE model = 'shop';

-- recommendations for a uuid, items as text, joined back to the products
SELECT count(*) AS rows, count(p.name) AS named
FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop') r JOIN products p ON p.sku = r.item_id;
-- the rated items are left out
SELECT count(*) AS rated_recommended
FROM cf_recommend(md5('customer 7')::uuid, 50, 'shop') r
JOIN shop_ratings s ON s.sku = r.item_id AND s.customer = md5('customer 7')::uuid;
SELECT count(*) > 0 AS rated_come_back
FROM cf_recommend(md5('customer 7')::uuid, 120, 'shop', exclude_rated => false) r
JOIN shop_ratings s ON s.sku = r.item_id AND s.customer = md5('customer 7')::uuid;
-- the id as text (any spelling the type reads) gives the same answer
SELECT (SELECT array_agg(item_id) FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop')) =
       (SELECT array_agg(item_id) FROM cf_recommend(upper(md5('customer 7')), 5, 'shop'))
       AS same_by_text;
-- exclusion lists and candidates are item ids as text
SELECT item_id FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop', exclude_rated => false,
    exclude_items => '{SKU-0002}', candidates => '{SKU-0001,SKU-0002,SKU-0003,NOPE}')
ORDER BY item_id;

-- cf_predict is mean + biases + the dot product of the stored rows
SELECT abs(cf_predict(md5('customer 7')::uuid, 'SKU-0003', 'shop') -
       least(greatest(m.global_mean + u.bias + i.bias +
             (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS f(a, b)),
             m.rating_min), m.rating_max)) < 1e-4 AS predict_matches
FROM cf_models m
JOIN cf_user_factors u ON u.model = m.name AND u.user_key = md5('customer 7')::uuid::text
JOIN cf_item_factors i ON i.model = m.name AND i.item_key = 'SKU-0003'
WHERE m.name = 'shop';
SELECT cf_predict(md5('customer 7')::uuid, 'SKU-0003', 'shop') =
       cf_predict(md5('customer 7'), 'SKU-0003', 'shop') AS same_predict;

-- similar users come back as uuid (joinable to customers), items as text
SELECT count(*) AS rows, count(c.n) AS customers
FROM cf_similar_users(md5('customer 7')::uuid, 5, 'shop') s JOIN customers c ON c.id = s.similar_user_id;
SELECT count(*) AS rows, count(p.n) AS products
FROM cf_similar_items('SKU-0003', 5, 'shop') s JOIN products p ON p.sku = s.similar_item_id;
SELECT count(*) AS rows, bool_and(e.rated_item_id IN
    (SELECT sku FROM shop_ratings WHERE customer = md5('customer 7')::uuid)) AS from_history
FROM cf_explain(md5('customer 7')::uuid, 'SKU-0003', 'shop', 3) e;

-- evaluation reads the same types; a split by the ids' text matches training's
SELECT users, ratings FROM cf_evaluate('shop', 'shop_ratings');
SELECT ratings FROM cf_train('shop_ratings', 'customer', 'sku', model => 'shop_v',
    factors => 8, epochs => 5, validation_fraction => 0.2, verbose => false);
SELECT count(*) AS kept FROM shop_ratings
WHERE customer IS NOT NULL AND sku IS NOT NULL
  AND NOT cf_split_validation(customer::text, sku, 0.2);
-- cross-validation and grid search read the typed source like training
SELECT metric, round(mean::numeric, 3) AS mean, array_length(per_fold, 1) AS folds
FROM cf_cross_validate('shop_ratings', 3, 'customer', 'sku', factors => 4, epochs => 5)
WHERE metric IN ('rmse', 'coverage');
SELECT rank, factors, round(rmse::numeric, 3) AS rmse, model
FROM cf_grid_search('shop_ratings', factors => '{2,4}', epochs => '{5}', folds => 2,
                    model => 'shop_best', user_column => 'customer', item_column => 'sku');
SELECT user_type, item_type FROM cf_models WHERE name = 'shop_best';
SELECT round(cf_split_hash('a', 'b')::numeric, 6) AS text_hash,
       cf_split_fold(md5('customer 7')::uuid::text, 'SKU-0003') BETWEEN 0 AND 4 AS a_fold;

-- a wrong id type is an error that names the model's type, never an empty answer
\set VERBOSITY default
SELECT * FROM cf_recommend(42, 5, 'shop');
SELECT * FROM cf_recommend('not a uuid', 5, 'shop');
SELECT cf_predict(md5('customer 7')::uuid, 3, 'shop');
SELECT * FROM cf_similar_items(3, 5, 'shop');
SELECT * FROM cf_recommend_batch(NULL, 5, 'shop');
SELECT * FROM cf_refresh_users('{1}', 'shop');
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 5, 'shop');
CREATE TABLE shop_by_number AS
SELECT c.n AS customer, p.sku, s.rating FROM shop_ratings s
JOIN customers c ON c.id = s.customer JOIN products p ON p.sku = s.sku;
SELECT * FROM cf_evaluate('shop', 'shop_by_number');
SELECT * FROM cf_split('shop_ratings', user_column => 'customer', item_column => 'sku');
SELECT * FROM cf_recommend_batch_by_key('{not-a-uuid}', 5, 'shop');
-- and integer models take no uuid
SELECT model FROM cf_train('shop_by_number', 'customer', 'sku', model => 'mixed', factors => 4,
    epochs => 10, verbose => false);
SELECT * FROM cf_recommend(md5('customer 7')::uuid, 5, 'mixed');
\set VERBOSITY terse

-- mixed types: bigint users, text items.  The bigint form returns bigint item
-- ids, so it refuses; the user id as text returns the items as text.
SELECT user_type, item_type FROM cf_models WHERE name = 'mixed';
SELECT * FROM cf_recommend(7, 3, 'mixed');
SELECT count(*) AS rows, bool_and(item_id LIKE 'SKU-%') AS skus FROM cf_recommend('7', 3, 'mixed');
SELECT cf_predict(7, 'SKU-0003', 'mixed') = cf_predict('7', 'SKU-0003', 'mixed') AS same_predict;
SELECT count(*) FROM cf_split_random(7, 'SKU-0003') x;

-- the functions whose ids are arrays have *_by_key forms: ids as text
SELECT count(*) AS rows, count(DISTINCT user_id) AS users,
       bool_and(user_id::uuid IN (SELECT id FROM customers)) AS customers,
       bool_and(item_id LIKE 'SKU-%') AS skus
FROM cf_recommend_batch_by_key(NULL, 3, 'shop');
SELECT count(*) AS rated_recommended
FROM cf_recommend_batch_by_key(NULL, 3, 'shop') b
JOIN shop_ratings s ON s.customer = b.user_id::uuid AND s.sku = b.item_id;
-- given users: in any spelling, back in the model's; unknown ones get the baseline
SELECT user_id, count(*) AS items
FROM cf_recommend_batch_by_key(ARRAY[upper(md5('customer 7')), md5('nobody')], 3, 'shop')
GROUP BY user_id ORDER BY user_id;
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM cf_recommend_batch_by_key(
            ARRAY[md5('customer 7')], 5, 'shop')) =
       (SELECT array_agg(item_id) FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop'))
       AS batch_matches_recommend;
SELECT count(*) AS rows, bool_and(item_id LIKE 'SKU-%') AS skus
FROM cf_recommend_for_ratings_by_key('{SKU-0001,SKU-0002,NOPE}', '{5,1,3}', 3, 'shop');
-- refresh: a changed user is updated, a new one inserted with its key, a gone one deleted
INSERT INTO shop_ratings VALUES (md5('newcomer')::uuid, 'SKU-0001', 5),
                                (md5('newcomer')::uuid, 'SKU-0002', 4);
DELETE FROM shop_ratings WHERE customer = md5('customer 9')::uuid;
SELECT user_id, ratings, action FROM cf_refresh_users_by_key(
    ARRAY[md5('customer 7'), md5('newcomer'), md5('customer 9')], 'shop') ORDER BY action;
SELECT user_key = md5('newcomer')::uuid::text AS keyed FROM cf_user_factors
WHERE model = 'shop' AND user_key = md5('newcomer')::uuid::text;
SELECT count(*) AS rows FROM cf_recommend(md5('newcomer')::uuid, 3, 'shop');
-- a fold-in error names the user by its id, not by the 64-bit hash cf keeps
INSERT INTO shop_ratings
SELECT md5('customer 8')::uuid, 'SKU-' || lpad(i::text, 4, '0'), 3e38 FROM generate_series(1, 4) i;
\set VERBOSITY default
SELECT * FROM cf_refresh_users_by_key(ARRAY[md5('customer 8')], 'shop');
\set VERBOSITY terse
DELETE FROM shop_ratings WHERE rating > 1e20;
-- a split by key holds out what the split functions on the ids' text do
SELECT count(*) FILTER (WHERE test) AS test_rows,
       count(*) FILTER (WHERE test) = (SELECT count(*) FROM (
           SELECT DISTINCT customer, sku FROM shop_ratings
           WHERE customer IS NOT NULL AND sku IS NOT NULL
             AND cf_split_random(customer::text, sku, 0.2)) q) AS matches_split_random
FROM cf_split_by_key('shop_ratings', fraction => 0.2, user_column => 'customer',
                     item_column => 'sku');
SELECT count(*) FILTER (WHERE test) AS per_user_test_rows
FROM cf_split_by_key('shop_ratings', 'user', k => 2, user_column => 'customer', item_column => 'sku');

-- numeric ids equal up to trailing zeros are one id; dates keep one text form
CREATE TABLE odd_ids (u numeric, i date, r int);
INSERT INTO odd_ids VALUES (1.50, '2024-01-02', 3), (1.5, '2024-01-03', 4), (2, '2024-01-02', 5);
SET datestyle = 'SQL, DMY';
SELECT users, items FROM cf_train('odd_ids', 'u', 'i', 'r', model => 'odd', factors => 2,
    epochs => 3, verbose => false);
SELECT user_key FROM cf_user_factors WHERE model = 'odd' ORDER BY user_key;
SELECT item_key FROM cf_item_factors WHERE model = 'odd' ORDER BY item_key;
SELECT cf_predict('1.500', '03/01/2024', 'odd') = cf_predict('1.5', '2024-01-03', 'odd') AS same;
RESET datestyle;

-- text ids of every length around the loader's 16-byte inline keys
CREATE TABLE long_ids AS
SELECT repeat('u', 1 + u % 30) || u AS u, repeat('i', i % 40) || i AS i, (1 + (u * i) % 5)::real AS r
FROM generate_series(1, 60) u, generate_series(1, 50) i WHERE (u + i) % 4 = 0;
SELECT users = (SELECT count(DISTINCT u) FROM long_ids) AS all_users,
       items = (SELECT count(DISTINCT i) FROM long_ids) AS all_items
FROM cf_train('long_ids', 'u', 'i', 'r', model => 'long', factors => 2, epochs => 3, verbose => false);
SELECT count(*) = (SELECT count(DISTINCT i) FROM long_ids) AS keys_round_trip
FROM cf_item_factors f JOIN (SELECT DISTINCT i FROM long_ids) l ON l.i = f.item_key
WHERE f.model = 'long';
SELECT count(*) AS rows FROM cf_recommend(repeat('u', 8) || '7', 3, 'long');

-- the memory check counts what typed ids take: the same ratings fit with integer ids
CREATE TABLE mem_int AS SELECT u AS user_id, 1 AS item_id, 3::real AS rating
FROM generate_series(1, 30000) u;
CREATE TABLE mem_text AS SELECT repeat('x', 60) || u AS user_id, 1 AS item_id, 3::real AS rating
FROM generate_series(1, 30000) u;
SET maintenance_work_mem = '4MB';
SELECT users FROM cf_train('mem_int', model => 'mem', factors => 2, epochs => 1, verbose => false);
SELECT users FROM cf_train('mem_text', model => 'mem', factors => 2, epochs => 1, verbose => false);
RESET maintenance_work_mem;

-- a copy keeps the types and keys
SELECT cf_copy_model('shop', 'shop_copy');
SELECT (SELECT array_agg(item_id) FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop')) =
       (SELECT array_agg(item_id) FROM cf_recommend(md5('customer 7')::uuid, 5, 'shop_copy'))
       AS same_copy;

SELECT cf_drop_model(name) FROM cf_models WHERE name IN ('shop', 'shop_v', 'mixed', 'odd', 'shop_copy', 'shop_best', 'long', 'mem');
DROP TABLE shop_ratings, shop_by_number, customers, products, odd_ids, long_ids, mem_int, mem_text;
