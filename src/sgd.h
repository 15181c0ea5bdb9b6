/*-------------------------------------------------------------------------
 *
 * sgd.h
 *	  Biased matrix factorization trained by stochastic gradient descent.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SGD_H
#define CF_SGD_H

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
extern Size cf_sgd_bytes(const CfRatings *data, const CfSgdParams *params);

/* Train; fills *f (allocated in CurrentMemoryContext) and log[0..epochs-1]. */
extern void cf_sgd_train(const CfRatings *data, const CfSgdParams *params,
						 CfFactors *f, CfEpoch *log);

#endif							/* CF_SGD_H */
