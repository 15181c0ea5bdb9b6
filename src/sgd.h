/*-------------------------------------------------------------------------
 *
 * sgd.h
 *	  Biased matrix factorization trained by stochastic gradient descent.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SGD_H
#define CF_SGD_H

#include "storage/dsm.h"
#include "storage/shm_toc.h"

#include "load.h"
#include "model.h"

typedef struct CfSgdParams
{
	int			factors;
	int			epochs;
	double		learning_rate;
	double		regularization;
	int64		seed;
	bool		verbose;		/* a NOTICE per epoch */
} CfSgdParams;

/* Bytes cf_sgd_train allocates for this data and these settings. */
extern Size cf_sgd_bytes(const CfRatings *data, const CfSgdParams *params, int workers);

/*
 * Train with this many parallel workers beside the leader (0: alone);
 * fills *f (allocated in CurrentMemoryContext), log[0..epochs-1], and the
 * final model's exact squared error over the ratings and sum over the
 * ratings of b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2.
 */
extern void cf_sgd_train(const CfRatings *data, const CfSgdParams *params, int workers,
						 CfFactors *f, CfEpoch *log, double *sse, double *norms);

/* Entry point of a parallel worker (named in CreateParallelContext). */
extern PGDLLEXPORT void cf_sgd_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* CF_SGD_H */
