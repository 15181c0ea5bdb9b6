/*-------------------------------------------------------------------------
 *
 * simd.h
 *	  The training kernels' vectors of 8 floats, and how a kernel is
 *	  compiled for several CPUs and chosen for the one it runs on.
 *
 * A kernel is an always-inline function name##_body; CF_KERNEL makes of
 * it two functions, name##_generic (any CPU) and, on x86-64 with GCC or
 * Clang, name##_avx2 (compiled for AVX2 with FMA), and the pointer `name`
 * that callers use.  The pointer starts at the generic variant;
 * CF_CHOOSE_KERNEL(name) sets it to the fastest this CPU runs, which each
 * kernel file does in its init function, called once from _PG_init (in
 * every process, parallel workers included, so all choose alike).  The
 * same scheme as pgvector's halfvec distance functions.
 *
 * The vectors (GCC/Clang vector extensions) are one AVX register in the
 * AVX2 variants, two SSE registers (or scalars) elsewhere.  Factor rows
 * are padded with zeros to a multiple of 8 floats (CF_LANES), so whole
 * vectors cover them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SIMD_H
#define CF_SIMD_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CF_HAVE_X86_TARGETS 1
#define CF_TARGET_AVX2 __attribute__((target("avx2,fma")))

/* Whether this CPU runs the AVX2 + FMA variants. */
extern bool cf_cpu_has_avx2_fma(void);
#endif

/*
 * CF_KERNEL(ret, name, params, args): the variants of a kernel returning
 * ret whose parameters are params, each calling name##_body args, and its
 * pointer `name` (static to the file; CF_KERNEL_EXTERN instead names it in
 * a header and CF_KERNEL_POINTER defines it).  CF_KERNEL_VOID for kernels
 * that return nothing.  CF_KERNEL_AVX2_ONLY: no generic variant, the
 * pointer NULL where the CPU cannot run the AVX2 one (callers have a
 * fallback of their own).
 */
#ifdef CF_HAVE_X86_TARGETS
#define CF_KERNEL_VARIANTS(ret, name, params, args) \
	static ret name##_generic params { return name##_body args; } \
	CF_TARGET_AVX2 static ret name##_avx2 params { return name##_body args; }
#define CF_KERNEL_VARIANTS_VOID(name, params, args) \
	static void name##_generic params { name##_body args; } \
	CF_TARGET_AVX2 static void name##_avx2 params { name##_body args; }
#define CF_CHOOSE_KERNEL(name) \
	((name) = cf_cpu_has_avx2_fma() ? name##_avx2 : name##_generic)
#define CF_KERNEL_AVX2_ONLY(name, params, args) \
	CF_TARGET_AVX2 static void name##_avx2 params { name##_body args; }
#define CF_CHOOSE_KERNEL_AVX2_ONLY(name) \
	((name) = cf_cpu_has_avx2_fma() ? name##_avx2 : NULL)
#else
#define CF_KERNEL_VARIANTS(ret, name, params, args) \
	static ret name##_generic params { return name##_body args; }
#define CF_KERNEL_VARIANTS_VOID(name, params, args) \
	static void name##_generic params { name##_body args; }
#define CF_CHOOSE_KERNEL(name) ((name) = name##_generic)
#define CF_KERNEL_AVX2_ONLY(name, params, args)
#define CF_CHOOSE_KERNEL_AVX2_ONLY(name) ((name) = NULL)
#endif

#define CF_KERNEL(ret, name, params, args) \
	CF_KERNEL_VARIANTS(ret, name, params, args) \
	static ret (*name) params = name##_generic
#define CF_KERNEL_VOID(name, params, args) \
	CF_KERNEL_VARIANTS_VOID(name, params, args) \
	static void (*name) params = name##_generic
#define CF_KERNEL_EXTERN(ret, name, params) \
	extern ret (*name) params
#define CF_KERNEL_POINTER(ret, name, params) \
	ret (*name) params = name##_generic

/* 8 floats as one vector, unaligned. */
typedef float v8 __attribute__((vector_size(32), aligned(4)));

/* 8 ints, as the comparisons of two v8 give them (-1 true, 0 false). */
typedef int32 v8i __attribute__((vector_size(32), aligned(4)));

#define V8(p) (*(const v8 *) (p))
#define V8W(p) (*(v8 *) (p))

/* Compiler builtins are used only where the compiler says it has them. */
#ifdef __has_builtin
#define CF_HAS_BUILTIN(x) __has_builtin(x)
#else
#define CF_HAS_BUILTIN(x) 0
#endif

/*
 * V8_SHUFFLE(a, b, i0, ..., i7): the v8 whose lane j is lane i_j of the 16
 * lanes of a then b (constants).  Clang and GCC 12+ have
 * __builtin_shufflevector; GCC 11 has __builtin_shuffle, which takes the
 * lanes as a vector; any other compiler of vector extensions builds the
 * vector lane by lane.
 */
#if CF_HAS_BUILTIN(__builtin_shufflevector)
#define V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
	__builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#elif CF_HAS_BUILTIN(__builtin_shuffle)
#define V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
	__builtin_shuffle(a, b, (v8i) {i0, i1, i2, i3, i4, i5, i6, i7})
#else
#define V8_LANE(a, b, i) ((i) < 8 ? (a)[(i) & 7] : (b)[(i) & 7])
#define V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
	((v8) {V8_LANE(a, b, i0), V8_LANE(a, b, i1), V8_LANE(a, b, i2), V8_LANE(a, b, i3), \
		   V8_LANE(a, b, i4), V8_LANE(a, b, i5), V8_LANE(a, b, i6), V8_LANE(a, b, i7)})
#endif

/* Prefetch the cache line at p for writing, where the compiler can. */
#if CF_HAS_BUILTIN(__builtin_prefetch)
#define CF_PREFETCH_WRITE(p) __builtin_prefetch((p), 1)
#else
#define CF_PREFETCH_WRITE(p) ((void) (p))
#endif

/* Sum of the 8 lanes, always in the same order. */
static pg_attribute_always_inline float
v8_hsum(const v8 *a)
{
	return (((*a)[0] + (*a)[4]) + ((*a)[1] + (*a)[5])) +
		(((*a)[2] + (*a)[6]) + ((*a)[3] + (*a)[7]));
}

/*
 * a . v over stride floats (a multiple of 8), with two accumulators to
 * halve the chain of dependent additions.
 */
static pg_attribute_always_inline float
v8_dot(const float *a, const float *v, int stride)
{
	v8			acc0 = {0};
	v8			acc1 = {0};
	int			c = 0;

	for (; c + 16 <= stride; c += 16)
	{
		acc0 += V8(a + c) * V8(v + c);
		acc1 += V8(a + c + 8) * V8(v + c + 8);
	}
	if (c < stride)
		acc0 += V8(a + c) * V8(v + c);
	acc0 += acc1;
	return v8_hsum(&acc0);
}

#endif							/* CF_SIMD_H */
