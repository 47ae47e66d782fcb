/*
 * test_timestamp.c - RFC 3339 UTC timestamps: what parses, the sortable key,
 * microsecond conversion and formatting.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "schakel/timestamp.h"

static bool parse(const char *s, char key[SK_TS_KEY_LEN + 1], int64_t *us)
{
	return sk_ts_parse(s, strlen(s), key, us);
}

static const char *key_of(const char *s)
{
	static char keys[4][SK_TS_KEY_LEN + 1];
	static int next;
	char *k = keys[next++ & 3];

	cr_assert(parse(s, k, NULL), "'%s' should parse", s);
	return k;
}

static int64_t us_of(const char *s)
{
	int64_t us = 0;
	cr_assert(parse(s, NULL, &us), "'%s' should parse", s);
	return us;
}

/* --- accepted and rejected forms --------------------------------------- */

Test(timestamp, accepts_rfc3339_utc_forms)
{
	static const char *const ok[] = {
	    "2016-05-12T08:17:27Z",              /* no fraction */
	    "2016-05-12T08:17:27.1Z",            /* one digit */
	    "2016-05-12T08:17:27.123Z",          /* milliseconds */
	    "2016-05-12T08:17:27.123456Z",       /* microseconds */
	    "2016-05-12T08:17:27.123456789Z",    /* nanoseconds */
	    "2016-05-12T08:17:27.123456789012Z", /* more than 9 digits */
	    "2016-05-12t08:17:27z",              /* RFC 3339 5.6 allows lower case t and z */
	    "2016-12-31T23:59:60Z",              /* leap second */
	    "2000-02-29T00:00:00Z",              /* divisible by 400: leap */
	    "2016-02-29T00:00:00Z",              /* divisible by 4: leap */
	    "2016-01-31T00:00:00Z",
	    "2016-04-30T23:59:59.999Z",
	    "0001-01-01T00:00:00Z",
	    "9999-12-31T23:59:59.999999999Z",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect(parse(ok[i], NULL, NULL), "'%s' should be accepted", ok[i]);
}

Test(timestamp, rejects_malformed_forms)
{
	static const char *const bad[] = {
	    "",
	    "2016-05-12",
	    "2016-05-12T08:17:27",       /* missing Z */
	    "2016-05-12T08:17:27.123",   /* missing Z after fraction */
	    "2016-05-12T08:17:27+00:00", /* offsets are not UTC 'Z' */
	    "2016-05-12T08:17:27.123+01:00",
	    "2016-05-12 08:17:27Z", /* space instead of T */
	    "2016-05-12X08:17:27Z",
	    "20160512T081727Z", /* ISO 8601 basic format */
	    "2016-5-12T08:17:27Z",
	    "2016-05-12T8:17:27Z",
	    "16-05-12T08:17:27Z",
	    "+2016-05-12T08:17:27Z",
	    "2016-13-01T00:00:00Z", /* month 13 */
	    "2016-00-01T00:00:00Z", /* month 0 */
	    "2016-01-00T00:00:00Z", /* day 0 */
	    "2016-01-32T00:00:00Z",
	    "2016-04-31T00:00:00Z",  /* April has 30 days */
	    "2015-02-29T00:00:00Z",  /* not a leap year */
	    "1900-02-29T00:00:00Z",  /* divisible by 100, not 400 */
	    "2016-02-30T00:00:00Z",  /* Feb 30 even in a leap year */
	    "2016-05-12T24:00:00Z",  /* hour 24 */
	    "2016-05-12T23:60:00Z",  /* minute 60 */
	    "2016-05-12T23:59:61Z",  /* second 61 */
	    "2016-05-12T08:17:27.Z", /* dot without digits */
	    "2016-05-12T08:17:27.12a3Z",
	    "2016-05-12T08:17:27ZZ",
	    "2016-05-12T08:17:27Z ",
	    " 2016-05-12T08:17:27Z",
	    "2016-05-12T08:17:27,123Z", /* comma fraction */
	    "2016-O5-12T08:17:27Z",     /* letter O */
	    "2016-05-12T08:17:-7Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!parse(bad[i], NULL, NULL), "'%s' should be rejected", bad[i]);
}

Test(timestamp, length_argument_is_honoured)
{
	const char *s = "2016-05-12T08:17:27Zgarbage";
	char key[SK_TS_KEY_LEN + 1];

	cr_expect(sk_ts_parse(s, 20, key, NULL));
	cr_expect_str_eq(key, "2016-05-12T08:17:27.000000000");
	cr_expect(!sk_ts_parse(s, 19, NULL, NULL), "a prefix without Z is not a timestamp");
	cr_expect(!sk_ts_parse(s, strlen(s), NULL, NULL));
	cr_expect(!sk_ts_parse("2016-05-12T08:17:27.5Z", 21, NULL, NULL));
	cr_expect(!sk_ts_parse(s, 0, NULL, NULL));
}

/* --- the sortable key --------------------------------------------------- */

Test(timestamp, key_is_fixed_width_with_nanoseconds)
{
	cr_expect_eq(strlen(key_of("2016-05-12T08:17:27Z")), SK_TS_KEY_LEN);
	cr_expect_str_eq(key_of("2016-05-12T08:17:27Z"), "2016-05-12T08:17:27.000000000");
	cr_expect_str_eq(key_of("2016-05-12T08:17:27.1Z"), "2016-05-12T08:17:27.100000000");
	cr_expect_str_eq(key_of("2016-05-12T08:17:27.123Z"), "2016-05-12T08:17:27.123000000");
	cr_expect_str_eq(key_of("2016-05-12T08:17:27.123456789Z"), "2016-05-12T08:17:27.123456789");
	/* digits beyond nanoseconds do not fit the key */
	cr_expect_str_eq(key_of("2016-05-12T08:17:27.1234567891234Z"),
	                 "2016-05-12T08:17:27.123456789");
	/* lower case 't' is normalised so that keys compare */
	cr_expect_str_eq(key_of("2016-05-12t08:17:27.5z"), "2016-05-12T08:17:27.500000000");
	cr_expect_str_eq(key_of("2016-12-31T23:59:60Z"), "2016-12-31T23:59:60.000000000");
}

Test(timestamp, key_keeps_sub_microsecond_precision)
{
	/* the microsecond value cannot tell these apart, the key can */
	const char *a = "2016-05-12T08:17:27.1234567Z", *b = "2016-05-12T08:17:27.1234568Z";

	cr_expect_eq(us_of(a), us_of(b));
	cr_expect(strcmp(key_of(a), key_of(b)) < 0);
	/* the same instant written with different precision has one key */
	cr_expect_str_eq(key_of("2016-05-12T08:17:27.1Z"), key_of("2016-05-12T08:17:27.100000Z"));
	cr_expect_str_eq(key_of("2016-05-12T08:17:27Z"), key_of("2016-05-12T08:17:27.000Z"));
}

Test(timestamp, key_order_matches_time_order)
{
	/* strictly increasing instants, mixed precisions */
	static const char *const seq[] = {
	    "0001-01-01T00:00:00Z",           "1969-12-31T23:59:59.999999999Z",
	    "1970-01-01T00:00:00Z",           "1970-01-01T00:00:00.000000001Z",
	    "1999-12-31T23:59:59.999Z",       "2000-01-01T00:00:00Z",
	    "2000-02-29T12:00:00Z",           "2016-05-12T08:17:27Z",
	    "2016-05-12T08:17:27.000000001Z", "2016-05-12T08:17:27.09Z",
	    "2016-05-12T08:17:27.1Z",         "2016-05-12T08:17:27.100000001Z",
	    "2016-05-12T08:17:27.99Z",        "2016-05-12T08:17:28Z",
	    "2016-05-12T08:18:00Z",           "2016-05-12T09:00:00Z",
	    "2016-05-13T00:00:00Z",           "2016-06-01T00:00:00Z",
	    "2017-01-01T00:00:00Z",           "9999-12-31T23:59:59.999999999Z",
	};
	size_t n = sizeof(seq) / sizeof(seq[0]);

	for (size_t i = 0; i + 1 < n; i++) {
		char a[SK_TS_KEY_LEN + 1], b[SK_TS_KEY_LEN + 1];
		int64_t ua, ub;
		cr_assert(parse(seq[i], a, &ua));
		cr_assert(parse(seq[i + 1], b, &ub));
		cr_expect(strcmp(a, b) < 0, "key(%s)=%s should sort before key(%s)=%s", seq[i], a,
		          seq[i + 1], b);
		cr_expect(ua <= ub, "us(%s) should not exceed us(%s)", seq[i], seq[i + 1]);
	}
}

/* --- microseconds -------------------------------------------------------- */

Test(timestamp, microseconds_since_epoch)
{
	cr_expect_eq(us_of("1970-01-01T00:00:00Z"), 0);
	cr_expect_eq(us_of("1970-01-01T00:00:00.000001Z"), 1);
	cr_expect_eq(us_of("1970-01-01T00:00:01Z"), 1000000);
	cr_expect_eq(us_of("1969-12-31T23:59:59.5Z"), -500000);
	cr_expect_eq(us_of("2016-05-12T08:17:27.123456Z"), INT64_C(1463041047123456));
	/* sub-microsecond digits are truncated, not rounded */
	cr_expect_eq(us_of("2016-05-12T08:17:27.123456999Z"), INT64_C(1463041047123456));
	cr_expect_eq(us_of("2016-05-12T08:17:27.1Z"), INT64_C(1463041047100000));
	cr_expect_eq(us_of("2000-02-29T23:59:59.999999Z"), INT64_C(951868799999999));
	cr_expect_eq(us_of("2024-02-29T12:00:00Z"), INT64_C(1709208000000000));
	cr_expect_eq(us_of("2038-01-19T03:14:08Z"), INT64_C(2147483648000000));
	cr_expect_eq(us_of("9999-12-31T23:59:59.999999Z"), INT64_C(253402300799999999));
	cr_expect_eq(us_of("0001-01-01T00:00:00Z"), INT64_C(-62135596800000000));
	/* a leap second maps onto the second before it */
	cr_expect_eq(us_of("2016-12-31T23:59:60.25Z"), us_of("2016-12-31T23:59:59.25Z"));
}

Test(timestamp, outputs_untouched_on_failure_are_optional)
{
	/* NULL key and NULL us are both allowed */
	cr_expect(parse("2016-05-12T08:17:27Z", NULL, NULL));
	cr_expect(!parse("2016-13-12T08:17:27Z", NULL, NULL));
}

/* --- formatting ---------------------------------------------------------- */

Test(timestamp, format_us_and_ms)
{
	char out[SK_TS_STR_MAX];

	sk_ts_format_us(0, out);
	cr_expect_str_eq(out, "1970-01-01T00:00:00.000000Z");
	sk_ts_format_us(INT64_C(1463041047123456), out);
	cr_expect_str_eq(out, "2016-05-12T08:17:27.123456Z");
	sk_ts_format_ms(INT64_C(1463041047123456), out);
	cr_expect_str_eq(out, "2016-05-12T08:17:27.123Z");
	sk_ts_format_ms(INT64_C(1463041047999999), out);
	cr_expect_str_eq(out, "2016-05-12T08:17:27.999Z", "milliseconds truncate, never round up");
	sk_ts_format_us(-1, out);
	cr_expect_str_eq(out, "1969-12-31T23:59:59.999999Z");
	sk_ts_format_us(-1000000, out);
	cr_expect_str_eq(out, "1969-12-31T23:59:59.000000Z");
	sk_ts_format_ms(-1, out);
	cr_expect_str_eq(out, "1969-12-31T23:59:59.999Z");
}

Test(timestamp, format_parse_round_trip)
{
	static const int64_t values[] = {
	    0,
	    1,
	    999999,
	    1000000,
	    -1,
	    -999999,
	    -1000001,
	    INT64_C(951868799999999),
	    INT64_C(1463041047123456),
	    INT64_C(1709208000000000),
	    INT64_C(2147483648000000),
	    INT64_C(4102444800000001),
	    INT64_C(253402300799999999),
	};
	char out[SK_TS_STR_MAX], key[SK_TS_KEY_LEN + 1];
	int64_t back;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		sk_ts_format_us(values[i], out);
		cr_expect(parse(out, key, &back), "formatted '%s' should parse", out);
		cr_expect_eq(back, values[i], "'%s' round trip gave %lld, want %lld", out,
		             (long long)back, (long long)values[i]);
		sk_ts_format_ms(values[i], out);
		cr_expect(parse(out, NULL, &back), "formatted '%s' should parse", out);
		/* floor to the millisecond */
		int64_t ms = values[i] >= 0 ? values[i] / 1000 : -((-values[i] + 999) / 1000);
		cr_expect_eq(back, ms * 1000, "'%s' gave %lld", out, (long long)back);
	}
	/* a pseudo-random sweep over 1970..2100 */
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t v = (int64_t)(x % UINT64_C(4102444800000000));
		sk_ts_format_us(v, out);
		cr_assert(parse(out, NULL, &back), "'%s' should parse", out);
		cr_assert_eq(back, v, "'%s' round trip", out);
	}
}

Test(timestamp, formatted_keys_sort_like_values)
{
	char a[SK_TS_STR_MAX], b[SK_TS_STR_MAX], ka[SK_TS_KEY_LEN + 1], kb[SK_TS_KEY_LEN + 1];
	int64_t v = INT64_C(1463041047123456);

	for (int i = 0; i < 100; i++) {
		sk_ts_format_us(v, a);
		sk_ts_format_us(v + 1 + i * 997, b);
		cr_assert(parse(a, ka, NULL) && parse(b, kb, NULL));
		cr_assert(strcmp(ka, kb) < 0, "%s vs %s", a, b);
		v += i * 1000003;
	}
}

Test(timestamp, now_is_plausible)
{
	char out[SK_TS_STR_MAX];
	int64_t now = sk_ts_now_us();

	/* after 2020-01-01 and before 2100-01-01 */
	cr_expect_gt(now, INT64_C(1577836800000000));
	cr_expect_lt(now, INT64_C(4102444800000000));
	sk_ts_format_us(now, out);
	cr_expect(parse(out, NULL, NULL));
}
