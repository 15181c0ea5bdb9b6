--
-- setup: install the extension and check what it created
--
CREATE EXTENSION cf;

-- the installed version comes from cf_extension.control
SELECT extversion FROM pg_extension WHERE extname = 'cf';

-- every object belongs to the extension (the row types of its tables and
-- views, and their array types, go with the relations: PostgreSQL 17 and
-- later list them as members too, 15 does not)
CREATE TEMP VIEW cf_members AS
SELECT classid, objid, objsubid
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cf')
  AND deptype = 'e'
  AND NOT (classid = 'pg_type'::regclass AND objid IN
           (SELECT t.oid FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem
            WHERE t.typrelid <> 0 OR e.typrelid <> 0));
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM cf_members
ORDER BY 1;

-- models survive pg_dump: the model tables are configuration tables
SELECT c.relname
FROM pg_extension e, unnest(e.extconfig) AS t(oid), pg_class c
WHERE e.extname = 'cf' AND c.oid = t.oid
ORDER BY 1;

-- every function and table has a comment
SELECT pg_describe_object(classid, objid, objsubid) AS uncommented
FROM cf_members
WHERE obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)) IS NULL;
DROP VIEW cf_members;

-- the cf.* prefix is reserved: a misspelled setting is an error
SET cf.blas_threads = 2;
SHOW cf.blas_threads;
RESET cf.blas_threads;
SET cf.no_such_setting = 1;

-- the synthetic generator is deterministic and shaped as asked
SELECT count(*) AS ratings, count(DISTINCT user_id) AS users,
       count(DISTINCT item_id) AS items, min(rating), max(rating),
       count(DISTINCT (user_id, item_id)) AS distinct_pairs
FROM cf_synthetic_ratings(100, 50, 1000);
SELECT (SELECT array_agg(rating ORDER BY user_id, item_id) FROM cf_synthetic_ratings(30, 20, 100, seed => 7))
     = (SELECT array_agg(rating ORDER BY user_id, item_id) FROM cf_synthetic_ratings(30, 20, 100, seed => 7))
       AS same_seed_same_rows;
SELECT (SELECT array_agg(rating ORDER BY user_id, item_id) FROM cf_synthetic_ratings(30, 20, 100, seed => 7))
     = (SELECT array_agg(rating ORDER BY user_id, item_id) FROM cf_synthetic_ratings(30, 20, 100, seed => 8))
       AS other_seed_same_rows;
-- with skew, the most popular item gets many more ratings than the median one
SELECT max(c) > 5 * percentile_disc(0.5) WITHIN GROUP (ORDER BY c) AS skewed
FROM (SELECT item_id, count(*) AS c
      FROM cf_synthetic_ratings(2000, 500, 20000, skew => 1.0) GROUP BY item_id) s;
-- a user can rate every item
SELECT count(*) FROM cf_synthetic_ratings(3, 4, 12);
