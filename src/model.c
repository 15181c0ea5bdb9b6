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
 * Rows are inserted in batches of up to INSERT_BATCH per statement, each
 * batch's arrays built in a memory context reset after the batch.  Lookups
 * for scoring use plans prepared once per backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "model.h"
#include "util.h"

#define INSERT_BATCH 500

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
	int			flags = MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO;

	f->nusers = nusers;
	f->nitems = nitems;
	f->k = k;
	f->stride = factor_stride(k);
	f->user_bias = palloc_extended(cf_mul_size(Max(nusers, 1), sizeof(float)), flags);
	f->item_bias = palloc_extended(cf_mul_size(Max(nitems, 1), sizeof(float)), flags);
	f->P = palloc_extended(cf_mul_size(cf_mul_size(Max(nusers, 1), f->stride), sizeof(float)), flags);
	f->Q = palloc_extended(cf_mul_size(cf_mul_size(Max(nitems, 1), f->stride), sizeof(float)), flags);
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
	int64		version;
	Oid			owner;
	bool		allowed;		/* caller has the owner's privileges */
} ModelRow;

/*
 * Whether cf_models has the owner column: not before ALTER EXTENSION cf
 * UPDATE to 0.2.0, when a database still has 0.1.0's tables (and no
 * row-level security) but already runs this library.
 */
static bool
has_owner_column(Oid nsp)
{
	Oid			relid = get_relname_relid("cf_models", nsp);

	return OidIsValid(relid) && get_attnum(relid, "owner") != InvalidAttrNumber;
}

/*
 * Read the named model's version and owner (call inside SPI_connect), with
 * a fresh snapshot in READ COMMITTED or the transaction's otherwise, or with
 * the given snapshot.
 */
static void
model_row(Oid nsp, const char *name, Snapshot snapshot, ModelRow *row)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	char	   *sql;
	int			ret;
	bool		isnull;

	sql = psprintf("SELECT version, %s FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
				   has_owner_column(nsp) ?
				   "owner::pg_catalog.oid, pg_catalog.pg_has_role(owner, 'USAGE')" :
				   "0::pg_catalog.oid, true",
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
	row->exists = SPI_processed > 0;
	if (row->exists)
	{
		row->version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull));
		row->owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 2, &isnull));
		row->allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 3, &isnull));
	}
	SPI_freeplan(plan);
	pfree(sql);
}

/* Error: the caller lacks the privileges of the model's owner. */
static void
report_not_owner(const char *name, Oid owner)
{
	char	   *rolname = GetUserNameFromId(owner, true);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to replace model \"%s\"", name),
			 rolname ?
			 errdetail("The model belongs to role \"%s\"; only roles with the privileges of that role may replace or drop it.",
					   rolname) :
			 errdetail("The model belongs to a dropped role (OID %u); only a superuser may replace or drop it.",
					   owner),
			 errhint("Train under another model name, or ask the owner to grant you its role.")));
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
void
cf_check_replace(Oid nsp, const char *name)
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
			(seen.exists && seen.version != latest.version))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to model \"%s\" due to a concurrent training", name),
					 errdetail("Another transaction stored model \"%s\" after this transaction took its snapshot.",
							   name),
					 errhint("Retry the transaction.  In READ COMMITTED, a training waits for a concurrent training of the same model and then replaces its result.")));
	}
	if (seen.exists && !seen.allowed)
		report_not_owner(name, seen.owner);
	SPI_finish();
}

/* A one-dimensional array of n by-value elements (real[] or bigint[]). */
static Datum
flat_array(const void *v, int n, Oid elemtype, Size elemsize)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + (Size) n * elemsize;
	ArrayType  *a = (ArrayType *) palloc(size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = elemtype;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	memcpy(ARR_DATA_PTR(a), v, (Size) n * elemsize);
	return PointerGetDatum(a);
}

/*
 * Batched multi-row INSERT of rows whose first column is the model name:
 * "INSERT INTO table (model, cols...) VALUES ($1, ...), ($1, ...)".
 */
typedef struct RowBatch
{
	const char *table;			/* quoted qualified name */
	const char *columns;		/* "model, a, b" */
	int			ncols;			/* columns after model */
	const Oid  *types;			/* their types */
	SPIPlanPtr	full;			/* plan for INSERT_BATCH rows */
	int			nrows;			/* rows collected */
	Datum	   *values;			/* 1 + INSERT_BATCH * ncols */
	char	   *nulls;
	MemoryContext cxt;			/* row values; reset after each batch */
} RowBatch;

/* Plan an INSERT of nrows rows. */
static SPIPlanPtr
batch_plan(RowBatch *b, int nrows)
{
	StringInfoData sql;
	int			nargs = 1 + nrows * b->ncols;
	Oid		   *argtypes = palloc(nargs * sizeof(Oid));
	SPIPlanPtr	plan;
	int			p = 2;

	argtypes[0] = TEXTOID;
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (%s) VALUES ", b->table, b->columns);
	for (int r = 0; r < nrows; r++)
	{
		appendStringInfoString(&sql, r > 0 ? ", ($1" : "($1");
		for (int c = 0; c < b->ncols; c++)
		{
			argtypes[p - 1] = b->types[c];
			appendStringInfo(&sql, ", $%d", p++);
		}
		appendStringInfoChar(&sql, ')');
	}
	plan = SPI_prepare(sql.data, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	pfree(sql.data);
	pfree(argtypes);
	return plan;
}

static void
batch_begin(RowBatch *b, const char *table, const char *columns, int ncols,
			const Oid *types, const char *model)
{
	b->table = table;
	b->columns = columns;
	b->ncols = ncols;
	b->types = types;
	b->full = NULL;
	b->nrows = 0;
	b->values = palloc((1 + INSERT_BATCH * ncols) * sizeof(Datum));
	b->nulls = palloc0(1 + INSERT_BATCH * ncols);
	memset(b->nulls, ' ', 1 + INSERT_BATCH * ncols);
	b->values[0] = CStringGetTextDatum(model);
	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "cf insert batch",
								   ALLOCSET_DEFAULT_SIZES);
}

/* Insert the collected rows. */
static void
batch_flush(RowBatch *b)
{
	SPIPlanPtr	plan;
	int			ret;

	if (b->nrows == 0)
		return;
	if (b->nrows == INSERT_BATCH)
	{
		if (b->full == NULL)
			b->full = batch_plan(b, INSERT_BATCH);
		plan = b->full;
	}
	else
		plan = batch_plan(b, b->nrows);

	ret = SPI_execute_plan(plan, b->values, b->nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting into %s failed: %s", b->table, SPI_result_code_string(ret));
	if (plan != b->full)
		SPI_freeplan(plan);
	b->nrows = 0;
	MemoryContextReset(b->cxt);
	CHECK_FOR_INTERRUPTS();
}

/* Slot for column c of the next row; flush when the batch is full. */
static inline Datum *
batch_row(RowBatch *b)
{
	if (b->nrows == INSERT_BATCH)
		batch_flush(b);
	return &b->values[1 + b->nrows++ * b->ncols];
}

static void
batch_end(RowBatch *b)
{
	batch_flush(b);
	if (b->full)
		SPI_freeplan(b->full);
	MemoryContextDelete(b->cxt);
}

/* Replace the named model by the trained one, in the current transaction. */
void
cf_store_model(Oid nsp, const CfTrainedModel *m)
{
	static const Oid user_types[] = {INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID};
	static const Oid item_types[] = {INT8OID, FLOAT4OID, FLOAT4ARRAYOID};
	static const Oid log_types[] = {INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
	const CfRatings *data = m->data;
	const CfFactors *f = m->factors;
	int			k = f->k;
	StringInfoData sql;
	Oid			argtypes[19];
	Datum		values[19];
	char		nulls[19];
	RowBatch	b;
	int64	   *rated;
	int			ret;
	MemoryContext oldcxt;
	bool		keep_owner;		/* replacing a model that has an owner */
	bool		with_owner = has_owner_column(nsp);
	Oid			owner = InvalidOid;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The old model, with its factors and log (ON DELETE CASCADE).  Row-level
	 * security hides the row from DELETE unless the caller has the owner's
	 * privileges: then the model exists but was not deleted.
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE name OPERATOR(pg_catalog.=) $1"
					 " RETURNING %s", cf_table(nsp, "cf_models"),
					 with_owner ? "owner::pg_catalog.oid" : "0::pg_catalog.oid");
	argtypes[0] = TEXTOID;
	values[0] = CStringGetTextDatum(m->name);
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "deleting the old model failed: %s", SPI_result_code_string(ret));
	keep_owner = SPI_processed > 0 && with_owner;
	if (keep_owner)
	{
		bool		isnull;

		owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	}
	else if (SPI_processed == 0)
	{
		ModelRow	row;

		model_row(nsp, m->name, InvalidSnapshot, &row);
		if (row.exists)
			report_not_owner(m->name, row.owner);
	}

	/*
	 * The model row.  A replaced model keeps its owner (as CREATE OR REPLACE
	 * keeps a function's); a new one gets the column default, the caller.
	 */
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (name, version, source, user_column, item_column,"
					 " rating_column, algorithm, hyperparameters, factors, users, items,"
					 " ratings, global_mean, rating_min, rating_max, epochs, loss, rmse,"
					 " seconds, trained_at%s)"
					 " VALUES ($1, pg_catalog.nextval(%s::pg_catalog.regclass), $2, $3, $4,"
					 " $5, $6, $7::pg_catalog.jsonb, $8, $9, $10, $11, $12, $13, $14, $15,"
					 " $16, $17, $18, pg_catalog.clock_timestamp()%s)",
					 cf_table(nsp, "cf_models"), keep_owner ? ", owner" : "",
					 quote_literal_cstr(cf_table(nsp, "cf_model_version_seq")),
					 keep_owner ? ", $19" : "");
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
	values[11] = Float8GetDatum(data->mean);
	argtypes[12] = FLOAT8OID;
	values[12] = Float8GetDatum(data->min);
	argtypes[13] = FLOAT8OID;
	values[13] = Float8GetDatum(data->max);
	argtypes[14] = INT4OID;
	values[14] = Int32GetDatum(m->epochs);
	argtypes[15] = FLOAT8OID;
	values[15] = Float8GetDatum(m->loss);
	argtypes[16] = FLOAT8OID;
	values[16] = Float8GetDatum(m->rmse);
	argtypes[17] = FLOAT8OID;
	values[17] = Float8GetDatum(m->seconds);
	argtypes[18] = REGROLEOID;
	values[18] = ObjectIdGetDatum(owner);
	ret = SPI_execute_with_args(sql.data, keep_owner ? 19 : 18, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting the model failed: %s", SPI_result_code_string(ret));

	/* users, with the distinct items each rated */
	rated = palloc_extended(cf_mul_size(data->nitems, sizeof(int64)), MCXT_ALLOC_HUGE);
	batch_begin(&b, cf_table(nsp, "cf_user_factors"), "model, user_id, bias, factors, rated_items",
				4, user_types, m->name);
	for (int32 u = 0; u < data->nusers; u++)
	{
		Datum	   *row = batch_row(&b);
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
		row[2] = flat_array(f->P + (Size) u * f->stride, k, FLOAT4OID, sizeof(float));
		row[3] = flat_array(rated, nrated, INT8OID, sizeof(int64));
		MemoryContextSwitchTo(oldcxt);
	}
	batch_end(&b);
	pfree(rated);

	/* items */
	batch_begin(&b, cf_table(nsp, "cf_item_factors"), "model, item_id, bias, factors",
				3, item_types, m->name);
	for (int32 i = 0; i < data->nitems; i++)
	{
		Datum	   *row = batch_row(&b);

		oldcxt = MemoryContextSwitchTo(b.cxt);
		row[0] = Int64GetDatum(data->item_ids[i]);
		row[1] = Float4GetDatum(f->item_bias[i]);
		row[2] = flat_array(f->Q + (Size) i * f->stride, k, FLOAT4OID, sizeof(float));
		MemoryContextSwitchTo(oldcxt);
	}
	batch_end(&b);

	/* the training trace */
	batch_begin(&b, cf_table(nsp, "cf_training_log"), "model, epoch, loss, rmse, seconds",
				4, log_types, m->name);
	for (int e = 0; e < m->epochs; e++)
	{
		Datum	   *row = batch_row(&b);

		row[0] = Int32GetDatum(e + 1);
		row[1] = Float8GetDatum(m->log[e].loss);
		row[2] = Float8GetDatum(m->log[e].rmse);
		row[3] = Float8GetDatum(m->log[e].seconds);
	}
	batch_end(&b);

	SPI_finish();
}

/*
 * Plans for the scorer's lookups, prepared once per backend and schema.
 */
typedef enum
{
	Q_MODEL,
	Q_USER,
	Q_ITEM,
	Q_ITEMS,
	NUM_QUERIES
} LookupQuery;

static Oid	plans_nsp = InvalidOid;
static SPIPlanPtr plans[NUM_QUERIES];

/* The saved plan of a lookup (call inside SPI_connect). */
static SPIPlanPtr
lookup_plan(Oid nsp, LookupQuery q)
{
	if (plans_nsp != nsp)
	{
		for (int j = 0; j < NUM_QUERIES; j++)
		{
			if (plans[j])
				SPI_freeplan(plans[j]);
			plans[j] = NULL;
		}
		plans_nsp = nsp;
	}
	if (plans[q] == NULL)
	{
		char	   *sql;
		Oid			argtypes[2] = {TEXTOID, INT8OID};
		int			nargs = 2;
		SPIPlanPtr	plan;

		switch (q)
		{
			case Q_MODEL:
				sql = psprintf("SELECT version, factors, global_mean, rating_min, rating_max"
							   " FROM %s WHERE name OPERATOR(pg_catalog.=) $1", cf_table(nsp, "cf_models"));
				nargs = 1;
				break;
			case Q_USER:
				sql = psprintf("SELECT bias, factors, rated_items FROM %s"
							   " WHERE model OPERATOR(pg_catalog.=) $1"
							   " AND user_id OPERATOR(pg_catalog.=) $2",
							   cf_table(nsp, "cf_user_factors"));
				break;
			case Q_ITEM:
				sql = psprintf("SELECT bias, factors FROM %s"
							   " WHERE model OPERATOR(pg_catalog.=) $1"
							   " AND item_id OPERATOR(pg_catalog.=) $2",
							   cf_table(nsp, "cf_item_factors"));
				break;
			default:
				sql = psprintf("SELECT item_id, bias, factors FROM %s"
							   " WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY item_id",
							   cf_table(nsp, "cf_item_factors"));
				nargs = 1;
				break;
		}
		plan = SPI_prepare(sql, nargs, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		plans[q] = plan;
		pfree(sql);
	}
	return plans[q];
}

/* Run a lookup with the model name (and an id), read-only. */
static void
run_lookup(Oid nsp, LookupQuery q, const char *name, int64 id)
{
	Datum		values[2];
	int			ret;

	values[0] = CStringGetTextDatum(name);
	values[1] = Int64GetDatum(id);
	ret = SPI_execute_plan(lookup_plan(nsp, q), values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed: %s", SPI_result_code_string(ret));
}

/* Column col of row j of the last SPI result; error if NULL. */
static Datum
result_value(int j, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model has a NULL in column \"%s\"",
						SPI_fname(SPI_tuptable->tupdesc, col))));
	return d;
}

/*
 * Copy a stored one-dimensional array without NULLs of the given element
 * type and (if expected >= 0) length into dst (or a new SPI_palloc chunk).
 */
static void *
copy_array(Datum d, Oid elemtype, int elemsize, int expected, void *dst, int *n,
		   const char *what)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	int			len = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

	if (ARR_ELEMTYPE(a) != elemtype || ARR_NDIM(a) > 1 || ARR_HASNULL(a) ||
		(expected >= 0 && len != expected))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored %s is malformed", what),
				 errdetail("Expected a one-dimensional array of %d values without NULLs.",
						   expected)));
	if (dst == NULL)
		dst = SPI_palloc(Max((Size) len * elemsize, 1));
	memcpy(dst, ARR_DATA_PTR(a), (Size) len * elemsize);
	if (n)
		*n = len;
	return dst;
}

/* Look up a model; error if it does not exist. */
void
cf_get_model(Oid nsp, const char *name, CfModelInfo *info)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_lookup(nsp, Q_MODEL, name, 0);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with cf_train(), or see the trained models in cf_models.")));
	info->version = DatumGetInt64(result_value(0, 1));
	info->k = DatumGetInt32(result_value(0, 2));
	info->mean = DatumGetFloat8(result_value(0, 3));
	info->min = DatumGetFloat8(result_value(0, 4));
	info->max = DatumGetFloat8(result_value(0, 5));
	SPI_finish();
}

/* Look up one user's row; false if the model has no such user. */
bool
cf_get_user(Oid nsp, const char *name, int k, int64 user_id, CfUserRow *row)
{
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_lookup(nsp, Q_USER, name, user_id);
	found = SPI_processed > 0;
	if (found)
	{
		row->bias = DatumGetFloat4(result_value(0, 1));
		row->factors = copy_array(result_value(0, 2), FLOAT4OID, sizeof(float), k,
								  NULL, NULL, "user factor vector");
		row->rated = copy_array(result_value(0, 3), INT8OID, sizeof(int64), -1,
								NULL, &row->nrated, "list of rated items");
	}
	SPI_finish();
	return found;
}

/* Look up one item's bias and factors; false if the model has no such item. */
bool
cf_get_item(Oid nsp, const char *name, int k, int64 item_id, float *bias, float *factors)
{
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_lookup(nsp, Q_ITEM, name, item_id);
	found = SPI_processed > 0;
	if (found)
	{
		*bias = DatumGetFloat4(result_value(0, 1));
		copy_array(result_value(0, 2), FLOAT4OID, sizeof(float), k, factors, NULL,
				   "item factor vector");
	}
	SPI_finish();
	return found;
}

/* Read a model's whole item matrix, ordered by item id. */
void
cf_get_items(Oid nsp, const char *name, int k, CfItemMatrix *items)
{
	MemoryContext outer = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_lookup(nsp, Q_ITEMS, name, 0);
	items->n = (int32) SPI_processed;
	items->k = k;
	items->ids = MemoryContextAllocHuge(outer, Max(items->n, 1) * sizeof(int64));
	items->bias = MemoryContextAllocHuge(outer, Max(items->n, 1) * sizeof(float));
	items->Q = MemoryContextAllocHuge(outer, Max(cf_mul_size(cf_mul_size(items->n, k),
														  sizeof(float)), 1));
	for (int32 j = 0; j < items->n; j++)
	{
		items->ids[j] = DatumGetInt64(result_value(j, 1));
		items->bias[j] = DatumGetFloat4(result_value(j, 2));
		copy_array(result_value(j, 3), FLOAT4OID, sizeof(float), k,
				   items->Q + (Size) j * k, NULL, "item factor vector");
	}
	SPI_finish();
}
