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
	double		loss;			/* regularized objective per rating */
	double		rmse;			/* training RMSE */
	double		seconds;		/* this epoch's own duration */
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
	const CfEpoch *log;
	int			epochs;			/* entries in log */
	double		loss;			/* final model's loss and training RMSE */
	double		rmse;
	double		seconds;		/* load + training */
} CfTrainedModel;

/* A stored model's row in cf_models, as the scorer needs it. */
typedef struct CfModelInfo
{
	int64		version;
	int			k;
	double		mean;
	double		min;
	double		max;
} CfModelInfo;

/* A user's stored row. */
typedef struct CfUserRow
{
	float		bias;
	float	   *factors;		/* k */
	int64	   *rated;			/* sorted item ids the user rated in training */
	int			nrated;
} CfUserRow;

/* A model's item matrix, ordered by item id. */
typedef struct CfItemMatrix
{
	int32		n;
	int			k;
	int64	   *ids;			/* ascending */
	float	   *bias;
	float	   *Q;				/* n x k, row-major */
} CfItemMatrix;

/* Bytes of a CfFactors of this shape. */
extern Size cf_factors_bytes(int32 nusers, int32 nitems, int k);

/* Allocate zeroed factors and biases in CurrentMemoryContext. */
extern void cf_factors_alloc(CfFactors *f, int32 nusers, int32 nitems, int k);

/* Serialize training of one model name until the end of the transaction. */
extern void cf_lock_model(const char *name);

/*
 * Under the model's lock: error unless the caller may replace the model
 * (its owner's privileges) and, in REPEATABLE READ or SERIALIZABLE, unless
 * no concurrent training stored it since the transaction's snapshot.
 */
extern void cf_check_replace(Oid nsp, const char *name);

/* Replace the named model by the trained one, in the current transaction. */
extern void cf_store_model(Oid nsp, const CfTrainedModel *m);

/* Look up a model; error if it does not exist. */
extern void cf_get_model(Oid nsp, const char *name, CfModelInfo *info);

/* Look up one user's row; false if the model has no such user. */
extern bool cf_get_user(Oid nsp, const char *name, int k, int64 user_id, CfUserRow *row);

/* Look up one item's bias and factors; false if the model has no such item. */
extern bool cf_get_item(Oid nsp, const char *name, int k, int64 item_id,
						float *bias, float *factors);

/* Read a model's whole item matrix. */
extern void cf_get_items(Oid nsp, const char *name, int k, CfItemMatrix *items);

#endif							/* CF_MODEL_H */
