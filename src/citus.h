/*-------------------------------------------------------------------------
 *
 * citus.h
 *	  Models on a Citus cluster (citus.c): cf_train's ALS and iALS whose
 *	  user half-steps run on the workers' shards and whose item half-steps
 *	  are summed there and solved on the coordinator; the serving side's
 *	  read of such a model's user rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_CITUS_H
#define CF_CITUS_H

#include "load.h"
#include "model.h"
#include "train.h"

/*
 * Why cf_train cannot train this source on its Citus cluster (an errdetail
 * sentence), or NULL when it can: integer ids, and an algorithm with a
 * cluster form (CfAlgorithm.cluster) with settings that form takes.  Call
 * only for a source cf_citus_distributed says is distributed.
 */
extern char *cf_citus_unsupported(const CfAlgorithm *alg, const CfSource *src,
								  const CfTrainParams *params);

/*
 * Train on the cluster.  Fills *data with the counts, the rating range and
 * mean and the item ids (no ratings: they stay on the workers), *f with the
 * items' factors only, log[0..epochs-1] and *fit; the users' factors are
 * left in the distributed table *user_table (a quoted qualified name),
 * created or emptied for this model in the current transaction.  A source
 * distributed by another column than its user column is first copied by
 * user among the workers.
 */
extern void cf_citus_train(Oid nsp, const char *model, const CfSource *src,
						   const CfAlgorithm *alg, const CfTrainParams *params,
						   CfRatings *data, CfFactors *f, CfEpoch *log, CfFit *fit,
						   char **user_table);

/*
 * The table a model's stored user_table names, checked: an ordinary table
 * (no view, no row security: reading it runs no code of its owner's) with
 * an integer user_id; error otherwise.  *user_type gets user_id's type.
 */
extern Oid	cf_citus_user_table(const char *user_table, const char *model, Oid *user_type);

/*
 * Drop the user table a replaced or dropped model kept (its stored
 * user_table), if it has a name cf gives such tables (cf_user_factors_...).
 */
extern void cf_citus_drop_user_table(const char *user_table, const char *model);

/*
 * Error if the model keeps its users on a Citus cluster, for a function
 * (named in the message) that reads every user's row or writes one.
 */
extern void cf_require_local_users(const CfModelInfo *info, const char *model,
								   const char *function);

/*
 * (Inside SPI) Read the user's row of a model whose info->user_table is
 * set into *user (allocated in outer); false if the table has no row.
 */
extern bool cf_citus_lookup_user(const CfModelInfo *info, const char *name, CfUserPart part,
								 int64 user_id, CfUserRow *user, MemoryContext outer);

#endif							/* CF_CITUS_H */
