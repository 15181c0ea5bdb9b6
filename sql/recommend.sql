--
-- recommend: cf_recommend
--
-- Planted structure: 200 users and 100 items in 4 groups (id % 4); users
-- rate items of their own group 4-5 and the others 1-2; about a fifth of
-- the cells are rated, picked by a quadratic hash so that every user shares
-- items with users of every group.  The best unrated items of a user are
-- the rest of its group.
CREATE TABLE groups AS
SELECT u AS user_id, i AS item_id,
       CASE WHEN u % 4 = i % 4 THEN 4 + (u + i) % 2 ELSE 1 + (u * i) % 2 END AS rating
FROM generate_series(1, 200) u, generate_series(1, 100) i
WHERE (u * 1009 + i * 7919)::bigint * (u * 1009 + i * 7919) % 10007 % 5 = 0;
SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM groups;
SELECT users, items, ratings FROM cf_train('groups', model => 'groups', factors => 8, verbose => false);

-- n rows, best first, none of them rated by the user, all from its group
SELECT count(*) AS n,
       count(*) FILTER (WHERE item_id % 4 = 42 % 4) AS in_group,
       count(*) FILTER (WHERE item_id IN (SELECT item_id FROM groups WHERE user_id = 42)) AS rated
FROM cf_recommend(42, 10, 'groups');
SELECT count(*) AS users_with_an_out_of_group_item_in_top_10
FROM generate_series(1, 200) u,
     LATERAL (SELECT count(*) FILTER (WHERE item_id % 4 <> u % 4) AS bad
              FROM cf_recommend(u, 10, 'groups')) r
WHERE bad > 0;
SELECT count(*) AS order_violations
FROM (SELECT score, lag(score) OVER () AS prev FROM cf_recommend(42, 50, 'groups')) s
WHERE score > prev;

-- exclude_rated => false ranks the rated items too (the user's own-group
-- items it rated are among its best)
SELECT count(*) FILTER (WHERE item_id IN (SELECT item_id FROM groups WHERE user_id = 42)) AS rated
FROM cf_recommend(42, 10, 'groups', exclude_rated => false);

-- every user of the default model: never a rated item
SELECT count(*) AS rated_items_recommended
FROM cf_user_factors f, LATERAL cf_recommend(f.user_id, 20) r
WHERE f.model = 'default' AND f.user_id <= 100 AND r.item_id = ANY (f.rated_items);

-- the score is the unclipped prediction
SELECT max(abs(r.score - s.raw)) < 1e-4 AS score_is_raw_prediction
FROM cf_recommend(7, 10) r JOIN raw_scores s ON s.user_id = 7 AND s.item_id = r.item_id;
SELECT item_id, round(score::numeric, 3) AS score FROM cf_recommend(7, 5);

-- n larger than the catalog: every unrated item, once
SELECT count(*) AS returned, count(DISTINCT item_id) AS distinct_items,
       500 - (SELECT array_length(rated_items, 1) FROM cf_user_factors
              WHERE model = 'default' AND user_id = 7) AS unrated
FROM cf_recommend(7, 100000);
SELECT count(*) AS all_items FROM cf_recommend(7, 2147483647, exclude_rated => false);

-- an unknown user gets the items with the best baseline score (item bias)
SELECT array_agg(item_id ORDER BY score DESC, item_id) =
       (SELECT array_agg(item_id) FROM
          (SELECT item_id FROM cf_item_factors WHERE model = 'default'
           ORDER BY bias DESC, item_id LIMIT 10) b) AS unknown_user_by_item_bias
FROM cf_recommend(999999, 10);

-- ties are broken by item id: a hand-made model where items 3 and 1 tie
INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                       algorithm, hyperparameters, factors, users, items, ratings,
                       global_mean, rating_min, rating_max, epochs, seconds)
VALUES ('handmade', nextval('cf_model_version_seq'), 'none', 'u', 'i', 'r', 'sgd', '{}',
        2, 1, 4, 1, 3, 1, 5, 0, 0);
INSERT INTO cf_user_factors VALUES ('handmade', 1, 0.5, '{1, 2}', '{4}');
INSERT INTO cf_item_factors VALUES
  ('handmade', 1, 0, '{1, 0}'), ('handmade', 2, 0, '{0, 0}'),
  ('handmade', 3, 0, '{1, 0}'), ('handmade', 4, 9, '{1, 1}');
SELECT * FROM cf_recommend(1, 10, 'handmade');
SELECT * FROM cf_recommend(1, 2, 'handmade');
SELECT * FROM cf_recommend(1, 10, 'handmade', exclude_rated => false);
SELECT cf_predict(1, 4, 'handmade') AS clipped, cf_predict(1, 2, 'handmade') AS mean_plus_user_bias;

-- errors
SELECT * FROM cf_recommend(1, 0);
SELECT * FROM cf_recommend(1, -5);
SELECT * FROM cf_recommend(1, 10, 'no such model');
SELECT * FROM cf_recommend(NULL, 10);
SELECT * FROM cf_recommend(1, NULL);
SELECT * FROM cf_recommend(1, 10, NULL);
SELECT * FROM cf_recommend(1, 10, 'default', NULL);
