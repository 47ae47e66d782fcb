/*
 * invite.h - joining a hub in one step: `schakel invite` at the hub makes a
 * partner's account and grants and a signed one-time invitation code;
 * `schakel enrol CODE` at the new node redeems it (docs/enrol.md).
 *
 * The code carries what a new node would otherwise be told by hand: the
 * hub's URL, API root and collection, its identity and Ed25519 public key,
 * the pin of its TLS public key, and a one-time secret.  It is signed with
 * the hub's node key, so a changed byte is found; the key's fingerprint is
 * what the two operators compare over the phone.  The hub keeps only the
 * secret's BLAKE2b hash; redeeming it is one transaction that pins the new
 * node's key, binds the partner to the new node's identity, issues the
 * account's API token and marks the invitation used.
 */
#ifndef SCHAKEL_INVITE_H
#define SCHAKEL_INVITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/sign.h"
#include "schakel/store.h"

#define SK_INVITE_PREFIX        "skinv1."
#define SK_INVITE_MAX_TTL_S     (30 * 86400)
#define SK_INVITE_DEFAULT_TTL_S (72 * 3600)
#define SK_TLS_PIN_LEN          52 /* "sha256//" and 44 base64 characters */
#define SK_INVITE_PATH          "/taxii2/enrol"
#define SK_INVITE_MAX_BODY      16384

typedef struct sk_invite_params {
	const char *partner;    /* an existing partner, or a new one (created) */
	const char *account;    /* NULL: "<partner, as a name>-sync" */
	const char *collection; /* name, UUID or alias */
	unsigned grants;        /* SK_GRANT_*; READ when 0 */
	int64_t ttl_s;          /* 0 = SK_INVITE_DEFAULT_TTL_S */
	const char *url;        /* the hub's base URL as the new node reaches it */
	const char *tls_pin;    /* the hub's TLS pin (sk_tls_cert_pin), or NULL (http) */
} sk_invite_params;

/*
 * Create the account (if new), set the grants, record the invitation and
 * write the code (malloc'd, caller frees; it holds a secret: print it once
 * and never log it) into *code.  One transaction, audited ("invite.create",
 * never the secret).  The node needs its key (schakel init).
 */
sk_err sk_invite_create(sk_store *st, const sk_invite_params *p, char **code, sk_error *err);

/* A decoded code whose signature holds (sk_invite_decode). */
typedef struct sk_invite_code {
	char *url, *api_root, *collection, *hub, *tls_pin, *iid, *secret;
	unsigned char key[SK_KEY_PK_LEN]; /* the hub's public key */
	int64_t expires_us;
	unsigned grants;
} sk_invite_code;

/*
 * Decode and check a code: its form, and the hub's signature over it with
 * the key it carries (a changed byte fails here).  SK_EINVAL says what is
 * wrong.  Does not check expiry (the caller says it, with the date).
 */
sk_err sk_invite_decode(const char *code, sk_invite_code *out, sk_error *err);
void sk_invite_code_clear(sk_invite_code *c);

/*
 * The hub's side, given the request's Authorization header ("Invite
 * IID.SECRET").  sk_invite_usable: whether it names an invitation and its
 * secret (the transport's check before it reads a body; whether it is used
 * or expired is said by sk_invite_redeem, to the holder of the secret).
 * sk_invite_redeem: redeem it with the new node's body {"identity": ID,
 * "key": BASE64}; on SK_OK *resp is the answer (the account's token, the
 * hub's identity and the collection); otherwise *status is the HTTP status
 * (401 unknown/used/expired, 409 identity taken, 400/422 bad body) and err
 * says why.
 */
bool sk_invite_usable(sk_store *st, const char *authorization);
sk_err sk_invite_redeem(sk_store *st, const char *authorization, const char *body, size_t len,
                        json_t **resp, int *status, sk_error *err);

/* One invitation as `invite list` shows it (never its secret). */
typedef struct sk_invite_row {
	const char *iid, *partner, *account, *used_by;
	int64_t created, expires, used; /* sk_ts_now_us() times; used 0 = not yet */
} sk_invite_row;

sk_err sk_invite_list(sk_store *st, int (*fn)(void *ud, const sk_invite_row *r), void *ud,
                      sk_error *err);

/* The "sha256//BASE64" pin of the public key in a PEM certificate file. */
sk_err sk_tls_cert_pin(const char *pem_file, char out[SK_TLS_PIN_LEN + 1], sk_error *err);

#endif
