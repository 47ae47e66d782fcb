/*
 * taxii_query.c - the request-independent parts of TAXII 2.1: query-string
 * splitting, filter parsing and validation, signed keyset "next" tokens,
 * envelope checks and version strings.  Kept apart from the resource
 * handlers (taxii.c) so they can be unit-tested and fuzzed on their own.
 */
#include "schakel/taxii.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"
#include "schakel/jstream.h"
#include "schakel/reader.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "core/hex.h"
#include "core/utf8.h"

/* --- small helpers --------------------------------------------------------- */

sk_err sk_taxii_query_split(const char *qs, size_t len, sk_taxii_param **params, size_t *n,
                            char **storage, sk_error *err)
{
	sk_taxii_param *p = NULL;
	char *buf = NULL, *w;
	size_t cap = 1, np = 0, i;

	*params = NULL;
	*n = 0;
	*storage = NULL;
	if (len > SK_TAXII_MAX_QUERY)
		return sk_error_set(err, SK_ELIMIT, "query string longer than %d bytes",
		                    SK_TAXII_MAX_QUERY);
	for (i = 0; i < len; i++)
		cap += qs[i] == '&';
	if (cap > SK_TAXII_MAX_PARAMS * 4)
		return sk_error_set(err, SK_ELIMIT, "too many query parameters");
	p = calloc(cap, sizeof(*p));
	buf = malloc(len + cap + 1);
	if (!p || !buf) {
		free(p);
		free(buf);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	w = buf;
	i = 0;
	while (i < len) {
		size_t end = i;
		const char *key = w, *val = NULL;
		while (end < len && qs[end] != '&')
			end++;
		if (end == i) { /* empty piece ("a=1&&b=2") */
			i = end + 1;
			continue;
		}
		for (size_t j = i; j < end; j++) {
			char c = qs[j];
			if (c == '=' && !val) {
				*w++ = '\0';
				val = w;
				continue;
			}
			if (c == '+')
				c = ' ';
			else if (c == '%') {
				int hi = j + 2 < end ? sk_hexval((unsigned char)qs[j + 1]) : -1;
				int lo = j + 2 < end ? sk_hexval((unsigned char)qs[j + 2]) : -1;
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
					free(p);
					free(buf);
					return sk_error_set(err, SK_EINVAL,
					                    "bad percent-encoding in the query");
				}
				c = (char)(hi * 16 + lo);
				j += 2;
			}
			*w++ = c;
		}
		*w++ = '\0';
		if (np < cap) {
			p[np].key = key;
			p[np].value = val;
			np++;
		}
		i = end + 1;
	}
	*params = p;
	*n = np;
	*storage = buf;
	return SK_OK;
}

/* --- filters ----------------------------------------------------------------- */

enum fkey { F_ADDED_AFTER, F_LIMIT, F_NEXT, F_ID, F_TYPE, F_VERSION, F_SPEC, F__COUNT };

static const char *const fkey_name[F__COUNT] = {
    "added_after",         "limit", "next", "match[id]", "match[type]", "match[version]",
    "match[spec_version]",
};

void sk_taxii_filters_free(sk_taxii_filters *f)
{
	if (!f)
		return;
	free(f->storage);
	free(f->versions);
	f->storage = NULL;
	f->versions = NULL;
}

static bool type_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 250 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Split s at commas in place into out[]; false if a value is empty or too many. */
static bool split_commas(char *s, const char **out, size_t max, size_t *n)
{
	*n = 0;
	for (;;) {
		char *c = strchr(s, ',');
		if (c)
			*c = '\0';
		if (!*s || *n >= max)
			return false;
		out[(*n)++] = s;
		if (!c)
			return true;
		s = c + 1;
	}
}

static sk_err filters_parse(const sk_taxii_param *p, size_t n, unsigned allowed,
                            sk_taxii_filters *f, sk_error *err)
{
	const char *raw[F__COUNT] = {0};
	const char *vals[SK_TAXII_MAX_VALUES];
	size_t total = 0, nv, k;
	char *w;
	crypto_generichash_state hs;

	memset(f, 0, sizeof(*f));
	f->added_after = -1;
	if (n > SK_TAXII_MAX_PARAMS)
		return sk_error_set(err, SK_EINVAL, "too many query parameters (at most %d)",
		                    SK_TAXII_MAX_PARAMS);
	for (size_t i = 0; i < n; i++) {
		const char *key = p[i].key ? p[i].key : "";
		const char *val = p[i].value;
		total += strlen(key) + (val ? strlen(val) : 0) + 2;
		if (total > SK_TAXII_MAX_QUERY)
			return sk_error_set(err, SK_EINVAL, "query parameters too long");
		if (!sk_utf8_valid(key, strlen(key), NULL) ||
		    (val && !sk_utf8_valid(val, strlen(val), NULL)))
			return sk_error_set(err, SK_EINVAL, "query parameter is not valid UTF-8");
		for (k = 0; k < F__COUNT; k++)
			if (!strcmp(key, fkey_name[k]))
				break;
		if (k == F__COUNT)
			continue; /* unknown parameters and match[] fields are ignored (3.4) */
		if (!(allowed & (1u << k)))
			return sk_error_set(err, SK_EINVAL, "'%s' is not supported here",
			                    fkey_name[k]);
		if (raw[k])
			return sk_error_set(err, SK_EINVAL, "'%s' given more than once",
			                    fkey_name[k]);
		if (!val || !*val)
			return sk_error_set(err, SK_EINVAL, "'%s' needs a value", fkey_name[k]);
		raw[k] = val;
	}
	f->storage = malloc(total + 1);
	if (!f->storage)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	w = f->storage;

	if (raw[F_ADDED_AFTER] &&
	    !sk_ts_parse(raw[F_ADDED_AFTER], strlen(raw[F_ADDED_AFTER]), NULL, &f->added_after))
		goto bad_ts;
	if (raw[F_LIMIT]) {
		const char *s = raw[F_LIMIT];
		uint64_t v = 0;
		if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
			goto bad_limit;
		for (; *s; s++)
			v = v * 10 + (uint64_t)(*s - '0');
		if (v == 0)
			goto bad_limit;
		f->limit = (size_t)v;
	}
	if (raw[F_NEXT]) {
		if (strlen(raw[F_NEXT]) >= SK_TAXII_TOKEN_MAX)
			return sk_error_set(err, SK_EINVAL, "invalid 'next' token");
		f->next = raw[F_NEXT];
	}
	if (raw[F_ID]) {
		strcpy(w, raw[F_ID]);
		if (!split_commas(w, f->ids, SK_TAXII_MAX_VALUES, &f->nids))
			goto bad_list;
		w += strlen(raw[F_ID]) + 1;
		for (size_t i = 0; i < f->nids; i++)
			if (!sk_stix_id_valid(f->ids[i], NULL))
				return sk_error_set(err, SK_EINVAL,
				                    "match[id]: '%.80s' is not a "
				                    "STIX id",
				                    f->ids[i]);
	}
	if (raw[F_TYPE]) {
		strcpy(w, raw[F_TYPE]);
		if (!split_commas(w, f->types, SK_TAXII_MAX_VALUES, &f->ntypes))
			goto bad_list;
		w += strlen(raw[F_TYPE]) + 1;
		for (size_t i = 0; i < f->ntypes; i++)
			if (!type_name_ok(f->types[i]))
				return sk_error_set(err, SK_EINVAL,
				                    "match[type]: '%.80s' is not a STIX type",
				                    f->types[i]);
	}
	if (raw[F_SPEC]) {
		strcpy(w, raw[F_SPEC]);
		if (!split_commas(w, f->specs, 4, &f->nspecs))
			goto bad_list;
		w += strlen(raw[F_SPEC]) + 1;
		for (size_t i = 0; i < f->nspecs; i++)
			if (strcmp(f->specs[i], "2.0") && strcmp(f->specs[i], "2.1"))
				return sk_error_set(err, SK_EINVAL,
				                    "match[spec_version]: '%.20s' is not 2.0 or "
				                    "2.1",
				                    f->specs[i]);
	}
	if (raw[F_VERSION]) {
		strcpy(w, raw[F_VERSION]);
		if (!split_commas(w, vals, SK_TAXII_MAX_VALUES, &nv))
			goto bad_list;
		w += strlen(raw[F_VERSION]) + 1;
		f->versions = calloc(nv, sizeof(*f->versions));
		if (!f->versions)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		for (size_t i = 0; i < nv; i++) {
			if (!strcmp(vals[i], "last"))
				f->vermode |= SK_VER_LAST;
			else if (!strcmp(vals[i], "first"))
				f->vermode |= SK_VER_FIRST;
			else if (!strcmp(vals[i], "all"))
				f->vermode |= SK_VER_ALL;
			else if (sk_ts_parse(vals[i], strlen(vals[i]), f->versions[f->nversions],
			                     NULL))
				f->nversions++;
			else
				return sk_error_set(err, SK_EINVAL,
				                    "match[version]: '%.40s' is not last, first, "
				                    "all or a timestamp",
				                    vals[i]);
		}
	}
	/* the filters a next token is bound to (everything but limit and next) */
	crypto_generichash_init(&hs, NULL, 0, sizeof(f->hash));
	for (k = 0; k < F__COUNT; k++) {
		if (k == F_LIMIT || k == F_NEXT)
			continue;
		crypto_generichash_update(&hs, (const unsigned char *)fkey_name[k],
		                          strlen(fkey_name[k]) + 1);
		if (raw[k])
			crypto_generichash_update(&hs, (const unsigned char *)raw[k],
			                          strlen(raw[k]) + 1);
		else
			crypto_generichash_update(&hs, (const unsigned char *)"\xff", 1);
	}
	crypto_generichash_final(&hs, f->hash, sizeof(f->hash));
	return SK_OK;
bad_ts:
	sk_taxii_filters_free(f);
	return sk_error_set(err, SK_EINVAL, "added_after: not an RFC 3339 timestamp");
bad_limit:
	sk_taxii_filters_free(f);
	return sk_error_set(err, SK_EINVAL, "limit: not a positive integer");
bad_list:
	sk_taxii_filters_free(f);
	return sk_error_set(err, SK_EINVAL, "a filter has an empty value or more than %d values",
	                    SK_TAXII_MAX_VALUES);
}

sk_err sk_taxii_filters_parse(const sk_taxii_param *p, size_t n, unsigned allowed,
                              sk_taxii_filters *f, sk_error *err)
{
	sk_err rc = filters_parse(p, n, allowed, f, err);
	if (rc)
		sk_taxii_filters_free(f); /* whatever was allocated before the error */
	return rc;
}

/* --- next tokens --------------------------------------------------------------- */

#define TOKEN_PAYLOAD 25
#define TOKEN_MAC     16

static void put64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t get64(const unsigned char *p)
{
	uint64_t u = 0;
	for (int i = 7; i >= 0; i--)
		u = (u << 8) | p[i];
	return (int64_t)u;
}

void sk_taxii_token_encode(const unsigned char key[SK_TAXII_KEY_BYTES], int64_t cid,
                           const unsigned char fhash[8], int64_t date_added,
                           char out[SK_TAXII_TOKEN_MAX])
{
	unsigned char raw[TOKEN_PAYLOAD + TOKEN_MAC];

	raw[0] = 1;
	put64(raw + 1, cid);
	memcpy(raw + 9, fhash, 8);
	put64(raw + 17, date_added);
	crypto_generichash(raw + TOKEN_PAYLOAD, TOKEN_MAC, raw, TOKEN_PAYLOAD, key,
	                   SK_TAXII_KEY_BYTES);
	sodium_bin2base64(out, SK_TAXII_TOKEN_MAX, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

sk_err sk_taxii_token_decode(const unsigned char key[SK_TAXII_KEY_BYTES], const char *token,
                             int64_t cid, const unsigned char fhash[8], int64_t *date_added,
                             sk_error *err)
{
	unsigned char raw[64], mac[TOKEN_MAC];
	size_t len = 0;

	if (!token || strlen(token) >= SK_TAXII_TOKEN_MAX ||
	    sodium_base642bin(raw, sizeof(raw), token, strlen(token), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != TOKEN_PAYLOAD + TOKEN_MAC || raw[0] != 1)
		return sk_error_set(err, SK_EINVAL, "invalid 'next' token");
	crypto_generichash(mac, TOKEN_MAC, raw, TOKEN_PAYLOAD, key, SK_TAXII_KEY_BYTES);
	if (sodium_memcmp(mac, raw + TOKEN_PAYLOAD, TOKEN_MAC) != 0)
		return sk_error_set(err, SK_EINVAL, "invalid 'next' token");
	if (get64(raw + 1) != cid || memcmp(raw + 9, fhash, 8) != 0)
		return sk_error_set(err, SK_EINVAL,
		                    "'next' token belongs to another collection or other filters "
		                    "(resend the same filters)");
	*date_added = get64(raw + 17);
	return SK_OK;
}

/* --- envelopes ------------------------------------------------------------------ */

/* A body that is neither an object nor an array: JSON (a scalar) or not. */
static sk_err scalar_check(const char *body, size_t len, sk_error *err)
{
	sk_jdoc *doc = NULL;
	const sk_jval *v;
	sk_err rc;

	if (sk_json_doc_new(2 * len + 65536, 0, &doc)) /* a scalar: its text and a little */
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	rc = sk_json_parse(doc, body, len, &v, err);
	sk_json_doc_free(doc);
	if (rc)
		return rc == SK_ENOMEM ? rc : SK_EJSON;
	return sk_error_set(err, SK_EINVAL,
	                    "the body is JSON but not a TAXII envelope (a JSON object)");
}

sk_err sk_taxii_envelope_check(const char *body, size_t len, size_t *nobjects, sk_error *err)
{
	sk_jstream_opts jo = {.max_element = len + 16, .max_depth = 0};
	sk_reader *rd = NULL;
	sk_jstream *js = NULL;
	sk_jdoc *doc = NULL;
	size_t i = 0, k = 0;
	bool other = false; /* a value that is not an element of "objects" */
	sk_err rc;

	*nobjects = 0;
	while (k < len && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n'))
		k++;
	if (k == len)
		return sk_error_set(err, SK_EJSON, "empty body");
	if (body[k] != '{' && body[k] != '[')
		return scalar_check(body, len, err);
	if ((rc = sk_reader_open_mem(body, len, "body", &rd, err)))
		return rc;
	if ((rc = sk_jstream_new(rd, &jo, &js)) || (rc = sk_json_doc_new(0, 0, &doc))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	/*
	 * Every element is parsed, also in a body that is no envelope: only a
	 * body that is JSON throughout is "not an envelope" (SK_EINVAL, 422);
	 * anything else is malformed (400).
	 */
	for (;;) {
		sk_jitem it;
		bool have;
		const sk_jval *v;
		if ((rc = sk_jstream_next(js, &it, &have, err)))
			goto out;
		if (!have)
			break;
		if ((rc = sk_json_parse(doc, it.json, it.len, &v, err))) {
			sk_error_prefix(err, "object %zu", i);
			goto out;
		}
		if (it.kind == SK_JC_BUNDLE)
			i++;
		else
			other = true;
	}
	if (sk_jstream_values(js) != 1) {
		rc = sk_error_set(err, SK_EJSON, "the body must be exactly one JSON value");
		goto out;
	}
	if (body[k] == '[' || other) {
		rc = sk_error_set(err, SK_EINVAL,
		                  "the body is JSON but not a TAXII envelope "
		                  "({\"objects\": [...]})");
		goto out;
	}
	*nobjects = i;
out:
	sk_json_doc_free(doc);
	sk_jstream_free(js);
	sk_reader_close(rd);
	return rc;
}

void sk_taxii_version_str(const char *key, int64_t date_added, char out[40])
{
	size_t nd;

	if (!key || strlen(key) != SK_TS_KEY_LEN) {
		sk_ts_format_us(date_added, out);
		return;
	}
	nd = 9;
	while (nd > 3 && key[20 + nd - 1] == '0')
		nd--;
	snprintf(out, 40, "%.20s%.*sZ", key, (int)nd, key + 20);
}
