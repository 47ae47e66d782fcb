/*
 * test_sync.c - the sync client's parsing (envelopes, headers, statuses,
 * URLs) and the backoff schedule.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/sync.h"
#include "schakel/taxii_client.h"

static sk_err scan(const char *s, sk_tc_envelope *e)
{
	sk_error err;
	return sk_tc_envelope_scan(s, strlen(s), e, &err);
}

Test(sync, envelope_members)
{
	sk_tc_envelope e;
	cr_assert_eq(scan("{\"more\":true,\"next\":\"abc\\/d\",\"objects\":[{\"a\":[1,{}]},{}]}", &e),
		     SK_OK);
	cr_expect(e.more);
	cr_expect_str_eq(e.next, "abc/d");
	cr_expect_eq(e.nobjects, 2);
	sk_tc_envelope_clear(&e);
	cr_assert_eq(scan("  {}  ", &e), SK_OK);
	cr_expect(!e.more && !e.next && e.nobjects == 0);
	cr_assert_eq(scan("", &e), SK_OK, "an empty body is an empty envelope");
	cr_assert_eq(scan("{\"objects\":[],\"more\":false,\"x\":{\"next\":\"no\"}}", &e), SK_OK);
	cr_expect(!e.next, "only top-level members count");
	sk_tc_envelope_clear(&e);
}

Test(sync, envelope_malformed)
{
	static const char *const bad[] = {
	    "[", "{", "{\"objects\":[", "{\"more\":tru", "{\"a\":1,}", "{\"a\" 1}", "[]",
	    "{\"a\":\"\x01\"}", "{\"objects\":[1,]}", "{}x", "\xff{",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_tc_envelope e;
		cr_expect_neq(scan(bad[i], &e), SK_OK, "case %zu", i);
		cr_expect(!e.next);
	}
	/* deep nesting stops at the bound instead of recursing without end */
	char *deep = malloc(200003);
	strcpy(deep, "{\"x\":");
	memset(deep + 5, '[', 100000);
	strcpy(deep + 100005, "}");
	sk_tc_envelope e;
	cr_expect_neq(scan(deep, &e), SK_OK);
	free(deep);
	/* an over-long next token */
	char *big = malloc(10000);
	strcpy(big, "{\"next\":\"");
	memset(big + 9, 'a', 9000);
	strcpy(big + 9009, "\"}");
	cr_expect_eq(scan(big, &e), SK_ELIMIT);
	free(big);
}

Test(sync, headers)
{
	sk_tc_resp r;
	memset(&r, 0, sizeof(r));
	const char *l1 = "x-taxii-date-added-last:  2024-01-01T00:00:00.123456Z \r\n";
	sk_tc_header_line(&r, l1, strlen(l1));
	cr_expect_str_eq(r.date_last, "2024-01-01T00:00:00.123456Z");
	const char *l2 = "Content-Type: application/taxii+json;version=2.1\r\n";
	sk_tc_header_line(&r, l2, strlen(l2));
	cr_expect_str_eq(r.content_type, "application/taxii+json;version=2.1");
	sk_tc_header_line(&r, "HTTP/1.1 200 OK\r\n", 17);
	cr_expect_str_eq(r.date_last, "", "a new response forgets earlier headers");
	char longv[300];
	memset(longv, 'x', sizeof(longv));
	memcpy(longv, "X-TAXII-Date-Added-Last: ", 25);
	sk_tc_header_line(&r, longv, sizeof(longv));
	cr_expect_str_eq(r.date_last, "", "over-long value treated as absent");
}

Test(sync, status)
{
	sk_tc_status s;
	sk_error err;
	const char *ok = "{\"id\":\"abc\",\"status\":\"complete\",\"total_count\":3,"
			 "\"success_count\":2,\"failure_count\":1,\"pending_count\":0}";
	cr_assert_eq(sk_tc_status_parse(ok, strlen(ok), &s, &err), SK_OK);
	cr_expect(s.complete && s.total == 3 && s.success == 2 && s.failure == 1);
	const char *pend = "{\"id\":\"abc\",\"status\":\"pending\"}";
	cr_assert_eq(sk_tc_status_parse(pend, strlen(pend), &s, &err), SK_OK);
	cr_expect(!s.complete);
	cr_expect_neq(sk_tc_status_parse("[]", 2, &s, &err), SK_OK);
	cr_expect_neq(sk_tc_status_parse("{\"status\":\"complete\"}", 21, &s, &err), SK_OK);
}

static void join_is(const char *base, const char *ref, const char *want)
{
	char *out = NULL;
	sk_error err;
	cr_assert_eq(sk_tc_url_join(base, ref, &out, &err), SK_OK, "%s + %s", base, ref);
	cr_expect_str_eq(out, want);
	free(out);
}

Test(sync, url_join)
{
	join_is("http://h:1/taxii2/", "/api/", "http://h:1/api/");
	join_is("http://h:1/taxii2/", "api1/", "http://h:1/taxii2/api1/");
	join_is("http://h:1", "api/", "http://h:1/api/");
	join_is("http://h:1/a/b?x=1", "c/", "http://h:1/a/c/");
	join_is("http://h:1/", "https://other.example/root/", "https://other.example/root/");
	join_is("https://h/", "//g.example/r/", "https://g.example/r/");
	char *out;
	sk_error err;
	cr_expect_neq(sk_tc_url_join("ftp://h/", "x", &out, &err), SK_OK);
	cr_expect_neq(sk_tc_url_join("http://h/", "file:///etc/passwd", &out, &err), SK_OK);
}

Test(sync, url_escape)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_tc_url_escape(&b, "a b/c+d=é");
	cr_expect_str_eq(b.data, "a%20b%2Fc%2Bd%3D%C3%A9");
	sk_buf_free(&b);
}

Test(sync, backoff)
{
	cr_expect_eq(sk_sync_backoff_s(1, 0.5), 2);
	cr_expect_eq(sk_sync_backoff_s(3, 0.5), 8);
	cr_expect_eq(sk_sync_backoff_s(40, 0.5), 3600, "capped at an hour");
	for (unsigned n = 1; n < 20; n++) {
		cr_expect_leq(sk_sync_backoff_s(n, 0.0), sk_sync_backoff_s(n, 1.0));
		cr_expect_leq(sk_sync_backoff_s(n, 1.0), 4500);
		cr_expect_geq(sk_sync_backoff_s(n, 0.0), 1);
	}
	cr_expect_leq(sk_sync_backoff_s(2, 0.5), sk_sync_backoff_s(3, 0.5), "grows");
}
