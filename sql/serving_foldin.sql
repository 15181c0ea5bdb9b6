--
-- serving_foldin: cf_recommend_for_ratings and cf_refresh_users
--
\ir sql/fixtures/models.sql

--
-- cf_recommend_for_ratings
--
-- A model solvable by hand: one factor, mean 0, lambda 0.5; item 1 has
-- q = 1, b = 0; item 2 has q = 0, b = 0.5.  One rating of 3 for item 1:
-- rows a = (1, q) = (1, 1), target 3, ridge 0.5 * 1 rating:
--   [1.5 1; 1 1.5] (b_u, p_u) = (3, 3)  =>  b_u = p_u = 1.2
-- so item 2 scores 0 + 1.2 + 0.5 + 1.2 * 0 = 1.7 and item 1 would score 2.4.
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds)
VALUES ('byhand', nextval('cf_model_version_seq'), 'none', 'u', 'i', 'r', 'sgd',
        '{"regularization": 0.5}', 1, 0, 2, 1, 0, 1, 5, 0, 0);
INSERT INTO cf_item_factors VALUES ('byhand', 1, 0, '{1}'), ('byhand', 2, 0.5, '{0}');
SELECT item_id, round(score::numeric, 4) AS score FROM cf_recommend_for_ratings('{1}', '{3}', 10, 'byhand');
SELECT item_id, round(score::numeric, 4) AS score
FROM cf_recommend_for_ratings('{1}', '{3}', 10, 'byhand', exclude_rated => false);
-- the same rating twice counts twice: the data and the ridge (1.0) both
-- double, [3 2; 2 3] x = (6, 6), the same solution
SELECT item_id, round(score::numeric, 4) AS score FROM cf_recommend_for_ratings('{1, 1}', '{3, 3}', 10, 'byhand');
-- regularization 0 (singular: one rating, two unknowns) still solves
UPDATE cf_models SET hyperparameters = '{"regularization": 0}', version = nextval('cf_model_version_seq')
WHERE name = 'byhand';
SELECT item_id, round(score::numeric, 2) AS score
FROM cf_recommend_for_ratings('{1}', '{3}', 10, 'byhand', exclude_rated => false);

-- the default model: folding in a user's own training ratings gives much
-- the same list as the trained vector
CREATE TABLE ratings_of AS
SELECT user_id, array_agg(item_id ORDER BY item_id) AS items, array_agg(rating ORDER BY item_id) AS ratings
FROM ratings WHERE user_id <= 50 GROUP BY user_id;
SELECT sum(overlap) * 1.0 / count(*) >= 7 AS mostly_the_same_top_10
FROM (SELECT (SELECT count(*) FROM cf_recommend_for_ratings(o.items, o.ratings, 10) f
              WHERE f.item_id IN (SELECT item_id FROM cf_recommend(o.user_id, 10))) AS overlap
      FROM ratings_of o) s;
-- the given items are left out, unless exclude_rated => false
SELECT count(*) AS given_recommended
FROM ratings_of o, LATERAL cf_recommend_for_ratings(o.items, o.ratings, 20) f
WHERE f.item_id = ANY (o.items);
SELECT count(*) > 0 AS given_ranked
FROM ratings_of o, LATERAL cf_recommend_for_ratings(o.items, o.ratings, 20, exclude_rated => false) f
WHERE f.item_id = ANY (o.items);
-- someone who loves item 1 and hates item 2 vs the opposite
SELECT (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1, 2}', '{5, 1}', 5))
    <> (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1, 2}', '{1, 5}', 5)) AS ratings_matter;
-- no known ratings: the baseline (as for an unknown user); unknown items are ignored
SELECT (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{}', '{}', 10))
     = (SELECT array_agg(item_id) FROM cf_recommend(999999, 10)) AS empty_is_baseline,
       (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{999999}', '{5}', 10))
     = (SELECT array_agg(item_id) FROM cf_recommend(999999, 10)) AS unknown_items_ignored,
       (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1, 999999}', '{5, 1}', 10))
     = (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1}', '{5}', 10)) AS unknown_item_no_effect;
-- exclude_items and candidates as in cf_recommend
SELECT item_id FROM cf_recommend_for_ratings('{1, 2}', '{5, 1}', 3, candidates => '{10, 20, 30, 40, 2}');
SELECT count(*) AS excluded_shown
FROM cf_recommend_for_ratings('{1}', '{5}', 5, exclude_items => (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1}', '{5}', 3)))
WHERE item_id IN (SELECT item_id FROM cf_recommend_for_ratings('{1}', '{5}', 3));
-- integer and numeric arrays are cast
SELECT count(*) FROM cf_recommend_for_ratings(ARRAY[1, 2], ARRAY[4.5, 2], 3);

-- errors
SELECT * FROM cf_recommend_for_ratings('{1, 2}', '{5}', 10);
SELECT * FROM cf_recommend_for_ratings('{1, NULL}', '{5, 4}', 10);
SELECT * FROM cf_recommend_for_ratings('{1, 2}', '{5, NULL}', 10);
SELECT * FROM cf_recommend_for_ratings('{{1, 2}}', '{{5, 4}}', 10);
SELECT * FROM cf_recommend_for_ratings('{1}', '{NaN}', 10);
SELECT * FROM cf_recommend_for_ratings('{1}', '{Infinity}', 10);
SELECT * FROM cf_recommend_for_ratings('{1, 2}', '{3e38, 3e38}', 10);
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 0);
SELECT * FROM cf_recommend_for_ratings(NULL, '{5}', 10);
SELECT * FROM cf_recommend_for_ratings('{1}', NULL, 10);
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 10, 'no such model');
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 10, 'implicit');
SELECT * FROM cf_recommend_for_ratings('{1}', '{5}', 10, 'handmade');

--
-- cf_refresh_users
--
CREATE TABLE fresh (user_id int, item_id int, rating numeric);
INSERT INTO fresh SELECT user_id, item_id, rating FROM ratings WHERE user_id <= 300;
SELECT users, items FROM cf_train('fresh', model => 'fresh', verbose => false);
CREATE TABLE fresh_before AS SELECT * FROM cf_user_factors WHERE model = 'fresh';
-- squared error of the stored users on their own ratings
CREATE FUNCTION fresh_rmse(ids int[]) RETURNS float8 LANGUAGE sql AS $$
  SELECT sqrt(avg((cf_predict(user_id, item_id, 'fresh') - rating)^2)) FROM fresh WHERE user_id = ANY (ids) $$;
SELECT round(fresh_rmse('{1, 2, 3}')::numeric, 2) AS rmse_before;

-- unchanged data: the users are re-solved (vectors change), the fit stays
-- about as good, their rated items are the same
SELECT * FROM cf_refresh_users('{3, 1, 2, 1}', 'fresh');
SELECT round(fresh_rmse('{1, 2, 3}')::numeric, 2) AS rmse_after;
SELECT count(*) AS changed_vectors,
       bool_and(a.rated_items = b.rated_items) AS same_rated_items
FROM cf_user_factors a JOIN fresh_before b USING (model, user_id)
WHERE a.model = 'fresh' AND a.user_id IN (1, 2, 3) AND a.factors <> b.factors;
SELECT count(*) AS other_users_changed
FROM cf_user_factors a JOIN fresh_before b USING (model, user_id)
WHERE a.model = 'fresh' AND a.user_id NOT IN (1, 2, 3) AND (a.factors <> b.factors OR a.bias <> b.bias);
-- the same as folding in the same ratings
SELECT same_fold_in FROM (
  SELECT (SELECT array_agg(item_id) FROM cf_recommend(1, 10, 'fresh')) =
         (SELECT array_agg(item_id) FROM cf_recommend_for_ratings(
                 (SELECT array_agg(item_id) FROM fresh WHERE user_id = 1),
                 (SELECT array_agg(rating) FROM fresh WHERE user_id = 1), 10, 'fresh')) AS same_fold_in) s;

-- new ratings count at once: user 1 rates ten more items 5
INSERT INTO fresh
SELECT 1, item_id, 5 FROM cf_recommend(1, 10, 'fresh');
SELECT * FROM cf_refresh_users('{1}', 'fresh');
SELECT count(*) AS now_rated FROM cf_user_factors u, LATERAL unnest(u.rated_items) i
WHERE u.model = 'fresh' AND u.user_id = 1 AND i IN (SELECT item_id FROM fresh WHERE user_id = 1 AND rating = 5);
SELECT count(*) AS recommended_again
FROM cf_recommend(1, 10, 'fresh') r JOIN fresh f ON f.user_id = 1 AND f.item_id = r.item_id;

-- a new user is inserted, a user without ratings left is deleted, an id
-- with neither is reported
INSERT INTO fresh VALUES (5000, 1, 5), (5000, 2, 4), (5000, 3, 1), (5000, 999999, 5), (5000, NULL, 1);
DELETE FROM fresh WHERE user_id = 4;
SELECT * FROM cf_refresh_users('{5000, 4, 6000}', 'fresh');
SELECT user_id, rated_items, array_length(factors, 1) AS factors
FROM cf_user_factors WHERE model = 'fresh' AND user_id IN (4, 5000, 6000);
SELECT (SELECT array_agg(item_id) FROM cf_recommend(5000, 10, 'fresh')) =
       (SELECT array_agg(item_id) FROM cf_recommend_for_ratings('{1, 2, 3}', '{5, 4, 1}', 10, 'fresh'))
       AS new_user_folded_in;

-- in the caller's transaction: a rollback undoes it
BEGIN;
SELECT count(*) FROM cf_refresh_users('{5, 6}', 'fresh');
ROLLBACK;
SELECT count(*) AS untouched FROM cf_user_factors a JOIN fresh_before b USING (model, user_id)
WHERE a.model = 'fresh' AND a.user_id IN (5, 6) AND a.factors = b.factors;

-- ratings far beyond the model's scale overflow the user's system: an error
-- (no NaN vector stored)
BEGIN;
INSERT INTO fresh VALUES (5, 1, 3e38), (5, 2, 3e38);
SAVEPOINT s;
SELECT * FROM cf_refresh_users('{5}', 'fresh');
ROLLBACK TO s;
SELECT count(*) AS untouched FROM cf_user_factors a JOIN fresh_before b USING (model, user_id)
WHERE a.model = 'fresh' AND a.user_id = 5 AND a.factors = b.factors;
ROLLBACK;

-- only a role with the model owner's privileges may refresh its users, and
-- the owner's privileges on the source apply (docs/security.md)
CREATE ROLE cf_refresher;
GRANT SELECT, INSERT, UPDATE, DELETE ON cf_models, cf_user_factors, cf_item_factors TO cf_refresher;
SET ROLE cf_refresher;
SELECT * FROM cf_refresh_users('{1}', 'fresh');
RESET ROLE;
UPDATE cf_models SET owner = 'cf_refresher' WHERE name = 'fresh';
SET ROLE cf_refresher;
SELECT * FROM cf_refresh_users('{1}', 'fresh');
RESET ROLE;
GRANT SELECT ON fresh TO cf_refresher;
SET ROLE cf_refresher;
SELECT * FROM cf_refresh_users('{1}', 'fresh');
RESET ROLE;
UPDATE cf_models SET owner = 'postgres' WHERE name = 'fresh';
REVOKE ALL ON cf_models, cf_user_factors, cf_item_factors, fresh FROM cf_refresher;
DROP ROLE cf_refresher;

-- errors
SELECT * FROM cf_refresh_users('{1, NULL}', 'fresh');
SELECT * FROM cf_refresh_users('{{1}}', 'fresh');
SELECT * FROM cf_refresh_users(NULL, 'fresh');
SELECT * FROM cf_refresh_users('{1}', NULL);
SELECT * FROM cf_refresh_users('{1}', 'no such model');
SELECT * FROM cf_refresh_users('{1}', 'implicit');
SELECT * FROM cf_refresh_users('{1}', 'handmade');
ALTER TABLE fresh RENAME COLUMN rating TO stars;
SELECT * FROM cf_refresh_users('{1}', 'fresh');
ALTER TABLE fresh RENAME COLUMN stars TO rating;
ALTER TABLE fresh RENAME TO fresh_renamed;
SELECT * FROM cf_refresh_users('{1}', 'fresh');
ALTER TABLE fresh_renamed RENAME TO fresh;
DELETE FROM cf_models WHERE name IN ('fresh', 'byhand', 'implicit');

--
-- Results do not depend on what the session did before: iALS fold-in
-- solves against the cached Gramian, whose lower triangle was left as
-- whatever the memory held, and the finiteness check read it (a session
-- that had trained failed with 22003 where a fresh one answered).
--
CREATE TABLE gram_ratings AS SELECT * FROM cf_synthetic_ratings(200, 100, 4000);
SELECT model FROM cf_train('gram_ratings', model => 'gram', algorithm => 'ials', factors => 64,
                           epochs => 2, verbose => false);
CREATE TABLE gram_answers AS
SELECT 'fold-in' AS what, string_agg(item_id || ':' || round(score::numeric, 6), ' ') AS answer
FROM cf_recommend_for_ratings('{1, 2, 3}', '{1, 1, 1}', 5, 'gram')
UNION ALL
SELECT 'explain', string_agg(rated_item_id || ':' || round(share::numeric, 6), ' ')
FROM cf_explain(1, 2, 'gram')
UNION ALL
SELECT 'refresh', string_agg(user_id || ':' || action, ' ') FROM cf_refresh_users('{1, 2}', 'gram');
INSERT INTO gram_answers
SELECT 'refreshed', string_agg(round(f::numeric, 6)::text, ' ' ORDER BY user_id, n)
FROM cf_user_factors, unnest(factors) WITH ORDINALITY AS v(f, n)
WHERE model = 'gram' AND user_id IN (1, 2);
SELECT what, answer IS NOT NULL AS answered FROM gram_answers ORDER BY what;
-- a fresh session gives the same
\c
SELECT a.what, a.answer = f.answer AS same_in_fresh_session
FROM gram_answers a JOIN (
  SELECT 'fold-in' AS what, string_agg(item_id || ':' || round(score::numeric, 6), ' ') AS answer
  FROM cf_recommend_for_ratings('{1, 2, 3}', '{1, 1, 1}', 5, 'gram')
  UNION ALL
  SELECT 'explain', string_agg(rated_item_id || ':' || round(share::numeric, 6), ' ')
  FROM cf_explain(1, 2, 'gram')
  UNION ALL
  SELECT 'refresh', string_agg(user_id || ':' || action, ' ') FROM cf_refresh_users('{1, 2}', 'gram')
) f USING (what) ORDER BY a.what;
SELECT answer = (SELECT string_agg(round(f::numeric, 6)::text, ' ' ORDER BY user_id, n)
                 FROM cf_user_factors, unnest(factors) WITH ORDINALITY AS v(f, n)
                 WHERE model = 'gram' AND user_id IN (1, 2)) AS same_refreshed_factors
FROM gram_answers WHERE what = 'refreshed';
DROP TABLE gram_ratings, gram_answers;
SELECT cf_drop_model('gram');
