/*-------------------------------------------------------------------------
 *
 * eval.h
 *	  Accuracy and ranking metrics of a model on held-out ratings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_EVAL_H
#define CF_EVAL_H

#include "cache.h"
#include "load.h"
#include "model.h"

/* The metrics of one evaluation (definitions in eval.c and cf_evaluate.md). */
typedef struct CfMetrics
{
	double		rmse;			/* NaN: the model predicts no ratings */
	double		mae;
	double		precision;		/* at k; NaN: no user with a relevant item */
	double		recall;
	double		ndcg;
	double		map;
	double		hit_rate;
	double		coverage;
	int64		users;			/* users ranked (with a relevant item) */
	int64		ratings;		/* test rows */
} CfMetrics;

/* Number of metrics, in the order of CfMetrics, and their names. */
#define CF_NUM_METRICS 8
extern const char *const cf_metric_names[CF_NUM_METRICS];

/* Metric number j of m. */
extern double cf_metric(const CfMetrics *m, int j);

/* Whether a higher value of metric j is better (all but rmse and mae). */
extern bool cf_metric_higher_is_better(int j);

/* The number of a metric name; error if unknown. */
extern int	cf_metric_number(const char *name);

/*
 * Evaluate factors trained on `train` (in memory, not stored) against the
 * held-out ratings `test`, as cf_evaluate would evaluate the stored model:
 * top-k lists leave out each user's training items; relevant items are the
 * user's test items, or those rated >= threshold (NaN: no threshold).  A
 * model without biases gives users it does not know no list.
 */
extern void cf_evaluate_factors(const CfRatings *train, const CfFactors *f,
								bool predicts_ratings, bool has_biases,
								const CfRatings *test, int k, double threshold,
								CfMetrics *out);

#endif							/* CF_EVAL_H */
