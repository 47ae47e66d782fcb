/*
 * test_matcher.c - the matcher: every operator and path kind on hand-built
 * records, CIDR tables, subdomain walking with the PSL fixture, hashes, URL
 * normalisation, ports with addresses, LIKE / MATCHES through Hyperscan,
 * observation-level operators with the state cap, unsupported patterns.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/matcher.h"
#include "schakel/psl.h"

static sk_psl *psl;

/* A record from (kind, role, value) triples ending with SK_OBS_NONE. */
static void mkrec(sk_logrec *r, int64_t ts, uint64_t line, ...)
{
	va_list ap;
	memset(r, 0, sizeof(*r));
	r->ts_us = ts;
	r->line = line;
	va_start(ap, line);
	for (;;) {
		int kind = va_arg(ap, int);
		if (kind == SK_OBS_NONE)
			break;
		int role = va_arg(ap, int);
		const char *v = va_arg(ap, const char *);
		r->obs[r->n] = (sk_obs){.v = v, .len = (uint32_t)strlen(v), .kind = (uint8_t)kind,
					.role = (uint8_t)role, .field = "f"};
		r->n++;
	}
	va_end(ap);
}

typedef struct tm {
	sk_matcher *m;
	sk_match_ctx *c;
	sk_match_state *s;
} tm;

static void build(tm *t, bool subdomains, const char *const *pats, size_t n, size_t cap)
{
	sk_error err;
	sk_match_opts o = {.subdomains = subdomains, .psl = psl};
	cr_assert_eq(sk_matcher_new(&o, &t->m, &err), SK_OK);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx;
		sk_err rc = sk_matcher_add(t->m, pats[i], strlen(pats[i]), 0, &idx, &err);
		cr_assert_eq(rc, SK_OK, "%s: %s", pats[i], err.msg);
		cr_assert_eq(idx, i);
	}
	cr_assert_eq(sk_matcher_build(t->m, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_match_ctx_new(t->m, &t->c, &err), SK_OK);
	cr_assert_eq(sk_match_state_new(t->m, cap, &t->s, &err), SK_OK);
}

static void done(tm *t)
{
	sk_match_state_free(t->s);
	sk_match_ctx_free(t->c);
	sk_matcher_free(t->m);
}

/* Bitmask of indicators that completed on this record (single or multi). */
static unsigned run(tm *t, const sk_logrec *r, size_t *nrefs)
{
	const sk_match_hit *h;
	size_t n = sk_match_record(t->c, r, &h);
	unsigned mask = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i].obs == 0) {
			mask |= 1u << h[i].ind;
			continue;
		}
		sk_match_ref ref = {0, r->line, r->ts_us};
		const sk_match_ref *refs;
		size_t nr;
		if (sk_match_state_feed(t->s, &h[i], &ref, &refs, &nr)) {
			mask |= 1u << h[i].ind;
			if (nrefs)
				*nrefs = nr;
		}
	}
	return mask;
}

/* The record's single result, fed to the state: did it complete? */
static bool feed_one(tm *t, const sk_logrec *r)
{
	const sk_match_hit *h;
	const sk_match_ref *refs;
	size_t nr, n = sk_match_record(t->c, r, &h);
	sk_match_ref ref = {0, r->line, r->ts_us};
	cr_assert_eq(n, 1);
	return sk_match_state_feed(t->s, &h[0], &ref, &refs, &nr);
}

static void setup(void)
{
	char path[1024];
	sk_error err;
	snprintf(path, sizeof(path), "%s/logs/psl_test.dat",
		 getenv("SK_FIXTURES") ? getenv("SK_FIXTURES") : "tests/fixtures");
	cr_assert_eq(sk_psl_load(path, &psl, &err), SK_OK, "%s", err.msg);
}

static void teardown(void)
{
	sk_psl_free(psl);
	psl = NULL;
}

TestSuite(matcher, .init = setup, .fini = teardown);

Test(matcher, addresses_and_cidr)
{
	static const char *const p[] = {
	    "[ipv4-addr:value = '198.51.100.7']",
	    "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
	    "[ipv6-addr:value = '2001:db8::7']",
	    "[ipv6-addr:value ISSUBSET '2001:db8:1::/48']",
	    "[network-traffic:dst_ref.value = '192.0.2.1']",
	    "[ipv4-addr:value = '192.0.2.128/25']",
	};
	tm t;
	sk_logrec r;
	build(&t, false, p, 6, 0);
	mkrec(&r, 0, 1, SK_OBS_IPV4, SK_ROLE_NONE, "198.51.100.7", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u);
	mkrec(&r, 0, 2, SK_OBS_IPV4, SK_ROLE_SRC, "203.0.113.250", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 2u);
	mkrec(&r, 0, 3, SK_OBS_IPV6, SK_ROLE_NONE, "2001:DB8:0::7", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 4u);
	mkrec(&r, 0, 4, SK_OBS_IPV6, SK_ROLE_DST, "2001:db8:1:ffff::1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 8u);
	/* role: dst_ref only matches destination addresses */
	mkrec(&r, 0, 5, SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, 0, 6, SK_OBS_IPV4, SK_ROLE_DST, "192.0.2.1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 16u);
	mkrec(&r, 0, 7, SK_OBS_IPV4, SK_ROLE_DST, "192.0.2.200", SK_OBS_IPV4, SK_ROLE_NONE,
	      "192.0.2.201", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 32u, "one hit per indicator per record");
	mkrec(&r, 0, 8, SK_OBS_IPV4, SK_ROLE_NONE, "203.0.114.1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	done(&t);
}

/* Short prefixes span many /16s of the prefilter; addresses at their edges still hit. */
Test(matcher, short_and_long_prefixes)
{
	static const char *const p[] = {
	    "[ipv4-addr:value ISSUBSET '198.0.0.0/7']",
	    "[ipv4-addr:value ISSUBSET '203.0.113.128/26']",
	    "[ipv4-addr:value ISSUBSET '0.0.0.0/0']",
	};
	tm t;
	sk_logrec r;
	build(&t, false, p, 3, 0);
	mkrec(&r, 0, 1, SK_OBS_IPV4, SK_ROLE_NONE, "198.0.0.0", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 5u);
	mkrec(&r, 0, 2, SK_OBS_IPV4, SK_ROLE_NONE, "199.255.255.255", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 5u);
	mkrec(&r, 0, 3, SK_OBS_IPV4, SK_ROLE_NONE, "200.0.0.0", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 4u);
	mkrec(&r, 0, 4, SK_OBS_IPV4, SK_ROLE_NONE, "203.0.113.191", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 6u);
	mkrec(&r, 0, 5, SK_OBS_IPV4, SK_ROLE_NONE, "203.0.113.192", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 4u);
	done(&t);
}

/*
 * network-traffic:dst_ref.type, as feeds write ip:port indicators: the type
 * of a logged address is its kind, and != / NOT keep the other kinds.
 */
Test(matcher, referenced_object_type)
{
	static const char *const p[] = {
	    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
	    "'203.0.113.7' AND network-traffic:dst_port = 8443]",
	    "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = "
	    "'203.0.113.7']",
	    "[network-traffic:dst_ref.type != 'ipv6-addr' AND network-traffic:dst_ref.value = "
	    "'203.0.113.7']",
	    "[network-traffic:src_ref.type IN ('ipv6-addr', 'ipv4-addr') AND "
	    "network-traffic:src_ref.value = '192.0.2.9']",
	    "[network-traffic:dst_port = 8443 AND network-traffic:dst_ref.value = '203.0.113.8']",
	    "[network-traffic:dst_ref.value = '2001:db8::5' AND network-traffic:dst_port = 443]",
	    "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = "
	    "'192.0.2.9' AND network-traffic:src_port = 5353]",
	};
	tm t;
	sk_logrec r;
	sk_error err;
	sk_matcher *m;
	build(&t, false, p, 7, 0);
	mkrec(&r, 0, 1, SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7", SK_OBS_PORT, SK_ROLE_DST, "8443",
	      SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.9", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u | 4u | 8u);
	mkrec(&r, 0, 2, SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7", SK_OBS_PORT, SK_ROLE_DST, "443",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 4u);
	mkrec(&r, 0, 3, SK_OBS_IPV4, SK_ROLE_SRC, "203.0.113.7", SK_OBS_PORT, SK_ROLE_DST, "8443",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u, "a source address is not the dst_ref");
	mkrec(&r, 0, 4, SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.8", SK_OBS_PORT, SK_ROLE_DST, "8443",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 16u);
	mkrec(&r, 0, 5, SK_OBS_IPV6, SK_ROLE_DST, "2001:DB8:0::5", SK_OBS_PORT, SK_ROLE_DST, "443",
	      SK_OBS_IPV6, SK_ROLE_DST, "2001:db8::6", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 32u);
	mkrec(&r, 0, 6, SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.9", SK_OBS_PORT, SK_ROLE_SRC, "5353",
	      SK_OBS_PORT, SK_ROLE_DST, "53", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 8u | 64u);
	mkrec(&r, 0, 7, SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.9", SK_OBS_PORT, SK_ROLE_DST, "5353",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 8u, "the port must be on the address's side");
	done(&t);
	/* types no log records as an address can never match, and say why */
	cr_assert_eq(sk_matcher_new(NULL, &m, &err), SK_OK);
	cr_assert_eq(sk_matcher_add(m, "[network-traffic:dst_ref.type = 'mac-addr']", 43, 0, NULL,
				    &err),
		     SK_EUNSUPPORTED);
	cr_assert(strstr(err.msg, "no log records an address of that type"), "%s", err.msg);
	cr_assert_eq(sk_matcher_add(m, "[network-traffic:dst_ref.type > 'ipv4-addr']", 44, 0, NULL,
				    &err),
		     SK_EUNSUPPORTED);
	sk_matcher_free(m);
}

Test(matcher, domains_exact_and_subdomains)
{
	static const char *const p[] = {
	    "[domain-name:value = 'Evil.Example.']",
	    "[domain-name:value = 'shop.co.example']",
	    "[domain-name:value = 'co.example']",
	};
	tm t;
	sk_logrec r;
	build(&t, false, p, 3, 0);
	mkrec(&r, 0, 1, SK_OBS_DOMAIN, SK_ROLE_NONE, "evil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u);
	mkrec(&r, 0, 2, SK_OBS_DOMAIN, SK_ROLE_NONE, "www.evil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u, "exact without --subdomains");
	done(&t);

	build(&t, true, p, 3, 0);
	mkrec(&r, 0, 1, SK_OBS_DOMAIN, SK_ROLE_NONE, "a.b.evil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u);
	mkrec(&r, 0, 2, SK_OBS_DOMAIN, SK_ROLE_NONE, "www.shop.co.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 2u, "co.example is a public suffix: no walk past shop");
	mkrec(&r, 0, 3, SK_OBS_DOMAIN, SK_ROLE_NONE, "notevil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	done(&t);
}

Test(matcher, hashes_urls_email_ports)
{
	static const char *const p[] = {
	    ("[file:hashes.'SHA-256' = "
	     "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']"),
	    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
	    "[url:value = 'HTTP://Evil.Example:80/a%2fb']",
	    "[email-message:from_ref.value = 'Boss@Evil.Example']",
	    "[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]",
	    "[x509-certificate:hashes.'SHA-1' = '0102030405060708090a0b0c0d0e0f1011121314']",
	};
	tm t;
	sk_logrec r;
	build(&t, false, p, 6, 0);
	mkrec(&r, 0, 1, SK_OBS_SHA256, SK_ROLE_NONE,
	      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SK_OBS_MD5,
	      SK_ROLE_NONE, "d41d8cd98f00b204e9800998ecf8427e", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 3u);
	mkrec(&r, 0, 2, SK_OBS_URL, SK_ROLE_NONE, "http://evil.example/a%2Fb#frag", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 4u);
	mkrec(&r, 0, 3, SK_OBS_EMAIL, SK_ROLE_SRC, "Boss@evil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 8u);
	mkrec(&r, 0, 4, SK_OBS_EMAIL, SK_ROLE_DST, "Boss@evil.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u, "recipient is not from_ref");
	mkrec(&r, 0, 5, SK_OBS_IPV4, SK_ROLE_DST, "198.51.100.1", SK_OBS_PORT, SK_ROLE_DST, "443",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 16u);
	mkrec(&r, 0, 6, SK_OBS_IPV4, SK_ROLE_DST, "198.51.100.1", SK_OBS_PORT, SK_ROLE_DST, "80",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, 0, 7, SK_OBS_X509_SHA1, SK_ROLE_NONE, "0102030405060708090a0b0c0d0e0f1011121314",
	      SK_OBS_SHA1, SK_ROLE_NONE, "0102030405060708090a0b0c0d0e0f1011121314", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 32u);
	done(&t);
}

Test(matcher, operators_generic)
{
	static const char *const p[] = {
	    "[network-traffic:dst_port > 1024 AND network-traffic:dst_port <= 2048]",
	    "[domain-name:value IN ('a.example', 'b.example')]",
	    "[domain-name:value != 'a.example']",
	    "[domain-name:value NOT = 'a.example' AND domain-name:value LIKE '%.example']",
	    "[ipv4-addr:value NOT ISSUBSET '192.0.2.0/24']",
	    "[x-ja3:hash = 'E7D705A3286E19EA42F587B344EE6865' OR file:name = 'x.exe']",
	    "[domain-name:value EXISTS]" /* 2.1 EXISTS is a prefix: rewritten below */,
	};
	tm t;
	sk_logrec r;
	const char *const q[] = {p[0], p[1], p[2], p[3], p[4], p[5], "[EXISTS url:value]"};
	build(&t, false, q, 7, 0);
	mkrec(&r, 0, 1, SK_OBS_PORT, SK_ROLE_DST, "1500", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u);
	mkrec(&r, 0, 2, SK_OBS_PORT, SK_ROLE_DST, "4000", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, 0, 3, SK_OBS_DOMAIN, SK_ROLE_NONE, "b.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 2u | 4u | 8u);
	mkrec(&r, 0, 4, SK_OBS_DOMAIN, SK_ROLE_NONE, "a.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 2u);
	mkrec(&r, 0, 5, SK_OBS_IPV4, SK_ROLE_NONE, "192.0.2.9", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, 0, 6, SK_OBS_IPV4, SK_ROLE_NONE, "198.51.100.9", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 16u);
	mkrec(&r, 0, 7, SK_OBS_JA3, SK_ROLE_NONE, "e7d705a3286e19ea42f587b344ee6865", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 32u);
	mkrec(&r, 0, 8, SK_OBS_FILENAME, SK_ROLE_NONE, "x.exe", SK_OBS_URL, SK_ROLE_NONE,
	      "http://a.example/", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 32u | 64u);
	(void)p;
	done(&t);
}

Test(matcher, like_and_matches)
{
	static const char *const p[] = {
	    "[url:value LIKE 'http://%.evil.example/_dmin%']",
	    ("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' MATCHES "
	     "'^curl/[0-9]+']"),
	    "[domain-name:value MATCHES 'xn--[a-z0-9]+']",
	};
	tm t;
	sk_logrec r;
	build(&t, false, p, 3, 0);
	mkrec(&r, 0, 1, SK_OBS_URL, SK_ROLE_NONE, "http://www.evil.example/admin.php", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 1u);
	mkrec(&r, 0, 2, SK_OBS_URL, SK_ROLE_NONE, "http://www.evil.example/x/admin", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, 0, 3, SK_OBS_USER_AGENT, SK_ROLE_NONE, "curl/8.1", SK_OBS_DOMAIN, SK_ROLE_NONE,
	      "www.xn--bcher-kva.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 6u);
	done(&t);
}

/*
 * The memory of values no regex matched (match_eval.c) changes no result:
 * repeated values, values over its length limit, many distinct values
 * evicting each other, and a value that matches after many that did not.
 */
Test(matcher, regex_memory_same_hits)
{
	static const char *const p[] = {
	    "[domain-name:value MATCHES '^evil[0-9]+\\\\.example$']",
	    "[url:value LIKE 'http://x.example/%']",
	};
	static char vals[6000][80];
	tm t;
	sk_logrec r;
	build(&t, false, p, 2, 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 6000; i++) {
			/* every 7th value matches; some are longer than 63 bytes */
			if (i % 7 == 0)
				snprintf(vals[i], sizeof(vals[i]), "evil%d.example", i % 50);
			else if (i % 11 == 0)
				snprintf(vals[i], sizeof(vals[i]), "%064d.good%d.example", i, i % 40);
			else
				snprintf(vals[i], sizeof(vals[i]), "good%d.example", i % 3000);
			mkrec(&r, 0, (uint64_t)i, SK_OBS_DOMAIN, SK_ROLE_NONE, vals[i], SK_OBS_NONE);
			cr_assert_eq(run(&t, &r, NULL), i % 7 == 0 ? 1u : 0u, "round %d, %s", round,
				     vals[i]);
		}
		mkrec(&r, 0, 1, SK_OBS_URL, SK_ROLE_NONE, "http://x.example/a", SK_OBS_NONE);
		cr_assert_eq(run(&t, &r, NULL), 2u);
		mkrec(&r, 0, 2, SK_OBS_URL, SK_ROLE_NONE, "http://y.example/a", SK_OBS_NONE);
		cr_assert_eq(run(&t, &r, NULL), 0u);
	}
	done(&t);
}

Test(matcher, unsupported_reported)
{
	static const char *const bad[] = {
	    "[software:name = 'x']",
	    "[ipv4-addr:value = 'not-an-address']",
	    "[file:hashes.MD5 = 'abc']",
	    "[domain-name:value MATCHES '(a)\\\\1']",
	    "[ipv4-addr:value < '1.2.3.4']",
	    "[software:name = 'x'] FOLLOWEDBY [domain-name:value = 'a.example']",
	};
	sk_matcher *m;
	sk_error err;
	cr_assert_eq(sk_matcher_new(NULL, &m, &err), SK_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_err rc = sk_matcher_add(m, bad[i], strlen(bad[i]), 0, NULL, &err);
		cr_assert_eq(rc, SK_EUNSUPPORTED, "%s: %d", bad[i], rc);
		cr_assert(err.msg[0]);
	}
	cr_assert_eq(sk_matcher_add(m, "[a:b =", 6, 0, NULL, &err), SK_EINVAL);
	/* partly supported: the OR branch that a log has is enough */
	const char *ok = "[software:name = 'x' OR domain-name:value = 'a.example']";
	cr_assert_eq(sk_matcher_add(m, ok, strlen(ok), 0, NULL, &err), SK_OK, "%s", err.msg);
	sk_matcher_stats st;
	sk_matcher_stats_get(m, &st);
	cr_assert_eq(st.indicators, 1);
	sk_matcher_free(m);
}

Test(matcher, observation_operators)
{
	static const char *const p[] = {
	    "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
	    "([domain-name:value = 'a.example'] AND [ipv4-addr:value = '192.0.2.1']) WITHIN 10 "
	    "SECONDS",
	    "[domain-name:value = 'c.example'] REPEATS 3 TIMES WITHIN 5 SECONDS",
	    "[domain-name:value = 'd.example'] OR [domain-name:value = 'e.example']",
	    "[domain-name:value = 'f.example'] START t'2024-01-01T00:00:00Z' STOP "
	    "t'2024-01-02T00:00:00Z'",
	};
	const int64_t S = 1000000, T0 = 1704067200LL * S; /* 2024-01-01 */
	tm t;
	sk_logrec r;
	size_t nr = 0;
	build(&t, false, p, 5, 0);
	mkrec(&r, T0, 1, SK_OBS_DOMAIN, SK_ROLE_NONE, "b.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u, "b before a");
	mkrec(&r, T0 + 1 * S, 2, SK_OBS_DOMAIN, SK_ROLE_NONE, "a.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u);
	mkrec(&r, T0 + 30 * S, 3, SK_OBS_DOMAIN, SK_ROLE_NONE, "b.example", SK_OBS_IPV4,
	      SK_ROLE_NONE, "192.0.2.1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, &nr), 1u, "FOLLOWEDBY done; AND outside 10 s");
	cr_assert_eq(nr, 2);
	mkrec(&r, T0 + 31 * S, 4, SK_OBS_DOMAIN, SK_ROLE_NONE, "a.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, &nr), 2u, "AND within 10 s");
	cr_assert_eq(nr, 2);
	/* REPEATS: three within 5 s (sliding window) */
	for (int i = 0; i < 2; i++) {
		mkrec(&r, T0 + (40 + i * 10) * S, 5 + (uint64_t)i, SK_OBS_DOMAIN, SK_ROLE_NONE,
		      "c.example", SK_OBS_NONE);
		cr_assert_eq(run(&t, &r, NULL), 0u);
	}
	for (int i = 0; i < 3; i++) {
		mkrec(&r, T0 + (60 + i) * S, 7 + (uint64_t)i, SK_OBS_DOMAIN, SK_ROLE_NONE,
		      "c.example", SK_OBS_NONE);
		cr_assert_eq(run(&t, &r, &nr), i == 2 ? 4u : 0u, "repeat %d", i);
	}
	cr_assert_eq(nr, 3);
	mkrec(&r, T0, 10, SK_OBS_DOMAIN, SK_ROLE_NONE, "e.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 8u);
	mkrec(&r, T0 + 86400 * S, 11, SK_OBS_DOMAIN, SK_ROLE_NONE, "f.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 0u, "STOP is exclusive");
	mkrec(&r, T0 + 5 * S, 12, SK_OBS_DOMAIN, SK_ROLE_NONE, "f.example", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r, NULL), 16u);
	done(&t);
}

Test(matcher, state_cap_evicts_oldest)
{
	enum { N = 64 };
	char *pats[N];
	tm t;
	sk_logrec r;
	char dom[N][32];
	sk_match_state_stats st;

	for (int i = 0; i < N; i++) {
		pats[i] = malloc(128);
		snprintf(pats[i], 128,
			 "[domain-name:value = 'p%d.example'] FOLLOWEDBY "
			 "[domain-name:value = 'q%d.example']",
			 i, i);
	}
	/* room for a handful of partial states only */
	build(&t, false, (const char *const *)pats, N, 8 * 1024);
	for (int i = 0; i < N; i++) {
		snprintf(dom[i], sizeof(dom[i]), "p%d.example", i);
		mkrec(&r, 0, (uint64_t)i + 1, SK_OBS_DOMAIN, SK_ROLE_NONE, dom[i], SK_OBS_NONE);
		run(&t, &r, NULL);
	}
	sk_match_state_stats_get(t.s, &st);
	cr_assert(st.bytes <= 8 * 1024);
	cr_assert(st.evicted > 0);
	/* the newest partial survives, the oldest was evicted */
	mkrec(&r, 0, 100, SK_OBS_DOMAIN, SK_ROLE_NONE, "q63.example", SK_OBS_NONE);
	cr_assert(feed_one(&t, &r), "q63's partial survived");
	mkrec(&r, 0, 101, SK_OBS_DOMAIN, SK_ROLE_NONE, "q0.example", SK_OBS_NONE);
	cr_assert_not(feed_one(&t, &r), "q0's partial was evicted");
	for (int i = 0; i < N; i++)
		free(pats[i]);
	done(&t);
}

Test(matcher, url_norm)
{
	char out[256];
	size_t n = sk_match_url_norm("HTTPS://WWW.Example.COM:443", 27, out, sizeof(out));
	cr_assert_eq(n, strlen("https://www.example.com/"));
	cr_assert(!memcmp(out, "https://www.example.com/", n));
	n = sk_match_url_norm("http://a.example:8080/P%3a?q=1#x", 32, out, sizeof(out));
	out[n] = '\0';
	cr_assert_str_eq(out, "http://a.example:8080/P%3A?q=1");
}

/* The reader's parsed IPv4 (SK_OBS_F_IP4) is used as is, the text form is parsed otherwise. */
Test(matcher, ipv4_parsed_by_the_reader)
{
	static const char *const pats[] = {
	    "[ipv4-addr:value = '192.0.2.7']",
	    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
	    "[ipv4-addr:value != '203.0.113.1']",
	};
	tm t;
	sk_logrec r;
	size_t nr;
	build(&t, false, pats, 3, 0);
	memset(&r, 0, sizeof(r));
	r.n = 1;
	r.obs[0] = (sk_obs){.v = "192.0.2.7", .len = 9, .kind = SK_OBS_IPV4, .field = "f"};
	cr_assert_eq(run(&t, &r, &nr), 1u | 4u);
	/* the parsed value is what counts: 198.51.100.9 */
	r.obs[0].flags = SK_OBS_F_IP4;
	r.obs[0].num = 0xC6336409u;
	cr_assert_eq(run(&t, &r, &nr), 2u | 4u);
	r.obs[0].num = 0xCB007101u; /* 203.0.113.1 */
	cr_assert_eq(run(&t, &r, &nr), 0u);
	done(&t);
}

/* An index without domain keys skips domain values (no probe, no subdomain walk). */
Test(matcher, skips_absent_key_kinds)
{
	static const char *const pats[] = {"[ipv4-addr:value = '192.0.2.7']",
					   "[domain-name:value LIKE '%.evil.example']"};
	tm t;
	sk_logrec r;
	size_t nr;
	build(&t, true, pats, 2, 0);
	memset(&r, 0, sizeof(r));
	r.n = 2;
	r.obs[0] = (sk_obs){.v = "www.evil.example", .len = 16, .kind = SK_OBS_DOMAIN, .field = "q"};
	r.obs[1] = (sk_obs){.v = "192.0.2.7", .len = 9, .kind = SK_OBS_IPV4, .field = "a"};
	cr_assert_eq(run(&t, &r, &nr), 3u, "regexes still see every value");
	done(&t);
}
