/*-------------------------------------------------------------------------
 *
 * partial.h
 *	  An ALS half-step as SQL: the aggregate cf_als_sums (a row's normal
 *	  equations, computed in parts and combined: PostgreSQL's parallel
 *	  query, Citus's shards) and cf_als_solve, and the same for iALS; the
 *	  functions are SQL-callable, and cf_train on Citus solves ALS's sums
 *	  with cf_als_sums_solve (partial.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_PARTIAL_H
#define CF_PARTIAL_H

#include "fmgr.h"

extern Datum cf_als_sums_accum(PG_FUNCTION_ARGS);
extern Datum cf_sums_combine(PG_FUNCTION_ARGS);
extern Datum cf_als_solve(PG_FUNCTION_ARGS);
extern Datum cf_ials_sums_accum(PG_FUNCTION_ARGS);
extern Datum cf_gram_accum(PG_FUNCTION_ARGS);
extern Datum cf_ials_solve(PG_FUNCTION_ARGS);
extern Datum cf_als_solve_rated(PG_FUNCTION_ARGS);
extern Datum cf_ials_solve_rated(PG_FUNCTION_ARGS);

/* An iALS row's terms of the objective (cf_ials_sums_solve). */
typedef struct CfIalsFit
{
	double		loss;			/* sum over the other side of c (p - s)^2, s the scores */
	double		quad;			/* sum over the other side of s^2 (x^T G x) */
	double		sum_scores;		/* sum of s over the row's pairs */
	int64		n;				/* the row's pairs */
	double		weight;			/* sum of their weights alpha r */
} CfIalsFit;

extern void cf_partial_init_kernels(void);

extern bytea *cf_gram_state(const float *F, int64 rows, int k, int stride);

extern void cf_ials_sums_solve(bytea *sums, bytea *gram, int k, double lambda, double exponent,
							   int64 other_rows, float *x, CfIalsFit *fit);

/* Solve a cf_als_sums state in C (cf_train on Citus); the row's squared error. */
extern void cf_als_sums_solve(bytea *sums, int k, double lambda, double exponent, float *x,
							  double *sse, int64 *n);

#endif							/* CF_PARTIAL_H */
