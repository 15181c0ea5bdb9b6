/*-------------------------------------------------------------------------
 *
 * bench.c
 *	  Measuring helpers for test/bench/serving.sh and test/bench/als.sh;
 *	  not part of the SQL interface (the benchmarks declare them in their
 *	  own databases).
 *
 * cf_bench_sgemm(n, passes): the GFLOP/s OpenBLAS's sgemm reaches here,
 * on n x n matrices in the backend (with cf.blas_threads threads, 1 by
 * default, as training uses): the reference the ALS benchmark compares its
 * Gram and solve phases to.  One warm-up product, then the median of
 * `passes`, per second of the thread's CPU time.
 *
 * cf_bench_stream(model, passes) times, inside the backend and on the
 * cached item matrix that cf_recommend itself reads, (1) one pass that
 * reads every float of the matrix once and sums it with 16 independent
 * accumulators (vectorized, so memory-bound, not latency-bound): the
 * memory-bandwidth reference; and (2) one sgemv of the matrix with a user
 * vector: the arithmetic core of cf_recommend.  Each is run `passes` times
 * after one warm-up pass, and the medians are returned in milliseconds,
 * so both see the matrix in the same cache state as repeated
 * recommendations do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"

#include "blas.h"
#include "cache.h"
#include "model.h"
#include "simd.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_bench_stream);
PG_FUNCTION_INFO_V1(cf_bench_sgemm);

/*
 * Read every float once; the sum keeps the compiler from skipping it.  64
 * independent accumulators keep enough vector adds in flight that memory,
 * not the add latency, is the limit (SSE2: 16 vectors; AVX2: 8).
 */
static pg_attribute_always_inline float
stream_sum_body(const float *x, Size n)
{
	float		acc[64] = {0};
	float		sum = 0;
	Size		i;

	for (i = 0; i + 64 <= n; i += 64)
		for (int j = 0; j < 64; j++)
			acc[j] += x[i + j];
	for (; i < n; i++)
		sum += x[i];
	for (int j = 0; j < 64; j++)
		sum += acc[j];
	return sum;
}

/* The streaming pass, on the widest vectors this CPU has (chosen in cf_bench_stream). */
CF_KERNEL(float, stream_sum, (const float *x, Size n), (x, n));

/* qsort order of doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * cf_bench_stream(model text, passes int)
 *		RETURNS TABLE(stream_ms float8, sgemv_ms float8, megabytes float8)
 */
Datum
cf_bench_stream(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *model = cf_model_name_arg(fcinfo, 0);
	int			passes = PG_GETARG_INT32(1);
	CfModelInfo info;
	CfItems    *items;
	Size		floats;
	double	   *stream;
	double	   *gemv;
	float	   *p;
	float	   *y;
	volatile float sink = 0;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};

	cf_check_int_arg("passes", passes, 1, 100000);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	cf_lookup(nsp, model, &info, CF_USER_NONE, 0, NULL);
	items = cf_items_acquire(nsp, model, &info);
	floats = (Size) items->n * items->k;
	stream = palloc(sizeof(double) * passes);
	gemv = palloc(sizeof(double) * passes);
	p = palloc(sizeof(float) * items->k);
	y = cf_palloc_huge_array(float, items->n);
	for (int c = 0; c < items->k; c++)
		p[c] = 0.01f * (c + 1);

	CF_CHOOSE_KERNEL(stream_sum);
	sink += stream_sum(items->Q, floats);
	for (int j = 0; j < passes; j++)
	{
		instr_time	start;

		INSTR_TIME_SET_CURRENT(start);
		sink += stream_sum(items->Q, floats);
		stream[j] = cf_seconds_since(start) * 1000;
	}
	for (int j = 0; j <= passes; j++)
	{
		instr_time	start;

		INSTR_TIME_SET_CURRENT(start);
		cblas_sgemv(CblasRowMajor, CblasNoTrans, items->n, items->k, 1.0f, items->Q,
					items->k, p, 1, 0.0f, y, 1);
		if (j > 0)
			gemv[j - 1] = cf_seconds_since(start) * 1000;
		sink += y[0];
	}
	qsort(stream, passes, sizeof(double), cmp_double);
	qsort(gemv, passes, sizeof(double), cmp_double);
	values[0] = Float8GetDatum(stream[passes / 2]);
	values[1] = Float8GetDatum(gemv[passes / 2]);
	values[2] = Float8GetDatum(floats * sizeof(float) / 1048576.0 + 0 * sink);
	cf_items_release(items);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * cf_bench_sgemm(n int, passes int) RETURNS float8
 *
 * Median GFLOP/s (2 n^3 flops a product) of `passes` products C = A B of
 * n x n single-precision matrices, after one warm-up product, per second
 * of this thread's CPU time: the same clock ALS's phase report (DEBUG1)
 * uses, so that other load on a shared machine counts against neither.
 */
Datum
cf_bench_sgemm(PG_FUNCTION_ARGS)
{
	int			n = PG_GETARG_INT32(0);
	int			passes = PG_GETARG_INT32(1);
	float	   *A;
	float	   *B;
	float	   *C;
	double	   *rate;
	pg_prng_state rng;
	double		median;

	cf_check_int_arg("n", n, 1, 8192);
	cf_check_int_arg("passes", passes, 1, 100000);
	A = cf_palloc_huge_array(float, cf_mul_size(n, n));
	B = cf_palloc_huge_array(float, cf_mul_size(n, n));
	C = cf_palloc_huge_array(float, cf_mul_size(n, n));
	rate = palloc(sizeof(double) * passes);
	pg_prng_seed(&rng, 42);
	for (Size j = 0; j < (Size) n * n; j++)
	{
		A[j] = (float) pg_prng_double(&rng) - 0.5f;
		B[j] = (float) pg_prng_double(&rng) - 0.5f;
	}
	for (int j = 0; j <= passes; j++)
	{
		double		start = cf_thread_seconds();
		double		seconds;

		cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n,
					0.0f, C, n);
		seconds = cf_thread_seconds() - start;
		if (j > 0)
			rate[j - 1] = 2.0 * n * n * n / Max(seconds, 1e-9) / 1e9;
		CHECK_FOR_INTERRUPTS();
	}
	qsort(rate, passes, sizeof(double), cmp_double);
	median = rate[passes / 2];
	pfree(A);
	pfree(B);
	pfree(C);
	PG_RETURN_FLOAT8(median);
}
