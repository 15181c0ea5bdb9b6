/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  The backend-local factor cache: models' item matrices, biases and id
 *	  maps, keyed by the identity of the model's cf_models row version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_CACHE_H
#define CF_CACHE_H

#include "lib/ilist.h"

#include "model.h"

struct cf_idmap_hash;

/*
 * A model's items (all of them, or for a model that is not cached, maybe
 * only some), in ascending id order.  Read-only for the scorer.
 */
typedef struct CfItems
{
	int32		n;				/* items */
	int			k;				/* factors */
	int64	   *ids;			/* ascending */
	char	  **keys;			/* typed item ids: their text (else NULL) */
	Oid			item_type;		/* the model's item id type */
	float	   *bias;			/* n */
	float	   *Q;				/* n x k, row-major */
	float	   *gram;			/* Q^T Q (k x k, upper triangle), once asked for */
	struct cf_idmap_hash *map;	/* id -> index */

	/* identity: the cf_models row version read (see CfModelInfo) */
	Oid			nsp;
	Oid			relid;
	Oid			filenode;
	ItemPointerData tid;
	TransactionId xmin;
	char	   *name;
	int64		version;		/* shown by cf_cache() */
	Oid			items_relid;	/* cf_item_factors, for the privilege check on a hit */

	/* bookkeeping */
	MemoryContext cxt;			/* holds all of the above */
	Size		bytes;			/* memory of cxt */
	int			pins;			/* calls using it now */
	bool		cached;			/* in the cache (else freed on release) */
	bool		partial;		/* only some items */
	uint64		hits;			/* calls served from the cache */
	dlist_node	lru;			/* cache list, most recently used first */
} CfItems;

/*
 * The items of the model that info (a per-call cf_lookup) describes,
 * pinned until cf_items_release: from the cache, or read and cached, or
 * (a model larger than cf.cache_size) read for this call only.
 */
extern CfItems *cf_items_acquire(Oid nsp, const char *name, const CfModelInfo *info);

/*
 * The same for a caller that needs only the items in ids (a bigint[]):
 * when the model is not cached and does not fit, only those are read.
 */
extern CfItems *cf_items_acquire_some(Oid nsp, const char *name,
									  const CfModelInfo *info, Datum ids);

/* Unpin; frees items that are not cached. */
extern void cf_items_release(CfItems *items);

/* Index of an item id, or -1. */
extern int32 cf_item_index(const CfItems *items, int64 id);

/* Item indices of the ids given (a bigint[] argument's); unknown ids are left out. */
extern int32 *cf_item_indices(const CfItems *items, const int64 *ids, int nids, int32 *count);

/* The same, stored at dst (room for nids); returns how many. */
extern int32 cf_item_indices_into(const CfItems *items, const int64 *ids, int nids, int32 *dst);

/*
 * The Gramian Q^T Q of all the model's items (column-major k x k, upper
 * triangle), computed on first use and kept with the entry: what
 * implicit-feedback fold-in and explanations solve against.  items must
 * hold every item (cf_items_acquire).
 */
extern const float *cf_items_gram(CfItems *items);

/*
 * Run fn(arg), whose statements on cf_item_factors are cf's own (training's
 * store, a copy, the cascade of a drop or rename): each comes with a new
 * cf_models row version or none, so cf_item_factors_changed leaves the
 * models alone while it runs.
 */
extern void cf_own_item_writes(void (*fn) (void *arg), void *arg);

/* Bytes a cached model of this shape takes (the documented cost). */
extern Size cf_items_bytes(int64 nitems, int k);

#endif							/* CF_CACHE_H */
