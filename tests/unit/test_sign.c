/*
 * test_sign.c - RFC 8785 canonical JSON (the RFC's own examples and
 * ECMAScript number printing) and Ed25519 signatures over it: what verifies,
 * what survives re-serialisation, what a changed byte or a wrong key does.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/canon.h"
#include "schakel/sign.h"

static sk_jdoc *doc;

static void setup(void)
{
	cr_assert_eq(sk_json_doc_new(0, 0, &doc), SK_OK);
}

static void teardown(void)
{
	sk_json_doc_free(doc);
}

TestSuite(sign, .init = setup, .fini = teardown);

/* The canonical form of text (static buffer, valid until the next call). */
static const char *canon_of(const char *text, const char *skip)
{
	static sk_buf b;
	const sk_jval *v;
	sk_error err;

	sk_buf_free(&b);
	sk_buf_init(&b, 0);
	cr_assert_eq(sk_json_parse(doc, text, strlen(text), &v, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_canon(v, skip, &b, &err), SK_OK);
	sk_buf_putc(&b, '\0');
	return b.data;
}

Test(sign, rfc8785_section_3_2_2_example)
{
	cr_expect_str_eq(
	    canon_of("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
		     " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
		     " \"literals\": [null, true, false]}",
		     NULL),
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
	    "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

Test(sign, rfc8785_sorts_by_utf16_code_units)
{
	cr_expect_str_eq(canon_of("{\"\\u20ac\":1,\"\\r\":2,\"\\ufb33\":3,\"1\":4,"
				  "\"\\ud83d\\ude00\":5,\"\\u0080\":6,\"\\u00f6\":7}",
				  NULL),
			 "{\"\\r\":2,\"1\":4,\"\xc2\x80\":6,\"\xc3\xb6\":7,\"\xe2\x82\xac\":1,"
			 "\"\xf0\x9f\x98\x80\":5,\"\xef\xac\xb3\":3}");
}

Test(sign, numbers_print_as_ecmascript_does)
{
	static const char *const cases[][2] = {
	    {"1e21", "1e+21"},
	    {"1e20", "100000000000000000000"},
	    {"0.000001", "0.000001"},
	    {"1e-7", "1e-7"},
	    {"-0", "0"},
	    {"-0.0", "0"},
	    {"5e-324", "5e-324"},
	    {"1.7976931348623157e308", "1.7976931348623157e+308"},
	    {"123456789012345680000", "123456789012345680000"},
	    {"9007199254740993", "9007199254740992"},
	    {"-1.5", "-1.5"},
	    {"100", "100"},
	    {"0.1", "0.1"},
	    {"1.0000000000000002", "1.0000000000000002"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(canon_of(cases[i][0], NULL), cases[i][1], "%s", cases[i][0]);
}

Test(sign, skip_leaves_out_only_the_signature_value)
{
	cr_expect_str_eq(canon_of("{\"b\":1,\"extensions\":{\"" SK_SIG_EXT_ID "\":{\"sig\":\"x\","
				  "\"key\":\"k\"}},\"a\":2}",
				  SK_SIG_EXT_ID),
			 "{\"a\":2,\"b\":1,\"extensions\":{\"" SK_SIG_EXT_ID "\":{\"key\":\"k\"}}}");
	cr_expect_str_eq(canon_of("{\"extensions\":{\"x-other\":{\"sig\":1,\"k\":[{\"b\":1,\"a\":2}]}}}",
				  SK_SIG_EXT_ID),
			 "{\"extensions\":{\"x-other\":{\"k\":[{\"a\":2,\"b\":1}],\"sig\":1}}}");
	/* only at the top: a nested "extensions" stays whole */
	cr_expect_str_eq(canon_of("{\"o\":{\"extensions\":{\"" SK_SIG_EXT_ID "\":{\"sig\":1}}}}",
				  SK_SIG_EXT_ID),
			 "{\"o\":{\"extensions\":{\"" SK_SIG_EXT_ID "\":{\"sig\":1}}}}");
}

static const char IND[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
    "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2026-01-01T00:00:00Z\",\"confidence\":80,"
    "\"extensions\":{\"x-other-ext\":{\"extension_type\":\"property-extension\",\"n\":1.5}}}";

/* Sign IND with kp: the signed text (malloc'd). */
static char *signed_text(const sk_keypair *kp)
{
	const sk_jval *v;
	sk_buf out;
	sk_error err;

	sk_buf_init(&out, 0);
	cr_assert_eq(sk_json_parse(doc, IND, strlen(IND), &v, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_sig_sign(v, kp, &out, &err), SK_OK, "%s", err.msg);
	sk_buf_putc(&out, '\0');
	return out.data;
}

static sk_sig_verdict verdict(const char *text, const unsigned char *pk)
{
	const sk_jval *v;
	sk_buf scratch;
	sk_error err;
	sk_sig_verdict r;

	sk_buf_init(&scratch, 0);
	cr_assert_eq(sk_json_parse(doc, text, strlen(text), &v, &err), SK_OK, "%s: %s", err.msg,
		     text);
	r = sk_sig_verify(v, pk, &scratch);
	sk_buf_free(&scratch);
	return r;
}

/* text with the first occurrence of from replaced by to (malloc'd). */
static char *replaced(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	char *out;

	cr_assert_not_null(p, "'%s' not in %s", from, text);
	out = malloc(strlen(text) + strlen(to) + 1);
	memcpy(out, text, (size_t)(p - text));
	strcpy(out + (p - text), to);
	strcat(out, p + strlen(from));
	return out;
}

Test(sign, a_signature_verifies_and_survives_reserialisation)
{
	sk_keypair kp, other;
	sk_error err;
	char *s, *t;

	cr_assert_eq(sk_key_generate(&kp, &err), SK_OK);
	cr_assert_eq(sk_key_generate(&other, &err), SK_OK);
	s = signed_text(&kp);
	cr_expect(strstr(s, "\"x-other-ext\"") != NULL, "other extensions stay: %s", s);
	cr_expect_eq(verdict(s, kp.pk), SK_SIG_VERIFIED, "%s", s);
	cr_expect_eq(verdict(IND, kp.pk), SK_SIG_UNSIGNED);
	cr_expect_eq(verdict(s, NULL), SK_SIG_UNKNOWN_KEY);
	cr_expect_eq(verdict(s, other.pk), SK_SIG_BAD, "another key");
	/* spacing and a number spelt otherwise: the same value, still verified */
	t = replaced(s, "\"confidence\":80", "\"confidence\" : 8.0e1");
	cr_expect_eq(verdict(t, kp.pk), SK_SIG_VERIFIED, "%s", t);
	free(t);
	/* one changed byte of content */
	t = replaced(s, "198.51.100.1", "198.51.100.2");
	cr_expect_eq(verdict(t, kp.pk), SK_SIG_BAD);
	free(t);
	/* a changed other extension is content too */
	t = replaced(s, "\"n\":1.5", "\"n\":2.5");
	cr_expect_eq(verdict(t, kp.pk), SK_SIG_BAD);
	free(t);
	/* a garbled signature */
	t = replaced(s, "\"sig\":\"", "\"sig\":\"A");
	cr_expect_eq(verdict(t, kp.pk), SK_SIG_BAD);
	free(t);
	free(s);
	sk_key_wipe(&kp);
	sk_key_wipe(&other);
}

Test(sign, keys_save_load_and_fingerprint)
{
	sk_keypair kp, back;
	char path[] = "/tmp/sk-key-XXXXXX", fp[SK_FINGERPRINT_MAX], b64[SK_KEY_B64_MAX];
	unsigned char pk[SK_KEY_PK_LEN];
	sk_error err;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(sk_key_generate(&kp, &err), SK_OK);
	cr_assert_eq(sk_key_save(path, &kp, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_key_load(path, &back, &err), SK_OK, "%s", err.msg);
	cr_expect(!memcmp(kp.pk, back.pk, sizeof(kp.pk)) && !memcmp(kp.sk, back.sk, sizeof(kp.sk)));
	sk_key_fingerprint(kp.pk, fp);
	cr_expect_eq(strlen(fp), 19u, "%s", fp);
	cr_expect(fp[4] == '-' && fp[9] == '-' && fp[14] == '-', "%s", fp);
	sk_key_b64(kp.pk, b64);
	cr_expect(sk_key_parse(b64, pk) && !memcmp(pk, kp.pk, sizeof(pk)));
	cr_expect(!sk_key_parse("not a key", pk));
	unlink(path);
	cr_expect_eq(sk_key_load(path, &back, &err), SK_ENOTFOUND);
}
