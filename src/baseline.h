/*-------------------------------------------------------------------------
 *
 * baseline.h
 *	  The baseline trainers: biases only, and popularity.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_BASELINE_H
#define CF_BASELINE_H

#include "train.h"

/* mu + b_u + b_i, regularized, by alternating least squares (algorithm 'baseline'). */
extern const CfAlgorithm cf_baseline_algorithm;

/* Items ranked by the share of users who rated them (algorithm 'popular'). */
extern const CfAlgorithm cf_popular_algorithm;

#endif							/* CF_BASELINE_H */
