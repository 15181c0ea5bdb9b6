/* cf: upgrade from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.2.0'" to load this file. \quit

--
-- Model owners (docs/security.md).  Models trained under 0.1.0 get the role
-- that runs the update (a superuser) as their owner.
--

ALTER TABLE @extschema@.cf_models
    ADD COLUMN owner regrole NOT NULL
        DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER));

COMMENT ON TABLE @extschema@.cf_models IS
'cf: one row per trained model (source, settings, counts, global mean, rating range, final loss, owner)';

COMMENT ON COLUMN @extschema@.cf_models.owner IS
'cf: the role that owns the model; only roles with its privileges may replace, rename or drop the model';

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
