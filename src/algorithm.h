/*-------------------------------------------------------------------------
 *
 * algorithm.h
 *	  The table of algorithms: one CfAlgorithm descriptor each (train.h),
 *	  looked up by name in one place.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_ALGORITHM_H
#define CF_ALGORITHM_H

#include "train.h"

/* The algorithm of a cf_train argument; error, listing them, if there is none. */
extern const CfAlgorithm *cf_find_algorithm(const char *name);

/* The algorithm a stored model names, or NULL (a hand-made row, say). */
extern const CfAlgorithm *cf_algorithm_by_name(const char *name);

/* How cf_algorithm_list writes the names. */
typedef enum CfListStyle
{
	CF_LIST_PLAIN,				/* sgd, als, ials */
	CF_LIST_QUOTED,				/* "sgd", "als", "ials" */
	CF_LIST_QUOTED_AND			/* "sgd", "als" and "ials" */
} CfListStyle;

/*
 * The names of the algorithms for which test(alg, arg) holds (all if test
 * is NULL), in the table's order, as a list for a message.
 */
extern char *cf_algorithm_list(bool (*test) (const CfAlgorithm *alg, int arg), int arg,
							   CfListStyle style);

/* Tests for cf_algorithm_list: takes every CF_ARG_* of arg; has a fold-in; an explanation. */
extern bool cf_algorithm_uses(const CfAlgorithm *alg, int mask);
extern bool cf_algorithm_folds(const CfAlgorithm *alg, int unused);
extern bool cf_algorithm_explains(const CfAlgorithm *alg, int unused);

#endif							/* CF_ALGORITHM_H */
