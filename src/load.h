/*-------------------------------------------------------------------------
 *
 * load.h
 *	  Reading a ratings relation into compact arrays.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_LOAD_H
#define CF_LOAD_H

#include "ids.h"

/* One observed rating, by dense user and item index. */
typedef struct CfRating
{
	int32		user;
	int32		item;
	float		rating;
} CfRating;

/*
 * Where the ratings come from: a relation and three of its columns.  The
 * caller fills in the first four fields; cf_check_source the types.  With
 * rating_column NULL every row is a rating of 1 (implicit feedback).
 */
typedef struct CfSource
{
	Oid			relid;
	const char *user_column;
	const char *item_column;
	const char *rating_column;
	Oid			user_type;		/* base types of the columns */
	Oid			item_type;
	Oid			rating_type;
	CfIdType	user_ids;		/* what the user and item ids are */
	CfIdType	item_ids;
} CfSource;

/*
 * The loaded ratings.  Dense indices follow the ascending order of the ids,
 * and the ratings are sorted by (user, item, rating), so the arrays depend
 * only on the set of rows read, never on the order the scan returned them.
 */
typedef struct CfRatings
{
	int64		n;				/* number of ratings */
	int32		nusers;
	int32		nitems;
	CfRating   *r;				/* n ratings, sorted */
	int64	   *user_start;		/* user u's ratings: r[user_start[u]..user_start[u+1]) */
	int64	   *user_ids;		/* dense user index -> user id (ascending) */
	int64	   *item_ids;		/* dense item index -> item id (ascending) */
	char	  **user_keys;		/* typed ids: dense index -> canonical text */
	char	  **item_keys;		/* (NULL for integer ids) */
	Size		key_bytes;		/* what the typed ids' texts and maps took (an estimate) */
	double		mean;			/* mean rating */
	double		min;			/* smallest rating */
	double		max;			/* largest rating */
	int64		skipped;		/* rows skipped for a NULL user, item or rating */
} CfRatings;

/* Check the relation and its columns, and fill in the column types. */
extern void cf_check_source(CfSource *src);

/* Check that a relation exists and is of a kind rows can be read from. */
extern void cf_check_relation(Oid relid);

/*
 * Base type of a column, error if it is missing or a system column; role
 * names it in messages ("user" -> "the user column", "user_column").
 */
extern Oid	cf_column_type(Oid relid, const char *colname, const char *role);

/*
 * Check an id column: integers or a type cf_id_type accepts; returns its
 * base type and describes the ids in *ids (if not NULL).
 */
extern Oid	cf_check_id_column(Oid relid, const char *colname, const char *role,
							   CfIdType *ids);

/*
 * Read a checked source as the calling user into *out, in
 * CurrentMemoryContext.
 */
extern void cf_load_ratings(const CfSource *src, CfRatings *out);

/* Whether relid is a table Citus distributes by hash (false without Citus). */
extern bool cf_citus_distributed(Oid relid);

/* The same, read-only in the current snapshot (for STABLE functions). */
extern void cf_load_ratings_readonly(const CfSource *src, CfRatings *out);

/*
 * The ratings of the users in user_ids (an array of the user column's
 * type) only, as the calling user; no rows gives out->n = 0.
 */
extern void cf_load_user_ratings(const CfSource *src, Datum user_ids, CfRatings *out);

/* Bytes loading takes at its peak (the ratings twice while sorting). */
extern Size cf_ratings_bytes(int64 n, int64 nusers, int64 nitems);

/* Bytes the loaded ratings keep once loading is over. */
extern Size cf_loaded_bytes(int64 n, int64 nusers, int64 nitems);

#endif							/* CF_LOAD_H */
