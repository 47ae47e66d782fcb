/*
 * matcher.c - compiling STIX patterns into the matcher.
 *
 * A pattern's comparison expressions ('[...]') become trees of mnode/mleaf
 * with literals parsed once into the form the log side compares against
 * (addresses as bytes plus prefix length, digests as binary, strings
 * normalised).  Each observation then gets index entries ("triggers"): a set
 * of keys such that the observation can only be true on a record holding one
 * of them.  An AND needs one child's triggers, an OR all children's; a leaf
 * triggers on EQ / IN / ISSUBSET (and LIKE / MATCHES through Hyperscan).  An
 * observation without triggers is "generic": tried on every record.
 * Per-record evaluation is in match_eval.c, stream state in match_obs.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"
#include "schakel/warninglist.h"

/* --- small helpers ------------------------------------------------------ */

struct marena {
	struct marena *next;
	size_t used, size;
	char data[];
};

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

/* Grow array *v (of *cap elements of size sz) to hold n + 1. */
static int grow(void **v, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	uint32_t nc = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, (size_t)nc * sz);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}
#define GROW(arr, n, cap) grow((void **)&(arr), &(cap), (n), sizeof(*(arr)))

/* --- paths -------------------------------------------------------------- */

typedef struct pathdef {
	const char *path;
	uint64_t accept;
	uint8_t vt, kind;
} pathdef;

#define B(k, r) SK_KR_BIT(SK_OBS_##k, SK_ROLE_##r)
#define A(k) SK_KR_ALL(SK_OBS_##k)
static const pathdef paths[] = {
    {"ipv4-addr:value", A(IPV4), MV_IP, SK_OBS_IPV4},
    {"ipv6-addr:value", A(IPV6), MV_IP, SK_OBS_IPV6},
    {"network-traffic:src_ref.value", B(IPV4, SRC) | B(IPV6, SRC), MV_IP, SK_OBS_IPV4},
    {"network-traffic:dst_ref.value", B(IPV4, DST) | B(IPV6, DST), MV_IP, SK_OBS_IPV4},
    {"network-traffic:src_ref.type", B(IPV4, SRC) | B(IPV6, SRC), MV_TYPE, SK_OBS_NONE},
    {"network-traffic:dst_ref.type", B(IPV4, DST) | B(IPV6, DST), MV_TYPE, SK_OBS_NONE},
    {"network-traffic:src_port", B(PORT, SRC), MV_PORT, SK_OBS_PORT},
    {"network-traffic:dst_port", B(PORT, DST), MV_PORT, SK_OBS_PORT},
    {"domain-name:value", A(DOMAIN), MV_STR, SK_OBS_DOMAIN},
    {"url:value", A(URL), MV_STR, SK_OBS_URL},
    {"email-addr:value", A(EMAIL), MV_STR, SK_OBS_EMAIL},
    {"email-message:from_ref.value", B(EMAIL, SRC), MV_STR, SK_OBS_EMAIL},
    {"email-message:sender_ref.value", B(EMAIL, SRC), MV_STR, SK_OBS_EMAIL},
    {"email-message:to_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"email-message:cc_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"email-message:bcc_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"file:hashes.MD5", A(MD5), MV_HASH, SK_OBS_MD5},
    {"file:hashes.SHA1", A(SHA1), MV_HASH, SK_OBS_SHA1},
    {"file:hashes.SHA256", A(SHA256), MV_HASH, SK_OBS_SHA256},
    {"file:hashes.SHA512", A(SHA512), MV_HASH, SK_OBS_SHA512},
    {"file:name", A(FILENAME), MV_STR, SK_OBS_FILENAME},
    {"x509-certificate:hashes.SHA1", A(X509_SHA1), MV_HASH, SK_OBS_X509_SHA1},
    {"x509-certificate:hashes.SHA256", A(X509_SHA256), MV_HASH, SK_OBS_X509_SHA256},
    {"x509-certificate:serial_number", A(X509_SERIAL), MV_STR, SK_OBS_X509_SERIAL},
    {"x-ja3:hash", A(JA3), MV_STR, SK_OBS_JA3},
    {"x-ja3s:hash", A(JA3S), MV_STR, SK_OBS_JA3S},
    {"x-ja4:fingerprint", A(JA4), MV_STR, SK_OBS_JA4},
    {"network-traffic:extensions.http-request-ext.request_header.User-Agent", A(USER_AGENT),
     MV_STR, SK_OBS_USER_AGENT},
};
#undef A
#undef B

/* Canonical text of a path: keys unquoted, every index [*], hash names as MD5/SHA1/SHA256. */
static size_t canon_path(const sk_ppath *p, char *out, size_t n)
{
	size_t o = 0;
	bool hashes = false;
#define PUTS(s, l)                                                                                 \
	do {                                                                                       \
		if (o + (l) + 1 > n)                                                               \
			return 0;                                                                  \
		memcpy(out + o, (s), (l));                                                         \
		o += (l);                                                                          \
	} while (0)
	PUTS(p->type, p->typelen);
	PUTS(":", 1);
	for (uint32_t i = 0; i < p->nsteps; i++) {
		const sk_pstep *s = &p->steps[i];
		if (s->kind != SK_PSTEP_KEY) {
			PUTS("[*]", 3);
			continue;
		}
		if (i)
			PUTS(".", 1);
		if (hashes) {
			for (size_t k = 0; k < s->keylen; k++) {
				char c = s->key[k];
				if (c == '-' || c == '_')
					continue;
				c = (char)toupper((unsigned char)c);
				PUTS(&c, 1);
			}
		} else {
			PUTS(s->key, s->keylen);
		}
		hashes = s->keylen == 6 && !memcmp(s->key, "hashes", 6);
	}
#undef PUTS
	out[o] = '\0';
	return o;
}

static const pathdef *find_path(const sk_ppath *p)
{
	char buf[256];
	if (!canon_path(p, buf, sizeof(buf)))
		return NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!strcmp(paths[i].path, buf))
			return &paths[i];
	return NULL;
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

typedef struct cstate {
	sk_matcher *m;
	uint32_t ind;
	unsigned flags;
	char reason[SK_ERROR_MSG_MAX - 64]; /* first reason a leaf can never be true */
} cstate;

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
static bool compile_lit(cstate *cs, mleaf *l, const sk_plit *v, mlit *out, const char *pathtxt,
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
	const pathdef *pd = find_path(&c->path);
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
			if (compile_lit(cs, l, &vals[i], &l->lits[ok], pathtxt, NULL, 0))
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
static bool can_match(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return m->leaves[n->leaf].accept != 0;
	for (uint32_t i = 0; i < n->nkids; i++) {
		bool c = can_match(m, m->kidv[n->kids + i]);
		if (n->kind == MN_AND && !c)
			return false;
		if (n->kind == MN_OR && c)
			return true;
	}
	return n->kind == MN_AND;
}

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

static bool has_trigger(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return leaf_triggers(&m->leaves[n->leaf]);
	for (uint32_t i = 0; i < n->nkids; i++) {
		bool t = has_trigger(m, m->kidv[n->kids + i]);
		if (n->kind == MN_AND && t)
			return true;
		if (n->kind == MN_OR && !t && can_match(m, m->kidv[n->kids + i]))
			return false;
	}
	return n->kind == MN_OR;
}

/*
 * Record an IPv4 key in the /16 prefilter (see ip4_by16): bit is 0 for an
 * address or prefix key (the bit follows from its length), or IP4_PORTKEY.
 */
static int mark_ip4(sk_matcher *m, const mlit *v, uint64_t bit)
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
static sk_err index_lit(sk_matcher *m, const mleaf *l, const mlit *v, uint32_t target)
{
	uint8_t key[MKEY_MAX];
	size_t kl = 0;

	switch (l->vt) {
	case MV_IP:
		if (v->fam == 4 && mark_ip4(m, v, 0))
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

static sk_err add_triggers(sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	sk_err rc;
	if (n->kind == MN_LEAF) {
		const mleaf *l = &m->leaves[n->leaf];
		if (l->rx >= 0)
			return SK_OK; /* every regex hit makes its observation a candidate */
		for (uint32_t i = 0; i < l->nlit; i++)
			if ((rc = index_lit(m, l, &l->lits[i], n->leaf)))
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
			if (!has_trigger(m, k))
				continue;
			if (pick == UINT32_MAX || !port_leaf(m, k)) {
				pick = k;
				if (!port_leaf(m, k))
					break;
			}
		}
		return pick == UINT32_MAX ? SK_OK : add_triggers(m, pick);
	}
	for (uint32_t i = 0; i < n->nkids; i++) {
		uint32_t k = m->kidv[n->kids + i];
		if (can_match(m, k) && (rc = add_triggers(m, k)))
			return rc;
	}
	return SK_OK;
}

/* A trigger set that is complete: every leaf it uses fits in a key. */
static bool triggers_ok(const sk_matcher *m, uint32_t ni)
{
	const mnode *n = &m->nodes[ni];
	if (n->kind == MN_LEAF)
		return lits_indexable(&m->leaves[n->leaf]);
	for (uint32_t i = 0; i < n->nkids; i++) {
		uint32_t k = m->kidv[n->kids + i];
		if (n->kind == MN_AND) {
			if (has_trigger(m, k))
				return triggers_ok(m, k);
		} else if (can_match(m, k) && !triggers_ok(m, k)) {
			return false;
		}
	}
	return true;
}

/* --- observations and indicators ---------------------------------------- */

static sk_err compile_obs(cstate *cs, const sk_pnode *obsnode, uint32_t num, sk_error *err)
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
static bool only_or(const sk_pnode *n)
{
	if (n->kind == SK_PN_OBSERVATION)
		return true;
	if (n->kind != SK_PN_OBS_OR)
		return false;
	for (const sk_pnode *c = n->kids; c; c = c->next)
		if (!only_or(c))
			return false;
	return true;
}

static sk_err compile_onode(cstate *cs, mind *ind, const sk_pnode *n, uint32_t parent,
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
		return compile_obs(cs, n, on.obsnum, err);
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
		if ((rc = compile_onode(cs, ind, c, oi, k, num, err)))
			return rc;
		k++;
	}
	return SK_OK;
}

/* Can the observation-level tree ever be satisfied? */
static bool onode_can(const sk_matcher *m, const mind *ind, uint32_t oi)
{
	const monode *on = &m->onodes[oi];
	if (on->kind == ON_OBS)
		return can_match(m, m->obs[ind->first_obs + on->obsnum - 1].root);
	for (uint32_t i = 0; i < on->nkids; i++) {
		bool c = onode_can(m, ind, m->okidv[on->kids + i]);
		if (on->kind == ON_OR && c)
			return true;
		if (on->kind != ON_OR && !c)
			return false;
	}
	return on->kind != ON_OR;
}

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
static bool wl_listed(const sk_matcher *m, const pathdef *pd, const char *v, size_t n, char *msg,
		      size_t msz)
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
	    !(pd = find_path(&c->path)) || pd->vt == MV_PORT || pd->vt == MV_TYPE)
		return false;
	vals = c->op == SK_PCMP_IN ? c->set : &c->value;
	nv = c->op == SK_PCMP_IN ? c->nset : 1;
	if (!nv)
		return false;
	for (uint32_t i = 0; i < nv; i++)
		if (vals[i].kind != SK_PLIT_STRING || !wl_listed(m, pd, vals[i].str, vals[i].len, msg, msz))
			return false;
	return true;
}

/* --- the direct path ------------------------------------------------------ */

/*
 * Most indicators are "[type:path = 'value']" (feeds).  Those are compiled
 * without the parser's tree or the matcher's node / leaf / literal records:
 * the value's key goes into the index with the indicator itself as the
 * target, and iref[] remembers the path.  The recogniser below accepts only
 * a strict subset of the grammar (ASCII blanks, plain or quoted keys without
 * escapes, one string literal with at most \\ and \' escapes); anything else,
 * and any literal the direct path cannot take, goes through sk_pattern_parse
 * and the general compiler, so the result is the same either way.
 *
 * The second form is the feeds' URL path: "[url:value MATCHES
 * '^[a-z][a-z0-9+.-]*://[^/]+/LITERAL']" (any scheme and host, then a path
 * starting with the literal).  As a regex it costs Hyperscan minutes for
 * 80,000 of them; as a key (K_UPATH + "/LITERAL") it is one more hash entry,
 * and the scan probes the logged URL's path at the prefix lengths in use.
 */
#define URLPATH_RE "^[a-z][a-z0-9+.-]*://[^/]+/"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

typedef struct fastpat {
	char path[160]; /* canonical */
	char lit[1024]; /* decoded */
	size_t litlen;
	bool matches;
} fastpat;

static bool fast_parse(const char *t, size_t n, fastpat *fp)
{
	size_t i = 0, o = 0;
	bool hashes = false, first = true;

#define BLANKS()                                                                                   \
	while (i < n && is_blank(t[i]))                                                            \
	i++
#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (o + 2 > sizeof(fp->path))                                                      \
			return false;                                                              \
		fp->path[o++] = (ch);                                                              \
	} while (0)
	BLANKS();
	if (i >= n || t[i++] != '[')
		return false;
	BLANKS();
	if (i >= n || !(t[i] >= 'a' && t[i] <= 'z'))
		return false;
	while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
		PUT(t[i++]);
	if (i >= n || t[i++] != ':')
		return false;
	PUT(':');
	for (;;) {
		size_t ks = o;
		if (!first)
			PUT('.');
		first = false;
		ks = o;
		if (i < n && t[i] == '\'') {
			for (i++; i < n && t[i] != '\''; i++) {
				char c = t[i];
				if (c == '\\' || (unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
					return false;
				if (hashes && (c == '-' || c == '_'))
					continue;
				PUT(hashes && c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
			}
			if (i >= n)
				return false;
			i++;
		} else {
			if (i >= n || !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
					t[i] == '_'))
				return false;
			while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
					 (t[i] >= '0' && t[i] <= '9') || t[i] == '_')) {
				char c = t[i++];
				if (hashes && c == '_')
					continue;
				PUT(hashes && c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
			}
		}
		if (o == ks)
			return false;
		hashes = o - ks == 6 && !memcmp(fp->path + ks, "hashes", 6);
		if (i < n && t[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	fp->path[o] = '\0';
	BLANKS();
	if (i < n && t[i] == '=' && (i + 1 >= n || t[i + 1] != '=')) {
		fp->matches = false;
		i++;
	} else if (i + 8 <= n && !memcmp(t + i, "MATCHES", 7) && is_blank(t[i + 7])) {
		fp->matches = true;
		i += 7;
	} else {
		return false;
	}
	BLANKS();
	if (i >= n || t[i++] != '\'')
		return false;
	o = 0;
	for (; i < n && t[i] != '\''; i++) {
		char c = t[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			return false;
		if (c == '\\') {
			if (i + 1 >= n || (t[i + 1] != '\\' && t[i + 1] != '\''))
				return false;
			c = t[++i];
		}
		if (o + 1 >= sizeof(fp->lit))
			return false;
		fp->lit[o++] = c;
	}
	if (i >= n)
		return false;
	i++;
	BLANKS();
	if (i >= n || t[i++] != ']')
		return false;
	BLANKS();
#undef BLANKS
#undef PUT
	fp->lit[o] = '\0';
	fp->litlen = o;
	return i == n;
}

/*
 * A URL-path regex as the feeds write it: URLPATH_RE then a literal whose
 * regex metacharacters are escaped.  Decodes "/LITERAL" into out; false for
 * any other regex.
 */
static bool urlpath_literal(const char *re, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t pl = sizeof(URLPATH_RE) - 2, o = 0; /* without the final '/' */
	if (n <= pl || memcmp(re, URLPATH_RE, pl + 1))
		return false;
	for (size_t i = pl; i < n; i++) {
		char c = re[i];
		if (c == '\\') {
			if (i + 1 >= n || !strchr(".^$*+?()[]{}|\\/-", re[i + 1]))
				return false;
			c = re[++i];
		} else if (strchr(".^$*+?()[]{}|", c)) {
			return false;
		}
		if (o + 1 > cap)
			return false;
		out[o++] = c;
	}
	*outlen = o;
	return o > 0;
}

static sk_err grow_iref(sk_matcher *m)
{
	if (m->ninds >= IREF_PATH + 0x3F000000u)
		return SK_ELIMIT;
	return GROW(m->iref, m->ninds, m->irefcap) ? SK_ENOMEM : SK_OK;
}

/*
 * 1 = handled (*rc is the result), 0 = not a direct pattern: use the
 * general compiler.
 */
static int add_direct(sk_matcher *m, const char *text, size_t len, unsigned flags, uint32_t *idx,
		      sk_err *rc, sk_error *err)
{
	fastpat fp;
	const pathdef *pd = NULL;
	uint32_t pdi, ind = m->ninds;
	char scratch[MKEY_MAX * 4];
	mleaf l = {.op = SK_PCMP_EQ, .rx = -1};
	mlit v;
	cstate cs = {.m = m};
	sk_plit pl = {.kind = SK_PLIT_STRING};

	if (m->no_fast || len > sizeof(fp.lit) + 200 || !fast_parse(text, len, &fp))
		return 0;
	for (pdi = 0; pdi < sizeof(paths) / sizeof(paths[0]); pdi++)
		if (!strcmp(paths[pdi].path, fp.path)) {
			pd = &paths[pdi];
			break;
		}
	if (!pd || pd->vt == MV_PORT || pd->vt == MV_TYPE)
		return 0;
	l.accept = pd->accept;
	l.vt = pd->vt;
	l.kind = pd->kind;
	if (fp.matches) {
		size_t kl;
		uint8_t key[MKEY_MAX];
		if (pd->kind != SK_OBS_URL ||
		    !urlpath_literal(fp.lit, fp.litlen, (char *)key + 1, MKEY_MAX - 1, &kl) ||
		    kl > 255)
			return 0;
		key[0] = K_UPATH;
		if ((*rc = grow_iref(m)) || (*rc = sk_mindex_add(&m->ix, key, kl + 1,
								 MPOST_DIRECT | ind))) {
			sk_error_set(err, *rc, "out of memory building the index");
			return 1;
		}
		m->upath_lens[kl / 64] |= 1ull << (kl % 64);
		goto added;
	}
	l.subdomains = pd->kind == SK_OBS_DOMAIN &&
		       (m->opts.subdomains || (flags & SK_MATCH_SUBDOMAINS));
	pl.str = fp.lit;
	pl.len = fp.litlen;
	if (!compile_lit(&cs, &l, &pl, &v, pd->path, scratch, sizeof(scratch)) ||
	    ((pd->vt == MV_STR || pd->vt == MV_HASH) && v.len + 2 > MKEY_MAX))
		return 0; /* the general compiler says why, or evaluates it generically */
	if (m->opts.warninglists && !(flags & SK_MATCH_NO_WARNINGLISTS)) {
		char msg[SK_ERROR_MSG_MAX - 64] = "";
		if (wl_listed(m, pd, fp.lit, fp.litlen, msg, sizeof(msg))) {
			m->suppressed++;
			*rc = sk_error_set(err, SK_ESUPPRESSED, "%s", msg);
			return 1;
		}
	}
	if ((*rc = grow_iref(m)) || (*rc = index_lit(m, &l, &v, MPOST_DIRECT | ind))) {
		sk_error_set(err, *rc, "out of memory building the index");
		return 1;
	}
added:
	m->iref[ind] = IREF_DIRECT | pdi | (l.subdomains ? IREF_SUB : 0);
	m->ndirect++;
	if (idx)
		*idx = ind;
	m->ninds++;
	*rc = SK_OK;
	return 1;
}

/*
 * The feeds' ip:port form (match_ipport.c) as one direct K_ADDRPORT key.
 * 1 = handled (*rc is the result), 0 = not that form.
 */
static int add_ipport(sk_matcher *m, const char *text, size_t len, unsigned flags, uint32_t *idx,
		      sk_err *rc, sk_error *err)
{
	sk_ipport ip;
	uint8_t key[SK_IPPORT_KEY_MAX];
	const char *vpath;
	uint32_t pdi, ind = m->ninds;
	size_t kl;

	if (m->no_fast || !sk_match_parse_ipport(text, len, &ip))
		return 0;
	vpath = ip.role == SK_ROLE_SRC ? "network-traffic:src_ref.value"
				       : "network-traffic:dst_ref.value";
	for (pdi = 0; strcmp(paths[pdi].path, vpath); pdi++)
		;
	if (m->opts.warninglists && !(flags & SK_MATCH_NO_WARNINGLISTS)) {
		char msg[SK_ERROR_MSG_MAX - 64] = "";
		if (wl_listed(m, &paths[pdi], ip.text, ip.text_len, msg, sizeof(msg))) {
			m->suppressed++;
			*rc = sk_error_set(err, SK_ESUPPRESSED, "%s", msg);
			return 1;
		}
	}
	kl = sk_match_ipport_key(ip.role, ip.addr.addr, ip.addr.fam, ip.port, key);
	if ((*rc = grow_iref(m)) || (ip.addr.fam == 4 && mark_ip4(m, &ip.addr, IP4_PORTKEY)) ||
	    (*rc = sk_mindex_add(&m->ix, key, kl, MPOST_DIRECT | ind))) {
		*rc = *rc ? *rc : SK_ENOMEM;
		sk_error_set(err, *rc, "out of memory building the index");
		return 1;
	}
	m->iref[ind] = IREF_DIRECT | pdi;
	m->ndirect++;
	if (idx)
		*idx = ind;
	m->ninds++;
	*rc = SK_OK;
	return 1;
}

sk_err sk_matcher_new(const sk_match_opts *opts, sk_matcher **out, sk_error *err)
{
	sk_matcher *m = calloc(1, sizeof(*m));
	if (!m)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (opts)
		m->opts = *opts;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		m->dacc[i] = paths[i].accept;
	*out = m;
	return SK_OK;
}

void sk_matcher_free(sk_matcher *m)
{
	if (!m)
		return;
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
	if (add_direct(m, text, len, flags, idx, &rc, err) || add_ipport(m, text, len, flags, idx, &rc, err))
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
	if (GROW(m->inds, m->nminds, m->indcap) || grow_iref(m)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	root = sk_pattern_root(pat);
	if (only_or(root)) {
		/* each observation on its own is a match: num 0 for all */
		const sk_pnode *stack[SK_PATTERN_MAX_DEPTH + 1];
		int sp = 0;
		stack[sp++] = root;
		while (sp && !rc) {
			const sk_pnode *n = stack[--sp];
			if (n->kind == SK_PN_OBSERVATION) {
				rc = compile_obs(&cs, n, 0, err);
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
			ok = ok || can_match(m, m->obs[i].root);
	} else {
		ind.oroot = m->nonodes;
		if ((rc = compile_onode(&cs, &ind, root, UINT32_MAX, 0, &num, err)))
			goto out;
		ind.nobs = m->nobs - ind.first_obs;
		ind.nonodes = m->nonodes - ind.oroot;
		ok = onode_can(m, &ind, ind.oroot);
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
		if (!can_match(m, o->root))
			continue; /* never a candidate */
		if (has_trigger(m, o->root) && triggers_ok(m, o->root)) {
			if ((rc = add_triggers(m, o->root))) {
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
}
