/*-------------------------------------------------------------------------
 *
 * ids.h
 *	  User and item ids of any hashable type: what a model's ids are, their
 *	  canonical text, and the 64-bit ids cf works with inside.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_IDS_H
#define CF_IDS_H

#include "common/hashfn.h"
#include "fmgr.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * What one side's ids are.  Integer ids (smallint, integer, bigint) are
 * their own 64-bit ids, stored as bigint.  Ids of any other type with a
 * default btree and hash operator class ("typed" ids) are known inside by
 * a 64-bit hash of their canonical text (cf_text_id) and stored with that
 * text as their key.
 */
typedef struct CfIdType
{
	Oid			type;			/* INT8OID for integer ids, else the base type */
	bool		integer;
	int16		typlen;
	bool		typbyval;
	bool		trim;			/* numeric: trailing zeros trimmed first */
	bool		pinned;			/* text form depends on settings: pin them */
	Oid			collation;
	Oid			ioparam;
	FmgrInfo	input;
	FmgrInfo	output;
} CfIdType;

/*
 * Describe ids of a column type (role "user" or "item"); error unless cf
 * can key models by it.  what names the column or the model in errors.
 */
extern void cf_id_type(CfIdType *t, Oid type, Oid collation, const char *role,
					   const char *what);

/* Whether a type keys models by integer ids. */
extern bool cf_is_integer_id_type(Oid type);

/*
 * The value with equal values made identical (numeric: trailing zeros
 * trimmed), detoasted; inline for the loader's common cases.
 */
extern Datum cf_key_canonical_slow(const CfIdType *t, Datum value);

static inline Datum
cf_key_canonical(const CfIdType *t, Datum value)
{
	if (t->trim ||
		(t->typlen == -1 && VARATT_IS_EXTENDED(DatumGetPointer(value)) &&
		 !VARATT_IS_SHORT(DatumGetPointer(value))))
		return cf_key_canonical_slow(t, value);
	return value;
}

/*
 * A canonical value's bytes (by-value types: the value as 8 little-endian
 * bytes in buf).  Inline: the loader calls it for every row.
 */
static inline const unsigned char *
cf_key_bytes(const CfIdType *t, Datum value, size_t *len, unsigned char *buf)
{
	if (t->typbyval)
	{
		uint64		v;

		switch (t->typlen)
		{
			case 1:
				v = (uint64) (int64) DatumGetChar(value);
				break;
			case 2:
				v = (uint64) (int64) DatumGetInt16(value);
				break;
			case 4:
				v = (uint64) (int64) DatumGetInt32(value);
				break;
			default:
				v = (uint64) DatumGetInt64(value);
				break;
		}
		for (int b = 0; b < 8; b++)
			buf[b] = (unsigned char) (v >> (8 * b));
		*len = 8;
		return buf;
	}
	if (t->typlen == -1)
	{
		*len = VARSIZE_ANY_EXHDR(DatumGetPointer(value));
		return (const unsigned char *) VARDATA_ANY(DatumGetPointer(value));
	}
	if (t->typlen == -2)
	{
		*len = strlen(DatumGetCString(value));
		return (const unsigned char *) DatumGetCString(value);
	}
	*len = t->typlen;
	return (const unsigned char *) DatumGetPointer(value);
}

/*
 * A short image (at most 16 bytes) as two words that together hold every
 * byte: overlapping loads from both ends, so equal images give equal words
 * and different images of one length different ones.
 */
static inline void
cf_key_words(const unsigned char *p, size_t len, uint64 *a, uint64 *b)
{
	uint32		a4;
	uint32		b4;

	if (len >= 8)
	{
		memcpy(a, p, 8);
		memcpy(b, p + len - 8, 8);
	}
	else if (len >= 4)
	{
		memcpy(&a4, p, 4);
		memcpy(&b4, p + len - 4, 4);
		*a = a4;
		*b = b4;
	}
	else
	{
		*a = 0;
		for (size_t i = 0; i < len; i++)
			*a |= (uint64) p[i] << (8 * i);
		*b = 0;
	}
}

/* 32-bit hash of a short image's words (cf_key_words) and length. */
static inline uint32
cf_key_words_hash(uint64 a, uint64 b, size_t len)
{
	uint64		h;

	h = (a * UINT64CONST(0x9e3779b97f4a7c15)) ^ ((b + len) * UINT64CONST(0xc2b2ae3d27d4eb4f));
	h ^= h >> 32;
	h *= UINT64CONST(0xd6e8feb86659fd93);
	return (uint32) (h >> 32);
}

/* Whether two canonical values are the same. */
static inline bool
cf_key_image_eq(const CfIdType *t, Datum a, Datum b)
{
	unsigned char abuf[8];
	unsigned char bbuf[8];
	size_t		alen;
	size_t		blen;
	const unsigned char *pa = cf_key_bytes(t, a, &alen, abuf);
	const unsigned char *pb = cf_key_bytes(t, b, &blen, bbuf);

	if (alen != blen)
		return false;
	if (alen <= 16)
	{
		uint64		a1,
					a2,
					b1,
					b2;

		cf_key_words(pa, alen, &a1, &a2);
		cf_key_words(pb, blen, &b1, &b2);
		return a1 == b1 && a2 == b2;
	}
	return memcmp(pa, pb, alen) == 0;
}

/*
 * Pin the settings text forms depend on (DateStyle, IntervalStyle,
 * TimeZone, lc_monetary) to cf's canonical ones; returns the level for
 * cf_unpin_settings.
 */
extern int	cf_pin_settings(void);
extern void cf_unpin_settings(int level);

/* The canonical text of a typed id (palloc'd). */
extern char *cf_key_text(const CfIdType *t, Datum value);

/* The canonical texts of n typed ids, settings pinned once. */
extern void cf_key_texts(const CfIdType *t, const Datum *values, int32 n, char **out);

/* The 64-bit id of a typed id's canonical text: the same on every machine. */
extern int64 cf_text_id(const char *text, size_t len);

/*
 * An id argument of a scoring function (argument argno, of any type the
 * SQL declarations allow) as the 64-bit id of a model whose ids of this
 * side are of type model_type: error 42804 naming the model's type if the
 * argument cannot be one of its ids.
 */
extern int64 cf_id_arg(FunctionCallInfo fcinfo, int argno, Oid model_type,
					   const char *model, const char *role);

/*
 * The 64-bit id an id argument has if it is of the model's own type (the
 * call's first guess, before the model's type is known): integer
 * arguments are themselves, others the id of their own canonical text.
 */
extern int64 cf_id_arg_guess(FunctionCallInfo fcinfo, int argno);

/*
 * An array argument of ids (a NULL element is an error) as 64-bit ids of a
 * model's side; returns how many, the ids in *ids (palloc'd).
 */
extern int	cf_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
							Oid model_type, const char *model, const char *role,
							int64 **ids);

/* The same, with each typed id's canonical text in *keys (NULL for integers). */
extern int	cf_id_array_arg_keys(FunctionCallInfo fcinfo, int argno, const char *argname,
								 Oid model_type, const char *model, const char *role,
								 int64 **ids, char ***keys);

/*
 * An id for a result column of type result_type: id itself (bigint, or
 * text of an integer id), or the key (the canonical text a typed id is
 * stored with) as text or read as the column's type.  Error if a bigint
 * column would have to hold a typed id.
 */
extern Datum cf_id_result(Oid result_type, Oid model_type, int64 id, const char *key,
						  const char *model, const char *role);

/* Error unless a result column of type result_type can hold a model's ids. */
extern void cf_check_id_result(Oid result_type, Oid model_type, const char *model,
							   const char *role);

/* Error unless a model's stored id type is one cf can read (owners can edit it). */
extern void cf_check_model_id_type(Oid type, const char *model, const char *role);

/* An id argument as text, for messages. */
extern char *cf_id_arg_text(FunctionCallInfo fcinfo, int argno);

/* An id argument as a value of the model's id type (integers: bigint). */
extern Datum cf_id_arg_value(FunctionCallInfo fcinfo, int argno, Oid model_type,
							 const char *model, const char *role);

/* A one-element array of a value of an id type (integers: bigint[]). */
extern Datum cf_id_value_array(Datum value, Oid type);

/* Sort ids (and their keys, if not NULL) by id, each once; returns how many. */
extern int	cf_sort_unique_ids(int64 *ids, char **keys, int n);

/* An array of the model's id type holding ids (integers) or keys (typed ids). */
extern Datum cf_id_values_array(Oid model_type, const int64 *ids, char **keys, int n);

/* A bigint[] of 64-bit ids. */
extern Datum cf_int8_array(const int64 *ids, int n);

/*
 * cf_lookup for the user argument argno names: the model's row and the
 * user's; the user's 64-bit id in *user_id.
 */
struct CfModelInfo;
struct CfUserRow;
extern bool cf_lookup_user_arg(Oid nsp, const char *name, struct CfModelInfo *info,
							   int part, FunctionCallInfo fcinfo, int argno,
							   int64 *user_id, struct CfUserRow *user);

/* Error unless ids of type t (a relation's column) are ids of a model's side. */
extern void cf_check_same_ids(const CfIdType *t, Oid model_type, const char *model,
							  const char *role, const char *column);

#endif							/* CF_IDS_H */
