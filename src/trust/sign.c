/*
 * sign.c - the node's Ed25519 key and signatures over canonical STIX objects
 * (see sign.h and docs/provenance.md).  libsodium does the cryptography.
 */
#include "schakel/sign.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/canon.h"
#include "schakel/file.h"

#define KEY_MAGIC "schakel-ed25519-v1"
#define B64       sodium_base64_VARIANT_ORIGINAL

char *sk_key_path(const char *db_path)
{
	size_t n = strlen(db_path) + 5;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.key", db_path);
	return p;
}

sk_err sk_key_generate(sk_keypair *kp, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	crypto_sign_keypair(kp->pk, kp->sk);
	return SK_OK;
}

void sk_key_wipe(sk_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

sk_err sk_key_load(const char *path, sk_keypair *kp, sk_error *err)
{
	char line[256];
	size_t n = 0;
	FILE *f;
	sk_err rc = SK_OK;

	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? sk_error_set(err, SK_ENOTFOUND, "%s: no node key", path)
		                       : sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f) || strncmp(line, KEY_MAGIC "\n", sizeof(KEY_MAGIC)) ||
	    !fgets(line, sizeof(line), f) ||
	    sodium_base642bin(kp->sk, sizeof(kp->sk), line, strcspn(line, "\n"), NULL, &n, NULL,
	                      B64) != 0 ||
	    n != sizeof(kp->sk))
		rc = sk_error_set(err, SK_EINVAL, "%s: not a schakel node key", path);
	else
		crypto_sign_ed25519_sk_to_pk(kp->pk, kp->sk);
	sodium_memzero(line, sizeof(line));
	fclose(f);
	return rc;
}

static int fill_key(FILE *f, void *ud)
{
	const sk_keypair *kp = ud;
	char b64[sodium_base64_ENCODED_LEN(SK_KEY_SK_LEN, B64)];
	int rc;

	sodium_bin2base64(b64, sizeof(b64), kp->sk, sizeof(kp->sk), B64);
	rc = fprintf(f, KEY_MAGIC "\n%s\n", b64) < 0 ? -1 : 0;
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

sk_err sk_key_save(const char *path, const sk_keypair *kp, sk_error *err)
{
	return sk_file_replace_private(path, fill_key, (void *)kp, err);
}

void sk_key_b64(const unsigned char pk[SK_KEY_PK_LEN], char out[SK_KEY_B64_MAX])
{
	sodium_bin2base64(out, SK_KEY_B64_MAX, pk, SK_KEY_PK_LEN, B64);
}

bool sk_key_parse(const char *s, unsigned char pk[SK_KEY_PK_LEN])
{
	size_t n = 0;

	if (!s)
		return false;
	if (strlen(s) == 2 * SK_KEY_PK_LEN)
		return sodium_hex2bin(pk, SK_KEY_PK_LEN, s, strlen(s), NULL, &n, NULL) == 0 &&
		       n == SK_KEY_PK_LEN;
	return sodium_base642bin(pk, SK_KEY_PK_LEN, s, strlen(s), NULL, &n, NULL, B64) == 0 &&
	       n == SK_KEY_PK_LEN;
}

void sk_key_fingerprint(const unsigned char pk[SK_KEY_PK_LEN], char out[SK_FINGERPRINT_MAX])
{
	/* RFC 4648 base32 without the easily confused letters' problem: upper case only */
	static const char a32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char h[10];
	char *o = out;

	crypto_generichash(h, sizeof(h), pk, SK_KEY_PK_LEN, NULL, 0);
	/* 80 bits = 16 base32 digits, in four groups */
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)h[byte] << 8 | (byte + 1 < 10 ? h[byte + 1] : 0);
		if (i && i % 4 == 0)
			*o++ = '-';
		*o++ = a32[(v >> (11 - shift)) & 31];
	}
	*o = '\0';
}

const char *sk_sig_verdict_name(sk_sig_verdict v)
{
	switch (v) {
	case SK_SIG_VERIFIED:
		return "verified";
	case SK_SIG_UNKNOWN_KEY:
		return "unknown key";
	case SK_SIG_BAD:
		return "bad signature";
	default:
		return "unsigned";
	}
}

static const sk_jval *sig_ext(const sk_jval *obj)
{
	return sk_json_get(sk_json_get(obj, "extensions"), SK_SIG_EXT_ID);
}

bool sk_sig_present(const sk_jval *obj)
{
	return sk_json_get(sig_ext(obj), "sig") != NULL;
}

sk_sig_verdict sk_sig_verify(const sk_jval *obj, const unsigned char *pk, sk_buf *scratch)
{
	const sk_jval *ext = sig_ext(obj);
	const char *sig64 = sk_json_str(sk_json_get(ext, "sig"));
	const char *alg = sk_json_str(sk_json_get(ext, "alg"));
	unsigned char sig[SK_SIG_LEN];
	size_t n = 0;

	if (!sk_json_get(ext, "sig"))
		return SK_SIG_UNSIGNED;
	if (!sig64 || !alg || strcmp(alg, "ed25519") ||
	    sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &n, NULL, B64) ||
	    n != sizeof(sig))
		return SK_SIG_BAD;
	if (!pk)
		return SK_SIG_UNKNOWN_KEY;
	sk_buf_reset(scratch);
	if (sk_canon(obj, SK_SIG_EXT_ID, scratch, NULL))
		return SK_SIG_BAD;
	return crypto_sign_verify_detached(sig, (const unsigned char *)scratch->data, scratch->len,
	                                   pk) == 0
	           ? SK_SIG_VERIFIED
	           : SK_SIG_BAD;
}

bool sk_sig_published_key(const sk_jval *identity, unsigned char pk[SK_KEY_PK_LEN])
{
	return sk_key_parse(sk_json_str(sk_json_get(sig_ext(identity), "key")), pk);
}

/*
 * The canonical object with the signature extension: canonicalise without
 * it, sign, then splice {"<ext>":{...}} into "extensions" (or add
 * "extensions") at its sorted place.  Done by building the canonical text
 * of the whole object again from a copy with the extension member set.
 */
sk_err sk_sig_sign(const sk_jval *obj, const sk_keypair *kp, sk_buf *out, sk_error *err)
{
	char sig64[sodium_base64_ENCODED_LEN(SK_SIG_LEN, B64)], pk64[SK_KEY_B64_MAX];
	unsigned char sig[SK_SIG_LEN];
	const sk_jval *old = sk_json_get(obj, "extensions"), *oldsig = sig_ext(obj);
	uint32_t nold = old && old->type == SK_JOBJECT ? old->n : 0;
	uint32_t nsig = oldsig && oldsig->type == SK_JOBJECT ? oldsig->n : 0;
	sk_jmember *exts = NULL, *mems = NULL, *sigm = NULL;
	uint32_t ne = 0, nm = 0, ns = 0;
	sk_jval whole;
	sk_buf body;
	sk_err rc;

	if (!obj || obj->type != SK_JOBJECT)
		return sk_error_set(err, SK_EINVAL, "only an object can be signed");
	exts = calloc(nold + 1, sizeof(*exts));
	mems = calloc(obj->n + 1, sizeof(*mems));
	sigm = calloc(nsig + 4, sizeof(*sigm));
	if (!exts || !mems || !sigm) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	sk_key_b64(kp->pk, pk64);
	/* the extension keeps what else it says (an identity's published "key") */
	for (uint32_t i = 0; i < nsig; i++) {
		const char *k = oldsig->u.m[i].key;
		if (strcmp(k, "sig") && strcmp(k, "alg") && strcmp(k, "signer") &&
		    strcmp(k, "extension_type"))
			sigm[ns++] = oldsig->u.m[i];
	}
	sigm[ns++] = (sk_jmember){"alg", 3, {SK_JSTRING, 7, {.s = "ed25519"}}};
	sigm[ns++] =
	    (sk_jmember){"extension_type", 14, {SK_JSTRING, 18, {.s = "property-extension"}}};
	sigm[ns++] = (sk_jmember){"signer", 6, {SK_JSTRING, (uint32_t)strlen(pk64), {.s = pk64}}};
	for (uint32_t i = 0; i < nold; i++)
		if (strcmp(old->u.m[i].key, SK_SIG_EXT_ID))
			exts[ne++] = old->u.m[i];
	exts[ne++] = (sk_jmember){
	    SK_SIG_EXT_ID, (uint32_t)strlen(SK_SIG_EXT_ID), {SK_JOBJECT, ns, {.m = sigm}}};
	for (uint32_t i = 0; i < obj->n; i++)
		if (strcmp(obj->u.m[i].key, "extensions"))
			mems[nm++] = obj->u.m[i];
	mems[nm++] = (sk_jmember){"extensions", 10, {SK_JOBJECT, ne, {.m = exts}}};
	whole = (sk_jval){SK_JOBJECT, nm, {.m = mems}};
	/* signed: the whole object with the extension as it will be, but for "sig" */
	sk_buf_init(&body, 0);
	rc = sk_canon(&whole, SK_SIG_EXT_ID, &body, err);
	if (!rc) {
		crypto_sign_detached(sig, NULL, (const unsigned char *)body.data, body.len, kp->sk);
		sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), B64);
		sigm[ns++] =
		    (sk_jmember){"sig", 3, {SK_JSTRING, (uint32_t)strlen(sig64), {.s = sig64}}};
		exts[ne - 1].val.n = ns;
		rc = sk_canon(&whole, NULL, out, err);
	}
	sk_buf_free(&body);
out:
	free(exts);
	free(mems);
	free(sigm);
	return rc;
}

const char *sk_sig_extension_definition(void)
{
	return "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"" SK_SIG_EXT_ID
	       "\",\"created\":\"2026-12-01T00:00:00.000Z\",\"modified\":\"2026-12-01T00:00:00."
	       "000Z\","
	       "\"created_by_ref\":\"" SK_SIG_EXT_PRODUCER "\",\"name\":\"schakel provenance\","
	       "\"description\":\"The producer's Ed25519 signature (sig, base64) over the "
	       "object's RFC 8785 canonical form without sig; alg: ed25519, signer: the signing "
	       "public key (base64); on an identity, key publishes the identity's public key "
	       "(a new key is signed by the old one).\",\"schema\":\"https://schakel.example/docs/"
	       "provenance.md\",\"version\":\"1.0.0\",\"extension_types\":"
	       "[\"property-extension\"]}";
}
