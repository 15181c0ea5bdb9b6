/*-------------------------------------------------------------------------
 *
 * als.h
 *	  Alternating least squares: ALS with weighted-lambda regularization
 *	  for explicit ratings and iALS for implicit feedback.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_ALS_H
#define CF_ALS_H

#include "storage/dsm.h"
#include "storage/shm_toc.h"

#include "train.h"

/* The trainers (algorithms 'als' and 'ials'). */
extern const CfTrainer cf_als_trainer;
extern const CfTrainer cf_ials_trainer;

/* Entry point of a parallel worker (named in CreateParallelContext). */
extern PGDLLEXPORT void cf_als_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* CF_ALS_H */
