/*-------------------------------------------------------------------------
 *
 * als_kernels.c
 *	  The SIMD kernels of ALS and iALS: the passes over a row's rated
 *	  vectors of CG and the objective, the Gram kernel of the normal
 *	  equations, and the batched Cholesky.
 *
 * Each is an always-inline body compiled twice by the macros of simd.h,
 * for any CPU and for AVX2 with FMA, behind a pointer that
 * cf_als_init_kernels points at the variant this CPU runs.  They read and
 * write only the memory they are given: no PostgreSQL call, so they are
 * safe in any process of a training.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "als.h"

/*
 * Kernels: the passes over a row's rated vectors that CG and the objective
 * make, on vectors of 8 floats (GCC/Clang vector extensions), compiled for
 * any CPU and for AVX2 with FMA.  A factor row is `stride` floats (a
 * multiple of 8, zero-padded); a vector in "row layout" has stride + 8
 * floats: the factors, zeros, and the bias (als) at index stride.
 */

/*
 * CG's products with a row's matrix, M v = G v + sum_e w_e (a_e . v) a_e
 * + lambda v (a_e the other side's factor rows, with a 1 for the bias in
 * als; G the Gramian, ials), run as two passes of BLAS-2 shape over the
 * rated vectors: t = A v, eight dot products at a time with v's chunk in a
 * register (cg_dots), then A^T u with u_e = w_e t_e, the chunk of the sum
 * in registers (cg_axpys); the rows of a batch step in lockstep, so that
 * their G v are one product of G with all their vectors (gram_products,
 * which also gives the objective's G x).  The vectors
 * are given by pointers into the factors (a row's few dozen to few hundred
 * stay in L1 or L2 from one pass to the next; a copy gathered once per row
 * was tried, and was slower by the copy).  The short inner loops are
 * unrolled by pragma: left rolled, gcc keeps the sums on the stack.
 */

/* out[i] = the sum of acc[i]'s lanes, i < 8 (a tree of horizontal adds). */
static pg_attribute_always_inline void
v8_hsum8(const v8 *acc, float *out)
{
#define CF_HADD(a, b) (V8_SHUFFLE(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + \
					   V8_SHUFFLE(a, b, 1, 3, 9, 11, 5, 7, 13, 15))
	v8			q0 = CF_HADD(CF_HADD(acc[0], acc[1]), CF_HADD(acc[2], acc[3]));
	v8			q1 = CF_HADD(CF_HADD(acc[4], acc[5]), CF_HADD(acc[6], acc[7]));
#undef CF_HADD

	V8W(out) = V8_SHUFFLE(q0, q1, 0, 1, 2, 3, 8, 9, 10, 11) +
		V8_SHUFFLE(q0, q1, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* t[j] = a[j] . v over stride floats, for j < m (a multiple of 8). */
static pg_attribute_always_inline void
als_cg_dots_body(const float *const *a, int m, int stride, const float *v, float *t)
{
	for (int j = 0; j < m; j += 8)
	{
		v8			acc[8] = {{0}};

		for (int c = 0; c < stride; c += 8)
		{
			v8			vc = V8(v + c);

#pragma GCC unroll 8
			for (int i = 0; i < 8; i++)
				acc[i] += V8(a[j + i] + c) * vc;
		}
		v8_hsum8(acc, t + j);
	}
}

/*
 * out[c0, c0 + 8R) += sum_j u[j] a[j][c0, c0 + 8R), in R registers, or
 * (S = 2) in two sets of R summing the even and the odd j apart, so that
 * at least eight sums are in flight.
 */
static pg_attribute_always_inline void
cg_axpy_block(const float *const *a, int m, const float *u, int c0, int R, int S,
			  float *out)
{
	v8			acc[2][8];
	int			j = 0;

	/* (an initializer of the whole array costs a rep stos per call) */
	for (int s = 0; s < S; s++)
		for (int i = 0; i < R; i++)
			acc[s][i] = (v8) {0};
	for (; j + S <= m; j += S)
#pragma GCC unroll 2
		for (int s = 0; s < S; s++)
		{
			v8			uj = (v8) {0} + u[j + s];
			const float *aj = a[j + s] + c0;

#pragma GCC unroll 8
			for (int i = 0; i < R; i++)
				acc[s][i] += uj * V8(aj + 8 * i);
		}
	for (; j < m; j++)
	{
		v8			uj = (v8) {0} + u[j];

		for (int i = 0; i < R; i++)
			acc[0][i] += uj * V8(a[j] + c0 + 8 * i);
	}
	for (int i = 0; i < R; i++)
		V8W(out + c0 + 8 * i) += S == 2 ? acc[0][i] + acc[1][i] : acc[0][i];
}

/* out[0, stride) += sum_j u[j] a[j] for j < m: 64 floats of out at a time. */
static pg_attribute_always_inline void
als_cg_axpys_body(const float *const *a, int m, int stride, const float *u, float *out)
{
	int			c0 = 0;

	for (; c0 + 64 <= stride; c0 += 64)
		cg_axpy_block(a, m, u, c0, 8, 1, out);
	if (c0 + 32 <= stride)
	{
		cg_axpy_block(a, m, u, c0, 4, 2, out);
		c0 += 32;
	}
	switch ((stride - c0) / 8)
	{
		case 3:
			cg_axpy_block(a, m, u, c0, 3, 2, out);
			break;
		case 2:
			cg_axpy_block(a, m, u, c0, 2, 2, out);
			break;
		case 1:
			cg_axpy_block(a, m, u, c0, 1, 2, out);
			break;
	}
}

/*
 * The observed part of the objective of a row with vector x (row layout):
 * als: sse += sum (r - mu - b - F b_e - a_e . x)^2; ials: sse += sum
 * c (1 - yhat)^2 - yhat^2 and sq += sum (1 - yhat)^2 - yhat^2.  The
 * products a_e . x come from als_cg_dots_body, CG_CHUNK entries at a time
 * (ptr, yhat: scratch for CG_CHUNK + 8).
 */
static pg_attribute_always_inline void
als_objective_body(const float *F, const float *fbias, int stride, bool implicit, double alpha,
			   double mean, const int32 *col, const float *val, int64 n, const float *x,
			   const float **ptr, float *yhat, double *sse, double *sq)
{
	/* (sums in locals: through the pointers, every step waits on a store) */
	double		s1 = *sse;
	double		s2 = *sq;

	for (int64 e0 = 0; e0 < n; e0 += CG_CHUNK)
	{
		int			m = (int) Min(n - e0, CG_CHUNK);
		int			mp = entry_vectors(F, stride, col + e0, m, ptr);

		als_cg_dots_body(ptr, mp, stride, x, yhat);
		for (int j = 0; j < m; j++)
		{
			double		y = yhat[j];

			if (implicit)
			{
				double		c = 1 + alpha * val[e0 + j];

				s1 += c * (1 - y) * (1 - y) - y * y;
				s2 += (1 - y) * (1 - y) - y * y;
			}
			else
			{
				double		err = val[e0 + j] - (mean + x[stride] + fbias[col[e0 + j]] + y);

				s1 += err * err;
			}
		}
	}
	*sse = s1;
	*sq = s2;
}

/*
 * out[t] = G v[t] (row layout: zeros after the first stride floats) for the
 * n vectors v[t] and the k x k Gramian G (columns stride floats apart, zero
 * past row k): CG's products with the Gramian for the rows of a batch at
 * once, a product of G with the n vectors as columns, in register tiles of
 * 8R rows x T vectors (per column of G: R loads, T broadcasts, R T fused
 * multiply-adds), so that each column of G is read once for 4 vectors
 * instead of once for each.
 */
static pg_attribute_always_inline void
gram_product_tile(const float *G, int k, const float *const *v, float *const *out, int r0,
				  int stride, int R, int T)
{
	v8			acc[3][4] = {{{0}}};

	for (int c = 0; c < k; c++)
	{
		const float *g = G + (Size) c * stride + r0;
		v8			x[3];

		for (int i = 0; i < R; i++)
			x[i] = V8(g + 8 * i);
		for (int t = 0; t < T; t++)
		{
			float		b = v[t][c];

			for (int i = 0; i < R; i++)
				acc[i][t] += x[i] * b;
		}
	}
	for (int t = 0; t < T; t++)
		for (int i = 0; i < R; i++)
			V8W(out[t] + r0 + 8 * i) = acc[i][t];
}

static pg_attribute_always_inline void
gram_product_lanes(const float *G, int k, int stride, const float *const *v,
				   float *const *out, int T)
{
	int			r0 = 0;

	for (; r0 + 24 <= stride; r0 += 24)
		gram_product_tile(G, k, v, out, r0, stride, 3, T);
	if (r0 + 16 <= stride)
		gram_product_tile(G, k, v, out, r0, stride, 2, T);
	else if (r0 + 8 <= stride)
		gram_product_tile(G, k, v, out, r0, stride, 1, T);
}

static pg_attribute_always_inline void
als_gram_products_body(const float *G, int k, int stride, const float *const *v,
				   float *const *out, int n)
{
	for (int t0 = 0; t0 < n; t0 += 4)
	{
		switch (Min(4, n - t0))
		{
			case 4:
				gram_product_lanes(G, k, stride, v + t0, out + t0, 4);
				break;
			case 3:
				gram_product_lanes(G, k, stride, v + t0, out + t0, 3);
				break;
			case 2:
				gram_product_lanes(G, k, stride, v + t0, out + t0, 2);
				break;
			default:
				gram_product_lanes(G, k, stride, v + t0, out + t0, 1);
		}
	}
	for (int t = 0; t < n; t++)
		memset(out[t] + stride, 0, sizeof(float) * CF_LANES);
}

CF_KERNEL_VARIANTS_VOID(als_cg_dots,
						(const float *const *a, int m, int stride, const float *v, float *t),
						(a, m, stride, v, t));
CF_KERNEL_POINTER(void, als_cg_dots,
				  (const float *const *a, int m, int stride, const float *v, float *t));
CF_KERNEL_VARIANTS_VOID(als_cg_axpys,
						(const float *const *a, int m, int stride, const float *u, float *out),
						(a, m, stride, u, out));
CF_KERNEL_POINTER(void, als_cg_axpys,
				  (const float *const *a, int m, int stride, const float *u, float *out));

CF_KERNEL_VARIANTS_VOID(als_gram_products,
						(const float *G, int k, int stride, const float *const *v,
						 float *const *out, int n),
						(G, k, stride, v, out, n));
CF_KERNEL_POINTER(void, als_gram_products,
				  (const float *G, int k, int stride, const float *const *v,
				   float *const *out, int n));

CF_KERNEL_VARIANTS_VOID(als_objective,
						(const float *F, const float *fbias, int stride, bool implicit,
						 double alpha, double mean, const int32 *col, const float *val, int64 n,
						 const float *x, const float **ptr, float *yhat, double *sse,
						 double *sq),
						(F, fbias, stride, implicit, alpha, mean, col, val, n, x, ptr, yhat,
						 sse, sq));
CF_KERNEL_POINTER(void, als_objective,
				  (const float *F, const float *fbias, int stride, bool implicit,
				   double alpha, double mean, const int32 *col, const float *val, int64 n,
				   const float *x, const float **ptr, float *yhat, double *sse, double *sq));

/*
 * Batched Cholesky: the systems of 8 rows factored and solved at once, one
 * per lane of 8-float vectors.
 *
 * LAPACK's spotrf is made for large matrices: on the d x d systems of ALS
 * (d = 33 to 129) OpenBLAS's takes 5 to 15 microseconds, spending most of
 * it in the calls and copies of its blocked algorithm rather than in
 * arithmetic (7 GFLOP/s at d = 65 on the machine of docs/performance.md,
 * where sgemm reaches 66).  So training factors the systems of 8 rows
 * together: the matrices (built by the Gram kernel or ssyrk, below) are
 * interleaved, each element becoming a vector of 8 lanes, one per row, and
 * a right-looking Cholesky factorization runs on the vectors, by panels of
 * 4 rows: the panel's 4 x 4 diagonal block pivot by pivot, the rest of its
 * columns one column at a time, then rank-4 updates of the trailing rows,
 * two rows at a time.  The right-hand side rides along as one more column,
 * so the forward substitution is done with the factorization; the back
 * substitution follows.
 * Every operation is lane by lane, so a row's result does not depend on
 * which rows share its batch, and the model stays the same with any
 * number of workers.  A lane whose matrix turns out not to be positive
 * definite (a pivot <= 0: lambda = 0 and too few vectors) is solved again
 * by cholesky_row, with LAPACK and a tiny extra ridge.
 *
 * Layout: the upper triangle packed by rows (row i holds columns i..d-1,
 * starting at packed_row(i)), then the right-hand side, then the solution.
 */

/*
 * Factor the packed matrices M (upper, lanes = systems) in place, solve
 * for the right-hand sides that follow them, and leave the solutions after
 * those.  Returns the lanes whose matrix is not positive definite, as a
 * bit mask (their results are to be ignored).  noise (d vectors, or NULL)
 * is added to the forward substitution's result before the back
 * substitution: with M = U^T U, the solution is then U^-1 (U^-T b + noise),
 * a draw from the Gaussian of mean M^-1 b and covariance M^-1 when the
 * noise is standard normal (bayes.c scales it).
 */
static pg_attribute_always_inline int
als_batched_cholesky_body(v8 *M, int d, const v8 *noise)
{
	v8		   *rhs = M + packed_row(d, d);
	v8		   *sol = rhs + d;
	int			failed = 0;

	for (int j0 = 0; j0 < d; j0 += 4)
	{
		int			jb = Min(4, d - j0);
		int			js = j0 + jb;

		/*
		 * The panel, rows j0..js-1: first its diagonal block, pivot by pivot
		 * (the chains of square roots and divisions are short), then the
		 * rest of its columns, all of a column's rows in one step (the
		 * same operations in the same order as pivot by pivot over whole
		 * rows, but a few long independent chains instead of a sequence of
		 * short loops each waiting on the last pivot).
		 */
		v8		   *up[4];		/* up[q][l]: (j0 + q, l) */
		v8			inv[4];

		for (int q = 0; q < jb; q++)
			up[q] = M + packed_row(d, j0 + q) - (j0 + q);
		for (int q = 0; q < jb; q++)
		{
			int			j = j0 + q;
			v8		   *uj = up[q];
			v8			piv = uj[j];

			/*
			 * (Compiled without errno for math, this loop is one vsqrtps.  A
			 * pivot <= 0 gives NaN or 0 here, and its lane is failed below;
			 * checking lanes one by one here kept the compiler from
			 * vectorizing the square root.)
			 */
			for (int l = 0; l < BATCH; l++)
				piv[l] = sqrtf(piv[l]);
			inv[q] = 1.0f / piv;
			uj[j] = piv;
			for (int l = j + 1; l < js; l++)
				uj[l] *= inv[q];
			for (int i = j + 1; i < js; i++)
			{
				v8		   *ui = up[i - j0];
				v8			a = uj[i];

				for (int l = i; l < js; l++)
					ui[l] -= a * uj[l];
			}
		}
		/* (a panel of fewer than 4 rows is the last, with no columns after it) */
		if (jb == 4)
		{
			v8			m01 = up[0][j0 + 1],
						m02 = up[0][j0 + 2],
						m03 = up[0][j0 + 3],
						m12 = up[1][j0 + 2],
						m13 = up[1][j0 + 3],
						m23 = up[2][j0 + 3];

			for (int l = js; l < d; l++)
			{
				v8			x0 = up[0][l] * inv[0];
				v8			x1 = (up[1][l] - m01 * x0) * inv[1];
				v8			x2 = (up[2][l] - m02 * x0 - m12 * x1) * inv[2];
				v8			x3 = (up[3][l] - m03 * x0 - m13 * x1 - m23 * x2) * inv[3];

				up[0][l] = x0;
				up[1][l] = x1;
				up[2][l] = x2;
				up[3][l] = x3;
			}
		}
		/* the panel's rows of U^T z = b (z over b), as one more column */
		for (int q = 0; q < jb; q++)
		{
			v8			z = rhs[j0 + q];

			for (int p = 0; p < q; p++)
				z -= up[p][j0 + q] * rhs[j0 + p];
			rhs[j0 + q] = z / up[q][j0 + q];
		}

		/*
		 * then the trailing rows: rank-4 updates, two rows at a time, and
		 * their right-hand sides
		 */
		if (jb == 4)
		{
			const v8   *u0 = up[0];
			const v8   *u1 = up[1];
			const v8   *u2 = up[2];
			const v8   *u3 = up[3];
			v8			z0 = rhs[j0],
						z1 = rhs[j0 + 1],
						z2 = rhs[j0 + 2],
						z3 = rhs[j0 + 3];
			int			i = js;

			for (; i + 1 < d; i += 2)
			{
				v8		   *m0 = M + packed_row(d, i) - i;
				v8		   *m1 = M + packed_row(d, i + 1) - (i + 1);
				v8			a0 = u0[i],
							a1 = u1[i],
							a2 = u2[i],
							a3 = u3[i];
				v8			c0 = u0[i + 1],
							c1 = u1[i + 1],
							c2 = u2[i + 1],
							c3 = u3[i + 1];

				/* (chains of fused multiply-subtracts, not sums first) */
				m0[i] = m0[i] - a0 * a0 - a1 * a1 - a2 * a2 - a3 * a3;
				rhs[i] = rhs[i] - a0 * z0 - a1 * z1 - a2 * z2 - a3 * z3;
				rhs[i + 1] = rhs[i + 1] - c0 * z0 - c1 * z1 - c2 * z2 - c3 * z3;
				for (int l = i + 1; l < d; l++)
				{
					v8			w0 = u0[l],
								w1 = u1[l],
								w2 = u2[l],
								w3 = u3[l];

					m0[l] = m0[l] - a0 * w0 - a1 * w1 - a2 * w2 - a3 * w3;
					m1[l] = m1[l] - c0 * w0 - c1 * w1 - c2 * w2 - c3 * w3;
				}
			}
			for (; i < d; i++)
			{
				v8		   *m0 = M + packed_row(d, i) - i;
				v8			a0 = u0[i],
							a1 = u1[i],
							a2 = u2[i],
							a3 = u3[i];

				rhs[i] = rhs[i] - a0 * z0 - a1 * z1 - a2 * z2 - a3 * z3;
				for (int l = i; l < d; l++)
					m0[l] = m0[l] - a0 * u0[l] - a1 * u1[l] - a2 * u2[l] - a3 * u3[l];
			}
		}
	}

	/* a lane fails if a pivot was <= 0 or not finite: its diagonal shows it */
	{
		v8i			ok = (v8i) {0} == 0;

		for (int j = 0; j < d; j++)
		{
			v8			u = M[packed_row(d, j)];

			ok &= (u > 0.0f) & (u < FLT_MAX);
		}
		for (int l = 0; l < BATCH; l++)
			if (!ok[l])
				failed |= 1 << l;
	}

	if (noise)
		for (int i = 0; i < d; i++)
			rhs[i] += noise[i];

	/* then U x = z */
	for (int i = d - 1; i >= 0; i--)
	{
		const v8   *ui = M + packed_row(d, i) - i;
		v8			s0 = rhs[i];
		v8			s1 = {0};
		v8			s2 = {0};
		v8			s3 = {0};
		int			l = i + 1;

		/* four partial sums: not one chain of dependent operations */
		for (; l + 4 <= d; l += 4)
		{
			s0 -= ui[l] * sol[l];
			s1 -= ui[l + 1] * sol[l + 1];
			s2 -= ui[l + 2] * sol[l + 2];
			s3 -= ui[l + 3] * sol[l + 3];
		}
		for (; l < d; l++)
			s0 -= ui[l] * sol[l];
		sol[i] = ((s0 + s1) + (s2 + s3)) / ui[i];
	}
	return failed;
}

CF_KERNEL_VARIANTS(int, als_batched_cholesky, (v8 *M, int d, const v8 *noise), (M, d, noise));
CF_KERNEL_POINTER(int, als_batched_cholesky, (v8 *M, int d, const v8 *noise));

/*
 * Lay the systems of the BATCH matrices G8 (lower triangles, leading
 * dimension d + 1, ridges lambdas added to their diagonals) out in the
 * batch: element (i, l) of every system in one vector.  Rows of 8 elements
 * at a time go through an 8 x 8 transposition of vectors: unpacks, shuffles
 * within 128-bit halves, then swapping halves, 24 single-instruction
 * shuffles (masks that cross halves earlier cost the compiler 40).  A
 * row's last block runs past its end (into the next rows, laid out
 * after it, or the right-hand sides, laid out after all rows), reading
 * the rest of G8's row and the next (G8 has one more matrix after the
 * last lane's); that is cheaper than its last few elements one lane at a
 * time, which only orders below 8 take.
 */
static pg_attribute_always_inline void
als_interleave_body(v8 *B, const float *G8, int d, const double *lambdas)
{
	int			ld = d + 1;
	Size		gsize = (Size) ld * ld;
	v8			lam;
	v8		   *rhs = B + packed_row(d, d);
	int			lmax = d >= 8 ? d : d - 7;	/* blocks start below it */

	for (int lane = 0; lane < BATCH; lane++)
		lam[lane] = (float) lambdas[lane];
	for (int i = 0; i < d; i++)
	{
		v8		   *row = B + packed_row(d, i) - i;	/* row[l]: (i, l) */
		const float *g = G8 + (Size) i * ld;	/* g[lane * gsize + l]: (l, i) */
		int			l = i;

		for (; l < lmax; l += 8)
		{
			v8			r0 = V8(g + 0 * gsize + l),
						r1 = V8(g + 1 * gsize + l),
						r2 = V8(g + 2 * gsize + l),
						r3 = V8(g + 3 * gsize + l),
						r4 = V8(g + 4 * gsize + l),
						r5 = V8(g + 5 * gsize + l),
						r6 = V8(g + 6 * gsize + l),
						r7 = V8(g + 7 * gsize + l);
			/* the usual three stages: unpack, shuffle within lanes, swap halves */
			v8			a0 = V8_SHUFFLE(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13),
						a1 = V8_SHUFFLE(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15),
						a2 = V8_SHUFFLE(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13),
						a3 = V8_SHUFFLE(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15),
						a4 = V8_SHUFFLE(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13),
						a5 = V8_SHUFFLE(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15),
						a6 = V8_SHUFFLE(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13),
						a7 = V8_SHUFFLE(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
			v8			b0 = V8_SHUFFLE(a0, a2, 0, 1, 8, 9, 4, 5, 12, 13),
						b1 = V8_SHUFFLE(a0, a2, 2, 3, 10, 11, 6, 7, 14, 15),
						b2 = V8_SHUFFLE(a1, a3, 0, 1, 8, 9, 4, 5, 12, 13),
						b3 = V8_SHUFFLE(a1, a3, 2, 3, 10, 11, 6, 7, 14, 15),
						b4 = V8_SHUFFLE(a4, a6, 0, 1, 8, 9, 4, 5, 12, 13),
						b5 = V8_SHUFFLE(a4, a6, 2, 3, 10, 11, 6, 7, 14, 15),
						b6 = V8_SHUFFLE(a5, a7, 0, 1, 8, 9, 4, 5, 12, 13),
						b7 = V8_SHUFFLE(a5, a7, 2, 3, 10, 11, 6, 7, 14, 15);

			row[l + 0] = V8_SHUFFLE(b0, b4, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 1] = V8_SHUFFLE(b1, b5, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 2] = V8_SHUFFLE(b2, b6, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 3] = V8_SHUFFLE(b3, b7, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 4] = V8_SHUFFLE(b0, b4, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 5] = V8_SHUFFLE(b1, b5, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 6] = V8_SHUFFLE(b2, b6, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 7] = V8_SHUFFLE(b3, b7, 4, 5, 6, 7, 12, 13, 14, 15);
		}
		for (; l < d; l++)
			for (int lane = 0; lane < BATCH; lane++)
				row[l][lane] = g[lane * gsize + l];
		row[i] += lam;
	}
	for (int i = 0; i < d; i++)
		for (int lane = 0; lane < BATCH; lane++)
			rhs[i][lane] = G8[lane * gsize + (Size) i * ld + d];
}

CF_KERNEL_VARIANTS_VOID(als_interleave,
						(v8 *B, const float *G8, int d, const double *lambdas),
						(B, G8, d, lambdas));
CF_KERNEL_POINTER(void, als_interleave, (v8 *B, const float *G8, int d, const double *lambdas));

/*
 * The normal equations' Gram kernel, for k a multiple of 8 (other k, and
 * CPUs without AVX2, use ssyrk).  At these sizes (a row's few dozen to few
 * hundred vectors of 32 to 128 floats) OpenBLAS's ssyrk spends much of its
 * time outside its inner kernel, copying the gathered vectors into its
 * packed layout and cutting the matrix into blocks; this kernel reads the
 * gathered vectors b_j (k floats each, contiguous, in L1) as they are.
 * Each tile of rows [r0, r0 + 8R) x columns [c0, c0 + T) of sum_j b_j b_j^T
 * keeps its R T vectors of sums in registers over all the b_j: per b_j,
 * R vector loads, T broadcasts and R T fused multiply-adds, the shape of a
 * gemm micro-kernel (R = 3, T = 4 where the panel is long enough).  A
 * panel's first tile holds its block on the diagonal, whose sums above the
 * diagonal land in G's upper triangle, which nothing reads.  (The diagonal
 * blocks as 1 x 8 tiles of their own were 5-20% slower in all: 9 loads for
 * 8 multiply-adds.)
 */
static pg_attribute_always_inline void
gram_tile(const float *B, int k, int m, int r0, int c0, int R, int T, float *G, int ld,
		  const float *G0, bool first)
{
	v8			acc[3][8] = {{{0}}};
	const float *br = B + r0;
	const float *bc = B + c0;

	for (int j = 0; j < m; j++, br += k, bc += k)
	{
		v8			x[3];

		for (int i = 0; i < R; i++)
			x[i] = V8(br + 8 * i);
		for (int t = 0; t < T; t++)
		{
			float		c = bc[t];

			for (int i = 0; i < R; i++)
				acc[i][t] += x[i] * c;
		}
	}
	for (int t = 0; t < T; t++)
		for (int i = 0; i < R; i++)
		{
			Size		o = (Size) (c0 + t) * ld + r0 + 8 * i;
			v8			zero = {0};

			V8W(G + o) = (!first ? V8(G + o) : G0 ? V8(G0 + o) : zero) + acc[i][t];
		}
}

/*
 * Add to G the right-hand side's part for rows [r0, r0 + 8R), summed in
 * rhs and ones: sum_j coef_j b_j into row k + bias of G and, for als
 * (bias), sum_j b_j (the bias column's 1s) into row k (set, not added, if
 * first).
 */
static pg_attribute_always_inline void
rhs_store(const v8 *ones, const v8 *rhs, int k, int r0, int R, bool bias, float *G, int ld,
		  bool first)
{
	for (int i = 0; i < R; i++)
		for (int l = 0; l < 8; l++)
		{
			float	   *g = G + (Size) (r0 + 8 * i + l) * ld + k;

			if (bias)
				g[0] = (first ? 0.0f : g[0]) + ones[i][l];
			g[bias ? 1 : 0] = (first ? 0.0f : g[bias ? 1 : 0]) + rhs[i][l];
		}
}

/*
 * Gather the m rated vectors F[col[j]] (stride floats apart), each scaled
 * by scale[j] if scale is not NULL, into B (m x k floats), prefetching 8
 * entries ahead, and in the same pass (the vectors in registers) the
 * right-hand side's part for rows [0, 8R) (R = min(4, k / 8)).
 */
static pg_attribute_always_inline void
gather_rhs(const float *F, int stride, const int32 *col, const float *scale,
		   const float *coef, int m, int k, int R, bool bias, float *B, float *G,
		   int ld, bool first)
{
	v8			ones[4] = {0};
	v8			rhs[4] = {0};

	for (int j = 0; j < m; j++)
	{
		const float *f = F + (Size) col[j] * stride;
		float	   *b = B + (Size) j * k;
		float		c = coef[j];
		float		sc = scale ? scale[j] : 1.0f;

		if (j + 8 < m)
			prefetch_row(F + (Size) col[j + 8] * stride, stride);
		for (int i = 0; i < R; i++)
		{
			v8			x = V8(f + 8 * i);

			if (scale)
				x = x * sc;
			V8W(b + 8 * i) = x;
			if (bias)
				ones[i] += x;
			rhs[i] += x * c;
		}
		for (int c0 = 8 * R; c0 < k; c0 += 8)
			V8W(b + c0) = scale ? V8(f + c0) * sc : V8(f + c0);
	}
	rhs_store(ones, rhs, k, 0, R, bias, G, ld, first);
}

/* The same part for rows [r0, r0 + 8R) from the gathered vectors in B. */
static pg_attribute_always_inline void
gram_rhs(const float *B, int k, int m, int r0, int R, const float *coef, bool bias,
		 float *G, int ld, bool first)
{
	v8			ones[4] = {0};
	v8			rhs[4] = {0};

	for (int j = 0; j < m; j++)
	{
		const float *b = B + (Size) j * k;
		float		c = coef[j];

		for (int i = 0; i < R; i++)
		{
			v8			x = V8(b + r0 + 8 * i);

			if (bias)
				ones[i] += x;
			rhs[i] += x * c;
		}
	}
	rhs_store(ones, rhs, k, r0, R, bias, G, ld, first);
}

/* gather_rhs (r0 = 0) or gram_rhs for rows [r0, r0 + 8R). */
static pg_attribute_always_inline void
rhs_rows(const float *F, int stride, const int32 *col, const float *scale,
		 const float *coef, int m, int k, int r0, int R, bool bias, float *B,
		 float *G, int ld, bool first)
{
	if (r0 == 0)
		gather_rhs(F, stride, col, scale, coef, m, k, R, bias, B, G, ld, first);
	else
		gram_rhs(B, k, m, r0, R, coef, bias, G, ld, first);
}

/* rhs_rows with R = min(4, (k - r0) / 8) known to the compiler. */
static pg_attribute_always_inline void
rhs_part(const float *F, int stride, const int32 *col, const float *scale,
		 const float *coef, int m, int k, int r0, bool bias, float *B, float *G,
		 int ld, bool first)
{
	switch (Min(4, (k - r0) / 8))
	{
		case 4:
			rhs_rows(F, stride, col, scale, coef, m, k, r0, 4, bias, B, G, ld, first);
			break;
		case 3:
			rhs_rows(F, stride, col, scale, coef, m, k, r0, 3, bias, B, G, ld, first);
			break;
		case 2:
			rhs_rows(F, stride, col, scale, coef, m, k, r0, 2, bias, B, G, ld, first);
			break;
		default:
			rhs_rows(F, stride, col, scale, coef, m, k, r0, 1, bias, B, G, ld, first);
	}
}

/*
 * Add to G (leading dimension ld = d + 1) the lower triangle of the system
 * of the m rated vectors F[col[j]] (stride floats apart), each scaled by
 * scale[j] (if scale is not NULL), with right-hand side coefficients
 * coef: what one ssyrk over the vectors (b_j, 1, coef_j) for als (bias),
 * (b_j, coef_j) for ials, gives, but the unused corner entry.  The vectors
 * are first gathered into B (m x k floats), with the right-hand side's
 * first 32 rows in the same pass (its other rows from B after it); then
 * each panel of 8 columns [c0, c0 + 8) is summed from the diagonal down,
 * in 3 x 4 tiles (2 x 4 or 1 x 8 at its end).  first: G is not set yet (a
 * row's first call); its elements are then written as G0's (or 0 if G0 is
 * NULL) plus the sums, so that G needs no clearing or copying beforehand.
 */
static pg_attribute_always_inline void
als_gram_body(const float *F, int stride, const int32 *col, const float *scale,
		  const float *coef, int m, int k, bool bias, float *B, float *G, int ld,
		  const float *G0, bool first)
{
	for (int r0 = 0; r0 < k; r0 += 32)
	{
		if (bias)
			rhs_part(F, stride, col, scale, coef, m, k, r0, true, B, G, ld, first);
		else
			rhs_part(F, stride, col, scale, coef, m, k, r0, false, B, G, ld, first);
	}
	for (int c0 = 0; c0 < k; c0 += 8)
	{
		int			r0 = c0;

		for (; r0 + 24 <= k; r0 += 24)
		{
			gram_tile(B, k, m, r0, c0, 3, 4, G, ld, G0, first);
			gram_tile(B, k, m, r0, c0 + 4, 3, 4, G, ld, G0, first);
		}
		if (r0 + 16 <= k)
		{
			gram_tile(B, k, m, r0, c0, 2, 4, G, ld, G0, first);
			gram_tile(B, k, m, r0, c0 + 4, 2, 4, G, ld, G0, first);
		}
		else if (r0 + 8 <= k)
			gram_tile(B, k, m, r0, c0, 1, 8, G, ld, G0, first);
	}
	if (bias)
	{
		float		sum = 0;

		for (int j = 0; j < m; j++)
			sum += coef[j];
		G[(Size) k * ld + k] = (first ? 0.0f : G[(Size) k * ld + k]) + (float) m;
		G[(Size) k * ld + k + 1] = (first ? 0.0f : G[(Size) k * ld + k + 1]) + sum;
	}
}

/* The Gram kernel exists for AVX2 only: NULL elsewhere, where ssyrk does its work. */
CF_KERNEL_AVX2_ONLY(als_gram,
					(const float *F, int stride, const int32 *col, const float *scale,
					 const float *coef, int m, int k, bool bias, float *B, float *G, int ld,
					 const float *G0, bool first),
					(F, stride, col, scale, coef, m, k, bias, B, G, ld, G0, first));
void		(*als_gram) (const float *F, int stride, const int32 *col, const float *scale,
					 const float *coef, int m, int k, bool bias, float *B, float *G, int ld,
					 const float *G0, bool first) = NULL;

/* Point the kernels at the fastest variants this CPU runs (from _PG_init). */
void
cf_als_init_kernels(void)
{
	CF_CHOOSE_KERNEL(als_objective);
	CF_CHOOSE_KERNEL(als_batched_cholesky);
	CF_CHOOSE_KERNEL(als_interleave);
	CF_CHOOSE_KERNEL_AVX2_ONLY(als_gram);
	CF_CHOOSE_KERNEL(als_cg_dots);
	CF_CHOOSE_KERNEL(als_cg_axpys);
	CF_CHOOSE_KERNEL(als_gram_products);
}
