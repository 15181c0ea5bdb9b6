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
 * mu is the mean rating and stays fixed.  Factors start as N(0, 0.1^2)
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

#define INIT_STDDEV 0.1

/* Bytes cf_sgd_train allocates for this data and these settings. */
Size
cf_sgd_bytes(const CfRatings *data, const CfSgdParams *params)
{
	Size		rows = (Size) data->nusers + data->nitems;
	Size		bytes;

	/* factors and biases */
	bytes = cf_mul_size(cf_mul_size(rows, params->factors + 1), sizeof(float));
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

/* One SGD update of a rating; returns the error before the update. */
static inline float
sgd_update(float *restrict p, float *restrict q, float *bu, float *bi,
		   int k, float target, float lr, float reg)
{
	float		dot = 0;
	float		e;

	for (int f = 0; f < k; f++)
		dot += p[f] * q[f];
	e = target - (*bu + *bi + dot);
	*bu += lr * (e - reg * *bu);
	*bi += lr * (e - reg * *bi);
	for (int f = 0; f < k; f++)
	{
		float		pf = p[f];
		float		qf = q[f];

		p[f] = pf + lr * (e * qf - reg * pf);
		q[f] = qf + lr * (e * pf - reg * qf);
	}
	return e;
}

/* Sum over rows of count(row) * (bias^2 + |factors|^2). */
static double
weighted_norms(const float *bias, const float *M, int32 rows, int k,
			   const int64 *count)
{
	double		sum = 0;

	for (int32 j = 0; j < rows; j++)
	{
		const float *v = M + (Size) j * k;
		double		sq = (double) bias[j] * bias[j];

		for (int f = 0; f < k; f++)
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

	f->nusers = data->nusers;
	f->nitems = data->nitems;
	f->k = k;
	f->user_bias = palloc_extended(cf_mul_size(data->nusers, sizeof(float)), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	f->item_bias = palloc_extended(cf_mul_size(data->nitems, sizeof(float)), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	f->P = palloc_extended(cf_mul_size(cf_mul_size(data->nusers, k), sizeof(float)), MCXT_ALLOC_HUGE);
	f->Q = palloc_extended(cf_mul_size(cf_mul_size(data->nitems, k), sizeof(float)), MCXT_ALLOC_HUGE);

	pg_prng_seed(&rng, (uint64) params->seed);
	for (Size j = 0; j < (Size) data->nusers * k; j++)
		f->P[j] = (float) (INIT_STDDEV * cf_normal(&rng));
	for (Size j = 0; j < (Size) data->nitems * k; j++)
		f->Q[j] = (float) (INIT_STDDEV * cf_normal(&rng));

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

		for (int64 j = 0; j < n; j++)
		{
			const CfRating *r = &order[j];
			float		e;

			e = sgd_update(f->P + (Size) r->user * k, f->Q + (Size) r->item * k,
						   &f->user_bias[r->user], &f->item_bias[r->item],
						   k, r->rating - mean, lr, reg);
			sse += (double) e * e;
			if ((j & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}

		reg_term = weighted_norms(f->user_bias, f->P, f->nusers, k, user_count) +
			weighted_norms(f->item_bias, f->Q, f->nitems, k, item_count);
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
