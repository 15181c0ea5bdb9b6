/*-------------------------------------------------------------------------
 *
 * sgd.c
 *	  Biased matrix factorization trained by stochastic gradient descent,
 *	  on a blocked grid, in one process or on parallel workers.
 *
 * The model (Koren, Bell & Volinsky, "Matrix Factorization Techniques for
 * Recommender Systems", IEEE Computer 2009) predicts
 *
 *		r(u,i) = mu + b_u + b_i + p_u . q_i
 *
 * and minimizes the squared error over the observed ratings plus
 * lambda (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2) per rating, by Funk's
 * stochastic gradient descent (2006): for each rating,
 *
 *		e    = r - r(u,i)
 *		b_u += eta (e - lambda b_u)           b_i += eta (e - lambda b_i)
 *		p_u += eta (e q_i - lambda p_u)       q_i += eta (e p_u - lambda q_i)
 *
 * mu is the mean rating and stays fixed.  Biases start at zero and factors
 * uniform with variance 0.01/k.
 *
 * Order (FPSGD: Chin, Zhuang, Juan & Lin, "A Fast Parallel Stochastic
 * Gradient Method for Matrix Factorization in Shared Memory Systems", ACM
 * TIST 2015): users and items are cut into G stripes of about equal rating
 * counts (G a power of two from 8 to 64, growing with the number of
 * ratings), and the ratings grouped into the G x G blocks they form.  A
 * block touches one user stripe and one item stripe, so its factor rows
 * stay in cache while it runs.  An epoch is G rounds; round r takes the G
 * blocks (U[s], I[(s + shift[r]) mod G]), s = 0..G-1, which share no user
 * and no item, so the processes of a parallel training take them in any
 * order and at the same time, and meet at a barrier after each round.
 * Every epoch the leader draws new stripe orders U and I and round shifts
 * from the seeded generator.  Within a block the ratings keep their
 * canonical order for the whole training, by user then item (LibMF sorts
 * its blocks too): a user's factor row stays in the first-level cache
 * across its ratings and the stripe's rows are walked in address order,
 * which the hardware prefetcher follows.  A pass takes the block's two
 * halves (cut between users) in alternation, so two independent chains of
 * updates overlap in the processor (sgd_pass_rows).  Shuffling inside
 * blocks every epoch cost twice the time (10M ratings, k = 64: 1.2 s
 * against 0.5 s an epoch) for the same accuracy (MovieLens 100K: test RMSE
 * 0.9182 against 0.9181), and a random user order within blocks a third
 * more time.
 *
 * Determinism: a round's blocks are independent, so the result does not
 * depend on which process runs which block, nor on how many processes
 * there are: the same ratings, seed and settings give the same model bit
 * for bit with any number of workers (on CPUs that take the same kernel).
 *
 * The loss and RMSE reported for an epoch are measured during its pass:
 * each rating's error is taken just before its update (summed per block,
 * the blocks added in a fixed order), and the regularization term from the
 * factors at the end of the epoch.  After the last epoch every process
 * measures the final model's exact error on its share of the blocks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/shm_toc.h"

#include "parallel.h"
#include "sgd.h"
#include "simd.h"
#include "util.h"

/* Largest number of stripes per side of the grid (stripes are uint8). */
#define MAX_GRID 64

/* How many ratings ahead the pass prefetches factor rows. */
#define PREFETCH_AHEAD 4

/* shm_toc keys of a parallel training */
#define KEY_SHARED		UINT64CONST(0xCF00000000000001)
#define KEY_RATINGS		UINT64CONST(0xCF00000000000002)
#define KEY_P			UINT64CONST(0xCF00000000000003)
#define KEY_Q			UINT64CONST(0xCF00000000000004)
#define KEY_USER_BIAS	UINT64CONST(0xCF00000000000005)
#define KEY_ITEM_BIAS	UINT64CONST(0xCF00000000000006)

/* What every process of a training shares (in DSM, or local when alone). */
typedef struct SgdShared
{
	CfParallelSync sync;

	/* settings */
	int			k;
	int			stride;
	float		lr;
	float		reg;
	float		mean;
	uint64		seed;
	int32		nusers;
	int32		nitems;
	int64		n;
	int			grid;			/* G, stripes per side */

	/* the current epoch and its schedule, written by the leader */
	int			epoch;
	bool		stop;
	int32		user_stripe[MAX_GRID];	/* U: the user stripe of slot s */
	int32		item_stripe[MAX_GRID];	/* I: item stripes, shifted per round */
	int32		shift[MAX_GRID];	/* round r pairs U[s] with I[(s + shift[r]) % G] */
	pg_atomic_uint32 next[MAX_GRID];	/* next free slot of each round */
	pg_atomic_uint32 fit_next;	/* next block of the final measurement */

	int64		block_start[MAX_GRID * MAX_GRID + 1];	/* block b: [start[b], start[b+1]) */
	double		block_sse[MAX_GRID * MAX_GRID]; /* squared errors of each block's last pass */
} SgdShared;

/* One process's view of a training. */
typedef struct SgdState
{
	SgdShared  *shared;
	CfRating   *r;				/* ratings grouped by block */
	float	   *P;
	float	   *Q;
	float	   *user_bias;
	float	   *item_bias;
} SgdState;

/* What only the leader keeps. */
typedef struct SgdLeader
{
	const CfTrainParams *params;
	pg_prng_state rng;			/* the schedule's generator */
	int64	   *user_count;		/* ratings per user and per item */
	int64	   *item_count;
	CfEpoch    *log;
	instr_time	epoch_start;
} SgdLeader;

/* Fetch the factor rows of rating x into the cache. */
static pg_attribute_always_inline void
prefetch_rows(const CfRating *x, const float *P, const float *Q, int stride)
{
	const char *pn = (const char *) (P + (Size) x->user * stride);
	const char *qn = (const char *) (Q + (Size) x->item * stride);

	for (Size off = 0; off < stride * sizeof(float); off += 64)
	{
		CF_PREFETCH_WRITE(pn + off);
		__builtin_prefetch(qn + off, 1);
	}
}

/*
 * p += lr (e q - reg p), q += lr (e p - reg q), from the old p and q (each
 * vector is loaded before it is stored: nothing assumes that the rows do
 * not overlap).
 */
static pg_attribute_always_inline void
step_rows(float *p, float *q, int stride, float shrink, float step)
{
	for (int c = 0; c < stride; c += CF_LANES)
	{
		v8			pv = V8(p + c);
		v8			qv = V8(q + c);

		V8W(p + c) = shrink * pv + step * qv;
		V8W(q + c) = shrink * qv + step * pv;
	}
}

/* One rating's update; returns its error, taken before the update. */
static pg_attribute_always_inline float
sgd_update(const CfRating *x, float *P, float *Q, float *bu, float *bi,
		   int stride, float mean, float lr, float reg)
{
	float	   *p = P + (Size) x->user * stride;
	float	   *q = Q + (Size) x->item * stride;
	float		e = x->rating - (mean + bu[x->user] + bi[x->item] + v8_dot(p, q, stride));

	bu[x->user] += lr * (e - reg * bu[x->user]);
	bi[x->item] += lr * (e - reg * bi[x->item]);
	step_rows(p, q, stride, 1.0f - lr * reg, lr * e);
	return e;
}

/*
 * The updates of two ratings of different users and different items, which
 * touch disjoint rows: the same result as sgd_update(x) then sgd_update(y),
 * but the two chains of dependent operations interleave.
 */
static pg_attribute_always_inline void
sgd_update2(const CfRating *x, const CfRating *y, float *P, float *Q, float *bu,
			float *bi, int stride, float mean, float lr, float reg, float *ex, float *ey)
{
	float	   *px = P + (Size) x->user * stride;
	float	   *qx = Q + (Size) x->item * stride;
	float	   *py = P + (Size) y->user * stride;
	float	   *qy = Q + (Size) y->item * stride;
	float		shrink = 1.0f - lr * reg;
	float		dx = v8_dot(px, qx, stride);
	float		dy = v8_dot(py, qy, stride);

	*ex = x->rating - (mean + bu[x->user] + bi[x->item] + dx);
	*ey = y->rating - (mean + bu[y->user] + bi[y->item] + dy);
	bu[x->user] += lr * (*ex - reg * bu[x->user]);
	bi[x->item] += lr * (*ex - reg * bi[x->item]);
	bu[y->user] += lr * (*ey - reg * bu[y->user]);
	bi[y->item] += lr * (*ey - reg * bi[y->item]);
	step_rows(px, qx, stride, shrink, lr * *ex);
	step_rows(py, qy, stride, shrink, lr * *ey);
}

/*
 * One pass of SGD over a block r[0..n); returns the sum of squared errors,
 * each taken just before its rating's update.  Factor rows are padded with
 * zeros to a multiple of CF_LANES floats (the padding stays zero).
 *
 * The block (by user, then item) is cut at the first user boundary from
 * its middle on into halves a and b, and the ratings are taken in the order
 * a0 b0 a1 b1 ... and then the longer half's rest: consecutive updates of
 * one user depend on each other through its row, and taking a rating of
 * another user in between lets the processor overlap the two chains
 * (sgd_update2).  A pair that shares an item runs one update after the
 * other, so every pass is exactly sequential SGD in that order.
 */
static pg_attribute_always_inline double
sgd_pass_rows(const CfRating *r, int64 n, float *P, float *Q, float *bu,
			  float *bi, int stride, float mean, float lr, float reg)
{
	double		sse = 0;
	int64		h = n / 2;
	int64		pairs;
	const CfRating *a = r;
	const CfRating *b;

	while (h > 0 && h < n && r[h].user == r[h - 1].user)
		h++;
	if (h == n)
		h = 0;					/* one user: no second half */
	b = r + h;
	pairs = Min(h, n - h);

	for (int64 j = 0; j < pairs; j++)
	{
		float		ea;
		float		eb;

		if (j + PREFETCH_AHEAD < pairs)
		{
			prefetch_rows(&a[j + PREFETCH_AHEAD], P, Q, stride);
			prefetch_rows(&b[j + PREFETCH_AHEAD], P, Q, stride);
		}
		if (a[j].item != b[j].item)
			sgd_update2(&a[j], &b[j], P, Q, bu, bi, stride, mean, lr, reg, &ea, &eb);
		else
		{
			ea = sgd_update(&a[j], P, Q, bu, bi, stride, mean, lr, reg);
			eb = sgd_update(&b[j], P, Q, bu, bi, stride, mean, lr, reg);
		}
		sse += (double) ea * ea;
		sse += (double) eb * eb;
		if ((j & 0x1FFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/* the rest of the longer half (or the whole block of one user) */
	{
		const CfRating *rest = (h >= n - h) ? a + pairs : b + pairs;
		int64		left = n - 2 * pairs;

		for (int64 j = 0; j < left; j++)
		{
			float		e;

			if (j + PREFETCH_AHEAD < left)
				prefetch_rows(&rest[j + PREFETCH_AHEAD], P, Q, stride);
			e = sgd_update(&rest[j], P, Q, bu, bi, stride, mean, lr, reg);
			sse += (double) e * e;
			if ((j & 0x3FFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	return sse;
}

/* Squared error of the model over r[0..n). */
static pg_attribute_always_inline double
block_fit_body(const CfRating *r, int64 n, const float *P, const float *Q,
		 const float *bu, const float *bi, int stride, float mean)
{
	double		sse = 0;

	for (int64 j = 0; j < n; j++)
	{
		float		dot = v8_dot(P + (Size) r[j].user * stride,
								 Q + (Size) r[j].item * stride, stride);
		double		e;

		e = (double) r[j].rating - ((double) mean + bu[r[j].user] + bi[r[j].item] + dot);
		sse += e * e;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sse;
}

/*
 * sgd_pass_rows with the common row lengths as constants, so that the
 * compiler unrolls the row loops and keeps rows in registers.
 */
static pg_attribute_always_inline double
sgd_pass_body(const CfRating *r, int64 n, float *P, float *Q, float *bu,
				  float *bi, int stride, float mean, float lr, float reg)
{
	switch (stride)
	{
		case 16:
			return sgd_pass_rows(r, n, P, Q, bu, bi, 16, mean, lr, reg);
		case 32:
			return sgd_pass_rows(r, n, P, Q, bu, bi, 32, mean, lr, reg);
		case 64:
			return sgd_pass_rows(r, n, P, Q, bu, bi, 64, mean, lr, reg);
		case 128:
			return sgd_pass_rows(r, n, P, Q, bu, bi, 128, mean, lr, reg);
		default:
			return sgd_pass_rows(r, n, P, Q, bu, bi, stride, mean, lr, reg);
	}
}

/* The kernels, compiled for any CPU and for AVX2 with FMA (simd.h). */
CF_KERNEL(double, sgd_pass,
		  (const CfRating *r, int64 n, float *P, float *Q, float *bu, float *bi, int stride,
		   float mean, float lr, float reg),
		  (r, n, P, Q, bu, bi, stride, mean, lr, reg));
CF_KERNEL(double, block_fit,
		  (const CfRating *r, int64 n, const float *P, const float *Q, const float *bu,
		   const float *bi, int stride, float mean),
		  (r, n, P, Q, bu, bi, stride, mean));

/* Point the kernels at the fastest variants this CPU runs (from _PG_init). */
void
cf_sgd_init_kernels(void)
{
	CF_CHOOSE_KERNEL(sgd_pass);
	CF_CHOOSE_KERNEL(block_fit);
}

/* Run the blocks of one epoch's rounds that this process takes. */
static void
run_epoch(SgdState *st)
{
	SgdShared  *sh = st->shared;
	int			grid = sh->grid;

	for (int round = 0; round < grid; round++)
	{
		uint32		slot;

		while ((slot = pg_atomic_fetch_add_u32(&sh->next[round], 1)) < grid)
		{
			int			block = sh->user_stripe[slot] * grid +
				sh->item_stripe[(slot + sh->shift[round]) % grid];
			int64		start = sh->block_start[block];

			sh->block_sse[block] = sgd_pass(st->r + start, sh->block_start[block + 1] - start,
											st->P, st->Q, st->user_bias, st->item_bias,
											sh->stride, sh->mean, sh->lr, sh->reg);
		}
		cf_parallel_barrier(&sh->sync);
	}
}

/* Measure the final model's error on the blocks this process takes. */
static void
run_fit(SgdState *st)
{
	SgdShared  *sh = st->shared;
	uint32		block;

	while ((block = pg_atomic_fetch_add_u32(&sh->fit_next, 1)) < sh->grid * sh->grid)
	{
		int64		start = sh->block_start[block];

		sh->block_sse[block] = block_fit(st->r + start, sh->block_start[block + 1] - start,
										 st->P, st->Q, st->user_bias, st->item_bias,
										 sh->stride, sh->mean);
	}
	cf_parallel_barrier(&sh->sync);
}

/* The leader's turn between epochs: draw the schedule for the next epoch. */
static void
draw_schedule(SgdShared *sh, pg_prng_state *rng)
{
	cf_permute(sh->user_stripe, sh->grid, rng);
	cf_permute(sh->item_stripe, sh->grid, rng);
	cf_permute(sh->shift, sh->grid, rng);
	for (int round = 0; round < sh->grid; round++)
		pg_atomic_write_u32(&sh->next[round], 0);
}

/* Sum of the block errors, in block order. */
static double
total_sse(const SgdShared *sh)
{
	double		sse = 0;

	for (int b = 0; b < sh->grid * sh->grid; b++)
		sse += sh->block_sse[b];
	return sse;
}

/* Sum over rows of count(row) * (bias^2 + |factors|^2); padding is zero. */
static double
weighted_norms(const float *bias, const float *M, int32 rows, int stride,
			   const int64 *count)
{
	double		sum = 0;

	for (int32 j = 0; j < rows; j++)
	{
		const float *v = M + (Size) j * stride;
		double		sq = (double) bias[j] * bias[j];

		for (int f = 0; f < stride; f++)
			sq += (double) v[f] * v[f];
		sum += sq * count[j];
	}
	return sum;
}

/* Sum over the ratings of b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2. */
static double
norms(const SgdState *st, const SgdLeader *ld)
{
	const SgdShared *sh = st->shared;

	return weighted_norms(st->user_bias, st->P, sh->nusers, sh->stride, ld->user_count) +
		weighted_norms(st->item_bias, st->Q, sh->nitems, sh->stride, ld->item_count);
}

/*
 * The leader's turn after an epoch: record it, check it, and set up the
 * next one (or stop).  The other processes wait at the barrier meanwhile.
 */
static void
end_epoch(SgdState *st, SgdLeader *ld)
{
	SgdShared  *sh = st->shared;
	CfEpoch    *log = &ld->log[sh->epoch];
	double		sse = total_sse(sh);
	double		reg_term;
	CfFactors	view;
	bool		stop;

	reg_term = norms(st, ld);
	log->rmse = sqrt(sse / sh->n);
	log->loss = (sse + ld->params->regularization * reg_term) / sh->n;
	log->seconds = cf_seconds_since(ld->epoch_start);

	view.nusers = sh->nusers;
	view.nitems = sh->nitems;
	view.k = sh->k;
	view.stride = sh->stride;
	view.user_bias = st->user_bias;
	view.item_bias = st->item_bias;
	view.P = st->P;
	view.Q = st->Q;
	stop = cf_epoch_done(ld->params, sh->epoch, &view, log);

	sh->epoch++;
	if (stop || sh->epoch >= ld->params->epochs)
		sh->stop = true;
	else
		draw_schedule(sh, &ld->rng);
	INSTR_TIME_SET_CURRENT(ld->epoch_start);
}

/*
 * Every process's loop over epochs, then the final measurement; the leader
 * passes its state, workers NULL.
 */
static void
train_loop(SgdState *st, SgdLeader *ld)
{
	for (;;)
	{
		run_epoch(st);
		if (ld)
			end_epoch(st, ld);
		cf_parallel_barrier(&st->shared->sync);
		if (st->shared->stop)
			break;
	}
	run_fit(st);
}

/* Entry point of a parallel worker. */
void
cf_sgd_worker_main(dsm_segment *seg, shm_toc *toc)
{
	SgdState	st;

	st.shared = shm_toc_lookup(toc, KEY_SHARED, false);
	st.r = shm_toc_lookup(toc, KEY_RATINGS, false);
	st.P = shm_toc_lookup(toc, KEY_P, false);
	st.Q = shm_toc_lookup(toc, KEY_Q, false);
	st.user_bias = shm_toc_lookup(toc, KEY_USER_BIAS, false);
	st.item_bias = shm_toc_lookup(toc, KEY_ITEM_BIAS, false);

	cf_parallel_worker_start(&st.shared->sync);
	train_loop(&st, NULL);
}

/*
 * Cut rows 0..nrows-1, with prefix[j] ratings before row j (prefix[nrows] =
 * total), into grid stripes of about equal rating counts: stripe[j].
 */
static void
cut_stripes(const int64 *prefix, int32 nrows, int grid, uint8 *stripe)
{
	int64		total = prefix[nrows];
	int			s = 0;

	for (int32 j = 0; j < nrows; j++)
	{
		/* row j goes to the stripe its first rating falls in */
		while (s < grid - 1 && prefix[j] >= (total * (s + 1)) / grid)
			s++;
		stripe[j] = (uint8) s;
	}
}

/*
 * Group the ratings into the grid's blocks (into blocked), filling
 * block_start.  The ratings keep their canonical order within a block:
 * by user, each user's ratings together by item.
 */
static void
build_blocks(const CfRatings *data, const int64 *item_count, int grid,
			 CfRating *blocked, int64 *block_start)
{
	int64	   *item_prefix = cf_palloc_huge_array(int64, data->nitems + 1);
	uint8	   *ustripe = cf_palloc_huge_array(uint8, data->nusers);
	uint8	   *istripe = cf_palloc_huge_array(uint8, data->nitems);
	int64	   *next = palloc(sizeof(int64) * grid * grid);

	item_prefix[0] = 0;
	for (int32 i = 0; i < data->nitems; i++)
		item_prefix[i + 1] = item_prefix[i] + item_count[i];
	cut_stripes(data->user_start, data->nusers, grid, ustripe);
	cut_stripes(item_prefix, data->nitems, grid, istripe);

	memset(block_start, 0, sizeof(int64) * (grid * grid + 1));
	for (int64 j = 0; j < data->n; j++)
		block_start[ustripe[data->r[j].user] * grid + istripe[data->r[j].item] + 1]++;
	for (int b = 0; b < grid * grid; b++)
		block_start[b + 1] += block_start[b];
	memcpy(next, block_start, sizeof(int64) * grid * grid);
	for (int64 j = 0; j < data->n; j++)
	{
		const CfRating *r = &data->r[j];

		blocked[next[ustripe[r->user] * grid + istripe[r->item]]++] = *r;
		if ((j & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(next);
	pfree(item_prefix);
	pfree(ustripe);
	pfree(istripe);

}

/*
 * Stripes per side for n ratings: about 160000 ratings a block, 8 to 64.
 * Fewer stripes mean fewer passes over the user rows (each epoch reads and
 * writes every user row once per item stripe), more mean smaller item
 * stripes; at 10M ratings and k = 64, 8 stripes took 0.29 s an epoch, 16
 * stripes 0.33 s and 4 stripes 0.28 s on one core (2 processes: 8 stripes
 * 0.15 s, 16 stripes 0.17 s).
 */
static int
choose_grid(int64 n)
{
	int			grid = 8;

	while (grid < MAX_GRID && (int64) grid * grid * 160000 < n)
		grid *= 2;
	return grid;
}

/* Bytes sgd_train allocates for this data and these settings. */
static Size
sgd_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	Size		factors = cf_factors_bytes(data->nusers, data->nitems, params->factors);
	Size		bytes;

	/* the factors, twice when they are trained in shared memory */
	bytes = workers > 0 ? cf_mul_size(factors, 2) : factors;
	/* the blocked copy of the ratings, counts, stripes, the user order */
	bytes = cf_add_size(bytes, cf_mul_size(data->n, sizeof(CfRating)));
	bytes = cf_add_size(bytes, cf_mul_size((Size) data->nusers + data->nitems,
										   2 * sizeof(int64) + sizeof(int32) + 1));
	return bytes;
}

/* Train; fills *f (allocated in CurrentMemoryContext), log[0..epochs-1], *fit. */
static void
sgd_train(const CfRatings *data, const CfTrainParams *params, int workers,
		  CfFactors *f, CfEpoch *log, CfFit *fit)
{
	int			k = params->factors;
	SgdLeader	ld;
	SgdState	st;
	SgdShared  *sh;
	ParallelContext *pcxt = NULL;

	cf_factors_alloc(f, data->nusers, data->nitems, k);

	/* ratings per user and per item, for the regularization term */
	ld.params = params;
	ld.log = log;
	ld.user_count = cf_palloc_huge_array(int64, data->nusers);
	for (int32 u = 0; u < data->nusers; u++)
		ld.user_count[u] = data->user_start[u + 1] - data->user_start[u];
	ld.item_count = cf_palloc0_huge_array(int64, data->nitems);
	for (int64 j = 0; j < data->n; j++)
		ld.item_count[data->r[j].item]++;

	/* the shared state: in a DSM segment for workers, else local */
	if (workers > 0)
	{
		Size		nbytes = cf_mul_size(data->n, sizeof(CfRating));
		Size		pbytes = cf_mul_size(cf_mul_size(Max(data->nusers, 1), f->stride), sizeof(float));
		Size		qbytes = cf_mul_size(cf_mul_size(Max(data->nitems, 1), f->stride), sizeof(float));

		pcxt = cf_parallel_begin("cf_sgd_worker_main", workers);
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(SgdShared));
		shm_toc_estimate_chunk(&pcxt->estimator, nbytes);
		shm_toc_estimate_chunk(&pcxt->estimator, pbytes);
		shm_toc_estimate_chunk(&pcxt->estimator, qbytes);
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(float) * Max(data->nusers, 1));
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(float) * Max(data->nitems, 1));
		shm_toc_estimate_keys(&pcxt->estimator, 6);
		InitializeParallelDSM(pcxt);
		if (pcxt->seg == NULL)
		{
			/* no DSM segment to be had: train alone */
			cf_parallel_end(pcxt);
			pcxt = NULL;
			workers = 0;
		}
		else
		{
			sh = shm_toc_allocate(pcxt->toc, sizeof(SgdShared));
			st.r = shm_toc_allocate(pcxt->toc, nbytes);
			st.P = shm_toc_allocate(pcxt->toc, pbytes);
			st.Q = shm_toc_allocate(pcxt->toc, qbytes);
			st.user_bias = shm_toc_allocate(pcxt->toc, sizeof(float) * Max(data->nusers, 1));
			st.item_bias = shm_toc_allocate(pcxt->toc, sizeof(float) * Max(data->nitems, 1));
			shm_toc_insert(pcxt->toc, KEY_SHARED, sh);
			shm_toc_insert(pcxt->toc, KEY_RATINGS, st.r);
			shm_toc_insert(pcxt->toc, KEY_P, st.P);
			shm_toc_insert(pcxt->toc, KEY_Q, st.Q);
			shm_toc_insert(pcxt->toc, KEY_USER_BIAS, st.user_bias);
			shm_toc_insert(pcxt->toc, KEY_ITEM_BIAS, st.item_bias);
		}
	}
	if (pcxt == NULL)
	{
		sh = palloc(sizeof(SgdShared));
		st.r = cf_palloc_huge_array(CfRating, data->n);
		st.P = f->P;
		st.Q = f->Q;
		st.user_bias = f->user_bias;
		st.item_bias = f->item_bias;
	}
	st.shared = sh;

	memset(sh, 0, sizeof(SgdShared));
	cf_parallel_sync_init(&sh->sync);
	sh->k = k;
	sh->stride = f->stride;
	sh->lr = (float) params->learning_rate;
	sh->reg = (float) params->regularization;
	sh->mean = (float) data->mean;
	sh->seed = (uint64) params->seed;
	sh->nusers = data->nusers;
	sh->nitems = data->nitems;
	sh->n = data->n;
	sh->grid = choose_grid(data->n);

	build_blocks(data, ld.item_count, sh->grid, st.r, sh->block_start);

	/*
	 * From the seed: the factors, uniform with variance 0.01/k, row by row
	 * (biases start at 0), then each epoch's schedule.
	 */
	pg_prng_seed(&ld.rng, (uint64) params->seed);

	memset(st.user_bias, 0, sizeof(float) * data->nusers);
	memset(st.item_bias, 0, sizeof(float) * data->nitems);
	cf_init_factor_rows(st.P, data->nusers, NULL, k, f->stride, &ld.rng);
	cf_init_factor_rows(st.Q, data->nitems, NULL, k, f->stride, &ld.rng);
	draw_schedule(sh, &ld.rng);

	if (pcxt)
		cf_parallel_launch(pcxt, &sh->sync, workers, params->trace == CF_TRACE_ALL);

	INSTR_TIME_SET_CURRENT(ld.epoch_start);
	train_loop(&st, &ld);
	{
		double		sse = total_sse(sh);

		fit->rmse = sqrt(sse / data->n);
		fit->loss = (sse + params->regularization * norms(&st, &ld)) / data->n;
		fit->epochs = sh->epoch;
	}

	if (pcxt)
	{
		/* bring the factors home before the segment goes */
		memcpy(f->P, st.P, sizeof(float) * f->stride * (Size) data->nusers);
		memcpy(f->Q, st.Q, sizeof(float) * f->stride * (Size) data->nitems);
		memcpy(f->user_bias, st.user_bias, sizeof(float) * data->nusers);
		memcpy(f->item_bias, st.item_bias, sizeof(float) * data->nitems);
		cf_parallel_end(pcxt);
	}
	else
	{
		pfree(st.r);
		pfree(sh);
	}
	pfree(ld.user_count);
	pfree(ld.item_count);
}

const CfAlgorithm cf_sgd_algorithm = {
	.name = "sgd",
	.uses = CF_ARG_FACTORS | CF_ARG_EPOCHS | CF_ARG_REGULARIZATION | CF_ARG_LEARNING_RATE,
	.predicts_ratings = true,
	.has_biases = true,
	.fold = CF_FOLD_EXPLICIT,
	.explain = CF_EXPLAIN_BY_SIMILARITY,
	.default_factors = 64,
	.default_epochs = 60,
	.default_regularization = 0.1,
	.default_learning_rate = 0.01,
	.bytes = sgd_bytes,
	.train = sgd_train,
};
