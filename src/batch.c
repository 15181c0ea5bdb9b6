/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  cf_recommend_batch: top-N recommendations for many users at once.
 *
 * A value-per-call set-returning function: rows go out one per call, by
 * user id ascending and rank, and only one block of users is in memory at
 * a time.  The first call checks the model (the per-call lookup),
 * pins its cached items for the whole scan and opens a cursor over the
 * model's users (all of them, or user_id = ANY of the given ids), read in
 * the call's snapshot as the caller.  Then, per block of B users:
 *
 *		for each tile of T items:  S = P_block Q_tile^T   (one sgemm)
 *			each user's scores b_i + S[u, i] go to that user's bounded heap,
 *			the user's rated items skipped
 *
 * T is chosen so that a tile of Q stays in the L2 cache while the block's
 * users go over it, and B so that the block's heaps stay within work_mem
 * (at most 256 users).  Given users the model does not know get the
 * baseline list (best b_i), like cf_recommend (no rows for a model
 * without biases, iALS, which has no baseline); duplicates count once.
 *
 * A cleanup callback on the executor context closes the cursor and unpins
 * the items if the scan stops early (LIMIT); an error leaves that to the
 * end of the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "blas.h"
#include "cache.h"
#include "citus.h"
#include "ids.h"
#include "model.h"
#include "score.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_recommend_batch);

#define MAX_BLOCK 256			/* users per block */
#define FETCH_ROWS 256			/* user rows per cursor fetch */

/* A cf_recommend_batch call's state, kept across its value-per-call rows. */
typedef struct BatchState
{
	Oid			nsp;
	char	   *model;
	CfModelInfo info;
	CfItems    *items;
	int32		limit;			/* n, at most the catalog */
	bool		exclude_rated;
	ExprContext *econtext;

	/* given users (sorted, unique), or NULL for all; typed ids' texts */
	int64	   *given;
	char	  **given_keys;
	int32		ngiven;
	int32		next_given;

	/* the cursor and the fetched rows not used yet */
	char	   *portal;
	bool		cursor_done;
	MemoryContext fetchcxt;
	CfUserRow    *rows;
	int32		nrows;
	int32		next_row;

	/* the current block */
	MemoryContext blockcxt;
	int32		block;			/* B */
	int32		tile;			/* T */
	int32		nb;				/* users in the block */
	int64	   *ids;			/* B */
	char	  **keys;			/* B: typed user ids' texts */
	bool	   *known;			/* B */
	double	   *base;			/* B: mean + b_u */
	int32	  **ex;				/* B: sorted excluded item indices */
	int32	   *nex;
	float	   *P;				/* B x k: known users' factors, packed */
	CfTopN	   *tops;			/* B */
	float	   *S;				/* B x T */
	CfTopN		baseline;		/* for unknown users, sorted */
	bool		have_baseline;

	/* output position */
	int32		out_user;
	int32		out_rank;
	bool		done;
} BatchState;

/* Close the cursor and unpin the items (once). */
static void
batch_cleanup(BatchState *st)
{
	if (st->portal)
	{
		Portal		portal = SPI_cursor_find(st->portal);

		if (portal)
			SPI_cursor_close(portal);
		st->portal = NULL;
	}
	if (st->items)
	{
		cf_items_release(st->items);
		st->items = NULL;
	}
}

/* Executor shutdown callback: the scan stopped before the end. */
static void
batch_shutdown(Datum arg)
{
	batch_cleanup((BatchState *) DatumGetPointer(arg));
}

/* Fetch the next rows of the cursor into st->rows; false at the end. */
static bool
fetch_rows(BatchState *st)
{
	Portal		portal;

	if (st->cursor_done)
		return false;
	MemoryContextReset(st->fetchcxt);
	st->nrows = st->next_row = 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_find(st->portal);
	if (portal == NULL)
		elog(ERROR, "cursor \"%s\" of cf_recommend_batch is gone", st->portal);
	SPI_cursor_fetch(portal, true, FETCH_ROWS);
	if (SPI_processed < FETCH_ROWS)
		st->cursor_done = true;
	st->rows = MemoryContextAlloc(st->fetchcxt, Max(SPI_processed, 1) * sizeof(CfUserRow));
	for (uint64 j = 0; j < SPI_processed; j++)
	{
		CfUserRow    *row = &st->rows[j];
		MemoryContext oldcxt;
		bool		isnull[5];
		Datum		d[5];

		for (int c = 0; c < 5; c++)
			d[c] = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, c + 1, &isnull[c]);
		oldcxt = MemoryContextSwitchTo(st->fetchcxt);
		row->factors = NULL;
		cf_read_user_row(d, isnull, st->exclude_rated, st->info.k, st->model, row);
		row->key = isnull[4] ? NULL : TextDatumGetCString(d[4]);
		MemoryContextSwitchTo(oldcxt);
	}
	st->nrows = (int32) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	SPI_finish();
	return st->nrows > 0;
}

/* The next fetched row without using it, or NULL at the end. */
static CfUserRow *
peek_row(BatchState *st)
{
	if (st->next_row == st->nrows && !fetch_rows(st))
		return NULL;
	return &st->rows[st->next_row];
}

/*
 * The next user: its id and, if the model has a row for it, that row
 * (the pointer stays valid until the next call).  false when done.
 */
static bool
next_user(BatchState *st, int64 *id, char **key, CfUserRow **row)
{
	CfUserRow    *r;

	if (st->given == NULL)
	{
		r = peek_row(st);
		if (r == NULL)
			return false;
		st->next_row++;
		*id = r->id;
		*key = r->key;
		*row = r;
		return true;
	}
	if (st->next_given == st->ngiven)
		return false;
	*key = st->given_keys ? st->given_keys[st->next_given] : NULL;
	*id = st->given[st->next_given++];
	r = peek_row(st);
	if (r != NULL && r->id == *id)
	{
		st->next_row++;
		*row = r;
	}
	else
		*row = NULL;
	return true;
}

/* Read and score the next block of users; false when there are none. */
static bool
next_block(BatchState *st)
{
	const CfItems *items = st->items;
	int			k = items->k;
	int32		nknown = 0;
	int32	   *slot;			/* known user j -> block position */
	const int32 **ex;			/* known user j's exclusions */
	int32	   *nex;
	CfTopN	  **tops;
	MemoryContext oldcxt;

	MemoryContextReset(st->blockcxt);
	oldcxt = MemoryContextSwitchTo(st->blockcxt);
	slot = palloc(st->block * sizeof(int32));
	st->nb = 0;
	while (st->nb < st->block)
	{
		int64		id;
		char	   *key;
		CfUserRow    *row;
		int32		b = st->nb;

		if (!next_user(st, &id, &key, &row))
			break;
		st->ids[b] = id;
		st->keys[b] = key ? pstrdup(key) : NULL;
		st->known[b] = row != NULL;
		st->nex[b] = 0;
		st->ex[b] = NULL;
		if (row)
		{
			st->base[b] = (st->info.predicts_ratings ? st->info.mean : 0) + row->bias;
			memcpy(st->P + (Size) nknown * k, row->factors, sizeof(float) * k);
			if (row->nrated > 0)
				st->ex[b] = cf_item_indices(items, row->rated, row->nrated, &st->nex[b]);
			cf_topn_reset(&st->tops[b]);
			slot[nknown++] = b;
		}
		else
			st->base[b] = st->info.predicts_ratings ? st->info.mean : 0;
		st->nb++;
	}
	MemoryContextSwitchTo(oldcxt);
	if (st->nb == 0)
		return false;

	/* the known users: tiles of items, one sgemm each */
	oldcxt = MemoryContextSwitchTo(st->blockcxt);
	ex = palloc(Max(nknown, 1) * sizeof(int32 *));
	nex = palloc(Max(nknown, 1) * sizeof(int32));
	tops = palloc(Max(nknown, 1) * sizeof(CfTopN *));
	for (int32 j = 0; j < nknown; j++)
	{
		ex[j] = st->ex[slot[j]];
		nex[j] = st->nex[slot[j]];
		tops[j] = &st->tops[slot[j]];
	}
	cf_rank_block(items, st->P, nknown, ex, nex, tops, st->S, st->tile);
	MemoryContextSwitchTo(oldcxt);
	for (int32 j = 0; j < nknown; j++)
		cf_topn_sort(&st->tops[slot[j]]);

	/*
	 * unknown users: the baseline, computed once (none for models
	 * without biases: they get no rows, the baseline staying empty)
	 */
	if (nknown < st->nb && !st->have_baseline && st->info.has_biases)
	{
		CfRankSpec	spec;

		oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(st));
		memset(&spec, 0, sizeof(spec));
		cf_topn_init(&st->baseline, st->limit);
		cf_rank_items(items, &spec, &st->baseline);
		cf_topn_sort(&st->baseline);
		st->have_baseline = true;
		MemoryContextSwitchTo(oldcxt);
	}
	st->out_user = 0;
	st->out_rank = 0;
	return true;
}

/*
 * The given users, as 64-bit ids (and typed ids' texts), sorted by id,
 * each once.
 */
static void
given_users(FunctionCallInfo fcinfo, BatchState *st)
{
	int			nids = cf_id_array_arg_keys(fcinfo, 0, "user_ids", st->info.user_type,
											st->model, "user", &st->given, &st->given_keys);

	st->ngiven = cf_sort_unique_ids(st->given, st->given_keys, nids);
}

/* Set up the scan (first call), in the multi-call memory context. */
static BatchState *
batch_begin(FunctionCallInfo fcinfo, TupleDesc tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BatchState *st = palloc0(sizeof(BatchState));
	int32		n;
	int			k;
	Size		per_user;
	Datum		values[2];
	SPIPlanPtr	plan;
	Portal		portal;

	st->nsp = cf_extension_schema(fcinfo);
	cf_require_arg(fcinfo, 1, "n");
	cf_require_arg(fcinfo, 3, "exclude_rated");
	n = PG_GETARG_INT32(1);
	st->model = cf_model_name_arg(fcinfo, 2);
	st->exclude_rated = PG_GETARG_BOOL(3);
	cf_check_int_arg("n", n, 1, PG_INT32_MAX);

	cf_lookup(st->nsp, st->model, &st->info, CF_USER_NONE, 0, NULL);
	cf_require_local_users(&st->info, st->model, "cf_recommend_batch");
	cf_check_id_result(TupleDescAttr(tupdesc, 0)->atttypid, st->info.user_type, st->model,
					   "user");
	cf_check_id_result(TupleDescAttr(tupdesc, 1)->atttypid, st->info.item_type, st->model,
					   "item");
	if (!PG_ARGISNULL(0))
		given_users(fcinfo, st);
	st->items = cf_items_acquire(st->nsp, st->model, &st->info);
	st->limit = Min(n, st->items->n);
	k = st->items->k;

	/* block and tile sizes */
	st->tile = cf_rank_tile(k);
	per_user = cf_add_size(cf_mul_size(Max(st->limit, 1), sizeof(float) + 2 * sizeof(int64)),
						   cf_mul_size(st->tile + k, sizeof(float)));
	st->block = (int32) Max(1, Min(MAX_BLOCK, (Size) work_mem * 1024 / per_user));
	st->ids = palloc(st->block * sizeof(int64));
	st->keys = palloc(st->block * sizeof(char *));
	st->known = palloc(st->block * sizeof(bool));
	st->base = palloc(st->block * sizeof(double));
	st->ex = palloc(st->block * sizeof(int32 *));
	st->nex = palloc(st->block * sizeof(int32));
	st->P = cf_palloc_huge_array(float, cf_mul_size(st->block, Max(k, 1)));
	st->S = cf_palloc_huge_array(float, cf_mul_size(st->block, st->tile));
	st->tops = palloc(st->block * sizeof(CfTopN));
	for (int32 b = 0; b < st->block; b++)
		cf_topn_init(&st->tops[b], st->limit);
	st->fetchcxt = AllocSetContextCreate(CurrentMemoryContext, "cf batch rows",
										 ALLOCSET_DEFAULT_SIZES);
	st->blockcxt = AllocSetContextCreate(CurrentMemoryContext, "cf batch block",
										 ALLOCSET_DEFAULT_SIZES);

	/* the users, in the same snapshot as the lookup */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(st->model);
	if (st->given)
	{
		Datum	   *d = palloc((st->ngiven + 1) * sizeof(Datum));

		for (int32 j = 0; j < st->ngiven; j++)
			d[j] = Int64GetDatum(st->given[j]);
		values[1] = PointerGetDatum(construct_array(d, st->ngiven, INT8OID, sizeof(int64),
													true, TYPALIGN_DOUBLE));
		plan = cf_query_plan(st->nsp, CF_Q_SOME_USERS);
	}
	else
		plan = cf_query_plan(st->nsp, CF_Q_USERS);
	portal = SPI_cursor_open(NULL, plan, values, NULL, true);
	st->portal = MemoryContextStrdup(GetMemoryChunkContext(st), portal->name);
	SPI_finish();

	st->econtext = rsinfo->econtext;
	RegisterExprContextCallback(st->econtext, batch_shutdown, PointerGetDatum(st));
	st->out_user = st->nb = 0;
	return st;
}

/*
 * cf_recommend_batch(user_ids bigint[], n int, model text, exclude_rated boolean)
 *		RETURNS TABLE(user_id bigint, item_id bigint, score float8, rank int)
 * cf_recommend_batch_by_key(user_ids text[], ...): the same, ids as text
 */
Datum
cf_recommend_batch(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	BatchState *st;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcxt;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = batch_begin(fcinfo, funcctx->tuple_desc);
		MemoryContextSwitchTo(oldcxt);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = (BatchState *) funcctx->user_fctx;

	while (!st->done)
	{
		if (st->out_user < st->nb)
		{
			int32		b = st->out_user;
			const CfTopN *t = st->known[b] ? &st->tops[b] : &st->baseline;

			if (st->out_rank < t->size)
			{
				Datum		values[4];
				bool		nulls[4] = {false, false, false, false};
				int32		r = st->out_rank++;

				values[0] = cf_id_result(TupleDescAttr(funcctx->tuple_desc, 0)->atttypid,
										 st->info.user_type, st->ids[b], st->keys[b],
										 st->model, "user");
				values[1] = cf_id_result(TupleDescAttr(funcctx->tuple_desc, 1)->atttypid,
										 st->items->item_type, st->items->ids[t->key[r]],
										 st->items->keys ? st->items->keys[t->key[r]] : NULL,
										 st->model, "item");
				values[2] = Float8GetDatum(cf_float4_double(st->base[b] + t->score[r]));
				values[3] = Int32GetDatum(r + 1);
				SRF_RETURN_NEXT(funcctx,
								HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc,
																  values, nulls)));
			}
			st->out_user++;
			st->out_rank = 0;
			continue;
		}
		if (!next_block(st))
			st->done = true;
	}

	UnregisterExprContextCallback(st->econtext, batch_shutdown, PointerGetDatum(st));
	batch_cleanup(st);
	SRF_RETURN_DONE(funcctx);
}
