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
    owner           regrole NOT NULL
                    DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER))
);

COMMENT ON TABLE @extschema@.cf_models IS
'cf: one row per trained model (source, settings, counts, global mean, rating range, final loss, owner)';

COMMENT ON COLUMN @extschema@.cf_models.owner IS
'cf: the role that owns the model; only roles with its privileges may replace, rename or drop the model';

CREATE TABLE @extschema@.cf_user_factors (
    model       text NOT NULL REFERENCES @extschema@.cf_models (name)
                ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     bigint NOT NULL,
    bias        real NOT NULL,
    factors     real[] NOT NULL,
    rated_items bigint[] NOT NULL,
    PRIMARY KEY (model, user_id)
);

COMMENT ON TABLE @extschema@.cf_user_factors IS
'cf: per model and user, the user bias, the latent factor vector and the items the user rated in training (sorted)';

CREATE TABLE @extschema@.cf_item_factors (
    model   text NOT NULL REFERENCES @extschema@.cf_models (name)
            ON UPDATE CASCADE ON DELETE CASCADE,
    item_id bigint NOT NULL,
    bias    real NOT NULL,
    factors real[] NOT NULL,
    PRIMARY KEY (model, item_id)
);

COMMENT ON TABLE @extschema@.cf_item_factors IS
'cf: per model and item, the item bias and the latent factor vector';

CREATE TABLE @extschema@.cf_training_log (
    model   text NOT NULL REFERENCES @extschema@.cf_models (name)
            ON UPDATE CASCADE ON DELETE CASCADE,
    epoch   integer NOT NULL,
    loss    double precision NOT NULL,
    rmse    double precision NOT NULL,
    seconds double precision NOT NULL,
    PRIMARY KEY (model, epoch)
);

COMMENT ON TABLE @extschema@.cf_training_log IS
'cf: the epoch-by-epoch trace of the last training of each model (loss, training RMSE, seconds of that epoch)';

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
-- train.  Row-level security then lets every such role read every model, but
-- change only models whose owner's privileges it has (pg_has_role USAGE, the
-- rule PostgreSQL applies to object owners).  The functions keep PostgreSQL's
-- default EXECUTE for PUBLIC: they run as the caller and reach nothing the
-- caller could not reach with SQL.  Every name below is schema-qualified and
-- operators are spelled OPERATOR(pg_catalog.op), so objects planted in the
-- extension's schema cannot capture a call (CVE-2018-1058).
--

ALTER TABLE @extschema@.cf_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_user_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_item_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.cf_training_log ENABLE ROW LEVEL SECURITY;

CREATE POLICY cf_models_read ON @extschema@.cf_models
    FOR SELECT USING (true);
CREATE POLICY cf_models_owner ON @extschema@.cf_models
    FOR ALL
    USING (pg_catalog.pg_has_role(owner, 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));

COMMENT ON POLICY cf_models_read ON @extschema@.cf_models IS
'cf: every role with SELECT on cf_models reads every model';
COMMENT ON POLICY cf_models_owner ON @extschema@.cf_models IS
'cf: only roles with the privileges of a model''s owner may insert, replace, rename or drop it';

CREATE POLICY cf_user_factors_read ON @extschema@.cf_user_factors
    FOR SELECT USING (true);
CREATE POLICY cf_user_factors_owner ON @extschema@.cf_user_factors
    FOR ALL
    USING (EXISTS (SELECT FROM @extschema@.cf_models m
                   WHERE m.name OPERATOR(pg_catalog.=) model
                     AND pg_catalog.pg_has_role(m.owner, 'USAGE')))
    WITH CHECK (EXISTS (SELECT FROM @extschema@.cf_models m
                        WHERE m.name OPERATOR(pg_catalog.=) model
                          AND pg_catalog.pg_has_role(m.owner, 'USAGE')));

COMMENT ON POLICY cf_user_factors_read ON @extschema@.cf_user_factors IS
'cf: every role with SELECT on cf_user_factors reads every model''s user rows';
COMMENT ON POLICY cf_user_factors_owner ON @extschema@.cf_user_factors IS
'cf: only roles with the privileges of the model''s owner may write its user rows';

CREATE POLICY cf_item_factors_read ON @extschema@.cf_item_factors
    FOR SELECT USING (true);
CREATE POLICY cf_item_factors_owner ON @extschema@.cf_item_factors
    FOR ALL
    USING (EXISTS (SELECT FROM @extschema@.cf_models m
                   WHERE m.name OPERATOR(pg_catalog.=) model
                     AND pg_catalog.pg_has_role(m.owner, 'USAGE')))
    WITH CHECK (EXISTS (SELECT FROM @extschema@.cf_models m
                        WHERE m.name OPERATOR(pg_catalog.=) model
                          AND pg_catalog.pg_has_role(m.owner, 'USAGE')));

COMMENT ON POLICY cf_item_factors_read ON @extschema@.cf_item_factors IS
'cf: every role with SELECT on cf_item_factors reads every model''s item rows';
COMMENT ON POLICY cf_item_factors_owner ON @extschema@.cf_item_factors IS
'cf: only roles with the privileges of the model''s owner may write its item rows';

CREATE POLICY cf_training_log_read ON @extschema@.cf_training_log
    FOR SELECT USING (true);
CREATE POLICY cf_training_log_owner ON @extschema@.cf_training_log
    FOR ALL
    USING (EXISTS (SELECT FROM @extschema@.cf_models m
                   WHERE m.name OPERATOR(pg_catalog.=) model
                     AND pg_catalog.pg_has_role(m.owner, 'USAGE')))
    WITH CHECK (EXISTS (SELECT FROM @extschema@.cf_models m
                        WHERE m.name OPERATOR(pg_catalog.=) model
                          AND pg_catalog.pg_has_role(m.owner, 'USAGE')));

COMMENT ON POLICY cf_training_log_read ON @extschema@.cf_training_log IS
'cf: every role with SELECT on cf_training_log reads every model''s trace';
COMMENT ON POLICY cf_training_log_owner ON @extschema@.cf_training_log IS
'cf: only roles with the privileges of the model''s owner may write its trace';

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
    epochs          integer DEFAULT 60,
    learning_rate   double precision DEFAULT 0.01,
    regularization  double precision DEFAULT 0.1,
    seed            bigint DEFAULT 42,
    verbose         boolean DEFAULT true,
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

COMMENT ON FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean) IS
'cf: train a biased matrix-factorization model by SGD from a ratings relation and store it under a name';

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
'cf: predicted rating of an item by a user (global mean + biases + factor dot product, clipped to the trained rating range)';

CREATE FUNCTION @extschema@.cf_recommend(
    user_id       bigint,
    n             integer DEFAULT 10,
    model         text DEFAULT 'default',
    exclude_rated boolean DEFAULT true)
RETURNS TABLE (item_id bigint, score double precision)
AS 'MODULE_PATHNAME', 'cf_recommend'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION @extschema@.cf_recommend(bigint, integer, text, boolean) IS
'cf: the n items with the highest predicted score for a user, best first';

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
