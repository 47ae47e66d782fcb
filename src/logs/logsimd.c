/*
 * logsimd.c - the column splitter of logsimd.h, one per instruction set.
 *
 * Each vector path classifies 64 bytes at once into two bitmasks (separator,
 * backslash), as simdjson's stage 1 does, then walks the separator bits.
 * The last partial block is the line's last 64 bytes read again with the
 * bytes already seen shifted out of the masks (a line under 64 bytes is
 * copied into a zeroed buffer; AVX-512BW loads it masked), so no path reads
 * past s + n.  The x86 paths are
 * compiled with target attributes, so the build needs no -m flag and the
 * choice is made once per reader from __builtin_cpu_supports.
 */
#include "logsimd.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SK_X86 1
#include <immintrin.h>
#endif

/*
 * Separator bits of m, block at offset base - 1, into bd from nc; SIZE_MAX
 * when a separator would be written past bd[maxc].
 */
static inline size_t emit(uint32_t *bd, size_t nc, uint64_t m, uint32_t base, size_t maxc)
{
	if (nc + 64 <= maxc + 1) {
		while (m) {
			bd[nc++] = base + (uint32_t)__builtin_ctzll(m);
			m &= m - 1;
		}
		return nc;
	}
	while (m) {
		if (nc > maxc)
			return SIZE_MAX;
		bd[nc++] = base + (uint32_t)__builtin_ctzll(m);
		m &= m - 1;
	}
	return nc;
}

static size_t split_scalar(const char *s, size_t n, char sep, uint32_t *bd, size_t maxc, bool *bs)
{
	size_t nc = 1;
	bool b = false;

	bd[0] = 0;
	for (size_t i = 0; i < n; i++) {
		b |= s[i] == '\\';
		if (s[i] == sep) {
			if (nc > maxc) {
				*bs = false;
				return nc;
			}
			bd[nc++] = (uint32_t)(i + 1);
		}
	}
	*bs = b;
	return nc;
}

#if defined(SK_X86)

/* The generic block loop; BLOCK(p, &ms, &mb) classifies 64 bytes at p. */
#define SPLIT_LOOP(BLOCK)                                                                          \
	do {                                                                                       \
		size_t nc = 1, i = 0;                                                              \
		uint64_t anybs = 0, ms, mb;                                                        \
		bd[0] = 0;                                                                         \
		for (; i + 64 <= n; i += 64) {                                                     \
			BLOCK(s + i, &ms, &mb);                                                    \
			anybs |= mb;                                                               \
			if (ms && (nc = emit(bd, nc, ms, (uint32_t)i + 1, maxc)) == SIZE_MAX)      \
				goto over;                                                         \
		}                                                                                  \
		if (i < n && n >= 64) { /* the last 64 bytes again, the seen ones shifted out */   \
			unsigned drop = (unsigned)(64 - (n - i));                                  \
			BLOCK(s + n - 64, &ms, &mb);                                               \
			anybs |= mb >> drop;                                                       \
			ms >>= drop;                                                               \
			if (ms && (nc = emit(bd, nc, ms, (uint32_t)i + 1, maxc)) == SIZE_MAX)      \
				goto over;                                                         \
		} else if (i < n) { /* a short line: through a zeroed copy */                      \
			unsigned char tail[64] = {0};                                              \
			memcpy(tail, s + i, n - i);                                                \
			uint64_t keep = (1ULL << (n - i)) - 1;                                     \
			BLOCK((const char *)tail, &ms, &mb);                                       \
			anybs |= mb & keep;                                                        \
			ms &= keep;                                                                \
			if (ms && (nc = emit(bd, nc, ms, (uint32_t)i + 1, maxc)) == SIZE_MAX)      \
				goto over;                                                         \
		}                                                                                  \
		*bs = anybs != 0;                                                                  \
		return nc;                                                                         \
	over:                                                                                      \
		*bs = false;                                                                       \
		return maxc + 1;                                                                   \
	} while (0)

static inline __attribute__((always_inline)) void blk_sse2(const char *p, __m128i sv, __m128i bv,
                                                           uint64_t *ms, uint64_t *mb)
{
	uint64_t a = 0, b = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
		a |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sv)) << (16 * k);
		b |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bv)) << (16 * k);
	}
	*ms = a;
	*mb = b;
}

static size_t split_sse2(const char *s, size_t n, char sep, uint32_t *bd, size_t maxc, bool *bs)
{
	const __m128i sv = _mm_set1_epi8(sep), bv = _mm_set1_epi8('\\');
#define B_SSE2(p, ms, mb) blk_sse2(p, sv, bv, ms, mb)
	SPLIT_LOOP(B_SSE2);
#undef B_SSE2
}

__attribute__((target("avx2,bmi"))) static inline __attribute__((always_inline)) void
blk_avx2(const char *p, __m256i sv, __m256i bv, uint64_t *ms, uint64_t *mb)
{
	__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	*ms = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, sv)) |
	      (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, sv)) << 32;
	*mb = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, bv)) |
	      (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, bv)) << 32;
}

__attribute__((target("avx2,bmi"))) static size_t split_avx2(const char *s, size_t n, char sep,
                                                             uint32_t *bd, size_t maxc, bool *bs)
{
	const __m256i sv = _mm256_set1_epi8(sep), bv = _mm256_set1_epi8('\\');
#define B_AVX2(p, ms, mb) blk_avx2(p, sv, bv, ms, mb)
	SPLIT_LOOP(B_AVX2);
#undef B_AVX2
}

__attribute__((target("avx512f,avx512bw,bmi"))) static size_t
split_avx512(const char *s, size_t n, char sep, uint32_t *bd, size_t maxc, bool *bs)
{
	const __m512i sv = _mm512_set1_epi8(sep), bv = _mm512_set1_epi8('\\');
	size_t nc = 1, i = 0;
	uint64_t anybs = 0;

	bd[0] = 0;
	for (; i < n; i += 64) {
		__mmask64 keep = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
		__m512i v = _mm512_maskz_loadu_epi8(keep, s + i);
		uint64_t ms = _mm512_mask_cmpeq_epi8_mask(keep, v, sv);
		anybs |= _mm512_mask_cmpeq_epi8_mask(keep, v, bv);
		if (ms && (nc = emit(bd, nc, ms, (uint32_t)i + 1, maxc)) == SIZE_MAX) {
			*bs = false;
			return maxc + 1;
		}
	}
	*bs = anybs != 0;
	return nc;
}

#endif /* SK_X86 */

sk_split_fn sk_split_impl(sk_split_path path)
{
	switch (path) {
	case SK_SPLIT_SCALAR:
		return split_scalar;
#if defined(SK_X86)
	case SK_SPLIT_SSE2:
		return split_sse2;
	case SK_SPLIT_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") ? split_avx2
		                                                                       : NULL;
	case SK_SPLIT_AVX512:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi")
		           ? split_avx512
		           : NULL;
#endif
	default:
		return NULL;
	}
}

static const char *const names[SK_SPLIT_NPATHS] = {"scalar", "sse2", "avx2", "avx512"};

const char *sk_split_path_name(sk_split_path path)
{
	return (unsigned)path < SK_SPLIT_NPATHS ? names[path] : "?";
}

sk_split_path sk_split_best_path(void)
{
	int cap = SK_SPLIT_NPATHS - 1;
	const char *e = getenv("SK_SIMD");
	if (e)
		for (int i = 0; i < SK_SPLIT_NPATHS; i++)
			if (strcmp(e, names[i]) == 0)
				cap = i;
	for (int i = cap; i > 0; i--)
		if (sk_split_impl((sk_split_path)i))
			return (sk_split_path)i;
	return SK_SPLIT_SCALAR;
}

sk_split_fn sk_split_best(void)
{
	return sk_split_impl(sk_split_best_path());
}
