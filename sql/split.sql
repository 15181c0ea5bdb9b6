--
-- split: reproducible train/test splits
--
-- The split hash uses 64-bit integer arithmetic only (splitmix64's
-- finalizer): these exact values hold on every machine, and a Python
-- reference of the documented algorithm (docs/reference/cf_split_hash.md)
-- gives the same digits.
\ir sql/fixtures/extension.sql
SELECT cf_split_hash(1, 1, 42) AS h1, cf_split_hash(1, 2, 42) AS h2,
       cf_split_hash(1, 1, 43) AS h3, cf_split_hash(-5, 9223372036854775807, 0) AS h4;
SELECT cf_split_hash(1, 1) = cf_split_hash(1, 1, 42) AS default_seed_42;
-- uniform on [0, 1): the share below x is about x
SELECT count(*) FILTER (WHERE h < 0.2) AS below_0_2, count(*) FILTER (WHERE h < 0.5) AS below_0_5,
       min(h) >= 0 AND max(h) < 1 AS in_range
FROM (SELECT cf_split_hash(u, i) AS h FROM generate_series(1, 1000) u, generate_series(1, 100) i) s;

CREATE TABLE sp AS SELECT * FROM cf_synthetic_ratings(300, 100, 6000, seed => 5);

-- a deterministic predicate: train and test tables in plain SQL
CREATE TABLE sp_test AS SELECT * FROM sp WHERE cf_split_random(user_id, item_id, 0.25, seed => 7);
CREATE TABLE sp_train AS SELECT * FROM sp WHERE NOT cf_split_random(user_id, item_id, 0.25, seed => 7);
SELECT (SELECT count(*) FROM sp_test) AS test, (SELECT count(*) FROM sp_train) AS train,
       (SELECT count(*) FROM sp) AS total;
SELECT count(*) AS in_both FROM sp_test JOIN sp_train USING (user_id, item_id);
-- the same seed gives the same split; another seed another
SELECT count(*) FILTER (WHERE cf_split_random(user_id, item_id, 0.25, 7)
                        = (cf_split_hash(user_id, item_id, 7) < 0.25)) AS same_as_hash,
       count(*) FILTER (WHERE cf_split_random(user_id, item_id, 0.25, 7)
                        <> cf_split_random(user_id, item_id, 0.25, 8)) AS differ_with_seed_8
FROM sp;
SELECT count(*) FILTER (WHERE cf_split_random(user_id, item_id, 0)) AS none,
       count(*) FILTER (WHERE cf_split_random(user_id, item_id, 1)) AS all_rows
FROM sp;

-- folds: 0 .. folds - 1, floor(hash * folds) of the hash salted with
-- "foldfold" (0x666f6c64666f6c64), each pair in exactly one
SELECT cf_split_fold(user_id, item_id, 4, 7) AS fold, count(*)
FROM sp GROUP BY 1 ORDER BY 1;
SELECT count(*) AS mismatches FROM sp
WHERE cf_split_fold(user_id, item_id, 4, 7) <> floor(cf_split_hash(user_id, item_id, 7 # 7381237492754639972) * 4);
-- cf_train's validation set: the hash salted with "validate" (0x76616c6964617465)
SELECT count(*) FILTER (WHERE cf_split_validation(user_id, item_id, 0.1, 7)) AS held_out,
       count(*) FILTER (WHERE cf_split_validation(user_id, item_id, 0.1, 7) <>
                        (cf_split_hash(user_id, item_id, 7 # 8530218369127904357) < 0.1)) AS mismatches
FROM sp;
-- the salts make nested splits with one seed independent: of the training
-- side of a 25% test split, about 10% are validation pairs and each fold
-- holds about a quarter
SELECT count(*) AS training_side,
       count(*) FILTER (WHERE cf_split_validation(user_id, item_id, 0.1, 7)) AS validation,
       count(*) FILTER (WHERE cf_split_fold(user_id, item_id, 4, 7) = 0) AS fold_0
FROM sp WHERE NOT cf_split_random(user_id, item_id, 0.25, 7);

-- cf_split 'random': the same test pairs as the predicate, one row per pair
SELECT count(*) AS pairs, count(*) FILTER (WHERE test) AS test,
       count(*) FILTER (WHERE test <> cf_split_random(user_id, item_id, 0.25, 7)) AS mismatches
FROM cf_split('sp', 'random', 0.25, seed => 7);

-- per user, k of each user's items: the k of lowest hash; a user always
-- keeps a training pair
SELECT min(t) AS min_test, max(t) AS max_test, min(n - t) AS min_train,
       count(*) FILTER (WHERE t <> least(2, n - 1)) AS users_off
FROM (SELECT user_id, count(*) FILTER (WHERE test) AS t, count(*) AS n
      FROM cf_split('sp', 'user', k => 2, seed => 7) GROUP BY user_id) s;
SELECT count(*) AS not_lowest_hash
FROM cf_split('sp', 'user', k => 2, seed => 7) s
WHERE s.test AND cf_split_hash(user_id, item_id, 7) >
      (SELECT min(cf_split_hash(t.user_id, t.item_id, 7)) FROM cf_split('sp', 'user', k => 2, seed => 7) t
       WHERE t.user_id = s.user_id AND NOT t.test);
-- per user, a fraction: round(fraction * n) of each user's n pairs
SELECT count(*) AS users, sum(t) AS test_pairs,
       count(*) FILTER (WHERE t <> least(floor(0.2 * n + 0.5), n - 1)) AS users_off
FROM (SELECT user_id, count(*) FILTER (WHERE test) AS t, count(*) AS n
      FROM cf_split('sp', 'user', fraction => 0.2, seed => 7) GROUP BY user_id) s;

-- by time: each user's latest pairs; ties by the hash; no time last
CREATE TABLE timed (u int, i int, r real, ts timestamptz);
INSERT INTO timed VALUES
  (1, 10, 4, '2024-01-01'), (1, 11, 5, '2024-03-01'), (1, 12, 3, '2024-02-01'),
  (2, 10, 1, '2024-05-01'), (2, 11, 2, NULL), (2, 13, 4, '2024-04-01'),
  (3, 10, 5, '2024-01-01'),
  (4, 11, 3, NULL), (4, 12, 2, NULL), (4, 13, 1, '2023-01-01');
SELECT user_id, item_id, test
FROM cf_split('timed', 'time', k => 1, user_column => 'u', item_column => 'i', time_column => 'ts')
ORDER BY user_id, item_id;
SELECT user_id, count(*) FILTER (WHERE test) AS test
FROM cf_split('timed', 'time', fraction => 0.5, user_column => 'u', item_column => 'i', time_column => 'ts')
GROUP BY user_id ORDER BY user_id;
-- a pair rated twice counts once, at its latest time
INSERT INTO timed VALUES (1, 10, 2, '2024-06-01');
SELECT user_id, item_id
FROM cf_split('timed', 'time', k => 1, user_column => 'u', item_column => 'i', time_column => 'ts')
WHERE test AND user_id = 1;
-- numeric times work too
CREATE TABLE timed_num AS SELECT u, i, r, extract(epoch FROM ts)::bigint AS ts FROM timed;
SELECT count(*) AS same_as_timestamps
FROM cf_split('timed_num', 'time', k => 1, user_column => 'u', item_column => 'i', time_column => 'ts') a
JOIN cf_split('timed', 'time', k => 1, user_column => 'u', item_column => 'i', time_column => 'ts') b
  USING (user_id, item_id)
WHERE a.test = b.test;

-- composing: the test rows of a per-user split, as a table
CREATE TABLE sp_user_test AS
SELECT r.* FROM sp r JOIN cf_split('sp', 'user', k => 1) s USING (user_id, item_id) WHERE s.test;
SELECT count(*) AS rows, count(DISTINCT user_id) AS users FROM sp_user_test;
-- duplicate rows of a pair fall on the same side, and the split ignores row order
CREATE TABLE sp_dup AS
SELECT * FROM (SELECT * FROM sp UNION ALL SELECT * FROM sp WHERE user_id <= 50) d
ORDER BY (user_id * 31 + item_id * 17) % 101, item_id DESC;
SELECT count(*) AS mismatches
FROM cf_split('sp', 'user', k => 2) a JOIN cf_split('sp_dup', 'user', k => 2) b USING (user_id, item_id)
WHERE a.test <> b.test;
-- rows with a NULL user or item are left out
INSERT INTO timed VALUES (NULL, 10, 3, '2024-01-01'), (5, NULL, 3, '2024-01-01');
SELECT count(*) AS pairs FROM cf_split('timed', user_column => 'u', item_column => 'i');

-- errors
SELECT * FROM cf_split('sp', 'shuffle');
SELECT * FROM cf_split('sp', 'random', k => 3);
SELECT * FROM cf_split('sp', 'time', k => 1);
SELECT * FROM cf_split('sp', 'user', k => 1, time_column => 'rating');
SELECT * FROM cf_split('sp', 'time', k => 1, time_column => 'no_such_column');
CREATE TABLE text_times (user_id int, item_id int, ts text);
SELECT * FROM cf_split('text_times', 'time', k => 1, time_column => 'ts');
SELECT * FROM cf_split('sp', 'user', k => 0);
SELECT * FROM cf_split('sp', fraction => 1.5);
SELECT * FROM cf_split('sp', fraction => 'NaN');
SELECT * FROM cf_split('sp', user_column => 'customer');
SELECT * FROM cf_split('sp', item_column => 'rating');
SELECT * FROM cf_split('no_such_table');
SELECT * FROM cf_split(NULL);
SELECT * FROM cf_split('sp', NULL);
SELECT * FROM cf_split('sp', seed => NULL);
SELECT cf_split_random(1, 1, -0.1);
-- the detail shows the value refused, not a rounding of it
SELECT cf_split_random(1, 1, 1.0000001);
SELECT cf_split_random(1, 1, -1e-300);
SELECT cf_split_validation(1, 1, 2);
SELECT cf_split_fold(1, 1, 1);
SELECT cf_split_fold(1, 1, 1001);
SELECT cf_split_random(NULL, 1, 0.5) IS NULL AS strict;
