/*-------------------------------------------------------------------------
 *
 * train.c
 *	  cf_train(): read a ratings relation, train a model, store it.
 *
 * The steps run in the caller's transaction, in this order: check the
 * arguments and the source's columns; take the model name's lock and check
 * that the caller may replace the model (model.c); load
 * the ratings (load.c); check the memory budget; train (sgd.c); measure
 * the final model's training RMSE; replace the stored model (model.c).
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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "load.h"
#include "model.h"
#include "sgd.h"
#include "util.h"

#define MAX_FACTORS 1024
#define MAX_EPOCHS 100000

PG_FUNCTION_INFO_V1(cf_train);

/* Exact training RMSE and loss of a trained model over its ratings. */
static void
final_fit(const CfRatings *data, const CfFactors *f, double regularization,
		  double *rmse, double *loss)
{
	int			k = f->k;
	double		sse = 0;
	double		reg = 0;

	for (int64 j = 0; j < data->n; j++)
	{
		const CfRating *r = &data->r[j];
		const float *p = f->P + (Size) r->user * f->stride;
		const float *q = f->Q + (Size) r->item * f->stride;
		double		pred = data->mean + f->user_bias[r->user] + f->item_bias[r->item];
		double		norms = (double) f->user_bias[r->user] * f->user_bias[r->user] +
			(double) f->item_bias[r->item] * f->item_bias[r->item];
		float		dot = 0;

		for (int c = 0; c < k; c++)
		{
			dot += p[c] * q[c];
			norms += (double) p[c] * p[c] + (double) q[c] * q[c];
		}
		pred += dot;
		sse += (pred - r->rating) * (pred - r->rating);
		reg += norms;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*rmse = sqrt(sse / data->n);
	*loss = (sse + regularization * reg) / data->n;
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
 *			verbose boolean) RETURNS record
 */
Datum
cf_train(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	CfSource	src;
	CfSgdParams params;
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

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	cf_check_source(&src);
	cf_lock_model(model);
	cf_check_replace(nsp, model);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "cf training",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	cf_load_ratings(&src, &data);
	if (data.skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld rows with a NULL user, item or rating",
						(long long) data.skipped)));

	cf_check_memory(cf_add_size(cf_ratings_bytes(data.n, data.nusers, data.nitems),
								cf_sgd_bytes(&data, &params)),
					"training");

	log = palloc(sizeof(CfEpoch) * params.epochs);
	cf_sgd_train(&data, &params, &factors, log);
	final_fit(&data, &factors, params.regularization, &rmse, &loss);
	seconds = cf_seconds_since(start);

	m.name = model;
	m.source = &src;
	m.algorithm = "sgd";
	m.hyperparameters = psprintf("{\"factors\": %d, \"epochs\": %d, \"learning_rate\": %s,"
								 " \"regularization\": %s, \"seed\": " INT64_FORMAT "}",
								 params.factors, params.epochs,
								 float8out_internal(params.learning_rate),
								 float8out_internal(params.regularization),
								 params.seed);
	m.data = &data;
	m.factors = &factors;
	m.log = log;
	m.epochs = params.epochs;
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
	values[5] = Int32GetDatum(params.epochs);
	values[6] = Float8GetDatum(loss);
	values[7] = Float8GetDatum(rmse);
	values[8] = Float8GetDatum(seconds);
	MemoryContextDelete(cxt);

	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
