/* cf: collaborative filtering inside PostgreSQL -- install script source */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION cf" to load this file. \quit

--
-- Model store.  A model is a set of rows in these tables; training replaces a
-- model's rows inside the caller's transaction, so readers keep seeing the
-- old model until the training commits and a failed training leaves nothing.
--

CREATE SEQUENCE @extschema@.cf_model_version_seq;

COMMENT ON SEQUENCE @extschema@.cf_model_version_seq IS
'cf: source of cf_models.version; every training takes a new value';

CREATE TABLE @extschema@.cf_models (
    name            text PRIMARY KEY CHECK (name <> ''),
    version         bigint NOT NULL,
    source          text NOT NULL,
    user_column     text NOT NULL,
    item_column     text NOT NULL,
    rating_column   text,
    algorithm       text NOT NULL,
    hyperparameters jsonb NOT NULL,
    factors         integer NOT NULL,
    users           bigint NOT NULL,
    items           bigint NOT NULL,
    ratings         bigint NOT NULL,
    global_mean     double precision NOT NULL,
    rating_min      double precision NOT NULL,
    rating_max      double precision NOT NULL,
    epochs          integer NOT NULL,
    loss            double precision,
    rmse            double precision,
    seconds         double precision NOT NULL,
    trained_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE @extschema@.cf_models IS
'cf: one row per trained model (source, settings, counts, global mean, rating range, final loss)';

CREATE TABLE @extschema@.cf_user_factors (
    model       text NOT NULL,
    user_id     bigint NOT NULL,
    bias        real NOT NULL,
    factors     real[] NOT NULL,
    rated_items bigint[] NOT NULL,
    PRIMARY KEY (model, user_id)
);

-- rated_items is read a user at a time; compressing it costs more than it saves
ALTER TABLE @extschema@.cf_user_factors ALTER COLUMN rated_items SET STORAGE EXTERNAL;

COMMENT ON TABLE @extschema@.cf_user_factors IS
'cf: per model and user, the user bias, the latent factor vector and the items the user rated in training (sorted)';

CREATE TABLE @extschema@.cf_item_factors (
    model   text NOT NULL,
    item_id bigint NOT NULL,
    bias    real NOT NULL,
    factors real[] NOT NULL,
    PRIMARY KEY (model, item_id)
);

COMMENT ON TABLE @extschema@.cf_item_factors IS
'cf: per model and item, the item bias and the latent factor vector';

CREATE TABLE @extschema@.cf_training_log (
    model   text NOT NULL,
    epoch   integer NOT NULL,
    loss    double precision NOT NULL,
    rmse    double precision NOT NULL,
    seconds double precision NOT NULL,
    PRIMARY KEY (model, epoch)
);

COMMENT ON TABLE @extschema@.cf_training_log IS
'cf: the epoch-by-epoch trace of the last training of each model (loss, training RMSE, seconds of that epoch)';

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

-- pg_dump keeps trained models.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_user_factors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_item_factors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_training_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_model_version_seq', '');

--
-- Training
--

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

--
-- Scoring
--

CREATE FUNCTION @extschema@.cf_predict(
    user_id bigint,
    item_id bigint,
    model   text DEFAULT 'default')
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_predict(bigint, bigint, text) IS
'cf: predicted rating of an item by a user (global mean + biases + factor dot product, clipped to the trained rating range; for implicit-feedback models the unclipped preference score)';

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

--
-- Synthetic data
--

CREATE FUNCTION @extschema@.cf_synthetic_ratings(
    users   integer,
    items   integer,
    ratings bigint,
    factors integer DEFAULT 20,
    noise   double precision DEFAULT 0.5,
    skew    double precision DEFAULT 0,
    seed    bigint DEFAULT 42)
RETURNS TABLE (user_id bigint, item_id bigint, rating real)
AS 'MODULE_PATHNAME', 'cf_synthetic_ratings'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_synthetic_ratings(integer, integer, bigint, integer, double precision, double precision, bigint) IS
'cf: deterministic ratings 1-5 drawn from a planted low-rank model plus noise, for demos, tests and benchmarks';
