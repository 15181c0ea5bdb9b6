/*-------------------------------------------------------------------------
 *
 * score.h
 *	  Scoring helpers shared by the prediction, recommendation, batch,
 *	  similarity and fold-in functions: top-N selection and item ranking.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SCORE_H
#define CF_SCORE_H

#include "fmgr.h"
#include "funcapi.h"
#include "lib/binaryheap.h"

#include "cache.h"
#include "util.h"

/*
 * The best `limit` (score, key) pairs seen: higher score first, ties by
 * lower key.  A bounded binary heap (lib/binaryheap.h) of slot numbers,
 * worst on top, growing by doubling up to limit, so that a huge limit costs
 * only what is kept.
 */
typedef struct CfTopN
{
	int64		limit;
	int32		size;			/* slots in use */
	int32		cap;			/* slots allocated */
	float	   *score;
	int64	   *key;
	binaryheap *heap;
	float		worst;			/* the heap top, when size == limit */
	int64		worst_key;
} CfTopN;

/* Set up an empty selection of the best `limit` pairs. */
extern void cf_topn_init(CfTopN *t, int64 limit);

/* Empty it for reuse. */
extern void cf_topn_reset(CfTopN *t);

/* Add a pair that may belong (see cf_topn_add). */
extern void cf_topn_insert(CfTopN *t, float score, int64 key);

/* Offer a pair; the common case (worse than all kept) costs one compare. */
static inline void
cf_topn_add(CfTopN *t, float score, int64 key)
{
	if (t->size == t->limit &&
		(score < t->worst || (score == t->worst && key > t->worst_key)))
		return;
	cf_topn_insert(t, score, key);
}

/*
 * Offer keys lo..hi-1 with scores s[j - lo] + b[j] (b may be NULL).  In
 * chunks of 16: one vectorizable maximum per chunk, and a chunk whose best
 * cannot enter is skipped with one compare, so that a pass over a large
 * catalog costs little more than reading it.
 */
static inline void
cf_topn_offer(CfTopN *t, const float *s, const float *b, int32 lo, int32 hi)
{
	int32		j = lo;

	for (; j + 16 <= hi; j += 16)
	{
		float		v[16];
		float		m;

		for (int c = 0; c < 16; c++)
			v[c] = s[j - lo + c] + (b ? b[j + c] : 0.0f);
		m = v[0];
		for (int c = 1; c < 16; c++)
			m = v[c] > m ? v[c] : m;
		if (t->size == t->limit && m < t->worst)
			continue;
		for (int c = 0; c < 16; c++)
			cf_topn_add(t, v[c], j + c);
	}
	for (; j < hi; j++)
		cf_topn_add(t, s[j - lo] + (b ? b[j] : 0.0f), j);
}

/* Sort the kept pairs best first into score[0..size), key[0..size); returns size. */
extern int32 cf_topn_sort(CfTopN *t);

/* What to rank for one user (cf_rank_items). */
typedef struct CfRankSpec
{
	const float *user;			/* k factors, or NULL for the baseline (bias) */
	const int32 *exclude;		/* item indices left out (any order, repeats ok) */
	int32		nexclude;
	const int32 *candidates;	/* rank only these item indices, if has_candidates */
	int32		ncandidates;
	bool		has_candidates;
} CfRankSpec;

/*
 * The best items for a spec into t (initialised by the caller): keys are
 * item indices, scores b_i + p . q_i (the caller adds mean + b_u).
 */
extern void cf_rank_items(const CfItems *items, const CfRankSpec *spec, CfTopN *t);

/* Items per tile of cf_rank_block for k factors. */
extern int32 cf_rank_tile(int k);

/*
 * Rank the items for a block of users: tops[j] (initialised by the caller)
 * receives the best items for the user whose k factors are row j of P
 * (nusers x k, row-major), scored b_i + p . q_i, leaving out the item
 * indices ex[j][0..nex[j]) (ascending; NULL when nex[j] is 0).  One sgemm
 * per tile of `tile` items (cf_rank_tile); S is scratch of nusers x tile
 * floats.  For k = 0 the scores are the item biases.
 */
extern void cf_rank_block(const CfItems *items, const float *P, int32 nusers,
						  const int32 *const *ex, const int32 *nex, CfTopN *const *tops,
						  float *S, int32 tile);

/*
 * The recommendation tail shared by cf_recommend and cf_recommend_for_ratings:
 * rank items for the user's vector (NULL: by item bias alone), leaving out
 * the item indices rated[0..nrated) and the ids exclude_ids (unknown ones
 * ignored), ranking only the ids candidate_ids if has_candidates, and put
 * the best n into rsinfo as (item_id, base + score) rows, best first.
 */
extern void cf_recommend_rows(ReturnSetInfo *rsinfo, const CfItems *items, const float *user,
							  double base, int32 n, const int32 *rated, int32 nrated,
							  const int64 *exclude_ids, int nexclude_ids, bool has_candidates,
							  const int64 *candidate_ids, int ncandidate_ids);

/*
 * The cosine of two vectors from their dot product and squared norms, in
 * double: 0 if either is zero, clamped to [-1, 1], rounded to single
 * precision (so that vectors of one direction tie exactly).
 */
extern float cf_cosine(double dot, double ssa, double ssb);

/* The cosine of two k-vectors, the sums in double (cf_cosine). */
extern float cf_cosine_of(const float *a, const float *b, int k);

/* Errors for an id the model does not have (22023). */
extern pg_noreturn void cf_unknown_item(const char *item_id, const char *model);
extern pg_noreturn void cf_unknown_user(const char *user_id, const char *model);

#endif							/* CF_SCORE_H */
