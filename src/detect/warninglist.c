/*
 * warninglist.c - the in-memory set of warning lists that lookups use
 * (warninglist_match.c), loaded from the store (see warninglist.h for the
 * matching rules; warninglist_import.c fills the store).
 *
 * The lookup set is one open-addressing hash table over binary keys:
 *   's' value              entry of a string list
 *   'h' domain             entry of a hostname list (lookups walk up the parents)
 *   '4' plen addr[4]       IPv4 CIDR entry, address masked to plen
 *   '6' plen addr[16]      IPv6 CIDR entry
 * Several lists may hold the same key; each (key, list) is its own slot and a
 * lookup walks the probe sequence to the first empty slot.  A CIDR lookup
 * tries each prefix length that some list uses (at most 33 or 129 probes).
 * The table is tens of MB and nearly every probe misses, so a blocked Bloom
 * filter (three bits in one 64-bit word per key, 8 to 16 bits per key: 512
 * KiB for the 530,000 MISP entries, small enough to stay in cache) answers
 * most of them without touching it.
 *
 * Substring and regex entries go into two Hyperscan databases (match_hs.c),
 * one expression per entry, its id mapped back to its list: a value is
 * scanned once whatever the number of entries (MISP's disposable-email list
 * alone has 8,000 substrings).  Substrings are literals matched against the
 * normalised value, exactly like strstr.  Regex entries keep POSIX extended
 * semantics: those in a subset whose meaning Hyperscan shares (see
 * sk_warninglist_regex_to_hs) are translated, the rest stay with regexec.
 * Hyperscan needs one scratch per concurrent scan; the set keeps a small
 * pool of them, so lookups stay safe from several threads.
 *
 * Compiling the 8,000 MISP substrings takes Hyperscan about 0.25 s, more
 * than `warninglist check` spends on everything else, so that database is
 * built lazily: the first SUB_LAZY lookups go through the entries one by
 * one (about 0.2 ms each: enough for a command line of values, a fifth of
 * the compile at most), the next one builds it.  Both ways give the same
 * answers.
 */
#include "schakel/warninglist.h"

#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"
#include "match_hs.h"
#include "store/store_priv.h"
#include "warninglist_priv.h"

#define SUB_LAZY 256 /* substring lookups before the Hyperscan build */

/* Kinds a list applies to, from its matching_attributes (empty = all). */
static unsigned kinds_of_attrs(const sk_jval *attrs)
{
	unsigned m = 0;
	size_t n = sk_json_len(attrs);
	if (!n)
		return (1u << SK_WL__COUNT) - 1;
	for (size_t i = 0; i < n; i++) {
		const char *a = sk_json_str(sk_json_at(attrs, i));
		if (!a)
			continue;
		if (!strncmp(a, "ip-", 3) || strstr(a, "|ip") || !strcmp(a, "ip"))
			m |= 1u << SK_WL_IP;
		if (!strncmp(a, "domain", 6) || !strncmp(a, "hostname", 8))
			m |= 1u << SK_WL_DOMAIN;
		if (!strcmp(a, "url") || !strcmp(a, "uri") || !strcmp(a, "link"))
			m |= 1u << SK_WL_URL;
		if (strstr(a, "email"))
			m |= 1u << SK_WL_EMAIL;
		if (strstr(a, "md5") || strstr(a, "sha") || strstr(a, "ssdeep") ||
		    strstr(a, "tlsh") || strstr(a, "imphash"))
			m |= 1u << SK_WL_HASH;
		if (!(m & ~(1u << SK_WL_OTHER)))
			m |= 1u << SK_WL_OTHER;
	}
	return m;
}

/* MISP writes "/re/flags"; anything else is the regex itself.  Flag 'i' = REG_ICASE. */
static void split_misp_re(const char *v, size_t n, char *re, size_t resz, bool *icase)
{
	const char *end = strrchr(v, '/');
	*icase = false;
	if (n >= 2 && v[0] == '/' && end && end > v) {
		*icase = strchr(end, 'i') != NULL;
		snprintf(re, resz, "%.*s", (int)(end - v - 1), v + 1);
	} else {
		snprintf(re, resz, "%s", v);
	}
}

/* True when LC_CTYPE is the C locale: the translation assumes one byte = one character. */
static bool c_ctype(void)
{
	const char *l = setlocale(LC_CTYPE, NULL);
	return l && (!strcmp(l, "C") || !strcmp(l, "POSIX"));
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	/* FNV-1a, 64 bit */
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static sk_err grow(sk_wl_set *s)
{
	size_t nsize = s->tabsize ? s->tabsize * 2 : 1024;
	slot *nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return SK_ENOMEM;
	for (size_t i = 0; i < s->tabsize; i++) {
		if (!s->tab[i].used)
			continue;
		size_t j = s->tab[i].hash & (nsize - 1);
		while (nt[j].used)
			j = (j + 1) & (nsize - 1);
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->tabsize = nsize;
	return SK_OK;
}

static sk_err add_key(sk_wl_set *s, const void *key, size_t n, uint32_t list)
{
	uint64_t h = hash_bytes(key, n);
	size_t j;
	if ((s->nkeys + 1) * 2 > s->tabsize && grow(s))
		return SK_ENOMEM;
	j = h & (s->tabsize - 1);
	while (s->tab[j].used) {
		slot *t = &s->tab[j];
		if (t->hash == h && t->len == n && t->list == list &&
		    !memcmp(s->arena + t->off, key, n))
			return SK_OK; /* already there */
		j = (j + 1) & (s->tabsize - 1);
	}
	if (s->alen + n > s->acap) {
		size_t ncap = s->acap ? s->acap * 2 : 1 << 20;
		char *na;
		while (ncap < s->alen + n)
			ncap *= 2;
		if (ncap > UINT32_MAX || !(na = realloc(s->arena, ncap)))
			return SK_ENOMEM;
		s->arena = na;
		s->acap = ncap;
	}
	memcpy(s->arena + s->alen, key, n);
	s->tab[j] = (slot){.hash = h, .off = (uint32_t)s->alen, .len = (uint32_t)n, .list = list,
			   .used = 1};
	s->alen += n;
	s->nkeys++;
	return SK_OK;
}

/* The Bloom filter's three bits for hash h (its word is chosen by other bits). */
static uint64_t bloom_bits(uint64_t h)
{
	return (1ull << (h >> 40 & 63)) | (1ull << (h >> 46 & 63)) | (1ull << (h >> 52 & 63));
}

static sk_err bloom_build(sk_wl_set *s)
{
	size_t words = 1;
	while (words < s->nkeys / 16)
		words *= 2;
	if (!s->nkeys || !(s->bloom = calloc(words, sizeof(*s->bloom))))
		return s->nkeys ? SK_ENOMEM : SK_OK;
	s->bloom_mask = words - 1;
	for (size_t i = 0; i < s->tabsize; i++)
		if (s->tab[i].used)
			s->bloom[(s->tab[i].hash >> 8) & s->bloom_mask] |=
			    bloom_bits(s->tab[i].hash);
	return SK_OK;
}

/* Calls fn for each list holding key; stops when fn returns true. */
bool sk_wl_find_key(const sk_wl_set *s, const void *key, size_t n,
		    bool (*fn)(void *ud, uint32_t list), void *ud)
{
	uint64_t h, b;
	size_t j;
	if (!s->tabsize)
		return false;
	h = hash_bytes(key, n);
	b = bloom_bits(h);
	if (s->bloom && (s->bloom[(h >> 8) & s->bloom_mask] & b) != b)
		return false;
	j = h & (s->tabsize - 1);
	while (s->tab[j].used) {
		const slot *t = &s->tab[j];
		if (t->hash == h && t->len == n && !memcmp(s->arena + t->off, key, n) &&
		    fn(ud, t->list))
			return true;
		j = (j + 1) & (s->tabsize - 1);
	}
	return false;
}

/* Queue expression text[0..n) (and orig, may be NULL) of list li; both are copied. */
static sk_err pend(hs_pending *p, const char *text, size_t n, const char *orig, unsigned flags,
                   uint32_t li)
{
	size_t on = orig ? strlen(orig) : 0;
	char *t;
	if (p->n == p->cap) {
		uint32_t nc = p->cap ? p->cap * 2 : 64;
		char **nt;
		size_t *nl;
		unsigned *nf;
		uint32_t *nli;
		if (nc < p->cap)
			return SK_ENOMEM;
		if ((nt = realloc(p->text, nc * sizeof(*nt))))
			p->text = nt;
		if ((nl = realloc(p->len, nc * sizeof(*nl))))
			p->len = nl;
		if ((nf = realloc(p->flags, nc * sizeof(*nf))))
			p->flags = nf;
		if ((nli = realloc(p->list, nc * sizeof(*nli))))
			p->list = nli;
		if (!nt || !nl || !nf || !nli)
			return SK_ENOMEM;
		p->cap = nc;
	}
	if (!(t = malloc(n + on + 2)))
		return SK_ENOMEM;
	memcpy(t, text, n);
	t[n] = '\0';
	memcpy(t + n + 1, orig ? orig : "", on + 1);
	p->text[p->n] = t;
	p->len[p->n] = n;
	p->flags[p->n] = flags;
	p->list[p->n] = li;
	p->n++;
	return SK_OK;
}

static void pend_free(hs_pending *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		free(p->text[i]);
	free(p->text);
	free(p->len);
	free(p->flags);
	free(p->list);
	memset(p, 0, sizeof(*p));
}

/* Keep a POSIX regex for regexec (entries outside the Hyperscan subset). */
static sk_err add_fallback(sk_wl_set *s, uint32_t li, const char *re, bool icase)
{
	wl_list *l = &s->lists[li];
	regex_t *nr = realloc(l->res, (l->nres + 1) * sizeof(*nr));
	if (!nr)
		return SK_ENOMEM;
	l->res = nr;
	if (regcomp(&l->res[l->nres], re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
		return SK_OK;
	l->nres++;
	s->nre_fallback++;
	return SK_OK;
}

static sk_err add_regex(sk_wl_set *s, uint32_t li, const char *v, size_t n)
{
	char re[MAX_VALUE], hs[8 * MAX_VALUE];
	bool icase;
	regex_t rx;

	split_misp_re(v, n, re, sizeof(re), &icase);
	/* what POSIX cannot compile is skipped, with or without Hyperscan */
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
		return SK_OK;
	regfree(&rx);
	if (s->c_locale && sk_warninglist_regex_to_hs(re, icase, hs, sizeof(hs)))
		return pend(&s->pre, hs, strlen(hs), re,
		            SK_MHS_DOTALL | (icase ? SK_MHS_CASELESS : 0u), li);
	return add_fallback(s, li, re, icase);
}

static sk_err add_entry(sk_wl_set *s, uint32_t li, const char *v, size_t n)
{
	wl_list *l = &s->lists[li];
	unsigned char key[2 + 16 + MAX_VALUE];

	l->entries++;
	s->entries++;
	switch (l->type) {
	case T_STRING:
	case T_HOSTNAME:
		if (n + 1 > sizeof(key))
			return SK_OK;
		key[0] = l->type == T_STRING ? 's' : 'h';
		memcpy(key + 1, v, n);
		return add_key(s, key, n + 1, li);
	case T_CIDR: {
		unsigned char a[16];
		unsigned plen;
		int fam;
		if (!sk_wl_parse_cidr(v, &fam, a, &plen))
			return SK_OK; /* not an address: cannot match anything */
		sk_wl_mask(a, fam == 4 ? 4 : 16, plen);
		key[0] = fam == 4 ? '4' : '6';
		key[1] = (unsigned char)plen;
		memcpy(key + 2, a, fam == 4 ? 4 : 16);
		if (fam == 4)
			s->plen4[plen] = 1;
		else
			s->plen6[plen] = 1;
		return add_key(s, key, fam == 4 ? 6 : 18, li);
	}
	case T_SUBSTRING:
		/* an entry holding a NUL byte cannot occur in a value (strdup used to cut it) */
		return n && !memchr(v, '\0', n) ? pend(&s->psub, v, n, NULL, 0, li) : SK_OK;
	case T_REGEX:
		return add_regex(s, li, v, n);
	}
	return SK_OK;
}

/* Take the pending expressions' list numbers as the id -> list map. */
static uint32_t *take_lists(hs_pending *p)
{
	uint32_t *m = p->list;
	p->list = NULL;
	return m;
}

/*
 * Build the regex database.  An expression Hyperscan refuses goes to
 * regexec and the others are tried again (rarely needed: the subset is
 * what Hyperscan takes).
 */
static sk_err build_regex(sk_wl_set *s, sk_error *err)
{
	hs_pending *p = &s->pre;

	while (p->n) {
		uint32_t bad;
		sk_error e2;
		sk_err rc = sk_mhs_build((const char *const *)p->text, p->flags, p->n, &s->re_db,
		                         &bad, &e2);
		if (!rc)
			break;
		if (rc == SK_ENOMEM)
			return sk_error_set(err, rc, "warning lists: %s", e2.msg);
		for (uint32_t i = p->n; i-- > 0;) {
			if (bad != UINT32_MAX && i != bad)
				continue;
			if ((rc = add_fallback(s, p->list[i], p->text[i] + p->len[i] + 1,
			                       p->flags[i] & SK_MHS_CASELESS)))
				return sk_error_set(err, rc, "out of memory");
			free(p->text[i]);
			p->n--;
			p->text[i] = p->text[p->n];
			p->len[i] = p->len[p->n];
			p->flags[i] = p->flags[p->n];
			p->list[i] = p->list[p->n];
		}
	}
	s->nre = p->n;
	return SK_OK;
}

/* A scratch for both databases, or NULL when out of memory. */
static wl_scratch *scratch_new(const sk_wl_set *s)
{
	wl_scratch *sc = calloc(1, sizeof(*sc) + s->words * sizeof(uint64_t));
	sk_error e;
	if (!sc)
		return NULL;
	if (s->re_db && sk_mhs_scratch_fit(s->re_db, &sc->hs, &e)) {
		sk_mhs_scratch_free(sc->hs);
		free(sc);
		return NULL;
	}
	return sc;
}

/*
 * A scratch nobody else is using: a free one, else a new one, else (out of
 * memory) wait for one to come back.  The set starts with one, so the wait
 * ends.
 */
wl_scratch *sk_wl_scratch_get(const sk_wl_set *s)
{
	wl_pool *p = s->pool;
	wl_scratch *sc;

	pthread_mutex_lock(&p->mu);
	if ((sc = p->free))
		p->free = sc->next;
	pthread_mutex_unlock(&p->mu);
	if (sc || (sc = scratch_new(s)))
		return sc;
	pthread_mutex_lock(&p->mu);
	while (!p->free)
		pthread_cond_wait(&p->cv, &p->mu);
	sc = p->free;
	p->free = sc->next;
	pthread_mutex_unlock(&p->mu);
	return sc;
}

void sk_wl_scratch_put(const sk_wl_set *s, wl_scratch *sc)
{
	wl_pool *p = s->pool;
	pthread_mutex_lock(&p->mu);
	sc->next = p->free;
	p->free = sc;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void sk_warninglist_free(sk_wl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nlists; i++) {
		wl_list *l = &s->lists[i];
		free(l->name);
		for (size_t j = 0; j < l->nres; j++)
			regfree(&l->res[j]);
		free(l->res);
	}
	if (s->pool) {
		for (wl_scratch *sc = s->pool->free, *n; sc; sc = n) {
			n = sc->next;
			sk_mhs_scratch_free(sc->hs);
			free(sc);
		}
		pthread_mutex_destroy(&s->pool->mu);
		pthread_cond_destroy(&s->pool->cv);
		free(s->pool);
	}
	free(s->bloom);
	sk_mhs_free(s->sub_db);
	sk_mhs_free(s->re_db);
	free(s->re_list);
	pend_free(&s->psub);
	pend_free(&s->pre);
	free(s->lists);
	free(s->tab);
	free(s->arena);
	free(s);
}

static int type_code(const char *t)
{
	if (!t)
		return T_STRING;
	if (!strcmp(t, "substring"))
		return T_SUBSTRING;
	if (!strcmp(t, "hostname"))
		return T_HOSTNAME;
	if (!strcmp(t, "cidr"))
		return T_CIDR;
	if (!strcmp(t, "regex"))
		return T_REGEX;
	return T_STRING;
}

/* After the entries: Bloom filter, databases, first scratch, kinds that need a scan. */
static sk_err finish_load(sk_wl_set *s, sk_error *err)
{
	wl_scratch *sc;
	sk_err rc;

	if (bloom_build(s))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < s->psub.n; i++)
		s->sub_kinds |= s->lists[s->psub.list[i]].kinds;
	s->sub_lazy = SUB_LAZY;
	atomic_init(&s->sub_state, SUB_PENDING);
	atomic_init(&s->sub_lookups, 0);
	if ((rc = build_regex(s, err)))
		return rc;
	if (s->nre) {
		s->re_list = take_lists(&s->pre);
		for (size_t i = 0; i < s->nre; i++)
			s->re_kinds |= s->lists[s->re_list[i]].kinds;
	}
	pend_free(&s->pre);
	for (size_t i = 0; i < s->nlists; i++)
		if (s->lists[i].nres)
			s->fb_kinds |= s->lists[i].kinds;
	s->words = (s->nlists + 63) / 64;
	if (!(s->pool = calloc(1, sizeof(*s->pool))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (pthread_mutex_init(&s->pool->mu, NULL)) {
		free(s->pool);
		s->pool = NULL;
		return sk_error_set(err, SK_ENOMEM, "cannot create a mutex");
	}
	if (pthread_cond_init(&s->pool->cv, NULL)) {
		pthread_mutex_destroy(&s->pool->mu);
		free(s->pool);
		s->pool = NULL;
		return sk_error_set(err, SK_ENOMEM, "cannot create a condition variable");
	}
	if (!(sc = scratch_new(s)))
		return sk_error_set(err, SK_ENOMEM, "out of memory (Hyperscan scratch)");
	s->pool->free = sc;
	return SK_OK;
}

sk_err sk_warninglist_load(sk_store *st, sk_wl_set **out, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(st);
	sqlite3_stmt *q = NULL;
	sk_wl_set *s = calloc(1, sizeof(*s));
	sk_jdoc *doc = NULL;
	sk_err rc = SK_OK;
	int step;

	*out = NULL;
	if (!s || sk_json_doc_new(1 << 20, 0, &doc)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	s->c_locale = c_ctype();
	if (sqlite3_prepare_v2(db,
			       "SELECT name, type, matching_attributes FROM warninglists ORDER BY name",
			       -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *ma = (const char *)sqlite3_column_text(q, 2);
		const sk_jval *attrs = NULL;
		wl_list *nl = realloc(s->lists, (s->nlists + 1) * sizeof(*nl));
		if (!nl) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
		s->lists = nl;
		memset(&nl[s->nlists], 0, sizeof(*nl));
		nl[s->nlists].name = strdup((const char *)sqlite3_column_text(q, 0));
		nl[s->nlists].type = type_code((const char *)sqlite3_column_text(q, 1));
		if (ma && sk_json_parse(doc, ma, strlen(ma), &attrs, NULL))
			attrs = NULL;
		nl[s->nlists].kinds = kinds_of_attrs(attrs);
		s->nlists++;
		if (!nl[s->nlists - 1].name) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT list, value FROM warninglist_entries ORDER BY list", -1,
			       &q, NULL) != SQLITE_OK)
		goto dberr;
	{
		uint32_t li = 0;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			const char *ln = (const char *)sqlite3_column_text(q, 0);
			const char *v = (const char *)sqlite3_column_text(q, 1);
			while (li < s->nlists && strcmp(s->lists[li].name, ln) < 0)
				li++;
			if (li >= s->nlists || strcmp(s->lists[li].name, ln))
				continue;
			if (add_entry(s, li, v, (size_t)sqlite3_column_bytes(q, 1))) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (step != SQLITE_DONE)
			goto dberr;
	}
	rc = finish_load(s, err);
	goto out;
dberr:
	rc = sk_store_dberr(st, err, "warninglists");
out:
	sqlite3_finalize(q);
	sk_json_doc_free(doc);
	if (rc) {
		sk_warninglist_free(s);
		return rc;
	}
	*out = s;
	return SK_OK;
}

size_t sk_warninglist_count(const sk_wl_set *s, size_t *entries)
{
	if (entries)
		*entries = s ? s->entries : 0;
	return s ? s->nlists : 0;
}

void sk_warninglist_regex_counts(const sk_wl_set *s, size_t *hs, size_t *fallback)
{
	*hs = s ? s->nre : 0;
	*fallback = s ? s->nre_fallback : 0;
}

void sk_warninglist_sub_lazy(sk_wl_set *s, uint64_t lookups)
{
	s->sub_lazy = lookups;
}
