/*
 * logts.c - the log readers' timestamps (logbuild.h): epoch seconds with a
 * fraction (Zeek's 17-byte form read as two 8-digit words) and RFC 3339 /
 * ISO 8601 times, into microseconds since the epoch.  Split from logrec.c,
 * whose adders check and normalise observation values.
 */
#include "logbuild.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The value of the 8 ASCII digits in v (first digit lowest), or -1 if a byte is not one. */
static inline int64_t digits8(uint64_t v)
{
	/* each byte 0x30..0x39: high nibble 3, and still 3 after adding 6 */
	if (((v & 0xf0f0f0f0f0f0f0f0ULL) |
	     ((v + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4) != 0x3333333333333333ULL)
		return -1;
	v -= 0x3030303030303030ULL;
	v = v * 10 + (v >> 8); /* digit pairs in bytes 0, 2, 4, 6 */
	v = ((v & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	     ((v >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >>
	    32;
	return (int64_t)v;
}
#endif

bool sk_logts_epoch(const char *s, size_t n, int64_t *us)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int64_t sec = 0, frac = 0;
	unsigned d;
	int fd = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Zeek's own form, 10 digits '.' 6 digits, as two 8-digit words (the
	   second is bytes 9..16 with byte 9 and the dot read as zeros) */
	if (n == 17 && p[10] == '.' && (unsigned)(p[8] - '0') < 10u &&
	    (unsigned)(p[9] - '0') < 10u) {
		uint64_t w0, w1;
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 9, 8);
		int64_t hi = digits8(w0), lo = digits8((w1 & ~0xffffULL) | 0x3030ULL);
		if (hi >= 0 && lo >= 0) {
			sec = hi * 100 + (p[8] - '0') * 10 + (p[9] - '0');
			*us = sec * 1000000 + lo;
			return true;
		}
	}
#endif

	while (i < n && (d = (unsigned)p[i] - '0') <= 9) {
		if (i >= 12)
			return false;
		sec = sec * 10 + d;
		i++;
	}
	if (i == 0)
		return false;
	if (i < n) {
		if (p[i] != '.')
			return false;
		/* at most six fraction digits count; the rest must still be digits */
		for (i++; i < n; i++) {
			if ((d = (unsigned)p[i] - '0') > 9)
				return false;
			if (fd < 6) {
				frac = frac * 10 + d;
				fd++;
			}
		}
	}
	static const int32_t scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
	*us = sec * 1000000 + frac * scale[fd];
	return true;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool num(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!sk_logrec_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool sk_logts_rfc3339(const char *s, size_t n, int64_t *us)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	int64_t frac = 0;
	int fd = 0;
	size_t i = 19;
	if (n < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return false;
	if (!num(s, 4, &y) || !num(s + 5, 2, &mo) || !num(s + 8, 2, &d) || !num(s + 11, 2, &h) ||
	    !num(s + 14, 2, &mi) || !num(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	if (i < n && s[i] == '.') {
		for (i++; i < n && sk_logrec_digit((unsigned char)s[i]); i++)
			if (fd < 6) {
				frac = frac * 10 + (s[i] - '0');
				fd++;
			}
		if (fd == 0)
			return false;
	}
	while (fd++ < 6)
		frac *= 10;
	if (i < n) {
		int sign;
		if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
			sign = 0;
		} else if (s[i] == '+' || s[i] == '-') {
			sign = s[i] == '+' ? 1 : -1;
			i++;
			if (n - i == 4) {
				if (!num(s + i, 2, &oh) || !num(s + i + 2, 2, &om))
					return false;
			} else if (n - i == 5 && s[i + 2] == ':') {
				if (!num(s + i, 2, &oh) || !num(s + i + 3, 2, &om))
					return false;
			} else if (n - i == 2) {
				if (!num(s + i, 2, &oh))
					return false;
			} else {
				return false;
			}
			if (oh > 23 || om > 59)
				return false;
		} else {
			return false;
		}
		oh *= sign;
		om *= sign;
	}
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (oh * 3600 + om * 60);
	*us = secs * 1000000 + frac;
	return true;
}
