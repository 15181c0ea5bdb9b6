/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The model store: the rows of cf_models, cf_user_factors,
 *	  cf_item_factors and cf_training_log.
 *
 * Models are ordinary rows, written and read through SPI as the calling
 * user.  Training replaces a model with DELETE (cascading to its factor and
 * log rows) and INSERTs in the caller's transaction: readers keep the old
 * model until commit, and an error or cancel leaves the old model in place.
 * Concurrent trainings of one name are serialized by a transaction-level
 * advisory lock taken before the source is read, so the second waits and
 * then replaces the first's model whole; it never mixes rows of two.  In a
 * REPEATABLE READ or SERIALIZABLE transaction the second cannot see the
 * first's model, so it fails with a serialization error instead.
 *
 * A model has an owner (cf_models.owner).  Row-level security on the four
 * tables lets only roles with the owner's privileges change a model's rows;
 * the store checks that up front (and keeps the owner when it replaces a
 * model) so that a trainer gets a clear error instead of a silent no-op.
 * Every query is schema-qualified and spells its operators
 * OPERATOR(pg_catalog.=), so the caller's search_path cannot redirect them.
 *
 * Rows are inserted in batches (rows.c).  Lookups for scoring use plans
 * prepared once per backend; a model trained on a Citus cluster reads its
 * user's row from its own table (citus.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "access.h"
#include "algorithm.h"
#include "cache.h"
#include "citus.h"
#include "ids.h"
#include "model.h"
#include "rows.h"
#include "util.h"

/* Advisory lock key space of cf: pg_locks shows classid 25446 ("cf"). */
#define CF_LOCK_CLASS 0x6366

/* Floats per padded factor row. */
static int
factor_stride(int k)
{
	return (k + CF_LANES - 1) / CF_LANES * CF_LANES;
}

/* Bytes of a CfFactors of this shape. */
Size
cf_factors_bytes(int32 nusers, int32 nitems, int k)
{
	Size		rows = (Size) nusers + nitems;

	return cf_mul_size(cf_mul_size(rows, factor_stride(k) + 1), sizeof(float));
}

/* Allocate zeroed factors and biases in CurrentMemoryContext. */
void
cf_factors_alloc(CfFactors *f, int32 nusers, int32 nitems, int k)
{
	Size		pbytes;
	Size		qbytes;

	f->nusers = nusers;
	f->nitems = nitems;
	f->k = k;
	f->stride = factor_stride(k);
	f->user_bias = cf_palloc0_huge_array(float, nusers);
	f->item_bias = cf_palloc0_huge_array(float, nitems);
	/* (the factors can be gigabytes: zeroed in cancellable pieces) */
	pbytes = cf_mul_size(cf_mul_size(Max(nusers, 1), f->stride), sizeof(float));
	qbytes = cf_mul_size(cf_mul_size(Max(nitems, 1), f->stride), sizeof(float));
	f->P = palloc_extended(pbytes, MCXT_ALLOC_HUGE);
	f->Q = palloc_extended(qbytes, MCXT_ALLOC_HUGE);
	cf_zero_huge(f->P, pbytes);
	cf_zero_huge(f->Q, qbytes);
}

/*
 * Draw rows of k factors uniform on [-r, r], r = sqrt(0.03 / k) (variance
 * 0.01 / k), from rng, zeros up to the stride; row j goes to position
 * pos[j] of F (j if pos is NULL).  Checks for interrupts per row.
 */
void
cf_init_factor_rows(float *F, int32 rows, const int32 *pos, int k, int stride,
					pg_prng_state *rng)
{
	double		range = sqrt(3.0 * 0.01 / k);

	for (int32 j = 0; j < rows; j++)
	{
		float	   *row = F + (Size) (pos ? pos[j] : j) * stride;

		for (int c = 0; c < k; c++)
			row[c] = (float) (range * (2 * pg_prng_double(rng) - 1));
		memset(row + k, 0, sizeof(float) * (stride - k));
		CHECK_FOR_INTERRUPTS();
	}
}

/* Serialize training of one model name until the end of the transaction. */
void
cf_lock_model(const char *name)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, CF_LOCK_CLASS,
						 hash_bytes((const unsigned char *) name, strlen(name)), 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* A stored model's row as one snapshot sees it (see model_row). */
typedef struct ModelRow
{
	bool		exists;
	ItemPointerData tid;		/* the row version: what a concurrent change */
	TransactionId xmin;			/* ... of any column makes different */
	char	   *owner;			/* owner's name, or NULL (0.1.0 tables) */
	Oid			owner_oid;		/* InvalidOid if no role has that name */
	bool		allowed;		/* caller has the owner's privileges */
	char	   *algorithm;		/* as stored */
	int64		version;
} ModelRow;

/*
 * The type of cf_models.owner: InvalidOid before ALTER EXTENSION cf UPDATE
 * to 0.2.0 (0.1.0's tables, no row-level security), REGROLEOID in 0.2.0's,
 * NAMEOID since 0.3.0.  A backend may run this library on older tables
 * until the update.
 */
static Oid
owner_column_type(Oid nsp)
{
	Oid			relid = get_relname_relid("cf_models", nsp);
	AttrNumber	att = OidIsValid(relid) ? get_attnum(relid, "owner") : InvalidAttrNumber;

	return att == InvalidAttrNumber ? InvalidOid : get_atttype(relid, att);
}

/* SQL for the owner's name as text, for the owner column of this type. */
static const char *
owner_name_sql(Oid type)
{
	if (type == REGROLEOID)
		return "pg_catalog.pg_get_userbyid(owner)::pg_catalog.text";
	if (OidIsValid(type))
		return "owner::pg_catalog.text";
	return "NULL::pg_catalog.text";
}

/*
 * Read the named model's row version and owner (call inside SPI_connect),
 * with a fresh snapshot in READ COMMITTED or the transaction's otherwise,
 * or with the given snapshot.
 */
static void
model_row(Oid nsp, const char *name, Snapshot snapshot, ModelRow *row)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	Oid			type = owner_column_type(nsp);
	SPIPlanPtr	plan;
	char	   *sql;
	int			ret;
	bool		isnull;
	Datum		d;

	sql = psprintf("SELECT ctid, xmin, algorithm, version, %s%s FROM %s"
				   " WHERE name OPERATOR(pg_catalog.=) $1",
				   owner_name_sql(type),
				   type == REGROLEOID ? ", owner::pg_catalog.oid" : "",
				   cf_table(nsp, "cf_models"));
	plan = SPI_prepare(sql, 1, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	values[0] = CStringGetTextDatum(name);
	if (snapshot != InvalidSnapshot)
		ret = SPI_execute_snapshot(plan, values, NULL, snapshot, InvalidSnapshot,
								   true, false, 1);
	else
		ret = SPI_execute_plan(plan, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed: %s", SPI_result_code_string(ret));
	memset(row, 0, sizeof(*row));
	row->exists = SPI_processed > 0;
	if (row->exists)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		row->tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(tup, desc, 1, &isnull));
		row->xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 2, &isnull));
		row->algorithm = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
		row->version = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		row->owner = isnull ? NULL : TextDatumGetCString(d);
		if (type == REGROLEOID)
			row->owner_oid = DatumGetObjectId(SPI_getbinval(tup, desc, 6, &isnull));
		else if (row->owner)
			row->owner_oid = cf_role_oid(row->owner);
		/* no owner column: no row-level security, anyone may; a superuser always may */
		row->allowed = !OidIsValid(type) || superuser() ||
			cf_has_privileges_of(row->owner_oid);
	}
	SPI_freeplan(plan);
	pfree(sql);
}

/* Error: the caller lacks the privileges of the model's owner to do what. */
static void
report_not_owner(const char *name, const ModelRow *row, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s model \"%s\"", what, name),
			 OidIsValid(row->owner_oid) ?
			 errdetail("The model belongs to role \"%s\"; only roles with the privileges of that role may replace or drop it.",
					   row->owner) :
			 errdetail("The model belongs to \"%s\", which is no role of this cluster; only a superuser may replace or drop it.",
					   row->owner ? row->owner : ""),
			 OidIsValid(row->owner_oid) ?
			 errhint("Train under another model name, or ask the owner to grant you its role.") :
			 errhint("A superuser can give the model to an existing role with UPDATE cf_models SET owner = ... .")));
}

/*
 * Error, as PostgreSQL would when the statement runs, unless the caller
 * holds one of the privileges in mode on the extension's relation relname.
 */
static void
require_privilege(Oid nsp, const char *relname, AclMode mode, ObjectType kind)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s\" of extension cf is missing", relname);
	if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, kind, relname);
}

/*
 * Under the model's lock, before any work: error unless the caller holds
 * the table privileges storing a model takes and may replace the named
 * model, and, in a REPEATABLE READ or SERIALIZABLE
 * transaction, unless the model is still as this transaction's snapshot
 * sees it (a training of the same name that committed while this one
 * waited for the lock would otherwise be overwritten unseen).
 */
bool
cf_check_replace(Oid nsp, const char *name, char **algorithm, int64 *version)
{
	ModelRow	seen;
	ModelRow	latest;

	require_privilege(nsp, "cf_models", ACL_SELECT, OBJECT_TABLE);
	require_privilege(nsp, "cf_models", ACL_INSERT, OBJECT_TABLE);
	require_privilege(nsp, "cf_models", ACL_DELETE, OBJECT_TABLE);
	require_privilege(nsp, "cf_user_factors", ACL_INSERT, OBJECT_TABLE);
	require_privilege(nsp, "cf_item_factors", ACL_INSERT, OBJECT_TABLE);
	require_privilege(nsp, "cf_training_log", ACL_INSERT, OBJECT_TABLE);
	/* nextval() takes USAGE or UPDATE */
	require_privilege(nsp, "cf_model_version_seq", ACL_USAGE | ACL_UPDATE, OBJECT_SEQUENCE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	model_row(nsp, name, InvalidSnapshot, &seen);
	if (IsolationUsesXactSnapshot())
	{
		model_row(nsp, name, GetLatestSnapshot(), &latest);
		if (seen.exists != latest.exists ||
			(seen.exists && (seen.xmin != latest.xmin ||
							 !ItemPointerEquals(&seen.tid, &latest.tid))))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to model \"%s\" due to a concurrent training", name),
					 errdetail("Another transaction stored model \"%s\" after this transaction took its snapshot.",
							   name),
					 errhint("Retry the transaction.  In READ COMMITTED, a training waits for a concurrent training of the same model and then replaces its result.")));
	}
	if (seen.exists && !seen.allowed)
		report_not_owner(name, &seen, "replace");
	if (seen.exists)
	{
		*algorithm = SPI_palloc(strlen(seen.algorithm) + 1);
		strcpy(*algorithm, seen.algorithm);
		*version = seen.version;
	}
	SPI_finish();
	return seen.exists;
}

/*
 * Under the name's lock: error unless no model has this name, as the
 * caller sees it (42710) or, in REPEATABLE READ or SERIALIZABLE, as a
 * transaction that committed since this one's snapshot left it (40001,
 * as for cf_train in the same race).
 */
void
cf_check_new_name(Oid nsp, const char *name)
{
	ModelRow	row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	model_row(nsp, name, InvalidSnapshot, &row);
	if (row.exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" already exists", name),
				 errhint("Drop it first with cf_drop_model().")));
	if (IsolationUsesXactSnapshot())
	{
		model_row(nsp, name, GetLatestSnapshot(), &row);
		if (row.exists)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to model \"%s\" due to a concurrent change", name),
					 errdetail("Another transaction stored model \"%s\" after this transaction took its snapshot.",
							   name),
					 errhint("Retry the transaction.")));
	}
	SPI_finish();
}

/*
 * Error unless the caller may change the named model's rows (it does not
 * exist, or the caller has its owner's privileges); for cf_refresh_users.
 */
void
cf_check_owner(Oid nsp, const char *name)
{
	ModelRow	row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	model_row(nsp, name, InvalidSnapshot, &row);
	if (row.exists && !row.allowed)
		report_not_owner(name, &row, "change");
	SPI_finish();
}

/*
 * The role a model's recorded source is read as: its owner (error if no
 * role has the owner's name), or the caller where the tables record no
 * owner (before 0.2.0).  Error if the caller sees no such model.
 */
Oid
cf_model_owner(Oid nsp, const char *name)
{
	ModelRow	row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	model_row(nsp, name, InvalidSnapshot, &row);
	SPI_finish();
	if (!row.exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with cf_train(), or see the trained models in cf_models.")));
	if (row.owner == NULL)
		return GetUserId();
	if (!OidIsValid(row.owner_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("owner \"%s\" of model \"%s\" is no role of this cluster", row.owner, name),
				 errdetail("The source a model records is read as the model's owner, whose privileges decide what it may read."),
				 errhint("Give the model to an existing role with UPDATE cf_models SET owner = ... .")));
	return row.owner_oid;
}

/*
 * Whether a table of the extension has a column: columns added in 0.2.0
 * are missing until ALTER EXTENSION cf UPDATE, while this library may
 * already serve the 0.1.0 declarations.
 */
static bool
has_column(Oid nsp, const char *table, const char *column)
{
	Oid			relid = get_relname_relid(table, nsp);

	return OidIsValid(relid) && get_attnum(relid, column) != InvalidAttrNumber;
}

/* What store_items stores. */
typedef struct StoreItems
{
	Oid			nsp;
	const CfTrainedModel *m;
} StoreItems;

/* Insert a trained model's item rows (inside SPI). */
static void
store_items(void *arg)
{
	static const Oid item_types[] = {INT8OID, FLOAT4OID, FLOAT4ARRAYOID, TEXTOID};
	Oid			nsp = ((StoreItems *) arg)->nsp;
	const CfTrainedModel *m = ((StoreItems *) arg)->m;
	const CfFactors *f = m->factors;
	bool		keys = m->data->item_keys != NULL;
	CfRowBatch	b;

	cf_batch_begin(&b, cf_table(nsp, "cf_item_factors"),
				keys ? "model, item_id, bias, factors, item_key" : "model, item_id, bias, factors",
				keys ? 4 : 3, item_types, m->name);
	for (int32 i = 0; i < m->data->nitems; i++)
	{
		Datum	   *row = cf_batch_row(&b);
		MemoryContext oldcxt = MemoryContextSwitchTo(b.cxt);

		row[0] = Int64GetDatum(m->data->item_ids[i]);
		row[1] = Float4GetDatum(f->item_bias[i]);
		row[2] = cf_flat_array(f->Q + (Size) i * f->stride, f->k, FLOAT4OID, sizeof(float));
		if (keys)
			row[3] = CStringGetTextDatum(m->data->item_keys[i]);
		MemoryContextSwitchTo(oldcxt);
	}
	cf_batch_end(&b);
}

/* Replace the named model by the trained one, in the current transaction. */
void
cf_store_model(Oid nsp, const CfTrainedModel *m)
{
	static const Oid user_types[] = {INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID, TEXTOID};
	static const Oid log_types[] = {INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
	const CfRatings *data = m->data;
	const CfFactors *f = m->factors;
	int			k = f->k;
	StringInfoData sql;
	Oid			argtypes[26];
	Datum		values[26];
	char		nulls[26];
	CfRowBatch	b;
	int64	   *rated;
	int			ret;
	MemoryContext oldcxt;
	int			nkept = 0;		/* columns a replaced model keeps */
	const char *kept[2];
	Oid			kept_types[2];
	Datum		kept_values[2];
	bool		kept_nulls[2];
	bool		has_epoch_kept = has_column(nsp, "cf_models", "epoch_kept");
	int			nargs;
	StringInfoData extra_columns;
	StringInfoData extra_values;
	bool		has_validation = has_column(nsp, "cf_training_log", "validation_rmse");
	bool		has_types = has_column(nsp, "cf_models", "user_type");
	bool		user_keys = data->user_keys != NULL;
	bool		has_user_table = has_column(nsp, "cf_models", "user_table");
	char	   *old_user_table = NULL;
	StoreItems	items;

	if (!has_types && (data->user_keys || data->item_keys))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("models with ids that are not integers need cf 0.4.0's tables"),
				 errhint("Run ALTER EXTENSION cf UPDATE.")));

	if (m->user_table != NULL && !has_user_table)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("models trained on a Citus cluster need cf 0.4.0's tables"),
				 errhint("Run ALTER EXTENSION cf UPDATE.")));

	/* what a replaced model keeps: its owner and reader, where the tables have them */
	if (has_column(nsp, "cf_models", "owner"))
		kept[nkept++] = "owner";
	if (has_column(nsp, "cf_models", "reader"))
		kept[nkept++] = "reader";

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The old model, with its factors and log (the cascade trigger).  Row-level
	 * security hides the row from DELETE unless the caller has the owner's
	 * privileges: then the model exists but was not deleted.
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE name OPERATOR(pg_catalog.=) $1 RETURNING %s",
					 cf_table(nsp, "cf_models"), has_user_table ? "user_table" : "NULL::pg_catalog.text");
	for (int j = 0; j < nkept; j++)
		appendStringInfo(&sql, ", %s", kept[j]);
	argtypes[0] = TEXTOID;
	values[0] = CStringGetTextDatum(m->name);
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "deleting the old model failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		old_user_table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		for (int j = 0; j < nkept; j++)
		{
			Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, j + 1);

			kept_types[j] = att->atttypid;
			kept_values[j] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   j + 2, &kept_nulls[j]);
			if (!kept_nulls[j])
				kept_values[j] = datumCopy(kept_values[j], att->attbyval, att->attlen);
		}
	}
	else
	{
		ModelRow	row;

		model_row(nsp, m->name, InvalidSnapshot, &row);
		if (row.exists)
			report_not_owner(m->name, &row, "replace");
		nkept = 0;				/* a new model: the column defaults */
	}

	/*
	 * The model row.  A replaced model keeps its owner (as CREATE OR REPLACE
	 * keeps a function's) and its reader; a new one gets the column
	 * defaults, the caller and none.  Columns added since 0.1.0 only where
	 * the tables have them.
	 */
	nargs = 18;
	initStringInfo(&extra_columns);
	initStringInfo(&extra_values);
	if (has_epoch_kept)
	{
		appendStringInfoString(&extra_columns, ", epoch_kept");
		appendStringInfo(&extra_values, ", $%d", ++nargs);
	}
	if (has_types)
	{
		appendStringInfo(&extra_columns, ", user_type, item_type");
		appendStringInfo(&extra_values, ", $%d, $%d", nargs + 1, nargs + 2);
		nargs += 2;
	}
	if (m->user_table != NULL)
	{
		appendStringInfoString(&extra_columns, ", user_table");
		appendStringInfo(&extra_values, ", $%d", ++nargs);
	}
	for (int j = 0; j < nkept; j++)
	{
		appendStringInfo(&extra_columns, ", %s", kept[j]);
		appendStringInfo(&extra_values, ", $%d", ++nargs);
	}
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (name, version, source, user_column, item_column,"
					 " rating_column, algorithm, hyperparameters, factors, users, items,"
					 " ratings, global_mean, rating_min, rating_max, epochs, loss, rmse,"
					 " seconds, trained_at%s)"
					 " VALUES ($1, pg_catalog.nextval(%s::pg_catalog.regclass), $2, $3, $4,"
					 " $5, $6, $7::pg_catalog.jsonb, $8, $9, $10, $11, $12, $13, $14, $15,"
					 " $16, $17, $18, pg_catalog.clock_timestamp()%s)",
					 cf_table(nsp, "cf_models"),
					 extra_columns.data,
					 quote_literal_cstr(cf_table(nsp, "cf_model_version_seq")),
					 extra_values.data);
	memset(nulls, ' ', sizeof(nulls));
	argtypes[0] = TEXTOID;
	values[0] = CStringGetTextDatum(m->name);
	argtypes[1] = TEXTOID;
	values[1] = CStringGetTextDatum(quote_qualified_identifier(get_namespace_name(get_rel_namespace(m->source->relid)),
															  get_rel_name(m->source->relid)));
	argtypes[2] = TEXTOID;
	values[2] = CStringGetTextDatum(m->source->user_column);
	argtypes[3] = TEXTOID;
	values[3] = CStringGetTextDatum(m->source->item_column);
	argtypes[4] = TEXTOID;
	if (m->source->rating_column)
		values[4] = CStringGetTextDatum(m->source->rating_column);
	else
		nulls[4] = 'n';
	argtypes[5] = TEXTOID;
	values[5] = CStringGetTextDatum(m->algorithm);
	argtypes[6] = TEXTOID;
	values[6] = CStringGetTextDatum(m->hyperparameters);
	argtypes[7] = INT4OID;
	values[7] = Int32GetDatum(k);
	argtypes[8] = INT8OID;
	values[8] = Int64GetDatum(data->nusers);
	argtypes[9] = INT8OID;
	values[9] = Int64GetDatum(data->nitems);
	argtypes[10] = INT8OID;
	values[10] = Int64GetDatum(data->n);
	argtypes[11] = FLOAT8OID;
	values[11] = Float8GetDatum(m->global_mean);
	argtypes[12] = FLOAT8OID;
	values[12] = Float8GetDatum(data->min);
	argtypes[13] = FLOAT8OID;
	values[13] = Float8GetDatum(data->max);
	argtypes[14] = INT4OID;
	values[14] = Int32GetDatum(m->epochs);
	argtypes[15] = FLOAT8OID;
	values[15] = Float8GetDatum(m->loss);
	if (isnan(m->loss))
		nulls[15] = 'n';
	argtypes[16] = FLOAT8OID;
	values[16] = Float8GetDatum(m->rmse);
	if (isnan(m->rmse))
		nulls[16] = 'n';
	argtypes[17] = FLOAT8OID;
	values[17] = Float8GetDatum(m->seconds);
	argtypes[18] = INT4OID;
	values[18] = Int32GetDatum(m->epoch_kept);
	if (m->epoch_kept <= 0)
		nulls[18] = 'n';
	if (has_types)
	{
		int			p = has_epoch_kept ? 19 : 18;

		argtypes[p] = REGTYPEOID;
		values[p] = ObjectIdGetDatum(m->source->user_ids.type);
		argtypes[p + 1] = REGTYPEOID;
		values[p + 1] = ObjectIdGetDatum(m->source->item_ids.type);
	}
	if (m->user_table != NULL)
	{
		argtypes[nargs - nkept - 1] = TEXTOID;
		values[nargs - nkept - 1] = CStringGetTextDatum(m->user_table);
	}
	for (int j = 0; j < nkept; j++)
	{
		argtypes[nargs - nkept + j] = kept_types[j];
		values[nargs - nkept + j] = kept_values[j];
		nulls[nargs - nkept + j] = kept_nulls[j] ? 'n' : ' ';
	}
	ret = SPI_execute_with_args(sql.data, nargs, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting the model failed: %s", SPI_result_code_string(ret));

	/*
	 * The user table of a replaced model trained on a Citus cluster, when
	 * this one does not keep its users there: dropped with the old model
	 * (only a table of the name cf gives it, whatever the row says).
	 */
	if (old_user_table != NULL &&
		(m->user_table == NULL || strcmp(old_user_table, m->user_table) != 0))
		cf_citus_drop_user_table(old_user_table, m->name);

	/* users, with the distinct items each rated (on the cluster: there) */
	rated = cf_palloc_huge_array(int64, data->nitems);
	cf_batch_begin(&b, cf_table(nsp, "cf_user_factors"),
				user_keys ? "model, user_id, bias, factors, rated_items, user_key" :
				"model, user_id, bias, factors, rated_items",
				user_keys ? 5 : 4, user_types, m->name);
	for (int32 u = 0; m->user_table == NULL && u < data->nusers; u++)
	{
		Datum	   *row = cf_batch_row(&b);
		int			nrated = 0;

		for (int64 j = data->user_start[u]; j < data->user_start[u + 1]; j++)
		{
			int64		id = data->item_ids[data->r[j].item];

			if (nrated == 0 || rated[nrated - 1] != id)
				rated[nrated++] = id;
		}
		oldcxt = MemoryContextSwitchTo(b.cxt);
		row[0] = Int64GetDatum(data->user_ids[u]);
		row[1] = Float4GetDatum(f->user_bias[u]);
		row[2] = cf_flat_array(f->P + (Size) u * f->stride, k, FLOAT4OID, sizeof(float));
		row[3] = cf_flat_array(rated, nrated, INT8OID, sizeof(int64));
		if (user_keys)
			row[4] = CStringGetTextDatum(data->user_keys[u]);
		MemoryContextSwitchTo(oldcxt);
	}
	cf_batch_end(&b);
	pfree(rated);

	/* items (a new row version of cf_models: no invalidation needed) */
	items.nsp = nsp;
	items.m = m;
	cf_own_item_writes(store_items, &items);

	/* the training trace */
	cf_batch_begin(&b, cf_table(nsp, "cf_training_log"),
				has_validation ? "model, epoch, loss, rmse, seconds, validation_rmse" :
				"model, epoch, loss, rmse, seconds",
				has_validation ? 5 : 4, log_types, m->name);
	for (int e = 0; e < m->epochs; e++)
	{
		Datum	   *row = cf_batch_row(&b);

		row[0] = Int32GetDatum(e + 1);
		row[1] = Float8GetDatum(m->log[e].loss);
		row[2] = Float8GetDatum(m->log[e].rmse);
		row[3] = Float8GetDatum(m->log[e].seconds);
		if (has_validation)
		{
			row[4] = Float8GetDatum(m->log[e].validation_rmse);
			if (isnan(m->log[e].validation_rmse))
				cf_batch_set_null(&b, 4);
		}
	}
	cf_batch_end(&b);

	SPI_finish();
}

/*
 * The scorer's queries, each planned once per backend and schema.  The
 * per-call lookups join cf_models to the user's row on constants only
 * ($1, $2), so the plan is two index probes under a nested loop and one
 * SPI call serves both.
 */
static Oid	plans_nsp = InvalidOid;
static bool plans_typed = false;	/* whether the tables had the id types */
static SPIPlanPtr plans[CF_NUM_QUERIES];

#define MODEL_COLUMNS \
	"m.tableoid, m.version, m.factors, m.global_mean, m.rating_min, m.rating_max," \
	" m.items, m.algorithm, m.hyperparameters OPERATOR(pg_catalog.->>) 'regularization'," \
	" m.hyperparameters OPERATOR(pg_catalog.->>) 'alpha'," \
	" m.hyperparameters OPERATOR(pg_catalog.->>) 'regularization_exponent'," \
	" m.ctid, m.xmin, pg_catalog.pg_relation_filenode(m.tableoid), %s, %s"
#define MODEL_NCOLUMNS 17

/* The id types' columns, or bigint ids where the tables are older than 0.4.0. */
#define MODEL_TYPES(typed) \
	((typed) ? "m.user_type, m.item_type" : \
	 "'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype")

/* The SQL text of a query, its argument count and types. */
static char *
query_text(Oid nsp, CfQuery q, int *nargs, Oid *argtypes)
{
	char	   *models = cf_table(nsp, "cf_models");
	char	   *users = cf_table(nsp, "cf_user_factors");
	char	   *items = cf_table(nsp, "cf_item_factors");
	bool		typed = has_column(nsp, "cf_models", "user_type");
	const char *types = MODEL_TYPES(typed);
	const char *item_key = typed ? "item_key" : "NULL::pg_catalog.text";
	const char *user_key = typed ? "user_key" : "NULL::pg_catalog.text";
	const char *user_table = has_column(nsp, "cf_models", "user_table") ?
		"m.user_table" : "NULL::pg_catalog.text";

	argtypes[0] = TEXTOID;
	argtypes[1] = INT8OID;
	*nargs = 2;
	switch (q)
	{
		case CF_Q_MODEL:
			*nargs = 1;
			return psprintf("SELECT " MODEL_COLUMNS " FROM %s m WHERE m.name OPERATOR(pg_catalog.=) $1",
							types, user_table, models);
		case CF_Q_MODEL_USER:
			return psprintf("SELECT " MODEL_COLUMNS ", u.bias, u.factors"
							" FROM %s m LEFT JOIN %s u ON u.model OPERATOR(pg_catalog.=) $1 AND u.user_id OPERATOR(pg_catalog.=) $2"
							" WHERE m.name OPERATOR(pg_catalog.=) $1", types, user_table, models, users);
		case CF_Q_MODEL_USER_RATED:
			return psprintf("SELECT " MODEL_COLUMNS ", u.bias, u.factors, u.rated_items"
							" FROM %s m LEFT JOIN %s u ON u.model OPERATOR(pg_catalog.=) $1 AND u.user_id OPERATOR(pg_catalog.=) $2"
							" WHERE m.name OPERATOR(pg_catalog.=) $1", types, user_table, models, users);
		case CF_Q_ITEMS:
			*nargs = 1;
			return psprintf("SELECT item_id, bias, factors, %s FROM %s"
							" WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY item_id", item_key, items);
		case CF_Q_SOME_ITEMS:
			argtypes[1] = INT8ARRAYOID;
			return psprintf("SELECT item_id, bias, factors, %s FROM %s"
							" WHERE model OPERATOR(pg_catalog.=) $1 AND item_id OPERATOR(pg_catalog.=) ANY ($2)"
							" ORDER BY item_id", item_key, items);
		case CF_Q_USERS:
			*nargs = 1;
			return psprintf("SELECT user_id, bias, factors, rated_items, %s FROM %s"
							" WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY user_id", user_key, users);
		case CF_Q_SOME_USERS:
			argtypes[1] = INT8ARRAYOID;
			return psprintf("SELECT user_id, bias, factors, rated_items, %s FROM %s"
							" WHERE model OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) ANY ($2)"
							" ORDER BY user_id", user_key, users);
		case CF_Q_MODEL_SOURCE:
			*nargs = 1;
			return psprintf("SELECT source, user_column, item_column, rating_column"
							" FROM %s WHERE name OPERATOR(pg_catalog.=) $1", models);
		case CF_Q_UPDATE_USER:
			argtypes[2] = FLOAT4OID;
			argtypes[3] = FLOAT4ARRAYOID;
			argtypes[4] = INT8ARRAYOID;
			*nargs = 5;
			return psprintf("UPDATE %s SET bias = $3, factors = $4, rated_items = $5"
							" WHERE model OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2", users);
		case CF_Q_INSERT_USER:
			argtypes[2] = FLOAT4OID;
			argtypes[3] = FLOAT4ARRAYOID;
			argtypes[4] = INT8ARRAYOID;
			*nargs = 5;
			if (!typed)
				return psprintf("INSERT INTO %s (model, user_id, bias, factors, rated_items)"
								" VALUES ($1, $2, $3, $4, $5)", users);
			argtypes[5] = TEXTOID;
			*nargs = 6;
			return psprintf("INSERT INTO %s (model, user_id, bias, factors, rated_items, user_key)"
							" VALUES ($1, $2, $3, $4, $5, $6)", users);
		case CF_Q_DELETE_USER:
			return psprintf("DELETE FROM %s WHERE model OPERATOR(pg_catalog.=) $1 AND user_id OPERATOR(pg_catalog.=) $2", users);
		default:
			elog(ERROR, "unknown cf query %d", (int) q);
	}
	return NULL;				/* keep the compiler quiet */
}

/* The saved plan of one of the scorer's queries (call inside SPI_connect). */
SPIPlanPtr
cf_query_plan(Oid nsp, CfQuery q)
{
	/* (ALTER EXTENSION cf UPDATE to 0.4.0 adds the id types the queries read) */
	bool		typed = has_column(nsp, "cf_models", "user_type");

	if (plans_nsp != nsp || plans_typed != typed)
	{
		for (int j = 0; j < CF_NUM_QUERIES; j++)
		{
			if (plans[j])
				SPI_freeplan(plans[j]);
			plans[j] = NULL;
		}
		plans_nsp = nsp;
		plans_typed = typed;
	}
	if (plans[q] == NULL)
	{
		Oid			argtypes[6];
		int			nargs;
		char	   *sql = query_text(nsp, q, &nargs, argtypes);
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		plans[q] = plan;
		pfree(sql);
	}
	return plans[q];
}

/* Column col of row j of the last SPI result, or NULL (*isnull). */
static Datum
result_value_null(int j, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, col, isnull);
}

/* Column col of row j of the last SPI result; error if NULL. */
static Datum
result_value(int j, int col)
{
	bool		isnull;
	Datum		d = result_value_null(j, col, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model has a NULL in column \"%s\"",
						SPI_fname(SPI_tuptable->tupdesc, col))));
	return d;
}

/* A non-negative number stored as text in column col of row 0, or NaN. */
static double
stored_setting(int col)
{
	bool		isnull;
	Datum		d = result_value_null(0, col, &isnull);
	char	   *str;
	char	   *end;
	double		v;

	if (isnull)
		return get_float8_nan();
	str = TextDatumGetCString(d);
	v = strtod(str, &end);
	if (end != str && *end == '\0' && isfinite(v) && v >= 0)
		return v;
	return get_float8_nan();
}

/*
 * Copy a stored one-dimensional array without NULLs of the given element
 * type and (if expected >= 0) length into dst, or a new chunk allocated in
 * CurrentMemoryContext.
 */
void *
cf_copy_array(Datum d, Oid elemtype, int elemsize, int expected, void *dst, int *n,
			  const char *what)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	int			len = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

	if (ARR_ELEMTYPE(a) != elemtype || ARR_NDIM(a) > 1 || ARR_HASNULL(a) ||
		(expected >= 0 && len != expected))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored %s is malformed", what),
				 expected >= 0 ?
				 errdetail("Expected a one-dimensional array of %d values without NULLs.",
						   expected) :
				 errdetail("Expected a one-dimensional array without NULLs.")));
	if (dst == NULL)
		dst = palloc(Max((Size) len * elemsize, 1));
	memcpy(dst, ARR_DATA_PTR(a), (Size) len * elemsize);
	if (n)
		*n = len;
	if ((Pointer) a != DatumGetPointer(d))
		pfree(a);
	return dst;
}

/*
 * Error out unless the k factors of a stored row, and its bias if bias is
 * not NULL, are finite: side is "user" or "item", id the row's id, model
 * the model's name.  (SQL on the model tables can store NaN and infinity;
 * every score would turn into NaN and be dropped or clipped.)
 */
void
cf_check_stored_row(const char *side, int64 id, const char *model, const float *v, int k,
					const float *bias)
{
	const char *Side = strcmp(side, "user") == 0 ? "User" : "Item";

	for (int c = 0; c < k; c++)
		if (!isfinite(v[c]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stored %s factor vector is malformed", side),
					 errdetail("%s %lld of model \"%s\" has a value that is not finite.",
							   Side, (long long) id, model)));
	if (bias && !isfinite(*bias))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored %s bias is not finite", side),
				 errdetail("%s %lld of model \"%s\" has bias %g.",
						   Side, (long long) id, model, *bias)));
}

/* One stored user row into *row, checked against the model (see model.h). */
void
cf_read_user_row(const Datum *values, const bool *isnull, bool with_rated, int k,
				 const char *model, CfUserRow *row)
{
	if (isnull[0] || isnull[1] || isnull[2] || (with_rated && isnull[3]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model \"%s\" has a NULL in a user row", model)));
	row->id = DatumGetInt64(values[0]);
	row->bias = DatumGetFloat4(values[1]);
	row->factors = cf_copy_array(values[2], FLOAT4OID, sizeof(float), k, row->factors, NULL,
								 "user factor vector");
	cf_check_stored_row("user", row->id, model, row->factors, k, &row->bias);
	row->rated = NULL;
	row->nrated = 0;
	if (with_rated)
		row->rated = cf_copy_array(values[3], INT8OID, sizeof(int64), -1, NULL, &row->nrated,
								   "list of rated items");
}

/*
 * The per-call lookup: the model's row (error if the calling role cannot
 * see it) and, unless part is CF_USER_NONE, the user's row, in one query
 * run read-only in the current snapshot.  Returns whether the user has a
 * row.  Results are allocated in the caller's memory context.
 */
bool
cf_lookup(Oid nsp, const char *name, CfModelInfo *info, CfUserPart part,
		  int64 user_id, CfUserRow *user)
{
	static const CfQuery queries[] = {CF_Q_MODEL, CF_Q_MODEL_USER, CF_Q_MODEL_USER_RATED};
	Datum		args[2];
	bool		found = false;
	MemoryContext outer = CurrentMemoryContext;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = CStringGetTextDatum(name);
	args[1] = Int64GetDatum(user_id);
	ret = SPI_execute_plan(cf_query_plan(nsp, queries[part]), args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with cf_train(), or see the trained models in cf_models.")));

	info->relid = DatumGetObjectId(result_value(0, 1));
	info->version = DatumGetInt64(result_value(0, 2));
	info->k = DatumGetInt32(result_value(0, 3));
	info->mean = DatumGetFloat8(result_value(0, 4));
	info->min = DatumGetFloat8(result_value(0, 5));
	info->max = DatumGetFloat8(result_value(0, 6));
	info->items = DatumGetInt64(result_value(0, 7));
	info->algorithm = MemoryContextStrdup(outer, TextDatumGetCString(result_value(0, 8)));
	/* an algorithm cf does not know (a hand-made row) serves as biased MF */
	info->alg = cf_algorithm_by_name(info->algorithm);
	info->predicts_ratings = info->alg ? info->alg->predicts_ratings : true;
	info->has_biases = info->alg ? info->alg->has_biases : true;
	info->regularization = stored_setting(9);
	info->alpha = stored_setting(10);
	info->regularization_exponent = stored_setting(11);
	info->tid = *(ItemPointer) DatumGetPointer(result_value(0, 12));
	info->xmin = DatumGetTransactionId(result_value(0, 13));
	info->filenode = DatumGetObjectId(result_value(0, 14));
	info->user_type = DatumGetObjectId(result_value(0, 15));
	info->item_type = DatumGetObjectId(result_value(0, 16));
	info->user_table = NULL;
	{
		bool		isnull;
		Datum		d = result_value_null(0, 17, &isnull);

		if (!isnull)
			info->user_table = MemoryContextStrdup(outer, TextDatumGetCString(d));
	}
	cf_check_model_id_type(info->user_type, name, "user");
	cf_check_model_id_type(info->item_type, name, "item");
	if (info->k < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model \"%s\" has %d factors", name, info->k)));
	if (info->k == 0 && info->alg && (info->alg->uses & CF_ARG_FACTORS))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model \"%s\" has 0 factors", name),
				 errdetail("Algorithm \"%s\" makes models of at least one factor.",
						   info->algorithm)));

	if (part != CF_USER_NONE && info->user_table != NULL)
		found = cf_citus_lookup_user(info, name, part, user_id, user, outer);
	else if (part != CF_USER_NONE)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		/* no user row: its columns of the outer join are all NULL */
		values[1] = result_value_null(0, MODEL_NCOLUMNS + 1, &nulls[1]);
		found = !nulls[1];
		if (found)
		{
			MemoryContext spicxt = MemoryContextSwitchTo(outer);

			values[0] = Int64GetDatum(user_id);
			values[2] = result_value_null(0, MODEL_NCOLUMNS + 2, &nulls[2]);
			if (part == CF_USER_RATED)
				values[3] = result_value_null(0, MODEL_NCOLUMNS + 3, &nulls[3]);
			user->factors = NULL;
			cf_read_user_row(values, nulls, part == CF_USER_RATED, info->k, name, user);
			MemoryContextSwitchTo(spicxt);
		}
	}
	SPI_finish();
	return found;
}

/*
 * The source a model records (its text, a quoted qualified name) and the
 * columns it was trained from (rating NULL if none), read as the caller;
 * error if the model does not exist.
 */
char *
cf_model_source(Oid nsp, const char *name, CfSource *src)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		value = CStringGetTextDatum(name);
	char	   *source;
	bool		isnull;
	Datum		d;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_plan(cf_query_plan(nsp, CF_Q_MODEL_SOURCE), &value, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the model's source failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with cf_train(), or see the trained models in cf_models.")));
	memset(src, 0, sizeof(*src));
	source = MemoryContextStrdup(outer, TextDatumGetCString(result_value(0, 1)));
	src->user_column = MemoryContextStrdup(outer, TextDatumGetCString(result_value(0, 2)));
	src->item_column = MemoryContextStrdup(outer, TextDatumGetCString(result_value(0, 3)));
	d = result_value_null(0, 4, &isnull);
	src->rating_column = isnull ? NULL : MemoryContextStrdup(outer, TextDatumGetCString(d));
	SPI_finish();
	return source;
}
