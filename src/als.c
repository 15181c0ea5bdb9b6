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
 * Solving a row (solve.c): either exactly, building the d x d matrix with
 * BLAS (the rated items' vectors gathered GATHER_ROWS at a time, ssyrk;
 * the right-hand side by sgemv) and factoring it with LAPACK Cholesky
 * (spotrf/spotrs); or by a few steps of conjugate gradient warm-started
 * from the row's current vector (Takacs, Pilaszy & Tikk, "Applications of
 * the Conjugate Gradient Method for Implicit Feedback Collaborative
 * Filtering", RecSys 2011), which needs only products with the matrix:
 * Y^T Y v by ssymv plus one pass over the rated items' vectors, never the
 * matrix itself.  Either solver works for both algorithms.
 *
 * An iteration solves every item, then every user (so the stored user
 * vectors are the solutions against the final items: folding an
 * unchanged user in again gives its vector back).  Rows are cut into
 * about TARGET_BLOCKS blocks of equal estimated cost per side, fixed by
 * the data alone; the processes take blocks from a shared counter and
 * meet at a barrier after each half-step, where the leader alone computes
 * the next Gramian.  A row's solution depends only on the other side's
 * vectors, and sums over blocks are added in block order, so the model is
 * the same bit for bit with any number of workers.
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

#include <math.h>

#include "access/parallel.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/shm_toc.h"

#include "als.h"
#include "blas.h"
#include "parallel.h"
#include "solve.h"
#include "util.h"

/* shm_toc keys of a parallel training */
#define KEY_SHARED		UINT64CONST(0xCF00000000000101)
#define KEY_ARENA		UINT64CONST(0xCF00000000000102)

/* Rated vectors gathered per ssyrk call. */
#define GATHER_ROWS 256

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
	OFF_GRAM = OFF_SUMS + 2,	/* float[k * k], the fixed side's Gramian (ials) */
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

	/* scratch */
	float	   *A;				/* GATHER_ROWS x d gathered vectors */
	float	   *y;				/* GATHER_ROWS coefficients */
	float	   *G;				/* d x d */
	float	   *U;				/* d x d Cholesky factor */
	float	   *x;				/* d: the row's solution */
	float	   *b;				/* d: right-hand side */
	float	   *r;				/* d: CG residual */
	float	   *p;				/* d: CG direction */
	float	   *Ap;				/* d: CG matrix times direction */
} AlsState;

/* What only the leader keeps. */
typedef struct AlsLeader
{
	const CfTrainParams *params;
	CfEpoch    *log;
	CfFit	   *fit;
	instr_time	start;			/* of the iteration */
} AlsLeader;

/*
 * Kernels: the dot products and updates over rated vectors that CG and
 * the objective make, compiled for any CPU and for AVX2 with FMA.
 */

/* a . v over k floats. */
static pg_attribute_always_inline float
dot_k(const float *a, const float *v, int k)
{
	float		acc[CF_LANES] = {0};
	float		sum = 0;
	int			c = 0;

	for (; c + CF_LANES <= k; c += CF_LANES)
		for (int l = 0; l < CF_LANES; l++)
			acc[l] += a[c + l] * v[c + l];
	for (; c < k; c++)
		sum += a[c] * v[c];
	for (int l = 0; l < CF_LANES; l++)
		sum += acc[l];
	return sum;
}

/*
 * out = sum over entries e of w_e (a_e . v) a_e, a_e = (F[col[e]], 1 if
 * bias) and w_e = alpha val[e] (implicit) or 1.
 */
static pg_attribute_always_inline void
sparse_matvec_body(const float *F, int stride, int k, bool bias, bool implicit,
				   float alpha, const int32 *col, const float *val, int64 n,
				   const float *v, float *out)
{
	for (int64 e = 0; e < n; e++)
	{
		const float *a = F + (Size) col[e] * stride;
		float		t = dot_k(a, v, k);

		if (bias)
			t += v[k];
		if (implicit)
			t *= alpha * val[e];
		for (int c = 0; c < k; c++)
			out[c] += t * a[c];
		if (bias)
			out[k] += t;
	}
}

typedef void (*sparse_matvec_fn) (const float *F, int stride, int k, bool bias,
								  bool implicit, float alpha, const int32 *col,
								  const float *val, int64 n, const float *v, float *out);

static void
sparse_matvec_generic(const float *F, int stride, int k, bool bias, bool implicit,
					  float alpha, const int32 *col, const float *val, int64 n,
					  const float *v, float *out)
{
	sparse_matvec_body(F, stride, k, bias, implicit, alpha, col, val, n, v, out);
}

#ifdef CF_HAVE_X86_TARGETS
cf_target_avx2_fma
static void
sparse_matvec_avx2(const float *F, int stride, int k, bool bias, bool implicit,
				   float alpha, const int32 *col, const float *val, int64 n,
				   const float *v, float *out)
{
	sparse_matvec_body(F, stride, k, bias, implicit, alpha, col, val, n, v, out);
}
#endif

static sparse_matvec_fn sparse_matvec = NULL;

/* Pick the kernels this CPU runs (the same in every process). */
static void
choose_kernels(void)
{
	sparse_matvec = sparse_matvec_generic;
#ifdef CF_HAVE_X86_TARGETS
	if (cf_cpu_has_avx2_fma())
		sparse_matvec = sparse_matvec_avx2;
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

/* Bytes of one process's scratch space for d unknowns. */
static Size
scratch_bytes(int d)
{
	return cf_mul_size(sizeof(float),
					   cf_add_size(cf_mul_size(GATHER_ROWS, d + 1),
								   cf_add_size(cf_mul_size(2 * d, d), 5 * (Size) d)));
}

/* Allocate a process's scratch space; slot: its AlsStats. */
static void
alloc_scratch(AlsState *st, int slot)
{
	int			d = st->sh->d;
	float	   *w = palloc0(scratch_bytes(d));

	st->A = w;
	w += (Size) GATHER_ROWS * d;
	st->y = w;
	w += GATHER_ROWS;
	st->G = w;
	w += (Size) d * d;
	st->U = w;
	w += (Size) d * d;
	st->x = w;
	st->b = w + d;
	st->r = w + 2 * d;
	st->p = w + 3 * d;
	st->Ap = w + 4 * d;
	st->my = &st->stats[Min(slot, st->sh->nprocs - 1)];
}

/* Seconds since t, and t set to now. */
static double
lap(instr_time *t)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *t);
	INSTR_TIME_ADD(*t, now);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* Dot product of two d-vectors in double. */
static double
dot_d(const float *a, const float *b, int d)
{
	double		s = 0;

	for (int c = 0; c < d; c++)
		s += (double) a[c] * b[c];
	return s;
}

/*
 * out = M v for the matrix of row entries [lo, hi) of side s:
 * Gramian (implicit) + sum_e w_e a_e a_e^T + lambda I.
 */
static void
matvec(AlsState *st, int s, int64 lo, int64 hi, double lambda, const float *v, float *out)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			d = sh->d;

	if (sh->implicit)
		cblas_ssymv(CblasColMajor, CblasUpper, k, 1.0f, st->gram, k, v, 1, 0.0f, out, 1);
	else
		memset(out, 0, sizeof(float) * d);
	sparse_matvec(st->F[1 - s], sh->stride, k, !sh->implicit, sh->implicit, (float) sh->alpha,
				  st->col[s] + lo, st->val[s] + lo, hi - lo, v, out);
	for (int c = 0; c < d; c++)
		out[c] += (float) lambda * v[c];
}

/* Flops of one matvec over n entries. */
static double
matvec_flops(const AlsShared *sh, int64 n)
{
	return (sh->implicit ? 2.0 * sh->k * sh->k : 0) + 4.0 * n * sh->d + 2.0 * sh->d;
}

/*
 * A few steps of conjugate gradient on M x = b from the current x (Takacs,
 * Pilaszy & Tikk 2011, Algorithm 2), M given by matvec.
 */
static void
cg_solve(AlsState *st, int s, int64 lo, int64 hi, double lambda)
{
	AlsShared  *sh = st->sh;
	int			d = sh->d;
	float	   *x = st->x;
	float	   *r = st->r;
	float	   *p = st->p;
	float	   *Ap = st->Ap;
	double		rs;

	matvec(st, s, lo, hi, lambda, x, Ap);
	for (int c = 0; c < d; c++)
		r[c] = p[c] = st->b[c] - Ap[c];
	rs = dot_d(r, r, d);
	st->my->solve_flops += matvec_flops(sh, hi - lo) + 4.0 * d;
	for (int step = 0; step < sh->cg_steps && rs > 1e-20; step++)
	{
		double		pAp;
		double		a;
		double		rs_new;

		matvec(st, s, lo, hi, lambda, p, Ap);
		pAp = dot_d(p, Ap, d);
		if (pAp <= 0)
			break;
		a = rs / pAp;
		for (int c = 0; c < d; c++)
		{
			x[c] += (float) a * p[c];
			r[c] -= (float) a * Ap[c];
		}
		rs_new = dot_d(r, r, d);
		for (int c = 0; c < d; c++)
			p[c] = r[c] + (float) (rs_new / rs) * p[c];
		rs = rs_new;
		st->my->solve_flops += matvec_flops(sh, hi - lo) + 10.0 * d;
	}
}

/*
 * Build the right-hand side (and for Cholesky the matrix) of row entries
 * [lo, hi) of side s into st->b (and st->G), gathering the other side's
 * vectors GATHER_ROWS at a time.
 */
static void
build_system(AlsState *st, int s, int64 lo, int64 hi, bool matrix)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			d = sh->d;
	int			stride = sh->stride;
	const float *F = st->F[1 - s];
	const float *fbias = st->bias[1 - s];
	const int32 *col = st->col[s];
	const float *val = st->val[s];
	float		alpha = (float) sh->alpha;

	memset(st->b, 0, sizeof(float) * d);
	if (matrix)
	{
		if (sh->implicit)
			memcpy(st->G, st->gram, sizeof(float) * d * d);
		else
			memset(st->G, 0, sizeof(float) * d * d);
	}
	for (int64 e0 = lo; e0 < hi; e0 += GATHER_ROWS)
	{
		int			m = (int) Min(hi - e0, GATHER_ROWS);

		for (int j = 0; j < m; j++)
		{
			int64		e = e0 + j;
			float	   *a = st->A + (Size) j * d;

			memcpy(a, F + (Size) col[e] * stride, sizeof(float) * k);
			if (sh->implicit)
				st->y[j] = 1.0f + alpha * val[e];
			else
			{
				a[k] = 1.0f;
				st->y[j] = val[e] - sh->mean - fbias[col[e]];
			}
		}
		cf_rhs_add(st->b, st->A, m, d, d, st->y);
		st->my->gram_flops += 2.0 * m * d;
		if (!matrix)
			continue;
		if (sh->implicit)
		{
			/* rows scaled by sqrt(c - 1) = sqrt(alpha r) */
			if (alpha == 0)
				continue;
			for (int j = 0; j < m; j++)
			{
				float		w = sqrtf(alpha * val[e0 + j]);
				float	   *a = st->A + (Size) j * d;

				for (int c = 0; c < d; c++)
					a[c] *= w;
			}
		}
		cf_gram_add(st->G, st->A, m, d, d);
		st->my->gram_flops += (double) m * d * (d + 1);
	}
}

/*
 * Solve row `row` of side s against the other side, store its vector (and
 * bias), and add its terms of the objective to *sum.
 */
static void
solve_row(AlsState *st, int s, int32 row, AlsSums *sum)
{
	AlsShared  *sh = st->sh;
	int			k = sh->k;
	int			d = sh->d;
	int			stride = sh->stride;
	int64		lo = st->start[s][row];
	int64		hi = st->start[s][row + 1];
	float	   *xrow = st->F[s] + (Size) row * stride;
	float	   *x = st->x;
	double		lambda;
	instr_time	t;

	if (hi == lo)
	{
		/* no feedback (ials): the solution is 0 */
		memset(xrow, 0, sizeof(float) * k);
		st->bias[s][row] = 0;
		return;
	}
	if (sh->implicit)
	{
		double		total = 0;

		for (int64 e = lo; e < hi; e++)
			total += st->val[s][e];
		lambda = sh->lambda * pow(sh->rows[1 - s] + sh->alpha * total, sh->exponent);
	}
	else
		lambda = sh->lambda * pow((double) (hi - lo), sh->exponent);

	if (sh->timing)
		INSTR_TIME_SET_CURRENT(t);
	if (sh->solver == CF_SOLVER_CHOLESKY)
	{
		build_system(st, s, lo, hi, true);
		if (sh->timing)
			st->my->gram_seconds += lap(&t);
		if (!cf_cholesky_factor(st->G, d, lambda, st->U))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("training failed in epoch %d: a system of normal equations is singular",
							sh->iteration + 1),
					 errhint("Raise regularization.")));
		memcpy(x, st->b, sizeof(float) * d);
		cf_cholesky_solve(st->U, d, x);
		st->my->solve_flops += (double) d * d * d / 3 + 2.0 * d * d;
	}
	else
	{
		build_system(st, s, lo, hi, false);
		if (sh->timing)
			st->my->gram_seconds += lap(&t);
		memcpy(x, xrow, sizeof(float) * k);
		if (!sh->implicit)
			x[k] = st->bias[s][row];
		cg_solve(st, s, lo, hi, lambda);
	}
	if (sh->timing)
		st->my->solve_seconds += lap(&t);

	memcpy(xrow, x, sizeof(float) * k);
	if (!sh->implicit)
		st->bias[s][row] = x[k];

	/* the objective's terms */
	sum->penalty += lambda * dot_d(x, x, d);
	if (s == SIDE_USERS)
	{
		const float *F = st->F[1 - s];
		const float *fbias = st->bias[1 - s];

		for (int64 e = lo; e < hi; e++)
		{
			const float *a = F + (Size) st->col[s][e] * stride;
			double		yhat = dot_k(a, x, k);

			if (sh->implicit)
			{
				double		c = 1 + sh->alpha * st->val[s][e];
				double		other = (1 - yhat) * (1 - yhat) - yhat * yhat;

				sum->sse += c * (1 - yhat) * (1 - yhat) - yhat * yhat;
				sum->sq += other;
			}
			else
			{
				double		err = st->val[s][e] - (sh->mean + x[k] + fbias[st->col[s][e]] + yhat);

				sum->sse += err * err;
			}
		}
		if (sh->implicit)
		{
			cblas_ssymv(CblasColMajor, CblasUpper, k, 1.0f, st->gram, k, x, 1, 0.0f, st->Ap, 1);
			sum->quad += dot_d(x, st->Ap, k);
		}
	}
}

/* Solve the blocks of side s that this process takes. */
static void
run_half(AlsState *st, int s)
{
	AlsShared  *sh = st->sh;
	uint32		block;

	while ((block = pg_atomic_fetch_add_u32(&sh->next, 1)) < sh->nblocks[s])
	{
		AlsSums		sum = {0};

		for (int32 row = st->blocks[s][block]; row < st->blocks[s][block + 1]; row++)
		{
			solve_row(st, s, row, &sum);
			CHECK_FOR_INTERRUPTS();
		}
		st->sums[s][block] = sum;
	}
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
		instr_time	t;
		int			k = sh->k;

		if (sh->timing)
			INSTR_TIME_SET_CURRENT(t);
		cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, k, sh->rows[1 - s], 1.0f,
					st->F[1 - s], sh->stride, 0.0f, st->gram, k);
		st->my->gram_flops += (double) sh->rows[1 - s] * k * (k + 1);
		if (sh->timing)
			st->my->gram_seconds += lap(&t);
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
				(errmsg_internal("cf: epoch %d phases: gram %.6f s %.6f GFLOP, solve %.6f s %.6f GFLOP",
								 sh->iteration + 1,
								 total.gram_seconds, total.gram_flops / 1e9,
								 total.solve_seconds, total.solve_flops / 1e9)));
	memset(st->stats, 0, sizeof(AlsStats) * sh->nprocs);
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
	CfFactors	view;
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
	if (isnan(log->loss) || isinf(log->loss))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("training diverged in epoch %d", sh->iteration + 1),
				 errdetail("The loss is no longer a finite number."),
				 errhint("Raise regularization.")));
	ld->fit->loss = log->loss;
	ld->fit->rmse = log->rmse;
	report_phases(st);

	view.nusers = sh->rows[SIDE_USERS];
	view.nitems = sh->rows[SIDE_ITEMS];
	view.k = sh->k;
	view.stride = sh->stride;
	view.user_bias = st->bias[SIDE_USERS];
	view.item_bias = st->bias[SIDE_ITEMS];
	view.P = st->F[SIDE_USERS];
	view.Q = st->F[SIDE_ITEMS];
	stop = cf_epoch_done(ld->params, sh->iteration, &view, log);

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

/* The items' lists: the transpose of the users' (users ascending). */
static void
transpose(int32 nusers, int32 nitems, const int64 *ustart, const int32 *ucol,
		  const float *uval, int64 *istart, int32 *icol, float *ival)
{
	int64		nnz = ustart[nusers];
	int64	   *next = palloc_extended(cf_mul_size(Max(nitems, 1), sizeof(int64)), MCXT_ALLOC_HUGE);

	memset(istart, 0, sizeof(int64) * (nitems + 1));
	for (int64 e = 0; e < nnz; e++)
		istart[ucol[e] + 1]++;
	for (int32 i = 0; i < nitems; i++)
		istart[i + 1] += istart[i];
	memcpy(next, istart, sizeof(int64) * nitems);
	for (int32 u = 0; u < nusers; u++)
	{
		for (int64 e = ustart[u]; e < ustart[u + 1]; e++)
		{
			int64		pos = next[ucol[e]]++;

			icol[pos] = u;
			ival[pos] = uval[e];
		}
		if ((u & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(next);
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
 * equal cost; fills blocks[0..nblocks] and returns nblocks.
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
		if (nb < limit - 1 && acc >= total * (nb + 1) / limit && r + 1 < rows)
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
	sizes[OFF_GRAM] = sizeof(float) * sh->k * sh->k;
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
	/* the arena, the result's copy of the factors, every process's scratch */
	bytes = cf_add_size(sh.arena_size,
						cf_factors_bytes(data->nusers, data->nitems, params->factors));
	return cf_add_size(bytes, cf_mul_size(scratch_bytes(sh.d), workers + 1));
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
	double		init_range;

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
	attach(&st, sh, arena);

	/* the two sides' lists, and their blocks */
	(void) user_entries(data, trainer->implicit, st.start[SIDE_USERS], st.col[SIDE_USERS],
						st.val[SIDE_USERS]);
	transpose(data->nusers, data->nitems, st.start[SIDE_USERS], st.col[SIDE_USERS],
			  st.val[SIDE_USERS], st.start[SIDE_ITEMS], st.col[SIDE_ITEMS], st.val[SIDE_ITEMS]);
	for (int s = 0; s < 2; s++)
		sh->nblocks[s] = cut_blocks(sh, st.start[s], sh->rows[s], st.blocks[s]);

	/*
	 * From the seed: the factors, uniform with variance 0.01/k, users then
	 * items, row by row (biases start at 0).
	 */
	pg_prng_seed(&rng, (uint64) params->seed);
	init_range = sqrt(3.0 * 0.01 / k);
	for (int s = SIDE_USERS; s >= SIDE_ITEMS; s--)
	{
		memset(st.F[s], 0, sizeof(float) * f->stride * (Size) sh->rows[s]);
		memset(st.bias[s], 0, sizeof(float) * sh->rows[s]);
		for (int32 r = 0; r < sh->rows[s]; r++)
			for (int c = 0; c < k; c++)
				st.F[s][(Size) r * f->stride + c] =
					(float) (init_range * (2 * pg_prng_double(&rng) - 1));
	}

	ld.params = params;
	ld.log = log;
	ld.fit = fit;
	fit->loss = fit->rmse = 0;
	alloc_scratch(&st, 0);
	begin_half(&st, SIDE_ITEMS);

	if (pcxt)
	{
		int			launched = cf_parallel_launch(pcxt, &sh->sync, workers);

		if (params->verbose && launched > 0)
			ereport(NOTICE,
					(errmsg("training on %d parallel workers and the leader", launched)));
	}

	INSTR_TIME_SET_CURRENT(ld.start);
	train_loop(&st, &ld);
	fit->epochs = sh->iteration;

	/* the factors home, before the segment goes */
	memcpy(f->P, st.F[SIDE_USERS], sizeof(float) * f->stride * (Size) data->nusers);
	memcpy(f->Q, st.F[SIDE_ITEMS], sizeof(float) * f->stride * (Size) data->nitems);
	memcpy(f->user_bias, st.bias[SIDE_USERS], sizeof(float) * data->nusers);
	memcpy(f->item_bias, st.bias[SIDE_ITEMS], sizeof(float) * data->nitems);
	if (pcxt)
		cf_parallel_end(pcxt);
	else
	{
		pfree(arena);
		pfree(sh);
	}
	pfree(st.A);
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
	.uses = CF_ARG_SOLVER | CF_ARG_CG_STEPS | CF_ARG_REG_EXPONENT,
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
	.uses = CF_ARG_SOLVER | CF_ARG_CG_STEPS | CF_ARG_ALPHA | CF_ARG_REG_EXPONENT |
	CF_ARG_NO_RATINGS,
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
