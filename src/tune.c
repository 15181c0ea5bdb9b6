/*-------------------------------------------------------------------------
 *
 * tune.c
 *	  Choosing settings: cf_cross_validate and cf_grid_search.
 *
 * k-fold cross-validation (Stone, "Cross-Validatory Choice and Assessment
 * of Statistical Predictions", JRSS B 1974; Kohavi 1995 for k-fold): the
 * source's ratings are cut into `folds` folds by the split hash (salted
 * for folds, split.h), fold f holding the ratings with cf_split_fold(user,
 * item, folds, seed) = f; for each fold a model is trained on the
 * other folds and evaluated on it exactly as cf_evaluate would evaluate
 * it, and each metric is reported as its mean and sample standard
 * deviation over the folds.
 *
 * Nothing is stored while tuning: the source is read once, each fold's
 * training and evaluation run in memory (alg->train, then
 * cf_evaluate_factors) in a memory context reset after the fold, so no
 * model rows pile up and no dead tuples are left for VACUUM.  Only
 * cf_grid_search's model argument stores something: the best setting,
 * trained on all the ratings by cf_train's own code, in the caller's
 * transaction.
 *
 * Cost: a grid search runs settings x folds trainings, each on
 * (folds - 1) / folds of the ratings, plus one evaluation each (about the
 * cost of cf_recommend_batch over the test users); memory is the loaded
 * ratings, one fold's copy of them, and one model at a time, checked
 * against maintenance_work_mem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker_internals.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "algorithm.h"
#include "eval.h"
#include "load.h"
#include "model.h"
#include "score.h"
#include "split.h"
#include "train.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_cross_validate);
PG_FUNCTION_INFO_V1(cf_grid_search);

#define MAX_FOLDS 100
#define MAX_SETTINGS 10000

/* The result of cross-validating one setting. */
typedef struct CvResult
{
	CfMetrics  *fold;			/* per fold */
	double		mean[CF_NUM_METRICS];	/* NaN if any fold's is */
	double		stddev[CF_NUM_METRICS]; /* sample standard deviation */
	double		seconds;
} CvResult;

/* Name argument as a C string; error if NULL. */
static const char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	cf_require_arg(fcinfo, argno, argname);
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/* A float8 datum, NULL when NaN. */
static Datum
float_or_null(double x, bool *isnull)
{
	*isnull = isnan(x);
	return Float8GetDatum(x);
}

/* Mean and sample standard deviation of each metric over the folds. */
static void
summarize(CvResult *cv, int folds)
{
	for (int j = 0; j < CF_NUM_METRICS; j++)
	{
		double		sum = 0;
		double		ss = 0;

		for (int f = 0; f < folds; f++)
			sum += cf_metric(&cv->fold[f], j);
		cv->mean[j] = sum / folds;
		for (int f = 0; f < folds; f++)
		{
			double		d = cf_metric(&cv->fold[f], j) - cv->mean[j];

			ss += d * d;
		}
		cv->stddev[j] = sqrt(ss / (folds - 1));
	}
}

/*
 * Cross-validate one setting on loaded ratings: train and evaluate each
 * fold in memory (see the top of the file), filling *cv.
 */
static void
cross_validate(const CfRatings *all, const CfAlgorithm *alg, const CfTrainParams *params,
			   int folds, int k, double threshold, int workers, bool verbose, CvResult *cv)
{
	MemoryContext foldcxt = AllocSetContextCreate(CurrentMemoryContext, "cf fold",
												  ALLOCSET_DEFAULT_SIZES);

	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	cv->fold = palloc0(folds * sizeof(CfMetrics));
	for (int f = 0; f < folds; f++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(foldcxt);
		CfHoldout	h = cf_fold_holdout(params->seed, folds, f);
		CfRatings	train;
		CfRatings	test;
		CfFactors	factors;
		CfEpoch    *log;
		CfFit		fit;
		Size		footprint;
		instr_time	fold_start;

		INSTR_TIME_SET_CURRENT(fold_start);
		cf_check_memory(cf_mul_size(cf_ratings_bytes(all->n, all->nusers, all->nitems), 2),
						"cross-validation");
		cf_split_ratings(all, &h, &train, &test);
		if (train.n == 0 || test.n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fold %d of folds 0 to %d holds out %s of the %lld ratings",
							f, folds - 1, test.n == 0 ? "none" : "all", (long long) all->n),
					 errdetail("Fold %d is the ratings with cf_split_fold(user, item, %d, seed) = %d.",
							   f, folds, f),
					 errhint("Use fewer folds, or more ratings.")));
		footprint = cf_add_size(cf_mul_size(cf_ratings_bytes(all->n, all->nusers, all->nitems), 2),
								alg->bytes(&train, params, Max(workers, 0)));
		footprint = cf_add_size(footprint, all->key_bytes);
		footprint = cf_add_size(footprint,
								cf_items_bytes(train.nitems, params->factors));
		cf_check_memory(footprint, "cross-validation");

		log = palloc(sizeof(CfEpoch) * params->epochs);
		cf_train_ratings(&train, alg, params, workers, &factors, log, &fit);
		cf_evaluate_factors(&train, &factors, alg->predicts_ratings, alg->has_biases, &test, k, threshold,
							&cv->fold[f]);
		if (verbose)
			ereport(NOTICE,
					(errmsg("fold %d of folds 0 to %d: %lld training and %lld test ratings, rmse %.6f, ndcg_at_k %.6f, %.3f s",
							f, folds - 1, (long long) train.n, (long long) test.n,
							cv->fold[f].rmse, cv->fold[f].ndcg, cf_seconds_since(fold_start))));
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(foldcxt);
	}
	MemoryContextDelete(foldcxt);
	summarize(cv, folds);
	cv->seconds = cf_seconds_since(start);
}

/*
 * The source of a tuning call: relation and columns (the rating column
 * NULL where the algorithm trains without one, as cf_train takes it).
 */
static void
source_args(FunctionCallInfo fcinfo, int relarg, int colarg, const CfAlgorithm *alg,
			CfSource *src)
{
	cf_require_arg(fcinfo, relarg, "source");
	memset(src, 0, sizeof(*src));
	src->relid = PG_GETARG_OID(relarg);
	src->user_column = name_arg(fcinfo, colarg, "user_column");
	src->item_column = name_arg(fcinfo, colarg + 1, "item_column");
	src->rating_column = cf_rating_column_arg(fcinfo, colarg + 2, alg);
}

/* k, threshold (NaN: none), workers (-1: automatic) arguments. */
static void
eval_args(FunctionCallInfo fcinfo, int karg, int targ, int warg,
		  int *k, double *threshold, int *workers)
{
	cf_require_arg(fcinfo, karg, "k");
	*k = PG_GETARG_INT32(karg);
	cf_check_int_arg("k", *k, 1, PG_INT32_MAX);
	*threshold = get_float8_nan();
	if (!PG_ARGISNULL(targ))
	{
		*threshold = PG_GETARG_FLOAT8(targ);
		if (!isfinite(*threshold))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"threshold\" must be a finite number")));
	}
	*workers = -1;
	if (!PG_ARGISNULL(warg))
	{
		*workers = PG_GETARG_INT32(warg);
		cf_check_int_arg("workers", *workers, 0, MAX_PARALLEL_WORKER_LIMIT);
	}
}

/* Load a source for tuning (read-only: tuning functions may be STABLE). */
static void
load_source(CfSource *src, const CfAlgorithm *alg, CfRatings *all, bool verbose)
{
	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	cf_check_source(src);
	cf_load_ratings_readonly(src, all);
	if (all->skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld rows with a NULL user, item or rating",
						(long long) all->skipped)));
	cf_check_ratings(alg, src, all);
	if (verbose)
		ereport(NOTICE,
				(errmsg("read %lld ratings of %d users and %d items in %.3f s",
						(long long) all->n, all->nusers, all->nitems,
						cf_seconds_since(start))));
}

/*
 * cf_cross_validate(source regclass, folds int, user_column name,
 *		item_column name, rating_column name, algorithm text, factors int,
 *		epochs int, learning_rate float8, regularization float8, seed bigint,
 *		k int, threshold float8, verbose boolean, workers int)
 *		RETURNS TABLE(metric text, mean float8, stddev float8,
 *		per_fold float8[])
 */
Datum
cf_cross_validate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CfSource	src;
	CfTrainParams params;
	const CfAlgorithm *alg;
	CfRatings	all;
	CvResult	cv;
	int			folds;
	int			k;
	double		threshold;
	int			workers;
	int			given = 0;
	MemoryContext cxt;
	MemoryContext oldcxt;

	cf_require_arg(fcinfo, 5, "algorithm");
	alg = cf_find_algorithm(text_to_cstring(PG_GETARG_TEXT_PP(5)));
	source_args(fcinfo, 0, 2, alg, &src);
	cf_require_arg(fcinfo, 1, "folds");
	folds = PG_GETARG_INT32(1);
	cf_check_int_arg("folds", folds, 2, MAX_FOLDS);
	cf_require_arg(fcinfo, 10, "seed");
	cf_require_arg(fcinfo, 13, "verbose");
	memset(&params, 0, sizeof(params));
	/* factors, epochs, learning_rate, regularization: NULL is the algorithm's default */
	if (!PG_ARGISNULL(6))
	{
		given |= CF_ARG_FACTORS;
		params.factors = PG_GETARG_INT32(6);
	}
	if (!PG_ARGISNULL(7))
	{
		given |= CF_ARG_EPOCHS;
		params.epochs = PG_GETARG_INT32(7);
	}
	if (!PG_ARGISNULL(8))
	{
		given |= CF_ARG_LEARNING_RATE;
		params.learning_rate = PG_GETARG_FLOAT8(8);
	}
	if (!PG_ARGISNULL(9))
	{
		given |= CF_ARG_REGULARIZATION;
		params.regularization = PG_GETARG_FLOAT8(9);
	}
	params.seed = PG_GETARG_INT64(10);
	params.trace = CF_TRACE_NONE;	/* no NOTICE per epoch */
	params.patience = 1;
	cf_complete_train_params(alg, given, &params);
	eval_args(fcinfo, 11, 12, 14, &k, &threshold, &workers);

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "cf cross-validation",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	load_source(&src, alg, &all, PG_GETARG_BOOL(13));
	cross_validate(&all, alg, &params, folds, k, threshold, workers,
				   PG_GETARG_BOOL(13), &cv);
	MemoryContextSwitchTo(oldcxt);

	for (int j = 0; j < CF_NUM_METRICS; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		Datum	   *v = palloc(folds * sizeof(Datum));
		bool	   *vnulls = palloc(folds * sizeof(bool));
		int			dims[1] = {folds};
		int			lbs[1] = {1};

		for (int f = 0; f < folds; f++)
		{
			double		x = cf_metric(&cv.fold[f], j);

			v[f] = Float8GetDatum(x);
			vnulls[f] = isnan(x);
		}
		values[0] = CStringGetTextDatum(cf_metric_names[j]);
		values[1] = float_or_null(cv.mean[j], &nulls[1]);
		values[2] = float_or_null(cv.stddev[j], &nulls[2]);
		values[3] = PointerGetDatum(construct_md_array(v, vnulls, 1, dims, lbs, FLOAT8OID,
													   sizeof(float8), FLOAT8PASSBYVAL,
													   TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* One setting of a grid search and its result. */
typedef struct Setting
{
	int			order;			/* position in the grid */
	CfTrainParams params;
	CvResult	cv;
	double		score;			/* the ranking metric's mean */
	bool		stored;			/* trained and stored as the model */
} Setting;

/*
 * qsort_arg order of settings (arg: the metric's number): best mean of the
 * metric first, NaN last, then grid order.
 */
static int
grid_order(const void *a, const void *b, void *arg)
{
	const Setting *x = a;
	const Setting *y = b;
	int			sort_metric = *(const int *) arg;
	bool		xn = isnan(x->score);
	bool		yn = isnan(y->score);

	if (xn != yn)
		return xn ? 1 : -1;
	if (!xn && x->score != y->score)
	{
		bool		x_better = cf_metric_higher_is_better(sort_metric) ?
			x->score > y->score : x->score < y->score;

		return x_better ? -1 : 1;
	}
	return x->order - y->order;
}

/*
 * A dimension of the grid: the elements of array argument argno in
 * *values, and their number; NULL (regularization, learning_rate, epochs:
 * the algorithm's default) gives one setting and *values NULL.
 */
static int
grid_arg(FunctionCallInfo fcinfo, int argno, const char *argname, Oid elemtype, void **values)
{
	int			n;

	*values = NULL;
	if (PG_ARGISNULL(argno))
		return 1;
	n = cf_array_arg(fcinfo, argno, argname, elemtype, values);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must not be an empty array", argname)));
	return n;
}

/* A setting as a grid search's NOTICE names it: the arguments the algorithm takes. */
static char *
describe_setting(const CfAlgorithm *alg, const CfTrainParams *p)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "factors %d", p->factors);
	if (alg->uses & CF_ARG_REGULARIZATION)
		appendStringInfo(&s, ", regularization %g", p->regularization);
	if (alg->uses & CF_ARG_LEARNING_RATE)
		appendStringInfo(&s, ", learning_rate %g", p->learning_rate);
	if (alg->uses & CF_ARG_EPOCHS)
		appendStringInfo(&s, ", epochs %d", p->epochs);
	return s.data;
}

/*
 * cf_grid_search(source regclass, factors int[], regularization float8[],
 *		learning_rate float8[], epochs int[], folds int, metric text,
 *		model text, user_column name, item_column name, rating_column name,
 *		algorithm text, seed bigint, k int, threshold float8,
 *		verbose boolean, workers int)
 *		RETURNS TABLE(rank int, factors int, regularization float8,
 *		learning_rate float8, epochs int, rmse .. coverage float8,
 *		stddev float8, seconds float8, model text)
 */
Datum
cf_grid_search(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CfSource	src;
	const CfAlgorithm *alg;
	int32	   *factors;
	float8	   *regularization;
	float8	   *learning_rate;
	int32	   *epochs;
	int			nf;
	int			nr;
	int			nl;
	int			ne;
	int64		nsettings;
	int			folds;
	int			metric;
	char	   *model = NULL;
	int64		seed;
	int			k;
	double		threshold;
	bool		verbose;
	int			workers;
	Setting    *settings;
	CfRatings	all;
	MemoryContext cxt;
	MemoryContext oldcxt;
	int			s;

	nf = grid_arg(fcinfo, 1, "factors", INT4OID, (void **) &factors);
	nr = grid_arg(fcinfo, 2, "regularization", FLOAT8OID, (void **) &regularization);
	nl = grid_arg(fcinfo, 3, "learning_rate", FLOAT8OID, (void **) &learning_rate);
	ne = grid_arg(fcinfo, 4, "epochs", INT4OID, (void **) &epochs);
	nsettings = (int64) nf * nr * nl * ne;
	if (nsettings > MAX_SETTINGS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a grid of %lld settings is too large", (long long) nsettings),
				 errdetail("A grid search runs at most %d settings.", MAX_SETTINGS)));
	cf_require_arg(fcinfo, 5, "folds");
	folds = PG_GETARG_INT32(5);
	cf_check_int_arg("folds", folds, 2, MAX_FOLDS);
	cf_require_arg(fcinfo, 6, "metric");
	metric = cf_metric_number(text_to_cstring(PG_GETARG_TEXT_PP(6)));
	if (!PG_ARGISNULL(7))
		model = cf_model_name_arg(fcinfo, 7);
	cf_require_arg(fcinfo, 11, "algorithm");
	alg = cf_find_algorithm(text_to_cstring(PG_GETARG_TEXT_PP(11)));
	source_args(fcinfo, 0, 8, alg, &src);
	if (!alg->predicts_ratings && !cf_metric_higher_is_better(metric))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" does not predict ratings, so it has no %s",
						alg->name, cf_metric_names[metric]),
				 errhint("Rank the settings by a ranking metric, for example metric => 'ndcg_at_k'.")));
	cf_require_arg(fcinfo, 12, "seed");
	seed = PG_GETARG_INT64(12);
	cf_require_arg(fcinfo, 15, "verbose");
	verbose = PG_GETARG_BOOL(15);
	eval_args(fcinfo, 13, 14, 16, &k, &threshold, &workers);

	/* the grid, factors outermost, every setting checked up front */
	settings = palloc0(nsettings * sizeof(Setting));
	s = 0;
	for (int a = 0; a < nf; a++)
		for (int b = 0; b < nr; b++)
			for (int c = 0; c < nl; c++)
				for (int d = 0; d < ne; d++)
				{
					CfTrainParams *p = &settings[s].params;
					int			given = 0;

					settings[s].order = s;
					if (factors)
					{
						given |= CF_ARG_FACTORS;
						p->factors = factors[a];
					}
					if (regularization)
					{
						given |= CF_ARG_REGULARIZATION;
						p->regularization = regularization[b];
					}
					if (learning_rate)
					{
						given |= CF_ARG_LEARNING_RATE;
						p->learning_rate = learning_rate[c];
					}
					if (epochs)
					{
						given |= CF_ARG_EPOCHS;
						p->epochs = epochs[d];
					}
					p->seed = seed;
					p->patience = 1;
					cf_complete_train_params(alg, given, p);
					s++;
				}

	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "cf grid search",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	load_source(&src, alg, &all, verbose);
	for (s = 0; s < nsettings; s++)
	{
		Setting    *st = &settings[s];

		cross_validate(&all, alg, &st->params, folds, k, threshold, workers, false, &st->cv);
		st->score = st->cv.mean[metric];
		if (verbose)
			ereport(NOTICE,
					(errmsg("setting %d of %lld (%s): %s %.6f (sd %.6f), %.3f s",
							s + 1, (long long) nsettings, describe_setting(alg, &st->params),
							cf_metric_names[metric], st->score,
							st->cv.stddev[metric], st->cv.seconds)));
	}
	qsort_arg(settings, nsettings, sizeof(Setting), grid_order, &metric);
	MemoryContextSwitchTo(oldcxt);

	/* the best, trained on every rating and stored */
	if (model != NULL)
	{
		CfTrainResult result;
		CfTrainParams best = settings[0].params;

		MemoryContextReset(cxt);
		best.trace = CF_TRACE_NONE;
		cf_train_and_store(nsp, &src, model, true, alg, &best, workers, &result);
		settings[0].stored = true;
		if (verbose)
			ereport(NOTICE,
					(errmsg("trained the best setting on all %lld ratings as model \"%s\"",
							(long long) result.ratings, model)));
	}

	for (s = 0; s < nsettings; s++)
	{
		Setting    *st = &settings[s];
		Datum		values[16];
		bool		nulls[16] = {0};

		values[0] = Int32GetDatum(s + 1);
		values[1] = Int32GetDatum(st->params.factors);
		/* the settings the algorithm does not take are NULL */
		values[2] = Float8GetDatum(st->params.regularization);
		nulls[2] = !(alg->uses & CF_ARG_REGULARIZATION);
		values[3] = Float8GetDatum(st->params.learning_rate);
		nulls[3] = !(alg->uses & CF_ARG_LEARNING_RATE);
		values[4] = Int32GetDatum(st->params.epochs);
		nulls[4] = !(alg->uses & CF_ARG_EPOCHS);
		for (int j = 0; j < CF_NUM_METRICS; j++)
			values[5 + j] = float_or_null(st->cv.mean[j], &nulls[5 + j]);
		values[13] = float_or_null(st->cv.stddev[metric], &nulls[13]);
		values[14] = Float8GetDatum(st->cv.seconds);
		values[15] = st->stored ? CStringGetTextDatum(model) : (Datum) 0;
		nulls[15] = !st->stored;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}
