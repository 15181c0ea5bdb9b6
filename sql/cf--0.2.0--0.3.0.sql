/* cf: upgrade from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.3.0'" to load this file. \quit

--
-- Owners and readers are role names (docs/security.md): a dump restores in
-- a cluster without the roles, and a model may be readable only by some.
-- The policies change with them, so they go first.
--
DROP POLICY cf_models_read ON @extschema@.cf_models;
DROP POLICY cf_models_owner ON @extschema@.cf_models;
DROP POLICY cf_user_factors_read ON @extschema@.cf_user_factors;
DROP POLICY cf_user_factors_owner ON @extschema@.cf_user_factors;
DROP POLICY cf_item_factors_read ON @extschema@.cf_item_factors;
DROP POLICY cf_item_factors_owner ON @extschema@.cf_item_factors;
DROP POLICY cf_training_log_read ON @extschema@.cf_training_log;
DROP POLICY cf_training_log_owner ON @extschema@.cf_training_log;

-- a dropped owner's models keep the name PostgreSQL shows for it, "unknown (OID=n)"
ALTER TABLE @extschema@.cf_models ALTER COLUMN owner DROP DEFAULT;
ALTER TABLE @extschema@.cf_models
    ALTER COLUMN owner TYPE name USING pg_catalog.pg_get_userbyid(owner);
ALTER TABLE @extschema@.cf_models ALTER COLUMN owner SET DEFAULT CURRENT_USER;
ALTER TABLE @extschema@.cf_models ADD COLUMN reader name;

COMMENT ON COLUMN @extschema@.cf_models.owner IS
'cf: the role that owns the model (by name, so that a dump restores anywhere); only roles with its privileges may replace, rename or drop the model';

COMMENT ON COLUMN @extschema@.cf_models.reader IS
'cf: the role whose members may read the model besides its owner''s; NULL: every role with SELECT on the model tables';

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
-- The cascade is C, so that its statements on cf_item_factors are known as
-- cf's own; a change of item rows by any other statement makes backends
-- reload the items they cached (cf_item_factors_changed).
--
DROP TRIGGER cf_models_cascade ON @extschema@.cf_models;
DROP TRIGGER cf_models_cascade_truncate ON @extschema@.cf_models;
DROP FUNCTION @extschema@.cf_models_cascade();

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

CREATE FUNCTION @extschema@.cf_item_factors_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'cf_item_factors_changed'
LANGUAGE C;

COMMENT ON FUNCTION @extschema@.cf_item_factors_changed() IS
'cf: trigger function that makes backends reload cached item factors after a change of cf_item_factors by hand';

CREATE TRIGGER cf_item_factors_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.cf_item_factors
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.cf_item_factors_changed();
