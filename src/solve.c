/*-------------------------------------------------------------------------
 *
 * solve.c
 *	  Regularized least squares for one vector: the normal equations of a
 *	  row of ALS or iALS.
 *
 * Both ALS (Zhou, Wilkinson, Schreiber & Pan, "Large-scale Parallel
 * Collaborative Filtering for the Netflix Prize", 2008; Hu, Koren &
 * Volinsky, "Collaborative Filtering for Implicit Feedback Datasets",
 * 2008) and folding a new user into a trained model (Sarwar, Karypis,
 * Konstan & Riedl, "Incremental SVD-based algorithms...", 2002, for the
 * idea) hold one side of the factorization fixed and solve, for one row of
 * the other side,
 *
 *		(G0 + sum_j w_j a_j a_j^T + lambda I) x = sum_j y_j a_j
 *
 * where the a_j are the fixed side's vectors of the row's observed pairs
 * (G0 = 0 and w_j = 1 for explicit ratings: plain ridge regression; for
 * implicit feedback G0 = Y^T Y and w_j = c_j - 1).  The matrix is small (d
 * = factors, plus one for a bias) and symmetric positive definite for
 * lambda > 0: its Gram part by ssyrk over the a_j (scaled by sqrt(w_j)),
 * the right-hand side by sgemv, then a Cholesky factorization (spotrf)
 * and two triangular solves (spotrs), all from OpenBLAS.  BLAS and LAPACK
 * work column-major; vectors stored one after another with stride lda are
 * the columns of a d x n column-major matrix, which is what the calls
 * below see.
 *
 * With lambda = 0 and fewer independent vectors than d the system is
 * singular; then a tiny ridge (1e-6 of the mean diagonal) is added once so
 * that a solution, close to the minimum-norm one, still comes out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "blas.h"
#include "solve.h"

/* G += A^T A over the n vectors of A (upper triangle). */
void
cf_gram_add(float *G, const float *A, int n, int d, int lda)
{
	if (n > 0)
		cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, n, 1.0f, A, lda,
					1.0f, G, d);
}

/* b += sum_j y[j] a_j over the n vectors of A. */
void
cf_rhs_add(float *b, const float *A, int n, int d, int lda, const float *y)
{
	if (n > 0)
		cblas_sgemv(CblasColMajor, CblasNoTrans, d, n, 1.0f, A, lda, y, 1, 1.0f, b, 1);
}

/* Factor S = G + ridge I into U in place; false if not positive definite. */
static bool
factor_with_ridge(const float *G, int d, double ridge, float *U)
{
	int			info = 0;

	memcpy(U, G, sizeof(float) * d * d);
	for (int c = 0; c < d; c++)
		U[c * d + c] += (float) ridge;
	spotrf_("U", &d, U, &d, &info);
	return info == 0;
}

/*
 * The ridge of the one retry of a system that was not positive definite
 * with ridge lambda: a tiny extra ridge, 1e-6 of the mean diagonal (trace
 * / d, at least 1e-6).  The one rule for every solver (ALS's too).
 */
double
cf_retry_ridge(double lambda, double trace, int d)
{
	return lambda + 1e-6 * Max(trace / d, 1e-6);
}

/*
 * U = Cholesky factor of G + lambda I (upper); one retry with a tiny extra
 * ridge if that is not positive definite.  False if still not.
 */
bool
cf_cholesky_factor(const float *G, int d, double lambda, float *U)
{
	double		trace = 0;

	if (factor_with_ridge(G, d, lambda, U))
		return true;
	for (int c = 0; c < d; c++)
		trace += G[c * d + c];
	return factor_with_ridge(G, d, cf_retry_ridge(lambda, trace, d), U);
}

/* b := S^-1 b for S = U^T U. */
void
cf_cholesky_solve(const float *U, int d, float *b)
{
	int			info = 0;
	int			one = 1;

	spotrs_("U", &d, &one, U, &d, b, &d, &info);
	if (info != 0)
		elog(ERROR, "spotrs failed with info %d", info);
}
