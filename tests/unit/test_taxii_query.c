/*
 * test_taxii_query.c - TAXII query parsing (filters) and the next token.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/taxii.h"

static sk_err parse(const char *qs, unsigned allowed, sk_taxii_filters *f, sk_error *err)
{
	sk_taxii_param *p;
	size_t n;
	char *store;
	sk_err rc = sk_taxii_query_split(qs, strlen(qs), &p, &n, &store, err);
	if (rc)
		return rc;
	rc = sk_taxii_filters_parse(p, n, allowed, f, err);
	free(p);
	free(store);
	return rc;
}

Test(taxii_query, filters)
{
	sk_taxii_filters f;
	sk_error err;
	cr_assert_eq(parse("match%5Btype%5D=indicator,malware&limit=10&added_after=2024-01-01T00:00:00.5Z"
			   "&match[version]=first,2024-02-01T00:00:00Z&match[spec_version]=2.0&x=1"
			   "&match[relationship_type]=uses&match[foo]=",
			   SK_TF_ALL, &f, &err),
		     SK_OK, "%s", err.msg);
	cr_assert_eq(f.ntypes, 2);
	cr_assert_str_eq(f.types[1], "malware");
	cr_assert_eq(f.limit, 10);
	cr_assert_eq(f.added_after % 1000000, 500000);
	cr_assert_eq(f.vermode, SK_VER_FIRST);
	cr_assert_eq(f.nversions, 1);
	cr_assert_str_eq(f.versions[0], "2024-02-01T00:00:00.000000000");
	cr_assert_eq(f.nspecs, 1);
	sk_taxii_filters_free(&f);
}

Test(taxii_query, rejects)
{
	static const char *bad[] = {
	    "limit=0", "limit=-1", "limit=1&limit=2", "added_after=x", "match[version]=newest",
	    "match[spec_version]=3.0", "match[id]=nope", "match[type]=a,,b", "match[type]=A",
	    "match[type]=%ff", "match[type]=%zz", "match[id]=", "next=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_taxii_filters f;
		sk_error err;
		cr_assert_neq(parse(bad[i], SK_TF_ALL, &f, &err), SK_OK, "accepted %s", bad[i]);
	}
	sk_taxii_filters f;
	sk_error err;
	cr_assert_neq(parse("match[type]=indicator", SK_TF_VERSION, &f, &err), SK_OK,
		      "endpoint without match[type]");
}

Test(taxii_query, next_token)
{
	unsigned char key[SK_TAXII_KEY_BYTES] = {1, 2, 3}, h[8] = {9}, h2[8] = {8};
	char tok[SK_TAXII_TOKEN_MAX];
	int64_t da = 0;
	sk_error err;

	sk_taxii_token_encode(key, 7, h, 1234567890123456, tok);
	cr_assert_eq(sk_taxii_token_decode(key, tok, 7, h, &da, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(da, 1234567890123456);
	cr_assert_neq(sk_taxii_token_decode(key, tok, 8, h, &da, &err), SK_OK, "other collection");
	cr_assert_neq(sk_taxii_token_decode(key, tok, 7, h2, &da, &err), SK_OK, "other filters");
	tok[5] = tok[5] == 'A' ? 'B' : 'A';
	cr_assert_neq(sk_taxii_token_decode(key, tok, 7, h, &da, &err), SK_OK, "forged");
	cr_assert_neq(sk_taxii_token_decode(key, "!!!", 7, h, &da, &err), SK_OK);
	cr_assert_neq(sk_taxii_token_decode(key, "", 7, h, &da, &err), SK_OK);
}

Test(taxii_query, envelope_and_versions)
{
	size_t n;
	sk_error err;
	char v[40];
	cr_assert_eq(sk_taxii_envelope_check("{\"objects\":[{\"a\":1},{\"b\":2}]}", 29, &n, &err), SK_OK,
		     "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(sk_taxii_envelope_check("{\"objects\":[]}", 14, &n, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(n, 0);
	/* JSON, but not an envelope */
	static const char *const notenv[] = {
	    "[{\"a\":1}]", "[]", "\"objects\"", " 42 ", "null", "{}", "{\"more\":false}",
	    "{\"objects\":\"x\"}", "{\"objects\":{\"a\":1}}", "{\"type\":\"bundle\"}",
	};
	for (size_t i = 0; i < sizeof(notenv) / sizeof(notenv[0]); i++)
		cr_assert_eq(sk_taxii_envelope_check(notenv[i], strlen(notenv[i]), &n, &err), SK_EINVAL,
			     "%s: %s", notenv[i], err.msg);
	/* not JSON */
	static const char *const bad[] = {
	    "", "   ", "{\"objects\":[{\"a\":tru}]}", "[{\"a\":tru}]", "[1,", "\"open", "hello",
	    "{\"a\":1", "{\"objects\":[]}{\"objects\":[]}", "[] []", "{\"a\":tru}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_err rc = sk_taxii_envelope_check(bad[i], strlen(bad[i]), &n, &err);
		cr_assert(rc == SK_EJSON || rc == SK_ELIMIT, "%s: %s", bad[i], sk_strerror(rc));
	}
	sk_taxii_version_str("2016-05-12T08:17:27.123400000", 0, v);
	cr_assert_str_eq(v, "2016-05-12T08:17:27.1234Z");
	sk_taxii_version_str("2016-05-12T08:17:27.000000000", 0, v);
	cr_assert_str_eq(v, "2016-05-12T08:17:27.000Z");
}
