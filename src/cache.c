/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The backend-local factor cache: models' item matrices, biases and id
 *	  maps, keyed by model and version.
 *
 * Serving a recommendation costs one pass over a model's item matrix; reading
 * that matrix from cf_item_factors costs a hundred times more.  So each
 * backend keeps the item matrices of the models it serves, in a memory
 * context of its own under TopMemoryContext, one child context per model.
 *
 * Correctness rests on the identity of the model's cf_models row version:
 * the table (its OID and file), the row's place (ctid) and the transaction
 * that wrote it (xmin).  No value a user can write forges it: every
 * training, and every UPDATE of the row, whatever the column, makes a new
 * row version, and a rewrite or truncation of cf_models a new file.
 * (cf_models.version is shown but not trusted: its owner may set it to any
 * value, and a restored dump starts the sequence over.)
 *
 *	- Every scoring call first runs its per-call lookup (model.c, cf_lookup):
 *	  one index probe on cf_models through SPI, as the calling role, in the
 *	  call's snapshot.  Only if that finds the model row is anything served,
 *	  so privileges and row-level security on cf_models hold for cached
 *	  models exactly as for uncached ones; a hit also checks the caller's
 *	  SELECT privilege on cf_item_factors, which a load would need.
 *	- The cache is keyed by that identity: a retrain committed in another
 *	  session shows a new row version to the next call's snapshot, which
 *	  loads the new items; a transaction whose snapshot still sees the old
 *	  row gets the old version's entry (or loads it again).
 *	- An entry is read in the same snapshot as the lookup that found its
 *	  row, so it holds exactly that row version's items.  Item rows changed
 *	  by hand come with a new row version too: the statement trigger
 *	  cf_item_factors_changed touches the cf_models rows its caller may
 *	  change (cf's own statements, which come with a new row version or
 *	  none, skip it).
 *	- Every item row read is checked against the model row's factor count
 *	  and for finite values (cf_copy_array, cf_check_stored_row), so an
 *	  entry always holds what its model row describes.
 *
 * No invalidation messages are needed, and none exist for ordinary INSERTs.
 *
 * Size: cf.cache_size megabytes per backend; the least recently used
 * entries not in use are evicted first, and a newer version of a model
 * evicts the older ones at once.  A model larger than the whole budget is
 * read for each call into the caller's memory (checked against
 * maintenance_work_mem) and freed after it; a caller that needs only a few
 * items (cf_predict, small candidate sets) then reads only those.
 *
 * Entries in use are pinned (a value-per-call SRF keeps its pin across
 * calls); pins are dropped at the end of the transaction, so an error never
 * leaves an entry pinned for good.
 *
 * The matrix is read with a streaming DestReceiver (no SPI tuptable of the
 * whole model), rows checked and copied straight into the entry's arrays.
 *
 * An entry also keeps, once asked for, the Gramian Q^T Q of its items
 * (cf_items_gram): what folding a user into an implicit-feedback (iALS)
 * model and explaining its scores solve against.  It is computed once per
 * model version; the entry's size grows by k^2 floats.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "blas.h"
#include "cache.h"
#include "ids.h"
#include "cf.h"
#include "idmap.h"
#include "util.h"

/* cf's own statements on cf_item_factors under way (cf_own_item_writes). */
static int	own_item_writes = 0;

/* The cache: entries most recently used first, and their total size. */
static MemoryContext cache_cxt = NULL;
static dlist_head cache_list = DLIST_STATIC_INIT(cache_list);
static Size cache_bytes = 0;

/* Budget in bytes (cf.cache_size is in megabytes, up to 2 TB). */
static Size
cache_budget(void)
{
	uint64		bytes = (uint64) cf_cache_size * 1024 * 1024;

	return (Size) Min(bytes, (uint64) SIZE_MAX);
}

/* Bytes a cached model of this shape takes (the documented cost). */
Size
cf_items_bytes(int64 nitems, int k)
{
	/* factors, id, bias, hash slots (up to two per item) */
	Size		per_item = cf_add_size(cf_mul_size(k, sizeof(float)),
									   sizeof(int64) + sizeof(float) + 2 * sizeof(CfIdEntry));

	return cf_add_size(cf_mul_size((Size) Max(nitems, 0), per_item), 16 * 1024);
}

/* Drop all pins at the end of a transaction (an error may have skipped a release). */
static void
cache_xact_callback(XactEvent event, void *arg)
{
	dlist_iter	it;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			dlist_foreach(it, &cache_list)
				dlist_container(CfItems, lru, it.cur)->pins = 0;
			break;
		default:
			break;
	}
}

/* Free a cached entry. */
static void
cache_evict(CfItems *items)
{
	Assert(items->cached && items->pins == 0);
	dlist_delete(&items->lru);
	cache_bytes -= items->bytes;
	MemoryContextDelete(items->cxt);
}

/*
 * Evict unpinned entries, least recently used first, until the cache plus
 * `room` bytes fits the budget.
 */
static void
cache_trim(Size room)
{
	Size		budget = cache_budget();
	dlist_node *node;

	if (dlist_is_empty(&cache_list))
		return;
	node = dlist_tail_node(&cache_list);
	while (node != NULL && cache_bytes + room > budget)
	{
		CfItems    *e = dlist_container(CfItems, lru, node);

		node = dlist_has_prev(&cache_list, node) ? dlist_prev_node(&cache_list, node) : NULL;
		if (e->pins == 0)
			cache_evict(e);
	}
}

/* Whether an entry was read for the model row version info describes. */
static bool
same_row_version(const CfItems *e, const CfModelInfo *info)
{
	return e->xmin == info->xmin && ItemPointerEquals((ItemPointer) &e->tid,
													  (ItemPointer) &info->tid) &&
		e->relid == info->relid && e->filenode == info->filenode;
}

/* The cached entry of a model row version, or NULL. */
static CfItems *
cache_find(const CfModelInfo *info)
{
	dlist_iter	it;

	dlist_foreach(it, &cache_list)
	{
		CfItems    *e = dlist_container(CfItems, lru, it.cur);

		if (same_row_version(e, info))
			return e;
	}
	return NULL;
}

/* Evict the unpinned entries of other versions of a model. */
static void
cache_forget_versions(Oid relid, const char *name)
{
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &cache_list)
	{
		CfItems    *e = dlist_container(CfItems, lru, it.cur);

		if (e->pins == 0 && e->relid == relid && strcmp(e->name, name) == 0)
			cache_evict(e);
	}
}

/*
 * The streaming reader: a DestReceiver that checks each row of the items
 * query and copies it into the entry's arrays, growing them if the model
 * has more items than cf_models.items said.
 */
typedef struct ItemReader
{
	DestReceiver pub;
	CfItems    *items;
	int32		cap;
	MemoryContext rowcxt;		/* detoasted arrays; reset every few rows */
} ItemReader;

/* Make room for twice as many items. */
static void
reader_grow(ItemReader *r)
{
	CfItems    *it = r->items;
	int32		cap;

	if (r->cap >= PG_INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model \"%s\" has too many items to serve", it->name)));
	cap = Max(r->cap * 2, 1024);
	it->ids = repalloc_huge(it->ids, cf_mul_size(cap, sizeof(int64)));
	if (it->keys)
		it->keys = repalloc_huge(it->keys, cf_mul_size(cap, sizeof(char *)));
	it->bias = repalloc_huge(it->bias, cf_mul_size(cap, sizeof(float)));
	it->Q = repalloc_huge(it->Q, cf_mul_size(cf_mul_size(cap, it->k), sizeof(float)));
	r->cap = cap;
}

/* Check and copy one item row. */
static bool
reader_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ItemReader *r = (ItemReader *) self;
	CfItems    *it = r->items;
	MemoryContext oldcxt;
	int64		id;
	float	   *q;

	slot_getallattrs(slot);
	if (slot->tts_isnull[0] || slot->tts_isnull[1] || slot->tts_isnull[2])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored model \"%s\" has a NULL in an item row", it->name)));
	id = DatumGetInt64(slot->tts_values[0]);
	if (it->n > 0 && id <= it->ids[it->n - 1])
		elog(ERROR, "items of model \"%s\" not read in ascending order", it->name);
	if (it->n == r->cap)
		reader_grow(r);

	q = it->Q + (Size) it->n * it->k;
	oldcxt = MemoryContextSwitchTo(r->rowcxt);
	cf_copy_array(slot->tts_values[2], FLOAT4OID, sizeof(float), it->k, q, NULL,
				  "item factor vector");
	MemoryContextSwitchTo(oldcxt);
	it->ids[it->n] = id;
	if (it->keys)
		it->keys[it->n] = slot->tts_isnull[3] ? NULL :
			MemoryContextStrdup(it->cxt, TextDatumGetCString(slot->tts_values[3]));
	it->bias[it->n] = DatumGetFloat4(slot->tts_values[1]);
	cf_check_stored_row("item", id, it->name, q, it->k, &it->bias[it->n]);
	it->n++;
	if ((it->n & 1023) == 0)
	{
		MemoryContextReset(r->rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * Read a model's items (or only those in ids, if not NULL) in the current
 * snapshot into a new entry whose context is a child of `parent`.
 */
static CfItems *
items_read(Oid nsp, const char *name, const CfModelInfo *info, Datum ids,
		   MemoryContext parent)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	CfItems    *it;
	ItemReader	r;
	SPIExecuteOptions options;
	ParamListInfo params;
	bool		some = DatumGetPointer(ids) != NULL;
	int32		cap;
	int			ret;

	cxt = AllocSetContextCreate(parent, "cf factor cache entry", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	it = palloc0(sizeof(CfItems));
	it->cxt = cxt;
	it->nsp = nsp;
	it->relid = info->relid;
	it->filenode = info->filenode;
	it->tid = info->tid;
	it->xmin = info->xmin;
	it->name = pstrdup(name);
	it->version = info->version;
	it->items_relid = get_relname_relid("cf_item_factors", nsp);
	it->k = info->k;
	it->partial = some;
	MemoryContextSetIdentifier(cxt, it->name);

	if (some)
	{
		ArrayType  *a = DatumGetArrayTypeP(ids);

		cap = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	}
	else
		cap = (int32) Min(Max(info->items, 0), PG_INT32_MAX / 2);
	cap = Max(cap, 1);
	it->ids = cf_palloc_huge_array(int64, cap);
	if (!cf_is_integer_id_type(info->item_type))
		it->keys = cf_palloc_huge_array(char *, cap);
	it->item_type = info->item_type;
	it->bias = cf_palloc_huge_array(float, cap);
	it->Q = cf_palloc_huge_array(float, cf_mul_size(cap, it->k));

	memset(&r, 0, sizeof(r));
	cf_init_receiver(&r.pub, reader_receive);
	r.items = it;
	r.cap = cap;
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "cf item rows",
									 ALLOCSET_SMALL_SIZES);

	params = makeParamList(some ? 2 : 1);
	params->numParams = some ? 2 : 1;
	params->params[0].value = CStringGetTextDatum(name);
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = TEXTOID;
	if (some)
	{
		params->params[1].value = ids;
		params->params[1].isnull = false;
		params->params[1].pflags = PARAM_FLAG_CONST;
		params->params[1].ptype = INT8ARRAYOID;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = &r.pub;
	ret = SPI_execute_plan_extended(cf_query_plan(nsp, some ? CF_Q_SOME_ITEMS : CF_Q_ITEMS),
									&options);
	/* SPI reports a SELECT into a DestNone receiver as SPI_OK_UTILITY */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading the items of model \"%s\" failed: %s", name,
				SPI_result_code_string(ret));
	SPI_finish();
	MemoryContextDelete(r.rowcxt);

	/* the id map */
	it->map = cf_idmap_create(cxt, Max(it->n, 16), NULL);
	for (int32 j = 0; j < it->n; j++)
	{
		bool		found;
		CfIdEntry  *e = cf_idmap_insert(it->map, it->ids[j], &found);

		e->index = j;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(oldcxt);
	it->bytes = MemoryContextMemAllocated(cxt, true);
	return it;
}

/* Make the cache's context and the end-of-transaction callback, once. */
static void
cache_init(void)
{
	if (cache_cxt == NULL)
	{
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "cf factor cache",
										  ALLOCSET_DEFAULT_SIZES);
		RegisterXactCallback(cache_xact_callback, NULL);
	}
}

/*
 * Error, as reading the rows again would fail, unless the caller may
 * SELECT the columns of cf_item_factors the entry was read from.
 */
static void
check_items_privilege(const CfItems *it)
{
	static const char *const columns[] = {"model", "item_id", "bias", "factors"};
	Oid			user = GetUserId();

	if (pg_class_aclcheck(it->items_relid, user, ACL_SELECT) == ACLCHECK_OK)
		return;
	for (int j = 0; j < lengthof(columns); j++)
	{
		AttrNumber	att = get_attnum(it->items_relid, columns[j]);

		if (att == InvalidAttrNumber ||
			pg_attribute_aclcheck(it->items_relid, att, user, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, "cf_item_factors");
	}
}

/* The shared part of cf_items_acquire and cf_items_acquire_some. */
static CfItems *
items_acquire(Oid nsp, const char *name, const CfModelInfo *info, Datum ids)
{
	CfItems    *it;
	Size		estimate = cf_items_bytes(info->items, info->k);

	cache_init();
	it = cache_find(info);
	if (it != NULL)
	{
		check_items_privilege(it);
		if (it->k != info->k || strcmp(it->name, name) != 0)
			elog(ERROR, "cached items of model \"%s\" do not match its row", name);
		dlist_move_head(&cache_list, &it->lru);
		it->pins++;
		it->hits++;
		return it;
	}

	if (cf_cache_size == 0 || estimate > cache_budget())
	{
		/* not cached: this call's own copy, or only the items it needs */
		if (DatumGetPointer(ids) != NULL)
		{
			ArrayType  *a = DatumGetArrayTypeP(ids);

			estimate = cf_items_bytes(Min(ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)),
										  Max(info->items, 0)), info->k);
		}
		cf_check_memory(estimate, psprintf("serving model \"%s\"", name));
		ereport(DEBUG1,
				(errmsg_internal("cf: model \"%s\" (%zu bytes) is not cached (cf.cache_size is %d MB)",
								 name, estimate, cf_cache_size)));
		it = items_read(nsp, name, info, ids, CurrentMemoryContext);
		it->pins = 1;
		return it;
	}

	/* read it in the caller's memory, so that an error frees it */
	cache_forget_versions(info->relid, name);
	cache_trim(estimate);
	it = items_read(nsp, name, info, (Datum) 0, CurrentMemoryContext);
	it->pins = 1;
	cache_trim(it->bytes);
	if (cache_bytes + it->bytes > cache_budget())
		return it;				/* larger than promised, and no room: not cached */
	MemoryContextSetParent(it->cxt, cache_cxt);
	it->cached = true;
	dlist_push_head(&cache_list, &it->lru);
	cache_bytes += it->bytes;
	return it;
}

/*
 * The items of the model that info (a per-call cf_lookup) describes,
 * pinned until cf_items_release.
 */
CfItems *
cf_items_acquire(Oid nsp, const char *name, const CfModelInfo *info)
{
	return items_acquire(nsp, name, info, (Datum) 0);
}

/*
 * The same for a caller that needs only the items in ids (a bigint[]
 * without NULLs): if the model is not cached and does not fit, only those
 * are read.  Index them with cf_item_index as always.
 */
CfItems *
cf_items_acquire_some(Oid nsp, const char *name, const CfModelInfo *info, Datum ids)
{
	return items_acquire(nsp, name, info, ids);
}

/* Unpin; frees items that are not cached, trims the cache to its budget. */
void
cf_items_release(CfItems *items)
{
	if (!items->cached)
	{
		MemoryContextDelete(items->cxt);
		return;
	}
	if (items->pins > 0)
		items->pins--;
	cache_trim(0);
}

/* Index of an item id, or -1. */
int32
cf_item_index(const CfItems *items, int64 id)
{
	CfIdEntry  *e = cf_idmap_lookup(items->map, id);

	return e ? e->index : -1;
}

/*
 * Store the item indices of the ids given at dst (room for nids); unknown
 * ids are left out.  Returns how many were stored.
 */
int32
cf_item_indices_into(const CfItems *items, const int64 *ids, int nids, int32 *dst)
{
	int32		m = 0;

	for (int j = 0; j < nids; j++)
	{
		int32		i = cf_item_index(items, ids[j]);

		if (i >= 0)
			dst[m++] = i;
		if ((j & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return m;
}

/* Item indices of the ids given; unknown ids are left out. */
int32 *
cf_item_indices(const CfItems *items, const int64 *ids, int nids, int32 *count)
{
	int32	   *idx = palloc(Max(nids, 1) * sizeof(int32));

	*count = cf_item_indices_into(items, ids, nids, idx);
	return idx;
}

/* Q^T Q of all items (k x k, upper), computed once per entry (ssyrk). */
const float *
cf_items_gram(CfItems *items)
{
	if (items->partial)
		elog(ERROR, "the Gramian of model \"%s\" needs all its items", items->name);
	if (items->gram == NULL)
	{
		int			k = items->k;

		/* ssyrk writes the upper triangle: the lower one is zeros, not garbage */
		float	   *g = MemoryContextAllocZero(items->cxt, sizeof(float) * k * k);
		Size		bytes;

		if (k > 0)
			cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, k, items->n, 1.0f,
						items->Q, k, 0.0f, g, k);
		items->gram = g;
		/* the entry grew a little: keep the cache's total exact */
		bytes = MemoryContextMemAllocated(items->cxt, true);
		if (items->cached)
			cache_bytes += bytes - items->bytes;
		items->bytes = bytes;
	}
	return items->gram;
}

PG_FUNCTION_INFO_V1(cf_cache);

/*
 * cf_cache() RETURNS TABLE(model text, version bigint, items bigint,
 *		factors integer, bytes bigint, hits bigint)
 *
 * This backend's cache, most recently used first; only the entries whose
 * model row (at that version) the calling role can see now.
 */
Datum
cf_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *sql;
	dlist_iter	it;
	int			ret;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	sql = psprintf("SELECT tableoid, pg_catalog.pg_relation_filenode(tableoid), ctid, xmin"
				   " FROM %s", cf_table(nsp, "cf_models"));
	ret = SPI_execute(sql, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading cf_models failed: %s", SPI_result_code_string(ret));

	dlist_foreach(it, &cache_list)
	{
		CfItems    *e = dlist_container(CfItems, lru, it.cur);
		bool		visible = false;

		if (e->nsp != nsp)
			continue;
		for (uint64 j = 0; j < SPI_processed && !visible; j++)
		{
			HeapTuple	tup = SPI_tuptable->vals[j];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			CfModelInfo row;

			row.relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
			row.filenode = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
			row.tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(tup, desc, 3, &isnull));
			row.xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 4, &isnull));
			visible = same_row_version(e, &row);
		}
		if (visible)
		{
			Datum		values[6];
			bool		nulls[6] = {0};

			values[0] = CStringGetTextDatum(e->name);
			values[1] = Int64GetDatum(e->version);
			values[2] = Int64GetDatum(e->n);
			values[3] = Int32GetDatum(e->k);
			values[4] = Int64GetDatum((int64) e->bytes);
			values[5] = Int64GetDatum((int64) e->hits);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}

/* Run fn(arg) as cf's own statements on cf_item_factors. */
void
cf_own_item_writes(void (*fn) (void *arg), void *arg)
{
	own_item_writes++;
	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		own_item_writes--;
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(cf_item_factors_changed);

/*
 * cf_item_factors_changed() RETURNS trigger: after an INSERT, UPDATE,
 * DELETE or TRUNCATE of cf_item_factors by any statement but cf's own,
 * give every cf_models row the caller may change a new row version
 * (UPDATE ... SET version = version), so that no backend serves the items
 * it cached before.  A statement trigger knows no rows, hence every model
 * the caller may change; row-level security limits that to its own.
 */
Datum
cf_item_factors_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			nsp;
	Oid			models;
	char	   *sql;
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "cf_item_factors_changed must be called as a statement trigger");
	if (own_item_writes > 0)
		return PointerGetDatum(NULL);

	nsp = RelationGetNamespace(trigdata->tg_relation);
	models = get_relname_relid("cf_models", nsp);
	if (pg_class_aclcheck(models, GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change the item rows of models by hand"),
				 errdetail("A change of cf_item_factors outside cf's functions gives the models a new row version in cf_models, which takes UPDATE on cf_models."),
				 errhint("Grant UPDATE on cf_models to the role, or change models with cf's functions.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	sql = psprintf("UPDATE %s SET version = version", cf_table(nsp, "cf_models"));
	ret = SPI_execute(sql, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "touching the models failed: %s", SPI_result_code_string(ret));
	SPI_finish();
	return PointerGetDatum(NULL);
}
