/*
 * match_trigger.c - the index entries ("triggers") of a compiled
 * observation: a set of keys such that the observation can only be true on
 * a record holding one of them.  An AND needs one child's triggers, an OR
 * all children's; a leaf triggers on EQ / IN / ISSUBSET (and LIKE / MATCHES
 * through Hyperscan).  An observation without triggers is "generic": tried
 * on every record.  Also the key of one literal, which the direct path
 * (match_path.c) uses too.
 */
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"

/* --- triggers ----------------------------------------------------------- */

static bool leaf_triggers(const mleaf *l)
{
	if (!l->accept || l->negated)
		return false;
	if (l->rx >= 0)
		return true;
	return (l->op == SK_PCMP_EQ || l->op == SK_PCMP_IN || l->op == SK_PCMP_ISSUBSET) &&
	       l->nlit > 0;
}

bool sk_match_has_trigger(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return leaf_triggers(&m->leaves[n->leaf]);
	for (uint32_t i = 0; i < n->nkids; i++) {
		bool t = sk_match_has_trigger(m, m->kidv[n->kids + i]);
		if (n->kind == MN_AND && t)
			return true;
		if (n->kind == MN_OR && !t && sk_match_can_match(m, m->kidv[n->kids + i]))
			return false;
	}
	return n->kind == MN_OR;
}

/*
 * Record an IPv4 key in the /16 prefilter (see ip4_by16): bit is 0 for an
 * address or prefix key (the bit follows from its length), or IP4_PORTKEY.
 */
int sk_match_mark_ip4(sk_matcher *m, const mlit *v, uint64_t bit)
{
	uint32_t top = (uint32_t)v->addr[0] << 8 | v->addr[1];
	uint32_t span = v->prefix >= 16 ? 1 : 1u << (16 - v->prefix);

	if (!bit)
		bit = v->prefix == 32 ? IP4_EXACT : 1ull << v->prefix;
	if (!m->ip4_by16 && !(m->ip4_by16 = calloc(65536, sizeof(*m->ip4_by16))))
		return -1;
	/* a short prefix covers 2^(16-L) words; its masked address starts the run */
	for (uint32_t i = 0; i < span; i++)
		m->ip4_by16[top + i] |= bit;
	return 0;
}

/* Index literal v of leaf l for target (a leaf number, or MPOST_DIRECT | indicator). */
sk_err sk_match_index_lit(sk_matcher *m, const mleaf *l, const mlit *v, uint32_t target)
{
	uint8_t key[MKEY_MAX];
	size_t kl = 0;

	switch (l->vt) {
	case MV_IP:
		if (v->fam == 4 && sk_match_mark_ip4(m, v, 0))
			return SK_ENOMEM;
		if (v->fam == 4 && v->prefix == 32) {
			key[kl++] = K_IP4;
		} else if (v->fam == 6 && v->prefix == 128) {
			key[kl++] = K_IP6;
		} else if (v->fam == 4) {
			key[kl++] = K_NET4;
			key[kl++] = v->prefix;
			m->nprefixes++;
		} else {
			key[kl++] = K_NET6;
			key[kl++] = v->prefix;
			m->net6_lens[v->prefix / 64] |= 1ull << (v->prefix % 64);
			m->nprefixes++;
		}
		memcpy(key + kl, v->addr, v->fam == 4 ? 4 : 16);
		kl += v->fam == 4 ? 4 : 16;
		break;
	case MV_PORT:
		if (v->i < 0 || v->i > 65535)
			return SK_OK;
		key[kl++] = K_PORT;
		key[kl++] = (uint8_t)(v->i >> 8);
		key[kl++] = (uint8_t)v->i;
		m->port_kr |= l->accept;
		break;
	default:
		if (v->len + 2 > MKEY_MAX)
			return SK_OK; /* too long for a key: generic evaluation sees it (below) */
		key[kl++] = l->vt == MV_HASH ? K_HASH : K_STR;
		key[kl++] = l->kind;
		memcpy(key + kl, v->s, v->len);
		kl += v->len;
		if (l->subdomains)
			m->any_subdomains = true;
		break;
	}
	return sk_mindex_add(&m->ix, key, kl, target);
}

static bool lits_indexable(const mleaf *l)
{
	for (uint32_t i = 0; i < l->nlit; i++)
		if ((l->vt == MV_STR || l->vt == MV_HASH) && l->lits[i].len + 2 > MKEY_MAX)
			return false;
	return true;
}

static bool port_leaf(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	return n->kind == MN_LEAF && m->leaves[n->leaf].vt == MV_PORT;
}

sk_err sk_match_add_triggers(sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	sk_err rc;
	if (n->kind == MN_LEAF) {
		const mleaf *l = &m->leaves[n->leaf];
		if (l->rx >= 0)
			return SK_OK; /* every regex hit makes its observation a candidate */
		for (uint32_t i = 0; i < l->nlit; i++)
			if ((rc = sk_match_index_lit(m, l, &l->lits[i], n->leaf)))
				return rc;
		return SK_OK;
	}
	if (n->kind == MN_AND) {
		/*
		 * One child's keys suffice for an AND; an address or value beats a
		 * port, which would make every record with that port a candidate.
		 */
		uint32_t pick = UINT32_MAX;
		for (uint32_t i = 0; i < n->nkids; i++) {
			uint32_t k = m->kidv[n->kids + i];
			if (!sk_match_has_trigger(m, k))
				continue;
			if (pick == UINT32_MAX || !port_leaf(m, k)) {
				pick = k;
				if (!port_leaf(m, k))
					break;
			}
		}
		return pick == UINT32_MAX ? SK_OK : sk_match_add_triggers(m, pick);
	}
	for (uint32_t i = 0; i < n->nkids; i++) {
		uint32_t k = m->kidv[n->kids + i];
		if (sk_match_can_match(m, k) && (rc = sk_match_add_triggers(m, k)))
			return rc;
	}
	return SK_OK;
}

/* A trigger set that is complete: every leaf it uses fits in a key. */
bool sk_match_triggers_ok(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return lits_indexable(&m->leaves[n->leaf]);
	for (uint32_t i = 0; i < n->nkids; i++) {
		uint32_t k = m->kidv[n->kids + i];
		if (n->kind == MN_AND) {
			if (sk_match_has_trigger(m, k))
				return sk_match_triggers_ok(m, k);
		} else if (sk_match_can_match(m, k) && !sk_match_triggers_ok(m, k)) {
			return false;
		}
	}
	return true;
}
