/*-------------------------------------------------------------------------
 *
 * fuzz_load.c
 *	  libFuzzer harness for the loader's per-row checks and canonical
 *	  sort (src/load.c: load_receive, renumber, sort_canonical).
 *
 * An input is the column types (smallint, integer or bigint ids; any of
 * the numeric rating types the loader reads), whether the ids stay small
 * (the loader's direct table) or range over all values (its hash table,
 * and the switch between the two), whether there are only two small user
 * ids (users with 64 ratings or more: the radix sort), and a list of rows,
 * each with NULL flags, two ids and a rating.  The rows go through load_receive as
 * the SPI query would deliver them, then through sort_canonical.  The
 * harness checks against its own reading of the same rows:
 *
 *	- a row with a NaN, infinite or out-of-range rating raises an ERROR (and
 *	  only such a row), rows with a NULL are counted as skipped;
 *	- otherwise the output holds exactly the accepted rows, sorted by (user
 *	  id, item id, rating), ids renumbered densely in ascending order, each
 *	  user's ratings in r[user_start[u] .. user_start[u+1]), and the mean
 *	  between the smallest and the largest rating.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdlib.h>

#include "../../src/load.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_ROWS 4096

/* One accepted row, as the harness reads it. */
typedef struct RefRow
{
	int64		user;
	int64		item;
	float		rating;
} RefRow;

/* qsort order of the reference rows: (user, item, rating). */
static int
ref_cmp(const void *a, const void *b)
{
	const RefRow *x = a;
	const RefRow *y = b;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->rating < y->rating ? -1 : x->rating > y->rating ? 1 : 0;
}

/* An id of the given type from 8 input bytes, as the column would hold it. */
static int64
id_of_type(Oid type, int64 raw, Datum *d)
{
	switch (type)
	{
		case INT2OID:
			*d = Int16GetDatum((int16) raw);
			return (int16) raw;
		case INT4OID:
			*d = Int32GetDatum((int32) raw);
			return (int32) raw;
		default:
			*d = Int64GetDatum(raw);
			return raw;
	}
}

/* A rating of the given type, as the column (or the query's cast) holds it. */
static double
rating_of_type(Oid type, FuzzInput *in, Datum *d)
{
	switch (type)
	{
		case INT2OID:
			{
				int16		v = (int16) take_u32(in);

				*d = Int16GetDatum(v);
				return v;
			}
		case INT4OID:
			{
				int32		v = take_i32(in);

				*d = Int32GetDatum(v);
				return v;
			}
		case INT8OID:
			{
				int64		v = take_i64(in);

				*d = Int64GetDatum(v);
				return (double) v;
			}
		case FLOAT4OID:
			{
				float		v = take_float(in);

				*d = Float4GetDatum(v);
				return v;
			}
		default:
			{
				double		v = take_double(in);

				*d = Float8GetDatum(v);
				return v;
			}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const Oid id_types[] = {INT2OID, INT4OID, INT8OID};
	static const Oid rating_types[] = {INT2OID, INT4OID, INT8OID, FLOAT4OID, FLOAT8OID};
	FuzzInput	in = {data, size};
	uint8_t		t = take_u8(&in);
	uint8_t		mode = take_u8(&in);
	bool		small_ids = mode & 1;	/* the direct table's range */
	bool		few_users = mode & 2;	/* heavy users: the radix sort */
	CfSource	src = {0};
	LoadState	st;
	CfRatings	out;
	RefRow	   *ref;
	volatile int nref = 0;
	volatile int nskipped = 0;
	volatile int bad_row = -1;
	volatile int nrows = 0;
	volatile int rows_fed = 0;
	TupleTableSlot slot;
	Datum		values[3];
	bool		isnull[3];
	sigjmp_buf	env;

	src.rating_column = "rating";
	src.user_type = id_types[t % 3];
	src.item_type = id_types[(t / 3) % 3];
	src.rating_type = rating_types[(t / 9) % 5];

	memset(&st, 0, sizeof(st));
	st.cxt = CurrentMemoryContext;
	st.src = &src;
	st.user_type = src.user_type;
	st.item_type = src.item_type;
	st.rating_type = src.rating_type;
	src.user_ids.integer = src.item_ids.integer = true;
	idlist_init(&st.users, st.cxt, 0, &src.user_ids);
	idlist_init(&st.items, st.cxt, 0, &src.item_ids);

	stub_slot_init(&slot, 3, values, isnull);

	ref = palloc(sizeof(RefRow) * MAX_ROWS);

	/* feed the rows; the loader must stop exactly at the first bad rating */
	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
	{
		while (in.size > 0 && nrows < MAX_ROWS)
		{
			uint8_t		nulls = take_u8(&in);
			int64		raw_user = take_i64(&in);
			int64		raw_item = take_i64(&in);
			int64		user;
			int64		item;

			if (small_ids)
			{
				raw_user = (int64) ((uint64) raw_user % (few_users ? 2 : 3000));
				raw_item = (int64) ((uint64) raw_item % 3000);
			}
			user = id_of_type(src.user_type, raw_user, &values[0]);
			item = id_of_type(src.item_type, raw_item, &values[1]);
			double		rating = rating_of_type(src.rating_type, &in, &values[2]);

			/* about one row in eight has a NULL */
			isnull[0] = (nulls & 7) == 1;
			isnull[1] = (nulls & 7) == 2;
			isnull[2] = (nulls & 7) == 3;
			nrows++;
			if (isnull[0] || isnull[1] || isnull[2])
				nskipped++;
			else if (isnan(rating) || isinf(rating) || fabs(rating) > FLT_MAX)
			{
				if (bad_row < 0)
					bad_row = nrows - 1;
			}
			else if (bad_row < 0)
				ref[nref++] = (RefRow) {user, item, (float) rating};
			load_receive(&slot, &st.pub);
			rows_fed++;
		}
		REQUIRE(bad_row < 0);
	}
	else
	{
		/* raised: only for a bad rating, and at that very row */
		REQUIRE(bad_row >= 0 && rows_fed == bad_row);
		REQUIRE(stub_errcode == ERRCODE_DATA_EXCEPTION ||
				stub_errcode == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE);
		stub_jump = NULL;
		stub_reset_memory();
		return 0;
	}
	stub_jump = NULL;

	REQUIRE(st.n == nref);
	REQUIRE(st.skipped == nskipped);
	if (nref == 0)
	{
		stub_reset_memory();
		return 0;
	}

	idlist_free_maps(&st.users);
	idlist_free_maps(&st.items);
	sort_canonical(&st, &out);

	/* the same rows, in canonical order */
	qsort(ref, nref, sizeof(RefRow), ref_cmp);
	REQUIRE(out.n == nref);
	REQUIRE(out.skipped == nskipped);
	for (int j = 0; j < nref; j++)
	{
		REQUIRE(out.r[j].user >= 0 && out.r[j].user < out.nusers);
		REQUIRE(out.r[j].item >= 0 && out.r[j].item < out.nitems);
		REQUIRE(out.user_ids[out.r[j].user] == ref[j].user);
		REQUIRE(out.item_ids[out.r[j].item] == ref[j].item);
		REQUIRE(out.r[j].rating == ref[j].rating);
	}
	/* dense ids, ascending, every one used */
	for (int32 u = 1; u < out.nusers; u++)
		REQUIRE(out.user_ids[u - 1] < out.user_ids[u]);
	for (int32 i = 1; i < out.nitems; i++)
		REQUIRE(out.item_ids[i - 1] < out.item_ids[i]);
	/* each user's ratings in its own non-empty range */
	REQUIRE(out.user_start[0] == 0 && out.user_start[out.nusers] == out.n);
	for (int32 u = 0; u < out.nusers; u++)
	{
		REQUIRE(out.user_start[u] < out.user_start[u + 1]);
		for (int64 j = out.user_start[u]; j < out.user_start[u + 1]; j++)
			REQUIRE(out.r[j].user == u);
	}
	/* the mean between the extremes (with room for rounding) */
	REQUIRE(out.min <= out.max);
	REQUIRE(out.mean >= out.min - 1e-6 * fabs(out.min) - 1e-30 &&
			out.mean <= out.max + 1e-6 * fabs(out.max) + 1e-30);

	stub_reset_memory();
	return 0;
}
