/*-------------------------------------------------------------------------
 *
 * fuzz_array.c
 *	  libFuzzer harness for the validation of arrays: stored ones
 *	  (src/model.c: cf_copy_array, which reads the factor vectors and the
 *	  rated-item lists of a stored model) and array arguments
 *	  (src/util.c: cf_array_arg, for exclude_items, candidates, user_ids...).
 *
 * The model tables' columns are real[] and bigint[], so what can be stored
 * is any well-formed PostgreSQL array of that type, edited by hand: any
 * number of dimensions, any lengths and lower bounds, NULL elements.  The
 * harness builds such arrays (and some of the wrong element type) and
 * checks that cf_copy_array accepts exactly the one-dimensional ones without
 * NULLs of the expected length, copying their values, and raises
 * ERRCODE_DATA_CORRUPTED for every other; and that cf_array_arg accepts
 * exactly the one-dimensional arrays without a NULL element (a NULL bitmap
 * with no NULL in it is fine), returning their values.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdlib.h>

#include "../../src/model.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const Oid types[] = {FLOAT4OID, INT8OID, INT4OID, FLOAT8OID};
	static const int sizes[] = {4, 8, 4, 8};
	FuzzInput	in = {data, size};
	uint8_t		shape = take_u8(&in);
	int			ndim = shape % 4;
	int			t = (shape / 4) % 4;
	bool		hasnull = (shape / 16) & 1;
	int			want = (shape / 32) % 2;	/* FLOAT4OID or INT8OID */
	int			expected = (int) (take_u8(&in) % 8) - 1;	/* -1 .. 6 */
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	int			nitems = 1;
	int			nvalues = 0;
	Size		bitmapbytes;
	Size		dataoffset;
	Size		total;
	ArrayType  *a;
	char	   *values;
	void	   *dst = NULL;
	volatile int got_n = -1;
	volatile bool raised = true;
	sigjmp_buf	env;

	for (int d = 0; d < ndim; d++)
	{
		dims[d] = take_u8(&in) % 6;
		lbs[d] = (int8) take_u8(&in);
		nitems *= dims[d];
	}
	/* an array with no elements is stored with no dimensions */
	if (ndim == 0 || nitems == 0)
	{
		ndim = 0;
		nitems = 0;
	}
	bitmapbytes = hasnull ? (nitems + 7) / 8 : 0;
	dataoffset = hasnull ? ARR_OVERHEAD_WITHNULLS(ndim, nitems) : 0;
	values = palloc0((Size) nitems * sizes[t] + 1);
	{
		bits8	   *bitmap = palloc0(bitmapbytes + 1);

		for (int j = 0; j < nitems; j++)
		{
			/* with a bitmap, an element is present if its bit is set */
			if (!hasnull || (take_u8(&in) & 3) != 0)
			{
				if (hasnull)
					bitmap[j / 8] |= 1 << (j % 8);
				take_bytes(&in, values + (Size) nvalues * sizes[t], sizes[t]);
				nvalues++;
			}
		}
		total = (hasnull ? dataoffset : ARR_OVERHEAD_NONULLS(ndim)) + (Size) nvalues * sizes[t];
		a = palloc0(total);
		SET_VARSIZE(a, total);
		a->ndim = ndim;
		a->dataoffset = dataoffset;
		a->elemtype = types[t];
		memcpy(ARR_DIMS(a), dims, sizeof(int) * ndim);
		memcpy(ARR_LBOUND(a), lbs, sizeof(int) * ndim);
		if (hasnull)
			memcpy(ARR_NULLBITMAP(a), bitmap, bitmapbytes);
		memcpy(ARR_DATA_PTR(a), values, (Size) nvalues * sizes[t]);
	}

	/* as the scorer calls it: into a k-element buffer, or a new chunk */
	if (expected >= 0)
		dst = palloc(Max((Size) expected * sizes[want], 1));
	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
	{
		int			n = -1;
		void	   *res = cf_copy_array(PointerGetDatum(a), types[want], sizes[want], expected,
										dst, expected >= 0 ? NULL : &n, "fuzzed array");

		got_n = expected >= 0 ? expected : n;
		raised = false;
		REQUIRE(memcmp(res, values, (Size) got_n * sizes[want]) == 0);
	}
	stub_jump = NULL;

	if (t == want && ndim <= 1 && !ARR_HASNULL(a) &&
		(expected < 0 || nitems == expected))
		REQUIRE(!raised && got_n == nitems);
	else
		REQUIRE(raised && stub_errcode == ERRCODE_DATA_CORRUPTED);

	/* the same array as a function argument of its own type */
	{
		volatile int count = -1;
		void	   *vals = NULL;

		LOCAL_FCINFO(fcinfo, 1);
		fcinfo->nargs = 1;
		fcinfo->args[0].value = PointerGetDatum(a);
		fcinfo->args[0].isnull = false;
		raised = true;
		stub_jump = &env;
		if (sigsetjmp(env, 0) == 0)
		{
			count = cf_array_arg(fcinfo, 0, "fuzzed", types[t], &vals);
			raised = false;
		}
		stub_jump = NULL;
		if (ndim > 1)
			REQUIRE(raised && stub_errcode == ERRCODE_ARRAY_SUBSCRIPT_ERROR);
		else if (nvalues < nitems)
			REQUIRE(raised && stub_errcode == ERRCODE_NULL_VALUE_NOT_ALLOWED);
		else
			REQUIRE(!raised && count == nitems &&
					memcmp(vals, values, (Size) nitems * sizes[t]) == 0);
	}

	stub_reset_memory();
	return 0;
}
