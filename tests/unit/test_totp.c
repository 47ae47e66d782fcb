/*
 * test_totp.c - the console's second factor: HMAC-SHA-1 against RFC 2202,
 * TOTP against the RFC 6238 test vectors (appendix B, SHA-1), base32
 * against RFC 4648, the drift window and the refusal of a reused step, and
 * enrolment in the store (pending until confirmed, a code used once).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "schakel/account.h"
#include "schakel/store.h"
#include "schakel/timestamp.h"
#include "sk_test.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(totp, .init = setup, .fini = teardown);

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

Test(totp, hmac_sha1_rfc2202)
{
	unsigned char key[80], out[20];
	char h[41];

	memset(key, 0x0b, 20);
	sk_hmac_sha1(key, 20, (const unsigned char *)"Hi There", 8, out);
	hex(out, 20, h);
	cr_expect_str_eq(h, "b617318655057264e28bc0b6fb378c8ef146be00");
	sk_hmac_sha1((const unsigned char *)"Jefe", 4,
	             (const unsigned char *)"what do ya want for nothing?", 28, out);
	hex(out, 20, h);
	cr_expect_str_eq(h, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	memset(key, 0xaa, 80); /* a key longer than the block is hashed first */
	sk_hmac_sha1(
	    key, 80,
	    (const unsigned char *)"Test Using Larger Than Block-Size Key - Hash Key First", 54,
	    out);
	hex(out, 20, h);
	cr_expect_str_eq(h, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

Test(totp, rfc6238_vectors)
{
	static const unsigned char secret[] = "12345678901234567890";
	static const struct {
		long long t;
		unsigned code;
	} v[] = {
	    {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
	    {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_expect_eq(sk_totp_code(secret, 20, (uint64_t)(v[i].t / 30), 8), v[i].code,
		             "T=%lld", v[i].t);
	/* six digits are the last six of the same value */
	cr_expect_eq(sk_totp_code(secret, 20, 59 / 30, 6), 287082);
}

Test(totp, base32_rfc4648)
{
	char out[64];
	sk_base32((const unsigned char *)"foobar", 6, out, sizeof(out));
	cr_expect_str_eq(out, "MZXW6YTBOI");
	sk_base32((const unsigned char *)"f", 1, out, sizeof(out));
	cr_expect_str_eq(out, "MY");
	sk_base32((const unsigned char *)"12345678901234567890", 20, out, sizeof(out));
	cr_expect_str_eq(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

Test(totp, drift_window_and_reuse)
{
	static const unsigned char secret[] = "12345678901234567890";
	int64_t now = 1234567890, step = 0;
	char code[8];

	snprintf(code, sizeof(code), "%06u", sk_totp_code(secret, 20, (uint64_t)now / 30, 6));
	cr_expect(sk_totp_match(secret, 20, code, now, 0, &step));
	cr_expect_eq(step, now / 30);
	cr_expect_not(sk_totp_match(secret, 20, code, now, step, &step), "a step is used once");
	cr_expect(sk_totp_match(secret, 20, code, now + 30, 0, &step), "one step late is fine");
	cr_expect(sk_totp_match(secret, 20, code, now - 30, 0, &step), "one step early is fine");
	cr_expect_not(sk_totp_match(secret, 20, code, now + 90, 0, &step), "three steps: no");
	cr_expect_not(sk_totp_match(secret, 20, "12345", now, 0, &step));
	cr_expect_not(sk_totp_match(secret, 20, "12a456", now, 0, &step));
	cr_expect_not(sk_totp_match(secret, 20, NULL, now, 0, &step));
}

/* The base32 secret of an otpauth URI, decoded. */
static size_t unbase32(const char *uri, unsigned char *out)
{
	const char *p = strstr(uri, "secret=") + 7;
	unsigned buf = 0, bits = 0;
	size_t n = 0;
	for (; *p && *p != '&'; p++) {
		buf = (buf << 5) | (unsigned)(*p >= 'A' ? *p - 'A' : *p - '2' + 26);
		if ((bits += 5) >= 8) {
			out[n++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

Test(totp, enrolment_in_the_store)
{
	sk_store *st = NULL;
	sk_principal p;
	sk_error err;
	char uri[SK_TOTP_URI_MAX], code[8];
	unsigned char sec[32];
	sk_node_params np = {.name = "Node"};

	cr_assert_eq(sk_store_open(t_path("t.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_init_node(st, &np, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_account_add_own(st, "ana", SK_ROLE_ANALYST, "pw", NULL, &err), SK_OK);
	cr_assert_eq(sk_account_get(st, "ana", &p, &err), SK_OK);
	cr_expect_not(sk_totp_enabled(st, p.aid));
	cr_assert_eq(sk_totp_enroll(st, "ana", false, uri, sizeof(uri), &err), SK_OK, "%s",
	             err.msg);
	cr_expect(strstr(uri, "otpauth://totp/schakel:ana?secret=") == uri, "%s", uri);
	cr_expect_not(sk_totp_enabled(st, p.aid), "pending until confirmed");
	cr_assert_eq(unbase32(uri, sec), SK_TOTP_SECRET_LEN);
	int64_t now = sk_ts_now_us() / 1000000;
	/* a code of a step far away is wrong whatever the secret's codes are now */
	snprintf(code, sizeof(code), "%06u", sk_totp_code(sec, 20, (uint64_t)now / 30 + 5, 6));
	cr_expect_eq(sk_totp_confirm(st, &p, code, &err), SK_EAUTH);
	cr_expect_not(sk_totp_enabled(st, p.aid), "a wrong code does not confirm");
	snprintf(code, sizeof(code), "%06u", sk_totp_code(sec, 20, (uint64_t)now / 30, 6));
	cr_assert_eq(sk_totp_confirm(st, &p, code, &err), SK_OK, "%s", err.msg);
	cr_expect(sk_totp_enabled(st, p.aid));
	cr_expect_eq(sk_totp_check(st, p.aid, code, false, &err), SK_EAUTH,
	             "the confirming code is not good again");
	snprintf(code, sizeof(code), "%06u", sk_totp_code(sec, 20, (uint64_t)now / 30 + 1, 6));
	cr_expect_eq(sk_totp_check(st, p.aid, code, false, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_totp_check(st, p.aid, code, false, &err), SK_EAUTH, "nor any code twice");
	cr_assert_eq(sk_totp_disable(st, "ana", &err), SK_OK);
	cr_expect_not(sk_totp_enabled(st, p.aid));
	cr_expect_eq(sk_totp_disable(st, "nobody", &err), SK_ENOTFOUND);
	sk_store_close(st);
}
