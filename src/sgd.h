/*-------------------------------------------------------------------------
 *
 * sgd.h
 *	  Biased matrix factorization trained by stochastic gradient descent.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SGD_H
#define CF_SGD_H

#include "storage/dsm.h"
#include "storage/shm_toc.h"

#include "train.h"

/* The SGD trainer (algorithm 'sgd'). */
extern const CfAlgorithm cf_sgd_algorithm;

/* Point SGD's kernels at the fastest variants this CPU runs (from _PG_init). */
extern void cf_sgd_init_kernels(void);

/* Entry point of a parallel worker (named in CreateParallelContext). */
extern PGDLLEXPORT void cf_sgd_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* CF_SGD_H */
