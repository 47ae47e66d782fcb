/*
 * timestamp.c - parsing and formatting of RFC 3339 UTC timestamps.
 */
#include "schakel/timestamp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), valid for all years. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bool sk_ts_parse(const char *s, size_t n, char key[SK_TS_KEY_LEN + 1], int64_t *us)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, mdl;
	size_t i, nfrac = 0;
	const char *frac = NULL;

	/* YYYY-MM-DDTHH:MM:SS is 19 bytes, then optional .fraction, then Z */
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 60)
		return false;
	mdl = mdays[mo - 1] + (mo == 2 && is_leap(y));
	if (d > mdl)
		return false;
	i = 19;
	if (s[i] == '.') {
		frac = s + i + 1;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			nfrac++;
		if (nfrac == 0)
			return false;
	}
	if (i + 1 != n || (s[i] != 'Z' && s[i] != 'z'))
		return false;

	if (key) {
		memcpy(key, s, 19);
		key[10] = 'T';
		key[19] = '.';
		for (size_t k = 0; k < 9; k++)
			key[20 + k] = k < nfrac ? frac[k] : '0';
		key[SK_TS_KEY_LEN] = '\0';
	}
	if (us) {
		int64_t micro = 0;
		for (size_t k = 0; k < 6; k++)
			micro = micro * 10 + (k < nfrac ? frac[k] - '0' : 0);
		int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
		*us = ((days * 86400) + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec)) * 1000000 +
		      micro;
	}
	return true;
}

int64_t sk_ts_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void format(int64_t us, char out[SK_TS_STR_MAX], int fracdigits)
{
	int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	int64_t micro = us - secs * 1000000;
	time_t t = (time_t)secs;
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	/* micro is in [0, 999999], so at most 6 digits */
	if (fracdigits == 6)
		snprintf(out, SK_TS_STR_MAX, "%.20s.%06dZ", base, (int)(micro % 1000000));
	else
		snprintf(out, SK_TS_STR_MAX, "%.20s.%03dZ", base, (int)((micro / 1000) % 1000));
}

void sk_ts_format_us(int64_t us, char out[SK_TS_STR_MAX])
{
	format(us, out, 6);
}

void sk_ts_format_ms(int64_t us, char out[SK_TS_STR_MAX])
{
	format(us, out, 3);
}
