/* cf: upgrade from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.2.0'" to load this file. \quit

-- rated_items is read a user at a time; compressing it costs more than it saves
ALTER TABLE @extschema@.cf_user_factors ALTER COLUMN rated_items SET STORAGE EXTERNAL;

-- cf_train takes workers (parallel workers beside the leader), algorithm and the
-- ALS/iALS arguments; epochs, learning_rate and regularization default to NULL
-- (the algorithm's own default)
DROP FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean);

CREATE FUNCTION @extschema@.cf_train(
    source          regclass,
    user_column     name DEFAULT 'user_id',
    item_column     name DEFAULT 'item_id',
    rating_column   name DEFAULT 'rating',
    model           text DEFAULT 'default',
    factors         integer DEFAULT 64,
    epochs          integer DEFAULT NULL,
    learning_rate   double precision DEFAULT NULL,
    regularization  double precision DEFAULT NULL,
    seed            bigint DEFAULT 42,
    verbose         boolean DEFAULT true,
    workers         integer DEFAULT NULL,
    algorithm       text DEFAULT 'sgd',
    alpha           double precision DEFAULT NULL,
    solver          text DEFAULT NULL,
    cg_steps        integer DEFAULT NULL,
    regularization_exponent double precision DEFAULT NULL,
    OUT model       text,
    OUT users       bigint,
    OUT items       bigint,
    OUT ratings     bigint,
    OUT factors     integer,
    OUT epochs      integer,
    OUT loss        double precision,
    OUT rmse        double precision,
    OUT seconds     double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'cf_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean, integer, text, double precision, text, integer, double precision) IS
'cf: train a matrix-factorization model (SGD, ALS or implicit-feedback iALS) from a ratings relation and store it under a name; NULL settings take the algorithm''s defaults';

-- foreign keys give way to triggers on cf_models (see cf.sql)
ALTER TABLE @extschema@.cf_user_factors DROP CONSTRAINT cf_user_factors_model_fkey;
ALTER TABLE @extschema@.cf_item_factors DROP CONSTRAINT cf_item_factors_model_fkey;
ALTER TABLE @extschema@.cf_training_log DROP CONSTRAINT cf_training_log_model_fkey;

--
-- A model's rows in the three tables above follow its cf_models row: they
-- go when it is deleted or truncated and are renamed with it.  (Triggers
-- rather than foreign keys: a foreign key checks every inserted factor row,
-- which doubled the time to store a model.)
--

CREATE FUNCTION @extschema@.cf_models_cascade() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE @extschema@.cf_user_factors, @extschema@.cf_item_factors,
                 @extschema@.cf_training_log;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM @extschema@.cf_user_factors WHERE model = OLD.name;
        DELETE FROM @extschema@.cf_item_factors WHERE model = OLD.name;
        DELETE FROM @extschema@.cf_training_log WHERE model = OLD.name;
        RETURN OLD;
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        UPDATE @extschema@.cf_user_factors SET model = NEW.name WHERE model = OLD.name;
        UPDATE @extschema@.cf_item_factors SET model = NEW.name WHERE model = OLD.name;
        UPDATE @extschema@.cf_training_log SET model = NEW.name WHERE model = OLD.name;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION @extschema@.cf_models_cascade() IS
'cf: trigger function that deletes, truncates or renames a model''s factor and log rows with its cf_models row';

CREATE TRIGGER cf_models_cascade
    AFTER DELETE OR UPDATE OF name ON @extschema@.cf_models
    FOR EACH ROW EXECUTE FUNCTION @extschema@.cf_models_cascade();

CREATE TRIGGER cf_models_cascade_truncate
    AFTER TRUNCATE ON @extschema@.cf_models
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.cf_models_cascade();

-- cf_recommend gains exclude_items and candidates: a new signature, so the
-- 0.1.0 function is replaced (argument order and defaults kept).
DROP FUNCTION @extschema@.cf_recommend(bigint, integer, text, boolean);

CREATE FUNCTION @extschema@.cf_recommend(
    user_id       bigint,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true,
    exclude_items bigint[] DEFAULT NULL,
    candidates    bigint[] DEFAULT NULL)
RETURNS TABLE (item_id bigint, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend(bigint, integer, text, boolean, bigint[], bigint[]) IS
'cf: the n items with the highest predicted score for a user, best first (optionally leaving out items or ranking only candidates)';

CREATE FUNCTION @extschema@.cf_recommend_batch(
    user_ids      bigint[] DEFAULT NULL,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true)
RETURNS TABLE (user_id bigint, item_id bigint, score double precision, rank integer)
AS 'MODULE_PATHNAME', 'cf_recommend_batch'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10000;

COMMENT ON FUNCTION @extschema@.cf_recommend_batch(bigint[], integer, text, boolean) IS
'cf: the n best items for each of the given users (all users if NULL), scored in blocks, streamed by user and rank';

CREATE FUNCTION @extschema@.cf_similar_items(
    item_id bigint,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_item_id bigint, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_items'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_items(bigint, integer, text) IS
'cf: the n items whose factor vectors have the highest cosine similarity to an item''s, most similar first';

CREATE FUNCTION @extschema@.cf_similar_users(
    user_id bigint,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_user_id bigint, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_users'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_users(bigint, integer, text) IS
'cf: the n users whose factor vectors have the highest cosine similarity to a user''s, most similar first';

CREATE FUNCTION @extschema@.cf_recommend_for_ratings(
    item_ids      bigint[],
    ratings       real[],
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true,
    exclude_items bigint[] DEFAULT NULL,
    candidates    bigint[] DEFAULT NULL)
RETURNS TABLE (item_id bigint, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend_for_ratings'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend_for_ratings(bigint[], real[], integer, text, boolean, bigint[], bigint[]) IS
'cf: the n best items for a user given only by some ratings, whose vector and bias are solved against the fixed item factors';

CREATE FUNCTION @extschema@.cf_refresh_users(
    user_ids bigint[],
    model    text DEFAULT 'default')
RETURNS TABLE (user_id bigint, ratings integer, action text)
AS 'MODULE_PATHNAME', 'cf_refresh_users'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_refresh_users(bigint[], text) IS
'cf: re-solve the stored vectors and biases of some users from the current rows of the model''s source, without retraining';

CREATE FUNCTION @extschema@.cf_explain(
    user_id bigint,
    item_id bigint,
    model   text DEFAULT 'default',
    n       integer DEFAULT 10)
RETURNS TABLE (rated_item_id bigint, similarity double precision, share double precision)
AS 'MODULE_PATHNAME', 'cf_explain'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_explain(bigint, bigint, text, integer) IS
'cf: the items in a user''s history that contribute most to the score of an item, with their share';

CREATE FUNCTION @extschema@.cf_cache()
RETURNS TABLE (model text, version bigint, items bigint, factors integer, bytes bigint, hits bigint)
AS 'MODULE_PATHNAME', 'cf_cache'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.cf_cache() IS
'cf: the models whose item factors this backend has cached (that the caller can see), most recently used first';

-- cf_predict also serves implicit-feedback (iALS) models
COMMENT ON FUNCTION @extschema@.cf_predict(bigint, bigint, text) IS
'cf: predicted rating of an item by a user (global mean + biases + factor dot product, clipped to the trained rating range; for implicit-feedback models the unclipped preference score)';
