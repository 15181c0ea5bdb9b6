/*-------------------------------------------------------------------------
 *
 * split.h
 *	  Reproducible train/test splits: the split hash, the SQL split
 *	  functions, and splitting loaded ratings in memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SPLIT_H
#define CF_SPLIT_H

#include "load.h"

/*
 * The split value of a (user, item) pair under a seed: a number in [0, 1)
 * from integer hashing only (the splitmix64 finalizer, see split.c), so the
 * same on every machine.  cf_split_hash() in SQL returns it.
 */
extern double cf_split_value(int64 user_id, int64 item_id, int64 seed);

/*
 * Which ratings a split holds out: those whose split value v under seed has
 * v < fraction, or, when folds > 0, floor(v * folds) = fold (fold f of a
 * cross-validation).  SQL: cf_split_random() and cf_split_fold().
 */
typedef struct CfHoldout
{
	int64		seed;
	double		fraction;
	int			folds;
	int			fold;
} CfHoldout;

/* Whether the rating of a (user, item) pair is held out. */
extern bool cf_held_out(const CfHoldout *h, int64 user_id, int64 item_id);

/*
 * Split loaded ratings in two by a holdout: the ratings held out go to
 * *held (if not NULL), the others to *kept.  Each part is a CfRatings of
 * its own, as the loader would have made from its rows: dense indices in
 * ascending id order, sorted by (user, item, rating), mean, min and max of
 * its ratings (0 when it has none).  Allocated in CurrentMemoryContext.
 */
extern void cf_split_ratings(const CfRatings *all, const CfHoldout *h,
							 CfRatings *kept, CfRatings *held);

/*
 * For each index of a sorted id array `from`, the index of the same id in
 * the sorted id array `to`, or -1 (a merge of the two).
 */
extern int32 *cf_match_ids(const int64 *from, int32 nfrom, const int64 *to, int32 nto);

#endif							/* CF_SPLIT_H */
