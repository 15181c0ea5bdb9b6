--
-- predict: cf_predict against the stored factors
--
\ir sql/fixtures/models.sql
-- a few held-out pairs of the default model
SELECT user_id, item_id, rating, round(cf_predict(user_id, item_id)::numeric, 2) AS predicted
FROM ratings_test ORDER BY user_id, item_id LIMIT 8;

-- the prediction is mean + b_u + b_i + p_u . q_i, clipped to the rating range
-- (raw_scores, fixtures/models.sql: that sum from the stored rows, in SQL)
SELECT count(*) AS pairs,
       max(abs(cf_predict(user_id, item_id) - least(greatest(raw, 1), 5))) < 1e-4 AS matches,
       count(*) FILTER (WHERE raw > 5) > 0 AS some_above_5,
       count(*) FILTER (WHERE raw < 1) > 0 AS some_below_1,
       bool_and(cf_predict(user_id, item_id) = 5) FILTER (WHERE raw > 5.001) AS clipped_to_5,
       bool_and(cf_predict(user_id, item_id) = 1) FILTER (WHERE raw < 0.999) AS clipped_to_1
FROM raw_scores;

-- unknown users and items fall back to the baseline terms that exist
SELECT abs(cf_predict(999999, 1) -
           ((SELECT global_mean FROM cf_models WHERE name = 'default') +
            (SELECT bias FROM cf_item_factors WHERE model = 'default' AND item_id = 1))) < 1e-6
       AS unknown_user_gets_mean_plus_item_bias;
SELECT abs(cf_predict(1, 999999) -
           ((SELECT global_mean FROM cf_models WHERE name = 'default') +
            (SELECT bias FROM cf_user_factors WHERE model = 'default' AND user_id = 1))) < 1e-6
       AS unknown_item_gets_mean_plus_user_bias;
-- (to the float's digits: scores come back as the float they are computed in)
SELECT abs(cf_predict(999999, 999999) -
           (SELECT global_mean FROM cf_models WHERE name = 'default')) < 1e-6
       AS unknown_both_gets_mean;

-- NULL in, NULL out (the function is strict), as for SQL operators
SELECT cf_predict(NULL, 1) IS NULL AS null_user, cf_predict(1, NULL) IS NULL AS null_item,
       cf_predict(1, 1, NULL) IS NULL AS null_model;

-- another model by name
SELECT round(cf_predict(1, 1, 'groups')::numeric, 2) AS groups,
       round(cf_predict(1, 1, 'handmade')::numeric, 2) AS handmade;

-- unknown model
SELECT cf_predict(1, 1, 'no such model');
SELECT cf_predict(1, 1, '');
