/*
 * hashed.c - the hashed-indicator format: observable paths, value
 * normalisation, the keyed digest, the extension parser and its
 * extension-definition (hashed.h, docs/private-matching.md).  Matching is
 * in match_hashed.c.
 */
#include "schakel/hashed.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B64 sodium_base64_VARIANT_ORIGINAL

static const struct {
	const char *name, *alias;
} paths[SK_HP__COUNT] = {
    [SK_HP_EMAIL] = {"email-addr:value", "email"},
    [SK_HP_DOMAIN] = {"domain-name:value", "domain"},
    [SK_HP_USER] = {"user-account:user_id", "user"},
    [SK_HP_PHONE] = {"x-schakel-phone:value", "phone"},
};

sk_hashed_path sk_hashed_path_parse(const char *s)
{
	for (int i = 1; s && i < SK_HP__COUNT; i++)
		if (!strcmp(s, paths[i].name) || !strcmp(s, paths[i].alias))
			return (sk_hashed_path)i;
	return SK_HP_NONE;
}

const char *sk_hashed_path_name(sk_hashed_path p)
{
	return p > SK_HP_NONE && p < SK_HP__COUNT ? paths[p].name : "?";
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static size_t norm_phone(const char *v, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, digits = 0;

	if (n && v[0] == '+')
		i = 1;
	else if (n > 1 && v[0] == '0' && v[1] == '0')
		i = 2;
	else
		return 0;
	if (cap < 17)
		return 0;
	out[o++] = '+';
	for (; i < n; i++) {
		char c = v[i];
		if (c >= '0' && c <= '9') {
			if (++digits > 15)
				return 0;
			out[o++] = c;
		} else if (!strchr(" -./()", c)) {
			return 0;
		}
	}
	return digits >= 8 && out[1] != '0' ? o : 0;
}

size_t sk_hashed_norm(sk_hashed_path p, const char *v, size_t n, char *out, size_t cap)
{
	size_t at = 0;

	while (n && space(*v))
		v++, n--;
	while (n && space(v[n - 1]))
		n--;
	if (!n || n >= cap || n > SK_HASHED_VALUE_MAX)
		return 0;
	switch (p) {
	case SK_HP_EMAIL: {
		const char *a = memchr(v, '@', n);
		if (!a || a == v || a + 1 >= v + n || memchr(a + 1, '@', (size_t)(v + n - a - 1)))
			return 0;
		for (size_t i = 0; i < n; i++) {
			if (space(v[i]) || v[i] == '<' || v[i] == '>' || v[i] == ',')
				return 0;
			out[i] = lower(v[i]);
		}
		if (out[n - 1] == '.')
			n--;
		at = (size_t)(a - v);
		return n > at + 1 && out[n - 1] != '.' ? n : 0;
	}
	case SK_HP_DOMAIN:
		for (size_t i = 0; i < n; i++)
			out[i] = lower(v[i]);
		if (out[n - 1] == '.')
			n--;
		return n && out[n - 1] != '.' && sk_obs_is_domain(out, n) ? n : 0;
	case SK_HP_USER:
		memcpy(out, v, n);
		return n;
	case SK_HP_PHONE:
		return norm_phone(v, n, out, cap);
	default:
		return 0;
	}
}

void sk_hashed_digest(const unsigned char key[SK_HASHED_KEY_LEN], const char *v, size_t n,
                      unsigned char out[SK_HASHED_DIGEST_LEN])
{
	crypto_auth_hmacsha256_state s;

	crypto_auth_hmacsha256_init(&s, key, SK_HASHED_KEY_LEN);
	crypto_auth_hmacsha256_update(&s, (const unsigned char *)v, n);
	crypto_auth_hmacsha256_final(&s, out);
	sodium_memzero(&s, sizeof(s));
}

bool sk_hashed_pattern(const char *pattern, size_t len)
{
	size_t pl = sizeof(SK_HASHED_PATTERN_PREFIX) - 1;
	return pattern && len >= pl && !memcmp(pattern, SK_HASHED_PATTERN_PREFIX, pl);
}

uint64_t sk_hashed_bloom_pos(const unsigned char d[SK_HASHED_DIGEST_LEN], unsigned i, uint64_t m)
{
	uint64_t h1 = 0, h2 = 0;
	for (int j = 0; j < 8; j++) {
		h1 |= (uint64_t)d[j] << (8 * j);
		h2 |= (uint64_t)d[8 + j] << (8 * j);
	}
	return (h1 + (uint64_t)i * (h2 | 1)) % m;
}

static bool lower_hex(const char *s, size_t want)
{
	if (!s || strlen(s) != want)
		return false;
	for (size_t i = 0; i < want; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void sk_hashed_ext_clear(sk_hashed_ext *e)
{
	if (!e)
		return;
	free(e->bloom_bits);
	memset(e, 0, sizeof(*e));
}

static sk_err parse_bloom(const sk_jval *b, sk_hashed_ext *out, sk_error *err)
{
	const sk_jval *m = sk_json_get(b, "m"), *k = sk_json_get(b, "k");
	const char *bits = sk_json_str(sk_json_get(b, "bits"));
	size_t want, n = 0;

	if (!sk_json_is(m, SK_JINT) || m->u.i < 8 || (uint64_t)m->u.i > SK_HASHED_BLOOM_MAX_BITS)
		return sk_error_set(err, SK_EINVAL,
		                    "bloom.m must be a number of bits from 8 to %llu",
		                    (unsigned long long)SK_HASHED_BLOOM_MAX_BITS);
	if (!sk_json_is(k, SK_JINT) || k->u.i < 1 || k->u.i > SK_HASHED_BLOOM_MAX_K)
		return sk_error_set(err, SK_EINVAL, "bloom.k must be from 1 to %d",
		                    SK_HASHED_BLOOM_MAX_K);
	want = (size_t)((m->u.i + 7) / 8);
	if (!bits || strlen(bits) != sodium_base64_ENCODED_LEN(want, B64) - 1)
		return sk_error_set(err, SK_EINVAL, "bloom.bits must be base64 of %zu bytes", want);
	if (!(out->bloom_bits = malloc(want)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (sodium_base642bin(out->bloom_bits, want, bits, strlen(bits), NULL, &n, NULL, B64) ||
	    n != want)
		return sk_error_set(err, SK_EINVAL, "bloom.bits is not base64 of %zu bytes", want);
	out->bloom_m = (uint64_t)m->u.i;
	out->bloom_k = (unsigned)k->u.i;
	return SK_OK;
}

sk_err sk_hashed_parse(const sk_jval *obj, sk_hashed_ext *out, sk_error *err)
{
	const sk_jval *x = sk_json_get(sk_json_get(obj, "extensions"), SK_HASHED_EXT_ID), *d, *b;
	const char *alg, *kid, *path, *et;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (!x)
		return sk_error_set(err, SK_ENOTFOUND, "no hashed-values extension");
	if (x->type != SK_JOBJECT)
		return sk_error_set(err, SK_EINVAL, "the hashed-values extension is not an object");
	alg = sk_json_str(sk_json_get(x, "alg"));
	kid = sk_json_str(sk_json_get(x, "key_id"));
	path = sk_json_str(sk_json_get(x, "path"));
	et = sk_json_str(sk_json_get(x, "extension_type"));
	if (!et || strcmp(et, "property-extension"))
		return sk_error_set(err, SK_EINVAL,
		                    "hashed values: extension_type must be "
		                    "'property-extension'");
	if (!alg || strcmp(alg, "hmac-sha256"))
		return sk_error_set(err, SK_EINVAL, "hashed values: alg must be 'hmac-sha256'");
	if (!lower_hex(kid, 16))
		return sk_error_set(err, SK_EINVAL,
		                    "hashed values: key_id must be 16 lower-case "
		                    "hex digits");
	if ((out->path = sk_hashed_path_parse(path)) == SK_HP_NONE || strchr(path, ':') == NULL)
		return sk_error_set(err, SK_EINVAL, "hashed values: unknown path '%.80s'",
		                    path ? path : "(none)");
	memcpy(out->key_id, kid, 17);
	d = sk_json_get(x, "digests");
	b = sk_json_get(x, "bloom");
	if (!d == !b)
		return sk_error_set(err, SK_EINVAL,
		                    "hashed values: exactly one of digests and bloom is needed");
	if (b) {
		if (b->type != SK_JOBJECT)
			return sk_error_set(err, SK_EINVAL,
			                    "hashed values: bloom is not an object");
		if ((rc = parse_bloom(b, out, err))) {
			sk_error_prefix(err, "hashed values");
			sk_hashed_ext_clear(out);
		}
		return rc;
	}
	if (d->type != SK_JARRAY || !d->n || d->n > SK_HASHED_MAX_DIGESTS)
		return sk_error_set(err, SK_EINVAL,
		                    "hashed values: digests must be 1 to %u strings",
		                    SK_HASHED_MAX_DIGESTS);
	for (uint32_t i = 0; i < d->n; i++)
		if (!lower_hex(sk_json_str(sk_json_at(d, i)), 64))
			return sk_error_set(err, SK_EINVAL,
			                    "hashed values: digests[%u] is not 64 "
			                    "lower-case hex digits",
			                    i);
	out->digests = d;
	return SK_OK;
}

const char *sk_hashed_extension_definition(void)
{
	return "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":"
	       "\"" SK_HASHED_EXT_ID "\",\"created\":\"2026-12-07T00:00:00.000Z\",\"modified\":"
	       "\"2026-12-07T00:00:00.000Z\","
	       "\"created_by_ref\":\"identity--1b5c6a8e-3f0d-4c2b-9e7a-6d4f2a1c0b9e\","
	       "\"name\":\"schakel hashed values\",\"description\":\"Values of one observable path "
	       "(path) shared as keyed hashes: alg hmac-sha256, HMAC-SHA-256(key, normalised "
	       "value) under the collection key key_id, as lower-case hex digests, or as a Bloom "
	       "filter over the digests (bloom: m bits, k positions (h1 + i*(h2|1)) mod m with h1, "
	       "h2 the first two little-endian 64-bit words of the digest, bits base64).\","
	       "\"schema\":\"https://schakel.example/docs/"
	       "private-matching.md\",\"version\":\"1.0.0\","
	       "\"extension_types\":[\"property-extension\"]}";
}
