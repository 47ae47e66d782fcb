/*
 * private_bench.c - what matching personal data without revealing it costs
 * (docs/private-matching.md): per core, e-mail values normalised, hashed
 * (HMAC-SHA-256 under each held key) and looked up in the digest set, per
 * second, for 1, 2 and 4 keys; and Bloom-filter lookups per second (the
 * probe alone, digests computed beforehand), for a filter of N values at a
 * false-positive rate of 0.001, with the false positives counted.
 * Build: cmake --build build --target private_bench
 * Usage: build/private_bench [N digests (default 100000)] [M lookups (default 2000000)]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/hashed.h"
#include "schakel/hashkey.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void digest_hex(const unsigned char *key, const char *v, char hex[65])
{
	static const char x[] = "0123456789abcdef";
	unsigned char d[SK_HASHED_DIGEST_LEN];
	sk_hashed_digest(key, v, strlen(v), d);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[64] = '\0';
}

/* An indicator JSON with n digests of user<i>@example.org under key. */
static char *indicator(const unsigned char *key, const char *kid, unsigned n)
{
	size_t cap = (size_t)n * 70 + 1024, len;
	char *s = malloc(cap), hex[65], v[64];
	len = (size_t)snprintf(s, cap,
	                       "{\"extensions\":{\"" SK_HASHED_EXT_ID "\":{\"extension_type\":"
	                       "\"property-extension\",\"alg\":\"hmac-sha256\",\"key_id\":\"%s\","
	                       "\"path\":\"email-addr:value\",\"digests\":[",
	                       kid);
	for (unsigned i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "user%u@example.org", i);
		digest_hex(key, v, hex);
		len += (size_t)snprintf(s + len, cap - len, "%s\"%s\"", i ? "," : "", hex);
	}
	snprintf(s + len, cap - len, "]}}}");
	return s;
}

static void run_keys(unsigned nkeys, unsigned n, unsigned m)
{
	sk_hmatch *h;
	sk_hmatch_ctx *c;
	sk_error err;
	sk_jdoc *doc[4];
	unsigned char key[4][32];
	char kid[4][17];
	uint64_t hits = 0;
	double t;
	char(*vals)[64] = malloc((size_t)1024 * 64);

	sk_hmatch_new(&h, &err);
	sk_hmatch_ctx_new(&c, &err);
	for (unsigned k = 0; k < nkeys; k++) {
		const sk_jval *v;
		sk_hashed_ext e;
		char *js;
		memset(key[k], (int)k + 1, 32);
		sk_hashkey_id(key[k], kid[k]);
		js = indicator(key[k], kid[k], n);
		sk_json_doc_new(0, 64, &doc[k]);
		if (sk_json_parse(doc[k], js, strlen(js), &v, &err) ||
		    sk_hashed_parse(v, &e, &err) || sk_hmatch_add_key(h, kid[k], key[k], &err) ||
		    sk_hmatch_add(h, &e, k, &err)) {
			fprintf(stderr, "private_bench: %s\n", err.msg);
			exit(1);
		}
		sk_hashed_ext_clear(&e);
		free(js);
	}
	sk_hmatch_build(h, &err);
	/* half the values are in the set */
	for (unsigned i = 0; i < 1024; i++)
		snprintf(vals[i], 64, "%s%u@Example.org", i & 1 ? "User" : "other", i * 37 % n);
	t = now();
	for (unsigned i = 0; i < m; i++) {
		sk_logrec rec = {.n = 1};
		const sk_match_hit *hits_p = NULL;
		rec.obs[0] = (sk_obs){.v = vals[i & 1023],
		                      .len = (uint32_t)strlen(vals[i & 1023]),
		                      .kind = SK_OBS_EMAIL};
		hits += sk_hmatch_merge(h, c, &rec, &hits_p, 0);
	}
	t = now() - t;
	printf("hashed set: %u digests per key, %u key(s): %.0f values/s per core "
	       "(%.2f µs per value, %.2f µs per value and key), hits %llu of %u\n",
	       n, nkeys, m / t, t / m * 1e6, t / m / nkeys * 1e6, (unsigned long long)hits, m);
	for (unsigned k = 0; k < nkeys; k++)
		sk_json_doc_free(doc[k]);
	sk_hmatch_ctx_free(c);
	sk_hmatch_free(h);
	free(vals);
}

static void run_bloom(unsigned n, unsigned m)
{
	double p = 0.001, mf = ceil(-(double)n * log(p) / (M_LN2 * M_LN2));
	uint64_t bits = ((uint64_t)mf + 7) / 8 * 8;
	unsigned k = (unsigned)lround((double)bits / n * M_LN2);
	unsigned char *f = calloc(bits / 8, 1), key[32], (*d)[32] = malloc((size_t)m * 32);
	uint64_t fp = 0;
	char v[64];
	double t;

	memset(key, 9, sizeof(key));
	for (unsigned i = 0; i < n; i++) {
		unsigned char dg[32];
		snprintf(v, sizeof(v), "user%u@example.org", i);
		sk_hashed_digest(key, v, strlen(v), dg);
		for (unsigned j = 0; j < k; j++) {
			uint64_t pos = sk_hashed_bloom_pos(dg, j, bits);
			f[pos >> 3] |= (unsigned char)(1u << (pos & 7));
		}
	}
	for (unsigned i = 0; i < m; i++) { /* none of these is in the filter */
		snprintf(v, sizeof(v), "absent%u@example.org", i);
		sk_hashed_digest(key, v, strlen(v), d[i]);
	}
	t = now();
	for (unsigned i = 0; i < m; i++) {
		bool all = true;
		for (unsigned j = 0; all && j < k; j++) {
			uint64_t pos = sk_hashed_bloom_pos(d[i], j, bits);
			all = f[pos >> 3] >> (pos & 7) & 1;
		}
		fp += all;
	}
	t = now() - t;
	printf("bloom: %u values in %llu bits (%.1f MiB), k %u: %.0f lookups/s per core; "
	       "false positives %llu of %u (%.5f; designed 0.001)\n",
	       n, (unsigned long long)bits, bits / 8.0 / 1048576.0, k, m / t,
	       (unsigned long long)fp, m, (double)fp / m);
	free(f);
	free(d);
}

/* The HMAC alone, key set up per call (sk_hashed_digest) as the producer does. */
static void run_hmac(unsigned m)
{
	unsigned char key[32] = {3}, d[32];
	char v[64];
	unsigned acc = 0;
	double t;
	snprintf(v, sizeof(v), "someone@example.org");
	t = now();
	for (unsigned i = 0; i < m; i++) {
		v[0] = (char)('a' + (i & 15));
		sk_hashed_digest(key, v, 19, d);
		acc += d[0];
	}
	t = now() - t;
	printf("hmac-sha256 alone (key set up each time, as indicator hash does): %.0f values/s "
	       "per core (%.2f µs) [%u]\n",
	       m / t, t / m * 1e6, acc & 1);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	unsigned m = argc > 2 ? (unsigned)atoi(argv[2]) : 2000000;
	if (n < 1 || n > SK_HASHED_MAX_DIGESTS || m < 1) {
		fprintf(stderr, "usage: private_bench [N 1..%u] [M]\n", SK_HASHED_MAX_DIGESTS);
		return 2;
	}
	run_hmac(m);
	run_keys(1, n, m);
	run_keys(2, n, m);
	run_keys(4, n, m);
	run_bloom(10 * n, m);
	return 0;
}
