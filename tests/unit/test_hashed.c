/*
 * test_hashed.c - personal data as keyed hashes (docs/private-matching.md):
 * the normal forms of each path, the digest against an independent
 * HMAC-SHA-256, the extension parser's refusals, the matcher on records
 * (digests, Bloom filter, keys not held), and the key file and grants
 * (0600, round trip, a damaged line, a grant whose id is not its key's).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schakel/hashed.h"
#include "schakel/hashkey.h"

static size_t norm(sk_hashed_path p, const char *v, char *out)
{
	size_t n = sk_hashed_norm(p, v, strlen(v), out, SK_HASHED_VALUE_MAX + 1);
	out[n] = '\0';
	return n;
}

Test(hashed, normal_forms)
{
	char o[SK_HASHED_VALUE_MAX + 1];
	static const struct {
		sk_hashed_path p;
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	    {SK_HP_EMAIL, " Alice.Doe@Example.ORG ", "alice.doe@example.org"},
	    {SK_HP_EMAIL, "bob@example.org.", "bob@example.org"},
	    {SK_HP_EMAIL, "bob@example.org..", NULL},
	    {SK_HP_EMAIL, "a@b@example.org", NULL},
	    {SK_HP_EMAIL, "@example.org", NULL},
	    {SK_HP_EMAIL, "bob@", NULL},
	    {SK_HP_EMAIL, "Bob <bob@example.org>", NULL},
	    {SK_HP_DOMAIN, "WWW.Example.ORG.", "www.example.org"},
	    {SK_HP_DOMAIN, "not a domain", NULL},
	    {SK_HP_USER, "  CORP\\Alice\t", "CORP\\Alice"},
	    {SK_HP_PHONE, "+31 (20) 123-4567", "+31201234567"},
	    {SK_HP_PHONE, "0031 20 123 4567", "+31201234567"},
	    {SK_HP_PHONE, "020 123 4567", NULL},
	    {SK_HP_PHONE, "+31 20 123 4567 ext 5", NULL},
	    {SK_HP_PHONE, "+1234567", NULL},
	    {SK_HP_PHONE, "+1234567890123456", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = norm(cases[i].p, cases[i].in, o);
		if (cases[i].out)
			cr_expect_str_eq(o, cases[i].out, "%s", cases[i].in);
		else
			cr_expect_eq(n, 0, "'%s' refused, got '%s'", cases[i].in, o);
	}
	cr_expect_eq(sk_hashed_path_parse("email"), SK_HP_EMAIL);
	cr_expect_eq(sk_hashed_path_parse("user-account:user_id"), SK_HP_USER);
	cr_expect_eq(sk_hashed_path_parse("ipv4-addr:value"), SK_HP_NONE);
}

Test(hashed, digest_is_hmac_sha256)
{
	unsigned char key[32], d[32];
	char hex[65];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	sk_hashed_digest(key, "alice@example.org", 17, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	/* Python: hmac.new(bytes(range(32)), b"alice@example.org", hashlib.sha256) */
	cr_assert_str_eq(hex, "03a2cceef95fc1b3c5757f658be5a2fe7068969e33134ae04b926ee129abcc61");
}

#define EXT_HEAD "{\"extensions\":{\"" SK_HASHED_EXT_ID "\":{"
#define OK_HEAD                                                                                    \
	EXT_HEAD "\"extension_type\":\"property-extension\",\"alg\":\"hmac-sha256\","              \
	         "\"key_id\":\"0123456789abcdef\",\"path\":\"email-addr:value\","

static sk_err parse(const char *text, sk_hashed_ext *e, sk_error *err)
{
	static sk_jdoc *doc;
	const sk_jval *v;
	if (!doc)
		cr_assert_eq(sk_json_doc_new(0, 0, &doc), SK_OK);
	cr_assert_eq(sk_json_parse(doc, text, strlen(text), &v, err), SK_OK, "%s", err->msg);
	return sk_hashed_parse(v, e, err);
}

Test(hashed, parser_refusals)
{
	static const char *bad[] = {
	    OK_HEAD "\"digests\":[]}}}",
	    OK_HEAD "\"digests\":[\"00\"]}}}",
	    OK_HEAD "\"digests\":[\"" /* upper case */
	            "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"]}}}",
	    OK_HEAD "\"bloom\":{\"m\":64,\"k\":0,\"bits\":\"AAAAAAAAAAA=\"}}}}",
	    OK_HEAD "\"bloom\":{\"m\":64,\"k\":3,\"bits\":\"AAAA\"}}}}",
	    OK_HEAD "\"bloom\":{\"m\":4,\"k\":3,\"bits\":\"AA==\"}}}}",
	    OK_HEAD
	    "\"digests\":[\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"],"
	    "\"bloom\":{\"m\":64,\"k\":3,\"bits\":\"AAAAAAAAAAA=\"}}}}",
	    EXT_HEAD "\"extension_type\":\"property-extension\",\"alg\":\"sha256\",\"key_id\":"
	             "\"0123456789abcdef\",\"path\":\"email-addr:value\",\"digests\":[]}}}",
	    EXT_HEAD "\"extension_type\":\"property-extension\",\"alg\":\"hmac-sha256\",\"key_id\":"
	             "\"0123\",\"path\":\"email-addr:value\",\"digests\":[]}}}",
	    EXT_HEAD "\"extension_type\":\"property-extension\",\"alg\":\"hmac-sha256\",\"key_id\":"
	             "\"0123456789abcdef\",\"path\":\"email\",\"digests\":[]}}}",
	};
	sk_hashed_ext e;
	sk_error err;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i], &e, &err), SK_EINVAL, "case %zu accepted", i);
	cr_expect_eq(parse("{\"type\":\"indicator\"}", &e, &err), SK_ENOTFOUND);
}

static size_t match_one(sk_hmatch *h, sk_hmatch_ctx *c, sk_obs_kind kind, const char *v,
                        const sk_match_hit **hits)
{
	sk_logrec rec = {.n = 1};
	rec.obs[0] = (sk_obs){.v = v, .len = (uint32_t)strlen(v), .kind = (uint8_t)kind};
	*hits = NULL;
	return sk_hmatch_merge(h, c, &rec, hits, 0);
}

Test(hashed, matcher_digests_bloom_and_missing_keys)
{
	unsigned char key[32] = {7}, d[32], bits[8] = {0};
	char kid[SK_HASHKEY_ID_LEN + 1], text[1024], hex[65];
	sk_hashed_ext e1, e2, e3;
	const sk_match_hit *hits;
	sk_hmatch *h;
	sk_hmatch_ctx *c;
	sk_error err;

	sk_hashkey_id(key, kid);
	/* each extension is added before the next parse: its digests live in the document */
	cr_assert_eq(sk_hmatch_new(&h, &err), SK_OK);
	cr_assert_eq(sk_hmatch_ctx_new(&c, &err), SK_OK);
	cr_assert_eq(sk_hmatch_add_key(h, kid, key, &err), SK_OK);
	sk_hashed_digest(key, "alice@example.org", 17, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	snprintf(text, sizeof(text),
	         EXT_HEAD "\"extension_type\":\"property-extension\",\"alg\":\"hmac-sha256\","
	                  "\"key_id\":\"%s\",\"path\":\"email-addr:value\",\"digests\":[\"%s\"]}}}",
	         kid, hex);
	cr_assert_eq(parse(text, &e1, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_hmatch_add(h, &e1, 10, &err), SK_OK);
	/* a Bloom filter of 64 bits holding erin@example.org */
	sk_hashed_digest(key, "erin@example.org", 16, d);
	for (unsigned j = 0; j < 3; j++) {
		uint64_t p = sk_hashed_bloom_pos(d, j, 64);
		bits[p >> 3] |= (unsigned char)(1u << (p & 7));
	}
	{
		char b64[16];
		static const char a[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		/* 8 bytes -> 12 base64 characters, one '=' */
		for (int i = 0, o = 0; i < 9; i += 3) {
			unsigned v = (unsigned)bits[i] << 16 | (i + 1 < 8 ? bits[i + 1] : 0) << 8 |
			             (i + 2 < 8 ? bits[i + 2] : 0);
			b64[o++] = a[v >> 18 & 63];
			b64[o++] = a[v >> 12 & 63];
			b64[o++] = i + 1 < 8 ? a[v >> 6 & 63] : '=';
			b64[o++] = i + 2 < 8 ? a[v & 63] : '=';
		}
		b64[12] = '\0';
		snprintf(text, sizeof(text),
		         EXT_HEAD
		         "\"extension_type\":\"property-extension\",\"alg\":\"hmac-sha256\","
		         "\"key_id\":\"%s\",\"path\":\"email-addr:value\",\"bloom\":{\"m\":64,"
		         "\"k\":3,\"bits\":\"%s\"}}}}",
		         kid, b64);
	}
	cr_assert_eq(parse(text, &e2, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_hmatch_add(h, &e2, 11, &err), SK_OK);
	cr_assert_eq(parse(OK_HEAD "\"digests\":[\"00112233445566778899aabbccddeeff0011223344556677"
	                           "8899aabbccddeeff\"]}}}",
	                   &e3, &err),
	             SK_OK);
	cr_expect_eq(sk_hmatch_add(h, &e3, 12, &err), SK_EUNSUPPORTED);
	cr_expect(strstr(err.msg, "0123456789abcdef") && strstr(err.msg, "does not hold"), "%s",
	          err.msg);
	cr_assert_eq(sk_hmatch_build(h, &err), SK_OK);

	cr_assert_eq(match_one(h, c, SK_OBS_EMAIL, "Alice@EXAMPLE.org", &hits), 1);
	cr_expect_eq(hits[0].ind, 10);
	cr_expect_eq(hits[0].value, 0);
	cr_assert_eq(match_one(h, c, SK_OBS_USER, "alice@example.org", &hits), 1,
	             "a user name that is an address counts as one");
	cr_assert_eq(match_one(h, c, SK_OBS_EMAIL, "erin@example.org", &hits), 1);
	cr_expect_eq(hits[0].ind, 11);
	cr_expect_eq(match_one(h, c, SK_OBS_DOMAIN, "example.org", &hits), 0);
	{
		/* the matcher's hits stay in front, ours follow */
		sk_match_hit mine[2] = {{.ind = 1, .value = 0}, {.ind = 4, .obs = 2, .value = 1}};
		sk_logrec rec = {.n = 2};
		rec.obs[0] = (sk_obs){.v = "192.0.2.1", .len = 9, .kind = SK_OBS_IPV4};
		rec.obs[1] = (sk_obs){.v = "erin@example.org", .len = 16, .kind = SK_OBS_EMAIL};
		hits = mine;
		cr_assert_eq(sk_hmatch_merge(h, c, &rec, &hits, 2), 3);
		cr_expect(hits != mine);
		cr_expect(hits[0].ind == 1 && hits[1].ind == 4 && hits[1].obs == 2);
		cr_expect(hits[2].ind == 11 && hits[2].value == 1);
		rec.obs[1].v = "nobody@example.org";
		rec.obs[1].len = 18;
		hits = mine;
		cr_expect_eq(sk_hmatch_merge(h, c, &rec, &hits, 2), 2);
		cr_expect(hits == mine, "no hashed hit: the matcher's hits as they were");
	}
	cr_expect_eq(match_one(h, c, SK_OBS_EMAIL, "mallory@example.org", &hits) <= 1, true);

	sk_hashed_ext_clear(&e1);
	sk_hashed_ext_clear(&e2);
	sk_hashed_ext_clear(&e3);
	sk_hmatch_ctx_free(c);
	sk_hmatch_free(h);
}

Test(hashed, key_file_and_grants)
{
	char dir[] = "/tmp/sk-hashkey-XXXXXX", path[128];
	sk_hashkeys ks = {0}, back = {0};
	sk_hashkey k1, k2, g;
	sk_buf b;
	sk_error err;
	struct stat sb;
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/n.db.hashkeys", dir);
	cr_assert_eq(sk_hashkeys_load(path, &ks, &err), SK_OK, "no file: no keys");
	cr_assert_eq(ks.n, 0);
	cr_assert_eq(sk_hashkey_generate("identity--a", "leak", 1, &k1, &err), SK_OK);
	cr_assert_eq(sk_hashkeys_add(&ks, &k1, &err), SK_OK);
	cr_assert_eq(sk_hashkey_generate("identity--a", "leak", 2, &k2, &err), SK_OK);
	cr_assert_eq(sk_hashkeys_add(&ks, &k2, &err), SK_OK);
	cr_expect_eq(sk_hashkeys_current(&ks, "identity--a", "leak")->created, 2, "rotated");
	cr_expect(!sk_hashkeys_find(&ks, k1.id)->current);
	cr_assert_eq(sk_hashkeys_save(path, &ks, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(sk_hashkeys_load(path, &back, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(back.n, 2);
	cr_expect_eq(memcmp(back.k[1].key, k2.key, 32), 0);
	sk_hashkeys_free(&back);

	/* a grant round trip; a grant whose id is not its key's is refused */
	sk_buf_init(&b, 0);
	cr_assert_eq(sk_hashkey_grant(&k2, &b, &err), SK_OK);
	cr_assert_eq(sk_hashkey_grant_parse(b.data, b.len, &g, &err), SK_OK, "%s", err.msg);
	cr_expect_str_eq(g.id, k2.id);
	cr_expect_eq(memcmp(g.key, k2.key, 32), 0);
	memcpy(strstr(b.data, k2.id), k1.id, SK_HASHKEY_ID_LEN);
	cr_expect_eq(sk_hashkey_grant_parse(b.data, b.len, &g, &err), SK_EINVAL);
	cr_expect(strstr(err.msg, "does not match"), "%s", err.msg);
	sk_buf_free(&b);

	/* a damaged line */
	f = fopen(path, "a");
	fputs("0123456789abcdef\tidentity--a\tleak\t3\t1\tAAAA\n", f);
	fclose(f);
	cr_expect_eq(sk_hashkeys_load(path, &back, &err), SK_EINVAL);
	cr_expect(strstr(err.msg, ":4:"), "the line is named: %s", err.msg);
	cr_expect_eq(back.n, 0);

	sk_hashkeys_free(&ks);
	unlink(path);
	rmdir(dir);
}
