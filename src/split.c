/*-------------------------------------------------------------------------
 *
 * split.c
 *	  Reproducible train/test splits.
 *
 * Every split in cf is a function of the (user id, item id) pair and a
 * seed, through one hash defined here with 64-bit integer arithmetic only
 * (no random(), no platform hash), so the same seed gives the same split on
 * any machine and in any language:
 *
 *		mix(z) = splitmix64's finalizer (Steele, Lea & Flood, "Fast
 *		         Splittable Pseudorandom Number Generators", OOPSLA 2014;
 *		         the constants of Vigna's splitmix64.c):
 *		           z += 0x9e3779b97f4a7c15
 *		           z  = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *		           z  = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *		           z  =  z ^ (z >> 31)
 *		h(u, i, s) = mix(mix(mix(s) ^ u) ^ i)          (all mod 2^64)
 *		value      = (h >> 11) / 2^53                   (exact, in [0, 1))
 *
 * A pair's rows all fall on the same side (duplicates never straddle a
 * split).  Built on it:
 *
 *	- cf_split_random(u, i, fraction, seed): value < fraction; a row
 *	  predicate for CREATE TABLE ... AS SELECT ... WHERE.
 *	- cf_split(source, method, ...): per-user splits ('user': a fraction or
 *	  k of each user's items, those of lowest value; 'time': each user's
 *	  latest) and 'random', as (user_id, item_id, test) rows to join.
 *	- cf_split_validation(u, i, fraction, seed): cf_train's validation set,
 *	  h(u, i, seed XOR "validate") < fraction.
 *	- cf_split_fold(u, i, folds, seed): floor(h(u, i, seed XOR "foldfold")
 *	  * folds), the fold of a cross-validation (cf_cross_validate's).
 *	- cf_split_ratings(): the same holdouts on ratings already loaded, for
 *	  cf_train's validation set and cf_cross_validate's folds.
 *
 * The salts (split.h) make the three kinds independent: with one seed, a
 * validation set or a fold drawn from a training table made by
 * cf_split_random is a fair sample of it, not empty or everything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ids.h"
#include "load.h"
#include "split.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_split_hash);
PG_FUNCTION_INFO_V1(cf_split_random);
PG_FUNCTION_INFO_V1(cf_split_validation);
PG_FUNCTION_INFO_V1(cf_split_fold);
PG_FUNCTION_INFO_V1(cf_split);

#define MAX_FOLDS 1000

/* splitmix64's finalizer (with its increment). */
static inline uint64
mix64(uint64 z)
{
	z += UINT64CONST(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The split value of a pair under a seed, in [0, 1). */
double
cf_split_value(int64 user_id, int64 item_id, int64 seed)
{
	uint64		h = mix64(mix64(mix64((uint64) seed) ^ (uint64) user_id) ^ (uint64) item_id);

	return (double) (h >> 11) * (1.0 / 9007199254740992.0);	/* 2^-53 */
}

/* The fold of a split value among `folds` (the same expression as in SQL). */
static inline int
fold_of(double value, int folds)
{
	return (int) floor(value * folds);
}

/* Whether the rating of a (user, item) pair is held out. */
bool
cf_held_out(const CfHoldout *h, int64 user_id, int64 item_id)
{
	double		v = cf_split_value(user_id, item_id, h->seed);

	if (h->folds > 0)
		return fold_of(v, h->folds) == h->fold;
	return v < h->fraction;
}

/* The holdout of cf_train's validation set. */
CfHoldout
cf_validation_holdout(int64 seed, double fraction)
{
	CfHoldout	h;

	memset(&h, 0, sizeof(h));
	h.seed = seed ^ CF_SALT_VALIDATION;
	h.fraction = fraction;
	return h;
}

/* The holdout of one fold of a cross-validation. */
CfHoldout
cf_fold_holdout(int64 seed, int folds, int fold)
{
	CfHoldout	h;

	memset(&h, 0, sizeof(h));
	h.seed = seed ^ CF_SALT_FOLD;
	h.folds = folds;
	h.fold = fold;
	return h;
}

/*
 * For each index of a sorted id array `from`, the index of the same id in
 * the sorted id array `to`, or -1.
 */
int32 *
cf_match_ids(const int64 *from, int32 nfrom, const int64 *to, int32 nto)
{
	int32	   *match = cf_palloc_huge_array(int32, nfrom);
	int32		t = 0;

	for (int32 f = 0; f < nfrom; f++)
	{
		while (t < nto && to[t] < from[f])
			t++;
		match[f] = (t < nto && to[t] == from[f]) ? t : -1;
	}
	return match;
}

/*
 * One side of a split: the ratings j of `all` with side[j] == which, as a
 * CfRatings of their own (indices renumbered in the same ascending order,
 * so the ratings stay sorted).
 */
static void
build_part(const CfRatings *all, const uint8 *side, uint8 which, CfRatings *out)
{
	int32	   *umap = cf_palloc_huge_array(int32, all->nusers);
	int32	   *imap = cf_palloc_huge_array(int32, all->nitems);
	int64		n = 0;
	int32		nusers = 0;
	int32		nitems = 0;
	double		sum = 0;
	int64		k = 0;

	memset(umap, -1, sizeof(int32) * Max(all->nusers, 1));
	memset(imap, -1, sizeof(int32) * Max(all->nitems, 1));
	for (int64 j = 0; j < all->n; j++)
		if (side[j] == which)
		{
			n++;
			umap[all->r[j].user] = 0;
			imap[all->r[j].item] = 0;
		}
	for (int32 u = 0; u < all->nusers; u++)
		if (umap[u] == 0)
			umap[u] = nusers++;
	for (int32 i = 0; i < all->nitems; i++)
		if (imap[i] == 0)
			imap[i] = nitems++;

	memset(out, 0, sizeof(CfRatings));
	out->n = n;
	out->nusers = nusers;
	out->nitems = nitems;
	out->r = cf_palloc_huge_array(CfRating, n);
	out->user_start = cf_palloc_huge_array(int64, nusers + 1);
	out->user_ids = cf_palloc_huge_array(int64, nusers);
	out->item_ids = cf_palloc_huge_array(int64, nitems);
	if (all->user_keys)
		out->user_keys = cf_palloc_huge_array(char *, Max(nusers, 1));
	if (all->item_keys)
		out->item_keys = cf_palloc_huge_array(char *, Max(nitems, 1));
	for (int32 u = 0; u < all->nusers; u++)
		if (umap[u] >= 0)
		{
			out->user_ids[umap[u]] = all->user_ids[u];
			if (all->user_keys)
				out->user_keys[umap[u]] = all->user_keys[u];
		}
	for (int32 i = 0; i < all->nitems; i++)
		if (imap[i] >= 0)
		{
			out->item_ids[imap[i]] = all->item_ids[i];
			if (all->item_keys)
				out->item_keys[imap[i]] = all->item_keys[i];
		}

	out->user_start[0] = 0;
	for (int32 u = 0; u < all->nusers; u++)
	{
		for (int64 j = all->user_start[u]; j < all->user_start[u + 1]; j++)
		{
			CfRating   *dst;

			if (side[j] != which)
				continue;
			dst = &out->r[k++];
			dst->user = umap[u];
			dst->item = imap[all->r[j].item];
			dst->rating = all->r[j].rating;
			sum += dst->rating;
			if (k == 1)
				out->min = out->max = dst->rating;
			out->min = Min(out->min, dst->rating);
			out->max = Max(out->max, dst->rating);
		}
		if (umap[u] >= 0)
			out->user_start[umap[u] + 1] = k;
		if ((u & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	out->mean = n > 0 ? sum / n : 0;
	pfree(umap);
	pfree(imap);
}

/* Split loaded ratings in two by a holdout (see split.h). */
void
cf_split_ratings(const CfRatings *all, const CfHoldout *h, CfRatings *kept, CfRatings *held)
{
	uint8	   *side = cf_palloc_huge_array(uint8, all->n);

	for (int64 j = 0; j < all->n; j++)
	{
		side[j] = cf_held_out(h, all->user_ids[all->r[j].user],
							  all->item_ids[all->r[j].item]) ? 1 : 0;
		if ((j & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	build_part(all, side, 0, kept);
	if (held)
		build_part(all, side, 1, held);
	pfree(side);
}

/*
 * SQL functions
 */

/* Error unless a fraction is within [0, 1]. */
static void
check_fraction(double fraction)
{
	cf_check_float_arg("fraction", fraction, 0, false, 1);
}

/*
 * cf_split_hash(user_id bigint, item_id bigint, seed bigint) RETURNS float8
 */
Datum
cf_split_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(cf_split_value(cf_id_arg_guess(fcinfo, 0), cf_id_arg_guess(fcinfo, 1), PG_GETARG_INT64(2)));
}

/*
 * cf_split_random(user_id bigint, item_id bigint, fraction float8,
 *				   seed bigint) RETURNS boolean: true for the test side
 */
Datum
cf_split_random(PG_FUNCTION_ARGS)
{
	double		fraction = PG_GETARG_FLOAT8(2);

	check_fraction(fraction);
	PG_RETURN_BOOL(cf_split_value(cf_id_arg_guess(fcinfo, 0), cf_id_arg_guess(fcinfo, 1),
								  PG_GETARG_INT64(3)) < fraction);
}

/*
 * cf_split_validation(user_id bigint, item_id bigint, fraction float8,
 *		seed bigint) RETURNS boolean: held out by cf_train(validation_fraction
 *		=> fraction, seed => seed)
 */
Datum
cf_split_validation(PG_FUNCTION_ARGS)
{
	double		fraction = PG_GETARG_FLOAT8(2);
	CfHoldout	h;

	check_fraction(fraction);
	h = cf_validation_holdout(PG_GETARG_INT64(3), fraction);
	PG_RETURN_BOOL(cf_held_out(&h, cf_id_arg_guess(fcinfo, 0), cf_id_arg_guess(fcinfo, 1)));
}

/*
 * cf_split_fold(user_id bigint, item_id bigint, folds int, seed bigint)
 *		RETURNS int: 0 .. folds - 1, the fold cf_cross_validate holds the pair
 *		out in
 */
Datum
cf_split_fold(PG_FUNCTION_ARGS)
{
	int32		folds = PG_GETARG_INT32(2);
	CfHoldout	h;

	cf_check_int_arg("folds", folds, 2, MAX_FOLDS);
	h = cf_fold_holdout(PG_GETARG_INT64(3), folds, 0);
	PG_RETURN_INT32(fold_of(cf_split_value(cf_id_arg_guess(fcinfo, 0), cf_id_arg_guess(fcinfo, 1), h.seed),
							folds));
}

/* Name argument as a C string; error if NULL. */
static const char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	cf_require_arg(fcinfo, argno, argname);
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/* Check a time column: a date, a timestamp or a number; error otherwise. */
static void
check_time_column(Oid relid, const char *colname)
{
	Oid			type = cf_column_type(relid, colname, "time");

	switch (type)
	{
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case DATEOID:
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
					 errmsg("time column \"%s\" has type %s, but must be a date, a timestamp or a number",
							colname, format_type_be(type))));
	}
}

/*
 * The SQL expression of an id column as a split hashes it: integers as
 * bigint, other ids as their canonical text, the type's output (numeric
 * trimmed; the settings text depends on are pinned while the query runs).
 */
static const char *
id_expression(const char *column, const CfIdType *ids)
{
	Oid			proc;
	bool		isvarlena;
	const char *value = quote_identifier(column);

	if (ids->integer)
		return psprintf("%s::pg_catalog.int8", value);
	if (ids->trim)
		value = psprintf("pg_catalog.trim_scale(%s)", value);
	/* the type's output function, as training reads the ids (a cast to text may differ: char(n)) */
	getTypeOutputInfo(ids->type, &proc, &isvarlena);
	return psprintf("pg_catalog.textin(%s(%s))",
					quote_qualified_identifier(get_namespace_name(get_func_namespace(proc)),
											   get_func_name(proc)),
					value);
}

/*
 * cf_split(source regclass, method text, fraction float8, k int,
 *			seed bigint, user_column name, item_column name,
 *			time_column name)
 *		RETURNS TABLE(user_id bigint, item_id bigint, test boolean)
 *
 * One row per distinct (user, item) pair of the source (rows with a NULL
 * user or item are left out), ordered by user and item.  The work is one
 * query, run as the caller through SPI and streamed into the result:
 *
 *	random: test = cf_split_hash(u, i, seed) < fraction
 *	user:   per user, the pairs ordered by (hash, item); the first t test
 *	time:   per user, the pairs ordered by (latest time desc, hash, item);
 *	        the first t test (pairs without a time last)
 *
 * where t = k, or round(fraction * n) for a user with n pairs, and at most
 * n - 1: a user always keeps a training rating.
 */
Datum
cf_split(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = cf_extension_schema(fcinfo);
	Oid			relid;
	char	   *method;
	double		fraction;
	bool		have_k = !PG_ARGISNULL(3);
	int32		k = 0;
	int64		seed;
	const char *ucol;
	CfIdType	uids;
	CfIdType	iids;
	bool		by_key;
	int			level;
	const char *icol;
	const char *tcol = NULL;
	const char *hash;
	const char *count;
	char	   *src;
	StringInfoData pairs;
	StringInfoData sql;
	ParamListInfo params;
	SPIExecuteOptions options;
	DestReceiver *dest;
	int			ret;

	cf_require_arg(fcinfo, 0, "source");
	cf_require_arg(fcinfo, 1, "method");
	cf_require_arg(fcinfo, 2, "fraction");
	cf_require_arg(fcinfo, 4, "seed");
	relid = PG_GETARG_OID(0);
	method = text_to_cstring(PG_GETARG_TEXT_PP(1));
	fraction = PG_GETARG_FLOAT8(2);
	seed = PG_GETARG_INT64(4);
	ucol = name_arg(fcinfo, 5, "user_column");
	icol = name_arg(fcinfo, 6, "item_column");
	if (!PG_ARGISNULL(7))
		tcol = pstrdup(NameStr(*PG_GETARG_NAME(7)));
	check_fraction(fraction);
	if (have_k)
	{
		k = PG_GETARG_INT32(3);
		cf_check_int_arg("k", k, 1, PG_INT32_MAX);
	}

	if (strcmp(method, "random") != 0 && strcmp(method, "user") != 0 &&
		strcmp(method, "time") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown split method \"%s\"", method),
				 errhint("The methods are: random, user, time.")));
	if (strcmp(method, "random") == 0 && have_k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split method \"random\" takes a fraction, not k"),
				 errhint("Use method \"user\" to hold out k ratings of each user.")));
	if (strcmp(method, "time") == 0 && tcol == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split method \"time\" needs a time column"),
				 errhint("Name it with the time_column argument.")));
	if (strcmp(method, "time") != 0 && tcol != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split method \"%s\" does not use a time column", method),
				 errhint("Use method \"time\" to hold out each user's latest ratings.")));

	cf_check_relation(relid);
	(void) cf_check_id_column(relid, ucol, "user", &uids);
	(void) cf_check_id_column(relid, icol, "item", &iids);
	if (tcol)
		check_time_column(relid, tcol);

	InitMaterializedSRF(fcinfo, 0);
	by_key = TupleDescAttr(rsinfo->setDesc, 0)->atttypid == TEXTOID;
	if (!by_key && (!uids.integer || !iids.integer))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cf_split returns bigint ids, and column \"%s\" has type %s",
						uids.integer ? icol : ucol,
						format_type_be(uids.integer ? iids.type : uids.type)),
				 errhint("Use cf_split_by_key, which returns the ids as text.")));

	/* the distinct pairs (with their latest time) */
	src = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									 get_rel_name(relid));
	hash = psprintf("%s(u, i, $1)", quote_qualified_identifier(get_namespace_name(nsp),
															   "cf_split_hash"));
	initStringInfo(&pairs);
	appendStringInfo(&pairs,
					 "SELECT %s AS u, %s AS i%s%s FROM %s"
					 " WHERE %s IS NOT NULL AND %s IS NOT NULL GROUP BY 1, 2",
					 id_expression(ucol, &uids), id_expression(icol, &iids),
					 tcol ? ", pg_catalog.max(" : "", tcol ? psprintf("%s) AS t", quote_identifier(tcol)) : "",
					 src, quote_identifier(ucol), quote_identifier(icol));

	initStringInfo(&sql);
	if (strcmp(method, "random") == 0)
		appendStringInfo(&sql,
						 "SELECT u%s, i%s, %s OPERATOR(pg_catalog.<) $2 FROM (%s) p ORDER BY u, i",
						 by_key ? "::pg_catalog.text" : "", by_key ? "::pg_catalog.text" : "",
						 hash, pairs.data);
	else
	{
		count = have_k ? "$3" :
			"pg_catalog.floor($2 OPERATOR(pg_catalog.*) n OPERATOR(pg_catalog.+) 0.5)::pg_catalog.int8";
		appendStringInfo(&sql,
						 "SELECT u%s, i%s, pos OPERATOR(pg_catalog.<=) LEAST(%s, n OPERATOR(pg_catalog.-) 1)"
						 " FROM (SELECT u, i, pg_catalog.row_number() OVER w AS pos,"
						 " pg_catalog.count(*) OVER (PARTITION BY u) AS n"
						 " FROM (SELECT p.*, %s AS h FROM (%s) p) q"
						 " WINDOW w AS (PARTITION BY u ORDER BY %sh, i)) r ORDER BY u, i",
						 by_key ? "::pg_catalog.text" : "", by_key ? "::pg_catalog.text" : "",
						 count, hash, pairs.data, tcol ? "t DESC NULLS LAST, " : "");
	}

	params = makeParamList(3);
	params->numParams = 3;
	params->params[0].value = Int64GetDatum(seed);
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = INT8OID;
	params->params[1].value = Float8GetDatum(fraction);
	params->params[1].isnull = false;
	params->params[1].pflags = PARAM_FLAG_CONST;
	params->params[1].ptype = FLOAT8OID;
	params->params[2].value = Int64GetDatum((int64) k);
	params->params[2].isnull = false;
	params->params[2].pflags = PARAM_FLAG_CONST;
	params->params[2].ptype = INT8OID;

	/* rows go straight into the result's tuplestore */
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory,
									false, NULL, NULL);

	/* typed ids' text as training reads it: the settings it depends on pinned */
	level = cf_pin_settings();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = dest;
	ret = SPI_execute_extended(sql.data, &options);
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "splitting \"%s\" failed: %s", get_rel_name(relid),
			 SPI_result_code_string(ret));
	SPI_finish();
	cf_unpin_settings(level);
	dest->rDestroy(dest);
	return (Datum) 0;
}
