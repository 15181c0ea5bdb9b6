/*-------------------------------------------------------------------------
 *
 * bayes.h
 *	  The draws of Bayesian matrix factorization's Gibbs sampler that are
 *	  not a row's: the hyperparameters of each side's prior and the noise
 *	  precision, and the seeds of every draw.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_BAYES_H
#define CF_BAYES_H

#include "common/pg_prng.h"

#include "load.h"
#include "model.h"

/*
 * The seed of the draws of one part of one sample: of row `row` of side
 * `side` in sample `sample` (row -1: the side's hyperparameters; side -1:
 * the noise precision).  A function of the training's seed alone, so the
 * sampler draws the same with any number of workers.
 */
extern uint64 cf_bayes_seed(uint64 seed, int sample, int side, int64 row);

/* A draw from the gamma distribution of this shape and rate 1. */
extern double cf_gamma(pg_prng_state *rng, double shape);

/*
 * Draw a side's prior (mu, Lambda) from its Normal-Wishart posterior given
 * the side's n current rows of d = k + 1 unknowns (the k floats of row r
 * at F + r * stride, then bias[r]), and write it as the start of every
 * row's system for a noise precision alpha, in the layout of the ALS
 * solver's matrices (column-major, leading dimension d + 1, lower
 * triangle): Lambda / alpha in the d x d part, Lambda mu / alpha in row d.
 */
extern void cf_bayes_prior(const float *F, int stride, const float *bias, int32 n, int k,
						   double alpha, pg_prng_state *rng, float *prior);

/*
 * A draw of the noise precision alpha from its posterior given the sum of
 * squared errors sse of n ratings (a Gamma(1, 1) prior).
 */
extern double cf_bayes_precision(double sse, int64 n, pg_prng_state *rng);

/* A user's sums in a dimension's sweep of the implicit term. */
typedef struct CfImplicitUser
{
	float		cs;				/* c_u sum_i q_if e_ui */
	float		a;				/* c_u^2 sum_i q_if^2 */
	float		dy;				/* sum of the changes of the user's y_jf so far */
} CfImplicitUser;

/*
 * The SVD++ implicit term of a Bayesian model (Koren, "Factorization Meets
 * the Neighborhood", KDD 2008): a user's vector is p_u + z_u with
 * z_u = |N(u)|^-1/2 sum_(j in N(u)) y_j over the items N(u) the user rated.
 * The arrays of one training's term, in the ALS driver's row positions.
 */
typedef struct CfImplicitTerm
{
	int			k;
	int			stride;			/* floats per row of Q */
	int32		users;
	int32		items;
	const int64 *ustart;		/* the users' lists: item positions */
	const int32 *ucol;
	const int64 *istart;		/* the items' lists: user positions */
	const int32 *icol;
	const float *Q;				/* items' vectors */
	float	   *z;				/* users x k: z_u */
	float	   *y;				/* items x k: y_j, 0 at the start */
	float	   *QT;				/* k x items: Q by dimension */
	float	   *e;				/* per user entry: the rating's error */
	float	   *c;				/* per user: |N(u)|^-1/2 */
	CfImplicitUser *user;		/* per user */
	float	   *normals;		/* items: draws */
} CfImplicitTerm;

/* Bytes of an implicit term's arrays (CfImplicitTerm) besides z. */
extern Size cf_implicit_term_bytes(int32 users, int32 items, int64 nnz, int k);

/*
 * One sample's draw of every y_j given the rest and the errors e of the
 * current model, then z, with noise precision alpha.
 */
extern void cf_bayes_implicit_step(CfImplicitTerm *t, double alpha, pg_prng_state *rng);

/* The training RMSE of biased factors f over data, as CfFit (loss = MSE). */
extern void cf_bayes_fit_factors(const CfRatings *data, const CfFactors *f, double *loss,
								 double *rmse);

#endif							/* CF_BAYES_H */
