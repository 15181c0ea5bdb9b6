/*-------------------------------------------------------------------------
 *
 * simd.h
 *	  Vectors of 8 floats for the training kernels (GCC/Clang vector
 *	  extensions): one AVX register in the kernels compiled for AVX2, two
 *	  SSE registers (or scalars) elsewhere.  Factor rows are padded with
 *	  zeros to a multiple of 8 floats (CF_LANES), so whole vectors cover
 *	  them.  Everything here is always inlined into the kernels of sgd.c and
 *	  als.c, which are compiled once per target (see util.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SIMD_H
#define CF_SIMD_H

/* 8 floats as one vector, unaligned. */
typedef float v8 __attribute__((vector_size(32), aligned(4)));

/* 8 ints, as the comparisons of two v8 give them (-1 true, 0 false). */
typedef int32 v8i __attribute__((vector_size(32), aligned(4)));

#define V8(p) (*(const v8 *) (p))
#define V8W(p) (*(v8 *) (p))

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
