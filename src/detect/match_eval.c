/*
 * match_eval.c - matching one log record against the compiled matcher.
 *
 * For each value of the record: build its index key (IPv4 as 4 bytes,
 * digests decoded to binary, strings normalised), probe the hash index, then
 * the CIDR tables (one probe per prefix length in use), the parent domains
 * when some indicator matches subdomains, and Hyperscan when a regex wants
 * this kind of value.  A posting whose leaf accepts the value's (kind, role)
 * either is a match outright ("exact" observations: a single positive EQ /
 * IN / ISSUBSET) or makes its observation a candidate, which is then
 * evaluated on the whole record, as are the "generic" observations.
 * Everything lives in the per-thread sk_match_ctx; nothing is allocated per
 * record once the context's arrays have grown to the largest record seen.
 */
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"

size_t sk_match_norm(uint8_t kind, const char *s, size_t n, char *out, size_t cap);

typedef struct rxhit {
	uint32_t rx, val;
} rxhit;

/*
 * Values Hyperscan found nothing in, per context.  A log repeats its values
 * (the same queries, hosts and URLs over and over), and a scan costs about
 * 1,400 instructions even for a short value that matches nothing: it was
 * the matcher's largest cost on DNS logs (bench/README-scan.md).
 * Direct-mapped and exact (the whole value is compared); only values of 1 to
 * RXNEG_MAXLEN bytes; a value with any match, or whose scan failed, is never
 * entered, so the callbacks of a matching value always run.
 */
#define RXNEG_SLOTS  2048
#define RXNEG_MAXLEN 63
typedef struct rxneg {
	uint8_t len; /* 0 = empty slot */
	char v[RXNEG_MAXLEN];
} rxneg;

struct sk_match_ctx {
	const sk_matcher *m;
	mhs_scratch *hs;
	rxneg *rxneg;     /* RXNEG_SLOTS entries when there are regexes */
	uint32_t rx_seen; /* Hyperscan callbacks so far */
	const sk_logrec *rec;
	uint32_t cur_val;
	uint32_t stamp;
	uint32_t *obs_stamp; /* per observation: stamp of the record that last touched it */
	uint32_t *cand;
	uint32_t ncand, candcap;
	sk_match_hit *hits;
	uint32_t nhits, hitcap;
	rxhit *rxh;
	uint32_t nrxh, rxhcap;
	char *nbuf; /* normalised value for evaluation */
	size_t nbufcap;
	char key[MKEY_MAX + 8];
};

#define KR(o) SK_KR_BIT((o)->kind, (o)->role)

sk_err sk_match_ctx_new(const sk_matcher *m, sk_match_ctx **out, sk_error *err)
{
	sk_match_ctx *c = calloc(1, sizeof(*c));
	sk_err rc;
	if (!c)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	c->m = m;
	c->obs_stamp = calloc(m->nobs ? m->nobs : 1, sizeof(*c->obs_stamp));
	if (!c->obs_stamp) {
		sk_match_ctx_free(c);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	if (m->hs && (rc = sk_mhs_scratch_new(m->hs, &c->hs, err))) {
		sk_match_ctx_free(c);
		return rc;
	}
	if (m->hs && !(c->rxneg = calloc(RXNEG_SLOTS, sizeof(*c->rxneg)))) {
		sk_match_ctx_free(c);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	*out = c;
	return SK_OK;
}

void sk_match_ctx_free(sk_match_ctx *c)
{
	if (!c)
		return;
	sk_mhs_scratch_free(c->hs);
	free(c->rxneg);
	free(c->obs_stamp);
	free(c->cand);
	free(c->hits);
	free(c->rxh);
	free(c->nbuf);
	free(c);
}

static void add_hit(sk_match_ctx *c, uint32_t ind, uint32_t obs, uint32_t val)
{
	if (c->nhits == c->hitcap) {
		uint32_t nc = c->hitcap ? c->hitcap * 2 : 64;
		sk_match_hit *nh = realloc(c->hits, nc * sizeof(*nh));
		if (!nh)
			return; /* out of memory: the hit is lost, never a crash */
		c->hits = nh;
		c->hitcap = nc;
	}
	c->hits[c->nhits++] = (sk_match_hit){.ind = ind, .obs = obs, .value = val};
}

static void push_hit(sk_match_ctx *c, const mobs *o, uint32_t val)
{
	add_hit(c, o->ind, o->num, val);
}

/* Observation oi is touched by value val: a match (exact) or a candidate. */
static void touch(sk_match_ctx *c, uint32_t oi, uint32_t val, bool exact_ok)
{
	const mobs *o = &c->m->obs[oi];
	if (c->obs_stamp[oi] == c->stamp)
		return;
	c->obs_stamp[oi] = c->stamp;
	if (o->exact && exact_ok) {
		push_hit(c, o, val);
		return;
	}
	if (c->ncand == c->candcap) {
		uint32_t nc = c->candcap ? c->candcap * 2 : 64;
		uint32_t *n = realloc(c->cand, nc * sizeof(*n));
		if (!n)
			return;
		c->cand = n;
		c->candcap = nc;
	}
	c->cand[c->ncand++] = oi;
}

/*
 * An indicator compiled without a tree (match_path.c, "direct"): a hit when the
 * value's (kind, role) is one its path accepts.  Several values of a record
 * may hit it; sk_match_record's sort keeps one.
 */
static void direct_hit(sk_match_ctx *c, uint32_t ind, uint32_t val, uint64_t kr, bool parents)
{
	uint32_t r = c->m->iref[ind];
	if (!(c->m->dacc[r & IREF_PATH] & kr) || (parents && !(r & IREF_SUB)))
		return;
	add_hit(c, ind, 0, val);
}

static void probe(sk_match_ctx *c, const void *key, size_t kl, uint32_t val, uint64_t kr,
		  bool parents)
{
	const sk_matcher *m = c->m;
	uint32_t p = sk_mindex_find(&m->ix, key, kl);
	while (p) {
		uint32_t t = sk_mpost_next(&m->ix, &p);
		if (t & MPOST_DIRECT) {
			direct_hit(c, t & ~MPOST_DIRECT, val, kr, parents);
			continue;
		}
		const mleaf *l = &m->leaves[t];
		if (!(l->accept & kr) || (parents && !l->subdomains))
			continue;
		touch(c, l->obs, val, true);
	}
}

static void on_rx(uint32_t id, void *ud)
{
	sk_match_ctx *c = ud;
	c->rx_seen++;
	if (id >= c->m->nrx)
		return; /* a database loaded from a cache file reports only its own ids */
	if (c->nrxh == c->rxhcap) {
		uint32_t nc = c->rxhcap ? c->rxhcap * 2 : 64;
		rxhit *n = realloc(c->rxh, nc * sizeof(*n));
		if (!n)
			return;
		c->rxh = n;
		c->rxhcap = nc;
	}
	c->rxh[c->nrxh++] = (rxhit){id, c->cur_val};
	touch(c, c->m->leaves[c->m->rx_leaf[id]].obs, c->cur_val, false);
}

static inline uint32_t rxneg_slot(const char *v, size_t n)
{
	uint64_t h = n * 0x9E3779B97F4A7C15ull, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, v + i, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, v + i, n - i);
		h = (h ^ w) * 0x94d049bb133111ebull;
	}
	h ^= h >> 32;
	return (uint32_t)h & (RXNEG_SLOTS - 1);
}

/* The regexes over one value, unless it is a value already found to match none. */
static void rx_scan(sk_match_ctx *c, const char *v, size_t n)
{
	rxneg *e = NULL;
	if (n && n <= RXNEG_MAXLEN) {
		e = &c->rxneg[rxneg_slot(v, n)];
		if (e->len == n && memcmp(e->v, v, n) == 0)
			return;
	}
	uint32_t seen = c->rx_seen;
	if (sk_mhs_scan(c->m->hs, c->hs, v, n, on_rx, c) && e && c->rx_seen == seen) {
		e->len = (uint8_t)n;
		memcpy(e->v, v, n);
	}
}

static void probe_ip4(sk_match_ctx *c, uint32_t a, uint32_t val, uint64_t kr)
{
	const sk_matcher *m = c->m;
	uint8_t *k = (uint8_t *)c->key;
	uint64_t lens = m->ip4_by16 ? m->ip4_by16[a >> 16] : 0;

	if (lens & IP4_EXACT) {
		k[0] = K_IP4;
		k[1] = (uint8_t)(a >> 24);
		k[2] = (uint8_t)(a >> 16);
		k[3] = (uint8_t)(a >> 8);
		k[4] = (uint8_t)a;
		probe(c, k, 5, val, kr, false);
	}
	for (lens &= (1ull << 33) - 1; lens; lens &= lens - 1) { /* prefix lengths 0..32 only */
		unsigned L = (unsigned)__builtin_ctzll(lens);
		uint32_t x = L ? a & (0xFFFFFFFFu << (32 - L)) : 0;
		k[0] = K_NET4;
		k[1] = (uint8_t)L;
		k[2] = (uint8_t)(x >> 24);
		k[3] = (uint8_t)(x >> 16);
		k[4] = (uint8_t)(x >> 8);
		k[5] = (uint8_t)x;
		probe(c, k, 6, val, kr, false);
	}
}

static void probe_ip6(sk_match_ctx *c, const uint8_t a[16], uint32_t val, uint64_t kr)
{
	const sk_matcher *m = c->m;
	uint8_t *k = (uint8_t *)c->key;
	if (m->ix.classes & (1u << K_IP6)) {
		k[0] = K_IP6;
		memcpy(k + 1, a, 16);
		probe(c, k, 17, val, kr, false);
	}
	for (unsigned w = 0; w < 3; w++)
		for (uint64_t lens = m->net6_lens[w]; lens; lens &= lens - 1) {
			unsigned L = w * 64 + (unsigned)__builtin_ctzll(lens);
			k[0] = K_NET6;
			k[1] = (uint8_t)L;
			memcpy(k + 2, a, 16);
			for (unsigned b = L; b < 128; b++)
				k[2 + b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			probe(c, k, 18, val, kr, false);
		}
}

static void probe_str(sk_match_ctx *c, uint8_t cls, uint8_t kind, const char *s, size_t n,
		      uint32_t val, uint64_t kr, bool parents)
{
	if (n + 2 > MKEY_MAX || !(c->m->ix.str_kinds & (1ull << kind)))
		return;
	c->key[0] = (char)cls;
	c->key[1] = (char)kind;
	memcpy(c->key + 2, s, n);
	probe(c, c->key, n + 2, val, kr, parents);
}

/*
 * The direct path's URL-path regexes (match_path.c, K_UPATH keys): the raw URL
 * must be scheme://authority/... with a scheme of [a-z][a-z0-9+.-]* and a
 * non-empty authority; its path (from the first '/' after "://") is hashed
 * once, byte by byte, and probed at each prefix length in use that the
 * URL-path filter admits, shortest first.
 */
static void probe_upath(sk_match_ctx *c, const sk_obs *o, uint32_t val, uint64_t kr)
{
	const sk_matcher *m = c->m;
	const char *v = o->v;
	size_t n = o->len, i, p, pl;

	if (!n || v[0] < 'a' || v[0] > 'z')
		return;
	for (i = 1; i < n && v[i] != ':'; i++) {
		char ch = v[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '.' || ch == '-'))
			return;
	}
	if (i + 3 >= n || v[i + 1] != '/' || v[i + 2] != '/' || v[i + 3] == '/')
		return;
	for (p = i + 3; p < n && v[p] != '/'; p++)
		;
	if (p >= n)
		return;
	pl = n - p < 255 ? n - p : 255;
	c->key[0] = K_UPATH;
	memcpy(c->key + 1, v + p, pl);
	uint64_t h = SK_UPATH_SEED;
	for (size_t L = 1; L <= pl; L++) {
		uint32_t w;
		h = sk_upath_step(h, (unsigned char)v[p + L - 1]);
		if (!((m->upath_lens[L / 64] >> (L % 64)) & 1))
			continue;
		if (m->upath_filter) {
			uint64_t b = sk_upath_bits(h, L, m->upath_words, &w);
			if ((m->upath_filter[w] & b) != b)
				continue;
		}
		probe(c, c->key, L + 1, val, kr, false);
	}
}

static void index_value(sk_match_ctx *c, const sk_obs *o, uint32_t val)
{
	const sk_matcher *m = c->m;
	uint64_t kr = KR(o);
	uint8_t bin[64];
	char nb[MKEY_MAX];
	size_t n, hl;
	uint32_t a4;

	switch (o->kind) {
	case SK_OBS_IPV4:
		/* the reader parsed it already (SK_OBS_F_IP4); others parse here */
		if (o->flags & SK_OBS_F_IP4)
			probe_ip4(c, o->num, val, kr);
		else if (sk_match_ip4(o->v, o->len, &a4))
			probe_ip4(c, a4, val, kr);
		break;
	case SK_OBS_IPV6:
		if (sk_match_ip6(o->v, o->len, bin))
			probe_ip6(c, bin, val, kr);
		break;
	case SK_OBS_PORT:
		if (m->port_kr & kr) {
			unsigned p = 0;
			for (uint32_t i = 0; i < o->len && i < 6; i++)
				p = p * 10 + (unsigned)(o->v[i] - '0');
			if (p <= 65535) {
				uint8_t k[3] = {K_PORT, (uint8_t)(p >> 8), (uint8_t)p};
				probe(c, k, 3, val, kr, false);
			}
		}
		break;
	case SK_OBS_DOMAIN:
		if (!(m->ix.str_kinds & (1ull << SK_OBS_DOMAIN)))
			break;
		/* readers deliver domains lowercased, without the trailing dot */
		probe_str(c, K_STR, SK_OBS_DOMAIN, o->v, o->len, val, kr, false);
		if (m->any_subdomains) {
			long reg = sk_psl_registrable(m->opts.psl, o->v, o->len);
			for (long i = 0; reg > 0 && i < reg; i++)
				if (o->v[i] == '.')
					probe_str(c, K_STR, SK_OBS_DOMAIN, o->v + i + 1,
						  o->len - (size_t)i - 1, val, kr, true);
		}
		break;
	case SK_OBS_MD5:
	case SK_OBS_SHA1:
	case SK_OBS_SHA256:
	case SK_OBS_SHA512:
	case SK_OBS_X509_SHA1:
	case SK_OBS_X509_SHA256:
		hl = o->len / 2;
		if ((m->ix.str_kinds & (1ull << o->kind)) && sk_match_unhex(o->v, o->len, bin, sizeof(bin)))
			probe_str(c, K_HASH, o->kind, (const char *)bin, hl, val, kr, false);
		break;
	case SK_OBS_SIGNATURE:
	case SK_OBS_NONE:
		break;
	default:
		if (!(m->ix.str_kinds & (1ull << o->kind)))
			break;
		n = sk_match_norm(o->kind, o->v, o->len, nb, sizeof(nb));
		if (n)
			probe_str(c, K_STR, o->kind, nb, n, val, kr, false);
		break;
	}
	if (o->kind == SK_OBS_URL &&
	    (m->upath_lens[0] | m->upath_lens[1] | m->upath_lens[2] | m->upath_lens[3]))
		probe_upath(c, o, val, kr);
	if (m->hs && (kr & m->rx_kr)) {
		c->cur_val = val;
		rx_scan(c, o->v, o->len);
	}
}

/*
 * Address-and-port keys (K_ADDRPORT, the feeds' ip:port indicators): every
 * address of a record paired with every port on the same side, normally
 * one pair per side.  An IPv4 address whose /16 holds no such key costs one
 * prefilter load.
 */
static void probe_addrports(sk_match_ctx *c, const sk_logrec *rec)
{
	const sk_matcher *m = c->m;
	uint8_t key[SK_IPPORT_KEY_MAX], a[16];

	for (uint32_t p = 0; p < rec->n; p++) {
		const sk_obs *po = &rec->obs[p];
		unsigned port = 0;
		if (po->kind != SK_OBS_PORT || po->role == SK_ROLE_NONE || !po->len || po->len > 5)
			continue;
		for (uint32_t i = 0; i < po->len; i++)
			port = port * 10 + (unsigned)(po->v[i] - '0');
		if (port > 65535)
			continue;
		for (uint32_t i = 0; i < rec->n; i++) {
			const sk_obs *o = &rec->obs[i];
			uint32_t a4;
			size_t kl;
			if (o->role != po->role)
				continue;
			if (o->kind == SK_OBS_IPV4) {
				if (!(o->flags & SK_OBS_F_IP4 ? (a4 = o->num, true)
							       : sk_match_ip4(o->v, o->len, &a4)) ||
				    !m->ip4_by16 || !(m->ip4_by16[a4 >> 16] & IP4_PORTKEY))
					continue;
				a[0] = (uint8_t)(a4 >> 24);
				a[1] = (uint8_t)(a4 >> 16);
				a[2] = (uint8_t)(a4 >> 8);
				a[3] = (uint8_t)a4;
				kl = sk_match_ipport_key(o->role, a, 4, port, key);
			} else if (o->kind == SK_OBS_IPV6 && sk_match_ip6(o->v, o->len, a)) {
				kl = sk_match_ipport_key(o->role, a, 6, port, key);
			} else {
				continue;
			}
			probe(c, key, kl, i, KR(o), false);
		}
	}
}

/* --- generic evaluation ------------------------------------------------- */

static bool in_prefix(const uint8_t *a, const mlit *l)
{
	unsigned full = l->prefix / 8, rest = l->prefix % 8;
	if (memcmp(a, l->addr, full))
		return false;
	return !rest || ((a[full] ^ l->addr[full]) & (uint8_t)(0xFF00u >> rest)) == 0;
}

static const char *norm_value(sk_match_ctx *c, const sk_obs *o, size_t *n)
{
	size_t need = (size_t)o->len + 32; /* room for a spelled-out registry hive */
	if (need > c->nbufcap) {
		char *nb = realloc(c->nbuf, need);
		if (!nb)
			return NULL;
		c->nbuf = nb;
		c->nbufcap = need;
	}
	*n = sk_match_norm(o->kind, o->v, o->len, c->nbuf, c->nbufcap);
	return c->nbuf;
}

static bool subdomain_of(const sk_matcher *m, const char *v, size_t n, const mlit *l)
{
	long reg;
	if (n <= (size_t)l->len + 1 || v[n - l->len - 1] != '.' ||
	    memcmp(v + n - l->len, l->s, l->len))
		return false;
	reg = sk_psl_registrable(m->opts.psl, v, n);
	/* the parent walk stops at the registrable domain */
	return reg >= 0 && n - l->len <= (size_t)reg;
}

static int cmp_int(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static bool op_order(uint8_t op, int r)
{
	switch (op) {
	case SK_PCMP_EQ:
	case SK_PCMP_IN:
		return r == 0;
	case SK_PCMP_NEQ:
		return r != 0;
	case SK_PCMP_LT:
		return r < 0;
	case SK_PCMP_LE:
		return r <= 0;
	case SK_PCMP_GT:
		return r > 0;
	case SK_PCMP_GE:
		return r >= 0;
	default:
		return false;
	}
}

/* The comparison of leaf l on one value (before NOT). */
static bool cmp_value(sk_match_ctx *c, const mleaf *l, const sk_obs *o, uint32_t val)
{
	uint8_t addr[16];
	uint32_t a4;
	size_t n;
	const char *s;

	if (l->op == SK_PCMP_EXISTS)
		return true;
	if (l->rx >= 0) {
		for (uint32_t i = 0; i < c->nrxh; i++)
			if (c->rxh[i].rx == (uint32_t)l->rx && c->rxh[i].val == val)
				return true;
		return false;
	}
	switch (l->vt) {
	case MV_IP: {
		uint8_t fam = 0;
		if (o->kind == SK_OBS_IPV4 &&
		    ((o->flags & SK_OBS_F_IP4 && (a4 = o->num, true)) ||
		     sk_match_ip4(o->v, o->len, &a4))) {
			fam = 4;
			addr[0] = (uint8_t)(a4 >> 24);
			addr[1] = (uint8_t)(a4 >> 16);
			addr[2] = (uint8_t)(a4 >> 8);
			addr[3] = (uint8_t)a4;
		} else if (o->kind == SK_OBS_IPV6 && sk_match_ip6(o->v, o->len, addr)) {
			fam = 6;
		}
		if (!fam)
			return false;
		bool any = false;
		for (uint32_t i = 0; i < l->nlit && !any; i++) {
			const mlit *x = &l->lits[i];
			if (x->fam != fam)
				continue;
			if (l->op == SK_PCMP_ISSUPERSET)
				any = x->prefix == (fam == 4 ? 32 : 128) && in_prefix(addr, x);
			else
				any = in_prefix(addr, x);
		}
		return l->op == SK_PCMP_NEQ ? !any : any;
	}
	case MV_PORT: {
		int64_t p = 0;
		for (uint32_t i = 0; i < o->len && i < 10; i++)
			p = p * 10 + (o->v[i] - '0');
		for (uint32_t i = 0; i < l->nlit; i++)
			if (op_order(l->op, cmp_int(p, l->lits[i].i)))
				return true;
		return false;
	}
	case MV_HASH: {
		uint8_t bin[64];
		if (!sk_match_unhex(o->v, o->len, bin, sizeof(bin)))
			return false;
		n = o->len / 2;
		for (uint32_t i = 0; i < l->nlit; i++) {
			bool eq = n == l->lits[i].len && !memcmp(bin, l->lits[i].s, n);
			if (l->op == SK_PCMP_NEQ ? !eq : eq)
				return true;
		}
		return false;
	}
	default:
		if (!(s = norm_value(c, o, &n)))
			return false;
		for (uint32_t i = 0; i < l->nlit; i++) {
			const mlit *x = &l->lits[i];
			size_t k = n < x->len ? n : x->len;
			int r = memcmp(s, x->s, k);
			if (!r)
				r = n < x->len ? -1 : n > x->len;
			if (op_order(l->op, r))
				return true;
			if (l->subdomains && subdomain_of(c->m, s, n, x))
				return true;
		}
		return false;
	}
}

static bool leaf_eval(sk_match_ctx *c, const mleaf *l, uint32_t *wit)
{
	const sk_logrec *rec = c->rec;
	if (!l->accept)
		return false;
	for (uint32_t i = 0; i < rec->n; i++) {
		const sk_obs *o = &rec->obs[i];
		if (!(l->accept & KR(o)))
			continue;
		bool r = cmp_value(c, l, o, i);
		if (l->negated ? !r : r) {
			*wit = i;
			return true;
		}
	}
	return false;
}

static bool node_eval(sk_match_ctx *c, uint32_t ni, uint32_t *wit)
{
	const sk_matcher *m = c->m;
	const mnode *n = &m->nodes[ni];
	uint32_t w = UINT32_MAX;

	if (n->kind == MN_LEAF)
		return leaf_eval(c, &m->leaves[n->leaf], wit);
	for (uint32_t i = 0; i < n->nkids; i++) {
		bool r = node_eval(c, m->kidv[n->kids + i], &w);
		if (n->kind == MN_OR && r) {
			*wit = w;
			return true;
		}
		if (n->kind == MN_AND) {
			if (!r)
				return false;
			if (*wit == UINT32_MAX)
				*wit = w;
		}
	}
	return n->kind == MN_AND;
}

static int hit_cmp(const void *a, const void *b)
{
	const sk_match_hit *x = a, *y = b;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	if (x->obs != y->obs)
		return x->obs < y->obs ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

size_t sk_match_record(sk_match_ctx *c, const sk_logrec *rec, const sk_match_hit **hits)
{
	const sk_matcher *m = c->m;
	uint32_t n = 0;

	c->rec = rec;
	c->ncand = c->nhits = c->nrxh = 0;
	if (++c->stamp == 0) {
		memset(c->obs_stamp, 0, (m->nobs ? m->nobs : 1) * sizeof(*c->obs_stamp));
		c->stamp = 1;
	}
	for (uint32_t i = 0; i < rec->n; i++)
		index_value(c, &rec->obs[i], i);
	if (m->ix.classes & (1u << K_ADDRPORT))
		probe_addrports(c, rec);
	for (uint32_t i = 0; i < m->ngeneric; i++)
		touch(c, m->generic[i], UINT32_MAX, false);
	for (uint32_t i = 0; i < c->ncand; i++) {
		const mobs *o = &m->obs[c->cand[i]];
		uint32_t wit = UINT32_MAX;
		if (node_eval(c, o->root, &wit))
			push_hit(c, o, wit);
	}
	if (c->nhits > 1) {
		qsort(c->hits, c->nhits, sizeof(*c->hits), hit_cmp);
		for (uint32_t i = 0; i < c->nhits; i++)
			if (!n || c->hits[n - 1].ind != c->hits[i].ind ||
			    c->hits[n - 1].obs != c->hits[i].obs)
				c->hits[n++] = c->hits[i];
		c->nhits = n;
	}
	*hits = c->hits;
	return c->nhits;
}
