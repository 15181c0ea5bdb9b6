/*-------------------------------------------------------------------------
 *
 * partial.h
 *	  An ALS half-step as SQL: the aggregate cf_als_sums (a row's normal
 *	  equations, computed in parts and combined: PostgreSQL's parallel
 *	  query, Citus's shards) and cf_als_solve.  The functions are SQL-
 *	  callable only (partial.c).
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

#endif							/* CF_PARTIAL_H */
