/*
 * warninglist_match.c - looking a value up in a loaded set of warning lists
 * (warninglist.c holds the set and how it is laid out): the string key, the
 * host of a domain, URL or e-mail address with its parent domains, each CIDR
 * prefix length in use, then the substring and regex entries in one scan.
 * Lists found are reported in list order.
 */
#include "schakel/warninglist.h"

#include <regex.h>
#include <stdatomic.h>
#include <string.h>

#include "match_hs.h"
#include "warninglist_priv.h"

typedef struct match_ctx {
	const sk_wl_set *s;
	sk_wl_kind kind;
	bool any_kind;
	bool all;
	size_t hits;
	unsigned char seen[512]; /* bitmap of lists reported (first 4096 lists) */
	const char *first;
	void (*fn)(void *ud, const char *list, const char *type);
	void *ud;
} match_ctx;

static const char *type_name(int t)
{
	static const char *const n[] = {"string", "substring", "hostname", "cidr", "regex"};
	return n[t];
}

/* true = stop looking */
static bool hit(void *ud, uint32_t li)
{
	match_ctx *m = ud;
	const wl_list *l = &m->s->lists[li];
	if (!m->any_kind && !(l->kinds & (1u << m->kind)))
		return false;
	if (li < sizeof(m->seen) * 8) {
		if (m->seen[li / 8] & (1u << (li % 8)))
			return false;
		m->seen[li / 8] |= (unsigned char)(1u << (li % 8));
	}
	m->hits++;
	if (!m->first)
		m->first = l->name;
	if (m->fn)
		m->fn(m->ud, l->name, type_name(l->type));
	return !m->all;
}

/* The host of a URL ("scheme://[user@]host[:port]/..."), lowercased, into out. */
static size_t url_host(const char *v, char *out, size_t outsz)
{
	const char *p = strstr(v, "://"), *e, *at;
	size_t n;
	if (!p)
		return 0;
	p += 3;
	e = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(e - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(e - p));
		if (!close)
			return 0;
		n = (size_t)(close - p - 1);
		p++;
	} else {
		const char *colon = memchr(p, ':', (size_t)(e - p));
		n = (size_t)((colon ? colon : e) - p);
	}
	return sk_wl_norm_value(p, n, false, out, outsz);
}

static bool match_ip(match_ctx *m, const char *v)
{
	unsigned char a[16], key[18];
	unsigned plen;
	int fam;
	if (!sk_wl_parse_cidr(v, &fam, a, &plen))
		return false;
	key[0] = fam == 4 ? '4' : '6';
	for (int L = (int)plen; L >= 0; L--) {
		if (!(fam == 4 ? m->s->plen4[L] : m->s->plen6[L]))
			continue;
		unsigned char b[16];
		memcpy(b, a, 16);
		sk_wl_mask(b, fam == 4 ? 4 : 16, (unsigned)L);
		key[1] = (unsigned char)L;
		memcpy(key + 2, b, fam == 4 ? 4 : 16);
		if (sk_wl_find_key(m->s, key, fam == 4 ? 6 : 18, hit, m))
			return true;
	}
	return false;
}

static bool match_host(match_ctx *m, const char *h, size_t n)
{
	unsigned char key[1 + MAX_VALUE];
	const char *p = h;
	key[0] = 'h';
	for (;;) {
		size_t len = n - (size_t)(p - h);
		memcpy(key + 1, p, len);
		if (sk_wl_find_key(m->s, key, len + 1, hit, m))
			return true;
		p = memchr(p, '.', len);
		if (!p)
			return false;
		p++;
	}
}

typedef struct scan_ctx {
	const uint32_t *list; /* expression id -> list */
	uint64_t *hits;
} scan_ctx;

static void on_entry(uint32_t id, void *ud)
{
	scan_ctx *c = ud;
	uint32_t li = c->list[id];
	c->hits[li / 64] |= 1ull << (li % 64);
}

/*
 * The substring database, once built; the lookup that finds the set past its
 * lazy phase builds it.  NULL: not (yet) there, go entry by entry.
 */
static const mhs *sub_db(sk_wl_set *s)
{
	int st = atomic_load_explicit(&s->sub_state, memory_order_acquire), pending = SUB_PENDING;
	sk_error e;

	if (st == SUB_READY)
		return s->sub_db;
	if (st != SUB_PENDING || atomic_fetch_add(&s->sub_lookups, 1) < s->sub_lazy ||
	    !atomic_compare_exchange_strong(&s->sub_state, &pending, SUB_BUILDING))
		return NULL;
	/* one thread builds; the others go on entry by entry meanwhile */
	if (sk_mhs_build_lit((const char *const *)s->psub.text, s->psub.len, s->psub.n, &s->sub_db,
	                     &e)) {
		atomic_store_explicit(&s->sub_state, SUB_FAILED, memory_order_release);
		return NULL;
	}
	atomic_store_explicit(&s->sub_state, SUB_READY, memory_order_release);
	return s->sub_db;
}

/* Substring entries of the lists in want against v[0..n] (NUL-terminated): the lists
 * found go to sc->hits. */
static void scan_subs(const sk_wl_set *cs, wl_scratch *sc, unsigned want, const char *v, size_t n)
{
	sk_wl_set *s = (sk_wl_set *)cs; /* the lazy build is the set's own business */
	const hs_pending *p = &s->psub;
	const mhs *db = sub_db(s);
	sk_error e;

	if (db && (sc->sub_fit || !sk_mhs_scratch_fit(db, &sc->hs, &e))) {
		scan_ctx c = {p->list, sc->hits};
		sc->sub_fit = true;
		sk_mhs_scan(db, sc->hs, v, n, on_entry, &c);
		return;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		uint32_t li = p->list[i];
		if ((sc->hits[li / 64] & (1ull << (li % 64))) || !(s->lists[li].kinds & want) ||
		    !strstr(v, p->text[i]))
			continue;
		sc->hits[li / 64] |= 1ull << (li % 64);
	}
}

/*
 * Substring entries against the normalised value v[0..n), regex entries
 * against the value as given; the lists found are reported in list order,
 * as the entry-by-entry loop did.
 */
static void scan_lists(match_ctx *m, const char *v, size_t n, const char *value)
{
	const sk_wl_set *s = m->s;
	unsigned want = m->any_kind ? ~0u : 1u << m->kind;
	wl_scratch *sc;
	scan_ctx c;

	if (!((s->sub_kinds | s->re_kinds | s->fb_kinds) & want))
		return;
	sc = sk_wl_scratch_get(s);
	memset(sc->hits, 0, s->words * sizeof(uint64_t));
	c.hits = sc->hits;
	if (s->sub_kinds & want)
		scan_subs(s, sc, want, v, n);
	if (s->re_kinds & want) {
		c.list = s->re_list;
		sk_mhs_scan(s->re_db, sc->hs, value, strlen(value), on_entry, &c);
	}
	for (size_t li = 0; (s->fb_kinds & want) && li < s->nlists; li++) {
		const wl_list *l = &s->lists[li];
		if (!l->nres || (sc->hits[li / 64] & (1ull << (li % 64))) ||
		    (!m->any_kind && !(l->kinds & (1u << m->kind))))
			continue;
		for (size_t j = 0; j < l->nres; j++)
			if (regexec(&l->res[j], value, 0, NULL, 0) == 0) {
				sc->hits[li / 64] |= 1ull << (li % 64);
				break;
			}
	}
	for (size_t w = 0; w < s->words; w++)
		for (uint64_t b = sc->hits[w]; b; b &= b - 1)
			if (hit(m, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b))))
				goto out;
out:
	sk_wl_scratch_put(s, sc);
}

static size_t run_match(match_ctx *m, const char *value)
{
	char v[MAX_VALUE], host[MAX_VALUE];
	unsigned char key[1 + MAX_VALUE];
	size_t n, hn = 0;

	if (!m->s || !value)
		return 0;
	n = sk_wl_norm_value(value, strlen(value), false, v, sizeof(v));
	if (!n)
		return 0;
	n = sk_wl_canon_ip(v, n, sizeof(v));
	/* string lists */
	key[0] = 's';
	memcpy(key + 1, v, n);
	if (sk_wl_find_key(m->s, key, n + 1, hit, m))
		return m->hits;
	/* hostname lists: the domain itself, a URL's host, an e-mail's domain */
	if (m->kind == SK_WL_URL || strstr(v, "://"))
		hn = url_host(v, host, sizeof(host));
	else if (strchr(v, '@'))
		hn = sk_wl_norm_value(strrchr(v, '@') + 1, strlen(strrchr(v, '@') + 1), false, host,
				      sizeof(host));
	else if (!strchr(v, '/') || m->kind == SK_WL_DOMAIN)
		memcpy(host, v, (hn = n) + 1);
	if (hn && hn < sizeof(host) && match_host(m, host, hn))
		return m->hits;
	/* cidr lists: an address, or the address in a URL (when that is another text) */
	if (match_ip(m, v) ||
	    (hn && hn < sizeof(host) && (hn != n || memcmp(host, v, n)) && match_ip(m, host)))
		return m->hits;
	/* substring and regex lists */
	scan_lists(m, v, n, value);
	return m->hits;
}

bool sk_warninglist_match(const sk_wl_set *set, sk_wl_kind kind, const char *value,
			  const char **list)
{
	match_ctx m = {.s = set, .kind = kind};
	bool r = run_match(&m, value) > 0;
	if (list)
		*list = r ? m.first : NULL;
	return r;
}

size_t sk_warninglist_match_all(const sk_wl_set *set, sk_wl_kind kind, const char *value,
				bool any_kind, void (*fn)(void *ud, const char *list,
							  const char *type),
				void *ud)
{
	match_ctx m = {.s = set, .kind = kind, .any_kind = any_kind, .all = true, .fn = fn,
		       .ud = ud};
	return run_match(&m, value);
}
