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
    name            text PRIMARY KEY CHECK (name OPERATOR(pg_catalog.<>) ''),
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
    trained_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    epoch_kept      integer,
    owner           name NOT NULL DEFAULT CURRENT_USER,
    reader          name,
    user_type       pg_catalog.regtype NOT NULL DEFAULT 'pg_catalog.int8',
    item_type       pg_catalog.regtype NOT NULL DEFAULT 'pg_catalog.int8',
    user_table      text
);

COMMENT ON TABLE @extschema@.cf_models IS
'cf: one row per trained model (source, settings, counts, global mean, rating range, final loss, owner)';

COMMENT ON COLUMN @extschema@.cf_models.owner IS
'cf: the role that owns the model (by name, so that a dump restores anywhere); only roles with its privileges may replace, rename or drop the model';

COMMENT ON COLUMN @extschema@.cf_models.reader IS
'cf: the role whose members may read the model besides its owner''s; NULL: every role with SELECT on the model tables';

COMMENT ON COLUMN @extschema@.cf_models.epoch_kept IS
'cf: the epoch whose factors the model holds (with early stopping, the best on the validation set); NULL for models without epochs';

COMMENT ON COLUMN @extschema@.cf_models.user_type IS
'cf: the type of the model''s user ids (bigint for integer ids of any width)';

COMMENT ON COLUMN @extschema@.cf_models.item_type IS
'cf: the type of the model''s item ids (bigint for integer ids of any width)';

COMMENT ON COLUMN @extschema@.cf_models.user_table IS
'cf: for a model trained on a Citus cluster, the table (distributed like the ratings) that holds its user factors instead of cf_user_factors; NULL otherwise';

CREATE TABLE @extschema@.cf_user_factors (
    model       text NOT NULL,
    user_id     bigint NOT NULL,
    bias        real NOT NULL,
    factors     real[] NOT NULL,
    rated_items bigint[] NOT NULL,
    user_key    text,
    PRIMARY KEY (model, user_id)
);

CREATE UNIQUE INDEX cf_user_factors_key ON @extschema@.cf_user_factors (model, user_key)
    WHERE user_key IS NOT NULL;

-- rated_items is read a user at a time; compressing it costs more than it saves
ALTER TABLE @extschema@.cf_user_factors ALTER COLUMN rated_items SET STORAGE EXTERNAL;

COMMENT ON TABLE @extschema@.cf_user_factors IS
'cf: per model and user, the user bias, the latent factor vector and the items the user rated in training (sorted)';

CREATE TABLE @extschema@.cf_item_factors (
    model   text NOT NULL,
    item_id bigint NOT NULL,
    bias    real NOT NULL,
    factors real[] NOT NULL,
    item_key text,
    PRIMARY KEY (model, item_id)
);

CREATE UNIQUE INDEX cf_item_factors_key ON @extschema@.cf_item_factors (model, item_key)
    WHERE item_key IS NOT NULL;

COMMENT ON TABLE @extschema@.cf_item_factors IS
'cf: per model and item, the item bias and the latent factor vector';

COMMENT ON COLUMN @extschema@.cf_user_factors.user_key IS
'cf: for models whose user ids are not integers, the id as text (user_id is then a 64-bit hash of it); NULL for integer ids';

COMMENT ON COLUMN @extschema@.cf_item_factors.item_key IS
'cf: for models whose item ids are not integers, the id as text (item_id is then a 64-bit hash of it); NULL for integer ids';

CREATE TABLE @extschema@.cf_training_log (
    model   text NOT NULL,
    epoch   integer NOT NULL,
    loss    double precision NOT NULL,
    rmse    double precision NOT NULL,
    seconds double precision NOT NULL,
    validation_rmse double precision,
    PRIMARY KEY (model, epoch)
);

COMMENT ON TABLE @extschema@.cf_training_log IS
'cf: the epoch-by-epoch trace of the last training of each model (loss, training RMSE, seconds of that epoch, validation RMSE)';

COMMENT ON COLUMN @extschema@.cf_training_log.validation_rmse IS
'cf: RMSE on the ratings held out by validation_fraction after this epoch; NULL when none were';

--
-- A model's rows in the three tables above follow its cf_models row: they
-- go when it is deleted or truncated and are renamed with it.  (Triggers
-- rather than foreign keys: a foreign key checks every inserted factor row,
-- which doubled the time to store a model.)
--

CREATE FUNCTION @extschema@.cf_models_cascade() RETURNS trigger
AS 'MODULE_PATHNAME', 'cf_models_cascade'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.cf_models_cascade() IS
'cf: trigger function that deletes, truncates or renames a model''s factor and log rows with its cf_models row';

CREATE TRIGGER cf_models_cascade
    AFTER DELETE OR UPDATE OF name ON @extschema@.cf_models
    FOR EACH ROW EXECUTE FUNCTION @extschema@.cf_models_cascade();

CREATE TRIGGER cf_models_cascade_truncate
    AFTER TRUNCATE ON @extschema@.cf_models
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.cf_models_cascade();

--
-- Each backend caches models' item rows, keyed by the identity of the
-- model's cf_models row (docs/reference/cf_cache.md).  A change of item rows
-- by any statement other than cf's own gives the cf_models rows the caller
-- may change a new row version, so that no backend serves the old items.
--

CREATE FUNCTION @extschema@.cf_item_factors_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'cf_item_factors_changed'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.cf_item_factors_changed() IS
'cf: trigger function that makes backends reload cached item factors after a change of cf_item_factors by hand';

CREATE TRIGGER cf_item_factors_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.cf_item_factors
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.cf_item_factors_changed();

-- pg_dump keeps trained models.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_user_factors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_item_factors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_training_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cf_model_version_seq', '');

--
-- Privileges (docs/security.md).  Nothing is granted to PUBLIC on the tables
-- or the sequence: the DBA grants SELECT to roles that serve models, and
-- SELECT, INSERT, UPDATE, DELETE plus USAGE on the sequence to roles that
-- train.  Row-level security then lets such a role read a model whose
-- reader is NULL, or whose owner's or reader's privileges it has, and
-- change only models whose owner's privileges it has (the rule PostgreSQL
-- applies to object owners).  Owners and readers are role names, so that a
-- dump restores in a cluster without those roles; a name no role has
-- grants nothing.  The factor and log tables' policies ask about their
-- model's cf_models row through cf_model_readable and cf_model_writable,
-- which read that row whatever the caller may see of cf_models.  The
-- cascade trigger on cf_models runs after the model's row is gone: so rows
-- of a model without a cf_models row (visible only to the transaction that
-- deleted or renamed it) may be updated and deleted, never inserted.  The
-- functions keep PostgreSQL's default EXECUTE for PUBLIC: they run as the
-- caller and reach nothing the caller could not reach with SQL.  Every name
-- below is schema-qualified and operators are spelled OPERATOR(pg_catalog.op),
-- so objects planted in the extension's schema cannot capture a call
-- (CVE-2018-1058).
--

CREATE FUNCTION @extschema@.cf_has_role(role name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_has_role'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_has_role(name) IS
'cf: whether the current role has the privileges of the named role (pg_has_role USAGE); false for a name no role has';

CREATE FUNCTION @extschema@.cf_model_readable(model text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_model_readable'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_model_readable(text) IS
'cf: whether the current role may read the rows of the named model: it has no reader, the role has its owner''s or reader''s privileges, or it has no cf_models row';

CREATE FUNCTION @extschema@.cf_model_writable(model text, must_exist boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_model_writable'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_model_writable(text, boolean) IS
'cf: whether the current role may write rows of the named model: it has its owner''s privileges, or (unless must_exist) the model has no cf_models row';

ALTER TABLE @extschema@.cf_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_user_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_item_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_training_log ENABLE ROW LEVEL SECURITY;

CREATE POLICY cf_models_read ON @extschema@.cf_models
    FOR SELECT USING (reader IS NULL OR @extschema@.cf_has_role(reader));
CREATE POLICY cf_models_owner ON @extschema@.cf_models
    FOR ALL
    USING (@extschema@.cf_has_role(owner))
    WITH CHECK (@extschema@.cf_has_role(owner));

COMMENT ON POLICY cf_models_read ON @extschema@.cf_models IS
'cf: a role with SELECT on cf_models reads the models without a reader and those whose reader''s privileges it has';
COMMENT ON POLICY cf_models_owner ON @extschema@.cf_models IS
'cf: only roles with the privileges of a model''s owner may insert, replace, rename or drop it (and they read it)';

CREATE POLICY cf_user_factors_read ON @extschema@.cf_user_factors
    FOR SELECT USING (@extschema@.cf_model_readable(model));
CREATE POLICY cf_user_factors_owner ON @extschema@.cf_user_factors
    FOR ALL
    USING (@extschema@.cf_model_writable(model, false))
    WITH CHECK (@extschema@.cf_model_writable(model, true));

COMMENT ON POLICY cf_user_factors_read ON @extschema@.cf_user_factors IS
'cf: a role reads the user rows of the models it may read (cf_model_readable)';
COMMENT ON POLICY cf_user_factors_owner ON @extschema@.cf_user_factors IS
'cf: only roles with the privileges of the model''s owner may write its user rows; rows of a model whose cf_models row is gone may be deleted or renamed (the cascade trigger)';

CREATE POLICY cf_item_factors_read ON @extschema@.cf_item_factors
    FOR SELECT USING (@extschema@.cf_model_readable(model));
CREATE POLICY cf_item_factors_owner ON @extschema@.cf_item_factors
    FOR ALL
    USING (@extschema@.cf_model_writable(model, false))
    WITH CHECK (@extschema@.cf_model_writable(model, true));

COMMENT ON POLICY cf_item_factors_read ON @extschema@.cf_item_factors IS
'cf: a role reads the item rows of the models it may read (cf_model_readable)';
COMMENT ON POLICY cf_item_factors_owner ON @extschema@.cf_item_factors IS
'cf: only roles with the privileges of the model''s owner may write its item rows; rows of a model whose cf_models row is gone may be deleted or renamed (the cascade trigger)';

CREATE POLICY cf_training_log_read ON @extschema@.cf_training_log
    FOR SELECT USING (@extschema@.cf_model_readable(model));
CREATE POLICY cf_training_log_owner ON @extschema@.cf_training_log
    FOR ALL
    USING (@extschema@.cf_model_writable(model, false))
    WITH CHECK (@extschema@.cf_model_writable(model, true));

COMMENT ON POLICY cf_training_log_read ON @extschema@.cf_training_log IS
'cf: a role reads the trace of the models it may read (cf_model_readable)';
COMMENT ON POLICY cf_training_log_owner ON @extschema@.cf_training_log IS
'cf: only roles with the privileges of the model''s owner may write its trace; rows of a model whose cf_models row is gone may be deleted or renamed (the cascade trigger)';

--
-- Training
--

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
'cf: predicted rating of an item by a user (global mean + biases + factor dot product, clipped to the trained rating range; for models that predict no ratings, popularity and implicit feedback, their unclipped score)';

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

CREATE FUNCTION @extschema@.cf_predict(
    user_id bigint,
    item_id text,
    model   text DEFAULT 'default')
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_predict(bigint, text, text) IS
'cf: predicted rating of an item (given as text) by a user of a model with integer user ids';

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

CREATE FUNCTION @extschema@.cf_similar_items(
    item_id bigint,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_item_id bigint, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_items'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_items(bigint, integer, text) IS
'cf: the n items whose factor vectors have the highest cosine similarity to an item''s, most similar first';

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
    user_id bigint,
    n       integer DEFAULT 10,
    model   text DEFAULT 'default')
RETURNS TABLE (similar_user_id bigint, similarity double precision)
AS 'MODULE_PATHNAME', 'cf_similar_users'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_similar_users(bigint, integer, text) IS
'cf: the n users whose factor vectors have the highest cosine similarity to a user''s, most similar first';

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

CREATE FUNCTION @extschema@.cf_refresh_users(
    user_ids bigint[],
    model    text DEFAULT 'default')
RETURNS TABLE (user_id bigint, ratings integer, action text)
AS 'MODULE_PATHNAME', 'cf_refresh_users'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_refresh_users(bigint[], text) IS
'cf: re-solve the stored vectors and biases of some users from the current rows of the model''s source, without retraining';

CREATE FUNCTION @extschema@.cf_refresh_users_by_key(
    user_ids text[],
    model    text DEFAULT 'default')
RETURNS TABLE (user_id text, ratings integer, action text)
AS 'MODULE_PATHNAME', 'cf_refresh_users'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_refresh_users_by_key(text[], text) IS
'cf: cf_refresh_users with the user ids given and returned as text, for models of any id type';

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

CREATE FUNCTION @extschema@.cf_cache()
RETURNS TABLE (model text, version bigint, items bigint, factors integer, bytes bigint, hits bigint)
AS 'MODULE_PATHNAME', 'cf_cache'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.cf_cache() IS
'cf: the models whose item factors this backend has cached (that the caller can see), most recently used first';

--
-- Splits, evaluation, tuning
--

CREATE FUNCTION @extschema@.cf_split_hash(
    user_id bigint,
    item_id bigint,
    seed    bigint DEFAULT 42)
RETURNS double precision
AS 'MODULE_PATHNAME', 'cf_split_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_hash(bigint, bigint, bigint) IS
'cf: a number in [0, 1) from a (user, item) pair and a seed by integer hashing alone, the same on every machine; the basis of every split';

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
    user_id  bigint,
    item_id  bigint,
    fraction double precision DEFAULT 0.2,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_random(bigint, bigint, double precision, bigint) IS
'cf: whether a (user, item) pair falls on the test side of a random split holding out about fraction of the pairs (cf_split_hash < fraction)';

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
    user_id  bigint,
    item_id  bigint,
    fraction double precision DEFAULT 0.1,
    seed     bigint DEFAULT 42)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_split_validation'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_validation(bigint, bigint, double precision, bigint) IS
'cf: whether cf_train(validation_fraction => fraction, seed => seed) holds the rating of a (user, item) pair out as validation';

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
    user_id bigint,
    item_id bigint,
    folds   integer DEFAULT 5,
    seed    bigint DEFAULT 42)
RETURNS integer
AS 'MODULE_PATHNAME', 'cf_split_fold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.cf_split_fold(bigint, bigint, integer, bigint) IS
'cf: the cross-validation fold (0 .. folds - 1) of a (user, item) pair, as cf_cross_validate and cf_grid_search assign it';

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

CREATE FUNCTION @extschema@.cf_split(
    source      regclass,
    method      text DEFAULT 'random',
    fraction    double precision DEFAULT 0.2,
    k           integer DEFAULT NULL,
    seed        bigint DEFAULT 42,
    user_column name DEFAULT 'user_id',
    item_column name DEFAULT 'item_id',
    time_column name DEFAULT NULL)
RETURNS TABLE (user_id bigint, item_id bigint, test boolean)
AS 'MODULE_PATHNAME', 'cf_split'
LANGUAGE C STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.cf_split(regclass, text, double precision, integer, bigint, name, name, name) IS
'cf: a reproducible train/test split of the (user, item) pairs of a relation: random, per user (a fraction or k of each user''s items) or by time (each user''s latest)';

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

CREATE FUNCTION @extschema@.cf_evaluate(
    model         text,
    test          regclass,
    user_column   name DEFAULT NULL,
    item_column   name DEFAULT NULL,
    rating_column name DEFAULT NULL,
    threshold     double precision DEFAULT NULL,
    k             integer DEFAULT 10)
RETURNS TABLE (rmse double precision, mae double precision,
               precision_at_k double precision, recall_at_k double precision,
               ndcg_at_k double precision, map_at_k double precision,
               hit_rate double precision, coverage double precision,
               users bigint, ratings bigint)
AS 'MODULE_PATHNAME', 'cf_evaluate'
LANGUAGE C STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.cf_evaluate(text, regclass, name, name, name, double precision, integer) IS
'cf: accuracy (RMSE, MAE) and top-k ranking metrics of a model on a test relation, computed on the serving path';

CREATE FUNCTION @extschema@.cf_cross_validate(
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

COMMENT ON FUNCTION @extschema@.cf_cross_validate(regclass, integer, name, name, name, text, integer, integer, double precision, double precision, bigint, integer, double precision, boolean, integer) IS
'cf: k-fold cross-validation of one training setting: the mean and standard deviation of every cf_evaluate metric over the folds, nothing stored';

CREATE FUNCTION @extschema@.cf_grid_search(
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

COMMENT ON FUNCTION @extschema@.cf_grid_search(regclass, integer[], double precision[], double precision[], integer[], integer, text, text, name, name, name, text, bigint, integer, double precision, boolean, integer) IS
'cf: cross-validate every combination of factors, regularization, learning rate and epochs, best first; optionally train the best as a named model';

--
-- Model management
--

CREATE FUNCTION @extschema@.cf_drop_model(
    model     text,
    if_exists boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME', 'cf_drop_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_drop_model(text, boolean) IS
'cf: delete a model with its factor and log rows; a missing model is an error unless if_exists';

CREATE FUNCTION @extschema@.cf_rename_model(
    model    text,
    new_name text)
RETURNS void
AS 'MODULE_PATHNAME', 'cf_rename_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_rename_model(text, text) IS
'cf: give a model a new name (its factor and log rows follow)';

CREATE FUNCTION @extschema@.cf_copy_model(
    model    text,
    new_name text)
RETURNS void
AS 'MODULE_PATHNAME', 'cf_copy_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.cf_copy_model(text, text) IS
'cf: copy a model with all its rows under a new name (a new version)';

CREATE FUNCTION @extschema@.cf_training_chart(
    model  text DEFAULT 'default',
    width  integer DEFAULT 60,
    height integer DEFAULT 15)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'cf_training_chart'
LANGUAGE C STABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.cf_training_chart(text, integer, integer) IS
'cf: a text chart of a model''s loss and validation RMSE per epoch, one line per row, for psql';

CREATE VIEW @extschema@.cf_model_summary WITH (security_invoker = true) AS
SELECT m.name AS model,
       m.algorithm,
       m.factors,
       m.users,
       m.items,
       m.ratings,
       m.epochs,
       m.epoch_kept,
       pg_catalog.round(m.rmse::pg_catalog.numeric, 4) AS train_rmse,
       pg_catalog.round(l.validation_rmse::pg_catalog.numeric, 4) AS validation_rmse,
       pg_catalog.round(m.seconds::pg_catalog.numeric, 2) AS seconds,
       pg_catalog.date_trunc('second', m.trained_at) AS trained_at
FROM @extschema@.cf_models m
LEFT JOIN @extschema@.cf_training_log l
       ON l.model OPERATOR(pg_catalog.=) m.name
      AND l.epoch OPERATOR(pg_catalog.=) m.epoch_kept;

COMMENT ON VIEW @extschema@.cf_model_summary IS
'cf: the trained models at a glance: algorithm, size, epochs run and kept, training and validation RMSE (rows the caller may see)';

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
