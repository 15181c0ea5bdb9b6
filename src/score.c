/*-------------------------------------------------------------------------
 *
 * score.c
 *	  Predictions and top-N recommendations from a stored model.
 *
 * A prediction is mean + b_u + b_i + p_u . q_i, clipped to the rating
 * range seen in training.  A user or item the model does not know
 * contributes no bias and no factors, so the prediction falls back to the
 * baseline terms that exist (mean + b_i for an unknown user, mean + b_u for
 * an unknown item, the mean for both).  Models that predict no ratings
 * (cf_algorithm_predicts_ratings: popular, implicit feedback) give their
 * score instead, b_u + b_i + p_u . q_i, without the mean and unclipped.
 * Models without factor vectors (k = 0: baseline, popular) are scored by
 * their biases alone; BLAS is not called for them.
 *
 * Implicit-feedback models (iALS) are of those: they score preferences,
 * x_u . y_i alone (their biases are 0, cf_algorithm_has_biases), so an
 * unknown user or item scores 0, and an unknown user gets no
 * recommendations (there is no baseline to rank by).
 *
 * Every call makes one per-call lookup (model.c: the cf_models row and
 * the user's row, one SPI query as the caller) and takes the item side
 * from the factor cache (cache.c).
 *
 * cf_recommend ranks items by b_i + p_u . q_i (the same order as the
 * prediction, since mean + b_u is common to all) and returns the
 * unclipped prediction, so that items above the rating range still rank.
 * All items are scored with one sgemv over the cached matrix, unless a
 * candidate list names few of them (a quarter of the catalog or less):
 * then only those are scored, one dot product each.  The best n are kept
 * in a bounded binary heap (lib/binaryheap.h) whose top is the worst kept,
 * so the common case costs one comparison per item; they come out sorted
 * by score descending, then item id ascending.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "blas.h"
#include "cache.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_predict);
PG_FUNCTION_INFO_V1(cf_recommend);

/* Candidate lists longer than this share of the catalog score every item. */
#define SPARSE_CANDIDATES_DIVISOR 4

/* Bytes of Q per tile of cf_rank_block. */
#define TILE_BYTES (256 * 1024)

/*
 * Top-N selection
 */

/* Heap order: a is "greater" (nearer the top) when it is the worse pair. */
static int
topn_worse(Datum a, Datum b, void *arg)
{
	const CfTopN *t = (const CfTopN *) arg;
	int32		x = DatumGetInt32(a);
	int32		y = DatumGetInt32(b);

	if (t->score[x] != t->score[y])
		return t->score[x] < t->score[y] ? 1 : -1;
	return t->key[x] > t->key[y] ? 1 : (t->key[x] < t->key[y] ? -1 : 0);
}

/* Set up an empty selection of the best `limit` pairs. */
void
cf_topn_init(CfTopN *t, int64 limit)
{
	t->limit = Max(limit, 0);
	t->size = 0;
	t->cap = (int32) Min(Max(t->limit, 1), 64);
	t->score = palloc(t->cap * sizeof(float));
	t->key = palloc(t->cap * sizeof(int64));
	t->heap = binaryheap_allocate(t->cap, topn_worse, t);
	t->worst = 0;
	t->worst_key = 0;
}

/* Empty it for reuse. */
void
cf_topn_reset(CfTopN *t)
{
	t->size = 0;
	binaryheap_reset(t->heap);
}

/* Twice the slots (at most limit). */
static void
topn_grow(CfTopN *t)
{
	int32		cap;
	binaryheap *heap;
	MemoryContext oldcxt;

	if (t->cap >= PG_INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows to rank")));
	cap = (int32) Min(t->limit, (int64) t->cap * 2);
	t->score = repalloc_huge(t->score, cf_mul_size(cap, sizeof(float)));
	t->key = repalloc_huge(t->key, cf_mul_size(cap, sizeof(int64)));
	/*
	 * The new heap goes where the old one is (as repalloc keeps the arrays):
	 * a receiver offering pairs runs in the executor's memory, freed when its
	 * query ends, long before the caller sorts.
	 */
	oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(t->heap));
	heap = binaryheap_allocate(cap, topn_worse, t);
	MemoryContextSwitchTo(oldcxt);
	for (int32 j = 0; j < t->size; j++)
		binaryheap_add_unordered(heap, Int32GetDatum(j));
	binaryheap_build(heap);
	binaryheap_free(t->heap);
	t->heap = heap;
	t->cap = cap;
}

/* Add a pair that may belong among the best. */
void
cf_topn_insert(CfTopN *t, float score, int64 key)
{
	int32		slot;

	if (isnan(score) || t->limit == 0)
		return;
	if (t->size < t->limit)
	{
		if (t->size == t->cap)
			topn_grow(t);
		slot = t->size++;
		t->score[slot] = score;
		t->key[slot] = key;
		binaryheap_add(t->heap, Int32GetDatum(slot));
	}
	else
	{
		slot = DatumGetInt32(binaryheap_first(t->heap));
		if (score < t->score[slot] || (score == t->score[slot] && key > t->key[slot]))
			return;
		t->score[slot] = score;
		t->key[slot] = key;
		binaryheap_replace_first(t->heap, Int32GetDatum(slot));
	}
	if (t->size == t->limit)
	{
		slot = DatumGetInt32(binaryheap_first(t->heap));
		t->worst = t->score[slot];
		t->worst_key = t->key[slot];
	}
}

typedef struct ScoredKey
{
	float		score;
	int64		key;
} ScoredKey;

/* qsort order: best first, ties by key. */
static int
best_first(const void *a, const void *b)
{
	const ScoredKey *x = a;
	const ScoredKey *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->key < y->key ? -1 : (x->key > y->key ? 1 : 0);
}

/* Sort the kept pairs best first into score[0..size), key[0..size); returns size. */
int32
cf_topn_sort(CfTopN *t)
{
	ScoredKey  *v = cf_palloc_huge_array(ScoredKey, t->size);

	for (int32 j = 0; j < t->size; j++)
	{
		v[j].score = t->score[j];
		v[j].key = t->key[j];
	}
	qsort(v, t->size, sizeof(ScoredKey), best_first);
	for (int32 j = 0; j < t->size; j++)
	{
		t->score[j] = v[j].score;
		t->key[j] = v[j].key;
	}
	pfree(v);
	/* the slots no longer form a heap: only reset may follow */
	binaryheap_reset(t->heap);
	return t->size;
}

/*
 * Ranking
 */

/*
 * Offer items lo..hi-1 (skipping those with mask[j] false, if mask) with
 * scores s[j] to t.  The loop the whole catalog goes through.
 */
static inline void
offer_range(CfTopN *t, const float *s, const bool *mask, int32 lo, int32 hi)
{
	if (mask)
	{
		for (int32 j = lo; j < hi; j++)
			if (mask[j])
				cf_topn_add(t, s[j], j);
	}
	else
		cf_topn_offer(t, s + lo, NULL, lo, hi);
}

/*
 * The best items for a spec into t: keys are item indices, scores
 * b_i + p . q_i.  Exclusions are sorted once and the catalog is offered in
 * the runs between them, in ascending index (= id) order.
 */
void
cf_rank_items(const CfItems *items, const CfRankSpec *spec, CfTopN *t)
{
	int32		n = items->n;
	int			k = items->k;
	int32	   *ex = NULL;
	int32		nex = 0;
	const float *scores;
	float	   *buf = NULL;
	bool	   *mask = NULL;
	int32		lo;

	if (spec->nexclude > 0)
	{
		ex = palloc(spec->nexclude * sizeof(int32));
		memcpy(ex, spec->exclude, spec->nexclude * sizeof(int32));
		nex = cf_sort_unique_int32(ex, spec->nexclude);
	}

	if (spec->has_candidates)
	{
		if (spec->ncandidates == 0)
			return;
		if (spec->ncandidates <= n / SPARSE_CANDIDATES_DIVISOR)
		{
			/* few candidates: score only them */
			int32	   *c = palloc(spec->ncandidates * sizeof(int32));
			int32		nc;
			int32		e = 0;

			memcpy(c, spec->candidates, spec->ncandidates * sizeof(int32));
			nc = cf_sort_unique_int32(c, spec->ncandidates);
			for (int32 j = 0; j < nc; j++)
			{
				int32		i = c[j];
				float		s;

				while (e < nex && ex[e] < i)
					e++;
				if (e < nex && ex[e] == i)
					continue;
				s = items->bias[i];
				if (spec->user)
					s += cblas_sdot(k, items->Q + (Size) i * k, 1, spec->user, 1);
				cf_topn_add(t, s, i);
				if ((j & 0x3FFF) == 0)
					CHECK_FOR_INTERRUPTS();
			}
			pfree(c);
			if (ex)
				pfree(ex);
			return;
		}
		mask = palloc0(n);
		for (int32 j = 0; j < spec->ncandidates; j++)
			mask[spec->candidates[j]] = true;
	}

	/* every item: b_i + Q p in one sgemv */
	if (spec->user && n > 0 && k > 0)
	{
		buf = cf_palloc_huge_array(float, n);
		memcpy(buf, items->bias, (Size) n * sizeof(float));
		cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, items->Q, k,
					spec->user, 1, 1.0f, buf, 1);
		scores = buf;
	}
	else
		scores = items->bias;
	CHECK_FOR_INTERRUPTS();

	lo = 0;
	for (int32 e = 0; e < nex; e++)
	{
		offer_range(t, scores, mask, lo, ex[e]);
		lo = ex[e] + 1;
	}
	offer_range(t, scores, mask, lo, n);

	if (buf)
		pfree(buf);
	if (mask)
		pfree(mask);
	if (ex)
		pfree(ex);
}

/* Items per tile of cf_rank_block for k factors: a tile of Q about TILE_BYTES. */
int32
cf_rank_tile(int k)
{
	return Max(64, (int32) (TILE_BYTES / (Max(k, 1) * sizeof(float))));
}

/* Offer items lo..hi-1 with scores s[i - lo] + bias[i], skipping the excluded. */
static inline void
offer_tile(CfTopN *t, const float *s, const float *bias, int32 lo, int32 hi,
		   const int32 *ex, int32 nex, int32 *expos)
{
	int32		e = *expos;
	int32		from = lo;

	while (e < nex && ex[e] < lo)
		e++;
	for (; e < nex && ex[e] < hi; e++)
	{
		cf_topn_offer(t, s + (from - lo), bias, from, ex[e]);
		from = ex[e] + 1;
	}
	cf_topn_offer(t, s + (from - lo), bias, from, hi);
	*expos = e;
}

/*
 * Rank the items for a block of users, one sgemm per tile of items (see
 * score.h).  A tile of Q stays in the L2 cache while every user of the
 * block goes over it.
 */
void
cf_rank_block(const CfItems *items, const float *P, int32 nusers,
			  const int32 *const *ex, const int32 *nex, CfTopN *const *tops,
			  float *S, int32 tile)
{
	int			k = items->k;
	int32	   *expos;

	if (nusers == 0)
		return;
	expos = palloc0(nusers * sizeof(int32));
	for (int32 lo = 0; lo < items->n; lo += tile)
	{
		int32		hi = Min(lo + tile, items->n);
		int32		tn = hi - lo;

		if (k > 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nusers, tn, k, 1.0f,
						P, k, items->Q + (Size) lo * k, k, 0.0f, S, tn);
		else
			memset(S, 0, sizeof(float) * (Size) nusers * tn);
		for (int32 j = 0; j < nusers; j++)
			offer_tile(tops[j], S + (Size) j * tn, items->bias, lo, hi,
					   ex[j], nex[j], &expos[j]);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(expos);
}

/*
 * The recommendation tail shared by cf_recommend and cf_recommend_for_ratings
 * (see score.h).
 */
void
cf_recommend_rows(ReturnSetInfo *rsinfo, const CfItems *items, const float *user, double base,
				  int32 n, const int32 *rated, int32 nrated, const int64 *exclude_ids,
				  int nexclude_ids, bool has_candidates, const int64 *candidate_ids,
				  int ncandidate_ids)
{
	CfRankSpec	spec;
	CfTopN		top;
	int32	   *ex = palloc((nrated + nexclude_ids + 1) * sizeof(int32));

	memset(&spec, 0, sizeof(spec));
	spec.user = user;
	if (nrated > 0)
		memcpy(ex, rated, nrated * sizeof(int32));
	spec.exclude = ex;
	spec.nexclude = nrated + cf_item_indices_into(items, exclude_ids, nexclude_ids, ex + nrated);
	spec.has_candidates = has_candidates;
	if (has_candidates)
		spec.candidates = cf_item_indices(items, candidate_ids, ncandidate_ids,
										  &spec.ncandidates);

	cf_topn_init(&top, Min(n, items->n));
	cf_rank_items(items, &spec, &top);
	cf_topn_sort(&top);
	for (int32 j = 0; j < top.size; j++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		int32		i = top.key[j];

		values[0] = cf_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, items->item_type,
								 items->ids[i], items->keys ? items->keys[i] : NULL,
								 items->name, "item");
		values[1] = Float8GetDatum(cf_float4_double(base + top.score[j]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(ex);
}

/*
 * Similarity, and ids a model lacks
 */

/*
 * The cosine of two vectors from their dot product and squared norms, in
 * double precision: 0 if either is zero, clamped to [-1, 1] (rounding can
 * pass it), then rounded to the single precision of the stored factors, so
 * that vectors of one direction tie exactly (and then come by id).
 */
float
cf_cosine(double dot, double ssa, double ssb)
{
	double		c;

	if (!(ssa > 0 && ssb > 0))
		return 0.0f;
	c = dot / (sqrt(ssa) * sqrt(ssb));
	return (float) Max(-1.0, Min(1.0, c));
}

/* The cosine of two k-vectors (cf_cosine). */
float
cf_cosine_of(const float *a, const float *b, int k)
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
	return cf_cosine(dot, ssa, ssb);
}


/* Error for an item id the model does not have. */
void
cf_unknown_item(const char *item_id, const char *model)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("item \"%s\" is not in model \"%s\"", item_id, model)));
}

/* Error for a user id the model does not have. */
void
cf_unknown_user(const char *user_id, const char *model)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("user \"%s\" is not in model \"%s\"", user_id, model)));
}

/*
 * Predictions
 */

/* Clip a prediction to the model's rating range. */
static double
clip(const CfModelInfo *info, double x)
{
	return Min(Max(x, info->min), info->max);
}

/*
 * cf_predict(user_id, item_id, model text) RETURNS float8, the ids bigint,
 * text, or a uuid user and a text item
 */
Datum
cf_predict(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	int64		user_id;
	int64		item_id;
	char	   *model = cf_model_name_arg(fcinfo, 2);
	CfModelInfo info;
	CfUserRow	user;
	CfItems    *items;
	bool		have_user;
	int32		i;
	double		pred;

	have_user = cf_lookup_user_arg(nsp, model, &info, CF_USER_FACTORS, fcinfo, 0, &user_id, &user);
	item_id = cf_id_arg(fcinfo, 1, info.item_type, model, "item");
	items = cf_items_acquire_some(nsp, model, &info, cf_int8_array(&item_id, 1));
	i = cf_item_index(items, item_id);

	pred = info.predicts_ratings ? info.mean : 0;
	if (have_user)
		pred += user.bias;
	if (i >= 0)
		pred += items->bias[i];
	if (have_user && i >= 0 && info.k > 0)
		pred += cblas_sdot(info.k, user.factors, 1, items->Q + (Size) i * info.k, 1);
	cf_items_release(items);

	PG_RETURN_FLOAT8(cf_float4_double(info.predicts_ratings ? clip(&info, pred) : pred));
}

/*
 * cf_recommend(user_id bigint, n int, model text, exclude_rated boolean,
 *				exclude_items bigint[], candidates bigint[])
 *		RETURNS TABLE(item_id bigint, score float8)
 * (or with a text or uuid user_id, text[] items and text item_id)
 *
 * Installs of 0.1.0 not yet updated call it with the first four
 * arguments only.
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
	int64	   *exclude_ids = NULL;
	int			nexclude_ids = 0;
	int64	   *candidate_ids = NULL;
	int			ncandidate_ids = 0;
	bool		has_candidates;
	CfModelInfo info;
	CfUserRow	user;
	bool		have_user;
	CfItems    *items;
	int32	   *rated = NULL;
	int32		nrated = 0;

	cf_require_arg(fcinfo, 0, "user_id");
	cf_require_arg(fcinfo, 1, "n");
	cf_require_arg(fcinfo, 3, "exclude_rated");
	n = PG_GETARG_INT32(1);
	model = cf_model_name_arg(fcinfo, 2);
	exclude_rated = PG_GETARG_BOOL(3);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	InitMaterializedSRF(fcinfo, 0);

	have_user = cf_lookup_user_arg(nsp, model, &info,
								   exclude_rated ? CF_USER_RATED : CF_USER_FACTORS,
								   fcinfo, 0, &user_id, &user);
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		nexclude_ids = cf_id_array_arg(fcinfo, 4, "exclude_items", info.item_type, model,
									   "item", &exclude_ids);
	has_candidates = PG_NARGS() > 5 && !PG_ARGISNULL(5);
	if (has_candidates)
		ncandidate_ids = cf_id_array_arg(fcinfo, 5, "candidates", info.item_type, model,
										 "item", &candidate_ids);
	/* a bigint result column for ids that are not integers: error now */
	cf_check_id_result(TupleDescAttr(rsinfo->setDesc, 0)->atttypid, info.item_type,
						model, "item");
	if (!have_user && !info.has_biases)
		return (Datum) 0;		/* no preferences known: nothing to rank by */
	if (has_candidates)
		items = cf_items_acquire_some(nsp, model, &info,
									  cf_int8_array(candidate_ids, ncandidate_ids));
	else
		items = cf_items_acquire(nsp, model, &info);

	if (have_user && exclude_rated)
	{
		rated = palloc((user.nrated + 1) * sizeof(int32));
		nrated = cf_item_indices_into(items, user.rated, user.nrated, rated);
	}
	cf_recommend_rows(rsinfo, items, have_user ? user.factors : NULL,
					  (info.predicts_ratings ? info.mean : 0) + (have_user ? user.bias : 0), n,
					  rated, nrated, exclude_ids, nexclude_ids, has_candidates, candidate_ids,
					  ncandidate_ids);
	cf_items_release(items);
	return (Datum) 0;
}
