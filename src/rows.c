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

/*
 * (rows.h) A one-dimensional array of n by-value elements (real[] or bigint[]); no
 * elements: the empty array (zero dimensions, as PostgreSQL makes it).
 */
Datum
cf_flat_array(const void *v, int n, Oid elemtype, Size elemsize)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + (Size) n * elemsize;
	ArrayType  *a;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(elemtype));
	a = (ArrayType *) palloc(size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = elemtype;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
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
