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
 * Each kind of split has a hash of its own, so that splits nested with one
 * seed are independent (a validation set held out of a training table made
 * by cf_split_random with the same seed is not empty): the seed is XORed
 * with the kind's salt, the ASCII bytes of a word, before hashing.  Test
 * splits (cf_split_random, cf_split) use the seed as it is.
 */
#define CF_SALT_VALIDATION	INT64CONST(0x76616c6964617465)	/* "validate" */
#define CF_SALT_FOLD		INT64CONST(0x666f6c64666f6c64)	/* "foldfold" */

/*
 * Which ratings a split holds out: those whose split value v under seed has
 * v < fraction, or, when folds > 0, floor(v * folds) = fold (fold f of a
 * cross-validation).  The seed here is the salted one.  SQL:
 * cf_split_random(), cf_split_validation() and cf_split_fold().
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

/* The holdout of cf_train's validation set (cf_split_validation). */
extern CfHoldout cf_validation_holdout(int64 seed, double fraction);

/* The holdout of fold `fold` of a cross-validation (cf_split_fold). */
extern CfHoldout cf_fold_holdout(int64 seed, int folds, int fold);

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
