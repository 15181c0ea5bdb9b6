/*-------------------------------------------------------------------------
 *
 * ids.c
 *	  User and item ids of any hashable type.
 *
 * Integer ids (smallint, integer, bigint) are what cf always worked with:
 * 64-bit ids, stored as bigint.  Ids of any other type with a default
 * btree and hash operator class whose equal values are identical (text,
 * varchar, uuid, date, ...; numeric once trailing zeros are trimmed) are
 * "typed": each has a canonical text, the type's output with the settings
 * that change it pinned (DateStyle, TimeZone, IntervalStyle, lc_monetary),
 * and inside cf it is known by a 64-bit hash of that text (cf_text_id).
 * The hash is the id the loader, the splits, training, the model tables
 * (user_id, item_id) and the factor cache use, so every path that worked
 * for integers works for typed ids unchanged; the text is stored beside it
 * (user_key, item_key) and is what the SQL functions take and return.
 * Two distinct ids of one training with the same hash are an error, never
 * merged.
 *
 * The hash reads bytes only, in a fixed order, so a typed id's 64-bit id
 * (and with it every split) is the same on every machine, and the order of
 * a model's users and items (by 64-bit id) does not depend on a collation
 * or its library version.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

#include "ids.h"
#include "model.h"
#include "util.h"

/* The murmur3 64-bit finalizer. */
static inline uint64
mix64(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* Eight bytes as a little-endian integer, whatever the machine's order. */
static inline uint64
load_le64(const unsigned char *p, size_t n)
{
	uint64		w = 0;

	for (size_t b = 0; b < n; b++)
		w |= (uint64) p[b] << (8 * b);
	return w;
}

/* The 64-bit id of a typed id's canonical text: the same on every machine. */
int64
cf_text_id(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *) text;
	uint64		h = UINT64CONST(0x9e3779b97f4a7c15) ^ ((uint64) len * UINT64CONST(0xc2b2ae3d27d4eb4f));
	size_t		i = 0;

	for (; i + 8 <= len; i += 8)
		h = (h ^ mix64(load_le64(p + i, 8))) * UINT64CONST(0x9e3779b97f4a7c15) +
			UINT64CONST(0x165667b19e3779f9);
	if (i < len)
		h = (h ^ mix64(load_le64(p + i, len - i) ^ UINT64CONST(0x27d4eb2f165667c5))) *
			UINT64CONST(0x9e3779b97f4a7c15);
	return (int64) mix64(h);
}

/* Whether a type keys models by integer ids. */
bool
cf_is_integer_id_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* Whether equal values of a type (under a collation) are always identical. */
static bool
equal_means_identical(TypeCacheEntry *tce, Oid collation)
{
	Oid			proc = get_opfamily_proc(tce->btree_opf, tce->btree_opintype,
										 tce->btree_opintype, BTEQUALIMAGE_PROC);

	if (!OidIsValid(proc))
		return false;
	return DatumGetBool(OidFunctionCall1Coll(proc, collation,
											 ObjectIdGetDatum(tce->btree_opintype)));
}

/*
 * Describe ids of a column type (role "user" or "item"); error unless cf
 * can key models by it.  what names the column or the model in errors.
 */
void
cf_id_type(CfIdType *t, Oid type, Oid collation, const char *role, const char *what)
{
	TypeCacheEntry *tce;
	Oid			proc;
	bool		isvarlena;
	char		category;
	bool		preferred;

	memset(t, 0, sizeof(*t));
	if (cf_is_integer_id_type(type))
	{
		t->type = INT8OID;
		t->integer = true;
		t->typlen = sizeof(int64);
		t->typbyval = FLOAT8PASSBYVAL;
		return;
	}
	t->type = type;
	if (type_is_collatable(type) && !OidIsValid(collation))
		collation = DEFAULT_COLLATION_OID;
	t->collation = type_is_collatable(type) ? collation : InvalidOid;

	tce = lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY | TYPECACHE_HASH_PROC);
	if (!OidIsValid(tce->btree_opf) || !OidIsValid(tce->hash_proc) ||
		get_typtype(type) == TYPTYPE_PSEUDO)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s ids of %s have type %s, which cannot identify them",
						role, what, format_type_be(type)),
				 errdetail("Ids need a type with a default btree and a default hash operator class."),
				 errhint("Cast the column in a view, for example to text.")));
	t->trim = (type == NUMERICOID);
	if (!t->trim && !equal_means_identical(tce, t->collation))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s ids of %s have type %s, whose equal values can differ",
						role, what, format_type_be(type)),
				 errdetail("Values the type (or its collation) counts as equal can be stored differently, so cf could not tell one id from two."),
				 errhint("Cast the column in a view, for example to text, bigint or numeric.")));

	get_typlenbyval(type, &t->typlen, &t->typbyval);
	get_type_category_preferred(type, &category, &preferred);
	t->pinned = (category == TYPCATEGORY_DATETIME || category == TYPCATEGORY_TIMESPAN ||
				 type == CASHOID);
	getTypeInputInfo(type, &proc, &t->ioparam);
	fmgr_info(proc, &t->input);
	getTypeOutputInfo(type, &proc, &isvarlena);
	fmgr_info(proc, &t->output);
}

/*
 * The serving functions' id types, described once per backend: a few
 * entries (a call uses at most two types), their function lookups in
 * TopMemoryContext.  Whether a type can key a model does not change.
 */
#define TYPE_CACHE_SIZE 8
static CfIdType type_cache[TYPE_CACHE_SIZE];
static int	type_cache_used = 0;
static int	type_cache_next = 0;

/* The description of a model's id type (cached); errors name the model. */
static const CfIdType *
model_id_type(Oid type, const char *role, const char *model)
{
	static const CfIdType integer = {.type = INT8OID, .integer = true,
	.typlen = sizeof(int64), .typbyval = FLOAT8PASSBYVAL};
	MemoryContext oldcxt;
	CfIdType	t;
	char	   *what;
	int			slot;

	if (cf_is_integer_id_type(type))
		return &integer;
	for (int j = 0; j < type_cache_used; j++)
		if (type_cache[j].type == type)
			return &type_cache[j];
	what = psprintf("model \"%s\"", model);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	cf_id_type(&t, type, InvalidOid, role, what);
	MemoryContextSwitchTo(oldcxt);
	pfree(what);
	if (type_cache_used < TYPE_CACHE_SIZE)
		slot = type_cache_used++;
	else
	{
		slot = type_cache_next;
		type_cache_next = (type_cache_next + 1) % TYPE_CACHE_SIZE;
	}
	type_cache[slot] = t;
	return &type_cache[slot];
}

/* Error unless a model's stored id type is one cf can read (owners can edit it). */
void
cf_check_model_id_type(Oid type, const char *model, const char *role)
{
	(void) model_id_type(type, role, model);
}

/* The value with equal values made identical (numeric: trailing zeros trimmed). */
Datum
cf_key_canonical_slow(const CfIdType *t, Datum value)
{
	if (t->trim)
		return DirectFunctionCall1(numeric_trim_scale, value);
	if (t->typlen == -1)
		return PointerGetDatum(PG_DETOAST_DATUM_PACKED(value));
	return value;
}


/*
 * Pin the settings a type's text form depends on (until cf_unpin_settings
 * of the level returned, or the end of the transaction).
 */
int
cf_pin_settings(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("timezone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("lc_monetary", "C", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/* Restore the settings cf_pin_settings pinned. */
void
cf_unpin_settings(int level)
{
	AtEOXact_GUC(true, level);
}

/* The canonical texts of n typed ids, settings pinned once. */
void
cf_key_texts(const CfIdType *t, const Datum *values, int32 n, char **out)
{
	int			level = t->pinned ? cf_pin_settings() : 0;

	for (int32 i = 0; i < n; i++)
	{
		char	   *text = OutputFunctionCall((FmgrInfo *) &t->output,
											  cf_key_canonical(t, values[i]));

		/* (some output functions return a large buffer: uuid_out's is 1 kB) */
		out[i] = pstrdup(text);
		pfree(text);
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	if (t->pinned)
		cf_unpin_settings(level);
}

/* The canonical text of a typed id (palloc'd). */
char *
cf_key_text(const CfIdType *t, Datum value)
{
	char	   *text;

	cf_key_texts(t, &value, 1, &text);
	return text;
}

/* A typed id's value from its text (the type's input function). */
static Datum
cf_key_from_text(const CfIdType *t, const char *text)
{
	return InputFunctionCall((FmgrInfo *) &t->input, (char *) text, t->ioparam, -1);
}

/* The 64-bit id of a value (integer: itself). */
static int64
cf_key_id(const CfIdType *t, Datum value)
{
	char	   *text;
	int64		id;

	if (t->integer)
		return DatumGetInt64(value);
	text = cf_key_text(t, value);
	id = cf_text_id(text, strlen(text));
	pfree(text);
	return id;
}

/* The type of an argument as the call passes it (unknown literals: text). */
static Oid
arg_type(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);

	if (!OidIsValid(type))
		elog(ERROR, "could not determine the type of argument %d", argno + 1);
	return getBaseType(type);
}

/* The 64-bit id a value of its own type has (integers: themselves). */
static int64
own_id(Oid type, Datum value)
{
	switch (type)
	{
		case INT8OID:
			return DatumGetInt64(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT2OID:
			return DatumGetInt16(value);
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *s = DatumGetTextPP(value);

				return cf_text_id(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s));
			}
		default:
			return cf_key_id(model_id_type(type, "argument", "of the argument"), value);
	}
}

/* Whether a value of type argtype is already an id of a model's type. */
static bool
type_fits(Oid argtype, Oid model_type)
{
	if (cf_is_integer_id_type(argtype))
		return cf_is_integer_id_type(model_type);
	if (argtype == TEXTOID || argtype == VARCHAROID)
		return model_type == TEXTOID || model_type == VARCHAROID;
	return argtype == model_type;
}

/* The first guess: the argument's id if it is of the model's own type. */
int64
cf_id_arg_guess(FunctionCallInfo fcinfo, int argno)
{
	return own_id(arg_type(fcinfo, argno), PG_GETARG_DATUM(argno));
}

/* Whether cf_id_arg_guess's answer is right for a model of model_type. */
static bool
cf_id_arg_guess_fits(FunctionCallInfo fcinfo, int argno, Oid model_type)
{
	return type_fits(arg_type(fcinfo, argno), model_type);
}

/* Error: an id of type argtype cannot be one of the model's. */
static void
id_type_error(Oid argtype, Oid model_type, const char *model, const char *role)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("model \"%s\" has %s ids of type %s", model, role,
					cf_is_integer_id_type(model_type) ? "bigint" : format_type_be(model_type)),
			 errdetail("The %s id given is of type %s.", role, format_type_be(argtype)),
			 (model_type == TEXTOID || model_type == VARCHAROID) ?
			 errhint("Pass the id as text.") :
			 errhint("Pass the id as a %s, or as text.",
					 cf_is_integer_id_type(model_type) ? "bigint" : format_type_be(model_type))));
}

/* One id value of type argtype as an id of the model's side. */
static int64
value_id(Oid argtype, Datum value, Oid model_type, const CfIdType *t,
		 const char *model, const char *role)
{
	char	   *s;
	int64		id;

	if (type_fits(argtype, model_type))
		return own_id(argtype, value);
	if (argtype != TEXTOID && argtype != VARCHAROID && argtype != UNKNOWNOID)
		id_type_error(argtype, model_type, model, role);
	/* text: read as the model's type */
	s = argtype == UNKNOWNOID ? DatumGetCString(value) : TextDatumGetCString(value);
	if (t->integer)
		id = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(s)));
	else
		id = cf_key_id(t, cf_key_from_text(t, s));
	if (argtype != UNKNOWNOID)
		pfree(s);
	return id;
}

/*
 * An id argument of a scoring function as the 64-bit id of a model whose
 * ids of this side are of type model_type.
 */
int64
cf_id_arg(FunctionCallInfo fcinfo, int argno, Oid model_type, const char *model,
		  const char *role)
{
	Oid			argtype = arg_type(fcinfo, argno);

	if (type_fits(argtype, model_type))
		return own_id(argtype, PG_GETARG_DATUM(argno));
	return value_id(argtype, PG_GETARG_DATUM(argno), model_type,
					model_id_type(model_type, role, model), model, role);
}

/*
 * An array argument of ids as 64-bit ids of a model's side; returns how
 * many, the ids in *ids and, if keys is not NULL, for typed ids each one's
 * canonical text in *keys (else NULL there).
 */
int
cf_id_array_arg_keys(FunctionCallInfo fcinfo, int argno, const char *argname,
					 Oid model_type, const char *model, const char *role, int64 **ids,
					 char ***keys)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);
	Oid			elemtype = getBaseType(ARR_ELEMTYPE(a));
	bool		integer = cf_is_integer_id_type(model_type);
	const CfIdType *t;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *values;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"%s\" must be a one-dimensional array", argname),
				 errdetail("The array given has %d dimensions.", ARR_NDIM(a))));
	if (array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not contain nulls", argname)));
	t = model_id_type(model_type, role, model);
	get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
	deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign, &values, &nulls, &n);
	*ids = palloc(Max(n, 1) * sizeof(int64));
	if (keys)
		*keys = integer ? NULL : palloc(Max(n, 1) * sizeof(char *));
	for (int j = 0; j < n; j++)
	{
		if (keys && !integer)
		{
			Datum		v = (Datum) 0;

			/* the model's value, then its canonical text and the id of that */
			if (type_fits(elemtype, model_type) && elemtype != TEXTOID && elemtype != VARCHAROID)
				v = values[j];
			else if (elemtype == TEXTOID || elemtype == VARCHAROID)
				v = cf_key_from_text(t, TextDatumGetCString(values[j]));
			else
				id_type_error(elemtype, model_type, model, role);
			(*keys)[j] = cf_key_text(t, v);
			(*ids)[j] = cf_text_id((*keys)[j], strlen((*keys)[j]));
		}
		else
			(*ids)[j] = value_id(elemtype, values[j], model_type, t, model, role);
		if ((j & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(values);
	pfree(nulls);
	return n;
}

/*
 * An array argument of ids (NULL elements an error) as 64-bit ids of a
 * model's side; returns how many, the ids in *ids (palloc'd).
 */
int
cf_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
				Oid model_type, const char *model, const char *role, int64 **ids)
{
	return cf_id_array_arg_keys(fcinfo, argno, argname, model_type, model, role, ids, NULL);
}

/*
 * An id for a result column of type result_type: the id (bigint, or the
 * text of an integer id), or the key a typed id is stored with, as text or
 * read as the column's type.
 */
void
cf_check_id_result(Oid result_type, Oid model_type, const char *model, const char *role)
{
	bool		integer = cf_is_integer_id_type(model_type);

	if (result_type == INT8OID && !integer)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("model \"%s\" has %s ids of type %s, which this call would return as bigint",
						model, role, format_type_be(model_type)),
				 errhint("Use the form that returns ids as text: give the ids as text, or call the function's _by_key variant.")));
	if (integer && result_type != INT8OID && result_type != TEXTOID)
		id_type_error(INT8OID, result_type, model, role);
	if (!integer && result_type != TEXTOID && result_type != model_type)
		id_type_error(result_type, model_type, model, role);
}

Datum
cf_id_result(Oid result_type, Oid model_type, int64 id, const char *key,
			 const char *model, const char *role)
{
	bool		integer = cf_is_integer_id_type(model_type);

	if (result_type == INT8OID)
	{
		if (!integer)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("model \"%s\" has %s ids of type %s, which this call would return as bigint",
							model, role, format_type_be(model_type)),
					 errhint("Use the form that returns ids as text: give the ids as text, or call the function's _by_key variant.")));
		return Int64GetDatum(id);
	}
	if (integer)
	{
		if (result_type == TEXTOID)
			return CStringGetTextDatum(psprintf(INT64_FORMAT, id));
		id_type_error(INT8OID, result_type, model, role);
	}
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model \"%s\" has a %s without a key", model, role),
				 errdetail("The %s has id %lld.", role, (long long) id)));
	if (result_type == TEXTOID)
		return CStringGetTextDatum(key);
	if (result_type == UUIDOID)
		return DirectFunctionCall1(uuid_in, CStringGetDatum(key));
	{
		Oid			proc;
		Oid			ioparam;

		getTypeInputInfo(result_type, &proc, &ioparam);
		return OidInputFunctionCall(proc, (char *) key, ioparam, -1);
	}
}

/* A bigint[] of 64-bit ids. */
Datum
cf_int8_array(const int64 *ids, int n)
{
	Datum	   *d = palloc(Max(n, 1) * sizeof(Datum));
	ArrayType  *a;

	for (int j = 0; j < n; j++)
		d[j] = Int64GetDatum(ids[j]);
	a = construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(d);
	return PointerGetDatum(a);
}

/*
 * cf_lookup for the user an argument names: the model's row and the user's,
 * the user's 64-bit id in *user_id.  An argument of the model's own id type
 * takes one query; one the model reads as its type (text for a uuid, say)
 * a second.
 */
bool
cf_lookup_user_arg(Oid nsp, const char *name, CfModelInfo *info, int part,
				   FunctionCallInfo fcinfo, int argno, int64 *user_id, CfUserRow *user)
{
	int64		id = cf_id_arg_guess(fcinfo, argno);
	bool		found = cf_lookup(nsp, name, info, part, id, user);

	if (!cf_id_arg_guess_fits(fcinfo, argno, info->user_type))
	{
		id = cf_id_arg(fcinfo, argno, info->user_type, name, "user");
		found = cf_lookup(nsp, name, info, part, id, user);
	}
	*user_id = id;
	return found;
}

/* An id argument as text, for messages. */
char *
cf_id_arg_text(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = arg_type(fcinfo, argno);
	Oid			proc;
	bool		isvarlena;

	if (type == UNKNOWNOID)
		return pstrdup(DatumGetCString(PG_GETARG_DATUM(argno)));
	getTypeOutputInfo(type, &proc, &isvarlena);
	return OidOutputFunctionCall(proc, PG_GETARG_DATUM(argno));
}

/*
 * An id argument as a value of the model's id type (for reading the
 * model's source): integers as bigint.
 */
Datum
cf_id_arg_value(FunctionCallInfo fcinfo, int argno, Oid model_type, const char *model,
				const char *role)
{
	Oid			argtype = arg_type(fcinfo, argno);
	const CfIdType *t;

	if (type_fits(argtype, model_type))
		return PG_GETARG_DATUM(argno);
	if (argtype != TEXTOID && argtype != VARCHAROID && argtype != UNKNOWNOID)
		id_type_error(argtype, model_type, model, role);
	t = model_id_type(model_type, role, model);
	if (t->integer)
		return DirectFunctionCall1(int8in, CStringGetDatum(cf_id_arg_text(fcinfo, argno)));
	return cf_key_from_text(t, cf_id_arg_text(fcinfo, argno));
}

/* A one-element array of a value of an id type (integers: bigint[]). */
Datum
cf_id_value_array(Datum value, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (cf_is_integer_id_type(type))
		type = INT8OID;
	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(&value, 1, type, typlen, typbyval, typalign));
}


/*
 * Error unless ids read from a relation (of type t) are ids of a model's
 * side (of type model_type): integers of any width go with integers, text
 * with varchar, others only with their own type.
 */
void
cf_check_same_ids(const CfIdType *t, Oid model_type, const char *model, const char *role,
				  const char *column)
{
	if (type_fits(t->type, model_type))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("model \"%s\" has %s ids of type %s", model, role,
					cf_is_integer_id_type(model_type) ? "bigint" : format_type_be(model_type)),
			 errdetail("Column \"%s\" has type %s.", column, format_type_be(t->type)),
			 errhint("Cast the column in a view to the model's type.")));
}

/*
 * Sort n ids (with their keys, if keys is not NULL) by id and keep each
 * once; returns how many are left.
 */
int
cf_sort_unique_ids(int64 *ids, char **keys, int n)
{
	int32	   *order = palloc((n + 1) * sizeof(int32));
	int64	   *sorted = palloc((n + 1) * sizeof(int64));
	char	  **sorted_keys = keys ? palloc((n + 1) * sizeof(char *)) : NULL;
	int			m = 0;

	cf_order_by_key(order, n, ids, false);
	for (int j = 0; j < n; j++)
	{
		if (m > 0 && sorted[m - 1] == ids[order[j]])
			continue;
		sorted[m] = ids[order[j]];
		if (keys)
			sorted_keys[m] = keys[order[j]];
		m++;
	}
	memcpy(ids, sorted, m * sizeof(int64));
	if (keys)
		memcpy(keys, sorted_keys, m * sizeof(char *));
	pfree(order);
	pfree(sorted);
	if (sorted_keys)
		pfree(sorted_keys);
	return m;
}

/*
 * An array of the model's id type holding the ids (integers: bigint[] of
 * ids) or typed ids' keys read as that type: the filter on a source's rows.
 */
Datum
cf_id_values_array(Oid model_type, const int64 *ids, char **keys, int n)
{
	const CfIdType *t;
	Datum	   *d;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (cf_is_integer_id_type(model_type))
		return cf_int8_array(ids, n);
	t = model_id_type(model_type, "user", "the model");
	d = palloc(Max(n, 1) * sizeof(Datum));
	for (int j = 0; j < n; j++)
		d[j] = cf_key_from_text(t, keys[j]);
	get_typlenbyvalalign(model_type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(d, n, model_type, typlen, typbyval, typalign));
}
