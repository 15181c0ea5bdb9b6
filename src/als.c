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
 * Bayesian MF ('bayes', bayes.c) runs on the same driver: before each
 * half-step the leader draws the side's prior (cf_bayes_prior), each row's
 * system starts from it instead of the ridge, the batched Cholesky draws
 * rather than solves (its noise argument), each kept sample's rows are
 * summed, and after each iteration the leader draws the noise precision;
 * the model is the rows' mean over the kept samples.  With SVD++'s
 * implicit term (bayes.h), between the two half-steps the leader computes
 * every rating's error (als_implicit_errors) and draws the term
 * (cf_bayes_implicit_step); the users' half-step then takes q_i . z_u off
 * each target and stores p_u + z_u, so the other side and serving see one
 * vector per user as before.
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
#include "bayes.h"
#include "blas.h"
#include "parallel.h"
#include "simd.h"
#include "solve.h"
#include "util.h"

/*
 * bayes: the first tenth of the samples are burn-in; the chain starts
 * from random factors of variance 0.01 each (ALS's start scaled by sqrt(k)),
 * and alpha from the paper's fixed value.  (Starting from a few ALS
 * iterations, the MAP estimate, as Salakhutdinov & Mnih do, was worse in
 * cross-validation inside MovieLens 100K's u1.base and u2.base: 0.9038 and
 * 0.9030 against 0.9012 and 0.9017, k = 32; see docs/algorithms/bayes.md.)
 */
#define BAYES_BURN_IN_SHARE		10
#define BAYES_FIRST_PRECISION	2.0

/* shm_toc keys of a parallel training */
#define KEY_SHARED		UINT64CONST(0xCF00000000000101)
#define KEY_ARENA		UINT64CONST(0xCF00000000000102)

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
		st->mean[s] = (double *) (base + sh->off[OFF_MEAN + s]);
	}
	st->gram = (float *) (base + sh->off[OFF_GRAM]);
	st->prior = (float *) (base + sh->off[OFF_PRIOR]);
	st->z = (float *) (base + sh->off[OFF_Z]);
	st->stats = (AlsStats *) (base + sh->off[OFF_STATS]);
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
	if (sh->bayes)
	{
		/* the prior of side s's rows, drawn given them */
		pg_prng_state rng;

		pg_prng_seed(&rng, cf_bayes_seed(sh->seed, sh->iteration, s, -1));
		cf_bayes_prior(st->F[s], sh->stride, st->bias[s], sh->rows[s], sh->k,
					   sh->precision, &rng, st->prior);
		if (s == SIDE_USERS)
		{
			double		trace = 0;

			for (int c = 0; c < sh->d; c++)
				trace += st->prior[(Size) c * (sh->d + 1) + c];
			sh->ridge = trace / sh->d;
			if (sh->iteration >= sh->burn_in)
				sh->ridge_sum += sh->ridge;
		}
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

/*
 * Copy the factors and biases into f, rows in the loader's order: for
 * bayes, once samples are kept, their mean.
 */
static void
factors_home(AlsState *st, int32 *const pos[2], CfFactors *f)
{
	AlsShared  *sh = st->sh;
	float	   *F[2] = {[SIDE_ITEMS] = f->Q,[SIDE_USERS] = f->P};
	float	   *bias[2] = {[SIDE_ITEMS] = f->item_bias,[SIDE_USERS] = f->user_bias};

	for (int s = 0; s < 2; s++)
		for (int32 r = 0; r < sh->rows[s]; r++)
		{
			CHECK_FOR_INTERRUPTS();
			if (sh->bayes && sh->kept > 0)
			{
				const double *m = st->mean[s] + (Size) pos[s][r] * sh->d;
				float	   *out = F[s] + (Size) r * f->stride;

				for (int c = 0; c < sh->k; c++)
					out[c] = (float) (m[c] / sh->kept);
				bias[s][r] = (float) (m[sh->k] / sh->kept);
				continue;
			}
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
	if (sh->bayes)
	{
		/* the sample is kept (finish_row summed it); the next noise precision */
		pg_prng_state rng;

		if (sh->iteration >= sh->burn_in)
			sh->kept++;
		pg_prng_seed(&rng, cf_bayes_seed(sh->seed, sh->iteration, -1, -1));
		sh->precision = cf_bayes_precision(u.sse, sh->nnz, &rng);
	}

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

	for (;;)
	{
		als_run_half(st, SIDE_ITEMS);
		cf_parallel_barrier(&sh->sync);
		if (ld)
		{
			if (ld->term)
			{
				/* bayes: y and z given the new items, the users' vectors back to p_u */
				pg_prng_state rng;

				als_implicit_errors(st, ld->term->e);
				pg_prng_seed(&rng, cf_bayes_seed(sh->seed, sh->iteration, 2, -1));
				cf_bayes_implicit_step(ld->term, sh->precision, &rng);
			}
			begin_half(st, SIDE_USERS);
		}
		cf_parallel_barrier(&sh->sync);
		als_run_half(st, SIDE_USERS);
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
	als_alloc_scratch(&st, ParallelWorkerNumber + 1);
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
	int64	   *next = cf_palloc_huge_array(int64, cols);

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
	int64	   *ulen = cf_palloc_huge_array(int64, data->nusers);
	int64	   *ilen = cf_palloc0_huge_array(int64, data->nitems);
	int32	   *order = cf_palloc_huge_array(int32, Max(data->nusers, data->nitems));
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
		sizes[OFF_MEAN + s] = sh->bayes ?
			cf_mul_size(cf_mul_size(sh->rows[s], sh->d), sizeof(double)) : 0;
	}
	sizes[OFF_GRAM] = sizeof(float) * sh->stride * sh->stride;
	sizes[OFF_PRIOR] = sizeof(float) * (sh->d + 1) * (sh->d + 1);
	sizes[OFF_Z] = sh->implicit_term ?
		cf_mul_size(cf_mul_size(sh->rows[SIDE_USERS], sh->k), sizeof(float)) : 0;
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
unknowns(bool implicit, int k)
{
	return implicit ? k : k + 1;
}

/* Bytes als_train allocates for this data, these settings and workers. */
static Size
als_bytes_for(bool implicit, bool bayes, const CfRatings *data, const CfTrainParams *params,
			  int workers)
{
	AlsShared	sh;
	Size		bytes;

	memset(&sh, 0, sizeof(sh));
	sh.bayes = bayes;
	sh.implicit_term = bayes && params->implicit_term;
	sh.k = params->factors;
	sh.d = unknowns(implicit, params->factors);
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
	bytes = cf_add_size(bytes, cf_mul_size(als_scratch_bytes(sh.d, sh.stride), workers + 1));
	if (sh.implicit_term)
		bytes = cf_add_size(bytes, cf_implicit_term_bytes(data->nusers, data->nitems, data->n,
														  sh.k));
	bytes = cf_add_size(bytes, cf_mul_size((Size) data->nusers + data->nitems,
										   sizeof(int32) + sizeof(int64)));
	return cf_add_size(bytes, cf_mul_size(Max(data->nusers, data->nitems), sizeof(int32)));
}

static Size
als_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return als_bytes_for(false, false, data, params, workers);
}

static Size
ials_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return als_bytes_for(true, false, data, params, workers);
}

static Size
bayes_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return als_bytes_for(false, true, data, params, workers);
}

/* The leader's arrays of the implicit term, on the lists in the arena. */
static CfImplicitTerm *
implicit_term_alloc(AlsState *st)
{
	AlsShared  *sh = st->sh;
	CfImplicitTerm *t = palloc0(sizeof(CfImplicitTerm));
	int32		users = sh->rows[SIDE_USERS];
	int32		items = sh->rows[SIDE_ITEMS];

	t->k = sh->k;
	t->stride = sh->stride;
	t->users = users;
	t->items = items;
	t->ustart = st->start[SIDE_USERS];
	t->ucol = st->col[SIDE_USERS];
	t->istart = st->start[SIDE_ITEMS];
	t->icol = st->col[SIDE_ITEMS];
	t->Q = st->F[SIDE_ITEMS];
	t->z = st->z;
	t->y = cf_palloc0_huge_array(float, (Size) items * sh->k);
	t->normals = cf_palloc_huge_array(float, items);
	t->e = cf_palloc_huge_array(float, Max(sh->nnz, 1));
	t->QT = cf_palloc_huge_array(float, (Size) items * sh->k);
	t->user = cf_palloc_huge_array(CfImplicitUser, users);
	t->c = cf_palloc_huge_array(float, users);
	for (int32 u = 0; u < users; u++)
	{
		int64		n = t->ustart[u + 1] - t->ustart[u];

		t->c[u] = n > 0 ? (float) (1 / sqrt((double) n)) : 0;
	}
	return t;
}

/* Free what implicit_term_alloc allocated. */
static void
implicit_term_free(CfImplicitTerm *t)
{
	pfree(t->y);
	pfree(t->normals);
	pfree(t->e);
	pfree(t->QT);
	pfree(t->user);
	pfree(t->c);
	pfree(t);
}

/* Train; fills *f (allocated in CurrentMemoryContext), log[0..epochs-1], *fit. */
static void
als_train_for(bool implicit, bool bayes, const CfRatings *data, const CfTrainParams *params,
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
	setup.implicit = implicit;
	setup.bayes = bayes;
	setup.implicit_term = bayes && params->implicit_term;
	setup.seed = (uint64) params->seed;
	setup.precision = BAYES_FIRST_PRECISION;
	setup.burn_in = params->epochs / BAYES_BURN_IN_SHARE;
	setup.solver = bayes ? CF_SOLVER_CHOLESKY : params->solver;
	setup.cg_steps = params->cg_steps;
	setup.k = k;
	setup.d = unknowns(implicit, k);
	setup.stride = f->stride;
	setup.mean = (float) data->mean;
	setup.lambda = params->regularization;
	setup.alpha = params->alpha;
	setup.exponent = params->regularization_exponent;
	setup.rows[SIDE_USERS] = data->nusers;
	setup.rows[SIDE_ITEMS] = data->nitems;
	setup.nnz = user_entries(data, implicit, NULL, NULL, NULL);
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
	for (int s = 0; s < 2 && bayes; s++)
		cf_zero_huge(arena + sh->off[OFF_MEAN + s], sizeof(double) * sh->rows[s] * sh->d);
	if (sh->implicit_term)
		cf_zero_huge(arena + sh->off[OFF_Z], sizeof(float) * sh->rows[SIDE_USERS] * k);
	attach(&st, sh, arena);

	/* the two sides' lists, and their blocks */
	pos[SIDE_USERS] = cf_palloc_huge_array(int32, data->nusers);
	pos[SIDE_ITEMS] = cf_palloc_huge_array(int32, data->nitems);
	build_lists(&st, data, implicit, pos);
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
		for (Size j = 0; bayes && j < (Size) sh->rows[s] * f->stride; j++)
			st.F[s][j] *= (float) sqrt(k);
	}

	ld.params = params;
	ld.log = log;
	ld.fit = fit;
	ld.f = f;
	ld.pos[SIDE_USERS] = pos[SIDE_USERS];
	ld.pos[SIDE_ITEMS] = pos[SIDE_ITEMS];
	ld.term = sh->implicit_term ? implicit_term_alloc(&st) : NULL;
	fit->loss = fit->rmse = 0;
	als_alloc_scratch(&st, 0);
	begin_half(&st, SIDE_ITEMS);

	if (pcxt)
		cf_parallel_launch(pcxt, &sh->sync, workers, params->trace == CF_TRACE_ALL);

	INSTR_TIME_SET_CURRENT(ld.start);
	train_loop(&st, &ld);
	fit->epochs = sh->iteration;

	/* the factors home, before the segment goes */
	factors_home(&st, pos, f);
	if (bayes)
	{
		/* the model is the samples' mean, not the last sample the log measured */
		cf_bayes_fit_factors(data, f, &fit->loss, &fit->rmse);
		fit->fold_ridge = sh->kept > 0 ? sh->ridge_sum / sh->kept : sh->ridge;
	}
	if (pcxt)
		cf_parallel_end(pcxt);
	else
	{
		pfree(arena);
		pfree(sh);
	}
	pfree(st.scratch);
	if (ld.term)
		implicit_term_free(ld.term);
	pfree(pos[SIDE_USERS]);
	pfree(pos[SIDE_ITEMS]);
}

static void
als_train(const CfRatings *data, const CfTrainParams *params, int workers,
		  CfFactors *f, CfEpoch *log, CfFit *fit)
{
	als_train_for(false, false, data, params, workers, f, log, fit);
}

static void
ials_train(const CfRatings *data, const CfTrainParams *params, int workers,
		   CfFactors *f, CfEpoch *log, CfFit *fit)
{
	als_train_for(true, false, data, params, workers, f, log, fit);
}

static void
bayes_train(const CfRatings *data, const CfTrainParams *params, int workers,
			CfFactors *f, CfEpoch *log, CfFit *fit)
{
	als_train_for(false, true, data, params, workers, f, log, fit);
}

const CfAlgorithm cf_als_algorithm = {
	.name = "als",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_REGULARIZATION | CF_ARG_SOLVER |
	CF_ARG_CG_STEPS | CF_ARG_REG_EXPONENT,
	.predicts_ratings = true,
	.has_biases = true,
	.fold = CF_FOLD_EXPLICIT,
	.explain = CF_EXPLAIN_LINEAR,
	.cluster = CF_CLUSTER_ALS,
	.default_factors = 64,
	.default_epochs = 15,
	.default_regularization = 0.12,
	.default_solver = CF_SOLVER_CHOLESKY,
	.default_cg_steps = 3,
	.default_regularization_exponent = 1,
	.bytes = als_bytes,
	.train = als_train,
};

const CfAlgorithm cf_ials_algorithm = {
	.name = "ials",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_REGULARIZATION | CF_ARG_SOLVER |
	CF_ARG_CG_STEPS | CF_ARG_ALPHA | CF_ARG_REG_EXPONENT | CF_ARG_NO_RATINGS,
	.predicts_ratings = false,
	.has_biases = false,
	.amounts = true,
	.fold = CF_FOLD_IMPLICIT,
	.explain = CF_EXPLAIN_LINEAR,
	.cluster = CF_CLUSTER_IALS,
	.default_factors = 64,
	.default_epochs = 15,
	.default_regularization = 0.03,
	.default_solver = CF_SOLVER_CG,
	.default_cg_steps = 3,
	.default_alpha = 10,
	.default_regularization_exponent = 1,
	.bytes = ials_bytes,
	.train = ials_train,
};

const CfAlgorithm cf_bayes_algorithm = {
	.name = "bayes",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_IMPLICIT_TERM,
	.predicts_ratings = true,
	.has_biases = true,
	.fold = CF_FOLD_EXPLICIT,	/* with the ridge of its user prior (fold_ridge) */
	.explain = CF_EXPLAIN_LINEAR,
	.default_factors = 32,		/* see docs/algorithms/bayes.md */
	.default_epochs = 200,		/* samples, the first tenth burn-in */
	.default_implicit_term = true,	/* see docs/algorithms/bayes.md */
	.default_solver = CF_SOLVER_CHOLESKY,
	.bytes = bayes_bytes,
	.train = bayes_train,
};
