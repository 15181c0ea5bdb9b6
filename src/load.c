/*-------------------------------------------------------------------------
 *
 * load.c
 *	  Reading a ratings relation into compact arrays.
 *
 * The source is read with one SPI query, run as the calling user, so table
 * and column privileges and row-level security apply exactly as for a
 * SELECT the user typed.  The query text is built from the catalog names
 * with quote_identifier only; column types are checked against the catalog
 * before the query runs.  A source without a rating column (implicit
 * feedback: every row is one event) reads the constant 1 as each rating.
 * Rows stream into a DestReceiver (no tuplestore): each row's user and
 * item ids are mapped to provisional dense indices with a simplehash
 * table, and the rating is appended to a growing array.
 *
 * After the scan the indices are renumbered in ascending id order and the
 * ratings are sorted by (user, item, rating) with a counting sort by user
 * and small per-user sorts.  The result depends only on the multiset of
 * rows, not on the order the scan returned them (a parallel plan, say), so
 * training from it is reproducible.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "idmap.h"
#include "load.h"
#include "util.h"

/*
 * A user's ratings are sorted as 64-bit keys: the item index in the high
 * half, the rating's bits mapped to an unsigned integer of the same order
 * in the low half (rating_key), so one integer comparison orders by
 * (item, rating).
 */
#define ST_SORT			sort_keys
#define ST_ELEMENT_TYPE uint64
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE		static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Runs of keys sort_user_keys radix-sorts, and its digits. */
#define RADIX_MIN		64		/* shorter runs: sort_keys */
#define RADIX_MAX		(1 << 20)	/* longer runs too (bounds the buffer) */
#define RADIX_MAX_BITS	11		/* at most 2048 buckets a pass */

/*
 * Typed ids (canonical values) -> provisional dense indices.  An entry
 * holds a short image (at most 16 bytes: a uuid, most text ids) itself as
 * two words, so a lookup decides equality without leaving the table; a
 * longer one is compared with the list's keys[index].  KEY_PROBE is the
 * index of the value being looked up (the list's probe).
 */
struct IdList;
typedef struct CfKeyRef
{
	uint64		w1;				/* cf_key_words of a short image */
	uint64		w2;
	int32		index;
	uint32		len;			/* image length */
} CfKeyRef;

static inline bool keyref_eq(struct IdList *list, CfKeyRef a, CfKeyRef b);
static uint32 keyref_unhashed(void);

typedef struct CfKeyEntry
{
	CfKeyRef	ref;
	uint32		hash;
	char		status;
} CfKeyEntry;

#define KEY_PROBE		(-1)
#define SH_PREFIX		cf_keymap
#define SH_ELEMENT_TYPE CfKeyEntry
#define SH_KEY_TYPE		CfKeyRef
#define SH_KEY			ref
#define SH_HASH_KEY(tb, k) keyref_unhashed()
#define SH_EQUAL(tb, a, b) keyref_eq((struct IdList *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * id -> provisional dense index, and back.  Ids are usually small
 * non-negative integers, so they are first looked up in a direct table
 * (index by id, -1 for none) covering [0, direct_cap); the table doubles
 * to cover a new id as long as it stays within DIRECT_SLACK times the
 * distinct ids seen so far plus DIRECT_MIN.  The first id it cannot cover
 * freezes it, and that id and every later one outside it go to a
 * simplehash table, so each id lives in exactly one of the two.
 */
typedef struct IdList
{
	MemoryContext cxt;
	int32	   *direct;
	int64		direct_cap;
	bool		direct_frozen;
	cf_idmap_hash *map;			/* created on first use */
	uint32		map_size;		/* its initial size */
	const CfIdType *type;		/* typed ids (else NULL): */
	cf_keymap_hash *keymap;		/* canonical value -> provisional index */
	Datum	   *keys;			/* provisional index -> canonical value */
	Datum		probe;			/* the value keymap is asked about */
	Size		key_bytes;		/* estimated memory of the typed ids so far */
	CfKeyRef	last_ref;		/* the typed id last mapped, */
	uint32		last_hash;		/* and its hash */
	char	  **texts;			/* final index -> canonical text, once renumbered */
	int64	   *ids;			/* provisional index -> id */
	int32		n;
	int32		cap;
	int64		last_id;		/* one-entry cache: sources are often sorted */
	int32		last_index;
} IdList;

#define DIRECT_MIN		(1 << 20)
#define DIRECT_SLACK	8

/* DestReceiver that appends each row to the arrays. */
typedef struct LoadState
{
	DestReceiver pub;
	MemoryContext cxt;			/* where the arrays live */
	const CfSource *src;
	Oid			user_type;		/* base types of the three columns */
	Oid			item_type;
	Oid			rating_type;	/* FLOAT8OID if the query casts */
	IdList		users;
	IdList		items;
	CfRating   *r;
	int64		n;
	int64		cap;
	int64		skipped;
} LoadState;

/* Base type of a column, with clear errors for missing or system columns. */
Oid
cf_column_type(Oid relid, const char *colname, const char *role)
{
	AttrNumber	attnum = get_attnum(relid, colname);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						colname, get_rel_name(relid)),
				 errhint("Name the %s column with the %s_column argument.", role, role)));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("cannot use system column \"%s\" as the %s column", colname, role)));
	return getBaseType(get_atttype(relid, attnum));
}

/* Check that a relation exists and is of a kind rows can be read from. */
void
cf_check_relation(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_VIEW:
		case RELKIND_MATVIEW:
		case RELKIND_PARTITIONED_TABLE:
		case RELKIND_FOREIGN_TABLE:
			break;
		case '\0':
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot read ratings from \"%s\"", get_rel_name(relid)),
					 errdetail("The source must be a table, view, materialized view, partitioned table or foreign table.")));
	}
}

/*
 * Check an id column (user or item): integers or a type cf_id_type
 * accepts; returns its base type and describes the ids in *ids.
 */
Oid
cf_check_id_column(Oid relid, const char *colname, const char *role, CfIdType *ids)
{
	Oid			type = cf_column_type(relid, colname, role);
	Oid			typid;
	int32		typmod;
	Oid			collation;
	CfIdType	local;
	char	   *what = psprintf("column \"%s\"", colname);

	get_atttypetypmodcoll(relid, get_attnum(relid, colname), &typid, &typmod, &collation);
	cf_id_type(ids ? ids : &local, type, collation, role, what);
	pfree(what);
	return type;
}

/*
 * Check the relation and its columns, and fill in the column types.  No
 * rating column (rating_column NULL): every row counts as a rating of 1.
 */
void
cf_check_source(CfSource *src)
{
	cf_check_relation(src->relid);
	src->user_type = cf_check_id_column(src->relid, src->user_column, "user", &src->user_ids);
	src->item_type = cf_check_id_column(src->relid, src->item_column, "item", &src->item_ids);
	if (src->rating_column == NULL)
	{
		src->rating_type = INT4OID;
		return;
	}
	src->rating_type = cf_column_type(src->relid, src->rating_column, "rating");
	switch (src->rating_type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("rating column \"%s\" has type %s, but must be of a numeric type",
							src->rating_column, format_type_be(src->rating_type)),
					 errhint("Use smallint, integer, bigint, real, double precision or numeric, or cast in a view.")));
	}
}

/*
 * Bytes the loaded arrays keep for n ratings of nusers users and nitems
 * items, once loading is over.
 */
Size
cf_loaded_bytes(int64 n, int64 nusers, int64 nitems)
{
	Size		bytes = cf_mul_size((Size) n, sizeof(CfRating));

	/* per id: the id, the hash entry (at most half full), offsets */
	bytes = cf_add_size(bytes, cf_mul_size((Size) (nusers + nitems),
										   sizeof(int64) * 2 + sizeof(CfIdEntry) * 2));
	return bytes;
}

/*
 * Bytes loading takes at its peak for n ratings of nusers users and nitems
 * items: the loaded arrays, plus a sort key per rating (sort_canonical
 * holds the keys beside either the unsorted or the sorted ratings) and the
 * radix sort's buffer.
 */
Size
cf_ratings_bytes(int64 n, int64 nusers, int64 nitems)
{
	return cf_add_size(cf_loaded_bytes(n, nusers, nitems),
					   cf_mul_size((Size) n + Min(n, RADIX_MAX), sizeof(uint64)));
}

/* Integer value of an id column. */
static inline int64
id_value(Datum d, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		default:
			return DatumGetInt64(d);
	}
}

/* Numeric value of the rating column (numeric is cast to float8 by the query). */
static inline double
rating_value(Datum d, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		default:
			return DatumGetFloat8(d);
	}
}

/* Make room for the rows read so far plus one, checking the memory budget. */
static void
grow_ratings(LoadState *st)
{
	int64		newcap = Max(st->cap * 2, 1024);

	cf_check_memory(cf_add_size(cf_ratings_bytes(newcap, st->users.n, st->items.n),
								st->users.key_bytes + st->items.key_bytes),
					"loading the ratings");
	if (st->r == NULL)
		st->r = MemoryContextAllocHuge(st->cxt, cf_mul_size(newcap, sizeof(CfRating)));
	else
		st->r = repalloc_huge(st->r, cf_mul_size(newcap, sizeof(CfRating)));
	st->cap = newcap;
}

/* Record a new id: its provisional index. */
static int32
new_id(IdList *list, int64 id, const char *role)
{
	if (list->n == list->cap)
	{
		int32		newcap;

		if (list->cap >= PG_INT32_MAX / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many distinct %s ids", role),
					 errdetail("cf supports up to %d distinct users and items.",
							   PG_INT32_MAX / 2)));
		newcap = Max(list->cap * 2, 1024);
		list->ids = repalloc_huge(list->ids, cf_mul_size(newcap, sizeof(int64)));
		if (list->keys)
			list->keys = repalloc_huge(list->keys, cf_mul_size(newcap, sizeof(Datum)));
		list->cap = newcap;
	}
	list->ids[list->n] = id;
	return list->n++;
}

/* Whether the direct table covers id, growing it if allowed. */
static bool
direct_covers(IdList *list, int64 id)
{
	int64		newcap;

	if (id >= 0 && id < list->direct_cap)
		return true;
	if (list->direct_frozen || id < 0 ||
		id >= (int64) DIRECT_SLACK * list->n + DIRECT_MIN)
	{
		list->direct_frozen = true;
		return false;
	}
	newcap = Max(list->direct_cap, 1024);
	while (newcap <= id)
		newcap *= 2;
	cf_check_memory(cf_mul_size(newcap, sizeof(int32)), "loading the ratings");
	if (list->direct == NULL)
		list->direct = MemoryContextAllocHuge(list->cxt, cf_mul_size(newcap, sizeof(int32)));
	else
		list->direct = repalloc_huge(list->direct, cf_mul_size(newcap, sizeof(int32)));
	memset(list->direct + list->direct_cap, -1, (newcap - list->direct_cap) * sizeof(int32));
	list->direct_cap = newcap;
	return true;
}

/* Provisional dense index of an id, adding it on first sight. */
static inline int32
map_id(IdList *list, int64 id, const char *role)
{
	int32		index;

	if (list->n > 0 && id == list->last_id)
		return list->last_index;

	if (direct_covers(list, id))
	{
		index = list->direct[id];
		if (index < 0)
			index = list->direct[id] = new_id(list, id, role);
	}
	else
	{
		CfIdEntry    *e;
		bool		found;

		if (list->map == NULL)
			list->map = cf_idmap_create(list->cxt, list->map_size, NULL);
		e = cf_idmap_insert(list->map, id, &found);
		if (!found)
			e->index = new_id(list, id, role);
		index = e->index;
	}
	list->last_id = id;
	list->last_index = index;
	return index;
}

/*
 * Provisional dense index of a typed id, adding it on first sight (a copy
 * of its canonical value, in the list's context).
 */
static int32
map_key(IdList *list, Datum value, const char *role)
{
	Datum		key = cf_key_canonical(list->type, value);
	unsigned char buf[8];
	size_t		len;
	const unsigned char *p = cf_key_bytes(list->type, key, &len, buf);
	CfKeyRef	ref;
	uint32		hash;
	CfKeyEntry *e;
	bool		found;

	ref.index = KEY_PROBE;
	ref.len = (uint32) len;
	if (len <= 16)
	{
		cf_key_words(p, len, &ref.w1, &ref.w2);
		hash = cf_key_words_hash(ref.w1, ref.w2, len);
	}
	else
	{
		ref.w1 = ref.w2 = 0;
		hash = hash_bytes(p, (int) len);
	}
	list->probe = key;
	if (list->n > 0 && hash == list->last_hash && keyref_eq(list, ref, list->last_ref))
		return list->last_ref.index;
	if (list->keymap == NULL)
		/*
		 * small at first: probes into a table sized for the row estimate
		 * miss the cache far more often than growing it costs
		 */
		list->keymap = cf_keymap_create(list->cxt, 1024, list);
	e = cf_keymap_insert_hash(list->keymap, ref, hash, &found);
	if (!found)
	{
		int32		index = new_id(list, 0, role);
		MemoryContext oldcxt = MemoryContextSwitchTo(list->cxt);

		list->keys[index] = datumCopy(key, list->type->typbyval, list->type->typlen);
		MemoryContextSwitchTo(oldcxt);
		e->ref.index = index;
		/* the copy and, later, the text (about as long); a pointer each; the map */
		list->key_bytes += 2 * (MAXALIGN(len) + 16) + 2 * sizeof(Datum) + 2 * sizeof(CfKeyEntry);
	}
	list->last_ref = e->ref;
	list->last_hash = hash;
	return e->ref.index;
}

/*
 * Give a list of typed ids their 64-bit ids, from their canonical texts
 * (kept in list->texts, by provisional index until renumber).
 */
static void
typed_ids(IdList *list)
{
	if (list->type == NULL)
		return;
	list->texts = cf_palloc_huge_array(char *, Max(list->n, 1));
	cf_key_texts(list->type, list->keys, list->n, list->texts);
	for (int32 i = 0; i < list->n; i++)
	{
		list->ids[i] = cf_text_id(list->texts[i], strlen(list->texts[i]));
		if (!list->type->typbyval)
			pfree(DatumGetPointer(list->keys[i]));
	}
	pfree(list->keys);
	list->keys = NULL;
}

/* Free an id list's lookup structures (the ids stay). */
static void
idlist_free_maps(IdList *list)
{
	if (list->keymap)
		cf_keymap_destroy(list->keymap);
	list->keymap = NULL;
	if (list->map)
		cf_idmap_destroy(list->map);
	if (list->direct)
		pfree(list->direct);
	list->map = NULL;
	list->direct = NULL;
}

/* An id of a row, for messages. */
static char *
row_id_text(const LoadState *st, Datum d, bool user)
{
	const CfIdType *t = user ? &st->src->user_ids : &st->src->item_ids;

	if (t->integer)
		return psprintf(INT64_FORMAT, id_value(d, user ? st->user_type : st->item_type));
	return cf_key_text(t, d);
}

/* Error for a rating that is not finite or out of range for real. */
static void
bad_rating(const LoadState *st, double rating, Datum user, Datum item)
{
	if (isnan(rating) || isinf(rating))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("rating column \"%s\" contains the non-finite value \"%s\"",
						st->src->rating_column,
						isnan(rating) ? "NaN" : rating > 0 ? "Infinity" : "-Infinity"),
				 errdetail("The row has user %s and item %s.",
						   row_id_text(st, user, true), row_id_text(st, item, false)),
				 errhint("Filter such rows out, for example with a view.")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("rating \"%g\" is out of range for type real", rating),
			 errdetail("The row has user %s and item %s.",
					   row_id_text(st, user, true), row_id_text(st, item, false))));
}

/* Append one row of the source query. */
static bool
load_receive(TupleTableSlot *slot, DestReceiver *self)
{
	LoadState  *st = (LoadState *) self;
	Datum	   *values;
	bool	   *isnull;
	double		rating;
	CfRating   *out;

	slot_getallattrs(slot);
	values = slot->tts_values;
	isnull = slot->tts_isnull;

	if (isnull[0] || isnull[1] || isnull[2])
	{
		st->skipped++;
		return true;
	}

	rating = rating_value(values[2], st->rating_type);
	if (isnan(rating) || isinf(rating) || fabs(rating) > FLT_MAX)
		bad_rating(st, rating, values[0], values[1]);

	if (st->n == st->cap)
		grow_ratings(st);
	out = &st->r[st->n++];
	out->user = st->users.type ? map_key(&st->users, values[0], "user") :
		map_id(&st->users, id_value(values[0], st->user_type), "user");
	out->item = st->items.type ? map_key(&st->items, values[1], "item") :
		map_id(&st->items, id_value(values[1], st->item_type), "item");
	out->rating = (float) rating;

	if ((st->n & 0xFFFF) == 0)
	{
		/* typed ids take memory of their own, which grows between the arrays' growths */
		if (st->users.key_bytes + st->items.key_bytes > 0)
			cf_check_memory(cf_add_size(cf_ratings_bytes(st->cap, st->users.n, st->items.n),
										st->users.key_bytes + st->items.key_bytes),
							"loading the ratings");
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/* The key map is only ever given the hash (cf_keymap_insert_hash). */
static uint32
keyref_unhashed(void)
{
	elog(ERROR, "key map asked to hash a key");
	return 0;
}

/* Whether two key map references are to the same value. */
static inline bool
keyref_eq(IdList *list, CfKeyRef a, CfKeyRef b)
{
	if (a.len != b.len)
		return false;
	if (a.len <= 16)
		return a.w1 == b.w1 && a.w2 == b.w2;
	return cf_key_image_eq(list->type,
						   a.index == KEY_PROBE ? list->probe : list->keys[a.index],
						   b.index == KEY_PROBE ? list->probe : list->keys[b.index]);
}

/* Set up an id list for about n ids. */
static void
idlist_init(IdList *list, MemoryContext cxt, int64 n, const CfIdType *type)
{
	memset(list, 0, sizeof(IdList));
	list->cxt = cxt;
	list->map_size = (uint32) Min(Max(n, 1024), 1 << 24);
	list->cap = 1024;
	list->ids = MemoryContextAllocHuge(cxt, list->cap * sizeof(int64));
	if (!type->integer)
	{
		list->type = type;
		list->keys = MemoryContextAllocHuge(cxt, list->cap * sizeof(Datum));
	}
}

/* Expected row count of the relation, for sizing; 0 if unknown. */
static int64
estimated_rows(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int64		rows = 0;

	if (HeapTupleIsValid(tp))
	{
		float4		reltuples = ((Form_pg_class) GETSTRUCT(tp))->reltuples;

		if (reltuples > 0)
			rows = (int64) reltuples;
		ReleaseSysCache(tp);
	}
	return rows;
}

/*
 * Renumber a list's ids in ascending order: returns remap[provisional] =
 * final index and replaces list->ids by the sorted ids.
 */
static int32 *
renumber(IdList *list)
{
	int32		n = list->n;
	int32	   *order = cf_palloc_huge_array(int32, n);
	int32	   *remap = cf_palloc_huge_array(int32, n);
	int64	   *sorted = cf_palloc_huge_array(int64, n);

	char	  **texts = NULL;

	typed_ids(list);
	cf_order_by_key(order, n, list->ids, false);
	if (list->texts)
		texts = cf_palloc_huge_array(char *, Max(n, 1));
	for (int32 i = 0; i < n; i++)
	{
		remap[order[i]] = i;
		sorted[i] = list->ids[order[i]];
		if (texts)
		{
			texts[i] = list->texts[order[i]];
			if (i > 0 && sorted[i] == sorted[i - 1])
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("ids \"%s\" and \"%s\" have the same 64-bit id", texts[i - 1], texts[i]),
						 errdetail("cf knows ids that are not integers by a 64-bit hash of their text; these two collide."),
						 errhint("Map one of them to another id in a view.")));
		}
	}
	pfree(order);
	pfree(list->ids);
	list->ids = sorted;
	if (texts)
	{
		pfree(list->texts);
		list->texts = texts;
	}
	return remap;
}

/* A rating's sort key within its user: see sort_keys. */
static inline uint64
rating_key(int32 item, float rating)
{
	union
	{
		float		f;
		uint32		u;
	}			v;

	v.f = rating;
	/* negative floats: all bits flipped; others: the sign bit set */
	v.u = (v.u & 0x80000000) ? ~v.u : (v.u | 0x80000000);
	return ((uint64) (uint32) item << 32) | v.u;
}

/* The rating of a sort key (inverse of rating_key's low half). */
static inline float
key_rating(uint64 key)
{
	union
	{
		float		f;
		uint32		u;
	}			v;

	v.u = (uint32) key;
	v.u = (v.u & 0x80000000) ? (v.u & 0x7FFFFFFF) : ~v.u;
	return v.f;
}

/*
 * Sorting one user's keys.  Long runs (heavy users) get a least significant
 * digit radix sort on the item half, after which only the ratings of a
 * repeated item may be out of order (each such run is sorted by sort_keys);
 * short runs, and runs over RADIX_MAX (which bounds the radix buffer at
 * 8 MB), get sort_keys.  Comparison sorts spend most of their time on
 * mispredicted branches here: a heavy user's thousands of ratings cost
 * about log2(n) of them each, the radix sort a few passes over data that
 * stays in cache.
 */
typedef struct RadixSort
{
	int			passes;			/* digits in an item index */
	int			bits;			/* bits per digit */
	uint64	   *tmp;			/* room for the longest run it sorts, or NULL */
} RadixSort;

/* Plan the digits for nitems items; a buffer if any user has a long run. */
static void
radix_init(RadixSort *rs, int32 nitems, const int64 *start, int32 nusers)
{
	int			width = 1;
	int64		longest = 0;

	while (width < 31 && ((int64) 1 << width) < nitems)
		width++;
	rs->passes = (width + RADIX_MAX_BITS - 1) / RADIX_MAX_BITS;
	rs->bits = (width + rs->passes - 1) / rs->passes;
	for (int32 u = 0; u < nusers; u++)
		longest = Max(longest, start[u + 1] - start[u]);
	longest = Min(longest, RADIX_MAX);
	rs->tmp = longest >= RADIX_MIN ?
		cf_palloc_huge_array(uint64, longest) : NULL;
}

/* Sort n keys of one user in place (see RadixSort). */
static void
sort_user_keys(RadixSort *rs, uint64 *keys, int64 n)
{
	uint32		count[1 << RADIX_MAX_BITS];
	uint32		mask = ((uint32) 1 << rs->bits) - 1;
	uint64	   *from = keys;
	uint64	   *to = rs->tmp;

	if (n < RADIX_MIN || n > RADIX_MAX)
	{
		sort_keys(keys, n);
		return;
	}
	for (int p = 0; p < rs->passes; p++)
	{
		int			shift = 32 + p * rs->bits;
		uint32		sum = 0;
		uint64	   *swap;

		memset(count, 0, sizeof(uint32) * (mask + 1));
		for (int64 j = 0; j < n; j++)
			count[(from[j] >> shift) & mask]++;
		for (uint32 b = 0; b <= mask; b++)
		{
			uint32		c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (int64 j = 0; j < n; j++)
			to[count[(from[j] >> shift) & mask]++] = from[j];
		swap = from;
		from = to;
		to = swap;
	}
	if (from != keys)
		memcpy(keys, from, sizeof(uint64) * n);

	/* the ratings of each repeated item (a run of one key half) in order */
	for (int64 j = 0; j < n;)
	{
		int64		end = j + 1;

		while (end < n && (keys[end] >> 32) == (keys[j] >> 32))
			end++;
		if (end - j > 1)
			sort_keys(&keys[j], end - j);
		j = end;
	}
}

/*
 * Put the loaded ratings in canonical order: indices renumbered by id,
 * ratings sorted by (user, item, rating).  Fills the rest of *out.
 *
 * A counting sort by final user index scatters each rating's (item,
 * rating) key into its user's range; each range is then sorted as
 * integers and decoded, in order, over the unsorted array.
 */
static void
sort_canonical(LoadState *st, CfRatings *out)
{
	int64		n = st->n;
	int32		nusers = st->users.n;
	int32	   *uremap = renumber(&st->users);
	int32	   *iremap = renumber(&st->items);
	int64	   *start = cf_palloc0_huge_array(int64, nusers + 1);
	int64	   *next;
	uint64	   *keys = cf_palloc_huge_array(uint64, n);
	CfRating   *sorted;
	RadixSort	radix;
	double		sum = 0;

	/* counting sort by final user index, remapping items on the way */
	for (int64 j = 0; j < n; j++)
		start[uremap[st->r[j].user] + 1]++;
	for (int32 u = 0; u < nusers; u++)
		start[u + 1] += start[u];
	next = cf_palloc_huge_array(int64, nusers);
	memcpy(next, start, nusers * sizeof(int64));
	for (int64 j = 0; j < n; j++)
	{
		int32		u = uremap[st->r[j].user];

		keys[next[u]++] = rating_key(iremap[st->r[j].item], st->r[j].rating);
		if ((j & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(next);
	pfree(uremap);
	pfree(iremap);

	/*
	 * Each user's ratings by (item, rating), then the totals in that order.
	 * The sorted ratings go where the unsorted ones were: those pages are
	 * already mapped (the room the row estimate left over is given back).
	 */
	sorted = st->cap > n ? repalloc_huge(st->r, cf_mul_size(n, sizeof(CfRating))) : st->r;
	st->r = NULL;
	radix_init(&radix, st->items.n, start, nusers);
	out->min = out->max = key_rating(keys[0]);
	for (int32 u = 0; u < nusers; u++)
	{
		sort_user_keys(&radix, &keys[start[u]], start[u + 1] - start[u]);
		for (int64 j = start[u]; j < start[u + 1]; j++)
		{
			float		rating = key_rating(keys[j]);

			sorted[j].user = u;
			sorted[j].item = (int32) (keys[j] >> 32);
			sorted[j].rating = rating;
			sum += rating;
			out->min = Min(out->min, rating);
			out->max = Max(out->max, rating);
		}
		if ((u & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(keys);
	if (radix.tmp)
		pfree(radix.tmp);

	out->n = n;
	out->nusers = nusers;
	out->nitems = st->items.n;
	out->r = sorted;
	out->user_start = start;
	out->user_ids = st->users.ids;
	out->item_ids = st->items.ids;
	out->user_keys = st->users.texts;
	out->item_keys = st->items.texts;
	out->key_bytes = st->users.key_bytes + st->items.key_bytes;
	out->mean = sum / n;
	out->skipped = st->skipped;
}

/*
 * Run "SELECT user, item, rating FROM source [filter]" as the calling user
 * with the given parameters, streaming the rows into *st; expected sizes the
 * arrays.
 */
static void
load_query(LoadState *st, const CfSource *src, const char *filter,
		   ParamListInfo params, int64 expected, bool read_only)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIExecuteOptions options;
	StringInfoData sql;
	int			ret;

	memset(st, 0, sizeof(*st));
	cf_init_receiver(&st->pub, load_receive);
	st->cxt = cxt;
	st->src = src;
	st->user_type = src->user_type;
	st->item_type = src->item_type;
	/* numeric ratings are cast to float8 by the query */
	st->rating_type = src->rating_type == NUMERICOID ? FLOAT8OID : src->rating_type;

	idlist_init(&st->users, cxt, expected / 16, &src->user_ids);
	idlist_init(&st->items, cxt, expected / 64, &src->item_ids);
	if (expected > 0)
	{
		cf_check_memory(cf_ratings_bytes(expected, 0, 0), "loading the ratings");
		st->cap = expected + expected / 16;
		st->r = MemoryContextAllocHuge(cxt, cf_mul_size(st->cap, sizeof(CfRating)));
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s, %s, %s%s FROM %s%s",
					 quote_identifier(src->user_column),
					 quote_identifier(src->item_column),
					 src->rating_column ? quote_identifier(src->rating_column) : "1",
					 src->rating_type == NUMERICOID ? "::pg_catalog.float8" : "",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(src->relid)),
												get_rel_name(src->relid)),
					 filter ? filter : "");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = read_only;
	options.dest = &st->pub;
	ret = SPI_execute_extended(sql.data, &options);
	/* SPI reports a SELECT into a DestNone receiver as SPI_OK_UTILITY */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading the ratings failed: %s", SPI_result_code_string(ret));
	SPI_finish();
	pfree(sql.data);

	idlist_free_maps(&st->users);
	idlist_free_maps(&st->items);
}

/* The whole source, read-only or not; error if it has no ratings. */
static void
load_all(const CfSource *src, CfRatings *out, bool read_only)
{
	LoadState	st;

	load_query(&st, src, NULL, NULL, estimated_rows(src->relid), read_only);
	if (st.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no ratings", get_rel_name(src->relid)),
				 st.skipped > 0 ?
				 errdetail("All %lld rows have a NULL user, item or rating.",
						   (long long) st.skipped) : 0));
	sort_canonical(&st, out);
}

/* Read a checked source as the calling user into *out, in CurrentMemoryContext. */
void
cf_load_ratings(const CfSource *src, CfRatings *out)
{
	load_all(src, out, false);
}

/*
 * The same, read-only in the current snapshot: for STABLE functions
 * (cf_evaluate), which must not see changes made after they started.
 */
void
cf_load_ratings_readonly(const CfSource *src, CfRatings *out)
{
	load_all(src, out, true);
}

/*
 * The ratings of some users only (cf_refresh_users): like cf_load_ratings,
 * with "WHERE user_column = ANY ($1)" (the ids passed as a parameter), and
 * no rows is not an error (out->n = 0 then).
 */
void
cf_load_user_ratings(const CfSource *src, Datum user_ids, CfRatings *out)
{
	LoadState	st;
	ParamListInfo params;
	char	   *filter;

	filter = psprintf(" WHERE %s OPERATOR(pg_catalog.=) ANY ($1)",
					  quote_identifier(src->user_column));
	params = makeParamList(1);
	params->numParams = 1;
	params->params[0].value = user_ids;
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = src->user_ids.integer ? INT8ARRAYOID : get_array_type(src->user_type);

	load_query(&st, src, filter, params, 0, false);
	pfree(filter);
	if (st.n == 0)
	{
		memset(out, 0, sizeof(*out));
		out->skipped = st.skipped;
		return;
	}
	sort_canonical(&st, out);
}

/*
 * Whether relid is a table Citus distributes by hash: a row of Citus's
 * pg_dist_partition with partmethod 'h' (false when Citus is not installed
 * in this database).  Reading such a table brings every row to this node.
 */
bool
cf_citus_distributed(Oid relid)
{
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	bool		found;

	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition"
							  " WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
							  " AND partmethod OPERATOR(pg_catalog.=) 'h'",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading pg_dist_partition failed");
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}
