/* cf: upgrade from 0.3.0 to 0.4.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.4.0'" to load this file. \quit

--
-- cf_train: model, verbose and factors default to NULL.  A call without a
-- model argument names "default" but no longer replaces a "default" model
-- of another algorithm; verbose NULL prints a short trace (true: every
-- epoch); factors NULL is the algorithm's default (64, but 32 for bayes).
-- The library reads all three either way, so a backend that has not
-- reloaded the declaration trains as before.  New argument implicit_term
-- (bayes: SVD++'s implicit term; NULL is the algorithm's default): a new
-- signature, so the old declaration is dropped.
--
DROP FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean, integer, text, double precision, boolean, integer, double precision, text, integer, double precision);

CREATE FUNCTION @extschema@.cf_train(
    source          regclass,
    user_column     name DEFAULT 'user_id',
    item_column     name DEFAULT 'item_id',
    rating_column   name DEFAULT 'rating',
    model           text DEFAULT NULL,
    factors         integer DEFAULT NULL,
    epochs          integer DEFAULT NULL,
    learning_rate   double precision DEFAULT NULL,
    regularization  double precision DEFAULT NULL,
    seed            bigint DEFAULT 42,
    verbose         boolean DEFAULT NULL,
    workers         integer DEFAULT NULL,
    algorithm       text DEFAULT 'sgd',
    validation_fraction double precision DEFAULT 0,
    early_stopping  boolean DEFAULT false,
    patience        integer DEFAULT 20,
    alpha           double precision DEFAULT NULL,
    solver          text DEFAULT NULL,
    cg_steps        integer DEFAULT NULL,
    regularization_exponent double precision DEFAULT NULL,
    implicit_term   boolean DEFAULT NULL,
    OUT model       text,
    OUT users       bigint,
    OUT items       bigint,
    OUT ratings     bigint,
    OUT factors     integer,
    OUT epochs      integer,
    OUT loss        double precision,
    OUT rmse        double precision,
    OUT seconds     double precision,
    OUT validation_rmse double precision,
    OUT epoch_kept  integer)
RETURNS record
AS 'MODULE_PATHNAME', 'cf_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean, integer, text, double precision, boolean, integer, double precision, text, integer, double precision, boolean) IS
'cf: train a model (SGD, ALS, implicit-feedback iALS or Bayesian (Gibbs-sampled) matrix factorization, or a baseline) from a ratings relation and store it under a name (NULL: "default", replaced only by the same algorithm); NULL settings take the algorithm''s defaults; verbose NULL prints a short trace, true every epoch, false nothing';

--
-- cf_cross_validate and cf_grid_search: factors NULL (the default) is the
-- algorithm's default, as for cf_train (their comments stay).
--
CREATE OR REPLACE FUNCTION @extschema@.cf_cross_validate(
    source         regclass,
    folds          integer DEFAULT 5,
    user_column    name DEFAULT 'user_id',
    item_column    name DEFAULT 'item_id',
    rating_column  name DEFAULT 'rating',
    algorithm      text DEFAULT 'sgd',
    factors        integer DEFAULT NULL,
    epochs         integer DEFAULT NULL,
    learning_rate  double precision DEFAULT NULL,
    regularization double precision DEFAULT NULL,
    seed           bigint DEFAULT 42,
    k              integer DEFAULT 10,
    threshold      double precision DEFAULT NULL,
    verbose        boolean DEFAULT false,
    workers        integer DEFAULT NULL)
RETURNS TABLE (metric text, mean double precision, stddev double precision,
               per_fold double precision[])
AS 'MODULE_PATHNAME', 'cf_cross_validate'
LANGUAGE C STABLE PARALLEL UNSAFE;


CREATE OR REPLACE FUNCTION @extschema@.cf_grid_search(
    source         regclass,
    factors        integer[] DEFAULT NULL,
    regularization double precision[] DEFAULT NULL,
    learning_rate  double precision[] DEFAULT NULL,
    epochs         integer[] DEFAULT NULL,
    folds          integer DEFAULT 3,
    metric         text DEFAULT 'rmse',
    model          text DEFAULT NULL,
    user_column    name DEFAULT 'user_id',
    item_column    name DEFAULT 'item_id',
    rating_column  name DEFAULT 'rating',
    algorithm      text DEFAULT 'sgd',
    seed           bigint DEFAULT 42,
    k              integer DEFAULT 10,
    threshold      double precision DEFAULT NULL,
    verbose        boolean DEFAULT false,
    workers        integer DEFAULT NULL)
RETURNS TABLE (rank integer, factors integer, regularization double precision,
               learning_rate double precision, epochs integer,
               rmse double precision, mae double precision,
               precision_at_k double precision, recall_at_k double precision,
               ndcg_at_k double precision, map_at_k double precision,
               hit_rate double precision, coverage double precision,
               stddev double precision, seconds double precision, model text)
AS 'MODULE_PATHNAME', 'cf_grid_search'
LANGUAGE C VOLATILE PARALLEL UNSAFE;


--
-- Ids of any hashable type.  Integer ids stay as they were (user_type and
-- item_type bigint, no keys); other ids are stored by a 64-bit hash of
-- their text in user_id/item_id with the text in user_key/item_key.
--
ALTER TABLE @extschema@.cf_models
    ADD COLUMN user_type pg_catalog.regtype NOT NULL DEFAULT 'pg_catalog.int8',
    ADD COLUMN item_type pg_catalog.regtype NOT NULL DEFAULT 'pg_catalog.int8';

COMMENT ON COLUMN @extschema@.cf_models.user_type IS
'cf: the type of the model''s user ids (bigint for integer ids of any width)';

COMMENT ON COLUMN @extschema@.cf_models.item_type IS
'cf: the type of the model''s item ids (bigint for integer ids of any width)';

--
-- Models trained on a Citus cluster keep their users in a table distributed
-- like the ratings.
--
ALTER TABLE @extschema@.cf_models ADD COLUMN user_table text;

COMMENT ON COLUMN @extschema@.cf_models.user_table IS
'cf: for a model trained on a Citus cluster, the table (distributed like the ratings) that holds its user factors instead of cf_user_factors; NULL otherwise';

ALTER TABLE @extschema@.cf_user_factors ADD COLUMN user_key text;
ALTER TABLE @extschema@.cf_item_factors ADD COLUMN item_key text;

CREATE UNIQUE INDEX cf_user_factors_key ON @extschema@.cf_user_factors (model, user_key)
    WHERE user_key IS NOT NULL;
CREATE UNIQUE INDEX cf_item_factors_key ON @extschema@.cf_item_factors (model, item_key)
    WHERE item_key IS NOT NULL;

COMMENT ON COLUMN @extschema@.cf_user_factors.user_key IS
'cf: for models whose user ids are not integers, the id as text (user_id is then a 64-bit hash of it); NULL for integer ids';

COMMENT ON COLUMN @extschema@.cf_item_factors.item_key IS
'cf: for models whose item ids are not integers, the id as text (item_id is then a 64-bit hash of it); NULL for integer ids';

-- the functions, with ids given (and returned) as text, or uuid users
CREATE FUNCTION @extschema@.cf_predict(
    user_id text,
    item_id text,
    model   text DEFAULT 'default')
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_predict(text, text, text) IS
'cf: predicted rating of an item by a user, the ids given as text and read as the model''s id types';

CREATE FUNCTION @extschema@.cf_predict(
    user_id uuid,
    item_id text,
    model   text DEFAULT 'default')
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_predict(uuid, text, text) IS
'cf: predicted rating of an item (given as text) by a user of a model with uuid user ids';

CREATE FUNCTION @extschema@.cf_recommend(
    user_id       text,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true,
    exclude_items text[] DEFAULT NULL,
    candidates    text[] DEFAULT NULL)
RETURNS TABLE (item_id text, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend(text, integer, text, boolean, text[], text[]) IS
'cf: the n items with the highest predicted score for a user, the ids given and returned as text (read as the model''s id types)';

CREATE FUNCTION @extschema@.cf_recommend(
    user_id       uuid,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true,
    exclude_items text[] DEFAULT NULL,
    candidates    text[] DEFAULT NULL)
RETURNS TABLE (item_id text, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend(uuid, integer, text, boolean, text[], text[]) IS
'cf: the n items with the highest predicted score for a user of a model with uuid user ids, item ids as text';

CREATE FUNCTION @extschema@.cf_similar_items(
    item_id text,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_item_id text, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_items'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_items(text, integer, text) IS
'cf: the n items most similar to an item, the ids given and returned as text (read as the model''s item id type)';

CREATE FUNCTION @extschema@.cf_similar_users(
    user_id text,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_user_id text, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_users'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_users(text, integer, text) IS
'cf: the n users most similar to a user, the ids given and returned as text (read as the model''s user id type)';

CREATE FUNCTION @extschema@.cf_similar_users(
    user_id uuid,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_user_id uuid, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_users'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_users(uuid, integer, text) IS
'cf: the n users most similar to a user of a model with uuid user ids';

CREATE FUNCTION @extschema@.cf_explain(
    user_id text,
    item_id text,
    model   text DEFAULT 'default',
    n       integer DEFAULT 10)
RETURNS TABLE (rated_item_id text, similarity double precision, share double precision)
AS 'MODULE_PATHNAME', 'cf_explain'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_explain(text, text, text, integer) IS
'cf: the items in a user''s history that contribute most to the score of an item, the ids given and returned as text';

CREATE FUNCTION @extschema@.cf_explain(
    user_id uuid,
    item_id text,
    model   text DEFAULT 'default',
    n       integer DEFAULT 10)
RETURNS TABLE (rated_item_id text, similarity double precision, share double precision)
AS 'MODULE_PATHNAME', 'cf_explain'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_explain(uuid, text, text, integer) IS
'cf: the items in a user''s history (of a model with uuid user ids) that contribute most to the score of an item';

CREATE FUNCTION @extschema@.cf_split_hash(
    user_id text,
    item_id text,
    seed    bigint DEFAULT 42)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_split_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_hash(text, text, bigint) IS
'cf: a number in [0, 1) from a (user, item) pair and a seed; ids that are not integers are hashed from their text';

CREATE FUNCTION @extschema@.cf_split_hash(
    user_id bigint,
    item_id text,
    seed    bigint DEFAULT 42)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_split_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_hash(bigint, text, bigint) IS
'cf: a number in [0, 1) from a (user, item) pair and a seed; ids that are not integers are hashed from their text';

CREATE FUNCTION @extschema@.cf_split_hash(
    user_id text,
    item_id bigint,
    seed    bigint DEFAULT 42)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_split_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_hash(text, bigint, bigint) IS
'cf: a number in [0, 1) from a (user, item) pair and a seed; ids that are not integers are hashed from their text';

CREATE FUNCTION @extschema@.cf_split_random(
    user_id text,
    item_id text,
    fraction double precision DEFAULT 0.2,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_random(text, text, double precision, bigint) IS
'cf: whether a (user, item) pair falls on the test side of a random split; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_random(
    user_id bigint,
    item_id text,
    fraction double precision DEFAULT 0.2,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_random(bigint, text, double precision, bigint) IS
'cf: whether a (user, item) pair falls on the test side of a random split; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_random(
    user_id text,
    item_id bigint,
    fraction double precision DEFAULT 0.2,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_random(text, bigint, double precision, bigint) IS
'cf: whether a (user, item) pair falls on the test side of a random split; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_validation(
    user_id text,
    item_id text,
    fraction double precision DEFAULT 0.1,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_validation'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_validation(text, text, double precision, bigint) IS
'cf: whether cf_train(validation_fraction => fraction, seed => seed) holds out a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_validation(
    user_id bigint,
    item_id text,
    fraction double precision DEFAULT 0.1,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_validation'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_validation(bigint, text, double precision, bigint) IS
'cf: whether cf_train(validation_fraction => fraction, seed => seed) holds out a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_validation(
    user_id text,
    item_id bigint,
    fraction double precision DEFAULT 0.1,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_validation'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_validation(text, bigint, double precision, bigint) IS
'cf: whether cf_train(validation_fraction => fraction, seed => seed) holds out a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_fold(
    user_id text,
    item_id text,
    folds   integer DEFAULT 5,
    seed    bigint DEFAULT 42)
RETURNS integer
AS 'MODULE_PATHNAME', 'cf_split_fold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_fold(text, text, integer, bigint) IS
'cf: the cross-validation fold of a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_fold(
    user_id bigint,
    item_id text,
    folds   integer DEFAULT 5,
    seed    bigint DEFAULT 42)
RETURNS integer
AS 'MODULE_PATHNAME', 'cf_split_fold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_fold(bigint, text, integer, bigint) IS
'cf: the cross-validation fold of a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_split_fold(
    user_id text,
    item_id bigint,
    folds   integer DEFAULT 5,
    seed    bigint DEFAULT 42)
RETURNS integer
AS 'MODULE_PATHNAME', 'cf_split_fold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_fold(text, bigint, integer, bigint) IS
'cf: the cross-validation fold of a (user, item) pair; ids that are not integers as text';

CREATE FUNCTION @extschema@.cf_predict(
    user_id bigint,
    item_id text,
    model   text DEFAULT 'default')
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_predict(bigint, text, text) IS
'cf: predicted rating of an item (given as text) by a user of a model with integer user ids';

CREATE FUNCTION @extschema@.cf_explain(
    user_id bigint,
    item_id text,
    model   text DEFAULT 'default',
    n       integer DEFAULT 10)
RETURNS TABLE (rated_item_id text, similarity double precision, share double precision)
AS 'MODULE_PATHNAME', 'cf_explain'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_explain(bigint, text, text, integer) IS
'cf: the items in a user''s history (of a model with integer user ids) that contribute most to the score of an item given as text';

-- the functions whose id arguments are arrays (or that take none), as
-- separate *_by_key functions: a text[] overload would make NULL and '{…}'
-- arguments ambiguous

CREATE FUNCTION @extschema@.cf_recommend_batch_by_key(
    user_ids      text[] DEFAULT NULL,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true)
RETURNS TABLE (user_id text, item_id text, score double precision, rank integer)
AS 'MODULE_PATHNAME', 'cf_recommend_batch'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10000;

COMMENT ON FUNCTION @extschema@.cf_recommend_batch_by_key(text[], integer, text, boolean) IS
'cf: cf_recommend_batch with the ids given and returned as text (read as the model''s id types), for models of any id type';

CREATE FUNCTION @extschema@.cf_recommend_for_ratings_by_key(
    item_ids      text[],
    ratings       real[],
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true,
    exclude_items text[] DEFAULT NULL,
    candidates    text[] DEFAULT NULL)
RETURNS TABLE (item_id text, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend_for_ratings'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend_for_ratings_by_key(text[], real[], integer, text, boolean, text[], text[]) IS
'cf: cf_recommend_for_ratings with the item ids given and returned as text, for models of any id type';

CREATE FUNCTION @extschema@.cf_refresh_users_by_key(
    user_ids text[],
    model    text DEFAULT 'default')
RETURNS TABLE (user_id text, ratings integer, action text)
AS 'MODULE_PATHNAME', 'cf_refresh_users'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_refresh_users_by_key(text[], text) IS
'cf: cf_refresh_users with the user ids given and returned as text, for models of any id type';

CREATE FUNCTION @extschema@.cf_split_by_key(
    source      regclass,
    method      text DEFAULT 'random',
    fraction    double precision DEFAULT 0.2,
    k           integer DEFAULT NULL,
    seed        bigint DEFAULT 42,
    user_column name DEFAULT 'user_id',
    item_column name DEFAULT 'item_id',
    time_column name DEFAULT NULL)
RETURNS TABLE (user_id text, item_id text, test boolean)
AS 'MODULE_PATHNAME', 'cf_split'
LANGUAGE C STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.cf_split_by_key(regclass, text, double precision, integer, bigint, name, name, name) IS
'cf: cf_split with the ids returned as text, for relations whose ids are of any type';

--
-- An ALS half-step in SQL: a row's normal equations as an aggregate that
-- is computed in parts and combined (parallel query; Citus's shards), and
-- its solve
--

CREATE FUNCTION @extschema@.cf_als_sums_accum(
    state   bytea,
    factors real[],
    bias    real,
    rating  double precision,
    mean    double precision)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cf_als_sums_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_als_sums_accum(bytea, real[], real, double precision, double precision) IS
'cf: transition function of cf_als_sums';

CREATE FUNCTION @extschema@.cf_sums_combine(bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cf_sums_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_sums_combine(bytea, bytea) IS
'cf: combine function of cf_als_sums: the sums of two parts';

CREATE AGGREGATE @extschema@.cf_als_sums(
    factors real[],
    bias    real,
    rating  double precision,
    mean    double precision) (
    SFUNC = @extschema@.cf_als_sums_accum,
    STYPE = bytea,
    COMBINEFUNC = @extschema@.cf_sums_combine,
    PARALLEL = SAFE);

COMMENT ON AGGREGATE @extschema@.cf_als_sums(real[], real, double precision, double precision) IS
'cf: the normal equations of an ALS row over its ratings: for each, the other side''s vector and bias, the rating and the global mean; combinable, so parallel query and Citus compute it in parts';

CREATE FUNCTION @extschema@.cf_als_solve(
    sums                    bytea,
    regularization          double precision,
    regularization_exponent double precision DEFAULT 1)
RETURNS real[]
AS 'MODULE_PATHNAME', 'cf_als_solve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_als_solve(bytea, double precision, double precision) IS
'cf: an ALS row from its cf_als_sums: its factors and, last, its bias, with ridge regularization * ratings^regularization_exponent';

CREATE FUNCTION @extschema@.cf_ials_sums_accum(
    state   bytea,
    factors real[],
    amount  double precision,
    alpha   double precision)
RETURNS bytea
AS 'MODULE_PATHNAME', 'cf_ials_sums_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_ials_sums_accum(bytea, real[], double precision, double precision) IS
'cf: transition function of cf_ials_sums';

CREATE AGGREGATE @extschema@.cf_ials_sums(
    factors real[],
    amount  double precision,
    alpha   double precision) (
    SFUNC = @extschema@.cf_ials_sums_accum,
    STYPE = bytea,
    COMBINEFUNC = @extschema@.cf_sums_combine,
    PARALLEL = SAFE);

COMMENT ON AGGREGATE @extschema@.cf_ials_sums(real[], double precision, double precision) IS
'cf: the normal equations of an iALS row over its (user, item) pairs, one row per pair: the other side''s vector, the amount and alpha; combinable';

CREATE FUNCTION @extschema@.cf_gram_accum(
    state   bytea,
    factors real[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'cf_gram_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_gram_accum(bytea, real[]) IS
'cf: transition function of cf_gram';

CREATE AGGREGATE @extschema@.cf_gram(factors real[]) (
    SFUNC = @extschema@.cf_gram_accum,
    STYPE = bytea,
    COMBINEFUNC = @extschema@.cf_sums_combine,
    PARALLEL = SAFE);

COMMENT ON AGGREGATE @extschema@.cf_gram(real[]) IS
'cf: the Gramian (sum of f f^T) of a side''s factor vectors, for cf_ials_solve; combinable';

CREATE FUNCTION @extschema@.cf_ials_solve(
    sums                    bytea,
    gram                    bytea,
    regularization          double precision,
    regularization_exponent double precision,
    other_rows              bigint)
RETURNS real[]
AS 'MODULE_PATHNAME', 'cf_ials_solve'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_ials_solve(bytea, bytea, double precision, double precision, bigint) IS
'cf: an iALS row''s factors from its cf_ials_sums and the other side''s cf_gram, with ridge regularization * (other_rows + sum of alpha * amount)^regularization_exponent';

CREATE FUNCTION @extschema@.cf_als_solve_rated(
    item_ids                bigint[],
    item_vectors            real[],
    rated                   bigint[],
    ratings                 real[],
    mean                    double precision,
    regularization          double precision,
    regularization_exponent double precision DEFAULT 1)
RETURNS real[]
AS 'MODULE_PATHNAME', 'cf_als_solve_rated'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_als_solve_rated(bigint[], real[], bigint[], real[], double precision, double precision, double precision) IS
'cf: cf_als_solve of cf_als_sums over a row''s ratings given as arrays, with the other side''s vectors (factors then bias) as a matrix of a row per id in item_ids, ascending';

CREATE FUNCTION @extschema@.cf_ials_solve_rated(
    item_ids                bigint[],
    item_vectors            real[],
    rated                   bigint[],
    amounts                 real[],
    alpha                   double precision,
    gram                    bytea,
    regularization          double precision,
    regularization_exponent double precision,
    other_rows              bigint)
RETURNS real[]
AS 'MODULE_PATHNAME', 'cf_ials_solve_rated'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_ials_solve_rated(bigint[], real[], bigint[], real[], double precision, bytea, double precision, double precision, bigint) IS
'cf: cf_ials_solve of cf_ials_sums over a row''s pairs given as arrays, with the other side''s vectors as a matrix of a row per id in item_ids, ascending, and its cf_gram';
