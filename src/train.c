/*-------------------------------------------------------------------------
 *
 * train.c
 *	  cf_train(): read a ratings relation, train a model, store it.
 *
 * The steps run in the caller's transaction, in this order: check the
 * arguments and the source's columns; take the model name's lock; load
 * the ratings (load.c); decide the number of parallel workers; check the
 * memory budget; train with the algorithm's trainer (train.h; sgd.c, with
 * parallel.c); replace the stored model (model.c).
 * All working memory lives in one context, deleted at the end (or by the
 * normal cleanup when an error or cancel ends the transaction, which also
 * rolls back the model rows).
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
#include "utils/float.h"
#include "utils/memutils.h"

#include "als.h"
#include "load.h"
#include "model.h"
#include "parallel.h"
#include "sgd.h"
#include "train.h"
#include "util.h"

#define MAX_FACTORS 1024
#define MAX_EPOCHS 100000
#define MAX_CG_STEPS 100
#define MAX_ALPHA 100000

PG_FUNCTION_INFO_V1(cf_train);

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
	ARG_ALPHA,
	ARG_SOLVER,
	ARG_CG_STEPS,
	ARG_REG_EXPONENT
};


/* The training algorithms, by the name the algorithm argument takes. */
static const CfTrainer *const trainers[] = {
	&cf_sgd_trainer,
	&cf_als_trainer,
	&cf_ials_trainer,
};

/* The trainer of an algorithm name; error if there is none. */
static const CfTrainer *
find_trainer(const char *name)
{
	StringInfoData names;

	for (int j = 0; j < lengthof(trainers); j++)
		if (strcmp(trainers[j]->name, name) == 0)
			return trainers[j];

	initStringInfo(&names);
	for (int j = 0; j < lengthof(trainers); j++)
		appendStringInfo(&names, "%s%s", j > 0 ? ", " : "", trainers[j]->name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown algorithm \"%s\"", name),
			 errhint("The algorithms are: %s.", names.data)));
	return NULL;				/* keep compiler quiet */
}

/* After each epoch of any trainer: report it; true to stop training. */
bool
cf_epoch_done(const CfTrainParams *params, int epoch, const CfFactors *current,
			  CfEpoch *log)
{
	if (params->verbose)
		ereport(NOTICE,
				(errmsg("epoch %d: loss %.6f, rmse %.6f, %.3f s",
						epoch + 1, log->loss, log->rmse, log->seconds)));
	return false;
}

/* Name argument as a C string; error if NULL. */
static const char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	cf_require_arg(fcinfo, argno, argname);
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/* Whether argument argno was passed (by this declaration) and is not NULL. */
static bool
arg_given(FunctionCallInfo fcinfo, int argno)
{
	return PG_NARGS() > argno && !PG_ARGISNULL(argno);
}

/* The algorithms that take every argument in mask, as a list for a message. */
static char *
algorithms_using(int mask)
{
	StringInfoData names;
	int			found = 0;

	initStringInfo(&names);
	for (int j = 0; j < lengthof(trainers); j++)
		if ((trainers[j]->uses & mask) == mask)
			appendStringInfo(&names, "%s\"%s\"", found++ > 0 ? ", " : "", trainers[j]->name);
	return names.data;
}

/* Error out if an argument the algorithm does not take was given. */
static void
check_applies(FunctionCallInfo fcinfo, int argno, const char *argname, int flag,
			  const CfTrainer *trainer)
{
	if (arg_given(fcinfo, argno) && (trainer->uses & flag) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" does not apply to algorithm \"%s\"",
						argname, trainer->name),
				 errdetail("Only these algorithms take it: %s.", algorithms_using(flag)),
				 errhint("Leave it out or pass NULL.")));
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

/* Name of a solver, as the solver argument takes it. */
static const char *
solver_name(CfSolver solver)
{
	return solver == CF_SOLVER_CG ? "cg" : "cholesky";
}

/*
 * The settings of a training: each argument given, checked, or the
 * algorithm's default for one left NULL (epochs, learning_rate,
 * regularization and the arguments from alpha on; a NULL in any other is
 * an error).  An argument the algorithm does not take is an error when
 * given.
 */
static void
read_params(FunctionCallInfo fcinfo, const CfTrainer *trainer, CfTrainParams *params)
{
	memset(params, 0, sizeof(*params));
	cf_require_arg(fcinfo, ARG_FACTORS, "factors");
	cf_require_arg(fcinfo, ARG_SEED, "seed");
	cf_require_arg(fcinfo, ARG_VERBOSE, "verbose");
	check_applies(fcinfo, ARG_LEARNING_RATE, "learning_rate", CF_ARG_LEARNING_RATE, trainer);
	check_applies(fcinfo, ARG_ALPHA, "alpha", CF_ARG_ALPHA, trainer);
	check_applies(fcinfo, ARG_SOLVER, "solver", CF_ARG_SOLVER, trainer);
	check_applies(fcinfo, ARG_CG_STEPS, "cg_steps", CF_ARG_CG_STEPS, trainer);
	check_applies(fcinfo, ARG_REG_EXPONENT, "regularization_exponent", CF_ARG_REG_EXPONENT, trainer);

	params->factors = PG_GETARG_INT32(ARG_FACTORS);
	params->seed = PG_GETARG_INT64(ARG_SEED);
	params->verbose = PG_GETARG_BOOL(ARG_VERBOSE);
	cf_check_int_arg("factors", params->factors, 1, MAX_FACTORS);

	params->epochs = trainer->default_epochs;
	if (arg_given(fcinfo, ARG_EPOCHS))
	{
		params->epochs = PG_GETARG_INT32(ARG_EPOCHS);
		cf_check_int_arg("epochs", params->epochs, 1, MAX_EPOCHS);
	}
	params->regularization = trainer->default_regularization;
	if (arg_given(fcinfo, ARG_REGULARIZATION))
	{
		params->regularization = PG_GETARG_FLOAT8(ARG_REGULARIZATION);
		cf_check_float_arg("regularization", params->regularization, 0, false, 1000);
	}
	if (trainer->uses & CF_ARG_LEARNING_RATE)
	{
		params->learning_rate = trainer->default_learning_rate;
		if (arg_given(fcinfo, ARG_LEARNING_RATE))
		{
			params->learning_rate = PG_GETARG_FLOAT8(ARG_LEARNING_RATE);
			cf_check_float_arg("learning_rate", params->learning_rate, 0, true, 1);
		}
	}
	if (trainer->uses & CF_ARG_ALPHA)
	{
		params->alpha = trainer->default_alpha;
		if (arg_given(fcinfo, ARG_ALPHA))
		{
			params->alpha = PG_GETARG_FLOAT8(ARG_ALPHA);
			cf_check_float_arg("alpha", params->alpha, 0, false, MAX_ALPHA);
		}
	}
	if (trainer->uses & CF_ARG_SOLVER)
	{
		params->solver = trainer->default_solver;
		if (arg_given(fcinfo, ARG_SOLVER))
			params->solver = solver_arg(text_to_cstring(PG_GETARG_TEXT_PP(ARG_SOLVER)));
	}
	if (trainer->uses & CF_ARG_CG_STEPS)
	{
		if (params->solver == CF_SOLVER_CG)
			params->cg_steps = trainer->default_cg_steps;
		if (arg_given(fcinfo, ARG_CG_STEPS))
		{
			int			steps = PG_GETARG_INT32(ARG_CG_STEPS);

			if (params->solver != CF_SOLVER_CG)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("argument \"cg_steps\" applies only to solver \"cg\""),
						 errdetail("The solver is \"%s\".", solver_name(params->solver))));
			cf_check_int_arg("cg_steps", steps, 1, MAX_CG_STEPS);
			params->cg_steps = steps;
		}
	}
	if (trainer->uses & CF_ARG_REG_EXPONENT)
	{
		params->regularization_exponent = trainer->default_regularization_exponent;
		if (arg_given(fcinfo, ARG_REG_EXPONENT))
		{
			params->regularization_exponent = PG_GETARG_FLOAT8(ARG_REG_EXPONENT);
			cf_check_float_arg("regularization_exponent", params->regularization_exponent,
							   0, false, 1);
		}
	}
}

/* The settings as cf_models.hyperparameters stores them (jsonb text). */
static char *
hyperparameters_json(const CfTrainer *trainer, const CfTrainParams *params)
{
	StringInfoData json;

	initStringInfo(&json);
	appendStringInfo(&json, "{\"factors\": %d, \"epochs\": %d", params->factors, params->epochs);
	if (trainer->uses & CF_ARG_LEARNING_RATE)
		appendStringInfo(&json, ", \"learning_rate\": %s",
						 float8out_internal(params->learning_rate));
	appendStringInfo(&json, ", \"regularization\": %s",
					 float8out_internal(params->regularization));
	if (trainer->uses & CF_ARG_REG_EXPONENT)
		appendStringInfo(&json, ", \"regularization_exponent\": %s",
						 float8out_internal(params->regularization_exponent));
	if (trainer->uses & CF_ARG_ALPHA)
		appendStringInfo(&json, ", \"alpha\": %s", float8out_internal(params->alpha));
	if (trainer->uses & CF_ARG_SOLVER)
		appendStringInfo(&json, ", \"solver\": \"%s\"", solver_name(params->solver));
	if ((trainer->uses & CF_ARG_CG_STEPS) && params->solver == CF_SOLVER_CG)
		appendStringInfo(&json, ", \"cg_steps\": %d", params->cg_steps);
	appendStringInfo(&json, ", \"seed\": " INT64_FORMAT "}", params->seed);
	return json.data;
}

/*
 * cf_train(source regclass, user_column name, item_column name,
 *			rating_column name, model text, factors int, epochs int,
 *			learning_rate float8, regularization float8, seed bigint,
 *			verbose boolean, workers int, algorithm text, alpha float8,
 *			solver text, cg_steps int, regularization_exponent float8)
 *		RETURNS record
 */
Datum
cf_train(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	CfSource	src;
	CfTrainParams params;
	const CfTrainer *trainer;
	CfFit		fit;
	const char *model;
	MemoryContext cxt;
	MemoryContext oldcxt;
	CfRatings	data;
	CfFactors	factors;
	CfEpoch    *log;
	CfTrainedModel m;
	instr_time	start;
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9] = {0};
	double		seconds;
	int			workers;
	Size		footprint;

	INSTR_TIME_SET_CURRENT(start);

	/*
	 * The algorithm first: it decides which arguments apply and the
	 * defaults of those left NULL.  Arguments added in 0.2.0 are read only
	 * if the declaration passes them (a backend may still run the 0.1.0
	 * one, before ALTER EXTENSION cf UPDATE).
	 */
	trainer = &cf_sgd_trainer;
	if (PG_NARGS() > ARG_ALGORITHM)
	{
		cf_require_arg(fcinfo, ARG_ALGORITHM, "algorithm");
		trainer = find_trainer(text_to_cstring(PG_GETARG_TEXT_PP(ARG_ALGORITHM)));
	}

	cf_require_arg(fcinfo, ARG_SOURCE, "source");
	src.relid = PG_GETARG_OID(ARG_SOURCE);
	src.user_column = name_arg(fcinfo, ARG_USER_COLUMN, "user_column");
	src.item_column = name_arg(fcinfo, ARG_ITEM_COLUMN, "item_column");
	src.rating_column = NULL;
	if (!PG_ARGISNULL(ARG_RATING_COLUMN))
		src.rating_column = name_arg(fcinfo, ARG_RATING_COLUMN, "rating_column");
	else if ((trainer->uses & CF_ARG_NO_RATINGS) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"rating_column\" must not be null"),
				 errhint("Only these algorithms train without a rating column: %s.",
						 algorithms_using(CF_ARG_NO_RATINGS))));
	model = cf_model_name_arg(fcinfo, ARG_MODEL);
	read_params(fcinfo, trainer, &params);
	workers = -1;				/* automatic, also when NULL */
	if (arg_given(fcinfo, ARG_WORKERS))
	{
		workers = PG_GETARG_INT32(ARG_WORKERS);
		cf_check_int_arg("workers", workers, 0, MAX_PARALLEL_WORKER_LIMIT);
	}

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	cf_check_source(&src);
	cf_lock_model(model);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "cf training",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	cf_load_ratings(&src, &data);
	if (data.skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld rows with a NULL user, item or rating",
						(long long) data.skipped)));
	if (trainer->implicit && data.min < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("rating column \"%s\" contains the negative value \"%g\"",
						src.rating_column, data.min),
				 errdetail("Algorithm \"%s\" reads each rating as an amount of feedback (a count, a duration, a weight), which cannot be negative.",
						   trainer->name),
				 errhint("Filter such rows out, for example with a view.")));
	if (params.verbose)
		ereport(NOTICE,
				(errmsg("read %lld ratings of %d users and %d items in %.3f s",
						(long long) data.n, data.nusers, data.nitems,
						cf_seconds_since(start))));

	workers = cf_parallel_workers(workers, data.n);
	footprint = cf_add_size(cf_ratings_bytes(data.n, data.nusers, data.nitems),
							trainer->bytes(&data, &params, workers));
	cf_check_memory(footprint, "training");
	if (params.verbose)
		ereport(NOTICE,
				(errmsg("training needs %zu MB of memory (maintenance_work_mem is %d MB)",
						(footprint + (1 << 20) - 1) >> 20, maintenance_work_mem / 1024)));

	log = palloc(sizeof(CfEpoch) * params.epochs);
	trainer->train(&data, &params, workers, &factors, log, &fit);
	seconds = cf_seconds_since(start);

	m.name = model;
	m.source = &src;
	m.algorithm = trainer->name;
	m.hyperparameters = hyperparameters_json(trainer, &params);
	/* implicit models score preferences: no baseline */
	m.global_mean = trainer->implicit ? 0 : data.mean;
	m.data = &data;
	m.factors = &factors;
	m.log = log;
	m.epochs = fit.epochs;
	m.loss = fit.loss;
	m.rmse = fit.rmse;
	m.seconds = seconds;
	cf_store_model(nsp, &m);

	MemoryContextSwitchTo(oldcxt);

	values[0] = CStringGetTextDatum(model);
	values[1] = Int64GetDatum(data.nusers);
	values[2] = Int64GetDatum(data.nitems);
	values[3] = Int64GetDatum(data.n);
	values[4] = Int32GetDatum(params.factors);
	values[5] = Int32GetDatum(fit.epochs);
	values[6] = Float8GetDatum(fit.loss);
	values[7] = Float8GetDatum(fit.rmse);
	values[8] = Float8GetDatum(seconds);
	MemoryContextDelete(cxt);

	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
