/* cf: upgrade from 0.3.0 to 0.4.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cf UPDATE TO '0.4.0'" to load this file. \quit

--
-- cf_train: model and verbose default to NULL.  A call without a model
-- argument names "default" but no longer replaces a "default" model of
-- another algorithm; verbose NULL prints a short trace (true: every epoch).
-- The library reads both either way, so a backend that has not reloaded
-- the declaration trains as before.
--
CREATE OR REPLACE FUNCTION @extschema@.cf_train(
    source          regclass,
    user_column     name DEFAULT 'user_id',
    item_column     name DEFAULT 'item_id',
    rating_column   name DEFAULT 'rating',
    model           text DEFAULT NULL,
    factors         integer DEFAULT 64,
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

COMMENT ON FUNCTION @extschema@.cf_train(regclass, name, name, name, text, integer, integer, double precision, double precision, bigint, boolean, integer, text, double precision, boolean, integer, double precision, text, integer, double precision) IS
'cf: train a model (SGD, ALS or implicit-feedback iALS matrix factorization, or a baseline) from a ratings relation and store it under a name (NULL: "default", replaced only by the same algorithm); NULL settings take the algorithm''s defaults; verbose NULL prints a short trace, true every epoch, false nothing';
