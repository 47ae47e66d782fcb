/*
 * matcher.c - the matcher's public side: creating it, adding indicators
 * (the direct path in match_path.c, else sk_pattern_parse, the trees of
 * match_compile.c and the index entries of match_trigger.c), the
 * warning-list rule, building (Hyperscan database, URL-path filter),
 * reserving, statistics and freeing.  Per-record evaluation is in
 * match_eval.c, stream state in match_obs.c.
 */
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"
#include "schakel/warninglist.h"

/* --- warning lists ------------------------------------------------------ */

static sk_wl_kind wl_kind(const pathdef *pd)
{
	switch (pd->vt) {
	case MV_IP:
		return SK_WL_IP;
	case MV_HASH:
		return SK_WL_HASH;
	default:
		break;
	}
	switch (pd->kind) {
	case SK_OBS_DOMAIN:
		return SK_WL_DOMAIN;
	case SK_OBS_URL:
		return SK_WL_URL;
	case SK_OBS_EMAIL:
		return SK_WL_EMAIL;
	default:
		return SK_WL_OTHER;
	}
}

typedef struct wlhit {
	const char *list, *type;
} wlhit;

static void wl_first(void *ud, const char *list, const char *type)
{
	wlhit *h = ud;
	if (!h->list) {
		h->list = list;
		h->type = type;
	}
}

/* Is value v[0..n) of path pd on a warning list?  The first one is described in msg. */
bool sk_match_wl_listed(const sk_matcher *m, const pathdef *pd, const char *v, size_t n,
			char *msg, size_t msz)
{
	char buf[1024], *t = buf;
	wlhit h = {0};
	bool r;

	if (n >= sizeof(buf) && !(t = malloc(n + 1)))
		return false;
	memcpy(t, v, n);
	t[n] = '\0';
	r = sk_warninglist_match_all(m->opts.warninglists, wl_kind(pd), t, false, wl_first, &h) &&
	    h.list;
	if (r && msg && !msg[0])
		snprintf(msg, msz, "'%.200s' is on warning list '%.200s' (%s)", t, h.list, h.type);
	if (t != buf)
		free(t);
	return r;
}

/*
 * The warning-list rule for a parsed pattern: one observation holding one
 * positive '=' / IN / ISSUBSET comparison whose every string value is on a
 * list.  msg receives the first listing.
 */
static bool wl_pattern(const sk_matcher *m, const sk_pnode *root, char *msg, size_t msz)
{
	const sk_pcmp *c;
	const pathdef *pd;
	const sk_plit *vals;
	uint32_t nv;

	if (!m->opts.warninglists || root->kind != SK_PN_OBSERVATION || !root->kids ||
	    root->kids->kind != SK_PN_COMPARISON)
		return false;
	c = &root->kids->cmp;
	if (c->negated ||
	    (c->op != SK_PCMP_EQ && c->op != SK_PCMP_IN && c->op != SK_PCMP_ISSUBSET) ||
	    !(pd = sk_match_find_path(&c->path)) || pd->vt == MV_PORT || pd->vt == MV_TYPE)
		return false;
	vals = c->op == SK_PCMP_IN ? c->set : &c->value;
	nv = c->op == SK_PCMP_IN ? c->nset : 1;
	if (!nv)
		return false;
	for (uint32_t i = 0; i < nv; i++)
		if (vals[i].kind != SK_PLIT_STRING ||
		    !sk_match_wl_listed(m, pd, vals[i].str, vals[i].len, msg, msz))
			return false;
	return true;
}

/* --- lifecycle ---------------------------------------------------------- */

sk_err sk_match_grow_iref(sk_matcher *m)
{
	if (m->ninds >= IREF_PATH + 0x3F000000u)
		return SK_ELIMIT;
	return GROW(m->iref, m->ninds, m->irefcap) ? SK_ENOMEM : SK_OK;
}

sk_err sk_matcher_new(const sk_match_opts *opts, sk_matcher **out, sk_error *err)
{
	sk_matcher *m = calloc(1, sizeof(*m));
	if (!m)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (opts)
		m->opts = *opts;
	for (size_t i = 0; i < sk_match_npaths; i++)
		m->dacc[i] = sk_match_paths[i].accept;
	*out = m;
	return SK_OK;
}

void sk_matcher_free(sk_matcher *m)
{
	if (!m)
		return;
	if (m->map) { /* loaded from a cache file: only the Hyperscan database is separate */
		sk_mhs_free(m->hs);
		sk_match_cache_unmap(m);
		free(m);
		return;
	}
	for (struct marena *a = m->arena, *n; a; a = n) {
		n = a->next;
		free(a);
	}
	for (uint32_t i = 0; i < m->nrx; i++)
		free(m->rx_text[i]);
	free(m->rx_text);
	free(m->rx_flags);
	free(m->rx_leaf);
	sk_mhs_free(m->hs);
	sk_mindex_free(&m->ix);
	free(m->ip4_by16);
	free(m->upath_filter);
	free(m->iref);
	free(m->inds);
	free(m->obs);
	free(m->nodes);
	free(m->kidv);
	free(m->leaves);
	free(m->onodes);
	free(m->okidv);
	free(m->generic);
	free(m);
}

sk_err sk_matcher_add(sk_matcher *m, const char *text, size_t len, unsigned flags, uint32_t *idx,
		      sk_error *err)
{
	sk_pattern *pat = NULL;
	cstate cs = {.m = m, .ind = m->ninds, .flags = flags};
	uint32_t mark_obs = m->nobs, mark_nodes = m->nnodes, mark_kidv = m->nkidv;
	uint32_t mark_leaves = m->nleaves, mark_on = m->nonodes, mark_okidv = m->nokidv;
	uint32_t mark_rx = m->nrx, num = 0;
	mind ind = {.first_obs = m->nobs, .oroot = UINT32_MAX};
	const sk_pnode *root;
	bool ok;
	sk_err rc;

	if (m->built)
		return sk_error_set(err, SK_EINVAL, "matcher already built");
	if (sk_match_add_direct(m, text, len, flags, idx, &rc, err) ||
	    sk_match_add_ipport(m, text, len, flags, idx, &rc, err))
		return rc;
	if ((rc = sk_pattern_parse(text, len, &pat, err)))
		return rc;
	if (m->opts.warninglists && !(flags & SK_MATCH_NO_WARNINGLISTS)) {
		char msg[SK_ERROR_MSG_MAX - 64] = "";
		if (wl_pattern(m, sk_pattern_root(pat), msg, sizeof(msg))) {
			m->suppressed++;
			rc = sk_error_set(err, SK_ESUPPRESSED, "%s", msg);
			goto out;
		}
	}
	if (GROW(m->inds, m->nminds, m->indcap) || sk_match_grow_iref(m)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	root = sk_pattern_root(pat);
	if (sk_match_only_or(root)) {
		/* each observation on its own is a match: num 0 for all */
		const sk_pnode *stack[SK_PATTERN_MAX_DEPTH + 1];
		int sp = 0;
		stack[sp++] = root;
		while (sp && !rc) {
			const sk_pnode *n = stack[--sp];
			if (n->kind == SK_PN_OBSERVATION) {
				rc = sk_match_compile_obs(&cs, n, 0, err);
				continue;
			}
			for (const sk_pnode *c = n->kids; c && sp <= SK_PATTERN_MAX_DEPTH;
			     c = c->next)
				stack[sp++] = c;
		}
		if (rc)
			goto out;
		ind.nobs = m->nobs - ind.first_obs;
		ok = false;
		for (uint32_t i = ind.first_obs; i < m->nobs; i++)
			ok = ok || sk_match_can_match(m, m->obs[i].root);
	} else {
		ind.oroot = m->nonodes;
		if ((rc = sk_match_compile_onode(&cs, &ind, root, UINT32_MAX, 0, &num, err)))
			goto out;
		ind.nobs = m->nobs - ind.first_obs;
		ind.nonodes = m->nonodes - ind.oroot;
		ok = sk_match_onode_can(m, &ind, ind.oroot);
	}
	if (!ok) {
		rc = sk_error_set(err, SK_EUNSUPPORTED, "%s",
				  cs.reason[0] ? cs.reason : "pattern can never match a log record");
		goto out;
	}
	/* index entries (the part that cannot be rolled back comes last) */
	for (uint32_t i = ind.first_obs; i < m->nobs; i++) {
		mobs *o = &m->obs[i];
		const mnode *r = &m->nodes[o->root];
		if (!sk_match_can_match(m, o->root))
			continue; /* never a candidate */
		if (sk_match_has_trigger(m, o->root) && sk_match_triggers_ok(m, o->root)) {
			if ((rc = sk_match_add_triggers(m, o->root))) {
				rc = sk_error_set(err, rc, "out of memory building the index");
				goto out;
			}
			o->exact = r->kind == MN_LEAF && m->leaves[r->leaf].rx < 0 &&
				   !m->leaves[r->leaf].negated;
		} else {
			if (GROW(m->generic, m->ngeneric, m->genericcap)) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
			o->generic = true;
			m->generic[m->ngeneric++] = i;
		}
	}
	for (uint32_t i = mark_leaves; i < m->nleaves; i++)
		if (m->leaves[i].rx >= 0)
			m->rx_kr |= m->leaves[i].accept;
	m->inds[m->nminds] = ind;
	m->iref[m->ninds] = m->nminds++;
	if (ind.oroot != UINT32_MAX)
		m->nmulti++;
	if (idx)
		*idx = m->ninds;
	m->ninds++;
out:
	if (rc) {
		m->nobs = mark_obs;
		m->nnodes = mark_nodes;
		m->nkidv = mark_kidv;
		m->nleaves = mark_leaves;
		m->nonodes = mark_on;
		m->nokidv = mark_okidv;
		while (m->nrx > mark_rx)
			free(m->rx_text[--m->nrx]);
	}
	sk_pattern_free(pat);
	return rc;
}

/*
 * The regex database.  An expression that passed sk_mhs_check but that the
 * build refuses (a resource limit) is taken out and the rest built again:
 * its leaf can then never be true (counted in rx_dropped).
 */
static sk_err build_rx(sk_matcher *m, sk_error *err)
{
	while (m->nrx) {
		uint32_t bad, last;
		sk_err rc = sk_mhs_build((const char *const *)m->rx_text, m->rx_flags, m->nrx, &m->hs,
					 &bad, err);
		if (!rc || bad == UINT32_MAX)
			return rc;
		last = --m->nrx;
		m->leaves[m->rx_leaf[bad]].accept = 0;
		m->leaves[m->rx_leaf[bad]].rx = -1;
		free(m->rx_text[bad]);
		m->rx_text[bad] = m->rx_text[last];
		m->rx_flags[bad] = m->rx_flags[last];
		m->rx_leaf[bad] = m->rx_leaf[last];
		if (bad != last)
			m->leaves[m->rx_leaf[bad]].rx = (int32_t)bad;
		m->rx_dropped++;
	}
	return SK_OK;
}

/* The K_UPATH filter (see sk_matcher.upath_filter): 16 bits per URL-path key. */
static int build_upath_filter(sk_matcher *m)
{
	const mindex *ix = &m->ix;
	uint32_t n = 0;

	for (uint32_t i = 0; i < ix->nslots; i++)
		if (ix->slots[i].key && (uint8_t)ix->keys[ix->slots[i].key + 2] == K_UPATH)
			n++;
	free(m->upath_filter);
	m->upath_words = n / 4 + 8;
	if (!(m->upath_filter = calloc(m->upath_words, sizeof(*m->upath_filter))))
		return -1;
	for (uint32_t i = 0; i < ix->nslots; i++) {
		const unsigned char *k = (const unsigned char *)ix->keys + ix->slots[i].key;
		size_t kl = (size_t)k[0] << 8 | k[1];
		uint64_t h = SK_UPATH_SEED;
		uint32_t w;
		if (!ix->slots[i].key || k[2] != K_UPATH)
			continue;
		for (size_t j = 3; j < kl + 2; j++)
			h = sk_upath_step(h, k[j]);
		uint64_t b = sk_upath_bits(h, kl - 1, m->upath_words, &w);
		m->upath_filter[w] |= b;
	}
	return 0;
}

sk_err sk_matcher_build(sk_matcher *m, sk_error *err)
{
	sk_err rc;
	if (m->built)
		return SK_OK;
	if (sk_mindex_finish(&m->ix))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (m->ninds && m->ninds < m->irefcap) {
		uint32_t *ni = realloc(m->iref, m->ninds * sizeof(*ni));
		if (ni) {
			m->iref = ni;
			m->irefcap = m->ninds;
		}
	}
	if ((rc = build_rx(m, err)))
		return rc;
	if ((m->upath_lens[0] | m->upath_lens[1] | m->upath_lens[2] | m->upath_lens[3]) &&
	    build_upath_filter(m))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	m->built = true;
	return SK_OK;
}

sk_err sk_matcher_reserve(sk_matcher *m, uint32_t n, sk_error *err)
{
	uint64_t want = (uint64_t)m->ninds + n;
	if (want > IREF_PATH + 0x3F000000u)
		return sk_error_set(err, SK_ELIMIT, "too many indicators");
	if (want > m->irefcap) {
		uint32_t *ni = realloc(m->iref, (size_t)want * sizeof(*ni));
		if (!ni)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		m->iref = ni;
		m->irefcap = (uint32_t)want;
	}
	if (sk_mindex_reserve(&m->ix, m->ix.used + n))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

void sk_matcher_stats_get(const sk_matcher *m, sk_matcher_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->indicators = m->ninds;
	out->observations = m->nobs + m->ndirect;
	out->direct = m->ndirect;
	out->suppressed = m->suppressed;
	out->bytes_exact = sk_mindex_bytes(&m->ix) + (size_t)m->irefcap * 4 +
	                   (m->ip4_by16 ? 65536 * sizeof(*m->ip4_by16) : 0);
	out->exact_keys = m->ix.used;
	out->prefixes = m->nprefixes;
	out->regexes = m->nrx;
	out->generic = m->ngeneric;
	out->multi = m->nmulti;
	out->bytes = out->bytes_exact + m->arena_bytes + sk_mhs_bytes(m->hs) + sizeof(*m) +
		     (size_t)m->indcap * sizeof(mind) + (size_t)m->obscap * sizeof(mobs) +
		     (size_t)m->nodecap * sizeof(mnode) + (size_t)m->kidvcap * 4 +
		     (size_t)m->leafcap * sizeof(mleaf) + (size_t)m->onodecap * sizeof(monode) +
		     (size_t)m->okidvcap * 4 + (size_t)m->genericcap * 4;
	if (m->map) { /* as the build it came from reported it */
		out->bytes = m->map_bytes;
		out->bytes_exact = m->map_bytes_exact;
	}
}
