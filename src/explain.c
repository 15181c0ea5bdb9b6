/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  cf_explain: which items of a user's history contribute most to the
 *	  score of a target item.
 *
 * For models trained by SGD a learned user vector is not a closed-form
 * function of the rated items, so the explanation is by similarity (the
 * "because you rated X" of item-based recommenders, Sarwar et al. 2001):
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
 * positive terms and their shares of the positive total, as above.  Each
 * algorithm's descriptor names its explanation (CfAlgorithm.explain).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "algorithm.h"
#include "blas.h"
#include "cache.h"
#include "foldin.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "solve.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_explain);

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

		int32		i = top->key[j];

		values[0] = cf_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, items->item_type,
								 items->ids[i], items->keys ? items->keys[i] : NULL,
								 items->name, "item");
		values[1] = Float8GetDatum(cf_float4_double(similarity ? similarity[j] : top->score[j]));
		values[2] = Float8GetDatum(cf_float4_double(top->score[j] / total));
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
			   const CfFoldUser *user, Datum user_value, int64 item_id, const char *item_text,
			   int32 n)
{
	CfSource	src;
	CfRatings	data;
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

	cf_load_model_source(nsp, model, info, cf_id_value_array(user_value, info->user_type),
						 &src, &data);
	items = cf_items_acquire(nsp, model, info);
	i = cf_item_index(items, item_id);
	if (i < 0)
		cf_unknown_item(item_text, model);

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
	cf_fold_system(items, info, model, "cf_explain", user, idx, r, nknown, &sys);

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
	model = cf_model_name_arg(fcinfo, 2);
	n = PG_GETARG_INT32(3);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	if (!cf_lookup_user_arg(nsp, model, &info, CF_USER_RATED, fcinfo, 0, &user_id, &user))
		cf_unknown_user(cf_id_arg_text(fcinfo, 0), model);
	item_id = cf_id_arg(fcinfo, 1, info.item_type, model, "item");
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.item_type,
						model, "item");
	if (explain_kind(&info) == CF_EXPLAIN_LINEAR)
	{
		CfFoldUser	who = {user_id,
			cf_is_integer_id_type(info.user_type) ? NULL : cf_id_arg_text(fcinfo, 0)};

		explain_linear(rsinfo, nsp, model, &info, &who,
					   cf_id_arg_value(fcinfo, 0, info.user_type, model, "user"),
					   item_id, cf_id_arg_text(fcinfo, 1), n);
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
		cf_unknown_item(cf_id_arg_text(fcinfo, 1), model);
	qi = items->Q + (Size) i * items->k;
	rated = cf_item_indices(items, user.rated, user.nrated, &nrated);

	cf_topn_init(&top, n);
	for (int32 j = 0; j < nrated; j++)
	{
		int32		r = rated[j];
		float		cosine;

		if (r == i)
			continue;
		cosine = cf_cosine_of(items->Q + (Size) r * items->k, qi, items->k);
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
