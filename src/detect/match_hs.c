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
 *
 * The warning lists (warninglist.c) build their substring and regex
 * databases with the same functions.
 */
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match_hs.h"

static unsigned hsflags(unsigned f)
{
	return (f & SK_MHS_DOTALL ? HS_FLAG_DOTALL : 0u) |
	       (f & SK_MHS_CASELESS ? HS_FLAG_CASELESS : 0u) | HS_FLAG_SINGLEMATCH |
	       HS_FLAG_ALLOWEMPTY;
}

struct mhs {
	hs_database_t *db;
};

struct mhs_scratch {
	hs_scratch_t *s;
};

/*
 * Whether Hyperscan accepts the expression.  hs_expression_info parses and
 * analyses it without building a database: a full compile per regex cost
 * about a fifth of the matcher's build time.  The rare expression it
 * passes that the database build still refuses (a resource limit) is
 * reported by sk_mhs_build (*bad) and dropped by the caller.
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

/* Regexes (lens NULL, flags[i] as SK_MHS_*) or literals (lens[i] bytes each). */
static sk_err build(const char *const *exprs, const size_t *lens, const unsigned *flags, uint32_t n,
                    mhs **out, uint32_t *bad, sk_error *err)
{
	mhs *h = calloc(1, sizeof(*h));
	unsigned *ids = malloc((n ? n : 1) * sizeof(*ids));
	unsigned *fl = malloc((n ? n : 1) * sizeof(*fl));
	hs_compile_error_t *ce = NULL;
	hs_error_t hr;
	sk_err rc = SK_OK;

	*out = NULL;
	if (bad)
		*bad = UINT32_MAX;
	if (!h || !ids || !fl) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory building the regex database");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		ids[i] = i;
		fl[i] = lens ? HS_FLAG_SINGLEMATCH : hsflags(flags[i]);
	}
	hr = lens ? hs_compile_lit_multi(exprs, fl, ids, lens, n, HS_MODE_BLOCK, NULL, &h->db, &ce)
	          : hs_compile_multi(exprs, fl, ids, n, HS_MODE_BLOCK, NULL, &h->db, &ce);
	if (hr != HS_SUCCESS) {
		rc = sk_error_set(err, SK_EUNSUPPORTED, "Hyperscan: expression %d: %s",
				  ce ? ce->expression : -1,
				  ce && ce->message ? ce->message : "compile error");
		if (bad && ce && ce->expression >= 0 && (uint32_t)ce->expression < n)
			*bad = (uint32_t)ce->expression;
		hs_free_compile_error(ce);
		goto out;
	}
	*out = h;
	h = NULL;
out:
	sk_mhs_free(h);
	free(ids);
	free(fl);
	return rc;
}

sk_err sk_mhs_build(const char *const *regexes, const unsigned *flags, uint32_t n, mhs **out,
                    uint32_t *bad, sk_error *err)
{
	return build(regexes, NULL, flags, n, out, bad, err);
}

sk_err sk_mhs_build_lit(const char *const *lits, const size_t *lens, uint32_t n, mhs **out,
                        sk_error *err)
{
	return build(lits, lens, NULL, n, out, NULL, err);
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

sk_err sk_mhs_serialize(const mhs *h, char **bytes, size_t *len, sk_error *err)
{
	*bytes = NULL;
	*len = 0;
	if (hs_serialize_database(h->db, bytes, len) != HS_SUCCESS)
		return sk_error_set(err, SK_ENOMEM, "Hyperscan could not serialise a database");
	return SK_OK;
}

sk_err sk_mhs_deserialize(const char *bytes, size_t len, mhs **out, sk_error *err)
{
	mhs *h = calloc(1, sizeof(*h));
	hs_error_t hr;

	*out = NULL;
	if (!h)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	/* checks Hyperscan's own magic, version, platform and CRC of the bytes */
	if ((hr = hs_deserialize_database(bytes, len, &h->db)) != HS_SUCCESS) {
		free(h);
		return sk_error_set(err, SK_EINVAL, "Hyperscan refused the stored database (%s)",
				    hr == HS_DB_VERSION_ERROR    ? "other Hyperscan version"
				    : hr == HS_DB_PLATFORM_ERROR ? "other platform"
				    : hr == HS_NOMEM             ? "out of memory"
								 : "damaged");
	}
	*out = h;
	return SK_OK;
}

size_t sk_mhs_env(char *buf, size_t n)
{
	hs_platform_info_t p = {0};
	hs_populate_platform(&p);
	return (size_t)snprintf(buf, n, "hs=%s plat=%u/%llx", hs_version(), p.tune,
				(unsigned long long)p.cpu_features);
}

sk_err sk_mhs_scratch_new(const mhs *h, mhs_scratch **out, sk_error *err)
{
	*out = NULL;
	return sk_mhs_scratch_fit(h, out, err);
}

sk_err sk_mhs_scratch_fit(const mhs *h, mhs_scratch **s, sk_error *err)
{
	mhs_scratch *n = *s;
	if (!n && !(n = calloc(1, sizeof(*n))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	/* hs_alloc_scratch grows an existing scratch to fit this database too */
	if (hs_alloc_scratch(h->db, &n->s) != HS_SUCCESS) {
		if (!*s)
			sk_mhs_scratch_free(n);
		return sk_error_set(err, SK_ENOMEM, "Hyperscan scratch allocation failed");
	}
	*s = n;
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

bool sk_mhs_scan(const mhs *h, mhs_scratch *s, const char *str, size_t n,
		 void (*fn)(uint32_t id, void *ud), void *ud)
{
	cbctx c = {fn, ud};
	return hs_scan(h->db, str, (unsigned)n, 0, s->s, on_match, &c) == HS_SUCCESS;
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
