/*
 * nkey.c - the NATS NKey encoding of Ed25519 user keys: base32 (RFC 4648,
 * no padding) of a prefix byte or two, the 32 key bytes and a CRC-16/XMODEM
 * of them, little-endian.  A user public key starts with 'U'; its seed with
 * "SU" (the seed prefix with the user prefix packed into the next bits).
 * nats-server decodes the public keys in the authorization include; the
 * seeds stay with the hub and the sensors, and libsodium signs with them.
 */
#include "schakel/fleet.h"

#include <sodium.h>
#include <string.h>

#define PREFIX_SEED (18 << 3)
#define PREFIX_USER (20 << 3)

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const unsigned char *p, size_t n)
{
	uint16_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
	}
	return c;
}

static void b32_encode(const unsigned char *in, size_t n, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = B32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = B32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

/* Decode exactly want bytes from s; false on a bad character or length. */
static bool b32_decode(const char *s, unsigned char *out, size_t want)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0, n = strlen(s);
	if (n != (want * 8 + 4) / 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *p = s[i] ? strchr(B32, s[i]) : NULL;
		if (!p)
			return false;
		acc = (acc << 5) | (unsigned)(p - B32);
		bits += 5;
		if (bits >= 8) {
			if (o == want)
				return false;
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return o == want;
}

static void put_crc(unsigned char *raw, size_t n)
{
	uint16_t c = crc16(raw, n);
	raw[n] = (unsigned char)(c & 0xff);
	raw[n + 1] = (unsigned char)(c >> 8);
}

void sk_nkey_encode_seed(const unsigned char seed[32], char out[SK_NKEY_SEED_LEN + 1])
{
	unsigned char raw[36];
	raw[0] = (unsigned char)(PREFIX_SEED | (PREFIX_USER >> 5));
	raw[1] = (unsigned char)((PREFIX_USER & 31) << 3);
	memcpy(raw + 2, seed, 32);
	put_crc(raw, 34);
	b32_encode(raw, sizeof(raw), out);
	sodium_memzero(raw, sizeof(raw));
}

void sk_nkey_encode_pub(const unsigned char pk[32], char out[SK_NKEY_PUB_LEN + 1])
{
	unsigned char raw[35];
	raw[0] = PREFIX_USER;
	memcpy(raw + 1, pk, 32);
	put_crc(raw, 33);
	b32_encode(raw, sizeof(raw), out);
}

static bool crc_ok(const unsigned char *raw, size_t n)
{
	uint16_t c = crc16(raw, n - 2);
	return raw[n - 2] == (c & 0xff) && raw[n - 1] == (c >> 8);
}

sk_err sk_nkey_decode_seed(const char *s, unsigned char seed[32], sk_error *err)
{
	unsigned char raw[36];
	sk_err rc = SK_OK;
	if (!s || strlen(s) != SK_NKEY_SEED_LEN || !b32_decode(s, raw, sizeof(raw)))
		rc = sk_error_set(err, SK_EINVAL, "not an NKey seed (58 base32 characters)");
	else if (!crc_ok(raw, sizeof(raw)))
		rc = sk_error_set(err, SK_EINVAL, "NKey seed: bad checksum");
	else if ((raw[0] & 0xf8) != PREFIX_SEED ||
	         (((raw[0] & 7) << 5) | (raw[1] >> 3)) != PREFIX_USER)
		rc = sk_error_set(err, SK_EINVAL,
		                  "not a user NKey seed (it does not start with SU)");
	else
		memcpy(seed, raw + 2, 32);
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

sk_err sk_nkey_decode_pub(const char *s, unsigned char pk[32], sk_error *err)
{
	unsigned char raw[35];
	if (!s || strlen(s) != SK_NKEY_PUB_LEN || !b32_decode(s, raw, sizeof(raw)))
		return sk_error_set(err, SK_EINVAL,
		                    "not an NKey public key (56 base32 characters)");
	if (!crc_ok(raw, sizeof(raw)))
		return sk_error_set(err, SK_EINVAL, "NKey public key: bad checksum");
	if (raw[0] != PREFIX_USER)
		return sk_error_set(err, SK_EINVAL, "not a user NKey (it does not start with U)");
	memcpy(pk, raw + 1, 32);
	return SK_OK;
}

void sk_nkey_new(char seed[SK_NKEY_SEED_LEN + 1], char pub[SK_NKEY_PUB_LEN + 1])
{
	unsigned char s[32], pk[32], sk[64];
	randombytes_buf(s, sizeof(s));
	crypto_sign_seed_keypair(pk, sk, s);
	sk_nkey_encode_seed(s, seed);
	sk_nkey_encode_pub(pk, pub);
	sodium_memzero(s, sizeof(s));
	sodium_memzero(sk, sizeof(sk));
}

sk_err sk_nkey_pub_of_seed(const char *seed, char pub[SK_NKEY_PUB_LEN + 1], sk_error *err)
{
	unsigned char s[32], pk[32], sk[64];
	sk_err rc = sk_nkey_decode_seed(seed, s, err);
	if (rc)
		return rc;
	crypto_sign_seed_keypair(pk, sk, s);
	sk_nkey_encode_pub(pk, pub);
	sodium_memzero(s, sizeof(s));
	sodium_memzero(sk, sizeof(sk));
	return SK_OK;
}
