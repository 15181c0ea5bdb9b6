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
extern const CfTrainer cf_baseline_trainer;

/* Items ranked by the share of users who rated them (algorithm 'popular'). */
extern const CfTrainer cf_popular_trainer;

#endif							/* CF_BASELINE_H */
