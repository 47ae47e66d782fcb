/*
 * invite.c - invitations to join this node as a partner, and their
 * redemption by the new node (include/schakel/invite.h, docs/enrol.md).
 */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/invite.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define IID_LEN    16 /* hex of 8 random bytes */
#define SECRET_LEN 43 /* base64url of 32 random bytes, unpadded */
#define B64URL     sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* The invitation's secret as the hub keeps it: BLAKE2b, never the secret. */
static void secret_hash(const char *secret, unsigned char h[32])
{
	crypto_generichash(h, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

/* "<partner, lower case, letters and digits, '-' between>-sync", into out. */
static void account_name(const char *partner, char *out, size_t n)
{
	size_t o = 0;
	bool dash = false;

	for (const char *p = partner; *p && o + 6 < n && o < 48; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
			if (dash && o)
				out[o++] = '-';
			out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
			dash = false;
		} else {
			dash = true;
		}
	}
	snprintf(out + o, n - o, "%ssync", o ? "-" : "partner-");
}

/* The name of the API root collection (a resolved collection) lives in. */
static sk_err coll_root(sk_store *st, int64_t cid, char *out, size_t n, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT r.name FROM collections c JOIN api_roots r ON r.rid=c.root"
	                       " WHERE c.cid=?1",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "collections");
	sqlite3_bind_int64(s, 1, cid);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, n, "/%s/", (const char *)sqlite3_column_text(s, 0));
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "the collection is in no API root");
	sqlite3_finalize(s);
	return rc;
}

/* An account that exists must be one of partner's; SK_ENOTFOUND if it is new. */
static sk_err account_of(sk_store *st, const char *account, const char *partner, sk_error *err)
{
	sk_principal who;
	sk_err rc = sk_account_get(st, account, &who, err);

	if (rc)
		return rc;
	if (strcmp(who.partner, partner) != 0)
		return sk_error_set(err, SK_EEXIST,
		                    "account '%s' exists and is not one of partner '%s'; name "
		                    "another with --account",
		                    account, partner);
	return SK_OK;
}

static sk_err record(sk_store *st, const char *iid, const char *secret, const char *partner,
                     const char *account, const char *coll, unsigned grants, int64_t expires,
                     sk_error *err)
{
	unsigned char h[32];
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	secret_hash(secret, h);
	if (sqlite3_prepare_v2(
	        sk_store_sqlite(st),
	        "INSERT INTO invites(iid, hash, partner, account, coll, flags, created,"
	        " expires) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
	        -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "invites");
	sqlite3_bind_text(s, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, coll, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, (int)grants);
	sqlite3_bind_int64(s, 7, sk_ts_now_us());
	sqlite3_bind_int64(s, 8, expires);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "invites");
	sqlite3_finalize(s);
	return rc;
}

/* The signed code: prefix, base64url of the payload, '.', base64url of the signature. */
static sk_err encode(const sk_keypair *kp, json_t *payload, char **code, sk_error *err)
{
	unsigned char sig[crypto_sign_BYTES];
	char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n, m, tl;

	if (!text)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	tl = strlen(text);
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, tl, kp->sk);
	n = sodium_base64_ENCODED_LEN(tl, B64URL);
	m = sodium_base64_ENCODED_LEN(sizeof(sig), B64URL);
	if (!(*code = malloc(sizeof(SK_INVITE_PREFIX) + n + m + 1))) {
		free(text);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	strcpy(*code, SK_INVITE_PREFIX);
	sodium_bin2base64(*code + strlen(*code), n, (const unsigned char *)text, tl, B64URL);
	strcat(*code, ".");
	sodium_bin2base64(*code + strlen(*code), m, sig, sizeof(sig), B64URL);
	sodium_memzero(text, tl); /* it holds the secret */
	free(text);
	return SK_OK;
}

sk_err sk_invite_create(sk_store *st, const sk_invite_params *p, char **code, sk_error *err)
{
	const sk_keypair *kp = sk_store_own_key(st);
	const char *hub = sk_store_own_id(st);
	char acct[SK_ACCOUNT_NAME_MAX + 1], iid[IID_LEN + 1], secret[SECRET_LEN + 1];
	char root[160], kb64[SK_KEY_B64_MAX];
	unsigned char rnd[32];
	int64_t ttl = p->ttl_s ? p->ttl_s : SK_INVITE_DEFAULT_TTL_S, expires;
	unsigned grants = p->grants ? p->grants : SK_GRANT_READ;
	sk_collection c = {0};
	sk_principal who;
	json_t *payload = NULL;
	bool own = false;
	sk_err rc;

	*code = NULL;
	if (!kp || !hub)
		return sk_error_set(err, SK_EINVAL,
		                    "this node has no identity or key yet "
		                    "(schakel init)");
	if (!p->partner || !*p->partner || !p->collection || !p->url)
		return sk_error_set(err, SK_EINVAL,
		                    "an invitation needs a partner, a collection "
		                    "and the hub's URL");
	if (strncmp(p->url, "https://", 8) && strncmp(p->url, "http://", 7))
		return sk_error_set(err, SK_EINVAL, "the hub's URL must be http:// or https://");
	if (!strncmp(p->url, "https://", 8) != (p->tls_pin != NULL))
		return sk_error_set(err, SK_EINVAL,
		                    p->tls_pin ? "a TLS pin needs an https:// URL"
		                               : "an https:// URL needs the hub's "
		                                 "certificate (--tls-cert) for its pin");
	if (ttl < 60 || ttl > SK_INVITE_MAX_TTL_S)
		return sk_error_set(err, SK_EINVAL, "an invitation lasts 1 minute to 30 days");
	if (p->account)
		snprintf(acct, sizeof(acct), "%s", p->account);
	else
		account_name(p->partner, acct, sizeof(acct));
	randombytes_buf(rnd, 8);
	sodium_bin2hex(iid, sizeof(iid), rnd, 8);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(secret, sizeof(secret), rnd, sizeof(rnd), B64URL);
	sodium_memzero(rnd, sizeof(rnd));
	expires = sk_ts_now_us() + ttl * 1000000;

	if ((rc = sk_audit_tx_begin(st, &own, err)))
		return rc;
	if ((rc = sk_collection_resolve(st, p->collection, &c, err)) ||
	    (rc = coll_root(st, c.cid, root, sizeof(root), err)))
		goto out;
	rc = sk_partner_principal(st, p->partner, &who, err);
	if (rc == SK_ENOTFOUND) {
		sk_partner_params pp = {.name = p->partner};
		rc = sk_partner_add(st, &pp, NULL, err);
	}
	if (rc)
		goto out;
	rc = account_of(st, acct, p->partner, err);
	if (rc == SK_ENOTFOUND)
		rc = sk_account_add(st, p->partner, acct, NULL, NULL, err);
	if (rc || (rc = sk_grant_set(st, p->partner, c.uuid, grants, err)) ||
	    (rc = record(st, iid, secret, p->partner, acct, c.uuid, grants, expires, err)))
		goto out;
	sk_key_b64(kp->pk, kb64);
	payload = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:I, s:i}", "v", 1,
	                    "url", p->url, "api_root", root, "collection", c.uuid, "hub", hub,
	                    "key", kb64, "tls_pin", p->tls_pin, "invite", iid, "secret", secret,
	                    "expires", (json_int_t)(expires / 1000000), "grants", (int)grants);
	if (!payload)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	else
		rc = encode(kp, payload, code, err);
out:
	sodium_memzero(secret, sizeof(secret));
	if (payload) { /* its copy of the secret */
		json_object_set_new(payload, "secret", json_string(""));
		json_decref(payload);
	}
	{
		/* names may hold any character: the detail is built as JSON, not by hand */
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		json_t *d = json_pack("{s:s, s:s, s:s, s:i, s:I}", "invite", iid, "account", acct,
		                      "collection", c.uuid, "grants", (int)grants, "expires",
		                      (json_int_t)(expires / 1000000));
		char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		sk_audit_entry e = {.action = "invite.create", .subject = subj, .detail = ds};
		snprintf(subj, sizeof(subj), "partner:%s", p->partner);
		if (!rc && !ds)
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		if (rc)
			sk_audit_tx_end(st, own, rc, NULL, err);
		else
			rc = sk_audit_tx_end(st, own, rc, &e, err);
		json_decref(d);
		free(ds);
	}
	sk_collection_clear(&c);
	if (rc) {
		if (*code)
			sodium_memzero(*code, strlen(*code));
		free(*code);
		*code = NULL;
	}
	return rc;
}

void sk_invite_code_clear(sk_invite_code *c)
{
	if (!c)
		return;
	if (c->secret)
		sodium_memzero(c->secret, strlen(c->secret));
	free(c->url);
	free(c->api_root);
	free(c->collection);
	free(c->hub);
	free(c->tls_pin);
	free(c->iid);
	free(c->secret);
	memset(c, 0, sizeof(*c));
}

static char *dup_field(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? strdup(v) : NULL;
}

sk_err sk_invite_decode(const char *code, sk_invite_code *out, sk_error *err)
{
	const size_t pl = strlen(SK_INVITE_PREFIX);
	unsigned char sig[crypto_sign_BYTES], *text = NULL;
	const char *dot, *b64;
	size_t n, tl = 0, sl = 0;
	json_t *o = NULL;
	json_int_t exp;
	sk_err rc = SK_OK;

	memset(out, 0, sizeof(*out));
	n = code ? strlen(code) : 0;
	while (n && (code[n - 1] == '\n' || code[n - 1] == '\r' || code[n - 1] == ' '))
		n--;
	if (n < pl || strncmp(code, SK_INVITE_PREFIX, pl) != 0)
		return sk_error_set(err, SK_EINVAL, "not an invitation code (it starts with '%s')",
		                    SK_INVITE_PREFIX);
	if (n > 8192)
		return sk_error_set(err, SK_EINVAL, "the invitation code is too long (%zu bytes)",
		                    n);
	b64 = code + pl;
	if (!(dot = memchr(b64, '.', n - pl)))
		return sk_error_set(err, SK_EINVAL,
		                    "the invitation code is cut short (no signature)");
	if (!(text = malloc(n)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (sodium_base642bin(text, n, b64, (size_t)(dot - b64), NULL, &tl, NULL, B64URL) ||
	    sodium_base642bin(sig, sizeof(sig), dot + 1, (size_t)(code + n - dot - 1), NULL, &sl,
	                      NULL, B64URL) ||
	    sl != sizeof(sig)) {
		rc = sk_error_set(err, SK_EINVAL,
		                  "the invitation code is damaged (not base64url, "
		                  "or cut short)");
		goto out;
	}
	if (!(o = json_loadb((const char *)text, tl, JSON_REJECT_DUPLICATES, NULL)) ||
	    !json_is_object(o) || json_integer_value(json_object_get(o, "v")) != 1) {
		rc = sk_error_set(err, SK_EINVAL,
		                  "the invitation code is damaged or of an unknown "
		                  "version");
		goto out;
	}
	out->url = dup_field(o, "url");
	out->api_root = dup_field(o, "api_root");
	out->collection = dup_field(o, "collection");
	out->hub = dup_field(o, "hub");
	out->tls_pin = dup_field(o, "tls_pin");
	out->iid = dup_field(o, "invite");
	out->secret = dup_field(o, "secret");
	exp = json_integer_value(json_object_get(o, "expires"));
	out->expires_us = exp > 0 && exp < INT64_MAX / 1000000 ? (int64_t)exp * 1000000 : 0;
	out->grants = (unsigned)json_integer_value(json_object_get(o, "grants"));
	if (!out->url || !out->api_root || !out->collection || !out->hub || !out->iid ||
	    !out->secret || !out->expires_us ||
	    !sk_key_parse(json_string_value(json_object_get(o, "key")), out->key) ||
	    strlen(out->iid) != IID_LEN || strlen(out->secret) != SECRET_LEN ||
	    !sk_stix_id_valid(out->hub, "identity") ||
	    (out->tls_pin && strlen(out->tls_pin) != SK_TLS_PIN_LEN)) {
		rc = sk_error_set(err, SK_EINVAL,
		                  "the invitation code lacks a field or has a bad one");
		goto out;
	}
	/* the hub's signature over exactly these bytes, by the key they name */
	if (crypto_sign_verify_detached(sig, text, tl, out->key) != 0)
		rc = sk_error_set(err, SK_EINVAL,
		                  "the invitation code was changed: its signature "
		                  "does not hold");
out:
	if (text) {
		sodium_memzero(text, n);
		free(text);
	}
	json_decref(o);
	if (rc)
		sk_invite_code_clear(out);
	return rc;
}

/* "Invite IID.SECRET" split into iid and secret (pointers into header). */
static bool parse_header(const char *h, char iid[IID_LEN + 1], const char **secret)
{
	if (!h || strncasecmp(h, "Invite ", 7) != 0)
		return false;
	h += 7;
	if (strlen(h) != IID_LEN + 1 + SECRET_LEN || h[IID_LEN] != '.')
		return false;
	memcpy(iid, h, IID_LEN);
	iid[IID_LEN] = '\0';
	*secret = h + IID_LEN + 1;
	return true;
}

typedef struct invite_row {
	char partner[SK_ACCOUNT_NAME_MAX + 1], account[SK_ACCOUNT_NAME_MAX + 1];
	int64_t expires;
	bool used;
} invite_row;

/*
 * The invitation the header names, if its secret matches (constant time):
 * SK_OK with row filled, SK_EAUTH for an unknown one or a wrong secret.
 */
static sk_err lookup(sk_store *st, const char *header, char iid[IID_LEN + 1], invite_row *row,
                     sk_error *err)
{
	unsigned char h[32];
	const char *secret;
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (!parse_header(header, iid, &secret))
		return sk_error_set(err, SK_EAUTH, "not an invitation");
	if (sqlite3_prepare_v2(
	        sk_store_sqlite(st),
	        "SELECT hash, partner, account, expires, used FROM invites WHERE iid=?1", -1, &s,
	        NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "invites");
	sqlite3_bind_text(s, 1, iid, -1, SQLITE_STATIC);
	secret_hash(secret, h);
	if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 0) != 32 ||
	    sodium_memcmp(sqlite3_column_blob(s, 0), h, 32) != 0) {
		rc = sk_error_set(err, SK_EAUTH, "unknown invitation");
	} else {
		snprintf(row->partner, sizeof(row->partner), "%s", sqlite3_column_text(s, 1));
		snprintf(row->account, sizeof(row->account), "%s", sqlite3_column_text(s, 2));
		row->expires = sqlite3_column_int64(s, 3);
		row->used = sqlite3_column_int64(s, 4) != 0;
	}
	sqlite3_finalize(s);
	return rc;
}

bool sk_invite_usable(sk_store *st, const char *authorization)
{
	char iid[IID_LEN + 1];
	invite_row r;
	sk_error e;

	return lookup(st, authorization, iid, &r, &e) == SK_OK;
}

/*
 * Bind partner to identity: already bound, or bound to an identity this
 * node made for it (`partner add` without --identity) that has no key
 * pinned; any other binding stays (SK_EEXIST).
 */
static sk_err bind_identity(sk_store *st, const sk_principal *who, const char *identity,
                            sk_error *err)
{
	sqlite3_stmt *s = NULL;
	bool keyed;
	sk_err rc = SK_OK;

	if (!strcmp(who->identity, identity))
		return SK_OK;
	if (sk_store_own_id(st) && !strcmp(sk_store_own_id(st), identity))
		return sk_error_set(err, SK_EEXIST, "that is this node's own identity");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT 1 FROM keys WHERE identity=?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "keys");
	sqlite3_bind_text(s, 1, who->identity, -1, SQLITE_STATIC);
	keyed = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (keyed)
		return sk_error_set(err, SK_EEXIST,
		                    "partner '%s' is bound to %s, whose key is pinned; an "
		                    "invitation does not re-bind it",
		                    who->partner, who->identity);
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "UPDATE partners SET identity=?2 WHERE pid=?1",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "partners");
	sqlite3_bind_int64(s, 1, who->pid);
	sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = (sqlite3_extended_errcode(sk_store_sqlite(st)) & 0xff) == SQLITE_CONSTRAINT
		         ? sk_error_set(err, SK_EEXIST, "identity %s belongs to another partner",
		                        identity)
		         : sk_store_dberr(st, err, "partners");
	sqlite3_finalize(s);
	return rc;
}

static sk_err mark_used(sk_store *st, const char *iid, const char *identity, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "UPDATE invites SET used=?2, used_by=?3 WHERE iid=?1 AND used=0", -1,
	                       &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "invites");
	sqlite3_bind_text(s, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, sk_ts_now_us());
	sqlite3_bind_text(s, 3, identity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "invites");
	else if (sqlite3_changes(sk_store_sqlite(st)) != 1)
		rc = sk_error_set(err, SK_EAUTH, "the invitation was used already");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_invite_redeem(sk_store *st, const char *authorization, const char *body, size_t len,
                        json_t **resp, int *status, sk_error *err)
{
	char iid[IID_LEN + 1], fp[SK_FINGERPRINT_MAX], tid[16];
	unsigned char pk[SK_KEY_PK_LEN];
	const char *identity, *key;
	char *token = NULL;
	invite_row row;
	sk_principal who;
	json_error_t je;
	json_t *o = NULL;
	sk_err rc;

	*resp = NULL;
	*status = 401;
	if (len > SK_INVITE_MAX_BODY) {
		*status = 413;
		return sk_error_set(err, SK_ELIMIT, "an enrolment is at most %d bytes",
		                    SK_INVITE_MAX_BODY);
	}
	if (!(o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(o)) {
		json_decref(o);
		*status = 400;
		return sk_error_set(err, SK_EINVAL,
		                    "the enrolment is not a JSON object (offset %d: %s)",
		                    je.position, je.text);
	}
	identity = json_string_value(json_object_get(o, "identity"));
	key = json_string_value(json_object_get(o, "key"));
	if (!identity || !sk_stix_id_valid(identity, "identity") ||
	    strlen(identity) > SK_IDENTITY_ID_MAX || !key || !sk_key_parse(key, pk)) {
		json_decref(o);
		*status = 422;
		return sk_error_set(err, SK_EINVAL,
		                    "the enrolment needs \"identity\" (a STIX "
		                    "identity id) and \"key\" (its Ed25519 public key)");
	}
	if ((rc = sk_store_begin(st, err)))
		goto done;
	if ((rc = lookup(st, authorization, iid, &row, err)))
		goto rollback;
	if (row.used || row.expires <= sk_ts_now_us()) {
		rc = sk_error_set(err, SK_EAUTH,
		                  row.used ? "the invitation was used already"
		                           : "the invitation has expired");
		goto rollback;
	}
	if ((rc = sk_partner_principal(st, row.partner, &who, err)))
		goto rollback;
	if ((rc = bind_identity(st, &who, identity, err))) {
		if (rc == SK_EEXIST)
			*status = 409;
		goto rollback;
	}
	if ((rc = sk_store_key_pin(st, identity, pk, "enrolled", err)) ||
	    (rc = sk_token_create(st, row.account, "enrolled", &token, tid, err)) ||
	    (rc = mark_used(st, iid, identity, err)))
		goto rollback;
	sk_key_fingerprint(pk, fp);
	{
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		json_t *d =
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "invite", iid, "account", row.account,
		              "identity", identity, "fingerprint", fp, "token", tid);
		char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		sk_audit_entry e = {.action = "invite.redeem", .subject = subj, .detail = ds};
		snprintf(subj, sizeof(subj), "partner:%s", row.partner);
		rc = ds ? sk_audit_append(st, &e, err)
		        : sk_error_set(err, SK_ENOMEM, "out of memory");
		json_decref(d);
		free(ds);
		if (rc)
			goto rollback;
	}
	if ((rc = sk_store_commit(st, err)))
		goto done;
	*resp = json_pack("{s:s, s:s, s:s}", "token", token, "account", row.account, "hub",
	                  sk_store_own_id(st) ? sk_store_own_id(st) : "");
	*status = 200;
	if (!*resp)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	goto done;
rollback:
	if (rc != SK_EAUTH && rc != SK_EEXIST && *status == 401)
		*status = 500;
	sk_store_rollback(st);
done:
	if (token) {
		sodium_memzero(token, strlen(token));
		free(token);
	}
	json_decref(o);
	return rc;
}

sk_err sk_invite_list(sk_store *st, int (*fn)(void *ud, const sk_invite_row *r), void *ud,
                      sk_error *err)
{
	sqlite3_stmt *s = NULL;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT iid, partner, account, used_by, created, expires, used"
	                       " FROM invites ORDER BY created",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "invites");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_invite_row r = {.iid = (const char *)sqlite3_column_text(s, 0),
		                   .partner = (const char *)sqlite3_column_text(s, 1),
		                   .account = (const char *)sqlite3_column_text(s, 2),
		                   .used_by = (const char *)sqlite3_column_text(s, 3),
		                   .created = sqlite3_column_int64(s, 4),
		                   .expires = sqlite3_column_int64(s, 5),
		                   .used = sqlite3_column_int64(s, 6)};
		if (fn(ud, &r))
			break;
	}
	sqlite3_finalize(s);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SK_OK
	                                                 : sk_store_dberr(st, err, "invites");
}

sk_err sk_tls_cert_pin(const char *pem_file, char out[SK_TLS_PIN_LEN + 1], sk_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = {0}, der = {0};
	unsigned char h[crypto_hash_sha256_BYTES];
	sk_err rc = SK_OK;
	int e;

	if ((e = gnutls_load_file(pem_file, &pem)) < 0)
		return sk_error_set(err, SK_EIO, "%s: %s", pem_file, gnutls_strerror(e));
	if ((e = gnutls_x509_crt_init(&crt)) < 0 ||
	    (e = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (e = gnutls_pubkey_init(&pub)) < 0 ||
	    (e = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (e = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0) {
		rc = sk_error_set(err, SK_EINVAL, "%s: not a PEM certificate (%s)", pem_file,
		                  gnutls_strerror(e));
		goto out;
	}
	/* curl's pinned public key: SHA-256 of the DER SubjectPublicKeyInfo */
	crypto_hash_sha256(h, der.data, der.size);
	memcpy(out, "sha256//", 8);
	sodium_bin2base64(out + 8, SK_TLS_PIN_LEN - 8 + 1, h, sizeof(h),
	                  sodium_base64_VARIANT_ORIGINAL);
out:
	gnutls_free(der.data);
	gnutls_free(pem.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}
