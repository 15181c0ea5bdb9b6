/*-------------------------------------------------------------------------
 *
 * als.h
 *	  Alternating least squares: ALS with weighted-lambda regularization
 *	  for explicit ratings and iALS for implicit feedback.
 *
 * The module is three files under this header, by layer: als.c, the
 * driver (the row lists and their layout, blocks, iterations, the parallel
 * workers' entry, the trainers); als_solve.c, the row solvers (normal
 * equations by Gram kernel or ssyrk with Cholesky, batched, or conjugate
 * gradient); als_kernels.c, the SIMD kernels they call.  The shared state
 * of a training and the kernels' pointers are declared here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_ALS_H
#define CF_ALS_H

#include "portability/instr_time.h"
#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"

#include "bayes.h"
#include "parallel.h"
#include "simd.h"
#include "train.h"

/* The trainers (algorithms 'als', 'ials' and 'bayes'). */
extern const CfAlgorithm cf_als_algorithm;
extern const CfAlgorithm cf_ials_algorithm;
extern const CfAlgorithm cf_bayes_algorithm;

/* Entry point of a parallel worker (named in CreateParallelContext). */
extern PGDLLEXPORT void cf_als_worker_main(dsm_segment *seg, shm_toc *toc);

/* Point the kernels at the fastest variants this CPU runs (from _PG_init). */
extern void cf_als_init_kernels(void);

/*
 * What the three files share
 */

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
	OFF_MEAN = OFF_SUMS + 2,	/* per side: double[rows * d], sums of the kept samples (bayes) */
	OFF_GRAM = OFF_MEAN + 2,	/* float[stride * stride]: the fixed side's Gramian (ials), in full */
	OFF_PRIOR,					/* float[(d + 1) * (d + 1)]: the half-step's prior (bayes) */
	OFF_Z,						/* float[users * k]: the users' implicit terms z_u (bayes) */
	OFF_STATS,					/* AlsStats[nprocs] */
	NUM_OFF
};

/* What every process of a training shares (in DSM, or local when alone). */
typedef struct AlsShared
{
	CfParallelSync sync;

	/* settings */
	bool		implicit;
	bool		bayes;			/* Gibbs sampling: half-steps draw, not solve */
	bool		implicit_term;	/* bayes: with SVD++'s implicit term (bayes.h) */
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

	/* bayes: the sampler's state, written by the leader between half-steps */
	uint64		seed;
	int			burn_in;		/* samples before the kept ones */
	double		precision;		/* the ratings' noise precision, alpha */
	int			kept;			/* samples summed in OFF_MEAN */
	double		ridge;			/* the last user prior's mean diagonal over alpha, */
	double		ridge_sum;		/* and its sum over the kept samples (fold-in's ridge) */

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
	double	   *mean[2];
	float	   *gram;
	float	   *prior;
	float	   *z;				/* users' implicit terms (implicit_term) */
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
	v8		   *noise;			/* bayes: d vectors, the draws of a batch's rows */
} AlsState;

/* What only the leader keeps. */
typedef struct AlsLeader
{
	const CfTrainParams *params;
	CfEpoch    *log;
	CfFit	   *fit;
	CfFactors  *f;				/* the result, in the loader's order */
	CfImplicitTerm *term;		/* bayes with the implicit term, else NULL */
	int32	   *pos[2];			/* where each side's rows are in the arena */
	instr_time	start;			/* of the iteration */
} AlsLeader;


/* Fetch a factor row into the cache. */
static pg_attribute_always_inline void
prefetch_row(const float *a, int stride)
{
	for (int c = 0; c < stride; c += 16)
		__builtin_prefetch(a + c);
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

/* Offset of row i of a packed upper triangle of order d (the batched Cholesky's layout). */
static pg_attribute_always_inline Size
packed_row(int d, int i)
{
	return (Size) i * d - (Size) i * (i - 1) / 2;
}

/* Vectors of the batched Cholesky's buffer for order d. */
static inline Size
batch_vectors(int d)
{
	return packed_row(d, d) + 2 * (Size) d;
}

/*
 * The kernels (als_kernels.c), on vectors of 8 floats, each compiled for
 * any CPU and for AVX2 with FMA and chosen by cf_als_init_kernels (simd.h).
 */

/* t[j] = a[j] . v over stride floats, for j < m (a multiple of 8). */
CF_KERNEL_EXTERN(void, als_cg_dots,
				 (const float *const *a, int m, int stride, const float *v, float *t));

/* out += sum_j u[j] a[j], with u[j] = the weights times cg_dots' t (CG). */
CF_KERNEL_EXTERN(void, als_cg_axpys,
				 (const float *const *a, int m, int stride, const float *u, float *out));

/* out[t] = G v[t] for t < n (G the Gramian, in full; ials). */
CF_KERNEL_EXTERN(void, als_gram_products,
				 (const float *G, int k, int stride, const float *const *v,
				  float *const *out, int n));

/* The objective's terms of one row's entries (sums into *sse, *sq). */
CF_KERNEL_EXTERN(void, als_objective,
				 (const float *F, const float *fbias, int stride, bool implicit,
				  double alpha, double mean, const int32 *col, const float *val, int64 n,
				  const float *x, const float **ptr, float *yhat, double *sse, double *sq));

/*
 * Factor the BATCH packed systems of M (lanes = systems) and solve them,
 * noise (d vectors, or NULL) added between the two substitutions (a draw
 * for bayes); returns the lanes whose matrix is not positive definite, as
 * a bit mask.
 */
CF_KERNEL_EXTERN(int, als_batched_cholesky, (v8 *M, int d, const v8 *noise));

/* Lay BATCH matrices G8 out interleaved in B, ridges lambdas added. */
CF_KERNEL_EXTERN(void, als_interleave, (v8 *B, const float *G8, int d, const double *lambdas));

/*
 * The normal equations of m gathered entries by the Gram kernel (k a
 * multiple of 8); NULL where the CPU has no AVX2, and ssyrk is used.
 */
extern void (*als_gram) (const float *F, int stride, const int32 *col, const float *scale,
						 const float *coef, int m, int k, bool bias, float *B, float *G, int ld,
						 const float *G0, bool first);

/*
 * The row solvers (als_solve.c)
 */

/* Bytes of one process's scratch space for d unknowns and this stride. */
extern Size als_scratch_bytes(int d, int stride);

/* Allocate a process's scratch space; slot: its AlsStats. */
extern void als_alloc_scratch(AlsState *st, int slot);

/* Solve the blocks of side s that this process takes. */
extern void als_run_half(AlsState *st, int s);

/*
 * bayes with the implicit term: every user entry's error into e, the
 * users' vectors from p_u + z_u back to p_u.
 */
extern void als_implicit_errors(AlsState *st, float *e);

#endif							/* CF_ALS_H */
