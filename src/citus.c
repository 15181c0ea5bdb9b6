/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  cf_train where a Citus table's rows are.
 *
 * When the source is a Citus table distributed by its user column, ALS
 * (Zhou et al. 2008) and iALS (Hu, Koren & Volinsky 2008) -- the
 * half-steps of als.c -- run as SQL that Citus pushes down, and no rating
 * leaves its worker:
 *
 * - the items' first vectors sit in a temporary table on the coordinator,
 *   which Citus broadcasts to the workers with the statement that joins
 *   it (a distributed subplan: no reference table is written, so the
 *   statements keep running on all shards in parallel inside one
 *   transaction);
 * - user half-step: first one INSERT into the model's user table,
 *   distributed by user_id and co-located with the ratings, from
 *   cf_als_solve(cf_als_sums(...)) (iALS: cf_ials_solve of cf_ials_sums
 *   and the items' Gramian, a parameter) grouped by the distribution
 *   column, which also keeps each user's ratings as two arrays; then one
 *   UPDATE per iteration from those arrays and the items' ids and vectors,
 *   parameters, one cf_als_solve_rated (cf_ials_solve_rated) call per
 *   user: no join, no aggregate.  Each shard solves its own users;
 * - item half-step: cf_als_sums (cf_ials_sums) grouped by item, which
 *   Citus computes as partial aggregates on the shards and combines on the
 *   coordinator (iALS first sums the users' Gramian the same way); this
 *   backend reads the combined sums with a cursor, solves each item
 *   (partial.c, the solves of cf_als_solve and cf_ials_solve) and takes
 *   each item's share of the objective from the same sums, so the loss an
 *   iteration reports is the exact objective of the users and items it
 *   leaves;
 * - the users' share of the penalty is one more pushed-down aggregate,
 *   over the user table (its weight column: ratings, or amounts).
 *
 * The coordinator holds item-side state only: the items' vectors and,
 * while combining, one state per item.  The users' vectors stay in the
 * distributed table, which is the model's user storage (cf_models.
 * user_table); the items go to cf_item_factors as for any model.  All of
 * it is in the caller's transaction: Citus commits the workers' writes by
 * two-phase commit, so a failed worker or a cancel leaves the previous
 * model everywhere.  See docs/scale-out.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "citus.h"
#include "ids.h"
#include "partial.h"
#include "rows.h"
#include "util.h"

/* The coordinator's table of the iteration's items (a temporary table). */
#define ITEMS_TABLE "pg_temp.cf_training_items"

/* Bytes of item sums fetched from the cursor at a time (at most). */
#define FETCH_BYTES (1 << 20)

/* How a table is distributed: its column, co-location group and shards. */
typedef struct Distribution
{
	char	   *column;			/* NULL: not a hash-distributed table */
	int			colocation;
	int64		shards;
} Distribution;

/* What the statements of one training need. */
typedef struct Loop
{
	const char *source;			/* quoted qualified source */
	const char *u;				/* quoted columns */
	const char *i;
	const char *rating;			/* the rating as float8 (1 without a column) */
	const char *filter;			/* the rows that are ratings */
	const char *users;			/* quoted qualified user table */
	const char *cf;				/* quoted schema of cf, with a dot */
	bool		implicit;		/* iALS, else ALS */
	int			k;
	double		mean;			/* ALS: the global mean */
	int32		nusers;			/* after the first user half-step */
	int32		nitems;
	int			fetch;			/* item sums fetched at a time */
	const CfTrainParams *params;
} Loop;

/* What an iteration measures (the objective of cf_train's ALS and iALS, als.c). */
typedef struct Fit
{
	double		sse;			/* ALS: squared error; iALS: its objective's data term */
	double		penalty;		/* lambda n^nu |x|^2 over both sides */
	double		quad;			/* iALS: sum of all cells' squared scores */
	double		sum_scores;		/* iALS: sum of the scores of the pairs */
	int64		pairs;			/* iALS: the pairs summed */
} Fit;

/* The name of a model's table: prefix then the model's name, cut to fit. */
static void
model_table_name(const char *prefix, const char *model, char *name)
{
	int			len = pg_mbcliplen(model, strlen(model), NAMEDATALEN - 1 - strlen(prefix));

	snprintf(name, NAMEDATALEN, "%s%.*s", prefix, len, model);
}

/* The table a qualified name names (error if it is not a name), or InvalidOid. */
static Oid
named_table(const char *qualified, RangeVar **rv)
{
	List	   *names = stringToQualifiedNameList(qualified
#if PG_VERSION_NUM >= 160000
												  , NULL
#endif
		);

	*rv = makeRangeVarFromNameList(names);
	return RangeVarGetRelid(*rv, AccessShareLock, true);
}

/* (Inside SPI) the distribution of a table, from Citus's catalog. */
static void
distribution(Oid relid, Distribution *d)
{
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);

	d->column = NULL;
	d->colocation = 0;
	d->shards = 0;
	if (SPI_execute_with_args("SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey),"
							  " p.colocationid, (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s"
							  " WHERE s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid)"
							  " FROM pg_catalog.pg_dist_partition p"
							  " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
							  " AND p.partmethod OPERATOR(pg_catalog.=) 'h'",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading pg_dist_partition failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		d->column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		d->colocation = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 2, &isnull));
		d->shards = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 3, &isnull));
	}
}

/* (citus.h) Why this source does not train on its cluster, or NULL. */
char *
cf_citus_unsupported(const CfAlgorithm *alg, const CfSource *src, const CfTrainParams *params)
{
	if (alg->cluster == CF_CLUSTER_NONE)
		return psprintf("Algorithm \"%s\" trains in one backend's memory only; \"als\" and \"ials\" train where the rows are.",
						alg->name);
	if (!src->user_ids.integer || !src->item_ids.integer)
		return pstrdup("Training on the workers takes integer user and item ids.");
	if (params->validation_fraction > 0)
		return pstrdup("Validation holds ratings out in one backend's memory; on the workers, train without validation_fraction.");
	return NULL;
}

/*
 * (Inside SPI) Distribute the new table qualified by column, co-located
 * with the table colocate (a quoted qualified name) or, if NULL, as Citus
 * places such a table by default.
 */
static void
distribute(const char *qualified, const char *column, const char *colocate)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];

	args[0] = CStringGetTextDatum(qualified);
	args[1] = CStringGetTextDatum(column);
	args[2] = CStringGetTextDatum(colocate ? colocate : "default");
	if (SPI_execute_with_args("SELECT pg_catalog.create_distributed_table($1::pg_catalog.regclass,"
							  " $2, colocate_with => $3)",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "distributing %s failed", qualified);
}

/* (Inside SPI) run a statement; error unless it returns ret. */
static void
run(const char *sql, int nargs, Oid *argtypes, Datum *args, int ret, const char *what)
{
	int			got = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0);

	if (got != ret)
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(got));
}

/* (Inside SPI) a float8 or bigint column of row 0 of the last result, 0 if NULL. */
static double
result_number(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return 0;
	return SPI_gettypeid(SPI_tuptable->tupdesc, col) == INT8OID ?
		(double) DatumGetInt64(d) : DatumGetFloat8(d);
}

/*
 * (Inside SPI) The model's user table: the one its row records when that
 * is still this model's (its name, a table co-located with the ratings
 * read, ratings), emptied; else a new one, distributed and co-located
 * with them.
 */
static char *
prepare_user_table(Oid nsp, const char *model, const CfSource *src, Oid ratings)
{
	Oid			srcnsp = get_rel_namespace(src->relid);
	char		name[NAMEDATALEN];
	Oid			relid;
	char	   *qualified;
	Distribution source;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char	   *recorded = NULL;
	StringInfoData sql;

	model_table_name("cf_user_factors_", model, name);
	qualified = quote_qualified_identifier(get_namespace_name(srcnsp), name);
	relid = get_relname_relid(name, srcnsp);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT user_table FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
					 cf_table(nsp, "cf_models"));
	args[0] = CStringGetTextDatum(model);
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the model's user table failed");
	if (SPI_processed > 0)
		recorded = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	if (OidIsValid(relid))
	{
		Distribution d;

		if (recorded == NULL || strcmp(recorded, qualified) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation \"%s\" already exists", name),
					 errdetail("cf_train keeps the user factors of model \"%s\", trained on the Citus cluster, in a table of this name beside the ratings.",
							   model),
					 errhint("Drop or rename that table, or train another model name.")));
		distribution(ratings, &source);
		distribution(relid, &d);
		if (d.column != NULL && strcmp(d.column, "user_id") == 0 &&
			d.colocation == source.colocation &&
			get_atttype(relid, get_attnum(relid, "user_id")) == src->user_type &&
			get_atttype(relid, get_attnum(relid, "rated_items")) == get_array_type(src->item_type) &&
			get_atttype(relid, get_attnum(relid, "weight")) == FLOAT8OID &&
			get_atttype(relid, get_attnum(relid, "rating_items")) == INT8ARRAYOID &&
			get_atttype(relid, get_attnum(relid, "rating_values")) == FLOAT4ARRAYOID)
		{
			resetStringInfo(&sql);
			appendStringInfo(&sql, "DELETE FROM %s", qualified);
			if (SPI_execute(sql.data, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "emptying the user table failed");
			return qualified;
		}
		/* the source was distributed anew, or its types changed */
		resetStringInfo(&sql);
		appendStringInfo(&sql, "DROP TABLE %s", qualified);
		if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "dropping the user table failed");
	}

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (user_id %s PRIMARY KEY, bias real NOT NULL,"
					 " factors real[] NOT NULL, rated_items %s[] NOT NULL,"
					 " weight double precision NOT NULL, rating_items bigint[] NOT NULL,"
					 " rating_values real[] NOT NULL)",
					 qualified, format_type_be_qualified(src->user_type),
					 format_type_be_qualified(src->item_type));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "creating the user table failed");
	distribute(qualified, "user_id",
			   quote_qualified_identifier(get_namespace_name(get_rel_namespace(ratings)),
										  get_rel_name(ratings)));
	return qualified;
}

/* (Inside SPI) the items' vectors into the coordinator's items table. */
static void
write_items(const CfRatings *data, const CfFactors *f)
{
	static const Oid types[] = {INT8OID, FLOAT4OID, FLOAT4ARRAYOID};
	CfRowBatch	b;

	if (SPI_execute("DELETE FROM " ITEMS_TABLE, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "emptying the items table failed");
	cf_batch_begin(&b, ITEMS_TABLE, "model, item_id, bias, factors", 3, types, "");
	for (int32 j = 0; j < data->nitems; j++)
	{
		Datum	   *row = cf_batch_row(&b);
		MemoryContext oldcxt = MemoryContextSwitchTo(b.cxt);

		row[0] = Int64GetDatum(data->item_ids[j]);
		row[1] = Float4GetDatum(f->item_bias[j]);
		row[2] = cf_flat_array(f->Q + (Size) j * f->stride, f->k, FLOAT4OID, sizeof(float));
		MemoryContextSwitchTo(oldcxt);
	}
	cf_batch_end(&b);
}

/*
 * (Inside SPI) The item half-step: the items' sums, combined by Citus,
 * solved here into *f, with their share of the objective added to *fit.
 * iALS first sums the users' Gramian, in parts on the shards too.
 */
static void
item_step(const Loop *l, const CfRatings *data, CfFactors *f, Fit *fit)
{
	const CfTrainParams *params = l->params;
	StringInfoData sql;
	Portal		portal;
	float	   *x = palloc(sizeof(float) * (l->k + 1));
	Oid			argtype = FLOAT8OID;
	Datum		arg = Float8GetDatum(l->implicit ? params->alpha : l->mean);
	bytea	   *gram = NULL;
	int64		users = 0;
	MemoryContext rowcxt;

	initStringInfo(&sql);
	if (l->implicit)
	{
		bool		isnull;
		Datum		d;

		appendStringInfo(&sql, "SELECT %scf_gram(factors), pg_catalog.count(*) FROM %s",
						 l->cf, l->users);
		run(sql.data, 0, NULL, NULL, SPI_OK_SELECT, "the users' Gramian");
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			elog(ERROR, "the users' Gramian is NULL");
		gram = DatumGetByteaPCopy(d);
		users = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
											&isnull));
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT r.%s::pg_catalog.int8, %scf_ials_sums(u.factors, %s, $1)",
						 l->i, l->cf, l->rating);
	}
	else
		appendStringInfo(&sql,
						 "SELECT r.%s::pg_catalog.int8, %scf_als_sums(u.factors, u.bias, %s, $1)",
						 l->i, l->cf, l->rating);
	appendStringInfo(&sql, " FROM %s r JOIN %s u ON u.user_id OPERATOR(pg_catalog.=) r.%s"
					 " WHERE %s GROUP BY r.%s",
					 l->source, l->users, l->u, l->filter, l->i);
	portal = SPI_cursor_open_with_args(NULL, sql.data, 1, &argtype, &arg, NULL, true, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "cf item solve", ALLOCSET_SMALL_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, l->fetch);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tup = SPI_tuptable->vals[row];
			bool		isnull;
			Datum		id = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
			Datum		sums;
			int32		j;
			double		norm = 0;
			double		count;
			MemoryContext oldcxt;

			if (isnull)
				continue;
			j = cf_find_int64(data->item_ids, data->nitems, DatumGetInt64(id));
			sums = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
			if (j < 0 || isnull)
				continue;		/* an item rated since the training began */
			/* (the solve's matrices, in a context reset per item) */
			oldcxt = MemoryContextSwitchTo(rowcxt);
			if (l->implicit)
			{
				CfIalsFit	r;

				cf_ials_sums_solve(DatumGetByteaP(sums), gram, l->k, params->regularization,
								   params->regularization_exponent, users, x, &r);
				fit->sse += r.loss;
				fit->quad += r.quad;
				fit->sum_scores += r.sum_scores;
				fit->pairs += r.n;
				count = (double) users + r.weight;
			}
			else
			{
				double		e;
				int64		n;

				cf_als_sums_solve(DatumGetByteaP(sums), l->k, params->regularization,
								  params->regularization_exponent, x, &e, &n);
				f->item_bias[j] = x[l->k];
				norm = (double) x[l->k] * x[l->k];
				fit->sse += e;
				count = (double) n;
			}
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
			memcpy(f->Q + (Size) j * f->stride, x, sizeof(float) * l->k);
			for (int c = 0; c < l->k; c++)
				norm += (double) x[c] * x[c];
			fit->penalty += params->regularization *
				pow(count, params->regularization_exponent) * norm;
			CHECK_FOR_INTERRUPTS();
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
	pfree(x);
	pfree(sql.data);
	if (gram)
		pfree(gram);
}

/*
 * The items' vectors as a real[] of a row each (factors, then the bias if
 * with_bias), the argument of cf_als_solve_rated and cf_ials_solve_rated.
 */
static Datum
item_matrix(const CfFactors *f, int32 nitems, int k, bool with_bias)
{
	int			dims[2] = {nitems, k + (with_bias ? 1 : 0)};
	int			width = dims[1];
	Size		size = cf_add_size(ARR_OVERHEAD_NONULLS(2),
								   cf_mul_size(cf_mul_size((Size) nitems, width), sizeof(float)));
	ArrayType  *a;
	float	   *out;

	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the vectors of %d items are too large to send to the workers", nitems),
				 errdetail("They take %zu MB; a value can take at most 1 GB.", size >> 20)));
	a = cf_new_array(2, dims, FLOAT4OID, sizeof(float));
	out = (float *) ARR_DATA_PTR(a);
	for (int32 j = 0; j < nitems; j++)
	{
		memcpy(out, f->Q + (Size) j * f->stride, sizeof(float) * k);
		if (with_bias)
			out[k] = f->item_bias[j];
		out += width;
	}
	return PointerGetDatum(a);
}

/*
 * (Inside SPI) The user half-step on the workers, against the items of
 * *f.  The first joins the ratings with the items' table, sums by user and
 * writes the users, with the items each rated and, as arrays, the user's
 * ratings (item, value); the others solve each user from those arrays and
 * the items' vectors, sent as parameters: no join, no aggregate, one call
 * per user (cf_als_solve_rated, cf_ials_solve_rated).  Returns the users
 * written.
 */
static uint64
user_step(const Loop *l, const CfRatings *data, const CfFactors *f, bool first)
{
	const CfTrainParams *params = l->params;
	StringInfoData solve;
	StringInfoData sql;
	Oid			argtypes[7] = {FLOAT8OID, FLOAT8OID, FLOAT8OID, BYTEAOID, INT8OID};
	Datum		args[7];
	int			nargs = 3;

	/*
	 * $1 the mean (ALS) or alpha (iALS), $2 lambda, $3 nu; iALS: $4 the
	 * items' Gramian, $5 items; after the first, then: the items' ids and
	 * their vectors
	 */
	args[0] = Float8GetDatum(l->implicit ? params->alpha : l->mean);
	args[1] = Float8GetDatum(params->regularization);
	args[2] = Float8GetDatum(params->regularization_exponent);
	if (l->implicit)
	{
		args[3] = PointerGetDatum(cf_gram_state(f->Q, l->nitems, l->k, f->stride));
		args[4] = Int64GetDatum(l->nitems);
		nargs = 5;
	}
	initStringInfo(&sql);
	if (!first)
	{
		argtypes[nargs] = INT8ARRAYOID;
		args[nargs] = cf_flat_array(data->item_ids, l->nitems, INT8OID, sizeof(int64));
		argtypes[nargs + 1] = FLOAT4ARRAYOID;
		args[nargs + 1] = item_matrix(f, l->nitems, l->k, !l->implicit);
		/* (the call in FROM: the subscripts and the test would each repeat it) */
		if (l->implicit)
			appendStringInfo(&sql, "UPDATE %s u SET factors = s.x"
							 " FROM (SELECT v.user_id AS u, x.x FROM %s v CROSS JOIN LATERAL"
							 " %scf_ials_solve_rated($6, $7, v.rating_items, v.rating_values,"
							 " $1, $4, $2, $3, $5) AS x(x) WHERE x.x IS NOT NULL) s"
							 " WHERE u.user_id OPERATOR(pg_catalog.=) s.u",
							 l->users, l->users, l->cf);
		else
			appendStringInfo(&sql, "UPDATE %s u SET bias = s.b, factors = s.f"
							 " FROM (SELECT v.user_id AS u, x.x[%d] AS b, x.x[1:%d] AS f"
							 " FROM %s v CROSS JOIN LATERAL %scf_als_solve_rated($4, $5,"
							 " v.rating_items, v.rating_values, $1, $2, $3) AS x(x)"
							 " WHERE x.x IS NOT NULL) s"
							 " WHERE u.user_id OPERATOR(pg_catalog.=) s.u",
							 l->users, l->k + 1, l->k, l->users, l->cf);
		run(sql.data, nargs + 2, argtypes, args, SPI_OK_UPDATE, "the users' half-step");
		/* (not held through the items' half-step: the memory check counts on it) */
		pfree(DatumGetPointer(args[nargs]));
		pfree(DatumGetPointer(args[nargs + 1]));
		pfree(sql.data);
		return SPI_processed;
	}

	initStringInfo(&solve);
	if (l->implicit)
		appendStringInfo(&solve, "SELECT r.%s AS u, %scf_ials_solve(%scf_ials_sums(t.factors, %s, $1),"
						 " $4, $2, $3, $5) AS x",
						 l->u, l->cf, l->cf, l->rating);
	else
		appendStringInfo(&solve, "SELECT r.%s AS u, %scf_als_solve(%scf_als_sums(t.factors, t.bias,"
						 " %s, $1), $2, $3) AS x",
						 l->u, l->cf, l->cf, l->rating);
	/* (the two arrays of an aggregate without ORDER BY take the rows in one order) */
	appendStringInfo(&solve, ", pg_catalog.array_agg(DISTINCT r.%s ORDER BY r.%s) AS rated,"
					 " %s AS w, pg_catalog.array_agg(r.%s::pg_catalog.int8) AS ri,"
					 " pg_catalog.array_agg((%s)::pg_catalog.float4) AS rv",
					 l->i, l->i,
					 l->implicit ? psprintf("pg_catalog.sum(%s)", l->rating) :
					 "pg_catalog.count(*)::pg_catalog.float8", l->i, l->rating);
	appendStringInfo(&solve,
					 " FROM %s r JOIN " ITEMS_TABLE " t ON t.item_id OPERATOR(pg_catalog.=) r.%s"
					 " WHERE %s GROUP BY r.%s",
					 l->source, l->i, l->filter, l->u);
	if (l->implicit)
		appendStringInfo(&sql, "INSERT INTO %s (user_id, bias, factors, rated_items, weight,"
						 " rating_items, rating_values)"
						 " SELECT s.u, 0, s.x, s.rated, s.w, s.ri, s.rv FROM (%s) s",
						 l->users, solve.data);
	else
		appendStringInfo(&sql, "INSERT INTO %s (user_id, bias, factors, rated_items, weight,"
						 " rating_items, rating_values)"
						 " SELECT s.u, s.x[%d], s.x[1:%d], s.rated, s.w, s.ri, s.rv FROM (%s) s",
						 l->users, l->k + 1, l->k, solve.data);
	run(sql.data, nargs, argtypes, args, SPI_OK_INSERT, "the users' half-step");
	pfree(solve.data);
	pfree(sql.data);
	return SPI_processed;
}

/*
 * (Inside SPI) The users' penalty, pushed down: lambda sum_u c_u^nu
 * |(p_u, b_u)|^2 with c_u the user's ratings (ALS) or the items plus alpha
 * times the user's amounts (iALS), as each half-step's ridge; the user
 * table's weight holds the ratings or the amounts.
 */
static double
user_penalty(const Loop *l)
{
	const CfTrainParams *params = l->params;
	Oid			argtypes[3] = {FLOAT8OID, FLOAT8OID, FLOAT8OID};
	Datum		args[3];
	char	   *sql;

	args[0] = Float8GetDatum(params->regularization_exponent);
	args[1] = Float8GetDatum((double) l->nitems);
	args[2] = Float8GetDatum(params->alpha);
	sql = psprintf("SELECT pg_catalog.sum(pg_catalog.power(%s, $1)"
				   " * (u.bias::pg_catalog.float8 * u.bias"
				   " + (SELECT pg_catalog.sum(v::pg_catalog.float8 * v) FROM pg_catalog.unnest(u.factors) v)))"
				   " FROM %s u",
				   l->implicit ? "$2 + $3 * u.weight" : "u.weight", l->users);
	run(sql, 3, argtypes, args, SPI_OK_SELECT, "the users' penalty");
	pfree(sql);
	return params->regularization * result_number(1);
}

/*
 * (Inside SPI) For a source distributed by another column than its user
 * column: a working table of its ratings distributed by user, filled by
 * Citus's repartitioned INSERT ... SELECT (worker to worker, nothing
 * through the coordinator), which the loop then reads instead; dropped at
 * the end of the training.  Returns its relid.
 */
static Oid
reshuffle(Loop *l, const char *model, const CfSource *src, int64 ratings)
{
	Oid			srcnsp = get_rel_namespace(src->relid);
	char		name[NAMEDATALEN];
	char	   *qualified;
	StringInfoData sql;

	model_table_name("cf_training_", model, name);
	qualified = quote_qualified_identifier(get_namespace_name(srcnsp), name);
	if (l->params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("copying the %lld ratings of \"%s\" by user among the workers into \"%s\"",
						(long long) ratings, get_rel_name(src->relid), qualified),
				 errdetail("The table is distributed by another column than its user column.")));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (user_id %s NOT NULL, item_id %s NOT NULL,"
					 " rating double precision NOT NULL)",
					 qualified, format_type_be_qualified(src->user_type),
					 format_type_be_qualified(src->item_type));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "creating the working table failed");
	distribute(qualified, "user_id", NULL);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (user_id, item_id, rating)"
					 " SELECT r.%s, r.%s, %s FROM %s r WHERE %s",
					 qualified, l->u, l->i, l->rating, l->source, l->filter);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "copying the ratings failed");
	l->source = qualified;
	l->u = "user_id";
	l->i = "item_id";
	l->rating = "r.rating";
	l->filter = "true";
	return get_relname_relid(name, srcnsp);
}

/* (citus.h) Train on the cluster. */
void
cf_citus_train(Oid nsp, const char *model, const CfSource *src, const CfAlgorithm *alg,
			   const CfTrainParams *params, CfRatings *data, CfFactors *f, CfEpoch *log,
			   CfFit *fit, char **user_table)
{
	Loop		l;
	StringInfoData sql;
	const char *cfnsp = quote_identifier(get_namespace_name(nsp));
	int64		total;
	int64		nitems;
	Size		per_item;
	Size		params_per_item;
	Size		state;
	Size		footprint;
	Portal		portal;
	int32		got = 0;
	pg_prng_state rng;
	instr_time	start;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext spicxt;
	MemoryContext itercxt;
	MemoryContext oldcxt;
	Distribution dist;
	int64		shards;
	Oid			ratings;
	Oid			working = InvalidOid;

	INSTR_TIME_SET_CURRENT(start);
	memset(&l, 0, sizeof(l));
	l.source = quote_qualified_identifier(get_namespace_name(get_rel_namespace(src->relid)),
										  get_rel_name(src->relid));
	l.u = quote_identifier(src->user_column);
	l.i = quote_identifier(src->item_column);
	l.implicit = alg->cluster == CF_CLUSTER_IALS;
	l.rating = src->rating_column ?
		psprintf("r.%s::pg_catalog.float8", quote_identifier(src->rating_column)) :
		"1::pg_catalog.float8";
	/* (iALS: amounts of 0 are no feedback, as cf_ials_sums reads them) */
	l.filter = psprintf("r.%s IS NOT NULL AND r.%s IS NOT NULL%s%s%s",
						l.u, l.i,
						src->rating_column ? " AND " : "",
						src->rating_column ? l.rating : "",
						!src->rating_column ? "" : l.implicit ? " > 0" : " IS NOT NULL");
	l.cf = psprintf("%s.", cfnsp);
	l.k = params->factors;
	l.params = params;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spicxt = CurrentMemoryContext;

	/*
	 * what there is, in one pushed-down scan: the rows, those that are
	 * ratings, and the ratings' mean and range; then the items, each
	 * shard's distinct ones (a count(DISTINCT) of a column that is not the
	 * distribution column would bring every (user, item) pair here)
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*), pg_catalog.count(CASE WHEN %s THEN 1 END),"
					 " pg_catalog.avg(CASE WHEN %s THEN %s END),"
					 " pg_catalog.min(CASE WHEN %s THEN %s END),"
					 " pg_catalog.max(CASE WHEN %s THEN %s END) FROM %s r",
					 l.filter, l.filter, l.rating, l.filter, l.rating,
					 l.filter, l.rating, l.source);
	run(sql.data, 0, NULL, NULL, SPI_OK_SELECT, "reading the ratings' counts");
	total = (int64) result_number(1);
	data->n = (int64) result_number(2);
	data->mean = result_number(3);
	data->min = result_number(4);
	data->max = result_number(5);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*) FROM (SELECT r.%s FROM %s r WHERE %s GROUP BY r.%s) s",
					 l.i, l.source, l.filter, l.i);
	run(sql.data, 0, NULL, NULL, SPI_OK_SELECT, "counting the items");
	nitems = (int64) result_number(1);
	data->skipped = total - data->n;
	if (data->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no ratings", get_rel_name(src->relid)),
				 data->skipped > 0 ?
				 errdetail("All %lld rows have a NULL user, item or rating.",
						   (long long) data->skipped) : 0));
	if (nitems > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("source \"%s\" has more than %d items", get_rel_name(src->relid),
						PG_INT32_MAX)));
	if (!isfinite(data->mean) || !isfinite(data->min) || !isfinite(data->max))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("rating column \"%s\" contains a value that is not finite",
						src->rating_column)));
	cf_check_ratings(alg, src, data);
	if (data->skipped > 0 && params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("skipped %lld rows with a NULL user, item or rating",
						(long long) data->skipped)));

	/*
	 * What this backend holds: the items' ids and vectors; and at the most
	 * either, in the users' statement, its parameters, the same again and,
	 * as Citus sends them to each shard, as text (some 12 characters a
	 * number), or, in the items', while Citus combines the shards' parts,
	 * one state of sums per item (with its hash table's entry); the parts
	 * themselves pass through one at a time, and the cursor holds up to
	 * FETCH_BYTES of combined ones.  A source that is not by user is
	 * copied into a table of citus.shard_count shards.
	 */
	distribution(src->relid, &dist);
	shards = dist.shards;
	if (dist.column == NULL || strcmp(dist.column, src->user_column) != 0)
	{
		const char *setting = GetConfigOption("citus.shard_count", true, false);

		shards = setting ? pg_strtoint64(setting) : 32;
	}
	state = offsetof(struct varlena, vl_dat) + 20 +
		sizeof(float) * (Size) (l.k + 2) * (l.k + 3) / 2;
	per_item = sizeof(int64) + sizeof(float) * (l.k + 1) + 64;
	params_per_item = cf_add_size(per_item,
								  cf_mul_size((Size) Max(shards, 1), (Size) 12 * (l.k + 2)));
	l.fetch = (int) Max(1, Min(10000, FETCH_BYTES / state));
	footprint = cf_add_size(cf_mul_size(nitems, per_item),
							Max(cf_mul_size(nitems, params_per_item),
								cf_add_size(cf_mul_size(nitems, state), (Size) l.fetch * state)));
	cf_check_memory(footprint, "training");
	if (params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("training on the Citus cluster: %lld ratings of %lld items; this node needs %zu MB (maintenance_work_mem is %d MB)",
						(long long) data->n, (long long) nitems,
						(footprint + ((1 << 20) - 1)) >> 20,
						maintenance_work_mem / 1024)));

	/* the items, in ascending order, and their first vectors */
	MemoryContextSwitchTo(outer);
	data->nitems = (int32) nitems;
	data->item_ids = cf_palloc_huge_array(int64, nitems);
	cf_factors_alloc(f, 0, data->nitems, l.k);
	MemoryContextSwitchTo(spicxt);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT DISTINCT r.%s::pg_catalog.int8 FROM %s r WHERE %s ORDER BY 1",
					 l.i, l.source, l.filter);
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed && got < data->nitems; row++)
		{
			bool		isnull;

			data->item_ids[got++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
																SPI_tuptable->tupdesc, 1,
																&isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	data->nitems = got;
	f->nitems = got;
	pg_prng_seed(&rng, (uint64) params->seed);
	cf_init_factor_rows(f->Q, got, NULL, l.k, f->stride, &rng);

	/* the ratings by user: the source's, or a copy distributed so */
	ratings = src->relid;
	if (dist.column == NULL || strcmp(dist.column, src->user_column) != 0)
		working = ratings = reshuffle(&l, model, src, data->n);
	*user_table = MemoryContextStrdup(outer, prepare_user_table(nsp, model, src, ratings));
	l.users = *user_table;
	if (SPI_execute("CREATE TEMPORARY TABLE cf_training_items (model text, item_id bigint,"
					" bias real, factors real[]) ON COMMIT DROP", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "creating the items table failed");
	write_items(data, f);
	if (params->trace != CF_TRACE_NONE)
		ereport(NOTICE,
				(errmsg("read the ratings' counts and %d items in %.3f s; users in \"%s\"",
						got, cf_seconds_since(start), l.users)));

	l.mean = data->mean;
	l.nitems = got;
	fit->epochs = 0;
	itercxt = AllocSetContextCreate(CurrentMemoryContext, "cf iteration", ALLOCSET_DEFAULT_SIZES);
	for (int e = 0; e < params->epochs; e++)
	{
		instr_time	t;
		Fit			m = {0};
		uint64		users;

		INSTR_TIME_SET_CURRENT(t);
		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(itercxt);
		users = user_step(&l, data, f, e == 0);
		if (e == 0)
			l.nusers = data->nusers = (int32) Min(users, (uint64) PG_INT32_MAX);
		item_step(&l, data, f, &m);
		m.penalty += user_penalty(&l);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(itercxt);
		if (l.implicit)
		{
			/* per cell of users x items, as cf_train's iALS (als.c) */
			double		cells = (double) l.nusers * l.nitems;

			log[e].loss = (m.sse + m.penalty) / cells;
			log[e].rmse = sqrt(Max(m.quad + m.pairs - 2 * m.sum_scores, 0) / cells);
		}
		else
		{
			log[e].loss = (m.sse + m.penalty) / data->n;
			log[e].rmse = sqrt(m.sse / data->n);
		}
		log[e].seconds = cf_seconds_since(t);
		fit->epochs = e + 1;
		fit->loss = log[e].loss;
		fit->rmse = log[e].rmse;
		(void) cf_epoch_done(params, e, NULL, &log[e]);
	}
	MemoryContextDelete(itercxt);
	if (SPI_execute("DROP TABLE " ITEMS_TABLE, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "dropping the items table failed");
	if (OidIsValid(working) &&
		SPI_execute(psprintf("DROP TABLE %s", l.source), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "dropping the working table failed");
	SPI_finish();
}

/* (citus.h) The table a model's user_table names, checked. */
Oid
cf_citus_user_table(const char *user_table, const char *model, Oid *user_type)
{
	RangeVar   *rv;
	Oid			relid = named_table(user_table, &rv);
	HeapTuple	tup;
	Form_pg_class rel;
	bool		plain;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("user table \"%s\" of model \"%s\" does not exist", user_table, model),
				 errhint("Train the model again.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	rel = (Form_pg_class) GETSTRUCT(tup);
	plain = rel->relkind == RELKIND_RELATION && !rel->relrowsecurity;
	ReleaseSysCache(tup);
	*user_type = get_atttype(relid, get_attnum(relid, "user_id"));
	if (!plain || !cf_is_integer_id_type(*user_type))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("user table \"%s\" of model \"%s\" is not a table of user factors",
						user_table, model),
				 errdetail("A model's user table is an ordinary table without row-level security whose user_id is an integer.")));
	return relid;
}

/*
 * (citus.h) Drop the user table a replaced or dropped model kept, if it
 * exists and has a name cf gives such tables (whatever else the row says:
 * a renamed model keeps its table's name).
 */
void
cf_citus_drop_user_table(const char *user_table, const char *model)
{
	RangeVar   *rv;
	Oid			relid = named_table(user_table, &rv);

	if (!OidIsValid(relid) || strncmp(rv->relname, "cf_user_factors_", 16) != 0 ||
		get_rel_relkind(relid) != RELKIND_RELATION)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("DROP TABLE %s",
							 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														get_rel_name(relid))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "dropping the user table of model \"%s\" failed", model);
	SPI_finish();
}

/*
 * (citus.h) Error if the model keeps its users on a Citus cluster, for a
 * function that reads every user's row or writes one.
 */
void
cf_require_local_users(const CfModelInfo *info, const char *model, const char *function)
{
	if (info->user_table != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support model \"%s\", whose users are on a Citus cluster",
						function, model),
				 errdetail("The model keeps its user factors in table \"%s\", distributed like its ratings.",
						   info->user_table),
				 errhint("Serve it with cf_recommend, cf_predict or cf_explain, one user per call.")));
}

/* The per-call lookups' saved plans, for one user table at a time. */
static Oid	lookup_relid = InvalidOid;
static Oid	lookup_type = InvalidOid;
static SPIPlanPtr lookup_plans[2];	/* without, with rated_items */

/*
 * (citus.h, inside SPI) The user's row of a model trained on a Citus
 * cluster, from its user table: one query, which Citus routes to the
 * shard of the user.
 */
bool
cf_citus_lookup_user(const CfModelInfo *info, const char *name, CfUserPart part,
					int64 user_id, CfUserRow *user, MemoryContext outer)
{
	Oid			user_type;
	Oid			relid = cf_citus_user_table(info->user_table, name, &user_type);
	Oid			argtype = user_type;
	Datum		arg;
	int			with_rated = part == CF_USER_RATED ? 1 : 0;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	MemoryContext spicxt;

	/* an id the column's type cannot hold has no row */
	if ((user_type == INT4OID && (user_id < PG_INT32_MIN || user_id > PG_INT32_MAX)) ||
		(user_type == INT2OID && (user_id < PG_INT16_MIN || user_id > PG_INT16_MAX)))
		return false;
	arg = user_type == INT8OID ? Int64GetDatum(user_id) :
		user_type == INT4OID ? Int32GetDatum((int32) user_id) : Int16GetDatum((int16) user_id);
	/* the plan, kept for this table (and its id type) until another's is needed */
	if (lookup_relid != relid || lookup_type != user_type)
	{
		for (int j = 0; j < lengthof(lookup_plans); j++)
		{
			if (lookup_plans[j])
				SPI_freeplan(lookup_plans[j]);
			lookup_plans[j] = NULL;
		}
		lookup_relid = relid;
		lookup_type = user_type;
	}
	if (lookup_plans[with_rated] == NULL)
	{
		char	   *sql;

		sql = psprintf("SELECT bias::pg_catalog.float4, factors::pg_catalog.float4[]%s FROM %s"
					   " WHERE user_id OPERATOR(pg_catalog.=) $1",
					   with_rated ? ", rated_items::pg_catalog.int8[]" : "",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  get_rel_name(relid)));
		lookup_plans[with_rated] = SPI_prepare(sql, 1, &argtype);
		if (lookup_plans[with_rated] == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(lookup_plans[with_rated]);
		pfree(sql);
	}
	if (SPI_execute_plan(lookup_plans[with_rated], &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the user's row failed");
	if (SPI_processed == 0)
		return false;
	spicxt = MemoryContextSwitchTo(outer);
	values[0] = Int64GetDatum(user_id);
	values[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &nulls[1]);
	values[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &nulls[2]);
	if (part == CF_USER_RATED)
		values[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &nulls[3]);
	user->factors = NULL;
	cf_read_user_row(values, nulls, part == CF_USER_RATED, info->k, name, user);
	MemoryContextSwitchTo(spicxt);
	return true;
}
