/*-------------------------------------------------------------------------
 *
 * rows.h
 *	  Batched multi-row INSERTs through SPI (rows.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_ROWS_H
#define CF_ROWS_H

#include "executor/spi.h"
#include "utils/array.h"

/* Rows per INSERT statement of a CfRowBatch. */
#define CF_INSERT_BATCH 500

/*
 * Batched multi-row INSERT of rows whose first column is the model name:
 * "INSERT INTO table (model, cols...) VALUES ($1, ...), ($1, ...)".
 */
typedef struct CfRowBatch
{
	const char *table;			/* quoted qualified name */
	const char *columns;		/* "model, a, b" */
	int			ncols;			/* columns after model */
	const Oid  *types;			/* their types */
	SPIPlanPtr	full;			/* plan for CF_INSERT_BATCH rows */
	int			nrows;			/* rows collected */
	Datum	   *values;			/* 1 + CF_INSERT_BATCH * ncols */
	char	   *nulls;
	MemoryContext cxt;			/* row values; reset after each batch */
} CfRowBatch;

/* A new array of by-value elements of these dimensions, to fill. */
extern ArrayType *cf_new_array(int ndim, const int *dims, Oid elemtype, Size elemsize);

/* A one-dimensional array of n by-value elements (real[], bigint[]). */
extern Datum cf_flat_array(const void *v, int n, Oid elemtype, Size elemsize);

extern void cf_batch_begin(CfRowBatch *b, const char *table, const char *columns, int ncols,
						   const Oid *types, const char *model);
extern Datum *cf_batch_row(CfRowBatch *b);
extern void cf_batch_set_null(CfRowBatch *b, int c);
extern void cf_batch_end(CfRowBatch *b);

#endif							/* CF_ROWS_H */
