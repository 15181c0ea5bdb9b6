--
-- searchpath: functions and operators planted where cf's install script, its
-- update script or its queries look cannot capture any of cf's calls
-- (docs/security.md)
--
-- Mallory may create objects in the schema "shared", where cf gets
-- installed.  She plants same-named functions and operators that are as good
-- or better matches than pg_catalog's for the calls cf makes; each raises an
-- error, where a real attacker's would act with the privileges of whoever
-- ran it (the superuser installing cf, or any role using it).
--
CREATE ROLE regress_cf_mallory;
CREATE ROLE regress_cf_sp_trainer;
CREATE DATABASE cf_hostile;
\c cf_hostile
CREATE SCHEMA shared;
GRANT CREATE, USAGE ON SCHEMA shared TO regress_cf_mallory, regress_cf_sp_trainer;
SET ROLE regress_cf_mallory;
CREATE FUNCTION shared.trap(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'captured by shared.%', what;
END $$;
-- exact argument types, where pg_catalog's need a coercion
CREATE FUNCTION shared.pg_has_role(regrole, text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT shared.trap('pg_has_role') $$;
CREATE FUNCTION shared.quote_ident(name) RETURNS text
  LANGUAGE sql AS $$ SELECT NULL::text WHERE shared.trap('quote_ident') $$;
CREATE FUNCTION shared.to_regrole(name) RETURNS regrole
  LANGUAGE sql AS $$ SELECT NULL::regrole WHERE shared.trap('to_regrole') $$;
-- the same signatures as pg_catalog's
CREATE FUNCTION shared.to_regrole(text) RETURNS regrole
  LANGUAGE sql AS $$ SELECT NULL::regrole WHERE shared.trap('to_regrole') $$;
CREATE FUNCTION shared.now() RETURNS timestamptz
  LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE shared.trap('now') $$;
CREATE FUNCTION shared.nextval(regclass) RETURNS bigint
  LANGUAGE sql AS $$ SELECT NULL::bigint WHERE shared.trap('nextval') $$;
CREATE FUNCTION shared.clock_timestamp() RETURNS timestamptz
  LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE shared.trap('clock_timestamp') $$;
CREATE FUNCTION shared.pg_extension_config_dump(regclass, text) RETURNS void
  LANGUAGE sql AS $$ SELECT shared.trap('pg_extension_config_dump') $$;
-- operators on the types cf compares
CREATE FUNCTION shared.text_cmp(text, text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT shared.trap('text operator') $$;
CREATE FUNCTION shared.int8_cmp(bigint, bigint) RETURNS boolean
  LANGUAGE sql AS $$ SELECT shared.trap('bigint operator') $$;
CREATE OPERATOR shared.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shared.text_cmp);
CREATE OPERATOR shared.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = shared.text_cmp);
CREATE OPERATOR shared.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = shared.int8_cmp);
-- and one of cf's own functions, to be adopted by the install
CREATE FUNCTION shared.cf_predict(bigint, bigint, text) RETURNS double precision
  LANGUAGE sql AS $$ SELECT 1.0 $$;
RESET ROLE;

-- Mallory's objects with the owner of each, for the checks below: nothing
-- outside them may depend on them
CREATE TEMP VIEW planted AS
  SELECT 'pg_proc'::regclass AS classid, p.oid AS objid
  FROM pg_proc p JOIN pg_roles r ON p.proowner = r.oid WHERE r.rolname = 'regress_cf_mallory'
  UNION ALL
  SELECT 'pg_operator'::regclass, o.oid
  FROM pg_operator o JOIN pg_roles r ON o.oprowner = r.oid WHERE r.rolname = 'regress_cf_mallory';
CREATE TEMP VIEW captured AS
  SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
         pg_describe_object(d.refclassid, d.refobjid, 0) AS uses
  FROM pg_depend d JOIN planted p ON d.refclassid = p.classid AND d.refobjid = p.objid
  WHERE (d.classid, d.objid) NOT IN (SELECT classid, objid FROM planted);

-- the planted objects work: a query that names them unqualified is captured
SET search_path = shared, pg_catalog;
SELECT 'a'::text = 'a'::text;
SELECT now();
RESET search_path;

--
-- Install: with the hostile schema first in search_path, cf goes there.  A
-- planted object of the same name as one of cf's makes the install fail
-- instead of adopting it.
--
SET search_path = shared, public;
-- (terse: PostgreSQL 18 adds the install script's statement as context)
\set VERBOSITY terse
CREATE EXTENSION cf;
\set VERBOSITY default
DROP FUNCTION shared.cf_predict(bigint, bigint, text);
CREATE EXTENSION cf;
RESET search_path;
SELECT extnamespace::regnamespace AS schema, extversion FROM pg_extension WHERE extname = 'cf';
SELECT * FROM captured;

-- Run time: a trainer whose search_path puts Mallory's schema before
-- pg_catalog trains, predicts, recommends and drops models, on which the
-- row-level security policies and the owner default run
GRANT SELECT, INSERT, UPDATE, DELETE
  ON shared.cf_models, shared.cf_user_factors, shared.cf_item_factors, shared.cf_training_log
  TO regress_cf_sp_trainer;
GRANT USAGE ON SEQUENCE shared.cf_model_version_seq TO regress_cf_sp_trainer;
CREATE TABLE public.ratings AS SELECT * FROM shared.cf_synthetic_ratings(50, 20, 300);
GRANT SELECT ON public.ratings TO regress_cf_sp_trainer;
SET ROLE regress_cf_sp_trainer;
SET search_path = shared, pg_catalog, public;
SELECT model, users, items FROM cf_train('public.ratings', epochs => 3, verbose => false);
SELECT model, users, items FROM cf_train('public.ratings', epochs => 4, verbose => false);
SELECT cf_predict(1, 1) BETWEEN 1 AND 5 AS predicts;
SELECT count(*) AS recommended FROM cf_recommend(1, 5);
SELECT name, owner FROM cf_models;
-- (a query of one's own is captured unless it qualifies its operators too)
DELETE FROM cf_models WHERE name = 'default';
DELETE FROM cf_models WHERE name OPERATOR(pg_catalog.=) 'default';
SELECT count(*) AS models FROM cf_models;
RESET search_path;
RESET ROLE;
DROP EXTENSION cf;

--
-- Update: 0.1.0 installed before Mallory's objects, updated after
--
SET search_path = shared, public;
CREATE EXTENSION cf VERSION '0.1.0';
SELECT count(*) AS trained FROM cf_train('public.ratings', epochs => 2, verbose => false);
ALTER EXTENSION cf UPDATE;
RESET search_path;
SELECT extversion FROM pg_extension WHERE extname = 'cf';
SELECT * FROM captured;
SELECT name, owner FROM shared.cf_models;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON shared.cf_models, shared.cf_user_factors, shared.cf_item_factors, shared.cf_training_log
  TO regress_cf_sp_trainer;
GRANT USAGE ON SEQUENCE shared.cf_model_version_seq TO regress_cf_sp_trainer;
SET ROLE regress_cf_sp_trainer;
SET search_path = shared, pg_catalog, public;
SELECT model FROM cf_train('public.ratings', model => 'after', epochs => 2, verbose => false);
SELECT model FROM cf_train('public.ratings', model => 'after', epochs => 3, verbose => false);
SELECT count(*) AS recommended FROM cf_recommend(1, 5, 'after');
-- the model of 0.1.0 belongs to the superuser that ran the update
SELECT model FROM cf_train('public.ratings', epochs => 2, verbose => false);
RESET search_path;
RESET ROLE;

\c contrib_regression
DROP DATABASE cf_hostile;
DROP ROLE regress_cf_mallory, regress_cf_sp_trainer;
