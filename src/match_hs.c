/*
 * match_hs.c - LIKE and MATCHES comparisons through one Hyperscan block-mode
 * database.
 *
 * Every regex leaf of every pattern becomes one expression with its own id
 * (HS_FLAG_SINGLEMATCH: reported at most once per scanned value).  LIKE is
 * translated to an anchored regex (% = .*, _ = ., everything else literal).
 * MATCHES is PCRE as written, searched anywhere in the value (the STIX
 * semantics); an expression Hyperscan cannot compile (back-references,
 * look-around...) is refused at compile time with Hyperscan's reason.
 */
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"

static unsigned hsflags(unsigned f)
{
	return (f & SK_MHS_DOTALL ? HS_FLAG_DOTALL : 0u) | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
}

struct mhs {
	hs_database_t *db;
	uint32_t dropped; /* expressions the database build refused (never match) */
};

struct mhs_scratch {
	hs_scratch_t *s;
};

/*
 * Whether Hyperscan accepts the expression.  hs_expression_info parses and
 * analyses it without building a database: a full compile per regex cost
 * about a fifth of the matcher's build time.  The rare expression it
 * passes that the database build still refuses (a resource limit) is
 * dropped by sk_mhs_build.
 */
sk_err sk_mhs_check(const char *regex, unsigned flags, sk_error *err)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;

	if (hs_expression_info(regex, hsflags(flags), &info, &ce) != HS_SUCCESS) {
		sk_err rc = sk_error_set(err, SK_EUNSUPPORTED, "regular expression not supported: %s",
					 ce && ce->message ? ce->message : "compile error");
		hs_free_compile_error(ce);
		return rc;
	}
	free(info);
	return SK_OK;
}

sk_err sk_mhs_build(const char *const *regexes, const unsigned *flags, uint32_t n, mhs **out,
		    sk_error *err)
{
	mhs *h = calloc(1, sizeof(*h));
	unsigned *ids = malloc((n ? n : 1) * sizeof(*ids));
	unsigned *fl = malloc((n ? n : 1) * sizeof(*fl));
	const char **rx = NULL;
	hs_compile_error_t *ce = NULL;
	sk_err rc = SK_OK;
	uint32_t m = n;

	*out = NULL;
	if (!h || !ids || !fl) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory building the regex database");
		goto out;
	}
	if (!(rx = malloc((n ? n : 1) * sizeof(*rx)))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory building the regex database");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		ids[i] = i;
		fl[i] = hsflags(flags[i]);
		rx[i] = regexes[i];
	}
	/*
	 * An expression that passed sk_mhs_check but that the build refuses
	 * (a resource limit) is dropped, and the rest built: it never matches.
	 */
	while (hs_compile_multi(rx, fl, ids, m, HS_MODE_BLOCK, NULL, &h->db, &ce) != HS_SUCCESS) {
		int bad = ce ? ce->expression : -1;
		if (bad < 0 || (uint32_t)bad >= m || m == 1) {
			rc = sk_error_set(err, SK_EUNSUPPORTED, "Hyperscan: expression %d: %s", bad,
					  ce && ce->message ? ce->message : "compile error");
			hs_free_compile_error(ce);
			goto out;
		}
		hs_free_compile_error(ce);
		ce = NULL;
		m--;
		rx[bad] = rx[m];
		fl[bad] = fl[m];
		ids[bad] = ids[m];
		h->dropped++;
	}
	*out = h;
	h = NULL;
out:
	sk_mhs_free(h);
	free(rx);
	free(ids);
	free(fl);
	return rc;
}

void sk_mhs_free(mhs *h)
{
	if (!h)
		return;
	hs_free_database(h->db);
	free(h);
}

size_t sk_mhs_bytes(const mhs *h)
{
	size_t sz = 0;
	if (h && h->db)
		hs_database_size(h->db, &sz);
	return sz;
}

sk_err sk_mhs_scratch_new(const mhs *h, mhs_scratch **out, sk_error *err)
{
	mhs_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (hs_alloc_scratch(h->db, &s->s) != HS_SUCCESS) {
		free(s);
		return sk_error_set(err, SK_ENOMEM, "Hyperscan scratch allocation failed");
	}
	*out = s;
	return SK_OK;
}

void sk_mhs_scratch_free(mhs_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->s);
	free(s);
}

typedef struct cbctx {
	void (*fn)(uint32_t id, void *ud);
	void *ud;
} cbctx;

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	cbctx *c = ctx;
	(void)from;
	(void)to;
	(void)flags;
	c->fn(id, c->ud);
	return 0;
}

void sk_mhs_scan(const mhs *h, mhs_scratch *s, const char *str, size_t n,
		 void (*fn)(uint32_t id, void *ud), void *ud)
{
	cbctx c = {fn, ud};
	hs_scan(h->db, str, (unsigned)n, 0, s->s, on_match, &c);
}

char *sk_mhs_like_to_regex(const char *like, size_t n)
{
	char *r = malloc(n * 4 + 8), *o = r;
	if (!r)
		return NULL;
	*o++ = '^';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)like[i];
		if (c == '%') {
			*o++ = '.';
			*o++ = '*';
		} else if (c == '_') {
			*o++ = '.';
		} else if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
			   c >= 0x80) {
			*o++ = (char)c;
		} else {
			static const char hx[] = "0123456789abcdef";
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hx[c >> 4];
			*o++ = hx[c & 15];
		}
	}
	*o++ = '\\';
	*o++ = 'z';
	*o = '\0';
	return r;
}
