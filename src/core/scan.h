/*
 * scan.h - word-at-a-time byte scanning shared by the JSON framer and parser.
 *
 * Most of a STIX file is string content and indentation.  Testing eight bytes
 * per step (SWAR) for "is any byte a quote, a backslash or a control byte"
 * cut the framer's and parser's instruction counts roughly in half; the first
 * flagged byte is exact, later flags in the same word may be false positives
 * and are never used.
 */
#ifndef SCHAKEL_SCAN_H
#define SCHAKEL_SCAN_H

#include <stdint.h>
#include <string.h>

#define SK_ONES 0x0101010101010101ULL
#define SK_HIGHS 0x8080808080808080ULL

static inline uint64_t sk_scan_load(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* High bit set in each byte lane of v that is below n (n <= 128). */
static inline uint64_t sk_scan_less(uint64_t v, unsigned n)
{
	return (v - SK_ONES * n) & ~v & SK_HIGHS;
}

static inline uint64_t sk_scan_eq(uint64_t v, unsigned char b)
{
	uint64_t x = v ^ (SK_ONES * b);
	return (x - SK_ONES) & ~x & SK_HIGHS;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SK_SCAN_SWAR 1
/* Index of the first flagged lane in a non-zero mask. */
static inline unsigned sk_scan_first(uint64_t mask)
{
	return (unsigned)__builtin_ctzll(mask) >> 3;
}
#else
#define SK_SCAN_SWAR 0
#endif

/*
 * First p in [p, end) that is '"', '\\' or a control byte (< 0x20); if
 * stop_high, also any byte >= 0x80.  Returns end if none.
 */
static inline const unsigned char *sk_scan_string(const unsigned char *p, const unsigned char *end,
						  int stop_high)
{
#if SK_SCAN_SWAR
	while (end - p >= 8) {
		uint64_t v = sk_scan_load(p);
		uint64_t m = sk_scan_eq(v, '"') | sk_scan_eq(v, '\\') | sk_scan_less(v, 0x20);
		if (stop_high)
			m |= v & SK_HIGHS;
		if (m)
			return p + sk_scan_first(m);
		p += 8;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && (!stop_high || *p < 0x80))
		p++;
	return p;
}

/* First p in [p, end) that is not a space (runs of indentation). */
static inline const unsigned char *sk_scan_spaces(const unsigned char *p, const unsigned char *end)
{
#if SK_SCAN_SWAR
	while (end - p >= 8) {
		uint64_t v = sk_scan_load(p);
		uint64_t m = ~sk_scan_eq(v, ' ') & SK_HIGHS;
		if (m)
			return p + sk_scan_first(m);
		p += 8;
	}
#endif
	while (p < end && *p == ' ')
		p++;
	return p;
}

#endif
