--
-- serving: the factor cache, cf_predict through it, cf_recommend's options
--
-- Each test file runs in a new backend, so the cache starts empty.  The
-- models come from fixtures/models.sql (default, groups, handmade).
--
\ir sql/fixtures/models.sql
SELECT count(*) AS cached FROM cf_cache();

-- a reference top-n in plain SQL, straight from the factor rows
CREATE FUNCTION sql_top(m text, u bigint, n int, excl bigint[] DEFAULT '{}',
                        cand bigint[] DEFAULT NULL, exclude_rated boolean DEFAULT true)
RETURNS TABLE (item_id bigint, score float8) LANGUAGE sql STABLE AS $$
  SELECT i.item_id,
         mo.global_mean + uf.bias + i.bias +
         (SELECT sum(a::float8 * b) FROM unnest(uf.factors, i.factors) x(a, b)) AS score
  FROM cf_item_factors i
  JOIN cf_models mo ON mo.name = i.model
  JOIN cf_user_factors uf ON uf.model = i.model AND uf.user_id = u
  WHERE i.model = m AND i.item_id <> ALL (excl)
    AND (NOT exclude_rated OR i.item_id <> ALL (uf.rated_items))
    AND (cand IS NULL OR i.item_id = ANY (cand))
  ORDER BY score DESC, i.item_id LIMIT n $$;
-- same items in the same order, scores within 1e-4
CREATE FUNCTION same_top(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE x record; y record; c1 refcursor; c2 refcursor;
BEGIN
  OPEN c1 FOR EXECUTE a; OPEN c2 FOR EXECUTE b;
  LOOP
    FETCH c1 INTO x; FETCH c2 INTO y;
    IF x IS NULL AND y IS NULL THEN RETURN true; END IF;
    IF x IS NULL OR y IS NULL OR x.item_id <> y.item_id OR abs(x.score - y.score) > 1e-4 THEN
      RETURN false;
    END IF;
  END LOOP;
END $$;

--
-- The cache: the first call reads the model, later calls hit
--
SELECT count(*) FROM cf_recommend(7, 10);
SELECT model, version = (SELECT version FROM cf_models WHERE name = 'default') AS current_version,
       items, factors, bytes >= items * factors * 4 AS holds_the_matrix, hits
FROM cf_cache();
SELECT count(*) FROM cf_recommend(8, 10);
SELECT round(cf_predict(1, 1)::numeric, 4) AS predicted;
SELECT model, hits FROM cf_cache();

-- served results equal the factor rows, for many users
SELECT count(*) FILTER (WHERE same_top(format('SELECT * FROM cf_recommend(%s, 10)', u),
                                       format($$SELECT * FROM sql_top('default', %s, 10)$$, u)))
       AS users_matching, count(*) AS users
FROM generate_series(1, 60) u;

-- cf_predict through the cache equals the stored rows (raw_scores, fixtures/models.sql)
SELECT max(abs(cf_predict(user_id, item_id) - least(greatest(raw, 1), 5))) < 1e-4 AS predict_matches
FROM raw_scores;

--
-- A retrain is seen by the next call: a new version, a new entry, the old
-- one gone
--
SELECT count(*) FROM cf_recommend(42, 10, 'groups');
SELECT version AS groups_before FROM cf_models WHERE name = 'groups' \gset
SELECT count(*) FROM cf_train('groups', model => 'groups', factors => 8, seed => 3, verbose => false);
SELECT same_top('SELECT * FROM cf_recommend(42, 10, ''groups'')',
                $$SELECT * FROM sql_top('groups', 42, 10)$$) AS serves_new_model;
SELECT count(*) AS groups_entries,
       bool_and(version = (SELECT version FROM cf_models WHERE name = 'groups')) AS at_new_version,
       bool_and(version > :groups_before) AS newer
FROM cf_cache() WHERE model = 'groups';

-- a retrain rolled back: inside the transaction the new model, after it
-- the old one again
BEGIN;
SELECT count(*) FROM cf_train('groups', model => 'groups', factors => 8, seed => 5, verbose => false);
SELECT same_top('SELECT * FROM cf_recommend(42, 10, ''groups'')',
                $$SELECT * FROM sql_top('groups', 42, 10)$$) AS serves_uncommitted_model;
SELECT version = (SELECT version FROM cf_models WHERE name = 'groups') AS cache_at_visible_version
FROM cf_cache() WHERE model = 'groups';
ROLLBACK;
SELECT same_top('SELECT * FROM cf_recommend(42, 10, ''groups'')',
                $$SELECT * FROM sql_top('groups', 42, 10)$$) AS serves_committed_model;
SELECT version = (SELECT version FROM cf_models WHERE name = 'groups') AS cache_at_visible_version
FROM cf_cache() WHERE model = 'groups';

-- a dropped model is not served, even though it is cached
BEGIN;
DELETE FROM cf_models WHERE name = 'groups';
SELECT * FROM cf_recommend(42, 10, 'groups');
ROLLBACK;

--
-- The budget: least recently used first out
--
-- three hand-made models of 1500 items x 64 factors (about 460 kB each)
CREATE FUNCTION make_model(m text, nitems int, seed float8) RETURNS void LANGUAGE sql AS $$
  SELECT setseed(seed);
  INSERT INTO cf_models (name, version, source, user_column, item_column, rating_column,
                         algorithm, hyperparameters, factors, users, items, ratings,
                         global_mean, rating_min, rating_max, epochs, seconds)
  VALUES (m, nextval('cf_model_version_seq'), 'none', 'u', 'i', 'r', 'sgd',
          '{"regularization": 0.1}', 64, 1, nitems, 1, 3, 1, 5, 0, 0);
  INSERT INTO cf_item_factors
  SELECT m, i, (random() - 0.5)::real,
         ARRAY(SELECT (random() - 0.5 + 0 * i)::real FROM generate_series(1, 64))
  FROM generate_series(1, nitems) i;
  INSERT INTO cf_user_factors
  VALUES (m, 1, 0, ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, 64)), '{1, 2, 3}');
$$;
SELECT make_model('big1', 1500, 0.1), make_model('big2', 1500, 0.2), make_model('big3', 1500, 0.3);
SET cf.cache_size = '1MB';
SELECT count(*) FROM cf_recommend(1, 5, 'big1');
SELECT count(*) FROM cf_recommend(1, 5, 'big2');
SELECT model, bytes < 512 * 1024 AS under_half_a_megabyte FROM cf_cache();
SELECT count(*) FROM cf_recommend(1, 5, 'big1');
SELECT model FROM cf_cache();
SELECT count(*) FROM cf_recommend(1, 5, 'big3');
-- big2 was the least recently used
SELECT model FROM cf_cache();
SELECT sum(bytes) <= 1024 * 1024 AS within_budget FROM cf_cache();

-- cf.cache_size = 0: nothing cached, the same results
SELECT array_agg(item_id) AS cached_top FROM cf_recommend(1, 5, 'big3') \gset
SET cf.cache_size = 0;
SELECT array_agg(item_id) = :'cached_top' AS same_without_cache FROM cf_recommend(1, 5, 'big3');
SELECT same_top('SELECT * FROM cf_recommend(7, 10)', $$SELECT * FROM sql_top('default', 7, 10)$$)
       AS uncached_matches;
SELECT max(abs(cf_predict(user_id, item_id) - least(greatest(raw, 1), 5))) < 1e-4 AS uncached_predict_matches
FROM raw_scores WHERE user_id <= 5;
SELECT count(*) AS cached FROM cf_cache();

-- a model that is not cached must fit maintenance_work_mem to be read
-- whole; cf_predict and small candidate lists read only their items
SELECT make_model('big4', 4000, 0.4);
SET maintenance_work_mem = '1MB';
SELECT * FROM cf_recommend(1, 5, 'big4');
SELECT round(cf_predict(1, 17, 'big4')::numeric, 4) =
       round((SELECT least(greatest(3 + i.bias + (SELECT sum(a::float8 * b) FROM unnest(u.factors, i.factors) x(a, b)), 1), 5)
              FROM cf_item_factors i, cf_user_factors u
              WHERE i.model = 'big4' AND u.model = 'big4' AND i.item_id = 17)::numeric, 4) AS predict_reads_one_item;
SELECT same_top($$SELECT * FROM cf_recommend(1, 3, 'big4', candidates => '{5, 50, 500, 3000}')$$,
                $$SELECT * FROM sql_top('big4', 1, 3, cand => '{5, 50, 500, 3000}')$$) AS candidates_read_alone;
RESET maintenance_work_mem;
RESET cf.cache_size;
DELETE FROM cf_models WHERE name IN ('big1', 'big2', 'big3', 'big4');

--
-- cf_recommend's options
--
-- exclude_items
SELECT array_agg(item_id) AS top5 FROM cf_recommend(7, 5) \gset
SELECT same_top($$SELECT * FROM cf_recommend(7, 5, exclude_items => '{276, 345, 99999}')$$,
                $$SELECT * FROM sql_top('default', 7, 5, excl => '{276, 345}')$$) AS exclude_items_ok;
SELECT count(*) AS left_out FROM cf_recommend(7, 5, exclude_items => '{276, 345}')
WHERE item_id IN (276, 345);
-- exclude_items together with exclude_rated => false
SELECT same_top($$SELECT * FROM cf_recommend(7, 8, exclude_rated => false, exclude_items => '{276}')$$,
                $$SELECT * FROM sql_top('default', 7, 8, excl => '{276}', exclude_rated => false)$$)
       AS exclude_items_and_rated_ok;
-- every item excluded: no rows
SELECT count(*) FROM cf_recommend(7, 10, exclude_rated => false,
                                  exclude_items => (SELECT array_agg(item_id) FROM cf_item_factors WHERE model = 'default'));

-- candidates: few (scored one by one) and many (one sgemv), same answers
SELECT same_top($$SELECT * FROM cf_recommend(7, 5, candidates => '{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}')$$,
                $$SELECT * FROM sql_top('default', 7, 5, cand => '{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}')$$)
       AS few_candidates_ok;
SELECT same_top($$SELECT * FROM cf_recommend(7, 10, candidates => (SELECT array_agg(i) FROM generate_series(1, 400) i))$$,
                $$SELECT * FROM sql_top('default', 7, 10, cand => (SELECT array_agg(i::bigint) FROM generate_series(1, 400) i))$$)
       AS many_candidates_ok;
SELECT same_top('SELECT * FROM cf_recommend(7, 10, candidates => (SELECT array_agg(item_id) FROM cf_item_factors WHERE model = ''default''))',
                'SELECT * FROM cf_recommend(7, 10)') AS all_candidates_is_no_filter;
-- candidates: duplicates count once, unknown ids are ignored, rated ones
-- are left out unless exclude_rated => false, n larger than the list
SELECT item_id FROM cf_recommend(7, 100, candidates => '{276, 276, 345, 999999, -1}');
SELECT rated_items[1] AS rated_item FROM cf_user_factors WHERE model = 'default' AND user_id = 7 \gset
SELECT count(*) AS rated_candidate FROM cf_recommend(7, 10, candidates => ARRAY[:rated_item]::bigint[]);
SELECT count(*) AS rated_candidate_kept
FROM cf_recommend(7, 10, exclude_rated => false, candidates => ARRAY[:rated_item]::bigint[]);
-- candidates and exclude_items together; an empty candidate list
SELECT item_id FROM cf_recommend(7, 10, candidates => '{276, 345, 147}', exclude_items => '{345}');
SELECT count(*) FROM cf_recommend(7, 10, candidates => '{}');
-- an unknown user with candidates: by item bias
SELECT array_agg(item_id ORDER BY score DESC, item_id) =
       (SELECT array_agg(item_id ORDER BY bias DESC, item_id) FROM cf_item_factors
        WHERE model = 'default' AND item_id IN (1, 2, 3, 4, 5)) AS unknown_user_candidates
FROM cf_recommend(999999, 10, candidates => '{1, 2, 3, 4, 5}');
-- ties stay ordered by item id on both paths (hand-made: items 1 and 3 tie)
SELECT * FROM cf_recommend(1, 10, 'handmade', candidates => '{3, 1}');
SELECT * FROM cf_recommend(1, 10, 'handmade', exclude_rated => false, candidates => '{1, 2, 3, 4}');

-- the old positional call still works
SELECT count(*) FROM cf_recommend(7, 5, 'default', true);

-- errors
SELECT * FROM cf_recommend(7, 5, candidates => '{{1, 2}, {3, 4}}');
SELECT * FROM cf_recommend(7, 5, exclude_items => '{{1}}');
SELECT * FROM cf_recommend(7, 5, candidates => '{1, NULL}');
SELECT * FROM cf_recommend(7, 5, exclude_items => ARRAY[NULL]::bigint[]);
SELECT * FROM cf_recommend(7, 0, candidates => '{1}');
SELECT * FROM cf_recommend(7, 5, 'no such model', candidates => '{1}');

-- the setting
SHOW cf.cache_size;
-- (out of its range: server_messages.sql, as PostgreSQL's message differs by version)
SET cf.cache_size = '10GB';
SHOW cf.cache_size;
-- up to 2 TB, as documented
SET cf.cache_size = '2TB';
SHOW cf.cache_size;
RESET cf.cache_size;
-- the cf. prefix is reserved once the library is loaded: a misspelled
-- setting is then an error; in a session that has not loaded it yet, the
-- misspelling is kept as a placeholder and removed with a WARNING when cf
-- loads (docs/reference/settings.md: LOAD 'cf' or session_preload_libraries
-- check it at once)
SET cf.cache_sise = '1GB';
\c
SET cf.cache_sise = '1GB';
SELECT count(*) FROM cf_recommend(7, 5);
SHOW cf.cache_sise;
SET cf.cache_sise = '1GB';
\c
LOAD 'cf';
SET cf.cache_sise = '1GB';
