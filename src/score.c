/*-------------------------------------------------------------------------
 *
 * score.c
 *	  Predictions and top-N recommendations from a stored model.
 *
 * A prediction is mean + b_u + b_i + p_u . q_i, clipped to the rating
 * range seen in training.  A user or item the model does not know
 * contributes no bias and no factors, so the prediction falls back to the
 * baseline terms that exist (mean + b_i for an unknown user, mean + b_u for
 * an unknown item, the mean for both).
 *
 * cf_recommend scores every item at once with one sgemv over the item
 * matrix, keeps the best n in a bounded binary heap (lib/binaryheap.h),
 * sorts them by score descending then item id ascending, and returns them
 * through a materialized tuplestore.  Scores are not clipped there, so
 * that items above the rating range still rank.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "blas.h"
#include "model.h"
#include "score.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_predict);
PG_FUNCTION_INFO_V1(cf_recommend);

/* Clip a prediction to the model's rating range. */
static double
clip(const CfModelInfo *info, double x)
{
	return Min(Max(x, info->min), info->max);
}

/*
 * cf_predict(user_id bigint, item_id bigint, model text) RETURNS float8
 */
Datum
cf_predict(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	int64		user_id = PG_GETARG_INT64(0);
	int64		item_id = PG_GETARG_INT64(1);
	char	   *model = cf_model_name_arg(fcinfo, 2);
	CfModelInfo info;
	CfUserRow	user;
	float		item_bias;
	float	   *item_factors;
	bool		have_user;
	bool		have_item;
	double		pred;

	cf_get_model(nsp, model, &info);
	item_factors = palloc(sizeof(float) * info.k);
	have_user = cf_get_user(nsp, model, info.k, user_id, &user);
	have_item = cf_get_item(nsp, model, info.k, item_id, &item_bias, item_factors);

	pred = info.mean;
	if (have_user)
		pred += user.bias;
	if (have_item)
		pred += item_bias;
	if (have_user && have_item)
		pred += cblas_sdot(info.k, user.factors, 1, item_factors, 1);

	PG_RETURN_FLOAT8(clip(&info, pred));
}

/*
 * Heap order for top-N: a is "greater" when it is the worse candidate.  A
 * NaN score (possible only from edited factor rows) is worse than any
 * number, so that the order stays total.
 */
static int
worse_first(Datum a, Datum b, void *arg)
{
	const float *scores = (const float *) arg;
	int32		x = DatumGetInt32(a);
	int32		y = DatumGetInt32(b);
	bool		xnan = isnan(scores[x]);
	bool		ynan = isnan(scores[y]);

	if (xnan != ynan)
		return xnan ? 1 : -1;
	if (!xnan && scores[x] != scores[y])
		return scores[x] < scores[y] ? 1 : -1;
	/* equal scores: the higher index (item id) is worse */
	return x > y ? 1 : (x < y ? -1 : 0);
}

/* qsort order for the final list: best first, ties by index. */
static int
best_first(const void *a, const void *b, void *arg)
{
	return worse_first(Int32GetDatum(*(const int32 *) a),
					   Int32GetDatum(*(const int32 *) b), arg);
}

/*
 * The indices of the n best scores among nitems, skipping skip[j] (if
 * skip is not NULL), best first with ties by index.  Returns the count,
 * which is less than n when fewer candidates remain.
 */
int32
cf_top_n(const float *scores, const bool *skip, int32 nitems, int32 n, int32 *out)
{
	binaryheap *heap;
	int32		count = 0;

	n = Min(n, nitems);
	if (n <= 0)
		return 0;
	heap = binaryheap_allocate(n, worse_first, (void *) scores);
	for (int32 j = 0; j < nitems; j++)
	{
		if (skip && skip[j])
			continue;
		if (heap->bh_size < n)
			binaryheap_add(heap, Int32GetDatum(j));
		else if (worse_first(Int32GetDatum(j), binaryheap_first(heap), (void *) scores) < 0)
			binaryheap_replace_first(heap, Int32GetDatum(j));
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	while (heap->bh_size > 0)
		out[count++] = DatumGetInt32(binaryheap_remove_first(heap));
	binaryheap_free(heap);
	qsort_arg(out, count, sizeof(int32), best_first, (void *) scores);
	return count;
}

/* Index of id in the ascending ids[0..n), or -1. */
static int32
find_id(const int64 *ids, int32 n, int64 id)
{
	int32		lo = 0;
	int32		hi = n - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * cf_recommend(user_id bigint, n int, model text, exclude_rated boolean)
 *		RETURNS TABLE(item_id bigint, score float8)
 */
Datum
cf_recommend(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	int32		n;
	char	   *model;
	bool		exclude_rated;
	CfModelInfo info;
	CfItemMatrix items;
	CfUserRow	user;
	bool		have_user;
	float	   *scores;
	bool	   *skip = NULL;
	int32	   *best;
	int32		count;

	cf_require_arg(fcinfo, 0, "user_id");
	cf_require_arg(fcinfo, 1, "n");
	cf_require_arg(fcinfo, 3, "exclude_rated");
	user_id = PG_GETARG_INT64(0);
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	exclude_rated = PG_GETARG_BOOL(3);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);

	cf_get_model(nsp, model, &info);
	cf_get_items(nsp, model, info.k, &items);
	have_user = cf_get_user(nsp, model, info.k, user_id, &user);

	/* scores = Q p_u + b_i + mean + b_u */
	scores = palloc_extended(cf_mul_size(Max(items.n, 1), sizeof(float)), MCXT_ALLOC_HUGE);
	if (have_user && items.n > 0)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, items.n, info.k, 1.0f,
					items.Q, info.k, user.factors, 1, 0.0f, scores, 1);
	else
		memset(scores, 0, sizeof(float) * items.n);
	for (int32 j = 0; j < items.n; j++)
		scores[j] += (float) (info.mean + (have_user ? user.bias : 0)) + items.bias[j];

	if (have_user && exclude_rated && user.nrated > 0)
	{
		skip = palloc_extended(Max(items.n, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int j = 0; j < user.nrated; j++)
		{
			int32		idx = find_id(items.ids, items.n, user.rated[j]);

			if (idx >= 0)
				skip[idx] = true;
		}
	}

	best = palloc_extended(cf_mul_size(Max(Min(n, items.n), 1), sizeof(int32)), MCXT_ALLOC_HUGE);
	count = cf_top_n(scores, skip, items.n, n, best);
	for (int32 j = 0; j < count; j++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(items.ids[best[j]]);
		values[1] = Float8GetDatum(scores[best[j]]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
