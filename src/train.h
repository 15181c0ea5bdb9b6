/*-------------------------------------------------------------------------
 *
 * train.h
 *	  What every training algorithm receives and provides.
 *
 * cf_train (train.c) checks the arguments, loads the ratings and picks the
 * trainer by the algorithm argument; each trainer (sgd.c, ...) fills the
 * factors, the per-epoch trace and the final fit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_TRAIN_H
#define CF_TRAIN_H

#include "load.h"
#include "model.h"

/* The settings of one training (arguments of cf_train). */
typedef struct CfTrainParams
{
	int			factors;
	int			epochs;
	double		learning_rate;
	double		regularization;
	int64		seed;
	bool		verbose;		/* NOTICEs: one per epoch */
} CfTrainParams;

/* The final model's exact fit over its training ratings. */
typedef struct CfFit
{
	double		sse;			/* sum of squared errors */
	double		norms;			/* sum over ratings of b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2 */
	int			epochs;			/* epochs run (fewer than asked if stopped early) */
} CfFit;

/* A training algorithm. */
typedef struct CfTrainer
{
	const char *name;			/* the algorithm argument's value */

	/* bytes train() allocates for this data, these settings and workers */
	Size		(*bytes) (const CfRatings *data, const CfTrainParams *params, int workers);

	/*
	 * Train with this many parallel workers beside the leader (0: alone);
	 * fill *f (allocated in CurrentMemoryContext), log[0..epochs-1] and *fit.
	 */
	void		(*train) (const CfRatings *data, const CfTrainParams *params, int workers,
						  CfFactors *f, CfEpoch *log, CfFit *fit);
} CfTrainer;

/*
 * Every trainer's leader calls this after each epoch, with log[epoch] filled
 * in (loss, rmse, seconds) and the factors as they are now (a view: the
 * pointers may be into shared memory).  It reports the epoch (the NOTICE)
 * and returns true when training should stop after this epoch.
 */
extern bool cf_epoch_done(const CfTrainParams *params, int epoch,
						  const CfFactors *current, CfEpoch *log);

#endif							/* CF_TRAIN_H */
