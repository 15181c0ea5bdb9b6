--
-- recommend: cf_recommend
--
-- Planted structure (fixtures/models.sql): 200 users and 100 items in 4
-- groups (id % 4); users rate items of their own group 4-5 and the others
-- 1-2; about a fifth of the cells are rated, picked by a quadratic hash so
-- that every user shares items with users of every group.  The best unrated
-- items of a user are the rest of its group.
\ir sql/fixtures/models.sql
SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM groups;

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

-- ties are broken by item id: the hand-made model (fixtures/models.sql) where
-- items 3 and 1 tie
SELECT * FROM cf_recommend(1, 10, 'handmade');
SELECT * FROM cf_recommend(1, 2, 'handmade');
SELECT * FROM cf_recommend(1, 10, 'handmade', exclude_rated => false);
SELECT cf_predict(1, 4, 'handmade') AS clipped, cf_predict(1, 2, 'handmade') AS mean_plus_user_bias;

-- scores are computed in single precision and come back with the float's
-- digits (4.686569), not a double's rendering of it (4.686569690704346):
-- at most 9 significant digits, for every function that scores
SELECT bool_and(length(btrim(regexp_replace(score::text, '[^0-9]|e.*$', '', 'g'), '0')) <= 9)
       AS short_scores
FROM (SELECT score FROM cf_recommend(1, 50)
      UNION ALL SELECT cf_predict(user_id, item_id) FROM ratings_test
      UNION ALL SELECT score FROM cf_recommend_batch(ARRAY[1, 2, 3], 20)
      UNION ALL SELECT score FROM cf_recommend_for_ratings(ARRAY[1, 2, 3], ARRAY[5, 4, 1], 20)
      UNION ALL SELECT similarity FROM cf_similar_items(1, 20)
      UNION ALL SELECT similarity FROM cf_similar_users(1, 20)
      UNION ALL SELECT share FROM cf_explain(1, 2)) s;

-- errors
SELECT * FROM cf_recommend(1, 0);
SELECT * FROM cf_recommend(1, -5);
SELECT * FROM cf_recommend(1, 10, 'no such model');
SELECT * FROM cf_recommend(NULL, 10);
SELECT * FROM cf_recommend(1, NULL);
SELECT * FROM cf_recommend(1, 10, NULL);
SELECT * FROM cf_recommend(1, 10, 'default', NULL);
