/*-------------------------------------------------------------------------
 *
 * als.c
 *	  Alternating least squares: ALS for explicit ratings and iALS for
 *	  implicit feedback, in one process or on parallel workers.
 *
 * ALS (Zhou, Wilkinson, Schreiber & Pan, "Large-scale Parallel
 * Collaborative Filtering for the Netflix Prize", AAIM 2008) fits the
 * biased model of sgd.c, r(u,i) = mu + b_u + b_i + p_u . q_i, to the
 * observed ratings with weighted-lambda regularization:
 *
 *		min  sum_(u,i) (r_ui - mu - b_u - b_i - p_u . q_i)^2
 *			 + lambda (sum_u n_u (b_u^2 + |p_u|^2) + sum_i n_i (b_i^2 + |q_i|^2))
 *
 * (n_u, n_i: ratings of the user, of the item), the same objective SGD
 * minimizes.  With the items fixed, each user's (p_u, b_u) is a ridge
 * regression on the rows a_j = (q_j, 1) and targets r_uj - mu - b_j with
 * ridge lambda n_u; then the same for each item with the users fixed.
 *
 * iALS (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit
 * Feedback Datasets", ICDM 2008) reads each rating r_ui >= 0 as an amount
 * of feedback (duplicate rows add up): preference p_ui = 1 where r_ui > 0,
 * else 0, with confidence c_ui = 1 + alpha r_ui (1 for every unobserved
 * pair), and minimizes over all users x all items
 *
 *		sum_(u,i) c_ui (p_ui - x_u . y_i)^2 + sum_u lambda_u |x_u|^2
 *			 + sum_i lambda_i |y_i|^2
 *
 * without biases.  A user's normal equations are
 *
 *		(Y^T Y + sum_(j rated) alpha r_uj y_j y_j^T + lambda_u I) x_u
 *			= sum_(j rated) (1 + alpha r_uj) y_j
 *
 * where the Gramian Y^T Y covers every unobserved pair at once: it is
 * computed once per half-step.  lambda_u = lambda (sum_i c_ui)^nu with the
 * regularization_exponent nu: 0 is Hu et al.'s constant lambda, 1 scales
 * it with the row's total confidence |I| + alpha sum_j r_uj, the
 * frequency-scaled regularization of Rendle, Krichene, Zhang & Koren
 * ("Revisiting the Performance of iALS on Item Recommendation
 * Benchmarks", RecSys 2022) in Hu et al.'s parameterization.
 *
 * Solving a row: either exactly, building the d x d matrix and the
 * right-hand side (the rated items' vectors gathered with the right-hand
 * side's coefficient as one more column, one syrk for both: a register-tiled
 * Gram kernel when k is a multiple of 8 on AVX2, OpenBLAS's ssyrk
 * otherwise; build_matrix) and factoring it by Cholesky,
 * 8 rows' systems at once in the lanes of 8-float vectors (batched
 * Cholesky below: LAPACK's spotrf is slow at these sizes; spotrf/spotrs
 * remain for a lane that is not positive definite); or by a few steps of
 * conjugate gradient warm-started from the row's current vector (Takacs,
 * Pilaszy & Tikk, "Applications of the Conjugate Gradient Method for
 * Implicit Feedback Collaborative Filtering", RecSys 2011), which needs
 * only products with the matrix: Y^T Y v plus two passes over the rated
 * items' vectors (cg_dots, cg_axpys), never the matrix itself.  Either
 * solver works for both algorithms.
 *
 * An iteration solves every item, then every user (so the stored user
 * vectors are the solutions against the final items: folding an
 * unchanged user in again gives its vector back).  In training each
 * side's rows lie in order of decreasing length, for the gathers
 * (build_lists); the factors go home in the loader's order.  Rows are
 * cut into about TARGET_BLOCKS blocks of equal estimated cost per side,
 * whole batches each, fixed by the data alone; the processes take blocks
 * from a shared counter and meet at a barrier after each half-step, where
 * the leader alone computes the next Gramian.  A row's solution depends
 * only on the other side's vectors, and sums over blocks are added in
 * block order, so the model is the same bit for bit with any number of
 * workers.
 *
 * The objective is measured during the user half-step, from each user's
 * new vector and the final items of the iteration, so the loss an
 * iteration reports is that of the model it leaves, and the last one is
 * the final model's exact loss.  For ALS: loss = objective / ratings and
 * rmse = the training RMSE.  For iALS, per cell of the users x items
 * matrix: loss = objective / (users x items), and rmse = the unweighted
 * RMSE of the predicted preferences over all cells (the unobserved cells
 * through Y^T Y again: sum_i (x_u . y_i)^2 = x_u^T Y^T Y x_u).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/parallel.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/shm_toc.h"

#include "als.h"
#include "blas.h"
#include "parallel.h"
#include "simd.h"
#include "solve.h"
#include "util.h"

/* shm_toc keys of a parallel training */
#define KEY_SHARED		UINT64CONST(0xCF00000000000101)
#define KEY_ARENA		UINT64CONST(0xCF00000000000102)

/* Rated vectors gathered per ssyrk call. */
#define GATHER_ROWS 256

/* Floats of rated vectors gathered per Gram kernel call (32 kB, about L1). */
#define GRAM_FLOATS 8192

/*
 * CG sets up a row's entries (pointers to their vectors, weights) once for
 * all its passes if it has at most CG_CHUNK, else CG_CHUNK at a time in
 * each pass.
 */
#define CG_CHUNK 512

/*
 * Rows solved together: the lanes of the batched Cholesky, the rows CG
 * steps through in lockstep.
 */
#define BATCH 8

/* Blocks per half-step (fewer when there are fewer rows). */
#define TARGET_BLOCKS 256

/* The two sides; an iteration solves ITEMS, then USERS. */
#define SIDE_ITEMS 0
#define SIDE_USERS 1

/* Per-block sums of the objective's terms. */
typedef struct AlsSums
{
	double		sse;			/* als: squared errors; ials: sum c (1 - yhat)^2 - yhat^2 */
	double		sq;				/* ials: sum (1 - yhat)^2 - yhat^2 */
	double		quad;			/* ials: sum x^T G x (every cell's yhat^2) */
	double		penalty;		/* sum lambda_row |x|^2 */
} AlsSums;

/* One process's time and floating-point work in the two phases. */
typedef struct AlsStats
{
	double		gram_seconds;	/* building the normal equations */
	double		gram_flops;
	double		solve_seconds;	/* Cholesky or CG */
	double		solve_flops;
} AlsStats;

/* The arrays of a training, at offsets into one arena (DSM or local). */
enum
{
	OFF_START,					/* per side: int64[rows + 1], row r's entries */
	OFF_COL = OFF_START + 2,	/* per side: int32[nnz], the other side's index */
	OFF_VAL = OFF_COL + 2,		/* per side: float[nnz], the rating */
	OFF_F = OFF_VAL + 2,		/* per side: float[rows * stride], the vectors */
	OFF_BIAS = OFF_F + 2,		/* per side: float[rows], the biases (als) */
	OFF_BLOCKS = OFF_BIAS + 2,	/* per side: int32[nblocks + 1], first row of each */
	OFF_SUMS = OFF_BLOCKS + 2,	/* per side: AlsSums[nblocks] */
	OFF_GRAM = OFF_SUMS + 2,	/* float[stride * stride]: the fixed side's Gramian (ials), in full */
	OFF_STATS,					/* AlsStats[nprocs] */
	NUM_OFF
};

/* What every process of a training shares (in DSM, or local when alone). */
typedef struct AlsShared
{
	CfParallelSync sync;

	/* settings */
	bool		implicit;
	CfSolver	solver;
	int			cg_steps;
	int			k;				/* factors */
	int			d;				/* unknowns per row: k, plus the bias for als */
	int			stride;			/* floats per factor row */
	float		mean;			/* als: mu */
	double		lambda;
	double		alpha;
	double		exponent;
	int32		rows[2];		/* items, users */
	int64		nnz;			/* entries of each side's lists */
	int			nblocks[2];
	int			nprocs;			/* stats slots: leader + workers asked for */
	bool		timing;			/* collect AlsStats (DEBUG1) */
	Size		arena_size;
	Size		off[NUM_OFF];

	/* the current half-step, written by the leader between them */
	int			iteration;
	int			side;
	bool		stop;
	pg_atomic_uint32 next;		/* next block of the half-step */
} AlsShared;

/*
 * CG's state for one row of a batch (run_rows_cg): the row's entries set
 * up for its passes (cg_entries), its vectors in row layout, and where its
 * iteration stands.
 */
typedef struct CgRow
{
	const float **ptr;			/* the vectors of its entries */
	float	   *w;				/* the entries' weights */
	float	   *coef;			/* their right-hand side's coefficients */
	float	   *u;				/* their products, then coefficients */
	float	   *x;				/* solution (one of AlsState.x8) */
	float	   *r;				/* residual */
	float	   *p;				/* direction */
	float	   *Ap;				/* matrix times direction */
	int64		lo;				/* entries [lo, hi) */
	int64		hi;
	int			whole;			/* padded entries set up once, or 0 */
	double		lambda;
	double		rs;				/* r . r */
	bool		done;
} CgRow;

/* One process's view of a training, with its scratch space. */
typedef struct AlsState
{
	AlsShared  *sh;
	int64	   *start[2];
	int32	   *col[2];
	float	   *val[2];
	float	   *F[2];
	float	   *bias[2];
	int32	   *blocks[2];
	AlsSums    *sums[2];
	float	   *gram;
	AlsStats   *stats;			/* all slots */
	AlsStats   *my;				/* this process's */

	/* scratch (vectors in the row layout of the kernels below) */
	void	   *scratch;		/* all of it */
	CgRow		cg[BATCH];		/* CG: the rows of a batch, solved in lockstep */
	float	   *A;				/* GATHER_ROWS x (d + 1) gathered vectors */
	float	   *coef;			/* GATHER_ROWS: their right-hand side's coefficients */
	float	   *scale;			/* GATHER_ROWS: their scales (ials, Gram kernel) */
	float	   *G;				/* (d + 1) x (d + 1): matrix and right-hand side */
	float	   *G8;				/* BATCH of them (Cholesky), and an identity */
	float	   *G0;				/* ials: the Gramian as G's start (Cholesky) */
	float	   *xs;				/* d: a Cholesky solution */
	float	   *x;				/* the row's solution (one of x8) */
	float	   *x8;				/* BATCH solutions */
	float	   *Ap;				/* ials objective: G x */
	v8		   *batch;			/* batched Cholesky: BATCH systems, interleaved */
} AlsState;

/* What only the leader keeps. */
typedef struct AlsLeader
{
	const CfTrainParams *params;
	CfEpoch    *log;
	CfFit	   *fit;
	CfFactors  *f;				/* the result, in the loader's order */
	int32	   *pos[2];			/* where each side's rows are in the arena */
	instr_time	start;			/* of the iteration */
} AlsLeader;

/*
 * Kernels: the passes over a row's rated vectors that CG and the objective
 * make, on vectors of 8 floats (GCC/Clang vector extensions), compiled for
 * any CPU and for AVX2 with FMA.  A factor row is `stride` floats (a
 * multiple of 8, zero-padded); a vector in "row layout" has stride + 8
 * floats: the factors, zeros, and the bias (als) at index stride.
 */

/* Fetch a factor row into the cache. */
static pg_attribute_always_inline void
prefetch_row(const float *a, int stride)
{
	for (int c = 0; c < stride; c += 16)
		__builtin_prefetch(a + c);
}

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
#define CF_HADD(a, b) (__builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + \
					   __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15))
	v8			q0 = CF_HADD(CF_HADD(acc[0], acc[1]), CF_HADD(acc[2], acc[3]));
	v8			q1 = CF_HADD(CF_HADD(acc[4], acc[5]), CF_HADD(acc[6], acc[7]));
#undef CF_HADD

	V8W(out) = __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 8, 9, 10, 11) +
		__builtin_shufflevector(q0, q1, 4, 5, 6, 7, 12, 13, 14, 15);
}

/*
 * ptr[j] = the vectors of the m entries at col (rows of F, stride floats),
 * padded to a multiple of 8 with the first; returns their padded number.
 */
static pg_attribute_always_inline int
entry_vectors(const float *F, int stride, const int32 *col, int m, const float **ptr)
{
	int			mp = (m + 7) & ~7;

	for (int j = 0; j < m; j++)
		ptr[j] = F + (Size) col[j] * stride;
	for (int j = m; j < mp; j++)
		ptr[j] = ptr[0];
	return mp;
}

/* t[j] = a[j] . v over stride floats, for j < m (a multiple of 8). */
static pg_attribute_always_inline void
cg_dots_body(const float *const *a, int m, int stride, const float *v, float *t)
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
cg_axpys_body(const float *const *a, int m, int stride, const float *u, float *out)
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
 * products a_e . x come from cg_dots_body, CG_CHUNK entries at a time
 * (ptr, yhat: scratch for CG_CHUNK + 8).
 */
static pg_attribute_always_inline void
objective_body(const float *F, const float *fbias, int stride, bool implicit, double alpha,
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

		cg_dots_body(ptr, mp, stride, x, yhat);
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
gram_products_body(const float *G, int k, int stride, const float *const *v,
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

typedef void (*cg_dots_fn) (const float *const *a, int m, int stride, const float *v,
							float *t);
typedef void (*cg_axpys_fn) (const float *const *a, int m, int stride, const float *u,
							 float *out);

static void
cg_dots_generic(const float *const *a, int m, int stride, const float *v, float *t)
{
	cg_dots_body(a, m, stride, v, t);
}

static void
cg_axpys_generic(const float *const *a, int m, int stride, const float *u, float *out)
{
	cg_axpys_body(a, m, stride, u, out);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
cg_dots_avx2(const float *const *a, int m, int stride, const float *v, float *t)
{
	cg_dots_body(a, m, stride, v, t);
}

cf_target_avx2_fma
static void
cg_axpys_avx2(const float *const *a, int m, int stride, const float *u, float *out)
{
	cg_axpys_body(a, m, stride, u, out);
}
#endif

typedef void (*gram_products_fn) (const float *G, int k, int stride, const float *const *v,
								  float *const *out, int n);

static void
gram_products_generic(const float *G, int k, int stride, const float *const *v,
					  float *const *out, int n)
{
	gram_products_body(G, k, stride, v, out, n);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
gram_products_avx2(const float *G, int k, int stride, const float *const *v,
				   float *const *out, int n)
{
	gram_products_body(G, k, stride, v, out, n);
}
#endif

static gram_products_fn gram_products = NULL;
static cg_dots_fn cg_dots = NULL;
static cg_axpys_fn cg_axpys = NULL;

typedef void (*objective_fn) (const float *F, const float *fbias, int stride, bool implicit,
							  double alpha, double mean, const int32 *col, const float *val,
							  int64 n, const float *x, const float **ptr, float *yhat,
							  double *sse, double *sq);

static void
objective_generic(const float *F, const float *fbias, int stride, bool implicit, double alpha,
				  double mean, const int32 *col, const float *val, int64 n, const float *x,
				  const float **ptr, float *yhat, double *sse, double *sq)
{
	objective_body(F, fbias, stride, implicit, alpha, mean, col, val, n, x, ptr, yhat, sse, sq);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
objective_avx2(const float *F, const float *fbias, int stride, bool implicit, double alpha,
			   double mean, const int32 *col, const float *val, int64 n, const float *x,
			   const float **ptr, float *yhat, double *sse, double *sq)
{
	objective_body(F, fbias, stride, implicit, alpha, mean, col, val, n, x, ptr, yhat, sse, sq);
}
#endif

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

/* Offset of row i of a packed upper triangle of order d. */
static pg_attribute_always_inline Size
packed_row(int d, int i)
{
	return (Size) i * d - (Size) i * (i - 1) / 2;
}

/* Vectors of the batch buffer for order d. */
static Size
batch_vectors(int d)
{
	return packed_row(d, d) + 2 * (Size) d;
}

/*
 * Factor the packed matrices M (upper, lanes = systems) in place, solve
 * for the right-hand sides that follow them, and leave the solutions after
 * those.  Returns the lanes whose matrix is not positive definite, as a
 * bit mask (their results are to be ignored).
 */
static pg_attribute_always_inline int
batched_cholesky_body(v8 *M, int d)
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

typedef int (*batched_cholesky_fn) (v8 *M, int d);

static int
batched_cholesky_generic(v8 *M, int d)
{
	return batched_cholesky_body(M, d);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static int
batched_cholesky_avx2(v8 *M, int d)
{
	return batched_cholesky_body(M, d);
}
#endif

static batched_cholesky_fn batched_cholesky = NULL;

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
interleave_body(v8 *B, const float *G8, int d, const double *lambdas)
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
			v8			a0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13),
						a1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15),
						a2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13),
						a3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15),
						a4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13),
						a5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15),
						a6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13),
						a7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
			v8			b0 = __builtin_shufflevector(a0, a2, 0, 1, 8, 9, 4, 5, 12, 13),
						b1 = __builtin_shufflevector(a0, a2, 2, 3, 10, 11, 6, 7, 14, 15),
						b2 = __builtin_shufflevector(a1, a3, 0, 1, 8, 9, 4, 5, 12, 13),
						b3 = __builtin_shufflevector(a1, a3, 2, 3, 10, 11, 6, 7, 14, 15),
						b4 = __builtin_shufflevector(a4, a6, 0, 1, 8, 9, 4, 5, 12, 13),
						b5 = __builtin_shufflevector(a4, a6, 2, 3, 10, 11, 6, 7, 14, 15),
						b6 = __builtin_shufflevector(a5, a7, 0, 1, 8, 9, 4, 5, 12, 13),
						b7 = __builtin_shufflevector(a5, a7, 2, 3, 10, 11, 6, 7, 14, 15);

			row[l + 0] = __builtin_shufflevector(b0, b4, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 1] = __builtin_shufflevector(b1, b5, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 2] = __builtin_shufflevector(b2, b6, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 3] = __builtin_shufflevector(b3, b7, 0, 1, 2, 3, 8, 9, 10, 11);
			row[l + 4] = __builtin_shufflevector(b0, b4, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 5] = __builtin_shufflevector(b1, b5, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 6] = __builtin_shufflevector(b2, b6, 4, 5, 6, 7, 12, 13, 14, 15);
			row[l + 7] = __builtin_shufflevector(b3, b7, 4, 5, 6, 7, 12, 13, 14, 15);
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

typedef void (*interleave_fn) (v8 *B, const float *G8, int d, const double *lambdas);

static void
interleave_generic(v8 *B, const float *G8, int d, const double *lambdas)
{
	interleave_body(B, G8, d, lambdas);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
interleave_avx2(v8 *B, const float *G8, int d, const double *lambdas)
{
	interleave_body(B, G8, d, lambdas);
}
#endif

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
gram_body(const float *F, int stride, const int32 *col, const float *scale,
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

typedef void (*gram_fn) (const float *F, int stride, const int32 *col, const float *scale,
						 const float *coef, int m, int k, bool bias, float *B, float *G,
						 int ld, const float *G0, bool first);

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
gram_avx2(const float *F, int stride, const int32 *col, const float *scale,
		  const float *coef, int m, int k, bool bias, float *B, float *G, int ld,
		  const float *G0, bool first)
{
	gram_body(F, stride, col, scale, coef, m, k, bias, B, G, ld, G0, first);
}
#endif

/* NULL: ssyrk */
static gram_fn gram_kernel = NULL;

static interleave_fn interleave = NULL;

static objective_fn observed_objective = NULL;

/* Pick the kernels this CPU runs (the same in every process). */
static void
choose_kernels(void)
{
	observed_objective = objective_generic;
	batched_cholesky = batched_cholesky_generic;
	interleave = interleave_generic;
	gram_kernel = NULL;
	cg_dots = cg_dots_generic;
	cg_axpys = cg_axpys_generic;
	gram_products = gram_products_generic;
#ifdef CF_HAVE_X86_TARGETS
	if (cf_cpu_has_avx2_fma())
	{
		observed_objective = objective_avx2;
		batched_cholesky = batched_cholesky_avx2;
		interleave = interleave_avx2;
		gram_kernel = gram_avx2;
		cg_dots = cg_dots_avx2;
		cg_axpys = cg_axpys_avx2;
		gram_products = gram_products_avx2;
	}
#endif
}

/* Attach a process's pointers to the arena at base. */
static void
attach(AlsState *st, AlsShared *sh, char *base)
{
	st->sh = sh;
	for (int s = 0; s < 2; s++)
	{
		st->start[s] = (int64 *) (base + sh->off[OFF_START + s]);
		st->col[s] = (int32 *) (base + sh->off[OFF_COL + s]);
		st->val[s] = (float *) (base + sh->off[OFF_VAL + s]);
		st->F[s] = (float *) (base + sh->off[OFF_F + s]);
		st->bias[s] = (float *) (base + sh->off[OFF_BIAS + s]);
		st->blocks[s] = (int32 *) (base + sh->off[OFF_BLOCKS + s]);
		st->sums[s] = (AlsSums *) (base + sh->off[OFF_SUMS + s]);
	}
	st->gram = (float *) (base + sh->off[OFF_GRAM]);
	st->stats = (AlsStats *) (base + sh->off[OFF_STATS]);
}

/* Bytes of one process's scratch space for d unknowns and this stride. */
static Size
scratch_bytes(int d, int stride)
{
	Size		floats = cf_mul_size(GATHER_ROWS, d + 3);	/* A, coef, scale */
	Size		pointers = BATCH * (CG_CHUNK + 8);	/* CgRow.ptr */

	floats = cf_add_size(floats, cf_mul_size(BATCH + 2, cf_mul_size(d + 1, d + 1)));	/* G8; G0 (last) */
	floats = cf_add_size(floats, cf_mul_size(4 * BATCH + 2, stride + CF_LANES));	/* vectors */
	floats = cf_add_size(floats, cf_mul_size(batch_vectors(d), BATCH)); /* batch */
	floats = cf_add_size(floats, 3 * BATCH * (CG_CHUNK + 8));	/* CgRow.w, coef, u */
	return cf_add_size(cf_mul_size(pointers, sizeof(float *)),
					   cf_mul_size(floats, sizeof(float))) + 64;
}

/* Allocate a process's scratch space; slot: its AlsStats. */
static void
alloc_scratch(AlsState *st, int slot)
{
	int			d = st->sh->d;
	int			stride = st->sh->stride;
	int			vlen = stride + CF_LANES;
	int			cap = CG_CHUNK + 8;
	void	   *base = palloc0(scratch_bytes(d, stride));
	float	   *w;

	st->scratch = base;
	w = base;
	st->A = w;
	w += (Size) GATHER_ROWS * (d + 1);
	st->coef = w;
	w += GATHER_ROWS;
	st->scale = w;
	w += GATHER_ROWS;
	st->G8 = st->G = w;
	w += (Size) (BATCH + 1) * (d + 1) * (d + 1);
	/* the last of G8: an identity, for the idle lanes of a batch */
	for (int c = 0; c < d; c++)
		st->G8[(Size) BATCH * (d + 1) * (d + 1) + (Size) c * (d + 2)] = 1.0f;
	st->x8 = st->x = w;
	w += (Size) BATCH * vlen;
	for (int j = 0; j < BATCH; j++)
	{
		st->cg[j].x = st->x8 + (Size) j * vlen;
		st->cg[j].r = w;
		st->cg[j].p = w + vlen;
		st->cg[j].Ap = w + 2 * vlen;
		w += 3 * vlen;
	}
	st->Ap = w;
	st->xs = w + vlen;
	w += 2 * vlen;
	st->batch = (v8 *) TYPEALIGN(32, w);
	/* CG's arrays last (32-byte aligned after the batch) */
	st->cg[0].ptr = (const float **) (st->batch + batch_vectors(d));
	for (int j = 1; j < BATCH; j++)
		st->cg[j].ptr = st->cg[j - 1].ptr + cap;
	w = (float *) (st->cg[BATCH - 1].ptr + cap);
	for (int j = 0; j < BATCH; j++)
	{
		st->cg[j].w = w;
		st->cg[j].coef = w + cap;
		st->cg[j].u = w + 2 * cap;
		w += 3 * cap;
	}
	st->G0 = w;
	st->my = &st->stats[Min(slot, st->sh->nprocs - 1)];
}

/*
 * Phase timing (DEBUG1 only) reports CPU seconds, so that other load on a
 * shared machine (time spent waiting for a core) does not count against
 * the rates.  The thread's CPU clock is a system call, though (about 2,000
 * cycles on the machine of docs/performance.md, a quarter of a batch's
 * Cholesky at k = 32), so the phases of each batch of BATCH rows are timed
 * with the monotonic clock (about 85 cycles), and at the end of each
 * half-step a process scales the phase seconds it added by its CPU time
 * over its wall time for the half-step (scale_phases).
 */

/* Seconds since *t, and *t set to now (monotonic clock). */
static double
lap(instr_time *t)
{
	instr_time	now;
	double		seconds;

	INSTR_TIME_SET_CURRENT(now);
	seconds = INSTR_TIME_GET_DOUBLE(now) - INSTR_TIME_GET_DOUBLE(*t);
	*t = now;
	return seconds;
}

/* Where a process's half-step began, for scale_phases. */
typedef struct PhaseMark
{
	double		cpu;			/* cf_thread_seconds() */
	instr_time	wall;
	double		gram_seconds;	/* the process's AlsStats then */
	double		solve_seconds;
} PhaseMark;

/* Start a half-step's phase timing. */
static void
mark_phases(AlsState *st, PhaseMark *m)
{
	m->cpu = cf_thread_seconds();
	INSTR_TIME_SET_CURRENT(m->wall);
	m->gram_seconds = st->my->gram_seconds;
	m->solve_seconds = st->my->solve_seconds;
}

/* Scale the phase seconds added since *m from wall to CPU time. */
static void
scale_phases(AlsState *st, const PhaseMark *m)
{
	double		cpu = cf_thread_seconds() - m->cpu;
	double		wall;
	double		r = 1.0;
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	wall = INSTR_TIME_GET_DOUBLE(now) - INSTR_TIME_GET_DOUBLE(m->wall);
	if (wall > 0 && cpu < wall)
		r = cpu / wall;
	st->my->gram_seconds = m->gram_seconds + (st->my->gram_seconds - m->gram_seconds) * r;
	st->my->solve_seconds = m->solve_seconds + (st->my->solve_seconds - m->solve_seconds) * r;
}

/*
 * Dot product of two vectors of n floats, in double, in eight partial sums
 * (a chain of n dependent additions would take longer than the products).
 */
static double
dot_d(const float *a, const float *b, int n)
{
	double		s[8] = {0};
	int			c = 0;

	for (; c + 8 <= n; c += 8)
		for (int l = 0; l < 8; l++)
			s[l] += (double) a[c + l] * b[c + l];
	for (; c < n; c++)
		s[0] += (double) a[c] * b[c];
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/*
 * Set up CG's passes over entries [e0, e0 + m) of row c of side s (m <=
 * CG_CHUNK): pointers to their vectors in c->ptr, their weights w_e in
 * c->w (alpha r_e for ials, 1 for als) and right-hand side coefficients in
 * c->coef (1 + alpha r_e, or r_e - mu - b_e).  The entries are padded to a
 * multiple of 8 with the first vector and zero weights; returns their
 * padded number.
 */
static int
cg_entries(AlsState *st, int s, CgRow *c, int64 e0, int m)
{
	AlsShared  *sh = st->sh;
	int			stride = sh->stride;
	const float *F = st->F[1 - s];
	const float *fbias = st->bias[1 - s];
	const int32 *col = st->col[s] + e0;
	const float *val = st->val[s] + e0;
	int			mp = entry_vectors(F, stride, col, m, c->ptr);
	float	   *w = c->w;
	float	   *coef = c->coef;
	float		alpha = (float) sh->alpha;
	float		mean = sh->mean;

	if (sh->implicit)
		for (int j = 0; j < m; j++)
		{
			w[j] = alpha * val[j];
			coef[j] = 1.0f + w[j];
		}
	else
		for (int j = 0; j < m; j++)
		{
			w[j] = 1.0f;
			coef[j] = val[j] - mean - fbias[col[j]];
		}
	for (int j = m; j < mp; j++)
	{
		w[j] = 0;
		coef[j] = 0;
	}
	return mp;
}

/*
 * One of CG's passes over the entries of row c of side s: out += A^T u
 * (row layout: for als the bias column's sum at out[stride]) with u_e =
 * w_e (a_e . v), or on the first pass u_e = coef_e - w_e (a_e . v), which
 * makes out b - A^T W A v in one pass.  The entries are those cg_entries
 * has set up for the whole row (c->whole), or else set up CG_CHUNK at a
 * time.
 */
static void
cg_pass(AlsState *st, int s, CgRow *c, const float *v, float *out, bool first)
{
	int			stride = st->sh->stride;
	bool		bias = !st->sh->implicit;
	float		vb = bias ? v[stride] : 0;
	float	   *u = c->u;
	const float *w = c->w;
	const float *coef = c->coef;
	v8			usum = {0};

	for (int64 e0 = c->lo; e0 < c->hi; e0 += CG_CHUNK)
	{
		int			mp = c->whole;

		CHECK_FOR_INTERRUPTS();
		if (!mp)
			mp = cg_entries(st, s, c, e0, (int) Min(c->hi - e0, CG_CHUNK));
		cg_dots(c->ptr, mp, stride, v, u);
		if (first)
			for (int j = 0; j < mp; j++)
				u[j] = coef[j] - w[j] * (u[j] + vb);
		else
			for (int j = 0; j < mp; j++)
				u[j] = w[j] * (u[j] + vb);
		if (bias)
			for (int j = 0; j < mp; j += 8)
				usum += V8(u + j);
		cg_axpys(c->ptr, mp, stride, u, out);
		if (c->whole)
			break;
	}
	if (bias)
		out[stride] += v8_hsum(&usum);
}

/* Flops of one product with a row's matrix over n entries. */
static double
matvec_flops(const AlsShared *sh, int64 n)
{
	return (sh->implicit ? 2.0 * sh->k * sh->k : 0) + 4.0 * n * sh->d + 2.0 * sh->d;
}

/*
 * c->Ap = G v for each of the n rows c of the batch (v its x if start,
 * else its p), by one product of G with all of them (ials); 0 for als.
 */
static void
cg_gram_products(AlsState *st, CgRow *const *c, int n, bool start)
{
	AlsShared  *sh = st->sh;
	const float *v[BATCH];
	float	   *out[BATCH];

	for (int j = 0; j < n; j++)
	{
		v[j] = start ? c[j]->x : c[j]->p;
		out[j] = c[j]->Ap;
		if (!sh->implicit)
			memset(out[j], 0, sizeof(float) * (sh->stride + CF_LANES));
	}
	if (sh->implicit)
		gram_products(st->gram, sh->k, sh->stride, v, out, n);
}

/*
 * Conjugate gradient on M x = b from the current x (Takacs, Pilaszy & Tikk
 * 2011, Algorithm 2) for row c of side s, M = G (ials) + sum_e w_e a_e
 * a_e^T + lambda I; vectors in row layout.  cg_start sets up the row's
 * entries and its residual r = b - M x from c->Ap = G x (the first pass
 * builds it directly); cg_step takes one step from c->Ap = G p.  A row is
 * done after cg_steps steps, or when r vanishes or p . M p is not
 * positive.
 */
static void
cg_start(AlsState *st, int s, CgRow *c)
{
	AlsShared  *sh = st->sh;
	int			vlen = sh->stride + CF_LANES;
	int64		n = c->hi - c->lo;

	c->whole = n <= CG_CHUNK ? cg_entries(st, s, c, c->lo, (int) n) : 0;
	memset(c->r, 0, sizeof(float) * vlen);
	cg_pass(st, s, c, c->x, c->r, true);
	for (int j = 0; j < vlen; j++)
	{
		c->r[j] -= c->Ap[j] + (float) c->lambda * c->x[j];
		c->p[j] = c->r[j];
	}
	c->rs = dot_d(c->r, c->r, vlen);
	c->done = !(c->rs > 1e-20);
	st->my->solve_flops += matvec_flops(sh, n) + 2.0 * n * sh->d + 4.0 * sh->d;
}

static void
cg_step(AlsState *st, int s, CgRow *c)
{
	AlsShared  *sh = st->sh;
	int			vlen = sh->stride + CF_LANES;
	float	   *x = c->x;
	float	   *r = c->r;
	float	   *p = c->p;
	float	   *Ap = c->Ap;
	double		pAp;
	double		a;
	double		rs_new;

	cg_pass(st, s, c, p, Ap, false);
	for (int j = 0; j < vlen; j++)
		Ap[j] += (float) c->lambda * p[j];
	pAp = dot_d(p, Ap, vlen);
	if (pAp <= 0)
	{
		c->done = true;
		return;
	}
	a = c->rs / pAp;
	for (int j = 0; j < vlen; j++)
	{
		x[j] += (float) a * p[j];
		r[j] -= (float) a * Ap[j];
	}
	rs_new = dot_d(r, r, vlen);
	for (int j = 0; j < vlen; j++)
		p[j] = r[j] + (float) (rs_new / c->rs) * p[j];
	c->rs = rs_new;
	c->done = !(rs_new > 1e-20);
	st->my->solve_flops += matvec_flops(sh, c->hi - c->lo) + 10.0 * sh->d;
}

/*
 * The right-hand side's coefficients of the m entries at col, val of a
 * row, as build_matrix gathers them, into coef[], and into scale[] the
 * factors their vectors are scaled by: for als (1, the target r_e - mu -
 * b_e), for ials with w_e = alpha r_e > 0 (sqrt(w_e), (1 + w_e) /
 * sqrt(w_e)), in a loop the compiler vectorizes (square roots and
 * divisions 4 at a time with SSE, the same results).
 */
static void
entry_coefs(const AlsShared *sh, const float *fbias, const int32 *col, const float *val,
			int m, float *restrict coef, float *restrict scale)
{
	if (sh->implicit)
	{
		float		alpha = (float) sh->alpha;

		for (int j = 0; j < m; j++)
		{
			float		w = alpha * val[j];
			float		sw = sqrtf(w);

			scale[j] = sw;
			coef[j] = (1.0f + w) / sw;
		}
	}
	else
		for (int j = 0; j < m; j++)
		{
			scale[j] = 1.0f;
			coef[j] = val[j] - sh->mean - fbias[col[j]];
		}
}

/*
 * Start of the matrices of a half-step's rows for Cholesky (ials): G0 is
 * the (d + 1) x (d + 1) matrix build_matrix starts each row from, the
 * Gramian in the d x d part (whole: the Gram kernel's diagonal blocks also
 * write above the diagonal, which nothing reads) and zeros in the last row
 * and column.  The Gram kernel's first call for a row reads it as it
 * writes the row's sums; the other paths copy it.
 */
static void
start_matrices(AlsState *st)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			ld = sh->d + 1;

	memset(st->G0, 0, sizeof(float) * ld * ld);
	for (int c = 0; c < k; c++)
		memcpy(st->G0 + (Size) c * ld, st->gram + (Size) c * sh->stride, sizeof(float) * k);
}

/*
 * For Cholesky: the matrix and right-hand side of row entries [lo, hi) of
 * side s in one (d + 1) x (d + 1) matrix G (lower triangle, column-major,
 * leading dimension d + 1, so that a column of it is a row of the upper
 * triangle the batched factorization packs): the other side's vectors are
 * gathered with one more column, so that one syrk gives both the d x d
 * matrix sum_e w_e a_e a_e^T (plus the Gramian for ials) and, in its last
 * row, b = sum_e coef_e a_e.  A row gathers as (a_e, 1, coef_e) for als,
 * and as sqrt(w_e) (a_e, coef_e / w_e) for ials (w_e = alpha r_e > 0).  The
 * syrk is the Gram kernel above (k a multiple of 8, AVX2; it gathers the
 * a_e itself, scaled, and takes the last columns as arrays), else ssyrk over
 * GATHER_ROWS gathered vectors at a time.
 */
static void
build_matrix(AlsState *st, int s, int64 lo, int64 hi)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			d = sh->d;
	int			ld = d + 1;
	int			stride = sh->stride;
	const float *F = st->F[1 - s];
	const float *fbias = st->bias[1 - s];
	const int32 *col = st->col[s];
	const float *val = st->val[s];
	float		alpha = (float) sh->alpha;
	float	   *G = st->G;
	bool		kernel = gram_kernel != NULL && k % CF_LANES == 0 && !(sh->implicit && alpha == 0);

	/* (the Gram kernel's first call sets G itself) */
	if (!kernel || hi == lo)
	{
		if (sh->implicit)
			memcpy(G, st->G0, sizeof(float) * ld * ld);
		else
			memset(G, 0, sizeof(float) * ld * ld);
	}

	if (sh->implicit && alpha == 0)
	{
		/* every confidence is 1: the Gramian alone, b = sum of the vectors */
		for (int64 e = lo; e < hi; e++)
		{
			for (int c = 0; c < k; c++)
				G[(Size) c * ld + d] += F[(Size) col[e] * stride + c];
			if (((e - lo) & 0xFFFF) == 0xFFFF)
				CHECK_FOR_INTERRUPTS();
		}
		st->my->gram_flops += (double) (hi - lo) * d;
		return;
	}
	if (kernel)
	{
		/* the Gram kernel, GRAM_FLOATS of gathered vectors at a time */
		int			rows = Min(GATHER_ROWS, GRAM_FLOATS / k);

		for (int64 e0 = lo; e0 < hi; e0 += rows)
		{
			int			m = (int) Min(hi - e0, rows);

			/* (one row can have millions of entries) */
			CHECK_FOR_INTERRUPTS();
			entry_coefs(sh, fbias, col + e0, val + e0, m, st->coef, st->scale);
			gram_kernel(F, stride, col + e0, sh->implicit ? st->scale : NULL, st->coef, m,
						k, !sh->implicit, st->A, G, ld, sh->implicit ? st->G0 : NULL,
						e0 == lo);
			st->my->gram_flops += (double) m * ld * (ld + 1);
		}
		return;
	}
	for (int64 e0 = lo; e0 < hi; e0 += GATHER_ROWS)
	{
		int			m = (int) Min(hi - e0, GATHER_ROWS);

		CHECK_FOR_INTERRUPTS();
		entry_coefs(sh, fbias, col + e0, val + e0, m, st->coef, st->scale);
		for (int j = 0; j < m; j++)
		{
			int64		e = e0 + j;
			const float *f = F + (Size) col[e] * stride;
			float	   *a = st->A + (Size) j * ld;

			if (j + 8 < m)
				prefetch_row(F + (Size) col[e + 8] * stride, stride);
			if (sh->implicit)
			{
				for (int c = 0; c < k; c++)
					a[c] = st->scale[j] * f[c];
				a[k] = st->coef[j];
			}
			else
			{
				memcpy(a, f, sizeof(float) * k);
				a[k] = 1.0f;
				a[k + 1] = st->coef[j];
			}
		}
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, ld, m, 1.0f, st->A, ld,
					1.0f, G, ld);
		st->my->gram_flops += (double) m * ld * (ld + 1);
	}
}

/*
 * Solve the system build_matrix left in st->G with ridge lambda into
 * st->xs (d floats): Cholesky (spotrf) on its d x d part, two triangular
 * solves (spotrs) on its last column.  If the matrix is not positive
 * definite (lambda = 0 and too few vectors), it is rebuilt and factored
 * once more with a tiny extra ridge, 1e-6 of its mean diagonal.
 */
static void
cholesky_row(AlsState *st, int s, int64 lo, int64 hi, double lambda)
{
	AlsShared  *sh = st->sh;
	int			d = sh->d;
	int			ld = d + 1;
	int			one = 1;
	int			info = 0;
	float	   *G = st->G;
	double		trace = 0;

	for (int c = 0; c < d; c++)
	{
		trace += G[(Size) c * ld + c];
		G[(Size) c * ld + c] += (float) lambda;
	}
	spotrf_("L", &d, G, &ld, &info);
	if (info != 0)
	{
		build_matrix(st, s, lo, hi);
		for (int c = 0; c < d; c++)
			G[(Size) c * ld + c] += (float) (lambda + 1e-6 * Max(trace / d, 1e-6));
		spotrf_("L", &d, G, &ld, &info);
		if (info != 0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("training failed in epoch %d: a system of normal equations is singular",
							sh->iteration + 1),
					 errhint("Raise regularization.")));
	}
	for (int c = 0; c < d; c++)
		st->xs[c] = G[(Size) c * ld + d];
	spotrs_("L", &d, &one, G, &ld, st->xs, &d, &info);
	if (info != 0)
		elog(ERROR, "spotrs failed with info %d", info);
	st->my->solve_flops += (double) d * d * d / 3 + 2.0 * d * d;
}

/* The ridge of a row with entries [lo, hi) of side s. */
static double
row_lambda(AlsState *st, int s, int64 lo, int64 hi)
{
	AlsShared  *sh = st->sh;

	if (sh->implicit)
	{
		double		total = 0;

		for (int64 e = lo; e < hi; e++)
			total += st->val[s][e];
		return sh->lambda * pow(sh->rows[1 - s] + sh->alpha * total, sh->exponent);
	}
	return sh->lambda * pow((double) (hi - lo), sh->exponent);
}

/*
 * Store row `row` of side s solved as st->x (row layout) and add its terms
 * of the objective to *sum.
 */
static void
finish_row(AlsState *st, int s, int32 row, int64 lo, int64 hi, double lambda, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			stride = sh->stride;
	float	   *x = st->x;

	memcpy(st->F[s] + (Size) row * stride, x, sizeof(float) * k);
	if (!sh->implicit)
		st->bias[s][row] = x[stride];

	sum->penalty += lambda * dot_d(x, x, stride + CF_LANES);
	if (s == SIDE_USERS)
	{
		/* (scratch: the CG arrays of the batch's first row, solved by now) */
		observed_objective(st->F[1 - s], st->bias[1 - s], stride, sh->implicit, sh->alpha,
						   sh->mean, st->col[s] + lo, st->val[s] + lo, hi - lo, x,
						   st->cg[0].ptr, st->cg[0].u, &sum->sse, &sum->sq);
		if (sh->implicit)
		{
			gram_products(st->gram, k, stride, (const float *const *) &x, &st->Ap, 1);
			sum->quad += dot_d(x, st->Ap, k);
		}
	}
}

/* st->x (row layout) from a Cholesky solution of d floats. */
static void
x_from_solution(AlsState *st, const float *xs)
{
	AlsShared  *sh = st->sh;

	memset(st->x, 0, sizeof(float) * (sh->stride + CF_LANES));
	memcpy(st->x, xs, sizeof(float) * sh->k);
	if (!sh->implicit)
		st->x[sh->stride] = xs[sh->k];
}

/* A row without entries (ials): its vector is 0. */
static void
zero_row(AlsState *st, int s, int32 row)
{
	memset(st->F[s] + (Size) row * st->sh->stride, 0, sizeof(float) * st->sh->k);
	st->bias[s][row] = 0;
}

/*
 * The next rows of side s from *row on (below r1) that have entries, BATCH
 * at most, into rows[] with their ridges in lambdas[]; rows without
 * entries on the way get the vector 0 (they add no terms: the order of the
 * sums holds).  *row moves past them; returns how many, 0 at r1.
 */
static int
next_batch(AlsState *st, int s, int32 *row, int32 r1, int32 *rows, double *lambdas)
{
	int			n = 0;

	for (; *row < r1 && n < BATCH; (*row)++)
	{
		int64		lo = st->start[s][*row];
		int64		hi = st->start[s][*row + 1];

		if (hi == lo)
			zero_row(st, s, *row);
		else
		{
			rows[n] = *row;
			lambdas[n++] = row_lambda(st, s, lo, hi);
		}
	}
	return n;
}

/*
 * Solve rows [r0, r1) of side s by Cholesky, BATCH at a time (see
 * batched_cholesky): the matrices, then the factorizations and solves,
 * then the objective, one clock read per phase; the objective's terms go
 * to *sum in row order.
 */
static void
run_rows_cholesky(AlsState *st, int s, int32 r0, int32 r1, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			d = sh->d;
	int32		rows[BATCH];
	double		lambdas[BATCH];
	int			n;
	int32		row = r0;
	float	   *xs = st->xs;
	Size		gsize = (Size) (d + 1) * (d + 1);
	const float *sol = (const float *) (st->batch + packed_row(d, d) + d);

	st->x = st->x8;
	while ((n = next_batch(st, s, &row, r1, rows, lambdas)) > 0)
	{
		instr_time	t;
		int			failed;

		INSTR_TIME_SET_ZERO(t);
		if (sh->timing)
			INSTR_TIME_SET_CURRENT(t);
		for (int lane = 0; lane < n; lane++)
		{
			st->G = st->G8 + (Size) lane * gsize;
			build_matrix(st, s, st->start[s][rows[lane]], st->start[s][rows[lane] + 1]);
		}
		if (sh->timing)
			st->my->gram_seconds += lap(&t);
		for (int lane = n; lane < BATCH; lane++)
		{
			/* idle lanes: the identity, right-hand side 0 */
			memcpy(st->G8 + (Size) lane * gsize, st->G8 + (Size) BATCH * gsize,
				   sizeof(float) * gsize);
			lambdas[lane] = 0;
		}
		interleave(st->batch, st->G8, d, lambdas);
		failed = batched_cholesky(st->batch, d);
		st->my->solve_flops += n * ((double) d * d * d / 3 + 2.0 * d * d);
		if (sh->timing)
			st->my->solve_seconds += lap(&t);
		for (int lane = 0; lane < n; lane++)
		{
			int64		lo = st->start[s][rows[lane]];
			int64		hi = st->start[s][rows[lane] + 1];

			if (failed & (1 << lane))
			{
				/* not positive definite in float: LAPACK, with a tiny ridge if need be */
				st->G = st->G8;
				build_matrix(st, s, lo, hi);
				cholesky_row(st, s, lo, hi, lambdas[lane]);
			}
			else
				for (int c = 0; c < d; c++)
					xs[c] = sol[(Size) c * BATCH + lane];
			x_from_solution(st, xs);
			finish_row(st, s, rows[lane], lo, hi, lambdas[lane], sum);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Solve rows [r0, r1) of side s by CG, BATCH at a time (the solves, then
 * the objective: one clock read per phase), adding the objective's terms
 * to *sum in row order.  The rows of a batch take their steps in lockstep
 * (step 1 of each, then step 2 of each, ...), so that the Gramian's part of
 * their products is one product of G with all their vectors
 * (cg_gram_products); each row's other operations are those of a row
 * solved alone.
 */
static void
run_rows_cg(AlsState *st, int s, int32 r0, int32 r1, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			stride = sh->stride;
	int			vlen = stride + CF_LANES;
	int32		rows[BATCH];
	double		lambdas[BATCH];
	CgRow	   *active[BATCH];
	int			n;
	int32		row = r0;

	while ((n = next_batch(st, s, &row, r1, rows, lambdas)) > 0)
	{
		instr_time	t;

		INSTR_TIME_SET_ZERO(t);
		if (sh->timing)
			INSTR_TIME_SET_CURRENT(t);
		for (int j = 0; j < n; j++)
		{
			CgRow	   *c = &st->cg[j];

			/* warm start: the row's current vector */
			memset(c->x, 0, sizeof(float) * vlen);
			memcpy(c->x, st->F[s] + (Size) rows[j] * stride, sizeof(float) * sh->k);
			if (!sh->implicit)
				c->x[stride] = st->bias[s][rows[j]];
			c->lo = st->start[s][rows[j]];
			c->hi = st->start[s][rows[j] + 1];
			c->lambda = lambdas[j];
			active[j] = c;
		}
		cg_gram_products(st, active, n, true);
		for (int j = 0; j < n; j++)
			cg_start(st, s, active[j]);
		for (int step = 0; step < sh->cg_steps; step++)
		{
			int			na = 0;

			for (int j = 0; j < n; j++)
				if (!st->cg[j].done)
					active[na++] = &st->cg[j];
			if (na == 0)
				break;
			cg_gram_products(st, active, na, false);
			for (int j = 0; j < na; j++)
				cg_step(st, s, active[j]);
		}
		if (sh->timing)
			st->my->solve_seconds += lap(&t);
		for (int j = 0; j < n; j++)
		{
			st->x = st->x8 + (Size) j * vlen;
			finish_row(st, s, rows[j], st->start[s][rows[j]], st->start[s][rows[j] + 1],
					   lambdas[j], sum);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* Solve the blocks of side s that this process takes. */
static void
run_half(AlsState *st, int s)
{
	AlsShared  *sh = st->sh;
	uint32		block;
	PhaseMark	mark;

	if (sh->timing)
		mark_phases(st, &mark);
	if (sh->implicit && sh->solver == CF_SOLVER_CHOLESKY)
		start_matrices(st);
	while ((block = pg_atomic_fetch_add_u32(&sh->next, 1)) < sh->nblocks[s])
	{
		AlsSums		sum = {0};
		int32		r0 = st->blocks[s][block];
		int32		r1 = st->blocks[s][block + 1];

		if (sh->solver == CF_SOLVER_CHOLESKY)
			run_rows_cholesky(st, s, r0, r1, &sum);
		else
			run_rows_cg(st, s, r0, r1, &sum);
		st->sums[s][block] = sum;
	}
	if (sh->timing)
		scale_phases(st, &mark);
}

/*
 * The leader's turn before a half-step of side s: the other side's
 * Gramian (ials), and the block counter.
 */
static void
begin_half(AlsState *st, int s)
{
	AlsShared  *sh = st->sh;

	if (sh->implicit)
	{
		int			k = sh->k;
		double		t = 0;
		int			ld = sh->stride;
		float	   *G = st->gram;

		if (sh->timing)
			t = cf_thread_seconds();
		/* the lower triangle by ssyrk, then mirrored: kernels use it whole */
		cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, k, sh->rows[1 - s], 1.0f,
					st->F[1 - s], ld, 0.0f, G, ld);
		for (int c = 0; c < k; c++)
			for (int r = c + 1; r < k; r++)
				G[(Size) r * ld + c] = G[(Size) c * ld + r];
		st->my->gram_flops += (double) sh->rows[1 - s] * k * (k + 1);
		if (sh->timing)
			st->my->gram_seconds += cf_thread_seconds() - t;
	}
	sh->side = s;
	pg_atomic_write_u32(&sh->next, 0);
}

/* NOTICE-free report of the phases' work (DEBUG1), then reset the counters. */
static void
report_phases(AlsState *st)
{
	AlsShared  *sh = st->sh;
	AlsStats	total = {0};

	for (int j = 0; j < sh->nprocs; j++)
	{
		total.gram_seconds += st->stats[j].gram_seconds;
		total.gram_flops += st->stats[j].gram_flops;
		total.solve_seconds += st->stats[j].solve_seconds;
		total.solve_flops += st->stats[j].solve_flops;
	}
	if (sh->timing)
		ereport(DEBUG1,
				(errmsg_internal("cf: epoch %d phases (CPU seconds, all processes): gram %.6f s %.6f GFLOP, solve %.6f s %.6f GFLOP",
								 sh->iteration + 1,
								 total.gram_seconds, total.gram_flops / 1e9,
								 total.solve_seconds, total.solve_flops / 1e9)));
	memset(st->stats, 0, sizeof(AlsStats) * sh->nprocs);
}

/* Copy the factors and biases into f, rows in the loader's order. */
static void
factors_home(AlsState *st, int32 *const pos[2], CfFactors *f)
{
	float	   *F[2] = {[SIDE_ITEMS] = f->Q,[SIDE_USERS] = f->P};
	float	   *bias[2] = {[SIDE_ITEMS] = f->item_bias,[SIDE_USERS] = f->user_bias};

	for (int s = 0; s < 2; s++)
		for (int32 r = 0; r < st->sh->rows[s]; r++)
		{
			CHECK_FOR_INTERRUPTS();
			memcpy(F[s] + (Size) r * f->stride, st->F[s] + (Size) pos[s][r] * f->stride,
				   sizeof(float) * f->stride);
			bias[s][r] = st->bias[s][pos[s][r]];
		}
}

/*
 * The leader's turn after an iteration: its objective, the report, and
 * the next iteration's first Gramian (or stop).
 */
static void
end_iteration(AlsState *st, AlsLeader *ld)
{
	AlsShared  *sh = st->sh;
	CfEpoch    *log = &ld->log[sh->iteration];
	AlsSums		u = {0};
	double		penalty = 0;
	bool		stop;

	for (int b = 0; b < sh->nblocks[SIDE_ITEMS]; b++)
		penalty += st->sums[SIDE_ITEMS][b].penalty;
	for (int b = 0; b < sh->nblocks[SIDE_USERS]; b++)
	{
		u.sse += st->sums[SIDE_USERS][b].sse;
		u.sq += st->sums[SIDE_USERS][b].sq;
		u.quad += st->sums[SIDE_USERS][b].quad;
		u.penalty += st->sums[SIDE_USERS][b].penalty;
	}
	penalty += u.penalty;
	if (sh->implicit)
	{
		double		cells = (double) sh->rows[SIDE_USERS] * sh->rows[SIDE_ITEMS];

		log->loss = (u.quad + u.sse + penalty) / cells;
		log->rmse = sqrt(Max(u.quad + u.sq, 0) / cells);
	}
	else
	{
		log->loss = (u.sse + penalty) / sh->nnz;
		log->rmse = sqrt(u.sse / sh->nnz);
	}
	log->seconds = cf_seconds_since(ld->start);
	ld->fit->loss = log->loss;
	ld->fit->rmse = log->rmse;
	report_phases(st);

	/* validation reads the factors by the loader's indices: copy them home */
	if (ld->params->validation != NULL)
		factors_home(st, ld->pos, ld->f);
	stop = cf_epoch_done(ld->params, sh->iteration, ld->f, log);

	sh->iteration++;
	INSTR_TIME_SET_CURRENT(ld->start);
	if (stop || sh->iteration >= ld->params->epochs)
		sh->stop = true;
	else
		begin_half(st, SIDE_ITEMS);
}

/*
 * Every process's loop over iterations; the leader passes its state,
 * workers NULL.
 */
static void
train_loop(AlsState *st, AlsLeader *ld)
{
	AlsShared  *sh = st->sh;

	choose_kernels();
	for (;;)
	{
		run_half(st, SIDE_ITEMS);
		cf_parallel_barrier(&sh->sync);
		if (ld)
			begin_half(st, SIDE_USERS);
		cf_parallel_barrier(&sh->sync);
		run_half(st, SIDE_USERS);
		cf_parallel_barrier(&sh->sync);
		if (ld)
			end_iteration(st, ld);
		cf_parallel_barrier(&sh->sync);
		if (sh->stop)
			break;
	}
}

/* Entry point of a parallel worker. */
void
cf_als_worker_main(dsm_segment *seg, shm_toc *toc)
{
	AlsState	st;
	AlsShared  *sh = shm_toc_lookup(toc, KEY_SHARED, false);

	attach(&st, sh, shm_toc_lookup(toc, KEY_ARENA, false));
	alloc_scratch(&st, ParallelWorkerNumber + 1);
	cf_parallel_worker_start(&sh->sync);
	train_loop(&st, NULL);
}

/*
 * Entries per user: every rating (als), or one per (user, item) pair with
 * the ratings summed, pairs summing to 0 left out (ials).  Returns the
 * count; fills ustart if not NULL, and col/val if not NULL.
 */
static int64
user_entries(const CfRatings *data, bool implicit, int64 *ustart, int32 *col, float *val)
{
	int64		nnz = 0;

	for (int32 u = 0; u < data->nusers; u++)
	{
		if (ustart)
			ustart[u] = nnz;
		for (int64 j = data->user_start[u]; j < data->user_start[u + 1];)
		{
			int32		item = data->r[j].item;
			double		r = 0;
			int64		next = j + 1;

			if (implicit)
			{
				/* the loader sorted a user's ratings by item: duplicates are adjacent */
				r = data->r[j].rating;
				while (next < data->user_start[u + 1] && data->r[next].item == item)
					r += data->r[next++].rating;
				if (r <= 0)
				{
					j = next;
					continue;
				}
			}
			else
				r = data->r[j].rating;
			if (col)
			{
				col[nnz] = item;
				val[nnz] = (float) r;
			}
			nnz++;
			j = next;
		}
		if ((u & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (ustart)
		ustart[data->nusers] = nnz;
	return nnz;
}

/*
 * start[0..rows] from the rows' lengths len[r] (r < rows), row r placed at
 * position pos[r].
 */
static void
starts_from_lengths(int32 rows, const int64 *len, const int32 *pos, int64 *start)
{
	start[0] = 0;
	for (int32 r = 0; r < rows; r++)
		start[pos[r] + 1] = len[r];
	for (int32 p = 0; p < rows; p++)
		start[p + 1] += start[p];
}

/*
 * The transpose of lists [rows] into tcol/tval, laid out by tstart (the
 * output lists' starts, from their lengths; cols of them): the rows are
 * taken in the order order[] (NULL: ascending) and numbered by their
 * position in it, and column c goes to output list colpos[c] (NULL: c), so
 * each output list holds the positions of its input rows, ascending.
 */
static void
transpose(int32 rows, int32 cols, const int64 *start, const int32 *col, const float *val,
		  const int32 *order, const int32 *colpos,
		  const int64 *tstart, int32 *tcol, float *tval)
{
	int64	   *next = palloc_extended(cf_mul_size(Max(cols, 1), sizeof(int64)), MCXT_ALLOC_HUGE);

	memcpy(next, tstart, sizeof(int64) * cols);
	for (int32 p = 0; p < rows; p++)
	{
		int32		r = order ? order[p] : p;

		for (int64 e = start[r]; e < start[r + 1]; e++)
		{
			int64		pos = next[colpos ? colpos[col[e]] : col[e]]++;

			tcol[pos] = p;
			tval[pos] = val[e];
		}
		if ((p & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(next);
}

/*
 * Rows 0..rows-1 by decreasing len (ties by index) into order[]; pos[r] is
 * row r's position in it.
 */
static void
order_by_length(int32 rows, const int64 *len, int32 *order, int32 *pos)
{
	cf_order_by_key(order, rows, len, true);
	for (int32 p = 0; p < rows; p++)
		pos[order[p]] = p;
}

/*
 * Both sides' lists in the arena, each side's rows in order of decreasing
 * length and each list sorted by the other side's position; pos[s][r] is
 * where row r of side s (the loader's index) went.
 *
 * The order is for the gathers: every row's solve reads the vectors of
 * its entries from the other side's matrix, at random, and with the
 * long-tailed popularity of real ratings most of those reads go to a few
 * rows.  Put first, those rows lie together, and each list reads them at
 * its start, in ascending order, where the hardware prefetchers follow
 * (the order of the reads matters more than the placement alone); reading
 * a 25 MB matrix (200,000 users at k = 32) that way took 0.65 of the
 * cycles a vector of reading it in the loader's order.  A row's solution
 * depends only on the other side's vectors and the order of its entries,
 * not on where rows lie, so the model is the same as the loader's order
 * would give but for the order of the sums (the last bits).
 */
static void
build_lists(AlsState *st, const CfRatings *data, bool implicit, int32 *pos[2])
{
	int64	   *ulen = palloc_extended(cf_mul_size(Max(data->nusers, 1), sizeof(int64)),
									   MCXT_ALLOC_HUGE);
	int64	   *ilen = palloc_extended(cf_mul_size(Max(data->nitems, 1), sizeof(int64)),
									   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	int32	   *order = palloc_extended(cf_mul_size(Max(Max(data->nusers, data->nitems), 1),
													sizeof(int32)), MCXT_ALLOC_HUGE);
	int64	   *ustart = st->start[SIDE_USERS];
	int32	   *ucol = st->col[SIDE_USERS];
	int64		nnz;

	/* the users' lists in the loader's order, the two sides' lengths and orders */
	nnz = user_entries(data, implicit, ustart, ucol, st->val[SIDE_USERS]);
	for (int32 u = 0; u < data->nusers; u++)
		ulen[u] = ustart[u + 1] - ustart[u];
	for (int64 e = 0; e < nnz; e++)
	{
		ilen[ucol[e]]++;
		if ((e & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	order_by_length(data->nitems, ilen, order, pos[SIDE_ITEMS]);
	order_by_length(data->nusers, ulen, order, pos[SIDE_USERS]);

	/*
	 * The items' lists from the users' taken in their new order (so each
	 * item's users ascend), then the users' from those (each user's items
	 * ascend).
	 */
	starts_from_lengths(data->nitems, ilen, pos[SIDE_ITEMS], st->start[SIDE_ITEMS]);
	transpose(data->nusers, data->nitems, ustart, ucol, st->val[SIDE_USERS],
			  order, pos[SIDE_ITEMS],
			  st->start[SIDE_ITEMS], st->col[SIDE_ITEMS], st->val[SIDE_ITEMS]);
	starts_from_lengths(data->nusers, ulen, pos[SIDE_USERS], ustart);
	transpose(data->nitems, data->nusers, st->start[SIDE_ITEMS], st->col[SIDE_ITEMS],
			  st->val[SIDE_ITEMS], NULL, NULL, ustart, ucol, st->val[SIDE_USERS]);
	pfree(order);
	pfree(ilen);
	pfree(ulen);
}

/* Estimated cost of solving a row with n entries. */
static double
row_cost(const AlsShared *sh, int64 n)
{
	double		d = sh->d;

	if (sh->solver == CF_SOLVER_CHOLESKY)
		return n * d * d + d * d * d / 3 + d * d;
	return (sh->cg_steps + 1) * (4 * n * d + (sh->implicit ? 2 * d * d : 0)) + 2 * n * d + d;
}

/* Number of blocks of a side (an upper bound for cut_blocks). */
static int
max_blocks(int32 rows)
{
	return (int) Min(rows, TARGET_BLOCKS);
}

/*
 * Cut the rows of side s into at most max_blocks contiguous blocks of about
 * equal cost, each but the last a multiple of BATCH rows (a block's rows
 * are solved BATCH at a time, and the longest rows, which come first, would
 * otherwise have blocks of one or two); fills blocks[0..nblocks] and
 * returns nblocks.
 */
static int
cut_blocks(const AlsShared *sh, const int64 *start, int32 rows, int32 *blocks)
{
	double		total = 0;
	double		acc = 0;
	int			nb = 0;
	int			limit = max_blocks(rows);

	for (int32 r = 0; r < rows; r++)
		total += row_cost(sh, start[r + 1] - start[r]);
	blocks[0] = 0;
	for (int32 r = 0; r < rows; r++)
	{
		acc += row_cost(sh, start[r + 1] - start[r]);
		if (nb < limit - 1 && acc >= total * (nb + 1) / limit && r + 1 < rows &&
			(r + 1) % BATCH == 0)
			blocks[++nb] = r + 1;
	}
	blocks[++nb] = rows;
	return nb;
}

/* Lay the arena out: offsets into sh->off, total into sh->arena_size. */
static void
layout(AlsShared *sh)
{
	Size		sizes[NUM_OFF];
	Size		total = 0;

	for (int s = 0; s < 2; s++)
	{
		sizes[OFF_START + s] = cf_mul_size((Size) sh->rows[s] + 1, sizeof(int64));
		sizes[OFF_COL + s] = cf_mul_size(Max(sh->nnz, 1), sizeof(int32));
		sizes[OFF_VAL + s] = cf_mul_size(Max(sh->nnz, 1), sizeof(float));
		sizes[OFF_F + s] = cf_mul_size(cf_mul_size(sh->rows[s], sh->stride), sizeof(float));
		sizes[OFF_BIAS + s] = cf_mul_size(sh->rows[s], sizeof(float));
		sizes[OFF_BLOCKS + s] = sizeof(int32) * (max_blocks(sh->rows[s]) + 1);
		sizes[OFF_SUMS + s] = sizeof(AlsSums) * max_blocks(sh->rows[s]);
	}
	sizes[OFF_GRAM] = sizeof(float) * sh->stride * sh->stride;
	sizes[OFF_STATS] = sizeof(AlsStats) * sh->nprocs;
	for (int j = 0; j < NUM_OFF; j++)
	{
		sh->off[j] = total;
		total = cf_add_size(total, TYPEALIGN(64, sizes[j]));
	}
	sh->arena_size = total;
}

/* Unknowns per row: the factors, plus the bias for explicit ratings. */
static int
unknowns(const CfTrainer *trainer, int k)
{
	return trainer->implicit ? k : k + 1;
}

/* Bytes als_train allocates for this data, these settings and workers. */
static Size
als_bytes_for(const CfTrainer *trainer, const CfRatings *data,
			  const CfTrainParams *params, int workers)
{
	AlsShared	sh;
	Size		bytes;

	memset(&sh, 0, sizeof(sh));
	sh.k = params->factors;
	sh.d = unknowns(trainer, params->factors);
	sh.stride = (params->factors + CF_LANES - 1) / CF_LANES * CF_LANES;
	sh.rows[SIDE_USERS] = data->nusers;
	sh.rows[SIDE_ITEMS] = data->nitems;
	sh.nnz = data->n;			/* at most */
	sh.nprocs = workers + 1;
	layout(&sh);
	/*
	 * the arena, the result's copy of the factors, every process's scratch,
	 * the rows' positions and build_lists's temporary arrays
	 */
	bytes = cf_add_size(sh.arena_size,
						cf_factors_bytes(data->nusers, data->nitems, params->factors));
	bytes = cf_add_size(bytes, cf_mul_size(scratch_bytes(sh.d, sh.stride), workers + 1));
	bytes = cf_add_size(bytes, cf_mul_size((Size) data->nusers + data->nitems,
										   sizeof(int32) + sizeof(int64)));
	return cf_add_size(bytes, cf_mul_size(Max(data->nusers, data->nitems), sizeof(int32)));
}

static Size
als_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return als_bytes_for(&cf_als_trainer, data, params, workers);
}

static Size
ials_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return als_bytes_for(&cf_ials_trainer, data, params, workers);
}

/* Train; fills *f (allocated in CurrentMemoryContext), log[0..epochs-1], *fit. */
static void
als_train_for(const CfTrainer *trainer, const CfRatings *data, const CfTrainParams *params,
			  int workers, CfFactors *f, CfEpoch *log, CfFit *fit)
{
	int			k = params->factors;
	AlsShared	setup;
	AlsShared  *sh;
	AlsState	st;
	AlsLeader	ld;
	ParallelContext *pcxt = NULL;
	char	   *arena = NULL;
	pg_prng_state rng;
	int32	   *pos[2];

	cf_factors_alloc(f, data->nusers, data->nitems, k);

	/* the settings and the arena's layout */
	memset(&setup, 0, sizeof(setup));
	setup.implicit = trainer->implicit;
	setup.solver = params->solver;
	setup.cg_steps = params->cg_steps;
	setup.k = k;
	setup.d = unknowns(trainer, k);
	setup.stride = f->stride;
	setup.mean = (float) data->mean;
	setup.lambda = params->regularization;
	setup.alpha = params->alpha;
	setup.exponent = params->regularization_exponent;
	setup.rows[SIDE_USERS] = data->nusers;
	setup.rows[SIDE_ITEMS] = data->nitems;
	setup.nnz = user_entries(data, trainer->implicit, NULL, NULL, NULL);
	setup.nprocs = workers + 1;
	setup.timing = message_level_is_interesting(DEBUG1);
	layout(&setup);

	/* the shared state: in a DSM segment for workers, else local */
	if (workers > 0)
	{
		pcxt = cf_parallel_begin("cf_als_worker_main", workers);
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(AlsShared));
		shm_toc_estimate_chunk(&pcxt->estimator, setup.arena_size);
		shm_toc_estimate_keys(&pcxt->estimator, 2);
		InitializeParallelDSM(pcxt);
		if (pcxt->seg == NULL)
		{
			/* no DSM segment to be had: train alone */
			cf_parallel_end(pcxt);
			pcxt = NULL;
		}
		else
		{
			sh = shm_toc_allocate(pcxt->toc, sizeof(AlsShared));
			arena = shm_toc_allocate(pcxt->toc, setup.arena_size);
			shm_toc_insert(pcxt->toc, KEY_SHARED, sh);
			shm_toc_insert(pcxt->toc, KEY_ARENA, arena);
		}
	}
	if (pcxt == NULL)
	{
		setup.nprocs = 1;
		layout(&setup);
		sh = palloc(sizeof(AlsShared));
		arena = palloc_extended(setup.arena_size, MCXT_ALLOC_HUGE);
	}
	memcpy(sh, &setup, sizeof(AlsShared));
	cf_parallel_sync_init(&sh->sync);
	pg_atomic_init_u32(&sh->next, 0);
	memset(arena + sh->off[OFF_STATS], 0, sizeof(AlsStats) * sh->nprocs);
	memset(arena + sh->off[OFF_GRAM], 0, sizeof(float) * sh->stride * sh->stride);
	attach(&st, sh, arena);

	/* the two sides' lists, and their blocks */
	pos[SIDE_USERS] = palloc_extended(cf_mul_size(Max(data->nusers, 1), sizeof(int32)),
									  MCXT_ALLOC_HUGE);
	pos[SIDE_ITEMS] = palloc_extended(cf_mul_size(Max(data->nitems, 1), sizeof(int32)),
									  MCXT_ALLOC_HUGE);
	build_lists(&st, data, trainer->implicit, pos);
	for (int s = 0; s < 2; s++)
		sh->nblocks[s] = cut_blocks(sh, st.start[s], sh->rows[s], st.blocks[s]);

	/*
	 * From the seed: the factors, uniform with variance 0.01/k, users then
	 * items, row by row in the loader's order (biases start at 0).
	 */
	pg_prng_seed(&rng, (uint64) params->seed);
	for (int s = SIDE_USERS; s >= SIDE_ITEMS; s--)
	{
		memset(st.bias[s], 0, sizeof(float) * sh->rows[s]);
		cf_init_factor_rows(st.F[s], sh->rows[s], pos[s], k, f->stride, &rng);
	}

	ld.params = params;
	ld.log = log;
	ld.fit = fit;
	ld.f = f;
	ld.pos[SIDE_USERS] = pos[SIDE_USERS];
	ld.pos[SIDE_ITEMS] = pos[SIDE_ITEMS];
	fit->loss = fit->rmse = 0;
	alloc_scratch(&st, 0);
	begin_half(&st, SIDE_ITEMS);

	if (pcxt)
		cf_parallel_launch(pcxt, &sh->sync, workers, params->verbose);

	INSTR_TIME_SET_CURRENT(ld.start);
	train_loop(&st, &ld);
	fit->epochs = sh->iteration;

	/* the factors home, before the segment goes */
	factors_home(&st, pos, f);
	if (pcxt)
		cf_parallel_end(pcxt);
	else
	{
		pfree(arena);
		pfree(sh);
	}
	pfree(st.scratch);
	pfree(pos[SIDE_USERS]);
	pfree(pos[SIDE_ITEMS]);
}

static void
als_train(const CfRatings *data, const CfTrainParams *params, int workers,
		  CfFactors *f, CfEpoch *log, CfFit *fit)
{
	als_train_for(&cf_als_trainer, data, params, workers, f, log, fit);
}

static void
ials_train(const CfRatings *data, const CfTrainParams *params, int workers,
		   CfFactors *f, CfEpoch *log, CfFit *fit)
{
	als_train_for(&cf_ials_trainer, data, params, workers, f, log, fit);
}

const CfTrainer cf_als_trainer = {
	.name = "als",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_REGULARIZATION | CF_ARG_SOLVER |
	CF_ARG_CG_STEPS | CF_ARG_REG_EXPONENT,
	.implicit = false,
	.default_epochs = 15,
	.default_regularization = 0.12,
	.default_solver = CF_SOLVER_CHOLESKY,
	.default_cg_steps = 3,
	.default_regularization_exponent = 1,
	.bytes = als_bytes,
	.train = als_train,
};

const CfTrainer cf_ials_trainer = {
	.name = "ials",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_REGULARIZATION | CF_ARG_SOLVER |
	CF_ARG_CG_STEPS | CF_ARG_ALPHA | CF_ARG_REG_EXPONENT | CF_ARG_NO_RATINGS,
	.implicit = true,
	.default_epochs = 15,
	.default_regularization = 0.03,
	.default_solver = CF_SOLVER_CG,
	.default_cg_steps = 3,
	.default_alpha = 10,
	.default_regularization_exponent = 1,
	.bytes = ials_bytes,
	.train = ials_train,
};
