/*-------------------------------------------------------------------------
 *
 * bayes.c
 *	  Bayesian matrix factorization by Gibbs sampling: the draws that are
 *	  not a row's.
 *
 * Bayesian probabilistic matrix factorization (Salakhutdinov & Mnih,
 * "Bayesian Probabilistic Matrix Factorization using Markov Chain Monte
 * Carlo", ICML 2008) puts a Gaussian prior N(mu, Lambda^-1) on every row
 * of a side (a user's or an item's factors and, here, its bias: d = k + 1
 * unknowns), a Normal-Wishart hyperprior on (mu, Lambda), and Gaussian
 * noise of precision alpha on the ratings.  A sample of the chain draws,
 * for items then users, the side's (mu, Lambda) given its rows
 * (cf_bayes_prior), then every row given the other side, which is an ALS
 * row's system with the prior in place of the ridge plus a Gaussian draw
 * (als_solve.c); then alpha given the errors (cf_bayes_precision; the
 * paper fixes alpha = 2, sampling it is a conjugate Gamma step).  The
 * model kept is the mean of the rows over the samples after burn-in.
 *
 * Hyperprior, as in the paper: mu_0 = 0, beta_0 = 2, nu_0 = d, W_0 = I;
 * for alpha a Gamma(1, 1).  Every draw comes from a generator seeded by
 * what it draws (cf_bayes_seed), not from a shared stream, so the sample
 * is the same whichever process draws a row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "bayes.h"
#include "blas.h"
#include "util.h"

/* The hyperprior (Salakhutdinov & Mnih, section 3). */
#define BETA_0			2.0
#define PRECISION_A0	1.0		/* Gamma(a0, b0) prior of alpha */
#define PRECISION_B0	1.0

/* Rows gathered per dsyrk call of a side's scatter. */
#define SCATTER_ROWS	256

/* The splitmix64 finalizer. */
static inline uint64
mix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* The seed of one part of one sample (see bayes.h). */
uint64
cf_bayes_seed(uint64 seed, int sample, int side, int64 row)
{
	uint64		h = mix64(seed + UINT64CONST(0x9e3779b97f4a7c15));

	h = mix64(h ^ ((uint64) (uint32) sample << 2 ^ (uint64) (side + 1)));
	return mix64(h ^ (uint64) row);
}

/*
 * A draw from Gamma(shape, 1): Marsaglia & Tsang, "A Simple Method for
 * Generating Gamma Variables" (ACM TOMS 26(3), 2000), with their boost for
 * shapes below 1.
 */
double
cf_gamma(pg_prng_state *rng, double shape)
{
	double		d,
				c;

	if (shape < 1)
	{
		double		u = 1.0 - pg_prng_double(rng); /* in (0, 1] */

		return cf_gamma(rng, shape + 1) * pow(u, 1.0 / shape);
	}
	d = shape - 1.0 / 3;
	c = 1.0 / sqrt(9 * d);
	for (;;)
	{
		double		x = cf_normal(rng);
		double		v = 1 + c * x;
		double		u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = 1.0 - pg_prng_double(rng);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

/*
 * In place, the lower Cholesky factor L of the d x d symmetric positive
 * definite A (row-major, lower triangle read): A = L L^T.  Error if it is
 * not positive definite (a diverged chain).
 */
static void
cholesky_lower(double *A, int d)
{
	for (int j = 0; j < d; j++)
	{
		double		s = A[j * d + j];

		for (int p = 0; p < j; p++)
			s -= A[j * d + p] * A[j * d + p];
		if (!(s > 0) || !isfinite(s))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("sampling failed: a prior's precision matrix is not positive definite"),
					 errhint("Use fewer factors, or another seed.")));
		s = sqrt(s);
		A[j * d + j] = s;
		for (int i = j + 1; i < d; i++)
		{
			double		t = A[i * d + j];

			for (int p = 0; p < j; p++)
				t -= A[i * d + p] * A[j * d + p];
			A[i * d + j] = t / s;
		}
		for (int i = 0; i < j; i++)
			A[i * d + j] = 0;
	}
}

/* x := L^-T x for lower triangular L (row-major d x d). */
static void
solve_upper_t(const double *L, int d, double *x)
{
	for (int i = d - 1; i >= 0; i--)
	{
		double		s = x[i];

		for (int p = i + 1; p < d; p++)
			s -= L[p * d + i] * x[p];
		x[i] = s / L[i * d + i];
	}
}

/* A side's prior, drawn from its Normal-Wishart posterior (see bayes.h). */
void
cf_bayes_prior(const float *F, int stride, const float *bias, int32 n, int k,
			   double alpha, pg_prng_state *rng, float *prior)
{
	int			d = k + 1;
	int			ld = d + 1;
	double	   *mean = palloc0(sizeof(double) * d);
	double	   *M = palloc0(sizeof(double) * d * d);	/* W*^-1, then its factor */
	double	   *T = palloc0(sizeof(double) * d * d);
	double	   *Lam = palloc0(sizeof(double) * d * d);
	double	   *x = palloc(sizeof(double) * d);
	double	   *X = palloc(sizeof(double) * SCATTER_ROWS * d);
	double	   *z = palloc(sizeof(double) * d);
	double		beta = BETA_0 + n;
	double		nu = d + (double) n;

	/* the rows' mean, then their scatter about it */
	for (int32 r = 0; r < n; r++)
	{
		for (int c = 0; c < k; c++)
			mean[c] += F[(Size) r * stride + c];
		mean[k] += bias[r];
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int c = 0; c < d; c++)
		mean[c] /= Max(n, 1);
	for (int32 r0 = 0; r0 < n; r0 += SCATTER_ROWS)
	{
		/* SCATTER_ROWS centred rows at a time, their scatter by dsyrk */
		int			m = Min(n - r0, SCATTER_ROWS);

		for (int j = 0; j < m; j++)
		{
			const float *f = F + (Size) (r0 + j) * stride;
			double	   *xj = X + (Size) j * d;

			for (int c = 0; c < k; c++)
				xj[c] = f[c] - mean[c];
			xj[k] = bias[r0 + j] - mean[k];
		}
		/* (column-major upper is M[i * d + j], j <= i, in the row-major terms here) */
		cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, m, 1.0, X, d, 1.0, M, d);
		CHECK_FOR_INTERRUPTS();
	}

	/* W*^-1 = W_0^-1 + n S + beta_0 n / (beta_0 + n) mean mean^T (mu_0 = 0) */
	for (int i = 0; i < d; i++)
	{
		for (int j = 0; j <= i; j++)
			M[i * d + j] += BETA_0 * n / beta * mean[i] * mean[j];
		M[i * d + i] += 1;
	}

	/*
	 * Lambda ~ Wishart(W*, nu*) by Bartlett's decomposition: with W*^-1 =
	 * C C^T, C^-T is a square root of W*, and Lambda = (C^-T A)(C^-T A)^T
	 * for A lower triangular, A_ii^2 ~ chi^2(nu* - i), A_ij ~ N(0, 1) below
	 * the diagonal.
	 */
	cholesky_lower(M, d);
	for (int j = 0; j < d; j++)
	{
		/* column j of A, then of C^-T A */
		for (int i = 0; i < d; i++)
			z[i] = i < j ? 0 : i == j ? sqrt(2 * cf_gamma(rng, (nu - i) / 2)) : cf_normal(rng);
		solve_upper_t(M, d, z);
		for (int i = 0; i < d; i++)
			T[i * d + j] = z[i];
	}
	for (int i = 0; i < d; i++)
		for (int j = 0; j <= i; j++)
		{
			double		s = 0;

			for (int p = 0; p < d; p++)
				s += T[i * d + p] * T[j * d + p];
			Lam[i * d + j] = Lam[j * d + i] = s;
		}

	/* mu ~ N(mu*, (beta* Lambda)^-1), mu* = n mean / beta*: mu* + R^-T z / sqrt(beta*), Lambda = R R^T */
	memcpy(T, Lam, sizeof(double) * d * d);
	cholesky_lower(T, d);
	for (int i = 0; i < d; i++)
		z[i] = cf_normal(rng) / sqrt(beta);
	solve_upper_t(T, d, z);
	for (int i = 0; i < d; i++)
		x[i] = n * mean[i] / beta + z[i];

	/* the rows' start: Lambda / alpha and Lambda mu / alpha */
	memset(prior, 0, sizeof(float) * ld * ld);
	for (int c = 0; c < d; c++)
	{
		double		h = 0;

		for (int r = c; r < d; r++)
			prior[(Size) c * ld + r] = (float) (Lam[r * d + c] / alpha);
		for (int p = 0; p < d; p++)
			h += Lam[c * d + p] * x[p];
		prior[(Size) c * ld + d] = (float) (h / alpha);
	}
	pfree(mean);
	pfree(M);
	pfree(T);
	pfree(Lam);
	pfree(x);
	pfree(X);
	pfree(z);
}

/* A draw of the noise precision given the errors (see bayes.h). */
double
cf_bayes_precision(double sse, int64 n, pg_prng_state *rng)
{
	return cf_gamma(rng, PRECISION_A0 + n / 2.0) / (PRECISION_B0 + sse / 2);
}

/* The training fit of biased factors (see bayes.h). */
void
cf_bayes_fit_factors(const CfRatings *data, const CfFactors *f, double *loss, double *rmse)
{
	double		sse = 0;

	for (int64 j = 0; j < data->n; j++)
	{
		const CfRating *r = &data->r[j];
		const float *p = f->P + (Size) r->user * f->stride;
		const float *q = f->Q + (Size) r->item * f->stride;
		double		e = r->rating - data->mean - f->user_bias[r->user] - f->item_bias[r->item];

		for (int c = 0; c < f->k; c++)
			e -= (double) p[c] * q[c];
		sse += e * e;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*rmse = sqrt(sse / Max(data->n, 1));
	*loss = sse / Max(data->n, 1);
}

/*
 * The SVD++ implicit term (bayes.h), sampled as libFM samples its factors
 * (Rendle, "Factorization Machines with libFM", ACM TIST 3(3), 2012):
 * coordinate by coordinate, y_jf for every item j of dimension f in turn,
 * each from its Gaussian conditional given everything else, with a
 * Gamma(1, 1) hyperprior on each dimension's precision lambda_f (mean 0).
 * y_jf enters the error of every rating (u, i) with j in N(u) as
 * c_u q_if y_jf (c_u = |N(u)|^-1/2), so with the errors e_ui of the
 * current model and, per user, s_u = sum_i q_if e_ui and g_u = sum_i q_if^2:
 *
 *		precision = alpha sum_(u in N(j)) c_u^2 g_u + lambda_f
 *		mean = alpha sum_(u in N(j)) c_u (s_u + c_u g_u y_jf) / precision
 *
 * and a new y_jf changes s_u by -c_u g_u delta for each of its users: the
 * items of a dimension are drawn in turn in O(ratings), and the errors are
 * brought up to date once per dimension, so a sample costs O(ratings k),
 * not the O(ratings k^2) of drawing each y_j as a vector.
 */

/* The hyperprior of y's precision per dimension. */
#define IMPLICIT_A0		1.0
#define IMPLICIT_B0		1.0

/* Bytes of an implicit term's arrays besides z (see bayes.h). */
Size
cf_implicit_term_bytes(int32 users, int32 items, int64 nnz, int k)
{
	Size		bytes = cf_mul_size(cf_mul_size(items, 2 * k + 1), sizeof(float));	/* y, QT, normals */

	bytes = cf_add_size(bytes, cf_mul_size(Max(nnz, 1), sizeof(float)));	/* e */
	return cf_add_size(bytes, cf_mul_size(users, sizeof(CfImplicitUser) + sizeof(float)));
}

/*
 * For each user, bring z_uf and the errors up to date with the changes of
 * dimension f (qf: its q; NULL before the first), and with the next
 * dimension's q (qn, or NULL) set up the user's sums for its sweep.
 */
static void
implicit_pass(CfImplicitTerm *t, const float *qf, int f, const float *qn)
{
	const int64 *ustart = t->ustart;
	const int32 *ucol = t->ucol;
	float	   *restrict e = t->e;

	for (int32 u = 0; u < t->users; u++)
	{
		CfImplicitUser *usr = &t->user[u];
		float		c = t->c[u];
		float		d = qf ? c * usr->dy : 0;	/* z_uf's change */
		float		su = 0,
					gu = 0;

		if (d != 0)
		{
			t->z[(Size) u * t->k + f] += d;
			for (int64 j = ustart[u]; j < ustart[u + 1]; j++)
				e[j] -= qf[ucol[j]] * d;
		}
		if (qn)
			for (int64 j = ustart[u]; j < ustart[u + 1]; j++)
			{
				float		q = qn[ucol[j]];

				su += q * e[j];
				gu += q * q;
			}
		usr->cs = c * su;
		usr->a = c * c * gu;
		usr->dy = 0;
		if ((u & 0xFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* Draw every y_jf, then z (see above). */
void
cf_bayes_implicit_step(CfImplicitTerm *t, double alpha, pg_prng_state *rng)
{
	int			k = t->k;
	int32		items = t->items;
	const int64 *istart = t->istart;
	const int32 *icol = t->icol;
	CfImplicitUser *restrict usr = t->user;

	/* the items' vectors by dimension */
	for (int32 j = 0; j < items; j++)
		for (int f = 0; f < k; f++)
			t->QT[(Size) f * items + j] = t->Q[(Size) j * t->stride + f];
	implicit_pass(t, NULL, 0, t->QT);

	for (int f = 0; f < k; f++)
	{
		double		sq = 0;
		double		lambda;

		/* the dimension's precision given its y_jf */
		for (int32 j = 0; j < items; j++)
			sq += (double) t->y[(Size) j * k + f] * t->y[(Size) j * k + f];
		lambda = cf_gamma(rng, IMPLICIT_A0 + items / 2.0) / (IMPLICIT_B0 + sq / 2);

		/* the items in turn */
		cf_normals(rng, t->normals, items, 1.0);
		for (int32 j = 0; j < items; j++)
		{
			float	   *y = &t->y[(Size) j * k + f];
			float		a = 0,
						cs = 0;
			double		prec,
						delta;

			for (int64 x = istart[j]; x < istart[j + 1]; x++)
			{
				const CfImplicitUser *v = &usr[icol[x]];

				a += v->a;
				cs += v->cs;
			}
			prec = alpha * a + lambda;
			delta = alpha * (cs + a * *y) / prec + t->normals[j] / sqrt(prec) - *y;
			*y += (float) delta;
			for (int64 x = istart[j]; x < istart[j + 1]; x++)
			{
				CfImplicitUser *v = &usr[icol[x]];

				v->cs -= (float) (v->a * delta);
				v->dy += (float) delta;
			}
			/* (per item: one item's list can hold most of the ratings) */
			CHECK_FOR_INTERRUPTS();
		}

		/* z and the errors up to date, and the next dimension's sums */
		implicit_pass(t, t->QT + (Size) f * items, f,
					  f + 1 < k ? t->QT + (Size) (f + 1) * items : NULL);
	}
}
