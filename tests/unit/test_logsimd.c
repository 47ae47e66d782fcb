/*
 * test_logsimd.c - every column splitter this CPU runs (logsimd.h) gives
 * the scalar loop's result: random lines of separators, backslashes and
 * bytes around them, every length across the 64-byte block edges, lines
 * at and past the column limit, and a separator of any byte value.
 */
#include "logs/logsimd.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MAXC 40

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

/* Compare every available path with the scalar one on s[0..n). */
static void agree(const char *s, size_t n, char sep, size_t maxc)
{
	uint32_t want[MAXC * 8 + 1 + SK_SPLIT_SLACK], got[MAXC * 8 + 1 + SK_SPLIT_SLACK];
	bool wbs = true, gbs = true;
	size_t wn = sk_split_impl(SK_SPLIT_SCALAR)(s, n, sep, want, maxc, &wbs);

	cr_assert_leq(wn, maxc + 1);
	for (int p = SK_SPLIT_SSE2; p < SK_SPLIT_NPATHS; p++) {
		sk_split_fn f = sk_split_impl((sk_split_path)p);
		if (!f)
			continue;
		memset(got, 0xa5, sizeof(got));
		gbs = !wbs;
		size_t gn = f(s, n, sep, got, maxc, &gbs);
		cr_assert_eq(gn, wn, "%s: %zu columns, scalar %zu (n %zu)",
		             sk_split_path_name((sk_split_path)p), gn, wn, n);
		cr_assert_eq(gbs, wbs, "%s: backslash flag (n %zu)",
		             sk_split_path_name((sk_split_path)p), n);
		cr_assert_arr_eq(got, want, (wn < maxc + 1 ? wn : maxc + 1) * sizeof(uint32_t),
		                 "%s: column offsets differ (n %zu)",
		                 sk_split_path_name((sk_split_path)p), n);
	}
}

Test(logsimd, scalar_contract)
{
	uint32_t bd[8 + SK_SPLIT_SLACK];
	bool bs = true;
	cr_assert_eq(sk_split_impl(SK_SPLIT_SCALAR)("a\tbc\t\\", 6, '\t', bd, 7, &bs), 3);
	cr_assert_eq(bd[0], 0);
	cr_assert_eq(bd[1], 2);
	cr_assert_eq(bd[2], 5);
	cr_assert(bs);
	cr_assert_eq(sk_split_impl(SK_SPLIT_SCALAR)("", 0, '\t', bd, 7, &bs), 1);
	cr_assert_not(bs);
	/* too many columns: stops at maxc + 1 */
	cr_assert_eq(sk_split_impl(SK_SPLIT_SCALAR)("\t\t\t\t", 4, '\t', bd, 2, &bs), 3);
	cr_assert_not(bs);
	cr_assert_not_null(sk_split_best());
	cr_log_info("best splitter on this CPU: %s", sk_split_path_name(sk_split_best_path()));
}

Test(logsimd, paths_agree_random)
{
	static char buf[1024];
	static const char alphabet[] = {'\t', '\t', '\\',       'a', 'x',
	                                '.',  '\0', (char)0xff, ',', '\n'};
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % (iter < 10000 ? 200 : sizeof(buf));
		unsigned dense = rnd() % 4;
		for (size_t i = 0; i < n; i++)
			buf[i] = dense ? alphabet[rnd() % sizeof(alphabet)] : (char)rnd();
		char sep = (rnd() % 8) ? '\t' : (char)rnd();
		size_t maxc = 1 + rnd() % (MAXC * 8 - 1);
		agree(buf, n, sep, maxc);
	}
}

Test(logsimd, block_edges)
{
	static char buf[300];
	/* every length, separator and backslash at each position near the block edges */
	for (size_t n = 0; n <= 200; n++) {
		memset(buf, 'a', n);
		agree(buf, n, '\t', MAXC);
		for (size_t k = 0; k < n; k++) {
			memset(buf, 'a', n);
			buf[k] = '\t';
			agree(buf, n, '\t', MAXC);
			buf[k] = '\\';
			agree(buf, n, '\t', MAXC);
		}
		memset(buf, '\t', n);
		for (size_t maxc = 1; maxc < 130; maxc += 7)
			agree(buf, n, '\t', maxc);
	}
	/* bytes past n are not read: the line ends just before a page of separators */
	memset(buf, '\t', sizeof(buf));
	for (size_t n = 0; n < 130; n++)
		agree(buf + 150, n, 'b', MAXC);
}
