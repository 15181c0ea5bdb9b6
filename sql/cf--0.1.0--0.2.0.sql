/* cf: upgrade from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.2.0'" to load this file. \quit

-- rated_items is read a user at a time; compressing it costs more than it saves
ALTER TABLE @extschema@.cf_user_factors ALTER COLUMN rated_items SET STORAGE EXTERNAL;

-- cf_train takes a workers argument (parallel workers beside the leader)
DROP FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean);

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
    workers         integer DEFAULT NULL,
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

COMMENT ON FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean, integer) IS
'cf: train a biased matrix-factorization model by SGD from a ratings relation and store it under a name';

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
