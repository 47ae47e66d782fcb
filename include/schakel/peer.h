/*
 * peer.h - the nodes this node syncs with, and their credentials.
 *
 * A peer is one collection on a TAXII 2.1 server: its URL, API root and
 * collection id, how to authenticate, whether to pull from it and/or push to
 * it, and the local collection its objects land in (and pushed objects are
 * taken from).  The database holds only a reference to the secret; the
 * secret itself (password or token) lives in "<db>.secrets", a file created
 * with mode 0600 (O_CREAT|O_EXCL, then fchmod) and replaced atomically.  A
 * secrets file readable by group or others is refused.  Secrets are never
 * printed.
 */
#ifndef SCHAKEL_PEER_H
#define SCHAKEL_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/store.h"

#define SK_PEER_NAME_MAX 64

typedef struct sk_peer {
	int64_t pid;
	char *name, *url, *api_root, *collection;
	char *auth;     /* "none", "basic", "token" */
	char *username; /* basic, or NULL */
	char *ca;       /* CA file, or NULL */
	char *identity; /* the peer organisation's STIX identity, or NULL */
	char *secret;   /* loaded from the secrets file by sk_peer_get, or NULL */
	bool pull, push, reshare;
	int64_t local_cid;
	char *local_coll; /* its name */
	int interval;     /* seconds between syncs */
	sk_tlp unmarked;  /* the level its unmarked objects arrive under (default AMBER) */
	bool tofu;        /* pin the key its identity publishes, once */
	char *tls_pin;    /* "sha256//BASE64" of the server's public key, or NULL */
} sk_peer;

typedef struct sk_peer_params {
	const char *name, *url, *api_root, *collection;
	const char *auth;     /* "none", "basic", "token" */
	const char *username; /* basic */
	const char *secret;   /* password or token (stored in the secrets file) */
	const char *ca;
	const char *identity;
	const char *local_collection; /* name; NULL = "default" */
	bool pull, push, reshare;
	int interval;    /* 0 = 30 */
	sk_tlp unmarked; /* SK_TLP_NONE = SK_TLP_AMBER */
	const char *key; /* the peer's public key to pin for identity, or NULL */
	bool tofu;       /* --trust-on-first-use */
	/*
	 * The server's TLS public key, "sha256//BASE64" (curl's pinned public
	 * key form), or NULL.  With a pin and no --ca the certificate chain is
	 * not checked: the pin alone decides (a hub's self-signed certificate,
	 * reached by `enrol`).
	 */
	const char *tls_pin;
} sk_peer_params;

/* "<db_path>.secrets" (malloc'd, caller frees). */
char *sk_peer_secrets_path(const char *db_path);

/* Add a peer (SK_EEXIST if the name is taken) and store its secret. */
sk_err sk_peer_add(sk_store *st, const char *db_path, const sk_peer_params *p, sk_error *err);

/* Which settings sk_peer_set changes. */
enum {
	SK_PEER_SET_URL = 1 << 0,
	SK_PEER_SET_API_ROOT = 1 << 1,
	SK_PEER_SET_COLLECTION = 1 << 2,
	SK_PEER_SET_AUTH = 1 << 3,     /* auth and username */
	SK_PEER_SET_SECRET = 1 << 4,
	SK_PEER_SET_PULL = 1 << 5,
	SK_PEER_SET_PUSH = 1 << 6,
	SK_PEER_SET_CA = 1 << 7,
	SK_PEER_SET_IDENTITY = 1 << 8,
	SK_PEER_SET_LOCAL = 1 << 9,
	SK_PEER_SET_RESHARE = 1 << 10,
	SK_PEER_SET_INTERVAL = 1 << 11,
	SK_PEER_SET_UNMARKED = 1 << 12,
	SK_PEER_SET_KEY = 1 << 13,
	SK_PEER_SET_TOFU = 1 << 14,
	SK_PEER_SET_TLS_PIN = 1 << 15,
};

/*
 * Change the settings of peer name that fields names, taking their values
 * from p (p->name is ignored); the result passes the checks of
 * sk_peer_add.  The sync state is kept: the pull cursor stays unless the
 * remote collection changes (URL, API root or collection), when a cursor into
 * the old one would skip objects; *cursor_reset (may be NULL) says which.
 * SK_ENOTFOUND if there is no such peer.
 */
sk_err sk_peer_set(sk_store *st, const char *db_path, const char *name, const sk_peer_params *p,
		   unsigned fields, bool *cursor_reset, sk_error *err);

/* Remove a peer, its sync state, outbox and secret.  SK_ENOTFOUND if none. */
sk_err sk_peer_remove(sk_store *st, const char *db_path, const char *name, sk_error *err);

/*
 * Load peer name, with its secret when db_path is given.  Free with
 * sk_peer_clear() (which wipes the secret).
 */
sk_err sk_peer_get(sk_store *st, const char *db_path, const char *name, sk_peer *out,
		   sk_error *err);
void sk_peer_clear(sk_peer *p);

/* Call fn for each peer (no secrets loaded); fn returns non-zero to stop. */
sk_err sk_peer_list(sk_store *st, int (*fn)(void *ud, const sk_peer *p), void *ud, sk_error *err);

/* A peer and its sync state (peer_state), for the console's administration. */
typedef struct sk_peer_state {
	const char *name, *url, *collection;
	bool pull, push;
	int64_t last_ok_us, last_try_us; /* unix microseconds; 0 = never */
	int64_t failures;                /* consecutive failed syncs */
	const char *last_error;          /* or NULL */
	int64_t outbox;                  /* versions waiting to be pushed */
} sk_peer_state;

/* Every peer with its sync state, by name.  fn returns non-zero to stop. */
sk_err sk_peer_states(sk_store *st, int (*fn)(void *ud, const sk_peer_state *r), void *ud,
		      sk_error *err);

/* The source tag received versions of p carry (objects.rx): identity or "peer:NAME". */
void sk_peer_rx(const sk_peer *p, char *out, size_t n);

/* --- joining a hub with an invitation (enrol.c, docs/enrol.md) --------- */

struct sk_invite_code;

typedef struct sk_enrol_opts {
	const char *name;             /* the peer's name (default "hub") */
	const char *local_collection; /* default "default" (created when missing) */
	const char *ca;               /* a CA file for the hub's certificate, else the pin alone */
	bool allow_http;              /* redeem a code for an http:// hub (the token in clear) */
	long timeout_s;               /* the enrolment request (0 = 30) */
} sk_enrol_opts;

/*
 * Redeem code (decoded and checked by sk_invite_decode; not expired) at its
 * hub, over TLS pinned to the code's public-key pin: send this node's
 * identity and public key, receive an API token, then add the hub as peer
 * o->name (pull, and push for sightings), its key pinned for its identity,
 * the token in the secrets file.  Nothing is stored when the hub refuses;
 * err says why (the hub's words).
 */
sk_err sk_enrol(sk_store *st, const char *db_path, const struct sk_invite_code *code,
		const sk_enrol_opts *o, sk_error *err);

#endif
