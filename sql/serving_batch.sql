--
-- serving_batch: cf_recommend_batch, cf_similar_items, cf_similar_users,
-- cf_explain
--
\ir sql/fixtures/models.sql

--
-- cf_recommend_batch
--
-- the same lists as cf_recommend, user by user (scores within 1e-4: sgemm
-- and sgemv may round differently)
CREATE TABLE single AS
SELECT u AS user_id, r.item_id, r.score, row_number() OVER (PARTITION BY u ORDER BY r.score DESC, r.item_id) AS rank
FROM generate_series(1, 1000) u, LATERAL cf_recommend(u, 10) r;
CREATE TABLE batch AS SELECT * FROM cf_recommend_batch(NULL, 10);
SELECT count(*) AS rows, count(DISTINCT user_id) AS users, min(rank), max(rank) FROM batch;
SELECT count(*) AS mismatches
FROM batch b FULL JOIN single s USING (user_id, rank)
WHERE b.item_id IS DISTINCT FROM s.item_id OR abs(b.score - s.score) > 1e-4;
-- rows come by user id, then rank
SELECT count(*) AS out_of_order
FROM (SELECT user_id, rank, lag(user_id) OVER () AS pu, lag(rank) OVER () AS pr
      FROM cf_recommend_batch(NULL, 3)) s
WHERE (user_id, rank) <= (pu, pr);
-- never a rated item
SELECT count(*) AS rated_items_recommended
FROM batch b JOIN cf_user_factors f ON f.model = 'default' AND f.user_id = b.user_id
WHERE b.item_id = ANY (f.rated_items);

-- given users: sorted, each once; an unknown user gets the baseline list
SELECT user_id, rank, item_id FROM cf_recommend_batch('{8, 7, 8, 999999}', 2) ORDER BY user_id, rank;
SELECT array_agg(item_id ORDER BY rank) =
       (SELECT array_agg(item_id) FROM cf_recommend(999999, 5)) AS unknown_user_baseline
FROM cf_recommend_batch('{999999}', 5);
SELECT count(*) FROM cf_recommend_batch('{}', 5);

-- small blocks (work_mem) give the same rows
SET work_mem = '64kB';
SELECT count(*) AS small_block_mismatches
FROM cf_recommend_batch(NULL, 10) b FULL JOIN batch s USING (user_id, rank)
WHERE b.item_id IS DISTINCT FROM s.item_id;
SELECT count(*) AS given_mismatches
FROM cf_recommend_batch((SELECT array_agg(u) FROM generate_series(1, 1000, 3) u), 10) b
JOIN batch s USING (user_id, rank)
WHERE b.item_id IS DISTINCT FROM s.item_id;
RESET work_mem;

-- exclude_rated => false and n larger than the catalog (groups: 100 items)
SELECT count(*) AS rows, count(DISTINCT item_id) AS items
FROM cf_recommend_batch('{42}', 1000, 'groups', exclude_rated => false);
SELECT count(*) = 100 - (SELECT array_length(rated_items, 1) FROM cf_user_factors
                         WHERE model = 'groups' AND user_id = 42) AS all_unrated
FROM cf_recommend_batch('{42}', 1000, 'groups');

-- rows stream: a LIMIT in the select list stops the scan early, and the
-- model stays usable afterwards
SELECT (b).user_id, (b).rank FROM (SELECT cf_recommend_batch(NULL, 5) AS b LIMIT 3) s;
SELECT count(*) FROM cf_recommend_batch('{1, 2}', 5);

-- errors
SELECT * FROM cf_recommend_batch(NULL, 0);
SELECT * FROM cf_recommend_batch(NULL, NULL);
SELECT * FROM cf_recommend_batch('{1, NULL}', 5);
SELECT * FROM cf_recommend_batch('{{1}, {2}}', 5);
SELECT * FROM cf_recommend_batch(NULL, 5, 'no such model');
SELECT * FROM cf_recommend_batch(NULL, 5, NULL);
SELECT * FROM cf_recommend_batch(NULL, 5, exclude_rated => NULL);

--
-- cf_similar_items and cf_similar_users: cosine of the factor vectors
--
CREATE FUNCTION cosine(a real[], b real[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN sum(x::float8 * x) = 0 OR sum(y::float8 * y) = 0 THEN 0
         ELSE sum(x::float8 * y) / sqrt(sum(x::float8 * x)) / sqrt(sum(y::float8 * y)) END
  FROM unnest(a, b) t(x, y) $$;
-- the hand-made model: 1 = (1, 0), 2 = (0, 0), 3 = (1, 0), 4 = (1, 1)
SELECT similar_item_id, round(similarity::numeric, 4) AS similarity FROM cf_similar_items(1, 10, 'handmade');
SELECT similar_item_id, round(similarity::numeric, 4) AS similarity FROM cf_similar_items(2, 10, 'handmade');
-- the default model against SQL
SELECT array_agg(similar_item_id) = (SELECT array_agg(item_id) FROM
         (SELECT b.item_id FROM cf_item_factors a, cf_item_factors b
          WHERE a.model = 'default' AND b.model = 'default' AND a.item_id = 42 AND b.item_id <> 42
          ORDER BY cosine(a.factors, b.factors) DESC, b.item_id LIMIT 10) s) AS same_items,
       max(abs(similarity - (SELECT cosine(a.factors, b.factors) FROM cf_item_factors a, cf_item_factors b
                             WHERE a.model = 'default' AND b.model = 'default' AND a.item_id = 42
                               AND b.item_id = similar_item_id))) < 1e-5 AS same_values
FROM cf_similar_items(42, 10);
SELECT count(*) AS all_but_itself, count(*) FILTER (WHERE similar_item_id = 42) AS itself
FROM cf_similar_items(42, 100000);
SELECT array_agg(similar_user_id) = (SELECT array_agg(user_id) FROM
         (SELECT b.user_id FROM cf_user_factors a, cf_user_factors b
          WHERE a.model = 'default' AND b.model = 'default' AND a.user_id = 42 AND b.user_id <> 42
          ORDER BY cosine(a.factors, b.factors) DESC, b.user_id LIMIT 10) s) AS same_users,
       max(abs(similarity - (SELECT cosine(a.factors, b.factors) FROM cf_user_factors a, cf_user_factors b
                             WHERE a.model = 'default' AND b.model = 'default' AND a.user_id = 42
                               AND b.user_id = similar_user_id))) < 1e-5 AS same_values
FROM cf_similar_users(42, 10);
SELECT count(*) AS all_but_itself, count(*) FILTER (WHERE similar_user_id = 42) AS itself
FROM cf_similar_users(42, 100000);
-- in the planted groups, a user's nearest users are of its own group
SELECT count(*) FILTER (WHERE similar_user_id % 4 = 42 % 4) AS same_group
FROM cf_similar_users(42, 10, 'groups');

-- a k = 1 model: every vector is along one line, so every cosine is exactly
-- 1 or -1 (never past them) and equal cosines tie, ordered by id
SELECT model FROM cf_train('groups', model => 'one factor', factors => 1, epochs => 3,
                           verbose => false);
SELECT count(*) AS items, count(*) FILTER (WHERE abs(similarity) <> 1) AS not_plus_minus_one,
       max(similarity) AS highest, min(similarity) AS lowest,
       bool_and(tie_order_ok) AS ties_by_id
FROM (SELECT similarity,
             lag(similarity) OVER w > similarity OR lag(similar_item_id) OVER w < similar_item_id
               OR lag(similarity) OVER w IS NULL AS tie_order_ok
      FROM cf_similar_items(1, 1000, 'one factor') WITH ORDINALITY AS t(similar_item_id, similarity, ord)
      WINDOW w AS (ORDER BY ord)) s;
SELECT count(*) AS users, count(*) FILTER (WHERE abs(similarity) <> 1) AS not_plus_minus_one
FROM cf_similar_users(1, 1000, 'one factor');
SELECT cf_drop_model('one factor');

-- errors
SELECT * FROM cf_similar_items(999999, 5);
SELECT * FROM cf_similar_users(999999, 5);
SELECT * FROM cf_similar_items(1, 0);
SELECT * FROM cf_similar_users(1, -1);
SELECT * FROM cf_similar_items(NULL, 5);
SELECT * FROM cf_similar_users(1, NULL);
SELECT * FROM cf_similar_items(1, 5, 'no such model');
SELECT * FROM cf_similar_users(1, 5, 'no such model');

--
-- cf_explain
--
-- hand-made: user 1 rated only item 4; item 4 = (1, 1) explains item 1 = (1, 0)
SELECT rated_item_id, round(similarity::numeric, 4) AS similarity, share
FROM cf_explain(1, 1, 'handmade');
-- nothing similar: item 2 is the zero vector
SELECT count(*) FROM cf_explain(1, 2, 'handmade');
-- the default model: similarities as in SQL, best first, shares of all
-- supporting items sum to 1
SELECT count(*) AS rows,
       bool_and(abs(similarity - cosine(r.factors, t.factors)) < 1e-5) AS similarity_is_cosine,
       round(sum(share)::numeric, 6) AS total_share
FROM cf_explain(7, 276, n => 1000) e
JOIN cf_item_factors r ON r.model = 'default' AND r.item_id = e.rated_item_id
JOIN cf_item_factors t ON t.model = 'default' AND t.item_id = 276;
SELECT count(*) AS supporting_items
FROM cf_user_factors u, unnest(u.rated_items) j, cf_item_factors r, cf_item_factors t
WHERE u.model = 'default' AND u.user_id = 7 AND r.model = 'default' AND r.item_id = j
  AND t.model = 'default' AND t.item_id = 276 AND cosine(r.factors, t.factors) > 0;
SELECT count(*) AS order_violations
FROM (SELECT share, lag(share) OVER () AS prev FROM cf_explain(7, 276, n => 1000)) s WHERE share > prev;
SELECT count(*) AS top3, sum(share) < 1 AS partial_share FROM cf_explain(7, 276, n => 3);
-- a rated target does not explain itself
SELECT rated_items[1] AS rated_item_of_7 FROM cf_user_factors WHERE model = 'default' AND user_id = 7 \gset
SELECT count(*) AS itself FROM cf_explain(7, :rated_item_of_7, n => 1000) WHERE rated_item_id = :rated_item_of_7;

-- errors
SELECT * FROM cf_explain(999999, 1);
SELECT * FROM cf_explain(7, 999999);
SELECT * FROM cf_explain(7, 1, n => 0);
SELECT * FROM cf_explain(NULL, 1);
SELECT * FROM cf_explain(7, NULL);
SELECT * FROM cf_explain(7, 1, 'no such model');
-- a model of an algorithm without an explanation (nor a fold-in), made by
-- hand (fixtures/models.sql)
SELECT * FROM cf_explain(1, 1, 'implicit');
