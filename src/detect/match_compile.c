/*
 * match_compile.c - compiling a parsed STIX pattern into the matcher's
 * trees: literals, comparison trees and the observation-level tree of a
 * multi-observation indicator.
 *
 * A pattern's comparison expressions ('[...]') become trees of mnode/mleaf
 * with literals parsed once into the form the log side compares against
 * (addresses as bytes plus prefix length, digests as binary, strings
 * normalised).  The paths they may name are match_path.c, the index keys
 * they get match_trigger.c, the driver (sk_matcher_add) matcher.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "logbuild.h"
#include "match_priv.h"

/* --- small helpers ------------------------------------------------------ */

static void *aalloc(sk_matcher *m, size_t n)
{
	struct marena *a = m->arena;
	n = (n + 7) & ~(size_t)7;
	if (!a || a->used + n > a->size) {
		size_t sz = n > 60000 ? n : 65536 - sizeof(*a);
		a = malloc(sizeof(*a) + sz);
		if (!a)
			return NULL;
		a->next = m->arena;
		a->used = 0;
		a->size = sz;
		m->arena = a;
		m->arena_bytes += sizeof(*a) + sz;
	}
	void *p = a->data + a->used;
	a->used += n;
	return p;
}

/* Normalise a string value of obs kind `kind` for comparison; 0 if it does not fit. */
size_t sk_match_norm(uint8_t kind, const char *s, size_t n, char *out, size_t cap);
size_t sk_match_norm(uint8_t kind, const char *s, size_t n, char *out, size_t cap)
{
	size_t at;
	switch (kind) {
	case SK_OBS_URL:
		return sk_match_url_norm(s, n, out, cap);
	case SK_OBS_DOMAIN:
		if (n && s[n - 1] == '.')
			n--;
		/* fall through */
	case SK_OBS_JA3:
	case SK_OBS_JA3S:
	case SK_OBS_JA4:
	case SK_OBS_X509_SERIAL:
		if (n > cap)
			return 0;
		for (size_t i = 0; i < n; i++)
			out[i] = (char)tolower((unsigned char)s[i]);
		return n;
	case SK_OBS_REGKEY:
		/* Windows compares key names without regard to case (ASCII here) */
		return sk_obs_regkey_canon(s, n, out, cap, true);
	case SK_OBS_REGVALUE:
		if (n > cap)
			return 0;
		for (size_t i = 0; i < n; i++)
			out[i] = (char)tolower((unsigned char)s[i]);
		return n;
	case SK_OBS_EMAIL:
		if (n > cap)
			return 0;
		at = n;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '@')
				at = i;
		}
		for (size_t i = 0; i < n; i++)
			out[i] = i > at ? (char)tolower((unsigned char)s[i]) : s[i];
		return n;
	default:
		if (n > cap)
			return 0;
		memcpy(out, s, n);
		return n;
	}
}

static size_t hash_len(uint8_t kind)
{
	switch (kind) {
	case SK_OBS_MD5:
		return 16;
	case SK_OBS_SHA1:
	case SK_OBS_X509_SHA1:
		return 20;
	case SK_OBS_SHA256:
	case SK_OBS_X509_SHA256:
		return 32;
	case SK_OBS_SHA512:
		return 64;
	default:
		return 0;
	}
}

/* --- compiling comparisons ---------------------------------------------- */

/* Remember the first reason: pre + path + post (cut to fit). */
static void dead(cstate *cs, const char *pre, const char *path, const char *post)
{
	size_t o = 0;
	const char *parts[3] = {pre, path, post};
	if (cs->reason[0])
		return;
	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; p && *p && o + 1 < sizeof(cs->reason); p++)
			cs->reason[o++] = *p;
	cs->reason[o] = '\0';
}

/* Parse one literal for leaf l; false (with a reason) if its form cannot match. */
/*
 * scratch (cap bytes), when given, receives the literal's bytes instead of
 * the matcher's arena (the direct path, which keeps them only in the key).
 */
bool sk_match_compile_lit(cstate *cs, mleaf *l, const sk_plit *v, mlit *out, const char *pathtxt,
			  char *scratch, size_t scap)
{
	sk_matcher *m = cs->m;
	memset(out, 0, sizeof(*out));
	if (l->op == SK_PCMP_LIKE || l->op == SK_PCMP_MATCHES)
		return v->kind == SK_PLIT_STRING;
	switch (l->vt) {
	case MV_IP:
		if (v->kind != SK_PLIT_STRING ||
		    !sk_match_parse_ip(v->str, v->len, true, out)) {
			dead(cs, "'", pathtxt, "' needs an IP address or CIDR value");
			return false;
		}
		return true;
	case MV_PORT:
		if (v->kind != SK_PLIT_INT) {
			dead(cs, "'", pathtxt, "' needs an integer value");
			return false;
		}
		out->i = v->i;
		out->is_int = true;
		return true;
	case MV_HASH: {
		size_t hl = hash_len(l->kind);
		uint8_t *b = scratch ? (hl + 1 <= scap ? (uint8_t *)scratch : NULL) : aalloc(m, hl + 1);
		if (!b)
			return false;
		if (v->kind == SK_PLIT_STRING && v->len == hl * 2 &&
		    sk_match_unhex(v->str, v->len, b, hl)) {
			out->s = (const char *)b;
			out->len = (uint32_t)hl;
			return true;
		}
		if ((v->kind == SK_PLIT_HEX || v->kind == SK_PLIT_BINARY) && v->len == hl) {
			memcpy(b, v->str, hl);
			out->s = (const char *)b;
			out->len = (uint32_t)hl;
			return true;
		}
		dead(cs, "'", pathtxt, "' needs a hex digest of the right length");
		return false;
	}
	default: {
		if (v->kind != SK_PLIT_STRING) {
			dead(cs, "'", pathtxt, "' needs a string value");
			return false;
		}
		size_t cap = v->len * 3 + 8;
		char *b = scratch ? (cap + 1 <= scap ? scratch : NULL) : aalloc(m, cap + 1);
		size_t nl;
		if (!b)
			return false;
		nl = sk_match_norm(l->kind, v->str, v->len, b, cap);
		if (!nl && v->len) {
			dead(cs, "'", pathtxt, "': value could not be normalised");
			return false;
		}
		for (size_t i = 0; l->kind == SK_OBS_DOMAIN && i < nl; i++)
			if ((unsigned char)b[i] >= 0x80) {
				dead(cs, "'", pathtxt, "': non-ASCII domain (logs carry punycode)");
				return false;
			}
		b[nl] = '\0';
		out->s = b;
		out->len = (uint32_t)nl;
		return true;
	}
	}
}

static sk_err add_rx(cstate *cs, mleaf *l, uint32_t leaf, const sk_plit *v, sk_error *err)
{
	sk_matcher *m = cs->m;
	char *rx = l->op == SK_PCMP_LIKE ? sk_mhs_like_to_regex(v->str, v->len) : strdup(v->str);
	unsigned fl = l->op == SK_PCMP_LIKE ? SK_MHS_DOTALL : 0u;
	sk_error e2;
	if (l->kind == SK_OBS_REGKEY || l->kind == SK_OBS_REGVALUE)
		fl |= SK_MHS_CASELESS; /* as Windows compares key and value names */
	if (!rx)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (l->op == SK_PCMP_MATCHES && strlen(rx) != v->len) {
		free(rx);
		dead(cs, "MATCHES regex contains a NUL byte", NULL, NULL);
		return SK_OK;
	}
	if (sk_mhs_check(rx, fl, &e2)) {
		free(rx);
		dead(cs, "", e2.msg, "");
		return SK_OK;
	}
	if (m->nrx == m->rxcap) {
		uint32_t nc = m->rxcap ? m->rxcap * 2 : 64;
		char **nt = realloc(m->rx_text, nc * sizeof(*nt));
		unsigned *nf = nt ? realloc(m->rx_flags, nc * sizeof(*nf)) : NULL;
		uint32_t *nl = nf ? realloc(m->rx_leaf, nc * sizeof(*nl)) : NULL;
		if (nt)
			m->rx_text = nt;
		if (nf)
			m->rx_flags = nf;
		if (!nl) {
			free(rx);
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		m->rx_leaf = nl;
		m->rxcap = nc;
	}
	m->rx_text[m->nrx] = rx;
	m->rx_flags[m->nrx] = fl;
	m->rx_leaf[m->nrx] = leaf;
	l->rx = (int32_t)m->nrx++;
	return SK_OK;
}

static sk_err compile_cmp(cstate *cs, const sk_pnode *n, uint32_t obs, uint32_t *out,
			  sk_error *err);

/*
 * A comparison on a referenced object's type (network-traffic:dst_ref.type
 * = 'ipv4-addr', as feeds write ip:port indicators).  In a log record the
 * type of an address is its observation kind, so the comparison becomes an
 * EXISTS over the kinds it admits: '=' / IN keep the kinds named, '!=' and
 * NOT keep the others.  Types no log records as an address (mac-addr,
 * domain-name) admit nothing.
 */
static sk_err compile_type(cstate *cs, mleaf *l, const sk_pcmp *c, const pathdef *pd,
			   const char *pathtxt)
{
	static const struct {
		const char *name;
		sk_obs_kind kind;
	} types[] = {{"ipv4-addr", SK_OBS_IPV4}, {"ipv6-addr", SK_OBS_IPV6}};
	const sk_plit *vals = c->op == SK_PCMP_IN ? c->set : &c->value;
	uint32_t nv = c->op == SK_PCMP_IN ? c->nset : 1;
	uint64_t named = 0;
	bool keep_named;

	if (c->op != SK_PCMP_EQ && c->op != SK_PCMP_NEQ && c->op != SK_PCMP_IN) {
		dead(cs, "'", pathtxt, "': an object type is compared with =, != or IN");
		return SK_OK;
	}
	for (uint32_t i = 0; i < nv; i++) {
		if (vals[i].kind != SK_PLIT_STRING) {
			dead(cs, "'", pathtxt, "' needs a string value");
			return SK_OK;
		}
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			if (vals[i].len == strlen(types[t].name) &&
			    !memcmp(vals[i].str, types[t].name, vals[i].len))
				named |= SK_KR_ALL(types[t].kind);
	}
	keep_named = (c->op != SK_PCMP_NEQ) != c->negated;
	l->op = SK_PCMP_EXISTS;
	l->negated = false;
	l->accept = pd->accept & (keep_named ? named : ~named);
	if (!l->accept)
		dead(cs, "'", pathtxt, "': no log records an address of that type");
	return SK_OK;
}

static sk_err compile_leaf(cstate *cs, const sk_pcmp *c, uint32_t obs, uint32_t *out,
			   sk_error *err)
{
	sk_matcher *m = cs->m;
	const pathdef *pd = sk_match_find_path(&c->path);
	char pathtxt[160];
	mleaf *l;
	uint32_t li;

	sk_ppath_format(&c->path, pathtxt, sizeof(pathtxt));
	if (GROW(m->leaves, m->nleaves, m->leafcap) || GROW(m->nodes, m->nnodes, m->nodecap))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	li = m->nleaves++;
	l = &m->leaves[li];
	memset(l, 0, sizeof(*l));
	l->op = (uint8_t)c->op;
	l->negated = c->negated;
	l->obs = obs;
	l->rx = -1;
	m->nodes[m->nnodes] = (mnode){.kind = MN_LEAF, .leaf = li};
	*out = m->nnodes++;
	if (!pd) {
		dead(cs, "no log provides '", pathtxt, "'");
		return SK_OK; /* accept 0: never true */
	}
	l->vt = pd->vt;
	l->kind = pd->kind;
	if (pd->vt == MV_TYPE)
		return compile_type(cs, l, c, pd, pathtxt);
	l->subdomains = pd->kind == SK_OBS_DOMAIN && c->op == SK_PCMP_EQ && !c->negated &&
			(m->opts.subdomains || (cs->flags & SK_MATCH_SUBDOMAINS));
	switch (c->op) {
	case SK_PCMP_EXISTS:
		l->accept = pd->accept;
		return SK_OK;
	case SK_PCMP_LIKE:
	case SK_PCMP_MATCHES:
		if (c->value.kind != SK_PLIT_STRING) {
			dead(cs, "'", pathtxt, "': LIKE / MATCHES need a string");
			return SK_OK;
		}
		if (add_rx(cs, l, li, &c->value, err))
			return SK_EINVAL;
		if (l->rx >= 0)
			l->accept = pd->accept;
		return SK_OK;
	case SK_PCMP_ISSUBSET:
	case SK_PCMP_ISSUPERSET:
		if (pd->vt != MV_IP) {
			dead(cs, "'", pathtxt, "': ISSUBSET / ISSUPERSET only apply to addresses");
			return SK_OK;
		}
		break;
	case SK_PCMP_LT:
	case SK_PCMP_LE:
	case SK_PCMP_GT:
	case SK_PCMP_GE:
		if (pd->vt == MV_IP || pd->vt == MV_HASH) {
			dead(cs, "'", pathtxt, "': ordering comparisons on addresses / digests");
			return SK_OK;
		}
		break;
	default:
		break;
	}
	{
		const sk_plit *vals = c->op == SK_PCMP_IN ? c->set : &c->value;
		uint32_t nv = c->op == SK_PCMP_IN ? c->nset : 1, ok = 0;
		l = &m->leaves[li];
		l->lits = aalloc(m, (nv ? nv : 1) * sizeof(mlit));
		if (!l->lits)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		for (uint32_t i = 0; i < nv; i++)
			if (sk_match_compile_lit(cs, l, &vals[i], &l->lits[ok], pathtxt, NULL, 0))
				ok++;
		l->nlit = ok;
		if (ok || c->negated || c->op == SK_PCMP_NEQ)
			l->accept = pd->accept;
	}
	return SK_OK;
}

static sk_err compile_cmp(cstate *cs, const sk_pnode *n, uint32_t obs, uint32_t *out,
			  sk_error *err)
{
	sk_matcher *m = cs->m;
	uint32_t first, k = 0;
	sk_err rc;

	if (n->kind == SK_PN_COMPARISON)
		return compile_leaf(cs, &n->cmp, obs, out, err);
	/* reserve the children's slots in kidv contiguously, then fill them */
	first = m->nkidv;
	for (uint32_t i = 0; i < n->nkids; i++)
		if (GROW(m->kidv, m->nkidv, m->kidvcap))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		else
			m->nkidv++;
	for (const sk_pnode *c = n->kids; c; c = c->next) {
		uint32_t ni;
		if ((rc = compile_cmp(cs, c, obs, &ni, err)))
			return rc;
		m->kidv[first + k++] = ni;
	}
	if (GROW(m->nodes, m->nnodes, m->nodecap))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	m->nodes[m->nnodes] = (mnode){.kind = n->kind == SK_PN_CMP_AND ? MN_AND : MN_OR,
				      .nkids = k,
				      .kids = first};
	*out = m->nnodes++;
	return SK_OK;
}

/* Can this comparison node ever be true? */
bool sk_match_can_match(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return m->leaves[n->leaf].accept != 0;
	for (uint32_t i = 0; i < n->nkids; i++) {
		bool c = sk_match_can_match(m, m->kidv[n->kids + i]);
		if (n->kind == MN_AND && !c)
			return false;
		if (n->kind == MN_OR && c)
			return true;
	}
	return n->kind == MN_AND;
}

/* --- observations and indicators ---------------------------------------- */

sk_err sk_match_compile_obs(cstate *cs, const sk_pnode *obsnode, uint32_t num, sk_error *err)
{
	sk_matcher *m = cs->m;
	uint32_t oi, root;
	sk_err rc;

	if (GROW(m->obs, m->nobs, m->obscap))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	oi = m->nobs++;
	if ((rc = compile_cmp(cs, obsnode->kids, oi, &root, err)))
		return rc;
	m->obs[oi] = (mobs){.ind = cs->ind, .num = num, .root = root};
	return SK_OK;
}

/* Only OBSERVATION and OBS_OR below n: every observation is a match on its own. */
bool sk_match_only_or(const sk_pnode *n)
{
	if (n->kind == SK_PN_OBSERVATION)
		return true;
	if (n->kind != SK_PN_OBS_OR)
		return false;
	for (const sk_pnode *c = n->kids; c; c = c->next)
		if (!sk_match_only_or(c))
			return false;
	return true;
}

sk_err sk_match_compile_onode(cstate *cs, mind *ind, const sk_pnode *n, uint32_t parent,
			      uint32_t pos, uint32_t *num, sk_error *err)
{
	sk_matcher *m = cs->m;
	uint32_t oi, first, k = 0;
	monode on = {.parent = parent, .pos = pos};
	sk_err rc;

	if (GROW(m->onodes, m->nonodes, m->onodecap))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	oi = m->nonodes++;
	switch (n->kind) {
	case SK_PN_OBSERVATION:
		on.kind = ON_OBS;
		on.obsnum = ++*num;
		m->onodes[oi] = on;
		return sk_match_compile_obs(cs, n, on.obsnum, err);
	case SK_PN_QUALIFIED:
		on.kind = n->qual.kind == SK_PQ_WITHIN    ? ON_WITHIN
			  : n->qual.kind == SK_PQ_REPEATS ? ON_REPEATS
							  : ON_STARTSTOP;
		on.within_us = (int64_t)(n->qual.seconds * 1e6);
		on.times = n->qual.times;
		on.start_us = n->qual.start_us;
		on.stop_us = n->qual.stop_us;
		break;
	default:
		on.kind = n->kind == SK_PN_FOLLOWEDBY ? ON_FB
			  : n->kind == SK_PN_OBS_AND  ? ON_AND
						      : ON_OR;
		break;
	}
	first = m->nokidv;
	for (const sk_pnode *c = n->kids; c; c = c->next)
		if (GROW(m->okidv, m->nokidv, m->okidvcap))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		else
			m->nokidv++;
	on.kids = first;
	on.nkids = n->nkids;
	if (on.kind == ON_AND || on.kind == ON_FB)
		on.nslots = on.nkids;
	else if (on.kind == ON_REPEATS)
		on.nslots = on.times < SK_MATCH_REFS_MAX ? (uint32_t)on.times : 1;
	on.slot = ind->nslots;
	ind->nslots += on.nslots;
	m->onodes[oi] = on;
	for (const sk_pnode *c = n->kids; c; c = c->next) {
		uint32_t ci = m->nonodes;
		m->okidv[first + k] = ci;
		if ((rc = sk_match_compile_onode(cs, ind, c, oi, k, num, err)))
			return rc;
		k++;
	}
	return SK_OK;
}

/* Can the observation-level tree ever be satisfied? */
bool sk_match_onode_can(const sk_matcher *m, const mind *ind, uint32_t oi)
{
	const monode *on = &m->onodes[oi];
	if (on->kind == ON_OBS)
		return sk_match_can_match(m, m->obs[ind->first_obs + on->obsnum - 1].root);
	for (uint32_t i = 0; i < on->nkids; i++) {
		bool c = sk_match_onode_can(m, ind, m->okidv[on->kids + i]);
		if (on->kind == ON_OR && c)
			return true;
		if (on->kind != ON_OR && !c)
			return false;
	}
	return on->kind != ON_OR;
}
