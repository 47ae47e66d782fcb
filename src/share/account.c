/*
 * account.c - partners, accounts (a partner's, or the node's own with a
 * role), secrets (argon2id passwords, hashed API tokens), their verification,
 * and collection grants.  The login cache and the password-guessing limits
 * are in auth.c.
 *
 * Secrets: passwords are kept only as crypto_pwhash_str strings, tokens only
 * as an unkeyed BLAKE2b-256 hash (a token has 256 random bits, so a fast hash
 * is enough and makes lookup an index probe).  Nothing here logs a secret.
 *
 * Every change of an account or its tokens bumps accounts.gen, in the same
 * statement or transaction as the change, so a cached login of the account
 * is dropped on its next use (auth.c).
 */
#include "schakel/account.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "schakel/audit.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "account_int.h"
#include "store/store_priv.h"

/* The reserved partner row of the node's own accounts (store.c, schema 8). */
#define OWN_PID 0

static const char *const role_names[] = {"", "admin", "analyst", "viewer", "metrics"};

const char *sk_role_name(sk_role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "";
}

bool sk_role_parse(const char *s, sk_role *out)
{
	for (unsigned i = 1; s && i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (!strcmp(s, role_names[i])) {
			*out = (sk_role)i;
			return true;
		}
	return false;
}

static sk_err prep(sk_store *st, const char *sql, sqlite3_stmt **s, sk_error *err)
{
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "prepare");
	return SK_OK;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static bool sodium_ready(void)
{
	return sodium_init() >= 0;
}

/* --- the audit log of changes (docs/audit.md) ------------------------------ */

/*
 * End the transaction of a change: with rc SK_OK, append its audit entry
 * (action, subject, detail: stolen, never a secret) and commit, so that the
 * change and its entry are stored together or not at all; else roll back.
 */
static sk_err audit_end(sk_store *st, bool own, sk_err rc, const char *action,
			const char *subject, json_t *detail, sk_error *err)
{
	sk_audit_entry e = {.action = action, .subject = subject};
	char *d = NULL;

	if (!rc) {
		d = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (detail && !d)
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		e.detail = d;
	}
	rc = sk_audit_tx_end(st, own, rc, &e, err);
	json_decref(detail);
	free(d);
	return rc;
}

/* The partner an account belongs to, into out ("" for an own account or none). */
static void account_partner(sk_store *st, const char *account, char *out, size_t n)
{
	sqlite3_stmt *s = NULL;
	out[0] = '\0';
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT p.name FROM accounts a JOIN partners p ON p.pid=a.pid"
			       " WHERE a.name=?1 AND p.pid > 0",
			       -1, &s, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		copy_col(out, n, s, 0);
	sqlite3_finalize(s);
}

static void subject_of(char *out, size_t n, const char *kind, const char *name)
{
	snprintf(out, n, "%s:%s", kind, name ? name : "");
}

/* --- partners ------------------------------------------------------------ */

/* Validate and store one object built here (in no collection); inside a transaction. */
static sk_err make_identity(sk_store *st, const sk_partner_params *p, char *id, size_t idn,
			    sk_error *err)
{
	char uuid[SK_UUID_LEN + 1], ts[SK_TS_STR_MAX];
	json_t *ident = NULL;
	sk_err rc = SK_OK;

	sk_ts_format_ms(sk_ts_now_us(), ts);
	sk_uuid_v4(uuid);
	snprintf(id, idn, "identity--%s", uuid);
	ident = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity", "spec_version",
			  "2.1", "id", id, "created", ts, "modified", ts, "name", p->name,
			  "identity_class", "organization");
	if (!ident)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (p->nsectors) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < p->nsectors; i++)
			json_array_append_new(a, json_string(p->sectors[i]));
		json_object_set_new(ident, "sectors", a);
	}
	if ((rc = sk_store_put_json(st, 0, ident, err)))
		goto out;
	if (p->country)
		rc = sk_store_put_located_at(st, id, p->country, ts, err);
out:
	json_decref(ident);
	return rc;
}

sk_err sk_partner_add(sk_store *st, const sk_partner_params *p, char *identity_out,
		      sk_error *err)
{
	bool own = false;
	char id[SK_IDENTITY_ID_MAX + 1];
	sqlite3_stmt *s = NULL;
	sk_err rc;
	int step;

	if (!p || !p->name || !*p->name || strlen(p->name) > SK_ACCOUNT_NAME_MAX)
		return sk_error_set(err, SK_EINVAL, "a partner needs a name of 1-%d bytes",
				    SK_ACCOUNT_NAME_MAX);
	if (p->country && strlen(p->country) != 2)
		return sk_error_set(err, SK_EINVAL, "country must be an ISO 3166-1 alpha-2 code");
	if (p->identity && (!sk_stix_id_valid(p->identity, "identity") ||
			    strlen(p->identity) > SK_IDENTITY_ID_MAX))
		return sk_error_set(err, SK_EINVAL, "'%s' is not an identity id", p->identity);
	if ((rc = sk_audit_tx_begin(st, &own, err)))
		return rc;
	if (p->identity)
		snprintf(id, sizeof(id), "%s", p->identity);
	else if ((rc = make_identity(st, p, id, sizeof(id), err)))
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO partners(name, identity, country, created) VALUES(?1,?2,?3,?4)",
		       &s, err)))
		goto out;
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->country, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sk_ts_now_us());
	step = sqlite3_step(s);
	if ((step & 0xff) == SQLITE_CONSTRAINT)
		rc = sk_error_set(err, SK_EEXIST, "a partner named '%s' or with identity %s exists",
				  p->name, id);
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "partner");
	sqlite3_finalize(s);
	s = NULL;
	{
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		subject_of(subj, sizeof(subj), "partner", p->name);
		rc = audit_end(st, own, rc, "partner.add", subj,
			       json_pack("{s:s, s:s, s:s?}", "partner", p->name, "identity", id,
					 "country", p->country),
			       err);
	}
	if (!rc && identity_out)
		snprintf(identity_out, SK_IDENTITY_ID_MAX + 1, "%s", id);
	return rc;
out:
	sqlite3_finalize(s);
	if (rc && own)
		sk_store_rollback(st);
	return rc;
}

sk_err sk_partner_list(sk_store *st, int (*fn)(void *ud, const sk_partner_row *r), void *ud,
		       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st,
			 "SELECT pid, name, identity, country,"
			 " (SELECT COUNT(*) FROM accounts a WHERE a.pid=p.pid), trust"
			 " FROM partners p WHERE p.pid > 0 ORDER BY name",
			 &s, err);
	int step;

	if (rc)
		return rc;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_partner_row r = {
		    .pid = sqlite3_column_int64(s, 0),
		    .name = (const char *)sqlite3_column_text(s, 1),
		    .identity = (const char *)sqlite3_column_text(s, 2),
		    .country = (const char *)sqlite3_column_text(s, 3),
		    .accounts = sqlite3_column_int64(s, 4),
		    .trust = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5),
		};
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "partners");
	sqlite3_finalize(s);
	return rc;
}

static sk_err partner_pid(sk_store *st, const char *name, int64_t *pid, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st, "SELECT pid FROM partners WHERE (name=?1 OR identity=?1) AND pid > 0",
			 &s, err);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		*pid = sqlite3_column_int64(s, 0);
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "no partner named '%s'", name);
	sqlite3_finalize(s);
	return rc;
}

/* --- accounts ------------------------------------------------------------ */

static char *random_secret(size_t nbytes, const char *prefix)
{
	unsigned char raw[64];
	size_t plen = strlen(prefix);
	size_t n = sodium_base64_ENCODED_LEN(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(plen + n);

	if (!out || nbytes > sizeof(raw)) {
		free(out);
		return NULL;
	}
	randombytes_buf(raw, nbytes);
	memcpy(out, prefix, plen);
	sodium_bin2base64(out + plen, n, raw, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return out;
}

/*
 * The argon2id string of password, or of a generated one (*gen, malloc'd:
 * the caller wipes and frees it).
 */
static sk_err hash_password(const char *password, char **gen, char hash[crypto_pwhash_STRBYTES],
			    sk_error *err)
{
	*gen = NULL;
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!password) {
		*gen = random_secret(18, "");
		if (!*gen)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		password = *gen;
	}
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return sk_error_set(err, SK_ENOMEM, "password hashing ran out of memory");
	return SK_OK;
}

/* Hand a generated password to the caller (when asked and all went well), else wipe it. */
static void give_generated(sk_err rc, char *gen, char **generated)
{
	if (!rc && gen && generated) {
		*generated = gen;
		return;
	}
	if (gen) {
		sodium_memzero(gen, strlen(gen));
		free(gen);
	}
}

static sk_err add_account(sk_store *st, int64_t pid, const char *partner, sk_role role,
			  const char *name, const char *password, char **generated, sk_error *err)
{
	bool own = false;
	char hash[crypto_pwhash_STRBYTES];
	char *gen = NULL;
	sqlite3_stmt *s = NULL;
	sk_err rc;
	int step;

	if ((rc = hash_password(password, &gen, hash, err)))
		goto out;
	/* after the (slow) hash: the write lock is held only for the insert */
	if ((rc = sk_audit_tx_begin(st, &own, err)))
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO accounts(pid, name, pwhash, created, role) VALUES(?1,?2,?3,?4,?5)",
		       &s, err))) {
		if (own)
			sk_store_rollback(st);
		goto out;
	}
	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sk_ts_now_us());
	if (role != SK_ROLE_PARTNER)
		sqlite3_bind_text(s, 5, sk_role_name(role), -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if ((step & 0xff) == SQLITE_CONSTRAINT)
		rc = sk_error_set(err, SK_EEXIST, "an account named '%s' exists", name);
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "account");
	{
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		subject_of(subj, sizeof(subj), "account", name);
		rc = audit_end(st, own, rc, "account.add", subj,
			       json_pack("{s:s, s:s?, s:s?}", "account", name, "partner", partner,
					 "role", role != SK_ROLE_PARTNER ? sk_role_name(role) : NULL),
			       err);
	}
out:
	sqlite3_finalize(s);
	sodium_memzero(hash, sizeof(hash));
	give_generated(rc, gen, generated);
	return rc;
}

static sk_err check_name(const char *name, sk_error *err)
{
	if (!name || !*name || strlen(name) > SK_ACCOUNT_NAME_MAX || strchr(name, ':'))
		return sk_error_set(err, SK_EINVAL,
				    "an account needs a name of 1-%d bytes without ':'",
				    SK_ACCOUNT_NAME_MAX);
	return SK_OK;
}

sk_err sk_account_add(sk_store *st, const char *partner, const char *name, const char *password,
		      char **generated, sk_error *err)
{
	int64_t pid = 0;
	sk_err rc;

	if (generated)
		*generated = NULL;
	if ((rc = check_name(name, err)) || (rc = partner_pid(st, partner, &pid, err)))
		return rc;
	return add_account(st, pid, partner, SK_ROLE_PARTNER, name, password, generated, err);
}

sk_err sk_account_add_own(sk_store *st, const char *name, sk_role role, const char *password,
			  char **generated, sk_error *err)
{
	sk_err rc;

	if (generated)
		*generated = NULL;
	if (role <= SK_ROLE_PARTNER || role > SK_ROLE_METRICS)
		return sk_error_set(err, SK_EINVAL, "an own account needs a role");
	if ((rc = check_name(name, err)))
		return rc;
	return add_account(st, OWN_PID, NULL, role, name, password, generated, err);
}

/*
 * Run an UPDATE/DELETE on one account by name (?1), plus binds, with its
 * audit entry action; SK_ENOTFOUND if none.
 */
static sk_err change_account(sk_store *st, const char *sql, const char *name, const char *text2,
			     const char *action, sk_error *err)
{
	bool own = false;
	char partner[SK_ACCOUNT_NAME_MAX + 1], subj[SK_ACCOUNT_NAME_MAX + 16];
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if ((rc = sk_audit_tx_begin(st, &own, err)))
		return rc;
	account_partner(st, name, partner, sizeof(partner));
	if (!(rc = prep(st, sql, &s, err))) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		if (text2)
			sqlite3_bind_text(s, 2, text2, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "account");
		else if (sqlite3_changes(sk_store_sqlite(st)) == 0)
			rc = sk_error_set(err, SK_ENOTFOUND, "no account named '%s'", name);
		sqlite3_finalize(s);
	}
	subject_of(subj, sizeof(subj), "account", name);
	return audit_end(st, own, rc, action, subj,
			 json_pack("{s:s, s:s?}", "account", name, "partner",
				   partner[0] ? partner : NULL),
			 err);
}

sk_err sk_account_set_disabled(sk_store *st, const char *name, bool disabled, sk_error *err)
{
	return change_account(st,
			      disabled ? "UPDATE accounts SET disabled=1, gen=gen+1 WHERE name=?1"
				       : "UPDATE accounts SET disabled=0, gen=gen+1 WHERE name=?1",
			      name, NULL, disabled ? "account.disable" : "account.enable", err);
}

sk_err sk_account_delete(sk_store *st, const char *name, sk_error *err)
{
	/* tokens and red_recipients go with it (ON DELETE CASCADE) */
	return change_account(st, "DELETE FROM accounts WHERE name=?1", name, NULL,
			      "account.delete", err);
}

sk_err sk_account_passwd(sk_store *st, const char *name, const char *password, char **generated,
			 sk_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	char *gen = NULL;
	sk_err rc;

	if (generated)
		*generated = NULL;
	if (!(rc = hash_password(password, &gen, hash, err)))
		rc = change_account(st, "UPDATE accounts SET pwhash=?2, gen=gen+1 WHERE name=?1",
				    name, hash, "account.passwd", err);
	sodium_memzero(hash, sizeof(hash));
	give_generated(rc, gen, generated);
	return rc;
}

sk_err sk_account_list(sk_store *st, int (*fn)(void *ud, const sk_account_row *r), void *ud,
		       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st,
			 "SELECT a.name, CASE WHEN a.pid > 0 THEN p.name ELSE '' END, a.role,"
			 " a.disabled,"
			 " (SELECT COUNT(*) FROM tokens t WHERE t.aid=a.aid AND t.revoked=0)"
			 " FROM accounts a JOIN partners p ON p.pid=a.pid ORDER BY a.name",
			 &s, err);
	int step;

	if (rc)
		return rc;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_account_row r = {
		    .name = (const char *)sqlite3_column_text(s, 0),
		    .partner = (const char *)sqlite3_column_text(s, 1),
		    .role = SK_ROLE_PARTNER,
		    .disabled = sqlite3_column_int(s, 3) != 0,
		    .tokens = sqlite3_column_int64(s, 4),
		};
		sk_role_parse((const char *)sqlite3_column_text(s, 2), &r.role);
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "accounts");
	sqlite3_finalize(s);
	return rc;
}

/* The columns fill_principal reads: aid, pid, name, partner, identity, role, gen. */
#define PRINCIPAL_SQL                                                                              \
	"SELECT a.aid, a.pid, a.name, p.name, p.identity, a.role, a.gen FROM accounts a"           \
	" JOIN partners p ON p.pid=a.pid"

static void fill_principal(sqlite3_stmt *s, sk_principal *out)
{
	out->aid = sqlite3_column_int64(s, 0);
	out->pid = sqlite3_column_int64(s, 1);
	copy_col(out->account, sizeof(out->account), s, 2);
	out->role = SK_ROLE_PARTNER;
	if (out->pid > 0) {
		copy_col(out->partner, sizeof(out->partner), s, 3);
		copy_col(out->identity, sizeof(out->identity), s, 4);
	} else { /* an own account: no partner, no producer identity, whatever the row says */
		out->partner[0] = out->identity[0] = '\0';
		if (!sk_role_parse((const char *)sqlite3_column_text(s, 5), &out->role))
			out->role = SK_ROLE_VIEWER; /* (cannot happen) the least a role can do */
	}
}

sk_err sk_account_get(sk_store *st, const char *name, sk_principal *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st, PRINCIPAL_SQL " WHERE a.name=?1", &s, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		fill_principal(s, out);
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "no account named '%s'", name);
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_partner_principal(sk_store *st, const char *name, sk_principal *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st,
			 "SELECT pid, name, identity FROM partners"
			 " WHERE (name=?1 OR identity=?1) AND pid > 0",
			 &s, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		out->pid = sqlite3_column_int64(s, 0);
		copy_col(out->partner, sizeof(out->partner), s, 1);
		copy_col(out->identity, sizeof(out->identity), s, 2);
	} else {
		rc = sk_error_set(err, SK_ENOTFOUND, "no partner named '%s'", name);
	}
	sqlite3_finalize(s);
	return rc;
}

/* --- tokens -------------------------------------------------------------- */

static void token_hash(const char *token, unsigned char h[32])
{
	crypto_generichash(h, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

sk_err sk_token_create(sk_store *st, const char *account, const char *label, char **token,
		       char id_out[16], sk_error *err)
{
	bool own = false;
	unsigned char h[32], rid[6];
	char id[16];
	sk_principal p;
	sqlite3_stmt *s = NULL;
	char *tok = NULL;
	sk_err rc;

	*token = NULL;
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if ((rc = sk_account_get(st, account, &p, err)))
		return rc;
	tok = random_secret(32, SK_TOKEN_PREFIX);
	if (!tok)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	token_hash(tok, h);
	randombytes_buf(rid, sizeof(rid));
	memcpy(id, "tk", 2);
	sodium_bin2hex(id + 2, sizeof(id) - 2, rid, sizeof(rid));
	if ((rc = sk_audit_tx_begin(st, &own, err)))
		goto out;
	if ((rc = prep(st,
		       "INSERT INTO tokens(aid, hash, prefix, label, created) VALUES(?1,?2,?3,?4,?5)",
		       &s, err))) {
		if (own)
			sk_store_rollback(st);
		goto out;
	}
	sqlite3_bind_int64(s, 1, p.aid);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_ts_now_us());
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "token");
	sqlite3_finalize(s);
	s = NULL;
	if (!rc && !(rc = prep(st, "UPDATE accounts SET gen=gen+1 WHERE aid=?1", &s, err))) {
		sqlite3_bind_int64(s, 1, p.aid);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "token");
	}
	sqlite3_finalize(s);
	s = NULL;
	{
		/* the token's public id, never the token */
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		subject_of(subj, sizeof(subj), "account", account);
		rc = audit_end(st, own, rc, "token.create", subj,
			       json_pack("{s:s, s:s, s:s?, s:s?}", "account", account, "token", id,
					 "label", label, "partner", p.partner[0] ? p.partner : NULL),
			       err);
	}
out:
	sqlite3_finalize(s);
	if (rc) {
		sodium_memzero(tok, strlen(tok));
		free(tok);
		return rc;
	}
	if (id_out)
		memcpy(id_out, id, sizeof(id));
	*token = tok;
	return SK_OK;
}

sk_err sk_token_revoke(sk_store *st, const char *key, sk_error *err)
{
	bool own = false;
	static const char *const sql[] = {
	    "UPDATE accounts SET gen=gen+1 WHERE aid IN"
	    " (SELECT aid FROM tokens WHERE prefix=?1 OR hash=?2)",
	    "UPDATE tokens SET revoked=1 WHERE prefix=?1 OR hash=?2",
	};
	unsigned char h[32];
	sqlite3_stmt *s = NULL;
	sk_err rc;

	token_hash(key, h);
	if ((rc = sk_audit_tx_begin(st, &own, err)))
		return rc;
	for (size_t i = 0; i < 2 && !rc; i++) {
		if ((rc = prep(st, sql[i], &s, err)))
			break;
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "token");
		else if (i == 1 && sqlite3_changes(sk_store_sqlite(st)) == 0)
			rc = sk_error_set(err, SK_ENOTFOUND, "no such token");
		sqlite3_finalize(s);
		s = NULL;
	}
	{
		/* named by its public id: `key` may be the token itself */
		char tid[16] = "", acct[SK_ACCOUNT_NAME_MAX + 1] = "", subj[SK_ACCOUNT_NAME_MAX + 16];
		char partner[SK_ACCOUNT_NAME_MAX + 1] = "";
		if (!rc && !prep(st,
				 "SELECT t.prefix, a.name FROM tokens t JOIN accounts a ON a.aid=t.aid"
				 " WHERE t.prefix=?1 OR t.hash=?2",
				 &s, NULL)) {
			sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
			sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
			if (sqlite3_step(s) == SQLITE_ROW) {
				copy_col(tid, sizeof(tid), s, 0);
				copy_col(acct, sizeof(acct), s, 1);
			}
			sqlite3_finalize(s);
		}
		account_partner(st, acct, partner, sizeof(partner));
		subject_of(subj, sizeof(subj), "account", acct);
		return audit_end(st, own, rc, "token.revoke", subj,
				 json_pack("{s:s, s:s, s:s?}", "account", acct, "token", tid, "partner",
					   partner[0] ? partner : NULL),
				 err);
	}
}

/* --- authentication ------------------------------------------------------ */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void make_dummy(void)
{
	if (crypto_pwhash_str(dummy_hash, "x", 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

sk_err sk_auth_password(sk_store *st, const char *user, const char *password, sk_principal *out,
			sk_error *err)
{
	int64_t gen;
	return sk_auth_password_gen(st, user, password, out, &gen, err);
}

sk_err sk_auth_password_gen(sk_store *st, const char *user, const char *password,
			    sk_principal *out, int64_t *gen, sk_error *err)
{
	char hash[crypto_pwhash_STRBYTES] = "";
	sqlite3_stmt *s = NULL;
	bool found = false;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	*gen = 0;
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	/* a disabled account is as unknown: the same time is spent on it */
	if ((rc = prep(st,
		       "SELECT a.aid, a.pid, a.name, p.name, p.identity, a.role, a.gen, a.pwhash"
		       " FROM accounts a JOIN partners p ON p.pid=a.pid"
		       " WHERE a.name=?1 AND a.disabled=0",
		       &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 7)) {
		fill_principal(s, out);
		*gen = sqlite3_column_int64(s, 6);
		copy_col(hash, sizeof(hash), s, 7);
		found = true;
	}
	sqlite3_finalize(s);
	if (!found) {
		/* spend the same time as a real check, so names cannot be probed */
		pthread_once(&dummy_once, make_dummy);
		if (dummy_hash[0] &&
		    crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
			memset(out, 0, sizeof(*out)); /* (the result is irrelevant) */
		memset(out, 0, sizeof(*out));
		return sk_error_set(err, SK_EAUTH, "bad user name or password");
	}
	if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
		memset(out, 0, sizeof(*out));
		return sk_error_set(err, SK_EAUTH, "bad user name or password");
	}
	return SK_OK;
}

sk_err sk_auth_token(sk_store *st, const char *token, sk_principal *out, sk_error *err)
{
	unsigned char h[32];
	sqlite3_stmt *s = NULL;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(token, SK_TOKEN_PREFIX, strlen(SK_TOKEN_PREFIX)) != 0)
		return sk_error_set(err, SK_EAUTH, "bad token");
	/* on every bearer request: use the connection's statement cache */
	static const char q[] = "SELECT a.aid, a.pid, a.name, p.name, p.identity, a.role, a.gen,"
				" t.hash FROM tokens t"
				" JOIN accounts a ON a.aid=t.aid JOIN partners p ON p.pid=a.pid"
				" WHERE t.hash=?1 AND t.revoked=0 AND a.disabled=0";
	if ((rc = sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)))
		return rc;
	token_hash(token, h);
	sqlite3_bind_blob(s, 1, h, sizeof(h), SQLITE_STATIC);
	rc = sk_error_set(err, SK_EAUTH, "bad token");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 7) == 32 &&
	    sodium_memcmp(sqlite3_column_blob(s, 7), h, 32) == 0) {
		fill_principal(s, out);
		rc = SK_OK;
		if (err)
			sk_error_clear(err);
	}
	sk_store_stmt_put(st, s);
	return rc;
}

bool sk_account_gen_current(sk_store *st, int64_t aid, int64_t gen)
{
	/* on every cached login: use the connection's statement cache */
	static const char q[] = "SELECT gen FROM accounts WHERE aid=?1 AND disabled=0";
	sqlite3_stmt *s = NULL;
	bool ok;

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_int64(s, 1, aid);
	ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == gen;
	sk_store_stmt_put(st, s);
	return ok;
}

/* --- collections and grants ---------------------------------------------- */

sk_err sk_collection_resolve(sk_store *st, const char *key, sk_collection *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if (sk_uuid_valid(key, strlen(key)))
		return sk_store_collection_get(st, key, out, err);
	if ((rc = prep(st,
		       "SELECT c.uuid FROM collection_aliases a JOIN collections c ON c.cid=a.coll"
		       " WHERE a.alias=?1",
		       &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		char u[SK_UUID_LEN + 1];
		copy_col(u, sizeof(u), s, 0);
		sqlite3_finalize(s);
		return sk_store_collection_get(st, u, out, err);
	}
	sqlite3_finalize(s);
	return sk_store_collection_get(st, key, out, err);
}

static sk_err coll_cid(sk_store *st, const char *key, int64_t *cid, sk_error *err)
{
	sk_collection c;
	sk_err rc = sk_collection_resolve(st, key, &c, err);
	if (!rc) {
		*cid = c.cid;
		sk_collection_clear(&c);
	}
	return rc;
}

static sk_err exec_done(sk_store *st, sqlite3_stmt *s, const char *what, sk_error *err)
{
	int step = sqlite3_step(s);
	sk_err rc = SK_OK;
	if ((step & 0xff) == SQLITE_CONSTRAINT)
		rc = sk_error_set(err, SK_EEXIST, "%s: already exists", what);
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, what);
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_grant_set(sk_store *st, const char *partner, const char *collection, unsigned flags,
		    sk_error *err)
{
	bool own = false;
	sqlite3_stmt *s = NULL;
	int64_t pid = 0, cid = 0;
	sk_err rc;

	if ((rc = partner_pid(st, partner, &pid, err)) || (rc = coll_cid(st, collection, &cid, err)))
		return rc;
	if ((rc = prep(st,
		       "INSERT OR REPLACE INTO grants(coll, pid, can_read, can_write, amber,"
		       " amber_strict) VALUES(?1,?2,?3,?4,?5,?6)",
		       &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, pid);
	sqlite3_bind_int(s, 3, !!(flags & SK_GRANT_READ));
	sqlite3_bind_int(s, 4, !!(flags & SK_GRANT_WRITE));
	sqlite3_bind_int(s, 5, !!(flags & SK_GRANT_AMBER));
	sqlite3_bind_int(s, 6, !!(flags & SK_GRANT_AMBER_STRICT));
	if ((rc = sk_audit_tx_begin(st, &own, err))) {
		sqlite3_finalize(s);
		return rc;
	}
	rc = exec_done(st, s, "grant", err);
	{
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		subject_of(subj, sizeof(subj), "partner", partner);
		return audit_end(st, own, rc, "grant.set", subj,
				 json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "partner", partner,
					   "collection", collection, "read", !!(flags & SK_GRANT_READ),
					   "write", !!(flags & SK_GRANT_WRITE), "amber",
					   !!(flags & SK_GRANT_AMBER), "amber_strict",
					   !!(flags & SK_GRANT_AMBER_STRICT)),
				 err);
	}
}

sk_err sk_red_recipient_set(sk_store *st, const char *account, const char *collection, bool add,
			    sk_error *err)
{
	bool own = false;
	sqlite3_stmt *s = NULL;
	sk_principal p;
	int64_t cid = 0;
	sk_err rc;

	if ((rc = sk_account_get(st, account, &p, err)) ||
	    (rc = coll_cid(st, collection, &cid, err)))
		return rc;
	if ((rc = prep(st,
		       add ? "INSERT OR IGNORE INTO red_recipients(coll, aid) VALUES(?1,?2)"
			   : "DELETE FROM red_recipients WHERE coll=?1 AND aid=?2",
		       &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, p.aid);
	if ((rc = sk_audit_tx_begin(st, &own, err))) {
		sqlite3_finalize(s);
		return rc;
	}
	rc = exec_done(st, s, "red recipient", err);
	{
		char subj[SK_ACCOUNT_NAME_MAX + 16];
		subject_of(subj, sizeof(subj), "account", account);
		return audit_end(st, own, rc, add ? "red.add" : "red.remove", subj,
				 json_pack("{s:s, s:s, s:s?}", "account", account, "collection",
					   collection, "partner", p.partner[0] ? p.partner : NULL),
				 err);
	}
}

sk_err sk_collection_alias_add(sk_store *st, const char *collection, const char *alias,
			       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	int64_t cid = 0;
	sk_err rc;

	if (!alias || !*alias || strlen(alias) > 200 || strchr(alias, '/') ||
	    sk_uuid_valid(alias, strlen(alias)))
		return sk_error_set(err, SK_EINVAL, "an alias is 1-200 bytes, no '/', not a UUID");
	if ((rc = coll_cid(st, collection, &cid, err)))
		return rc;
	if ((rc = prep(st, "INSERT INTO collection_aliases(alias, coll) VALUES(?1,?2)", &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, alias, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cid);
	return exec_done(st, s, alias, err);
}

sk_err sk_collection_set_sharing(sk_store *st, const char *collection, sk_tlp default_tlp,
				 bool is_public, sk_error *err)
{
	bool own = false;
	sqlite3_stmt *s = NULL;
	int64_t cid = 0;
	sk_err rc;

	if (default_tlp < SK_TLP_CLEAR || default_tlp > SK_TLP_RED)
		return sk_error_set(err, SK_EINVAL, "a default marking must be a TLP level");
	if ((rc = coll_cid(st, collection, &cid, err)))
		return rc;
	if ((rc = prep(st, "UPDATE collections SET default_tlp=?2, public=?3 WHERE cid=?1", &s,
		       err)))
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int(s, 2, (int)default_tlp);
	sqlite3_bind_int(s, 3, is_public);
	if ((rc = sk_audit_tx_begin(st, &own, err))) {
		sqlite3_finalize(s);
		return rc;
	}
	rc = exec_done(st, s, "collection", err);
	{
		char subj[256];
		subject_of(subj, sizeof(subj), "collection", collection);
		return audit_end(st, own, rc, "collection.sharing", subj,
				 json_pack("{s:s, s:i, s:b}", "collection", collection,
					   "default_tlp", (int)default_tlp, "public", is_public),
				 err);
	}
}

sk_err sk_collection_set_root(sk_store *st, const char *collection, const char *root,
			      sk_error *err)
{
	sqlite3_stmt *s = NULL;
	int64_t cid = 0;
	sk_err rc;

	if (!root || !*root || strlen(root) > 64 || strspn(root, "abcdefghijklmnopqrstuvwxyz"
							       "0123456789-_") != strlen(root) ||
	    !strcmp(root, "taxii2"))
		return sk_error_set(err, SK_EINVAL,
				    "an API root name is 1-64 of [a-z0-9-_] (not 'taxii2')");
	if ((rc = coll_cid(st, collection, &cid, err)))
		return rc;
	if ((rc = prep(st, "INSERT OR IGNORE INTO api_roots(name, title) VALUES(?1, ?1)", &s,
		       err)))
		return rc;
	sqlite3_bind_text(s, 1, root, -1, SQLITE_STATIC);
	if ((rc = exec_done(st, s, "api root", err)))
		return rc;
	if ((rc = prep(st,
		       "UPDATE collections SET root=(SELECT rid FROM api_roots WHERE name=?2)"
		       " WHERE cid=?1",
		       &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_text(s, 2, root, -1, SQLITE_STATIC);
	return exec_done(st, s, "collection", err);
}
