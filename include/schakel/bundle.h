/*
 * bundle.h - signed (and optionally encrypted) bundle files for partners
 * without a network link (docs/provenance.md, "Bundle files").
 *
 * A bundle file is one JSON object:
 *
 *   {"schakel_bundle": 1, "sender": "identity--...", "recipient": "identity--...",
 *    "seq": 7, "created": "2026-12-07T12:00:00.000Z", "encrypted": true,
 *    "payload": "<base64>", "sig": "<base64>"}
 *
 * payload is the STIX bundle text, or with encrypted a libsodium sealed box
 * of it to the recipient's X25519 key (converted from its pinned Ed25519
 * key).  sig is the sender's Ed25519 signature over
 * "schakel-bundle-v1\n" sender "\n" recipient "\n" seq "\n" created "\n"
 * ("1" or "0") "\n" payload, so that no field can be changed, and seq
 * (per sender and recipient, increasing) lets the recipient refuse a replay.
 */
#ifndef SCHAKEL_BUNDLE_H
#define SCHAKEL_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/sign.h"

#define SK_BUNDLE_ID_MAX 160

typedef struct sk_bundle_hdr {
	char sender[SK_BUNDLE_ID_MAX];
	char recipient[SK_BUNDLE_ID_MAX];
	int64_t seq;
	char created[40];
	bool encrypted;
} sk_bundle_hdr;

/*
 * Write the bundle file for payload[0..len) (a STIX bundle) to out: signed
 * with kp, and encrypted to recipient_pk when h->encrypted.
 */
sk_err sk_bundle_seal(const sk_bundle_hdr *h, const char *payload, size_t len,
		      const sk_keypair *kp, const unsigned char *recipient_pk, sk_buf *out,
		      sk_error *err);

/* Read the header of a bundle file (nothing verified yet). SK_EJSON/SK_EINVAL if not one. */
sk_err sk_bundle_peek(const char *text, size_t len, sk_bundle_hdr *h, sk_error *err);

/*
 * Verify text's signature with sender_pk and, if encrypted, open it with
 * own (the recipient's key): the STIX bundle into payload.  SK_EPERM for a
 * bad signature or a box that does not open.
 */
sk_err sk_bundle_open(const char *text, size_t len, const unsigned char sender_pk[SK_KEY_PK_LEN],
		      const sk_keypair *own, sk_buf *payload, sk_error *err);

#endif
