/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Small helpers shared by every cf module.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "lib/qunique.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "simd.h"
#include "util.h"

#ifdef CF_HAVE_X86_TARGETS
/* Whether this CPU runs the AVX2 + FMA kernels. */
bool
cf_cpu_has_avx2_fma(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

/* Schema the extension lives in: the namespace of the calling C function. */
Oid
cf_extension_schema(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	if (!OidIsValid(nsp))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	return nsp;
}

/* Quoted, schema-qualified name of one of the extension's tables. */
char *
cf_table(Oid nsp, const char *relname)
{
	char	   *nspname = get_namespace_name(nsp);

	if (nspname == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	return quote_qualified_identifier(nspname, relname);
}

/* Error out if argument argno is NULL, naming it. */
void
cf_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", argname)));
}

/*
 * A one-dimensional array argument without NULLs as a C array; returns the
 * element count (0 for an empty array).
 */
int
cf_array_arg(FunctionCallInfo fcinfo, int argno, const char *argname, Oid elemtype,
			 void **values)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_ELEMTYPE(a) != elemtype)
		elog(ERROR, "argument \"%s\" has element type %u, expected %u",
			 argname, ARR_ELEMTYPE(a), elemtype);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"%s\" must be a one-dimensional array", argname),
				 errdetail("The array given has %d dimensions.", ARR_NDIM(a))));
	if (array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not contain nulls", argname)));
	*values = ARR_DATA_PTR(a);
	return ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
}

/* Error out unless min <= value <= max, naming the argument. */
void
cf_check_int_arg(const char *argname, int64 value, int64 min, int64 max)
{
	if (value < min || value > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be between %lld and %lld",
						argname, (long long) min, (long long) max),
				 errdetail("The value given was %lld.", (long long) value)));
}

/* Error out unless value is finite and within [min, max] ((min, max] if asked). */
void
cf_check_float_arg(const char *argname, double value,
				   double min, bool min_exclusive, double max)
{
	if (isnan(value) || isinf(value) ||
		(min_exclusive ? value <= min : value < min) || value > max)
	{
		if (min_exclusive)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"%s\" must be greater than %g and at most %g",
							argname, min, max),
					 errdetail("The value given was %s.", float8out_internal(value))));
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"%s\" must be between %g and %g",
							argname, min, max),
					 errdetail("The value given was %s.", float8out_internal(value))));
	}
}

/* n elements of size bytes, huge allowed, at least one (cf_palloc_huge_array). */
void *
cf_alloc_huge_array(Size n, Size size, int flags)
{
	return palloc_extended(cf_mul_size(Max(n, 1), size), MCXT_ALLOC_HUGE | flags);
}

/* a * b for sizes, with a clear error on overflow. */
Size
cf_mul_size(Size a, Size b)
{
	Size		result;

	if (pg_mul_size_overflow(a, b, &result))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested memory size overflows size_t")));
	return result;
}

/* a + b for sizes, with a clear error on overflow. */
Size
cf_add_size(Size a, Size b)
{
	Size		result;

	if (pg_add_size_overflow(a, b, &result))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested memory size overflows size_t")));
	return result;
}

/*
 * Zero bytes at p 64 MB at a time, checking for interrupts in between: the
 * first touch of a large allocation's pages can take seconds.
 */
void
cf_zero_huge(void *p, Size bytes)
{
	const Size	piece = (Size) 64 * 1024 * 1024;
	char	   *c = p;

	while (bytes > 0)
	{
		Size		n = Min(bytes, piece);

		CHECK_FOR_INTERRUPTS();
		memset(c, 0, n);
		c += n;
		bytes -= n;
	}
}

/* Error out if an operation needs more than maintenance_work_mem. */
void
cf_check_memory(Size bytes, const char *operation)
{
	Size		limit = (Size) maintenance_work_mem * 1024;

	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs %zu MB of memory, but maintenance_work_mem is %zu MB",
						operation, (bytes >> 20) + ((bytes & ((1 << 20) - 1)) != 0),
						limit >> 20),
				 errhint("Increase maintenance_work_mem, for example with SET maintenance_work_mem = '%zuMB'.",
						 ((bytes >> 20) + 64) & ~(Size) 63)));
}

/* Seconds elapsed since start. */
double
cf_seconds_since(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/*
 * This thread's CPU seconds (wall seconds where there is no such clock):
 * for timing work on a shared machine, where waiting for a core should
 * not count.  A system call (about a microsecond).
 */
double
cf_thread_seconds(void)
{
#ifdef CLOCK_THREAD_CPUTIME_ID
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		return ts.tv_sec + ts.tv_nsec * 1e-9;
#endif
	{
		instr_time	now;

		INSTR_TIME_SET_CURRENT(now);
		return INSTR_TIME_GET_DOUBLE(now);
	}
}

/* A standard normal draw (Box-Muller) from a seeded generator. */
double
cf_normal(pg_prng_state *rng)
{
	double		u1 = 1.0 - pg_prng_double(rng);	/* in (0, 1] */
	double		u2 = pg_prng_double(rng);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/*
 * n standard normal draws into out: Marsaglia's polar method, both values
 * of each pair used (no trigonometry, half the logarithms of cf_normal).
 */
void
cf_normals(pg_prng_state *rng, float *out, int n, double scale)
{
	for (int j = 0; j < n; j += 2)
	{
		double		u,
					v,
					s,
					f;

		do
		{
			u = 2 * pg_prng_double(rng) - 1;
			v = 2 * pg_prng_double(rng) - 1;
			s = u * u + v * v;
		} while (s >= 1 || s == 0);
		f = scale * sqrt(-2 * log(s) / s);
		out[j] = (float) (u * f);
		if (j + 1 < n)
			out[j + 1] = (float) (v * f);
	}
}

/* A random permutation of 0..n-1 into perm (Fisher-Yates) from a seeded generator. */
void
cf_permute(int32 *perm, int32 n, pg_prng_state *rng)
{
	for (int32 j = 0; j < n; j++)
		perm[j] = j;
	for (int32 j = n - 1; j > 0; j--)
	{
		int32		r = (int32) pg_prng_uint64_range(rng, 0, j);
		int32		t = perm[j];

		perm[j] = perm[r];
		perm[r] = t;
	}
}

/* The argument of cmp_key_order. */
typedef struct KeyOrder
{
	const int64 *key;
	bool		descending;
	uint32		calls;
} KeyOrder;

/*
 * qsort_arg order of indices by key, then by index.  Checks for interrupts
 * every 2^20 comparisons: qsort_arg allocates nothing, so an error may
 * leave it at any point, and millions of indices take seconds.
 */
static int
cmp_key_order(const void *a, const void *b, void *arg)
{
	int32		ia = *(const int32 *) a;
	int32		ib = *(const int32 *) b;
	KeyOrder   *o = arg;

	if ((++o->calls & 0xFFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	if (o->key[ia] != o->key[ib])
		return (o->key[ia] < o->key[ib]) == o->descending ? 1 : -1;
	return (ia > ib) - (ia < ib);
}

/* order := 0..n-1 by key (ascending, or descending), ties by index. */
void
cf_order_by_key(int32 *order, int32 n, const int64 *key, bool descending)
{
	KeyOrder	o = {key, descending, 0};

	for (int32 i = 0; i < n; i++)
		order[i] = i;
	qsort_arg(order, n, sizeof(int32), cmp_key_order, &o);
}

/* qsort order of int32 values. */
int
cf_cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* qsort order of int64 values. */
static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sort n values in place and drop repeats (qunique); returns the new count. */
int32
cf_sort_unique_int32(int32 *v, int32 n)
{
	if (n <= 1)
		return n;
	qsort(v, n, sizeof(int32), cf_cmp_int32);
	return (int32) qunique(v, n, sizeof(int32), cf_cmp_int32);
}

/* The same for int64 values. */
int32
cf_sort_unique_int64(int64 *v, int32 n)
{
	if (n <= 1)
		return n;
	qsort(v, n, sizeof(int64), cmp_int64);
	return (int32) qunique(v, n, sizeof(int64), cmp_int64);
}

/* (util.h) Index of key in the n ascending values v, or -1. */
int32
cf_find_int64(const int64 *v, int32 n, int64 key)
{
	int32		lo = 0;
	int32		hi = n - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (v[mid] == key)
			return mid;
		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* No-op start, shutdown and destroy of the receivers below. */
static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_noop(DestReceiver *self)
{
}

/*
 * Set up dest (the first member of a caller's struct) to hand every row of
 * an SPI query to receive, for reading rows as they are produced, without
 * a tuplestore.
 */
void
cf_init_receiver(DestReceiver *dest, bool (*receive) (TupleTableSlot *slot, DestReceiver *self))
{
	dest->receiveSlot = receive;
	dest->rStartup = receiver_startup;
	dest->rShutdown = receiver_noop;
	dest->rDestroy = receiver_noop;
	dest->mydest = DestNone;
}

/*
 * Text of a model name argument, checked to be non-null, non-empty and at
 * most CF_MAX_MODEL_NAME bytes (a longer name might not fit the primary key
 * index of cf_models, and training would fail only when storing).
 */
char *
cf_model_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;
	size_t		len;

	cf_require_arg(fcinfo, argno, "model");
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	len = strlen(name);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (len > CF_MAX_MODEL_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errdetail("The name has %zu bytes; the limit is %d.", len, CF_MAX_MODEL_NAME)));
	return name;
}

/*
 * (util.h) The float's shortest digits (Ryu, as float4out prints them),
 * read back into a double: m x 10^e with m < 2^32 is rounded correctly by
 * one multiplication or division when |e| <= 22, as 10^e is then exact
 * (Clinger's fast path of strtod); strtod for the rest.
 */
double
cf_float4_double(double value)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	float		f = (float) value;
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];
	const char *c = buf;
	bool		negative = false;
	uint64		m = 0;
	int			e = 0;

	if (!isfinite(f))
		return value;
	float_to_shortest_decimal_buf(f, buf);
	if (*c == '-')
	{
		negative = true;
		c++;
	}
	for (; *c; c++)
	{
		if (*c >= '0' && *c <= '9')
			m = m * 10 + (*c - '0');
		else if (*c == '.')
		{
			/* digits after the point lower the exponent */
			for (c++; *c >= '0' && *c <= '9'; c++, e--)
				m = m * 10 + (*c - '0');
			c--;
		}
		else if (*c == 'e')
		{
			e += atoi(c + 1);
			break;
		}
	}
	if (e < -22 || e > 22)
		return strtod(buf, NULL);
	return (negative ? -1.0 : 1.0) * (e >= 0 ? (double) m * pow10[e] : (double) m / pow10[-e]);
}
