/*
 * fuzz_matcher.c - libFuzzer target for the matcher's compile side: the
 * direct recognisers (single comparisons, URL-path regexes, the feeds'
 * ip:port form in match_ipport.c) and the general compiler.
 *
 * The input is compiled twice, once with the direct paths and once through
 * the parser and trees only; both must accept or refuse it alike and, when
 * accepted, give the same indicator hits on a few fixed records.  A
 * difference aborts, which libFuzzer reports as a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/match_priv.h"
#include "schakel/matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

static const struct {
	int kind, role;
	const char *v;
} vals[] = {
    {SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7"}, {SK_OBS_PORT, SK_ROLE_DST, "443"},
    {SK_OBS_IPV4, SK_ROLE_SRC, "192.0.2.9"},   {SK_OBS_PORT, SK_ROLE_SRC, "53"},
    {SK_OBS_IPV6, SK_ROLE_DST, "2001:db8::7"}, {SK_OBS_DOMAIN, SK_ROLE_NONE, "a.evil.example"},
    {SK_OBS_URL, SK_ROLE_NONE, "http://evil.example/gate/panel.php?x=1"},
    {SK_OBS_MD5, SK_ROLE_NONE, "d41d8cd98f00b204e9800998ecf8427e"},
};
#define NVALS (sizeof(vals) / sizeof(vals[0]))

/* 1 if indicator 0 hits the record of every value, -1 if the input was refused. */
static int run(const uint8_t *data, size_t size, bool fast, uint32_t *mask)
{
	sk_matcher *m;
	sk_match_ctx *c = NULL;
	sk_logrec r;
	sk_error err;
	const sk_match_hit *h;

	require(sk_matcher_new(NULL, &m, &err) == SK_OK);
	m->no_fast = !fast;
	if (sk_matcher_add(m, (const char *)data, size, 0, NULL, &err) != SK_OK) {
		sk_matcher_free(m);
		return -1;
	}
	require(sk_matcher_build(m, &err) == SK_OK);
	require(sk_match_ctx_new(m, &c, &err) == SK_OK);
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < NVALS; i++)
		r.obs[r.n++] = (sk_obs){.v = vals[i].v, .len = (uint32_t)strlen(vals[i].v),
					.kind = (uint8_t)vals[i].kind,
					.role = (uint8_t)vals[i].role, .field = "f"};
	*mask = 0;
	/* the whole record, then each value alone */
	if (sk_match_record(c, &r, &h))
		*mask |= 1;
	for (size_t i = 0; i < NVALS; i++) {
		sk_logrec one;
		memset(&one, 0, sizeof(one));
		one.obs[0] = r.obs[i];
		one.n = 1;
		if (sk_match_record(c, &one, &h))
			*mask |= 2u << i;
	}
	sk_match_ctx_free(c);
	sk_matcher_free(m);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t a = 0, b = 0;
	if (size > 4096)
		return 0;
	int ra = run(data, size, true, &a), rb = run(data, size, false, &b);
	require(ra == rb);
	require(a == b);
	return 0;
}
