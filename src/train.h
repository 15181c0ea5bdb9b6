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

/* How ALS and iALS solve each row's normal equations. */
typedef enum CfSolver
{
	CF_SOLVER_CHOLESKY,			/* exact: LAPACK spotrf/spotrs */
	CF_SOLVER_CG				/* a few warm-started conjugate-gradient steps */
} CfSolver;

/*
 * The settings of one training (arguments of cf_train), with the
 * algorithm's defaults filled in for the arguments left NULL.  Settings an
 * algorithm does not use hold 0.
 */
typedef struct CfTrainParams
{
	int			factors;
	int			epochs;
	double		learning_rate;	/* sgd */
	double		regularization;
	int64		seed;
	bool		verbose;		/* NOTICEs: one per epoch */
	CfSolver	solver;			/* als, ials */
	int			cg_steps;		/* als, ials with the CG solver */
	double		alpha;			/* ials: confidence 1 + alpha r */
	double		regularization_exponent;	/* ials: lambda (sum of c_ui)^exponent */
} CfTrainParams;

/* The final model's exact fit over its training data. */
typedef struct CfFit
{
	double		loss;			/* the algorithm's objective, per term (cf_models.loss) */
	double		rmse;			/* root mean squared error of its terms (cf_models.rmse) */
	int			epochs;			/* epochs run (fewer than asked if stopped early) */
} CfFit;

/*
 * The cf_train arguments that only some algorithms use (CfTrainer.uses is
 * a mask of these); giving one to another algorithm is an error.
 */
#define CF_ARG_LEARNING_RATE	(1 << 0)
#define CF_ARG_SOLVER			(1 << 1)
#define CF_ARG_CG_STEPS			(1 << 2)
#define CF_ARG_ALPHA			(1 << 3)
#define CF_ARG_REG_EXPONENT		(1 << 4)
#define CF_ARG_NO_RATINGS		(1 << 5)	/* rating_column => NULL */

/* A training algorithm. */
typedef struct CfTrainer
{
	const char *name;			/* the algorithm argument's value */
	int			uses;			/* CF_ARG_* it takes */
	bool		implicit;		/* preference scores, no baseline (iALS) */

	/* defaults of the arguments that are NULL by default */
	int			default_epochs;
	double		default_regularization;
	double		default_learning_rate;	/* if uses CF_ARG_LEARNING_RATE */
	CfSolver	default_solver;			/* if uses CF_ARG_SOLVER */
	int			default_cg_steps;		/* if uses CF_ARG_CG_STEPS */
	double		default_alpha;			/* if uses CF_ARG_ALPHA */
	double		default_regularization_exponent;	/* if uses CF_ARG_REG_EXPONENT */

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
