/*
 * sign.h - node keys and signatures per STIX object (docs/provenance.md).
 *
 * A node signs every object version it produces with its Ed25519 key over
 * the object's canonical form (canon.h) without the signature value.  The
 * signature travels on the object as a STIX 2.1 property extension, defined
 * by the extension-definition SK_SIG_EXT_ID:
 *
 *   "extensions": {"extension-definition--5c4ac1a5-...": {
 *       "extension_type": "property-extension", "alg": "ed25519",
 *       "signer": "<base64 public key>", "sig": "<base64>"}}
 *
 * Everything but "sig" is signed, the extension's other members included.
 * On the node's identity the extension also carries "key": the identity's
 * published public key (a rotation publishes a new one, signed with the
 * old).  Verification is always against the keys pinned for the object's
 * producer, never against "signer" alone.
 */
#ifndef SCHAKEL_SIGN_H
#define SCHAKEL_SIGN_H

#include <stdbool.h>

#include "schakel/buf.h"
#include "schakel/json.h"

#define SK_SIG_EXT_ID "extension-definition--5c4ac1a5-2d8e-4f61-9b3e-7a0d1f6c8e24"
/* the identity that defines the extension (schakel, the project) */
#define SK_SIG_EXT_PRODUCER "identity--1b5c6a8e-3f0d-4c2b-9e7a-6d4f2a1c0b9e"

#define SK_KEY_PK_LEN 32
#define SK_KEY_SK_LEN 64
#define SK_SIG_LEN    64
#define SK_KEY_B64_MAX 48  /* base64 of a public key with NUL */
#define SK_FINGERPRINT_MAX 32

typedef struct sk_keypair {
	unsigned char pk[SK_KEY_PK_LEN];
	unsigned char sk[SK_KEY_SK_LEN];
} sk_keypair;

/* "<db_path>.key" (malloc'd, caller frees): the node's secret key, mode 0600. */
char *sk_key_path(const char *db_path);

/* Make a new key pair. */
sk_err sk_key_generate(sk_keypair *kp, sk_error *err);

/* Read the node key from path; SK_ENOTFOUND if there is none. */
sk_err sk_key_load(const char *path, sk_keypair *kp, sk_error *err);

/* Write kp to path (created 0600, replaced atomically). */
sk_err sk_key_save(const char *path, const sk_keypair *kp, sk_error *err);

/* Wipe a key pair from memory. */
void sk_key_wipe(sk_keypair *kp);

/* A public key as base64 (SK_KEY_B64_MAX bytes). */
void sk_key_b64(const unsigned char pk[SK_KEY_PK_LEN], char out[SK_KEY_B64_MAX]);

/* Parse base64 (or 64 hex digits) into a public key; false if it is not one. */
bool sk_key_parse(const char *s, unsigned char pk[SK_KEY_PK_LEN]);

/*
 * The short fingerprint people read out over the phone: the first 80 bits
 * of BLAKE2b(pk) in base32, four groups of four ("K7QD-3MXA-VB2P-9HTE").
 */
void sk_key_fingerprint(const unsigned char pk[SK_KEY_PK_LEN], char out[SK_FINGERPRINT_MAX]);

/*
 * Sign the object obj (parsed from its text): append to out the object
 * with the signature extension added (replacing one already there), in
 * canonical form.
 */
sk_err sk_sig_sign(const sk_jval *obj, const sk_keypair *kp, sk_buf *out, sk_error *err);

typedef enum sk_sig_verdict {
	SK_SIG_UNSIGNED = 0, /* no signature extension */
	SK_SIG_VERIFIED,     /* signed, and the signature holds for the pinned key */
	SK_SIG_UNKNOWN_KEY,  /* signed, but no key is pinned for its producer */
	SK_SIG_BAD,          /* signed, and it does not hold (or is malformed) */
} sk_sig_verdict;

/* "verified", "unsigned", "unknown key", "bad signature". */
const char *sk_sig_verdict_name(sk_sig_verdict v);

/* Does obj carry a signature (the extension with "sig")? */
bool sk_sig_present(const sk_jval *obj);

/*
 * Check obj's signature against pk (NULL: no key pinned for its producer).
 * scratch is reused for the canonical form.
 */
sk_sig_verdict sk_sig_verify(const sk_jval *obj, const unsigned char *pk, sk_buf *scratch);

/* The public key an identity publishes in the extension ("key"), if any. */
bool sk_sig_published_key(const sk_jval *identity, unsigned char pk[SK_KEY_PK_LEN]);

/* The extension-definition object of SK_SIG_EXT_ID, as compact JSON (static). */
const char *sk_sig_extension_definition(void);

#endif
