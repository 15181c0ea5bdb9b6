/*-------------------------------------------------------------------------
 *
 * rows.c
 *	  Writing rows through SPI: batched multi-row INSERTs (up to
 *	  CF_INSERT_BATCH rows per statement, each batch's values built in a
 *	  memory context reset after the batch) and the flat arrays they carry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "rows.h"
#include "util.h"

/*
 * (rows.h) A new array of ndim dimensions (lower bounds 1) of by-value
 * elements without nulls, its data left for the caller to fill.
 */
ArrayType *
cf_new_array(int ndim, const int *dims, Oid elemtype, Size elemsize)
{
	Size		n = 1;
	Size		size;
	ArrayType  *a;

	for (int d = 0; d < ndim; d++)
		n = cf_mul_size(n, (Size) dims[d]);
	size = cf_add_size(ARR_OVERHEAD_NONULLS(ndim), cf_mul_size(n, elemsize));
	a = (ArrayType *) palloc(size);
	SET_VARSIZE(a, size);
	a->ndim = ndim;
	a->dataoffset = 0;
	a->elemtype = elemtype;
	for (int d = 0; d < ndim; d++)
	{
		ARR_DIMS(a)[d] = dims[d];
		ARR_LBOUND(a)[d] = 1;
	}
	return a;
}

/*
 * (rows.h) A one-dimensional array of n by-value elements (real[] or bigint[]); no
 * elements: the empty array (zero dimensions, as PostgreSQL makes it).
 */
Datum
cf_flat_array(const void *v, int n, Oid elemtype, Size elemsize)
{
	ArrayType  *a;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(elemtype));
	a = cf_new_array(1, &n, elemtype, elemsize);
	memcpy(ARR_DATA_PTR(a), v, (Size) n * elemsize);
	return PointerGetDatum(a);
}

/* Plan an INSERT of nrows rows. */
static SPIPlanPtr
cf_batch_plan(CfRowBatch *b, int nrows)
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

/* (rows.h) Start a batch of rows into table (columns: "model, ..."). */
void
cf_batch_begin(CfRowBatch *b, const char *table, const char *columns, int ncols,
			const Oid *types, const char *model)
{
	b->table = table;
	b->columns = columns;
	b->ncols = ncols;
	b->types = types;
	b->full = NULL;
	b->nrows = 0;
	b->values = palloc((1 + CF_INSERT_BATCH * ncols) * sizeof(Datum));
	b->nulls = palloc0(1 + CF_INSERT_BATCH * ncols);
	memset(b->nulls, ' ', 1 + CF_INSERT_BATCH * ncols);
	b->values[0] = CStringGetTextDatum(model);
	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "cf insert batch",
								   ALLOCSET_DEFAULT_SIZES);
}

/* Insert the collected rows. */
static void
cf_batch_flush(CfRowBatch *b)
{
	SPIPlanPtr	plan;
	int			ret;

	if (b->nrows == 0)
		return;
	if (b->nrows == CF_INSERT_BATCH)
	{
		if (b->full == NULL)
			b->full = cf_batch_plan(b, CF_INSERT_BATCH);
		plan = b->full;
	}
	else
		plan = cf_batch_plan(b, b->nrows);

	ret = SPI_execute_plan(plan, b->values, b->nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting into %s failed: %s", b->table, SPI_result_code_string(ret));
	if (plan != b->full)
		SPI_freeplan(plan);
	memset(b->nulls + 1, ' ', b->nrows * b->ncols);
	b->nrows = 0;
	MemoryContextReset(b->cxt);
	CHECK_FOR_INTERRUPTS();
}

/* (rows.h) The next row's column values; flush when the batch is full. */
Datum *
cf_batch_row(CfRowBatch *b)
{
	if (b->nrows == CF_INSERT_BATCH)
		cf_batch_flush(b);
	return &b->values[1 + b->nrows++ * b->ncols];
}

/* (rows.h) Make column c of the row cf_batch_row last returned NULL. */
void
cf_batch_set_null(CfRowBatch *b, int c)
{
	b->nulls[1 + (b->nrows - 1) * b->ncols + c] = 'n';
}

/* (rows.h) Insert the rest and free the batch. */
void
cf_batch_end(CfRowBatch *b)
{
	cf_batch_flush(b);
	if (b->full)
		SPI_freeplan(b->full);
	MemoryContextDelete(b->cxt);
}
