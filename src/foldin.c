/*-------------------------------------------------------------------------
 *
 * foldin.c
 *	  New and changed users without retraining: cf_recommend_for_ratings
 *	  and cf_refresh_users.
 *
 * Folding a user in holds the item side of a trained model fixed and
 * solves the user's own bias and vector from the user's ratings, exactly
 * the user half-step of ALS (Zhou et al. 2008).  For the biased explicit
 * model of SGD and ALS, r(u,i) = mu + b_u + b_i + p_u . q_i, with the
 * regularization of the training objective (lambda per observed rating,
 * Koren, Bell & Volinsky 2009, eq. 5, the "weighted-lambda" of ALS-WR):
 *
 *		min  sum_j (r_j - mu - b_j - b_u - p_u . q_j)^2
 *			 + lambda n_u (b_u^2 + |p_u|^2)
 *
 * over the user's n_u ratings of items the model knows: a ridge
 * regression with rows a_j = (1, q_j), targets r_j - mu - b_j and ridge
 * lambda n_u (solve.c).  lambda is the model's own, from
 * cf_models.hyperparameters.  Ratings of items the model does not know
 * carry no information about the fixed item side and are left out.
 *
 * With the regularization exponent nu of an ALS model the ridge is
 * lambda n_u^nu (SGD models record none: nu = 1, per rating).
 *
 * The baseline model (biases only, baseline.c) folds a user in under its
 * own objective, lambda per bias: b_u = sum_j (r_j - mu - b_j) / (lambda +
 * n_u).  A popularity model has no user part: a folded-in user gets bias 0
 * and the popular items (leaving out what the user rated).
 *
 * Implicit-feedback models (iALS, Hu, Koren & Volinsky 2008) solve the
 * user half-step of iALS instead:
 *
 *		(Y^T Y + sum_j alpha r_j y_j y_j^T + lambda_u I) x = sum_j (1 + alpha r_j) y_j
 *
 * with the ratings of an item summed (amounts of feedback; negative ones
 * are an error), lambda_u = lambda (|I| + alpha sum_j r_j)^nu, and the
 * Gramian Y^T Y of all items computed once per cached model (cache.c).
 * Their scores are x . y_i alone (no mean, no biases, not clipped:
 * CfAlgorithm.predicts_ratings); a user without feedback gets no rows
 * (CfAlgorithm.has_biases).
 * Each algorithm's descriptor names its fold-in (CfAlgorithm.fold); an
 * algorithm without one is refused with a clear error.  cf_fold_system() builds and factors the
 * system of the explicit and implicit kinds; cf_explain (explain.c)
 * decomposes scores with it.
 *
 * cf_refresh_users re-solves stored users from the current rows of the
 * model's source (read as the caller, like training; every row one event
 * of rating 1 for a model trained without a rating column), and writes their
 * rows in the caller's transaction.  It takes the model's training lock
 * first, so it runs strictly before or after any training of the model,
 * and reads everything in a snapshot taken after the lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "access.h"
#include "algorithm.h"
#include "cache.h"
#include "citus.h"
#include "foldin.h"
#include "load.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "solve.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_recommend_for_ratings);
PG_FUNCTION_INFO_V1(cf_refresh_users);

/* The fold-in of a model's algorithm (CfAlgorithm.fold); error if it has none. */
static CfFoldKind
fold_kind(const CfModelInfo *info, const char *function)
{
	CfFoldKind	kind = info->alg ? info->alg->fold : CF_FOLD_UNSUPPORTED;

	if (kind == CF_FOLD_UNSUPPORTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support models trained with algorithm \"%s\"",
						function, info->algorithm),
				 errdetail("Users can be folded into models trained with the algorithms %s.",
						   cf_algorithm_list(cf_algorithm_folds, 0, CF_LIST_QUOTED_AND))));
	return kind;
}

/* A setting the fold-in needs; error if cf_models does not record it. */
static double
fold_setting(double value, const char *name, const char *model)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" does not record its %s", model, name),
				 errdetail("cf_models.hyperparameters has no non-negative number under \"%s\".",
						   name)));
	return value;
}

/*
 * Check that the model has a fold-in and records the settings it needs;
 * returns its kind.
 */
static CfFoldKind
fold_check(const CfModelInfo *info, const char *model, const char *function)
{
	CfFoldKind	kind = fold_kind(info, function);

	if (kind != CF_FOLD_NONE)
		(void) fold_setting(info->regularization, "regularization", model);
	if (kind == CF_FOLD_IMPLICIT)
	{
		(void) fold_setting(info->alpha, "alpha", model);
		(void) fold_setting(info->regularization_exponent, "regularization_exponent", model);
	}
	return kind;
}

/* qsort order of (index, rating) pairs by index. */
static int
cmp_entry(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

typedef struct FoldEntry
{
	int32		idx;
	float		r;
} FoldEntry;

/* Whether the n floats at v are all finite. */
static bool
all_finite(const float *v, int n)
{
	for (int c = 0; c < n; c++)
		if (!isfinite(v[c]))
			return false;
	return true;
}

/* An item of the model as its id reads in messages: its text for typed ids. */
static const char *
item_text(const CfItems *items, int32 i)
{
	return items->keys ? items->keys[i] : psprintf(INT64_FORMAT, items->ids[i]);
}

/*
 * Error out on a user's system or folded-in vector that is not finite
 * (user: whose ratings, NULL when they were given): ratings far beyond the
 * model's scale overflow the float sums.
 */
static void
fold_overflow(const char *model, const CfFoldUser *user, const float *r, int32 n)
{
	double		largest = 0;

	for (int32 j = 0; j < n; j++)
		largest = Max(largest, fabs(r[j]));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("folded-in user vector of model \"%s\" is not finite", model),
			 user ?
			 errdetail("The ratings of user %s, up to %g in absolute value, are too large for the model's scale.",
					   user->key ? user->key : psprintf(INT64_FORMAT, user->id), largest) :
			 errdetail("The ratings, up to %g in absolute value, are too large for the model's scale.",
					   largest),
			 errhint("Check the ratings for values far outside the range the model was trained on.")));
}

/*
 * Build and factor a user's system against the model's items (see
 * foldin.h).  Explicit models regularize with lambda n^nu (n ratings; nu
 * from the model, 1 for SGD's per-rating regularization), implicit ones
 * with lambda (|I| + alpha sum_j r_j)^nu, as in training (als.c).
 */
void
cf_fold_system(CfItems *items, const CfModelInfo *info, const char *model,
			   const char *function, const CfFoldUser *user, const int32 *idx,
			   const float *r, int32 n, CfFoldSystem *sys)
{
	CfFoldKind	kind = fold_kind(info, function);
	double		lambda = fold_setting(info->regularization, "regularization", model);
	int			k = items->k;
	int			d = kind == CF_FOLD_EXPLICIT ? k + 1 : k;
	float	   *G;
	double		ridge;

	if (kind != CF_FOLD_EXPLICIT && kind != CF_FOLD_IMPLICIT)
		elog(ERROR, "no fold-in system for algorithm \"%s\"", info->algorithm);
	sys->d = d;
	sys->bias = kind == CF_FOLD_EXPLICIT ? 0 : -1;
	sys->idx = cf_palloc_huge_array(int32, n);
	sys->coef = cf_palloc_huge_array(float, n);
	sys->A = cf_palloc_huge_array(float, cf_mul_size(Max(n, 1), d));
	sys->U = palloc(sizeof(float) * d * d);
	sys->b = palloc0(sizeof(float) * d);
	G = palloc0(sizeof(float) * d * d);

	if (kind == CF_FOLD_EXPLICIT)
	{
		double		nu = isnan(info->regularization_exponent) ? 1 : info->regularization_exponent;

		for (int32 j = 0; j < n; j++)
		{
			float	   *a = sys->A + (Size) j * d;

			a[0] = 1.0f;
			memcpy(a + 1, items->Q + (Size) idx[j] * k, sizeof(float) * k);
			sys->idx[j] = idx[j];
			sys->coef[j] = (float) (r[j] - info->mean - items->bias[idx[j]]);
		}
		sys->n = n;
		cf_gram_add(G, sys->A, n, d, d);
		ridge = n > 0 ? lambda * pow(n, nu) : lambda;
	}
	else
	{
		double		alpha = fold_setting(info->alpha, "alpha", model);
		double		nu = fold_setting(info->regularization_exponent, "regularization_exponent",
									  model);
		FoldEntry  *e = palloc(sizeof(FoldEntry) * Max(n, 1));
		float	   *scaled = palloc(sizeof(float) * d);
		double		total = 0;
		int32		m = 0;

		/* one entry per item, its ratings summed */
		for (int32 j = 0; j < n; j++)
		{
			if (r[j] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("the ratings of model \"%s\" cannot be negative", model),
						 errdetail("The model was trained by algorithm \"%s\", which reads a rating as an amount of feedback; %g was given for item %s.",
								   info->algorithm, r[j], item_text(items, idx[j]))));
			e[j].idx = idx[j];
			e[j].r = r[j];
		}
		qsort(e, n, sizeof(FoldEntry), cmp_entry);
		for (int32 j = 0; j < n;)
		{
			double		sum = 0;
			int32		i = e[j].idx;

			for (; j < n && e[j].idx == i; j++)
				sum += e[j].r;
			if (sum <= 0)
				continue;
			sys->idx[m] = i;
			sys->coef[m] = (float) (1 + alpha * sum);
			memcpy(sys->A + (Size) m * d, items->Q + (Size) i * k, sizeof(float) * k);
			/* G += alpha r y y^T, one rank-one term at a time */
			for (int c = 0; c < d; c++)
				scaled[c] = sys->A[(Size) m * d + c] * (float) sqrt(alpha * sum);
			cf_gram_add(G, scaled, 1, d, d);
			total += sum;
			m++;
		}
		sys->n = m;
		{
			const float *gram = cf_items_gram(items);

			for (int c = 0; c < d * d; c++)
				G[c] += gram[c];
		}
		ridge = lambda * pow(items->n + alpha * total, nu);
		pfree(e);
		pfree(scaled);
	}
	cf_rhs_add(sys->b, sys->A, sys->n, d, d, sys->coef);
	if (!all_finite(G, d * d) || !all_finite(sys->b, d))
		fold_overflow(model, user, r, n);
	if (!cf_cholesky_factor(G, d, ridge, sys->U))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot solve for the user's vector: the system is singular")));
	pfree(G);
}

/* x := the solution of a factored system. */
void
cf_fold_solve(const CfFoldSystem *sys, float *x)
{
	memcpy(x, sys->b, sizeof(float) * sys->d);
	cf_cholesky_solve(sys->U, sys->d, x);
}

/*
 * Fold a user in by the model's kind (fold_check): bias (0 for implicit
 * models) and factors (k) from n ratings r of the items with indices idx.
 * No ratings: bias and factors 0 (for explicit models the baseline; for
 * implicit ones the solution, which is 0 too).  user: whose ratings they
 * are, for errors (NULL: given ones).
 */
static void
fold_in(CfFoldKind kind, CfItems *items, const CfModelInfo *info, const char *model,
		const char *function, const CfFoldUser *user, const int32 *idx, const float *r,
		int32 n, float *bias, float *p)
{
	CfFoldSystem sys;
	float	   *x;
	double		sum = 0;

	*bias = 0;
	memset(p, 0, sizeof(float) * items->k);
	if (n == 0 || kind == CF_FOLD_NONE)
		return;
	if (kind == CF_FOLD_BASELINE)
	{
		/* the bias alone, under the baseline's lambda per bias */
		for (int32 j = 0; j < n; j++)
			sum += r[j] - info->mean - items->bias[idx[j]];
		*bias = (float) (sum / (info->regularization + n));
		if (!isfinite(*bias))
			fold_overflow(model, user, r, n);
		return;
	}
	cf_fold_system(items, info, model, function, user, idx, r, n, &sys);
	x = palloc(sizeof(float) * sys.d);
	cf_fold_solve(&sys, x);
	if (!all_finite(x, sys.d))
		fold_overflow(model, user, r, n);
	if (sys.bias >= 0)
	{
		*bias = x[sys.bias];
		memcpy(p, x + 1, sizeof(float) * items->k);
	}
	else
		memcpy(p, x, sizeof(float) * items->k);
	pfree(x);
	pfree(sys.idx);
	pfree(sys.coef);
	pfree(sys.A);
	pfree(sys.U);
	pfree(sys.b);
}

/*
 * cf_recommend_for_ratings(item_ids bigint[], ratings real[], n int,
 *		model text, exclude_rated boolean, exclude_items bigint[],
 *		candidates bigint[]) RETURNS TABLE(item_id bigint, score float8)
 */
Datum
cf_recommend_for_ratings(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *item_ids;
	char	  **item_keys;
	int			nratings_given;
	float	   *ratings;
	int			nratings;
	int32		n;
	char	   *model;
	bool		exclude_rated;
	int64	   *exclude_ids = NULL;
	int			nexclude_ids = 0;
	int64	   *candidate_ids = NULL;
	int			ncandidate_ids = 0;
	CfModelInfo info;
	CfItems    *items;
	int32	   *idx;
	float	   *r;
	int32		nknown = 0;
	float		bias;
	float	   *p;
	CfFoldKind	kind;

	cf_require_arg(fcinfo, 0, "item_ids");
	cf_require_arg(fcinfo, 1, "ratings");
	cf_require_arg(fcinfo, 2, "n");
	cf_require_arg(fcinfo, 4, "exclude_rated");
	n = PG_GETARG_INT32(2);
	model = cf_model_name_arg(fcinfo, 3);
	exclude_rated = PG_GETARG_BOOL(4);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);
	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.item_type, model,
					   "item");
	nratings = cf_id_array_arg_keys(fcinfo, 0, "item_ids", info.item_type, model, "item",
									&item_ids, &item_keys);
	nratings_given = cf_array_arg(fcinfo, 1, "ratings", FLOAT4OID, (void **) &ratings);
	if (nratings_given != nratings)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("arguments \"item_ids\" and \"ratings\" must have the same length"),
				 errdetail("item_ids has %d elements and ratings has %d.", nratings,
						   nratings_given)));
	for (int j = 0; j < nratings; j++)
		if (!isfinite(ratings[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("argument \"ratings\" contains the non-finite value \"%g\"",
							ratings[j]),
					 item_keys ?
					 errdetail("The rating is for item %s.", item_keys[j]) :
					 errdetail("The rating is for item %lld.", (long long) item_ids[j])));
	if (!PG_ARGISNULL(5))
		nexclude_ids = cf_id_array_arg(fcinfo, 5, "exclude_items", info.item_type, model,
									   "item", &exclude_ids);
	if (!PG_ARGISNULL(6))
		ncandidate_ids = cf_id_array_arg(fcinfo, 6, "candidates", info.item_type, model,
										 "item", &candidate_ids);
	kind = fold_check(&info, model, "cf_recommend_for_ratings");
	items = cf_items_acquire(nsp, model, &info);

	/* the ratings of items the model knows */
	idx = palloc((nratings + 1) * sizeof(int32));
	r = palloc((nratings + 1) * sizeof(float));
	for (int j = 0; j < nratings; j++)
	{
		int32		i = cf_item_index(items, item_ids[j]);

		if (i >= 0)
		{
			idx[nknown] = i;
			r[nknown++] = ratings[j];
		}
	}
	p = palloc(sizeof(float) * info.k);
	fold_in(kind, items, &info, model, "cf_recommend_for_ratings", NULL, idx, r, nknown,
			&bias, p);
	if (!info.has_biases)
	{
		/* without any feedback there is no preference to rank by */
		bool		evidence = false;

		for (int32 j = 0; j < nknown; j++)
			evidence |= r[j] > 0;
		if (!evidence)
		{
			cf_items_release(items);
			return (Datum) 0;
		}
	}

	cf_recommend_rows(rsinfo, items, nknown > 0 ? p : NULL,
					  (info.predicts_ratings ? info.mean : 0) + bias, n, idx,
					  exclude_rated ? nknown : 0, exclude_ids, nexclude_ids, !PG_ARGISNULL(6),
					  candidate_ids, ncandidate_ids);
	cf_items_release(items);
	return (Datum) 0;
}

/* Error context: which model's source was being read. */
static void
source_error_context(void *arg)
{
	errcontext("reading the source of model \"%s\" recorded in cf_models", (const char *) arg);
}

/*
 * The current rows of some users (user_ids, an array of the model's user
 * id type; bigint[] for integers) in the source the model records (see
 * foldin.h), whose id columns must still have the model's id types: the model's row is read as the caller, the
 * relation resolved (a quoted qualified name, like a regclass), checked
 * against the catalog like training's source, and read as the model's
 * owner (access.c), never with the caller's rights.
 */
void
cf_load_model_source(Oid nsp, const char *model, const CfModelInfo *info, Datum user_ids,
					 CfSource *src, CfRatings *data)
{
	Oid			owner = cf_model_owner(nsp, model);
	char	   *source = cf_model_source(nsp, model, src);
	RangeVar   *rv;
	ErrorContextCallback errcallback;
	CfActingAs	acting;

	errcallback.callback = source_error_context;
	errcallback.arg = (void *) model;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	cf_act_as_begin(owner, &acting);
#if PG_VERSION_NUM >= 160000
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(source, NULL));
#else
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(source));
#endif
	src->relid = RangeVarGetRelid(rv, AccessShareLock, true);
	if (!OidIsValid(src->relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source relation \"%s\" of model \"%s\" does not exist", source, model),
				 errhint("Retrain the model from an existing relation with cf_train().")));
	cf_check_source(src);
	/* a source whose id columns changed type would match none of the users */
	cf_check_same_ids(&src->user_ids, info->user_type, model, "user", src->user_column);
	cf_check_same_ids(&src->item_ids, info->item_type, model, "item", src->item_column);
	cf_load_user_ratings(src, user_ids, data);
	cf_act_as_end(&acting);
	error_context_stack = errcallback.previous;
}

/* A real[] of n floats. */
static ArrayType *
float_array(const float *v, int n)
{
	Datum	   *d = palloc(Max(n, 1) * sizeof(Datum));

	for (int j = 0; j < n; j++)
		d[j] = Float4GetDatum(v[j]);
	return construct_array(d, n, FLOAT4OID, sizeof(float), true, TYPALIGN_INT);
}

/* A bigint[] of n ids. */
static ArrayType *
id_array(const int64 *v, int n)
{
	Datum	   *d = palloc(Max(n, 1) * sizeof(Datum));

	for (int j = 0; j < n; j++)
		d[j] = Int64GetDatum(v[j]);
	return construct_array(d, n, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
}

/*
 * Write one user's row (a new one with its key, for typed ids): UPDATE,
 * else INSERT.  Returns the action.
 */
static const char *
store_user(Oid nsp, const char *model, int64 user_id, const char *key, float bias,
		   const float *p, int k, const int64 *rated, int nrated)
{
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			ret;

	values[0] = CStringGetTextDatum(model);
	values[1] = Int64GetDatum(user_id);
	values[2] = Float4GetDatum(bias);
	values[3] = PointerGetDatum(float_array(p, k));
	values[4] = PointerGetDatum(id_array(rated, nrated));
	ret = SPI_execute_plan(cf_query_plan(nsp, CF_Q_UPDATE_USER), values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "updating a user failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		return "updated";
	if (key)
		values[5] = CStringGetTextDatum(key);
	else
		nulls[5] = 'n';
	ret = SPI_execute_plan(cf_query_plan(nsp, CF_Q_INSERT_USER), values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting a user failed: %s", SPI_result_code_string(ret));
	return "inserted";
}

/* Delete one user's row (no ratings left).  Returns the action. */
static const char *
delete_user(Oid nsp, const char *model, int64 user_id)
{
	Datum		values[2];
	int			ret;

	values[0] = CStringGetTextDatum(model);
	values[1] = Int64GetDatum(user_id);
	ret = SPI_execute_plan(cf_query_plan(nsp, CF_Q_DELETE_USER), values, NULL, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "deleting a user failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0 ? "deleted" : "none";
}

/*
 * cf_refresh_users(user_ids bigint[], model text)
 *		RETURNS TABLE(user_id bigint, ratings integer, action text)
 */
Datum
cf_refresh_users(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *ids;
	char	  **keys;
	int			nids;
	char	   *model;
	CfModelInfo info;
	CfSource	src;
	CfItems    *items;
	CfRatings	data;
	CfFoldKind	kind;
	int32		u = 0;
	int32	   *idx;
	float	   *r;
	int64	   *rated;
	float	   *p;

	cf_require_arg(fcinfo, 0, "user_ids");
	model = cf_model_name_arg(fcinfo, 1);

	InitMaterializedSRF(fcinfo, 0);

	/* strictly before or after any training; then a snapshot that sees it */
	cf_lock_model(model);
	cf_check_owner(nsp, model);
	PushActiveSnapshot(GetTransactionSnapshot());

	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	cf_require_local_users(&info, model, "cf_refresh_users");
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.user_type, model,
					   "user");
	/* the users, sorted, each once */
	nids = cf_id_array_arg_keys(fcinfo, 0, "user_ids", info.user_type, model, "user", &ids,
								&keys);
	nids = cf_sort_unique_ids(ids, keys, nids);
	kind = fold_check(&info, model, "cf_refresh_users");
	items = cf_items_acquire(nsp, model, &info);

	/*
	 * The source the model records, read as the model's owner: the owner
	 * may point cf_models.source anywhere, so the owner's rights, not the
	 * caller's, decide what it reads (access.c).
	 */
	cf_load_model_source(nsp, model, &info, cf_id_values_array(info.user_type, ids, keys, nids),
						 &src, &data);
	if (data.skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld rows with a NULL user, item or rating",
						(long long) data.skipped)));

	/* the longest user's ratings fit these */
	{
		int64		longest = 0;

		for (int32 v = 0; v < data.nusers; v++)
			longest = Max(longest, data.user_start[v + 1] - data.user_start[v]);
		idx = cf_palloc_huge_array(int32, longest + 1);
		r = cf_palloc_huge_array(float, longest + 1);
		rated = cf_palloc_huge_array(int64, longest + 1);
	}
	p = palloc(sizeof(float) * info.k);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int j = 0; j < nids; j++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		const char *action;
		int64		count = 0;

		/* data's users are the requested ones that have rows, ascending */
		if (u < data.nusers && data.user_ids[u] == ids[j])
		{
			int32		nknown = 0;
			int			nrated = 0;
			float		bias;
			CfFoldUser	who = {ids[j], keys ? keys[j] : NULL};

			for (int64 x = data.user_start[u]; x < data.user_start[u + 1]; x++)
			{
				int64		item = data.item_ids[data.r[x].item];
				int32		i = cf_item_index(items, item);

				if (nrated == 0 || rated[nrated - 1] != item)
					rated[nrated++] = item;
				if (i >= 0)
				{
					idx[nknown] = i;
					r[nknown++] = data.r[x].rating;
				}
			}
			count = data.user_start[u + 1] - data.user_start[u];
			fold_in(kind, items, &info, model, "cf_refresh_users", &who, idx, r, nknown,
					&bias, p);
			action = store_user(nsp, model, ids[j], keys ? keys[j] : NULL, bias, p, info.k,
								rated, nrated);
			u++;
		}
		else
			action = delete_user(nsp, model, ids[j]);

		values[0] = cf_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.user_type,
								 ids[j], keys ? keys[j] : NULL, model, "user");
		values[1] = Int32GetDatum((int32) Min(count, PG_INT32_MAX));
		values[2] = CStringGetTextDatum(action);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_finish();

	cf_items_release(items);
	PopActiveSnapshot();
	return (Datum) 0;
}
