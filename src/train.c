/*-------------------------------------------------------------------------
 *
 * train.c
 *	  cf_train(): read a ratings relation, train a model, store it; the
 *	  validation set and early stopping every trainer shares.
 *
 * The steps run in the caller's transaction, in this order: check the
 * arguments and the source's columns; take the model name's lock and check
 * that the caller may replace the model (model.c); load
 * the ratings (load.c); hold out the validation ratings (split.c); decide
 * the number of parallel workers; check the memory budget; train with the
 * algorithm's trainer (train.h; sgd.c with parallel.c, als.c, baseline.c);
 * after early stopping, train the best epoch's count of epochs again on all
 * the ratings (refit); replace the stored model (model.c).
 *
 * The algorithm decides which arguments apply (CfAlgorithm.uses) and the
 * defaults of those left NULL (epochs, learning_rate, regularization and
 * ALS's and iALS's own); giving an argument the algorithm does not take is
 * an error.  cf_complete_train_params() does this for cf_train and the
 * tuning functions (tune.c) alike.
 *
 * All working memory lives in one context, deleted at the end (or by the
 * normal cleanup when an error or cancel ends the transaction, which also
 * rolls back the model rows).
 *
 * Validation (validation_fraction > 0): the ratings of the (user, item)
 * pairs cf_split_validation(user, item, validation_fraction, seed) picks
 * are held out (split.c: the split hash, salted for validation so that it
 * is independent of a cf_split_random test split made with the same
 * seed), so the set can be rebuilt in SQL.  The model is trained on the
 * others alone (its users, items, mean and rating range are theirs).
 * After every epoch cf_epoch_done() scores the held-out ratings exactly as
 * cf_predict would score them had the model been stored then: mean + b_u
 * + b_i + p_u . q_i (sdot), the terms of unknown users or items left out,
 * clipped to the rating range.  Only models that predict ratings
 * (CfAlgorithm.predicts_ratings) can be validated so.
 *
 * Early stopping (Prechelt, "Early Stopping -- But When?", 1998, the
 * simplest of his criteria): training stops once `patience` epochs in a
 * row have not lowered the best validation RMSE; then the same trainer
 * runs the best epoch's count of epochs on every rating, held-out ones
 * too, and that model is stored (refit), so no rating is lost to the
 * choice.  (Before 0.4.0 the best epoch's factors of the training part
 * were copied and stored: 0.0025-0.0061 worse on MovieLens 100K.)  The
 * default patience is 20: SGD's validation RMSE wobbles from epoch to
 * epoch and, from its small initial factors, stalls for a while before the
 * factors take hold -- MovieLens 100K: from epoch 17 to 23 (best at 60);
 * the demo data of cf_synthetic_ratings(1000, 500, 25000): from epoch 8 to
 * about 22 (best at 85).  Shorter patiences stopped in the stall.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "postmaster/bgworker_internals.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "algorithm.h"
#include "als.h"
#include "baseline.h"
#include "blas.h"
#include "citus.h"
#include "load.h"
#include "manage.h"
#include "model.h"
#include "parallel.h"
#include "sgd.h"
#include "split.h"
#include "train.h"
#include "util.h"

#define MAX_FACTORS CF_MAX_FACTORS
#define MAX_EPOCHS 100000
#define MAX_CG_STEPS 100
#define MAX_ALPHA 100000

/* The short trace (cf_train's default): about this many epoch lines ... */
#define SHORT_TRACE_LINES 5
/* ... and, from this many epochs on, a chart of this size */
#define SHORT_TRACE_CHART_EPOCHS 10
#define SHORT_TRACE_CHART_WIDTH 50
#define SHORT_TRACE_CHART_HEIGHT 6

/*
 * cf_train's arguments, by position.  Those from ARG_WORKERS on were added
 * in 0.2.0 and are read only if PG_NARGS() says the declaration passes
 * them; new ones go at the end.
 */
enum
{
	ARG_SOURCE,
	ARG_USER_COLUMN,
	ARG_ITEM_COLUMN,
	ARG_RATING_COLUMN,
	ARG_MODEL,
	ARG_FACTORS,
	ARG_EPOCHS,
	ARG_LEARNING_RATE,
	ARG_REGULARIZATION,
	ARG_SEED,
	ARG_VERBOSE,
	ARG_WORKERS,
	ARG_ALGORITHM,
	ARG_VALIDATION_FRACTION,
	ARG_EARLY_STOPPING,
	ARG_PATIENCE,
	ARG_ALPHA,
	ARG_SOLVER,
	ARG_CG_STEPS,
	ARG_REG_EXPONENT,
	ARG_IMPLICIT_TERM
};

/* Columns of cf_train's result: 9 in 0.1.0, then validation_rmse, epoch_kept. */
#define RESULT_COLUMNS 11

PG_FUNCTION_INFO_V1(cf_train);

static bool in_short_trace(const CfTrainParams *params, int epoch);
static void epoch_notice(int epoch, const CfEpoch *log);
static void trace_chart(const char *model, const CfEpoch *log, int epochs, int kept);

/*
 * The rating_column argument (argument argno): a column name, or NULL
 * (every row one event) for the algorithms that train without ratings.
 */
char *
cf_rating_column_arg(FunctionCallInfo fcinfo, int argno, const CfAlgorithm *alg)
{
	if (!PG_ARGISNULL(argno))
		return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
	if ((alg->uses & CF_ARG_NO_RATINGS) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"rating_column\" must not be null"),
				 errhint("Only these algorithms train without a rating column: %s.",
						 cf_algorithm_list(cf_algorithm_uses, CF_ARG_NO_RATINGS, CF_LIST_QUOTED))));
	return NULL;
}

/* Error out if an argument the algorithm does not take was given. */
static void
check_applies(const CfAlgorithm *alg, int given, int flag, const char *argname)
{
	if ((given & flag) != 0 && (alg->uses & flag) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" does not apply to algorithm \"%s\"",
						argname, alg->name),
				 errdetail("Only these algorithms take it: %s.", cf_algorithm_list(cf_algorithm_uses, flag, CF_LIST_QUOTED)),
				 errhint("Leave it out or pass NULL.")));
}

/* Name of a solver, as the solver argument takes it. */
static const char *
solver_name(CfSolver solver)
{
	return solver == CF_SOLVER_CG ? "cg" : "cholesky";
}

/* Complete and check the settings of a training (see train.h). */
void
cf_complete_train_params(const CfAlgorithm *alg, int given, CfTrainParams *params)
{
	int			uses = alg->uses;

	check_applies(alg, given, CF_ARG_EPOCHS, "epochs");
	check_applies(alg, given, CF_ARG_LEARNING_RATE, "learning_rate");
	check_applies(alg, given, CF_ARG_REGULARIZATION, "regularization");
	check_applies(alg, given, CF_ARG_ALPHA, "alpha");
	check_applies(alg, given, CF_ARG_SOLVER, "solver");
	check_applies(alg, given, CF_ARG_CG_STEPS, "cg_steps");
	check_applies(alg, given, CF_ARG_REG_EXPONENT, "regularization_exponent");
	check_applies(alg, given, CF_ARG_IMPLICIT_TERM, "implicit_term");

	/* the defaults of those not given; 0 for those the algorithm does not take */
	if (!(given & CF_ARG_FACTORS))
		params->factors = (uses & CF_ARG_FACTORS) ? alg->default_factors : 0;
	if (!(given & CF_ARG_EPOCHS))
		params->epochs = (uses & CF_ARG_EPOCHS) ? alg->default_epochs : 0;
	if (!(given & CF_ARG_LEARNING_RATE))
		params->learning_rate = (uses & CF_ARG_LEARNING_RATE) ? alg->default_learning_rate : 0;
	if (!(given & CF_ARG_REGULARIZATION))
		params->regularization = (uses & CF_ARG_REGULARIZATION) ?
			alg->default_regularization : 0;
	if (!(given & CF_ARG_ALPHA))
		params->alpha = (uses & CF_ARG_ALPHA) ? alg->default_alpha : 0;
	if (!(given & CF_ARG_SOLVER))
		params->solver = (uses & CF_ARG_SOLVER) ? alg->default_solver : CF_SOLVER_CHOLESKY;
	if (!(given & CF_ARG_CG_STEPS))
		params->cg_steps = (uses & CF_ARG_CG_STEPS) && params->solver == CF_SOLVER_CG ?
			alg->default_cg_steps : 0;
	if (!(given & CF_ARG_REG_EXPONENT))
		params->regularization_exponent = (uses & CF_ARG_REG_EXPONENT) ?
			alg->default_regularization_exponent : 0;
	if (!(given & CF_ARG_IMPLICIT_TERM))
		params->implicit_term = (uses & CF_ARG_IMPLICIT_TERM) && alg->default_implicit_term;

	/* the ranges (the defaults are in them) */
	if ((uses | given) & CF_ARG_FACTORS)
		cf_check_int_arg("factors", params->factors, 1, MAX_FACTORS);
	if (uses & CF_ARG_EPOCHS)
		cf_check_int_arg("epochs", params->epochs, 1, MAX_EPOCHS);
	if (uses & CF_ARG_REGULARIZATION)
		cf_check_float_arg("regularization", params->regularization, 0, false, 1000);
	if (uses & CF_ARG_LEARNING_RATE)
		cf_check_float_arg("learning_rate", params->learning_rate, 0, true, 1);
	if (uses & CF_ARG_ALPHA)
		cf_check_float_arg("alpha", params->alpha, 0, false, MAX_ALPHA);
	if ((given & CF_ARG_CG_STEPS) && params->solver != CF_SOLVER_CG)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"cg_steps\" applies only to solver \"cg\""),
				 errdetail("The solver is \"%s\".", solver_name(params->solver))));
	if (params->solver == CF_SOLVER_CG)
		cf_check_int_arg("cg_steps", params->cg_steps, 1, MAX_CG_STEPS);
	if (uses & CF_ARG_REG_EXPONENT)
		cf_check_float_arg("regularization_exponent", params->regularization_exponent,
						   0, false, 1);

	/* validation and early stopping */
	if (params->validation_fraction != 0)
		cf_check_float_arg("validation_fraction", params->validation_fraction, 0, true, 0.5);
	cf_check_int_arg("patience", params->patience, 1, MAX_EPOCHS);
	if (params->early_stopping && params->validation_fraction == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early stopping needs a validation set"),
				 errhint("Hold out ratings with validation_fraction, for example validation_fraction => 0.1.")));
}

/* Check loaded ratings against what the algorithm reads (see train.h). */
void
cf_check_ratings(const CfAlgorithm *alg, const CfSource *src, const CfRatings *data)
{
	if (alg->amounts && data->n > 0 && data->min < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("rating column \"%s\" contains the negative value \"%g\"",
						src->rating_column, data->min),
				 errdetail("Algorithm \"%s\" reads each rating as an amount of feedback (a count, a duration, a weight), which cannot be negative.",
						   alg->name),
				 errhint("Filter such rows out, for example with a view.")));
}

/*
 * Validation and early stopping
 */

/* cf_train's held-out ratings and early-stopping state. */
struct CfValidation
{
	int64		n;				/* held-out ratings */
	int32	   *user;			/* the training index of each one's user, or -1 */
	int32	   *item;			/* the same for the item */
	float	   *rating;
	double		mean;			/* of the training ratings: the prediction's terms */
	double		min;
	double		max;
	int			best;			/* the best epoch so far (from 0), -1 before any */
	double		best_rmse;
};

/* RMSE of the factors on the held-out ratings, as cf_predict would score them. */
static double
validation_rmse(const CfValidation *v, const CfFactors *f)
{
	double		sse = 0;

	for (int64 j = 0; j < v->n; j++)
	{
		int32		u = v->user[j];
		int32		i = v->item[j];
		double		pred = v->mean;
		double		e;

		if (u >= 0)
			pred += f->user_bias[u];
		if (i >= 0)
			pred += f->item_bias[i];
		if (u >= 0 && i >= 0)
			pred += cblas_sdot(f->k, f->P + (Size) u * f->stride, 1,
							   f->Q + (Size) i * f->stride, 1);
		pred = Min(Max(pred, v->min), v->max);
		e = v->rating[j] - pred;
		sse += e * e;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sqrt(sse / v->n);
}

/* After each epoch of any trainer: validate, report; true to stop training. */

bool
cf_epoch_done(const CfTrainParams *params, int epoch, const CfFactors *current,
			  CfEpoch *log)
{
	CfValidation *v = params->validation;
	bool		stop = false;

	if (isnan(log->loss) || isinf(log->loss))
		cf_divergence_error(params->learning_rate, params->regularization, epoch);
	log->validation_rmse = get_float8_nan();
	if (v != NULL)
	{
		log->validation_rmse = validation_rmse(v, current);
		if (v->best < 0 || log->validation_rmse < v->best_rmse)
		{
			v->best = epoch;
			v->best_rmse = log->validation_rmse;
		}
		else if (params->early_stopping && epoch - v->best >= params->patience)
			stop = true;
	}

	if (params->trace == CF_TRACE_ALL ||
		(params->trace == CF_TRACE_SHORT && in_short_trace(params, epoch)))
		epoch_notice(epoch, log);
	return stop;
}

/*
 * Whether the short trace shows epoch (0-based): the first, and every
 * stride-th so that about SHORT_TRACE_LINES lines cover the epochs asked
 * for.  (cf_train adds the last epoch run if it was not among them.)
 */
static bool
in_short_trace(const CfTrainParams *params, int epoch)
{
	int			stride = Max(1, (params->epochs + SHORT_TRACE_LINES - 1) / SHORT_TRACE_LINES);

	return epoch == 0 || (epoch + 1) % stride == 0;
}

/* The NOTICE of an epoch (0-based) of the trace. */
static void
epoch_notice(int epoch, const CfEpoch *log)
{
	if (!isnan(log->validation_rmse))
		ereport(NOTICE,
				(errmsg("epoch %d: loss %.6f, rmse %.6f, validation rmse %.6f, %.3f s",
						epoch + 1, log->loss, log->rmse, log->validation_rmse,
						log->seconds)));
	else
		ereport(NOTICE,
				(errmsg("epoch %d: loss %.6f, rmse %.6f, %.3f s",
						epoch + 1, log->loss, log->rmse, log->seconds)));
}

/* The short trace's chart of the epochs run, epoch kept marked. */
static void
trace_chart(const char *model, const CfEpoch *log, int epochs, int kept)
{
	double	   *loss = palloc(sizeof(double) * epochs);
	double	   *val = palloc(sizeof(double) * epochs);
	StringInfoData chart;
	ListCell   *lc;

	for (int e = 0; e < epochs; e++)
	{
		loss[e] = log[e].loss;
		val[e] = log[e].validation_rmse;
	}
	initStringInfo(&chart);
	foreach(lc, cf_chart_lines(model, epochs, loss, val, kept, SHORT_TRACE_CHART_WIDTH,
							   SHORT_TRACE_CHART_HEIGHT))
		appendStringInfo(&chart, "%s%s", chart.len > 0 ? "\n" : "", (char *) lfirst(lc));
	ereport(NOTICE, (errmsg_internal("%s", chart.data)));
}

/*
 * Error: training diverged in epoch (0-based), with the hint that fits the
 * settings (learning_rate 0 for methods without one).  SGD's updates scale
 * the factors by 1 - learning_rate x regularization, so a product of 1 or
 * more diverges whatever the data;
 * otherwise a learning rate too large for the ratings' scale, or (methods
 * without one, whose loss cannot grow by itself) ratings so large that the
 * sums overflow.
 */
pg_noreturn void
cf_divergence_error(double learning_rate, double regularization, int epoch)
{
	double		shrink = learning_rate * regularization;

	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("training diverged in epoch %d", epoch + 1),
			 errdetail("The loss is no longer a finite number."),
			 learning_rate <= 0 ?
			 errhint("Look for ratings far outside their usual scale, or raise regularization.") :
			 shrink >= 1 ?
			 errhint("The product of learning_rate and regularization is %g; every update scales the factors by 1 minus it, so keep it well below 1: lower learning_rate or regularization.",
					 shrink) :
			 errhint("Lower learning_rate, or look for ratings far outside their usual scale.")));
}

/*
 * Hold out the validation ratings of *data: *data becomes the training
 * part, and the held-out ratings (mapped to its indices) the returned set.
 * full not NULL: *full keeps all of them (else they are freed).
 */
static CfValidation *
hold_out(CfRatings *data, const CfTrainParams *params, CfRatings *full)
{
	CfHoldout	h = cf_validation_holdout(params->seed, params->validation_fraction);
	CfRatings	kept;
	CfRatings	held;
	CfValidation *v;
	int32	   *umatch;
	int32	   *imatch;

	cf_split_ratings(data, &h, &kept, &held);
	if (held.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("validation_fraction %g holds out none of the %lld ratings",
						params->validation_fraction, (long long) data->n),
				 errhint("Raise validation_fraction, or train without validation.")));
	if (kept.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("validation_fraction %g holds out all of the %lld ratings",
						params->validation_fraction, (long long) data->n),
				 errhint("Lower validation_fraction, or train on more ratings.")));

	v = palloc0(sizeof(CfValidation));
	v->n = held.n;
	v->user = cf_palloc_huge_array(int32, held.n);
	v->item = cf_palloc_huge_array(int32, held.n);
	v->rating = cf_palloc_huge_array(float, held.n);
	umatch = cf_match_ids(held.user_ids, held.nusers, kept.user_ids, kept.nusers);
	imatch = cf_match_ids(held.item_ids, held.nitems, kept.item_ids, kept.nitems);
	for (int64 j = 0; j < held.n; j++)
	{
		v->user[j] = umatch[held.r[j].user];
		v->item[j] = imatch[held.r[j].item];
		v->rating[j] = held.r[j].rating;
	}
	v->mean = kept.mean;
	v->min = kept.min;
	v->max = kept.max;
	v->best = -1;

	pfree(umatch);
	pfree(imatch);
	pfree(held.r);
	pfree(held.user_start);
	pfree(held.user_ids);
	pfree(held.item_ids);
	if (full)
		*full = *data;
	else
	{
		pfree(data->r);
		pfree(data->user_start);
		pfree(data->user_ids);
		pfree(data->item_ids);
	}
	kept.skipped = data->skipped;
	*data = kept;
	return v;
}

/* Name argument as a C string; error if NULL. */
static const char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	cf_require_arg(fcinfo, argno, argname);
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/*
 * The hyperparameters jsonb text of a training: the settings the
 * algorithm takes, defaults filled in, the validation settings, and what
 * the training found that folding users in needs (bayes).
 */
static char *
hyperparameters(const CfAlgorithm *alg, const CfTrainParams *params, const CfFit *fit)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"seed\": " INT64_FORMAT, params->seed);
	if (alg->uses & CF_ARG_FACTORS)
		appendStringInfo(&s, ", \"factors\": %d", params->factors);
	if (alg->uses & CF_ARG_EPOCHS)
		appendStringInfo(&s, ", \"epochs\": %d", params->epochs);
	if (alg->uses & CF_ARG_LEARNING_RATE)
		appendStringInfo(&s, ", \"learning_rate\": %s",
						 float8out_internal(params->learning_rate));
	if (alg->uses & CF_ARG_REGULARIZATION)
		appendStringInfo(&s, ", \"regularization\": %s",
						 float8out_internal(params->regularization));
	if (alg->uses & CF_ARG_REG_EXPONENT)
		appendStringInfo(&s, ", \"regularization_exponent\": %s",
						 float8out_internal(params->regularization_exponent));
	if (alg->uses & CF_ARG_ALPHA)
		appendStringInfo(&s, ", \"alpha\": %s", float8out_internal(params->alpha));
	if (alg->uses & CF_ARG_IMPLICIT_TERM)
		appendStringInfo(&s, ", \"implicit_term\": %s",
						 params->implicit_term ? "true" : "false");
	if (!isnan(fit->fold_ridge))
		/* what folding users in reads (a constant ridge: exponent 0) */
		appendStringInfo(&s, ", \"regularization\": %s, \"regularization_exponent\": 0",
						 float8out_internal(fit->fold_ridge));
	if (alg->uses & CF_ARG_SOLVER)
		appendStringInfo(&s, ", \"solver\": \"%s\"", solver_name(params->solver));
	if ((alg->uses & CF_ARG_CG_STEPS) && params->solver == CF_SOLVER_CG)
		appendStringInfo(&s, ", \"cg_steps\": %d", params->cg_steps);
	if (params->validation_fraction > 0)
		appendStringInfo(&s, ", \"validation_fraction\": %s, \"early_stopping\": %s",
						 float8out_internal(params->validation_fraction),
						 params->early_stopping ? "true" : "false");
	if (params->early_stopping)
		appendStringInfo(&s, ", \"patience\": %d", params->patience);
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* Train on loaded ratings without validation or storing (see train.h). */
void
cf_train_ratings(const CfRatings *data, const CfAlgorithm *alg,
				 const CfTrainParams *params, int workers,
				 CfFactors *f, CfEpoch *log, CfFit *fit)
{
	CfTrainParams p = *params;

	p.validation = NULL;
	p.early_stopping = false;
	p.validation_fraction = 0;
	fit->fold_ridge = get_float8_nan();
	alg->train(data, &p, cf_parallel_workers(workers, data->n), f, log, fit);
}

/*
 * Early stopping's refit: the kept epoch's count of epochs again, on every
 * rating (*full: the training part and the validation set), so that the
 * model stored loses none of them.  *data becomes *full (the training part
 * is freed), *factors and *fit the refit's; the result row keeps the
 * validation run's epochs, kept epoch and validation RMSE, and takes the
 * refit's sizes and fit.  Trains alone as the first run did, without
 * validation and without a trace of its own (one NOTICE).
 */
static void
refit(const CfAlgorithm *alg, const CfTrainParams *params, int workers, CfRatings *full,
	  CfRatings *data, CfFactors *factors, CfFit *fit, CfTrainResult *result)
{
	CfTrainParams p = *params;
	CfEpoch    *log;
	CfFit		f;
	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	/* the training part's arrays and the first run's factors make room */
	pfree(data->r);
	pfree(data->user_start);
	pfree(data->user_ids);
	pfree(data->item_ids);
	pfree(factors->P);
	pfree(factors->Q);
	pfree(factors->user_bias);
	pfree(factors->item_bias);
	cf_check_memory(cf_add_size(cf_loaded_bytes(full->n, full->nusers, full->nitems),
								alg->bytes(full, params, workers)),
					"refitting");
	p.epochs = result->epoch_kept;
	p.validation = NULL;
	p.validation_fraction = 0;
	p.early_stopping = false;
	p.trace = CF_TRACE_NONE;
	log = palloc(sizeof(CfEpoch) * p.epochs);
	memset(&f, 0, sizeof(f));
	f.fold_ridge = get_float8_nan();
	alg->train(full, &p, workers, factors, log, &f);
	pfree(log);
	*data = *full;
	fit->loss = f.loss;
	fit->rmse = f.rmse;
	fit->fold_ridge = f.fold_ridge;
	if (params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("refitted on all %lld ratings for %d epochs in %.3f s: loss %.6f, rmse %.6f",
						(long long) full->n, p.epochs, cf_seconds_since(start), f.loss,
						f.rmse)));
}

/* Load, hold out, train and store (see train.h). */
void
cf_train_and_store(Oid nsp, CfSource *src, const char *model, bool named,
				   const CfAlgorithm *alg, CfTrainParams *params, int workers,
				   CfTrainResult *result)
{
	char	   *replaced = NULL;
	int64		replaced_version = 0;
	MemoryContext cxt;
	MemoryContext oldcxt;
	CfRatings	data;
	CfFactors	factors;
	CfEpoch    *log;
	CfFit		fit;
	CfTrainedModel m;
	CfValidation *v = NULL;
	CfRatings	full;			/* early stopping: every rating, for the refit */
	bool		refitted = false;
	instr_time	start;
	Size		footprint;
	int64		loaded;
	bool		on_cluster = false;
	char	   *user_table = NULL;

	INSTR_TIME_SET_CURRENT(start);
	if (params->validation_fraction > 0 && !alg->predicts_ratings)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" does not predict ratings, so it cannot be validated",
						alg->name),
				 errdetail("Validation measures the RMSE of predicted ratings on the held-out ratings."),
				 errhint("Evaluate its rankings with cf_evaluate instead.")));

	cf_check_source(src);
	cf_lock_model(model);
	if (cf_check_replace(nsp, model, &replaced, &replaced_version))
	{
		/* the default name replaces only a model of the same algorithm */
		if (!named && cf_algorithm_by_name(replaced) != alg)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" was trained by algorithm \"%s\", not \"%s\"",
							model, replaced, alg->name),
					 errdetail("Without a model argument, cf_train replaces the model \"%s\" only with one of the same algorithm.",
							   model),
					 errhint("Name the model: model => '%s' replaces it, another name keeps it.",
							 model)));
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "cf training",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	if (cf_citus_distributed(src->relid))
	{
		char	   *why = cf_citus_unsupported(alg, src, params);

		/* (whatever verbose says: it reads every rating over the network) */
		if (why == NULL)
			on_cluster = true;
		else
			ereport(NOTICE,
					(errmsg("reading every row of distributed table \"%s\" to this node",
							get_rel_name(src->relid)),
					 errdetail_internal("%s", why),
					 errhint("Algorithms \"als\" and \"ials\" train on the workers, with integer ids and without validation_fraction; see docs/scale-out.md.")));
	}
	log = palloc(sizeof(CfEpoch) * params->epochs);
	memset(&fit, 0, sizeof(fit));
	fit.fold_ridge = get_float8_nan();
	if (on_cluster)
	{
		/* the workers solve each row exactly */
		if (alg->uses & CF_ARG_SOLVER)
			params->solver = CF_SOLVER_CHOLESKY;
		memset(&data, 0, sizeof(data));
		cf_citus_train(nsp, model, src, alg, params, &data, &factors, log, &fit, &user_table);
	}
	else
	{
		cf_load_ratings(src, &data);
		if (data.skipped > 0)
			ereport(NOTICE,
					(errmsg("skipped %lld rows with a NULL user, item or rating",
							(long long) data.skipped)));
		cf_check_ratings(alg, src, &data);
		if (params->trace != CF_TRACE_NONE)
			ereport(NOTICE,
					(errmsg("read %lld ratings of %d users and %d items in %.3f s",
							(long long) data.n, data.nusers, data.nitems,
							cf_seconds_since(start))));

		loaded = data.n;
		/*
		 * What training keeps at its peak: the loaded ratings and what the
		 * algorithm allocates.  Loading's own peak (the ratings twice while
		 * sorting) is over, and was checked while loading.
		 */
		footprint = cf_add_size(cf_loaded_bytes(data.n, data.nusers, data.nitems), data.key_bytes);
		if (params->validation_fraction > 0)
		{
			/*
			 * the two parts while splitting, the validation set (with early
			 * stopping all the ratings stay beside them, for the refit)
			 */
			footprint = cf_add_size(footprint, cf_loaded_bytes(data.n, data.nusers, data.nitems));
			if (params->early_stopping)
				footprint = cf_add_size(footprint, cf_loaded_bytes(data.n, data.nusers, data.nitems));
			cf_check_memory(footprint, "training");
			v = hold_out(&data, params, params->early_stopping ? &full : NULL);
			params->validation = v;
			if (params->trace != CF_TRACE_NONE)
				ereport(NOTICE,
						(errmsg("holding out %lld of %lld ratings for validation",
								(long long) v->n, (long long) loaded)));
		}

		workers = cf_parallel_workers(workers, data.n);
		footprint = cf_add_size(footprint, alg->bytes(&data, params, workers));
		cf_check_memory(footprint, "training");
		/* report the peak of the whole call */
		footprint = Max(footprint, cf_ratings_bytes(loaded, data.nusers, data.nitems));
		if (params->trace != CF_TRACE_NONE)
			ereport(NOTICE,
					(errmsg("training needs %zu MB of memory (maintenance_work_mem is %d MB)",
							(footprint + (1 << 20) - 1) >> 20, maintenance_work_mem / 1024)));

		alg->train(&data, params, workers, &factors, log, &fit);
	}
	if (params->trace == CF_TRACE_SHORT && fit.epochs > 0 &&
		!in_short_trace(params, fit.epochs - 1))
		epoch_notice(fit.epochs - 1, &log[fit.epochs - 1]);

	result->epochs = fit.epochs;
	result->epoch_kept = fit.epochs;
	result->validation_rmse = get_float8_nan();
	if (v != NULL && fit.epochs > 0)
	{
		result->validation_rmse = log[fit.epochs - 1].validation_rmse;
		if (params->early_stopping && v->best >= 0)
		{
			result->epoch_kept = v->best + 1;
			result->validation_rmse = v->best_rmse;
			if (params->trace != CF_TRACE_NONE)
				ereport(NOTICE,
						(errmsg("early stopping: kept epoch %d of %d, validation rmse %.6f",
								result->epoch_kept, fit.epochs, result->validation_rmse)));
			refit(alg, params, workers, &full, &data, &factors, &fit, result);
			refitted = true;
		}
	}

	result->users = data.nusers;
	result->items = data.nitems;
	result->ratings = data.n;
	result->factors = factors.k;
	result->rmse = fit.rmse;
	result->loss = fit.loss;
	result->seconds = cf_seconds_since(start);
	if (params->trace == CF_TRACE_SHORT && fit.epochs >= SHORT_TRACE_CHART_EPOCHS)
		trace_chart(model, log, fit.epochs, result->epoch_kept);
	/* where the result row's fit is not the kept epoch's line, say why */
	if (params->trace != CF_TRACE_NONE && result->epoch_kept > 0 && !refitted &&
		(result->loss != log[result->epoch_kept - 1].loss ||
		 result->rmse != log[result->epoch_kept - 1].rmse))
		ereport(NOTICE,
				(errmsg("model \"%s\": loss %.6f, rmse %.6f over the training ratings",
						model, result->loss, result->rmse),
				 errdetail("The epoch lines are measured while each epoch updates the factors; these are the final factors' exact fit, which the result row gives.")));

	if (replaced != NULL && params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("replacing model \"%s\" (algorithm \"%s\", version %lld)",
						model, replaced, (long long) replaced_version)));
	m.name = model;
	m.source = src;
	m.algorithm = alg->name;
	m.hyperparameters = hyperparameters(alg, params, &fit);
	/* models without biases (implicit feedback) score preferences: no mean */
	m.global_mean = alg->has_biases ? data.mean : 0;
	m.data = &data;
	m.factors = &factors;
	m.log = log;
	m.epochs = fit.epochs;
	m.epoch_kept = result->epoch_kept;
	m.loss = result->loss;
	m.rmse = result->rmse;
	m.seconds = result->seconds;
	m.user_table = user_table;
	cf_store_model(nsp, &m);

	params->validation = NULL;
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}

/* A float8 datum, NULL when NaN. */
static Datum
float_or_null(double x, bool *isnull)
{
	*isnull = isnan(x);
	return Float8GetDatum(x);
}

/* Whether argument argno was passed (by this declaration) and is not NULL. */
static bool
arg_given(FunctionCallInfo fcinfo, int argno)
{
	return PG_NARGS() > argno && !PG_ARGISNULL(argno);
}

/* The solver named by a solver argument; error if unknown. */
static CfSolver
solver_arg(const char *name)
{
	if (strcmp(name, "cholesky") == 0)
		return CF_SOLVER_CHOLESKY;
	if (strcmp(name, "cg") == 0)
		return CF_SOLVER_CG;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown solver \"%s\"", name),
			 errhint("The solvers are: cholesky, cg.")));
	return CF_SOLVER_CHOLESKY;	/* keep compiler quiet */
}

/*
 * The settings of a training from cf_train's arguments: each argument
 * given, or (by cf_complete_train_params) the algorithm's default for one
 * NULL by default (epochs, learning_rate, regularization and the arguments
 * from alpha on; a NULL in any other is an error).
 */
static void
read_params(FunctionCallInfo fcinfo, const CfAlgorithm *alg, CfTrainParams *params)
{
	int			given = 0;

	memset(params, 0, sizeof(*params));
	cf_require_arg(fcinfo, ARG_SEED, "seed");
	params->seed = PG_GETARG_INT64(ARG_SEED);
	if (arg_given(fcinfo, ARG_FACTORS))
	{
		given |= CF_ARG_FACTORS;
		params->factors = PG_GETARG_INT32(ARG_FACTORS);
	}
	/* verbose: NULL (the default since 0.4.0) a short trace, true every epoch */
	params->trace = PG_ARGISNULL(ARG_VERBOSE) ? CF_TRACE_SHORT :
		PG_GETARG_BOOL(ARG_VERBOSE) ? CF_TRACE_ALL : CF_TRACE_NONE;

	if (arg_given(fcinfo, ARG_EPOCHS))
	{
		given |= CF_ARG_EPOCHS;
		params->epochs = PG_GETARG_INT32(ARG_EPOCHS);
	}
	if (arg_given(fcinfo, ARG_LEARNING_RATE))
	{
		given |= CF_ARG_LEARNING_RATE;
		params->learning_rate = PG_GETARG_FLOAT8(ARG_LEARNING_RATE);
	}
	if (arg_given(fcinfo, ARG_REGULARIZATION))
	{
		given |= CF_ARG_REGULARIZATION;
		params->regularization = PG_GETARG_FLOAT8(ARG_REGULARIZATION);
	}
	if (arg_given(fcinfo, ARG_ALPHA))
	{
		given |= CF_ARG_ALPHA;
		params->alpha = PG_GETARG_FLOAT8(ARG_ALPHA);
	}
	if (arg_given(fcinfo, ARG_SOLVER))
	{
		given |= CF_ARG_SOLVER;
		/* named only for an algorithm that takes one: else "does not apply" */
		if (alg->uses & CF_ARG_SOLVER)
			params->solver = solver_arg(text_to_cstring(PG_GETARG_TEXT_PP(ARG_SOLVER)));
	}
	if (arg_given(fcinfo, ARG_CG_STEPS))
	{
		given |= CF_ARG_CG_STEPS;
		params->cg_steps = PG_GETARG_INT32(ARG_CG_STEPS);
	}
	if (arg_given(fcinfo, ARG_REG_EXPONENT))
	{
		given |= CF_ARG_REG_EXPONENT;
		params->regularization_exponent = PG_GETARG_FLOAT8(ARG_REG_EXPONENT);
	}
	if (arg_given(fcinfo, ARG_IMPLICIT_TERM))
	{
		given |= CF_ARG_IMPLICIT_TERM;
		params->implicit_term = PG_GETARG_BOOL(ARG_IMPLICIT_TERM);
	}

	params->patience = 20;
	if (PG_NARGS() > ARG_VALIDATION_FRACTION)
	{
		cf_require_arg(fcinfo, ARG_VALIDATION_FRACTION, "validation_fraction");
		params->validation_fraction = PG_GETARG_FLOAT8(ARG_VALIDATION_FRACTION);
	}
	if (PG_NARGS() > ARG_EARLY_STOPPING)
	{
		cf_require_arg(fcinfo, ARG_EARLY_STOPPING, "early_stopping");
		params->early_stopping = PG_GETARG_BOOL(ARG_EARLY_STOPPING);
	}
	if (PG_NARGS() > ARG_PATIENCE)
	{
		cf_require_arg(fcinfo, ARG_PATIENCE, "patience");
		params->patience = PG_GETARG_INT32(ARG_PATIENCE);
	}
	cf_complete_train_params(alg, given, params);
}

/*
 * cf_train(source regclass, user_column name, item_column name,
 *			rating_column name, model text, factors int, epochs int,
 *			learning_rate float8, regularization float8, seed bigint,
 *			verbose boolean, workers int, algorithm text,
 *			validation_fraction float8, early_stopping boolean,
 *			patience int, alpha float8, solver text, cg_steps int,
 *			regularization_exponent float8, implicit_term boolean)
 *			RETURNS record
 */
Datum
cf_train(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	CfSource	src;
	CfTrainParams params;
	const CfAlgorithm *alg;
	CfTrainResult result;
	const char *model;
	bool		named;
	TupleDesc	tupdesc;
	Datum		values[RESULT_COLUMNS];
	bool		nulls[RESULT_COLUMNS] = {0};
	int			workers;

	/*
	 * The algorithm first: it decides which arguments apply and the
	 * defaults of those left NULL.  Arguments added in 0.2.0 are read only
	 * if the declaration passes them (a backend may still run the 0.1.0
	 * one, before ALTER EXTENSION cf UPDATE).
	 */
	alg = &cf_sgd_algorithm;
	if (PG_NARGS() > ARG_ALGORITHM)
	{
		cf_require_arg(fcinfo, ARG_ALGORITHM, "algorithm");
		alg = cf_find_algorithm(text_to_cstring(PG_GETARG_TEXT_PP(ARG_ALGORITHM)));
	}

	cf_require_arg(fcinfo, ARG_SOURCE, "source");
	memset(&src, 0, sizeof(src));
	src.relid = PG_GETARG_OID(ARG_SOURCE);
	src.user_column = name_arg(fcinfo, ARG_USER_COLUMN, "user_column");
	src.item_column = name_arg(fcinfo, ARG_ITEM_COLUMN, "item_column");
	src.rating_column = cf_rating_column_arg(fcinfo, ARG_RATING_COLUMN, alg);
	/* model: NULL (the default since 0.4.0) names the model "default" */
	named = !PG_ARGISNULL(ARG_MODEL);
	model = named ? cf_model_name_arg(fcinfo, ARG_MODEL) : CF_DEFAULT_MODEL;
	read_params(fcinfo, alg, &params);
	workers = -1;				/* automatic, also when NULL */
	if (arg_given(fcinfo, ARG_WORKERS))
	{
		workers = PG_GETARG_INT32(ARG_WORKERS);
		cf_check_int_arg("workers", workers, 0, MAX_PARALLEL_WORKER_LIMIT);
	}

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	cf_train_and_store(nsp, &src, model, named, alg, &params, workers, &result);

	values[0] = CStringGetTextDatum(model);
	values[1] = Int64GetDatum(result.users);
	values[2] = Int64GetDatum(result.items);
	values[3] = Int64GetDatum(result.ratings);
	values[4] = Int32GetDatum(result.factors);
	values[5] = Int32GetDatum(result.epochs);
	values[6] = float_or_null(result.loss, &nulls[6]);
	values[7] = float_or_null(result.rmse, &nulls[7]);
	values[8] = Float8GetDatum(result.seconds);
	values[9] = float_or_null(result.validation_rmse, &nulls[9]);
	values[10] = Int32GetDatum(result.epoch_kept);
	nulls[10] = result.epoch_kept <= 0;

	/* the 0.1.0 declaration has the first 9 columns only */
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts > RESULT_COLUMNS)
		elog(ERROR, "cf_train's declaration returns %d columns, expected at most %d",
			 tupdesc->natts, RESULT_COLUMNS);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
