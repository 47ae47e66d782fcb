/*
 * match_cache.c - a built matcher as one flat file, and back
 * (schakel/match_cache.h).
 *
 * Layout (native byte order and alignment; the key says which build wrote
 * it, and a file from another one is stale, not misread):
 *
 *   header   magic "SKMCACHE", checksum of every byte after the first 16,
 *            file length, format, section count, the --at window, key length
 *   key      the key text
 *   table    nsec x {tag, element size, offset, count}
 *   sections 64-byte aligned: the scalars, then each array of the matcher
 *            (iref, trees, leaves, literals, the hash index's slots, keys,
 *            postings and Bloom words, the IPv4 and URL-path filters, the
 *            regex leaf map), the serialised Hyperscan database and the
 *            caller's extra bytes.
 *
 * Pointers in the arrays are stored as indexes: a leaf's literals as the
 * index of its first one in the literal section, a literal's bytes as an
 * offset + 1 in the string section (0: none).  Loading maps the file
 * privately and fixes those up in place.
 */
#include "schakel/match_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match_priv.h"

#define MC_MAGIC "SKMCACHE"
/*
 * Bump when the file layout or anything the compiler puts into the arrays
 * changes meaning (a new key class, a new flag bit): older files are then
 * stale, and rebuilt.
 */
#define MC_FORMAT       4u /* 3: the extra bytes are match_base.c's, the key has no ind=; 4: untils */
#define MC_ALIGN        64u
#define MC_MAX_SECTIONS 32u

enum {
	T_SCALARS = 1,
	T_IREF,
	T_INDS,
	T_OBS,
	T_NODES,
	T_KIDV,
	T_LEAVES,
	T_LITS,
	T_STRS,
	T_ONODES,
	T_OKIDV,
	T_GENERIC,
	T_SLOTS,
	T_KEYS,
	T_POSTV,
	T_BLOOM,
	T_IP4,
	T_UPATH,
	T_RXLEAF,
	T_HS,
	T_EXTRA,
	T_NTAGS
};

typedef struct mc_head {
	char magic[8];
	uint64_t sum; /* of bytes [16, len) */
	uint64_t len;
	uint32_t format;
	uint32_t nsec;
	int64_t valid_lo, valid_hi;
	uint32_t key_len;
	uint32_t order; /* 0x01020304 */
} mc_head;

typedef struct mc_sec {
	uint32_t tag, elsize;
	uint64_t off, count;
} mc_sec;

typedef struct mc_scalars {
	uint32_t ninds, ndirect, suppressed, nminds, nobs, nnodes, nkidv, nleaves;
	uint32_t nonodes, nokidv, nprefixes, upath_words, nrx, rx_dropped, ngeneric, nmulti;
	uint32_t ix_nslots, ix_used, ix_npost, ix_bloom_words, ix_classes, nlits, npaths;
	uint8_t no_fast, any_subdomains, has_ip4, pad;
	uint64_t ix_klen, arena_bytes, str_kinds, port_kr, rx_kr, strs_len;
	uint64_t bytes, bytes_exact; /* sk_matcher_stats of the build */
	uint64_t net6_lens[3], upath_lens[4];
	uint64_t dacc[64];
} mc_scalars;

/* --- checksum --------------------------------------------------------------- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A four-lane multiply-rotate hash (memory speed): finds damage, not forgery. */
static uint64_t mc_sum(const unsigned char *p, size_t n)
{
	uint64_t a = P1 + P2, b = P2, c = 0, d = 0 - P1, h;
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];
		memcpy(w, p + i, 32);
		a = rotl(a + w[0] * P2, 31) * P1;
		b = rotl(b + w[1] * P2, 31) * P1;
		c = rotl(c + w[2] * P2, 31) * P1;
		d = rotl(d + w[3] * P2, 31) * P1;
	}
	h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)n;
	for (; i < n; i++) {
		h = (h ^ p[i]) * P1;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	return h;
}

/* --- the key -------------------------------------------------------------------- */

size_t sk_mcache_env(char *buf, size_t n)
{
	int k = snprintf(buf, n, "mcache=%u paths=%zu ptr=%zu ", MC_FORMAT, sk_match_npaths,
	                 sizeof(void *));
	if (k < 0 || (size_t)k >= n)
		return 0;
	return (size_t)k + sk_mhs_env(buf + k, n - (size_t)k);
}

/* The name of the first space-separated word that differs between a and b. */
static void first_diff(const char *a, const char *b, char *out, size_t n)
{
	for (;;) {
		size_t la = strcspn(a, " "), lb = strcspn(b, " ");
		if (la != lb || memcmp(a, b, la)) {
			size_t e = strcspn(a, "= ");
			snprintf(out, n, "%.*s", (int)(e < 64 ? e : 64), a);
			return;
		}
		if (!a[la] || !b[lb]) {
			snprintf(out, n, "key");
			return;
		}
		a += la + 1;
		b += lb + 1;
	}
}

/* --- writing ---------------------------------------------------------------------- */

typedef struct wsec {
	uint32_t tag, elsize;
	const void *p;
	uint64_t count;
} wsec;

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

/* The literals of every leaf into lits / strs with indexes for pointers (see the header). */
static int flatten(const sk_matcher *m, mleaf **leaves_out, mlit **lits_out, uint32_t *nlits_out,
                   char **strs_out, uint64_t *strs_len)
{
	mleaf *lv = malloc((m->nleaves ? m->nleaves : 1) * sizeof(*lv));
	uint64_t nl = 0, sl = 0;
	mlit *lits = NULL;
	char *strs = NULL;

	if (!lv)
		return -1;
	for (uint32_t i = 0; i < m->nleaves; i++) {
		nl += m->leaves[i].nlit;
		for (uint32_t j = 0; j < m->leaves[i].nlit; j++)
			if (m->leaves[i].lits[j].s)
				sl += m->leaves[i].lits[j].len + 1;
	}
	if (nl > UINT32_MAX || !(lits = malloc((nl ? nl : 1) * sizeof(*lits))) ||
	    !(strs = malloc(sl ? sl : 1))) {
		free(lv);
		free(lits);
		return -1;
	}
	nl = sl = 0;
	for (uint32_t i = 0; i < m->nleaves; i++) {
		lv[i] = m->leaves[i];
		lv[i].lits = (mlit *)(uintptr_t)nl;
		for (uint32_t j = 0; j < m->leaves[i].nlit; j++) {
			mlit x = m->leaves[i].lits[j];
			if (x.s) {
				memcpy(strs + sl, x.s, x.len);
				strs[sl + x.len] = '\0';
				x.s = (const char *)(uintptr_t)(sl + 1);
				sl += x.len + 1;
			}
			lits[nl++] = x;
		}
	}
	*leaves_out = lv;
	*lits_out = lits;
	*nlits_out = (uint32_t)nl;
	*strs_out = strs;
	*strs_len = sl;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

sk_err sk_mcache_save(const sk_matcher *m, const char *key, int64_t valid_lo, int64_t valid_hi,
                      const void *extra, size_t extra_len, const char *path, sk_error *err)
{
	mc_scalars sc = {0};
	mleaf *leaves = NULL;
	mlit *lits = NULL;
	char *strs = NULL, *hsb = NULL, *img = NULL, *tmp = NULL;
	size_t hsl = 0, klen = strlen(key);
	uint64_t strs_len = 0, off, total;
	uint32_t nlits = 0, ns = 0;
	wsec w[T_NTAGS];
	mc_head h = {0};
	int fd = -1;
	sk_err rc = SK_OK;

	if (!m->built)
		return sk_error_set(err, SK_EINVAL, "matcher cache: the matcher is not built");
	if (klen >= SK_MCACHE_KEY_MAX)
		return sk_error_set(err, SK_ELIMIT, "matcher cache: key too long");
	if (flatten(m, &leaves, &lits, &nlits, &strs, &strs_len)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (m->hs && (rc = sk_mhs_serialize(m->hs, &hsb, &hsl, err)))
		goto out;
	sc = (mc_scalars){.ninds = m->ninds,
	                  .ndirect = m->ndirect,
	                  .suppressed = m->suppressed,
	                  .nminds = m->nminds,
	                  .nobs = m->nobs,
	                  .nnodes = m->nnodes,
	                  .nkidv = m->nkidv,
	                  .nleaves = m->nleaves,
	                  .nonodes = m->nonodes,
	                  .nokidv = m->nokidv,
	                  .nprefixes = m->nprefixes,
	                  .upath_words = m->upath_filter ? m->upath_words : 0,
	                  .nrx = m->nrx,
	                  .rx_dropped = m->rx_dropped,
	                  .ngeneric = m->ngeneric,
	                  .nmulti = m->nmulti,
	                  .ix_nslots = m->ix.nslots,
	                  .ix_used = m->ix.used,
	                  .ix_npost = m->ix.npost,
	                  .ix_bloom_words = m->ix.bloom ? m->ix.bloom_words : 0,
	                  .ix_classes = m->ix.classes,
	                  .nlits = nlits,
	                  .npaths = (uint32_t)sk_match_npaths,
	                  .no_fast = m->no_fast,
	                  .any_subdomains = m->any_subdomains,
	                  .has_ip4 = m->ip4_by16 != NULL,
	                  .ix_klen = m->ix.klen,
	                  .arena_bytes = m->arena_bytes,
	                  .str_kinds = m->ix.str_kinds,
	                  .port_kr = m->port_kr,
	                  .rx_kr = m->rx_kr,
	                  .strs_len = strs_len};
	{
		sk_matcher_stats ms;
		sk_matcher_stats_get(m, &ms);
		sc.bytes = ms.bytes;
		sc.bytes_exact = ms.bytes_exact;
	}
	memcpy(sc.net6_lens, m->net6_lens, sizeof(sc.net6_lens));
	memcpy(sc.upath_lens, m->upath_lens, sizeof(sc.upath_lens));
	memcpy(sc.dacc, m->dacc, sizeof(sc.dacc));
#define SEC(t, ptr, n) (w[ns++] = (wsec){(t), (uint32_t)sizeof(*(ptr)), (ptr), (uint64_t)(n)})
	SEC(T_SCALARS, &sc, 1);
	SEC(T_IREF, m->iref, m->ninds);
	SEC(T_INDS, m->inds, m->nminds);
	SEC(T_OBS, m->obs, m->nobs);
	SEC(T_NODES, m->nodes, m->nnodes);
	SEC(T_KIDV, m->kidv, m->nkidv);
	SEC(T_LEAVES, leaves, m->nleaves);
	SEC(T_LITS, lits, nlits);
	SEC(T_STRS, strs, strs_len);
	SEC(T_ONODES, m->onodes, m->nonodes);
	SEC(T_OKIDV, m->okidv, m->nokidv);
	SEC(T_GENERIC, m->generic, m->ngeneric);
	SEC(T_SLOTS, m->ix.slots, m->ix.nslots);
	SEC(T_KEYS, m->ix.keys, m->ix.klen);
	SEC(T_POSTV, m->ix.postv, m->ix.npost);
	SEC(T_BLOOM, m->ix.bloom, sc.ix_bloom_words);
	SEC(T_IP4, m->ip4_by16, m->ip4_by16 ? 65536 : 0);
	SEC(T_UPATH, m->upath_filter, sc.upath_words);
	SEC(T_RXLEAF, m->rx_leaf, m->nrx);
	SEC(T_HS, hsb, hsl);
	SEC(T_EXTRA, (const char *)extra, extra ? extra_len : 0);
#undef SEC
	off = align_up(sizeof(h) + klen, 8) + (uint64_t)ns * sizeof(mc_sec);
	for (uint32_t i = 0; i < ns; i++)
		off = align_up(off, MC_ALIGN) + w[i].count * w[i].elsize;
	total = off;
	if (total > SIZE_MAX / 2 || !(img = calloc(1, (size_t)total))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory writing the matcher cache");
		goto out;
	}
	memcpy(h.magic, MC_MAGIC, 8);
	h.len = total;
	h.format = MC_FORMAT;
	h.nsec = ns;
	h.valid_lo = valid_lo;
	h.valid_hi = valid_hi;
	h.key_len = (uint32_t)klen;
	h.order = 0x01020304u;
	memcpy(img + sizeof(h), key, klen);
	off = align_up(sizeof(h) + klen, 8);
	{
		uint64_t data = off + (uint64_t)ns * sizeof(mc_sec);
		for (uint32_t i = 0; i < ns; i++) {
			mc_sec s = {w[i].tag, w[i].elsize, align_up(data, MC_ALIGN), w[i].count};
			memcpy(img + off + i * sizeof(mc_sec), &s, sizeof(s));
			if (w[i].count)
				memcpy(img + s.off, w[i].p, (size_t)(w[i].count * w[i].elsize));
			data = s.off + w[i].count * w[i].elsize;
		}
	}
	memcpy(img, &h, sizeof(h));
	h.sum = mc_sum((const unsigned char *)img + 16, (size_t)total - 16);
	memcpy(img + 8, &h.sum, 8);

	if (!(tmp = malloc(strlen(path) + 16))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	sprintf(tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) { /* mkstemp creates it 0600 */
		rc = sk_error_set(err, SK_EIO, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) || write_all(fd, img, (size_t)total) || close(fd)) {
		fd = -1;
		rc = sk_error_set(err, SK_EIO, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = sk_error_set(err, SK_EIO, "%s: cannot rename into place: %s", path,
		                  strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(img);
	free(hsb);
	free(leaves);
	free(lits);
	free(strs);
	return rc;
}

/* --- loading ------------------------------------------------------------------------ */

typedef struct rsec {
	unsigned char *p;
	uint64_t count;
	uint32_t elsize;
	bool seen;
} rsec;

#define BAD(...) sk_error_set(err, SK_EINVAL, "matcher cache damaged: " __VA_ARGS__)

/* Section tag as an array of count elements of elsize (NULL when count is 0). */
static sk_err get(const rsec *s, int tag, uint32_t elsize, uint64_t count, void **out,
                  sk_error *err)
{
	*out = NULL;
	if (!count && !s[tag].seen)
		return SK_OK;
	if (!s[tag].seen || s[tag].elsize != elsize || s[tag].count != count)
		return BAD("section %d has the wrong size", tag);
	*out = count ? s[tag].p : NULL;
	return SK_OK;
}

/* Does post value p (a slot's, or a chain entry's target when chain is false) point in bounds? */
static bool post_ok(const sk_matcher *m, uint32_t p, bool slot)
{
	if (slot && (p & MPOST_CHAIN))
		return (p & ~MPOST_CHAIN) >= 1 && (p & ~MPOST_CHAIN) <= m->ix.npost;
	if (slot)
		p &= ~MPOST_LEAF;
	if (p & MPOST_DIRECT) {
		uint32_t ind = p & ~MPOST_DIRECT;
		return ind < m->ninds && (m->iref[ind] & IREF_DIRECT);
	}
	return p < m->nleaves;
}

static sk_err check_index(const sk_matcher *m, sk_error *err)
{
	const mindex *ix = &m->ix;
	uint32_t empty = 0, used = 0;

	if (ix->used && (!ix->nslots || ix->klen < 3 || ix->klen > UINT32_MAX))
		return BAD("hash index without slots");
	for (uint32_t i = 0; i < ix->nslots; i++) {
		const mentry *e = &ix->slots[i];
		if (!e->key) { /* what a lookup of an absent key returns: no postings */
			if (e->post)
				return BAD("hash slot %u: empty with postings", i);
			empty++;
			continue;
		}
		used++;
		if ((uint64_t)e->key + 2 > ix->klen)
			return BAD("hash slot %u: key offset out of range", i);
		const unsigned char *k = (const unsigned char *)ix->keys + e->key;
		if ((uint64_t)e->key + 2 + ((uint32_t)k[0] << 8 | k[1]) > ix->klen)
			return BAD("hash slot %u: key length out of range", i);
		if (!post_ok(m, e->post, true))
			return BAD("hash slot %u: posting out of range", i);
	}
	if (ix->nslots && (!empty || used != ix->used))
		return BAD("hash index counts do not add up");
	for (uint32_t i = 0; i < ix->npost; i++)
		if (ix->postv[i].next > i || !post_ok(m, ix->postv[i].leaf, false))
			return BAD("posting %u out of range", i);
	if (ix->used && ix->bloom && !ix->bloom_words)
		return BAD("empty Bloom filter");
	return SK_OK;
}

/* A stored bool is one byte, 0 or 1 (anything else is undefined to load as a bool). */
static bool bool_ok(const bool *b)
{
	return *(const unsigned char *)b <= 1;
}

static sk_err check_trees(const sk_matcher *m, sk_error *err)
{
	for (uint32_t i = 0; i < m->ninds; i++) {
		uint32_t r = m->iref[i];
		if (r & IREF_DIRECT) {
			if ((r & ~(IREF_DIRECT | IREF_SUB | IREF_PATH)) ||
			    (r & IREF_PATH) >= sk_match_npaths)
				return BAD("indicator %u: path out of range", i);
		} else if (r >= m->nminds) {
			return BAD("indicator %u: tree out of range", i);
		}
	}
	for (uint32_t i = 0; i < m->nminds; i++) {
		const mind *d = &m->inds[i];
		if ((uint64_t)d->first_obs + d->nobs > m->nobs)
			return BAD("tree %u: observations out of range", i);
		if (d->oroot == UINT32_MAX)
			continue;
		if (!d->nonodes || (uint64_t)d->oroot + d->nonodes > m->nonodes)
			return BAD("tree %u: observation nodes out of range", i);
		uint64_t ends = 0;
		for (uint32_t j = d->oroot; j < d->oroot + d->nonodes; j++) {
			const monode *o = &m->onodes[j];
			uint32_t need = o->nslots;
			if (o->kind > ON_STARTSTOP)
				return BAD("observation node %u: bad kind", j);
			if (j == d->oroot ? o->parent != UINT32_MAX
			                  : (o->parent < d->oroot || o->parent >= j ||
			                     o->pos >= m->onodes[o->parent].nkids))
				return BAD("observation node %u: parent out of range", j);
			if ((o->kind == ON_AND || o->kind == ON_FB) && need < o->nkids)
				need = o->nkids;
			if ((o->kind == ON_REPEATS && !o->nslots) ||
			    (o->nslots > SK_MATCH_REFS_MAX && o->nslots > o->nkids))
				return BAD("observation node %u: slots out of range", j);
			if ((uint64_t)o->slot + need > d->nslots)
				return BAD("observation node %u: slots out of range", j);
			if ((uint64_t)o->slot + need > ends)
				ends = (uint64_t)o->slot + need;
			if ((uint64_t)o->kids + o->nkids > m->nokidv)
				return BAD("observation node %u: children out of range", j);
			for (uint32_t k = 0; k < o->nkids; k++)
				if (m->okidv[o->kids + k] <= j ||
				    m->okidv[o->kids + k] >= d->oroot + d->nonodes)
					return BAD("observation node %u: child out of range", j);
		}
		if (d->nslots > ends)
			return BAD("tree %u: more state slots than its nodes use", i);
	}
	for (uint32_t i = 0; i < m->nobs; i++) {
		const mobs *o = &m->obs[i];
		if (o->ind >= m->ninds || (m->iref[o->ind] & IREF_DIRECT) || o->root >= m->nnodes ||
		    !bool_ok(&o->exact) || !bool_ok(&o->generic))
			return BAD("observation %u out of range", i);
	}
	for (uint32_t i = 0; i < m->nnodes; i++) {
		const mnode *n = &m->nodes[i];
		if (n->kind == MN_LEAF) {
			if (n->leaf >= m->nleaves)
				return BAD("node %u: leaf out of range", i);
		} else if (n->kind == MN_AND || n->kind == MN_OR) {
			if ((uint64_t)n->kids + n->nkids > m->nkidv)
				return BAD("node %u: children out of range", i);
			for (uint32_t k = 0; k < n->nkids; k++)
				if (m->kidv[n->kids + k] >= i)
					return BAD("node %u: child out of range", i);
		} else {
			return BAD("node %u: bad kind", i);
		}
	}
	for (uint32_t i = 0; i < m->ngeneric; i++)
		if (m->generic[i] >= m->nobs)
			return BAD("generic observation %u out of range", i);
	for (uint32_t i = 0; i < m->nrx; i++)
		if (m->rx_leaf[i] >= m->nleaves)
			return BAD("regex %u: leaf out of range", i);
	return SK_OK;
}

/* Check each leaf and point it (and its literals) into the mapping. */
static sk_err fix_leaves(sk_matcher *m, mlit *lits, uint32_t nlits, const char *strs,
                         uint64_t strs_len, sk_error *err)
{
	for (uint32_t i = 0; i < nlits; i++) {
		mlit *x = &lits[i];
		uint64_t o = (uint64_t)(uintptr_t)x->s;
		if ((x->fam == 4 && x->prefix > 32) || (x->fam == 6 && x->prefix > 128) ||
		    (x->fam != 0 && x->fam != 4 && x->fam != 6) || !bool_ok(&x->is_int))
			return BAD("literal %u: bad address", i);
		if (!o) {
			if (x->len)
				return BAD("literal %u: length without bytes", i);
			continue;
		}
		if (o - 1 >= strs_len || x->len >= strs_len - (o - 1) || strs[o - 1 + x->len])
			return BAD("literal %u: bytes out of range", i);
		x->s = strs + (o - 1);
	}
	for (uint32_t i = 0; i < m->nleaves; i++) {
		mleaf *l = &m->leaves[i];
		uint64_t first = (uint64_t)(uintptr_t)l->lits;
		if (l->obs >= m->nobs || l->vt > MV_TYPE || l->op > SK_PCMP_EXISTS ||
		    !bool_ok(&l->negated) || !bool_ok(&l->subdomains) ||
		    (l->rx >= 0 && (uint32_t)l->rx >= m->nrx) || l->rx < -1)
			return BAD("leaf %u out of range", i);
		if (first > nlits || l->nlit > nlits - first)
			return BAD("leaf %u: literals out of range", i);
		l->lits = nlits ? lits + first : NULL;
		if (!l->lits && l->nlit)
			return BAD("leaf %u: literals out of range", i);
		for (uint32_t j = 0; j < l->nlit; j++)
			if ((l->vt == MV_STR || l->vt == MV_HASH) && !l->lits[j].s)
				return BAD("leaf %u: a string literal without bytes", i);
	}
	return SK_OK;
}

void sk_match_cache_unmap(sk_matcher *m)
{
	free(m->map_copy);
	m->map_copy = NULL;
	if (!m->map)
		return;
	if (m->map_malloced)
		free(m->map);
	else
		munmap(m->map, m->map_len);
	m->map = NULL;
}

/* Make a matcher of the image at img[0..len) (owned by the result from here on). */
static sk_err parse(unsigned char *img, size_t len, bool malloced, const char *key, int64_t at,
                    unsigned flags, const sk_match_opts *opts, sk_matcher **out, const void **extra,
                    size_t *extra_len, sk_error *err)
{
	sk_matcher *m = calloc(1, sizeof(*m));
	rsec sec[T_NTAGS] = {{0}};
	mc_head h;
	mc_scalars sc;
	mlit *lits = NULL;
	void *p;
	uint64_t toff;
	sk_err rc = SK_OK;

	*out = NULL;
	if (!m) {
		if (malloced)
			free(img);
		else
			munmap(img, len);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	m->map = img;
	m->map_len = len;
	m->map_malloced = malloced;
	m->built = true;
	if (len < sizeof(h)) {
		rc = BAD("truncated (%zu bytes)", len);
		goto out;
	}
	memcpy(&h, img, sizeof(h));
	if (memcmp(h.magic, MC_MAGIC, 8) || h.order != 0x01020304u) {
		rc = BAD("not a matcher cache file");
		goto out;
	}
	if (h.format != MC_FORMAT) {
		rc = sk_error_set(err, SK_ECONFLICT, "written by another version (format %u)",
		                  h.format);
		goto out;
	}
	if (h.len != len) {
		rc = BAD("%zu bytes, the header says %llu (truncated?)", len,
		         (unsigned long long)h.len);
		goto out;
	}
	if (!(flags & SK_MCACHE_NO_CHECKSUM) && mc_sum(img + 16, len - 16) != h.sum) {
		rc = BAD("checksum mismatch");
		goto out;
	}
	if (h.key_len >= SK_MCACHE_KEY_MAX || sizeof(h) + (uint64_t)h.key_len > len) {
		rc = BAD("key out of range");
		goto out;
	}
	if (key) {
		char k[SK_MCACHE_KEY_MAX], what[80];
		memcpy(k, img + sizeof(h), h.key_len);
		k[h.key_len] = '\0';
		if (strcmp(k, key)) {
			first_diff(key, k, what, sizeof(what));
			rc = sk_error_set(err, SK_ECONFLICT, "built for another %s", what);
			goto out;
		}
		if (at < h.valid_lo || at >= h.valid_hi) {
			rc = sk_error_set(
			    err, SK_ECONFLICT,
			    "an indicator's validity starts or ends since it was built");
			goto out;
		}
	}
	toff = align_up(sizeof(h) + h.key_len, 8);
	if (h.nsec > MC_MAX_SECTIONS || toff + (uint64_t)h.nsec * sizeof(mc_sec) > len) {
		rc = BAD("section table out of range");
		goto out;
	}
	for (uint32_t i = 0; i < h.nsec; i++) {
		mc_sec s;
		memcpy(&s, img + toff + i * sizeof(mc_sec), sizeof(s));
		if (s.tag == 0 || s.tag >= T_NTAGS || sec[s.tag].seen || !s.elsize ||
		    s.elsize > 4096 || s.off % 8 || s.off > len ||
		    s.count > (len - s.off) / s.elsize) {
			rc = BAD("section %u out of range", i);
			goto out;
		}
		sec[s.tag] = (rsec){img + s.off, s.count, s.elsize, true};
	}
	if ((rc = get(sec, T_SCALARS, sizeof(sc), 1, &p, err)))
		goto out;
	memcpy(&sc, p, sizeof(sc));
	if (sc.npaths != sk_match_npaths || sc.ix_used > sc.ix_nslots || sc.ix_klen > len) {
		rc = BAD("counts out of range");
		goto out;
	}
	m->ninds = m->irefcap = sc.ninds;
	m->ndirect = sc.ndirect;
	m->suppressed = sc.suppressed;
	m->nminds = m->indcap = sc.nminds;
	m->nobs = m->obscap = sc.nobs;
	m->nnodes = m->nodecap = sc.nnodes;
	m->nkidv = m->kidvcap = sc.nkidv;
	m->nleaves = m->leafcap = sc.nleaves;
	m->nonodes = m->onodecap = sc.nonodes;
	m->nokidv = m->okidvcap = sc.nokidv;
	m->nprefixes = sc.nprefixes;
	m->upath_words = sc.upath_words;
	m->nrx = m->rxcap = sc.nrx;
	m->rx_dropped = sc.rx_dropped;
	m->ngeneric = m->genericcap = sc.ngeneric;
	m->nmulti = sc.nmulti;
	m->no_fast = sc.no_fast;
	m->any_subdomains = sc.any_subdomains;
	m->arena_bytes = (size_t)sc.arena_bytes;
	m->port_kr = sc.port_kr;
	m->map_bytes = (size_t)sc.bytes;
	m->map_bytes_exact = (size_t)sc.bytes_exact;
	m->rx_kr = sc.rx_kr;
	memcpy(m->net6_lens, sc.net6_lens, sizeof(m->net6_lens));
	memcpy(m->upath_lens, sc.upath_lens, sizeof(m->upath_lens));
	memcpy(m->dacc, sc.dacc, sizeof(m->dacc));
	m->ix.nslots = sc.ix_nslots;
	m->ix.used = sc.ix_used;
	m->ix.klen = m->ix.kcap = (size_t)sc.ix_klen;
	m->ix.npost = m->ix.postcap = sc.ix_npost;
	m->ix.bloom_words = sc.ix_bloom_words;
	m->ix.classes = sc.ix_classes;
	m->ix.str_kinds = sc.str_kinds;
	if ((rc = get(sec, T_IREF, 4, sc.ninds, (void **)&m->iref, err)) ||
	    (rc = get(sec, T_INDS, sizeof(mind), sc.nminds, (void **)&m->inds, err)) ||
	    (rc = get(sec, T_OBS, sizeof(mobs), sc.nobs, (void **)&m->obs, err)) ||
	    (rc = get(sec, T_NODES, sizeof(mnode), sc.nnodes, (void **)&m->nodes, err)) ||
	    (rc = get(sec, T_KIDV, 4, sc.nkidv, (void **)&m->kidv, err)) ||
	    (rc = get(sec, T_LEAVES, sizeof(mleaf), sc.nleaves, (void **)&m->leaves, err)) ||
	    (rc = get(sec, T_LITS, sizeof(mlit), sc.nlits, (void **)&lits, err)) ||
	    (rc = get(sec, T_STRS, 1, sc.strs_len, &p, err)) ||
	    (rc = get(sec, T_ONODES, sizeof(monode), sc.nonodes, (void **)&m->onodes, err)) ||
	    (rc = get(sec, T_OKIDV, 4, sc.nokidv, (void **)&m->okidv, err)) ||
	    (rc = get(sec, T_GENERIC, 4, sc.ngeneric, (void **)&m->generic, err)) ||
	    (rc = get(sec, T_SLOTS, sizeof(mentry), sc.ix_nslots, (void **)&m->ix.slots, err)) ||
	    (rc = get(sec, T_KEYS, 1, sc.ix_klen, (void **)&m->ix.keys, err)) ||
	    (rc = get(sec, T_POSTV, sizeof(mpost), sc.ix_npost, (void **)&m->ix.postv, err)) ||
	    (rc = get(sec, T_BLOOM, 8, sc.ix_bloom_words, (void **)&m->ix.bloom, err)) ||
	    (rc = get(sec, T_IP4, 8, sc.has_ip4 ? 65536 : 0, (void **)&m->ip4_by16, err)) ||
	    (rc = get(sec, T_UPATH, 8, sc.upath_words, (void **)&m->upath_filter, err)) ||
	    (rc = get(sec, T_RXLEAF, 4, sc.nrx, (void **)&m->rx_leaf, err)))
		goto out;
	if ((sc.upath_lens[0] | sc.upath_lens[1] | sc.upath_lens[2] | sc.upath_lens[3]) &&
	    !m->upath_filter) {
		rc = BAD("URL path filter missing");
		goto out;
	}
	if (m->nleaves || sc.nlits) { /* copied out of the read-only mapping to fix them up */
		size_t lb = (size_t)m->nleaves * sizeof(mleaf),
		       tb = (size_t)sc.nlits * sizeof(mlit);
		char *cp = malloc(lb + tb + 1);
		if (!cp) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
		if (lb)
			memcpy(cp, m->leaves, lb);
		if (tb)
			memcpy(cp + lb, lits, tb);
		m->map_copy = cp;
		m->leaves = lb ? (mleaf *)(void *)cp : NULL;
		lits = tb ? (mlit *)(void *)(cp + lb) : NULL;
	}
	if ((rc = check_index(m, err)) || (rc = check_trees(m, err)) ||
	    (rc = fix_leaves(m, lits, sc.nlits, p, sc.strs_len, err)))
		goto out;
	if (sc.nrx) {
		if (!sec[T_HS].seen || sec[T_HS].elsize != 1) {
			rc = BAD("regex database missing");
			goto out;
		}
		if ((rc = sk_mhs_deserialize((const char *)sec[T_HS].p, (size_t)sec[T_HS].count,
		                             &m->hs, err)))
			goto out;
	}
	if (opts) {
		m->opts = *opts;
		m->opts.warninglists = NULL;
	}
	if (extra) {
		*extra = sec[T_EXTRA].seen ? sec[T_EXTRA].p : NULL;
		*extra_len =
		    sec[T_EXTRA].seen ? (size_t)(sec[T_EXTRA].count * sec[T_EXTRA].elsize) : 0;
	}
	*out = m;
	m = NULL;
out:
	sk_matcher_free(m);
	return rc;
}

sk_err sk_mcache_load(const char *path, const char *key, int64_t at, const sk_match_opts *opts,
                      sk_matcher **out, const void **extra, size_t *extra_len, sk_error *err)
{
	struct stat stt;
	void *img;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return sk_error_set(err, SK_ENOTFOUND, "no matcher cache");
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &stt) || !S_ISREG(stt.st_mode)) {
		close(fd);
		return sk_error_set(err, SK_EINVAL, "%s: not a regular file", path);
	}
	if (stt.st_size < (off_t)sizeof(mc_head)) {
		close(fd);
		return BAD("truncated (%lld bytes)", (long long)stt.st_size);
	}
	/* read-only: the page cache's pages are mapped as they are, nothing is copied */
	img = mmap(NULL, (size_t)stt.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return sk_error_set(err, SK_EIO, "%s: cannot map: %s", path, strerror(errno));
	return parse(img, (size_t)stt.st_size, false, key, at, 0, opts, out, extra, extra_len, err);
}

sk_err sk_mcache_load_mem(const void *buf, size_t len, const char *key, int64_t at, unsigned flags,
                          const sk_match_opts *opts, sk_matcher **out, const void **extra,
                          size_t *extra_len, sk_error *err)
{
	/* 8-byte aligned: the sections are read in place */
	unsigned char *img = malloc(len ? len : 1);
	*out = NULL;
	if (!img)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	memcpy(img, buf, len);
	return parse(img, len, true, key, at, flags, opts, out, extra, extra_len, err);
}
