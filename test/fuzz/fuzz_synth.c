/*-------------------------------------------------------------------------
 *
 * fuzz_synth.c
 *	  libFuzzer harness for cf_synthetic_ratings' argument checks and
 *	  generator (src/synth.c: synth_init, user_counts, choose_items).
 *
 * An input is the seven arguments, NULL or not.  Arguments outside the
 * documented ranges must raise an ERROR; otherwise the generator must give
 * every user as many distinct items (within range) as its count, the
 * counts must add up to the requested total, and every rating must lie in
 * 1..5.  maintenance_work_mem is small here (1 MB) so that an input runs
 * fast; large sizes then stop at the memory check.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdlib.h>

#include "../../src/synth.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

/* Generate at most this many rows per input. */
#define MAX_ROWS 200000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	uint8_t		nulls = take_u8(&in);
	int32		users = take_i32(&in);
	int32		items = take_i32(&in);
	int64		total = take_i64(&in);
	int32		k = take_i32(&in);
	double		noise = take_double(&in);
	double		skew = take_double(&in);
	int64		seed = take_i64(&in);
	bool		valid;
	SynthState *volatile st = NULL;
	sigjmp_buf	env;

	LOCAL_FCINFO(fcinfo, 7);

	/* mostly small sizes, so that the generator itself runs */
	if (take_u8(&in) & 1)
	{
		users = (int32) ((uint32) users % 300);
		items = (int32) ((uint32) items % 300);
		total = (int64) ((uint64) total % 3000);
		k = (int32) ((uint32) k % 40);
	}
	maintenance_work_mem = 1024;

	fcinfo->nargs = 7;
	fcinfo->args[0].value = Int32GetDatum(users);
	fcinfo->args[1].value = Int32GetDatum(items);
	fcinfo->args[2].value = Int64GetDatum(total);
	fcinfo->args[3].value = Int32GetDatum(k);
	fcinfo->args[4].value = Float8GetDatum(noise);
	fcinfo->args[5].value = Float8GetDatum(skew);
	fcinfo->args[6].value = Int64GetDatum(seed);
	for (int a = 0; a < 7; a++)
		fcinfo->args[a].isnull = (nulls & 0x80) && (nulls & 7) == a;

	valid = !((nulls & 0x80) && (nulls & 7) < 7) &&
		users >= 1 && users <= 100000000 && items >= 1 && items <= 100000000 &&
		total >= 0 && total <= (int64) users * items && k >= 1 && k <= 1024 &&
		noise >= 0 && noise <= 100 && skew >= 0 && skew <= 10;

	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
		st = synth_init(fcinfo);
	stub_jump = NULL;

	if (!valid)
	{
		REQUIRE(st == NULL);
		REQUIRE(stub_errcode == ERRCODE_NULL_VALUE_NOT_ALLOWED ||
				stub_errcode == ERRCODE_INVALID_PARAMETER_VALUE);
	}
	else if (st == NULL)
	{
		/* only the memory check may stop valid arguments */
		REQUIRE(stub_errcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED);
	}
	else if (total <= MAX_ROWS)
	{
		int64		sum = 0;
		int32	   *seen = palloc0(sizeof(int32) * items);

		for (int32 u = 0; u < users; u++)
		{
			sum += st->count[u];
			REQUIRE(st->count[u] >= 0 && st->count[u] <= items);
			st->user = u;
			choose_items(st);
			REQUIRE(st->nchosen == st->count[u]);
			for (int32 j = 0; j < st->nchosen; j++)
			{
				int32		i = st->chosen[j];
				float		r;

				REQUIRE(i >= 0 && i < items);
				REQUIRE(st->stamp[i] == u + 1);
				REQUIRE(seen[i] != u + 1);	/* distinct */
				seen[i] = u + 1;
				r = rating(st, u, i);
				REQUIRE(r >= 1 && r <= 5);
			}
		}
		REQUIRE(sum == total);
	}

	stub_reset_memory();
	return 0;
}
