/*
 * fuzz_match_cache.c - libFuzzer target for the matcher cache loader
 * (src/detect/match_cache.c).
 *
 * The input is a cache file image, loaded without the checksum check (so
 * that the fuzzer reaches the structure checks behind it) and with no key.
 * A file the loader accepts must be safe to use: its base part (the
 * indicator table and skip messages of match_base.c) is checked and read
 * through, it is matched against a few fixed records, each observation's
 * results fed through the stream state, and freed.  The seed corpus (fuzz/corpus/match_cache) holds
 * small real cache files of domain, URL, hash, IPv6, regex and multi-observation indicators.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/match_base.h"
#include "schakel/match_cache.h"
#include "schakel/matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static const struct {
	int kind, role;
	const char *v;
} vals[] = {
    {SK_OBS_IPV4, SK_ROLE_DST, "203.0.113.7"},
    {SK_OBS_PORT, SK_ROLE_DST, "443"},
    {SK_OBS_IPV6, SK_ROLE_DST, "2001:db8::7"},
    {SK_OBS_DOMAIN, SK_ROLE_NONE, "a.evil.example"},
    {SK_OBS_URL, SK_ROLE_NONE, "http://evil.example/gate/panel.php?x=1"},
    {SK_OBS_MD5, SK_ROLE_NONE, "d41d8cd98f00b204e9800998ecf8427e"},
};
#define NVALS (sizeof(vals) / sizeof(vals[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_matcher *m = NULL;
	sk_match_ctx *c = NULL;
	sk_match_state *st = NULL;
	const void *extra;
	size_t extra_len;
	sk_error err;
	sk_logrec r;

	if (sk_mcache_load_mem(data, size, NULL, 0, SK_MCACHE_NO_CHECKSUM, NULL, &m, &extra,
	                       &extra_len, &err) != SK_OK)
		return 0;
	{
		sk_mbase b;
		uint64_t sum = 0;
		if (sk_mbase_take(m, extra, extra_len, INT64_MAX, &b, &err) != SK_OK)
			return 0; /* m was freed */
		for (uint32_t i = 0; i < b.ninds; i++)
			sum += (uint64_t)b.vers[i];
		for (size_t i = 0; i < b.msgs_len; i++)
			sum += (unsigned char)b.msgs[i];
		sink = sum; /* keep the reads */
	}
	if (sk_match_ctx_new(m, &c, &err) == SK_OK &&
	    sk_match_state_new(m, 1 << 20, &st, &err) == SK_OK) {
		memset(&r, 0, sizeof(r));
		for (size_t i = 0; i < NVALS; i++)
			r.obs[r.n++] = (sk_obs){.v = vals[i].v,
			                        .len = (uint32_t)strlen(vals[i].v),
			                        .kind = (uint8_t)vals[i].kind,
			                        .role = (uint8_t)vals[i].role,
			                        .field = "f"};
		for (int round = 0; round < 3; round++) {
			const sk_match_hit *h;
			size_t n = sk_match_record(c, &r, &h);
			for (size_t i = 0; i < n; i++) {
				sk_match_ref ref = {0, (uint64_t)round + 1, round * 1000000LL};
				const sk_match_ref *refs;
				size_t nrefs;
				if (h[i].obs)
					sk_match_state_feed(st, &h[i], &ref, &refs, &nrefs);
			}
		}
	}
	sk_match_state_free(st);
	sk_match_ctx_free(c);
	sk_matcher_free(m);
	return 0;
}
