/*-------------------------------------------------------------------------
 *
 * idmap.h
 *	  A hash table from 64-bit user or item ids to 32-bit dense indices
 *	  (simplehash), shared by the loader and the factor cache.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_IDMAP_H
#define CF_IDMAP_H

/* id -> dense index */
typedef struct CfIdEntry
{
	int64		id;
	int32		index;
	char		status;
} CfIdEntry;

/* 32-bit hash of a 64-bit id (the murmur3 64-bit finalizer). */
static inline uint32
cf_hash_id(int64 id)
{
	uint64		h = (uint64) id;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

#define SH_PREFIX		cf_idmap
#define SH_ELEMENT_TYPE CfIdEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			id
#define SH_HASH_KEY(tb, key) cf_hash_id(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

#endif							/* CF_IDMAP_H */
