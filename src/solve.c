/*-------------------------------------------------------------------------
 *
 * solve.c
 *	  Regularized least squares (ridge regression) for one vector.
 *
 * Both ALS (Zhou, Wilkinson, Schreiber & Pan, "Large-scale Parallel
 * Collaborative Filtering for the Netflix Prize", 2008) and folding a new
 * user into a trained model (Sarwar, Karypis, Konstan & Riedl,
 * "Incremental SVD-based algorithms...", 2002, for the idea) hold one side
 * of the factorization fixed and solve, for one row of the other side,
 *
 *		min_x |A x - y|^2 + lambda |x|^2
 *
 * where the rows of A are the fixed side's vectors of the observed pairs
 * and y their targets.  The normal equations (A^T A + lambda I) x = A^T y
 * are small (d = factors, plus one for a bias) and symmetric positive
 * definite for lambda > 0: the Gram matrix by ssyrk, the right-hand side
 * by sgemv, then a Cholesky factorization (spotrf) and two triangular
 * solves (spotrs).  BLAS and LAPACK work column-major; A's rows, stored
 * row-major with stride lda, are the columns of a d x n column-major
 * matrix, which is what the calls below see.
 *
 * With lambda = 0 and fewer independent rows than d the system is
 * singular; then a tiny ridge (1e-6 of the mean diagonal) is added once so
 * that a solution, close to the minimum-norm one, still comes out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "blas.h"
#include "solve.h"

/* Cholesky-solve G x = b in place (b becomes x); false if not positive definite. */
static bool
cholesky_solve(float *G, float *b, int d)
{
	int			info = 0;
	int			one = 1;

	spotrf_("U", &d, G, &d, &info);
	if (info != 0)
		return false;
	spotrs_("U", &d, &one, G, &d, b, &d, &info);
	return info == 0;
}

/*
 * x = argmin |A x - y|^2 + lambda |x|^2 (A: n rows of d floats, stride
 * lda).  work: d * d + d floats.  Returns false if even a tiny extra ridge
 * leaves the system singular (x untouched then).
 */
bool
cf_ridge_solve(const float *A, int n, int d, int lda, const float *y,
			   double lambda, float *x, float *work)
{
	float	   *G = work;
	float	   *b = work + (Size) d * d;
	double		trace = 0;

	/* G = A^T A (upper triangle), b = A^T y */
	if (n > 0)
	{
		cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, n, 1.0f, A, lda,
					0.0f, G, d);
		cblas_sgemv(CblasColMajor, CblasNoTrans, d, n, 1.0f, A, lda, y, 1, 0.0f, b, 1);
	}
	else
	{
		memset(G, 0, sizeof(float) * d * d);
		memset(b, 0, sizeof(float) * d);
	}
	for (int c = 0; c < d; c++)
	{
		trace += G[c * d + c];
		G[c * d + c] += (float) lambda;
	}
	memcpy(x, b, sizeof(float) * d);
	if (cholesky_solve(G, x, d))
		return true;

	/* singular (lambda = 0): rebuild with a tiny ridge and try once more */
	if (n > 0)
		cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, n, 1.0f, A, lda,
					0.0f, G, d);
	else
		memset(G, 0, sizeof(float) * d * d);
	for (int c = 0; c < d; c++)
		G[c * d + c] += (float) (lambda + 1e-6 * Max(trace / d, 1e-6));
	memcpy(x, b, sizeof(float) * d);
	return cholesky_solve(G, x, d);
}
