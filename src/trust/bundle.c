/*
 * bundle.c - signed and sealed bundle files (see bundle.h).
 */
#include "schakel/bundle.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define MAGIC "schakel-bundle-v1\n"

/* The bytes the signature covers. */
static sk_err signed_bytes(const sk_bundle_hdr *h, const char *payload64, size_t n, sk_buf *b)
{
	sk_err rc = sk_buf_printf(b, MAGIC "%s\n%s\n%lld\n%s\n%d\n", h->sender, h->recipient,
				  (long long)h->seq, h->created, h->encrypted ? 1 : 0);
	return rc ? rc : sk_buf_append(b, payload64, n);
}

sk_err sk_bundle_seal(const sk_bundle_hdr *h, const char *payload, size_t len,
		      const sk_keypair *kp, const unsigned char *recipient_pk, sk_buf *out,
		      sk_error *err)
{
	unsigned char *box = NULL, xpk[crypto_box_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	const unsigned char *body = (const unsigned char *)payload;
	size_t blen = len, b64len;
	char *p64 = NULL, s64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64)];
	sk_buf msg;
	sk_err rc = SK_OK;

	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (h->encrypted) {
		if (!recipient_pk || crypto_sign_ed25519_pk_to_curve25519(xpk, recipient_pk))
			return sk_error_set(err, SK_EINVAL, "the recipient has no usable key pinned");
		blen = len + crypto_box_SEALBYTES;
		if (!(box = malloc(blen)))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		crypto_box_seal(box, body, len, xpk);
		body = box;
	}
	b64len = sodium_base64_ENCODED_LEN(blen, B64);
	if (!(p64 = malloc(b64len))) {
		free(box);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	sodium_bin2base64(p64, b64len, body, blen, B64);
	sk_buf_init(&msg, (size_t)2 << 30);
	if (signed_bytes(h, p64, strlen(p64), &msg)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, kp->sk);
	sodium_bin2base64(s64, sizeof(s64), sig, sizeof(sig), B64);
	if (sk_buf_printf(out,
			  "{\"schakel_bundle\":1,\"sender\":\"%s\",\"recipient\":\"%s\",\"seq\":%lld,"
			  "\"created\":\"%s\",\"encrypted\":%s,\"payload\":\"",
			  h->sender, h->recipient, (long long)h->seq, h->created,
			  h->encrypted ? "true" : "false") ||
	    sk_buf_puts(out, p64) || sk_buf_printf(out, "\",\"sig\":\"%s\"}\n", s64))
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
out:
	sk_buf_free(&msg);
	free(p64);
	free(box);
	return rc;
}

/* Parse the file and fill h; *v is the document's root (alive while doc is). */
static sk_err parse(sk_jdoc **doc, const char *text, size_t len, sk_bundle_hdr *h,
		    const sk_jval **v, sk_error *err)
{
	const char *s, *r, *c;
	const sk_jval *seq, *enc;
	sk_err rc;

	memset(h, 0, sizeof(*h));
	if ((rc = sk_json_doc_new(len * 2 + ((size_t)4 << 20), 8, doc)))
		return sk_error_set(err, rc, "out of memory");
	if ((rc = sk_json_parse(*doc, text, len, v, err))) {
		sk_error_prefix(err, "not a complete bundle file (truncated or damaged)");
		return rc;
	}
	s = sk_json_str(sk_json_get(*v, "sender"));
	r = sk_json_str(sk_json_get(*v, "recipient"));
	c = sk_json_str(sk_json_get(*v, "created"));
	seq = sk_json_get(*v, "seq");
	enc = sk_json_get(*v, "encrypted");
	if (!sk_json_is(sk_json_get(*v, "schakel_bundle"), SK_JINT) || !s || !r || !c ||
	    !sk_json_is(seq, SK_JINT) || !sk_json_is_bool(enc) || strlen(s) >= sizeof(h->sender) ||
	    strlen(r) >= sizeof(h->recipient) || strlen(c) >= sizeof(h->created) ||
	    !sk_json_str(sk_json_get(*v, "payload")) || !sk_json_str(sk_json_get(*v, "sig")))
		return sk_error_set(err, SK_EINVAL, "not a schakel bundle file (fields missing)");
	snprintf(h->sender, sizeof(h->sender), "%s", s);
	snprintf(h->recipient, sizeof(h->recipient), "%s", r);
	snprintf(h->created, sizeof(h->created), "%s", c);
	h->seq = seq->u.i;
	h->encrypted = enc->type == SK_JTRUE;
	return SK_OK;
}

sk_err sk_bundle_peek(const char *text, size_t len, sk_bundle_hdr *h, sk_error *err)
{
	sk_jdoc *doc = NULL;
	const sk_jval *v;
	sk_err rc = parse(&doc, text, len, h, &v, err);
	sk_json_doc_free(doc);
	return rc;
}

sk_err sk_bundle_open(const char *text, size_t len, const unsigned char sender_pk[SK_KEY_PK_LEN],
		      const sk_keypair *own, sk_buf *payload, sk_error *err)
{
	unsigned char sig[crypto_sign_BYTES], xpk[crypto_box_PUBLICKEYBYTES],
	    xsk[crypto_box_SECRETKEYBYTES], *bin = NULL;
	const char *p64, *s64;
	size_t n = 0, blen;
	sk_bundle_hdr h;
	const sk_jval *v;
	sk_jdoc *doc = NULL;
	sk_buf msg;
	sk_err rc;

	sk_buf_init(&msg, (size_t)2 << 30);
	if ((rc = parse(&doc, text, len, &h, &v, err)))
		goto out;
	p64 = sk_json_str(sk_json_get(v, "payload"));
	s64 = sk_json_str(sk_json_get(v, "sig"));
	if (sodium_base642bin(sig, sizeof(sig), s64, strlen(s64), NULL, &n, NULL, B64) ||
	    n != sizeof(sig) || signed_bytes(&h, p64, strlen(p64), &msg) ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)msg.data, msg.len, sender_pk)) {
		rc = sk_error_set(err, SK_EPERM, "bad signature: the file was changed, or the "
						 "sender is not who it says");
		goto out;
	}
	blen = strlen(p64) / 4 * 3 + 3;
	if (!(bin = malloc(blen))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sodium_base642bin(bin, blen, p64, strlen(p64), NULL, &n, NULL, B64)) {
		rc = sk_error_set(err, SK_EINVAL, "payload is not base64");
		goto out;
	}
	if (!h.encrypted) {
		rc = sk_buf_append(payload, bin, n);
	} else if (n < crypto_box_SEALBYTES || !own ||
		   crypto_sign_ed25519_pk_to_curve25519(xpk, own->pk) ||
		   crypto_sign_ed25519_sk_to_curve25519(xsk, own->sk)) {
		rc = sk_error_set(err, SK_EPERM, "cannot open the sealed payload");
	} else if ((rc = sk_buf_reserve(payload, n - crypto_box_SEALBYTES)) == SK_OK) {
		if (crypto_box_seal_open((unsigned char *)payload->data + payload->len, bin, n, xpk,
					 xsk))
			rc = sk_error_set(err, SK_EPERM, "the payload is sealed for another key");
		else
			payload->data[payload->len += n - crypto_box_SEALBYTES] = '\0';
	}
	sodium_memzero(xsk, sizeof(xsk));
out:
	sk_json_doc_free(doc);
	sk_buf_free(&msg);
	free(bin);
	return rc;
}
