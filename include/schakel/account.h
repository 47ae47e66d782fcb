/*
 * account.h - partners, their accounts and secrets, and collection grants.
 *
 * A partner is an organisation, represented by a STIX identity (its id is the
 * partner's producer identity: objects whose created_by_ref is that id were
 * produced by the partner).  Accounts belong to a partner and authenticate
 * with HTTP Basic (a password, stored as an argon2id hash) or a bearer API
 * token (32 random bytes shown once as "sk_" + base64url, stored only as a
 * BLAKE2b hash).  Secrets are never stored or logged in clear.
 *
 * Grants say, per (collection, partner), whether the partner may read, write,
 * and whether it is a named TLP:AMBER or TLP:AMBER+STRICT recipient; RED
 * recipients are individual accounts.  The decision itself is policy.h's.
 *
 * The node's own people have accounts too: an own account has a role and no
 * partner (it belongs to a reserved partner row that never lists and never
 * holds a grant; store.c, schema 7).  Any account can be disabled, enabled,
 * deleted or given a new password; each change bumps the account's
 * generation, which a running server's login cache checks on every hit, so
 * the change takes effect on the next request.
 */
#ifndef SCHAKEL_ACCOUNT_H
#define SCHAKEL_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/store.h"

#define SK_ACCOUNT_NAME_MAX 128
#define SK_IDENTITY_ID_MAX 128
#define SK_TOKEN_PREFIX "sk_"

/* What an account of the node's own organisation may do; partner accounts have none. */
typedef enum sk_role {
	SK_ROLE_PARTNER = 0, /* a partner's account: no role */
	SK_ROLE_ADMIN,
	SK_ROLE_ANALYST,
	SK_ROLE_VIEWER,
	SK_ROLE_METRICS, /* reads /metrics and nothing else */
} sk_role;

/* "admin" ... for a role, "" for SK_ROLE_PARTNER; never NULL. */
const char *sk_role_name(sk_role r);
/* Parse a role name; false if s is none of admin|analyst|viewer|metrics. */
bool sk_role_parse(const char *s, sk_role *out);

/*
 * Who is asking: an account (aid > 0), a partner as a whole (aid == 0,
 * pid > 0: offline exports), or anonymous (pid == 0).  An own account (role
 * set) has aid > 0, pid 0 (the reserved row) and empty partner and
 * identity: the sharing policy treats it as holding no grants.
 */
typedef struct sk_principal {
	int64_t aid;
	int64_t pid;
	sk_role role;
	char account[SK_ACCOUNT_NAME_MAX + 1];
	char partner[SK_ACCOUNT_NAME_MAX + 1];
	char identity[SK_IDENTITY_ID_MAX + 1]; /* the partner's identity id */
} sk_principal;

typedef struct sk_partner_params {
	const char *name;           /* required, unique */
	const char *identity;       /* an existing identity id, or NULL to create one */
	const char *country;        /* ISO 3166-1 alpha-2, or NULL */
	const char *const *sectors; /* STIX industry sectors */
	size_t nsectors;
} sk_partner_params;

/*
 * Add a partner.  Without p->identity a STIX identity object (and a location
 * for the country) is created in the store.  identity_out (may be NULL,
 * SK_IDENTITY_ID_MAX + 1 bytes) receives the identity id.  SK_EEXIST if the
 * name or identity is taken.
 */
sk_err sk_partner_add(sk_store *st, const sk_partner_params *p, char *identity_out,
		      sk_error *err);

typedef struct sk_partner_row {
	int64_t pid;
	const char *name, *identity, *country;
	int64_t accounts;
	int trust; /* 0-100 (decay.h), -1 = decay.default_trust */
} sk_partner_row;

sk_err sk_partner_list(sk_store *st, int (*fn)(void *ud, const sk_partner_row *r), void *ud,
		       sk_error *err);

/*
 * Add an account named name to partner.  With password NULL a random one is
 * generated; *generated (may be NULL) then receives it (malloc'd, caller
 * frees; show it once).  SK_EEXIST if the name is taken.
 */
sk_err sk_account_add(sk_store *st, const char *partner, const char *name, const char *password,
		      char **generated, sk_error *err);

/*
 * Add an account of the node's own organisation with role (not
 * SK_ROLE_PARTNER); password and generated as for sk_account_add.
 */
sk_err sk_account_add_own(sk_store *st, const char *name, sk_role role, const char *password,
			  char **generated, sk_error *err);

/*
 * Disable (refuse its password and its tokens) or enable an account.
 * SK_ENOTFOUND if there is no such account.
 */
sk_err sk_account_set_disabled(sk_store *st, const char *name, bool disabled, sk_error *err);

/* Delete an account with its tokens and RED recipient entries.  SK_ENOTFOUND if none. */
sk_err sk_account_delete(sk_store *st, const char *name, sk_error *err);

/*
 * Give an account a new password (NULL: a generated one, returned in
 * *generated as for sk_account_add).  SK_ENOTFOUND if there is no such account.
 */
sk_err sk_account_passwd(sk_store *st, const char *name, const char *password, char **generated,
			 sk_error *err);

typedef struct sk_account_row {
	const char *name;
	const char *partner; /* "" for an own account */
	sk_role role;
	bool disabled;
	int64_t tokens; /* tokens not revoked */
} sk_account_row;

/* Every account, by name.  fn returns non-zero to stop. */
sk_err sk_account_list(sk_store *st, int (*fn)(void *ud, const sk_account_row *r), void *ud,
		       sk_error *err);

/*
 * The principal a partner-level view uses (for `export --for PARTNER`): the
 * partner with no account (aid 0), so account-level grants (TLP:RED) do not
 * apply.  name is the partner's name or identity.  SK_ENOTFOUND if none.
 */
sk_err sk_partner_principal(sk_store *st, const char *name, sk_principal *out, sk_error *err);

/* Look up an account by name (no secret check).  SK_ENOTFOUND if none. */
sk_err sk_account_get(sk_store *st, const char *name, sk_principal *out, sk_error *err);

/*
 * Create an API token for account.  *token receives it (malloc'd, caller
 * frees; it is never stored and cannot be shown again) and id (may be NULL,
 * 16 bytes) the public token id used to revoke it.
 */
sk_err sk_token_create(sk_store *st, const char *account, const char *label, char **token,
		       char id_out[16], sk_error *err);

/* Revoke a token by its id (or the token itself).  SK_ENOTFOUND if none. */
sk_err sk_token_revoke(sk_store *st, const char *id_or_token, sk_error *err);

/*
 * Verify a password (constant-time via argon2id).  SK_EAUTH on any mismatch,
 * and for a disabled account.
 */
sk_err sk_auth_password(sk_store *st, const char *user, const char *password, sk_principal *out,
			sk_error *err);

/* Verify a bearer token.  SK_EAUTH if unknown, revoked or its account disabled. */
sk_err sk_auth_token(sk_store *st, const char *token, sk_principal *out, sk_error *err);

/*
 * A cache of successful verifications, keyed by a keyed BLAKE2b of the whole
 * Authorization header (the key is random per process, the header itself is
 * not kept), so repeated Basic requests do not pay argon2 each time.  Entries
 * live ttl seconds, and an entry is dropped the moment its account changes
 * (disabled, deleted, new password, tokens: the account's generation is
 * checked on every hit with one primary-key lookup).  Thread-safe.
 *
 * The cache also guards password verification (auth_guard.c): at most
 * `concurrency` argon2 runs at once, and backoff on wrong passwords per
 * (user, address) and per address.  See docs/serving.md, Limits.
 */
typedef struct sk_auth_cache sk_auth_cache;
sk_err sk_auth_cache_new(unsigned ttl_seconds, sk_auth_cache **out);
void sk_auth_cache_free(sk_auth_cache *c);

/* Password-guessing limits; 0 in any field means its default. */
typedef struct sk_auth_limits {
	unsigned concurrency;   /* argon2 runs at once (default: CPUs - 1, at least 1) */
	unsigned wait_ms;       /* longest wait for a free run before 503 (default 500) */
	unsigned user_failures; /* wrong passwords for one user from one address (default 5) */
	unsigned addr_failures; /* wrong passwords from one address, any user (default 30) */
	unsigned window_s;      /* ... counted within this many seconds (default 300) */
	unsigned block_s;       /* then refused (429) this long (default 30), doubling */
	unsigned block_max_s;   /* ... with each further block, up to this (default 900) */
} sk_auth_limits;

/* The limits with every default filled in (for help texts and docs). */
void sk_auth_limits_defaults(sk_auth_limits *l);

/* Set c's limits (before it is shared between threads). */
void sk_auth_cache_set_limits(sk_auth_cache *c, const sk_auth_limits *l);

/*
 * Authenticate an Authorization header value ("Basic ...", or an API token
 * as "Bearer ..." or "Token ..."; scheme names are case-insensitive).
 * cache may be NULL.  SK_EAUTH for bad or unknown credentials, SK_EINVAL for a
 * header that is not one of these schemes.
 */
sk_err sk_auth_header(sk_store *st, sk_auth_cache *cache, const char *header, sk_principal *out,
		      sk_error *err);

/*
 * sk_auth_header for a request from address addr (textual IPv4 or IPv6; NULL
 * or "" if unknown), under cache's limits: a Basic password that is not in
 * the cache is verified only when neither (user, addr) nor addr is backing
 * off (else SK_ELIMIT) and a verification slot frees within wait_ms (else
 * SK_EBUSY); *retry_after (may be NULL) then receives the seconds to wait.
 * Wrong passwords are counted and logged on stderr with the user name and
 * address (never the password).  Tokens and cached logins bypass the limits,
 * so a guessing attacker cannot lock out a partner that uses a token.
 */
sk_err sk_auth_request(sk_store *st, sk_auth_cache *cache, const char *header, const char *addr,
		       sk_principal *out, unsigned *retry_after, sk_error *err);

/*
 * A login with a user name and password (the console's login form) under
 * cache's limits, exactly as an uncached Basic password in sk_auth_request
 * (the same counters: wrong passwords here and over TAXII add up).  *gen
 * (may be NULL) receives the account's generation, for
 * sk_account_gen_current.  SK_EAUTH, SK_ELIMIT, SK_EBUSY as there.
 */
sk_err sk_auth_login(sk_store *st, sk_auth_cache *cache, const char *user, const char *password,
		     const char *addr, sk_principal *out, int64_t *gen, unsigned *retry_after,
		     sk_error *err);

/*
 * Count a failed second step of a login (a wrong one-time code) for user
 * from addr as a wrong password, under the same limits.
 */
void sk_auth_count_failure(sk_auth_cache *cache, const char *user, const char *addr);

/*
 * Is account aid still enabled and at generation gen?  One primary-key lookup
 * (false also when it was deleted, or on a database error: fail closed).
 */
bool sk_account_gen_current(sk_store *st, int64_t aid, int64_t gen);

/* --- listings for the console's administration (account_list.c) ------------ */

typedef struct sk_token_row {
	const char *id; /* the public token id ("tk..."), never the token */
	const char *account;
	const char *label; /* or NULL */
	int64_t created_us;
	bool revoked;
} sk_token_row;

/* Every token, by account and age.  fn returns non-zero to stop. */
sk_err sk_token_list(sk_store *st, int (*fn)(void *ud, const sk_token_row *r), void *ud,
		     sk_error *err);

typedef struct sk_grant_row {
	const char *collection, *partner; /* names */
	unsigned flags;                   /* SK_GRANT_* */
} sk_grant_row;

/* Every (collection, partner) grant row.  fn returns non-zero to stop. */
sk_err sk_grant_list(sk_store *st, int (*fn)(void *ud, const sk_grant_row *r), void *ud,
		     sk_error *err);

typedef struct sk_red_row {
	const char *collection, *account; /* names */
} sk_red_row;

/* Every TLP:RED recipient entry.  fn returns non-zero to stop. */
sk_err sk_red_list(sk_store *st, int (*fn)(void *ud, const sk_red_row *r), void *ud,
		   sk_error *err);

/* Account aid's generation now (accounts.gen).  SK_ENOTFOUND if none. */
sk_err sk_account_gen_get(sk_store *st, int64_t aid, int64_t *gen, sk_error *err);

/* --- the second factor (totp.c) -------------------------------------------- */

/*
 * TOTP (RFC 6238): HMAC-SHA-1, 30-second steps, 6 digits; a code is good
 * for the current step and one either side, and only for a step later than
 * the last accepted.  Used by the console's login (an account with a secret
 * must give its code); TAXII credentials are not affected.
 */
#define SK_TOTP_SECRET_LEN 20
#define SK_TOTP_URI_MAX    (3 * SK_ACCOUNT_NAME_MAX + 160)

/* HMAC-SHA-1 (RFC 2104) of msg under key. */
void sk_hmac_sha1(const unsigned char *key, size_t klen, const unsigned char *msg, size_t mlen,
		  unsigned char out[20]);
/* The HOTP value (RFC 4226) of secret at counter step, digits long (as a number). */
uint32_t sk_totp_code(const unsigned char *secret, size_t len, uint64_t step, unsigned digits);
/*
 * Does the 6-digit code match secret at now_s (unix seconds), one step of
 * drift either way, for a step after last_step?  *step_out receives the step.
 */
bool sk_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now_s,
		   int64_t last_step, int64_t *step_out);
/* RFC 4648 base32 of in, unpadded, into out (outlen bytes, NUL-terminated). */
void sk_base32(const unsigned char *in, size_t n, char *out, size_t outlen);

/*
 * Give account name a new random secret: with confirmed, it is in force at
 * once (the CLI); else it waits for sk_totp_confirm.  uri (urilen bytes,
 * SK_TOTP_URI_MAX is enough) receives its otpauth:// URI, to show once.
 */
sk_err sk_totp_enroll(sk_store *st, const char *name, bool confirmed, char *uri, size_t urilen,
		      sk_error *err);
/* Make p's pending secret the one in force, given a code of it.  SK_EAUTH if wrong. */
sk_err sk_totp_confirm(sk_store *st, const sk_principal *p, const char *code, sk_error *err);
/* Turn the second factor of account name off.  SK_ENOTFOUND if no such account. */
sk_err sk_totp_disable(sk_store *st, const char *name, sk_error *err);
/* Does account aid have a second factor in force? */
bool sk_totp_enabled(sk_store *st, int64_t aid);
/*
 * Check code against aid's secret in force (pending: the one being enrolled)
 * and record its step.  SK_EAUTH if wrong or reused, SK_ENOTFOUND if none.
 */
sk_err sk_totp_check(sk_store *st, int64_t aid, const char *code, bool pending, sk_error *err);

/* --- grants -------------------------------------------------------------- */

enum {
	SK_GRANT_READ = 1 << 0,
	SK_GRANT_WRITE = 1 << 1,
	SK_GRANT_AMBER = 1 << 2,        /* named TLP:AMBER recipient */
	SK_GRANT_AMBER_STRICT = 1 << 3, /* named TLP:AMBER+STRICT recipient */
};

/* Set (replace) partner's grant on collection (name, uuid or alias). */
sk_err sk_grant_set(sk_store *st, const char *partner, const char *collection, unsigned flags,
		    sk_error *err);

/* Name account as a TLP:RED recipient of collection (add = false removes it). */
sk_err sk_red_recipient_set(sk_store *st, const char *account, const char *collection, bool add,
			    sk_error *err);

/* Give collection an alias (unique over all collections). */
sk_err sk_collection_alias_add(sk_store *st, const char *collection, const char *alias,
			       sk_error *err);

/* Set a collection's default marking (for unmarked objects) and public flag. */
sk_err sk_collection_set_sharing(sk_store *st, const char *collection, sk_tlp default_tlp,
				 bool is_public, sk_error *err);

/*
 * Find a collection by uuid, alias or name (in that order of preference).
 * Fills out like sk_store_collection_get; SK_ENOTFOUND if none.
 */
sk_err sk_collection_resolve(sk_store *st, const char *key, sk_collection *out, sk_error *err);

/* Put collection into API root (by name; created if new). */
sk_err sk_collection_set_root(sk_store *st, const char *collection, const char *root,
			      sk_error *err);

#endif
