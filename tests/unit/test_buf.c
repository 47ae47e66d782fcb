/*
 * test_buf.c - the capped growable buffer.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "schakel/buf.h"

Test(buf, starts_empty)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_expect_null(b.data);
	cr_expect_eq(b.len, 0);
	cr_expect_eq(b.cap, SK_BUF_DEFAULT_CAP);
	sk_buf_reset(&b); /* no storage yet: must not crash */
	sk_buf_free(&b);
	sk_buf_free(NULL);
}

Test(buf, append_family_keeps_a_terminator)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_append(&b, "ab", 2), SK_OK);
	cr_assert_eq(sk_buf_puts(&b, "cd"), SK_OK);
	cr_assert_eq(sk_buf_putc(&b, 'e'), SK_OK);
	cr_assert_eq(sk_buf_printf(&b, "-%d-%s", 42, "x"), SK_OK);
	cr_assert_eq(sk_buf_append(&b, "", 0), SK_OK);
	cr_expect_eq(b.len, 10);
	cr_expect_str_eq(b.data, "abcde-42-x");
	cr_expect_eq(b.data[b.len], '\0');
	cr_expect_gt(b.size, b.len);
	sk_buf_free(&b);
	cr_expect_null(b.data);
	cr_expect_eq(b.len, 0);
}

Test(buf, empty_append_allocates_a_string)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_append(&b, NULL, 0), SK_OK);
	cr_assert_not_null(b.data);
	cr_expect_str_eq(b.data, "");
	sk_buf_free(&b);
	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_printf(&b, "%s", ""), SK_OK);
	cr_assert_not_null(b.data);
	cr_expect_str_eq(b.data, "");
	sk_buf_free(&b);
}

Test(buf, grows_past_the_initial_allocation)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(sk_buf_putc(&b, (char)('a' + i % 26)), SK_OK);
	cr_assert_eq(b.len, 10000);
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(b.data[i], (char)('a' + i % 26));
	cr_expect_eq(b.data[10000], '\0');
	sk_buf_free(&b);
}

Test(buf, reset_keeps_the_allocation)
{
	sk_buf b;
	char *p;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b, "hello"), SK_OK);
	p = b.data;
	sk_buf_reset(&b);
	cr_expect_eq(b.len, 0);
	cr_expect_str_eq(b.data, "");
	cr_expect_eq(b.data, p);
	cr_assert_eq(sk_buf_puts(&b, "again"), SK_OK);
	cr_expect_str_eq(b.data, "again");
	sk_buf_free(&b);
	/* reusable after free + init */
	sk_buf_init(&b, 4);
	cr_assert_eq(sk_buf_puts(&b, "four"), SK_OK);
	sk_buf_free(&b);
}

Test(buf, cap_is_a_hard_limit)
{
	sk_buf b;

	sk_buf_init(&b, 10);
	cr_expect_eq(b.cap, 10);
	cr_assert_eq(sk_buf_append(&b, "0123456789", 10), SK_OK, "exactly the cap fits");
	cr_expect_eq(sk_buf_putc(&b, 'x'), SK_ELIMIT);
	cr_expect_eq(sk_buf_puts(&b, "x"), SK_ELIMIT);
	cr_expect_eq(sk_buf_append(&b, "x", 1), SK_ELIMIT);
	cr_expect_eq(sk_buf_printf(&b, "%d", 1), SK_ELIMIT);
	cr_expect_eq(sk_buf_put_json_string(&b, "", 0), SK_ELIMIT);
	/* a failed append changes nothing */
	cr_expect_eq(b.len, 10);
	cr_expect_str_eq(b.data, "0123456789");
	/* appending nothing at the cap is fine */
	cr_expect_eq(sk_buf_append(&b, "", 0), SK_OK);
	sk_buf_free(&b);
}

Test(buf, cap_checks_the_whole_append)
{
	sk_buf b;

	sk_buf_init(&b, 10);
	cr_assert_eq(sk_buf_puts(&b, "abcd"), SK_OK);
	cr_expect_eq(sk_buf_append(&b, "0123456789", 7), SK_ELIMIT);
	cr_expect_eq(sk_buf_printf(&b, "%s", "0123456"), SK_ELIMIT);
	cr_expect_eq(b.len, 4);
	cr_expect_str_eq(b.data, "abcd");
	cr_expect_eq(sk_buf_printf(&b, "%s", "012345"), SK_OK, "exactly up to the cap");
	cr_expect_str_eq(b.data, "abcd012345");
	sk_buf_free(&b);
}

Test(buf, reserve_limits_and_overflow)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_expect_eq(sk_buf_reserve(&b, SK_BUF_DEFAULT_CAP + 1), SK_ELIMIT);
	cr_expect_eq(sk_buf_reserve(&b, SIZE_MAX), SK_ELIMIT);
	cr_expect_null(b.data, "a refused reservation allocates nothing");
	cr_assert_eq(sk_buf_puts(&b, "abc"), SK_OK);
	cr_expect_eq(sk_buf_reserve(&b, SIZE_MAX - 1), SK_ELIMIT);
	cr_expect_eq(sk_buf_reserve(&b, SK_BUF_DEFAULT_CAP - 2), SK_ELIMIT);
	sk_buf_free(&b);

	sk_buf_init(&b, 100);
	cr_expect_eq(sk_buf_reserve(&b, 100), SK_OK);
	cr_expect_geq(b.size, 101);
	cr_expect_eq(sk_buf_reserve(&b, 101), SK_ELIMIT);
	sk_buf_free(&b);
}

static void check_json_string(const char *s, size_t n, const char *want)
{
	sk_buf b;
	json_t *v;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_put_json_string(&b, s, n), SK_OK);
	if (want)
		cr_expect_str_eq(b.data, want);
	v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	cr_assert_not_null(v, "not a JSON string: %s", b.data);
	cr_expect_eq(json_string_length(v), n);
	cr_expect_eq(memcmp(json_string_value(v), s, n), 0, "round trip of %s", b.data);
	json_decref(v);
	sk_buf_free(&b);
}

Test(buf, json_string_escapes)
{
	check_json_string("", 0, "\"\"");
	check_json_string("plain", 5, "\"plain\"");
	check_json_string("a\"b", 3, "\"a\\\"b\"");
	check_json_string("a\\b", 3, "\"a\\\\b\"");
	check_json_string("\n\t\r\x01\x1f", 5, "\"\\u000a\\u0009\\u000d\\u0001\\u001f\"");
	check_json_string("a\0b", 3, "\"a\\u0000b\"");
	check_json_string("caf\xc3\xa9 \xe2\x82\xac", 9, "\"caf\xc3\xa9 \xe2\x82\xac\"");
	check_json_string("/[{}]", 5, "\"/[{}]\"");
	/* only the first n bytes */
	check_json_string("abcdef", 3, "\"abc\"");
}

Test(buf, json_string_appends)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b, "{\"k\":"), SK_OK);
	cr_assert_eq(sk_buf_put_json_string(&b, "v\"", 2), SK_OK);
	cr_assert_eq(sk_buf_putc(&b, '}'), SK_OK);
	cr_expect_str_eq(b.data, "{\"k\":\"v\\\"\"}");
	sk_buf_free(&b);
}

Test(buf, json_string_respects_the_cap)
{
	sk_buf b;

	sk_buf_init(&b, 8);
	cr_expect_eq(sk_buf_put_json_string(&b, "123456", 6), SK_OK, "8 bytes with quotes");
	sk_buf_free(&b);
	sk_buf_init(&b, 8);
	cr_expect_eq(sk_buf_put_json_string(&b, "1234567", 7), SK_ELIMIT);
	sk_buf_free(&b);
	sk_buf_init(&b, 8);
	cr_expect_eq(sk_buf_put_json_string(&b, "\x01\x02", 2), SK_ELIMIT, "escapes count");
	sk_buf_free(&b);
}
