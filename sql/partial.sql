--
-- partial: an ALS half-step in SQL (cf_als_sums, cf_als_solve), the form
-- in which parallel query and Citus compute it in parts
--
\ir sql/fixtures/extension.sql

CREATE TABLE partial_ratings AS
  SELECT * FROM cf_synthetic_ratings(500, 200, 10000, seed => 4);
SELECT count(*) FROM cf_train('partial_ratings', model => 'partial_als', algorithm => 'als',
                              factors => 8, verbose => false);

-- ALS stores each user's solution against the final items, so one user
-- half-step in SQL over the stored items gives the stored users back
CREATE TABLE partial_users AS
SELECT r.user_id,
       cf_als_solve(cf_als_sums(i.factors, i.bias, r.rating, m.global_mean), 0.12, 1) AS x
FROM partial_ratings r
JOIN cf_item_factors i ON i.model = 'partial_als' AND i.item_id = r.item_id
JOIN cf_models m ON m.name = 'partial_als'
GROUP BY r.user_id;
SELECT count(*) AS users,
       max(abs(u.bias - p.x[9])) < 1e-4 AS same_biases,
       max((SELECT max(abs(a - b)) FROM unnest(u.factors, p.x[1:8]) AS t(a, b))) < 1e-4
         AS same_factors
FROM partial_users p JOIN cf_user_factors u ON u.model = 'partial_als' AND u.user_id = p.user_id;

-- the same half-step from each user's ratings as arrays and the items as a
-- matrix (cf_als_solve_rated, as cf_train on Citus runs it): the same rows
CREATE TABLE partial_items_matrix AS
SELECT array_agg(item_id ORDER BY item_id) AS ids,
       array_agg(factors || bias ORDER BY item_id) AS vectors
FROM cf_item_factors WHERE model = 'partial_als';
SELECT array_dims(vectors) FROM partial_items_matrix;
SELECT count(*) AS users,
       max((SELECT max(abs(a - b)) FROM unnest(p.x, q.x) AS t(a, b))) < 1e-5 AS same_rows
FROM (SELECT r.user_id,
             cf_als_solve_rated(i.ids, i.vectors, array_agg(r.item_id), array_agg(r.rating),
                                m.global_mean, 0.12, 1) AS x
      FROM partial_ratings r, partial_items_matrix i, cf_models m
      WHERE m.name = 'partial_als'
      GROUP BY r.user_id, i.ids, i.vectors, m.global_mean) q
JOIN partial_users p USING (user_id);
-- items not among the ids are left out; with none left, NULL
SELECT cf_als_solve_rated('{1,2}', '{{1,0,0},{0,1,0}}', '{1,3}', '{4,5}', 3, 0.1)
     = cf_als_solve_rated('{1,2}', '{{1,0,0},{0,1,0}}', '{1}', '{4}', 3, 0.1) AS unknown_left_out,
       cf_als_solve_rated('{1,2}', '{{1,0,0},{0,1,0}}', '{3}', '{4}', 3, 0.1) IS NULL AS none_null;

-- sums grouped by item, alone and on parallel workers that each sum a
-- part (the combine function adds them up): the same solutions but for the
-- order of float additions
CREATE TABLE partial_items AS
SELECT item_id, cf_als_solve(cf_als_sums(ARRAY[rating, user_id % 7]::real[], 0, rating, 3), 0.1) AS x
FROM partial_ratings GROUP BY item_id;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
CREATE FUNCTION partial_plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS
$$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q; END $$;
SELECT bool_or(p ~ 'Partial') AS partial_aggregate
FROM partial_plan($$
  SELECT item_id, cf_als_solve(cf_als_sums(ARRAY[rating, user_id % 7]::real[], 0, rating, 3), 0.1)
  FROM partial_ratings GROUP BY item_id $$) p;
SELECT count(*) AS items,
       max((SELECT max(abs(a - b)) FROM unnest(q.x, p.x) AS t(a, b))) < 1e-4 AS same
FROM (SELECT item_id,
             cf_als_solve(cf_als_sums(ARRAY[rating, user_id % 7]::real[], 0, rating, 3), 0.1) AS x
      FROM partial_ratings GROUP BY item_id) q
JOIN partial_items p USING (item_id);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET enable_hashagg;

-- two parts added by hand are the sums of the whole
SELECT cf_sums_combine(a, b) = c AS combined
FROM (SELECT cf_als_sums(ARRAY[1, 2]::real[], 0.5, 4, 3) FILTER (WHERE g = 1) AS a,
             cf_als_sums(ARRAY[1, 2]::real[], 0.5, 4, 3) FILTER (WHERE g = 2) AS b,
             cf_als_sums(ARRAY[1, 2]::real[], 0.5, 4, 3) AS c
      FROM generate_series(1, 2) g) s;
-- ratings with a NULL are left out; no ratings, no sums
SELECT cf_als_sums(f, 0, 4, 3) IS NULL AS no_sums
FROM (VALUES (NULL::real[])) v(f);
-- one rating, ridge 0: the tiny retry ridge makes it solvable
SELECT array_length(cf_als_solve(cf_als_sums(ARRAY[1, 2]::real[], 0, 4, 3), 0), 1) AS unknowns;
-- every rating counted twice, ridge 0: the same solution
SELECT cf_als_solve(cf_sums_combine(s, s), 0) = cf_als_solve(s, 0) AS weighted_same
FROM (SELECT cf_als_sums(ARRAY[1, 2]::real[], 0, r, 3) AS s
      FROM (VALUES (4), (2), (5)) v(r)) t;

-- iALS: one user half-step over an iALS model's items (their Gramian,
-- each user's weighted sums) gives its stored users back
SELECT count(*) FROM cf_train('partial_ratings', model => 'partial_ials', algorithm => 'ials',
                              factors => 8, solver => 'cholesky', verbose => false);
WITH g AS (SELECT cf_gram(factors) AS gram, count(*) AS items
           FROM cf_item_factors WHERE model = 'partial_ials'),
     s AS (SELECT r.user_id, cf_ials_solve(cf_ials_sums(i.factors, r.rating, 10), g.gram, 0.03, 1, g.items) AS x
           FROM partial_ratings r
           JOIN cf_item_factors i ON i.model = 'partial_ials' AND i.item_id = r.item_id, g
           GROUP BY r.user_id, g.gram, g.items)
SELECT count(*) AS users,
       max((SELECT max(abs(a - b)) FROM unnest(u.factors, s.x) AS t(a, b))) < 1e-4 AS same_factors
FROM s JOIN cf_user_factors u ON u.model = 'partial_ials' AND u.user_id = s.user_id;
-- and from arrays (cf_ials_solve_rated): the same rows
WITH g AS (SELECT cf_gram(factors) AS gram, count(*) AS items,
                  array_agg(item_id ORDER BY item_id) AS ids,
                  array_agg(factors ORDER BY item_id) AS vectors
           FROM cf_item_factors WHERE model = 'partial_ials'),
     s AS (SELECT r.user_id,
                  cf_ials_solve_rated(g.ids, g.vectors, array_agg(r.item_id), array_agg(r.rating),
                                      10, g.gram, 0.03, 1, g.items) AS x
           FROM partial_ratings r, g
           GROUP BY r.user_id, g.ids, g.vectors, g.gram, g.items)
SELECT count(*) AS users,
       max((SELECT max(abs(a - b)) FROM unnest(u.factors, s.x) AS t(a, b))) < 1e-4 AS same_factors
FROM s JOIN cf_user_factors u ON u.model = 'partial_ials' AND u.user_id = s.user_id;
-- amounts that are not positive are left out, as iALS leaves them
SELECT cf_ials_sums(f, a, 10) = cf_ials_sums(f, a, 10) FILTER (WHERE a > 0) AS zeros_left_out
FROM (VALUES (ARRAY[1, 2]::real[], 3.0), (ARRAY[2, 1]::real[], 0), (ARRAY[1, 1]::real[], -1)) v(f, a);

-- errors
SELECT cf_als_sums(f, 0, 4, 3) FROM (VALUES (ARRAY[1, 2]::real[]), (ARRAY[1, 2, 3]::real[])) v(f);
SELECT cf_als_sums(ARRAY[[1, 2], [3, 4]]::real[], 0, 4, 3);
SELECT cf_als_sums(ARRAY[1, NULL]::real[], 0, 4, 3);
SELECT cf_als_solve('\x00'::bytea, 0.1);
SELECT cf_als_solve(cf_als_sums(ARRAY[1, 2]::real[], 0, 4, 3), -1);
SELECT cf_als_solve(cf_als_sums(ARRAY[1, 2]::real[], 0, 'NaN', 3), 0.1);
SELECT cf_als_solve(cf_gram(ARRAY[1, 2]::real[]), 0.1);
SELECT cf_sums_combine(cf_gram(ARRAY[1, 2]::real[]), cf_als_sums(ARRAY[1, 2]::real[], 0, 4, 3));
SELECT cf_ials_solve(cf_ials_sums(ARRAY[1, 2]::real[], 1, 10), cf_gram(ARRAY[1, 2, 3]::real[]), 0.1, 1, 5);
SELECT cf_ials_solve(cf_ials_sums(ARRAY[1, 2]::real[], 1, 10), cf_gram(ARRAY[1, 2]::real[]), 0.1, 1, 0);

SELECT cf_als_solve_rated('{2,1}', '{{1,0,0},{0,1,0}}', '{1}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,2}', '{1,0,0,0,1,0}', '{1}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,2}', '{{1,0,0}}', '{1}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,2}', '{{1},{0}}', '{1}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,NULL}', '{{1,0,0},{0,1,0}}', '{1}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,2}', '{{1,0,0},{0,1,0}}', '{1,2}', '{4}', 3, 0.1);
SELECT cf_als_solve_rated('{1,2}', '{{1,0,0},{0,1,0}}', '{1}', '{NULL}', 3, 0.1);
SELECT cf_ials_solve_rated('{1,2}', '{{1,0},{0,1}}', '{1}', '{4}', 10, cf_gram(ARRAY[1, 2, 3]::real[]), 0.1, 1, 2);
SELECT cf_ials_solve_rated('{1,2}', '{{1,0},{0,1}}', '{1}', '{4}', 10, cf_gram(ARRAY[1, 2]::real[]), 0.1, 1, 0);
SELECT cf_drop_model('partial_als');
SELECT cf_drop_model('partial_ials');
DROP FUNCTION partial_plan(text);
DROP TABLE partial_ratings, partial_users, partial_items, partial_items_matrix;
