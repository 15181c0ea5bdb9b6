/*-------------------------------------------------------------------------
 *
 * similar.c
 *	  Similar items, similar users, and explanations of a score.
 *
 * Similarity is the cosine of the factor vectors, cos(a, b) = a.b / (|a||b|)
 * (0 when either vector is zero); the item or user itself is left out.
 *
 * cf_similar_items scores every item with one sgemv over the cached item
 * matrix, scaled by the inverse norms the cache keeps.  cf_similar_users
 * streams the model's user rows once through a DestReceiver (users are not
 * cached: cf_refresh_users may change them without a new version), one dot
 * product per user.
 *
 * cf_explain: which items of the user's history contribute most to the
 * score of a target item.  For models trained by SGD a learned user
 * vector is not a closed-form function of the rated items, so the
 * explanation is by similarity (the "because you rated X" of item-based
 * recommenders, Sarwar et al. 2001):
 *
 *		s_j = cos(q_j, q_i)  for each item j the user rated (j != i)
 *		share_j = max(s_j, 0) / sum over rated j' of max(s_j', 0)
 *
 * Items with s_j <= 0 do not support the recommendation and are not
 * listed; the shares of all supporting items sum to 1 (those shown, at
 * most n, to 1 or less).  ALS and iALS models get the exact decomposition
 * their closed-form user vectors allow (explain_linear below; Hu, Koren &
 * Volinsky 2008, section 5; implicit's explain): with W_u the inverse of
 * the user's regularized normal matrix, the score is sum_j c_uj
 * (a_i^T W_u a_j), one term per history item; the rows are the items with
 * positive terms and their shares of the positive total, as above.
 * explain_kind() maps an algorithm to its explanation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "algorithm.h"
#include "blas.h"
#include "cache.h"
#include "foldin.h"
#include "model.h"
#include "score.h"
#include "solve.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_similar_items);
PG_FUNCTION_INFO_V1(cf_similar_users);
PG_FUNCTION_INFO_V1(cf_explain);

/* Error for an item id the model does not have. */
static void
unknown_item(int64 item_id, const char *model)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("item \"%lld\" is not in model \"%s\"", (long long) item_id, model)));
}

/* Error for a user id the model does not have. */
static void
unknown_user(int64 user_id, const char *model)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("user \"%lld\" is not in model \"%s\"", (long long) user_id, model)));
}

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
 * The cosine of two vectors from their dot product and squared norms, in
 * double precision: 0 if either is zero, clamped to [-1, 1] (rounding can
 * pass it), then rounded to the single precision of the stored factors, so
 * that vectors of one direction tie exactly (and then come by id).
 */
static float
cosine_from(double dot, double ssa, double ssb)
{
	double		c;

	if (!(ssa > 0 && ssb > 0))
		return 0.0f;
	c = dot / (sqrt(ssa) * sqrt(ssb));
	return (float) Max(-1.0, Min(1.0, c));
}

/* The cosine of two k-vectors (cosine_from). */
static float
cosine_of(const float *a, const float *b, int k)
{
	double		dot = 0;
	double		ssa = 0;
	double		ssb = 0;

	for (int c = 0; c < k; c++)
	{
		dot += (double) a[c] * b[c];
		ssa += (double) a[c] * a[c];
		ssb += (double) b[c] * b[c];
	}
	return cosine_from(dot, ssa, ssb);
}

/* Emit (id, value) rows of a sorted selection; ids through a table if given. */
static void
emit_pairs(ReturnSetInfo *rsinfo, const CfTopN *t, const int64 *ids)
{
	for (int32 j = 0; j < t->size; j++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(ids ? ids[t->key[j]] : t->key[j]);
		values[1] = Float8GetDatum(t->score[j]);
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
	item_id = PG_GETARG_INT64(0);
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	require_factors(&info, model);
	items = cf_items_acquire(nsp, model, &info);
	i = cf_item_index(items, item_id);
	if (i < 0)
		unknown_item(item_id, model);

	/* the cosine with every other item, in double precision */
	cf_topn_init(&top, Min(n, items->n - 1));
	for (int32 j = 0; j < items->n; j++)
	{
		if (j != i)
			cf_topn_add(&top, cosine_of(items->Q + (Size) j * items->k,
										items->Q + (Size) i * items->k, items->k), j);
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	cf_topn_sort(&top);
	emit_pairs(rsinfo, &top, items->ids);
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
	int64		id;
	double		dot = 0;
	double		ss = 0;

	slot_getsomeattrs(slot, 3);
	if (slot->tts_isnull[0] || slot->tts_isnull[2])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model has a NULL in a user row")));
	id = DatumGetInt64(slot->tts_values[0]);
	if (id == u->target)
		return true;
	oldcxt = MemoryContextSwitchTo(u->rowcxt);
	cf_copy_array(slot->tts_values[2], FLOAT4OID, sizeof(float), u->k, u->row, NULL,
				  "user factor vector");
	MemoryContextSwitchTo(oldcxt);
	cf_check_stored_row("user", id, u->model, u->row, u->k, NULL);
	for (int c = 0; c < u->k; c++)
	{
		dot += (double) u->row[c] * u->p[c];
		ss += (double) u->row[c] * u->row[c];
	}
	cf_topn_add(u->top, cosine_from(dot, ss, u->ss), id);
	if ((++u->seen & 1023) == 0)
	{
		MemoryContextReset(u->rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
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
	user_id = PG_GETARG_INT64(0);
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	if (!cf_lookup(nsp, model, &info, CF_USER_FACTORS, user_id, &user))
		unknown_user(user_id, model);
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
	emit_pairs(rsinfo, &top, NULL);
	return (Datum) 0;
}

/* The explanation of a model's algorithm (CfAlgorithm.explain); error if none. */
static CfExplainKind
explain_kind(const CfModelInfo *info)
{
	CfExplainKind kind = info->alg ? info->alg->explain : CF_EXPLAIN_UNSUPPORTED;

	if (kind == CF_EXPLAIN_UNSUPPORTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cf_explain does not support models trained with algorithm \"%s\"",
						info->algorithm),
				 errdetail("Explanations exist for the algorithms %s.",
						   cf_algorithm_list(cf_algorithm_explains, 0, CF_LIST_QUOTED_AND))));
	return kind;
}

/* Emit the kept (item, similarity) rows with share = contribution / total. */
static void
emit_explanation(ReturnSetInfo *rsinfo, const CfItems *items, const CfTopN *top,
				 const float *similarity, double total)
{
	for (int32 j = 0; j < top->size; j++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum(items->ids[top->key[j]]);
		values[1] = Float8GetDatum(similarity ? similarity[j] : top->score[j]);
		values[2] = Float8GetDatum(top->score[j] / total);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * The linear explanation of ALS and iALS models (Hu, Koren & Volinsky
 * 2008, section 5; the explain of the implicit library): the user's
 * vector is the solution of the fold-in system (foldin.h), x = W b with
 * W = (G + lambda I)^-1 and b = sum_j coef_j a_j, so the user's part of
 * the score of item i, a_i^T x (a_i = (1, q_i) with the user bias for
 * ALS, y_i for iALS), is the sum over the history items j of
 *
 *		contribution_j = coef_j s_ij,	s_ij = a_i^T W a_j
 *
 * s_ij is the similarity of i and j as the user's history weighs them;
 * coef_j is r_j - mu - b_j (ALS) or the confidence 1 + alpha r_j (iALS).
 * The history is the user's current rows in the model's source, as
 * cf_refresh_users would re-solve them; for a user whose rows did not
 * change since training and a model trained with the Cholesky solver the
 * terms add up to the stored score (less mu + b_i for ALS).
 */
static void
explain_linear(ReturnSetInfo *rsinfo, Oid nsp, const char *model, CfModelInfo *info,
			   int64 user_id, int64 item_id, int32 n)
{
	CfSource	src;
	CfRatings	data;
	Datum		uid = Int64GetDatum(user_id);
	CfItems    *items;
	int32		i;
	int32	   *idx;
	float	   *r;
	int32		nknown = 0;
	CfFoldSystem sys;
	float	   *z;
	CfTopN		top;
	double		total = 0;
	float	   *sim;

	cf_load_model_source(nsp, model,
						 PointerGetDatum(construct_array(&uid, 1, INT8OID, sizeof(int64),
														 true, TYPALIGN_DOUBLE)),
						 &src, &data);
	items = cf_items_acquire(nsp, model, info);
	i = cf_item_index(items, item_id);
	if (i < 0)
		unknown_item(item_id, model);

	idx = palloc((data.n + 1) * sizeof(int32));
	r = palloc((data.n + 1) * sizeof(float));
	for (int64 x = 0; x < data.n; x++)
	{
		int32		j = cf_item_index(items, data.item_ids[data.r[x].item]);

		if (j >= 0)
		{
			idx[nknown] = j;
			r[nknown++] = data.r[x].rating;
		}
	}
	if (nknown == 0)
	{
		cf_items_release(items);
		return;
	}
	cf_fold_system(items, info, model, "cf_explain", &user_id, idx, r, nknown, &sys);

	/* z = W a_i */
	z = palloc(sizeof(float) * sys.d);
	if (sys.bias >= 0)
	{
		z[0] = 1.0f;
		memcpy(z + 1, items->Q + (Size) i * items->k, sizeof(float) * items->k);
	}
	else
		memcpy(z, items->Q + (Size) i * items->k, sizeof(float) * items->k);
	cf_cholesky_solve(sys.U, sys.d, z);

	/* one term per history item (an item rated twice: its terms added) */
	cf_topn_init(&top, n);
	sim = palloc(sizeof(float) * (sys.n + 1));
	for (int32 j = 0; j < sys.n;)
	{
		int32		item = sys.idx[j];
		double		s = cblas_sdot(sys.d, sys.A + (Size) j * sys.d, 1, z, 1);
		double		contribution = 0;

		for (; j < sys.n && sys.idx[j] == item; j++)
			contribution += sys.coef[j] * s;
		if (item != i && contribution > 0)
		{
			total += contribution;
			cf_topn_add(&top, (float) contribution, item);
		}
	}
	cf_topn_sort(&top);
	for (int32 j = 0; j < top.size; j++)
	{
		float	   *a = NULL;

		/* the similarity of a kept item, from its first entry */
		for (int32 e = 0; e < sys.n && a == NULL; e++)
			if (sys.idx[e] == top.key[j])
				a = sys.A + (Size) e * sys.d;
		sim[j] = cblas_sdot(sys.d, a, 1, z, 1);
	}
	emit_explanation(rsinfo, items, &top, sim, total);
	cf_items_release(items);
}

/*
 * cf_explain(user_id bigint, item_id bigint, model text, n int)
 *		RETURNS TABLE(rated_item_id bigint, similarity float8, share float8)
 */
Datum
cf_explain(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int64		item_id;
	char	   *model;
	int32		n;
	CfModelInfo info;
	CfUserRow	user;
	CfItems    *items;
	Datum	   *ids;
	int32	   *rated;
	int32		nrated;
	int32		i;
	const float *qi;
	double		total = 0;
	CfTopN		top;

	cf_require_arg(fcinfo, 0, "user_id");
	cf_require_arg(fcinfo, 1, "item_id");
	cf_require_arg(fcinfo, 3, "n");
	user_id = PG_GETARG_INT64(0);
	item_id = PG_GETARG_INT64(1);
	model = cf_model_name_arg(fcinfo, 2);
	n = PG_GETARG_INT32(3);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	if (!cf_lookup(nsp, model, &info, CF_USER_RATED, user_id, &user))
		unknown_user(user_id, model);
	if (explain_kind(&info) == CF_EXPLAIN_LINEAR)
	{
		explain_linear(rsinfo, nsp, model, &info, user_id, item_id, n);
		return (Datum) 0;
	}

	/* the target and the rated items (all a model too large to cache reads) */
	ids = palloc((user.nrated + 1) * sizeof(Datum));
	ids[0] = Int64GetDatum(item_id);
	for (int j = 0; j < user.nrated; j++)
		ids[j + 1] = Int64GetDatum(user.rated[j]);
	items = cf_items_acquire_some(nsp, model, &info,
								  PointerGetDatum(construct_array(ids, user.nrated + 1, INT8OID,
																  sizeof(int64), true,
																  TYPALIGN_DOUBLE)));
	i = cf_item_index(items, item_id);
	if (i < 0)
		unknown_item(item_id, model);
	qi = items->Q + (Size) i * items->k;
	rated = cf_item_indices(items, user.rated, user.nrated, &nrated);

	cf_topn_init(&top, n);
	for (int32 j = 0; j < nrated; j++)
	{
		int32		r = rated[j];
		float		cosine;

		if (r == i)
			continue;
		cosine = cosine_of(items->Q + (Size) r * items->k, qi, items->k);
		if (cosine > 0)
		{
			total += cosine;
			cf_topn_add(&top, cosine, r);
		}
	}
	cf_topn_sort(&top);
	emit_explanation(rsinfo, items, &top, NULL, total);
	cf_items_release(items);
	return (Datum) 0;
}
