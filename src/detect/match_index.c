/*
 * match_index.c - the matcher's exact-key hash index and the value parsers
 * both sides of a comparison share (addresses, hex digests, URLs).
 *
 * One open-addressing table (linear probing, any size: the home slot is
 * (hash * size) >> 32, load <= 3/4 while adding, about 0.7 after
 * sk_mindex_finish) holds every exact key of every type; a key is a class
 * byte followed by a compact binary form (IPv4 as 4 bytes, digests as
 * binary, strings as text), stored length-prefixed in one key arena.  A slot
 * is 12 bytes: hash, key offset and the postings (one target inline, or a
 * chain of leaves / direct indicators that want this key).  Lookups never
 * allocate.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"
#include "core/hex.h"

/* 64-bit multiply-mix over 8-byte words; short keys are what we hash. */
static uint32_t khash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0x94d049bb133111ebull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static inline uint32_t slot_of(uint32_t h, uint32_t n)
{
	return (uint32_t)(((uint64_t)h * n) >> 32);
}

/* The filter word of hash h is slot_of(h); its 4 bits come from a remix of h. */
static inline uint64_t bloom_bits(uint32_t h)
{
	uint32_t x = h * 0x9E3779B1u;
	x ^= x >> 15;
	return (1ull << (x & 63)) | (1ull << ((x >> 6) & 63)) | (1ull << ((x >> 12) & 63)) |
	       (1ull << ((x >> 18) & 63));
}

static inline uint32_t key_len(const mindex *ix, uint32_t off)
{
	const unsigned char *p = (const unsigned char *)ix->keys + off;
	return (uint32_t)p[0] << 8 | p[1];
}

/* Rehash into n slots (n > used). */
static sk_err resize(mindex *ix, uint32_t n)
{
	mentry *ns = calloc(n, sizeof(*ns));
	if (!ns)
		return SK_ENOMEM;
	for (uint32_t i = 0; i < ix->nslots; i++) {
		const mentry *e = &ix->slots[i];
		if (!e->key)
			continue;
		uint32_t j = slot_of(e->hash, n);
		while (ns[j].key)
			j = j + 1 == n ? 0 : j + 1;
		ns[j] = *e;
	}
	free(ix->slots);
	ix->slots = ns;
	ix->nslots = n;
	return SK_OK;
}

static mentry *lookup(const mindex *ix, const uint8_t *key, size_t klen, uint32_t h)
{
	uint32_t j = slot_of(h, ix->nslots);
	for (;;) {
		mentry *e = &ix->slots[j];
		if (!e->key)
			return e;
		if (e->hash == h && key_len(ix, e->key) == klen &&
		    !memcmp(ix->keys + e->key + 2, key, klen))
			return e;
		j = j + 1 == ix->nslots ? 0 : j + 1;
	}
}

sk_err sk_mindex_reserve(mindex *ix, uint32_t n)
{
	uint64_t want = (uint64_t)n * 10 / 7 + 16;
	if (want > UINT32_MAX / 2 || want <= ix->nslots)
		return want > UINT32_MAX / 2 ? SK_ENOMEM : SK_OK;
	return resize(ix, (uint32_t)want);
}

sk_err sk_mindex_finish(mindex *ix)
{
	uint64_t want = (uint64_t)ix->used * 10 / 7 + 16;
	if (ix->used && want < ix->nslots * 9ull / 10 && resize(ix, (uint32_t)want))
		return SK_ENOMEM;
	free(ix->bloom);
	ix->bloom = NULL;
	if (ix->used) {
		uint64_t words = ((uint64_t)ix->used * 12 + 63) / 64;
		ix->bloom_words = (uint32_t)(words < 8 ? 8 : words);
		if (!(ix->bloom = calloc(ix->bloom_words, sizeof(*ix->bloom))))
			return SK_ENOMEM;
		for (uint32_t i = 0; i < ix->nslots; i++)
			if (ix->slots[i].key)
				ix->bloom[slot_of(ix->slots[i].hash, ix->bloom_words)] |=
				    bloom_bits(ix->slots[i].hash);
	}
	if (ix->klen && ix->klen < ix->kcap) {
		char *nk = realloc(ix->keys, ix->klen);
		if (nk) {
			ix->keys = nk;
			ix->kcap = ix->klen;
		}
	}
	if (ix->npost < ix->postcap) {
		mpost *np = ix->npost ? realloc(ix->postv, ix->npost * sizeof(*np)) : NULL;
		if (np || !ix->npost) {
			if (!ix->npost)
				free(ix->postv);
			ix->postv = np;
			ix->postcap = ix->npost;
		}
	}
	return SK_OK;
}

sk_err sk_mindex_add(mindex *ix, const uint8_t *key, size_t klen, uint32_t target)
{
	uint32_t h = khash(key, klen);
	mentry *e;

	if (klen > 0xFFFF)
		return SK_EINVAL;
	if (ix->bloom) { /* a key after sk_mindex_finish: the filter would miss it */
		free(ix->bloom);
		ix->bloom = NULL;
	}
	/* load <= 3/4, then double */
	if ((uint64_t)(ix->used + 1) * 4 > (uint64_t)ix->nslots * 3 &&
	    resize(ix, ix->nslots ? ix->nslots * 2 : 1024))
		return SK_ENOMEM;
	/* which key classes and string kinds exist, so lookups can skip the rest */
	ix->classes |= 1u << (key[0] & 31);
	if ((key[0] == K_STR || key[0] == K_HASH) && klen > 1)
		ix->str_kinds |= 1ull << (key[1] & 63);
	e = lookup(ix, key, klen, h);
	if (!e->key) {
		if (ix->klen + klen + 2 > ix->kcap) {
			size_t nc = ix->kcap ? ix->kcap + ix->kcap / 2 : 65536;
			while (nc < ix->klen + klen + 2)
				nc *= 2;
			if (nc > UINT32_MAX)
				return SK_ENOMEM;
			char *nk = realloc(ix->keys, nc);
			if (!nk)
				return SK_ENOMEM;
			ix->keys = nk;
			ix->kcap = nc;
		}
		if (!ix->klen)
			ix->klen = 1; /* offset 0 means "empty slot" */
		ix->keys[ix->klen] = (char)(klen >> 8);
		ix->keys[ix->klen + 1] = (char)klen;
		memcpy(ix->keys + ix->klen + 2, key, klen);
		e->key = (uint32_t)ix->klen;
		e->hash = h;
		e->post = target & MPOST_DIRECT ? target : target | MPOST_LEAF; /* inline */
		ix->klen += klen + 2;
		ix->used++;
		return SK_OK;
	}
	/* a second target: the inline one moves into a chain (newest first) */
	if (ix->npost + 2 > ix->postcap) {
		uint32_t nc = ix->postcap ? ix->postcap * 2 : 1024;
		mpost *np = realloc(ix->postv, nc * sizeof(*np));
		if (!np)
			return SK_ENOMEM;
		ix->postv = np;
		ix->postcap = nc;
	}
	if (!(e->post & MPOST_CHAIN)) {
		ix->postv[ix->npost] = (mpost){.leaf = e->post & ~MPOST_LEAF, .next = 0};
		e->post = MPOST_CHAIN | ++ix->npost;
	}
	ix->postv[ix->npost] = (mpost){.leaf = target, .next = e->post & ~MPOST_CHAIN};
	e->post = MPOST_CHAIN | ++ix->npost;
	return SK_OK;
}

uint32_t sk_mindex_find(const mindex *ix, const uint8_t *key, size_t klen)
{
	uint32_t h;
	if (!ix->used)
		return 0;
	h = khash(key, klen);
	if (ix->bloom) {
		uint64_t b = bloom_bits(h);
		if ((ix->bloom[slot_of(h, ix->bloom_words)] & b) != b)
			return 0;
	}
	return lookup(ix, key, klen, h)->post;
}

void sk_mindex_free(mindex *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	free(ix->keys);
	free(ix->postv);
	free(ix->bloom);
	memset(ix, 0, sizeof(*ix));
}

size_t sk_mindex_bytes(const mindex *ix)
{
	return (size_t)ix->nslots * sizeof(mentry) + ix->kcap + (size_t)ix->postcap * sizeof(mpost) +
	       (ix->bloom ? (size_t)ix->bloom_words * sizeof(*ix->bloom) : 0);
}

/* Dotted quad, no leading zeros beyond a single 0, each octet <= 255. */
bool sk_match_ip4(const char *s, size_t n, uint32_t *a)
{
	uint32_t v = 0, oct = 0;
	unsigned dots = 0, digits = 0;

	if (n < 7 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9') {
			if (digits == 1 && oct == 0)
				return false;
			oct = oct * 10 + (c - '0');
			if (++digits > 3 || oct > 255)
				return false;
		} else if (c == '.' && digits && dots < 3) {
			v = (v << 8) | oct;
			oct = 0;
			digits = 0;
			dots++;
		} else {
			return false;
		}
	}
	if (dots != 3 || !digits)
		return false;
	*a = (v << 8) | oct;
	return true;
}

bool sk_match_ip6(const char *s, size_t n, uint8_t a[16])
{
	char buf[64];
	const char *pct = memchr(s, '%', n);

	if (pct)
		n = (size_t)(pct - s);
	if (n < 2 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1;
}

bool sk_match_parse_ip(const char *s, size_t n, bool allow_cidr, mlit *out)
{
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	uint32_t a4;
	long plen = -1;

	memset(out->addr, 0, sizeof(out->addr));
	out->fam = 0;
	if (slash) {
		char *end;
		char num[8];
		size_t pn = n - an - 1;
		if (!allow_cidr || pn == 0 || pn >= sizeof(num))
			return false;
		memcpy(num, slash + 1, pn);
		num[pn] = '\0';
		plen = strtol(num, &end, 10);
		if (*end || plen < 0)
			return false;
	}
	if (sk_match_ip4(s, an, &a4)) {
		if (plen > 32)
			return false;
		out->fam = 4;
		out->prefix = (uint8_t)(plen < 0 ? 32 : plen);
		a4 = out->prefix ? a4 & (0xFFFFFFFFu << (32 - out->prefix)) : 0;
		a4 = htonl(a4);
		memcpy(out->addr, &a4, 4);
		return true;
	}
	if (sk_match_ip6(s, an, out->addr)) {
		if (plen > 128)
			return false;
		out->fam = 6;
		out->prefix = (uint8_t)(plen < 0 ? 128 : plen);
		for (unsigned i = out->prefix; i < 128; i++)
			out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
		return true;
	}
	return false;
}

bool sk_match_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len % 2 || len / 2 > n)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		int hi = sk_hexval((unsigned char)s[i]), lo = sk_hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

size_t sk_match_url_norm(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0, i = 0, scheme_end = 0;
	const char *sep = NULL;

	for (size_t k = 0; k + 2 < len && k < 16; k++)
		if (s[k] == ':' && s[k + 1] == '/' && s[k + 2] == '/') {
			sep = s + k;
			break;
		}
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (o >= n)                                                                        \
			return 0;                                                                  \
		out[o++] = (c);                                                                    \
	} while (0)
	if (sep) {
		scheme_end = (size_t)(sep - s);
		for (; i < scheme_end; i++)
			PUT(lower(s[i]));
		PUT(':');
		PUT('/');
		PUT('/');
		i += 3;
		size_t host_start = o, auth_end = i;
		while (auth_end < len && s[auth_end] != '/' && s[auth_end] != '?' &&
		       s[auth_end] != '#')
			auth_end++;
		for (; i < auth_end; i++)
			PUT(lower(s[i]));
		/* default port */
		const char *port = NULL;
		if (scheme_end == 4 && !memcmp(out, "http", 4))
			port = ":80";
		else if (scheme_end == 5 && !memcmp(out, "https", 5))
			port = ":443";
		else if (scheme_end == 3 && !memcmp(out, "ftp", 3))
			port = ":21";
		if (port) {
			size_t pl = strlen(port);
			if (o - host_start > pl && !memcmp(out + o - pl, port, pl))
				o -= pl;
		}
		if (o > host_start && out[o - 1] == '.')
			o--;
		if (i >= len || s[i] != '/')
			PUT('/');
	}
	for (; i < len && s[i] != '#'; i++) {
		char c = s[i];
		PUT(c);
		if (c == '%' && i + 2 < len && sk_hexval((unsigned char)s[i + 1]) >= 0 &&
		    sk_hexval((unsigned char)s[i + 2]) >= 0) {
			char h1 = s[i + 1], h2 = s[i + 2];
			PUT(h1 >= 'a' && h1 <= 'f' ? (char)(h1 - 32) : h1);
			PUT(h2 >= 'a' && h2 <= 'f' ? (char)(h2 - 32) : h2);
			i += 2;
		}
	}
#undef PUT
	return o;
}
