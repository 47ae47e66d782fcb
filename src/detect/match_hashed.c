/*
 * match_hashed.c - matching log records against hashed indicators
 * (hashed.h, docs/private-matching.md).
 *
 * Each value of a path some hashed indicator names (e-mail addresses,
 * domains, user ids) is normalised once and hashed once per key held for
 * that path; the digest is looked up in one open-addressing set of (key,
 * path, digest) -> indicator and tested against the Bloom filters of that
 * key and path.  The HMAC state after the key block is kept per key, so a
 * value costs two SHA-256 compressions.  Nothing is allocated per record
 * unless a record has more hashed hits than the context held before.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/hashed.h"
#include "schakel/timestamp.h"

#define MAX_KEYS 64
#define HITS_MAX 65536

typedef struct hkey {
	char id[17];
	crypto_auth_hmacsha256_state st; /* after the key */
} hkey;

typedef struct hent {
	unsigned char d[SK_HASHED_DIGEST_LEN];
	uint32_t ind;
	uint8_t key, path;
} hent;

typedef struct hbloom {
	unsigned char *bits;
	uint64_t m;
	unsigned k;
	uint32_t ind;
	uint8_t key, path;
} hbloom;

struct sk_hmatch {
	hkey keys[MAX_KEYS];
	unsigned nkeys;
	uint64_t wanted[SK_HP__COUNT]; /* bit i: key i has entries for the path */
	hent *ents;
	size_t nents, entcap;
	uint32_t *slots; /* entry index + 1, 0 = empty */
	size_t nslots;   /* a power of two */
	hbloom *blooms;
	size_t nblooms, bloomcap;
	uint32_t ninds;
	bool built;
};

struct sk_hmatch_ctx {
	sk_match_hit *hits;
	size_t cap;
};

sk_err sk_hmatch_new(sk_hmatch **out, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!(*out = calloc(1, sizeof(**out))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

void sk_hmatch_free(sk_hmatch *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nblooms; i++)
		free(h->blooms[i].bits);
	free(h->blooms);
	free(h->ents);
	free(h->slots);
	sodium_memzero(h->keys, sizeof(h->keys));
	free(h);
}

sk_err sk_hmatch_add_key(sk_hmatch *h, const char *key_id,
                         const unsigned char key[SK_HASHED_KEY_LEN], sk_error *err)
{
	for (unsigned i = 0; i < h->nkeys; i++)
		if (!strcmp(h->keys[i].id, key_id))
			return SK_OK;
	if (h->nkeys >= MAX_KEYS)
		return sk_error_set(err, SK_ELIMIT, "more than %d hash keys held", MAX_KEYS);
	snprintf(h->keys[h->nkeys].id, sizeof(h->keys[0].id), "%s", key_id);
	crypto_auth_hmacsha256_init(&h->keys[h->nkeys].st, key, SK_HASHED_KEY_LEN);
	h->nkeys++;
	return SK_OK;
}

static int key_index(const sk_hmatch *h, const char *id)
{
	for (unsigned i = 0; i < h->nkeys; i++)
		if (!strcmp(h->keys[i].id, id))
			return (int)i;
	return -1;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

sk_err sk_hmatch_add(sk_hmatch *h, const sk_hashed_ext *e, uint32_t ind, sk_error *err)
{
	int k = key_index(h, e->key_id);

	if (h->built)
		return sk_error_set(err, SK_EINVAL, "hashed matcher already built");
	if (k < 0)
		return sk_error_set(err, SK_EUNSUPPORTED,
		                    "hashed under key %s, which this node does not hold",
		                    e->key_id);
	if (e->path == SK_HP_NONE)
		return sk_error_set(err, SK_EUNSUPPORTED, "no log reader gives values of %s",
		                    sk_hashed_path_name(e->path));
	if (e->bloom_m) {
		hbloom *b;
		if (h->nblooms == h->bloomcap) {
			size_t nc = h->bloomcap ? h->bloomcap * 2 : 8;
			hbloom *nb = realloc(h->blooms, nc * sizeof(*nb));
			if (!nb)
				return sk_error_set(err, SK_ENOMEM, "out of memory");
			h->blooms = nb;
			h->bloomcap = nc;
		}
		b = &h->blooms[h->nblooms];
		if (!(b->bits = malloc((size_t)((e->bloom_m + 7) / 8))))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		memcpy(b->bits, e->bloom_bits, (size_t)((e->bloom_m + 7) / 8));
		b->m = e->bloom_m;
		b->k = e->bloom_k;
		b->ind = ind;
		b->key = (uint8_t)k;
		b->path = (uint8_t)e->path;
		h->nblooms++;
	} else {
		uint32_t n = e->digests ? e->digests->n : 0;
		if (h->nents + n > h->entcap) {
			size_t nc = h->entcap ? h->entcap : 64;
			hent *ne;
			while (nc < h->nents + n)
				nc *= 2;
			if (!(ne = realloc(h->ents, nc * sizeof(*ne))))
				return sk_error_set(err, SK_ENOMEM, "out of memory");
			h->ents = ne;
			h->entcap = nc;
		}
		for (uint32_t i = 0; i < n; i++) {
			const char *s = sk_json_str(sk_json_at(e->digests, i));
			hent *t = &h->ents[h->nents + i];
			for (int j = 0; j < SK_HASHED_DIGEST_LEN; j++)
				t->d[j] =
				    (unsigned char)(hexval(s[2 * j]) << 4 | hexval(s[2 * j + 1]));
			t->ind = ind;
			t->key = (uint8_t)k;
			t->path = (uint8_t)e->path;
		}
		h->nents += n;
	}
	h->wanted[e->path] |= (uint64_t)1 << k;
	if (ind + 1 > h->ninds)
		h->ninds = ind + 1;
	return SK_OK;
}

static size_t home(const sk_hmatch *h, const unsigned char *d, unsigned key, unsigned path)
{
	uint64_t x;
	memcpy(&x, d, sizeof(x));
	x ^= (uint64_t)key << 56 ^ (uint64_t)path << 48;
	return (size_t)((x * 0x9E3779B97F4A7C15ULL) >> 16) & (h->nslots - 1);
}

sk_err sk_hmatch_build(sk_hmatch *h, sk_error *err)
{
	size_t ns = 16;

	if (h->built)
		return SK_OK;
	while (ns < h->nents * 2)
		ns *= 2;
	if (!(h->slots = calloc(ns, sizeof(*h->slots))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	h->nslots = ns;
	for (size_t i = 0; i < h->nents; i++) {
		size_t s = home(h, h->ents[i].d, h->ents[i].key, h->ents[i].path);
		while (h->slots[s])
			s = (s + 1) & (ns - 1);
		h->slots[s] = (uint32_t)i + 1;
	}
	h->built = true;
	return SK_OK;
}

uint32_t sk_hmatch_count(const sk_hmatch *h)
{
	return h ? h->ninds : 0;
}

sk_err sk_hmatch_ctx_new(sk_hmatch_ctx **out, sk_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

void sk_hmatch_ctx_free(sk_hmatch_ctx *c)
{
	if (!c)
		return;
	free(c->hits);
	free(c);
}

/*
 * The paths a value of this kind is tried under: a user name that is an
 * e-mail address (a cloud login) also counts as an e-mail address.
 */
static unsigned paths_of(const sk_obs *o, sk_hashed_path out[2])
{
	switch (o->kind) {
	case SK_OBS_EMAIL:
		out[0] = SK_HP_EMAIL;
		return 1;
	case SK_OBS_DOMAIN:
		out[0] = SK_HP_DOMAIN;
		return 1;
	case SK_OBS_USER:
		out[0] = SK_HP_USER;
		out[1] = SK_HP_EMAIL;
		return memchr(o->v, '@', o->len) ? 2 : 1;
	case SK_OBS_PHONE:
		out[0] = SK_HP_PHONE;
		return 1;
	default:
		return 0;
	}
}

/* Room for c->hits[used]; false when full or out of memory. */
static bool room(sk_hmatch_ctx *c, size_t used)
{
	if (used < c->cap)
		return true;
	if (c->cap >= HITS_MAX)
		return false;
	size_t nc = c->cap ? c->cap * 2 : 64;
	while (nc <= used)
		nc *= 2;
	sk_match_hit *nh = realloc(c->hits, nc * sizeof(*nh));
	if (!nh)
		return false;
	c->hits = nh;
	c->cap = nc;
	return true;
}

/* Append hit x; the first one copies the matcher's nh hits in front.  False when full. */
static bool push(sk_hmatch_ctx *c, const sk_match_hit *mine, size_t nh, size_t *n, sk_match_hit x)
{
	if (*n == nh) {
		if (!room(c, nh))
			return false;
		if (nh && mine != c->hits)
			memcpy(c->hits, mine, nh * sizeof(*mine));
	}
	if (!room(c, *n))
		return false;
	c->hits[(*n)++] = x;
	return true;
}

static int cmp_hit(const void *a, const void *b)
{
	const sk_match_hit *x = a, *y = b;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* The hits of value i of rec under path p; false when the context is full. */
static bool value_hits(const sk_hmatch *h, sk_hmatch_ctx *c, const sk_logrec *rec, uint32_t i,
                       sk_hashed_path p, const sk_match_hit **hits, size_t nh, size_t *n)
{
	char v[SK_HASHED_VALUE_MAX + 1];
	unsigned char d[SK_HASHED_DIGEST_LEN];
	uint64_t keys = h->wanted[p];
	bool full = false;
	size_t len;

	if (!keys || !(len = sk_hashed_norm(p, rec->obs[i].v, rec->obs[i].len, v, sizeof(v))))
		return true;
	for (unsigned k = 0; keys && !full; k++, keys >>= 1) {
		crypto_auth_hmacsha256_state st;
		if (!(keys & 1))
			continue;
		st = h->keys[k].st;
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)v, len);
		crypto_auth_hmacsha256_final(&st, d);
		for (size_t s = home(h, d, k, p); h->slots[s] && !full;
		     s = (s + 1) & (h->nslots - 1)) {
			const hent *e = &h->ents[h->slots[s] - 1];
			if (e->key == k && e->path == p && !memcmp(e->d, d, sizeof(d)))
				full = !push(c, *hits, nh, n,
				             (sk_match_hit){.ind = e->ind, .value = i});
		}
		for (size_t b = 0; b < h->nblooms && !full; b++) {
			const hbloom *f = &h->blooms[b];
			bool all = f->key == k && f->path == p;
			for (unsigned j = 0; all && j < f->k; j++) {
				uint64_t pos = sk_hashed_bloom_pos(d, j, f->m);
				all = f->bits[pos >> 3] >> (pos & 7) & 1;
			}
			if (all)
				full = !push(c, *hits, nh, n,
				             (sk_match_hit){.ind = f->ind, .value = i});
		}
	}
	sodium_memzero(v, len);
	return !full;
}

size_t sk_hmatch_merge(const sk_hmatch *h, sk_hmatch_ctx *c, const sk_logrec *rec,
                       const sk_match_hit **hits, size_t nh)
{
	size_t n = nh;
	bool full = false;

	if (!h || !h->ninds || !c)
		return nh;
	for (uint32_t i = 0; i < rec->n && !full; i++) {
		sk_hashed_path ps[2];
		unsigned np = paths_of(&rec->obs[i], ps);
		for (unsigned pi = 0; pi < np && !full; pi++)
			full = !value_hits(h, c, rec, i, ps[pi], hits, nh, &n);
	}
	if (n == nh)
		return nh;
	qsort(c->hits + nh, n - nh, sizeof(*c->hits), cmp_hit);
	*hits = c->hits;
	return n;
}

/* --- loading from the store ------------------------------------------------ */

typedef struct lctx {
	int64_t at;
	int64_t *vers;
	size_t n, cap;
	bool oom;
} lctx;

static bool ts_of(const char *s, int64_t *t)
{
	char key[SK_TS_KEY_LEN + 1];
	return s && sk_ts_parse(s, strlen(s), key, t);
}

/* The candidates: as indload.h selects indicators, restricted to the hashed pattern form. */
static int on_row(void *ud, const sk_ind_row *r)
{
	lctx *lc = ud;
	int64_t t;

	if (r->revoked || (r->pattern_type && strcmp(r->pattern_type, "stix")) ||
	    !sk_hashed_pattern(r->pattern, r->pattern_len))
		return 0;
	if ((ts_of(r->valid_from, &t) && t > lc->at) || (ts_of(r->valid_until, &t) && t <= lc->at))
		return 0;
	if (lc->n == lc->cap) {
		size_t nc = lc->cap ? lc->cap * 2 : 64;
		int64_t *nv = realloc(lc->vers, nc * sizeof(*nv));
		if (!nv) {
			lc->oom = true;
			return 1;
		}
		lc->vers = nv;
		lc->cap = nc;
	}
	lc->vers[lc->n++] = r->ver;
	return 0;
}

typedef struct gctx {
	sk_hmatch *h;
	const sk_hmatch_load_opts *o;
	uint32_t next;
	sk_err rc;
	sk_error err;
} gctx;

static int on_obj(void *ud, const sk_row *row)
{
	gctx *g = ud;
	sk_jdoc *doc = NULL;
	const sk_jval *v;
	sk_hashed_ext e = {0};
	sk_error err;
	sk_err rc;

	if ((rc = sk_json_doc_new(row->len * 4 + ((size_t)1 << 20), 64, &doc))) {
		g->rc = sk_error_set(&g->err, rc, "out of memory");
		return 1;
	}
	if (sk_json_parse(doc, row->json, row->len, &v, &err) || sk_hashed_parse(v, &e, &err) ||
	    (rc = sk_hmatch_add(g->h, &e, g->next, &err))) {
		if (rc == SK_ENOMEM) {
			g->rc = rc;
			g->err = err;
		} else if (g->o->on_skipped) {
			g->o->on_skipped(g->o->ud, row->id, err.msg);
		}
	} else if (g->o->on_added && g->o->on_added(g->o->ud, g->next++, row->ver, row->id)) {
		g->rc = sk_error_set(&g->err, SK_ENOMEM, "out of memory");
	}
	sk_hashed_ext_clear(&e);
	sk_json_doc_free(doc);
	return g->rc ? 1 : 0;
}

sk_err sk_hmatch_load(sk_store *st, sk_hmatch *h, const sk_hmatch_load_opts *o, uint32_t *added,
                      sk_error *err)
{
	lctx lc = {.at = o->at ? o->at : sk_ts_now_us()};
	gctx g = {.h = h, .o = o, .next = o->first_ind};
	sk_err rc;

	if ((rc = sk_store_indicator_rows(st, o->after_ver, 0, on_row, &lc, err)))
		goto out;
	if (lc.oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < lc.n && !g.rc; i++)
		if ((rc = sk_store_get_ver(st, lc.vers[i], on_obj, &g, err)))
			goto out;
	if (g.rc) {
		rc = g.rc;
		*err = g.err;
	}
out:
	if (added)
		*added = g.next - o->first_ind;
	free(lc.vers);
	return rc ? rc : sk_hmatch_build(h, err);
}
