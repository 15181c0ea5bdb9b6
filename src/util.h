/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Small helpers shared by every cf module: argument checks, names of
 *	  the extension's tables, size arithmetic, the memory budget, timing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_UTIL_H
#define CF_UTIL_H

#include "fmgr.h"
#include "common/pg_prng.h"
#include "portability/instr_time.h"
#include "tcop/dest.h"

/* PostgreSQL 18's spelling of a function that does not return (C11's _Noreturn) */
#ifndef pg_noreturn
#define pg_noreturn _Noreturn
#endif

/* Schema the extension lives in (the namespace of the calling function). */
extern Oid	cf_extension_schema(FunctionCallInfo fcinfo);

/* Quoted, schema-qualified name of one of the extension's tables. */
extern char *cf_table(Oid nsp, const char *relname);

/* Error out if argument argno is NULL, naming it. */
extern void cf_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname);

/*
 * A one-dimensional array argument without NULLs of the given element type
 * as a C array: error if it has more dimensions or NULLs.  Returns the
 * element count (0 for an empty array).
 */
extern int	cf_array_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
						 Oid elemtype, void **values);

/* Error out unless min <= value <= max, naming the argument. */
extern void cf_check_int_arg(const char *argname, int64 value, int64 min, int64 max);

/* Error out unless value is finite and min <= value <= max (min exclusive if asked). */
extern void cf_check_float_arg(const char *argname, double value,
							   double min, bool min_exclusive, double max);

/* a * b and a + b for sizes, with a clear error on overflow. */
extern Size cf_mul_size(Size a, Size b);
extern Size cf_add_size(Size a, Size b);

/*
 * n elements of type T in CurrentMemoryContext, past 1 GB if need be, the
 * size multiplied with an overflow check; at least one, so n may be 0.
 * cf_palloc0_huge_array zeroes them.
 */
#define cf_palloc_huge_array(T, n) ((T *) cf_alloc_huge_array((n), sizeof(T), 0))
#define cf_palloc0_huge_array(T, n) ((T *) cf_alloc_huge_array((n), sizeof(T), MCXT_ALLOC_ZERO))
extern void *cf_alloc_huge_array(Size n, Size size, int flags);

/* memset(p, 0, bytes) in pieces, cancellable between them. */
extern void cf_zero_huge(void *p, Size bytes);

/* Error out if an operation needs more than maintenance_work_mem. */
extern void cf_check_memory(Size bytes, const char *operation);

/* Seconds elapsed since start. */
extern double cf_seconds_since(instr_time start);

/* This thread's CPU seconds (wall seconds where there is no such clock). */
extern double cf_thread_seconds(void);

/* A standard normal draw (Box-Muller) from a seeded generator. */
extern double cf_normal(pg_prng_state *rng);

/* n standard normal draws times scale into out (pairs by the polar method). */
extern void cf_normals(pg_prng_state *rng, float *out, int n, double scale);

/* A random permutation of 0..n-1 into perm from a seeded generator. */
extern void cf_permute(int32 *perm, int32 n, pg_prng_state *rng);

/*
 * order := 0..n-1 sorted by key (ascending, or descending), ties by index,
 * cancellable.
 */
extern void cf_order_by_key(int32 *order, int32 n, const int64 *key, bool descending);

/* qsort order of int32 values. */
extern int	cf_cmp_int32(const void *a, const void *b);

/* Sort n values in place and drop repeats; return the new count. */
extern int32 cf_sort_unique_int32(int32 *v, int32 n);
extern int32 cf_sort_unique_int64(int64 *v, int32 n);

/* Index of key in the n ascending values v, or -1 (binary search). */
extern int32 cf_find_int64(const int64 *v, int32 n, int64 key);

/* Set up a DestReceiver that hands each row of a query to receive. */
extern void cf_init_receiver(DestReceiver *dest,
							 bool (*receive) (TupleTableSlot *slot, DestReceiver *self));

/*
 * A value computed in single precision (a score, a similarity) as the
 * double that prints as briefly as the float: 0.056f as 0.056, not
 * 0.0560000017285347.  The float's digits are all it has.
 */
extern double cf_float4_double(double value);

/* The model a call names when it names none. */
#define CF_DEFAULT_MODEL "default"

/* Longest model name, in bytes. */
#define CF_MAX_MODEL_NAME 1024

/* Text of a model name argument, checked to be non-empty and not too long. */
extern char *cf_model_name_arg(FunctionCallInfo fcinfo, int argno);

#endif							/* CF_UTIL_H */
