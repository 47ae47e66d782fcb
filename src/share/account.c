/*
 * account.c - partners, accounts, secrets (argon2id passwords, hashed API
 * tokens), the Basic-auth verification cache, and collection grants.
 *
 * Secrets: passwords are kept only as crypto_pwhash_str strings, tokens only
 * as an unkeyed BLAKE2b-256 hash (a token has 256 random bits, so a fast hash
 * is enough and makes lookup an index probe).  Nothing here logs a secret.
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

#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"

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
	if ((rc = sk_store_begin(st, err)))
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
	if (!rc)
		rc = sk_store_commit(st, err);
	if (!rc && identity_out)
		snprintf(identity_out, SK_IDENTITY_ID_MAX + 1, "%s", id);
out:
	sqlite3_finalize(s);
	if (rc)
		sk_store_rollback(st);
	return rc;
}

sk_err sk_partner_list(sk_store *st, int (*fn)(void *ud, const sk_partner_row *r), void *ud,
		       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st,
			 "SELECT pid, name, identity, country,"
			 " (SELECT COUNT(*) FROM accounts a WHERE a.pid=p.pid)"
			 " FROM partners p ORDER BY name",
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
	sk_err rc = prep(st, "SELECT pid FROM partners WHERE name=?1 OR identity=?1", &s, err);
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

sk_err sk_account_add(sk_store *st, const char *partner, const char *name, const char *password,
		      char **generated, sk_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	char *gen = NULL;
	sqlite3_stmt *s = NULL;
	int64_t pid = 0;
	sk_err rc;
	int step;

	if (generated)
		*generated = NULL;
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!name || !*name || strlen(name) > SK_ACCOUNT_NAME_MAX || strchr(name, ':'))
		return sk_error_set(err, SK_EINVAL,
				    "an account needs a name of 1-%d bytes without ':'",
				    SK_ACCOUNT_NAME_MAX);
	if ((rc = partner_pid(st, partner, &pid, err)))
		return rc;
	if (!password) {
		gen = random_secret(18, "");
		if (!gen)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		password = gen;
	}
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		rc = sk_error_set(err, SK_ENOMEM, "password hashing ran out of memory");
		goto out;
	}
	if ((rc = prep(st, "INSERT INTO accounts(pid, name, pwhash, created) VALUES(?1,?2,?3,?4)",
		       &s, err)))
		goto out;
	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sk_ts_now_us());
	step = sqlite3_step(s);
	if ((step & 0xff) == SQLITE_CONSTRAINT)
		rc = sk_error_set(err, SK_EEXIST, "an account named '%s' exists", name);
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "account");
out:
	sqlite3_finalize(s);
	if (!rc && gen && generated) {
		*generated = gen;
		gen = NULL;
	}
	if (gen) {
		sodium_memzero(gen, strlen(gen));
		free(gen);
	}
	return rc;
}

#define PRINCIPAL_SQL                                                                              \
	"SELECT a.aid, a.pid, a.name, p.name, p.identity FROM accounts a"                          \
	" JOIN partners p ON p.pid=a.pid"

static void fill_principal(sqlite3_stmt *s, sk_principal *out)
{
	out->aid = sqlite3_column_int64(s, 0);
	out->pid = sqlite3_column_int64(s, 1);
	copy_col(out->account, sizeof(out->account), s, 2);
	copy_col(out->partner, sizeof(out->partner), s, 3);
	copy_col(out->identity, sizeof(out->identity), s, 4);
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
	sk_err rc = prep(st, "SELECT pid, name, identity FROM partners WHERE name=?1 OR identity=?1",
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
	if ((rc = prep(st,
		       "INSERT INTO tokens(aid, hash, prefix, label, created) VALUES(?1,?2,?3,?4,?5)",
		       &s, err)))
		goto out;
	sqlite3_bind_int64(s, 1, p.aid);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_ts_now_us());
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "token");
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
	unsigned char h[32];
	sqlite3_stmt *s = NULL;
	sk_err rc = prep(st, "UPDATE tokens SET revoked=1 WHERE prefix=?1 OR hash=?2", &s, err);

	if (rc)
		return rc;
	token_hash(key, h);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "token");
	else if (sqlite3_changes(sk_store_sqlite(st)) == 0)
		rc = sk_error_set(err, SK_ENOTFOUND, "no such token");
	sqlite3_finalize(s);
	return rc;
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
	char hash[crypto_pwhash_STRBYTES] = "";
	sqlite3_stmt *s = NULL;
	bool found = false;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if ((rc = prep(st,
		       "SELECT a.aid, a.pid, a.name, p.name, p.identity, a.pwhash"
		       " FROM accounts a JOIN partners p ON p.pid=a.pid WHERE a.name=?1",
		       &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 5)) {
		fill_principal(s, out);
		copy_col(hash, sizeof(hash), s, 5);
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
	static const char q[] = "SELECT a.aid, a.pid, a.name, p.name, p.identity, t.hash FROM tokens t"
				" JOIN accounts a ON a.aid=t.aid JOIN partners p ON p.pid=a.pid"
				" WHERE t.hash=?1 AND t.revoked=0";
	if ((rc = sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)))
		return rc;
	token_hash(token, h);
	sqlite3_bind_blob(s, 1, h, sizeof(h), SQLITE_STATIC);
	rc = sk_error_set(err, SK_EAUTH, "bad token");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 5) == 32 &&
	    sodium_memcmp(sqlite3_column_blob(s, 5), h, 32) == 0) {
		fill_principal(s, out);
		rc = SK_OK;
		if (err)
			sk_error_clear(err);
	}
	sk_store_stmt_put(st, s);
	return rc;
}

#define CACHE_SLOTS 1024

struct cache_entry {
	unsigned char key[32];
	int64_t expires; /* monotonic seconds; 0 = empty */
	sk_principal p;
};

struct sk_auth_cache {
	pthread_mutex_t mu;
	unsigned ttl;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct cache_entry slot[CACHE_SLOTS];
};

static int64_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

sk_err sk_auth_cache_new(unsigned ttl_seconds, sk_auth_cache **out)
{
	sk_auth_cache *c;

	*out = NULL;
	if (!sodium_ready())
		return SK_EUNSUPPORTED;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SK_ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	c->ttl = ttl_seconds;
	crypto_generichash_keygen(c->key);
	*out = c;
	return SK_OK;
}

void sk_auth_cache_free(sk_auth_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static bool cache_get(sk_auth_cache *c, const unsigned char k[32], sk_principal *out)
{
	struct cache_entry *e;
	bool hit = false;
	uint32_t i;

	memcpy(&i, k, sizeof(i));
	e = &c->slot[i % CACHE_SLOTS];
	pthread_mutex_lock(&c->mu);
	if (e->expires && e->expires > mono_seconds() && sodium_memcmp(e->key, k, 32) == 0) {
		*out = e->p;
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

static void cache_put(sk_auth_cache *c, const unsigned char k[32], const sk_principal *p)
{
	struct cache_entry *e;
	uint32_t i;

	memcpy(&i, k, sizeof(i));
	e = &c->slot[i % CACHE_SLOTS];
	pthread_mutex_lock(&c->mu);
	memcpy(e->key, k, 32);
	e->expires = mono_seconds() + c->ttl;
	e->p = *p;
	pthread_mutex_unlock(&c->mu);
}

sk_err sk_auth_header(sk_store *st, sk_auth_cache *cache, const char *header, sk_principal *out,
		      sk_error *err)
{
	unsigned char k[32], dec[512];
	size_t declen = 0;
	char *colon;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (!sodium_ready())
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!strncasecmp(header, "Bearer ", 7)) {
		const char *t = header + 7;
		while (*t == ' ')
			t++;
		return sk_auth_token(st, t, out, err);
	}
	if (strncasecmp(header, "Basic ", 6) != 0)
		return sk_error_set(err, SK_EINVAL, "unsupported authorization scheme");
	header += 6;
	while (*header == ' ')
		header++;
	if (cache) {
		crypto_generichash(k, sizeof(k), (const unsigned char *)header, strlen(header),
				   cache->key, sizeof(cache->key));
		if (cache_get(cache, k, out))
			return SK_OK;
	}
	if (sodium_base642bin(dec, sizeof(dec) - 1, header, strlen(header), NULL, &declen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    !(colon = memchr(dec, ':', declen)) || memchr(dec, '\0', declen)) {
		sodium_memzero(dec, sizeof(dec));
		return sk_error_set(err, SK_EAUTH, "malformed Basic credentials");
	}
	dec[declen] = '\0';
	*colon = '\0';
	rc = sk_auth_password(st, (const char *)dec, colon + 1, out, err);
	sodium_memzero(dec, sizeof(dec));
	if (!rc && cache)
		cache_put(cache, k, out);
	return rc;
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
	return exec_done(st, s, "grant", err);
}

sk_err sk_red_recipient_set(sk_store *st, const char *account, const char *collection, bool add,
			    sk_error *err)
{
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
	return exec_done(st, s, "red recipient", err);
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
	return exec_done(st, s, "collection", err);
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
