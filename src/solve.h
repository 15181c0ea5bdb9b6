/*-------------------------------------------------------------------------
 *
 * solve.h
 *	  Regularized least squares (ridge regression) for one vector: the
 *	  step of ALS and of folding a user into a trained model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SOLVE_H
#define CF_SOLVE_H

/*
 * x = argmin |A x - y|^2 + lambda |x|^2, for A with n rows of d floats
 * (row j at A + j * lda, lda >= d), by the normal equations
 * (A^T A + lambda I) x = A^T y.  work holds d * d + d floats.  Returns
 * false if the system stays singular even with a tiny extra ridge.
 */
extern bool cf_ridge_solve(const float *A, int n, int d, int lda, const float *y,
						   double lambda, float *x, float *work);

#endif							/* CF_SOLVE_H */
