/*-------------------------------------------------------------------------
 *
 * train.h
 *	  What every training algorithm receives and provides.
 *
 * cf_train (train.c) checks the arguments, loads the ratings, holds out a
 * validation set if asked, and picks the algorithm's descriptor
 * (CfAlgorithm, the table in algorithm.c) by the algorithm argument; each
 * alg (sgd.c, baseline.c, ...) fills the factors, the per-epoch trace
 * and the final fit, and calls cf_epoch_done() after every epoch.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_TRAIN_H
#define CF_TRAIN_H

#include "load.h"
#include "model.h"
#include "util.h"

/* How ALS and iALS solve each row's normal equations. */
typedef enum CfSolver
{
	CF_SOLVER_CHOLESKY,			/* exact: LAPACK spotrf/spotrs */
	CF_SOLVER_CG				/* a few warm-started conjugate-gradient steps */
} CfSolver;

/*
 * What a training reports as NOTICEs (cf_train's verbose argument): nothing
 * (false), a short trace that fits a screen (NULL, the default: a few
 * epochs, the last, and a chart of the curve), or every epoch (true).
 */
typedef enum CfTrace
{
	CF_TRACE_NONE,
	CF_TRACE_SHORT,
	CF_TRACE_ALL
} CfTrace;

/* cf_train's held-out ratings and early-stopping state (train.c). */
typedef struct CfValidation CfValidation;

/*
 * The settings of one training (arguments of cf_train), with the
 * algorithm's defaults filled in for the arguments left NULL
 * (cf_complete_train_params).  Settings an algorithm does not use hold 0.
 */
typedef struct CfTrainParams
{
	int			factors;
	int			epochs;
	double		learning_rate;	/* sgd */
	double		regularization;
	int64		seed;
	CfTrace		trace;			/* which NOTICEs */
	CfSolver	solver;			/* als, ials */
	int			cg_steps;		/* als, ials with the CG solver */
	double		alpha;			/* ials: confidence 1 + alpha r */
	double		regularization_exponent;	/* als, ials: lambda n^exponent */
	bool		implicit_term;	/* bayes: SVD++'s implicit term */

	/*
	 * Validation and early stopping.  They are cf_epoch_done's business:
	 * trainers only pass params on.  validation is NULL when nothing is held
	 * out (validation_fraction 0, or a training that is not cf_train's).
	 */
	double		validation_fraction;	/* share of the ratings held out */
	bool		early_stopping;
	int			patience;		/* epochs without improvement before stopping */
	CfValidation *validation;
} CfTrainParams;

/* Whether and how an algorithm trains where a Citus table's rows are (citus.c). */
typedef enum CfClusterKind
{
	CF_CLUSTER_NONE,			/* only in one backend's memory */
	CF_CLUSTER_ALS,				/* ALS's half-steps as pushed-down SQL */
	CF_CLUSTER_IALS				/* the same for iALS */
} CfClusterKind;

/* The final model's exact fit over its training data. */
typedef struct CfFit
{
	double		loss;			/* the algorithm's objective, per term (cf_models.loss);
								 * NaN: none (popular) */
	double		rmse;			/* root mean squared error of its terms
								 * (cf_models.rmse); NaN: none (popular) */
	int			epochs;			/* epochs run (fewer than asked if stopped early) */
	double		fold_ridge;		/* bayes: the ridge folding a user in uses, its
								 * user prior's mean precision over alpha; NaN
								 * for the others (set before train() runs) */
} CfFit;

/*
 * The training arguments that only some algorithms use (CfAlgorithm.uses is
 * a mask of these); giving one to another algorithm is an error.  They are
 * NULL by default, meaning the algorithm's default.  factors, given to an
 * algorithm without factor vectors, is left alone rather than an error (it
 * was not NULL by default before 0.4.0).
 */
/* The longest factor vectors. */
#define CF_MAX_FACTORS			1024

#define CF_ARG_LEARNING_RATE	(1 << 0)
#define CF_ARG_SOLVER			(1 << 1)
#define CF_ARG_CG_STEPS			(1 << 2)
#define CF_ARG_ALPHA			(1 << 3)
#define CF_ARG_REG_EXPONENT		(1 << 4)
#define CF_ARG_NO_RATINGS		(1 << 5)	/* rating_column => NULL */
#define CF_ARG_EPOCHS			(1 << 6)
#define CF_ARG_REGULARIZATION	(1 << 7)
#define CF_ARG_FACTORS			(1 << 8)	/* factor vectors of params->factors */
#define CF_ARG_IMPLICIT_TERM	(1 << 9)

/* What folding a user into a model solves for (foldin.c). */
typedef enum CfFoldKind
{
	CF_FOLD_UNSUPPORTED,		/* no fold-in: an error */
	CF_FOLD_EXPLICIT,			/* biased explicit MF: bias and vector */
	CF_FOLD_IMPLICIT,			/* confidence-weighted preferences: vector */
	CF_FOLD_BASELINE,			/* biases only, lambda per bias: bias */
	CF_FOLD_NONE				/* no user part: nothing to solve */
} CfFoldKind;

/* How cf_explain explains a model's scores (explain.c). */
typedef enum CfExplainKind
{
	CF_EXPLAIN_UNSUPPORTED,		/* no explanation: an error */
	CF_EXPLAIN_BY_SIMILARITY,	/* the cosine of the item vectors */
	CF_EXPLAIN_LINEAR			/* the exact per-item terms of the fold-in system */
} CfExplainKind;

/*
 * An algorithm: one descriptor each, in the table of algorithm.c, with
 * everything the rest of cf asks about it -- how it trains, its defaults,
 * what its models predict and how they are served, folded into and
 * explained.  No module compares algorithm names.  (As PostgreSQL's index
 * access methods describe themselves by one struct, bloom's blhandler.)
 */
typedef struct CfAlgorithm
{
	const char *name;			/* the algorithm argument's value */
	int			uses;			/* CF_ARG_* it takes */

	/* its models */
	bool		predicts_ratings;	/* mean + biases + dot, clipped; else an unclipped
									 * preference score, and no rating error */
	bool		has_biases;		/* b_u, b_i (and the global mean); else a user
								 * without a vector has nothing to be ranked by */
	bool		amounts;		/* reads ratings as amounts of feedback (never
								 * negative; an item's ratings add up) */
	CfFoldKind	fold;
	CfExplainKind explain;
	CfClusterKind cluster;		/* its form on a Citus cluster */

	/* defaults of the arguments that are NULL by default */
	int			default_factors;	/* if uses CF_ARG_FACTORS */
	int			default_epochs;
	double		default_regularization;
	double		default_learning_rate;	/* if uses CF_ARG_LEARNING_RATE */
	CfSolver	default_solver;			/* if uses CF_ARG_SOLVER */
	int			default_cg_steps;		/* if uses CF_ARG_CG_STEPS */
	double		default_alpha;			/* if uses CF_ARG_ALPHA */
	double		default_regularization_exponent;	/* if uses CF_ARG_REG_EXPONENT */
	bool		default_implicit_term;	/* if uses CF_ARG_IMPLICIT_TERM */

	/* bytes train() allocates for this data, these settings and workers */
	Size		(*bytes) (const CfRatings *data, const CfTrainParams *params, int workers);

	/*
	 * Train with this many parallel workers beside the leader (0: alone);
	 * fill *f (allocated in CurrentMemoryContext), log[0..epochs-1] and *fit.
	 * The factors' k is the trainer's choice (0 for models without factor
	 * vectors); params->factors is what the user asked for.
	 */
	void		(*train) (const CfRatings *data, const CfTrainParams *params, int workers,
						  CfFactors *f, CfEpoch *log, CfFit *fit);
} CfAlgorithm;

/*
 * The contract of cf_epoch_done, for every trainer:
 *
 * - The leader (never a worker) calls it once after each epoch (ALS: each
 *   full iteration), epoch counting from 0, with log[epoch]'s loss, rmse
 *   and seconds filled in; it fills log->validation_rmse (NaN when nothing
 *   is held out) and prints the epoch's NOTICE as params->trace asks.
 * - current is a view of the factors as they are after that epoch, with
 *   the data's dense user and item indices, k and stride as in CfFactors.
 *   Its pointers may point into shared memory that workers write (SGD);
 *   the workers must be waiting (at a barrier) for the duration of the
 *   call.  It only reads through them and keeps no pointer.  It
 *   reads current only when ratings are held out (params->validation), so
 *   a trainer that needs a copy to present its factors this way (ALS, whose
 *   rows lie in another order) makes one only then.
 * - It returns true when training should stop after this epoch (early
 *   stopping: the validation RMSE has not improved for `patience` epochs).
 *   The trainer then stops as if that had been the last epoch and reports
 *   the epochs run in fit->epochs.  cf_train afterwards trains the best
 *   epoch's count again on all the ratings (a second call of train()),
 *   so trainers need do nothing else.
 * - It raises the error of a diverged training when log->loss is not
 *   finite: trainers need not check.
 * - It may raise an error (a cancel, say); trainers clean up as for any
 *   error (workers are terminated by the transaction's abort).
 */
extern bool cf_epoch_done(const CfTrainParams *params, int epoch,
						  const CfFactors *current, CfEpoch *log);

/*
 * Raise the error of a training that diverged in epoch (0-based): the loss
 * or a system of the epoch is no longer finite.  learning_rate 0 for
 * methods without one.  cf_epoch_done raises it for a non-finite loss.
 */
extern pg_noreturn void cf_divergence_error(double learning_rate, double regularization,
											int epoch);

/*
 * The rating_column argument argno of a training or tuning call: a column
 * name, or NULL (every row one event) where the algorithm allows it.
 */
extern char *cf_rating_column_arg(FunctionCallInfo fcinfo, int argno,
								  const CfAlgorithm *alg);

/*
 * Complete and check the settings of a training with algorithm alg: *params
 * holds the values of the arguments whose CF_ARG_* bit is in `given`
 * (and factors, seed, trace and the validation settings).  An argument
 * given that the algorithm does not take is an error; one not given takes
 * the algorithm's default (0 if it does not take it).  Then every value is
 * checked (the ranges of cf_train's arguments, validation against early
 * stopping).
 */
extern void cf_complete_train_params(const CfAlgorithm *alg, int given,
									 CfTrainParams *params);

/*
 * Check loaded ratings against what the algorithm reads (iALS: amounts of
 * feedback, never negative); src names the rating column in errors.
 */
extern void cf_check_ratings(const CfAlgorithm *alg, const CfSource *src,
							 const CfRatings *data);

/* What a stored training produced: cf_train's result row. */
typedef struct CfTrainResult
{
	int64		users;
	int64		items;
	int64		ratings;
	int			factors;
	int			epochs;			/* epochs run */
	int			epoch_kept;		/* the epoch whose factors were stored */
	double		loss;			/* NaN: none (popular) */
	double		rmse;
	double		validation_rmse;	/* of the kept epoch; NaN: no validation */
	double		seconds;
} CfTrainResult;

/*
 * Everything cf_train does after checking its arguments: lock the model
 * name, load the source (checked with cf_check_source), hold out the
 * validation set, train, and store the model as `model` in the caller's
 * transaction.  workers < 0: automatic.  A model of that name trained by
 * another algorithm is replaced only if the caller named it (named); a
 * replacement is said in a NOTICE unless params->trace is CF_TRACE_NONE.
 */
extern void cf_train_and_store(Oid nsp, CfSource *src, const char *model, bool named,
							   const CfAlgorithm *alg, CfTrainParams *params,
							   int workers, CfTrainResult *result);

/*
 * Train on ratings already loaded, without validation and without storing
 * (cross-validation): fills *f, log[0..params->epochs - 1] and *fit.
 */
extern void cf_train_ratings(const CfRatings *data, const CfAlgorithm *alg,
							 const CfTrainParams *params, int workers,
							 CfFactors *f, CfEpoch *log, CfFit *fit);

#endif							/* CF_TRAIN_H */
