/*-------------------------------------------------------------------------
 *
 * fuzzinput.h
 *	  Reading typed values off a libFuzzer input, for the cf harnesses.
 *	  Past the end of the input every value reads as zero.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_FUZZINPUT_H
#define CF_FUZZINPUT_H

#include <stdint.h>
#include <string.h>

typedef struct FuzzInput
{
	const uint8_t *data;
	size_t		size;
} FuzzInput;

/* The next n bytes into dst (zeros past the end). */
static inline void
take_bytes(FuzzInput *in, void *dst, size_t n)
{
	size_t		k = n < in->size ? n : in->size;

	memcpy(dst, in->data, k);
	memset((char *) dst + k, 0, n - k);
	in->data += k;
	in->size -= k;
}

#define TAKE(in, type) \
	({ type v_; take_bytes((in), &v_, sizeof(type)); v_; })

static inline uint8_t take_u8(FuzzInput *in) { return TAKE(in, uint8_t); }
static inline uint32_t take_u32(FuzzInput *in) { return TAKE(in, uint32_t); }
static inline int32_t take_i32(FuzzInput *in) { return TAKE(in, int32_t); }
static inline int64_t take_i64(FuzzInput *in) { return TAKE(in, int64_t); }
static inline uint64_t take_u64(FuzzInput *in) { return TAKE(in, uint64_t); }
static inline float take_float(FuzzInput *in) { return TAKE(in, float); }
static inline double take_double(FuzzInput *in) { return TAKE(in, double); }

#endif							/* CF_FUZZINPUT_H */
