/*-------------------------------------------------------------------------
 *
 * similar.c
 *	  Similar items and similar users.
 *
 * Similarity is the cosine of the factor vectors, cos(a, b) = a.b / (|a||b|)
 * (0 when either vector is zero; cf_cosine, in double precision); the item
 * or user itself is left out.
 *
 * cf_similar_items scores every item of the cached item matrix against the
 * target.  cf_similar_users streams the model's user rows once through a
 * DestReceiver (users are not cached: cf_refresh_users may change them
 * without a new version), one dot product per user.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "cache.h"
#include "citus.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_similar_items);
PG_FUNCTION_INFO_V1(cf_similar_users);

/* Error for a model without factor vectors (baseline, popular). */
static void
require_factors(const CfModelInfo *info, const char *model)
{
	if (info->k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" has no factor vectors", model),
				 errdetail("Similarity is the cosine of factor vectors, and models trained with algorithm \"%s\" have none.",
						   info->algorithm)));
}

/*
 * Emit (id, value) rows of a sorted selection: ids (and keys, for typed
 * ids) through tables if given, else the keys are indices into keys.
 */
static void
emit_pairs(ReturnSetInfo *rsinfo, const CfTopN *t, const int64 *ids, char **keys,
		   Oid model_type, const char *model, const char *role)
{
	Oid			result_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;

	for (int32 j = 0; j < t->size; j++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int64		key = t->key[j];

		values[0] = cf_id_result(result_type, model_type, ids ? ids[key] : key,
								 keys ? keys[ids ? key : j] : NULL, model, role);
		values[1] = Float8GetDatum(cf_float4_double(t->score[j]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * cf_similar_items(item_id bigint, n int, model text)
 *		RETURNS TABLE(similar_item_id bigint, similarity float8)
 */
Datum
cf_similar_items(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		item_id;
	int32		n;
	char	   *model;
	CfModelInfo info;
	CfItems    *items;
	CfTopN		top;
	int32		i;

	cf_require_arg(fcinfo, 0, "item_id");
	cf_require_arg(fcinfo, 1, "n");
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	item_id = cf_id_arg(fcinfo, 0, info.item_type, model, "item");
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.item_type,
						model, "item");
	require_factors(&info, model);
	items = cf_items_acquire(nsp, model, &info);
	i = cf_item_index(items, item_id);
	if (i < 0)
		cf_unknown_item(cf_id_arg_text(fcinfo, 0), model);

	/* the cosine with every other item, in double precision */
	cf_topn_init(&top, Min(n, items->n - 1));
	for (int32 j = 0; j < items->n; j++)
	{
		if (j != i)
			cf_topn_add(&top, cf_cosine_of(items->Q + (Size) j * items->k,
										items->Q + (Size) i * items->k, items->k), j);
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	cf_topn_sort(&top);
	emit_pairs(rsinfo, &top, items->ids, items->keys, info.item_type, model, "item");
	cf_items_release(items);
	return (Datum) 0;
}

/*
 * The user scan of cf_similar_users: a DestReceiver that scores each user
 * row against the target as it streams by.
 */
typedef struct UserScan
{
	DestReceiver pub;
	int64		target;
	const char *model;
	const float *p;				/* the target's factors */
	double		ss;				/* |p|^2 */
	int			k;
	float	   *row;			/* k: the current row's factors */
	CfTopN	   *top;
	MemoryContext rowcxt;
	int64		seen;
} UserScan;

/* Score one user row. */
static bool
userscan_receive(TupleTableSlot *slot, DestReceiver *self)
{
	UserScan   *u = (UserScan *) self;
	MemoryContext oldcxt;
	CfUserRow	row;
	double		dot = 0;
	double		ss = 0;

	slot_getsomeattrs(slot, 3);
	if (!slot->tts_isnull[0] && DatumGetInt64(slot->tts_values[0]) == u->target)
		return true;
	oldcxt = MemoryContextSwitchTo(u->rowcxt);
	row.factors = u->row;
	cf_read_user_row(slot->tts_values, slot->tts_isnull, false, u->k, u->model, &row);
	MemoryContextSwitchTo(oldcxt);
	for (int c = 0; c < u->k; c++)
	{
		dot += (double) u->row[c] * u->p[c];
		ss += (double) u->row[c] * u->row[c];
	}
	cf_topn_add(u->top, cf_cosine(dot, ss, u->ss), row.id);
	if ((++u->seen & 1023) == 0)
	{
		MemoryContextReset(u->rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * The keys of the users a sorted selection holds (by user id), in its
 * order; NULL for integer ids.
 */
static char **
user_keys(Oid nsp, const char *model, const CfModelInfo *info, const CfTopN *top)
{
	MemoryContext outer = CurrentMemoryContext;
	int64	   *ids;
	char	  **keys;
	Datum		args[2];
	int			ret;

	if (cf_is_integer_id_type(info->user_type) || top->size == 0)
		return NULL;
	ids = palloc(top->size * sizeof(int64));
	for (int32 j = 0; j < top->size; j++)
		ids[j] = top->key[j];
	keys = palloc0(top->size * sizeof(char *));
	args[0] = CStringGetTextDatum(model);
	args[1] = cf_int8_array(ids, top->size);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_plan(cf_query_plan(nsp, CF_Q_SOME_USERS), args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the users of model \"%s\" failed: %s", model,
			 SPI_result_code_string(ret));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													 SPI_tuptable->tupdesc, 1, &isnull));
		Datum		key = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 5, &isnull);

		for (int32 j = 0; j < top->size; j++)
			if (ids[j] == id && !isnull)
				keys[j] = MemoryContextStrdup(outer, TextDatumGetCString(key));
	}
	SPI_finish();
	return keys;
}

/*
 * cf_similar_users(user_id bigint, n int, model text)
 *		RETURNS TABLE(similar_user_id bigint, similarity float8)
 */
Datum
cf_similar_users(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int32		n;
	char	   *model;
	CfModelInfo info;
	CfUserRow	user;
	CfTopN		top;
	UserScan	scan;
	SPIExecuteOptions options;
	ParamListInfo params;
	double		ss = 0;
	int			ret;

	cf_require_arg(fcinfo, 0, "user_id");
	cf_require_arg(fcinfo, 1, "n");
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	if (!cf_lookup_user_arg(nsp, model, &info, CF_USER_FACTORS, fcinfo, 0, &user_id, &user))
		cf_unknown_user(cf_id_arg_text(fcinfo, 0), model);
	cf_require_local_users(&info, model, "cf_similar_users");
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.user_type,
						model, "user");
	require_factors(&info, model);
	for (int c = 0; c < info.k; c++)
		ss += (double) user.factors[c] * user.factors[c];

	cf_topn_init(&top, n);
	memset(&scan, 0, sizeof(scan));
	cf_init_receiver(&scan.pub, userscan_receive);
	scan.target = user_id;
	scan.model = model;
	scan.p = user.factors;
	scan.ss = ss;
	scan.k = info.k;
	scan.row = palloc(info.k * sizeof(float));
	scan.top = &top;
	scan.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "cf user rows",
										ALLOCSET_SMALL_SIZES);

	params = makeParamList(1);
	params->numParams = 1;
	params->params[0].value = CStringGetTextDatum(model);
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = TEXTOID;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = &scan.pub;
	ret = SPI_execute_plan_extended(cf_query_plan(nsp, CF_Q_USERS), &options);
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading the users of model \"%s\" failed: %s", model,
			 SPI_result_code_string(ret));
	SPI_finish();
	MemoryContextDelete(scan.rowcxt);

	cf_topn_sort(&top);
	emit_pairs(rsinfo, &top, NULL, user_keys(nsp, model, &info, &top), info.user_type, model,
			   "user");
	return (Datum) 0;
}
