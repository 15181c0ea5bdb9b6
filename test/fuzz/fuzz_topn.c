/*-------------------------------------------------------------------------
 *
 * fuzz_topn.c
 *	  libFuzzer harness for cf_top_n (src/score.c), the bounded-heap top-N
 *	  selection behind cf_recommend.
 *
 * An input is n (any int32), a skip flag per item or none, and the item
 * scores as raw float bits (so NaN, infinities, signed zeros and
 * subnormals all occur).  The result must equal a plain sort of the
 * candidates: NaN last, higher scores first, ties by lower index; as many
 * as min(n, candidates), never written past that many.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdlib.h>

#include "../../src/score.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static const float *ref_scores;

/* The order the result must have: NaN last, score desc, index asc. */
static int
ref_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;
	float		sx = ref_scores[x];
	float		sy = ref_scores[y];

	if (isnan(sx) != isnan(sy))
		return isnan(sx) ? 1 : -1;
	if (!isnan(sx) && sx != sy)
		return sx > sy ? -1 : 1;
	return (x > y) - (x < y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	int32		n = take_i32(&in);
	bool		with_skip = take_u8(&in) & 1;
	int32		nitems = (int32) (in.size / (sizeof(float) + (with_skip ? 1 : 0)));
	float	   *scores = palloc(sizeof(float) * Max(nitems, 1));
	bool	   *skip = with_skip ? palloc(Max(nitems, 1)) : NULL;
	int32	   *cand = palloc(sizeof(int32) * Max(nitems, 1));
	int32		ncand = 0;
	int32		want;
	int32	   *out;
	int32		count;

	for (int32 j = 0; j < nitems; j++)
	{
		scores[j] = take_float(&in);
		if (skip)
			skip[j] = take_u8(&in) & 1;
		if (!skip || !skip[j])
			cand[ncand++] = j;
	}
	ref_scores = scores;
	qsort(cand, ncand, sizeof(int32), ref_cmp);

	/* exactly the room cf_recommend gives it: min(n, items) slots */
	want = Max(Min(n, nitems), 0);
	out = palloc(sizeof(int32) * want);
	count = cf_top_n(scores, skip, nitems, n, out);

	REQUIRE(count == Max(Min(n, ncand), 0));
	for (int32 j = 0; j < count; j++)
		REQUIRE(out[j] == cand[j]);

	stub_reset_memory();
	return 0;
}
