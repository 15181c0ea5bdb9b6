/*-------------------------------------------------------------------------
 *
 * baseline.c
 *	  The baseline trainers: biases only ('baseline') and popularity
 *	  ('popular'), the yardsticks any model should beat.
 *
 * Both store models without factor vectors (k = 0: empty real[] arrays),
 * which every serving function takes like any other model.
 *
 * baseline: the "baseline predictors" of Koren ("Factor in the Neighbors:
 * Scalable and Accurate Collaborative Filtering", ACM TKDD 4(1), 2010,
 * section 2.1, equation 2),
 *
 *		r(u,i) = mu + b_u + b_i
 *		minimize  sum over ratings (r - mu - b_u - b_i)^2
 *		          + lambda (sum_u b_u^2 + sum_i b_i^2)
 *
 * with mu the mean rating.  Unlike SGD's per-rating penalty, lambda weighs
 * each bias once, so the biases of users and items with few ratings are
 * shrunk towards zero the most (a damped mean).  Solved exactly by
 * alternating least squares, as Koren suggests: each epoch sets every item
 * bias to its optimum given the user biases,
 *
 *		b_i = sum over i's ratings (r - mu - b_u) / (lambda + n_i)
 *
 * then every user bias given the item biases (the same with u and i
 * swapped).  Each step lowers the objective; training stops early once no
 * bias moves by more than 1e-6 (or when cf_epoch_done says so).  The
 * biases are kept in double precision and stored as real.  Deterministic:
 * no random choice at all.
 *
 * popular: each item's score (its bias) is the share of the training users
 * who rated it, in (0, 1]; users get bias 0.  Rating values play no part,
 * so it trains without a rating column too (every row an event).  Recommending ranks items by
 * popularity, leaving out what the user rated, like any model.  It predicts
 * no ratings (cf_algorithm_predicts_ratings): cf_predict returns the score
 * and cf_evaluate no RMSE.  No epochs, no loss.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#include "baseline.h"
#include "util.h"

/* A baseline epoch that moves no bias by more than this ends training. */
#define CONVERGED 1e-6

/* Bytes baseline_train allocates. */
static Size
baseline_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	Size		rows = (Size) data->nusers + data->nitems;

	/* factors (biases only), double biases, sums and counts */
	return cf_add_size(cf_factors_bytes(data->nusers, data->nitems, 0),
					   cf_mul_size(rows, 3 * sizeof(double) + sizeof(int64)));
}

/* Squared errors of the stored (float) biases over the ratings. */
static double
bias_sse(const CfRatings *data, const float *bu, const float *bi)
{
	double		sse = 0;

	for (int64 j = 0; j < data->n; j++)
	{
		const CfRating *r = &data->r[j];
		double		e = r->rating - (data->mean + bu[r->user] + bi[r->item]);

		sse += e * e;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sse;
}

/* Sum of squares of n biases. */
static double
sum_squares(const float *b, int32 n)
{
	double		s = 0;

	for (int32 j = 0; j < n; j++)
		s += (double) b[j] * b[j];
	return s;
}

/* The baseline objective's fit of biases f over data. */
static void
baseline_fit(const CfRatings *data, const CfTrainParams *params, const CfFactors *f,
			 CfFit *fit)
{
	double		sse = bias_sse(data, f->user_bias, f->item_bias);
	double		norms = sum_squares(f->user_bias, f->nusers) +
		sum_squares(f->item_bias, f->nitems);

	fit->rmse = sqrt(sse / data->n);
	fit->loss = (sse + params->regularization * norms) / data->n;
}

/* Train the biases by alternating least squares (see the top of the file). */
static void
baseline_train(const CfRatings *data, const CfTrainParams *params, int workers,
			   CfFactors *f, CfEpoch *log, CfFit *fit)
{
	double		lambda = params->regularization;
	double		mu = data->mean;
	double	   *bu = cf_palloc0_huge_array(double, data->nusers);
	double	   *bi = cf_palloc0_huge_array(double, data->nitems);
	double	   *sum = cf_palloc0_huge_array(double, data->nitems);
	int64	   *count = cf_palloc0_huge_array(int64, data->nitems);
	int			epoch;

	cf_factors_alloc(f, data->nusers, data->nitems, 0);
	for (int64 j = 0; j < data->n; j++)
		count[data->r[j].item]++;

	for (epoch = 0; epoch < params->epochs; epoch++)
	{
		instr_time	start;
		double		moved = 0;
		bool		stop;

		INSTR_TIME_SET_CURRENT(start);

		/* items given the users */
		memset(sum, 0, sizeof(double) * data->nitems);
		for (int64 j = 0; j < data->n; j++)
		{
			const CfRating *r = &data->r[j];

			sum[r->item] += r->rating - mu - bu[r->user];
			if ((j & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		for (int32 i = 0; i < data->nitems; i++)
		{
			double		b = sum[i] / (lambda + count[i]);

			moved = Max(moved, fabs(b - bi[i]));
			bi[i] = b;
			f->item_bias[i] = (float) b;
		}

		/* users given the items (a user's ratings are contiguous) */
		for (int32 u = 0; u < data->nusers; u++)
		{
			double		s = 0;
			int64		n = data->user_start[u + 1] - data->user_start[u];
			double		b;

			for (int64 j = data->user_start[u]; j < data->user_start[u + 1]; j++)
				s += data->r[j].rating - mu - bi[data->r[j].item];
			b = s / (lambda + n);
			moved = Max(moved, fabs(b - bu[u]));
			bu[u] = b;
			f->user_bias[u] = (float) b;
			if ((u & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}

		baseline_fit(data, params, f, fit);
		log[epoch].rmse = fit->rmse;
		log[epoch].loss = fit->loss;
		log[epoch].seconds = cf_seconds_since(start);
		stop = cf_epoch_done(params, epoch, f, &log[epoch]);
		if (stop || moved <= CONVERGED)
		{
			epoch++;
			break;
		}
	}

	/* *fit is the last epoch's, exact */
	fit->epochs = epoch;
	pfree(bu);
	pfree(bi);
	pfree(sum);
	pfree(count);
}

const CfAlgorithm cf_baseline_algorithm = {
	.name = "baseline",
	.uses = CF_ARG_EPOCHS | CF_ARG_REGULARIZATION,
	.predicts_ratings = true,
	.has_biases = true,
	.fold = CF_FOLD_BASELINE,
	.explain = CF_EXPLAIN_UNSUPPORTED,	/* no factor vectors */
	.default_epochs = 60,		/* at most: it converges in fewer */
	.default_regularization = 3,	/* see docs/algorithms/baselines.md */
	.bytes = baseline_bytes,
	.train = baseline_train,
};

/* Bytes popular_train allocates. */
static Size
popular_bytes(const CfRatings *data, const CfTrainParams *params, int workers)
{
	return cf_add_size(cf_factors_bytes(data->nusers, data->nitems, 0),
					   cf_mul_size(Max(data->nitems, 1), sizeof(int64)));
}

/* Score every item by the share of users who rated it. */
static void
popular_train(const CfRatings *data, const CfTrainParams *params, int workers,
			  CfFactors *f, CfEpoch *log, CfFit *fit)
{
	int64	   *users = cf_palloc0_huge_array(int64, data->nitems);

	cf_factors_alloc(f, data->nusers, data->nitems, 0);
	for (int32 u = 0; u < data->nusers; u++)
	{
		/* the user's ratings are sorted by item: count each item once */
		for (int64 j = data->user_start[u]; j < data->user_start[u + 1]; j++)
			if (j == data->user_start[u] || data->r[j].item != data->r[j - 1].item)
				users[data->r[j].item]++;
		if ((u & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int32 i = 0; i < data->nitems; i++)
		f->item_bias[i] = (float) ((double) users[i] / data->nusers);
	pfree(users);

	fit->loss = get_float8_nan();
	fit->rmse = get_float8_nan();
	fit->epochs = 0;
}

const CfAlgorithm cf_popular_algorithm = {
	.name = "popular",
	.uses = CF_ARG_NO_RATINGS,	/* no settings; the ratings' values play no part */
	.predicts_ratings = false,	/* the share of users who rated an item */
	.has_biases = true,			/* b_i is that share */
	.fold = CF_FOLD_NONE,
	.explain = CF_EXPLAIN_UNSUPPORTED,
	.bytes = popular_bytes,
	.train = popular_train,
};
