/*-------------------------------------------------------------------------
 *
 * parallel.h
 *	  Training on PostgreSQL parallel workers: setup, the start signal, the
 *	  per-phase barrier, and teardown.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_PARALLEL_H
#define CF_PARALLEL_H

#include "access/parallel.h"
#include "port/atomics.h"
#include "storage/barrier.h"
#include "storage/condition_variable.h"

/*
 * Synchronization state at the head of every trainer's shared struct.  The
 * barrier is sized once the leader knows how many workers started, so the
 * workers wait for "go" before they first touch it.
 */
typedef struct CfParallelSync
{
	ConditionVariable cv;		/* signalled when go is set */
	pg_atomic_uint32 go;		/* 1 once the barrier is ready */
	int			nparticipants;	/* leader + workers launched */
	Barrier		barrier;
} CfParallelSync;

/* Initialize a sync struct (leader, before launching). */
extern void cf_parallel_sync_init(CfParallelSync *sync);

/*
 * Begin parallel mode and create a context for the worker entry point
 * "function" of this library, asking for nworkers workers.
 */
extern ParallelContext *cf_parallel_begin(const char *function, int nworkers);

/*
 * Launch the workers of a context whose DSM is initialized and filled, wait
 * until they have started, size the barrier and let them go.  Returns the
 * number of workers launched; says so in a NOTICE when fewer than asked
 * (and, when verbose, how many otherwise).
 */
extern int	cf_parallel_launch(ParallelContext *pcxt, CfParallelSync *sync,
							   int requested, bool verbose);

/* In a worker: wait for the leader's go. */
extern void cf_parallel_worker_start(CfParallelSync *sync);

/* Wait for every participant to finish the current phase. */
extern void cf_parallel_barrier(CfParallelSync *sync);

/* Wait for the workers to exit, destroy the context, end parallel mode. */
extern void cf_parallel_end(ParallelContext *pcxt);

/*
 * Workers to use for a job of n ratings: the requested number, or when
 * requested < 0 (automatic) max_parallel_maintenance_workers, fewer for
 * small jobs.
 */
extern int	cf_parallel_workers(int requested, int64 n);

#endif							/* CF_PARALLEL_H */
