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

#include "load.h"
#include "model.h"
#include "parallel.h"
#include "sgd.h"
#include "train.h"
#include "util.h"

#define MAX_FACTORS 1024
#define MAX_EPOCHS 100000

PG_FUNCTION_INFO_V1(cf_train);

/* The training algorithms, by the name the algorithm argument takes. */
static const CfTrainer *const trainers[] = {
	&cf_sgd_trainer,
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

/*
 * cf_train(source regclass, user_column name, item_column name,
 *			rating_column name, model text, factors int, epochs int,
 *			learning_rate float8, regularization float8, seed bigint,
 *			verbose boolean, workers int, algorithm text) RETURNS record
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
	double		rmse;
	double		loss;
	double		seconds;
	int			workers;
	Size		footprint;

	INSTR_TIME_SET_CURRENT(start);

	cf_require_arg(fcinfo, 0, "source");
	src.relid = PG_GETARG_OID(0);
	src.user_column = name_arg(fcinfo, 1, "user_column");
	src.item_column = name_arg(fcinfo, 2, "item_column");
	src.rating_column = name_arg(fcinfo, 3, "rating_column");
	model = cf_model_name_arg(fcinfo, 4);
	cf_require_arg(fcinfo, 5, "factors");
	cf_require_arg(fcinfo, 6, "epochs");
	cf_require_arg(fcinfo, 7, "learning_rate");
	cf_require_arg(fcinfo, 8, "regularization");
	cf_require_arg(fcinfo, 9, "seed");
	cf_require_arg(fcinfo, 10, "verbose");

	/*
	 * Arguments added in 0.2.0; a backend may still run the 0.1.0
	 * declaration (before ALTER EXTENSION cf UPDATE), which passes fewer.
	 */
	trainer = &cf_sgd_trainer;
	if (PG_NARGS() > 12)
	{
		cf_require_arg(fcinfo, 12, "algorithm");
		trainer = find_trainer(text_to_cstring(PG_GETARG_TEXT_PP(12)));
	}
	params.factors = PG_GETARG_INT32(5);
	params.epochs = PG_GETARG_INT32(6);
	params.learning_rate = PG_GETARG_FLOAT8(7);
	params.regularization = PG_GETARG_FLOAT8(8);
	params.seed = PG_GETARG_INT64(9);
	params.verbose = PG_GETARG_BOOL(10);

	cf_check_int_arg("factors", params.factors, 1, MAX_FACTORS);
	cf_check_int_arg("epochs", params.epochs, 1, MAX_EPOCHS);
	cf_check_float_arg("learning_rate", params.learning_rate, 0, true, 1);
	cf_check_float_arg("regularization", params.regularization, 0, false, 1000);
	workers = -1;				/* automatic, also when NULL */
	if (PG_NARGS() > 11 && !PG_ARGISNULL(11))
	{
		workers = PG_GETARG_INT32(11);
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
	rmse = sqrt(fit.sse / data.n);
	loss = (fit.sse + params.regularization * fit.norms) / data.n;
	seconds = cf_seconds_since(start);

	m.name = model;
	m.source = &src;
	m.algorithm = trainer->name;
	m.hyperparameters = psprintf("{\"factors\": %d, \"epochs\": %d, \"learning_rate\": %s,"
								 " \"regularization\": %s, \"seed\": " INT64_FORMAT "}",
								 params.factors, params.epochs,
								 float8out_internal(params.learning_rate),
								 float8out_internal(params.regularization),
								 params.seed);
	m.data = &data;
	m.factors = &factors;
	m.log = log;
	m.epochs = fit.epochs;
	m.loss = loss;
	m.rmse = rmse;
	m.seconds = seconds;
	cf_store_model(nsp, &m);

	MemoryContextSwitchTo(oldcxt);

	values[0] = CStringGetTextDatum(model);
	values[1] = Int64GetDatum(data.nusers);
	values[2] = Int64GetDatum(data.nitems);
	values[3] = Int64GetDatum(data.n);
	values[4] = Int32GetDatum(params.factors);
	values[5] = Int32GetDatum(fit.epochs);
	values[6] = Float8GetDatum(loss);
	values[7] = Float8GetDatum(rmse);
	values[8] = Float8GetDatum(seconds);
	MemoryContextDelete(cxt);

	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
