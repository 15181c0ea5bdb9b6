/*-------------------------------------------------------------------------
 *
 * foldin.h
 *	  A user's normal equations against a trained model's fixed items:
 *	  what folding a user in and explaining a score (explain.c) solve.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_FOLDIN_H
#define CF_FOLDIN_H

#include "cache.h"
#include "load.h"
#include "model.h"

/*
 * A user's system (G + lambda I) x = b, Cholesky-factored, with the
 * history it was built from.  Explicit models (sgd, als): x = (b_u, p_u),
 * a_j = (1, q_j), coef_j = r_j - mu - b_j (every rating one entry, so an
 * item rated twice appears twice), G = sum_j a_j a_j^T.  Implicit models
 * (ials): x = x_u, a_j = y_j, coef_j = 1 + alpha r_j (the ratings of one
 * item summed, items summing to 0 or less left out), G = Y^T Y +
 * sum_j alpha r_j y_j y_j^T.  In both, b = sum_j coef_j a_j.
 */
typedef struct CfFoldSystem
{
	int			d;				/* unknowns: k, plus 1 for the bias (explicit) */
	int			bias;			/* index of the bias in x, or -1 (implicit) */
	int32		n;				/* history entries */
	int32	   *idx;			/* their item indices */
	float	   *A;				/* n x d: the a_j */
	float	   *coef;			/* n: the coef_j */
	float	   *U;				/* d x d: Cholesky factor of G + lambda I */
	float	   *b;				/* d */
} CfFoldSystem;

/* A user whose ratings are folded in, for messages: its 64-bit id and, if typed, its key. */
typedef struct CfFoldUser
{
	int64		id;
	const char *key;			/* the canonical text of a typed id, else NULL */
} CfFoldUser;

/*
 * Build and factor the system of a user with n ratings r of the items
 * with indices idx in items (all of the model's items for an implicit
 * model), for the model info describes.  function names the SQL function
 * for errors (a model without the settings the system needs), user the
 * user (NULL: ratings given) for the error on a system that overflows.
 */
extern void cf_fold_system(CfItems *items, const CfModelInfo *info, const char *model,
						   const char *function, const CfFoldUser *user, const int32 *idx,
						   const float *r, int32 n, CfFoldSystem *sys);

/* x := the solution of a factored system (d floats). */
extern void cf_fold_solve(const CfFoldSystem *sys, float *x);

/*
 * The current rows of some users (user_ids, an array of the model's user
 * id type; bigint[] for integers) in the source the model records in
 * cf_models, resolved and checked like training's (rating_column NULL for a
 * model trained without one; id columns of the model's types) and read as
 * the model's owner (access.c), into *data.
 */
extern void cf_load_model_source(Oid nsp, const char *model, const CfModelInfo *info,
								 Datum user_ids, CfSource *src, CfRatings *data);

#endif							/* CF_FOLDIN_H */
