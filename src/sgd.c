/*-------------------------------------------------------------------------
 *
 * sgd.c
 *	  Biased matrix factorization trained by stochastic gradient descent.
 *
 * The model (Koren, Bell & Volinsky, "Matrix Factorization Techniques for
 * Recommender Systems", IEEE Computer 2009) predicts
 *
 *		r(u,i) = mu + b_u + b_i + p_u . q_i
 *
 * and minimizes the squared error over the observed ratings plus
 * lambda (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2) per rating, by Funk's
 * stochastic gradient descent (2006): for each rating in a random order,
 *
 *		e    = r - r(u,i)
 *		b_u += eta (e - lambda b_u)           b_i += eta (e - lambda b_i)
 *		p_u += eta (e q_i - lambda p_u)       q_i += eta (e p_u - lambda q_i)
 *
 * mu is the mean rating and stays fixed.  Factors start as N(0, 0.01/k)
 * draws and biases at zero.  Every random choice (the initial factors, each
 * epoch's order) comes from one generator seeded by the seed argument, so
 * the same ratings and seed give the same model bit for bit.
 *
 * The loss and RMSE reported for an epoch are measured during its pass:
 * each rating's error is taken just before that rating's update, and the
 * regularization term is taken from the factors at the end of the epoch.
 * This costs nothing extra; the final model's exact training RMSE is
 * computed once after the last epoch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "sgd.h"
#include "util.h"


/* How many ratings ahead the pass prefetches factor rows. */
#define PREFETCH_AHEAD 4

/* Bytes cf_sgd_train allocates for this data and these settings. */
Size
cf_sgd_bytes(const CfRatings *data, const CfSgdParams *params)
{
	Size		bytes;

	/* factors and biases */
	bytes = cf_factors_bytes(data->nusers, data->nitems, params->factors);
	/* the shuffled copy of the ratings and the per-item counts */
	bytes = cf_add_size(bytes, cf_mul_size(data->n, sizeof(CfRating)));
	bytes = cf_add_size(bytes, cf_mul_size(data->nitems, sizeof(int64)));
	return bytes;
}

/* Fisher-Yates shuffle of the ratings. */
static void
shuffle(CfRating *r, int64 n, pg_prng_state *rng)
{
	for (int64 j = n - 1; j > 0; j--)
	{
		int64		k = (int64) pg_prng_uint64_range(rng, 0, (uint64) j);
		CfRating	tmp = r[j];

		r[j] = r[k];
		r[k] = tmp;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * One pass of SGD over r[0..n) in that order; returns the sum of squared
 * errors, each taken just before its rating's update.  Factor rows are
 * padded with zeros to a multiple of CF_LANES floats (the padding stays
 * zero), and both loops work in blocks of CF_LANES: each block's loads
 * come before its stores, so the compiler vectorizes a block without
 * having to prove that p and q do not overlap, and the dot product keeps
 * CF_LANES partial sums instead of reassociating additions on its own.
 */
static pg_attribute_always_inline double
sgd_pass_body(const CfRating *r, int64 n, float *P, float *Q, float *bu,
			  float *bi, int stride, float mean, float lr, float reg)
{
	double		sse = 0;
	float		shrink = 1.0f - lr * reg;

	for (int64 j = 0; j < n; j++)
	{
		float	   *p = P + (Size) r[j].user * stride;
		float	   *q = Q + (Size) r[j].item * stride;
		float	   *end = p + stride;
		float		acc[CF_LANES] = {0};
		float		dot = 0;
		float		e;
		float		step;

		/* fetch the rows of a rating a few steps ahead into the cache */
		if (j + PREFETCH_AHEAD < n)
		{
			const char *pn = (const char *) (P + (Size) r[j + PREFETCH_AHEAD].user * stride);
			const char *qn = (const char *) (Q + (Size) r[j + PREFETCH_AHEAD].item * stride);

			for (Size off = 0; off < stride * sizeof(float); off += 64)
			{
				__builtin_prefetch(pn + off, 1);
				__builtin_prefetch(qn + off, 1);
			}
		}

		/* (pointer steps, not int indices: -fwrapv hides int contiguity) */
		for (const float *pp = p, *qq = q; pp < end; pp += CF_LANES, qq += CF_LANES)
			for (int l = 0; l < CF_LANES; l++)
				acc[l] += pp[l] * qq[l];
		for (int l = 0; l < CF_LANES; l++)
			dot += acc[l];

		e = r[j].rating - (mean + bu[r[j].user] + bi[r[j].item] + dot);
		sse += (double) e * e;
		bu[r[j].user] += lr * (e - reg * bu[r[j].user]);
		bi[r[j].item] += lr * (e - reg * bi[r[j].item]);

		/* p += lr (e q - reg p), q += lr (e p - reg q), from the old p and q */
		step = lr * e;
		for (float *pp = p, *qq = q; pp < end; pp += CF_LANES, qq += CF_LANES)
		{
			float		pv[CF_LANES];
			float		qv[CF_LANES];

			for (int l = 0; l < CF_LANES; l++)
			{
				pv[l] = pp[l];
				qv[l] = qq[l];
			}
			for (int l = 0; l < CF_LANES; l++)
			{
				pp[l] = shrink * pv[l] + step * qv[l];
				qq[l] = shrink * qv[l] + step * pv[l];
			}
		}

		if ((j & 0x3FFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sse;
}

typedef double (*sgd_pass_fn) (const CfRating *r, int64 n, float *P, float *Q,
							   float *bu, float *bi, int stride, float mean,
							   float lr, float reg);

/* The pass compiled for any x86-64 (or other) CPU. */
static double
sgd_pass_generic(const CfRating *r, int64 n, float *P, float *Q, float *bu,
				 float *bi, int stride, float mean, float lr, float reg)
{
	return sgd_pass_body(r, n, P, Q, bu, bi, stride, mean, lr, reg);
}

#ifdef CF_HAVE_X86_TARGETS
/* The pass compiled for AVX2 and FMA, chosen at run time where available. */
cf_target_avx2_fma
static double
sgd_pass_avx2(const CfRating *r, int64 n, float *P, float *Q, float *bu,
			  float *bi, int stride, float mean, float lr, float reg)
{
	return sgd_pass_body(r, n, P, Q, bu, bi, stride, mean, lr, reg);
}
#endif

/* The fastest pass this CPU runs. */
static sgd_pass_fn
choose_sgd_pass(void)
{
#ifdef CF_HAVE_X86_TARGETS
	if (cf_cpu_has_avx2_fma())
		return sgd_pass_avx2;
#endif
	return sgd_pass_generic;
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

/* Train; fills *f (allocated in CurrentMemoryContext) and log[0..epochs-1]. */
void
cf_sgd_train(const CfRatings *data, const CfSgdParams *params,
			 CfFactors *f, CfEpoch *log)
{
	int			k = params->factors;
	float		lr = (float) params->learning_rate;
	float		reg = (float) params->regularization;
	float		mean = (float) data->mean;
	int64		n = data->n;
	pg_prng_state rng;
	CfRating   *order;
	int64	   *user_count;
	int64	   *item_count;
	sgd_pass_fn pass = choose_sgd_pass();

	double		init_stddev = 0.1 / sqrt(k);

	cf_factors_alloc(f, data->nusers, data->nitems, k);
	pg_prng_seed(&rng, (uint64) params->seed);
	for (int32 u = 0; u < f->nusers; u++)
		for (int c = 0; c < k; c++)
			f->P[(Size) u * f->stride + c] = (float) (init_stddev * cf_normal(&rng));
	for (int32 i = 0; i < f->nitems; i++)
		for (int c = 0; c < k; c++)
			f->Q[(Size) i * f->stride + c] = (float) (init_stddev * cf_normal(&rng));

	/* ratings per user and per item, for the regularization term */
	user_count = palloc_extended(cf_mul_size(data->nusers, sizeof(int64)), MCXT_ALLOC_HUGE);
	for (int32 u = 0; u < data->nusers; u++)
		user_count[u] = data->user_start[u + 1] - data->user_start[u];
	item_count = palloc_extended(cf_mul_size(data->nitems, sizeof(int64)), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int64 j = 0; j < n; j++)
		item_count[data->r[j].item]++;

	order = palloc_extended(cf_mul_size(n, sizeof(CfRating)), MCXT_ALLOC_HUGE);
	memcpy(order, data->r, n * sizeof(CfRating));

	for (int epoch = 0; epoch < params->epochs; epoch++)
	{
		instr_time	start;
		double		sse = 0;
		double		reg_term;

		INSTR_TIME_SET_CURRENT(start);
		shuffle(order, n, &rng);

		sse = pass(order, n, f->P, f->Q, f->user_bias, f->item_bias, f->stride,
				   mean, lr, reg);

		reg_term = weighted_norms(f->user_bias, f->P, f->nusers, f->stride, user_count) +
			weighted_norms(f->item_bias, f->Q, f->nitems, f->stride, item_count);
		log[epoch].rmse = sqrt(sse / n);
		log[epoch].loss = (sse + params->regularization * reg_term) / n;
		log[epoch].seconds = cf_seconds_since(start);

		if (isnan(log[epoch].loss) || isinf(log[epoch].loss))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("training diverged in epoch %d", epoch + 1),
					 errdetail("The loss is no longer a finite number."),
					 errhint("Lower learning_rate or raise regularization.")));
		if (params->verbose)
			ereport(NOTICE,
					(errmsg("epoch %d: loss %.6f, rmse %.6f, %.3f s",
							epoch + 1, log[epoch].loss, log[epoch].rmse,
							log[epoch].seconds)));
	}

	pfree(order);
	pfree(user_count);
	pfree(item_count);
}
