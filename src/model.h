/*-------------------------------------------------------------------------
 *
 * model.h
 *	  The model store: trained factors in, rows of the cf_* tables out, and
 *	  back again for scoring.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_MODEL_H
#define CF_MODEL_H

#include "common/pg_prng.h"
#include "executor/spi.h"

#include "load.h"

/* Factor rows are padded with zeros to a multiple of this many floats. */
#define CF_LANES 8

/*
 * A trained factorization: r = mean + user_bias + item_bias + P[u] . Q[i].
 * Row u of P is P[u * stride .. u * stride + k); the rest of the row, up to
 * stride (k rounded up to CF_LANES), is zero.
 */
typedef struct CfFactors
{
	int32		nusers;
	int32		nitems;
	int			k;				/* latent factors */
	int			stride;			/* floats per row */
	float	   *user_bias;		/* nusers */
	float	   *item_bias;		/* nitems */
	float	   *P;				/* nusers x stride, row-major */
	float	   *Q;				/* nitems x stride, row-major */
} CfFactors;

/* One epoch of the training trace. */
typedef struct CfEpoch
{
	double		loss;			/* the objective, as cf_models.loss defines it */
	double		rmse;			/* training RMSE */
	double		seconds;		/* this epoch's own duration */
	double		validation_rmse;	/* RMSE on the held-out ratings; NaN: none */
} CfEpoch;

/* Everything cf_store_model writes. */
typedef struct CfTrainedModel
{
	const char *name;
	const CfSource *source;
	const char *algorithm;
	const char *hyperparameters;	/* jsonb text */
	const CfRatings *data;
	const CfFactors *factors;
	double		global_mean;	/* the baseline mu (0 for implicit models) */
	const CfEpoch *log;
	int			epochs;			/* entries in log */
	int			epoch_kept;		/* the epoch the factors are from (1-based) */
	double		loss;			/* the stored model's loss and training RMSE */
	double		rmse;			/* (NaN: none, stored as NULL) */
	double		seconds;		/* load + training */
	const char *user_table;		/* users kept there (Citus), not in
								 * cf_user_factors: its quoted qualified
								 * name; NULL for a model on this node */
} CfTrainedModel;

/* A stored model's row in cf_models, as the scorer needs it. */
typedef struct CfModelInfo
{
	/*
	 * The identity of the cf_models row version read, which no value in
	 * the tables can forge: the table, its file, the row's place and its
	 * inserting transaction.  Every training, edit of the row, or change
	 * of the model's item rows by hand (cf_item_factors_changed) makes a
	 * new one.  The factor cache is keyed on it.
	 */
	Oid			relid;
	Oid			filenode;
	ItemPointerData tid;
	TransactionId xmin;
	int64		version;		/* cf_models.version (shown, not trusted) */
	int			k;
	double		mean;
	double		min;
	double		max;
	int64		items;			/* items at training (a size hint) */
	char	   *algorithm;
	const struct CfAlgorithm *alg;	/* its descriptor, NULL if cf knows no such
									 * algorithm */
	bool		predicts_ratings;	/* alg's (true for an unknown one) */
	bool		has_biases;		/* alg's (true for an unknown one) */
	double		regularization; /* hyperparameters->'regularization', or NaN */
	double		alpha;			/* hyperparameters->'alpha', or NaN */
	double		regularization_exponent;	/* hyperparameters->'regularization_exponent', or NaN */
	Oid			user_type;		/* cf_models.user_type, item_type: checked */
	Oid			item_type;		/* by cf_check_model_id_type */
	char	   *user_table;		/* cf_models.user_table (a model trained on
								 * a Citus cluster): its users are there, not
								 * in cf_user_factors; NULL otherwise */
} CfModelInfo;

/* What the per-call lookup reads of the user's row. */
typedef enum CfUserPart
{
	CF_USER_NONE,				/* no user: the model row only */
	CF_USER_FACTORS,			/* bias and factors */
	CF_USER_RATED				/* bias, factors and rated_items */
} CfUserPart;

/* A user's stored row. */
typedef struct CfUserRow
{
	int64		id;
	float		bias;
	float	   *factors;		/* k */
	int64	   *rated;			/* sorted item ids the user rated in training */
	int			nrated;
	char	   *key;			/* typed ids: the stored key, where a reader sets it */
} CfUserRow;

/* The scorer's queries, planned once per backend (see cf_query_plan). */
typedef enum CfQuery
{
	CF_Q_MODEL,					/* $1 name: the model row */
	CF_Q_MODEL_USER,			/* $1 name, $2 user: model row + bias, factors */
	CF_Q_MODEL_USER_RATED,		/* the same + rated_items */
	CF_Q_ITEMS,					/* $1 name: item_id, bias, factors by item_id */
	CF_Q_SOME_ITEMS,			/* the same for item_id = ANY ($2) */
	CF_Q_USERS,					/* $1 name: user_id, bias, factors, rated_items by user_id */
	CF_Q_SOME_USERS,			/* the same for user_id = ANY ($2) */
	CF_Q_MODEL_SOURCE,			/* $1 name: source, user/item/rating column */
	CF_Q_UPDATE_USER,			/* $1 name, $2 user, $3 bias, $4 factors, $5 rated */
	CF_Q_INSERT_USER,			/* the same arguments */
	CF_Q_DELETE_USER,			/* $1 name, $2 user */
	CF_NUM_QUERIES
} CfQuery;

/* Bytes of a CfFactors of this shape. */
extern Size cf_factors_bytes(int32 nusers, int32 nitems, int k);

/* Allocate zeroed factors and biases in CurrentMemoryContext. */
extern void cf_factors_alloc(CfFactors *f, int32 nusers, int32 nitems, int k);

/* Initial factors: uniform, variance 0.01 / k, row j at pos[j] (or j). */
extern void cf_init_factor_rows(float *F, int32 rows, const int32 *pos, int k, int stride,
								pg_prng_state *rng);

/* Serialize training of one model name until the end of the transaction. */
extern void cf_lock_model(const char *name);

/*
 * Under the model's lock: error unless the caller may replace the model
 * (its owner's privileges) and, in REPEATABLE READ or SERIALIZABLE, unless
 * no concurrent training stored it since the transaction's snapshot.
 * True if a model of that name exists: then *algorithm and *version are
 * its (palloc'd in the caller's context).
 */
extern bool cf_check_replace(Oid nsp, const char *name, char **algorithm, int64 *version);

/*
 * Under the name's lock: error unless no model has the name, as the caller
 * sees it (42710) or as the latest snapshot does (40001, in REPEATABLE
 * READ and SERIALIZABLE).
 */
extern void cf_check_new_name(Oid nsp, const char *name);

/* Error unless the caller may change the named model's rows (its owner's privileges). */
extern void cf_check_owner(Oid nsp, const char *name);

/*
 * The role the source a model records is read as (cf_refresh_users,
 * cf_explain): its owner; error if no role has the owner's name.
 */
extern Oid	cf_model_owner(Oid nsp, const char *name);

/* Replace the named model by the trained one, in the current transaction. */
extern void cf_store_model(Oid nsp, const CfTrainedModel *m);

/* The saved plan of one of the scorer's queries (call inside SPI_connect). */
extern SPIPlanPtr cf_query_plan(Oid nsp, CfQuery q);

/*
 * The per-call lookup: the model's row (error if the calling role cannot
 * see it) and, unless part is CF_USER_NONE, the user's row in the same
 * query; returns whether the user has a row.  Runs read-only in the
 * current snapshot.
 */
extern bool cf_lookup(Oid nsp, const char *name, CfModelInfo *info,
					  CfUserPart part, int64 user_id, CfUserRow *user);

/*
 * The source a model records in cf_models (returned: its text, a quoted
 * qualified name) and the columns it was trained from (src's; rating NULL
 * if none; relid left InvalidOid), read as the caller; error if the model
 * does not exist.  Allocated in CurrentMemoryContext.
 */
extern char *cf_model_source(Oid nsp, const char *name, CfSource *src);

/*
 * One stored user row, as the scorer's queries return it (values: user_id,
 * bias, factors, rated_items), into *row: checked against the model (no
 * NULL, k finite factors, a finite bias); rated_items only if with_rated
 * (else rated is NULL and values[3] is not read).  The factors go into
 * row->factors if it is not NULL, else a new chunk; arrays in
 * CurrentMemoryContext.  The one reader of user rows.
 */
extern void cf_read_user_row(const Datum *values, const bool *isnull, bool with_rated, int k,
							 const char *model, CfUserRow *row);

/*
 * Copy a stored one-dimensional array without NULLs of the given element
 * type and (if expected >= 0) length into dst, or a new palloc'd chunk.
 */
extern void *cf_copy_array(Datum d, Oid elemtype, int elemsize, int expected,
						   void *dst, int *n, const char *what);

/* Error out unless a stored row's factors (and bias, if not NULL) are finite. */
extern void cf_check_stored_row(const char *side, int64 id, const char *model,
								const float *v, int k, const float *bias);

#endif							/* CF_MODEL_H */
