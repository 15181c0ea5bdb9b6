/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  Training on PostgreSQL parallel workers.
 *
 * The pattern of PostgreSQL's own parallel index builds: the leader enters
 * parallel mode, creates a ParallelContext naming a worker entry point of
 * this library, puts the training data in the context's DSM segment (a
 * shm_toc), launches the workers and takes part itself.  Each trainer's
 * shared struct starts with a CfParallelSync: a barrier, sized once the
 * leader knows how many workers actually started, and a "go" flag the
 * workers wait for before touching it.  Trainers call cf_parallel_barrier
 * between phases (rounds of independent blocks, ALS half-steps).
 *
 * Errors: a worker's error reaches the leader through the parallel message
 * queue, which the leader reads at its next CHECK_FOR_INTERRUPTS (waiting
 * at a barrier included), and ends the whole training; an error or cancel
 * in the leader aborts the transaction, which terminates the workers.
 * Workers make no catalog access and no SPI call; all PostgreSQL calls
 * happen in each process's own (only) thread.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/wait_event.h"

#include "parallel.h"

/* Below this many ratings per process, sharing an epoch does not pay. */
#define MIN_RATINGS_PER_PROCESS 250000

/* Initialize a sync struct (leader, before launching). */
void
cf_parallel_sync_init(CfParallelSync *sync)
{
	ConditionVariableInit(&sync->cv);
	pg_atomic_init_u32(&sync->go, 0);
	sync->nparticipants = 1;
}

/* Begin parallel mode and create a context for a worker entry point. */
ParallelContext *
cf_parallel_begin(const char *function, int nworkers)
{
	EnterParallelMode();
	return CreateParallelContext("cf", function, nworkers);
}

/* Launch the workers, wait until they started, size the barrier, let them go. */
int
cf_parallel_launch(ParallelContext *pcxt, CfParallelSync *sync, int requested,
				   bool verbose)
{
	int			launched;

	LaunchParallelWorkers(pcxt);
	/* errors out if a launched worker failed to start */
	WaitForParallelWorkersToAttach(pcxt);
	launched = pcxt->nworkers_launched;
	if (launched < requested)
		ereport(NOTICE,
				(errmsg_plural("training with %d parallel worker instead of %d",
							   "training with %d parallel workers instead of %d",
							   launched, launched, requested),
				 errdetail("The server had no free background worker slots for the others."),
				 errhint("See max_worker_processes and max_parallel_workers.")));
	else if (verbose && launched > 0)
		ereport(NOTICE,
				(errmsg_plural("training on %d parallel worker and the leader",
							   "training on %d parallel workers and the leader",
							   launched, launched)));

	sync->nparticipants = 1 + launched;
	BarrierInit(&sync->barrier, sync->nparticipants);
	pg_memory_barrier();
	pg_atomic_write_u32(&sync->go, 1);
	ConditionVariableBroadcast(&sync->cv);
	return launched;
}

/* In a worker: wait for the leader's go. */
void
cf_parallel_worker_start(CfParallelSync *sync)
{
	ConditionVariablePrepareToSleep(&sync->cv);
	while (pg_atomic_read_u32(&sync->go) == 0)
		ConditionVariableSleep(&sync->cv, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
	pg_memory_barrier();
}

/* Wait for every participant to finish the current phase. */
void
cf_parallel_barrier(CfParallelSync *sync)
{
	if (sync->nparticipants > 1)
		BarrierArriveAndWait(&sync->barrier, PG_WAIT_EXTENSION);
}

/* Wait for the workers to exit, destroy the context, end parallel mode. */
void
cf_parallel_end(ParallelContext *pcxt)
{
	WaitForParallelWorkersToFinish(pcxt);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
}

/* Workers to use for a job of n ratings (requested < 0: automatic). */
int
cf_parallel_workers(int requested, int64 n)
{
	int			workers = requested;

	if (workers < 0)
	{
		workers = max_parallel_maintenance_workers;
		workers = (int) Min((int64) workers, n / MIN_RATINGS_PER_PROCESS - 1);
		workers = Max(workers, 0);
	}
	/* workers cannot start inside a parallel worker or in single-user mode */
	if (IsInParallelMode() || !IsUnderPostmaster)
		workers = 0;
	return workers;
}
