/*-------------------------------------------------------------------------
 *
 * solve.h
 *	  Regularized least squares for one vector: the normal equations of a
 *	  row of ALS or iALS, built with BLAS and solved by Cholesky (LAPACK),
 *	  for training, folding users in and explaining scores.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SOLVE_H
#define CF_SOLVE_H

/*
 * Matrices are column-major d x d with only the upper triangle meaningful
 * (what ssyrk writes and spotrf reads); a set of n vectors of d floats
 * stored one after another with stride lda (row j at A + j * lda) is, to
 * BLAS, the d x n column-major matrix A.
 */

/* G += A^T A over the n vectors of A (ssyrk); G's upper triangle only. */
extern void cf_gram_add(float *G, const float *A, int n, int d, int lda);

/* b += sum_j y[j] a_j over the n vectors of A (sgemv). */
extern void cf_rhs_add(float *b, const float *A, int n, int d, int lda, const float *y);

/*
 * U = the Cholesky factor of G + lambda I (G^T's upper triangle read;
 * S = U^T U), with spotrf.  If that is not positive definite (lambda = 0
 * and too few independent vectors), a tiny ridge, 1e-6 of the mean
 * diagonal, is added once.  Returns false if it still is not.  G is not
 * changed; U must not overlap it.
 */
extern bool cf_cholesky_factor(const float *G, int d, double lambda, float *U);

/*
 * The ridge of the one retry of a system that was not positive definite
 * with ridge lambda (trace: of its matrix without the ridge, order d).
 */
extern double cf_retry_ridge(double lambda, double trace, int d);

/* b := S^-1 b for S factored by cf_cholesky_factor (spotrs). */
extern void cf_cholesky_solve(const float *U, int d, float *b);

#endif							/* CF_SOLVE_H */
