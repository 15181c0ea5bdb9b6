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

/* The training RMSE of biased factors f over data, as CfFit (loss = MSE). */
extern void cf_bayes_fit_factors(const CfRatings *data, const CfFactors *f, double *loss,
								 double *rmse);

#endif							/* CF_BAYES_H */
