/*-------------------------------------------------------------------------
 *
 * fuzz_args.c
 *	  libFuzzer harness for cf's argument checks (src/util.c):
 *	  cf_check_int_arg, cf_check_float_arg, cf_mul_size, cf_add_size,
 *	  cf_check_memory and cf_model_name_arg.
 *
 * Each input picks one check and its values; the harness computes the
 * expected outcome independently and aborts (a finding) when the check
 * disagrees: an error where none is due, none where one is, a wrong
 * SQLSTATE, a wrong result, or a memory error message that understates the
 * need.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "fuzzinput.h"
#include "util.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run check with env; true if it raised an ERROR. */
#define RAISES(call) \
	({ sigjmp_buf env_; volatile bool raised_ = true; stub_jump = &env_; \
	   if (sigsetjmp(env_, 0) == 0) { call; raised_ = false; } \
	   stub_jump = NULL; raised_; })

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	uint8_t		op = take_u8(&in);

	switch (op % 6)
	{
		case 0:
			{
				int64_t		v = take_i64(&in);
				int64_t		lo = take_i64(&in);
				int64_t		hi = take_i64(&in);
				bool		raised = RAISES(cf_check_int_arg("x", v, lo, hi));

				REQUIRE(raised == (v < lo || v > hi));
				REQUIRE(!raised || stub_errcode == ERRCODE_INVALID_PARAMETER_VALUE);
				break;
			}
		case 1:
			{
				double		v = take_double(&in);
				double		lo = take_double(&in);
				double		hi = take_double(&in);
				bool		excl = take_u8(&in) & 1;
				bool		bad;
				bool		raised;

				/* cf's bounds are finite constants with lo <= hi */
				if (!isfinite(lo))
					lo = 0;
				if (!isfinite(hi))
					hi = 0;
				if (lo > hi)
				{
					double		t = lo;

					lo = hi;
					hi = t;
				}
				bad = isnan(v) || isinf(v) || (excl ? !(v > lo) : !(v >= lo)) ||
					!(v <= hi);
				raised = RAISES(cf_check_float_arg("x", v, lo, excl, hi));

				REQUIRE(raised == bad);
				REQUIRE(!raised || stub_errcode == ERRCODE_INVALID_PARAMETER_VALUE);
				break;
			}
		case 2:
		case 3:
			{
				Size		a = take_u64(&in);
				Size		b = take_u64(&in);
				Size		expect;
				volatile Size got = 0;
				bool		overflow = (op % 6 == 2) ? __builtin_mul_overflow(a, b, &expect) :
					__builtin_add_overflow(a, b, &expect);
				bool		raised = RAISES(got = (op % 6 == 2) ? cf_mul_size(a, b) : cf_add_size(a, b));

				REQUIRE(raised == overflow);
				REQUIRE(raised ? stub_errcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED : got == expect);
				break;
			}
		case 4:
			{
				Size		bytes = take_u64(&in);
				Size		limit;
				bool		raised;

				/* the setting's range: 1 MB .. MAX_KILOBYTES kB */
				maintenance_work_mem = 1024 + take_u32(&in) % (MAX_KILOBYTES - 1024 + 1);
				limit = (Size) maintenance_work_mem * 1024;
				raised = RAISES(cf_check_memory(bytes, "fuzzing"));
				REQUIRE(raised == (bytes > limit));
				if (raised)
				{
					const char *needs = strstr(stub_errmsg, "needs ");
					unsigned long long mb;

					REQUIRE(stub_errcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED);
					REQUIRE(needs != NULL);
					mb = strtoull(needs + 6, NULL, 10);
					/* the message may round up, never down */
					REQUIRE(mb >= bytes / (1024 * 1024) + (bytes % (1024 * 1024) != 0));
				}
				break;
			}
		default:
			{
				bool		isnull = take_u8(&in) & 1;
				size_t		len = in.size;
				text	   *t = palloc(VARHDRSZ + len);
				volatile char *name = NULL;
				size_t		cstrlen;
				bool		raised;

				LOCAL_FCINFO(fcinfo, 1);

				SET_VARSIZE(t, VARHDRSZ + len);
				memcpy(VARDATA(t), in.data, len);
				fcinfo->nargs = 1;
				fcinfo->args[0].value = PointerGetDatum(t);
				fcinfo->args[0].isnull = isnull;
				raised = RAISES(name = cf_model_name_arg(fcinfo, 0));
				cstrlen = strnlen((const char *) in.data, len);
				if (isnull)
					REQUIRE(raised && stub_errcode == ERRCODE_NULL_VALUE_NOT_ALLOWED);
				else if (cstrlen == 0)
					REQUIRE(raised && stub_errcode == ERRCODE_INVALID_PARAMETER_VALUE);
				else if (cstrlen > CF_MAX_MODEL_NAME)
					REQUIRE(raised && stub_errcode == ERRCODE_NAME_TOO_LONG);
				else
					REQUIRE(!raised && strlen((char *) name) == cstrlen &&
							memcmp((char *) name, in.data, cstrlen) == 0);
				break;
			}
	}
	stub_reset_memory();
	return 0;
}
