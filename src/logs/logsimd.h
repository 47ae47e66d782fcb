/*
 * logsimd.h - the readers' structural pass: separator positions for a whole
 * line, 64 bytes a step, with the widest vector instructions the CPU runs.
 *
 * A splitter is chosen at run time (sk_split_best: AVX-512BW, else AVX2,
 * else SSE2, the x86-64 baseline; the portable scalar loop elsewhere), and
 * every path gives the same result: the tests and fuzz/fuzz_log_split.c
 * compare them on random and hostile input.  SK_SIMD=scalar|sse2|avx2|avx512
 * in the environment caps the path (benchmarks, bug reports).
 */
#ifndef SCHAKEL_LOGSIMD_H
#define SCHAKEL_LOGSIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extra entries a splitter may write past bd[maxc] (scratch, never read). */
#define SK_SPLIT_SLACK 64

typedef enum sk_split_path {
	SK_SPLIT_SCALAR = 0,
	SK_SPLIT_SSE2,
	SK_SPLIT_AVX2,
	SK_SPLIT_AVX512,
	SK_SPLIT_NPATHS
} sk_split_path;

/*
 * Split s[0..n) on sep: bd[0] = 0 and bd[k] = 1 + the offset of the k-th
 * separator; returns the column count (separators + 1).  More than
 * maxc + 1 columns: stops at the first separator past bd[maxc] and returns
 * maxc + 1 with *bs false.  Else *bs tells whether s holds a backslash.  bd holds at least
 * maxc + 1 + SK_SPLIT_SLACK entries; n < UINT32_MAX.
 */
typedef size_t (*sk_split_fn)(const char *s, size_t n, char sep, uint32_t *bd, size_t maxc,
                              bool *bs);

/* The splitter of that path, or NULL if this build or CPU lacks it. */
sk_split_fn sk_split_impl(sk_split_path path);
/* The best path this CPU runs (capped by SK_SIMD), and its splitter. */
sk_split_path sk_split_best_path(void);
sk_split_fn sk_split_best(void);
const char *sk_split_path_name(sk_split_path path);

#endif
