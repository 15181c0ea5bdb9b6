/*-------------------------------------------------------------------------
 *
 * eval.c
 *	  cf_evaluate: accuracy and ranking metrics of a model on held-out
 *	  ratings, computed in C on the serving path.
 *
 * For a test set T of (user, item, rating) rows:
 *
 *	rmse, mae   over every row of T, of the prediction cf_predict returns
 *	            (mean + b_u + b_i + p_u . q_i, the terms of an unknown user
 *	            or item left out, clipped to the rating range), computed
 *	            exactly as cf_predict computes it (the same sdot, rounded to
 *	            the float's digits), so that
 *	            sqrt(avg((cf_predict(u, i) - r)^2)) in SQL agrees to the last
 *	            bits.  NULL for models that predict no ratings (popular).
 *
 * For each user u of T, R_u is the set of distinct items of u's rows (with
 * a threshold: of u's rows rated >= threshold), and L_u the top k items
 * cf_recommend(u, k) would return: every item of the model ranked by
 * b_i + p_u . q_i, the items u rated in training (cf_user_factors.
 * rated_items) left out, ties by item id; a user the model does not know
 * gets the items of highest b_i, as cf_recommend gives it, or, from a model
 * without biases (implicit feedback), no list at all, as cf_recommend
 * answers nothing (such a user counts, with no hits).  Only users
 * with R_u not empty are ranked (their number is `users`); with hits h_u =
 * |L_u intersect R_u| and rel(j) = 1 if the item at rank j is in R_u:
 *
 *	precision_at_k  mean of h_u / k
 *	recall_at_k     mean of h_u / |R_u|
 *	ndcg_at_k       mean of DCG_u / IDCG_u, DCG_u = sum_j rel(j) / log2(j + 1)
 *	                over ranks j = 1..k, IDCG_u the same for the ideal list
 *	                (min(k, |R_u|) hits at the top)
 *	map_at_k        mean of AP_u = sum_j rel(j) (hits in ranks 1..j) / j,
 *	                divided by min(k, |R_u|)
 *	hit_rate        share of users with h_u >= 1
 *	coverage        distinct items in any L_u / items in the model
 *
 * Items of R_u the model does not know, or that u rated in training, can
 * never be in L_u: they count as misses (a split that keeps training pairs
 * out of the test set has none of the second kind).
 *
 * The work follows cf_recommend_batch (batch.c): the item side comes from
 * the factor cache (cache.c); the test relation is read once as the caller
 * (load.c, catalog-checked like cf_train's source); the model's rows of
 * the test users stream from a cursor in the call's snapshot, and users
 * are ranked in blocks of up to 256 with one sgemm per tile of items
 * (score.c, cf_rank_block), each user's top k kept in a bounded heap.
 * cf_cross_validate evaluates models in memory through the same code
 * (cf_evaluate_factors).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "blas.h"
#include "cache.h"
#include "citus.h"
#include "eval.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "split.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_evaluate);

#define MAX_BLOCK 256			/* users ranked per sgemm block */
#define CHUNK_USERS 256			/* test users prepared at a time */
#define FETCH_ROWS 256			/* model user rows per cursor fetch */

const char *const cf_metric_names[CF_NUM_METRICS] = {
	"rmse", "mae", "precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k",
	"hit_rate", "coverage"
};

/* Metric number j of m. */
double
cf_metric(const CfMetrics *m, int j)
{
	switch (j)
	{
		case 0:
			return m->rmse;
		case 1:
			return m->mae;
		case 2:
			return m->precision;
		case 3:
			return m->recall;
		case 4:
			return m->ndcg;
		case 5:
			return m->map;
		case 6:
			return m->hit_rate;
		case 7:
			return m->coverage;
	}
	elog(ERROR, "unknown metric %d", j);
	return 0;					/* keep the compiler quiet */
}

/* Whether a higher value of metric j is better. */
bool
cf_metric_higher_is_better(int j)
{
	return j >= 2;
}

/* The number of a metric name; error if unknown. */
int
cf_metric_number(const char *name)
{
	for (int j = 0; j < CF_NUM_METRICS; j++)
		if (strcmp(cf_metric_names[j], name) == 0)
			return j;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown metric \"%s\"", name),
			 errhint("The metrics are: rmse, mae, precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate, coverage.")));
	return -1;					/* keep the compiler quiet */
}

/* One test user, as the evaluator sees it. */
typedef struct EvalUser
{
	bool		known;			/* the model has the user */
	float		bias;
	const float *factors;		/* k floats, if known */
	const int32 *rated;			/* item indices left out of the ranking, ascending */
	int32		nrated;
	const int32 *items;			/* test rows: model item index, or -1 */
	const float *ratings;
	int32		n;
	const int32 *relevant;		/* distinct relevant items, ascending (-1: one not in the model) */
	int32		nrelevant;
} EvalUser;

/* The state of one evaluation. */
typedef struct Evaluator
{
	const CfItems *items;
	double		mean;
	double		min;
	double		max;
	bool		predicts_ratings;
	bool		has_biases;		/* else a user the model does not know gets no list */
	int32		cutoff;			/* k */
	int32		limit;			/* list length: min(k, items) */

	/* the pending block of known users */
	int32		block;
	int32		tile;
	int32		nb;
	const EvalUser **pending;
	float	   *P;				/* block x factors */
	float	   *S;				/* block x tile */
	CfTopN	   *tops;
	CfTopN	  **topp;
	const int32 **ex;
	int32	   *nex;

	CfTopN		baseline;		/* the list of users the model does not know */
	bool		have_baseline;
	MemoryContext cxt;			/* where the evaluator lives */
	bool	   *listed;			/* items in some user's list */

	/* sums */
	double		sse;
	double		sae;
	int64		rows;
	double		precision;
	double		recall;
	double		ndcg;
	double		ap;
	int64		hits;
	int64		users;
} Evaluator;

/* Set up an evaluation of a model's items (in CurrentMemoryContext). */
static Evaluator *
eval_begin(const CfItems *items, double mean, double min, double max,
		   bool predicts_ratings, bool has_biases, int32 k)
{
	Evaluator  *ev = palloc0(sizeof(Evaluator));
	int			kf = Max(items->k, 1);
	Size		per_user;

	ev->items = items;
	ev->mean = mean;
	ev->min = min;
	ev->max = max;
	ev->predicts_ratings = predicts_ratings;
	ev->has_biases = has_biases;
	ev->cutoff = k;
	ev->limit = Min(k, items->n);
	ev->tile = cf_rank_tile(items->k);

	/* the block's heaps and scratch within work_mem (at least one user) */
	per_user = cf_add_size(cf_mul_size(Max(ev->limit, 1), sizeof(float) + 2 * sizeof(int64)),
						   cf_mul_size(ev->tile + kf, sizeof(float)));
	ev->block = (int32) Max(1, Min(MAX_BLOCK, (Size) work_mem * 1024 / per_user));
	ev->pending = palloc(ev->block * sizeof(EvalUser *));
	ev->P = cf_palloc_huge_array(float, cf_mul_size(ev->block, kf));
	ev->S = cf_palloc_huge_array(float, cf_mul_size(ev->block, ev->tile));
	ev->tops = palloc(ev->block * sizeof(CfTopN));
	ev->topp = palloc(ev->block * sizeof(CfTopN *));
	ev->ex = palloc(ev->block * sizeof(int32 *));
	ev->nex = palloc(ev->block * sizeof(int32));
	for (int32 b = 0; b < ev->block; b++)
	{
		cf_topn_init(&ev->tops[b], ev->limit);
		ev->topp[b] = &ev->tops[b];
	}
	ev->listed = palloc0(Max(items->n, 1));
	ev->cxt = CurrentMemoryContext;
	return ev;
}

/* Whether item index i is among a user's relevant items. */
static bool
is_relevant(const EvalUser *u, int32 i)
{
	int32		lo = 0;
	int32		hi = u->nrelevant;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (u->relevant[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < u->nrelevant && u->relevant[lo] == i;
}

/* Add the ranking metrics of one user's sorted list. */
static void
score_list(Evaluator *ev, const CfTopN *t, const EvalUser *u)
{
	int32		hits = 0;
	double		dcg = 0;
	double		idcg = 0;
	double		ap = 0;
	int32		ideal = Min(ev->cutoff, u->nrelevant);

	for (int32 j = 0; j < t->size; j++)
	{
		int32		i = (int32) t->key[j];

		ev->listed[i] = true;
		if (is_relevant(u, i))
		{
			hits++;
			dcg += 1.0 / log2(j + 2.0);
			ap += (double) hits / (j + 1);
		}
	}
	for (int32 j = 0; j < ideal; j++)
		idcg += 1.0 / log2(j + 2.0);

	ev->precision += (double) hits / ev->cutoff;
	ev->recall += (double) hits / u->nrelevant;
	ev->ndcg += dcg / idcg;
	ev->ap += ap / ideal;
	ev->hits += hits > 0;
	ev->users++;
}

/* Rank and score the pending block of known users. */
static void
eval_flush(Evaluator *ev)
{
	int			k = ev->items->k;

	for (int32 j = 0; j < ev->nb; j++)
	{
		if (k > 0)
			memcpy(ev->P + (Size) j * k, ev->pending[j]->factors, sizeof(float) * k);
		ev->ex[j] = ev->pending[j]->rated;
		ev->nex[j] = ev->pending[j]->nrated;
	}
	cf_rank_block(ev->items, ev->P, ev->nb, ev->ex, ev->nex, ev->topp, ev->S, ev->tile);
	for (int32 j = 0; j < ev->nb; j++)
	{
		cf_topn_sort(&ev->tops[j]);
		score_list(ev, &ev->tops[j], ev->pending[j]);
		cf_topn_reset(&ev->tops[j]);
	}
	ev->nb = 0;
}

/*
 * Evaluate n users: their test rows' errors at once, their lists in
 * blocks.  The users' arrays need only last for the call.
 */
static void
eval_add(Evaluator *ev, const EvalUser *users, int32 n)
{
	const CfItems *items = ev->items;

	for (int32 x = 0; x < n; x++)
	{
		const EvalUser *u = &users[x];

		ev->rows += u->n;
		if (ev->predicts_ratings)
		{
			/* the prediction exactly as cf_predict makes it */
			for (int32 j = 0; j < u->n; j++)
			{
				int32		i = u->items[j];
				double		pred = ev->mean;
				double		e;

				if (u->known)
					pred += u->bias;
				if (i >= 0)
					pred += items->bias[i];
				if (u->known && i >= 0 && items->k > 0)
					pred += cblas_sdot(items->k, u->factors, 1, items->Q + (Size) i * items->k, 1);
				pred = cf_float4_double(Min(Max(pred, ev->min), ev->max));
				e = pred - u->ratings[j];
				ev->sse += e * e;
				ev->sae += fabs(e);
			}
		}

		if (u->nrelevant == 0)
			continue;
		if (!u->known && !ev->has_biases)
		{
			/* cf_recommend answers nothing: a list without hits */
			CfTopN		none;

			memset(&none, 0, sizeof(none));
			score_list(ev, &none, u);
			continue;
		}
		if (!u->known)
		{
			if (!ev->have_baseline)
			{
				CfRankSpec	spec;
				MemoryContext oldcxt = MemoryContextSwitchTo(ev->cxt);

				memset(&spec, 0, sizeof(spec));
				cf_topn_init(&ev->baseline, ev->limit);
				cf_rank_items(items, &spec, &ev->baseline);
				cf_topn_sort(&ev->baseline);
				ev->have_baseline = true;
				MemoryContextSwitchTo(oldcxt);
			}
			score_list(ev, &ev->baseline, u);
			continue;
		}
		ev->pending[ev->nb++] = u;
		if (ev->nb == ev->block)
			eval_flush(ev);
	}
	eval_flush(ev);
	CHECK_FOR_INTERRUPTS();
}

/* The metrics of everything added. */
static void
eval_end(Evaluator *ev, CfMetrics *out)
{
	double		nan = get_float8_nan();
	int64		listed = 0;

	for (int32 i = 0; i < ev->items->n; i++)
		listed += ev->listed[i];
	out->ratings = ev->rows;
	out->users = ev->users;
	out->rmse = ev->predicts_ratings && ev->rows > 0 ? sqrt(ev->sse / ev->rows) : nan;
	out->mae = ev->predicts_ratings && ev->rows > 0 ? ev->sae / ev->rows : nan;
	if (ev->users > 0)
	{
		out->precision = ev->precision / ev->users;
		out->recall = ev->recall / ev->users;
		out->ndcg = ev->ndcg / ev->users;
		out->map = ev->ap / ev->users;
		out->hit_rate = (double) ev->hits / ev->users;
		out->coverage = (double) listed / ev->items->n;
	}
	else
		out->precision = out->recall = out->ndcg = out->map = out->hit_rate =
			out->coverage = nan;
}

/*
 * The test rows of test user t into u (arrays in CurrentMemoryContext):
 * item_map maps the test's item indices to the model's (or -1); an item is
 * relevant if a row of it is rated >= threshold (NaN: any row).
 */
static void
test_rows(const CfRatings *test, int32 t, const int32 *item_map, double threshold,
		  EvalUser *u)
{
	int64		lo = test->user_start[t];
	int32		n = (int32) (test->user_start[t + 1] - lo);
	int32	   *items = palloc(Max(n, 1) * sizeof(int32));
	float	   *ratings = palloc(Max(n, 1) * sizeof(float));
	int32	   *relevant = palloc(Max(n, 1) * sizeof(int32));
	int32		nrelevant = 0;
	int32		last = -1;		/* test item index of the last relevant item */

	for (int32 j = 0; j < n; j++)
	{
		const CfRating *r = &test->r[lo + j];

		items[j] = item_map[r->item];
		ratings[j] = r->rating;
		/* a user's rows are sorted by item: repeats are adjacent */
		if ((isnan(threshold) || r->rating >= threshold) && r->item != last)
		{
			relevant[nrelevant++] = item_map[r->item];
			last = r->item;
		}
	}
	qsort(relevant, nrelevant, sizeof(int32), cf_cmp_int32);
	u->items = items;
	u->ratings = ratings;
	u->n = n;
	u->relevant = relevant;
	u->nrelevant = nrelevant;
}

/*
 * In memory (cross-validation)
 */

/* Evaluate factors trained on `train` against `test` (see eval.h). */
void
cf_evaluate_factors(const CfRatings *train, const CfFactors *f, bool predicts_ratings,
					bool has_biases, const CfRatings *test, int k, double threshold,
					CfMetrics *out)
{
	CfItems		items;
	float	   *Q;
	Evaluator  *ev;
	int32	   *umap;
	int32	   *imap;
	MemoryContext chunkcxt;
	MemoryContext oldcxt;
	int32		t = 0;

	/* the item side as the cache would hold it: k floats a row */
	Q = cf_palloc_huge_array(float, cf_mul_size(Max(f->nitems, 1), Max(f->k, 1)));
	for (int32 i = 0; i < f->nitems && f->k > 0; i++)
		memcpy(Q + (Size) i * f->k, f->Q + (Size) i * f->stride, sizeof(float) * f->k);
	memset(&items, 0, sizeof(items));
	items.n = f->nitems;
	items.k = f->k;
	items.ids = train->item_ids;
	items.bias = f->item_bias;
	items.Q = Q;

	ev = eval_begin(&items, train->mean, train->min, train->max, predicts_ratings, has_biases,
					k);
	umap = cf_match_ids(test->user_ids, test->nusers, train->user_ids, train->nusers);
	imap = cf_match_ids(test->item_ids, test->nitems, train->item_ids, train->nitems);
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "cf evaluation chunk",
									 ALLOCSET_DEFAULT_SIZES);
	while (t < test->nusers)
	{
		EvalUser   *users;
		int32		nu = 0;

		MemoryContextReset(chunkcxt);
		oldcxt = MemoryContextSwitchTo(chunkcxt);
		users = palloc0(CHUNK_USERS * sizeof(EvalUser));
		for (; t < test->nusers && nu < CHUNK_USERS; t++)
		{
			EvalUser   *u = &users[nu++];
			int32		v = umap[t];

			test_rows(test, t, imap, threshold, u);
			u->known = v >= 0;
			if (u->known)
			{
				int64		lo = train->user_start[v];
				int64		hi = train->user_start[v + 1];
				int32	   *rated = palloc(Max(hi - lo, 1) * sizeof(int32));
				int32		m = 0;

				u->bias = f->user_bias[v];
				u->factors = f->P + (Size) v * f->stride;
				for (int64 j = lo; j < hi; j++)
					if (m == 0 || rated[m - 1] != train->r[j].item)
						rated[m++] = train->r[j].item;
				u->rated = rated;
				u->nrated = m;
			}
		}
		eval_add(ev, users, nu);
		MemoryContextSwitchTo(oldcxt);
	}
	eval_end(ev, out);
	MemoryContextDelete(chunkcxt);
}

/*
 * cf_evaluate(model text, test regclass, user_column name, item_column
 *		name, rating_column name, threshold float8, k int)
 *		RETURNS TABLE(rmse, mae, precision_at_k, recall_at_k, ndcg_at_k,
 *		map_at_k, hit_rate, coverage float8, users bigint, ratings bigint)
 */

/* One model user row fetched from the cursor, its rated items as item indices. */
typedef struct UserRow
{
	CfUserRow	row;
	int32	   *rated;			/* item indices */
	int32		nrated;
} UserRow;

/* Fetch the next rows of the user cursor into *rows (in cxt); returns their number. */
static int32
fetch_users(Portal portal, const CfItems *items, MemoryContext cxt, UserRow **rows)
{
	MemoryContext oldcxt;
	int32		n;

	SPI_cursor_fetch(portal, true, FETCH_ROWS);
	n = (int32) SPI_processed;
	oldcxt = MemoryContextSwitchTo(cxt);
	*rows = palloc(Max(n, 1) * sizeof(UserRow));
	for (int32 j = 0; j < n; j++)
	{
		UserRow    *row = &(*rows)[j];
		bool		isnull[4];
		Datum		d[4];

		for (int c = 0; c < 4; c++)
			d[c] = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, c + 1, &isnull[c]);
		row->row.factors = palloc(sizeof(float) * Max(items->k, 1));
		cf_read_user_row(d, isnull, true, items->k, items->name, &row->row);
		row->rated = cf_item_indices(items, row->row.rated, row->row.nrated, &row->nrated);
	}
	MemoryContextSwitchTo(oldcxt);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* A float8 datum, NULL when NaN. */
static Datum
float_or_null(double x, bool *isnull)
{
	*isnull = isnan(x);
	return Float8GetDatum(x);
}

/* Name argument as a C string, or NULL. */
static char *
name_or_null(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

Datum
cf_evaluate(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *model;
	int32		k;
	double		threshold = get_float8_nan();
	CfModelInfo info;
	CfSource	src;
	CfItems    *items;
	CfRatings	test;
	int32	   *item_map;
	Evaluator  *ev;
	CfMetrics	m;
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10] = {0};
	Datum	   *ids;
	Datum		args[2];
	Portal		portal;
	MemoryContext rowcxt;
	MemoryContext chunkcxt;
	MemoryContext oldcxt;
	UserRow    *rows = NULL;
	int32		nrows = 0;
	int32		next = 0;
	bool		done = false;
	int32		t = 0;

	model = cf_model_name_arg(fcinfo, 0);
	cf_require_arg(fcinfo, 1, "test");
	cf_require_arg(fcinfo, 6, "k");
	k = PG_GETARG_INT32(6);
	cf_check_int_arg("k", k, 1, PG_INT32_MAX);
	if (!PG_ARGISNULL(5))
	{
		threshold = PG_GETARG_FLOAT8(5);
		if (!isfinite(threshold))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"threshold\" must be a finite number")));
	}
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* the model, and the test relation's columns (the model's by default) */
	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	cf_require_local_users(&info, model, "cf_evaluate");
	(void) cf_model_source(nsp, model, &src);
	src.relid = PG_GETARG_OID(1);
	if (!PG_ARGISNULL(2))
		src.user_column = name_or_null(fcinfo, 2);
	if (!PG_ARGISNULL(3))
		src.item_column = name_or_null(fcinfo, 3);
	if (!PG_ARGISNULL(4))
		src.rating_column = name_or_null(fcinfo, 4);
	if (!isnan(threshold) && src.rating_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a threshold needs a rating column"),
				 errdetail("Model \"%s\" was trained without one.", model),
				 errhint("Name the test relation's rating column with rating_column.")));
	cf_check_source(&src);
	cf_check_same_ids(&src.user_ids, info.user_type, model, "user", src.user_column);
	cf_check_same_ids(&src.item_ids, info.item_type, model, "item", src.item_column);

	items = cf_items_acquire(nsp, model, &info);
	cf_load_ratings_readonly(&src, &test);
	if (test.skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld test rows with a NULL user, item or rating",
						(long long) test.skipped)));
	item_map = palloc(Max(test.nitems, 1) * sizeof(int32));
	for (int32 i = 0; i < test.nitems; i++)
		item_map[i] = cf_item_index(items, test.item_ids[i]);

	ev = eval_begin(items, info.mean, info.min, info.max, info.predicts_ratings,
					info.has_biases, k);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "cf evaluation rows",
								   ALLOCSET_DEFAULT_SIZES);
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "cf evaluation chunk",
									 ALLOCSET_DEFAULT_SIZES);

	/* the model's rows of the test users, by user id, in this snapshot */
	ids = palloc(Max(test.nusers, 1) * sizeof(Datum));
	for (int32 u = 0; u < test.nusers; u++)
		ids[u] = Int64GetDatum(test.user_ids[u]);
	args[0] = CStringGetTextDatum(model);
	args[1] = PointerGetDatum(construct_array(ids, test.nusers, INT8OID, sizeof(int64),
											  true, TYPALIGN_DOUBLE));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open(NULL, cf_query_plan(nsp, CF_Q_SOME_USERS), args, NULL, true);

	while (t < test.nusers)
	{
		EvalUser   *users;
		int32		nu = 0;

		MemoryContextReset(chunkcxt);
		oldcxt = MemoryContextSwitchTo(chunkcxt);
		users = palloc0(CHUNK_USERS * sizeof(EvalUser));
		while (t < test.nusers && nu < CHUNK_USERS)
		{
			int64		id = test.user_ids[t];
			EvalUser   *u;

			if (next == nrows && !done)
			{
				/* the chunk's users point into the rows: evaluate them first */
				if (nu > 0)
					break;
				MemoryContextReset(rowcxt);
				nrows = fetch_users(portal, items, rowcxt, &rows);
				next = 0;
				done = nrows < FETCH_ROWS;
			}
			while (next < nrows && rows[next].row.id < id)
				next++;
			u = &users[nu++];
			test_rows(&test, t, item_map, threshold, u);
			if (next < nrows && rows[next].row.id == id)
			{
				u->known = true;
				u->bias = rows[next].row.bias;
				u->factors = rows[next].row.factors;
				u->rated = rows[next].rated;
				u->nrated = rows[next].nrated;
				next++;
			}
			t++;
		}
		eval_add(ev, users, nu);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	eval_end(ev, &m);
	cf_items_release(items);
	MemoryContextDelete(rowcxt);
	MemoryContextDelete(chunkcxt);

	values[0] = float_or_null(m.rmse, &nulls[0]);
	values[1] = float_or_null(m.mae, &nulls[1]);
	values[2] = float_or_null(m.precision, &nulls[2]);
	values[3] = float_or_null(m.recall, &nulls[3]);
	values[4] = float_or_null(m.ndcg, &nulls[4]);
	values[5] = float_or_null(m.map, &nulls[5]);
	values[6] = float_or_null(m.hit_rate, &nulls[6]);
	values[7] = float_or_null(m.coverage, &nulls[7]);
	values[8] = Int64GetDatum(m.users);
	values[9] = Int64GetDatum(m.ratings);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
