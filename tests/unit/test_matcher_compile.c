/*
 * test_matcher_compile.c - the compile side of the matcher: the direct path
 * ("[type:path = 'v']" and feed URL-path regexes without a tree) gives the
 * same hits as the general compiler on the same records, the 12-byte index
 * survives many keys and shared keys, and warning lists suppress indicators
 * at compile time (SK_ESUPPRESSED, counted in the stats).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/match_priv.h"
#include "schakel/matcher.h"
#include "schakel/store.h"
#include "schakel/warninglist.h"

static const char *const pats[] = {
    "[domain-name:value = 'evil.example']",
    "  [ domain-name:value='EVIL.example.' ]  ",
    "[ipv4-addr:value = '192.0.2.1']",
    "[ipv4-addr:value = '198.51.100.0/24']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[network-traffic:dst_ref.value = '192.0.2.1']",
    ("[file:hashes.'SHA-256' = "
     "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']"),
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[url:value = 'HTTP://Evil.example:80/a%2fb#frag']",
    "[url:value MATCHES '^[a-z][a-z0-9+.-]*://[^/]+/gate/panel\\\\.php']",
    "[url:value MATCHES '^[a-z][a-z0-9+.-]*://[^/]+/x']",
    "[email-addr:value = 'Bob@Example.COM']",
    "[domain-name:value = 'it\\'s.example']",
    "[x-ja3:hash = 'ABCDEF0123456789abcdef0123456789']",
    "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '192.0.2.1']",
};
#define NPATS (sizeof(pats) / sizeof(pats[0]))

typedef struct rv {
	int kind, role;
	const char *v;
} rv;

static const rv vals[] = {
    {SK_OBS_DOMAIN, SK_ROLE_NONE, "evil.example"},
    {SK_OBS_DOMAIN, SK_ROLE_NONE, "a.evil.example"},
    {SK_OBS_IPV4, SK_ROLE_DST, "192.0.2.1"},
    {SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.1"},
    {SK_OBS_IPV4, SK_ROLE_NONE, "198.51.100.77"},
    {SK_OBS_IPV6, SK_ROLE_NONE, "2001:db8::1"},
    {SK_OBS_SHA256, SK_ROLE_NONE,
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {SK_OBS_MD5, SK_ROLE_NONE, "d41d8cd98f00b204e9800998ecf8427e"},
    {SK_OBS_URL, SK_ROLE_NONE, "http://evil.example/a%2Fb"},
    {SK_OBS_URL, SK_ROLE_NONE, "https://h.test/gate/panel.php?x=1"},
    {SK_OBS_URL, SK_ROLE_NONE, "https://h.test/a/gate/panel.php"},
    {SK_OBS_URL, SK_ROLE_NONE, "HTTPS://h.test/gate/panel.php"},
    {SK_OBS_URL, SK_ROLE_NONE, "http:///gate/panel.php"},
    {SK_OBS_URL, SK_ROLE_NONE, "ftp://u@h:21/xyz"},
    {SK_OBS_EMAIL, SK_ROLE_NONE, "Bob@example.com"},
    {SK_OBS_EMAIL, SK_ROLE_NONE, "bob@example.com"},
    {SK_OBS_DOMAIN, SK_ROLE_NONE, "it's.example"},
    {SK_OBS_JA3, SK_ROLE_NONE, "abcdef0123456789abcdef0123456789"},
};
#define NVALS (sizeof(vals) / sizeof(vals[0]))

static sk_matcher *mk(bool fast, bool subdomains)
{
	sk_matcher *m;
	sk_error err;
	sk_match_opts o = {.subdomains = subdomains};
	cr_assert_eq(sk_matcher_new(&o, &m, &err), SK_OK);
	m->no_fast = !fast;
	for (size_t i = 0; i < NPATS; i++) {
		uint32_t idx;
		cr_assert_eq(sk_matcher_add(m, pats[i], strlen(pats[i]), 0, &idx, &err), SK_OK,
			     "%s: %s", pats[i], err.msg);
		cr_assert_eq(idx, i);
	}
	cr_assert_eq(sk_matcher_build(m, &err), SK_OK, "%s", err.msg);
	return m;
}

/* Hits of each single-value record as "ind:value;" text. */
static void hits_text(sk_matcher *m, char *out, size_t n)
{
	sk_match_ctx *c;
	sk_error err;
	size_t o = 0;
	cr_assert_eq(sk_match_ctx_new(m, &c, &err), SK_OK);
	for (size_t i = 0; i < NVALS; i++) {
		sk_logrec r;
		const sk_match_hit *h;
		memset(&r, 0, sizeof(r));
		r.obs[0] = (sk_obs){.v = vals[i].v, .len = (uint32_t)strlen(vals[i].v),
				    .kind = (uint8_t)vals[i].kind, .role = (uint8_t)vals[i].role,
				    .field = "f"};
		/* the same value twice: still one hit per indicator */
		r.obs[1] = r.obs[0];
		r.n = 2;
		size_t nh = sk_match_record(c, &r, &h);
		o += (size_t)snprintf(out + o, n - o, "[%zu]", i);
		for (size_t k = 0; k < nh; k++)
			o += (size_t)snprintf(out + o, n - o, "%u/%u/%u;", h[k].ind, h[k].obs,
					      h[k].value);
	}
	sk_match_ctx_free(c);
}

Test(matcher_compile, direct_path_equals_general_compiler)
{
	for (int sub = 0; sub < 2; sub++) {
		char a[8192], b[8192];
		sk_matcher *fast = mk(true, sub), *slow = mk(false, sub);
		sk_matcher_stats fs, ss;
		sk_matcher_stats_get(fast, &fs);
		sk_matcher_stats_get(slow, &ss);
		cr_expect_eq(fs.direct, NPATS - 1, "direct %u", fs.direct);
		cr_expect_eq(ss.direct, 0);
		cr_expect_eq(fs.indicators, ss.indicators);
		hits_text(fast, a, sizeof(a));
		hits_text(slow, b, sizeof(b));
		cr_expect_str_eq(a, b);
		cr_expect(fs.bytes < ss.bytes);
		sk_matcher_free(fast);
		sk_matcher_free(slow);
	}
}

/* The ip:port form as one key gives the parser's hits; its near misses stay with the parser. */
Test(matcher_compile, ipport_keys_equal_general_compiler)
{
	static const char *const ip[] = {
	    ("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
	     "'203.0.113.7' AND network-traffic:dst_port = 8443]"),
	    "[ network-traffic:dst_port=53 AND network-traffic:dst_ref.value='203.0.113.7' ]",
	    "[network-traffic:src_ref.value = '2001:db8::7' AND network-traffic:src_port = 443]",
	    /* not the form: a range, two sides, no port, a second address */
	    "[network-traffic:dst_ref.value = '203.0.113.0/24' AND network-traffic:dst_port = 53]",
	    "[network-traffic:src_ref.value = '203.0.113.7' AND network-traffic:dst_port = 53]",
	    "[network-traffic:dst_ref.value = '203.0.113.7']",
	    /* a port with a leading zero is no STIX integer: refused by both (found by fuzz_matcher) */
	    "[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 053]",
	    ("[network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_ref.value = "
	     "'203.0.113.8' AND network-traffic:dst_port = 53]"),
	};
	static const struct {
		int kind, role;
		const char *v;
		int prole;
		const char *port;
	} rec[] = {
	    {SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7", SK_ROLE_DST, "8443"},
	    {SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7", SK_ROLE_DST, "53"},
	    {SK_OBS_IPV4, SK_ROLE_SRC, "203.0.113.7", SK_ROLE_DST, "53"},
	    {SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.9", SK_ROLE_DST, "53"},
	    {SK_OBS_IPV6, SK_ROLE_SRC, "2001:DB8::7", SK_ROLE_SRC, "443"},
	    {SK_OBS_IPV6, SK_ROLE_SRC, "2001:db8::7", SK_ROLE_DST, "443"},
	};
	char out[2][2048];
	for (int fast = 0; fast < 2; fast++) {
		sk_matcher *m;
		sk_match_ctx *c;
		sk_matcher_stats st;
		sk_error err;
		size_t o = 0;
		cr_assert_eq(sk_matcher_new(NULL, &m, &err), SK_OK);
		m->no_fast = !fast;
		for (size_t i = 0; i < sizeof(ip) / sizeof(ip[0]); i++)
			sk_matcher_add(m, ip[i], strlen(ip[i]), 0, NULL, &err);
		cr_assert_eq(sk_matcher_build(m, &err), SK_OK, "%s", err.msg);
		sk_matcher_stats_get(m, &st);
		cr_expect_eq(st.direct, fast ? 4u : 0u, "direct %u", st.direct); /* 3 ip:port + 1 */
		cr_assert_eq(sk_match_ctx_new(m, &c, &err), SK_OK);
		for (size_t i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
			sk_logrec r;
			const sk_match_hit *h;
			memset(&r, 0, sizeof(r));
			r.obs[0] = (sk_obs){.v = rec[i].v, .len = (uint32_t)strlen(rec[i].v),
					    .kind = (uint8_t)rec[i].kind, .role = (uint8_t)rec[i].role,
					    .field = "f"};
			r.obs[1] = (sk_obs){.v = rec[i].port, .len = (uint32_t)strlen(rec[i].port),
					    .kind = SK_OBS_PORT, .role = (uint8_t)rec[i].prole,
					    .field = "p"};
			r.n = 2;
			size_t nh = sk_match_record(c, &r, &h);
			o += (size_t)snprintf(out[fast] + o, sizeof(out[fast]) - o, "[%zu]", i);
			for (size_t k = 0; k < nh; k++)
				o += (size_t)snprintf(out[fast] + o, sizeof(out[fast]) - o, "%u;",
						      h[k].ind);
		}
		sk_match_ctx_free(c);
		sk_matcher_free(m);
	}
	cr_expect_str_eq(out[1], out[0]);
	/* (the value reported may differ: the key reports the address, a tree its first leaf) */
	cr_expect_str_eq(out[1], "[0]0;5;[1]1;3;5;[2]4;[3]3;[4]2;[5]");
}

Test(matcher_compile, direct_path_refuses_like_the_parser)
{
	static const char *const bad[] = {
	    "[domain-name:value = 'a'", "[ipv4-addr:value = 'not an ip']",
	    "[file:hashes.MD5 = 'abc']", "[software:name = 'x']",
	    "[domain-name:value = 'a\\x']",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_matcher *m1, *m2;
		sk_error e1, e2;
		cr_assert_eq(sk_matcher_new(NULL, &m1, &e1), SK_OK);
		cr_assert_eq(sk_matcher_new(NULL, &m2, &e2), SK_OK);
		m2->no_fast = true;
		sk_err r1 = sk_matcher_add(m1, bad[i], strlen(bad[i]), 0, NULL, &e1);
		sk_err r2 = sk_matcher_add(m2, bad[i], strlen(bad[i]), 0, NULL, &e2);
		cr_expect_neq(r1, SK_OK, "%s", bad[i]);
		cr_expect_eq(r1, r2, "%s", bad[i]);
		cr_expect_str_eq(e1.msg, e2.msg);
		sk_matcher_free(m1);
		sk_matcher_free(m2);
	}
}

Test(matcher_compile, many_keys_and_shared_keys)
{
	sk_matcher *m;
	sk_match_ctx *c;
	sk_error err;
	char p[96], v[32];
	enum { N = 50000 };
	cr_assert_eq(sk_matcher_new(NULL, &m, &err), SK_OK);
	cr_assert_eq(sk_matcher_reserve(m, N, &err), SK_OK);
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "[domain-name:value = 'h%d.example']", i);
		cr_assert_eq(sk_matcher_add(m, p, strlen(p), 0, NULL, &err), SK_OK);
	}
	/* the same key for three more indicators, one through a tree */
	for (int k = 0; k < 2; k++) {
		snprintf(p, sizeof(p), "[domain-name:value = 'h7.example']");
		cr_assert_eq(sk_matcher_add(m, p, strlen(p), 0, NULL, &err), SK_OK);
	}
	snprintf(p, sizeof(p), "[domain-name:value = 'h7.example' OR domain-name:value = 'z.test']");
	cr_assert_eq(sk_matcher_add(m, p, strlen(p), 0, NULL, &err), SK_OK);
	cr_assert_eq(sk_matcher_build(m, &err), SK_OK);
	sk_matcher_stats st;
	sk_matcher_stats_get(m, &st);
	cr_expect_eq(st.exact_keys, N + 1);
	cr_expect_lt(st.bytes_exact / N, 60, "%zu bytes per key", st.bytes_exact / N);
	cr_assert_eq(sk_match_ctx_new(m, &c, &err), SK_OK);
	for (int i = 0; i < N; i += 997) {
		sk_logrec r;
		const sk_match_hit *h;
		snprintf(v, sizeof(v), "h%d.example", i);
		memset(&r, 0, sizeof(r));
		r.obs[0] = (sk_obs){.v = v, .len = (uint32_t)strlen(v), .kind = SK_OBS_DOMAIN};
		r.n = 1;
		size_t nh = sk_match_record(c, &r, &h);
		cr_assert_eq(nh, 1);
		cr_expect_eq(h[0].ind, (uint32_t)i);
	}
	{
		sk_logrec r;
		const sk_match_hit *h;
		memset(&r, 0, sizeof(r));
		r.obs[0] = (sk_obs){.v = "h7.example", .len = 10, .kind = SK_OBS_DOMAIN};
		r.n = 1;
		size_t nh = sk_match_record(c, &r, &h);
		cr_assert_eq(nh, 4);
		cr_expect_eq(h[0].ind, 7);
		cr_expect_eq(h[1].ind, N);
		cr_expect_eq(h[3].ind, N + 2);
	}
	sk_match_ctx_free(c);
	sk_matcher_free(m);
}

Test(matcher_compile, warning_lists_suppress)
{
	char path[] = "/tmp/sk_test_mcomp_XXXXXX";
	int fd = mkstemp(path);
	sk_store *st;
	sk_wl_set *wl;
	sk_matcher *m;
	sk_error err;
	sk_wl_import_stats is = {0};
	char dir[512];
	static const struct {
		const char *pat;
		sk_err rc;
		const char *msg;
	} cases[] = {
	    {"[domain-name:value = 'popular.example']", SK_ESUPPRESSED,
	     "'popular.example' is on warning list 'Test top sites' (string)"},
	    {"[domain-name:value = 'a.b.cdn.example']", SK_ESUPPRESSED,
	     "'a.b.cdn.example' is on warning list 'Test CDN hosts' (hostname)"},
	    {"[ipv4-addr:value = '198.51.100.9']", SK_ESUPPRESSED,
	     "'198.51.100.9' is on warning list 'Test public DNS resolvers' (cidr)"},
	    {"[ipv4-addr:value ISSUBSET '198.51.100.128/25']", SK_ESUPPRESSED, NULL},
	    {"[domain-name:value IN ('popular.example', 'x.cdn.example')]", SK_ESUPPRESSED, NULL},
	    {"[domain-name:value IN ('popular.example', 'evil.test')]", SK_OK, NULL},
	    {"[domain-name:value = 'evil.test']", SK_OK, NULL},
	    {"[domain-name:value != 'popular.example']", SK_OK, NULL},
	    {"[domain-name:value = 'popular.example'] AND [domain-name:value = 'x.test']", SK_OK,
	     NULL},
	};

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(dir, sizeof(dir), "%s/warninglists",
		 getenv("SK_FIXTURES") ? getenv("SK_FIXTURES") : "tests/fixtures");
	cr_assert_eq(sk_store_open(path, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	if (sk_warninglist_import_dir(st, dir, NULL, &is, &err)) {
		/* run from the build directory */
		snprintf(dir, sizeof(dir), "../tests/fixtures/warninglists");
		cr_assert_eq(sk_warninglist_import_dir(st, dir, NULL, &is, &err), SK_OK, "%s",
			     err.msg);
	}
	cr_assert_eq(sk_warninglist_load(st, &wl, &err), SK_OK);
	for (int fast = 0; fast < 2; fast++) {
		sk_match_opts o = {.warninglists = wl};
		uint32_t want = 0;
		sk_matcher_stats ms;
		cr_assert_eq(sk_matcher_new(&o, &m, &err), SK_OK);
		m->no_fast = !fast;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			sk_err rc = sk_matcher_add(m, cases[i].pat, strlen(cases[i].pat), 0, NULL,
						   &err);
			cr_expect_eq(rc, cases[i].rc, "%s: %s", cases[i].pat, err.msg);
			if (cases[i].msg)
				cr_expect_str_eq(err.msg, cases[i].msg);
			want += cases[i].rc == SK_ESUPPRESSED;
		}
		sk_matcher_stats_get(m, &ms);
		cr_expect_eq(ms.suppressed, want);
		sk_matcher_free(m);
	}
	sk_warninglist_free(wl);
	sk_store_close(st);
	unlink(path);
}
