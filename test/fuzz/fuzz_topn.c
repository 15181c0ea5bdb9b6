/*-------------------------------------------------------------------------
 *
 * fuzz_topn.c
 *	  libFuzzer harness for the top-N selection behind cf_recommend and
 *	  the similarity functions (src/score.c: cf_topn_init, cf_topn_offer,
 *	  cf_topn_add, cf_topn_insert, cf_topn_sort).
 *
 * An input is the limit (any int32, or a small one), whether biases are
 * added, and scores and biases as raw float bits (so NaN, infinities,
 * signed zeros and subnormals all occur), offered in one or two calls.
 * The result must equal a plain sort of the offered pairs: NaN scores left
 * out, higher scores first, ties by lower key; as many as min(limit,
 * pairs).
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdlib.h>

#include "../../src/score.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static const float *ref_v;

/* The order of the result: score desc, key asc. */
static int
ref_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (ref_v[x] != ref_v[y])
		return ref_v[x] > ref_v[y] ? -1 : 1;
	return (x > y) - (x < y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	uint8_t		mode = take_u8(&in);
	int64		limit = (mode & 1) ? take_i32(&in) : (int64) (take_u8(&in) % 20);
	bool		with_bias = mode & 2;
	int32		n = (int32) (in.size / (sizeof(float) * (with_bias ? 2 : 1)));
	int32		split = n > 0 ? (int32) (take_u8(&in) % (n + 1)) : 0;
	float	   *s = palloc(sizeof(float) * Max(n, 1));
	float	   *b = with_bias ? palloc(sizeof(float) * Max(n, 1)) : NULL;
	float	   *v = palloc(sizeof(float) * Max(n, 1));
	int32	   *cand = palloc(sizeof(int32) * Max(n, 1));
	int32		ncand = 0;
	int32		want;
	int32		count;
	CfTopN		t;

	for (int32 j = 0; j < n; j++)
	{
		s[j] = take_float(&in);
		if (b)
			b[j] = take_float(&in);
		v[j] = s[j] + (b ? b[j] : 0.0f);
		if (!isnan(v[j]))
			cand[ncand++] = j;
	}
	ref_v = v;
	qsort(cand, ncand, sizeof(int32), ref_cmp);

	cf_topn_init(&t, limit);
	/*
	 * In two calls, as a scan in chunks would offer them, and in a memory
	 * context that is gone before the sort, as a DestReceiver's is (the
	 * executor's per-query memory): what the selection keeps must not live
	 * there.
	 */
	{
		MemoryContext offer = AllocSetContextCreate(CurrentMemoryContext, "offer",
													ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(offer);

		cf_topn_offer(&t, s, b, 0, split);
		cf_topn_offer(&t, s + split, b, split, n);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(offer);
	}
	count = cf_topn_sort(&t);

	want = (int32) Max(Min(limit, (int64) ncand), 0);
	REQUIRE(count == want);
	for (int32 j = 0; j < count; j++)
	{
		REQUIRE(t.key[j] == cand[j]);
		REQUIRE(t.score[j] == v[cand[j]]);
	}

	stub_reset_memory();
	return 0;
}
