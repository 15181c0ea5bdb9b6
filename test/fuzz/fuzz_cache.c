/*-------------------------------------------------------------------------
 *
 * fuzz_cache.c
 *	  libFuzzer harness for the factor cache (src/cache.c: cf_items_acquire,
 *	  cf_items_acquire_some, cf_items_release, cf_items_gram, cf_item_index,
 *	  its reader and eviction) with the real row checks of src/model.c
 *	  (cf_copy_array, cf_check_stored_row).
 *
 * An input is a cache size and up to 64 calls of a backend serving three
 * models: acquires (all items, or some ids) of a model row version
 * (CfModelInfo: k, items hint, identity relid/filenode/tid/xmin),
 * releases, Gramians, commits, SET cf.cache_size, and edits: a new row
 * version (maybe with another k, name, hint or rows) or, as a user editing
 * cf_models might try, the same identity with another k, name or rows, or
 * another model's identity.  A stubbed SPI_execute_plan_extended feeds the
 * cache's DestReceiver the model's rows, each in memory reset after it:
 * ids ascending or not, NULLs, biases, and arrays of any element type,
 * dimensions, length, NULL bitmap and float bits.
 *
 * A finding is a crash or sanitizer report, or:
 *	- an error other than XX001 at the first bad row (XX000 at the first
 *	  id out of order), a size limit (54000), a cached entry of the same
 *	  identity but another k or name, or the Gramian of a partial read;
 *	  or a bad row accepted;
 *	- items whose k, identity or name differ from the call's, a partial
 *	  read for cf_items_acquire, or contents other than the rows delivered
 *	  when the entry was read (count, bits, ids strictly ascending, all
 *	  finite, cf_item_index finding each id and not the next one up).
 *	  Items are first scored with exactly info.k floats a row, as score.c
 *	  does, so that items of a smaller k overflow;
 *	- a Gramian other than Q^T Q (upper triangle, zeros below);
 *	- a cache byte count other than the sum of its entries' (each its
 *	  context's memory), a row version cached twice, or pins other than
 *	  the acquires held.  Held items are checked after every call, so an
 *	  entry freed while pinned is a use after free.
 * An ERROR ends the transaction as an abort does (the end-of-transaction
 * callback, the transaction's memory freed); the cache lives on.
 *
 * Also links: src/model.c src/ids.c -lopenblas
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <float.h>
#include <stdlib.h>

#include "../../src/cache.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int			LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

#define NSP 2200
#define MAX_SLOTS 3
#define MAX_ROWS 256
#define MAX_K 40
#define MAX_OPS 64
#define MAX_HELD 16
#define MAX_IDS 16

int			cf_cache_size = 1;	/* cf.c's setting */

static const char *const names[] = {"m0", "m1", "m2"};

/* What is wrong with an item row (ids out of order are judged as delivered). */
typedef enum Defect
{
	OK, NULL_ID, NULL_BIAS, NULL_FACTORS, BAD_TYPE, BAD_DIMS, BAD_LENGTH,
	NULL_ELEMENT, EMPTY_BITMAP, BAD_FACTOR, BAD_BIAS, NDEFECTS
} Defect;

/* A row of cf_item_factors; its array is built when it is delivered. */
typedef struct Row
{
	int64		id;
	float		bias;
	Defect		defect;
	Oid			elemtype;
	int			ndim;
	int			dims[2];
	int			nelems;
	uint32		raw[2 * (MAX_K + 1)];	/* element bits; floats for FLOAT4 */
} Row;

/* A model: its cf_models row (as cf_lookup reads it) and its item rows. */
typedef struct Slot
{
	CfModelInfo info;
	int			name;
	int			nrows;
	Row			rows[MAX_ROWS];
} Slot;

/* What a read delivered, for as long as its entry may be served. */
typedef struct Read
{
	CfItems    *it;
	CfModelInfo info;
	bool		full;
	int			n;
	int64	   *ids;
	float	   *bias;
	float	   *Q;
} Read;

static Slot slots[MAX_SLOTS];
static Read reads[MAX_OPS + 1];	/* reads[nreads]: the one under way */
static int	nreads;
static Read *held[MAX_HELD];	/* acquired, not released */
static int	nheld;
static uint32 next_xmin;		/* of the next new row version */
static Oid	next_filenode;		/* of the next rewrite of cf_models */
static MemoryContext xact_cxt;	/* the transaction's memory */
static MemoryContext harness_cxt;	/* the reads', for the whole input */
static Slot *cur_slot;			/* the model being acquired */
static bool read_done;			/* whether the acquire read rows */
static int	delivering = -1;	/* the row being delivered, or -1 */
static int	expected_code;		/* its error, or 0 */
static XactCallback xact_cb;
static void *xact_cb_arg;
static char plan_sql[CF_NUM_QUERIES][512];
static int	nplans;

/* ---------------------------------------------------------------- stubs */

/* The cache's end-of-transaction callback, which end_xact() calls. */
void
RegisterXactCallback(XactCallback callback, void *arg)
{
	xact_cb = callback;
	xact_cb_arg = arg;
}

/* cf_item_factors' OID, for the privilege check on a hit. */
Oid
get_relname_relid(const char *relname, Oid relnamespace)
{
	return 16390;
}

/* No column for the id types (tables as before 0.4.0): integer ids. */
AttrNumber
get_attnum(Oid relid, const char *attname)
{
	return InvalidAttrNumber;
}

/* The caller may read cf_item_factors. */
Oid
GetUserId(void)
{
	return 10;
}

AclResult
pg_class_aclcheck(Oid table_oid, Oid roleid, AclMode mode)
{
	return ACLCHECK_OK;
}

/* A plan is its SQL text, kept for good (cf_query_plan keeps the plans). */
SPIPlanPtr
SPI_prepare(const char *src, int nargs, Oid *argtypes)
{
	REQUIRE(nplans < CF_NUM_QUERIES);
	snprintf(plan_sql[nplans], sizeof(plan_sql[0]), "%s", src);
	return (SPIPlanPtr) plan_sql[nplans++];
}

/* (the plans are static already) */
int
SPI_keepplan(SPIPlanPtr plan)
{
	return 0;
}

/* A row's factors as a stored array (in the current context). */
static Datum
build_array(const Row *row)
{
	int			elemsize = (row->elemtype == INT8OID || row->elemtype == FLOAT8OID) ? 8 : 4;
	bool		bitmap = row->defect == NULL_ELEMENT || row->defect == EMPTY_BITMAP;
	int			nvalues = row->nelems - (row->defect == NULL_ELEMENT);
	Size		offset = bitmap ? ARR_OVERHEAD_WITHNULLS(row->ndim, row->nelems) :
		ARR_OVERHEAD_NONULLS(row->ndim);
	ArrayType  *a = palloc0(offset + (Size) nvalues * elemsize);

	SET_VARSIZE(a, offset + (Size) nvalues * elemsize);
	a->ndim = row->ndim;
	a->dataoffset = bitmap ? offset : 0;
	a->elemtype = row->elemtype;
	for (int d = 0; d < row->ndim; d++)
	{
		ARR_DIMS(a)[d] = row->dims[d];
		ARR_LBOUND(a)[d] = 1 - d;
	}
	/* NULL_ELEMENT: the middle one is NULL */
	for (int j = 0; bitmap && j < row->nelems; j++)
		if (j != row->nelems / 2 || row->defect == EMPTY_BITMAP)
			ARR_NULLBITMAP(a)[j / 8] |= 1 << (j % 8);
	memcpy(ARR_DATA_PTR(a), row->raw, (Size) nvalues * elemsize);
	return PointerGetDatum(a);
}

/*
 * Whether a row without NULL columns must fail the checks for k factors
 * (the order aside): not a real[] of k values without a NULL bitmap, or
 * not finite.  (k may have changed since the row was made.)
 */
static bool
row_bad(const Row *row, int k)
{
	return row->elemtype != FLOAT4OID || row->ndim > 1 || row->nelems != k ||
		row->defect == NULL_ELEMENT || row->defect == EMPTY_BITMAP ||
		row->defect == BAD_FACTOR || row->defect == BAD_BIAS;
}

/* Whether a bigint[] holds id. */
static bool
array_has(ArrayType *a, int64 id)
{
	for (int j = 0; j < ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)); j++)
		if (((int64 *) ARR_DATA_PTR(a))[j] == id)
			return true;
	return false;
}

/*
 * The items query: the model's rows (for CF_Q_SOME_ITEMS those with an id
 * in $2) in the table's order into the receiver, each in memory reset
 * after it; what was accepted goes into reads[nreads].
 */
int
SPI_execute_plan_extended(SPIPlanPtr plan, const SPIExecuteOptions *options)
{
	const char *sql = (const char *) plan;
	ParamListInfo params = options->params;
	bool		some = strstr(sql, "ANY ($2)") != NULL;
	ArrayType  *ids = some ? DatumGetArrayTypeP(params->params[1].value) : NULL;
	int			k = cur_slot->info.k;
	Read	   *r = &reads[nreads];
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "per-row",
												 ALLOCSET_DEFAULT_SIZES);
	TupleTableSlot slot;
	Datum		values[3];
	bool		isnull[3];

	REQUIRE(strstr(sql, "cf_item_factors") != NULL && strstr(sql, "ORDER BY item_id") != NULL);
	REQUIRE(params->numParams == (some ? 2 : 1) && options->read_only);
	REQUIRE(strcmp(TextDatumGetCString(params->params[0].value), names[cur_slot->name]) == 0);
	REQUIRE(!some || params->params[1].ptype == INT8ARRAYOID);
	REQUIRE(!read_done && nreads <= MAX_OPS);
	read_done = true;
	r->it = ((ItemReader *) options->dest)->items;
	r->info = cur_slot->info;
	r->full = !some;
	r->n = 0;
	r->ids = MemoryContextAlloc(harness_cxt, sizeof(int64) * MAX_ROWS);
	r->bias = MemoryContextAlloc(harness_cxt, sizeof(float) * MAX_ROWS);
	r->Q = MemoryContextAlloc(harness_cxt, sizeof(float) * MAX_ROWS * Max(k, 1));
	stub_slot_init(&slot, 3, values, isnull);
	options->dest->rStartup(options->dest, CMD_SELECT, slot.tts_tupleDescriptor);
	for (int j = 0; j < cur_slot->nrows; j++)
	{
		const Row  *row = &cur_slot->rows[j];
		MemoryContext old;

		if (some && (row->defect == NULL_ID || !array_has(ids, row->id)))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		isnull[0] = row->defect == NULL_ID;
		isnull[1] = row->defect == NULL_BIAS;
		isnull[2] = row->defect == NULL_FACTORS;
		values[0] = Int64GetDatum(row->id);
		values[1] = Float4GetDatum(row->bias);
		values[2] = isnull[2] ? (Datum) 0 : build_array(row);
		MemoryContextSwitchTo(old);
		if (isnull[0] || isnull[1] || isnull[2])
			expected_code = ERRCODE_DATA_CORRUPTED;
		else if (r->n > 0 && row->id <= r->ids[r->n - 1])
			expected_code = ERRCODE_INTERNAL_ERROR;
		else
			expected_code = row_bad(row, k) ? ERRCODE_DATA_CORRUPTED : 0;
		delivering = j;
		options->dest->receiveSlot(&slot, options->dest);
		delivering = -1;
		REQUIRE(expected_code == 0);
		MemoryContextReset(rowcxt);
		r->ids[r->n] = row->id;
		r->bias[r->n] = row->bias;
		memcpy(&r->Q[r->n * k], row->raw, sizeof(float) * k);
		r->n++;
	}
	options->dest->rShutdown(options->dest);
	MemoryContextDelete(rowcxt);
	return SPI_OK_UTILITY;		/* what SPI says for a DestNone receiver */
}

/* ------------------------------------------------------------ the input */

/* A finite value: small, raw bits (non-finite ones read as 0), or an extreme. */
static float
take_value(FuzzInput *in, int mode)
{
	static const float extreme[] = {FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN,
	-FLT_TRUE_MIN, 0.0f, -0.0f, 1e30f};
	float		v;

	if (mode == 0)
		return (int8) take_u8(in) / 8.0f;
	if (mode == 2)
		return extreme[take_u8(in) % lengthof(extreme)];
	v = take_float(in);
	return isfinite(v) ? v : 0.0f;
}

/* A factor count: mostly 0..16, sometimes up to MAX_K. */
static int
take_k(FuzzInput *in)
{
	uint8_t		b = take_u8(in);

	return b < 224 ? b % 17 : 17 + b % (MAX_K - 16);
}

/* The items hint of cf_models (any int64: right, wrong, huge, negative). */
static int64
take_hint(FuzzInput *in, int n)
{
	int64		hints[] = {n, n, n, n, n / 2, 2 * n + 3, 0, -1, 6000, 14000, 40000, 1000000};
	uint8_t		b = take_u8(in) % (lengthof(hints) + 1);

	return b < lengthof(hints) ? hints[b] : take_i64(in);
}

/* Give a row the shape (or bias) of defect d, for k factors. */
static void
make_defect(FuzzInput *in, Row *row, Defect d, int k)
{
	uint8_t		x = take_u8(in);

	if (d == EMPTY_BITMAP && k == 0)
		d = NULL_ELEMENT;
	if (d == BAD_FACTOR && k == 0)
		d = BAD_BIAS;
	row->defect = d;
	if (d == BAD_TYPE)
		row->elemtype = (Oid[]) {INT8OID, FLOAT8OID, INT4OID}[x % 3];
	else if (d == BAD_DIMS)
	{
		row->ndim = 2;
		row->nelems = Max(k, 1);
		row->dims[x & 1] = 1;
		row->dims[1 - (x & 1)] = row->nelems;
	}
	else if (d == BAD_LENGTH || d == NULL_ELEMENT)
	{
		if (d == NULL_ELEMENT)
			row->nelems = Max(k, 1);
		else
			row->nelems = (k == 0 || x % 3 == 0) ? k + 1 : (x % 3 == 1 ? k - 1 : 0);
		row->ndim = row->nelems > 0 ? 1 : 0;
		row->dims[0] = row->nelems;
	}
	else if (d == BAD_BIAS)
		row->bias = (float[]) {NAN, INFINITY, -INFINITY}[x % 3];
}

/*
 * A model's rows for k factors: ids ascending from any start by steps of
 * 1..4 (wrapping past INT64_MAX), some out of order or with a defect.
 */
static void
make_rows(FuzzInput *in, Slot *s)
{
	uint8_t		b = take_u8(in);
	uint8_t		m = take_u8(in);
	bool		defects = !(m & 0x80);
	int64		id = (m & 4) ? take_i64(in) : 1 + (m >> 3);
	int			k = s->info.k;

	s->nrows = b >= 224 ? take_u8(in) : b % 24;
	for (int j = 0; j < s->nrows; j++)
	{
		Row		   *row = &s->rows[j];
		uint8_t		d = take_u8(in);
		int			words;

		if (j > 0)
			id = (int64) ((uint64) id + 1 + (d & 3));
		if (defects && (d >> 2) == 1 && j > 0)
			id = (int64) ((uint64) s->rows[j - 1].id - take_u8(in) % 3);
		memset(row, 0, sizeof(Row));
		row->id = id;
		row->bias = take_value(in, m % 3);
		row->elemtype = FLOAT4OID;
		row->nelems = row->dims[0] = k;
		row->ndim = k > 0 ? 1 : 0;
		if (defects && (d >> 2) == 0)
			make_defect(in, row, 1 + take_u8(in) % (NDEFECTS - 1), k);
		words = row->nelems * ((row->elemtype == INT8OID || row->elemtype == FLOAT8OID) ? 2 : 1);
		for (int c = 0; c < words; c++)
		{
			float		v = take_value(in, m % 3);

			memcpy(&row->raw[c], &v, sizeof(float));
		}
		if (row->defect == BAD_FACTOR)
		{
			uint8_t		x = take_u8(in);

			row->raw[x % k] = (uint32[]) {0x7fc00000, 0x7f800000, 0xff800000,
			0x7f800001 + x, 0xffffffff}[x % 5];
		}
	}
}

/*
 * A new row version of a slot's model row, as PostgreSQL makes them: an
 * UPDATE (new xmin, the tid maybe one another version had, as after a
 * VACUUM), or a rewrite of cf_models (new filenode, xmin kept, any tid).
 * Tids come from a few, so that versions share them.
 */
static void
new_identity(FuzzInput *in, Slot *s)
{
	uint8_t		f = take_u8(in);

	if (f & 1)
		s->info.filenode = next_filenode++;
	else
		s->info.xmin = next_xmin++;
	if (f & 2)
		ItemPointerSet(&s->info.tid, 0, 1 + (f >> 2) % 3);
	if ((f >> 5) == 7)
		s->info.relid = 16384 + (f & 4);
	s->info.version++;
}

/* Edit a slot: maybe another k, name, item rows or items hint. */
static void
edit_slot(FuzzInput *in, Slot *s)
{
	uint8_t		f = take_u8(in);

	if (f & 1)
		s->info.k = take_k(in);
	if (f & 2)
		s->name = take_u8(in) % MAX_SLOTS;
	if (f & 4)
		make_rows(in, s);
	if (f & 8)
		s->info.items = take_hint(in, s->nrows);
}

/* --------------------------------------------------------------- checks */

/* The identity of a row version, of a CfModelInfo or a CfItems. */
#define IDENTITY(x) (x)->relid, (x)->filenode, (x)->tid, (x)->xmin

/* Whether two identities are one row version (the harness's own test). */
static bool
same_identity(Oid r1, Oid f1, ItemPointerData t1, TransactionId x1,
			  Oid r2, Oid f2, ItemPointerData t2, TransactionId x2)
{
	return r1 == r2 && f1 == f2 && x1 == x2 && ItemPointerEquals(&t1, &t2);
}

/* Items hold exactly the rows their read delivered, findable by id. */
static void
check_content(const CfItems *it, const Read *r)
{
	int			k = r->info.k;

	REQUIRE(it->k == k && it->n == r->n);
	for (int32 i = 0; i < it->n; i++)
	{
		REQUIRE(it->ids[i] == r->ids[i] && (i == 0 || it->ids[i - 1] < it->ids[i]));
		REQUIRE(isfinite(it->bias[i]) && memcmp(&it->bias[i], &r->bias[i], sizeof(float)) == 0);
		for (int c = 0; c < k; c++)
			REQUIRE(isfinite(it->Q[(Size) i * k + c]));
		REQUIRE(memcmp(&it->Q[(Size) i * k], &r->Q[(Size) i * k], sizeof(float) * k) == 0);
		REQUIRE(cf_item_index(it, it->ids[i]) == i);
		if ((i + 1 == it->n || it->ids[i + 1] != it->ids[i] + 1) && it->ids[i] != PG_INT64_MAX)
			REQUIRE(cf_item_index(it, it->ids[i] + 1) == -1);
	}
}

/* Items returned for info: scored as score.c does, then checked. */
static void
check_returned(CfItems *it, const CfModelInfo *info, const char *name, bool full, const Read *r)
{
	volatile float sink = 0;

	for (int32 i = 0; i < it->n; i++)
	{
		float		s = it->bias[i];

		for (int c = 0; c < info->k; c++)
			s += ((c % 7) - 3) * 0.25f * it->Q[(Size) i * info->k + c];
		sink += s;
	}
	REQUIRE(it->k == info->k && strcmp(it->name, name) == 0);
	REQUIRE(same_identity(IDENTITY(info), IDENTITY(it)));
	REQUIRE(same_identity(IDENTITY(info), IDENTITY(&r->info)));
	REQUIRE(it->partial == !r->full && (!full || r->full));
	check_content(it, r);
}

/* How many of the held acquires are of it. */
static int
held_pins(const CfItems *it)
{
	int			pins = 0;

	for (int j = 0; j < nheld; j++)
		pins += held[j]->it == it;
	return pins;
}

/*
 * The cache: its byte count is its entries' (each its context's memory),
 * no row version twice, pins are the acquires held; and every held item
 * still holds its rows.
 */
static void
check_cache(void)
{
	dlist_iter	iter;
	dlist_iter	other;
	Size		total = 0;

	dlist_foreach(iter, &cache_list)
	{
		CfItems    *e = dlist_container(CfItems, lru, iter.cur);

		REQUIRE(e->cached && !e->partial && e->pins == held_pins(e));
		REQUIRE(e->bytes == MemoryContextMemAllocated(e->cxt, true));
		total += e->bytes;
		dlist_foreach(other, &cache_list)
			REQUIRE(other.cur == iter.cur ||
					!same_identity(IDENTITY(e), IDENTITY(dlist_container(CfItems, lru, other.cur))));
	}
	REQUIRE(total == cache_bytes);
	for (int j = 0; j < nheld; j++)
	{
		REQUIRE(held[j]->it->pins == held_pins(held[j]->it));
		check_content(held[j]->it, held[j]);
	}
}

/* ---------------------------------------------------------------- calls */

/* End the transaction as a commit or an abort does: unpin, free its memory. */
static void
end_xact(XactEvent event)
{
	MemoryContextSwitchTo(TopMemoryContext);
	if (xact_cb)
		xact_cb(event, xact_cb_arg);
	stub_spi_abort();
	MemoryContextReset(xact_cxt);
	MemoryContextSwitchTo(xact_cxt);
	nheld = 0;
	delivering = -1;
}

/* An error: one the call may raise?  Then abort. */
static void
after_error(bool mismatch, bool partial_gram)
{
	if (delivering >= 0)
		REQUIRE(expected_code != 0 && stub_errcode == expected_code);
	else
		REQUIRE(stub_errcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
				(mismatch && strstr(stub_errmsg, "do not match") != NULL) ||
				(partial_gram && strstr(stub_errmsg, "needs all its items") != NULL));
	end_xact(XACT_EVENT_ABORT);
}

/* Release a held acquire (uncached items are freed: forget them). */
static void
release(int j)
{
	cf_items_release(held[j]->it);
	held[j] = held[--nheld];
}

/* cf_items_acquire (or _some, of ids from the input) of a slot's model row. */
static void
acquire(FuzzInput *in, Slot *s, bool some)
{
	const char *name = names[s->name];
	int			nids = some ? take_u8(in) % (MAX_IDS + 1) : 0;
	ArrayType  *ids = palloc0(ARR_OVERHEAD_NONULLS(1) + sizeof(int64) * MAX_IDS);
	bool		mismatch = false;
	bool		cached = false;
	dlist_iter	iter;
	CfItems    *volatile it = NULL;
	Read	   *r;
	sigjmp_buf	env;

	if (nheld == MAX_HELD)
		release(0);
	SET_VARSIZE(ids, ARR_OVERHEAD_NONULLS(nids > 0) + sizeof(int64) * nids);
	ids->ndim = nids > 0;
	ids->elemtype = INT8OID;
	ARR_DIMS(ids)[0] = nids;
	ARR_LBOUND(ids)[0] = 1;
	for (int j = 0; j < nids; j++)
	{
		uint8_t		b = take_u8(in);

		((int64 *) ARR_DATA_PTR(ids))[j] = (s->nrows > 0 && b < 192) ?
			(int64) ((uint64) s->rows[b % s->nrows].id + (b & 1)) : take_i64(in);
	}
	/* a hit on an entry of another k or name must fail */
	dlist_foreach(iter, &cache_list)
	{
		CfItems    *e = dlist_container(CfItems, lru, iter.cur);

		if (same_identity(IDENTITY(&s->info), IDENTITY(e)))
		{
			cached = true;
			mismatch = e->k != s->info.k || strcmp(e->name, name) != 0;
		}
	}

	cur_slot = s;
	read_done = false;
	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
		it = some ? cf_items_acquire_some(NSP, name, &s->info, PointerGetDatum(ids)) :
			cf_items_acquire(NSP, name, &s->info);
	stub_jump = NULL;
	if (it == NULL)
	{
		after_error(mismatch, false);
		return;
	}
	/* what this read delivered, or the latest read of the entry hit */
	r = read_done ? &reads[nreads++] : NULL;
	for (int j = nreads - 1; r == NULL && j >= 0; j--)
		if (reads[j].it == it)
			r = &reads[j];
	REQUIRE(r != NULL && r->it == it);
	check_returned(it, &s->info, name, !some, r);
	REQUIRE(!mismatch && read_done != cached);
	held[nheld++] = r;
}

/* cf_items_gram of a held entry: Q^T Q in the upper triangle, zeros below. */
static void
gram(CfItems *it)
{
	int			k = it->k;
	const float *volatile g = NULL;
	sigjmp_buf	env;

	/* (for k = 0 ssyrk only prints a complaint about lda = 0: not asked here) */
	if (k == 0)
		return;
	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
		g = cf_items_gram(it);
	stub_jump = NULL;
	REQUIRE((g == NULL) == it->partial);
	if (g == NULL)
	{
		after_error(false, true);
		return;
	}
	for (int a = 0; a < k; a++)
		for (int c = 0; c < k; c++)
		{
			double		ref = 0;
			double		mag = 0;

			for (int32 i = 0; i < it->n; i++)
			{
				double		p = (double) it->Q[(Size) i * k + a] * it->Q[(Size) i * k + c];

				ref += p;
				mag += fabs(p);
			}
			if (a > c)
				REQUIRE(g[a + c * k] == 0);
			else if (mag < FLT_MAX / 2)
				REQUIRE(fabs(g[a + c * k] - ref) <= 1e-3 * mag + 1e-30);
		}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	openblas_set_num_threads(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int cache_sizes[] = {0, 1, 2, 8};
	FuzzInput	in = {data, size};

	xact_cxt = AllocSetContextCreate(TopMemoryContext, "transaction", ALLOCSET_DEFAULT_SIZES);
	harness_cxt = AllocSetContextCreate(TopMemoryContext, "harness", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(xact_cxt);
	nreads = nheld = 0;
	next_xmin = take_u32(&in);
	cf_cache_size = cache_sizes[take_u8(&in) % lengthof(cache_sizes)];
	next_filenode = 20000;
	for (int j = 0; j < MAX_SLOTS; j++)
	{
		memset(&slots[j].info, 0, sizeof(CfModelInfo));
		slots[j].name = j;
		slots[j].info.k = take_k(&in);
		slots[j].info.item_type = INT8OID;
		slots[j].info.relid = 16384;
		slots[j].info.filenode = 16384;
		slots[j].info.xmin = next_xmin++;
		ItemPointerSet(&slots[j].info.tid, 0, 1 + take_u8(&in) % 3);
		make_rows(&in, &slots[j]);
		slots[j].info.items = take_hint(&in, slots[j].nrows);
	}

	for (int op = 0; op < MAX_OPS && in.size > 0; op++)
	{
		uint8_t		b = take_u8(&in);
		Slot	   *s = &slots[(b >> 4) % MAX_SLOTS];
		Slot	   *o;

		switch (b % 16)
		{
			case 0: case 1: case 2: case 3: case 4: case 5:
				acquire(&in, s, false);
				break;
			case 6: case 7: case 8:
				acquire(&in, s, true);
				break;
			case 9:
				if (nheld > 0)
					release(take_u8(&in) % nheld);
				break;
			case 10:
				if (nheld > 0)
					gram(held[take_u8(&in) % nheld]->it);
				break;
			case 11:
				/* a new row version: a training, or any UPDATE of the row */
				new_identity(&in, s);
				edit_slot(&in, s);
				break;
			case 12:
				/* what no edit can do: the same row version, other contents */
				edit_slot(&in, s);
				break;
			case 13:
				/* ... or another model's row version */
				o = &slots[take_u8(&in) % MAX_SLOTS];
				s->info.relid = o->info.relid;
				s->info.filenode = o->info.filenode;
				s->info.tid = o->info.tid;
				s->info.xmin = o->info.xmin;
				break;
			case 14:
				end_xact(XACT_EVENT_COMMIT);
				break;
			default:
				cf_cache_size = cache_sizes[take_u8(&in) % lengthof(cache_sizes)];
				break;
		}
		check_cache();
	}

	/* commit, then trim to nothing: nothing may remain */
	end_xact(XACT_EVENT_COMMIT);
	check_cache();
	cf_cache_size = 0;
	cache_trim(0);
	REQUIRE(dlist_is_empty(&cache_list) && cache_bytes == 0);
	stub_reset_memory();
	cache_cxt = NULL;
	return 0;
}
