/*
 * fuzz_log_split.c - libFuzzer target: every column splitter this CPU runs
 * (logs/logsimd.h) gives the scalar loop's columns and backslash flag on
 * arbitrary bytes.  The first byte picks the separator and the column limit;
 * the input is copied to a buffer of exactly its size, so that a read past
 * its end is an ASan report.
 */
#include "logs/logsimd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXC 600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t want[MAXC + 1 + SK_SPLIT_SLACK], got[MAXC + 1 + SK_SPLIT_SLACK];
	if (size < 1)
		return 0;
	char sep = (data[0] & 0x80) ? (char)data[0] : '\t';
	size_t maxc = 1 + (size_t)(data[0] & 0x7f) * 4;
	size_t n = size - 1;
	char *s = malloc(n ? n : 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, n);
	bool wbs, gbs;
	size_t wn = sk_split_impl(SK_SPLIT_SCALAR)(s, n, sep, want, maxc, &wbs);
	for (int p = SK_SPLIT_SSE2; p < SK_SPLIT_NPATHS; p++) {
		sk_split_fn f = sk_split_impl((sk_split_path)p);
		if (!f)
			continue;
		size_t gn = f(s, n, sep, got, maxc, &gbs);
		if (gn != wn || gbs != wbs ||
		    memcmp(got, want, (wn < maxc + 1 ? wn : maxc + 1) * sizeof(uint32_t)) != 0)
			abort();
	}
	free(s);
	return 0;
}
